//! Which sessions may use TURN right now, what each holds, and the credential check the
//! TURN engine calls. The signaling driver opens a session here when it is paired and
//! closes it when it ends; from that moment its credentials are refused and its
//! allocations are deleted.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use turn::auth::{AuthHandler, generate_auth_key};

use super::TurnStats;
use super::creds::{self, CREDENTIAL_TTL, Credentials, Side, TurnSecret};
use super::policy::{Bucket, PeerPolicy, Quotas, Refusal};
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
    pub bucket: Mutex<Bucket>,
    usernames: Mutex<HashSet<String>>,
}

#[derive(Debug, Default)]
struct Inner {
    sessions: HashMap<String, Arc<SessionState>>,
    conns: HashMap<ConnId, (String, Side)>,
    relay_ports: HashSet<u16>,
    request_budgets: HashMap<IpAddr, Bucket>,
    streams: HashMap<IpAddr, u32>,
    /// Which address each nonce was handed to, and when.
    nonces: HashMap<String, (SocketAddr, Instant)>,
}

/// The TURN side of the relay's sessions: shared by the listeners, the engine's auth
/// hook, the relay sockets and the signaling driver.
#[derive(Debug)]
pub struct Registry {
    inner: Mutex<Inner>,
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
        let state = Arc::new(SessionState {
            revoked: AtomicBool::new(false),
            allocations: AtomicU32::new(0),
            bucket: Mutex::new(Bucket::new(
                self.quotas.bytes_per_sec_per_session,
                Quotas::burst_bytes(self.quotas.bytes_per_sec_per_session),
                Instant::now(),
            )),
            usernames: Mutex::default(),
        });
        let mut inner = self.lock();
        // Opened again when a side resumes on a new connection: the session keeps its
        // state (allocations, revocation), only its connections change.
        inner.sessions.entry(session.to_string()).or_insert(state);
        inner.conns.retain(|_, (s, _)| s != session);
        inner
            .conns
            .insert(agent, (session.to_string(), Side::Agent));
        inner
            .conns
            .insert(viewer, (session.to_string(), Side::Viewer));
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

    /// Takes one request from `src`'s budget.
    pub fn admit_request(&self, src: IpAddr, now: Instant) -> bool {
        let rate = self.quotas.requests_per_sec_per_address;
        let mut inner = self.lock();
        if inner.request_budgets.len() > 10_000 {
            inner
                .request_budgets
                .retain(|_, b| !b.idle_for(BUDGET_IDLE, now));
        }
        inner
            .request_budgets
            .entry(src)
            .or_insert_with(|| Bucket::new(rate, rate * 2, now))
            .take(1, now)
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

    /// Records a relay port as live (for relayed↔relayed pairs through our own address).
    pub fn add_relay_port(&self, port: u16) {
        self.lock().relay_ports.insert(port);
    }

    /// Forgets a relay port.
    pub fn remove_relay_port(&self, port: u16) {
        self.lock().relay_ports.remove(&port);
    }

    /// Whether `port` is one of our live relay ports.
    pub fn is_relay_port(&self, port: u16) -> bool {
        self.lock().relay_ports.contains(&port)
    }

    /// The peer rule, with our own relay ports.
    pub fn peer_allowed(&self, peer: SocketAddr) -> Result<(), Refusal> {
        // Only a peer at one of our own addresses needs the port set, under the lock.
        let ip = peer.ip().to_canonical();
        if self.policy.own.iter().any(|o| o.to_canonical() == ip) {
            let inner = self.lock();
            return self.policy.check(peer, |p| inner.relay_ports.contains(&p));
        }
        self.policy.check(peer, |_| false)
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
