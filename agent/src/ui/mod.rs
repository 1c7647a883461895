//! What the resident sees and answers, behind the [`Prompter`] trait. Two
//! implementations: the resident's window ([`window`], Slint) wherever there is a
//! display, and the console dialogue ([`console`]) for headless use and automation.
//!
//! Layout: [`i18n`] (languages, Fluent files) → [`text`] (sentences, name cleaning) →
//! [`screen`] (IO-free window state) → [`window`] (Slint glue), with [`fonts`],
//! [`receipt`] and the [`border`] trait. The pieces outside the window — the frame
//! around the screen, the caseworker's marker, the Stop hotkey — are per platform, in
//! `platform/x11/` and `platform/windows/`, chosen by [`crate::platform`].

pub mod border;
pub mod chat;
pub mod console;
pub mod files;
pub mod fonts;
pub mod i18n;
pub mod marker;
pub mod receipt;
pub mod screen;
pub mod text;
pub mod window;

use std::path::Path;
use std::time::Duration;

use acote_proto::files::FileStatus;

use crate::files::FileReport;

use acote_proto::channel::{ControlState, VoiceState};
use acote_proto::sas::SecurityCode;
use acote_proto::{ByeReason, Requester};

/// The questions the resident is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Question {
    /// May the caseworker see the screen?
    View,
    /// May the caseworker use the mouse and keyboard?
    Control,
    /// Will the resident talk with the caseworker (the microphone)?
    Voice,
}

/// Something the resident did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UiEvent {
    /// Answer to a question, naming which: a yes meant for one question never answers
    /// another that came up meanwhile.
    Answer {
        /// The question the resident saw when they answered.
        question: Question,
        /// Yes or no.
        yes: bool,
    },
    /// End the session now (stop sharing).
    EndSession,
    /// Take control back from the caseworker (Stop).
    StopControl,
    /// A chat message the resident typed, for the caseworker.
    Chat(String),
    /// Answer to the oldest open file question: save the file or not.
    SaveFile(bool),
    /// Send this file, which the resident chose, to the caseworker.
    SendFile(std::path::PathBuf),
    /// Turn the microphone off (`true`) or on again, in a call.
    MuteVoice(bool),
    /// End the voice call (the session goes on).
    HangUp,
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
    /// The security code both people compare (4 digits), once the exchange with the
    /// viewer fixed it. The default ignores it.
    fn security_code(&mut self, _code: SecurityCode) {}
    /// A chat message from `by` (checked by [`acote_proto::channel::check_chat`]).
    fn chat_received(&mut self, by: &Requester, text: &str);
    /// The resident's chat message went to the caseworker.
    fn chat_sent(&mut self, text: &str);
    /// The resident's chat message could not be sent (too long, or the connection is not
    /// open); nothing was sent. The default ignores it.
    fn chat_not_sent(&mut self, _text: &str) {}
    /// The caseworker read (`read`) or wrote the resident's clipboard, with control.
    fn clipboard_used(&mut self, by: &Requester, read: bool);
    /// The caseworker offers a file: ask whether to save it (answered with
    /// [`UiEvent::SaveFile`]; questions are answered oldest first).
    fn file_offered(&mut self, by: &Requester, file: &FileReport);
    /// The resident's file is offered to the caseworker (progress and the end follow).
    fn file_sending(&mut self, _file: &FileReport) {}
    /// The question about this file is withdrawn (the caseworker cancelled it).
    fn file_withdrawn(&mut self, _id: &str) {}
    /// Bytes of a file moved so far, either way.
    fn file_progress(&mut self, _id: &str, _done: u64, _size: u64) {}
    /// A transfer is over; `saved_to` is where a received file was saved.
    fn file_ended(
        &mut self,
        by: &Requester,
        file: &FileReport,
        status: FileStatus,
        saved_to: Option<&Path>,
    );
    /// Asks whether the resident will talk with `by` through the computer (a question
    /// of its own: the microphone); answered with [`UiEvent::Answer`].
    fn ask_voice(&mut self, by: &Requester, timeout: Duration);
    /// Where the voice call stands (`muted`: the resident's microphone is off).
    fn voice_changed(&mut self, state: VoiceState, muted: bool, by: &Requester);
    /// The session goes on after an interruption (no new question was asked). The
    /// default shows the sharing notice again.
    fn resumed(&mut self, by: &Requester) {
        self.sharing(by);
    }
}
