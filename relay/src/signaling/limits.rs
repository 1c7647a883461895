//! Limits on wrong session codes, per source address and per caseworker account. IO-free:
//! every call takes the current time. The numbers and the chance of guessing they leave
//! are worked out in `docs/security.md`.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Wrong codes accepted from one address within [`ADDR_WINDOW`].
pub const MAX_WRONG_PER_ADDR: usize = 5;
/// The window over which wrong codes from one address are counted.
pub const ADDR_WINDOW: Duration = Duration::from_secs(60);
/// Wrong codes one account may type within [`ACCOUNT_BURST_WINDOW`] (typos happen).
pub const MAX_WRONG_PER_ACCOUNT_BURST: usize = 3;
/// The short window for an account's wrong codes.
pub const ACCOUNT_BURST_WINDOW: Duration = Duration::from_secs(10 * 60);
/// Wrong codes one account may type within [`ACCOUNT_DAY`].
pub const MAX_WRONG_PER_ACCOUNT_DAY: usize = 10;
/// The long window for an account's wrong codes.
pub const ACCOUNT_DAY: Duration = Duration::from_secs(24 * 3600);

/// `session_created` records written per [`CREATED_WINDOW`] for agents that connect (no
/// account is needed to connect one, and each record is an fsync in the hub's task); the
/// others are counted into the next record written (`unwritten_before`), and a session
/// whose record was not written gets it when a caseworker pairs it (`late`).
pub const CREATED_PER_WINDOW: u32 = 30;
/// The window of [`CREATED_PER_WINDOW`].
pub const CREATED_WINDOW: Duration = Duration::from_secs(60);

/// Issue 16 item 5: how many `session_created` records went to the audit log this window
/// and how many were only counted.
#[derive(Debug, Default)]
pub struct CreatedReports {
    window: Option<Instant>,
    in_window: u32,
    unwritten: u64,
}

impl CreatedReports {
    /// Whether the record of a session just created is written now: if so, how many went
    /// unwritten before it; if not, it is counted.
    pub fn report(&mut self, now: Instant) -> Option<u64> {
        if self
            .window
            .is_none_or(|w| now.duration_since(w) >= CREATED_WINDOW)
        {
            self.window = Some(now);
            self.in_window = 0;
        }
        if self.in_window >= CREATED_PER_WINDOW {
            self.unwritten += 1;
            return None;
        }
        self.in_window += 1;
        Some(std::mem::take(&mut self.unwritten))
    }
}

/// Which limit refused a redeem, and how long until it lifts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limited {
    /// Too many wrong codes from this address.
    Address {
        /// Until the oldest counted failure leaves the window.
        wait: Duration,
    },
    /// Too many wrong codes from this account.
    Account {
        /// Until the account may try again.
        wait: Duration,
    },
}

impl Limited {
    /// `"address"` or `"account"`, for the audit log.
    pub fn scope(&self) -> &'static str {
        match self {
            Limited::Address { .. } => "address",
            Limited::Account { .. } => "account",
        }
    }

    /// How long until the limit lifts.
    pub fn wait(&self) -> Duration {
        match self {
            Limited::Address { wait } | Limited::Account { wait } => *wait,
        }
    }
}

/// Recent wrong codes by address and by account.
#[derive(Debug, Default)]
pub struct WrongCodeLimits {
    by_addr: HashMap<IpAddr, VecDeque<Instant>>,
    by_account: HashMap<String, VecDeque<Instant>>,
}

impl WrongCodeLimits {
    /// Whether a redeem from `addr` by `account` may be tried now.
    pub fn check(&mut self, now: Instant, addr: IpAddr, account: &str) -> Result<(), Limited> {
        self.prune(now);
        if let Some(times) = self.by_account.get(account) {
            if let Some(wait) = over(times, now, ACCOUNT_DAY, MAX_WRONG_PER_ACCOUNT_DAY) {
                return Err(Limited::Account { wait });
            }
            if let Some(wait) = over(
                times,
                now,
                ACCOUNT_BURST_WINDOW,
                MAX_WRONG_PER_ACCOUNT_BURST,
            ) {
                return Err(Limited::Account { wait });
            }
        }
        if let Some(times) = self.by_addr.get(&addr)
            && let Some(wait) = over(times, now, ADDR_WINDOW, MAX_WRONG_PER_ADDR)
        {
            return Err(Limited::Address { wait });
        }
        Ok(())
    }

    /// Counts a wrong code against both the address and the account.
    pub fn failed(&mut self, now: Instant, addr: IpAddr, account: &str) {
        self.by_addr.entry(addr).or_default().push_back(now);
        self.by_account
            .entry(account.to_string())
            .or_default()
            .push_back(now);
    }

    /// Counts against an account a wrong code typed at `at`, before a restart (read back
    /// from the audit log), so a restart gives a stolen account no fresh tries.
    pub fn restore_account(&mut self, at: Instant, account: &str) {
        self.by_account
            .entry(account.to_string())
            .or_default()
            .push_back(at);
    }

    /// Forgets failures older than the longest window.
    pub fn prune(&mut self, now: Instant) {
        self.by_addr.retain(|_, t| {
            t.retain(|t| now.duration_since(*t) < ADDR_WINDOW);
            !t.is_empty()
        });
        self.by_account.retain(|_, t| {
            t.retain(|t| now.duration_since(*t) < ACCOUNT_DAY);
            !t.is_empty()
        });
    }
}

/// If `times` holds `max` or more failures within `window` of `now`, how long until the
/// count drops below `max`.
fn over(times: &VecDeque<Instant>, now: Instant, window: Duration, max: usize) -> Option<Duration> {
    let recent: Vec<&Instant> = times
        .iter()
        .filter(|t| now.duration_since(**t) < window)
        .collect();
    if recent.len() < max {
        return None;
    }
    // The failure that must leave the window for the count to drop below `max`.
    let pivot = recent[recent.len() - max];
    Some((*pivot + window).saturating_duration_since(now))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn ip(n: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, n))
    }

    #[test]
    fn an_account_is_stopped_after_three_wrong_codes_whatever_its_addresses() {
        let t0 = Instant::now();
        let mut l = WrongCodeLimits::default();
        for n in 0..3u8 {
            assert_eq!(l.check(t0, ip(n), "eve"), Ok(()));
            l.failed(t0, ip(n), "eve");
        }
        // A fourth address does not help: the account is the limit.
        let e = l.check(t0, ip(9), "eve").unwrap_err();
        assert_eq!(
            e,
            Limited::Account {
                wait: ACCOUNT_BURST_WINDOW
            }
        );
        // Another caseworker from the same shelter address is not blocked.
        assert_eq!(l.check(t0, ip(0), "marie"), Ok(()));
        // Ten minutes later the burst limit lifts.
        assert_eq!(l.check(t0 + ACCOUNT_BURST_WINDOW, ip(9), "eve"), Ok(()));
    }

    #[test]
    fn an_account_gets_at_most_ten_wrong_codes_a_day() {
        let t0 = Instant::now();
        let mut l = WrongCodeLimits::default();
        let mut now = t0;
        let mut tried = 0;
        // An attacker retries as soon as allowed, from 100 addresses, for two days.
        while now < t0 + ACCOUNT_DAY {
            match l.check(now, ip((tried % 100) as u8), "eve") {
                Ok(()) => {
                    l.failed(now, ip((tried % 100) as u8), "eve");
                    tried += 1;
                }
                Err(e) => now += e.wait().max(Duration::from_secs(1)),
            }
        }
        assert_eq!(tried, MAX_WRONG_PER_ACCOUNT_DAY);
        assert!(matches!(
            l.check(t0 + ACCOUNT_DAY - Duration::from_secs(1), ip(1), "eve"),
            Err(Limited::Account { .. })
        ));
    }

    #[test]
    fn an_address_is_stopped_after_five_wrong_codes_a_minute() {
        let t0 = Instant::now();
        let mut l = WrongCodeLimits::default();
        for n in 0..5 {
            l.failed(t0, ip(1), &format!("user{n}"));
        }
        assert_eq!(
            l.check(t0, ip(1), "other"),
            Err(Limited::Address { wait: ADDR_WINDOW })
        );
        assert_eq!(l.check(t0 + ADDR_WINDOW, ip(1), "other"), Ok(()));
    }
}
