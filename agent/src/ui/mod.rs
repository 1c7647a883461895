//! What the resident sees and answers, behind the [`Prompter`] trait. Two
//! implementations: the resident's window ([`window`], Slint) wherever there is a
//! display, and the console dialogue ([`console`]) for headless use and automation.
//!
//! Layout: [`i18n`] (languages, Fluent files) → [`text`] (sentences, name cleaning) →
//! [`screen`] (IO-free window state) → [`window`] (Slint glue), with [`fonts`],
//! [`receipt`], and the X11 pieces [`border`], [`hotkey`] and [`highlight`].

pub mod border;
pub mod console;
pub mod fonts;
pub mod highlight;
pub mod hotkey;
pub mod i18n;
pub mod receipt;
pub mod screen;
pub mod text;
pub mod window;

use std::time::Duration;

use acote_proto::channel::ControlState;
use acote_proto::{ByeReason, Requester};

/// Something the resident did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UiEvent {
    /// Answer to the open question.
    Answer(bool),
    /// End the session now (stop sharing).
    EndSession,
    /// Take control back from the caseworker (Stop).
    StopControl,
}

/// How the connection to the relay is doing, for the resident.
#[derive(Debug, Clone)]
pub enum Status {
    /// Trying to reach the relay.
    Connecting,
    /// Connected to the relay of this site.
    Connected {
        /// The site's name.
        site: String,
    },
    /// The relay could not be reached; next try after the delay.
    Retrying {
        /// Seconds until the next try.
        in_secs: u64,
    },
}

/// The resident-facing side of the agent.
pub trait Prompter: Send {
    /// Connection status changed.
    fn status(&mut self, status: &Status);
    /// Shows the code to read to the caseworker (`grouped` is e.g. "482 913").
    fn show_code(&mut self, grouped: &str);
    /// Asks whether `by` may see the screen; the answer comes back as [`UiEvent::Answer`].
    fn ask_view(&mut self, by: &Requester, timeout: Duration);
    /// The open question is withdrawn (time ran out or the caseworker left).
    fn cancel_question(&mut self);
    /// The screen is now visible to `by`.
    fn sharing(&mut self, by: &Requester);
    /// Asks whether `by` may control the mouse and keyboard (a separate question).
    fn ask_control(&mut self, by: &Requester, timeout: Duration);
    /// Control changed state (granted, refused, taken back…).
    fn control_changed(&mut self, state: ControlState, by: &Requester);
    /// The session is over; `frames` is how many screen images were captured in it.
    fn ended(&mut self, reason: ByeReason, frames: u64);
    /// Bytes the session has sent so far (every few seconds while sharing, and once more
    /// just before [`Prompter::ended`]). The default ignores it.
    fn data_sent(&mut self, _bytes: u64) {}
    /// The connection with `by` is interrupted (either side's link to the relay); the
    /// session waits up to a minute. `had_control`: control was taken back, and the
    /// resident must be told `by` has to ask again. The default shows it as a
    /// connection status and a change of control, for prompters that predate it.
    fn interrupted(&mut self, by: &Requester, had_control: bool) {
        if had_control {
            self.control_changed(ControlState::TakenBack, by);
        }
        self.status(&Status::Connecting);
    }
    /// The session goes on after an interruption (no new question was asked). The
    /// default shows the sharing notice again.
    fn resumed(&mut self, by: &Requester) {
        self.sharing(by);
    }
}

/// The body of an overlay's thread: draws from what arrives on the channel until it closes.
type OverlayLoop<T> =
    fn(Option<&str>, &std::sync::mpsc::Receiver<T>) -> Result<(), Box<dyn std::error::Error>>;

/// Runs an X11 overlay (the border, the marker) on its own named thread with its own
/// display connection, fed by `rx`. An overlay is never essential: if the thread or the
/// display fails, that is logged once (`what` names the overlay) and sharing goes on.
pub(crate) fn spawn_overlay<T: Send + 'static>(
    name: &str,
    what: &'static str,
    display: Option<String>,
    rx: std::sync::mpsc::Receiver<T>,
    run: OverlayLoop<T>,
) {
    let spawned = std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            if let Err(e) = run(display.as_deref(), &rx) {
                tracing::warn!(error = %e, "cannot show the {what}");
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot start the {what} thread");
    }
}
