//! An in-memory capturer for tests: a solid colour that changes when told to.

use super::{CaptureError, Capturer, Frame};

/// A screen of one colour; [`FakeScreen::paint`] changes it.
pub struct FakeScreen {
    width: u32,
    height: u32,
    pixels: Vec<u8>,
    changed: bool,
    frames: u64,
}

impl FakeScreen {
    /// A black screen of the given size.
    pub fn new(width: u32, height: u32) -> Self {
        let len = width as usize * height as usize * 4;
        Self {
            width,
            height,
            pixels: vec![0; len],
            changed: true,
            frames: 0,
        }
    }

    /// Fills the screen with an RGB colour.
    pub fn paint(&mut self, rgb: [u8; 3]) {
        for px in self.pixels.chunks_exact_mut(4) {
            px.copy_from_slice(&[rgb[2], rgb[1], rgb[0], 0xff]);
        }
        self.changed = true;
    }
}

impl Capturer for FakeScreen {
    fn capture(&mut self, force: bool) -> Result<Option<Frame<'_>>, CaptureError> {
        if !(self.changed || force) {
            return Ok(None);
        }
        self.changed = false;
        self.frames += 1;
        Ok(Some(Frame {
            width: self.width,
            height: self.height,
            stride: self.width as usize * 4,
            data: &self.pixels,
        }))
    }

    fn frames_captured(&self) -> u64 {
        self.frames
    }
}
