//! Sound as WebRTC wants it: 48 kHz mono in 20 ms frames, Opus-coded. IO-free: the
//! devices' own rates and channel counts are converted here ([`Resampler`], [`downmix`]),
//! frames are gathered ([`Framer`]), and [`VoiceEncoder`] / [`VoiceDecoder`] wrap libopus.

use opusic_c::{Application, Bitrate, Channels, Decoder, Encoder, InbandFec, SampleRate, Signal};

use super::VoiceError;

/// The one rate of the call (Opus in WebRTC is 48 kHz).
pub const RATE: u32 = 48_000;
/// Samples in one 20 ms frame at [`RATE`].
pub const FRAME: usize = 960;
/// Bits per second for speech: clear voice, small against the screen on a weak link.
pub const BITRATE: u32 = 24_000;
/// Largest Opus packet we write (RFC 6716 caps a frame well below this).
const MAX_PACKET: usize = 1500;

/// Mono from interleaved samples of `channels` channels (their mean).
pub fn downmix(interleaved: &[f32], channels: usize) -> Vec<f32> {
    let channels = channels.max(1);
    interleaved
        .chunks(channels)
        .map(|c| c.iter().sum::<f32>() / c.len() as f32)
        .collect()
}

/// A linear resampler, fed a stream (`push`) or pulled by one (`pull`); the position
/// between calls is kept, so chunks of any size join without a click.
#[derive(Debug, Clone)]
pub struct Resampler {
    /// Input samples per output sample.
    step: f64,
    /// Where the next output falls between `prev` (0) and `cur` (1).
    at: f64,
    prev: f32,
    cur: f32,
}

impl Resampler {
    /// From `from` Hz to `to` Hz.
    pub fn new(from: u32, to: u32) -> Self {
        Self {
            step: f64::from(from.max(1)) / f64::from(to.max(1)),
            at: 1.0,
            prev: 0.0,
            cur: 0.0,
        }
    }

    /// Whether it changes anything (rates differ).
    pub fn is_identity(&self) -> bool {
        self.step == 1.0
    }

    /// Converts `input`, appending to `out`.
    pub fn push(&mut self, input: &[f32], out: &mut Vec<f32>) {
        for &s in input {
            self.prev = self.cur;
            self.cur = s;
            self.at -= 1.0;
            while self.at < 1.0 {
                out.push(self.lerp());
                self.at += self.step;
            }
        }
    }

    /// Fills `out`, taking input samples from `next` as needed.
    pub fn pull(&mut self, out: &mut [f32], mut next: impl FnMut() -> f32) {
        for o in out {
            while self.at >= 1.0 {
                self.prev = self.cur;
                self.cur = next();
                self.at -= 1.0;
            }
            *o = self.lerp();
            self.at += self.step;
        }
    }

    fn lerp(&self) -> f32 {
        let t = self.at.clamp(0.0, 1.0) as f32;
        self.prev + (self.cur - self.prev) * t
    }
}

/// Gathers samples into whole 20 ms frames.
#[derive(Debug, Default)]
pub struct Framer {
    pending: Vec<f32>,
}

impl Framer {
    /// Adds samples; returns every frame now complete.
    pub fn push(&mut self, samples: &[f32]) -> Vec<[f32; FRAME]> {
        self.pending.extend_from_slice(samples);
        let whole = self.pending.len() / FRAME;
        let mut frames = Vec::with_capacity(whole);
        for chunk in self.pending.chunks_exact(FRAME) {
            let mut frame = [0.0; FRAME];
            frame.copy_from_slice(chunk);
            frames.push(frame);
        }
        self.pending.drain(..whole * FRAME);
        frames
    }

    /// Forgets a partial frame (after a pause, it would join two moments).
    pub fn clear(&mut self) {
        self.pending.clear();
    }
}

fn to_pcm(frame: &[f32]) -> Vec<u16> {
    // libopus takes signed 16-bit samples; the wrapper types them as u16.
    frame
        .iter()
        .map(|s| ((s.clamp(-1.0, 1.0) * 32767.0).round() as i16) as u16)
        .collect()
}

fn from_pcm(pcm: &[u16]) -> impl Iterator<Item = f32> + '_ {
    pcm.iter().map(|&s| f32::from(s as i16) / 32768.0)
}

/// Opus, set for speech on weak links: in-band FEC, tuned for some loss.
pub struct VoiceEncoder {
    opus: Encoder,
}

impl VoiceEncoder {
    /// A 48 kHz mono speech encoder.
    pub fn new() -> Result<Self, VoiceError> {
        let opus = Encoder::new(Channels::Mono, SampleRate::Hz48000, Application::Voip)
            .map_err(|e| VoiceError::Codec(format!("{e:?}")))?;
        let mut enc = Self { opus };
        enc.set(|o| o.set_bitrate(Bitrate::Value(BITRATE)))?;
        enc.set(|o| o.set_signal(Signal::Voice))?;
        // A lost packet is rebuilt from the next one: shelter wifi loses some.
        enc.set(|o| o.set_inband_fec(InbandFec::Mode1))?;
        enc.set(|o| o.set_packet_loss(10))?;
        Ok(enc)
    }

    fn set(
        &mut self,
        f: impl FnOnce(&mut Encoder) -> Result<(), opusic_c::ErrorCode>,
    ) -> Result<(), VoiceError> {
        f(&mut self.opus).map_err(|e| VoiceError::Codec(format!("{e:?}")))
    }

    /// One frame → one Opus packet.
    pub fn encode(&mut self, frame: &[f32; FRAME]) -> Result<Vec<u8>, VoiceError> {
        let mut out = vec![0u8; MAX_PACKET];
        let n = self
            .opus
            .encode_to_slice(&to_pcm(frame), &mut out)
            .map_err(|e| VoiceError::Codec(format!("{e:?}")))?;
        out.truncate(n);
        Ok(out)
    }
}

/// Opus decoding of the caseworker's voice, with loss concealment.
pub struct VoiceDecoder {
    opus: Decoder,
    pcm: Vec<u16>,
}

impl VoiceDecoder {
    /// A 48 kHz mono decoder (the browser's stereo is folded by libopus).
    pub fn new() -> Result<Self, VoiceError> {
        let opus = Decoder::new(Channels::Mono, SampleRate::Hz48000)
            .map_err(|e| VoiceError::Codec(format!("{e:?}")))?;
        // Room for the longest Opus packet, 120 ms.
        Ok(Self {
            opus,
            pcm: vec![0; FRAME * 6],
        })
    }

    /// Decodes a packet, appending its samples.
    pub fn decode(&mut self, packet: &[u8], out: &mut Vec<f32>) -> Result<(), VoiceError> {
        let n = self
            .opus
            .decode_to_slice(packet, &mut self.pcm, false)
            .map_err(|e| VoiceError::Codec(format!("{e:?}")))?;
        out.extend(from_pcm(&self.pcm[..n.min(self.pcm.len())]));
        Ok(())
    }

    /// One frame that was lost: rebuilt from the packet after it (`next`, its in-band
    /// FEC) when there is one, else concealed.
    pub fn lost(&mut self, next: Option<&[u8]>, out: &mut Vec<f32>) -> Result<(), VoiceError> {
        let (input, fec) = match next {
            Some(p) => (p, true),
            None => (&[][..], false),
        };
        let n = self
            .opus
            .decode_to_slice(input, &mut self.pcm[..FRAME], fec)
            .map_err(|e| VoiceError::Codec(format!("{e:?}")))?;
        out.extend(from_pcm(&self.pcm[..n.min(FRAME)]));
        Ok(())
    }
}

/// Root mean square of samples: 0 for silence, about 0.35 for a -9 dBFS tone.
pub fn rms(samples: &[f32]) -> f32 {
    if samples.is_empty() {
        return 0.0;
    }
    (samples.iter().map(|s| s * s).sum::<f32>() / samples.len() as f32).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(rate: u32, secs: f32, hz: f32) -> Vec<f32> {
        let n = (rate as f32 * secs) as usize;
        (0..n)
            .map(|i| 0.5 * (2.0 * std::f32::consts::PI * hz * i as f32 / rate as f32).sin())
            .collect()
    }

    #[test]
    fn resampling_keeps_the_length_in_time_and_joins_chunks() {
        let input = tone(44_100, 1.0, 440.0);
        let mut whole = Vec::new();
        Resampler::new(44_100, RATE).push(&input, &mut whole);
        assert!((whole.len() as i64 - 48_000).abs() <= 2, "{}", whole.len());
        let mut pieces = Vec::new();
        let mut r = Resampler::new(44_100, RATE);
        for chunk in input.chunks(441) {
            r.push(chunk, &mut pieces);
        }
        assert_eq!(pieces, whole, "chunked the same as whole");
        let mut pulled = vec![0.0; 44_100];
        let mut src = whole.iter().copied();
        Resampler::new(RATE, 44_100).pull(&mut pulled, || src.next().unwrap_or(0.0));
        assert!(
            (rms(&pulled) - rms(&input)).abs() < 0.01,
            "the level is kept"
        );
        assert!(Resampler::new(RATE, RATE).is_identity());
    }

    #[test]
    fn frames_are_whole_and_downmix_is_the_mean() {
        let mut f = Framer::default();
        assert!(f.push(&[0.1; 900]).is_empty());
        let frames = f.push(&[0.1; 1100]);
        assert_eq!(frames.len(), 2);
        assert_eq!(f.push(&[0.1; 79]).len(), 0, "40 + 79 < 960");
        assert_eq!(downmix(&[1.0, 0.0, 0.5, 0.5], 2), vec![0.5, 0.5]);
    }

    #[test]
    fn a_tone_goes_through_opus_and_comes_back_as_loud_and_silence_stays_silent() {
        let mut enc = VoiceEncoder::new().unwrap();
        let mut dec = VoiceDecoder::new().unwrap();
        let mut framer = Framer::default();
        let input = tone(RATE, 1.0, 440.0);
        let mut out = Vec::new();
        let mut bytes = 0;
        for frame in framer.push(&input) {
            let packet = enc.encode(&frame).unwrap();
            bytes += packet.len();
            dec.decode(&packet, &mut out).unwrap();
        }
        assert_eq!(out.len(), input.len());
        // The codec's start-up delay aside, the level comes back.
        let level = rms(&out[FRAME * 5..]);
        assert!((level - rms(&input)).abs() < 0.1, "{level}");
        assert!(
            bytes * 8 <= (BITRATE as usize) * 13 / 10,
            "{bytes} bytes in 1 s"
        );
        let mut quiet = Vec::new();
        for frame in framer.push(&[0.0; FRAME * 10]) {
            dec.decode(&enc.encode(&frame).unwrap(), &mut quiet)
                .unwrap();
        }
        assert!(rms(&quiet[FRAME * 5..]) < 0.01);
        let mut concealed = Vec::new();
        dec.lost(None, &mut concealed).unwrap();
        assert_eq!(concealed.len(), FRAME, "one frame stands in for a lost one");
    }
}
