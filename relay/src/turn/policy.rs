//! Which peers the relay will carry media to, and how much. Plain and synchronous: the
//! listeners ask, this answers, and the tables below are the whole rule.
//!
//! The relay sits inside a site's network. Relaying to its loopback, private or link-local
//! addresses would make it a door into that network (an "open proxy"), so those are
//! refused unless the admin lists a range in `[dangerous] turn_allow_peers`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use ipnet::IpNet;

/// Why a peer address is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Refusal {
    /// 127.0.0.0/8, ::1.
    Loopback,
    /// RFC 1918, unique-local (fc00::/7), carrier-grade NAT (100.64.0.0/10).
    Private,
    /// 169.254.0.0/16, fe80::/10.
    LinkLocal,
    /// Multicast and broadcast.
    Multicast,
    /// 0.0.0.0/8, ::.
    Unspecified,
    /// Documentation, benchmarking, reserved and other special-purpose ranges.
    Reserved,
    /// The relay's own address on a port that is not one of its relay ports.
    OwnService,
    /// A relay port held by another session than the one relaying.
    OtherSession,
}

impl Refusal {
    /// A short name for logs and counters.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Loopback => "loopback",
            Refusal::Private => "private",
            Refusal::LinkLocal => "link_local",
            Refusal::Multicast => "multicast",
            Refusal::Unspecified => "unspecified",
            Refusal::Reserved => "reserved",
            Refusal::OwnService => "own_service",
            Refusal::OtherSession => "other_session",
        }
    }
}

/// The peer rule of one relay.
#[derive(Debug, Clone, Default)]
pub struct PeerPolicy {
    /// Ranges the admin allowed in `[dangerous]`, checked before the refusals.
    pub allow: Vec<IpNet>,
    /// The relay's own public addresses: peers there are other allocations of ours
    /// (both sides relayed), allowed only on relay ports.
    pub own: Vec<IpAddr>,
}

impl PeerPolicy {
    /// Whether media may be relayed to or accepted from `peer`. `is_relay_port` says
    /// whether a port on one of our own addresses belongs to a live allocation.
    pub fn check(
        &self,
        peer: SocketAddr,
        is_relay_port: impl Fn(u16) -> bool,
    ) -> Result<(), Refusal> {
        let ip = peer.ip().to_canonical();
        if self.allow.iter().any(|net| net.contains(&ip)) {
            return Ok(());
        }
        if self.own.iter().any(|o| o.to_canonical() == ip) {
            return if is_relay_port(peer.port()) {
                Ok(())
            } else {
                Err(Refusal::OwnService)
            };
        }
        classify(ip)
    }
}

/// The address-class part of the rule, with IPv4-mapped and embedded forms unwrapped.
pub fn classify(ip: IpAddr) -> Result<(), Refusal> {
    match ip.to_canonical() {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> Result<(), Refusal> {
    let [a, b, c, _] = ip.octets();
    if a == 0 {
        return Err(Refusal::Unspecified);
    }
    if ip.is_loopback() {
        return Err(Refusal::Loopback);
    }
    if ip.is_private() || (a == 100 && (64..128).contains(&b)) {
        return Err(Refusal::Private);
    }
    if ip.is_link_local() {
        return Err(Refusal::LinkLocal);
    }
    if ip.is_multicast() || ip.is_broadcast() {
        return Err(Refusal::Multicast);
    }
    let reserved = (a == 192 && b == 0 && (c == 0 || c == 2)) // IETF assignments, TEST-NET-1
        || (a == 198 && b == 51 && c == 100) // TEST-NET-2
        || (a == 203 && b == 0 && c == 113) // TEST-NET-3
        || (a == 198 && (b & 0xfe) == 18) // benchmarking 198.18/15
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast
        || a >= 240; // class E
    if reserved {
        return Err(Refusal::Reserved);
    }
    Ok(())
}

fn classify_v6(ip: Ipv6Addr) -> Result<(), Refusal> {
    let seg = ip.segments();
    if ip.is_unspecified() {
        return Err(Refusal::Unspecified);
    }
    if ip.is_loopback() {
        return Err(Refusal::Loopback);
    }
    if ip.is_multicast() {
        return Err(Refusal::Multicast);
    }
    if (seg[0] & 0xffc0) == 0xfe80 || (seg[0] & 0xffc0) == 0xfec0 {
        // fec0::/10 is the deprecated site-local range: private in effect.
        return if (seg[0] & 0xffc0) == 0xfe80 {
            Err(Refusal::LinkLocal)
        } else {
            Err(Refusal::Private)
        };
    }
    if (seg[0] & 0xfe00) == 0xfc00 {
        return Err(Refusal::Private);
    }
    // Forms that carry an IPv4 address: judge the address they lead to.
    let embedded = |hi: u16, lo: u16| {
        let [a, b] = hi.to_be_bytes();
        let [c, d] = lo.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    if seg[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        // NAT64 well-known prefix.
        return classify_v4(embedded(seg[6], seg[7]));
    }
    if seg[..3] == [0x64, 0xff9b, 1] {
        // Local-use NAT64 (RFC 8215): the site's own translator, with the IPv4 address
        // at a place its prefix length decides; it leads inside, so none is relayed.
        return Err(Refusal::Private);
    }
    if seg[..6] == [0, 0, 0, 0, 0xffff, 0] {
        // IPv4-translated form ::ffff:0:a.b.c.d (RFC 2765).
        return classify_v4(embedded(seg[6], seg[7]));
    }
    if seg[0] == 0x2002 {
        // 6to4.
        return classify_v4(embedded(seg[1], seg[2]));
    }
    if seg[..6] == [0, 0, 0, 0, 0, 0] {
        // Deprecated IPv4-compatible form ::a.b.c.d.
        return classify_v4(embedded(seg[6], seg[7]));
    }
    if seg[0] == 0x2001 && seg[1] == 0 {
        // Teredo: not relayed through us.
        return Err(Refusal::Reserved);
    }
    if seg[0] == 0x2001 && seg[1] == 0x0db8 {
        return Err(Refusal::Reserved); // documentation
    }
    if seg[0] == 0x0100 && seg[1..4] == [0, 0, 0] {
        return Err(Refusal::Reserved); // discard-only 100::/64
    }
    Ok(())
}

/// A token bucket: `rate` units a second, bursts up to `burst`. Time is passed in.
#[derive(Debug, Clone)]
pub struct Bucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    /// A full bucket.
    pub fn new(rate_per_sec: u64, burst: u64, now: Instant) -> Self {
        Self {
            rate: rate_per_sec as f64,
            burst: burst as f64,
            tokens: burst as f64,
            last: now,
        }
    }

    /// Whether the bucket has not been used for `d`.
    pub fn idle_for(&self, d: Duration, now: Instant) -> bool {
        now.saturating_duration_since(self.last) >= d
    }

    /// Takes `n` units if there are enough; otherwise takes nothing and says no.
    pub fn take(&mut self, n: u64, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last);
        self.last = now;
        self.tokens = (self.tokens + elapsed.as_secs_f64() * self.rate).min(self.burst);
        let n = n as f64;
        if self.tokens >= n {
            self.tokens -= n;
            true
        } else {
            false
        }
    }
}

/// A token bucket shared by the tasks that relay packets, without a lock: GCRA (the
/// "virtual scheduling" form of a token bucket). One atomic holds the time, in
/// nanoseconds since `epoch`, at which the bucket would be full again; a packet of `n`
/// bytes pushes it `n / rate` later and passes if that stays within `burst / rate` of now.
/// Same answers as [`Bucket`] (the test below checks them side by side).
#[derive(Debug)]
pub struct SharedBucket {
    epoch: Instant,
    /// Nanoseconds one unit takes at the rate.
    ns_per_unit: f64,
    /// Nanoseconds of credit a full bucket holds.
    burst_ns: u64,
    /// When the bucket is full again, in nanoseconds since `epoch`.
    full_at: std::sync::atomic::AtomicU64,
}

impl SharedBucket {
    /// A full bucket of `burst` units refilled at `rate_per_sec`.
    pub fn new(rate_per_sec: u64, burst: u64, now: Instant) -> Self {
        let ns_per_unit = 1e9 / rate_per_sec.max(1) as f64;
        Self {
            epoch: now,
            ns_per_unit,
            burst_ns: (burst as f64 * ns_per_unit) as u64,
            full_at: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Takes `n` units if there are enough; otherwise takes nothing and says no.
    pub fn take(&self, n: u64, now: Instant) -> bool {
        use std::sync::atomic::Ordering::{AcqRel, Acquire};
        let now_ns =
            u64::try_from(now.saturating_duration_since(self.epoch).as_nanos()).unwrap_or(u64::MAX);
        let cost = (n as f64 * self.ns_per_unit) as u64;
        let mut full_at = self.full_at.load(Acquire);
        loop {
            let next = full_at.max(now_ns).saturating_add(cost);
            if next - now_ns > self.burst_ns {
                return false;
            }
            match self
                .full_at
                .compare_exchange_weak(full_at, next, AcqRel, Acquire)
            {
                Ok(_) => return true,
                Err(seen) => full_at = seen,
            }
        }
    }
}

/// Limits that keep one session, allocation or address from starving the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quotas {
    /// Allocations one session (both sides together) may hold.
    pub allocations_per_session: u32,
    /// Allocations the relay holds in all.
    pub allocations_total: u32,
    /// Relayed bytes per second for one allocation, each direction together.
    pub bytes_per_sec_per_allocation: u64,
    /// Relayed bytes per second for one session, all its allocations together.
    pub bytes_per_sec_per_session: u64,
    /// TURN requests (not data) per second from one source address.
    pub requests_per_sec_per_address: u64,
    /// TCP or TLS TURN connections one address may hold.
    pub streams_per_address: u32,
}

impl Quotas {
    /// How long a burst the bandwidth buckets allow: a keyframe's worth.
    pub const BURST: Duration = Duration::from_millis(500);

    /// The burst size in bytes for a rate.
    pub fn burst_bytes(rate: u64) -> u64 {
        // At least 64 KiB so one large keyframe is never cut.
        (rate / 2).max(64 * 1024)
    }
}

impl Default for Quotas {
    fn default() -> Self {
        Self {
            // Each side gathers over UDP (and the viewer also TCP/TLS): a few each.
            allocations_per_session: 10,
            allocations_total: 2_000,
            // 4 Mbit/s per allocation, 6 Mbit/s per session: several times what a form
            // needs at 1080p, a hard stop for a runaway client.
            bytes_per_sec_per_allocation: 500_000,
            bytes_per_sec_per_session: 750_000,
            requests_per_sec_per_address: 50,
            streams_per_address: 32,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn every_forbidden_v4_class_is_refused() {
        let cases = [
            ("0.0.0.0", Refusal::Unspecified),
            ("0.1.2.3", Refusal::Unspecified),
            ("127.0.0.1", Refusal::Loopback),
            ("127.255.0.9", Refusal::Loopback),
            ("10.0.0.1", Refusal::Private),
            ("172.16.5.4", Refusal::Private),
            ("172.31.255.255", Refusal::Private),
            ("192.168.1.1", Refusal::Private),
            ("100.64.0.1", Refusal::Private),
            ("100.127.255.254", Refusal::Private),
            ("169.254.169.254", Refusal::LinkLocal), // cloud metadata service
            ("224.0.0.1", Refusal::Multicast),
            ("239.255.255.250", Refusal::Multicast),
            ("255.255.255.255", Refusal::Multicast),
            ("192.0.0.8", Refusal::Reserved),
            ("192.0.2.1", Refusal::Reserved),
            ("198.51.100.7", Refusal::Reserved),
            ("203.0.113.9", Refusal::Reserved),
            ("198.18.0.1", Refusal::Reserved),
            ("198.19.255.1", Refusal::Reserved),
            ("240.0.0.1", Refusal::Reserved),
        ];
        for (addr, why) in cases {
            assert_eq!(classify(ip(addr)), Err(why), "{addr}");
        }
    }

    #[test]
    fn public_v4_is_allowed_including_the_edges_of_forbidden_ranges() {
        for addr in [
            "8.8.8.8",
            "1.1.1.1",
            "172.15.255.255",
            "172.32.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "198.17.255.255",
            "198.20.0.0",
            "11.0.0.1",
            "126.255.255.255",
            "128.0.0.1",
            "223.255.255.254",
        ] {
            assert_eq!(classify(ip(addr)), Ok(()), "{addr}");
        }
    }

    #[test]
    fn every_forbidden_v6_class_is_refused_including_mapped_forms() {
        let cases = [
            ("::", Refusal::Unspecified),
            ("::1", Refusal::Loopback),
            ("fe80::1", Refusal::LinkLocal),
            ("febf::1", Refusal::LinkLocal),
            ("fec0::1", Refusal::Private),
            ("fc00::1", Refusal::Private),
            ("fd12:3456::1", Refusal::Private),
            ("ff02::1", Refusal::Multicast),
            ("ff05::1:3", Refusal::Multicast),
            // IPv4-mapped: the v4 rule applies.
            ("::ffff:127.0.0.1", Refusal::Loopback),
            ("::ffff:10.1.2.3", Refusal::Private),
            ("::ffff:169.254.169.254", Refusal::LinkLocal),
            ("::ffff:0.0.0.0", Refusal::Unspecified),
            // IPv4-compatible (deprecated), NAT64 and 6to4 carrying forbidden v4.
            ("::127.0.0.1", Refusal::Loopback),
            ("::10.0.0.1", Refusal::Private),
            ("64:ff9b::7f00:1", Refusal::Loopback),
            ("64:ff9b::c0a8:101", Refusal::Private),
            ("2002:7f00:1::1", Refusal::Loopback),
            ("2002:a00:1::", Refusal::Private),
            ("2002:a9fe:a9fe::", Refusal::LinkLocal),
            ("2001:db8::1", Refusal::Reserved),
            ("2001:0:4136:e378::1", Refusal::Reserved),
            ("100::1", Refusal::Reserved),
        ];
        for (addr, why) in cases {
            assert_eq!(classify(ip(addr)), Err(why), "{addr}");
        }
    }

    /// Issue 16 (10): the local-use NAT64 prefix (RFC 8215) leads into the site's own
    /// NAT64, whatever it embeds; the IPv4-translated form `::ffff:0:a.b.c.d` (RFC 2765)
    /// carries an IPv4 address like the mapped one.
    #[test]
    fn issue16_local_nat64_and_ipv4_translated_forms_are_unwrapped() {
        for addr in [
            "64:ff9b:1::7f00:1",
            "64:ff9b:1:7f00:1::",
            "64:ff9b:1:a00:1:0:0:0",
            "64:ff9b:1::808:808",
        ] {
            assert!(classify(ip(addr)).is_err(), "{addr}");
        }
        assert_eq!(classify(ip("::ffff:0:127.0.0.1")), Err(Refusal::Loopback));
        assert_eq!(classify(ip("::ffff:0:10.1.2.3")), Err(Refusal::Private));
        assert_eq!(classify(ip("::ffff:0:8.8.8.8")), Ok(()));
    }

    #[test]
    fn public_v6_is_allowed_including_embedded_public_v4() {
        for addr in [
            "2a01:4f8::1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "fbff::1",
            "fe00::1",
        ] {
            assert_eq!(classify(ip(addr)), Ok(()), "{addr}");
        }
    }

    #[test]
    fn the_admin_allow_list_opens_only_its_ranges() {
        let policy = PeerPolicy {
            allow: vec!["127.0.0.0/8".parse().unwrap(), "fd00::/8".parse().unwrap()],
            own: vec![],
        };
        let no_relay = |_| false;
        let sa = |s: &str| s.parse::<SocketAddr>().unwrap();
        assert_eq!(policy.check(sa("127.0.0.1:5000"), no_relay), Ok(()));
        assert_eq!(
            policy.check(sa("[::ffff:127.0.0.1]:5000"), no_relay),
            Ok(())
        );
        assert_eq!(policy.check(sa("[fd00::5]:1"), no_relay), Ok(()));
        assert_eq!(
            policy.check(sa("10.0.0.1:5000"), no_relay),
            Err(Refusal::Private)
        );
        assert_eq!(
            policy.check(sa("[::1]:5000"), no_relay),
            Err(Refusal::Loopback),
            "v4 loopback allowed does not open v6 loopback"
        );
    }

    #[test]
    fn the_relays_own_address_is_reachable_only_on_its_relay_ports() {
        let policy = PeerPolicy {
            allow: vec![],
            own: vec![ip("203.0.113.50")],
        };
        let relay_ports = |p: u16| p == 50_000;
        let sa = |s: &str| s.parse::<SocketAddr>().unwrap();
        assert_eq!(policy.check(sa("203.0.113.50:50000"), relay_ports), Ok(()));
        assert_eq!(
            policy.check(sa("203.0.113.50:443"), relay_ports),
            Err(Refusal::OwnService)
        );
        assert_eq!(
            policy.check(sa("[::ffff:203.0.113.50]:22"), relay_ports),
            Err(Refusal::OwnService)
        );
    }

    #[test]
    fn a_bucket_refuses_past_its_burst_and_refills_with_time() {
        let t0 = Instant::now();
        let mut b = Bucket::new(1000, 1500, t0);
        assert!(b.take(1500, t0));
        assert!(!b.take(1, t0), "empty");
        assert!(
            !b.take(600, t0 + Duration::from_millis(500)),
            "only 500 back"
        );
        assert!(b.take(1000, t0 + Duration::from_millis(1000)));
        // Refill never exceeds the burst.
        assert!(!b.take(1501, t0 + Duration::from_secs(3600)));
        assert!(b.take(1500, t0 + Duration::from_secs(3600)));
    }

    #[test]
    fn the_shared_bucket_answers_as_the_bucket_does() {
        let t0 = Instant::now();
        let shared = SharedBucket::new(1000, 1500, t0);
        assert!(shared.take(1500, t0));
        assert!(!shared.take(1, t0), "empty");
        assert!(
            !shared.take(600, t0 + Duration::from_millis(500)),
            "only 500 back"
        );
        assert!(shared.take(1000, t0 + Duration::from_millis(1000)));
        assert!(!shared.take(1501, t0 + Duration::from_secs(3600)));
        assert!(shared.take(1500, t0 + Duration::from_secs(3600)));
        // A long run of packets at random times: the same verdict as the locked bucket.
        let mut plain = Bucket::new(125_000, 64_000, t0);
        let shared = SharedBucket::new(125_000, 64_000, t0);
        let mut at = t0;
        let mut x: u64 = 7;
        let (mut passed, mut differ) = (0, 0);
        for _ in 0..20_000 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            at += Duration::from_micros(x >> 54);
            let n = 200 + (x >> 40) % 1_000;
            let (a, b) = (plain.take(n, at), shared.take(n, at));
            passed += usize::from(a);
            differ += usize::from(a != b);
        }
        assert!(
            passed > 1_000 && passed < 20_000,
            "some pass, some not: {passed}"
        );
        // Floating point rounding may flip a packet at the very edge, no more.
        assert!(differ <= 20, "{differ} verdicts differ");
    }
}
