//! The caseworker's marker on Windows: a small square [`Overlay`] shaped to a frame,
//! on its own thread, hidden again after [`SHOW_FOR`].

use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::{Duration, Instant};

use windows::core::w;

use super::capture::desktop;
use super::overlay::{Overlay, pump};
use crate::control::Marker;
use crate::ui::marker::{COLOUR, SHOW_FOR, SIZE, THICKNESS};

/// How often the thread looks at its window messages while waiting.
const TICK: Duration = Duration::from_millis(50);

/// Shows the marker; dropping it closes the marker's window.
pub struct Highlighter {
    tx: Sender<(f64, f64)>,
}

impl Highlighter {
    /// Starts the marker's thread. If its window cannot be made the marker is simply not
    /// shown (logged once). `display` is for X11 only.
    pub fn spawn(_display: Option<String>) -> Self {
        let (tx, rx) = channel();
        super::spawn_overlay("acote-highlight", "caseworker's marker", rx, run);
        Self { tx }
    }
}

impl Marker for Highlighter {
    /// Shows the marker centred on (x, y), each 0..=1 of the screen.
    fn show(&self, x: f64, y: f64) {
        let _ = self.tx.send((x, y));
    }
}

fn run(rx: &Receiver<(f64, f64)>) -> Result<(), windows::core::Error> {
    let overlay = Overlay::new(w!("Acote: look here"))?;
    let mut hide_at: Option<Instant> = None;
    let size = i32::from(SIZE);
    loop {
        match rx.recv_timeout(TICK) {
            Ok((x, y)) => {
                // (x, y) are of the whole desktop, whose corner may be off (0, 0).
                let d = desktop();
                let cx = d.x + (x * f64::from(d.width)).round() as i32 - size / 2;
                let cy = d.y + (y * f64::from(d.height)).round() as i32 - size / 2;
                overlay.show_frame((cx, cy, size, size), i32::from(THICKNESS), COLOUR);
                hide_at = Some(Instant::now() + SHOW_FOR);
            }
            Err(RecvTimeoutError::Timeout) => {
                if hide_at.is_some_and(|t| Instant::now() >= t) {
                    overlay.hide();
                    hide_at = None;
                }
            }
            Err(RecvTimeoutError::Disconnected) => return Ok(()),
        }
        pump();
    }
}
