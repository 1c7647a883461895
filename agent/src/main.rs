//! The `acote-agent` command (DESIGN §9).

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;

use acote_agent::capture::Capturer;
use acote_agent::capture::x11::X11Capturer;
use acote_agent::config::AgentConfig;
use acote_agent::driver::{self, Options};
use acote_agent::input::enigo_x11::EnigoInjector;
use acote_agent::input::inject;
use acote_agent::transport::signal_client::{SignalClientError, signal_url};
use acote_agent::transport::tls::{self, Fingerprint};
use acote_agent::ui::console::{self, ConsolePrompter};
use acote_agent::ui::highlight::Highlighter;
use acote_agent::ui::text::Lang;

/// Acote agent: shows a code, and shares this screen with a caseworker once you say yes.
#[derive(Parser)]
#[command(name = "acote-agent", version)]
struct Cli {
    /// The site's relay, e.g. https://relay.example.org:8443 (default: from acote-agent.toml).
    #[arg(long)]
    relay: Option<String>,
    /// SHA-256 fingerprint of the relay's certificate, for self-signed relays.
    #[arg(long)]
    fingerprint: Option<String>,
    /// Language of the resident (fr, en).
    #[arg(long)]
    lang: Option<String>,
    /// Use a terminal dialogue instead of the window (headless use, automation).
    #[arg(long)]
    console: bool,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(log_filter())
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
    let options = match options(&cli) {
        Ok(o) => o,
        Err(message) => {
            eprintln!("acote-agent: {message}");
            return ExitCode::from(2);
        }
    };
    match run(cli, options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("acote-agent: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// `RUST_LOG` (or a quiet default), except that libraries which print whole messages at
/// trace level — WebSocket frames with the code, data-channel payloads with typed text —
/// never go below debug, whatever `RUST_LOG` says.
fn log_filter() -> tracing_subscriber::EnvFilter {
    let asked = std::env::var("RUST_LOG").unwrap_or_default();
    let quiet =
        || tracing_subscriber::EnvFilter::new("warn,dtls=error,webrtc_sctp=error,webrtc_ice=error");
    let base = match asked.trim() {
        "" => quiet(),
        directives => {
            tracing_subscriber::EnvFilter::try_new(directives).unwrap_or_else(|_| quiet())
        }
    };
    // Only a trace request reaches those messages; a cap would raise quieter settings.
    if !asked.contains("trace") {
        return base;
    }
    let capped = [
        "x11rb",
        "x11rb_protocol",
        "tungstenite",
        "tokio_tungstenite",
        "webrtc",
        "webrtc_data",
        "webrtc_sctp",
        "webrtc_srtp",
        "rtp",
        "rtcp",
    ];
    capped
        .iter()
        .filter_map(|target| format!("{target}=debug").parse().ok())
        .fold(base, |filter, directive| filter.add_directive(directive))
}

/// Options from flags and the config file; an `Err` is a usage or configuration error.
fn options(cli: &Cli) -> Result<(Options, Lang), String> {
    let file = AgentConfig::beside_executable().map_err(|e| e.to_string())?;
    let relay = cli.relay.clone().or(file.relay).ok_or(
        "no relay given: pass --relay https://HOST:PORT or put `relay` in acote-agent.toml beside the agent",
    )?;
    let url = signal_url(&relay).map_err(|e| e.to_string())?;
    let pin = match cli.fingerprint.clone().or(file.fingerprint) {
        Some(hex) => Some(hex.parse::<Fingerprint>().map_err(|e| e.to_string())?),
        None => None,
    };
    let tls = tls::client_config(pin).map_err(|e| e.to_string())?;
    let lang = Lang::pick(cli.lang.as_deref().or(file.lang.as_deref()));
    let host = url
        .trim_start_matches("wss://")
        .split('/')
        .next()
        .unwrap_or("");
    let include_loopback =
        host.starts_with("127.") || host.starts_with("localhost") || host.starts_with("[::1]");
    let display = std::env::var("DISPLAY").ok();
    let (injector_display, marker_display) = (display.clone(), display.clone());
    let options = Options {
        signal_url: url,
        tls,
        lang: lang.tag().to_string(),
        include_loopback,
        relay_only: file.relay_only,
        open_capturer: Arc::new(move || {
            let display = display.clone();
            Box::new(move || {
                X11Capturer::open(display.as_deref()).map(|c| Box::new(c) as Box<dyn Capturer>)
            })
        }),
        open_injector: Arc::new(move || {
            let display = injector_display.clone();
            inject::spawn(move || EnigoInjector::open(display.as_deref()))
        }),
        open_marker: Arc::new(move || Box::new(Highlighter::spawn(marker_display.clone()))),
    };
    Ok((options, lang))
}

fn run(cli: Cli, (options, lang): (Options, Lang)) -> anyhow::Result<()> {
    if !cli.console {
        // The resident's window is not built yet: the console dialogue serves everywhere.
        tracing::info!("no window toolkit yet; using the console dialogue");
    }
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let (ui_tx, mut ui_rx) = tokio::sync::mpsc::unbounded_channel();
        console::spawn_stdin_reader(ui_tx);
        let mut prompter = ConsolePrompter::stdout(lang);
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        match driver::run(options, &mut prompter, &mut ui_rx, shutdown).await {
            Ok(()) => Ok(()),
            Err(e @ SignalClientError::Untrusted(_)) => Err(anyhow::Error::new(e)),
            Err(e) => Err(anyhow::Error::new(e).context("the relay could not be used")),
        }
    })
}
