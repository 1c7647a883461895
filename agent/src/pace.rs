//! Send pacing from the browser's congestion feedback. IO-free, with time passed in.
//!
//! The [`Pacer`] keeps a byte budget (a leaky bucket) that drains at a target rate: each
//! encoded frame adds its size, and the next frame may be captured only once the debt is
//! paid. A big frame (a keyframe) therefore delays the frames after it, so on a slow link
//! the frame rate drops while every frame keeps its full quality (forms stay sharp).
//! The target is the lowest of a congestion cap, a rate lowered on packet loss and the
//! low-data cap. [`Feedback`] carries what the RTCP reader task hears to the capture thread.
//!
//! The congestion cap comes from the browser's receiver reports: when the round trip rises
//! well above its minimum (more than the wait of the biggest recent picture, which leaves
//! in one burst), packets wait in a standing queue, so we send more than the path carries.
//! The cap then falls to 85 % of what the viewer received between its last two reports
//! (or, before that is known, to `sent × 0.85 / (1 + queue seconds)`), at most halved at
//! once, never below the browser's REMB estimate, and not cut again while that queue
//! drains; it grows back 8 % a report while the queue stays empty.
//!
//! REMB alone is no ceiling here: a screen that changes little sends little, and the
//! browser's receive-side estimate stays near what it receives (7 kbit/s on a still form
//! in the bench) and grows 8 % a second at most, so a scroll after a still form would be
//! held to a few kbit/s for a minute.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Target when nothing limits it (no queue seen, loopback): high enough that nothing waits.
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
/// The window over which our own send rate is measured.
const RATE_WINDOW: Duration = Duration::from_secs(1);
/// A round trip this much above its minimum means a queue is building: slow down.
const QUEUE_DELAY: Duration = Duration::from_millis(40);
/// A round trip within this of its minimum means the queue is empty: the cap may grow.
const QUEUE_EMPTY: Duration = Duration::from_millis(15);
/// Growth of the congestion cap per report with an empty queue.
const CAP_GROWTH: f64 = 1.08;
/// How fast a remembered minimum round trip forgets, per report, so a new path's longer
/// round trip is not taken for a queue for ever.
const MIN_RTT_CREEP: Duration = Duration::from_millis(2);

/// Decides when the next frame may be captured and encoded.
#[derive(Debug, Clone)]
pub struct Pacer {
    /// The congestion cap, once the path has shown a queue.
    cap: Option<u64>,
    /// The browser's latest REMB estimate.
    remb: u64,
    loss_rate: u64,
    /// Frames sent within the last [`RATE_WINDOW`]: when, and how many bytes.
    recent: VecDeque<(Instant, usize)>,
    /// No further cut before this: the queue that caused the last one is draining.
    hold_until: Option<Instant>,
    /// What the viewer received lately, bits per second, from its reports.
    delivered: Option<u64>,
    /// The smallest round trip seen (creeping up slowly), and the latest one.
    min_rtt: Option<Duration>,
    rtt: Option<Duration>,
    /// REMB and round-trip reports already taken from [`Feedback`].
    seen_rembs: u64,
    seen_rtts: u64,
    low_data: bool,
    /// Bytes sent and not yet paid for by time at the target rate.
    debt: f64,
    /// When `debt` was last brought up to date.
    at: Instant,
    last_sent: Option<Instant>,
    /// Feedback reports already taken from [`Feedback`].
    seen_reports: u64,
    /// When a receiver report last told of a loss.
    last_loss: Option<Instant>,
}

impl Pacer {
    /// A pacer with nothing sent and no feedback yet.
    pub fn new(now: Instant) -> Self {
        Self {
            cap: None,
            remb: 0,
            loss_rate: MAX_RATE,
            recent: VecDeque::new(),
            hold_until: None,
            delivered: None,
            min_rtt: None,
            rtt: None,
            seen_rembs: 0,
            seen_rtts: 0,
            low_data: false,
            debt: 0.0,
            at: now,
            last_sent: None,
            seen_reports: 0,
            last_loss: None,
        }
    }

    /// The rate frames are paced at now, in bits per second.
    pub fn target_bps(&self) -> u64 {
        let mut rate = self.cap.unwrap_or(MAX_RATE).min(self.loss_rate);
        if self.low_data {
            rate = rate.min(LOW_DATA_RATE);
        }
        rate.max(MIN_RATE)
    }

    /// Whether low data is on.
    #[cfg(test)]
    fn low_data(&self) -> bool {
        self.low_data
    }

    /// What we sent over the last second, in bits per second.
    pub fn sent_bps(&mut self, now: Instant) -> u64 {
        while self
            .recent
            .front()
            .is_some_and(|&(t, _)| now.saturating_duration_since(t) > RATE_WINDOW)
        {
            self.recent.pop_front();
        }
        let bytes: usize = self.recent.iter().map(|&(_, b)| b).sum();
        (bytes as f64 * 8.0 / RATE_WINDOW.as_secs_f64()) as u64
    }

    /// The browser's REMB estimate arrived (a floor for the congestion cap).
    pub fn on_remb(&mut self, bps: u64) {
        self.remb = bps;
    }

    /// A round trip measured from a receiver report: lowers the cap when a queue builds,
    /// raises it while the queue is empty.
    pub fn on_rtt(&mut self, now: Instant, rtt: Duration) {
        self.drain(now);
        let floor = self.min_rtt.map_or(rtt, |m| (m + MIN_RTT_CREEP).min(rtt));
        self.min_rtt = Some(floor);
        self.rtt = Some(rtt);
        // A big picture leaves as one burst and waits at the bottleneck however well
        // frames are spaced: that wait is the picture's, not a standing queue.
        let biggest = self.recent.iter().map(|&(_, b)| b).max().unwrap_or(0) as f64 * 8.0;
        let rate = self.delivered.unwrap_or(self.target_bps()).max(MIN_RATE) as f64;
        let burst = Duration::from_secs_f64((biggest / rate).min(10.0));
        let queue = rtt.saturating_sub(floor).saturating_sub(burst);
        if queue > QUEUE_DELAY {
            // Reports during the drain of a queue already answered say nothing new.
            if self.hold_until.is_some_and(|t| now < t) {
                return;
            }
            // What the path carries: measured at the viewer when we know it (a queue means
            // the path is full, so what arrives is its capacity); else what we sent,
            // shrunk by how long the queue has grown.
            let fits = match self.delivered {
                Some(bps) => (bps as f64 * 0.85) as u64,
                None => (self.sent_bps(now) as f64 * 0.85 / (1.0 + queue.as_secs_f64())) as u64,
            };
            // At most halved at once: what we sent may be little because we already
            // slowed down.
            let cap = match self.cap {
                None => fits,
                Some(c) => fits.max(c / 2).min(c),
            };
            self.cap = Some(cap.max(self.remb).max(MIN_RATE));
            self.hold_until = Some(now + queue + floor);
        } else if queue < QUEUE_EMPTY
            && let Some(cap) = self.cap
        {
            let grown = (cap as f64 * CAP_GROWTH) as u64;
            self.cap = (grown < MAX_RATE).then_some(grown);
        }
    }

    /// Whether the latest round trip is well above the smallest: packets wait in a queue.
    #[cfg(test)]
    fn queue_building(&self) -> bool {
        match (self.rtt, self.min_rtt) {
            (Some(rtt), Some(min)) => rtt.saturating_sub(min) > QUEUE_DELAY,
            _ => false,
        }
    }

    /// A receiver report: `fraction_lost` is RTCP's loss since the last report, in 256ths.
    pub fn on_loss(&mut self, now: Instant, fraction_lost: u8) {
        self.drain(now);
        if fraction_lost > 0 {
            self.last_loss = Some(now);
        }
        let loss = f64::from(fraction_lost) / 256.0;
        let target = self.target_bps();
        // Loss while we send far below the target is the path's, not ours: a few packets
        // a second (typing) make the fraction jump, and cutting then would only starve
        // the next scroll.
        let using_budget = self.sent_bps(now) * 2 >= target;
        if loss > LOSS_HIGH && using_budget {
            // As in Google congestion control: cut in proportion to the loss.
            let cut = target as f64 * (1.0 - 0.5 * loss);
            self.loss_rate = (cut as u64).max(MIN_RATE);
        } else if loss < LOSS_LOW {
            let grown = self.loss_rate as f64 * LOSS_RECOVERY;
            self.loss_rate = (grown as u64).min(MAX_RATE);
        }
    }

    /// When a receiver report last told of a loss, if ever.
    pub fn last_loss(&self) -> Option<Instant> {
        self.last_loss
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
        self.recent.push_back((now, bytes));
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
        // REMB first: it is the floor of a cap the round trip may set.
        let rembs = feedback.rembs.load(Ordering::Relaxed);
        if rembs != self.seen_rembs {
            self.seen_rembs = rembs;
            self.on_remb(feedback.remb.load(Ordering::Relaxed));
        }
        let delivered = feedback.delivered.load(Ordering::Relaxed);
        if delivered > 0 {
            self.delivered = Some(delivered);
        }
        let rtt = feedback.rtt.load(Ordering::Relaxed);
        if rtt >> 32 != self.seen_rtts {
            self.seen_rtts = rtt >> 32;
            self.on_rtt(now, Duration::from_micros(rtt & 0xffff_ffff));
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
    /// How many REMB reports arrived.
    rembs: AtomicU64,
    /// `(reports << 32) | microseconds` of the latest round trip measured.
    rtt: AtomicU64,
    /// What the viewer received between its last two reports, bits per second.
    delivered: AtomicU64,
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
        let previous = self.remb.swap(bps.max(1), Ordering::Relaxed);
        self.rembs.fetch_add(1, Ordering::Relaxed);
        previous
    }

    /// Records what the viewer received between its last two reports.
    pub fn set_delivered(&self, bps: u64) {
        self.delivered.store(bps, Ordering::Relaxed);
    }

    /// Records a round trip measured from a receiver report.
    pub fn set_rtt(&self, rtt: Duration) {
        let micros = rtt.as_micros().min(u128::from(u32::MAX)) as u64;
        let reports = (self.rtt.load(Ordering::Relaxed) >> 32) + 1;
        self.rtt.store((reports << 32) | micros, Ordering::Relaxed);
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

/// Turns the viewer's cumulative "packets received" into a rate between its reports.
/// Packets are counted at our largest size: when a queue builds (the only time the figure
/// is used) pictures are big and nearly all their packets are full.
#[derive(Debug, Default)]
pub struct DeliveryMeter {
    last: Option<(Instant, u32)>,
}

/// Bytes in a full video packet on the wire (RTP payload and headers, SRTP, UDP, IP).
const FULL_PACKET_BYTES: u64 = 1200 + 10 + 8 + 20;
/// Reports closer than this are merged: too few packets between them to say a rate.
const METER_MIN_SPAN: Duration = Duration::from_millis(250);

impl DeliveryMeter {
    /// A report at `now` says `received` packets so far (highest sequence minus lost);
    /// returns the rate since the previous report, when it can be said.
    pub fn on_report(&mut self, now: Instant, received: u32) -> Option<u64> {
        let Some((then, before)) = self.last else {
            self.last = Some((now, received));
            return None;
        };
        let span = now.saturating_duration_since(then);
        if span < METER_MIN_SPAN {
            return None;
        }
        self.last = Some((now, received));
        let packets = received.wrapping_sub(before);
        // A reset stream (or a reordered report) shows as a huge or negative count.
        if packets > 1 << 20 {
            return None;
        }
        Some((u64::from(packets) * FULL_PACKET_BYTES * 8) * 1000 / span.as_millis().max(1) as u64)
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

    /// Sends `bits_per_s` in ten frames over the second before `at`, so the pacer knows
    /// its own rate.
    fn sent_at_rate(p: &mut Pacer, at: Instant, bits_per_s: usize) {
        for i in 1..=10u32 {
            p.on_sent(at - Duration::from_secs(1) + i * 99 * MS, bits_per_s / 80);
        }
    }

    /// A pacer that sent 2 Mbit/s while the round trip grew from 100 ms to 1.1 s: a
    /// queue of one second, so the cap is 2 Mbit/s × 0.85 / 2 = 850 kbit/s.
    fn congested() -> (Pacer, Instant) {
        let base = Instant::now();
        let t0 = base + Duration::from_secs(2);
        let mut p = Pacer::new(base);
        sent_at_rate(&mut p, t0, 2_000_000);
        p.on_rtt(t0, 100 * MS);
        p.on_rtt(t0, 1100 * MS);
        let cap = p.target_bps();
        assert!((840_000..=860_000).contains(&cap), "{cap}");
        (p, t0 + 100 * MS)
    }

    #[test]
    fn congested_near_one_megabit_a_keyframe_delays_the_next_frame_about_a_second() {
        let (mut p, t0) = congested();
        assert!(p.may_send(t0));
        p.on_sent(t0, 100_000);
        // 800 kbit at 850 kbit/s.
        assert!(!p.may_send(t0 + 900 * MS));
        assert!(p.may_send(t0 + 950 * MS));
    }

    #[test]
    fn a_low_estimate_of_a_quiet_screen_is_not_a_ceiling() {
        // A still form sends a few kbit/s and the browser estimates about as much; a
        // scroll that follows must not be held to it.
        let base = Instant::now();
        let t0 = base + Duration::from_secs(2);
        let mut p = Pacer::new(base);
        sent_at_rate(&mut p, t0, 5_000);
        p.on_remb(7_000);
        p.on_rtt(t0, 100 * MS);
        p.on_rtt(t0, 101 * MS);
        assert_eq!(p.target_bps(), MAX_RATE);
        let mut now = t0;
        for _ in 0..30 {
            assert!(p.may_send(now));
            p.on_sent(now, 50_000);
            now += 33 * MS;
        }
    }

    #[test]
    fn a_queue_caps_the_rate_but_not_below_the_estimate() {
        let base = Instant::now();
        let t0 = base + Duration::from_secs(2);
        let mut p = Pacer::new(base);
        sent_at_rate(&mut p, t0, 7_000_000);
        p.on_remb(4_000_000);
        p.on_rtt(t0, MS);
        p.on_rtt(t0, 2 * MS);
        assert_eq!(
            p.target_bps(),
            MAX_RATE,
            "round trip flat: no queue, no cap"
        );
        p.on_rtt(t0, 300 * MS);
        // 7 Mbit/s × 0.85 / 1.298 s ≈ 4.58 Mbit/s, above REMB.
        let cap = p.target_bps();
        assert!((4_500_000..4_700_000).contains(&cap), "{cap}");
        p.on_rtt(t0 + 1000 * MS, 3000 * MS);
        assert_eq!(p.target_bps(), 4_000_000, "REMB is the floor of the cap");
    }

    #[test]
    fn a_queue_cuts_to_what_the_viewer_receives() {
        let base = Instant::now();
        let t0 = base + Duration::from_secs(2);
        let mut p = Pacer::new(base);
        sent_at_rate(&mut p, t0, 3_000_000);
        let fb = Feedback::default();
        fb.set_delivered(1_000_000);
        fb.set_rtt(100 * MS);
        p.observe(t0, &fb);
        assert_eq!(p.target_bps(), MAX_RATE);
        fb.set_rtt(900 * MS);
        p.observe(t0, &fb);
        assert_eq!(p.target_bps(), 850_000);
    }

    #[test]
    fn the_wait_of_one_big_picture_is_not_a_standing_queue() {
        let t0 = Instant::now();
        let mut p = Pacer::new(t0);
        let fb = Feedback::default();
        fb.set_delivered(1_000_000);
        fb.set_rtt(100 * MS);
        p.observe(t0, &fb);
        // A 100 KB picture takes 0.8 s through 1 Mbit/s: a report just after sees it.
        p.on_sent(t0, 100_000);
        fb.set_rtt(850 * MS);
        p.observe(t0 + 500 * MS, &fb);
        assert_eq!(p.target_bps(), MAX_RATE);
        // Twice that wait is a queue.
        fb.set_rtt(1800 * MS);
        p.observe(t0 + 900 * MS, &fb);
        assert_eq!(p.target_bps(), 850_000);
    }

    #[test]
    fn the_meter_counts_packets_between_reports() {
        let t0 = Instant::now();
        let mut m = DeliveryMeter::default();
        assert_eq!(m.on_report(t0, 1000), None, "one report says no rate");
        assert_eq!(m.on_report(t0 + 100 * MS, 1010), None, "too close");
        // 100 full packets in a second.
        let bps = m.on_report(t0 + 1000 * MS, 1100);
        assert_eq!(bps, Some(100 * FULL_PACKET_BYTES * 8));
        // Sequence numbers wrap.
        let mut w = DeliveryMeter::default();
        w.on_report(t0, u32::MAX - 4);
        assert_eq!(
            w.on_report(t0 + 1000 * MS, 5),
            Some(10 * FULL_PACKET_BYTES * 8)
        );
        assert_eq!(w.on_report(t0 + 2000 * MS, 2), None, "backwards");
    }

    #[test]
    fn a_draining_queue_is_not_cut_for_twice() {
        let (mut p, t0) = congested();
        let cap = p.target_bps();
        // The queue seen at the cut (1 s) takes its time to drain: reports then say the
        // same thing and change nothing.
        p.on_rtt(t0 + 300 * MS, 800 * MS);
        assert_eq!(p.target_bps(), cap);
        // Still a queue well after: cut again, by half at most.
        p.on_rtt(t0 + 2000 * MS, 800 * MS);
        let again = p.target_bps();
        assert!(again < cap && again >= cap / 2, "{again}");
    }

    #[test]
    fn the_minimum_round_trip_forgets_slowly() {
        let t0 = Instant::now();
        let mut p = Pacer::new(t0);
        p.on_rtt(t0, 10 * MS);
        // A new path with a 200 ms round trip: a queue at first, not for ever.
        p.on_rtt(t0, 200 * MS);
        assert!(p.queue_building());
        for _ in 0..100 {
            p.on_rtt(t0, 200 * MS);
        }
        assert!(!p.queue_building());
    }

    #[test]
    fn on_loopback_nothing_waits() {
        let t0 = Instant::now();
        let mut p = Pacer::new(t0);
        p.on_remb(30_000_000);
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
        let (mut p, t0) = congested();
        // 20 KB frames at 850 kbit/s: 5.3 frames a second, each one whole.
        let sent = frames_in(&mut p, t0, Duration::from_secs(10), 20_000);
        assert!((52..=55).contains(&sent), "{sent}");
    }

    #[test]
    fn heavy_loss_lowers_the_rate_and_light_loss_lets_it_grow_back() {
        let (mut p, t0) = congested();
        let capped = p.target_bps();
        p.on_loss(t0, 64); // 25 %
        let cut = p.target_bps();
        assert!(cut < capped * 9 / 10, "{cut}");
        p.on_loss(t0, 64);
        assert!(p.target_bps() < cut, "repeated loss cuts again");
        p.on_loss(t0, 10); // 4 %: hold
        let held = p.target_bps();
        assert_eq!(held, p.target_bps());
        for _ in 0..30 {
            p.on_loss(t0, 0);
        }
        assert_eq!(p.target_bps(), capped, "grown back to the congestion cap");
    }

    #[test]
    fn loss_while_sending_little_is_the_paths_not_ours() {
        let base = Instant::now();
        let t0 = base + Duration::from_secs(2);
        let mut p = Pacer::new(base);
        // Typing: 40 kbit/s, and one report in three loses 4 packets of 30.
        sent_at_rate(&mut p, t0, 40_000);
        p.on_loss(t0, 34);
        assert_eq!(p.target_bps(), MAX_RATE);
    }

    #[test]
    fn once_the_queue_is_empty_the_cap_grows_back_then_goes() {
        let (mut p, t0) = congested();
        let cap = p.target_bps();
        p.on_rtt(t0, 100 * MS);
        assert!(p.target_bps() > cap, "grows");
        for _ in 0..200 {
            p.on_rtt(t0, 100 * MS);
        }
        assert_eq!(p.target_bps(), MAX_RATE, "no cap left");
    }

    #[test]
    fn low_data_caps_rate_and_frame_rate_and_off_restores_them() {
        let t0 = Instant::now();
        let mut p = Pacer::new(t0);
        p.on_remb(5_000_000);
        p.set_low_data(t0, true);
        assert_eq!(p.target_bps(), LOW_DATA_RATE);
        // Tiny frames (typing): the rate allows many, the frame cap allows 5 a second.
        let sent = frames_in(&mut p, t0, Duration::from_secs(4), 500);
        assert!((19..=21).contains(&sent), "{sent}");
        p.set_low_data(t0 + Duration::from_secs(4), false);
        assert_eq!(p.target_bps(), MAX_RATE);
        let start = t0 + Duration::from_secs(5);
        let sent = frames_in(&mut p, start, Duration::from_secs(1), 500);
        assert!(sent > 100, "{sent}");
    }

    #[test]
    fn feedback_from_other_threads_reaches_the_pacer_once() {
        let base = Instant::now();
        let t0 = base + Duration::from_secs(2);
        let mut p = Pacer::new(base);
        sent_at_rate(&mut p, t0, 2_000_000);
        let fb = Feedback::default();
        fb.set_rtt(50 * MS);
        p.observe(t0, &fb);
        fb.set_rtt(500 * MS);
        assert_eq!(fb.set_remb(1_000_000), 0);
        fb.add_loss_report(128); // 50 %
        fb.set_low_data(false);
        p.observe(t0, &fb);
        let after_loss = p.target_bps();
        assert!(after_loss <= 1_000_000, "{after_loss}");
        p.observe(t0, &fb);
        assert_eq!(p.target_bps(), after_loss, "a report counts once");
        fb.set_low_data(true);
        p.observe(t0, &fb);
        assert!(p.low_data());
        assert_eq!(p.target_bps(), LOW_DATA_RATE.min(after_loss));
    }

    #[test]
    fn only_big_changes_of_the_estimate_are_logged() {
        assert!(changed_a_lot(0, 300_000));
        assert!(!changed_a_lot(1_000_000, 1_200_000));
        assert!(changed_a_lot(1_000_000, 1_400_000));
        assert!(changed_a_lot(1_000_000, 700_000));
    }
}
