//! Connection limits: how many signaling connections one address may hold, and how many
//! the relay holds in all. A flood from one address then cannot take the places of
//! everybody else's agents and caseworkers. An IPv6 "address" here is its /64: one host
//! is usually given a whole /64 and can pick a new address for every connection.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

/// Counts live connections per address and in total.
#[derive(Debug)]
pub struct ConnectionLimiter {
    per_address: u32,
    total: u32,
    live: Mutex<(HashMap<IpAddr, u32>, u32)>,
}

/// Why a connection was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// This address already holds its share.
    PerAddress,
    /// The relay holds as many connections as it may.
    Total,
}

/// A place held by one connection; dropping it frees the place.
#[derive(Debug)]
pub struct Permit {
    limiter: Arc<ConnectionLimiter>,
    addr: IpAddr,
}

/// What one source is counted as: an IPv4 address (an IPv4-mapped IPv6 address counts as
/// its IPv4), or the /64 of an IPv6 address.
pub fn source_key(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let bits = u128::from(v6) & !(u128::from(u64::MAX));
                IpAddr::V6(std::net::Ipv6Addr::from(bits))
            }
        },
    }
}

impl ConnectionLimiter {
    /// At most `per_address` connections from one address and `total` in all.
    pub fn new(per_address: u32, total: u32) -> Arc<Self> {
        Arc::new(Self {
            per_address,
            total,
            live: Mutex::new((HashMap::new(), 0)),
        })
    }

    /// Takes a place for a connection from `addr`, if there is one.
    pub fn admit(self: &Arc<Self>, addr: IpAddr) -> Result<Permit, Refusal> {
        let addr = source_key(addr);
        // Plain counters: a panic elsewhere cannot leave them half-updated.
        let mut live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        if live.1 >= self.total {
            return Err(Refusal::Total);
        }
        let count = live.0.entry(addr).or_insert(0);
        if *count >= self.per_address {
            return Err(Refusal::PerAddress);
        }
        *count += 1;
        live.1 += 1;
        Ok(Permit {
            limiter: Arc::clone(self),
            addr,
        })
    }

    /// Connections held now by `addr` (its /64 for IPv6).
    pub fn held_by(&self, addr: IpAddr) -> u32 {
        let addr = source_key(addr);
        let live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        live.0.get(&addr).copied().unwrap_or(0)
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut live = self
            .limiter
            .live
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = live.0.get_mut(&self.addr) {
            *count -= 1;
            if *count == 0 {
                live.0.remove(&self.addr);
            }
        }
        live.1 = live.1.saturating_sub(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u8) -> IpAddr {
        IpAddr::from([192, 0, 2, n])
    }

    #[test]
    fn one_address_gets_its_share_and_others_still_get_in() {
        let limiter = ConnectionLimiter::new(2, 10);
        let a1 = limiter.admit(ip(1)).unwrap();
        let _a2 = limiter.admit(ip(1)).unwrap();
        assert_eq!(limiter.admit(ip(1)).unwrap_err(), Refusal::PerAddress);
        assert!(
            limiter.admit(ip(2)).is_ok(),
            "another address is not affected"
        );
        drop(a1);
        assert!(
            limiter.admit(ip(1)).is_ok(),
            "a closed connection frees its place"
        );
    }

    #[test]
    fn the_total_is_a_ceiling_for_everyone() {
        let limiter = ConnectionLimiter::new(5, 3);
        let held: Vec<Permit> = (1..=3).map(|n| limiter.admit(ip(n)).unwrap()).collect();
        assert_eq!(limiter.admit(ip(9)).unwrap_err(), Refusal::Total);
        drop(held);
        assert_eq!(limiter.held_by(ip(1)), 0);
        assert!(limiter.admit(ip(9)).is_ok());
    }

    /// Issue 16 (5): one IPv6 host holds a whole /64 and can take a new address for every
    /// connection; the share is per /64, and an IPv4-mapped address counts as its IPv4.
    #[test]
    fn issue16_addresses_of_one_ipv6_64_share_one_place() {
        let v6 = |s: &str| s.parse::<IpAddr>().unwrap();
        let limiter = ConnectionLimiter::new(2, 10);
        let _a = limiter.admit(v6("2001:db8:1:2::1")).unwrap();
        let _b = limiter.admit(v6("2001:db8:1:2::2")).unwrap();
        assert_eq!(
            limiter.admit(v6("2001:db8:1:2:ffff::3")).unwrap_err(),
            Refusal::PerAddress
        );
        assert!(limiter.admit(v6("2001:db8:1:3::1")).is_ok(), "another /64");
        let _c = limiter.admit(ip(7)).unwrap();
        let _d = limiter.admit(ip(7)).unwrap();
        assert_eq!(
            limiter.admit(v6("::ffff:192.0.2.7")).unwrap_err(),
            Refusal::PerAddress
        );
    }
}
