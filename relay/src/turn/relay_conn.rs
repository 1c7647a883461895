//! The relayed side of an allocation: the UDP socket the relay opens towards peers. Every
//! packet between a TURN client and a peer crosses it, so the peer rule, the bandwidth
//! quotas, revocation and the byte counters all live here, below the TURN engine.
//!
//! What arrives is checked cheapest and most selective first: revocation, then the
//! permission (a peer the client has sent to), then the peer rule, and only then the
//! bandwidth budget, so datagrams from strangers cost neither the session's budget nor a
//! log line (docs/security.md, "a stranger starving a session's relayed media").

use std::any::Any;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::net::UdpSocket;
use turn::relay::RelayAddressGenerator;
use webrtc_util::Conn;

use super::policy::{Bucket, Quotas};
use super::registry::{Registry, SessionState};

tokio::task_local! {
    /// The USERNAME of the request being handled, set by the listener around the engine
    /// call, so that a new allocation knows its session.
    pub static REQUEST_USER: Option<String>;
}

/// Makes relay sockets for new allocations.
pub struct RelayGen {
    /// The shared TURN state.
    pub registry: Arc<Registry>,
    /// Advertised IPv4 address of relayed candidates.
    pub public_v4: Option<Ipv4Addr>,
    /// Advertised IPv6 address of relayed candidates.
    pub public_v6: Option<Ipv6Addr>,
}

fn refuse(why: &str) -> turn::Error {
    turn::Error::Other(why.into())
}

#[async_trait]
impl RelayAddressGenerator for RelayGen {
    fn validate(&self) -> Result<(), turn::Error> {
        if self.public_v4.is_none() && self.public_v6.is_none() {
            return Err(refuse("no relay address"));
        }
        Ok(())
    }

    async fn allocate_conn(
        &self,
        use_ipv4: bool,
        _requested_port: u16,
    ) -> Result<(Arc<dyn Conn + Send + Sync>, SocketAddr), turn::Error> {
        let user = REQUEST_USER
            .try_with(|u| u.clone())
            .ok()
            .flatten()
            .ok_or_else(|| refuse("allocation outside a request"))?;
        let session = self
            .registry
            .session_of(&user)
            .ok_or_else(|| refuse("session ended"))?;
        let quotas = self.registry.quotas;
        let stats = &self.registry.stats;
        if stats.allocations_active.load(Ordering::Relaxed) >= u64::from(quotas.allocations_total) {
            stats.quota_refused.fetch_add(1, Ordering::Relaxed);
            return Err(refuse("relay full"));
        }
        // Reserve before binding so two concurrent allocations cannot both pass.
        let held = session.allocations.fetch_add(1, Ordering::AcqRel);
        let slot = AllocationSlot {
            session: session.clone(),
            registry: self.registry.clone(),
            port: None,
        };
        if held >= quotas.allocations_per_session {
            stats.quota_refused.fetch_add(1, Ordering::Relaxed);
            return Err(refuse("session quota"));
        }
        let (bind, public): (IpAddr, IpAddr) = match (use_ipv4, self.public_v4, self.public_v6) {
            (true, Some(v4), _) => (Ipv4Addr::UNSPECIFIED.into(), v4.into()),
            (false, _, Some(v6)) => (Ipv6Addr::UNSPECIFIED.into(), v6.into()),
            _ => return Err(refuse("address family not relayed here")),
        };
        let socket = UdpSocket::bind(SocketAddr::new(bind, 0)).await?;
        let local = socket.local_addr()?;
        let mut slot = slot;
        slot.port = Some(local.port());
        self.registry.add_relay_port(local.port(), &session);
        tracing::debug!(port = local.port(), "TURN allocation opened");
        stats.allocations_active.fetch_add(1, Ordering::Relaxed);
        stats.allocations_total.fetch_add(1, Ordering::Relaxed);
        let conn = RelayConn {
            socket,
            public,
            bucket: Mutex::new(Bucket::new(
                quotas.bytes_per_sec_per_allocation,
                Quotas::burst_bytes(quotas.bytes_per_sec_per_allocation),
                Instant::now(),
            )),
            permits: Mutex::new(Permits::default()),
            slot,
        };
        Ok((Arc::new(conn), SocketAddr::new(public, local.port())))
    }
}

/// Gives back an allocation's place in its session and in the relay when dropped,
/// however the allocation ends (expiry, deletion, revocation, failed setup).
struct AllocationSlot {
    session: Arc<SessionState>,
    registry: Arc<Registry>,
    port: Option<u16>,
}

impl Drop for AllocationSlot {
    fn drop(&mut self) {
        self.session.allocations.fetch_sub(1, Ordering::AcqRel);
        if let Some(port) = self.port {
            tracing::debug!(port, "TURN allocation closed");
            self.registry.remove_relay_port(port);
            self.registry
                .stats
                .allocations_active
                .fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// How long a peer stays permitted after the client last sent to it: RFC 8656's
/// permission lifetime.
const PERMIT_LIFETIME: Duration = Duration::from_secs(300);
/// Peers one allocation may hold permits for; ICE needs a handful (the other side's
/// candidates), and the oldest is forgotten beyond.
const MAX_PERMITS: usize = 32;

/// The peers this allocation's client sent to lately, by IP as TURN permissions are.
/// The engine keeps its own permissions, but only after the socket has been read and
/// the budget spent; this copy lets the socket drop strangers' datagrams first. The
/// client's first packet to a peer opens it, which ICE always sends (its own check).
#[derive(Debug, Default)]
struct Permits(Vec<(IpAddr, Instant)>);

impl Permits {
    /// The client sent to `ip` at `now`.
    fn open(&mut self, ip: IpAddr, now: Instant) {
        let ip = ip.to_canonical();
        if let Some(entry) = self.0.iter_mut().find(|(p, _)| *p == ip) {
            entry.1 = now;
            return;
        }
        if self.0.len() >= MAX_PERMITS {
            self.0
                .retain(|(_, at)| now.saturating_duration_since(*at) < PERMIT_LIFETIME);
        }
        if self.0.len() >= MAX_PERMITS
            && let Some(oldest) = (0..self.0.len()).min_by_key(|&i| self.0[i].1)
        {
            self.0.swap_remove(oldest);
        }
        self.0.push((ip, now));
    }

    /// Whether a datagram from `ip` may be relayed to the client at `now`.
    fn allows(&self, ip: IpAddr, now: Instant) -> bool {
        let ip = ip.to_canonical();
        self.0
            .iter()
            .any(|(p, at)| *p == ip && now.saturating_duration_since(*at) < PERMIT_LIFETIME)
    }
}

/// One allocation's relay socket.
struct RelayConn {
    socket: UdpSocket,
    /// Our advertised address for this family.
    public: IpAddr,
    bucket: Mutex<Bucket>,
    permits: Mutex<Permits>,
    slot: AllocationSlot,
}

impl RelayConn {
    fn revoked(&self) -> bool {
        self.slot.session.revoked.load(Ordering::Acquire)
    }

    fn permitted(&self, src: SocketAddr, now: Instant) -> bool {
        self.permits
            .lock()
            .map(|p| p.allows(src.ip(), now))
            .unwrap_or(false)
    }

    /// Whether `len` more bytes fit in this allocation's and its session's budget.
    fn within_budget(&self, len: usize) -> bool {
        let now = Instant::now();
        let n = len as u64;
        let mine = self
            .bucket
            .lock()
            .map(|mut b| b.take(n, now))
            .unwrap_or(false);
        mine && self
            .slot
            .session
            .bucket
            .lock()
            .map(|mut b| b.take(n, now))
            .unwrap_or(false)
    }

    /// A peer at our own advertised address is another of our allocations: reach it
    /// through loopback, since a NAT in front of the relay may not hairpin.
    fn wire_target(&self, peer: SocketAddr) -> SocketAddr {
        if peer.ip().to_canonical() == self.public.to_canonical()
            && !self.public.is_loopback()
            && self.slot.registry.is_relay_port(peer.port())
        {
            let lo: IpAddr = match self.public {
                IpAddr::V4(_) => Ipv4Addr::LOCALHOST.into(),
                IpAddr::V6(_) => Ipv6Addr::LOCALHOST.into(),
            };
            return SocketAddr::new(lo, peer.port());
        }
        peer
    }

    /// The reverse of [`Self::wire_target`] for what arrives.
    fn seen_source(&self, src: SocketAddr) -> SocketAddr {
        if src.ip().is_loopback()
            && !self.public.is_loopback()
            && self.slot.registry.is_relay_port(src.port())
        {
            return SocketAddr::new(self.public, src.port());
        }
        src
    }
}

fn io_refusal(why: &str) -> webrtc_util::Error {
    webrtc_util::Error::Other(why.into())
}

#[async_trait]
impl Conn for RelayConn {
    async fn connect(&self, _addr: SocketAddr) -> webrtc_util::Result<()> {
        Err(io_refusal("relay sockets are not connected"))
    }

    async fn recv(&self, _buf: &mut [u8]) -> webrtc_util::Result<usize> {
        Err(io_refusal("relay sockets use recv_from"))
    }

    async fn recv_from(&self, buf: &mut [u8]) -> webrtc_util::Result<(usize, SocketAddr)> {
        let stats = &self.slot.registry.stats;
        loop {
            let (n, wire_src) = self.socket.recv_from(buf).await?;
            if self.revoked() {
                return Err(io_refusal("session ended"));
            }
            let src = self.seen_source(wire_src);
            if !self.permitted(src, Instant::now()) {
                // Counted, not logged: a flood must not become a flood of log lines.
                stats.unpermitted_dropped.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            let session = &self.slot.session;
            if self.slot.registry.peer_allowed_for(src, session).is_err() {
                stats.peers_refused.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            if !self.within_budget(n) {
                stats
                    .bandwidth_dropped
                    .fetch_add(n as u64, Ordering::Relaxed);
                continue;
            }
            stats
                .bytes_from_peers
                .fetch_add(n as u64, Ordering::Relaxed);
            return Ok((n, src));
        }
    }

    async fn send(&self, _buf: &[u8]) -> webrtc_util::Result<usize> {
        Err(io_refusal("relay sockets use send_to"))
    }

    async fn send_to(&self, buf: &[u8], target: SocketAddr) -> webrtc_util::Result<usize> {
        let stats = &self.slot.registry.stats;
        if self.revoked() {
            return Err(io_refusal("session ended"));
        }
        if let Err(why) = self
            .slot
            .registry
            .peer_allowed_for(target, &self.slot.session)
        {
            stats.peers_refused.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(
                reason = why.as_str(),
                "relaying to a forbidden peer refused"
            );
            return Err(io_refusal("forbidden peer"));
        }
        // The authenticated client chose this peer: from now on it may answer.
        if let Ok(mut permits) = self.permits.lock() {
            permits.open(target.ip(), Instant::now());
        }
        if !self.within_budget(buf.len()) {
            // Real-time media: dropping is what congestion control expects.
            stats
                .bandwidth_dropped
                .fetch_add(buf.len() as u64, Ordering::Relaxed);
            return Ok(buf.len());
        }
        let n = self.socket.send_to(buf, self.wire_target(target)).await?;
        stats.bytes_to_peers.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }

    fn local_addr(&self) -> webrtc_util::Result<SocketAddr> {
        Ok(self.socket.local_addr()?)
    }

    fn remote_addr(&self) -> Option<SocketAddr> {
        None
    }

    async fn close(&self) -> webrtc_util::Result<()> {
        // The engine stops the allocation's reader itself; the slot is released when
        // the last reference to this socket goes.
        Ok(())
    }

    fn as_any(&self) -> &(dyn Any + Send + Sync) {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peer_is_permitted_only_after_the_client_sent_to_it_and_for_five_minutes() {
        let t0 = Instant::now();
        let peer: IpAddr = "203.0.113.7".parse().unwrap();
        let mut p = Permits::default();
        assert!(!p.allows(peer, t0), "a stranger");
        p.open(peer, t0);
        assert!(p.allows(peer, t0 + Duration::from_secs(299)));
        assert!(
            p.allows("::ffff:203.0.113.7".parse().unwrap(), t0),
            "the same IPv4 peer, mapped"
        );
        assert!(!p.allows("203.0.113.8".parse().unwrap(), t0), "by IP");
        assert!(!p.allows(peer, t0 + PERMIT_LIFETIME), "expired");
        p.open(peer, t0 + Duration::from_secs(200));
        assert!(p.allows(peer, t0 + Duration::from_secs(450)), "refreshed");
    }

    #[test]
    fn the_permits_stay_bounded_and_the_oldest_goes_first() {
        let t0 = Instant::now();
        let mut p = Permits::default();
        for i in 0..(MAX_PERMITS as u8 + 8) {
            p.open(
                IpAddr::from([203, 0, 113, i]),
                t0 + Duration::from_secs(u64::from(i)),
            );
        }
        assert_eq!(p.0.len(), MAX_PERMITS);
        let late = t0 + Duration::from_secs(60);
        assert!(!p.allows(IpAddr::from([203, 0, 113, 0]), late), "forgotten");
        assert!(p.allows(IpAddr::from([203, 0, 113, MAX_PERMITS as u8 + 7]), late));
    }
}
