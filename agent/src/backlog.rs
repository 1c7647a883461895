//! What is still on its way to the viewer. IO-free, with time passed in.
//!
//! The round trip of RFC 3550 is measured from our sender reports, and those wait in the
//! same queue as the pictures: on a slow link with a deep buffer (weak 4G) it told of a
//! ten-second queue ten seconds late, long after the damage. A receiver report crosses
//! the other way, which carries almost nothing and has no queue, and says which of our
//! packets have arrived (the highest sequence number). [`SentLog`] keeps when each video
//! packet left and how big it was; at each report, the packets after the highest one
//! received are those still on the way: their bytes, and how long the oldest has been
//! travelling, tell the queue as it is now.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Packets remembered at most: far more than any queue holds (20 MB at full size), so a
/// viewer that stopped reporting cannot make the log grow without end.
const MAX_PACKETS: usize = 16_384;

/// One video packet as it left.
#[derive(Debug, Clone, Copy)]
struct Sent {
    at: Instant,
    seq: u16,
    bytes: u32,
}

/// Our video packets not yet known to have arrived.
#[derive(Debug, Default)]
pub struct SentLog {
    packets: VecDeque<Sent>,
    /// The newest sequence number logged; an older one is a retransmission.
    newest: Option<u16>,
}

/// What a receiver report says is still on the way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Backlog {
    /// Bytes sent after the highest packet received.
    pub bytes: u64,
    /// How long ago the oldest of them left; zero when nothing is on the way.
    pub oldest: Duration,
}

/// Whether sequence number `a` comes after `b`, across the 16-bit wrap.
fn after(a: u16, b: u16) -> bool {
    (a.wrapping_sub(b) as i16) > 0
}

impl SentLog {
    /// A video packet with sequence number `seq` and `bytes` of payload and headers left.
    pub fn on_sent(&mut self, at: Instant, seq: u16, bytes: usize) {
        // A NACK answered re-sends an old packet: it is already counted.
        if self.newest.is_some_and(|newest| !after(seq, newest)) {
            return;
        }
        self.newest = Some(seq);
        if self.packets.len() == MAX_PACKETS {
            self.packets.pop_front();
        }
        self.packets.push_back(Sent {
            at,
            seq,
            bytes: bytes.min(u32::MAX as usize) as u32,
        });
    }

    /// A receiver report at `now` says the highest sequence number received is `highest`
    /// (extended to 32 bits; the low 16 are the packet's); returns what is still on the way.
    pub fn on_report(&mut self, now: Instant, highest: u32) -> Backlog {
        let highest = highest as u16;
        while self.packets.front().is_some_and(|p| !after(p.seq, highest)) {
            self.packets.pop_front();
        }
        Backlog {
            bytes: self.packets.iter().map(|p| u64::from(p.bytes)).sum(),
            oldest: self
                .packets
                .front()
                .map_or(Duration::ZERO, |p| now.saturating_duration_since(p.at)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn packets_after_the_highest_received_are_on_the_way() {
        let t0 = Instant::now();
        let mut log = SentLog::default();
        for i in 0..10u16 {
            log.on_sent(t0 + u32::from(i) * 10 * MS, 100 + i, 1_000);
        }
        // The viewer has 100..=103: six packets left, the oldest (104) 40 ms after t0.
        let b = log.on_report(t0 + 500 * MS, 103);
        assert_eq!(b.bytes, 6_000);
        assert_eq!(b.oldest, 460 * MS);
        // A stale report changes nothing; a newer one empties the way.
        assert_eq!(log.on_report(t0 + 500 * MS, 101).bytes, 6_000);
        let b = log.on_report(t0 + 600 * MS, (1 << 16) | 109);
        assert_eq!(
            b,
            Backlog {
                bytes: 0,
                oldest: Duration::ZERO
            }
        );
    }

    #[test]
    fn sequence_numbers_wrap_and_resent_packets_count_once() {
        let t0 = Instant::now();
        let mut log = SentLog::default();
        for seq in [65_534u16, 65_535, 0, 1] {
            log.on_sent(t0, seq, 1_200);
        }
        // The viewer asked for 65 535 again: the resend is not a new packet.
        log.on_sent(t0 + 50 * MS, 65_535, 1_200);
        let b = log.on_report(t0 + 100 * MS, 65_535);
        assert_eq!(b.bytes, 2_400, "0 and 1 are on the way");
        assert_eq!(b.oldest, 100 * MS);
        assert_eq!(log.on_report(t0 + 100 * MS, (1 << 16) | 1).bytes, 0);
    }

    #[test]
    fn a_silent_viewer_cannot_grow_the_log_without_end() {
        let t0 = Instant::now();
        let mut log = SentLog::default();
        for i in 0..(MAX_PACKETS as u32 + 100) {
            log.on_sent(t0, i as u16, 1);
        }
        assert_eq!(log.packets.len(), MAX_PACKETS);
    }
}
