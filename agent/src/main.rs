//! The `acote-agent` command (DESIGN §9).

// On Windows the agent is a GUI program: double-clicked, it opens no console window.
// `--console` attaches to the terminal it was started from (platform::attach_console).
#![cfg_attr(windows, windows_subsystem = "windows")]

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;

use acote_agent::config::AgentConfig;
use acote_agent::driver::{self, Options};
use acote_agent::input::inject;
use acote_agent::platform;
use acote_agent::transport::signal_client::{SignalClientError, signal_url};
use acote_agent::transport::tls::{self, Fingerprint};
use acote_agent::ui::border::NoBorder;
use acote_agent::ui::console::{self, ConsolePrompter};
use acote_agent::ui::i18n::Lang;
use acote_agent::ui::screen::Problem;
use acote_agent::ui::window::{self, WindowSetup};

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
    /// Language of the resident: fr, en, ar, fa-AF (Dari), ps, uk, ru, ti.
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
    // No trace on the PC: the log lives in a temporary folder removed when `log_dir`
    // drops at the end of main (normal end, Ctrl+C or SIGTERM all come back here).
    let log_dir = tempfile::Builder::new().prefix("acote-").tempdir().ok();
    init_logs(log_dir.as_ref().map(|d| d.path()));
    let code = run_agent(cli);
    drop(log_dir);
    code
}

/// Logs to stderr and, when the temporary folder exists, to `agent.log` in it.
fn init_logs(dir: Option<&std::path::Path>) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let stderr = tracing_subscriber::fmt::layer()
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let file = dir
        .and_then(|d| std::fs::File::create(d.join("agent.log")).ok())
        .map(|f| {
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(Arc::new(f))
        });
    tracing_subscriber::registry()
        .with(log_filter())
        .with(stderr)
        .with(file)
        .init();
}

fn run_agent(cli: Cli) -> ExitCode {
    let windowed = !cli.console && platform::has_display();
    if !windowed {
        platform::attach_console();
    }
    let setup = match options(&cli) {
        Ok(setup) => setup,
        Err(problem) => {
            eprintln!("acote-agent: {}", problem.message);
            if windowed {
                show_problem(&problem);
            }
            return ExitCode::from(2);
        }
    };
    let result = if windowed {
        run_window(setup)
    } else {
        run_console(setup)
    };
    match result {
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

/// What the agent runs with.
struct Setup {
    options: Options,
    lang: Lang,
    site: Option<String>,
    display: Option<String>,
}

/// A usage or configuration error: one sentence for stderr, and what the window says.
struct StartProblem {
    kind: Problem,
    message: String,
    lang: Lang,
}

/// Options from flags and the config file.
fn options(cli: &Cli) -> Result<Setup, StartProblem> {
    let broken = |lang: Lang| {
        move |message: String| StartProblem {
            kind: Problem::BrokenConfig,
            message,
            lang,
        }
    };
    let file = AgentConfig::beside_executable()
        .map_err(|e| broken(Lang::pick(cli.lang.as_deref()))(e.to_string()))?;
    let lang = Lang::pick(cli.lang.as_deref().or(file.lang.as_deref()));
    let relay = cli.relay.clone().or(file.relay).ok_or_else(|| StartProblem {
        kind: Problem::NotSetUp,
        message: "no relay given: pass --relay https://HOST:PORT or put `relay` in acote-agent.toml beside the agent".into(),
        lang,
    })?;
    let url = signal_url(&relay).map_err(|e| broken(lang)(e.to_string()))?;
    let pin = match cli.fingerprint.clone().or(file.fingerprint) {
        Some(hex) => Some(
            hex.parse::<Fingerprint>()
                .map_err(|e| broken(lang)(e.to_string()))?,
        ),
        None => None,
    };
    let tls = tls::client_config(pin).map_err(|e| broken(lang)(e.to_string()))?;
    let host = url
        .trim_start_matches("wss://")
        .split('/')
        .next()
        .unwrap_or("");
    let include_loopback =
        host.starts_with("127.") || host.starts_with("localhost") || host.starts_with("[::1]");
    let display = std::env::var("DISPLAY").ok();
    let (capture_display, injector_display, marker_display, monitors_display) = (
        display.clone(),
        display.clone(),
        display.clone(),
        display.clone(),
    );
    let options = Options {
        signal_url: url,
        tls,
        lang: lang.tag().to_string(),
        include_loopback,
        relay_only: file.relay_only,
        open_capturer: Arc::new(move || {
            let display = capture_display.clone();
            Box::new(move || platform::open_capturer(display.as_deref()))
        }),
        open_injector: Arc::new(move || {
            let display = injector_display.clone();
            inject::spawn(move || platform::open_injector(display.as_deref()))
        }),
        open_marker: Arc::new(move || platform::marker(marker_display.clone())),
        open_clipboard: Arc::new(acote_agent::input::clipboard::SystemClipboard::open),
        monitors: Arc::new(move || platform::monitors(monitors_display.as_deref())),
        // Without a home folder (a service account), files go to the working folder.
        downloads: acote_agent::files::Downloads::folder().unwrap_or_else(|| ".".into()),
    };
    Ok(Setup {
        options,
        lang,
        site: file.site_name,
        display,
    })
}

/// Ends the driver on Ctrl+C, on SIGTERM, or when `stop` is notified (the resident
/// closed the window).
async fn shutdown(stop: Option<Arc<tokio::sync::Notify>>) {
    let stop = async {
        match stop {
            Some(stop) => stop.notified().await,
            None => std::future::pending().await,
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = term => {}
        () = stop => {}
    }
}

fn driver_error(e: SignalClientError) -> anyhow::Error {
    match e {
        e @ SignalClientError::Untrusted(_) => anyhow::Error::new(e),
        e => anyhow::Error::new(e).context("the relay could not be used"),
    }
}

fn run_console(setup: Setup) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let (ui_tx, mut ui_rx) = tokio::sync::mpsc::unbounded_channel();
        let asked = console::AskedQuestion::default();
        console::spawn_stdin_reader(ui_tx, asked.clone());
        let mut prompter = ConsolePrompter::stdout(setup.lang, asked);
        driver::run(setup.options, &mut prompter, &mut ui_rx, shutdown(None))
            .await
            .map_err(driver_error)
    })
}

/// The window on the main thread (the toolkit needs it), the driver on its own thread
/// with the async runtime; whichever ends first ends the other.
fn run_window(setup: Setup) -> anyhow::Result<()> {
    let (ui_tx, mut ui_rx) = tokio::sync::mpsc::unbounded_channel();
    let display = setup.display.clone();
    let hotkey_ok = platform::spawn_hotkey(display.clone(), window::hotkey_pressed);
    let stop = Arc::new(tokio::sync::Notify::new());
    let stop_from_ui = stop.clone();
    let window_setup = WindowSetup {
        lang: setup.lang,
        site: setup.site.clone(),
        problem: None,
        hotkey: hotkey_ok.then_some(platform::HOTKEY_KEYS),
        screen_size: platform::screen_size(display.as_deref()),
        border: platform::border(display),
    };
    let mut prompter = match window::open(window_setup, ui_tx, move || stop_from_ui.notify_one()) {
        Ok(prompter) => prompter,
        Err(e) => {
            tracing::warn!(error = %e, "no window; using the console dialogue");
            return run_console(setup);
        }
    };
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let options = setup.options;
    let stop_driver = stop.clone();
    let driver = std::thread::Builder::new()
        .name("acote-driver".into())
        .spawn(move || {
            let result = runtime.block_on(driver::run(
                options,
                &mut prompter,
                &mut ui_rx,
                shutdown(Some(stop_driver.clone())),
            ));
            if let Err(e) = &result {
                // The window says why before the agent goes: the resident closes it
                // (or a signal comes) and the agent exits with its error.
                window::fail(Problem::Untrusted, e.to_string());
                runtime.block_on(shutdown(Some(stop_driver)));
            }
            let _ = slint::quit_event_loop();
            result
        })
        .context("cannot start the agent's thread")?;
    let shown = slint::run_event_loop_until_quit();
    stop.notify_one();
    let result = driver
        .join()
        .map_err(|_| anyhow::anyhow!("the agent's thread stopped unexpectedly"))?;
    shown.context("the window failed")?;
    result.map_err(driver_error)
}

/// The window that says why the agent cannot start, in the resident's language, until
/// they close it.
fn show_problem(problem: &StartProblem) {
    let display = std::env::var("DISPLAY").ok();
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let setup = WindowSetup {
        lang: problem.lang,
        site: None,
        problem: Some((problem.kind, problem.message.clone())),
        hotkey: None,
        screen_size: platform::screen_size(display.as_deref()),
        border: Box::new(NoBorder),
    };
    match window::open(setup, tx, || {
        let _ = slint::quit_event_loop();
    }) {
        Ok(_prompter) => {
            let _ = slint::run_event_loop_until_quit();
        }
        Err(e) => tracing::warn!(error = %e, "cannot show the problem in a window"),
    }
}
