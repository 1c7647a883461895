//! Noticing that the agent itself was not running (laptop asleep, process stopped): IO-free,
//! with both clocks passed in, so "no control survives a stall" is tested in virtual time.

use std::time::{Duration, Instant, SystemTime};

use acote_proto::channel::ControlState;

/// A gap this long between two turns of the event loop means the agent was not running:
/// control is taken back before anything queued meanwhile is handled.
pub const STALL: Duration = Duration::from_secs(10);

/// When the event loop last turned (it turns at least every 250 ms), on both clocks: the
/// monotonic one stops during a system suspend, the wall clock does not.
#[derive(Debug, Clone, Copy)]
pub struct StallWatch {
    last: (Instant, SystemTime),
}

impl StallWatch {
    /// A watch whose last turn is now.
    pub fn new(mono: Instant, wall: SystemTime) -> Self {
        Self { last: (mono, wall) }
    }

    /// One turn of the loop at (`mono`, `wall`), with control as it stands: the gap since
    /// the previous turn when it was a stall and control (held, or being asked for) must
    /// be taken back. The view consent stands either way.
    pub fn turn(
        &mut self,
        mono: Instant,
        wall: SystemTime,
        control: Option<ControlState>,
    ) -> Option<Duration> {
        let (last_mono, last_wall) = std::mem::replace(&mut self.last, (mono, wall));
        // A wall clock set back gives no gap; the monotonic clock still counts.
        let gap = mono
            .duration_since(last_mono)
            .max(wall.duration_since(last_wall).unwrap_or_default());
        let held = matches!(
            control,
            Some(ControlState::Controlling | ControlState::Asking)
        );
        (gap >= STALL && held).then_some(gap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONTROLLING: Option<ControlState> = Some(ControlState::Controlling);

    fn watch() -> (StallWatch, Instant, SystemTime) {
        let (m, w) = (
            Instant::now(),
            SystemTime::UNIX_EPOCH + Duration::from_secs(1 << 30),
        );
        (StallWatch::new(m, w), m, w)
    }

    #[test]
    fn turns_of_the_loop_are_no_stall() {
        let (mut s, m, w) = watch();
        for i in 1..100u32 {
            let step = Duration::from_millis(250) * i;
            assert_eq!(s.turn(m + step, w + step, CONTROLLING), None);
        }
    }

    #[test]
    fn a_stopped_process_takes_control_back() {
        let (mut s, m, w) = watch();
        let gap = Duration::from_secs(30);
        assert_eq!(s.turn(m + gap, w + gap, CONTROLLING), Some(gap));
        // Once: the next turn is a normal one.
        let next = gap + Duration::from_millis(250);
        assert_eq!(s.turn(m + next, w + next, CONTROLLING), None);
    }

    #[test]
    fn a_suspend_seen_only_by_the_wall_clock_counts() {
        let (mut s, m, w) = watch();
        // The monotonic clock stood still while the laptop slept for an hour.
        let slept = Duration::from_secs(3600);
        let tick = Duration::from_millis(250);
        assert_eq!(
            s.turn(m + tick, w + slept, Some(ControlState::Asking)),
            Some(slept)
        );
    }

    #[test]
    fn a_wall_clock_set_back_is_no_stall_and_no_panic() {
        let (mut s, m, w) = watch();
        let tick = Duration::from_millis(250);
        let back = w - Duration::from_secs(7200);
        assert_eq!(s.turn(m + tick, back, CONTROLLING), None);
    }

    #[test]
    fn without_control_a_stall_changes_nothing() {
        let (mut s, m, w) = watch();
        let gap = Duration::from_secs(60);
        for state in [None, Some(ControlState::Viewing)] {
            let (mut s2, m2, w2) = (s, m, w);
            assert_eq!(s2.turn(m2 + gap, w2 + gap, state), None, "{state:?}");
        }
        assert_eq!(s.turn(m + gap, w + gap, CONTROLLING), Some(gap));
    }
}
