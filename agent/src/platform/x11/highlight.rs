//! The caseworker's "look here" marker on the resident's screen: a bright square frame
//! that shows for a few seconds where the caseworker points. It is an override-redirect
//! X window with an empty input shape, so it never takes focus and clicks go through it.

use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::{Duration, Instant};

use crate::control::Marker;
use crate::ui::marker::{COLOUR, SHOW_FOR, SIZE, THICKNESS};
use x11rb::connection::Connection;
use x11rb::protocol::shape::{ConnectionExt as _, SK, SO};
use x11rb::protocol::xproto::{
    ClipOrdering, ConfigureWindowAux, ConnectionExt as _, CreateWindowAux, Rectangle, StackMode,
    WindowClass,
};

/// Shows the marker; dropping it closes the marker's window.
pub struct Highlighter {
    tx: Sender<(f64, f64)>,
}

impl Highlighter {
    /// Starts the marker's thread on `display` (or `$DISPLAY`). If the display cannot be
    /// opened the marker is simply not shown (logged once).
    pub fn spawn(display: Option<String>) -> Self {
        let (tx, rx) = channel();
        super::spawn_overlay("acote-highlight", "caseworker's marker", display, rx, run);
        Self { tx }
    }
}

impl Marker for Highlighter {
    /// Shows the marker centred on (x, y), each 0..=1 of the screen.
    fn show(&self, x: f64, y: f64) {
        let _ = self.tx.send((x, y));
    }
}

fn run(display: Option<&str>, rx: &Receiver<(f64, f64)>) -> Result<(), Box<dyn std::error::Error>> {
    let (conn, screen_num) = x11rb::connect(display)?;
    let screen = conn.setup().roots.get(screen_num).ok_or("no such screen")?;
    let (root, width, height) = (screen.root, screen.width_in_pixels, screen.height_in_pixels);
    let win = conn.generate_id()?;
    let aux = CreateWindowAux::new()
        .override_redirect(1)
        .background_pixel(COLOUR);
    conn.create_window(
        0,
        win,
        root,
        0,
        0,
        SIZE,
        SIZE,
        0,
        WindowClass::INPUT_OUTPUT,
        0,
        &aux,
    )?;
    let (s, t) = (SIZE, THICKNESS);
    let frame = [
        Rectangle {
            x: 0,
            y: 0,
            width: s,
            height: t,
        },
        Rectangle {
            x: 0,
            y: (s - t) as i16,
            width: s,
            height: t,
        },
        Rectangle {
            x: 0,
            y: 0,
            width: t,
            height: s,
        },
        Rectangle {
            x: (s - t) as i16,
            y: 0,
            width: t,
            height: s,
        },
    ];
    conn.shape_rectangles(
        SO::SET,
        SK::BOUNDING,
        ClipOrdering::UNSORTED,
        win,
        0,
        0,
        &frame,
    )?;
    // No input region at all: the pointer and clicks pass through to what is below.
    conn.shape_rectangles(SO::SET, SK::INPUT, ClipOrdering::UNSORTED, win, 0, 0, &[])?;
    conn.flush()?;
    let mut hide_at: Option<Instant> = None;
    loop {
        let wait = hide_at.map_or(Duration::from_secs(3600), |t| {
            t.saturating_duration_since(Instant::now())
        });
        match rx.recv_timeout(wait) {
            Ok((x, y)) => {
                let cx = (x * f64::from(width)).round() as i32 - i32::from(SIZE / 2);
                let cy = (y * f64::from(height)).round() as i32 - i32::from(SIZE / 2);
                let place = ConfigureWindowAux::new()
                    .x(cx)
                    .y(cy)
                    .stack_mode(StackMode::ABOVE);
                conn.configure_window(win, &place)?;
                conn.map_window(win)?;
                conn.flush()?;
                hide_at = Some(Instant::now() + SHOW_FOR);
            }
            Err(RecvTimeoutError::Timeout) => {
                conn.unmap_window(win)?;
                conn.flush()?;
                hide_at = None;
            }
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    conn.destroy_window(win)?;
    conn.flush()?;
    Ok(())
}
