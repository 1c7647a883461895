//! How media leaves the resident's network. Most networks let UDP out, and webrtc-rs
//! uses the relay's TURN over UDP as before. Some (a council's or a hostel's firewall)
//! let only TCP or TLS out, and webrtc-rs 0.17 cannot gather TURN/TCP or TURNS
//! candidates. There the agent runs a small bridge per relay TCP or TLS TURN URL: a UDP
//! socket on 127.0.0.1 that webrtc-rs takes for a TURN server, whose datagrams go to the
//! relay's TURN over one TCP or TLS connection per client (RFC 6062 framing, see
//! [`acote_proto::turn_frame`]), and back. The relay sees a TURN-over-TCP client; its
//! allocations relay UDP as usual, so the viewer's side is unchanged.
//!
//! Which way: before the peer connection is made, a STUN binding request goes to the
//! relay's UDP port. An answer means UDP leaves: the relay's URLs are used as they are.
//! No answer within [`PROBE_FOR`] adds the bridges (the UDP URLs stay, in case the probe
//! was only unlucky on a lossy link).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use acote_proto::IceServer;
use acote_proto::turn_frame::{self, Deframer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};
use webrtc::stun::agent::TransactionId;
use webrtc::stun::message::{BINDING_REQUEST, BINDING_SUCCESS, Message, is_message};

/// How long the relay's STUN has to answer over UDP before UDP is taken for blocked.
pub const PROBE_FOR: Duration = Duration::from_millis(1500);
/// When the probe's binding request is sent again, from the start (UDP may lose one).
const PROBE_AT: [Duration; 3] = [
    Duration::ZERO,
    Duration::from_millis(250),
    Duration::from_millis(750),
];
/// A TCP connection and TLS handshake to the relay must finish within this.
const CONNECT_FOR: Duration = Duration::from_secs(10);
/// Datagrams queued towards one stream before newer ones are dropped (as a full UDP
/// path would).
const STREAM_QUEUE: usize = 256;

/// A relay TURN URL reached over a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamTurn {
    /// Host as the relay named it (a name or an address, IPv6 in brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// TURNS: TLS over the TCP connection.
    pub tls: bool,
    /// The TURN credentials of the server entry the URL came from.
    pub username: Option<String>,
    /// See `username`.
    pub credential: Option<String>,
}

/// What the relay's ICE servers offer for the choice: where to probe UDP, and the
/// TCP and TLS TURN URLs a bridge can reach.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Offer {
    /// `host:port` of the relay's STUN over UDP.
    pub stun: Option<(String, u16)>,
    /// TURN over TCP or TLS.
    pub streams: Vec<StreamTurn>,
}

/// Splits `scheme:host:port?query` into host and port.
fn host_port(rest: &str) -> Option<(String, u16)> {
    let hostport = rest.split('?').next()?;
    let (host, port) = hostport.rsplit_once(':')?;
    let port = port.parse().ok()?;
    (!host.is_empty()).then(|| (host.to_string(), port))
}

/// Reads the relay's ICE servers.
pub fn offer(ice: &[IceServer]) -> Offer {
    let mut out = Offer::default();
    for server in ice {
        for url in &server.urls {
            let (tls, rest) = if let Some(rest) = url.strip_prefix("turns:") {
                (true, rest)
            } else if let Some(rest) = url.strip_prefix("turn:") {
                if !url.contains("transport=tcp") {
                    continue;
                }
                (false, rest)
            } else {
                if let Some(rest) = url.strip_prefix("stun:")
                    && out.stun.is_none()
                {
                    out.stun = host_port(rest);
                }
                continue;
            };
            if let Some((host, port)) = host_port(rest) {
                out.streams.push(StreamTurn {
                    host,
                    port,
                    tls,
                    username: server.username.clone(),
                    credential: server.credential.clone(),
                });
            }
        }
    }
    out
}

/// The ICE servers with one `turn:` URL added per bridge: the relay URL it reaches, and
/// where it listens.
pub fn with_bridges(ice: &[IceServer], bridged: &[(&StreamTurn, SocketAddr)]) -> Vec<IceServer> {
    let mut servers = ice.to_vec();
    servers.extend(bridged.iter().map(|(turn, addr)| IceServer {
        urls: vec![format!("turn:{addr}?transport=udp")],
        username: turn.username.clone(),
        credential: turn.credential.clone(),
    }));
    servers
}

/// A STUN binding request and its transaction id.
fn binding_request() -> Option<(Vec<u8>, TransactionId)> {
    let mut m = Message::new();
    m.build(&[Box::new(TransactionId::new()), Box::new(BINDING_REQUEST)])
        .ok()?;
    Some((m.raw, m.transaction_id))
}

/// Whether `datagram` is a STUN binding request, from its header alone (no parsing: every
/// datagram of the session passes here).
fn is_binding_request(datagram: &[u8]) -> bool {
    is_message(datagram) && datagram[..2] == BINDING_REQUEST.value().to_be_bytes()
}

/// Whether `datagram` is the success answer to the request `id`.
fn answers(datagram: &[u8], id: &TransactionId) -> bool {
    let mut m = Message::new();
    m.unmarshal_binary(datagram).is_ok() && m.typ == BINDING_SUCCESS && m.transaction_id == *id
}

/// Whether the relay's STUN answers over UDP within [`PROBE_FOR`].
pub async fn udp_leaves(host: &str, port: u16) -> bool {
    let Ok(Some(to)) = tokio::net::lookup_host((host, port))
        .await
        .map(|mut a| a.next())
    else {
        return false;
    };
    let any: SocketAddr = if to.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let (Ok(socket), Some((request, id))) = (UdpSocket::bind(any).await, binding_request()) else {
        return false;
    };
    let start = tokio::time::Instant::now();
    let mut buf = [0u8; 1500];
    let mut next = PROBE_AT.iter();
    let mut send_at = next.next().copied();
    loop {
        if let Some(at) = send_at
            && start.elapsed() >= at
        {
            // A refused send (no route) is the same as no answer.
            let _ = socket.send_to(&request, to).await;
            send_at = next.next().copied();
            continue;
        }
        let until = send_at.unwrap_or(PROBE_FOR).min(PROBE_FOR);
        match tokio::time::timeout_at(start + until, socket.recv_from(&mut buf)).await {
            Ok(Ok((n, from))) if from == to && answers(&buf[..n], &id) => return true,
            Ok(_) => {}
            Err(_) if send_at.is_none() => return false,
            Err(_) => {}
        }
    }
}

/// A running bridge: dropped, it stops with every connection it made.
pub struct Bridge {
    /// Where webrtc-rs sends to, as to a TURN server.
    pub local: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for Bridge {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Bridge {
    /// Binds the local UDP socket and serves it until dropped.
    pub async fn start(
        turn: StreamTurn,
        tls: Arc<rustls::ClientConfig>,
    ) -> std::io::Result<Bridge> {
        let socket = UdpSocket::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let local = socket.local_addr()?;
        let task = tokio::spawn(serve(Arc::new(socket), turn, tls));
        Ok(Bridge { local, task })
    }
}

/// Takes each local client's datagrams to its own stream to the relay.
async fn serve(socket: Arc<UdpSocket>, turn: StreamTurn, tls: Arc<rustls::ClientConfig>) {
    let mut streams: HashMap<SocketAddr, mpsc::Sender<Vec<u8>>> = HashMap::new();
    // Dropped with this task (the bridge dropped): every stream task ends with it.
    let mut tasks = JoinSet::new();
    let mut buf = vec![0u8; 65_536];
    loop {
        let (n, from) = match socket.recv_from(&mut buf).await {
            Ok(got) => got,
            // An ICMP error from an earlier send to a client gone: not ours to end on.
            Err(_) => continue,
        };
        // Only this machine's own TURN clients.
        if !from.ip().is_loopback() {
            continue;
        }
        // webrtc-ice asks every server for a server-reflexive address. Through a bridge
        // the answer would be the TCP connection's address, which no datagram can reach:
        // a false candidate, and one more connection to the relay. Left unanswered.
        if is_binding_request(&buf[..n]) {
            continue;
        }
        let Ok(frame) = turn_frame::for_stream(&buf[..n]) else {
            tracing::debug!(bytes = n, "not TURN: dropped by the bridge");
            continue;
        };
        while tasks.try_join_next().is_some() {}
        // A client's first datagram opens its stream; a stream that ended (the relay
        // restarted, the network dropped) is opened again, and the client's next request
        // gets a fresh allocation over it.
        if streams.get(&from).is_none_or(|tx| tx.is_closed()) {
            let (tx, rx) = mpsc::channel(STREAM_QUEUE);
            let carrying = carry(
                rx,
                Arc::clone(&socket),
                from,
                turn.clone(),
                Arc::clone(&tls),
            );
            tasks.spawn(carrying);
            streams.insert(from, tx);
        }
        if let Some(tx) = streams.get(&from) {
            // A full queue drops the datagram, as a congested UDP path would.
            let _ = tx.try_send(frame);
        }
    }
}

/// One client's stream to the relay, over TLS when the URL is `turns:`.
async fn carry(
    rx: mpsc::Receiver<Vec<u8>>,
    socket: Arc<UdpSocket>,
    client: SocketAddr,
    turn: StreamTurn,
    tls: Arc<rustls::ClientConfig>,
) {
    let connecting = async {
        let host = turn.host.trim_start_matches('[').trim_end_matches(']');
        let tcp = TcpStream::connect((host, turn.port)).await?;
        let _ = tcp.set_nodelay(true);
        std::io::Result::Ok((tcp, host.to_string()))
    };
    let (tcp, host) = match tokio::time::timeout(CONNECT_FOR, connecting).await {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => {
            tracing::info!(port = turn.port, error = %e, "cannot reach the relay's TURN over TCP");
            return;
        }
        Err(_) => {
            tracing::info!(port = turn.port, "the relay's TURN over TCP: no answer");
            return;
        }
    };
    if !turn.tls {
        tracing::info!(
            port = turn.port,
            "media bridged to the relay's TURN over TCP"
        );
        return pump(tcp, rx, socket, client).await;
    }
    let Ok(name) = rustls::pki_types::ServerName::try_from(host) else {
        tracing::warn!("the relay's TURNS URL has no usable name");
        return;
    };
    let handshake = tokio_rustls::TlsConnector::from(tls).connect(name, tcp);
    match tokio::time::timeout(CONNECT_FOR, handshake).await {
        Ok(Ok(stream)) => {
            tracing::info!(
                port = turn.port,
                "media bridged to the relay's TURN over TLS"
            );
            pump(stream, rx, socket, client).await;
        }
        Ok(Err(e)) => tracing::warn!(error = %e, "TLS to the relay's TURN failed"),
        Err(_) => tracing::info!("TLS to the relay's TURN: no answer"),
    }
}

/// Datagrams from `rx` onto the stream, frames from the stream back to `client`, until
/// either side ends.
async fn pump<S>(
    stream: S,
    mut rx: mpsc::Receiver<Vec<u8>>,
    socket: Arc<UdpSocket>,
    client: SocketAddr,
) where
    S: AsyncRead + AsyncWrite,
{
    let (mut reader, mut writer) = tokio::io::split(stream);
    let outgoing = async {
        while let Some(frame) = rx.recv().await {
            if writer.write_all(&frame).await.is_err() {
                break;
            }
        }
    };
    let incoming = async {
        let mut deframer = Deframer::default();
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            deframer.push(&buf[..n]);
            loop {
                match deframer.next_frame() {
                    Ok(Some(frame)) => {
                        let _ = socket.send_to(&frame, client).await;
                    }
                    Ok(None) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "the relay's TURN stream is not TURN");
                        return;
                    }
                }
            }
        }
    };
    tokio::select! {
        () = outgoing => {}
        () = incoming => {}
    }
    tracing::info!("a bridged TURN stream to the relay ended");
}

/// The ICE servers the peer connection uses, and the bridges they need (kept alive with
/// the session's media).
pub struct Egress {
    /// For the peer connection.
    pub ice_servers: Vec<IceServer>,
    /// Alive as long as the peer connection.
    pub bridges: Vec<Bridge>,
}

/// Probes UDP towards the relay and, when nothing answers, starts a bridge per TCP or TLS
/// TURN URL it offers.
pub async fn choose(ice: &[IceServer], tls: Arc<rustls::ClientConfig>) -> Egress {
    let offer = offer(ice);
    let unchanged = || Egress {
        ice_servers: ice.to_vec(),
        bridges: Vec::new(),
    };
    let Some((host, port)) = &offer.stun else {
        return unchanged();
    };
    if offer.streams.is_empty() || udp_leaves(host, *port).await {
        return unchanged();
    }
    let mut bridges = Vec::new();
    let mut bridged = Vec::new();
    for turn in &offer.streams {
        match Bridge::start(turn.clone(), Arc::clone(&tls)).await {
            Ok(b) => {
                bridged.push((turn, b.local));
                bridges.push(b);
            }
            Err(e) => tracing::warn!(error = %e, "cannot start a TURN bridge"),
        }
    }
    tracing::info!(
        bridges = bridged.len(),
        tls = bridged.iter().filter(|(t, _)| t.tls).count(),
        "no UDP answer from the relay: media may go through it over TCP or TLS"
    );
    Egress {
        ice_servers: with_bridges(ice, &bridged),
        bridges,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use webrtc::stun::message::{CLASS_REQUEST, METHOD_ALLOCATE, MessageType};

    fn relay_ice() -> Vec<IceServer> {
        vec![
            IceServer {
                urls: vec!["stun:relay.example:3478".into()],
                username: None,
                credential: None,
            },
            IceServer {
                urls: vec![
                    "turn:relay.example:3478?transport=udp".into(),
                    "turn:relay.example:3478?transport=tcp".into(),
                    "turns:[2001:db8::1]:5349?transport=tcp".into(),
                ],
                username: Some("u".into()),
                credential: Some("c".into()),
            },
        ]
    }

    #[test]
    fn the_offer_names_the_stun_port_and_the_stream_urls() {
        let o = offer(&relay_ice());
        assert_eq!(o.stun, Some(("relay.example".into(), 3478)));
        assert_eq!(o.streams.len(), 2, "UDP TURN is not a stream: {o:?}");
        assert_eq!(
            (
                o.streams[0].host.as_str(),
                o.streams[0].port,
                o.streams[0].tls
            ),
            ("relay.example", 3478, false)
        );
        assert_eq!(
            (
                o.streams[1].host.as_str(),
                o.streams[1].port,
                o.streams[1].tls
            ),
            ("[2001:db8::1]", 5349, true)
        );
        assert_eq!(o.streams[1].username.as_deref(), Some("u"));
        // Nothing usable, nothing offered.
        let odd = vec![IceServer {
            urls: vec!["turn:nohost?transport=tcp".into(), "stun::1".into()],
            username: None,
            credential: None,
        }];
        assert_eq!(offer(&odd), Offer::default());
    }

    #[test]
    fn bridged_urls_are_added_with_the_same_credentials() {
        let ice = relay_ice();
        let o = offer(&ice);
        let bridged = [
            (&o.streams[0], "127.0.0.1:40001".parse().unwrap()),
            (&o.streams[1], "127.0.0.1:40002".parse().unwrap()),
        ];
        let servers = with_bridges(&ice, &bridged);
        assert_eq!(servers.len(), 4, "the relay's own URLs stay");
        assert_eq!(servers[2].urls, vec!["turn:127.0.0.1:40001?transport=udp"]);
        assert_eq!(servers[3].urls, vec!["turn:127.0.0.1:40002?transport=udp"]);
        assert_eq!(servers[3].credential.as_deref(), Some("c"));
    }

    #[test]
    fn only_the_matching_answer_counts() {
        let (request, id) = binding_request().unwrap();
        assert!(!answers(&request, &id), "a request is no answer");
        let mut ok = Message::new();
        ok.build(&[Box::new(id), Box::new(BINDING_SUCCESS)])
            .unwrap();
        assert!(answers(&ok.raw, &id));
        let (_, other) = binding_request().unwrap();
        assert!(!answers(&ok.raw, &other), "another transaction");
        assert!(!answers(b"garbage", &id));
    }

    /// A fake relay TURN over TCP: frames cut with the shared framing, each answered
    /// with the same bytes (an echo), so the bridge's two directions are both seen.
    async fn echo_relay() -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut tcp, _) = listener.accept().await.unwrap();
            let mut d = Deframer::default();
            let mut buf = [0u8; 4096];
            loop {
                let n = tcp.read(&mut buf).await.unwrap();
                if n == 0 {
                    return;
                }
                d.push(&buf[..n]);
                while let Some(frame) = d.next_frame().unwrap() {
                    let padded = turn_frame::for_stream(&frame).unwrap();
                    tcp.write_all(&padded).await.unwrap();
                }
            }
        });
        addr
    }

    #[tokio::test]
    async fn a_bridge_carries_datagrams_to_the_stream_and_back() {
        let relay = echo_relay().await;
        let turn = StreamTurn {
            host: "127.0.0.1".into(),
            port: relay.port(),
            tls: false,
            username: None,
            credential: None,
        };
        let tls = super::super::tls::client_config(Some(super::super::tls::Fingerprint([0; 32])))
            .unwrap();
        let bridge = Bridge::start(turn, tls).await.unwrap();
        let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let (binding, _) = binding_request().unwrap();
        let mut allocate = Message::new();
        allocate
            .build(&[
                Box::new(TransactionId::new()),
                Box::new(MessageType::new(METHOD_ALLOCATE, CLASS_REQUEST)),
            ])
            .unwrap();
        let request = allocate.raw;
        // Garbage and binding requests are dropped, not carried; TURN is.
        client.send_to(b"hello", bridge.local).await.unwrap();
        client.send_to(&binding, bridge.local).await.unwrap();
        client.send_to(&request, bridge.local).await.unwrap();
        let data = [0x40, 0x01, 0x00, 0x03, 7, 8, 9];
        client.send_to(&data, bridge.local).await.unwrap();
        let mut buf = [0u8; 1500];
        let mut got = Vec::new();
        for _ in 0..2 {
            let (n, _) = tokio::time::timeout(Duration::from_secs(5), client.recv_from(&mut buf))
                .await
                .unwrap()
                .unwrap();
            got.push(buf[..n].to_vec());
        }
        assert_eq!(got[0], request);
        assert_eq!(got[1], data.to_vec(), "padding taken off on the way back");
        // Dropped, the bridge stops serving.
        let local = bridge.local;
        drop(bridge);
        tokio::time::sleep(Duration::from_millis(100)).await;
        client.send_to(&request, local).await.unwrap();
        let late = tokio::time::timeout(Duration::from_millis(300), client.recv_from(&mut buf));
        assert!(
            late.await.is_err(),
            "nothing comes back from a dropped bridge"
        );
    }

    #[tokio::test]
    async fn no_stun_answer_over_udp_is_blocked_udp() {
        // A bound socket that never answers stands for a firewall dropping UDP.
        let silent = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let port = silent.local_addr().unwrap().port();
        assert!(!udp_leaves("127.0.0.1", port).await);
        // One that answers binding requests is UDP leaving.
        let answering = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let port = answering.local_addr().unwrap().port();
        tokio::spawn(async move {
            let mut buf = [0u8; 1500];
            let (n, from) = answering.recv_from(&mut buf).await.unwrap();
            let mut req = Message::new();
            req.unmarshal_binary(&buf[..n]).unwrap();
            let mut ok = Message::new();
            ok.build(&[Box::new(req.transaction_id), Box::new(BINDING_SUCCESS)])
                .unwrap();
            answering.send_to(&ok.raw, from).await.unwrap();
        });
        assert!(udp_leaves("127.0.0.1", port).await);
    }
}
