//! HTTP: the embedded viewer, sign-in, the signaling WebSocket, TLS, and security
//! headers.
//!
//! Routes: `GET /` (viewer), `GET /set-password` (page of the one-time link), `GET
//! /api/me`, `POST /api/login`, `POST /api/logout` (session + CSRF), `POST /api/password`
//! (one-time token), passkeys (`POST /api/passkey/sign-in`, `GET /api/passkeys`, `POST
//! /api/passkeys/enrol/begin|finish`, `POST /api/passkeys/remove`), `GET /signal` (WebSocket; a viewer needs the session cookie),
//! `GET /healthz`. Every POST from a browser must come from the relay's own origin.

pub mod account;
pub mod acme;
pub mod assets;
pub mod monitor;
pub mod passkey;
pub mod tls;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use acote_proto::IceServer;
use acote_proto::signal::MAX_MESSAGE_BYTES;
use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State, WebSocketUpgrade};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::StreamExt;
use tokio::sync::watch;

use crate::auth::attempts::Attempts;
use crate::auth::sessions::Sessions;
use crate::conn_limit;
use crate::signaling::caseworker::{self, SignInCheck};
use crate::signaling::driver::HubHandle;
use crate::signaling::ice::TurnOffer;
use crate::signaling::ws;
use crate::store::Store;

/// Largest request body accepted (sign-in and password forms are tiny).
const MAX_BODY_BYTES: usize = 16 * 1024;

/// Sign-in state kept in memory: sessions and lock-outs. Behind a plain mutex, never
/// held across an `.await`.
#[derive(Default)]
pub struct AuthState {
    /// Live web sessions.
    pub sessions: Sessions,
    /// Failed sign-ins and the attempts being checked.
    pub attempts: Attempts,
}

/// What every request handler can reach.
pub struct AppState {
    /// The hub task.
    pub hub: HubHandle,
    /// The site name.
    pub site: String,
    /// The STUN/TURN service, if running.
    pub turn: Option<Arc<crate::turn::TurnService>>,
    /// Whether the configuration asks for TURN (so its absence means not ready).
    pub turn_enabled: bool,
    /// The metrics counted as things happen.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Host to put in STUN/TURN URLs instead of the one the client used.
    pub turn_public_host: Option<String>,
    /// Tell both sides of every session to use relayed paths only.
    pub relay_only: bool,
    /// Accept any Origin on the WebSocket (a `[dangerous]` option).
    pub allow_any_origin: bool,
    /// Next connection id.
    pub next_conn: AtomicU64,
    /// Flips to true on shutdown; connection tasks watch it.
    pub shutdown: watch::Receiver<bool>,
    /// Accounts and the audit log.
    pub store: Store,
    /// Sessions and lock-outs.
    pub auth: std::sync::Mutex<AuthState>,
    /// Places for signaling connections, per address and in all.
    pub connections: Arc<conn_limit::ConnectionLimiter>,
    /// Signaling messages one socket may send per second (twice that in a burst).
    pub messages_per_second: u32,
    /// Largest file either side may send, in bytes (0: off), told to each at hello.
    pub max_file_bytes: u64,
    /// Places for argon2 work, one per core: a flood of sign-ins cannot queue up
    /// unbounded hashing behind the blocking pool.
    pub hashing: Arc<tokio::sync::Semaphore>,
    /// Passkey checks and ceremonies in flight; `None` when the relay has no relying
    /// party id browsers accept (an address instead of a DNS name).
    pub passkeys: Option<std::sync::Mutex<crate::auth::passkeys::Passkeys>>,
    /// `[sign_in] passkeys = "required"`: no password alone signs in.
    pub passkeys_required: bool,
    /// Logins whose web sessions just ended (sign-out, disabled, new password): their
    /// signaling sockets check themselves and close.
    pub signouts: tokio::sync::broadcast::Sender<String>,
}

/// Argon2 places for a relay on this machine: one per core.
pub fn hashing_places() -> Arc<tokio::sync::Semaphore> {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    Arc::new(tokio::sync::Semaphore::new(cores))
}

impl AppState {
    /// Tells the open signaling sockets of `login` to check that they are still signed
    /// in (nobody listening is fine).
    pub fn signed_out(&self, login: &str) {
        let _ = self.signouts.send(login.to_string());
    }

    /// The sign-in state. A panic elsewhere while holding it leaves plain data, still
    /// usable, so a poisoned lock is taken over rather than failing every request.
    pub fn auth_state(&self) -> std::sync::MutexGuard<'_, AuthState> {
        self.auth
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The relay's routes, ready for `oneshot` tests or a real listener.
pub fn app(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/signal", get(signal))
        .route("/healthz", get(monitor::healthz))
        .route("/readyz", get(monitor::readyz))
        .route("/api/me", get(account::me))
        .route("/api/login", post(account::login))
        .route("/api/logout", post(account::logout))
        .route("/api/password", post(account::set_password))
        .route("/api/passkey/sign-in", post(passkey::sign_in))
        .route("/api/passkeys", get(passkey::list))
        .route("/api/passkeys/enrol/begin", post(passkey::enrol_begin))
        .route("/api/passkeys/enrol/finish", post(passkey::enrol_finish))
        .route("/api/passkeys/remove", post(passkey::remove))
        .fallback(get(assets::serve))
        .layer(axum::middleware::from_fn(same_origin_posts))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

/// A browser always sends `Origin` on a POST: one from another site is refused, so a
/// foreign page cannot sign someone in or out or set a password (CSRF before a
/// session exists; the per-session token covers the rest).
async fn same_origin_posts(request: Request, next: Next) -> Response {
    if request.method() == Method::POST {
        let host = request
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        if !origin_allowed(request.headers().get(header::ORIGIN), host) {
            return account::AppError::Forbidden("cross_origin").into_response();
        }
    }
    next.run(request).await
}

async fn security_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; \
             script-src 'self'; media-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; \
             form-action 'self'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // The relay only ever speaks HTTPS: a browser that saw it once never tries plain
    // HTTP again, so a network in between cannot strip TLS from the sign-in page.
    h.insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=31536000"),
    );
    response
}

async fn signal(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if !state.allow_any_origin && !origin_allowed(headers.get(header::ORIGIN), host) {
        // A page from another site must not open signaling in the caseworker's name.
        tracing::warn!(peer = %peer.ip(), "refused a signaling connection from another origin");
        return (
            StatusCode::FORBIDDEN,
            "cross-origin signaling is not allowed",
        )
            .into_response();
    }
    // A valid session cookie makes this a caseworker's connection; without one it may
    // only be an agent (checked at hello).
    let caseworker = match account::signed_in(&state, &headers).await {
        Ok(found) => found.map(|(a, _)| caseworker::from_account(&a)),
        Err(e) => return e.into_response(),
    };
    // The identity is read here once; the socket checks it again at every redeem, when
    // a session of its login ends, and at every ping.
    let viewer_check = caseworker.as_ref().and_then(|cw| {
        let check: Box<dyn SignInCheck> = Box::new(account::ViewerCheck {
            state: state.clone(),
            token: account::session_cookie(&headers)?,
            login: cw.login.clone(),
        });
        Some(check)
    });
    let permit = match state.connections.admit(peer.ip()) {
        Ok(p) => p,
        Err(refusal) => {
            tracing::warn!(peer = %peer.ip(), ?refusal, "refused a signaling connection: limit reached");
            let why = match refusal {
                conn_limit::Refusal::PerAddress => "too many connections from this address",
                conn_limit::Refusal::Total => {
                    "the relay holds as many connections as it can; try again in a minute"
                }
            };
            return (StatusCode::TOO_MANY_REQUESTS, why).into_response();
        }
    };
    let (ice_servers, turn) = ice_servers(&state, host);
    let conn = state.next_conn.fetch_add(1, Ordering::Relaxed);
    let connection = ws::Connection {
        conn,
        peer,
        hub: state.hub.clone(),
        site: state.site.clone(),
        ice_servers,
        turn,
        shutdown: state.shutdown.clone(),
        caseworker,
        viewer_check,
        signouts: state.signouts.subscribe(),
        messages_per_second: state.messages_per_second,
        max_file_bytes: state.max_file_bytes,
        _permit: permit,
    };
    // The hard cap sits above the protocol's 64 KiB so oversize frames up to it get a
    // clear `too_large` reply; beyond it the socket is simply closed.
    upgrade
        .max_message_size(4 * MAX_MESSAGE_BYTES)
        .max_frame_size(4 * MAX_MESSAGE_BYTES)
        // Signaling is a few small messages a minute: small buffers (the defaults are
        // 128 KiB each) keep an idle agent's connection cheap. Larger frames still
        // arrive, in several reads.
        .read_buffer_size(4 * 1024)
        .write_buffer_size(4 * 1024)
        .on_upgrade(move |socket| {
            let (sink, stream) = socket.split();
            ws::run(sink, stream, connection)
        })
}

/// Browsers always send Origin; agents (native) send none. A browser page may only open
/// signaling from the relay's own origin.
fn origin_allowed(origin: Option<&HeaderValue>, host: &str) -> bool {
    match origin.map(|o| o.to_str()) {
        None => true,
        Some(Ok(o)) => !host.is_empty() && o.eq_ignore_ascii_case(&format!("https://{host}")),
        Some(Err(_)) => false,
    }
}

/// The ICE servers to hand a peer at hello (STUN), and the TURN URLs its sessions will
/// get with their credentials, all at the host the peer used to reach us unless the
/// admin named a public one.
fn ice_servers(state: &AppState, request_host: &str) -> (Vec<IceServer>, Option<TurnOffer>) {
    let Some(turn) = &state.turn else {
        return (Vec::new(), None);
    };
    let host = match &state.turn_public_host {
        Some(h) => h.clone(),
        None => host_without_port(request_host).to_string(),
    };
    if host.is_empty() {
        return (Vec::new(), None);
    }
    let port = turn.udp_addr.port();
    let stun = vec![IceServer {
        urls: vec![format!("stun:{host}:{port}")],
        username: None,
        credential: None,
    }];
    let mut urls = vec![
        format!("turn:{host}:{port}?transport=udp"),
        format!("turn:{host}:{}?transport=tcp", turn.tcp_addr.port()),
    ];
    if let Some(tls) = turn.tls_addr {
        urls.push(format!("turns:{host}:{}?transport=tcp", tls.port()));
    }
    let offer = TurnOffer {
        service: turn.clone(),
        stun: stun.clone(),
        urls,
        relay_only: state.relay_only,
    };
    (stun, Some(offer))
}

fn host_without_port(host: &str) -> &str {
    if let Some(end) = host.find(']') {
        return &host[..=end];
    }
    host.rsplit_once(':').map_or(host, |(h, _)| h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_rules() {
        let o = |s: &'static str| HeaderValue::from_static(s);
        assert!(origin_allowed(None, "relay.example:8443"));
        assert!(origin_allowed(
            Some(&o("https://relay.example:8443")),
            "relay.example:8443"
        ));
        assert!(!origin_allowed(
            Some(&o("https://evil.example")),
            "relay.example:8443"
        ));
        assert!(!origin_allowed(
            Some(&o("http://relay.example:8443")),
            "relay.example:8443"
        ));
        assert!(!origin_allowed(Some(&o("https://x")), ""));
    }

    #[test]
    fn host_parsing() {
        assert_eq!(host_without_port("127.0.0.1:8443"), "127.0.0.1");
        assert_eq!(host_without_port("relay.example"), "relay.example");
        assert_eq!(host_without_port("[::1]:8443"), "[::1]");
    }
}
