//! The Windows frame around the screen: one [`Overlay`] the size of the screen, shaped
//! to a hollow frame, on its own thread (a window belongs to the thread that made it).

use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::{Duration, Instant};

use windows::core::w;

use super::capture::desktop;
use super::overlay::{Overlay, pump};
use crate::ui::border::{BorderColour, ScreenBorder, THICKNESS};

/// How often the thread looks at its window messages while waiting for orders.
const TICK: Duration = Duration::from_millis(50);
/// While shown, how often the frame is put back on top of windows opened since.
const RAISE_EVERY: Duration = Duration::from_secs(2);

/// The Windows frame, drawn by its own thread.
pub struct WindowsBorder {
    tx: Sender<Option<BorderColour>>,
    shown: Option<BorderColour>,
}

impl WindowsBorder {
    /// Starts the frame's thread; if its window cannot be made the frame is simply not
    /// shown (logged once). `display` is for X11 only.
    pub fn spawn(_display: Option<String>) -> Self {
        let (tx, rx) = channel();
        super::spawn_overlay("acote-border", "border around the screen", rx, run);
        Self { tx, shown: None }
    }
}

impl ScreenBorder for WindowsBorder {
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

fn run(rx: &Receiver<Option<BorderColour>>) -> Result<(), windows::core::Error> {
    let overlay = Overlay::new(w!("Acote: screen shared"))?;
    let mut shown = false;
    let mut raised = Instant::now();
    loop {
        match rx.recv_timeout(TICK) {
            Ok(Some(colour)) => {
                // Around the whole desktop, every monitor, as it is now: it may have
                // changed since the last time.
                let d = desktop();
                let bounds = (d.x, d.y, d.width as i32, d.height as i32);
                overlay.show_frame(bounds, i32::from(THICKNESS), colour.rgb());
                shown = true;
                raised = Instant::now();
            }
            Ok(None) => {
                overlay.hide();
                shown = false;
            }
            Err(RecvTimeoutError::Timeout) => {
                if shown && raised.elapsed() >= RAISE_EVERY {
                    overlay.raise();
                    raised = Instant::now();
                }
            }
            Err(RecvTimeoutError::Disconnected) => return Ok(()),
        }
        pump();
    }
}
