//! The mouse pointer, fetched with XFIXES and drawn into captured frames.

use x11rb::protocol::xfixes::ConnectionExt as _;
use x11rb::protocol::xproto::{ConnectionExt as _, Window};
use x11rb::rust_connection::RustConnection;

use super::conn_err;
use crate::capture::CaptureError;

/// Where the pointer is and what it looks like.
#[derive(Default)]
pub(super) struct Pointer {
    x: i32,
    y: i32,
    hot_x: i32,
    hot_y: i32,
    width: usize,
    height: usize,
    /// Premultiplied ARGB, one u32 per pixel, as XFIXES sends it.
    image: Vec<u32>,
    loaded: bool,
}

impl Pointer {
    /// Refreshes position (and image, when its shape changed); true if anything moved.
    pub(super) fn update(
        &mut self,
        conn: &RustConnection,
        root: Window,
        shape_changed: bool,
    ) -> Result<bool, CaptureError> {
        if shape_changed || !self.loaded {
            let img = conn
                .xfixes_get_cursor_image()
                .map_err(conn_err)?
                .reply()
                .map_err(conn_err)?;
            self.hot_x = i32::from(img.xhot);
            self.hot_y = i32::from(img.yhot);
            self.width = usize::from(img.width);
            self.height = usize::from(img.height);
            self.image = img.cursor_image;
            self.loaded = true;
            self.x = i32::from(img.x);
            self.y = i32::from(img.y);
            return Ok(true);
        }
        let p = conn
            .query_pointer(root)
            .map_err(conn_err)?
            .reply()
            .map_err(conn_err)?;
        let (x, y) = (i32::from(p.root_x), i32::from(p.root_y));
        let moved = (x, y) != (self.x, self.y);
        self.x = x;
        self.y = y;
        Ok(moved)
    }

    /// Blends the pointer onto a B, G, R, X frame.
    pub(super) fn draw(&self, frame: &mut [u8], width: usize, height: usize) {
        if self.image.len() < self.width * self.height {
            return;
        }
        let left = self.x - self.hot_x;
        let top = self.y - self.hot_y;
        for row in 0..self.height {
            let y = top + row as i32;
            if y < 0 || y as usize >= height {
                continue;
            }
            for col in 0..self.width {
                let x = left + col as i32;
                if x < 0 || x as usize >= width {
                    continue;
                }
                let argb = self.image[row * self.width + col];
                let alpha = argb >> 24;
                if alpha == 0 {
                    continue;
                }
                let at = (y as usize * width + x as usize) * 4;
                let src = [argb & 0xff, (argb >> 8) & 0xff, (argb >> 16) & 0xff];
                for (i, s) in src.into_iter().enumerate() {
                    // Premultiplied "over": dst = src + dst * (1 - alpha).
                    let d = u32::from(frame[at + i]);
                    frame[at + i] = (s + d * (255 - alpha) / 255).min(255) as u8;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opaque_pointer_pixel_replaces_the_frame_pixel_and_clips_at_edges() {
        let p = Pointer {
            x: 1,
            y: 0,
            hot_x: 0,
            hot_y: 0,
            width: 2,
            height: 1,
            image: vec![0xff_ff_00_00, 0x00_00_00_00],
            loaded: true,
        };
        let mut frame = vec![10u8; 2 * 4];
        p.draw(&mut frame, 2, 1);
        assert_eq!(
            &frame[4..7],
            &[0x00, 0x00, 0xff],
            "red pointer pixel in BGR order"
        );
        assert_eq!(
            &frame[0..3],
            &[10, 10, 10],
            "pixels outside the pointer untouched"
        );
    }
}
