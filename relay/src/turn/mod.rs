//! The embedded STUN/TURN service: peers learn their public address here, and when no
//! direct path exists the relay carries their (DTLS-SRTP encrypted) media itself.
//!
//! - [`creds`]: per-session credentials (TURN REST API style HMAC usernames);
//! - [`policy`]: which peers may be reached, and the quotas (IO-free);
//! - [`prefilter`]: what is checked on every message before the engine (IO-free);
//! - [`registry`]: live sessions, revocation, the engine's credential check;
//! - [`relay_conn`]: the relay sockets, where the peer rule and bandwidth apply;
//! - [`listen`]: the UDP, TCP and TLS listeners around the `turn` crate's engine.

pub mod creds;
pub mod listen;
pub mod policy;
pub mod prefilter;
pub mod registry;
pub mod relay_conn;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket as StdUdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::Mutex as AsyncMutex;
use turn::allocation::allocation_manager::{Manager, ManagerConfig};

use crate::config::TurnConfig;
use crate::signaling::hub::ConnId;
use creds::{Credentials, Side};
use listen::Engine;
use policy::{PeerPolicy, Quotas};
use registry::Registry;
use relay_conn::RelayGen;

/// The realm in TURN credentials.
pub const REALM: &str = "acote";

/// Counters of the TURN service; never anything that identifies a person.
#[derive(Debug, Default)]
pub struct TurnStats {
    /// Allocations open now.
    pub allocations_active: AtomicU64,
    /// Allocations made since start.
    pub allocations_total: AtomicU64,
    /// Bytes relayed from clients to peers.
    pub bytes_to_peers: AtomicU64,
    /// Bytes relayed from peers to clients.
    pub bytes_from_peers: AtomicU64,
    /// Permissions, channels or packets refused for a forbidden peer.
    pub peers_refused: AtomicU64,
    /// Requests with wrong, expired or revoked credentials.
    pub auth_failures: AtomicU64,
    /// Datagrams or frames that were not TURN.
    pub malformed: AtomicU64,
    /// Requests or connections over a source's budget.
    pub rate_limited: AtomicU64,
    /// Allocations refused by a quota.
    pub quota_refused: AtomicU64,
    /// Relayed bytes dropped by a bandwidth quota.
    pub bandwidth_dropped: AtomicU64,
    /// Datagrams to a relay port from an address its client never sent to (no
    /// permission): dropped before any budget is spent, and not logged one by one.
    pub unpermitted_dropped: AtomicU64,
    /// Requests with a nonce given to another address (replays), answered 438.
    pub replays: AtomicU64,
}

impl TurnStats {
    /// The counters as name/value pairs, for logs and the metrics endpoint.
    pub fn snapshot(&self) -> Vec<(&'static str, u64)> {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        vec![
            ("turn_allocations_active", get(&self.allocations_active)),
            ("turn_allocations_total", get(&self.allocations_total)),
            ("turn_relayed_bytes_to_peers", get(&self.bytes_to_peers)),
            ("turn_relayed_bytes_from_peers", get(&self.bytes_from_peers)),
            ("turn_peers_refused", get(&self.peers_refused)),
            ("turn_auth_failures", get(&self.auth_failures)),
            ("turn_malformed", get(&self.malformed)),
            ("turn_rate_limited", get(&self.rate_limited)),
            ("turn_quota_refused", get(&self.quota_refused)),
            ("turn_bandwidth_dropped_bytes", get(&self.bandwidth_dropped)),
            ("turn_unpermitted_dropped", get(&self.unpermitted_dropped)),
            ("turn_replays", get(&self.replays)),
        ]
    }
}

/// Why the TURN service could not start.
#[derive(Debug, thiserror::Error)]
pub enum TurnError {
    /// A listening socket could not be bound.
    #[error("cannot listen for TURN on {transport} {addr}: {source}")]
    Listen {
        /// `udp`, `tcp` or `tls`.
        transport: &'static str,
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// No address could be found to advertise for relayed candidates.
    #[error("TURN has no address to advertise for relayed media; set [turn] public_addresses")]
    NoPublicAddress,
}

/// One loop of the TURN service (a listener, or the nonce sweep); it runs until dropped.
pub type TurnTask = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// The running TURN service.
pub struct TurnService {
    registry: Arc<Registry>,
    managers: Vec<Arc<Manager>>,
    /// UDP (STUN and TURN) address.
    pub udp_addr: SocketAddr,
    /// TCP address (same port as UDP).
    pub tcp_addr: SocketAddr,
    /// TLS address, when configured.
    pub tls_addr: Option<SocketAddr>,
    /// The addresses advertised in relayed candidates.
    pub public: Vec<IpAddr>,
}

/// Binds UDP, then TCP on the port UDP got, so one port number serves both. With port
/// 0 (tests, `:0`), the port the system picked for UDP may already be taken for TCP (by
/// any TCP socket of the machine): then another port is tried, a few times.
async fn bind_udp_and_tcp(
    listen: SocketAddr,
) -> Result<(UdpSocket, SocketAddr, TcpListener), (&'static str, SocketAddr, std::io::Error)> {
    let mut tries = 0;
    loop {
        let udp = UdpSocket::bind(listen)
            .await
            .map_err(|e| ("udp", listen, e))?;
        let udp_addr = udp.local_addr().map_err(|e| ("udp", listen, e))?;
        match TcpListener::bind(udp_addr).await {
            Ok(tcp) => return Ok((udp, udp_addr, tcp)),
            Err(e)
                if listen.port() == 0 && e.kind() == std::io::ErrorKind::AddrInUse && tries < 8 =>
            {
                tries += 1;
            }
            Err(e) => return Err(("tcp", udp_addr, e)),
        }
    }
}

impl TurnService {
    /// Binds the listeners; the returned tasks serve them once the caller runs them.
    pub async fn start(
        config: &TurnConfig,
        allow_peers: &[ipnet::IpNet],
        tls: Arc<rustls::ServerConfig>,
    ) -> Result<(Self, Vec<TurnTask>), TurnError> {
        let bind_err = |transport, addr| {
            move |source| TurnError::Listen {
                transport,
                addr,
                source,
            }
        };
        let (udp, udp_addr, tcp) =
            bind_udp_and_tcp(config.listen)
                .await
                .map_err(|(transport, addr, source)| TurnError::Listen {
                    transport,
                    addr,
                    source,
                })?;
        let tls_listener = match config.tls_listen {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .map_err(bind_err("tls", addr))?,
            ),
            None => None,
        };
        let tls_addr = match &tls_listener {
            Some(l) => Some(l.local_addr().map_err(bind_err("tls", udp_addr))?),
            None => None,
        };
        let public = if config.public_addresses.is_empty() {
            vec![guess_public(udp_addr.ip()).ok_or(TurnError::NoPublicAddress)?]
        } else {
            config.public_addresses.clone()
        };
        let quotas = Quotas {
            allocations_per_session: config.allocations_per_session,
            allocations_total: config.max_allocations,
            bytes_per_sec_per_allocation: config.kbit_per_allocation * 125,
            bytes_per_sec_per_session: config.kbit_per_session * 125,
            ..Quotas::default()
        };
        let policy = PeerPolicy {
            allow: allow_peers.to_vec(),
            own: public.clone(),
        };
        let registry = Arc::new(Registry::new(quotas, policy));
        let public_v4 = public.iter().find_map(|ip| match ip {
            IpAddr::V4(v4) => Some(*v4),
            IpAddr::V6(_) => None,
        });
        let public_v6 = public.iter().find_map(|ip| match ip {
            IpAddr::V6(v6) => Some(*v6),
            IpAddr::V4(_) => None,
        });
        let new_manager = || {
            Arc::new(Manager::new(ManagerConfig {
                relay_addr_generator: Box::new(RelayGen {
                    registry: registry.clone(),
                    public_v4,
                    public_v6,
                }),
                alloc_close_notify: None,
            }))
        };
        let nonces = Arc::new(AsyncMutex::new(HashMap::new()));
        let mut tasks: Vec<TurnTask> = vec![Box::pin(listen::sweep_nonces(nonces.clone()))];
        let engine = |manager: &Arc<Manager>| Engine {
            registry: registry.clone(),
            manager: manager.clone(),
            nonces: nonces.clone(),
            realm: REALM.into(),
        };
        let udp_manager = new_manager();
        let stream_manager = new_manager();
        tasks.push(Box::pin(listen::serve_udp(
            Arc::new(udp),
            engine(&udp_manager),
        )));
        tasks.push(Box::pin(listen::serve_stream(
            tcp,
            engine(&stream_manager),
            None,
        )));
        if let Some(l) = tls_listener {
            let mut tls = (*tls).clone();
            // TURN clients may offer ALPN "stun.turn" or none; HTTP's list would refuse them.
            tls.alpn_protocols = vec![b"stun.turn".to_vec()];
            let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
            tasks.push(Box::pin(listen::serve_stream(
                l,
                engine(&stream_manager),
                Some(acceptor),
            )));
        }
        let service = Self {
            registry,
            managers: vec![udp_manager, stream_manager],
            udp_addr,
            tcp_addr: udp_addr,
            tls_addr,
            public,
        };
        Ok((service, tasks))
    }

    /// The shared state, for counters and tests.
    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// A session was paired: its two sides may now get credentials.
    pub fn session_opened(&self, session: &str, agent: ConnId, viewer: ConnId) {
        self.registry.open(session, agent, viewer);
    }

    /// One side of a session another relay holds is served here: `conn` may ask for
    /// credentials, from this relay's TURN.
    pub fn side_opened(&self, session: &str, conn: ConnId, agent: bool) {
        let side = if agent { Side::Agent } else { Side::Viewer };
        self.registry.open_side(session, conn, side);
    }

    /// A session ended: its credentials are refused from now on and its allocations go.
    pub fn session_closed(&self, session: &str) {
        let usernames = self.registry.close(session);
        if usernames.is_empty() {
            return;
        }
        let managers = self.managers.clone();
        tokio::spawn(async move {
            for name in &usernames {
                for m in &managers {
                    m.delete_allocations_by_username(name).await;
                }
            }
        });
    }

    /// Credentials for the session `conn` is in.
    pub fn credentials_for(&self, conn: ConnId) -> Option<Credentials> {
        self.registry.credentials_for(conn)
    }
}

/// The address to advertise when the admin named none: the listening address if it is a
/// real one, else the address this host uses for its default route (no packet is sent).
fn guess_public(listen: IpAddr) -> Option<IpAddr> {
    if !listen.is_unspecified() {
        return Some(listen);
    }
    let probe = |bind: IpAddr, to: IpAddr| {
        let s = StdUdpSocket::bind(SocketAddr::new(bind, 0)).ok()?;
        s.connect(SocketAddr::new(to, 9)).ok()?;
        s.local_addr().ok().map(|a| a.ip())
    };
    let v4 = probe(
        Ipv4Addr::UNSPECIFIED.into(),
        Ipv4Addr::new(192, 0, 2, 1).into(),
    );
    let v6 = || {
        probe(
            Ipv6Addr::UNSPECIFIED.into(),
            "2001:db8::1".parse::<Ipv6Addr>().ok()?.into(),
        )
    };
    v4.or_else(v6).or(Some(Ipv4Addr::LOCALHOST.into()))
}
