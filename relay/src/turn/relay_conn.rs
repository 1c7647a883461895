//! The relayed side of an allocation: the UDP socket the relay opens towards peers. Every
//! packet between a TURN client and a peer crosses it, so the peer rule, the bandwidth
//! quotas, revocation and the byte counters all live here, below the TURN engine.
//!
//! What arrives is checked cheapest and most selective first: revocation, then the
//! permission (a peer the client has sent to), then the peer rule, and only then the
//! bandwidth budget, so datagrams from strangers cost neither the session's budget nor a
//! log line (docs/security.md, "a stranger starving a session's relayed media").

use std::any::Any;
use std::hash::BuildHasher;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::net::UdpSocket;
use turn::relay::RelayAddressGenerator;
use webrtc_util::Conn;

use super::policy::{Quotas, SharedBucket};
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
        let now = Instant::now();
        let conn = RelayConn {
            socket,
            local,
            public,
            bucket: SharedBucket::new(
                quotas.bytes_per_sec_per_allocation,
                Quotas::burst_bytes(quotas.bytes_per_sec_per_allocation),
                now,
            ),
            permits: Permits::new(now),
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
            self.registry.remove_relay_port(port, &self.session);
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
///
/// Every relayed packet reads it and every packet the client sends refreshes it, so it
/// holds no lock: a slot is a keyed hash of the IP (keys random per allocation, so no
/// one can pick an address that collides) and when it was last opened. Only the client's
/// sends open slots, one at a time (one listener task reads the client's packets).
#[derive(Debug)]
struct Permits {
    keys: std::collections::hash_map::RandomState,
    epoch: Instant,
    slots: [PermitSlot; MAX_PERMITS],
}

/// One permitted peer: the hash of its IP (0: free) and when it was last opened, in
/// milliseconds since the allocation's start, plus one (0: closed).
#[derive(Debug, Default)]
struct PermitSlot {
    key: AtomicU64,
    at: AtomicU64,
}

impl Permits {
    fn new(now: Instant) -> Self {
        Self {
            keys: std::collections::hash_map::RandomState::new(),
            epoch: now,
            slots: std::array::from_fn(|_| PermitSlot::default()),
        }
    }

    fn key(&self, ip: IpAddr) -> u64 {
        self.keys.hash_one(ip.to_canonical()) | 1
    }

    fn stamp(&self, now: Instant) -> u64 {
        u64::try_from(now.saturating_duration_since(self.epoch).as_millis()).unwrap_or(u64::MAX - 1)
            + 1
    }

    fn fresh(at: u64, now: u64) -> bool {
        at != 0 && now.saturating_sub(at) < PERMIT_LIFETIME.as_millis() as u64
    }

    /// The client sent to `ip` at `now`.
    fn open(&self, ip: IpAddr, now: Instant) {
        let (key, t) = (self.key(ip), self.stamp(now));
        if let Some(slot) = self
            .slots
            .iter()
            .find(|s| s.key.load(Ordering::Acquire) == key)
        {
            slot.at.store(t, Ordering::Release);
            return;
        }
        // A free or expired slot, else the oldest.
        let slot = self
            .slots
            .iter()
            .find(|s| !Self::fresh(s.at.load(Ordering::Acquire), t))
            .or_else(|| {
                self.slots
                    .iter()
                    .min_by_key(|s| s.at.load(Ordering::Acquire))
            });
        if let Some(slot) = slot {
            // Closed first, so no reader sees the old peer with the new time.
            slot.at.store(0, Ordering::Release);
            slot.key.store(key, Ordering::Release);
            slot.at.store(t, Ordering::Release);
        }
    }

    /// Whether a datagram from `ip` may be relayed to the client at `now`.
    fn allows(&self, ip: IpAddr, now: Instant) -> bool {
        let (key, t) = (self.key(ip), self.stamp(now));
        self.slots.iter().any(|s| {
            s.key.load(Ordering::Acquire) == key && Self::fresh(s.at.load(Ordering::Acquire), t)
        })
    }
}

/// One allocation's relay socket.
struct RelayConn {
    socket: UdpSocket,
    /// The socket's own address, kept: the engine asks for it with every packet.
    local: SocketAddr,
    /// Our advertised address for this family.
    public: IpAddr,
    bucket: SharedBucket,
    permits: Permits,
    slot: AllocationSlot,
}

impl RelayConn {
    fn revoked(&self) -> bool {
        self.slot.session.revoked.load(Ordering::Acquire)
    }

    fn permitted(&self, src: SocketAddr, now: Instant) -> bool {
        self.permits.allows(src.ip(), now)
    }

    /// Whether `len` more bytes fit in this allocation's and its session's budget.
    fn within_budget(&self, len: usize) -> bool {
        let now = Instant::now();
        let n = len as u64;
        self.bucket.take(n, now) && self.slot.session.bucket.take(n, now)
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
        self.permits.open(target.ip(), Instant::now());
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
        Ok(self.local)
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
        let p = Permits::new(t0);
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
        let p = Permits::new(t0);
        for i in 0..(MAX_PERMITS as u8 + 8) {
            p.open(
                IpAddr::from([203, 0, 113, i]),
                t0 + Duration::from_secs(u64::from(i)),
            );
        }
        let late = t0 + Duration::from_secs(60);
        let allowed = (0..(MAX_PERMITS as u8 + 8))
            .filter(|&i| p.allows(IpAddr::from([203, 0, 113, i]), late))
            .count();
        assert_eq!(allowed, MAX_PERMITS);
        assert!(!p.allows(IpAddr::from([203, 0, 113, 0]), late), "forgotten");
        assert!(p.allows(IpAddr::from([203, 0, 113, MAX_PERMITS as u8 + 7]), late));
    }
}
