//! The PC's microphone and speakers, through cpal: ALSA on Linux (PulseAudio or
//! PipeWire behind it on a desktop), WASAPI on Windows, CoreAudio on macOS (untested).
//! Every cpal call is made on one thread of its own ("acote-audio"): WASAPI wants its COM
//! apartment on the thread that made the stream, and a device that takes time to open
//! must not hold up the session. The driver sends [`Command`]s and hears back through
//! [`DeviceEvent`]s.
//!
//! The devices' own formats are taken as they come (WASAPI captures only in its mix
//! format): samples are converted to 48 kHz mono here, in the callbacks, which never
//! block (a bounded channel out, a short lock on the playout in).

use std::collections::VecDeque;
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex};

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{FromSample, SampleFormat, SizedSample, StreamConfig};
use tokio::sync::mpsc;

use super::VoiceError;
use super::call::MicConsent;
use super::codec::{RATE, Resampler, downmix};
use super::playout::Playout;

/// Samples sent to the encoder at a time: 10 ms at 48 kHz.
const MIC_CHUNK: usize = 480;

/// 48 kHz mono samples from the microphone, in chunks of about 10 ms.
pub type MicChunks = mpsc::Sender<Vec<f32>>;
/// The playout the speakers pull from.
pub type Speaker = Arc<Mutex<Playout>>;

/// What the driver asks of the audio thread.
pub enum Command {
    /// Open the microphone (unless muted) and the speakers, for a call the resident
    /// allowed.
    Open {
        /// The resident's yes.
        consent: MicConsent,
        /// Where the microphone's sound goes.
        mic: MicChunks,
        /// Where the speakers' sound comes from.
        speaker: Speaker,
    },
    /// Close the microphone (`true`: the OS's microphone light goes off) or open it again.
    Mute(bool),
    /// Close both.
    Close,
}

/// What the audio thread hears: the driver's commands, and its own streams failing
/// (`call` numbers the call, so a late error from an old call closes nothing new).
enum Job {
    Do(Command),
    StreamFailed { call: u64, error: VoiceError },
}

/// What the audio thread tells the driver.
#[derive(Debug)]
pub enum DeviceEvent {
    /// The devices of the call are open.
    Opened,
    /// They cannot be opened, or stopped working: the call ends.
    Failed(VoiceError),
}

/// The audio thread, seen from the driver.
pub struct Devices {
    tx: std_mpsc::Sender<Job>,
}

impl Devices {
    /// Starts the audio thread; its news come on `events`.
    pub fn start(events: mpsc::UnboundedSender<DeviceEvent>) -> Result<Self, VoiceError> {
        let (tx, rx) = std_mpsc::channel();
        let jobs = tx.clone();
        std::thread::Builder::new()
            .name("acote-audio".into())
            .spawn(move || serve(rx, jobs, events))
            .map_err(|e| VoiceError::Device(format!("cannot start the audio thread: {e}")))?;
        Ok(Self { tx })
    }

    /// Asks the audio thread; a thread that is gone has nothing open.
    pub fn send(&self, command: Command) {
        let _ = self.tx.send(Job::Do(command));
    }
}

/// What is open for the call under way.
struct Open {
    mic: Option<cpal::Stream>,
    _speaker: cpal::Stream,
    /// Kept to open the microphone again after a mute.
    chunks: MicChunks,
}

fn serve(
    rx: std_mpsc::Receiver<Job>,
    jobs: std_mpsc::Sender<Job>,
    events: mpsc::UnboundedSender<DeviceEvent>,
) {
    // The desktop's sound server when there is one, else the system's own (cpal's order).
    let host = cpal::default_host();
    tracing::info!(host = host.id().name(), "sound devices");
    let mut open: Option<Open> = None;
    let mut call = 0u64;
    while let Ok(job) = rx.recv() {
        let failed = |e| {
            let _ = events.send(DeviceEvent::Failed(e));
        };
        match job {
            Job::Do(Command::Open {
                consent,
                mic,
                speaker,
            }) => {
                open = None;
                call += 1;
                let on_error = OnError {
                    jobs: jobs.clone(),
                    call,
                };
                match open_call(&host, &consent, mic, speaker, &on_error) {
                    Ok(o) => {
                        open = Some(o);
                        let _ = events.send(DeviceEvent::Opened);
                    }
                    Err(e) => failed(e),
                }
            }
            Job::Do(Command::Mute(muted)) => {
                let Some(o) = open.as_mut() else { continue };
                if muted {
                    // Dropping the stream closes the device, not just its sound.
                    o.mic = None;
                } else if o.mic.is_none() {
                    let on_error = OnError {
                        jobs: jobs.clone(),
                        call,
                    };
                    match open_mic(&host, o.chunks.clone(), &on_error) {
                        Ok(stream) => o.mic = Some(stream),
                        Err(e) => {
                            open = None;
                            failed(e);
                        }
                    }
                }
            }
            Job::Do(Command::Close) => open = None,
            Job::StreamFailed { call: of, error } => {
                // Once per call: the streams are dropped, so no more errors come from them.
                if of == call && open.take().is_some() {
                    failed(error);
                }
            }
        }
    }
}

/// Where a stream's errors go: back to the audio thread, naming the call.
#[derive(Clone)]
struct OnError {
    jobs: std_mpsc::Sender<Job>,
    call: u64,
}

impl OnError {
    /// The stream's error callback: the call ends when the device is gone or refused; a
    /// glitch (an underrun, a moment without timing from a sound server) is only logged.
    fn callback(&self, what: &'static str) -> impl FnMut(cpal::Error) + Send + 'static {
        let this = self.clone();
        let mut glitches = 0u64;
        move |e: cpal::Error| {
            use cpal::ErrorKind as K;
            match e.kind() {
                K::DeviceNotAvailable
                | K::StreamInvalidated
                | K::PermissionDenied
                | K::HostUnavailable => {
                    let _ = this.jobs.send(Job::StreamFailed {
                        call: this.call,
                        error: device_error(what, e),
                    });
                }
                _ => {
                    glitches += 1;
                    // The first, then one in a thousand: a sound server may say it often.
                    if glitches == 1 || glitches.is_multiple_of(1000) {
                        tracing::debug!(kind = ?e.kind(), error = %e, glitches, "{what}: a glitch");
                    }
                }
            }
        }
    }
}

fn open_call(
    host: &cpal::Host,
    _consent: &MicConsent,
    mic: MicChunks,
    speaker: Speaker,
    on_error: &OnError,
) -> Result<Open, VoiceError> {
    let speaker = open_speaker(host, speaker, on_error)?;
    let stream = open_mic(host, mic.clone(), on_error)?;
    Ok(Open {
        mic: Some(stream),
        _speaker: speaker,
        chunks: mic,
    })
}

fn device_error(what: &str, e: impl std::fmt::Display) -> VoiceError {
    VoiceError::Device(format!("{what}: {e}"))
}

/// The device's config, at 48 kHz when it offers that (no resampling), else its default.
fn pick(
    supported: Vec<cpal::SupportedStreamConfigRange>,
    default: cpal::SupportedStreamConfig,
) -> cpal::SupportedStreamConfig {
    supported
        .into_iter()
        .filter(|r| {
            r.channels() == default.channels() && r.sample_format() == default.sample_format()
        })
        .find_map(|r| r.try_with_sample_rate(RATE))
        .unwrap_or(default)
}

/// Builds a stream with 5 ms periods, else with the device's own. A sound server reached
/// through ALSA (PulseAudio, PipeWire) wakes its client for every bit of sound it has,
/// and cpal's thread spins on those wake-ups until a whole period is there: the agent
/// took 43 % of a core during a call with the default period, 31 % with 10 ms, 12 % with
/// 5 ms and 10 % with 2.5 ms (measured, tests/e2e/voice.test.mjs's set-up); 5 ms keeps
/// a margin against underruns on a busy PC.
fn with_period(
    config: StreamConfig,
    what: &'static str,
    mut build: impl FnMut(StreamConfig) -> Result<cpal::Stream, cpal::Error>,
) -> Result<cpal::Stream, VoiceError> {
    let period = config.sample_rate / 200;
    let fixed = StreamConfig {
        buffer_size: cpal::BufferSize::Fixed(period),
        ..config
    };
    let stream = match build(fixed) {
        Ok(stream) => stream,
        Err(e) => {
            tracing::debug!(error = %e, "{what}: no 5 ms periods, the device's own");
            build(config).map_err(|e| device_error(what, e))?
        }
    };
    tracing::info!(
        rate = config.sample_rate,
        channels = config.channels,
        "{what} open"
    );
    Ok(stream)
}

fn open_mic(
    host: &cpal::Host,
    chunks: MicChunks,
    on_error: &OnError,
) -> Result<cpal::Stream, VoiceError> {
    let device = host
        .default_input_device()
        .ok_or_else(|| VoiceError::Device("no microphone".into()))?;
    let default = device
        .default_input_config()
        .map_err(|e| device_error("microphone", e))?;
    let supported = device
        .supported_input_configs()
        .map(|c| c.collect())
        .unwrap_or_default();
    let chosen = pick(supported, default);
    let format = chosen.sample_format();
    let stream = with_period(chosen.config(), "microphone", |config| {
        let (chunks, err) = (chunks.clone(), on_error.callback("microphone"));
        match format {
            SampleFormat::F32 => mic_stream::<f32>(&device, config, chunks, err),
            SampleFormat::I16 => mic_stream::<i16>(&device, config, chunks, err),
            SampleFormat::I32 => mic_stream::<i32>(&device, config, chunks, err),
            SampleFormat::U16 => mic_stream::<u16>(&device, config, chunks, err),
            _ => Err(cpal::ErrorKind::UnsupportedConfig.into()),
        }
    })?;
    stream.play().map_err(|e| device_error("microphone", e))?;
    Ok(stream)
}

fn mic_stream<T>(
    device: &cpal::Device,
    config: StreamConfig,
    chunks: MicChunks,
    err: impl FnMut(cpal::Error) + Send + 'static,
) -> Result<cpal::Stream, cpal::Error>
where
    T: SizedSample,
    f32: FromSample<T>,
{
    let channels = usize::from(config.channels).max(1);
    let mut resampler = Resampler::new(config.sample_rate, RATE);
    // Interleaved samples of a frame cut in two by the callback's chunk.
    let mut partial: Vec<f32> = Vec::new();
    // 48 kHz mono gathered up to 10 ms before it is sent: a sound server may call with a
    // few samples at a time, and the queue counts chunks, not samples.
    let mut gathered: Vec<f32> = Vec::with_capacity(MIC_CHUNK * 2);
    device.build_input_stream::<T, _, _>(
        config,
        move |data: &[T], _| {
            partial.extend(data.iter().map(|s| s.to_sample::<f32>()));
            let whole = partial.len() - partial.len() % channels;
            let mono = downmix(&partial[..whole], channels);
            partial.drain(..whole);
            if resampler.is_identity() {
                gathered.extend_from_slice(&mono);
            } else {
                resampler.push(&mono, &mut gathered);
            }
            if gathered.len() >= MIC_CHUNK {
                let chunk = std::mem::replace(&mut gathered, Vec::with_capacity(MIC_CHUNK * 2));
                // Full means the encoder is behind: this chunk is dropped, never waited for.
                let _ = chunks.try_send(chunk);
            }
        },
        err,
        None,
    )
}

fn open_speaker(
    host: &cpal::Host,
    speaker: Speaker,
    on_error: &OnError,
) -> Result<cpal::Stream, VoiceError> {
    let device = host
        .default_output_device()
        .ok_or_else(|| VoiceError::Device("no speaker".into()))?;
    let default = device
        .default_output_config()
        .map_err(|e| device_error("speaker", e))?;
    let supported = device
        .supported_output_configs()
        .map(|c| c.collect())
        .unwrap_or_default();
    let chosen = pick(supported, default);
    let format = chosen.sample_format();
    let stream = with_period(chosen.config(), "speaker", |config| {
        let (speaker, err) = (Arc::clone(&speaker), on_error.callback("speaker"));
        match format {
            SampleFormat::F32 => speaker_stream::<f32>(&device, config, speaker, err),
            SampleFormat::I16 => speaker_stream::<i16>(&device, config, speaker, err),
            SampleFormat::I32 => speaker_stream::<i32>(&device, config, speaker, err),
            SampleFormat::U16 => speaker_stream::<u16>(&device, config, speaker, err),
            _ => Err(cpal::ErrorKind::UnsupportedConfig.into()),
        }
    })?;
    stream.play().map_err(|e| device_error("speaker", e))?;
    Ok(stream)
}

fn speaker_stream<T>(
    device: &cpal::Device,
    config: StreamConfig,
    speaker: Speaker,
    err: impl FnMut(cpal::Error) + Send + 'static,
) -> Result<cpal::Stream, cpal::Error>
where
    T: SizedSample + FromSample<f32>,
{
    let channels = usize::from(config.channels).max(1);
    let mut resampler = Resampler::new(RATE, config.sample_rate);
    let mut mono: Vec<f32> = Vec::new();
    // Samples pulled from the playout but not yet resampled (resampling takes them one
    // by one, a chunk at a time from the playout).
    let mut carry: VecDeque<f32> = VecDeque::new();
    let mut chunk = [0.0f32; 480];
    device.build_output_stream::<T, _, _>(
        config,
        move |out: &mut [T], _| {
            let frames = out.len() / channels;
            mono.resize(frames, 0.0);
            // A poisoned lock (a panic elsewhere) plays silence rather than stopping.
            let Ok(mut playout) = speaker.lock() else {
                out.fill(T::EQUILIBRIUM);
                return;
            };
            if resampler.is_identity() {
                playout.pull(&mut mono);
            } else {
                resampler.pull(&mut mono, || {
                    if carry.is_empty() {
                        playout.pull(&mut chunk);
                        carry.extend(chunk);
                    }
                    carry.pop_front().unwrap_or(0.0)
                });
            }
            drop(playout);
            for (frame, &s) in out.chunks_mut(channels).zip(mono.iter()) {
                frame.fill(T::from_sample(s));
            }
        },
        err,
        None,
    )
}
