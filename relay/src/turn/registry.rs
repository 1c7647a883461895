//! Which sessions may use TURN right now, what each holds, and the credential check the
//! TURN engine calls. The signaling driver opens a session here when it is paired and
//! closes it when it ends; from that moment its credentials are refused and its
//! allocations are deleted.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use turn::auth::{AuthHandler, generate_auth_key};

use super::TurnStats;
use super::creds::{self, CREDENTIAL_TTL, Credentials, Side, TurnSecret};
use super::policy::{Bucket, PeerPolicy, Quotas, Refusal, SharedBucket};
use crate::conn_limit::source_key;
use crate::signaling::hub::ConnId;
use crate::store::time::unix_now;

/// Now, in unix seconds, as credentials count it.
fn now_secs() -> u64 {
    u64::try_from(unix_now()).unwrap_or(0)
}

/// What the relay tracks of one session's use of TURN.
#[derive(Debug)]
pub struct SessionState {
    /// Set when the session ends: every check after this refuses.
    pub revoked: AtomicBool,
    /// Allocations held by both sides.
    pub allocations: AtomicU32,
    /// The session's bandwidth, all allocations together.
    pub bucket: SharedBucket,
    /// Names the session in the relay port table (never 0).
    id: u64,
    usernames: Mutex<HashSet<String>>,
}

#[derive(Debug, Default)]
struct Inner {
    sessions: HashMap<String, Arc<SessionState>>,
    conns: HashMap<ConnId, (String, Side)>,
    request_budgets: Budgets,
    streams: HashMap<IpAddr, u32>,
    /// Which address each nonce was handed to, and when.
    nonces: HashMap<String, (SocketAddr, Instant)>,
}

/// The TURN side of the relay's sessions: shared by the listeners, the engine's auth
/// hook, the relay sockets and the signaling driver.
#[derive(Debug)]
pub struct Registry {
    inner: Mutex<Inner>,
    /// Live relay ports, each with the id of the session whose allocation holds it (0:
    /// none). Read for every relayed packet whose peer is one of our own addresses, so
    /// an array of atomics rather than a map under the registry's lock.
    relay_ports: Box<[AtomicU64]>,
    /// The last session id given.
    last_id: AtomicU64,
    secret: TurnSecret,
    /// The limits.
    pub quotas: Quotas,
    /// The peer rule.
    pub policy: PeerPolicy,
    /// Counters for metrics.
    pub stats: TurnStats,
}

/// Request budgets idle this long are forgotten.
const BUDGET_IDLE: Duration = Duration::from_secs(60);
/// Budgets are swept once there are this many, and then only after their number doubled
/// or a minute passed, so a sweep costs O(1) per request amortised.
const BUDGET_SWEEP_FROM: usize = 10_000;
/// At most this many sources have a budget of their own; beyond (a flood from very many
/// addresses), new sources share one.
const MAX_BUDGETS: usize = 200_000;

/// The TURN request budgets, one per source (an IPv6 source is its /64).
#[derive(Debug)]
struct Budgets {
    each: HashMap<IpAddr, Bucket>,
    /// Shared by new sources while `each` is full.
    overflow: Option<Bucket>,
    /// The next sweep happens at this many budgets…
    sweep_at: usize,
    /// …or after this time, whichever comes first.
    sweep_after: Option<Instant>,
    /// Sweeps done (tests).
    sweeps: u64,
}

impl Default for Budgets {
    fn default() -> Self {
        Self {
            each: HashMap::new(),
            overflow: None,
            sweep_at: BUDGET_SWEEP_FROM,
            sweep_after: None,
            sweeps: 0,
        }
    }
}

impl Budgets {
    fn take(&mut self, src: IpAddr, rate: u64, now: Instant) -> bool {
        let key = source_key(src);
        if let Some(b) = self.each.get_mut(&key) {
            return b.take(1, now);
        }
        let due = self.sweep_after.is_some_and(|t| now >= t);
        if self.each.len() >= self.sweep_at || due {
            self.each.retain(|_, b| !b.idle_for(BUDGET_IDLE, now));
            self.sweeps += 1;
            self.sweep_at = (self.each.len() * 2).clamp(BUDGET_SWEEP_FROM, MAX_BUDGETS);
            self.sweep_after = (!self.each.is_empty()).then(|| now + BUDGET_IDLE);
        }
        if self.each.len() >= MAX_BUDGETS {
            // All live: new sources wait their turn in one shared budget, a few times one
            // source's, rather than grow the map without bound.
            return self
                .overflow
                .get_or_insert_with(|| Bucket::new(rate * 4, rate * 8, now))
                .take(1, now);
        }
        if self.sweep_after.is_none() {
            self.sweep_after = Some(now + BUDGET_IDLE);
        }
        self.each
            .entry(key)
            .or_insert_with(|| Bucket::new(rate, rate * 2, now))
            .take(1, now)
    }
}
/// Nonces are remembered this long (the engine's own lifetime for them).
const NONCE_LIFETIME: Duration = Duration::from_secs(3600);
/// At most this many nonces are remembered; a flood beyond clears them (clients retry).
const MAX_NONCES: usize = 50_000;

impl Registry {
    /// A registry with a fresh secret.
    pub fn new(quotas: Quotas, policy: PeerPolicy) -> Self {
        Self::with_secret(TurnSecret::random(), quotas, policy)
    }

    /// A registry with a known secret (tests).
    pub fn with_secret(secret: TurnSecret, quotas: Quotas, policy: PeerPolicy) -> Self {
        Self {
            inner: Mutex::default(),
            relay_ports: (0..=u16::MAX).map(|_| AtomicU64::new(0)).collect(),
            last_id: AtomicU64::new(0),
            secret,
            quotas,
            policy,
            stats: TurnStats::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic elsewhere cannot leave these maps half-updated in a way that matters
        // more than refusing all TURN afterwards would.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A session was paired: its two connections may now ask for credentials.
    pub fn open(&self, session: &str, agent: ConnId, viewer: ConnId) {
        let mut inner = self.lock();
        self.ensure(&mut inner, session);
        // Opened again when a side resumes on a new connection: the session keeps its
        // state (allocations, revocation), only its connections change.
        inner.conns.retain(|_, (s, _)| s != session);
        inner
            .conns
            .insert(agent, (session.to_string(), Side::Agent));
        inner
            .conns
            .insert(viewer, (session.to_string(), Side::Viewer));
    }

    /// One side of a session held by another relay is served here (issue 19): that
    /// connection may ask for credentials; the session's other side is left as it is
    /// (it may be served here too, or elsewhere).
    pub fn open_side(&self, session: &str, conn: ConnId, side: Side) {
        let mut inner = self.lock();
        self.ensure(&mut inner, session);
        inner
            .conns
            .retain(|_, (s, which)| !(s == session && *which == side));
        inner.conns.insert(conn, (session.to_string(), side));
    }

    /// The state of `session`, made if it is new.
    fn ensure(&self, inner: &mut Inner, session: &str) {
        let state = Arc::new(SessionState {
            revoked: AtomicBool::new(false),
            allocations: AtomicU32::new(0),
            bucket: SharedBucket::new(
                self.quotas.bytes_per_sec_per_session,
                Quotas::burst_bytes(self.quotas.bytes_per_sec_per_session),
                Instant::now(),
            ),
            id: self.last_id.fetch_add(1, Ordering::Relaxed) + 1,
            usernames: Mutex::default(),
        });
        inner.sessions.entry(session.to_string()).or_insert(state);
    }

    /// The session ended: returns the usernames whose allocations must be deleted.
    pub fn close(&self, session: &str) -> Vec<String> {
        let mut inner = self.lock();
        inner.conns.retain(|_, (s, _)| s != session);
        let Some(state) = inner.sessions.remove(session) else {
            return Vec::new();
        };
        state.revoked.store(true, Ordering::Release);
        state
            .usernames
            .lock()
            .map(|u| u.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Credentials for the session `conn` is in, if it is in one.
    pub fn credentials_for(&self, conn: ConnId) -> Option<Credentials> {
        let inner = self.lock();
        let (session, side) = inner.conns.get(&conn)?;
        let state = inner.sessions.get(session)?;
        let c = creds::issue(&self.secret, session, *side, now_secs(), CREDENTIAL_TTL);
        if let Ok(mut names) = state.usernames.lock() {
            names.insert(c.username.clone());
        }
        Some(c)
    }

    /// The live session a TURN username belongs to, if its credentials are still good.
    pub fn session_of(&self, username: &str) -> Option<Arc<SessionState>> {
        let claim = creds::parse_username(username, now_secs()).ok()?;
        let state = self.lock().sessions.get(claim.session).cloned()?;
        (!state.revoked.load(Ordering::Acquire)).then_some(state)
    }

    /// The long-term key for `username`, if its credentials are valid now.
    pub fn key_for(&self, username: &str, realm: &str) -> Option<Vec<u8>> {
        self.session_of(username)?;
        let password = self.secret.password(username);
        Some(generate_auth_key(username, realm, &password))
    }

    /// Takes one request from `src`'s budget (an IPv6 source counts as its /64).
    pub fn admit_request(&self, src: IpAddr, now: Instant) -> bool {
        let rate = self.quotas.requests_per_sec_per_address;
        self.lock().request_budgets.take(src, rate, now)
    }

    /// Remembers that `nonce` was handed to `to`.
    pub fn nonce_issued(&self, nonce: String, to: SocketAddr, now: Instant) {
        let mut inner = self.lock();
        if inner.nonces.len() >= MAX_NONCES {
            inner
                .nonces
                .retain(|_, (_, at)| now.saturating_duration_since(*at) < NONCE_LIFETIME);
            if inner.nonces.len() >= MAX_NONCES {
                inner.nonces.clear();
            }
        }
        inner.nonces.insert(nonce, (to, now));
    }

    /// Whether `nonce` was handed to another address than `src`.
    pub fn nonce_from_elsewhere(&self, nonce: &str, src: SocketAddr) -> bool {
        self.lock()
            .nonces
            .get(nonce)
            .is_some_and(|(owner, _)| *owner != src)
    }

    /// Forgets a nonce (it was replayed, or is being swept).
    pub fn forget_nonce(&self, nonce: &str) {
        self.lock().nonces.remove(nonce);
    }

    /// Counts a TCP or TLS connection from `src`; false if it holds too many already.
    pub fn stream_opened(&self, src: IpAddr) -> bool {
        let mut inner = self.lock();
        let n = inner.streams.entry(src).or_default();
        if *n >= self.quotas.streams_per_address {
            return false;
        }
        *n += 1;
        true
    }

    /// A TCP or TLS connection from `src` closed.
    pub fn stream_closed(&self, src: IpAddr) {
        let mut inner = self.lock();
        if let Some(n) = inner.streams.get_mut(&src) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                inner.streams.remove(&src);
            }
        }
    }

    /// Records a relay port as live, held by `session` (for relayed↔relayed pairs
    /// through our own address).
    pub fn add_relay_port(&self, port: u16, session: &Arc<SessionState>) {
        self.relay_ports[usize::from(port)].store(session.id, Ordering::Release);
    }

    /// Forgets a relay port `session` held. The port may already be another allocation's
    /// (the socket closes before this is called, and the system may hand the port out
    /// again at once): then it stays that one's.
    pub fn remove_relay_port(&self, port: u16, session: &Arc<SessionState>) {
        let _ = self.relay_ports[usize::from(port)].compare_exchange(
            session.id,
            0,
            Ordering::AcqRel,
            Ordering::Acquire,
        );
    }

    /// The id of the session holding relay port `port` (0: none).
    fn relay_port_holder(&self, port: u16) -> u64 {
        self.relay_ports[usize::from(port)].load(Ordering::Acquire)
    }

    /// Whether `port` is one of our live relay ports.
    pub fn is_relay_port(&self, port: u16) -> bool {
        self.relay_port_holder(port) != 0
    }

    /// The peer rule, with our own relay ports (any session's: TURN requests are
    /// checked here before their session is known).
    pub fn peer_allowed(&self, peer: SocketAddr) -> Result<(), Refusal> {
        self.check_peer(peer, None)
    }

    /// The peer rule for media of `session`'s allocations: as [`Self::peer_allowed`],
    /// except that a relay port of another session is never reachable, even inside a
    /// range the admin allowed (one session must not feed or drain another's budget).
    pub fn peer_allowed_for(
        &self,
        peer: SocketAddr,
        session: &Arc<SessionState>,
    ) -> Result<(), Refusal> {
        self.check_peer(peer, Some(session))
    }

    fn check_peer(
        &self,
        peer: SocketAddr,
        session: Option<&Arc<SessionState>>,
    ) -> Result<(), Refusal> {
        // Only a peer at one of our own addresses needs the port table.
        let ip = peer.ip().to_canonical();
        if !self.policy.own.iter().any(|o| o.to_canonical() == ip) {
            return self.policy.check(peer, |_| false);
        }
        let holder = self.relay_port_holder(peer.port());
        if let Some(session) = session
            && holder != 0
            && holder != session.id
        {
            return Err(Refusal::OtherSession);
        }
        self.policy.check(peer, |p| self.is_relay_port(p))
    }

    /// Sessions open now.
    pub fn sessions(&self) -> usize {
        self.lock().sessions.len()
    }
}

/// The engine's credential check: our own username form, not expired, session live.
#[derive(Debug, Clone)]
pub struct Auth(pub Arc<Registry>);

impl AuthHandler for Auth {
    fn auth_handle(
        &self,
        username: &str,
        realm: &str,
        _src_addr: SocketAddr,
    ) -> Result<Vec<u8>, turn::Error> {
        match self.0.key_for(username, realm) {
            Some(key) => Ok(key),
            None => {
                self.0.stats.auth_failures.fetch_add(1, Ordering::Relaxed);
                Err(turn::Error::Other("credentials refused".into()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> Registry {
        Registry::with_secret(
            TurnSecret::from_bytes(b"k"),
            Quotas::default(),
            PeerPolicy::default(),
        )
    }

    #[test]
    fn relay_ports_belong_to_one_session_and_a_reused_port_to_its_new_holder() {
        let r = Registry::with_secret(
            TurnSecret::from_bytes(b"k"),
            Quotas::default(),
            PeerPolicy {
                allow: vec![],
                own: vec!["203.0.113.50".parse().unwrap()],
            },
        );
        r.open("s-1", 1, 2);
        r.open("s-2", 3, 4);
        let user = |conn| r.credentials_for(conn).unwrap().username;
        let (one, two) = (
            r.session_of(&user(1)).unwrap(),
            r.session_of(&user(3)).unwrap(),
        );
        let port: SocketAddr = "203.0.113.50:50000".parse().unwrap();
        assert_eq!(
            r.peer_allowed(port),
            Err(Refusal::OwnService),
            "not a relay port yet"
        );
        r.add_relay_port(50_000, &one);
        assert!(r.is_relay_port(50_000));
        assert_eq!(r.peer_allowed_for(port, &one), Ok(()));
        assert_eq!(r.peer_allowed_for(port, &two), Err(Refusal::OtherSession));
        // The port closes and is handed at once to the other session's allocation before
        // the first one's bookkeeping forgets it: it stays the new holder's.
        r.add_relay_port(50_000, &two);
        r.remove_relay_port(50_000, &one);
        assert_eq!(r.peer_allowed_for(port, &two), Ok(()));
        assert_eq!(r.peer_allowed_for(port, &one), Err(Refusal::OtherSession));
        r.remove_relay_port(50_000, &two);
        assert!(!r.is_relay_port(50_000));
    }

    #[test]
    fn credentials_exist_only_for_connections_in_an_open_session() {
        let r = registry();
        assert!(r.credentials_for(1).is_none(), "not paired");
        r.open("s-1", 1, 2);
        let agent = r.credentials_for(1).unwrap();
        let viewer = r.credentials_for(2).unwrap();
        assert!(agent.username.ends_with(":s-1:a"));
        assert!(viewer.username.ends_with(":s-1:v"));
        assert_ne!(agent.password, viewer.password, "each side its own");
        assert!(r.credentials_for(3).is_none(), "another connection");
    }

    #[test]
    fn both_sides_of_a_session_held_elsewhere_can_be_served_here() {
        let r = registry();
        r.open_side("s-1", 7, Side::Agent);
        r.open_side("s-1", 8, Side::Viewer);
        assert!(r.credentials_for(7).unwrap().username.ends_with(":s-1:a"));
        assert!(r.credentials_for(8).unwrap().username.ends_with(":s-1:v"));
        // The agent comes back on another connection: only its side moves.
        r.open_side("s-1", 9, Side::Agent);
        assert!(r.credentials_for(7).is_none());
        assert!(r.credentials_for(8).is_some() && r.credentials_for(9).is_some());
        r.close("s-1");
        assert!(r.credentials_for(8).is_none() && r.credentials_for(9).is_none());
    }

    #[test]
    fn a_session_opened_again_on_new_connections_keeps_its_state() {
        let r = registry();
        r.open("s-1", 1, 2);
        let first = r.credentials_for(1).unwrap();
        r.open("s-1", 3, 2);
        assert!(
            r.credentials_for(1).is_none(),
            "the old connection is forgotten"
        );
        assert!(r.credentials_for(3).is_some());
        let names = r.close("s-1");
        assert!(
            names.contains(&first.username),
            "allocations made before still go"
        );
    }

    #[test]
    fn credentials_stop_working_when_the_session_ends() {
        let r = registry();
        r.open("s-1", 1, 2);
        let c = r.credentials_for(1).unwrap();
        let auth = Auth(Arc::new(r));
        let src: SocketAddr = "198.51.100.1:1".parse().unwrap();
        let key = auth.auth_handle(&c.username, "acote", src).unwrap();
        assert_eq!(key, generate_auth_key(&c.username, "acote", &c.password));
        let to_delete = auth.0.close("s-1");
        assert_eq!(to_delete, vec![c.username.clone()]);
        assert!(auth.auth_handle(&c.username, "acote", src).is_err());
        assert!(auth.0.credentials_for(1).is_none());
        assert_eq!(auth.0.stats.auth_failures.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn forged_expired_or_foreign_usernames_are_refused() {
        let r = Arc::new(registry());
        r.open("s-1", 1, 2);
        let auth = Auth(r.clone());
        let src: SocketAddr = "198.51.100.1:1".parse().unwrap();
        let past = format!("{}:s-1:a", now_secs() - 1);
        let unknown = format!("{}:s-9:a", now_secs() + 60);
        for u in [past.as_str(), unknown.as_str(), "admin", "", "1:2:3:4"] {
            assert!(auth.auth_handle(u, "acote", src).is_err(), "{u}");
        }
        // A forged username for a live session passes the lookup, but the key is the
        // HMAC of the relay's secret: a client without the password cannot sign with it.
        let forged = format!("{}:s-1:a", now_secs() + 999_999);
        let key = auth.auth_handle(&forged, "acote", src).unwrap();
        assert_ne!(key, generate_auth_key(&forged, "acote", "guess"));
    }

    #[test]
    fn a_nonce_belongs_to_the_address_it_was_given_to() {
        let r = registry();
        let a: SocketAddr = "198.51.100.1:4000".parse().unwrap();
        let b: SocketAddr = "198.51.100.1:4001".parse().unwrap();
        r.nonce_issued("n".into(), a, Instant::now());
        assert!(!r.nonce_from_elsewhere("n", a));
        assert!(
            r.nonce_from_elsewhere("n", b),
            "another port is another client"
        );
        assert!(
            !r.nonce_from_elsewhere("unknown", b),
            "unknown nonces: the engine decides"
        );
        r.forget_nonce("n");
        assert!(!r.nonce_from_elsewhere("n", b));
    }

    #[test]
    fn issue16_request_budget_sweeps_are_amortised_and_bounded() {
        let r = registry();
        let t0 = Instant::now();
        // 40,000 sources within a second, all live: a sweep each time the count doubles,
        // not one per request past 10,000 as before.
        for i in 0..40_000u32 {
            let [_, a, b, c] = i.to_be_bytes();
            assert!(r.admit_request(IpAddr::from([198, a, b, c]), t0));
        }
        assert!(
            r.lock().request_budgets.sweeps <= 3,
            "{}",
            r.lock().request_budgets.sweeps
        );
        // A minute later the idle ones go in one sweep, and a known source still has its
        // own budget meanwhile.
        let later = t0 + BUDGET_IDLE + Duration::from_secs(1);
        assert!(r.admit_request("203.0.113.9".parse().unwrap(), later));
        assert_eq!(r.lock().request_budgets.each.len(), 1);
        // One IPv6 host is one source however many addresses of its /64 it uses.
        let burst = r.quotas.requests_per_sec_per_address * 2;
        let admitted = (0..burst * 2)
            .filter(|i| {
                let ip: IpAddr = format!("2001:db8:7::{:x}", i + 1).parse().unwrap();
                r.admit_request(ip, later)
            })
            .count();
        assert_eq!(admitted as u64, burst);
    }

    #[test]
    fn past_the_bound_new_sources_share_one_budget() {
        let mut b = Budgets::default();
        let t0 = Instant::now();
        for i in 0..MAX_BUDGETS as u32 {
            let [_, x, y, z] = i.to_be_bytes();
            assert!(b.take(IpAddr::from([10, x, y, z]), 5, t0));
        }
        assert_eq!(b.each.len(), MAX_BUDGETS);
        let shared = (0..100u8)
            .filter(|i| b.take(IpAddr::from([203, 0, 113, *i]), 5, t0))
            .count();
        assert_eq!(shared, 40, "one shared burst of 8 × the rate");
        assert_eq!(b.each.len(), MAX_BUDGETS, "the map did not grow");
    }

    #[test]
    fn stream_counts_are_capped_per_address_and_released() {
        let r = registry();
        let ip: IpAddr = "198.51.100.1".parse().unwrap();
        for _ in 0..r.quotas.streams_per_address {
            assert!(r.stream_opened(ip));
        }
        assert!(!r.stream_opened(ip));
        assert!(
            r.stream_opened("198.51.100.2".parse().unwrap()),
            "others unaffected"
        );
        r.stream_closed(ip);
        assert!(r.stream_opened(ip));
    }
}
