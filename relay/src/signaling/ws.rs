//! The WebSocket adapter: reads frames, parses them, hands them to the hub, and writes
//! what the hub sends back. Generic over `Sink`/`Stream` so it does not care whether the
//! socket is real.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use acote_proto::{ErrorCode, IceServer, Role, SignalMessage};
use axum::extract::ws::{CloseFrame, Message};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use tokio::sync::watch;

use super::caseworker::SignInCheck;
use super::driver::{HubHandle, JoinedAs};
use super::hub::{Caseworker, ConnId};
use super::ice::TurnOffer;
use super::rate::{MessageBudget, Verdict};

/// How long a new connection has to say hello.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the relay pings, to notice peers that vanished without closing.
const PING_EVERY: Duration = Duration::from_secs(20);

/// Everything one connection needs besides its socket.
pub struct Connection {
    /// Its id in the hub.
    pub conn: ConnId,
    /// Where it connects from.
    pub peer: SocketAddr,
    /// The hub task.
    pub hub: HubHandle,
    /// The site name sent in `hello`.
    pub site: String,
    /// The ICE servers sent in `hello` (STUN: no credentials before a session).
    pub ice_servers: Vec<IceServer>,
    /// TURN for this connection's sessions, when the relay runs it (handed to the hub).
    pub turn: Option<TurnOffer>,
    /// Flips to true when the relay shuts down.
    pub shutdown: watch::Receiver<bool>,
    /// The caseworker whose valid session cookie came with the upgrade, if any. Only
    /// they may say hello as a viewer.
    pub caseworker: Option<Caseworker>,
    /// How that caseworker's sign-in is checked again while the socket is open.
    pub viewer_check: Option<Box<dyn SignInCheck>>,
    /// Logins whose web sessions ended: a viewer of one of them checks itself.
    pub signouts: tokio::sync::broadcast::Receiver<String>,
    /// The socket's message budget per second.
    pub messages_per_second: u32,
    /// Largest file either side may send, in bytes (0: off), said in `hello`.
    pub max_file_bytes: u64,
    /// Its place among the relay's connections, freed when the connection ends.
    pub _permit: crate::conn_limit::Permit,
}

/// Drives one signaling connection to its end.
pub async fn run<S, R>(mut sink: S, mut stream: R, mut c: Connection)
where
    S: Sink<Message> + Unpin,
    R: Stream<Item = Result<Message, axum::Error>> + Unpin,
{
    let (role, lang, resume) =
        match tokio::time::timeout(HELLO_TIMEOUT, first_hello(&mut sink, &mut stream)).await {
            Ok(Some(hello)) => hello,
            Ok(None) => return,
            Err(_) => {
                let _ = send(
                    &mut sink,
                    &SignalMessage::error(ErrorCode::Unexpected, "no hello within 10 s"),
                )
                .await;
                return;
            }
        };
    let joined = match (role, c.caseworker.take()) {
        (Role::Agent, _) => JoinedAs::Agent {
            lang: lang
                .as_deref()
                .and_then(acote_proto::signal::clean_language_tag),
        },
        (Role::Viewer, Some(caseworker)) => JoinedAs::Viewer {
            caseworker,
            addr: c.peer.ip(),
        },
        (Role::Viewer, None) => {
            return refuse_viewer(&mut sink, c.conn).await;
        }
    };
    if role == Role::Agent {
        // Only a viewer has a sign-in to check again.
        c.viewer_check = None;
    }
    let reply = SignalMessage::Hello {
        v: acote_proto::PROTOCOL_VERSION,
        role: None,
        lang: None,
        site: Some(c.site.clone()),
        ice_servers: c.ice_servers.clone(),
        resume: None,
        max_file_bytes: Some(c.max_file_bytes),
    };
    if send(&mut sink, &reply).await.is_err() {
        return;
    }
    let mut outbox = c.hub.join(c.conn, joined, resume, c.turn.take()).await;
    tracing::info!(conn = c.conn, role = ?role, "signaling connection joined");
    let mut ping = tokio::time::interval(PING_EVERY);
    let mut budget = MessageBudget::new(c.messages_per_second, Instant::now());
    loop {
        tokio::select! {
            frame = stream.next() => {
                let Some(Ok(frame)) = frame else { break };
                if matches!(frame, Message::Text(_) | Message::Binary(_)) {
                    match budget.check(Instant::now()) {
                        Verdict::Allow => {}
                        Verdict::Refuse { first } => {
                            c.hub.bad_message(c.conn).await;
                            if first {
                                let e = SignalMessage::error(ErrorCode::RateLimited, "too many messages; slow down");
                                if send(&mut sink, &e).await.is_err() { break; }
                            }
                            continue;
                        }
                        Verdict::Close => {
                            tracing::warn!(conn = c.conn, "closing a signaling socket that kept flooding");
                            break;
                        }
                    }
                }
                match frame {
                    Message::Text(text) => match SignalMessage::parse(text.as_str()) {
                        Ok(msg @ SignalMessage::Redeem { .. }) => {
                            if let Some(check) = &c.viewer_check && !check.may_redeem().await {
                                let _ = refuse_viewer(&mut sink, c.conn).await;
                                break;
                            }
                            c.hub.message(c.conn, msg).await
                        }
                        Ok(msg) => c.hub.message(c.conn, msg).await,
                        Err(e) => {
                            tracing::info!(conn = c.conn, error = %e, "refused a signaling frame");
                            c.hub.bad_message(c.conn).await;
                            if send(&mut sink, &e.to_reply()).await.is_err() { break; }
                        }
                    },
                    Message::Binary(_) => {
                        c.hub.bad_message(c.conn).await;
                        let e = SignalMessage::error(ErrorCode::Malformed, "signaling uses text frames");
                        if send(&mut sink, &e).await.is_err() { break; }
                    }
                    Message::Close(_) => break,
                    // The hub closes a connection it has not heard from for 60 s.
                    Message::Ping(_) | Message::Pong(_) => c.hub.heard(c.conn).await,
                }
            }
            msg = outbox.recv() => {
                // A closed queue: the hub let this connection go (silent, replaced, too
                // slow, or the audit log down).
                let Some(msg) = msg else { break };
                if send(&mut sink, &msg).await.is_err() { break; }
            }
            login = c.signouts.recv(), if c.viewer_check.is_some() => {
                let concerned = match &login {
                    Ok(login) => c.viewer_check.as_ref().is_some_and(|v| v.login() == login),
                    // Missed some: check anyway.
                    Err(_) => true,
                };
                if concerned && !still_signed_in(c.viewer_check.as_deref()).await {
                    let _ = refuse_viewer(&mut sink, c.conn).await;
                    break;
                }
            }
            _ = ping.tick() => {
                // A caseworker disabled or reset by the admin command (another process)
                // is noticed here.
                if !still_signed_in(c.viewer_check.as_deref()).await {
                    let _ = refuse_viewer(&mut sink, c.conn).await;
                    break;
                }
                if sink.send(Message::Ping(Default::default())).await.is_err() { break; }
            }
            _ = c.shutdown.changed() => {
                let bye = SignalMessage::error(ErrorCode::Unavailable, "the relay is shutting down");
                let _ = send(&mut sink, &bye).await;
                let _ = sink.send(Message::Close(Some(CloseFrame { code: 1001, reason: "relay shutting down".into() }))).await;
                break;
            }
        }
    }
    c.hub.left(c.conn).await;
    tracing::info!(conn = c.conn, "signaling connection closed");
}

/// Whether a viewer's caseworker is still signed in (an agent always is).
async fn still_signed_in(check: Option<&dyn SignInCheck>) -> bool {
    match check {
        Some(check) => check.still_signed_in().await,
        None => true,
    }
}

/// Tells a viewer it must sign in; the caller then ends the connection.
async fn refuse_viewer<S: Sink<Message> + Unpin>(sink: &mut S, conn: ConnId) {
    tracing::info!(conn, "refused a viewer without a signed-in caseworker");
    let refusal = SignalMessage::error(
        ErrorCode::SignInRequired,
        "sign in as a caseworker of this relay to redeem codes",
    );
    let _ = send(sink, &refusal).await;
}

/// Waits for a valid `hello`; anything else gets an error and ends the connection.
/// Returns the role, the agent's language and the resumption token, if any.
async fn first_hello<S, R>(
    sink: &mut S,
    stream: &mut R,
) -> Option<(Role, Option<String>, Option<String>)>
where
    S: Sink<Message> + Unpin,
    R: Stream<Item = Result<Message, axum::Error>> + Unpin,
{
    loop {
        let frame = stream.next().await?.ok()?;
        let text = match frame {
            Message::Text(t) => t,
            Message::Ping(_) | Message::Pong(_) => continue,
            Message::Close(_) => return None,
            Message::Binary(_) => {
                let _ = send(
                    sink,
                    &SignalMessage::error(ErrorCode::Malformed, "signaling uses text frames"),
                )
                .await;
                return None;
            }
        };
        let reply = match SignalMessage::parse(text.as_str()) {
            Ok(SignalMessage::Hello {
                role: Some(role),
                lang,
                resume,
                ..
            }) => return Some((role, lang, resume)),
            Ok(SignalMessage::Hello { role: None, .. }) => {
                SignalMessage::error(ErrorCode::Malformed, "hello: missing field `role`")
            }
            Ok(other) => SignalMessage::error(
                ErrorCode::Unexpected,
                format!("say hello first (got `{}`)", other.kind()),
            ),
            Err(e) => e.to_reply(),
        };
        let _ = send(sink, &reply).await;
        return None;
    }
}

async fn send<S: Sink<Message> + Unpin>(sink: &mut S, msg: &SignalMessage) -> Result<(), ()> {
    sink.send(Message::Text(msg.to_json().into()))
        .await
        .map_err(|_| ())
}
