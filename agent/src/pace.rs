//! Send pacing from the browser's congestion feedback. IO-free, with time passed in.
//!
//! The [`Pacer`] keeps a byte budget (a leaky bucket) that drains at a target rate: each
//! encoded frame adds its size, and the next frame may be captured only once the debt is
//! paid. A big frame (a keyframe) therefore delays the frames after it, so on a slow link
//! the frame rate drops while every frame keeps its full quality (forms stay sharp).
//! The target is the lowest of the browser's REMB estimate, a rate lowered on packet loss
//! and the low-data cap. [`Feedback`] carries what the RTCP reader task hears to the
//! capture thread.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Target when nothing limits it (no REMB yet, loopback): high enough that nothing waits.
pub const MAX_RATE: u64 = 50_000_000;
/// The target never goes below this, so a picture always comes through eventually.
pub const MIN_RATE: u64 = 64_000;
/// The low-data cap, in bits per second.
pub const LOW_DATA_RATE: u64 = 150_000;
/// The low-data frame interval (at most 5 frames per second).
pub const LOW_DATA_INTERVAL: Duration = Duration::from_millis(200);
/// Loss above this fraction lowers the rate.
const LOSS_HIGH: f64 = 0.10;
/// Loss below this fraction lets a loss-lowered rate grow back.
const LOSS_LOW: f64 = 0.02;
/// Growth of a loss-lowered rate per report without loss.
const LOSS_RECOVERY: f64 = 1.08;

/// Decides when the next frame may be captured and encoded.
#[derive(Debug, Clone)]
pub struct Pacer {
    remb: Option<u64>,
    loss_rate: u64,
    low_data: bool,
    /// Bytes sent and not yet paid for by time at the target rate.
    debt: f64,
    /// When `debt` was last brought up to date.
    at: Instant,
    last_sent: Option<Instant>,
    /// Feedback reports already taken from [`Feedback`].
    seen_reports: u64,
}

impl Pacer {
    /// A pacer with nothing sent and no feedback yet.
    pub fn new(now: Instant) -> Self {
        Self {
            remb: None,
            loss_rate: MAX_RATE,
            low_data: false,
            debt: 0.0,
            at: now,
            last_sent: None,
            seen_reports: 0,
        }
    }

    /// The rate frames are paced at now, in bits per second.
    pub fn target_bps(&self) -> u64 {
        let mut rate = self.remb.unwrap_or(MAX_RATE).min(self.loss_rate);
        if self.low_data {
            rate = rate.min(LOW_DATA_RATE);
        }
        rate.max(MIN_RATE)
    }

    /// Whether low data is on.
    pub fn low_data(&self) -> bool {
        self.low_data
    }

    /// The browser's REMB estimate arrived.
    pub fn on_remb(&mut self, now: Instant, bps: u64) {
        self.drain(now);
        self.remb = Some(bps);
    }

    /// A receiver report: `fraction_lost` is RTCP's loss since the last report, in 256ths.
    pub fn on_loss(&mut self, now: Instant, fraction_lost: u8) {
        self.drain(now);
        let loss = f64::from(fraction_lost) / 256.0;
        if loss > LOSS_HIGH {
            // As in Google congestion control: cut in proportion to the loss.
            let cut = self.target_bps() as f64 * (1.0 - 0.5 * loss);
            self.loss_rate = (cut as u64).max(MIN_RATE);
        } else if loss < LOSS_LOW {
            let grown = self.loss_rate as f64 * LOSS_RECOVERY;
            self.loss_rate = (grown as u64).min(MAX_RATE);
        }
    }

    /// Low data switched on or off by the caseworker.
    pub fn set_low_data(&mut self, now: Instant, on: bool) {
        self.drain(now);
        self.low_data = on;
    }

    /// A frame of `bytes` was encoded and handed to the transport.
    pub fn on_sent(&mut self, now: Instant, bytes: usize) {
        self.drain(now);
        self.debt += bytes as f64;
        self.last_sent = Some(now);
    }

    /// When the next frame may be captured (now or earlier: at once).
    pub fn ready_at(&self, now: Instant) -> Instant {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        let rate = self.target_bps() as f64 / 8.0;
        let debt = self.debt - elapsed * rate;
        // Within a byte counts as paid (float rounding).
        let paid = if debt > 1.0 {
            now + Duration::from_secs_f64(debt / rate)
        } else {
            now
        };
        match self.last_sent {
            Some(last) if self.low_data => paid.max(last + LOW_DATA_INTERVAL),
            _ => paid,
        }
    }

    /// Whether a frame may be captured now.
    pub fn may_send(&self, now: Instant) -> bool {
        self.ready_at(now) <= now
    }

    /// Takes what the RTCP reader and the data channel reported since the last call.
    pub fn observe(&mut self, now: Instant, feedback: &Feedback) {
        let low = feedback.low_data.load(Ordering::Relaxed);
        if low != self.low_data {
            self.set_low_data(now, low);
        }
        let remb = feedback.remb.load(Ordering::Relaxed);
        if remb > 0 && self.remb != Some(remb) {
            self.on_remb(now, remb);
        }
        let loss = feedback.loss.load(Ordering::Relaxed);
        let reports = loss >> 8;
        if reports != self.seen_reports {
            self.seen_reports = reports;
            // Reports in between are lost to this read; the latest one counts.
            self.on_loss(now, (loss & 0xff) as u8);
        }
    }

    fn drain(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.debt = (self.debt - elapsed * self.target_bps() as f64 / 8.0).max(0.0);
        self.at = self.at.max(now);
    }
}

/// What the RTCP reader and the data channel tell the capture thread, lock-free.
#[derive(Debug, Default)]
pub struct Feedback {
    /// The latest REMB estimate in bits per second; 0 before the first.
    remb: AtomicU64,
    /// `(reports << 8) | fraction_lost` of the latest receiver report.
    loss: AtomicU64,
    low_data: AtomicBool,
    /// The viewer asked for a keyframe (PLI/FIR).
    keyframe: AtomicBool,
}

impl Feedback {
    /// The viewer lost the picture and asks for a keyframe.
    pub fn want_keyframe(&self) {
        self.keyframe.store(true, Ordering::Relaxed);
    }

    /// Whether a keyframe was asked for since the last call.
    pub fn take_keyframe_request(&self) -> bool {
        self.keyframe.swap(false, Ordering::Relaxed)
    }

    /// Records a REMB estimate; returns the previous one (0 if none).
    pub fn set_remb(&self, bps: u64) -> u64 {
        self.remb.swap(bps.max(1), Ordering::Relaxed)
    }

    /// Records a receiver report's loss fraction (in 256ths).
    pub fn add_loss_report(&self, fraction_lost: u8) {
        let reports = (self.loss.load(Ordering::Relaxed) >> 8) + 1;
        self.loss
            .store((reports << 8) | u64::from(fraction_lost), Ordering::Relaxed);
    }

    /// Switches low data on or off.
    pub fn set_low_data(&self, on: bool) {
        self.low_data.store(on, Ordering::Relaxed);
    }

    /// Whether low data is on.
    pub fn low_data(&self) -> bool {
        self.low_data.load(Ordering::Relaxed)
    }
}

/// Whether a new REMB estimate differs enough from the last one to be worth a log line.
pub fn changed_a_lot(previous: u64, now: u64) -> bool {
    previous == 0 || now * 4 < previous * 3 || now * 3 > previous * 4
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    /// Sends frames of `size` bytes as fast as the pacer allows for `span`, stepping the
    /// virtual clock 1 ms at a time; returns how many were sent.
    fn frames_in(p: &mut Pacer, start: Instant, span: Duration, size: usize) -> usize {
        let mut sent = 0;
        let mut now = start;
        while now < start + span {
            if p.may_send(now) {
                p.on_sent(now, size);
                sent += 1;
            }
            now += MS;
        }
        sent
    }

    #[test]
    fn at_one_megabit_a_keyframe_delays_the_next_frame_about_800_ms() {
        let t0 = Instant::now();
        let mut p = Pacer::new(t0);
        p.on_remb(t0, 1_000_000);
        assert!(p.may_send(t0));
        p.on_sent(t0, 100_000);
        assert!(!p.may_send(t0 + 700 * MS));
        assert!(p.may_send(t0 + 800 * MS));
        let wait = p.ready_at(t0) - t0;
        assert!(wait > 799 * MS && wait <= 800 * MS, "{wait:?}");
    }

    #[test]
    fn on_loopback_nothing_waits() {
        let t0 = Instant::now();
        let mut p = Pacer::new(t0);
        p.on_remb(t0, 30_000_000);
        // A keyframe then 30 frames a second of 50 KB (12 Mbit/s of scrolling).
        p.on_sent(t0, 150_000);
        let mut now = t0 + 40 * MS;
        for _ in 0..60 {
            assert!(p.may_send(now));
            p.on_sent(now, 50_000);
            now += 33 * MS;
        }
        // No feedback at all: the same.
        let mut q = Pacer::new(t0);
        q.on_sent(t0, 150_000);
        assert!(q.may_send(t0 + 33 * MS));
    }

    #[test]
    fn a_low_budget_drops_the_frame_rate_not_the_frame_size() {
        let t0 = Instant::now();
        let mut p = Pacer::new(t0);
        p.on_remb(t0, 400_000);
        // 20 KB frames at 400 kbit/s: 2.5 frames a second, each one whole.
        let sent = frames_in(&mut p, t0, Duration::from_secs(10), 20_000);
        assert!((24..=26).contains(&sent), "{sent}");
    }

    #[test]
    fn heavy_loss_lowers_the_rate_and_light_loss_lets_it_grow_back() {
        let t0 = Instant::now();
        let mut p = Pacer::new(t0);
        p.on_remb(t0, 2_000_000);
        p.on_loss(t0, 64); // 25 %
        let cut = p.target_bps();
        assert!(cut < 2_000_000 * 9 / 10, "{cut}");
        p.on_loss(t0, 64);
        assert!(p.target_bps() < cut, "repeated loss cuts again");
        p.on_loss(t0, 10); // 4 %: hold
        let held = p.target_bps();
        assert_eq!(held, p.target_bps());
        for _ in 0..30 {
            p.on_loss(t0, 0);
        }
        assert_eq!(p.target_bps(), 2_000_000, "back to the REMB ceiling");
    }

    #[test]
    fn remb_falling_slows_and_rising_recovers() {
        let t0 = Instant::now();
        let mut p = Pacer::new(t0);
        p.on_remb(t0, 3_000_000);
        assert_eq!(p.target_bps(), 3_000_000);
        p.on_remb(t0, 300_000);
        assert_eq!(p.target_bps(), 300_000);
        p.on_remb(t0, 2_500_000);
        assert_eq!(p.target_bps(), 2_500_000);
        p.on_remb(t0, 1_000);
        assert_eq!(p.target_bps(), MIN_RATE, "never below the floor");
    }

    #[test]
    fn low_data_caps_rate_and_frame_rate_and_off_restores_them() {
        let t0 = Instant::now();
        let mut p = Pacer::new(t0);
        p.on_remb(t0, 5_000_000);
        p.set_low_data(t0, true);
        assert_eq!(p.target_bps(), LOW_DATA_RATE);
        // Tiny frames (typing): the rate allows many, the frame cap allows 5 a second.
        let sent = frames_in(&mut p, t0, Duration::from_secs(4), 500);
        assert!((19..=21).contains(&sent), "{sent}");
        p.set_low_data(t0 + Duration::from_secs(4), false);
        assert_eq!(p.target_bps(), 5_000_000);
        let start = t0 + Duration::from_secs(5);
        let sent = frames_in(&mut p, start, Duration::from_secs(1), 500);
        assert!(sent > 100, "{sent}");
    }

    #[test]
    fn feedback_from_other_threads_reaches_the_pacer_once() {
        let t0 = Instant::now();
        let mut p = Pacer::new(t0);
        let fb = Feedback::default();
        assert_eq!(fb.set_remb(2_000_000), 0);
        fb.add_loss_report(128); // 50 %
        fb.set_low_data(false);
        p.observe(t0, &fb);
        let after_loss = p.target_bps();
        assert!(after_loss <= 1_500_000, "{after_loss}");
        p.observe(t0, &fb);
        assert_eq!(p.target_bps(), after_loss, "a report counts once");
        fb.set_low_data(true);
        p.observe(t0, &fb);
        assert!(p.low_data());
        assert_eq!(p.target_bps(), LOW_DATA_RATE);
    }

    #[test]
    fn only_big_changes_of_the_estimate_are_logged() {
        assert!(changed_a_lot(0, 300_000));
        assert!(!changed_a_lot(1_000_000, 1_200_000));
        assert!(changed_a_lot(1_000_000, 1_400_000));
        assert!(changed_a_lot(1_000_000, 700_000));
    }
}
