//! The X11 frame: an override-redirect window shaped to a frame, with an empty input
//! region so clicks go through.

use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::Duration;

use x11rb::connection::Connection;
use x11rb::protocol::shape::{ConnectionExt as _, SK, SO};
use x11rb::protocol::xproto::{
    ChangeWindowAttributesAux, ClipOrdering, ConfigureWindowAux, ConnectionExt as _,
    CreateWindowAux, Rectangle, StackMode, WindowClass,
};

use crate::ui::border::{BorderColour, ScreenBorder, THICKNESS};

/// The X11 frame, drawn by its own thread with its own connection.
pub struct X11Border {
    tx: Sender<Option<BorderColour>>,
    shown: Option<BorderColour>,
}

impl X11Border {
    /// Starts the frame's thread on `display` (or `$DISPLAY`); if the display cannot be
    /// used the frame is simply not shown (logged once).
    pub fn spawn(display: Option<String>) -> Self {
        let (tx, rx) = channel();
        super::spawn_overlay("acote-border", "border around the screen", display, rx, run);
        Self { tx, shown: None }
    }
}

impl ScreenBorder for X11Border {
    fn show(&mut self, colour: BorderColour) {
        if self.shown != Some(colour) {
            self.shown = Some(colour);
            let _ = self.tx.send(Some(colour));
        }
    }

    fn hide(&mut self) {
        if self.shown.take().is_some() {
            let _ = self.tx.send(None);
        }
    }
}

/// The four sides of a frame `t` thick around a `w`×`h` screen.
fn frame(w: u16, h: u16, t: u16) -> [Rectangle; 4] {
    let side = |x: u16, y: u16, width: u16, height: u16| Rectangle {
        x: x as i16,
        y: y as i16,
        width,
        height,
    };
    [
        side(0, 0, w, t),
        side(0, h.saturating_sub(t), w, t),
        side(0, 0, t, h),
        side(w.saturating_sub(t), 0, t, h),
    ]
}

fn run(
    display: Option<&str>,
    rx: &Receiver<Option<BorderColour>>,
) -> Result<(), Box<dyn std::error::Error>> {
    let (conn, screen_num) = x11rb::connect(display)?;
    let screen = conn.setup().roots.get(screen_num).ok_or("no such screen")?;
    let (root, width, height) = (screen.root, screen.width_in_pixels, screen.height_in_pixels);
    let win = conn.generate_id()?;
    let aux = CreateWindowAux::new()
        .override_redirect(1)
        .background_pixel(BorderColour::Sharing.rgb());
    conn.create_window(
        0,
        win,
        root,
        0,
        0,
        width,
        height,
        0,
        WindowClass::INPUT_OUTPUT,
        0,
        &aux,
    )?;
    let sides = frame(width, height, THICKNESS);
    conn.shape_rectangles(
        SO::SET,
        SK::BOUNDING,
        ClipOrdering::UNSORTED,
        win,
        0,
        0,
        &sides,
    )?;
    // No input region at all: the pointer and clicks pass through to what is below.
    conn.shape_rectangles(SO::SET, SK::INPUT, ClipOrdering::UNSORTED, win, 0, 0, &[])?;
    conn.flush()?;
    let mut shown = false;
    loop {
        // While shown, raise the frame now and then: windows opened later stack above it.
        let wait = if shown {
            Duration::from_secs(2)
        } else {
            Duration::from_secs(3600)
        };
        match rx.recv_timeout(wait) {
            Ok(Some(colour)) => {
                let attrs = ChangeWindowAttributesAux::new().background_pixel(colour.rgb());
                conn.change_window_attributes(win, &attrs)?;
                conn.map_window(win)?;
                conn.clear_area(false, win, 0, 0, 0, 0)?;
                raise(&conn, win)?;
                shown = true;
            }
            Ok(None) => {
                conn.unmap_window(win)?;
                conn.flush()?;
                shown = false;
            }
            Err(RecvTimeoutError::Timeout) => {
                if shown {
                    raise(&conn, win)?;
                }
            }
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    conn.destroy_window(win)?;
    conn.flush()?;
    Ok(())
}

fn raise(conn: &impl Connection, win: u32) -> Result<(), Box<dyn std::error::Error>> {
    conn.configure_window(win, &ConfigureWindowAux::new().stack_mode(StackMode::ABOVE))?;
    conn.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_frame_covers_the_four_edges_only() {
        let f = frame(1366, 768, 8);
        assert_eq!((f[0].x, f[0].y, f[0].width, f[0].height), (0, 0, 1366, 8));
        assert_eq!((f[1].y, f[1].height), (760, 8));
        assert_eq!((f[3].x, f[3].width, f[3].height), (1358, 8, 768));
    }
}
