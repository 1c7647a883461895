//! The TURN listeners: UDP, TCP and TLS. Each datagram or frame goes through the
//! pre-filter, then to the TURN engine (webrtc-rs `turn`) with the allocation manager of
//! its transport. Over TCP and TLS an allocation lives as long as its connection
//! (RFC 8656 §3.1), so closing the connection deletes it.

use std::any::Any;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::{Mutex as AsyncMutex, mpsc};
use turn::allocation::allocation_manager::Manager;
use turn::allocation::five_tuple::FiveTuple;
use turn::proto::PROTO_UDP;
use turn::server::request::Request;
use webrtc_util::Conn;

use acote_proto::turn_frame::{self, Span};

use super::TurnStats;
use super::policy::Refusal;
use super::prefilter::{self, Dropped, Verdict};
use super::registry::{Auth, Registry};
use super::relay_conn::REQUEST_USER;

/// Everything a listener needs to hand a message to the engine.
#[derive(Clone)]
pub struct Engine {
    /// The shared TURN state.
    pub registry: Arc<Registry>,
    /// Allocations made over this listener's transport.
    pub manager: Arc<Manager>,
    /// Nonces the engine issued (swept by [`sweep_nonces`]).
    pub nonces: Arc<AsyncMutex<HashMap<String, tokio::time::Instant>>>,
    /// The realm in credentials.
    pub realm: String,
}

/// How long a channel binding lasts (RFC 8656 §12: 10 minutes).
const CHANNEL_BIND_LIFETIME: Duration = Duration::from_secs(600);
/// Largest datagram or frame handled; TURN over UDP never needs more.
const MAX_MESSAGE: usize = 65_535 + 4;
/// A TLS handshake must finish within this.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// A TCP or TLS connection silent this long is closed (clients refresh every few minutes).
const STREAM_IDLE: Duration = Duration::from_secs(15 * 60);
/// Frames queued towards one TCP or TLS client before newer ones are dropped.
const STREAM_QUEUE: usize = 256;

struct FilterCtx<'a>(&'a Registry, &'a str);

impl prefilter::Context for FilterCtx<'_> {
    fn admit_request(&mut self, src: IpAddr) -> bool {
        self.0.admit_request(src, Instant::now())
    }
    fn over_allocation_quota(&self, username: &str) -> bool {
        self.0.session_of(username).is_some_and(|s| {
            s.allocations.load(Ordering::Acquire) >= self.0.quotas.allocations_per_session
        })
    }
    fn peer_allowed(&self, peer: SocketAddr) -> Result<(), Refusal> {
        self.0.peer_allowed(peer)
    }
    fn key_for(&self, username: &str) -> Option<Vec<u8>> {
        self.0.key_for(username, self.1)
    }
    fn bad_integrity(&mut self) {
        self.0.stats.auth_failures.fetch_add(1, Ordering::Relaxed);
    }
    fn nonce_from_elsewhere(&self, nonce: &str, src: SocketAddr) -> bool {
        self.0.nonce_from_elsewhere(nonce, src)
    }
}

fn count(stats: &TurnStats, why: Dropped) {
    let counter = match why {
        Dropped::Malformed => &stats.malformed,
        Dropped::RateLimited => &stats.rate_limited,
        Dropped::Quota => &stats.quota_refused,
        Dropped::ForbiddenPeer(_) => &stats.peers_refused,
        Dropped::Replay => &stats.replays,
    };
    counter.fetch_add(1, Ordering::Relaxed);
}

impl Engine {
    /// Filters one message and, if it passes, runs it through the engine.
    async fn handle(&self, conn: Arc<dyn Conn + Send + Sync>, src: SocketAddr, buf: Vec<u8>) {
        let verdict = prefilter::judge(&buf, src, &mut FilterCtx(&self.registry, &self.realm));
        let username = match verdict {
            Verdict::Pass { username } => username,
            Verdict::StaleNonce { nonce, username } => {
                count(&self.registry.stats, Dropped::Replay);
                self.registry.forget_nonce(&nonce);
                self.nonces.lock().await.remove(&nonce);
                username
            }
            Verdict::Reply(reply, why) => {
                count(&self.registry.stats, why);
                if let Dropped::ForbiddenPeer(r) = why {
                    tracing::info!(
                        reason = r.as_str(),
                        "TURN permission for a forbidden peer refused"
                    );
                    if tracing::enabled!(tracing::Level::DEBUG) {
                        let mut m = webrtc_stun::message::Message::new();
                        if m.unmarshal_binary(&buf).is_ok() {
                            let peers = prefilter::peer_addresses(&m);
                            tracing::debug!(?peers, %src, "refused permission request");
                        }
                    }
                }
                let _ = conn.send_to(&reply, src).await;
                return;
            }
            Verdict::Drop(why) => {
                tracing::trace!(?why, %src, "TURN message dropped");
                count(&self.registry.stats, why);
                return;
            }
        };
        let mut request = Request {
            conn,
            src_addr: src,
            buff: buf,
            allocation_manager: self.manager.clone(),
            nonces: self.nonces.clone(),
            auth_handler: Arc::new(Auth(self.registry.clone())),
            realm: self.realm.clone(),
            channel_bind_timeout: CHANNEL_BIND_LIFETIME,
        };
        if let Err(e) = REQUEST_USER.scope(username, request.handle_request()).await {
            // Mostly clients retrying or sending to expired allocations; never content.
            tracing::trace!(error = %e, "TURN request not served");
        }
    }
}

/// Serves TURN and STUN over UDP until the task is dropped.
pub async fn serve_udp(socket: Arc<UdpSocket>, engine: Engine) {
    let Ok(local) = socket.local_addr() else {
        tracing::warn!("TURN udp socket has no address; not served");
        return;
    };
    let conn: Arc<dyn Conn + Send + Sync> = Arc::new(ClientConn {
        route: Route::Udp(socket.clone(), local),
        registry: engine.registry.clone(),
    });
    let mut buf = vec![0u8; MAX_MESSAGE];
    loop {
        let (n, src) = match socket.recv_from(&mut buf).await {
            Ok(r) => r,
            Err(e) => {
                // ICMP errors from earlier sends surface here on some systems.
                tracing::debug!(error = %e, "TURN udp receive error");
                continue;
            }
        };
        engine.handle(conn.clone(), src, buf[..n].to_vec()).await;
    }
}

/// Serves TURN over TCP (and TLS when `tls` is given) until the task is dropped.
pub async fn serve_stream(
    listener: TcpListener,
    engine: Engine,
    tls: Option<tokio_rustls::TlsAcceptor>,
) {
    let local = match listener.local_addr() {
        Ok(a) => a,
        Err(e) => {
            tracing::error!(error = %e, "TURN stream listener has no address");
            return;
        }
    };
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                tracing::debug!(error = %e, "TURN accept error");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        if !engine.registry.stream_opened(peer.ip()) {
            engine
                .registry
                .stats
                .rate_limited
                .fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let _ = tcp.set_nodelay(true);
        let engine = engine.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                None => run_stream(tcp, peer, local, &engine).await,
                Some(acceptor) => {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                        Ok(Ok(stream)) => run_stream(stream, peer, local, &engine).await,
                        outcome => {
                            let why = match outcome {
                                Ok(Err(e)) => e.to_string(),
                                _ => "timed out".into(),
                            };
                            tracing::debug!(error = %why, "TURN TLS handshake failed");
                            engine
                                .registry
                                .stats
                                .malformed
                                .fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            }
            engine.registry.stream_closed(peer.ip());
        });
    }
}

/// One TCP or TLS client: frames in, the engine, frames out through a writer task.
async fn run_stream<S>(stream: S, peer: SocketAddr, local: SocketAddr, engine: &Engine)
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (mut reader, mut writer) = tokio::io::split(stream);
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(STREAM_QUEUE);
    let writing = tokio::spawn(async move {
        while let Some(frame) = rx.recv().await {
            if writer.write_all(&frame).await.is_err() {
                break;
            }
        }
        let _ = writer.shutdown().await;
    });
    let conn: Arc<dyn Conn + Send + Sync> = Arc::new(ClientConn {
        route: Route::Stream { tx, local, peer },
        registry: engine.registry.clone(),
    });
    loop {
        let frame = match tokio::time::timeout(STREAM_IDLE, read_frame(&mut reader)).await {
            Ok(Ok(Some(f))) => f,
            Ok(Ok(None)) | Err(_) => break,
            Ok(Err(())) => {
                engine
                    .registry
                    .stats
                    .malformed
                    .fetch_add(1, Ordering::Relaxed);
                break;
            }
        };
        engine.handle(conn.clone(), peer, frame).await;
    }
    // The allocation dies with its connection.
    engine
        .manager
        .delete_allocation(&FiveTuple {
            protocol: PROTO_UDP,
            src_addr: peer,
            dst_addr: local,
        })
        .await;
    drop(conn);
    writing.abort();
}

/// Reads one STUN message or ChannelData frame; `Ok(None)` at a clean end, `Err` when
/// the stream does not carry TURN framing.
async fn read_frame<R: AsyncRead + Unpin>(r: &mut R) -> Result<Option<Vec<u8>>, ()> {
    let mut head = [0u8; 4];
    match r.read_exact(&mut head).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(_) => return Err(()),
    }
    let Span { total, keep } = turn_frame::span(head).map_err(|_| ())?;
    let mut frame = vec![0u8; total];
    frame[..4].copy_from_slice(&head);
    r.read_exact(&mut frame[4..]).await.map_err(|_| ())?;
    frame.truncate(keep);
    Ok(Some(frame))
}

/// Where the engine's answers to one client go: the listening UDP socket, or the writer
/// task of one TCP or TLS connection.
enum Route {
    /// Datagrams from the shared UDP socket, and its address (kept: the engine asks for
    /// it with every packet).
    Udp(Arc<UdpSocket>, SocketAddr),
    /// Frames to one stream client's writer task.
    Stream {
        tx: mpsc::Sender<Vec<u8>>,
        local: SocketAddr,
        peer: SocketAddr,
    },
}

/// The engine's view of a client connection. It only sends; every send is watched for
/// the nonce it hands out, so a nonce is honoured only from the address it was given to.
struct ClientConn {
    route: Route,
    registry: Arc<Registry>,
}

fn unused() -> webrtc_util::Error {
    webrtc_util::Error::Other("not used by the TURN engine".into())
}

#[async_trait]
impl Conn for ClientConn {
    async fn connect(&self, _addr: SocketAddr) -> webrtc_util::Result<()> {
        Err(unused())
    }

    async fn recv(&self, _buf: &mut [u8]) -> webrtc_util::Result<usize> {
        Err(unused())
    }

    async fn recv_from(&self, _buf: &mut [u8]) -> webrtc_util::Result<(usize, SocketAddr)> {
        Err(unused())
    }

    async fn send(&self, buf: &[u8]) -> webrtc_util::Result<usize> {
        match &self.route {
            Route::Stream { peer, .. } => self.send_to(buf, *peer).await,
            Route::Udp(..) => Err(unused()),
        }
    }

    async fn send_to(&self, buf: &[u8], target: SocketAddr) -> webrtc_util::Result<usize> {
        let to = match &self.route {
            Route::Udp(..) => target,
            // A stream has one client, whatever address the engine names.
            Route::Stream { peer, .. } => *peer,
        };
        if let Some(nonce) = prefilter::issued_nonce(buf) {
            self.registry.nonce_issued(nonce, to, Instant::now());
        }
        match &self.route {
            Route::Udp(socket, _) => Ok(socket.send_to(buf, to).await?),
            Route::Stream { tx, .. } => {
                // A full queue means a slow client: drop, as a congested UDP path would.
                let _ = tx.try_send(buf.to_vec());
                Ok(buf.len())
            }
        }
    }

    fn local_addr(&self) -> webrtc_util::Result<SocketAddr> {
        match &self.route {
            Route::Udp(_, local) => Ok(*local),
            Route::Stream { local, .. } => Ok(*local),
        }
    }

    fn remote_addr(&self) -> Option<SocketAddr> {
        match &self.route {
            Route::Udp(..) => None,
            Route::Stream { peer, .. } => Some(*peer),
        }
    }

    async fn close(&self) -> webrtc_util::Result<()> {
        // A stream's own task ends it; the allocation closing does not.
        Ok(())
    }

    fn as_any(&self) -> &(dyn Any + Send + Sync) {
        self
    }
}

/// Nonces the engine hands out are never forgotten by it; forget old ones, and all of
/// them if a flood piles them up (clients then get a fresh nonce and retry).
pub async fn sweep_nonces(nonces: Arc<AsyncMutex<HashMap<String, tokio::time::Instant>>>) {
    const LIFETIME: Duration = Duration::from_secs(3600);
    const MAX: usize = 50_000;
    let mut every = tokio::time::interval(Duration::from_secs(30));
    loop {
        every.tick().await;
        let mut map = nonces.lock().await;
        map.retain(|_, at| at.elapsed() < LIFETIME);
        if map.len() > MAX {
            map.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn frames_are_cut_at_stun_and_channel_data_lengths() {
        // A STUN header announcing 4 attribute bytes, then padded ChannelData of 5 bytes,
        // then a clean end.
        let mut wire = vec![0x00, 0x01, 0x00, 0x04];
        wire.extend_from_slice(&[0x21, 0x12, 0xa4, 0x42]);
        wire.extend_from_slice(&[7u8; 12]);
        wire.extend_from_slice(&[1, 2, 3, 4]);
        wire.extend_from_slice(&[0x40, 0x00, 0x00, 0x05, 9, 9, 9, 9, 9, 0, 0, 0]);
        let mut r = &wire[..];
        let stun = read_frame(&mut r).await.unwrap().unwrap();
        assert_eq!(stun.len(), 24);
        let data = read_frame(&mut r).await.unwrap().unwrap();
        assert_eq!(
            data,
            vec![0x40, 0x00, 0x00, 0x05, 9, 9, 9, 9, 9],
            "padding removed"
        );
        assert_eq!(read_frame(&mut r).await, Ok(None));
    }

    #[tokio::test]
    async fn a_stream_that_is_not_turn_is_refused() {
        let mut http = &b"GET / HTTP/1.1\r\n\r\n"[..];
        assert_eq!(
            read_frame(&mut http).await,
            Err(()),
            "'G' is no channel number"
        );
        let mut cut = &[0x00u8, 0x01, 0x00, 0x10, 0x21][..];
        assert_eq!(read_frame(&mut cut).await, Err(()), "truncated message");
    }
}
