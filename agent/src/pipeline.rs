//! Capture → encode on a dedicated thread (never on the async runtime's threads), and a
//! small async task that hands encoded frames to the WebRTC track.
//!
//! Starting requires a [`ViewGrant`]: the capturer is opened only here, after the
//! resident's yes, and closed when sharing stops.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::mpsc;
use webrtc::rtp::codecs::h264::H264Payloader;
use webrtc::rtp::extension::HeaderExtension;
use webrtc::rtp::extension::abs_send_time_extension::AbsSendTimeExtension;
use webrtc::rtp::header::Header;
use webrtc::rtp::packet::Packet;
use webrtc::rtp::packetizer::Payloader;
use webrtc::track::track_local::TrackLocalWriter;
use webrtc::track::track_local::track_local_static_rtp::TrackLocalStaticRTP;

use crate::capture::{CaptureError, Capturer};
use crate::encode::{EncodedFrame, Encoder};
use crate::pace::{Feedback, Pacer};
use crate::refresh::Refresh;
use crate::screens::Shown;
use crate::session::ViewGrant;
use crate::sharpness::Sharpness;

/// Opens the platform capturer; called on the capture thread after consent.
pub type OpenCapturer = Box<dyn FnOnce() -> Result<Box<dyn Capturer>, CaptureError> + Send>;

/// Pacing of the pipeline.
#[derive(Debug, Clone, Copy)]
pub struct Pacing {
    /// Most frames per second sent while the screen changes.
    pub max_fps: u32,
    /// While nothing changes, how often to look for a change: a change is picked up
    /// within this rather than within a whole frame interval.
    pub poll: Duration,
}

impl Default for Pacing {
    fn default() -> Self {
        Self {
            max_fps: 30,
            poll: Duration::from_millis(8),
        }
    }
}

/// A running share. Dropping it without [`Sharing::stop`] also stops capture.
pub struct Sharing {
    stop: Arc<AtomicBool>,
    frames: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

/// Why sharing stopped by itself.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The screen could not be captured.
    #[error(transparent)]
    Capture(#[from] CaptureError),
    /// The video could not be encoded.
    #[error(transparent)]
    Encode(#[from] crate::encode::EncodeError),
}

/// What to capture: the capturer to open (after consent), and which part of the
/// desktop the caseworker chose to see.
pub struct Source {
    /// Opens the capturer, on the capture thread.
    pub open: OpenCapturer,
    /// The monitor shown (or all), read at every frame.
    pub shown: Shown,
}

/// Starts capturing and sending. `failed` hears about a capture or encode failure.
pub fn start(
    grant: ViewGrant,
    source: Source,
    encoder: Box<dyn Encoder>,
    track: Arc<TrackLocalStaticRTP>,
    feedback: Arc<Feedback>,
    pacing: Pacing,
    failed: mpsc::Sender<PipelineError>,
) -> Sharing {
    let stop = Arc::new(AtomicBool::new(false));
    let frames = Arc::new(AtomicU64::new(0));
    let (tx, rx) = mpsc::channel::<(EncodedFrame, Instant)>(4);
    tokio::spawn(write_frames(rx, track));
    let thread_stop = Arc::clone(&stop);
    let thread_frames = Arc::clone(&frames);
    let thread = std::thread::Builder::new()
        .name("acote-capture".into())
        .spawn(move || {
            let worker = Worker {
                stop: thread_stop,
                frames: thread_frames,
                feedback,
                pacing,
                tx,
            };
            if let Err(e) = worker.run(grant, source, encoder) {
                tracing::warn!(error = %e, "screen sharing stopped");
                let _ = failed.blocking_send(e);
            }
        })
        .ok();
    Sharing {
        stop,
        frames,
        thread,
    }
}

impl Sharing {
    /// Stops capture and waits for the thread; returns how many frames were captured.
    pub async fn stop(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
        self.frames.load(Ordering::Relaxed)
    }
}

impl Drop for Sharing {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

struct Worker {
    stop: Arc<AtomicBool>,
    frames: Arc<AtomicU64>,
    /// Keyframe requests, the browser's estimate, low data.
    feedback: Arc<Feedback>,
    pacing: Pacing,
    tx: mpsc::Sender<(EncodedFrame, Instant)>,
}

impl Worker {
    fn run(
        self,
        grant: ViewGrant,
        source: Source,
        mut encoder: Box<dyn Encoder>,
    ) -> Result<(), PipelineError> {
        // Held for as long as capture runs: this thread exists only under consent.
        let _grant = grant;
        let mut capturer = (source.open)()?;
        tracing::info!("capture started");
        let interval = Duration::from_secs(1) / self.pacing.max_fps.max(1);
        let mut last_sent: Option<Instant> = None;
        let mut pacer = Pacer::new(Instant::now());
        let mut refresh = Refresh::new(Instant::now());
        let mut sharpness = Sharpness::default();
        while !self.stop.load(Ordering::Relaxed) {
            let started = Instant::now();
            let before = pacer.target_bps();
            pacer.observe(started, &self.feedback);
            if crate::pace::changed_a_lot(before, pacer.target_bps()) {
                tracing::debug!(bps = pacer.target_bps(), "send rate target");
            }
            // Over budget (a big frame just went on a slow link): wait without capturing;
            // XDamage keeps the changes, so the next frame carries them all.
            let ready = pacer.ready_at(started);
            if ready > started {
                let wait = (ready - started).min(interval);
                sharpness.on_held(wait);
                std::thread::sleep(wait);
                continue;
            }
            if let Some(at) = pacer.last_loss() {
                refresh.on_loss(at);
            }
            let keyframe = self.feedback.take_keyframe_request() || last_sent.is_none();
            // Due: the unchanged screen goes again (a probe for a lost last packet).
            let stale = refresh.due(started);
            // Still after coarse pictures: the unchanged screen goes again, sharp.
            let sharpen = sharpness.sharpen_due(started);
            let quantiser = if sharpen {
                crate::encode::SHARP_QUANTISER
            } else {
                sharpness.quantiser()
            };
            encoder.set_quantiser(quantiser);
            let mut sent = false;
            let captured = capturer.capture(keyframe || stale || sharpen)?;
            if captured.is_none() {
                sharpness.on_still(started);
            }
            if let Some(frame) = captured
                && let Some(encoded) = encoder.encode(&source.shown.crop(frame), keyframe)?
            {
                pacer.on_sent(started, encoded.data.len());
                if sharpen {
                    sharpness.on_sharpened();
                } else {
                    // A due refresh may carry a change too (the pacer held the screen
                    // back longer than the refresh interval): it counts the same.
                    sharpness.on_sent(quantiser, encoded.data.len());
                }
                tracing::trace!(
                    bytes = encoded.data.len(),
                    keyframe = encoded.keyframe,
                    forced = keyframe || stale || sharpen,
                    quantiser,
                    encode_ms = started.elapsed().as_millis() as u64,
                    "frame encoded"
                );
                // Waiting here (rather than dropping) keeps the decoder's reference
                // chain intact; the writer is far faster than the encoder.
                if self.tx.blocking_send((encoded, started)).is_err() {
                    break;
                }
                last_sent = Some(started);
                refresh.on_sent(started, stale && !keyframe);
                sent = true;
            }
            self.frames
                .store(capturer.frames_captured(), Ordering::Relaxed);
            // After a frame, wait out the frame interval (the frame-rate cap); while idle,
            // look again soon, so the first change after a pause goes out at once.
            let wait = if sent { interval } else { self.pacing.poll };
            if let Some(rest) = wait.checked_sub(started.elapsed()) {
                std::thread::sleep(rest);
            }
        }
        tracing::info!(frames = capturer.frames_captured(), "capture stopped");
        Ok(())
    }
}

/// Largest RTP packet we send, as webrtc-rs does: fits any path's MTU with room for
/// SRTP, TURN and VPN headers.
const RTP_MTU: usize = 1200;

/// The RTP timestamp (90 kHz) of a picture captured `since` after the first one.
fn rtp_timestamp(base: u32, since: Duration) -> u32 {
    base.wrapping_add((since.as_micros() * 9 / 100) as u32)
}

/// Packetises each picture and stamps it with its own capture time. (webrtc-rs's sample
/// track stamps a picture with the sum of the durations before it, which on a screen that
/// sends only on change is the previous picture's time: the browser then takes the late
/// pictures for jitter and holds every picture hundreds of milliseconds.)
async fn write_frames(
    mut rx: mpsc::Receiver<(EncodedFrame, Instant)>,
    track: Arc<TrackLocalStaticRTP>,
) {
    let mut payloader = H264Payloader::default();
    let mut sequence: u16 = rand::random();
    let base: u32 = rand::random();
    let mut first: Option<Instant> = None;
    while let Some((frame, captured)) = rx.recv().await {
        let start = *first.get_or_insert(captured);
        let timestamp = rtp_timestamp(base, captured.saturating_duration_since(start));
        let payloads = match payloader.payload(RTP_MTU - 12, &frame.data.into()) {
            Ok(p) => p,
            Err(e) => {
                tracing::debug!(error = %e, "packetising a picture");
                continue;
            }
        };
        let last = payloads.len().saturating_sub(1);
        for (i, payload) in payloads.into_iter().enumerate() {
            let packet = Packet {
                header: Header {
                    version: 2,
                    // The last packet of a picture carries the marker bit.
                    marker: i == last,
                    sequence_number: sequence,
                    timestamp,
                    ..Default::default()
                },
                payload,
            };
            sequence = sequence.wrapping_add(1);
            // The send time, on the picture's last packet as webrtc-rs's own packetiser
            // does (the track leaves it out where the viewer did not accept it).
            let written = if i == last {
                let sent = AbsSendTimeExtension::new(SystemTime::now());
                track
                    .write_rtp_with_extensions(&packet, &[HeaderExtension::AbsSendTime(sent)])
                    .await
            } else {
                track.write_rtp(&packet).await
            };
            if let Err(e) = written {
                tracing::debug!(error = %e, "writing a video packet");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rtp_timestamps_follow_capture_time_at_90_khz() {
        assert_eq!(rtp_timestamp(1000, Duration::ZERO), 1000);
        assert_eq!(rtp_timestamp(1000, Duration::from_secs(1)), 91_000);
        assert_eq!(rtp_timestamp(1000, Duration::from_millis(33)), 1000 + 2970);
        // Wraps rather than overflowing.
        assert_eq!(rtp_timestamp(u32::MAX, Duration::from_micros(100)), 8);
    }
}
