//! Web sessions behind the `__Host-acote_session` cookie. IO-free: tokens are made by the
//! caller ([`super::new_token`]) and time is passed in.
//!
//! Only the SHA-256 of a cookie is kept, so a memory dump holds no usable cookie. Each
//! session has its own CSRF token, which the viewer sends in the `x-csrf-token` header
//! of every state-changing request. Sessions live in memory and are written through to
//! the store (hash of the cookie only), so a relay restart does not sign anyone out in
//! the middle of helping a resident: `http/account.rs` reads a session back with
//! [`Sessions::restore`] when a cookie is not known in memory.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use subtle::ConstantTimeEq;

use super::token_hash;

/// A session unused for this long is over.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// No session lives longer than this, used or not.
pub const MAX_AGE: Duration = Duration::from_secs(12 * 3600);

/// One signed-in caseworker's session.
#[derive(Debug, Clone)]
pub struct WebSession {
    /// The account's login.
    pub login: String,
    /// The token the viewer must echo in `x-csrf-token`.
    pub csrf: String,
    created: Instant,
    last_seen: Instant,
}

impl WebSession {
    /// Whether `presented` is this session's CSRF token (constant-time).
    pub fn csrf_ok(&self, presented: &str) -> bool {
        bool::from(self.csrf.as_bytes().ct_eq(presented.as_bytes()))
    }
}

/// All live sessions.
#[derive(Debug, Default)]
pub struct Sessions {
    by_hash: HashMap<String, WebSession>,
}

impl Sessions {
    /// Starts a session for `login` under cookie value `token`.
    pub fn create(&mut self, now: Instant, login: &str, token: &str, csrf: String) {
        self.by_hash.insert(
            token_hash(token),
            WebSession {
                login: login.to_string(),
                csrf,
                created: now,
                last_seen: now,
            },
        );
    }

    /// Puts back a session read from the store, with its ages as they were (`idle` since
    /// last use, `age` since creation). A session already expired is not kept.
    pub fn restore(
        &mut self,
        now: Instant,
        token_hash: String,
        login: String,
        csrf: String,
        age: Duration,
        idle: Duration,
    ) {
        if idle >= IDLE_TIMEOUT || age >= MAX_AGE {
            return;
        }
        let (Some(created), Some(last_seen)) = (now.checked_sub(age), now.checked_sub(idle)) else {
            return;
        };
        self.by_hash.insert(
            token_hash,
            WebSession {
                login,
                csrf,
                created,
                last_seen,
            },
        );
    }

    /// Whether a cookie value has a session in memory (alive or not).
    pub fn knows(&self, token: &str) -> bool {
        self.by_hash.contains_key(&token_hash(token))
    }

    /// The live session for a cookie value, refreshing its idle timer.
    pub fn touch(&mut self, now: Instant, token: &str) -> Option<WebSession> {
        let key = token_hash(token);
        let alive = self.by_hash.get(&key).is_some_and(|s| {
            now.duration_since(s.last_seen) < IDLE_TIMEOUT
                && now.duration_since(s.created) < MAX_AGE
        });
        if !alive {
            self.by_hash.remove(&key);
            return None;
        }
        let session = self.by_hash.get_mut(&key)?;
        session.last_seen = now;
        Some(session.clone())
    }

    /// Ends the session of this cookie value, if any.
    pub fn remove(&mut self, token: &str) {
        self.by_hash.remove(&token_hash(token));
    }

    /// Ends every session of a login (its password was reset or set anew).
    pub fn remove_login(&mut self, login: &str) {
        self.by_hash.retain(|_, s| s.login != login);
    }

    /// Drops expired sessions.
    pub fn prune(&mut self, now: Instant) {
        self.by_hash.retain(|_, s| {
            now.duration_since(s.last_seen) < IDLE_TIMEOUT
                && now.duration_since(s.created) < MAX_AGE
        });
    }

    /// Number of live sessions (metrics, tests).
    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    /// True when nobody is signed in.
    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_expires_after_inactivity_and_activity_extends_it() {
        let t0 = Instant::now();
        let mut s = Sessions::default();
        s.create(t0, "marie", "tok", "csrf".into());
        let t1 = t0 + IDLE_TIMEOUT - Duration::from_secs(1);
        assert_eq!(s.touch(t1, "tok").unwrap().login, "marie");
        let t2 = t1 + IDLE_TIMEOUT - Duration::from_secs(1);
        assert!(s.touch(t2, "tok").is_some(), "used: still alive");
        assert!(s.touch(t2 + IDLE_TIMEOUT, "tok").is_none());
        assert!(s.is_empty(), "an expired session is dropped");
    }

    #[test]
    fn a_session_has_a_maximum_age() {
        let t0 = Instant::now();
        let mut s = Sessions::default();
        s.create(t0, "marie", "tok", "c".into());
        let mut now = t0;
        while now < t0 + MAX_AGE - IDLE_TIMEOUT {
            now += IDLE_TIMEOUT / 2;
            assert!(s.touch(now, "tok").is_some());
        }
        assert!(s.touch(t0 + MAX_AGE, "tok").is_none());
    }

    #[test]
    fn a_restored_session_keeps_its_ages() {
        let now = Instant::now() + MAX_AGE;
        let mut s = Sessions::default();
        let hash = token_hash("tok");
        s.restore(
            now,
            hash.clone(),
            "marie".into(),
            "c".into(),
            Duration::from_secs(3600),
            Duration::from_secs(60),
        );
        assert_eq!(s.touch(now, "tok").unwrap().login, "marie");
        s.restore(
            now,
            token_hash("idle"),
            "lea".into(),
            "c".into(),
            Duration::from_secs(3600),
            IDLE_TIMEOUT,
        );
        s.restore(
            now,
            token_hash("old"),
            "lea".into(),
            "c".into(),
            MAX_AGE,
            Duration::ZERO,
        );
        assert!(s.touch(now, "idle").is_none());
        assert!(s.touch(now, "old").is_none());
        // Restored 11 h 59 min old: one more minute of life, whatever the activity.
        s.restore(
            now,
            token_hash("late"),
            "lea".into(),
            "c".into(),
            MAX_AGE - Duration::from_secs(60),
            Duration::ZERO,
        );
        assert!(s.touch(now + Duration::from_secs(59), "late").is_some());
        assert!(s.touch(now + Duration::from_secs(60), "late").is_none());
    }

    #[test]
    fn forged_tokens_and_wrong_csrf_are_refused() {
        let t0 = Instant::now();
        let mut s = Sessions::default();
        s.create(t0, "marie", "tok", "csrf-1".into());
        assert!(s.touch(t0, "tok2").is_none());
        let session = s.touch(t0, "tok").unwrap();
        assert!(session.csrf_ok("csrf-1"));
        assert!(!session.csrf_ok("csrf-2"));
        assert!(!session.csrf_ok(""));
        s.remove("tok");
        assert!(
            s.touch(t0, "tok").is_none(),
            "signed out: the cookie is dead"
        );
    }
}
