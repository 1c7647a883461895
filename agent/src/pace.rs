//! Send pacing from the browser's congestion feedback. IO-free, with time passed in.
//!
//! The [`Pacer`] keeps a byte budget (a leaky bucket) that drains at a target rate: each
//! encoded frame adds its size, and the next frame may be captured only once the debt is
//! paid. A big frame (a keyframe) therefore delays the frames after it, so on a slow link
//! the frame rate drops first; how long the pacer holds then makes moving pictures
//! coarser ([`crate::sharpness`]), and a still form goes sharp again.
//! The target is the lowest of a congestion cap, a rate lowered on packet loss and the
//! low-data cap. [`Feedback`] carries what the RTCP reader task hears to the capture thread.
//!
//! The congestion cap comes from the browser's receiver reports: when the round trip rises
//! well above its minimum (more than the wait of the biggest recent picture, which leaves
//! in one burst), packets wait in a standing queue, so we send more than the path carries.
//! The cap then falls to 85 % of what the viewer received between its last two reports
//! (or, before that is known, to `sent × 0.85 / (1 + queue seconds)`), at most halved at
//! once, never below the browser's REMB estimate, and not cut again while that queue
//! drains; it grows back 8 % a report while the queue stays empty and the cap is in use.
//!
//! That round trip is measured from our sender reports, which wait in the queue they
//! should reveal. The receiver reports' highest sequence number does not wait
//! ([`crate::backlog`]): at each one, the packets still on the way tell the queue as it
//! is, which caps the rate the same way, and what waits beyond 100 ms is owed before the
//! next picture, so a burst into a slow link drains instead of holding every later
//! picture behind it for seconds. A window bounds what may be on the way before a report
//! says it arrived (128 KB, or two seconds of the most the path has carried).
//!
//! REMB alone is no ceiling here: a screen that changes little sends little, and the
//! browser's receive-side estimate stays near what it receives (7 kbit/s on a still form
//! in the bench) and grows 8 % a second at most, so a scroll after a still form would be
//! held to a few kbit/s for a minute.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::backlog::Backlog;

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
/// Growth of the congestion cap per report with an empty queue, while the cap is used.
/// Slow: 25 % a report made weak 4G swing between 1.07 and 0.47 Mbit/s.
const CAP_GROWTH: f64 = 1.08;
/// How fast a remembered minimum round trip forgets, per report, so a new path's longer
/// round trip is not taken for a queue for ever.
const MIN_RTT_CREEP: Duration = Duration::from_millis(2);
/// After a standing queue, what may stay on the way when the next picture is taken.
const QUEUE_TARGET: Duration = Duration::from_millis(100);
/// At most this many bytes on the way before a report says more arrived, whatever the
/// path: a scroll after a still screen starts with no measure of the path, and on weak 4G
/// the first report comes only once a picture has crossed (a second), by which time an
/// unbounded sender has queued ten seconds of pictures.
const WINDOW_MIN: u64 = 128_000;
/// Or the most the viewer has received in this long, when that is more.
const WINDOW_SPAN: Duration = Duration::from_secs(2);
/// Between reports (Chromium's come 0.5–2.5 s apart), what was on the way is taken to
/// pass at least this fast, or at the most the viewer has received when that is more:
/// a fast path is not held until the next report, and weak 4G (1 Mbit/s) is counted as
/// it is. The most, not the latest: after a still screen the latest is a few kbit/s.
const WINDOW_DRAIN_BPS: u64 = 1_000_000;
/// How soon to look again when the window is full.
const WINDOW_POLL: Duration = Duration::from_millis(10);

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
    /// Backlog reports already taken from [`Feedback`].
    seen_backlogs: u64,
    /// When a receiver report last told of a loss.
    last_loss: Option<Instant>,
    /// Bytes on the way at the latest receiver report, once one told, and when.
    on_the_way: Option<(u64, Instant)>,
    /// Bytes sent since that report.
    sent_since_report: u64,
    /// The most the viewer has received between two reports, bits per second.
    peak_delivered: u64,
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
            seen_backlogs: 0,
            last_loss: None,
            on_the_way: None,
            sent_since_report: 0,
            peak_delivered: 0,
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

    /// What the viewer receives, as [`Feedback`] would tell it.
    #[cfg(test)]
    fn on_delivered_for_test(&mut self, bps: u64) {
        self.delivered = Some(bps);
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
        let rate = self.delivered.unwrap_or(self.target_bps()).max(MIN_RATE) as f64;
        let queue = rtt.saturating_sub(floor).saturating_sub(self.burst(rate));
        if queue > QUEUE_DELAY {
            self.cut(now, queue, floor);
        } else if queue < QUEUE_EMPTY
            && let Some(cap) = self.cap
            // Only a cap in use grows: a still screen tells nothing of what the path
            // carries, and the next scroll starts from what it last carried.
            && self.sent_bps(now) * 2 >= cap
        {
            let grown = (cap as f64 * CAP_GROWTH) as u64;
            self.cap = (grown < MAX_RATE).then_some(grown);
        }
    }

    /// What a receiver report says is still on the way to the viewer: the queue as it
    /// is now, not as it was when our last sender report joined it (see
    /// [`crate::backlog`]). A standing queue cuts the rate as a late round trip would,
    /// and what waits beyond a short queue is owed before the next picture, so the
    /// queue drains instead of holding every later picture back.
    pub fn on_backlog(&mut self, now: Instant, backlog: Backlog) {
        self.drain(now);
        self.on_the_way = Some((backlog.bytes, now));
        self.sent_since_report = 0;
        let floor = self.min_rtt.unwrap_or(Duration::ZERO);
        // What the path passes: measured at the viewer, else what we put in.
        let rate = self
            .delivered
            .unwrap_or_else(|| self.sent_bps(now))
            .max(MIN_RATE) as f64;
        // How long the newest packet will wait, beyond the wait of one big picture.
        let passing = Duration::from_secs_f64((backlog.bytes as f64 * 8.0 / rate).min(60.0));
        let beyond = passing.saturating_sub(self.burst(rate));
        // How long the oldest has waited already. Both must show a queue: the age alone
        // would take a packet lost at the tail for one, and the bytes alone would take a
        // scroll after a still screen for one (what the viewer received then was little).
        let queue = backlog.oldest.saturating_sub(floor).min(beyond);
        if queue <= QUEUE_DELAY {
            return;
        }
        self.cut(now, queue, floor);
        let allowed = self.target_bps() as f64 / 8.0 * QUEUE_TARGET.as_secs_f64();
        self.debt = self.debt.max(backlog.bytes as f64 - allowed);
    }

    /// How long the biggest recent picture takes through a path of `rate` bits per
    /// second. It leaves as one burst and waits at the bottleneck however well frames are
    /// spaced: that wait is the picture's, not a standing queue.
    fn burst(&self, rate: f64) -> Duration {
        let biggest = self.recent.iter().map(|&(_, b)| b).max().unwrap_or(0) as f64 * 8.0;
        Duration::from_secs_f64((biggest / rate).min(10.0))
    }

    /// A standing queue of `queue` over a path whose round trip is `floor`: caps the rate
    /// to what the path carries, unless the queue that caused the last cut still drains.
    fn cut(&mut self, now: Instant, queue: Duration, floor: Duration) {
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
        self.sent_since_report += bytes as u64;
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
        let paid = if self.window_full(now) {
            paid.max(now + WINDOW_POLL)
        } else {
            paid
        };
        match self.last_sent {
            Some(last) if self.low_data => paid.max(last + LOW_DATA_INTERVAL),
            _ => paid,
        }
    }

    /// Whether as much is on the way as may be before a report says more arrived.
    fn window_full(&self, now: Instant) -> bool {
        let Some((at_report, reported)) = self.on_the_way else {
            return false;
        };
        let delivered = self.peak_delivered.max(self.delivered.unwrap_or(0));
        let span = delivered as f64 / 8.0 * WINDOW_SPAN.as_secs_f64();
        let window = (span as u64).max(WINDOW_MIN);
        let since = now.saturating_duration_since(reported).as_secs_f64();
        let passed = since * delivered.max(WINDOW_DRAIN_BPS) as f64 / 8.0;
        (at_report + self.sent_since_report).saturating_sub(passed as u64) > window
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
            self.peak_delivered = self.peak_delivered.max(delivered);
        }
        let rtt = feedback.rtt.load(Ordering::Relaxed);
        if rtt >> 32 != self.seen_rtts {
            self.seen_rtts = rtt >> 32;
            self.on_rtt(now, Duration::from_micros(rtt & 0xffff_ffff));
        }
        let age = feedback.backlog_age.load(Ordering::Relaxed);
        if age >> 32 != self.seen_backlogs {
            self.seen_backlogs = age >> 32;
            let backlog = Backlog {
                bytes: feedback.backlog_bytes.load(Ordering::Relaxed),
                oldest: Duration::from_micros(age & 0xffff_ffff),
            };
            self.on_backlog(now, backlog);
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
    /// Bytes still on the way at the latest receiver report.
    backlog_bytes: AtomicU64,
    /// `(reports << 32) | microseconds` of the oldest packet still on the way then.
    backlog_age: AtomicU64,
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

    /// Records what a receiver report says is still on the way.
    pub fn set_backlog(&self, backlog: Backlog) {
        self.backlog_bytes.store(backlog.bytes, Ordering::Relaxed);
        let micros = backlog.oldest.as_micros().min(u128::from(u32::MAX)) as u64;
        let reports = (self.backlog_age.load(Ordering::Relaxed) >> 32) + 1;
        self.backlog_age
            .store((reports << 32) | micros, Ordering::Relaxed);
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
    fn once_the_queue_is_empty_a_cap_in_use_grows_back_then_goes() {
        let (mut p, t0) = congested();
        let cap = p.target_bps();
        p.on_rtt(t0, 100 * MS);
        assert!(p.target_bps() > cap, "grows");
        // It grows to twice what is sent and holds there.
        for _ in 0..200 {
            p.on_rtt(t0, 100 * MS);
        }
        let held = p.target_bps();
        let sent = p.sent_bps(t0);
        assert!(
            held > 2 * sent && held < 2 * sent * 109 / 100,
            "{held} for {sent}"
        );
        // Sending 30 Mbit/s (video on a fast path): no cap left.
        let t1 = t0 + Duration::from_secs(5);
        sent_at_rate(&mut p, t1, 30_000_000);
        for _ in 0..200 {
            p.on_rtt(t1, 100 * MS);
        }
        assert_eq!(p.target_bps(), MAX_RATE, "no cap left");
    }

    #[test]
    fn a_still_screen_keeps_what_the_path_carried_for_the_next_scroll() {
        let (mut p, t0) = congested();
        let cap = p.target_bps();
        // A minute of still screen, a report a second with an empty queue.
        for s in 2..60 {
            p.on_rtt(t0 + Duration::from_secs(s), 100 * MS);
        }
        assert_eq!(p.target_bps(), cap);
    }

    /// A pacer on a path whose round trip is 60 ms, two seconds in.
    fn on_a_60_ms_path() -> (Pacer, Instant) {
        let base = Instant::now();
        let mut p = Pacer::new(base);
        p.on_rtt(base, 60 * MS);
        (p, base + Duration::from_secs(2))
    }

    #[test]
    fn a_backlog_caps_at_once_and_is_drained_before_the_next_picture() {
        let (mut p, t0) = on_a_60_ms_path();
        // A scroll at full speed into 1 Mbit/s: 8 Mbit/s in the last second.
        sent_at_rate(&mut p, t0, 8_000_000);
        let fb = Feedback::default();
        fb.set_delivered(1_000_000);
        // The report (crossing the empty way back) says 875 KB are on the way, the
        // oldest sent 900 ms ago: a queue of about 7 s behind the viewer's picture.
        fb.set_backlog(Backlog {
            bytes: 875_000,
            oldest: 900 * MS,
        });
        p.observe(t0, &fb);
        assert_eq!(p.target_bps(), 850_000);
        // What waits beyond 100 ms at 850 kbit/s is owed: about 8.1 s before the next
        // picture, rather than every later picture waiting behind the queue.
        assert!(!p.may_send(t0 + Duration::from_secs(8)));
        // The next report says the queue drained: the next picture may go.
        let t1 = t0 + Duration::from_millis(8_300);
        p.on_backlog(
            t1,
            Backlog {
                bytes: 10_000,
                oldest: 90 * MS,
            },
        );
        assert!(p.may_send(t1));
        assert_eq!(p.target_bps(), 850_000);
    }

    #[test]
    fn no_more_than_a_window_goes_before_a_report_says_it_arrived() {
        let t0 = Instant::now();
        let mut p = Pacer::new(t0);
        // Before the viewer's first report nothing is known of the path: no window.
        p.on_sent(t0, 200_000);
        assert!(p.may_send(t0 + 40 * MS));
        let t1 = t0 + Duration::from_secs(1);
        p.on_backlog(t1, Backlog::default());
        // A scroll after a still screen: two pictures of 60 KB go, the third waits.
        p.on_sent(t1, 60_000);
        p.on_sent(t1 + 10 * MS, 60_000);
        assert!(p.may_send(t1 + 20 * MS));
        p.on_sent(t1 + 20 * MS, 60_000);
        assert!(!p.may_send(t1 + 40 * MS));
        // With no report, what was on the way is taken to pass at 1 Mbit/s: the 52 KB
        // over the window in about 0.42 s.
        assert!(!p.may_send(t1 + 400 * MS));
        assert!(p.may_send(t1 + 450 * MS));
        // A report says they arrived: the next one goes at once.
        let t2 = t1 + 100 * MS;
        let mut q = p.clone();
        q.on_backlog(t2, Backlog::default());
        assert!(q.may_send(t2));
        // A path that carries 4 Mbit/s may hold two seconds of it (1 MB) on the way.
        q.on_delivered_for_test(4_000_000);
        for i in 0..16 {
            q.on_sent(t2 + i * MS, 60_000);
        }
        assert!(q.may_send(t2 + 160 * MS));
        for _ in 0..4 {
            q.on_sent(t2 + 160 * MS, 60_000);
        }
        assert!(!q.may_send(t2 + 200 * MS));
    }

    #[test]
    fn after_a_still_screen_the_window_is_what_the_path_once_carried() {
        let t0 = Instant::now();
        let mut p = Pacer::new(t0);
        let fb = Feedback::default();
        // A scroll delivered 4 Mbit/s; then a still form, 10 kbit/s.
        fb.set_delivered(4_000_000);
        p.observe(t0, &fb);
        fb.set_delivered(10_000);
        fb.set_backlog(Backlog::default());
        p.observe(t0, &fb);
        // The next scroll may put 1 MB on the way, not 128 KB.
        for _ in 0..15 {
            p.on_sent(t0, 60_000);
        }
        assert!(p.may_send(t0 + 200 * MS));
    }

    #[test]
    fn a_packet_lost_at_the_tail_is_not_a_queue() {
        let (mut p, t0) = on_a_60_ms_path();
        sent_at_rate(&mut p, t0, 40_000);
        p.on_delivered_for_test(1_000_000);
        // Typing: one packet of the last letter was lost, and it stays "on the way" for
        // the 2 s until the next one. It passes in 10 ms, so it waited no queue.
        p.on_backlog(
            t0,
            Backlog {
                bytes: 1_238,
                oldest: 2_000 * MS,
            },
        );
        assert_eq!(p.target_bps(), MAX_RATE);
        assert!(p.may_send(t0));
    }

    #[test]
    fn a_big_picture_on_the_way_is_not_a_standing_queue() {
        let (mut p, t0) = on_a_60_ms_path();
        p.on_delivered_for_test(1_000_000);
        // A 100 KB keyframe just left: it takes 0.8 s through 1 Mbit/s.
        p.on_sent(t0, 100_000);
        p.on_backlog(
            t0 + 400 * MS,
            Backlog {
                bytes: 50_000,
                oldest: 400 * MS,
            },
        );
        assert_eq!(p.target_bps(), MAX_RATE);
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
