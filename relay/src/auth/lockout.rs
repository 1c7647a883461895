//! Progressive lock-out after failed sign-ins, for one kind of key (see [`super::attempts`]
//! for the keys). IO-free.
//!
//! The first few failures are free (typos); after that each failure locks the key for a
//! wait that doubles, from 30 s up to an hour. A success clears the key; a key with no
//! failure for a day is forgotten. An online guesser thus gets about 35 tries a day per
//! account (see `docs/security.md`).

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Failures allowed before the first wait, for one login from one address.
pub const FREE_PER_ACCOUNT: u32 = 5;
/// The first wait.
pub const FIRST_WAIT: Duration = Duration::from_secs(30);
/// The longest wait.
pub const MAX_WAIT: Duration = Duration::from_secs(3600);
/// A key with no failure for this long starts afresh.
pub const FORGET_AFTER: Duration = Duration::from_secs(24 * 3600);

/// A key's count as relays sharing a database keep it: unix seconds instead of instants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shared {
    /// Failures counted.
    pub failures: u32,
    /// When the last one was, unix seconds.
    pub last: i64,
    /// Until when the key is locked, unix seconds.
    pub locked_until: Option<i64>,
}

#[derive(Debug, Clone)]
struct Entry {
    failures: u32,
    last: Instant,
    locked_until: Option<Instant>,
}

/// Failure counts for one kind of key.
#[derive(Debug)]
pub struct Lockout {
    free: u32,
    first: Duration,
    max: Duration,
    entries: HashMap<String, Entry>,
}

impl Lockout {
    /// A lock-out that lets `free` failures through before waits begin.
    pub fn new(free: u32) -> Self {
        Self::with_waits(free, FIRST_WAIT, MAX_WAIT)
    }

    /// The same with its own first and longest waits (a slow-down rather than a lock).
    pub fn with_waits(free: u32, first: Duration, max: Duration) -> Self {
        Self {
            free,
            first,
            max,
            entries: HashMap::new(),
        }
    }

    /// `Err(wait)` while `key` is locked.
    pub fn check(&self, now: Instant, key: &str) -> Result<(), Duration> {
        match self.entries.get(key).and_then(|e| e.locked_until) {
            Some(until) if until > now => Err(until - now),
            _ => Ok(()),
        }
    }

    /// Counts a failure; returns the wait it imposes, if any.
    pub fn failure(&mut self, now: Instant, key: &str) -> Option<Duration> {
        let entry = self.entries.entry(key.to_string()).or_insert(Entry {
            failures: 0,
            last: now,
            locked_until: None,
        });
        if now.duration_since(entry.last) >= FORGET_AFTER {
            entry.failures = 0;
        }
        entry.failures += 1;
        entry.last = now;
        if entry.failures < self.free {
            return None;
        }
        let doublings = (entry.failures - self.free).min(16);
        let wait = self.first.saturating_mul(1 << doublings).min(self.max);
        entry.locked_until = Some(now + wait);
        Some(wait)
    }

    /// A success: the key starts afresh.
    pub fn success(&mut self, key: &str) {
        self.entries.remove(key);
    }

    /// Takes back one failure counted in advance (the attempt turned out right); the
    /// lock it may have started is lifted once the count is under the free ones again.
    pub fn forgive(&mut self, key: &str) {
        let Some(entry) = self.entries.get_mut(key) else {
            return;
        };
        entry.failures = entry.failures.saturating_sub(1);
        if entry.failures < self.free {
            entry.locked_until = None;
        }
        if entry.failures == 0 {
            self.entries.remove(key);
        }
    }

    /// The count of `key` as other relays may take it in (`now` is `now_unix`).
    pub fn export(&self, key: &str, now: Instant, now_unix: i64) -> Option<Shared> {
        let e = self.entries.get(key)?;
        let unix = |t: Instant| {
            if t >= now {
                now_unix.saturating_add(secs(t - now))
            } else {
                now_unix.saturating_sub(secs(now - t))
            }
        };
        Some(Shared {
            failures: e.failures,
            last: unix(e.last),
            locked_until: e.locked_until.map(unix),
        })
    }

    /// Takes in another relay's count of `key` where it is ahead of this one's (more
    /// failures, a later lock): a guesser spreading tries over relays is counted as one.
    pub fn import(&mut self, key: &str, shared: Shared, now: Instant, now_unix: i64) {
        let at = |t: i64| {
            let d = Duration::from_secs(t.abs_diff(now_unix));
            if t >= now_unix {
                now.checked_add(d).unwrap_or(now)
            } else {
                now.checked_sub(d).unwrap_or(now)
            }
        };
        let entry = self.entries.entry(key.to_string()).or_insert(Entry {
            failures: 0,
            last: at(shared.last),
            locked_until: None,
        });
        if shared.failures > entry.failures {
            entry.failures = shared.failures;
            entry.last = entry.last.max(at(shared.last));
        }
        if let Some(until) = shared.locked_until.map(at) {
            entry.locked_until = Some(entry.locked_until.map_or(until, |mine| mine.max(until)));
        }
    }

    /// Forgets keys idle for a day.
    pub fn prune(&mut self, now: Instant) {
        self.entries
            .retain(|_, e| now.duration_since(e.last) < FORGET_AFTER);
    }
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_count_shared_by_another_relay_locks_here_too_and_the_larger_count_wins() {
        // Relay A: five failures of one key lock it for 30 s.
        let (t0, unix0) = (Instant::now(), 1_000_000);
        let mut a = Lockout::new(FREE_PER_ACCOUNT);
        for _ in 0..FREE_PER_ACCOUNT {
            a.failure(t0, "k");
        }
        let shared = a
            .export("k", t0, unix0)
            .unwrap_or_else(|| panic!("no count"));
        assert_eq!(
            shared,
            Shared {
                failures: 5,
                last: unix0,
                locked_until: Some(unix0 + 30)
            }
        );
        // Relay B, whose clock's instants differ: it takes the count in and is locked
        // for what is left of the 30 s, then its next failure doubles the wait.
        let t1 = t0 + Duration::from_secs(10);
        let mut b = Lockout::new(FREE_PER_ACCOUNT);
        b.failure(t1, "k");
        b.import("k", shared, t1, unix0 + 10);
        assert_eq!(b.check(t1, "k"), Err(Duration::from_secs(20)));
        assert_eq!(
            b.failure(t1 + Duration::from_secs(20), "k"),
            Some(Duration::from_secs(60))
        );
        // A smaller count from elsewhere changes nothing here.
        b.import(
            "k",
            Shared {
                failures: 1,
                last: unix0,
                locked_until: None,
            },
            t1,
            unix0 + 10,
        );
        assert_eq!(b.export("k", t1, unix0 + 10).map(|s| s.failures), Some(6));
        assert_eq!(b.export("nobody", t1, unix0 + 10), None);
    }

    #[test]
    fn waits_begin_after_the_free_failures_and_double() {
        let t0 = Instant::now();
        let mut l = Lockout::new(FREE_PER_ACCOUNT);
        for _ in 0..FREE_PER_ACCOUNT - 1 {
            assert_eq!(l.failure(t0, "marie"), None);
            assert_eq!(l.check(t0, "marie"), Ok(()));
        }
        assert_eq!(l.failure(t0, "marie"), Some(FIRST_WAIT));
        assert_eq!(l.check(t0, "marie"), Err(FIRST_WAIT));
        let t1 = t0 + Duration::from_secs(10);
        assert_eq!(l.check(t1, "marie"), Err(Duration::from_secs(20)));
        let t2 = t0 + FIRST_WAIT;
        assert_eq!(l.check(t2, "marie"), Ok(()));
        assert_eq!(l.failure(t2, "marie"), Some(FIRST_WAIT * 2));
        // Other keys are untouched.
        assert_eq!(l.check(t2, "paul"), Ok(()));
    }

    #[test]
    fn waits_are_capped_and_success_clears() {
        let t0 = Instant::now();
        let mut l = Lockout::new(1);
        let mut last = None;
        for _ in 0..40 {
            last = l.failure(t0, "k");
        }
        assert_eq!(last, Some(MAX_WAIT));
        l.success("k");
        assert_eq!(l.check(t0, "k"), Ok(()));
    }

    #[test]
    fn a_guesser_gets_about_thirty_five_tries_a_day() {
        let t0 = Instant::now();
        let mut l = Lockout::new(FREE_PER_ACCOUNT);
        let mut now = t0;
        let mut tries = 0;
        while now < t0 + Duration::from_secs(24 * 3600) {
            match l.check(now, "marie") {
                Ok(()) => {
                    tries += 1;
                    l.failure(now, "marie");
                }
                Err(wait) => now += wait,
            }
        }
        assert!((30..=40).contains(&tries), "{tries}");
    }

    #[test]
    fn forgiving_the_failure_that_locked_lifts_the_lock() {
        let t0 = Instant::now();
        let mut l = Lockout::with_waits(2, Duration::from_secs(1), Duration::from_secs(60));
        assert_eq!(l.failure(t0, "k"), None);
        assert_eq!(l.failure(t0, "k"), Some(Duration::from_secs(1)));
        l.forgive("k");
        assert_eq!(l.check(t0, "k"), Ok(()));
        l.forgive("k");
        assert!(l.entries.is_empty());
    }

    #[test]
    fn a_quiet_day_forgets() {
        let t0 = Instant::now();
        let mut l = Lockout::new(2);
        l.failure(t0, "k");
        l.failure(t0, "k");
        let later = t0 + FORGET_AFTER;
        assert_eq!(l.failure(later, "k"), None);
        l.prune(later + FORGET_AFTER);
        assert!(l.entries.is_empty());
    }
}
