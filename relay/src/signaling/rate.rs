//! The message budget of one signaling socket: a token bucket, with time passed in.
//! Signaling is a handful of messages a minute; a socket sending hundreds a second is
//! broken or hostile, and must not take the hub's time from everyone else.

use std::time::Instant;

/// A token bucket refilled at `rate` messages a second, holding at most `burst`.
#[derive(Debug, Clone)]
pub struct MessageBudget {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
    /// Messages refused since the last one allowed.
    refused_in_a_row: u32,
}

/// What to do with one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Within budget.
    Allow,
    /// Over budget: refuse it (tell the sender once).
    Refuse {
        /// True for the first refusal of a run, when the sender is told.
        first: bool,
    },
    /// Over budget for so long that the socket should be closed.
    Close,
}

impl MessageBudget {
    /// A full bucket at `now`.
    pub fn new(rate: u32, now: Instant) -> Self {
        let rate = f64::from(rate.max(1));
        // A burst of twice the rate absorbs an SDP exchange with its candidates.
        Self {
            rate,
            burst: rate * 2.0,
            tokens: rate * 2.0,
            last: now,
            refused_in_a_row: 0,
        }
    }

    /// Judges one message arriving at `now`.
    pub fn check(&mut self, now: Instant) -> Verdict {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            self.refused_in_a_row = 0;
            return Verdict::Allow;
        }
        self.refused_in_a_row += 1;
        // Ten seconds' worth of refused messages in a row: nobody well-behaved does that.
        if f64::from(self.refused_in_a_row) > self.rate * 10.0 {
            Verdict::Close
        } else {
            Verdict::Refuse {
                first: self.refused_in_a_row == 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_burst_passes_then_refusals_then_close() {
        let t0 = Instant::now();
        let mut b = MessageBudget::new(10, t0);
        for _ in 0..20 {
            assert_eq!(b.check(t0), Verdict::Allow);
        }
        assert_eq!(b.check(t0), Verdict::Refuse { first: true });
        assert_eq!(b.check(t0), Verdict::Refuse { first: false });
        let mut last = Verdict::Allow;
        for _ in 0..200 {
            last = b.check(t0);
        }
        assert_eq!(last, Verdict::Close);
    }

    #[test]
    fn time_refills_the_budget() {
        let t0 = Instant::now();
        let mut b = MessageBudget::new(10, t0);
        for _ in 0..20 {
            b.check(t0);
        }
        assert!(matches!(b.check(t0), Verdict::Refuse { .. }));
        assert_eq!(b.check(t0 + Duration::from_millis(100)), Verdict::Allow);
        // A steady 10 a second is always fine.
        let mut t = t0 + Duration::from_secs(5);
        for _ in 0..100 {
            t += Duration::from_millis(100);
            assert_eq!(b.check(t), Verdict::Allow);
        }
    }
}
