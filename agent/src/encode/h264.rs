//! H.264 with OpenH264 at constant quality, tuned for screens. OpenH264's bitrate modes
//! keep spending their budget on an unchanged form (several KiB per refresh); at constant
//! quality a refresh of a still screen costs a few bytes and a typed letter well under
//! one KiB, with text as sharp on the first frame as on the tenth. Real-time camera mode
//! is the default: at constant quality it spends the same bytes as screen-content mode
//! and encodes about 2.5× faster (`cargo bench -p acote-agent --bench encode`).
//!
//! The quantiser can change between pictures ([`Encoder::set_quantiser`]): the wrapper
//! sets OpenH264's parameters once, so the change goes through OpenH264's own
//! `SetOption` with its current parameters, the layer's QP alone changed. OpenH264
//! applies that without a new keyframe (only size, layer and slice changes reset it).

use openh264::OpenH264API;
use openh264::encoder::{
    BitRate, Complexity, EncoderConfig, FrameRate, FrameType, IntraFramePeriod, RateControlMode,
    UsageType,
};
use openh264::formats::{BgraSliceU8, YUVBuffer};

use super::{EncodeError, EncodedFrame, Encoder};
use crate::capture::Frame;

/// Settings for the H.264 encoder.
#[derive(Debug, Clone, Copy)]
pub struct H264Settings {
    /// Bitrate the encoder plans for (a ceiling for its buffers; quality is constant).
    pub bitrate_bps: u32,
    /// Highest frame rate the encoder plans for.
    pub max_fps: f32,
    /// OpenH264's screen-content mode (sharper on text, several times slower).
    pub screen_content: bool,
}

impl Default for H264Settings {
    fn default() -> Self {
        Self {
            bitrate_bps: 2_500_000,
            max_fps: 30.0,
            screen_content: false,
        }
    }
}

/// OpenH264 encoder, recreated when the screen size changes.
pub struct H264Encoder {
    settings: H264Settings,
    inner: Option<(openh264::encoder::Encoder, u32, u32)>,
    /// The quantiser asked for the next pictures.
    quantiser: u8,
    /// The quantiser OpenH264 has now; `None` until it has encoded a picture (it sets
    /// its parameters then).
    applied: Option<u8>,
    yuv: Option<YUVBuffer>,
    /// Even-sized copy of frames whose width or height is odd (H.264 needs even sizes).
    scratch: Vec<u8>,
}

impl H264Encoder {
    /// An encoder with these settings; the OpenH264 instance is made on the first frame.
    pub fn new(settings: H264Settings) -> Self {
        Self {
            settings,
            inner: None,
            quantiser: super::SHARP_QUANTISER,
            applied: None,
            yuv: None,
            scratch: Vec::new(),
        }
    }

    fn ensure(&mut self, width: u32, height: u32) -> Result<(), EncodeError> {
        if matches!(&self.inner, Some((_, w, h)) if (*w, *h) == (width, height)) {
            return Ok(());
        }
        let usage = if self.settings.screen_content {
            UsageType::ScreenContentRealTime
        } else {
            UsageType::CameraVideoRealTime
        };
        let config = EncoderConfig::new()
            .usage_type(usage)
            .bitrate(BitRate::from_bps(self.settings.bitrate_bps))
            .max_frame_rate(FrameRate::from_hz(self.settings.max_fps))
            .rate_control_mode(RateControlMode::Off)
            .skip_frames(false)
            // Neither applies to screen content; saying so keeps OpenH264 from warning.
            .adaptive_quantization(!self.settings.screen_content)
            .background_detection(!self.settings.screen_content)
            .complexity(Complexity::Low)
            // Keyframes only on request (PLI) or at start: they are large on a screen.
            .intra_frame_period(IntraFramePeriod::from_num_frames(0));
        let encoder =
            openh264::encoder::Encoder::with_api_config(OpenH264API::from_source(), config)
                .map_err(|e| EncodeError::Init {
                    width,
                    height,
                    message: e.to_string(),
                })?;
        self.inner = Some((encoder, width, height));
        self.applied = None;
        self.yuv = Some(YUVBuffer::new(width as usize, height as usize));
        Ok(())
    }
}

impl Encoder for H264Encoder {
    fn set_quantiser(&mut self, qp: u8) {
        self.quantiser = qp.min(51);
    }

    fn encode(
        &mut self,
        frame: &Frame<'_>,
        keyframe: bool,
    ) -> Result<Option<EncodedFrame>, EncodeError> {
        let (width, height) = (frame.width & !1, frame.height & !1);
        if width == 0 || height == 0 {
            return Ok(None);
        }
        self.ensure(width, height)?;
        let tight = frame.stride == width as usize * 4;
        let pixels: &[u8] = if tight {
            &frame.data[..width as usize * height as usize * 4]
        } else {
            self.scratch.clear();
            for row in 0..height as usize {
                let start = row * frame.stride;
                self.scratch
                    .extend_from_slice(&frame.data[start..start + width as usize * 4]);
            }
            &self.scratch
        };
        let (Some((encoder, _, _)), Some(yuv)) = (self.inner.as_mut(), self.yuv.as_mut()) else {
            return Ok(None);
        };
        yuv.read_bgra8(BgraSliceU8::new(pixels, (width as usize, height as usize)));
        if keyframe {
            encoder.force_intra_frame();
        }
        if let Some(applied) = self.applied
            && applied != self.quantiser
        {
            set_layer_qp(encoder, self.quantiser)?;
            self.applied = Some(self.quantiser);
        }
        let stream = encoder
            .encode(yuv)
            .map_err(|e| EncodeError::Encode(e.to_string()))?;
        // OpenH264 sets its parameters at its first picture, at its default QP (ours for
        // sharp pictures); a quantiser asked for before applies from the next one.
        self.applied.get_or_insert(super::SHARP_QUANTISER);
        let kind = stream.frame_type();
        if matches!(kind, FrameType::Skip | FrameType::Invalid) {
            return Ok(None);
        }
        let data = stream.to_vec();
        if data.is_empty() {
            return Ok(None);
        }
        Ok(Some(EncodedFrame {
            data,
            keyframe: matches!(kind, FrameType::IDR | FrameType::I),
        }))
    }
}

/// Changes the QP of OpenH264's one layer, keeping every other parameter as it is now.
#[allow(unsafe_code)]
fn set_layer_qp(encoder: &mut openh264::encoder::Encoder, qp: u8) -> Result<(), EncodeError> {
    let mut params = openh264_sys2::SEncParamExt::default();
    // SAFETY: the encoder was initialised by its first `encode` (we are called only after
    // one). GetOption copies its current parameters into a struct of exactly this type;
    // SetOption reads the same struct back. Neither keeps the pointer.
    let status = unsafe {
        let raw = encoder.raw_api();
        let got = raw.get_option(
            openh264_sys2::ENCODER_OPTION_SVC_ENCODE_PARAM_EXT,
            std::ptr::addr_of_mut!(params).cast(),
        );
        if got != 0 {
            got
        } else {
            params.sSpatialLayers[0].iDLayerQp = i32::from(qp.min(51));
            raw.set_option(
                openh264_sys2::ENCODER_OPTION_SVC_ENCODE_PARAM_EXT,
                std::ptr::addr_of_mut!(params).cast(),
            )
        }
    };
    if status != 0 {
        return Err(EncodeError::Encode(format!(
            "OpenH264 refused quantiser {qp} (status {status})"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::Capturer;
    use crate::capture::fake::FakeScreen;
    use crate::encode::SHARP_QUANTISER;

    #[test]
    fn first_frame_is_a_keyframe_with_parameter_sets_and_later_ones_are_small() {
        let mut screen = FakeScreen::new(320, 240);
        let mut enc = H264Encoder::new(H264Settings::default());
        let frame = screen.capture(false).unwrap().unwrap();
        let first = enc.encode(&frame, false).unwrap().unwrap();
        assert!(first.keyframe);
        assert!(first.data.starts_with(&[0, 0, 0, 1]), "Annex-B start code");
        // NAL type 7 (SPS) present before the IDR picture.
        assert!(
            first
                .data
                .windows(5)
                .any(|w| w[..4] == [0, 0, 0, 1] && w[4] & 0x1f == 7)
        );
        let frame = screen.capture(true).unwrap().unwrap();
        let second = enc.encode(&frame, false).unwrap().unwrap();
        assert!(!second.keyframe);
        assert!(second.data.len() < first.data.len());
        let frame = screen.capture(true).unwrap().unwrap();
        assert!(
            enc.encode(&frame, true).unwrap().unwrap().keyframe,
            "forced keyframe"
        );
    }

    /// A screen of fine detail (text-like strokes) shifted `by` pixels: BGRA.
    fn detailed(width: usize, height: usize, by: usize) -> Vec<u8> {
        let mut px = Vec::with_capacity(width * height * 4);
        for y in 0..height {
            for x in 0..width {
                let (sx, sy) = (x + by, y);
                let stroke = (sx % 9 < 2) ^ (sy % 7 == 0) ^ ((sx * 3 + sy * 5) % 23 < 4);
                let v = if stroke { 20 } else { 235 } as u8;
                px.extend_from_slice(&[v, v.wrapping_add((sx % 17) as u8), v, 0xff]);
            }
        }
        px
    }

    /// PSNR of the luma `decoded` shows against what `source` (BGRA) holds.
    fn luma_psnr(source: &[u8], width: usize, height: usize, decoded: &[u8], stride: usize) -> f64 {
        use openh264::formats::YUVSource;
        let mut yuv = YUVBuffer::new(width, height);
        yuv.read_bgra8(BgraSliceU8::new(source, (width, height)));
        let want = yuv.y();
        let mut err = 0.0;
        for y in 0..height {
            for x in 0..width {
                let d = f64::from(want[y * width + x]) - f64::from(decoded[y * stride + x]);
                err += d * d;
            }
        }
        let mse = err / (width * height) as f64;
        10.0 * (255.0 * 255.0 / mse.max(1e-9)).log10()
    }

    #[test]
    fn a_coarser_quantiser_makes_small_pictures_and_a_sharp_one_refines_them() {
        use openh264::formats::YUVSource;
        let (w, h) = (320usize, 240usize);
        fn frame(px: &[u8]) -> Frame<'_> {
            Frame {
                width: 320,
                height: 240,
                stride: 320 * 4,
                data: px,
            }
        }
        let still = detailed(w, h, 0);
        let moved = detailed(w, h, 5);
        let mut decoder = openh264::decoder::Decoder::new().unwrap();
        let mut show = |data: &[u8], source: &[u8]| -> f64 {
            let yuv = decoder.decode(data).unwrap().unwrap();
            luma_psnr(source, w, h, yuv.y(), yuv.strides().0)
        };
        // The same move, sharp: a second encoder for the reference size.
        let mut sharp = H264Encoder::new(H264Settings::default());
        sharp.encode(&frame(&still), false).unwrap().unwrap();
        let sharp_move = sharp.encode(&frame(&moved), false).unwrap().unwrap();

        let mut enc = H264Encoder::new(H264Settings::default());
        let first = enc.encode(&frame(&still), false).unwrap().unwrap();
        let first_psnr = show(&first.data, &still);
        enc.set_quantiser(40);
        let coarse = enc.encode(&frame(&moved), false).unwrap().unwrap();
        assert!(!coarse.keyframe, "a new quantiser needs no keyframe");
        assert!(
            coarse.data.len() * 2 < sharp_move.data.len(),
            "coarse {} B, sharp {} B",
            coarse.data.len(),
            sharp_move.data.len()
        );
        let coarse_psnr = show(&coarse.data, &moved);
        assert!(
            coarse_psnr + 5.0 < first_psnr,
            "{coarse_psnr} vs {first_psnr}"
        );
        // Still again: the same picture at the sharp quantiser brings the detail back.
        enc.set_quantiser(SHARP_QUANTISER);
        let refined = enc.encode(&frame(&moved), false).unwrap().unwrap();
        assert!(!refined.keyframe);
        let refined_psnr = show(&refined.data, &moved);
        assert!(
            refined_psnr > coarse_psnr + 5.0,
            "{refined_psnr} vs {coarse_psnr}"
        );
    }

    #[test]
    fn odd_sizes_are_cropped_to_even() {
        let mut screen = FakeScreen::new(101, 77);
        let mut enc = H264Encoder::new(H264Settings::default());
        let frame = screen.capture(false).unwrap().unwrap();
        assert!(enc.encode(&frame, false).unwrap().is_some());
    }
}
