//! When to send an unchanged screen again: IO-free, driven by the capture loop's clock.
//!
//! A picture whose last packet is lost leaves the browser waiting: nothing after it shows
//! the gap, so nothing asks for the packet again. Re-sending the unchanged screen (a
//! picture of a few bytes that refers to the last one) shows the gap, the browser asks
//! for the packet (NACK) and gets it. Before this, an unchanged screen was re-sent every
//! second, which was most of a still screen's bytes and still left a lost last packet
//! unrepaired for up to a second.
//!
//! Now:
//! - on a link that lost packets lately (or in the first minute, before its reports
//!   said otherwise), a *probe* soon after each change
//!   ([`PROBE_AFTER`]), so a lost tail is repaired within that and a round trip;
//! - otherwise the unchanged screen goes again [`REFRESH_EVERY`] after the last picture.
//!   Not sparser: Chromium takes 3 s without a decodable picture, while packets still
//!   came in the last 5 s, for a broken stream and asks for a keyframe (a whole picture,
//!   30 KB on a 1080p form); a backoff to 16 s cost six keyframe requests in 30 s.

use std::time::{Duration, Instant};

/// The probe after a change, on a lossy link: longer than the gaps between the pictures
/// of typing (a letter every 200 ms or less), so continuous typing needs no probe; the
/// next letter's picture shows a gap just as well.
pub const PROBE_AFTER: Duration = Duration::from_millis(250);
/// An unchanged screen goes again this long after the last picture: under Chromium's
/// 3 s wait for a decodable picture, with room for a late capture.
pub const REFRESH_EVERY: Duration = Duration::from_millis(2500);
/// How long a receiver report's loss makes the link count as lossy.
pub const LOSSY_FOR: Duration = Duration::from_secs(60);

/// The refresh schedule of one share.
#[derive(Debug, Clone, Default)]
pub struct Refresh {
    /// When the unchanged screen is due again; `None` before the first picture.
    next: Option<Instant>,
    /// When the viewer last reported a loss.
    lost_at: Option<Instant>,
}

impl Refresh {
    /// A schedule with nothing sent yet, on a link taken as lossy until a minute of
    /// reports without loss (the first minute, with its keyframe, is when a tail lost
    /// to an unknown link hurts most).
    pub fn new(now: Instant) -> Self {
        Self {
            next: None,
            lost_at: Some(now),
        }
    }

    /// The viewer's receiver report said packets were lost since its last one.
    pub fn on_loss(&mut self, now: Instant) {
        self.lost_at = Some(now);
    }

    /// Whether the viewer reported a loss within [`LOSSY_FOR`].
    pub fn lossy(&self, now: Instant) -> bool {
        self.lost_at
            .is_some_and(|at| now.saturating_duration_since(at) < LOSSY_FOR)
    }

    /// Whether the unchanged screen should be sent now.
    pub fn due(&self, now: Instant) -> bool {
        self.next.is_some_and(|next| now >= next)
    }

    /// A picture went out. `refresh` says it was sent because it was due, not because
    /// the screen changed or a keyframe was asked for.
    pub fn on_sent(&mut self, now: Instant, refresh: bool) {
        let wait = if !refresh && self.lossy(now) {
            PROBE_AFTER
        } else {
            REFRESH_EVERY
        };
        self.next = Some(now + wait);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    /// The times at which an unchanged screen is re-sent after one change at `t0`,
    /// over `span`, polling every 8 ms as the capture loop does.
    fn refreshes(r: &mut Refresh, t0: Instant, span: Duration) -> Vec<Duration> {
        r.on_sent(t0, false);
        let mut out = Vec::new();
        let mut now = t0;
        while now < t0 + span {
            now += 8 * MS;
            if r.due(now) {
                r.on_sent(now, true);
                out.push(now - t0);
            }
        }
        out
    }

    #[test]
    fn nothing_is_due_before_the_first_picture() {
        let r = Refresh::default();
        assert!(!r.due(Instant::now() + Duration::from_secs(3600)));
    }

    #[test]
    fn a_loss_free_link_gets_a_refresh_every_two_and_a_half_seconds() {
        let t0 = Instant::now();
        let mut r = Refresh::default();
        let at = refreshes(&mut r, t0, Duration::from_secs(30));
        assert_eq!(at.len(), 11, "{at:?}");
        for w in at.windows(2) {
            let gap = w[1] - w[0];
            // Never 3 s without a picture (Chromium would ask for a keyframe).
            assert!(
                gap >= REFRESH_EVERY && gap < REFRESH_EVERY + 10 * MS,
                "{gap:?}"
            );
        }
    }

    #[test]
    fn a_lossy_link_gets_a_probe_soon_after_each_change() {
        let t0 = Instant::now();
        let mut r = Refresh::default();
        r.on_loss(t0);
        let at = refreshes(&mut r, t0, Duration::from_secs(6));
        assert!(
            at[0] >= PROBE_AFTER && at[0] < PROBE_AFTER + 10 * MS,
            "{at:?}"
        );
        // After the probe, the usual pace: a probe is only for a change.
        assert!(at[1] - at[0] >= REFRESH_EVERY, "{at:?}");
    }

    #[test]
    fn each_change_starts_the_schedule_again() {
        let t0 = Instant::now();
        let mut r = Refresh::default();
        r.on_loss(t0);
        let _ = refreshes(&mut r, t0, Duration::from_secs(9));
        let t1 = t0 + Duration::from_secs(10);
        r.on_sent(t1, false);
        assert!(!r.due(t1 + PROBE_AFTER - MS));
        assert!(r.due(t1 + PROBE_AFTER));
    }

    #[test]
    fn a_new_link_is_taken_as_lossy_for_a_minute() {
        let t0 = Instant::now();
        let r = Refresh::new(t0);
        assert!(r.lossy(t0 + LOSSY_FOR - MS));
        assert!(!r.lossy(t0 + LOSSY_FOR));
    }

    #[test]
    fn a_loss_counts_for_a_minute() {
        let t0 = Instant::now();
        let mut r = Refresh::default();
        assert!(!r.lossy(t0));
        r.on_loss(t0);
        assert!(r.lossy(t0 + LOSSY_FOR - MS));
        assert!(!r.lossy(t0 + LOSSY_FOR));
        r.on_sent(t0 + LOSSY_FOR, false);
        assert!(!r.due(t0 + LOSSY_FOR + PROBE_AFTER));
        assert!(r.due(t0 + LOSSY_FOR + REFRESH_EVERY));
    }
}
