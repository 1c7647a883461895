//! How sharp the next picture is. IO-free, with time passed in.
//!
//! Text stays sharp whenever the path keeps up: on loopback nothing here ever changes.
//! When the pacer held the capture after a picture longer than [`SLOW`] (fewer than five
//! pictures a second; a 1080p scroll at full sharpness is about 110 KB, a second on weak
//! 4G), the quantiser rises for the pictures after it, by as much as should bring that
//! hold under [`SLOW`] (six steps halve the bytes, roughly), up to [`COARSEST`]; when it
//! held less than [`QUICK`], it comes back two steps. What counts is how long the pacer
//! held, whatever held it (its rate, or what is on the way), so no estimate of the path
//! is needed. On a fast path whose speed no report has told yet, the first pictures of
//! a big motion may be held by the pacer's window and come out coarser for a moment.
//! A picture much smaller than the one the last hold was measured after (the clock in a
//! corner, between two pictures of a scroll) does not end the measure: the holds before
//! and after it are the big picture's cost, together.
//!
//! Once the screen has been still for [`SETTLE`], the unchanged screen goes once more at
//! the sharp quantiser, so the picture refines where it stopped: a resident reading a
//! form after a scroll sees it as sharp as if it had never moved. Still means the
//! capturer found nothing new when the pacer let it look: while the pacer holds pictures
//! back (a second at a time on weak 4G) the screen may well move.

use std::time::{Duration, Instant};

use crate::encode::SHARP_QUANTISER;

/// The coarsest quantiser a moving picture gets: blocky, but where things are on the page
/// still shows (at 40 a 1080p scroll was still 50 KB, two pictures a second on weak 4G).
pub const COARSEST: u8 = 46;
/// A hold after a picture longer than this: pictures too big for the path.
pub const SLOW: Duration = Duration::from_millis(200);
/// A hold shorter than this: room for more detail.
pub const QUICK: Duration = Duration::from_millis(60);
/// Still this long after a coarse picture: send the screen again, sharp.
pub const SETTLE: Duration = Duration::from_millis(400);
/// Quantiser steps that halve the bytes of a picture, roughly (H.264's scale).
const STEPS_PER_HALVING: f64 = 6.0;
/// The smallest rise, so a picture just over [`SLOW`] still brings a change.
const STEP_UP_MIN: u8 = 2;
/// The step back towards sharp when pictures are quick.
const STEP_DOWN: u8 = 2;
/// A picture under this share of the last measured one is small: its hold adds up with
/// the next.
const SMALL_SHARE: usize = 8;

/// The quantiser of the next pictures, and whether the screen shown is still coarse.
#[derive(Debug, Clone)]
pub struct Sharpness {
    quantiser: u8,
    /// A picture went out coarser than sharp since the last sharp refresh.
    blurred: bool,
    /// Since when the capturer has found nothing new, if it has not since the last change.
    still_since: Option<Instant>,
    /// How long the pacer held captures back since the last measured picture.
    held: Duration,
    /// How long since the last picture of any size.
    held_last: Duration,
    /// The last picture was the sharp refresh: the hold after it is its cost, not the
    /// path's verdict on moving pictures.
    after_sharpen: bool,
    /// Bytes of the picture the last hold was measured after (0: none since sharp).
    measured: usize,
}

impl Default for Sharpness {
    fn default() -> Self {
        Self {
            quantiser: SHARP_QUANTISER,
            blurred: false,
            still_since: None,
            held: Duration::ZERO,
            held_last: Duration::ZERO,
            after_sharpen: false,
            measured: 0,
        }
    }
}

impl Sharpness {
    /// The quantiser for the next picture of a change.
    pub fn quantiser(&self) -> u8 {
        self.quantiser
    }

    /// The pacer held the next capture back for `wait` (its rate, or too much on the way).
    pub fn on_held(&mut self, wait: Duration) {
        self.held += wait;
        self.held_last += wait;
    }

    /// A picture of `bytes` went out that was not the sharp refresh (a change, a
    /// keyframe, or an unchanged screen sent again), encoded at `quantiser`.
    pub fn on_sent(&mut self, quantiser: u8, bytes: usize) {
        if quantiser > SHARP_QUANTISER {
            self.blurred = true;
        }
        self.still_since = None;
        let held_last = std::mem::take(&mut self.held_last);
        if self.held <= SLOW
            && held_last >= QUICK
            && bytes.saturating_mul(SMALL_SHARE) < self.measured
        {
            // Small, and the pacer is still paying for the big one before it: keep
            // measuring. (Small and unheld is a letter typed: measured on its own.)
            return;
        }
        self.measured = bytes;
        let held = std::mem::take(&mut self.held);
        if !std::mem::take(&mut self.after_sharpen) {
            if held > SLOW {
                let halvings = (held.as_secs_f64() / SLOW.as_secs_f64()).log2();
                let up = (halvings * STEPS_PER_HALVING).ceil().clamp(0.0, 51.0) as u8;
                self.quantiser = (self.quantiser + up.max(STEP_UP_MIN)).min(COARSEST);
            } else if held < QUICK {
                self.quantiser = self
                    .quantiser
                    .saturating_sub(STEP_DOWN)
                    .max(SHARP_QUANTISER);
            }
        }
    }

    /// The capturer looked at `now` and found nothing new.
    pub fn on_still(&mut self, now: Instant) {
        self.still_since.get_or_insert(now);
    }

    /// Whether the still screen should go again at the sharp quantiser now.
    pub fn sharpen_due(&self, now: Instant) -> bool {
        self.blurred
            && self
                .still_since
                .is_some_and(|at| now.saturating_duration_since(at) >= SETTLE)
    }

    /// The screen went out sharp: what the viewer shows is sharp again, and the next
    /// change starts sharp (a letter typed after a scroll is crisp at once).
    pub fn on_sharpened(&mut self) {
        self.blurred = false;
        self.quantiser = SHARP_QUANTISER;
        self.held = Duration::ZERO;
        self.held_last = Duration::ZERO;
        self.measured = 0;
        self.after_sharpen = true;
        self.still_since = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    /// `pictures` pictures, the pacer holding the capture after each for `held`.
    fn moving(s: &mut Sharpness, held: Duration, pictures: u32) {
        for _ in 0..pictures {
            s.on_held(held / 2);
            s.on_held(held / 2);
            s.on_sent(s.quantiser(), 100_000);
        }
    }

    #[test]
    fn a_fast_path_keeps_every_picture_sharp() {
        let t0 = Instant::now();
        let mut s = Sharpness::default();
        // Scrolling on loopback: 110 KB pictures held 17 ms at 50 Mbit/s.
        moving(&mut s, 17 * MS, 30);
        assert_eq!(s.quantiser(), SHARP_QUANTISER);
        s.on_still(t0);
        assert!(!s.sharpen_due(t0 + Duration::from_secs(5)));
    }

    #[test]
    fn moving_on_a_slow_path_coarsens_then_still_sharpens_once() {
        let t0 = Instant::now();
        let mut s = Sharpness::default();
        s.on_sent(s.quantiser(), 100_000);
        // Weak 4G: the pacer held the capture after a picture 600 ms, three times too
        // long: 1.6 halvings, 10 steps.
        moving(&mut s, 600 * MS, 1);
        assert_eq!(s.quantiser(), SHARP_QUANTISER + 10);
        // Just too long (250 ms): the smallest step; then they fit (170 ms).
        moving(&mut s, 250 * MS, 1);
        assert_eq!(s.quantiser(), SHARP_QUANTISER + 12);
        moving(&mut s, 170 * MS, 5);
        assert_eq!(s.quantiser(), SHARP_QUANTISER + 12);
        // Still from t0: not yet, then the sharp refresh is due, once.
        s.on_still(t0);
        s.on_still(t0 + 100 * MS);
        assert!(!s.sharpen_due(t0 + 300 * MS));
        assert!(s.sharpen_due(t0 + SETTLE));
        s.on_sharpened();
        assert_eq!(s.quantiser(), SHARP_QUANTISER);
        s.on_still(t0 + Duration::from_secs(1));
        assert!(!s.sharpen_due(t0 + Duration::from_secs(10)));
        // The sharp refresh is big and holds the next capture: a letter typed then is
        // not made coarse for it.
        s.on_held(800 * MS);
        s.on_sent(s.quantiser(), 100_000);
        assert_eq!(s.quantiser(), SHARP_QUANTISER);
    }

    #[test]
    fn pictures_that_go_unheld_bring_the_detail_back_step_by_step() {
        let mut s = Sharpness::default();
        moving(&mut s, 3000 * MS, 1);
        assert_eq!(s.quantiser(), COARSEST, "never coarser than the coarsest");
        // The path got faster: the next capture is barely held.
        moving(&mut s, 20 * MS, 1);
        assert_eq!(s.quantiser(), COARSEST - 2);
        moving(&mut s, Duration::ZERO, 1);
        assert_eq!(s.quantiser(), COARSEST - 4);
    }

    #[test]
    fn a_small_picture_between_two_big_ones_does_not_split_the_hold() {
        let mut s = Sharpness::default();
        s.on_sent(s.quantiser(), 60_000);
        // A scroll with the clock changing between its pictures: 170 ms held after the
        // big picture, the clock's picture, 40 ms more, the next big one.
        for _ in 0..3 {
            s.on_held(170 * MS);
            s.on_sent(s.quantiser(), 900);
            s.on_held(40 * MS);
            s.on_sent(s.quantiser(), 60_000);
        }
        assert_eq!(
            s.quantiser(),
            SHARP_QUANTISER + 3 * STEP_UP_MIN,
            "210 ms per big picture: too slow, each time"
        );
        // Letters typed then, barely held, are measured on their own: many of them
        // never add up to a slow path, and each brings the detail back a step.
        moving_small(&mut s, 40);
        assert_eq!(s.quantiser(), SHARP_QUANTISER);
    }

    fn moving_small(s: &mut Sharpness, pictures: u32) {
        for _ in 0..pictures {
            s.on_held(10 * MS);
            s.on_sent(s.quantiser(), 500);
        }
    }
}
