//! acote-relay: the site server that pairs a resident's agent with a caseworker's viewer.
//!
//! Layout, in the order a session meets it:
//! - [`config`]: the TOML file and its safe defaults;
//! - [`http`]: TLS, the embedded viewer, sign-in routes, the signaling WebSocket route;
//! - [`auth`]: IO-free sign-in rules: passwords, lock-out, sessions and CSRF tokens;
//! - [`store`]: accounts and the hash-chained audit log (SQLite, or a shared PostgreSQL);
//! - [`signaling`]: the IO-free pairing hub, the task that owns it, the WebSocket adapter;
//! - [`turn`]: NAT traversal: STUN, and TURN to carry media when no direct path exists;
//! - [`metrics`]: Prometheus metrics and readiness for monitoring;
//! - [`admin`]: the `acote-relay admin` commands.
//!
//! Run-loop contract: [`Relay::start`] binds everything and returns the address and the
//! certificate fingerprint; [`Relay::serve`] runs the server, the hub task, the upkeep and
//! the TURN listeners until the `shutdown` future completes, then tells every connection,
//! waits briefly for them to close, and returns once all of its tasks have ended. Tests, the binary and
//! "survive a restart" all go through these two calls.
//! The relay never sees media: it forwards SDP and candidates between two sockets.

pub mod admin;
pub mod auth;
pub mod config;
pub mod conn_limit;
pub mod http;
pub mod metrics;
pub mod signaling;
pub mod store;
pub mod turn;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use tokio::sync::watch;
use tracing_subscriber::Layer;

use config::Config;
use signaling::driver::HubHandle;
use signaling::hub::Hub;
use store::Store;

/// Why the relay could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The HTTPS address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// The STUN/TURN service could not start.
    #[error(transparent)]
    Turn(#[from] turn::TurnError),
    /// The data dir cannot be created.
    #[error("cannot create the data folder {path}: {source}")]
    DataDir {
        /// The folder.
        path: std::path::PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// TLS setup failed.
    #[error(transparent)]
    Tls(#[from] http::tls::TlsError),
    /// The database could not be opened.
    #[error(transparent)]
    Store(#[from] store::StoreError),
}

/// Crates that print whole WebSocket frames (session codes, resumption tokens) at trace.
const FRAME_PRINTERS: &[&str] = &["tungstenite", "tokio_tungstenite"];

/// Whether an event or span may be logged at all, whatever `RUST_LOG` asked: never a
/// trace of the WebSocket libraries.
pub fn log_allowed(meta: &tracing::Metadata<'_>) -> bool {
    if *meta.level() != tracing::Level::TRACE {
        return true;
    }
    let target = meta.target();
    !FRAME_PRINTERS.iter().any(|crate_name| {
        target
            .strip_prefix(crate_name)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
    })
}

/// The relay's log filter: `RUST_LOG` (or `default`), except that the WebSocket
/// libraries never log below debug. The cap is a filter of its own after `RUST_LOG`'s,
/// so no spelling gets past it: `TRACE`, `5`, per-target (`tungstenite::protocol=trace`)
/// or per-span directives alike, and it never raises a quieter setting.
pub fn log_filter<S>(rust_log: Option<&str>, default: &str) -> impl Layer<S> + Send + Sync
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    let base = rust_log
        .and_then(|s| tracing_subscriber::EnvFilter::try_new(s).ok())
        .unwrap_or_else(|| tracing_subscriber::EnvFilter::new(default));
    base.and_then(tracing_subscriber::filter::filter_fn(log_allowed))
}

/// How often expired web sessions and idle lock-outs are dropped.
const PRUNE_EVERY: Duration = Duration::from_secs(60);
/// How often the audit retention rule runs (also once at start).
const RETENTION_EVERY: Duration = Duration::from_secs(3600);

/// What [`Relay::serve`] runs beside the HTTPS server.
struct Tasks {
    hub: signaling::driver::HubTask,
    turn: Vec<turn::TurnTask>,
    /// Gets and renews the certificate, with `[tls] acme`.
    acme: Option<std::pin::Pin<Box<dyn Future<Output = ()> + Send>>>,
}

/// How the HTTPS listener gets its certificate.
enum HttpsTls {
    /// From files (configured or self-signed), reloadable on SIGHUP.
    Files(axum_server::tls_rustls::RustlsConfig),
    /// From an ACME authority, renewed by the relay.
    Acme(rustls_acme::axum::AxumAcceptor),
}

/// Loads the HTTPS certificate and key again (a renewed certificate) into the running
/// listener: new connections get the new one, open ones keep theirs.
#[derive(Clone)]
pub struct TlsReloader {
    /// The listener's configuration; `None` with ACME (nothing to reload).
    live: Option<axum_server::tls_rustls::RustlsConfig>,
    tls: config::TlsConfig,
    data_dir: std::path::PathBuf,
}

impl TlsReloader {
    /// Reloads; returns the new certificate's fingerprint. On error the old certificate
    /// stays in use.
    pub fn reload(&self) -> Result<String, http::tls::TlsError> {
        let Some(live) = &self.live else {
            return Err(http::tls::TlsError::FromAcme);
        };
        let identity = http::tls::load_or_create(&self.tls, &self.data_dir)?;
        live.reload_from_config(identity.server_config);
        Ok(identity.fingerprint)
    }
}

/// A relay whose sockets are bound, ready to serve.
pub struct Relay {
    listener: std::net::TcpListener,
    tls: HttpsTls,
    /// Where the certificate comes from, to load it again on request.
    tls_source: (config::TlsConfig, std::path::PathBuf),
    state: Arc<http::AppState>,
    shutdown_tx: watch::Sender<bool>,
    /// The tasks `serve` runs. Behind a mutex only to keep `Relay` `Sync` (tests share
    /// one across threads): nothing locks it but `serve`, once.
    tasks: std::sync::Mutex<Tasks>,
    retention_days: u32,
    /// The plain-HTTP monitoring listener (`[metrics] listen`), when configured.
    metrics_listener: Option<std::net::TcpListener>,
    /// The address really bound (the real port when `:0` was asked).
    pub local_addr: SocketAddr,
    /// The monitoring address really bound, when configured.
    pub metrics_addr: Option<SocketAddr>,
    /// SHA-256 fingerprint of the certificate, lowercase hex, for agents to pin; empty
    /// with `[tls] acme` (the certificate is not known yet, and changes at each renewal:
    /// agents check it against the system's roots instead).
    pub fingerprint: String,
    /// The STUN/TURN service, when enabled.
    pub turn: Option<Arc<turn::TurnService>>,
}

impl Relay {
    /// Binds the HTTPS and STUN/TURN sockets and loads (or creates) the TLS identity.
    pub async fn start(config: &Config) -> Result<Self, StartError> {
        let data_dir = &config.server.data_dir;
        std::fs::create_dir_all(data_dir).map_err(|source| StartError::DataDir {
            path: data_dir.clone(),
            source,
        })?;
        let (https, server_config, fingerprint, acme_task) = match &config.tls.acme {
            Some(acme) => {
                let acme = http::acme::start(acme, data_dir)?;
                let config = acme.server_config;
                (
                    HttpsTls::Acme(acme.acceptor),
                    config,
                    String::new(),
                    Some(acme.task),
                )
            }
            None => {
                let identity = http::tls::load_or_create(&config.tls, data_dir)?;
                let live = axum_server::tls_rustls::RustlsConfig::from_config(
                    identity.server_config.clone(),
                );
                let files = HttpsTls::Files(live);
                (files, identity.server_config, identity.fingerprint, None)
            }
        };
        let store = Store::open_at(data_dir, config.store.url.as_deref()).await?;
        match &config.store.url {
            Some(url) => {
                tracing::info!(database = %store::redacted(url), "accounts and audit log in PostgreSQL")
            }
            None => {
                tracing::info!(database = %data_dir.join(store::DB_FILE).display(), "accounts and audit log in SQLite")
            }
        }
        let addr = config.server.listen;
        let listener = std::net::TcpListener::bind(addr)
            .and_then(|l| l.set_nonblocking(true).map(|_| l))
            .map_err(|source| StartError::Listen { addr, source })?;
        let local_addr = listener
            .local_addr()
            .map_err(|source| StartError::Listen { addr, source })?;
        let (turn, turn_tasks) = if config.turn.enabled {
            let (service, tasks) = turn::TurnService::start(
                &config.turn,
                &config.dangerous.turn_allow_peers,
                server_config,
            )
            .await?;
            (Some(Arc::new(service)), tasks)
        } else {
            (None, Vec::new())
        };
        for name in config.dangerous_in_use() {
            tracing::warn!(
                option = name,
                "[dangerous] option enabled: security is weakened"
            );
        }
        for net in &config.dangerous.turn_allow_peers {
            tracing::warn!(%net, "TURN may relay into this range ([dangerous] turn_allow_peers)");
        }
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let hub_core =
            Hub::with_random_codes().with_max_sessions(config.limits.max_sessions as usize);
        let metrics = Arc::new(metrics::Metrics::new());
        let (hub, hub_task) =
            signaling::driver::new(hub_core, store.clone(), turn.clone(), metrics.clone());
        // Relays sharing a PostgreSQL database pair and resume across each other.
        let hub_task = match &config.store.url {
            Some(url) if store.backend() == store::Backend::Postgres => {
                let me = format!("{:016x}", rand::random::<u64>());
                tracing::info!(relay = %me, "one of the relays sharing the database");
                hub_task.federated(me, url.clone())
            }
            _ => hub_task,
        };
        let metrics_listener = match config.metrics.listen {
            Some(addr) => Some(
                std::net::TcpListener::bind(addr)
                    .and_then(|l| l.set_nonblocking(true).map(|_| l))
                    .map_err(|source| StartError::Listen { addr, source })?,
            ),
            None => None,
        };
        let metrics_addr = match &metrics_listener {
            Some(l) => Some(l.local_addr().map_err(|source| StartError::Listen {
                addr: config.metrics.listen.unwrap_or(addr),
                source,
            })?),
            None => None,
        };
        let state = Arc::new(http::AppState {
            hub,
            site: config.server.site_name.clone(),
            turn: turn.clone(),
            turn_enabled: config.turn.enabled,
            metrics,
            turn_public_host: config.turn.public_host.clone(),
            relay_only: config.turn.relay_only,
            allow_any_origin: config.dangerous.allow_any_origin,
            next_conn: AtomicU64::new(1),
            shutdown: shutdown_rx,
            store,
            auth: Default::default(),
            connections: conn_limit::ConnectionLimiter::new(
                config.limits.connections_per_address,
                config.limits.max_connections,
            ),
            messages_per_second: config.limits.messages_per_second,
            max_file_bytes: config.limits.max_file_mb.saturating_mul(1_000_000),
            hashing: http::hashing_places(),
            signouts: tokio::sync::broadcast::channel(64).0,
            passkeys: passkeys(config),
            passkeys_required: config.sign_in.passkeys == crate::config::PasskeyPolicy::Required,
        });
        Ok(Self {
            listener,
            tls: https,
            tls_source: (config.tls.clone(), data_dir.clone()),
            state,
            shutdown_tx,
            tasks: std::sync::Mutex::new(Tasks {
                hub: hub_task,
                turn: turn_tasks,
                acme: acme_task,
            }),
            retention_days: config.audit.retention_days,
            metrics_listener,
            local_addr,
            metrics_addr,
            fingerprint,
            turn,
        })
    }

    /// What reloads the HTTPS certificate while the relay serves (on SIGHUP).
    pub fn tls_reloader(&self) -> TlsReloader {
        TlsReloader {
            live: match &self.tls {
                HttpsTls::Files(live) => Some(live.clone()),
                HttpsTls::Acme(_) => None,
            },
            tls: self.tls_source.0.clone(),
            data_dir: self.tls_source.1.clone(),
        }
    }

    /// The hub, for tests and metrics.
    pub fn hub(&self) -> HubHandle {
        self.state.hub.clone()
    }

    /// The store, for tests and the admin.
    pub fn store(&self) -> Store {
        self.state.store.clone()
    }

    /// The shared state behind the routes, for `oneshot` tests of [`http::app`].
    pub fn state(&self) -> Arc<http::AppState> {
        self.state.clone()
    }

    /// Serves until `shutdown` completes, then closes every connection gracefully. The
    /// hub, the upkeep and the TURN listeners run here, in one set of tasks, and end with
    /// it: the hub once its connections have left (their steps audited), the others at
    /// once.
    pub async fn serve(self, shutdown: impl Future<Output = ()>) -> std::io::Result<()> {
        let handle = axum_server::Handle::new();
        let pending = self
            .tasks
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut tasks = tokio::task::JoinSet::new();
        let hub_task = tasks.spawn(pending.hub.run(self.shutdown_tx.subscribe()));
        tasks.spawn(maintain(Arc::downgrade(&self.state), self.retention_days));
        for task in pending.turn {
            tasks.spawn(task);
        }
        if let Some(acme) = pending.acme {
            tasks.spawn(acme);
        }
        if let Some(listener) = self.metrics_listener {
            // Plain HTTP; aborted with the upkeep and TURN once the hub has ended, so it
            // answers (/readyz: "shutting down") until then.
            let monitor = http::monitor::app(self.state.clone());
            let server = axum_server::from_tcp(listener)?;
            tasks.spawn(async move {
                if let Err(e) = server.serve(monitor.into_make_service()).await {
                    tracing::error!(error = %e, "the metrics listener failed");
                }
            });
        }
        let app = http::app(self.state.clone());
        let service = app.into_make_service_with_connect_info::<SocketAddr>();
        let serving = match self.tls {
            HttpsTls::Files(tls) => {
                let server = axum_server::from_tcp_rustls(self.listener, tls)?;
                futures_util::future::Either::Left(server.handle(handle.clone()).serve(service))
            }
            HttpsTls::Acme(acceptor) => {
                let server = axum_server::from_tcp(self.listener)?.acceptor(acceptor);
                futures_util::future::Either::Right(server.handle(handle.clone()).serve(service))
            }
        };
        let shutdown_tx = self.shutdown_tx;
        let stopper = async move {
            shutdown.await;
            tracing::info!("shutting down: telling every connection");
            let _ = shutdown_tx.send(true);
            handle.graceful_shutdown(Some(Duration::from_secs(5)));
        };
        let (served, ()) = tokio::join!(serving, stopper);
        // The hub stops by itself once its connections are gone; upkeep and TURN loop
        // until stopped.
        while let Some(done) = tasks.join_next_with_id().await {
            let id = match done {
                Ok((id, ())) => id,
                Err(e) => {
                    if !e.is_cancelled() {
                        tracing::error!(error = %e, "a relay task failed");
                    }
                    e.id()
                }
            };
            if id == hub_task.id() {
                tasks.abort_all();
            }
        }
        served
    }
}

/// Background upkeep, until `serve` stops it (or the relay is dropped): prunes sign-in
/// state every minute and applies the audit retention rule every hour.
async fn maintain(state: std::sync::Weak<http::AppState>, retention_days: u32) {
    let mut every = tokio::time::interval(PRUNE_EVERY);
    let mut last_retention: Option<tokio::time::Instant> = None;
    loop {
        every.tick().await;
        let Some(state) = state.upgrade() else { return };
        {
            let now = std::time::Instant::now();
            let mut auth = state.auth_state();
            auth.sessions.prune(now);
            auth.attempts.prune(now);
        }
        if last_retention.is_some_and(|t| t.elapsed() < RETENTION_EVERY) {
            continue;
        }
        last_retention = Some(tokio::time::Instant::now());
        if let Some(turn) = &state.turn {
            // Counters only: nothing that identifies a person or a session.
            let counters: Vec<String> = turn
                .registry()
                .stats
                .snapshot()
                .into_iter()
                .map(|(name, value)| format!("{name}={value}"))
                .collect();
            tracing::info!(counters = %counters.join(" "), "TURN counters");
        }
        match state
            .store
            .apply_retention(store::time::unix_now(), retention_days)
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "audit retention applied"),
            Err(e) => tracing::error!(error = %e, "audit retention failed"),
        }
        // The head's hash, in a log that travels apart from the database: `audit verify
        // --anchor` with it detects records removed from the end since.
        if let Ok(Some((seq, hash))) = state.store.head().await {
            tracing::info!(seq, anchor = %hash, "audit anchor");
        }
    }
}

/// The passkey checks for this relay's name, or none (logged) when browsers would refuse
/// it as a relying party id: an address rather than a DNS name. The config check already
/// refused that combined with `passkeys = "required"`.
fn passkeys(config: &Config) -> Option<std::sync::Mutex<auth::passkeys::Passkeys>> {
    let rp_id = config.rp_id();
    let required = config.sign_in.passkeys == crate::config::PasskeyPolicy::Required;
    match auth::passkeys::Passkeys::new(&rp_id, &config.server.site_name, required) {
        Ok(p) => {
            tracing::info!(%rp_id, required, "passkeys offered");
            Some(std::sync::Mutex::new(p))
        }
        Err(e) => {
            tracing::warn!(%rp_id, error = %e, "passkeys are not available: set [sign_in] rp_id to the relay's DNS name");
            None
        }
    }
}
