//! The `acote-relay` command (DESIGN §9).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use acote_relay::Relay;
use acote_relay::admin::{self, AdminCommand};
use acote_relay::config::{Config, LogFormat};

/// Acote relay: pairs residents' agents with caseworkers and serves the viewer.
#[derive(Parser)]
#[command(name = "acote-relay", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the viewer and signaling over HTTPS (self-signed certificate unless configured).
    Serve {
        /// TOML configuration file.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Address to listen on, e.g. 0.0.0.0:8443 (overrides the config file).
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
        /// Folder for the certificate and data (overrides the config file).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Manage caseworker accounts and the audit log (works while the relay runs).
    Admin {
        /// TOML configuration file (for the data folder and the public address).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Folder of the relay's data (overrides the config file).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        #[command(subcommand)]
        command: AdminCommand,
    },
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
    match cli.command {
        Command::Serve {
            config,
            listen,
            data_dir,
        } => {
            let mut cfg = match load(config.as_deref(), data_dir) {
                Ok(c) => c,
                Err(e) => return usage_error(&e),
            };
            init_logging(cfg.log.format);
            if let Some(listen) = listen {
                cfg.server.listen = listen;
            }
            match serve(cfg) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("acote-relay: {e:#}");
                    ExitCode::from(1)
                }
            }
        }
        Command::Admin {
            config,
            data_dir,
            command,
        } => match load(config.as_deref(), data_dir) {
            Ok(cfg) => {
                init_logging(LogFormat::Text);
                run_admin(&cfg, command)
            }
            Err(e) => usage_error(&e),
        },
    }
}

/// Log lines to stderr (journald takes them from there under systemd): readable text,
/// coloured only on a terminal, or one JSON object a line (`[log] format = "json"`).
/// Set up once the configuration is read, so its `[log]` applies from the first line.
fn init_logging(format: LogFormat) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let text = (format == LogFormat::Text).then(|| {
        tracing_subscriber::fmt::layer()
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .with_writer(std::io::stderr)
    });
    let json = (format == LogFormat::Json).then(|| {
        tracing_subscriber::fmt::layer()
            .json()
            .with_writer(std::io::stderr)
    });
    tracing_subscriber::registry()
        .with(acote_relay::log_filter(
            std::env::var("RUST_LOG").ok().as_deref(),
            "info",
        ))
        .with(text)
        .with(json)
        .init();
}

fn load(
    path: Option<&std::path::Path>,
    data_dir: Option<PathBuf>,
) -> Result<Config, acote_relay::config::ConfigError> {
    let mut cfg = match path {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    if let Some(dir) = data_dir {
        cfg.server.data_dir = dir;
    }
    Ok(cfg)
}

fn run_admin(cfg: &Config, command: AdminCommand) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("acote-relay: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match runtime.block_on(admin::run(cfg, command, &mut input, &mut out)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("acote-relay: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

fn usage_error(e: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("acote-relay: {e}");
    ExitCode::from(2)
}

fn serve(config: Config) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let relay = Relay::start(&config).await?;
        println!("listening on https://{}", relay.local_addr);
        match &config.tls.acme {
            // No fingerprint to pin: agents check the authority's certificate.
            Some(acme) => println!(
                "certificate by ACME for {} from {}",
                acme.domains.join(", "),
                acme.directory
            ),
            None => println!("certificate sha256 {}", relay.fingerprint),
        }
        if let Some(addr) = relay.metrics_addr {
            println!("metrics on http://{addr}/metrics");
        }
        if let Some(turn) = &relay.turn {
            let public: Vec<String> = turn.public.iter().map(ToString::to_string).collect();
            tracing::info!(
                udp_tcp = %turn.udp_addr,
                tls = ?turn.tls_addr,
                relayed_candidates = %public.join(", "),
                "STUN/TURN running"
            );
        }
        reload_on_sighup(relay.tls_reloader());
        // Under systemd (Type=notify): ready once every socket is bound. Elsewhere
        // there is no NOTIFY_SOCKET and this does nothing.
        if let Err(e) = sd_notify::notify(&[sd_notify::NotifyState::Ready]) {
            tracing::warn!(error = %e, "cannot tell systemd the relay is ready");
        }
        relay
            .serve(shutdown_signal())
            .await
            .context("the HTTPS server failed")?;
        tracing::info!("stopped");
        Ok(())
    })
}

/// On SIGHUP (`systemctl reload acote-relay`), loads the HTTPS certificate again, for a
/// renewed one. Accounts need no reload: they are read from the database at each use.
fn reload_on_sighup(reloader: acote_relay::TlsReloader) {
    #[cfg(unix)]
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hangups = match signal(SignalKind::hangup()) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "SIGHUP cannot be caught: reload by restarting");
                return;
            }
        };
        while hangups.recv().await.is_some() {
            match reloader.reload() {
                Ok(fingerprint) => {
                    tracing::info!(%fingerprint, "HTTPS certificate reloaded");
                }
                Err(e) => {
                    tracing::error!(error = %e, "HTTPS certificate not reloaded; the old one stays");
                }
            }
        }
    });
    #[cfg(not(unix))]
    drop(reloader);
}

/// Completes on Ctrl-C or SIGTERM (systemd's stop).
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
