//! The voice call, for when the resident has no phone or no credit: the caseworker and
//! the resident talk through the PC, over the session's WebRTC connection (one Opus track
//! each way, end to end; the relay never hears it).
//!
//! In the order the sound flows:
//! - [`call`]: the consent, IO-free: only the resident's yes makes a [`MicConsent`];
//! - [`device`]: the microphone and speakers (cpal) on their own thread;
//! - [`codec`]: rates and channels converted, 20 ms frames, Opus;
//! - [`VoiceIo`]: the microphone's frames coded and written to the track;
//! - [`playout`]: the caseworker's packets decoded, repaired and buffered for the speakers.

pub mod call;
pub mod codec;
pub mod device;
pub mod playout;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::mpsc;
use webrtc::media::Sample;
use webrtc::track::track_local::track_local_static_sample::TrackLocalStaticSample;

use call::MicConsent;
use codec::{FRAME, Framer, RATE, VoiceEncoder};
use device::{Command, DeviceEvent, Devices, Speaker};
use playout::Playout;

/// Why the call cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum VoiceError {
    /// The microphone or the speakers are missing, refused or failed.
    #[error("audio device: {0}")]
    Device(String),
    /// libopus refused (should not happen with our fixed settings).
    #[error("opus: {0}")]
    Codec(String),
}

/// The door from the peer connection's incoming voice to the speakers: open (holding
/// the playout) only while the call is on, so nothing the caseworker sends is played
/// before the resident's yes or after the call.
#[derive(Clone, Default)]
pub struct Inlet(Arc<Mutex<Option<Speaker>>>);

impl Inlet {
    /// One RTP packet of the caseworker's voice: played if the call is on.
    pub fn packet(&self, seq: u16, payload: &[u8]) {
        let Ok(open) = self.0.lock() else { return };
        let Some(speaker) = open.as_ref() else { return };
        let Ok(mut playout) = speaker.lock() else {
            return;
        };
        if let Err(e) = playout.packet(seq, payload) {
            tracing::debug!(error = %e, "a voice packet could not be decoded");
        }
    }

    fn set(&self, speaker: Option<Speaker>) {
        if let Ok(mut open) = self.0.lock() {
            *open = speaker;
        }
    }
}

/// Chunks of microphone sound waiting for the encoder (about 1 s).
const MIC_QUEUE: usize = 100;
/// A pause in the microphone's sound longer than this (a mute) is skipped over in the
/// RTP timestamps, so the browser plays what follows at once.
const GAP: Duration = Duration::from_millis(200);

/// One session's voice: the audio thread (started at the first call) and the encoder
/// task of the call under way.
pub struct VoiceIo {
    devices: Option<Devices>,
    events_tx: mpsc::UnboundedSender<DeviceEvent>,
    /// What the audio thread says (opened, failed).
    pub events: mpsc::UnboundedReceiver<DeviceEvent>,
    encoder: Option<tokio::task::JoinHandle<()>>,
}

impl Default for VoiceIo {
    fn default() -> Self {
        Self::new()
    }
}

impl VoiceIo {
    /// No call yet; no device touched.
    pub fn new() -> Self {
        let (events_tx, events) = mpsc::unbounded_channel();
        Self {
            devices: None,
            events_tx,
            events,
            encoder: None,
        }
    }

    /// Opens the call the resident allowed: the devices (answered on `events`), the
    /// encoder writing to `track`, and the inlet to a fresh playout.
    pub fn open(
        &mut self,
        consent: MicConsent,
        track: Arc<TrackLocalStaticSample>,
        inlet: &Inlet,
    ) -> Result<(), VoiceError> {
        self.close(inlet);
        let playout: Speaker = Arc::new(Mutex::new(Playout::new()?));
        let encoder = VoiceEncoder::new()?;
        if self.devices.is_none() {
            self.devices = Some(Devices::start(self.events_tx.clone())?);
        }
        let (mic_tx, mic_rx) = mpsc::channel(MIC_QUEUE);
        self.encoder = Some(tokio::spawn(send_voice(mic_rx, encoder, track)));
        inlet.set(Some(Arc::clone(&playout)));
        if let Some(devices) = &self.devices {
            devices.send(Command::Open {
                consent,
                mic: mic_tx,
                speaker: playout,
            });
        }
        Ok(())
    }

    /// Turns the microphone off (closed, not just silenced) or on again.
    pub fn mute(&self, muted: bool) {
        if let Some(devices) = &self.devices {
            devices.send(Command::Mute(muted));
        }
    }

    /// Ends the call: devices closed, nothing more sent or played.
    pub fn close(&mut self, inlet: &Inlet) {
        inlet.set(None);
        if let Some(devices) = &self.devices {
            devices.send(Command::Close);
        }
        if let Some(encoder) = self.encoder.take() {
            encoder.abort();
        }
    }
}

/// Codes the microphone's sound in 20 ms frames and writes each to the track, paced by
/// the microphone's own clock; ends when the microphone's channel closes.
async fn send_voice(
    mut mic: mpsc::Receiver<Vec<f32>>,
    mut encoder: VoiceEncoder,
    track: Arc<TrackLocalStaticSample>,
) {
    let mut framer = Framer::default();
    let mut last: Option<Instant> = None;
    let frame_time = Duration::from_millis((FRAME as u64 * 1000) / u64::from(RATE));
    while let Some(chunk) = mic.recv().await {
        let now = Instant::now();
        if let Some(gap) = last.map(|l| now.saturating_duration_since(l))
            && gap > GAP
        {
            // Muted meanwhile: the timestamps jump the pause (nothing is sent for it).
            framer.clear();
            let skip = Sample {
                data: Bytes::new(),
                duration: gap,
                ..Default::default()
            };
            let _ = track.write_sample(&skip).await;
        }
        last = Some(now);
        for frame in framer.push(&chunk) {
            let packet = match encoder.encode(&frame) {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(error = %e, "voice frame not coded");
                    continue;
                }
            };
            let sample = Sample {
                data: Bytes::from(packet),
                duration: frame_time,
                ..Default::default()
            };
            if let Err(e) = track.write_sample(&sample).await {
                tracing::debug!(error = %e, "voice frame not sent");
            }
        }
    }
}
