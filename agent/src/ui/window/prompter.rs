//! The driver's side of the window: each [`Prompter`] call becomes an [`Update`] for the
//! UI thread, and the console's machine lines are printed on stdout.

use std::sync::mpsc;
use std::time::Duration;

use acote_proto::channel::{ControlState, VoiceState};
use acote_proto::files::FileStatus;
use acote_proto::sas::SecurityCode;
use acote_proto::{ByeReason, Requester};

use super::{App, with_app};
use crate::files::FileReport;
use crate::ui::{Prompter, Status};

/// One change for the window, sent from the driver's thread.
#[derive(Debug)]
pub(super) enum Update {
    Status(Status),
    Code(String),
    AskView(Requester, Duration),
    Cancel,
    Sharing(Requester),
    AskControl(Requester, Duration),
    Control(ControlState, Requester),
    AskVoice(Requester, Duration),
    Voice(VoiceState, bool, Requester),
    Interrupted(Requester, bool),
    Resumed(Requester),
    Data(u64),
    SecurityCode(String),
    Chat(String),
    ChatSent(String),
    ChatNotSent,
    Clipboard(Requester, bool),
    FileOffered(FileReport),
    FileSending(FileReport),
    FileProgress(String, u64),
    FileEnded(FileReport, FileStatus),
    Ended(ByeReason),
}

/// The [`Prompter`] the driver holds: it forwards each call to the UI thread. It also
/// prints the console's machine lines (`code NNN NNN`, `security code NNNN`, `data sent: …`,
/// `session ended: …`, `voice on` and the call's other states, and `chat received` /
/// `chat sent` without the words) on stdout,
/// so scripts and tests can follow a window session too.
pub struct WindowPrompter {
    tx: mpsc::Sender<Update>,
    /// The session's data counter, for the `data sent` machine line.
    data_sent: u64,
}

impl WindowPrompter {
    pub(super) fn new(tx: mpsc::Sender<Update>) -> Self {
        Self { tx, data_sent: 0 }
    }

    fn send(&self, update: Update) {
        if self.tx.send(update).is_ok() {
            // Fails only once the UI has closed; then there is nothing to update.
            let _ = slint::invoke_from_event_loop(|| with_app(App::drain));
        }
    }
}

impl Prompter for WindowPrompter {
    fn status(&mut self, status: &Status) {
        self.send(Update::Status(status.clone()));
    }

    fn show_code(&mut self, grouped: &str) {
        machine_line(&format!("code {grouped}"));
        self.send(Update::Code(grouped.to_string()));
    }

    fn ask_view(&mut self, by: &Requester, timeout: Duration) {
        self.send(Update::AskView(by.clone(), timeout));
    }

    fn cancel_question(&mut self) {
        self.send(Update::Cancel);
    }

    fn sharing(&mut self, by: &Requester) {
        self.send(Update::Sharing(by.clone()));
    }

    fn ask_control(&mut self, by: &Requester, timeout: Duration) {
        self.send(Update::AskControl(by.clone(), timeout));
    }

    fn control_changed(&mut self, state: ControlState, by: &Requester) {
        self.send(Update::Control(state, by.clone()));
    }

    fn ask_voice(&mut self, by: &Requester, timeout: Duration) {
        self.send(Update::AskVoice(by.clone(), timeout));
    }

    fn voice_changed(&mut self, state: VoiceState, muted: bool, by: &Requester) {
        machine_line(&crate::ui::text::voice_machine_line(state, muted));
        self.send(Update::Voice(state, muted, by.clone()));
    }

    fn interrupted(&mut self, by: &Requester, had_control: bool) {
        machine_line("session interrupted");
        self.send(Update::Interrupted(by.clone(), had_control));
    }

    fn resumed(&mut self, by: &Requester) {
        machine_line("session resumed");
        self.send(Update::Resumed(by.clone()));
    }

    fn data_sent(&mut self, bytes: u64) {
        self.data_sent = bytes;
        self.send(Update::Data(bytes));
    }

    fn security_code(&mut self, code: SecurityCode) {
        machine_line(&format!("security code {code}"));
        self.send(Update::SecurityCode(code.to_string()));
    }

    fn chat_received(&mut self, _by: &Requester, text: &str) {
        // Only that a message came: its words are the resident's business.
        machine_line("chat received");
        self.send(Update::Chat(text.to_string()));
    }

    fn chat_sent(&mut self, text: &str) {
        machine_line("chat sent");
        self.send(Update::ChatSent(text.to_string()));
    }

    fn clipboard_used(&mut self, by: &Requester, read: bool) {
        machine_line(if read {
            "clipboard read"
        } else {
            "clipboard written"
        });
        self.send(Update::Clipboard(by.clone(), read));
    }

    fn chat_not_sent(&mut self, _text: &str) {
        machine_line("chat not sent");
        self.send(Update::ChatNotSent);
    }

    fn file_offered(&mut self, _by: &Requester, file: &FileReport) {
        // That a file is offered and its size, never its name.
        machine_line(&format!("file offered: {} bytes", file.size));
        self.send(Update::FileOffered(file.clone()));
    }

    fn file_sending(&mut self, file: &FileReport) {
        self.send(Update::FileSending(file.clone()));
    }

    fn file_progress(&mut self, id: &str, done: u64, _size: u64) {
        self.send(Update::FileProgress(id.to_string(), done));
    }

    fn file_ended(
        &mut self,
        _by: &Requester,
        file: &FileReport,
        status: FileStatus,
        _saved_to: Option<&std::path::Path>,
    ) {
        let way = if file.outgoing { "sent" } else { "received" };
        machine_line(&format!("file {way}: {}", status.as_str()));
        self.send(Update::FileEnded(file.clone(), status));
    }

    fn ended(&mut self, reason: ByeReason, frames: u64) {
        machine_line(&crate::ui::text::data_line(std::mem::take(
            &mut self.data_sent,
        )));
        machine_line(&format!(
            "session ended: {}, frames captured: {frames}",
            reason.as_str()
        ));
        self.send(Update::Ended(reason));
    }
}

/// One line on stdout; a closed stdout must not stop the agent (unlike `println!`).
fn machine_line(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}
