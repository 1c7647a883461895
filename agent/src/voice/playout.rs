//! The caseworker's voice from RTP packets to the speakers, IO-free: packets in sequence
//! order are decoded, a lost one is rebuilt (Opus FEC) or concealed, late and repeated
//! ones are dropped, and a short buffer absorbs the network's jitter. The speakers'
//! callback pulls from it at their own pace; when the two clocks drift apart the buffer
//! is trimmed rather than let grow.

use std::collections::VecDeque;

use super::VoiceError;
use super::codec::{FRAME, VoiceDecoder};

/// Played once this much is buffered (60 ms): room for the network's jitter.
pub const PREBUFFER: usize = FRAME * 3;
/// Beyond this (200 ms) the oldest sound is dropped back to [`PREBUFFER`]: a call must
/// not drift into a walkie-talkie.
pub const MAX_BUFFER: usize = FRAME * 10;
/// Most lost frames rebuilt in one gap; a longer gap is silence, not 1 s of guesses.
const MAX_CONCEAL: u16 = 5;

/// The receiving side of one call.
pub struct Playout {
    decoder: VoiceDecoder,
    buffer: VecDeque<f32>,
    last_seq: Option<u16>,
    playing: bool,
    /// Packets decoded.
    pub packets: u64,
    /// Frames rebuilt or concealed.
    pub concealed: u64,
}

impl Playout {
    /// Nothing received yet.
    pub fn new() -> Result<Self, VoiceError> {
        Ok(Self {
            decoder: VoiceDecoder::new()?,
            buffer: VecDeque::with_capacity(MAX_BUFFER + FRAME * 6),
            last_seq: None,
            playing: false,
            packets: 0,
            concealed: 0,
        })
    }

    /// One RTP packet's sequence number and Opus payload.
    pub fn packet(&mut self, seq: u16, payload: &[u8]) -> Result<(), VoiceError> {
        let mut samples = Vec::with_capacity(FRAME * 2);
        if let Some(last) = self.last_seq {
            let ahead = seq.wrapping_sub(last);
            // A repeat, or older than what was played: too late to use.
            if ahead == 0 || ahead > u16::MAX / 2 {
                return Ok(());
            }
            let missing = (ahead - 1).min(MAX_CONCEAL);
            for i in 0..missing {
                // The frame just before this packet is in its FEC; the others are guessed.
                let next = (i + 1 == missing).then_some(payload);
                self.decoder.lost(next, &mut samples)?;
                self.concealed += 1;
            }
        }
        self.last_seq = Some(seq);
        self.decoder.decode(payload, &mut samples)?;
        self.packets += 1;
        self.buffer.extend(samples);
        if self.buffer.len() > MAX_BUFFER {
            let excess = self.buffer.len() - PREBUFFER;
            self.buffer.drain(..excess);
        }
        Ok(())
    }

    /// Fills `out` with what is due, or silence while (re)buffering.
    pub fn pull(&mut self, out: &mut [f32]) {
        if !self.playing && self.buffer.len() >= PREBUFFER {
            self.playing = true;
        }
        let mut filled = 0;
        if self.playing {
            for o in out.iter_mut() {
                match self.buffer.pop_front() {
                    Some(s) => {
                        *o = s;
                        filled += 1;
                    }
                    None => break,
                }
            }
            if filled < out.len() {
                // Ran dry: wait for a little store again before playing on.
                self.playing = false;
            }
        }
        out[filled..].fill(0.0);
    }

    /// Samples waiting to be played.
    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::voice::codec::{Framer, VoiceEncoder, rms};

    fn packets(n: usize) -> Vec<Vec<u8>> {
        let mut enc = VoiceEncoder::new().unwrap();
        let samples: Vec<f32> = (0..FRAME * n)
            .map(|i| 0.5 * (i as f32 * 0.0576).sin())
            .collect();
        Framer::default()
            .push(&samples)
            .iter()
            .map(|f| enc.encode(f).unwrap())
            .collect()
    }

    #[test]
    fn sound_plays_after_a_short_store_and_silence_fills_a_gap() {
        let mut p = Playout::new().unwrap();
        let pk = packets(10);
        let mut out = vec![1.0; FRAME];
        p.packet(1, &pk[0]).unwrap();
        p.pull(&mut out);
        assert!(out.iter().all(|&s| s == 0.0), "not before 60 ms are stored");
        for (i, packet) in pk.iter().enumerate().skip(1).take(3) {
            p.packet(1 + i as u16, packet).unwrap();
        }
        p.pull(&mut out);
        assert_eq!(p.buffered(), FRAME * 3);
        let mut out = vec![0.0; FRAME * 4];
        p.pull(&mut out);
        assert!(
            out[FRAME * 3..].iter().all(|&s| s == 0.0),
            "ran dry: silence"
        );
        assert_eq!(p.buffered(), 0);
    }

    #[test]
    fn lost_packets_are_rebuilt_and_late_or_repeated_ones_dropped() {
        let mut p = Playout::new().unwrap();
        let pk = packets(10);
        // Sequence numbers wrap: 65534, 65535, (0 lost), 1.
        p.packet(65534, &pk[0]).unwrap();
        p.packet(65535, &pk[1]).unwrap();
        p.packet(1, &pk[3]).unwrap();
        assert_eq!((p.packets, p.concealed), (3, 1));
        assert_eq!(p.buffered(), FRAME * 4);
        p.packet(0, &pk[2]).unwrap();
        p.packet(1, &pk[3]).unwrap();
        assert_eq!(p.packets, 3, "late and repeated packets are not played");
        // A long gap: at most five frames are made up.
        p.packet(1000, &pk[4]).unwrap();
        assert_eq!(p.concealed, 6);
        let mut out = vec![0.0; FRAME * 2];
        p.pull(&mut out);
        assert!(rms(&out) > 0.05, "the voice plays");
    }

    #[test]
    fn the_store_never_grows_past_200_ms() {
        let mut p = Playout::new().unwrap();
        for (i, packet) in packets(30).iter().enumerate() {
            p.packet(i as u16, packet).unwrap();
            assert!(p.buffered() <= MAX_BUFFER);
        }
    }
}
