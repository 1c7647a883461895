//! Video encoding behind the [`Encoder`] trait. The H.264 encoder (OpenH264, built from
//! source) is what Chromium decodes in WebRTC; see docs/architecture.md for the choice
//! against VP8.

pub mod h264;

use crate::capture::Frame;

/// One encoded picture, ready to packetise.
#[derive(Debug, Clone)]
pub struct EncodedFrame {
    /// Annex-B bitstream (start codes, SPS/PPS before keyframes).
    pub data: Vec<u8>,
    /// Whether the decoder can start from this picture.
    pub keyframe: bool,
}

/// Why encoding failed.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    /// The encoder could not be created for this size.
    #[error("cannot create the video encoder for {width}x{height}: {message}")]
    Init {
        /// Width asked.
        width: u32,
        /// Height asked.
        height: u32,
        /// The cause.
        message: String,
    },
    /// A frame could not be encoded.
    #[error("video encoding failed: {0}")]
    Encode(String),
}

/// The H.264 quantiser of a sharp picture (OpenH264's default, text crisp at 1080p).
pub const SHARP_QUANTISER: u8 = 26;

/// Turns screen frames into a compressed video stream.
pub trait Encoder: Send {
    /// The H.264 quantiser (0–51, higher is coarser) of the next pictures: they keep it
    /// until told otherwise. Coarser pictures are smaller, for moving pictures on a slow
    /// path; the first picture is always [`SHARP_QUANTISER`].
    fn set_quantiser(&mut self, qp: u8);

    /// Encodes one frame; `keyframe` forces a picture the decoder can start from.
    /// Returns `None` when the encoder chose to skip the frame.
    fn encode(
        &mut self,
        frame: &Frame<'_>,
        keyframe: bool,
    ) -> Result<Option<EncodedFrame>, EncodeError>;
}
