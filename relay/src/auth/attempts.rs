//! Which sign-in attempts get a password check at all. IO-free.
//!
//! Three counts, each a [`Lockout`]: per (login, address), the real lock-out (5 free
//! failures, then waits from 30 s doubling to an hour); per login from all addresses and
//! per address for all logins, a slow-down only (after more free failures, waits from
//! 1 s doubling to a minute), so that a stranger who knows a login, or one person behind
//! a shelter's NAT, cannot lock a caseworker out for long. An attempt is counted as a
//! failure *before* its password is checked (a success forgives it), and only one
//! attempt per login and one per address is checked at a time: attempts sent together
//! cannot all pass the check before the first failure is counted.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use super::lockout::{FREE_PER_ACCOUNT, Lockout, Shared};

/// Failures of one login from one address allowed before the first wait.
pub const FREE_PER_PAIR: u32 = FREE_PER_ACCOUNT;
/// Failures of one login from all addresses allowed before its slow-down begins.
pub const FREE_PER_LOGIN: u32 = 10;
/// Failures from one address, all logins together, allowed before its slow-down begins.
pub const FREE_PER_ADDRESS: u32 = 20;
/// The first wait of a slow-down.
pub const SLOW_FIRST: Duration = Duration::from_secs(1);
/// The longest wait of a slow-down: what a caseworker waits at worst when others guess.
pub const SLOW_MAX: Duration = Duration::from_secs(60);

/// A refusal for one (login, address) is written to the audit log at most this often.
pub const REPORT_EVERY: Duration = Duration::from_secs(60);
/// Refusals written to the audit log per [`REPORT_EVERY`] in all; the rest are counted
/// into the next one written (a flood cannot make the relay sync a row per request).
pub const REPORTS_PER_WINDOW: u32 = 30;

/// Why an attempt is not checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Locked or slowed down for this long.
    Locked(Duration),
    /// Another attempt for this login or from this address is being checked.
    Busy,
}

/// An attempt admitted for a password check; give it back to [`Attempts::finish`].
#[derive(Debug, PartialEq, Eq)]
pub struct Ticket {
    login: String,
    addr: IpAddr,
}

/// The sign-in counts and the attempts in flight.
#[derive(Debug)]
pub struct Attempts {
    by_pair: Lockout,
    by_login: Lockout,
    by_addr: Lockout,
    busy_logins: HashSet<String>,
    busy_addrs: HashSet<IpAddr>,
    reports: Reports,
}

/// Which lock-out refusals are written to the audit log.
#[derive(Debug, Default)]
struct Reports {
    last: HashMap<String, Instant>,
    window: Option<Instant>,
    in_window: u32,
    unwritten: u64,
}

impl Default for Attempts {
    fn default() -> Self {
        Self {
            by_pair: Lockout::new(FREE_PER_PAIR),
            by_login: Lockout::with_waits(FREE_PER_LOGIN, SLOW_FIRST, SLOW_MAX),
            by_addr: Lockout::with_waits(FREE_PER_ADDRESS, SLOW_FIRST, SLOW_MAX),
            busy_logins: HashSet::new(),
            busy_addrs: HashSet::new(),
            reports: Reports::default(),
        }
    }
}

/// Which of the three counts a shared count belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    /// One login from one address (the lock-out).
    Pair,
    /// One login from everywhere (a slow-down).
    Login,
    /// One address for every login (a slow-down).
    Address,
}

impl Count {
    /// Its name in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Count::Pair => "pair",
            Count::Login => "login",
            Count::Address => "address",
        }
    }
}

fn pair_key(login: &str, addr: IpAddr) -> String {
    // An address never holds a space, so splitting at the first one gives both back.
    format!("{addr} {login}")
}

impl Attempts {
    /// Admits an attempt for a password check, counting it as a failure already, or
    /// says why not.
    pub fn begin(&mut self, now: Instant, login: &str, addr: IpAddr) -> Result<Ticket, Refusal> {
        if self.busy_logins.contains(login) || self.busy_addrs.contains(&addr) {
            return Err(Refusal::Busy);
        }
        let pair = pair_key(login, addr);
        let addr_key = addr.to_string();
        let wait = [
            self.by_pair.check(now, &pair),
            self.by_login.check(now, login),
            self.by_addr.check(now, &addr_key),
        ]
        .into_iter()
        .filter_map(Result::err)
        .max();
        if let Some(wait) = wait {
            return Err(Refusal::Locked(wait));
        }
        self.by_pair.failure(now, &pair);
        self.by_login.failure(now, login);
        self.by_addr.failure(now, &addr_key);
        self.busy_logins.insert(login.to_string());
        self.busy_addrs.insert(addr);
        Ok(Ticket {
            login: login.to_string(),
            addr,
        })
    }

    /// The password matched: that address starts afresh for that login, and the
    /// failure counted in advance is forgiven.
    pub fn succeeded(&mut self, ticket: &Ticket) {
        self.by_pair.success(&pair_key(&ticket.login, ticket.addr));
        self.by_login.forgive(&ticket.login);
        self.by_addr.forgive(&ticket.addr.to_string());
    }

    /// The passkey asked after a matching password answered: the failure counted in
    /// advance for that password is forgiven (until then it stands, so failed passkeys
    /// lock out as wrong passwords do).
    pub fn passkey_succeeded(&mut self, login: &str, addr: IpAddr) {
        self.succeeded(&Ticket {
            login: login.to_string(),
            addr,
        });
    }

    /// The check is over (whatever its outcome): the next attempt may go.
    pub fn finish(&mut self, ticket: Ticket) {
        self.busy_logins.remove(&ticket.login);
        self.busy_addrs.remove(&ticket.addr);
    }

    /// A locked attempt was refused: whether to write it to the audit log, and if so
    /// how many refusals went unwritten before it.
    pub fn report_refusal(&mut self, now: Instant, login: &str, addr: IpAddr) -> Option<u64> {
        let r = &mut self.reports;
        let key = pair_key(login, addr);
        let recent = r
            .last
            .get(&key)
            .is_some_and(|t| now.duration_since(*t) < REPORT_EVERY);
        if r.window
            .is_none_or(|w| now.duration_since(w) >= REPORT_EVERY)
        {
            r.window = Some(now);
            r.in_window = 0;
        }
        if recent || r.in_window >= REPORTS_PER_WINDOW {
            r.unwritten += 1;
            return None;
        }
        r.in_window += 1;
        r.last.insert(key, now);
        Some(std::mem::take(&mut r.unwritten))
    }

    /// The three counts an attempt of `login` from `addr` touches, with their keys.
    pub fn counts_of(login: &str, addr: IpAddr) -> [(Count, String); 3] {
        [
            (Count::Pair, pair_key(login, addr)),
            (Count::Login, login.to_string()),
            (Count::Address, addr.to_string()),
        ]
    }

    fn lockout(&mut self, count: Count) -> &mut Lockout {
        match count {
            Count::Pair => &mut self.by_pair,
            Count::Login => &mut self.by_login,
            Count::Address => &mut self.by_addr,
        }
    }

    /// This relay's value of one count, for the relays sharing its database.
    pub fn export(
        &mut self,
        count: Count,
        key: &str,
        now: Instant,
        now_unix: i64,
    ) -> Option<Shared> {
        self.lockout(count).export(key, now, now_unix)
    }

    /// Takes in the value the relays sharing the database hold for one count.
    pub fn import(&mut self, count: Count, key: &str, shared: Shared, now: Instant, now_unix: i64) {
        self.lockout(count).import(key, shared, now, now_unix);
    }

    /// Forgets counts idle for a day.
    pub fn prune(&mut self, now: Instant) {
        self.reports
            .last
            .retain(|_, t| now.duration_since(*t) < REPORT_EVERY);
        self.by_pair.prune(now);
        self.by_login.prune(now);
        self.by_addr.prune(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }

    #[test]
    fn one_attempt_per_login_and_per_address_at_a_time() {
        let t0 = Instant::now();
        let mut a = Attempts::default();
        let first = a.begin(t0, "marie", ip("192.0.2.1"));
        assert!(first.is_ok());
        assert_eq!(a.begin(t0, "marie", ip("192.0.2.2")), Err(Refusal::Busy));
        assert_eq!(a.begin(t0, "paul", ip("192.0.2.1")), Err(Refusal::Busy));
        assert!(a.begin(t0, "paul", ip("192.0.2.2")).is_ok());
        if let Ok(t) = first {
            a.finish(t);
        }
        assert!(a.begin(t0, "marie", ip("192.0.2.3")).is_ok());
    }

    #[test]
    fn a_pair_is_locked_after_five_and_other_addresses_still_get_in() {
        let t0 = Instant::now();
        let mut a = Attempts::default();
        let attacker = ip("203.0.113.7");
        for _ in 0..FREE_PER_PAIR {
            let t = a.begin(t0, "marie", attacker);
            assert!(t.is_ok());
            if let Ok(t) = t {
                a.finish(t);
            }
        }
        assert!(matches!(
            a.begin(t0, "marie", attacker),
            Err(Refusal::Locked(_))
        ));
        let t = a.begin(t0, "marie", ip("198.51.100.20"));
        assert!(t.is_ok());
        if let Ok(t) = t {
            a.succeeded(&t);
            a.finish(t);
        }
        assert!(matches!(
            a.begin(t0, "marie", attacker),
            Err(Refusal::Locked(_))
        ));
    }

    #[test]
    fn many_addresses_only_slow_a_login_down() {
        let t0 = Instant::now();
        let mut a = Attempts::default();
        let mut now = t0;
        let mut checked = 0u32;
        let mut longest = Duration::ZERO;
        // A guesser with a fresh address for every try, for a day.
        let mut n = 0u32;
        while now < t0 + Duration::from_secs(24 * 3600) {
            n += 1;
            let addr = IpAddr::from(n.to_be_bytes());
            match a.begin(now, "marie", addr) {
                Ok(t) => {
                    checked += 1;
                    a.finish(t);
                }
                Err(Refusal::Locked(wait)) => {
                    longest = longest.max(wait);
                    now += wait;
                }
                Err(Refusal::Busy) => unreachable!("nothing in flight"),
            }
        }
        assert!(longest <= SLOW_MAX, "{longest:?}");
        // At most about one check a minute once the free failures are spent.
        assert!(checked <= 1_440 + FREE_PER_LOGIN * 2, "{checked}");
    }

    #[test]
    fn a_success_forgives_the_failure_counted_in_advance() {
        let t0 = Instant::now();
        let mut a = Attempts::default();
        for i in 0..FREE_PER_LOGIN + 5 {
            let addr = IpAddr::from([10, 0, 0, u8::try_from(i).unwrap_or(0)]);
            let t = a.begin(t0, "marie", addr);
            assert!(t.is_ok(), "{i}");
            if let Ok(t) = t {
                a.succeeded(&t);
                a.finish(t);
            }
        }
    }

    #[test]
    fn refusals_are_written_once_a_minute_per_pair_and_thirty_in_all() {
        let t0 = Instant::now();
        let mut a = Attempts::default();
        let attacker = ip("203.0.113.7");
        assert_eq!(a.report_refusal(t0, "marie", attacker), Some(0));
        for _ in 0..10 {
            assert_eq!(a.report_refusal(t0, "marie", attacker), None);
        }
        let later = t0 + REPORT_EVERY;
        assert_eq!(a.report_refusal(later, "marie", attacker), Some(10));
        // Many pairs: thirty a minute are written, the rest counted.
        let written = (0..100u32)
            .filter(|n| {
                a.report_refusal(later, "marie", IpAddr::from(n.to_be_bytes()))
                    .is_some()
            })
            .count();
        assert_eq!(written, REPORTS_PER_WINDOW as usize - 1);
    }
}
