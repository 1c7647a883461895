//! The `--console` dialogue (DESIGN §9): for headless use and automation. The code is
//! printed as `code NNN NNN`; questions are answered `y`/`n` (or `o`/`n`) on stdin; `s`
//! takes control back at once; `q` ends the session; `m TEXT` sends TEXT to the
//! caseworker as a chat message (printed back as `chat sent: TEXT`), and their messages
//! are printed as `chat received: TEXT` (a newline shown as ` / `). A file the caseworker
//! sends is announced as `file offered: NAME, N bytes` and answered `save` or `skip`;
//! then `file saved: PATH` or `file ended: NAME, STATUS`; `send PATH` sends the
//! caseworker a file (`file sent: NAME` once they have it). Once the data channel is open the
//! security code both people compare is printed as `security code NNNN`. Each session
//! ends with a line `data sent: 2.4 MB` then a line `session ended: REASON, frames
//! captured: N`, which scripts and tests read.

use std::io::{BufRead, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use acote_proto::channel::{ControlState, VoiceState};
use acote_proto::files::FileStatus;
use acote_proto::sas::SecurityCode;
use acote_proto::{ByeReason, Requester};
use tokio::sync::mpsc;

use super::i18n::{Lang, Strings};
use super::text;
use super::{Prompter, Question, Status, UiEvent};
use crate::files::FileReport;

/// The question last put to the resident on the console, shared with the stdin reader so
/// that `y` or `n` names the question it answers.
#[derive(Debug, Clone, Default)]
pub struct AskedQuestion(Arc<AtomicU8>);

impl AskedQuestion {
    fn set(&self, question: Option<Question>) {
        let n = match question {
            None => 0,
            Some(Question::View) => 1,
            Some(Question::Control) => 2,
            Some(Question::Voice) => 3,
        };
        self.0.store(n, Ordering::SeqCst);
    }

    /// The question open now, if any.
    pub fn get(&self) -> Option<Question> {
        match self.0.load(Ordering::SeqCst) {
            1 => Some(Question::View),
            2 => Some(Question::Control),
            3 => Some(Question::Voice),
            _ => None,
        }
    }
}

/// Prints to stdout and reads answers from stdin.
pub struct ConsolePrompter {
    strings: Strings,
    asked: AskedQuestion,
    out: Box<dyn Write + Send>,
    /// The session's data counter, printed when it ends.
    data_sent: u64,
}

impl ConsolePrompter {
    /// A console prompter writing to stdout; `asked` is shared with the stdin reader.
    pub fn stdout(lang: Lang, asked: AskedQuestion) -> Self {
        Self::new(lang, Box::new(std::io::stdout()), asked)
    }

    /// A console prompter writing elsewhere (tests).
    pub fn new(lang: Lang, out: Box<dyn Write + Send>, asked: AskedQuestion) -> Self {
        // Plain text (no Unicode isolates): scripts read these lines.
        Self {
            strings: Strings::new(lang, false),
            asked,
            out,
            data_sent: 0,
        }
    }

    fn line(&mut self, s: &str) {
        // A closed stdout must not stop the agent: the resident may still answer.
        let _ = writeln!(self.out, "{s}");
        let _ = self.out.flush();
    }
}

/// Interprets one line typed by the resident.
/// One stdin line as the resident's action; `y`/`n` answer `open`, and mean nothing
/// when no question is open.
pub fn parse_line(line: &str, open: Option<Question>) -> Option<UiEvent> {
    let trimmed = line.trim_start();
    for prefix in ["m ", "msg "] {
        if let Some(rest) = trimmed.strip_prefix(prefix) {
            return Some(UiEvent::Chat(rest.trim().to_string()));
        }
    }
    for prefix in ["send ", "envoyer "] {
        if let Some(rest) = trimmed.strip_prefix(prefix)
            && !rest.trim().is_empty()
        {
            return Some(UiEvent::SendFile(rest.trim().into()));
        }
    }
    match line.trim().to_lowercase().as_str() {
        "y" | "yes" | "o" | "oui" => open.map(|question| UiEvent::Answer {
            question,
            yes: true,
        }),
        "n" | "no" | "non" => open.map(|question| UiEvent::Answer {
            question,
            yes: false,
        }),
        "s" | "stop" => Some(UiEvent::StopControl),
        "q" | "quit" | "quitter" => Some(UiEvent::EndSession),
        "save" | "enregistrer" => Some(UiEvent::SaveFile(true)),
        "skip" | "ignorer" => Some(UiEvent::SaveFile(false)),
        "mute" => Some(UiEvent::MuteVoice(true)),
        "unmute" => Some(UiEvent::MuteVoice(false)),
        "hangup" => Some(UiEvent::HangUp),
        _ => None,
    }
}

/// A chat message on one console line: each newline shown as ` / `.
fn one_line(text: &str) -> String {
    text.split('\n').collect::<Vec<_>>().join(" / ")
}

/// Reads stdin on its own thread (stdin reads block) and forwards what it understands.
pub fn spawn_stdin_reader(tx: mpsc::UnboundedSender<UiEvent>, asked: AskedQuestion) {
    let _ = std::thread::Builder::new()
        .name("acote-stdin".into())
        .spawn(move || {
            let stdin = std::io::stdin();
            for line in stdin.lock().lines() {
                let Ok(line) = line else { break };
                if let Some(event) = parse_line(&line, asked.get())
                    && tx.send(event).is_err()
                {
                    break;
                }
            }
            // End of input: no more answers will come; open questions time out as "no".
        });
}

impl Prompter for ConsolePrompter {
    fn status(&mut self, status: &Status) {
        let s = match status {
            Status::Connecting => text::connecting(&self.strings),
            Status::Connected { site } => text::connected(&self.strings, site),
            Status::Retrying { in_secs } => text::retrying(&self.strings, *in_secs),
        };
        self.line(&s);
    }

    fn show_code(&mut self, grouped: &str) {
        self.line(&format!("code {grouped}"));
        self.line(&text::give_code(&self.strings));
    }

    fn ask_view(&mut self, by: &Requester, timeout: Duration) {
        self.asked.set(Some(Question::View));
        self.line(&text::ask_view(&self.strings, by, timeout.as_secs()));
    }

    fn cancel_question(&mut self) {
        self.asked.set(None);
        self.line(&text::question_withdrawn(&self.strings));
    }

    fn sharing(&mut self, by: &Requester) {
        self.line(&text::sharing(&self.strings, by));
    }

    fn ask_control(&mut self, by: &Requester, timeout: Duration) {
        self.asked.set(Some(Question::Control));
        self.line(&text::ask_control(&self.strings, by, timeout.as_secs()));
    }

    fn control_changed(&mut self, state: ControlState, by: &Requester) {
        // "Asking" needs no sentence: the question itself is on screen.
        let sentence = text::control_changed(&self.strings, state, by);
        if !sentence.is_empty() {
            self.line(&sentence);
        }
    }

    fn interrupted(&mut self, by: &Requester, had_control: bool) {
        self.line(&text::interrupted(&self.strings, by, had_control));
        self.line("session interrupted");
    }

    fn resumed(&mut self, by: &Requester) {
        self.line(&text::resumed(&self.strings, by));
        self.line("session resumed");
    }

    fn security_code(&mut self, code: SecurityCode) {
        self.line(&format!("security code {code}"));
        self.line(&text::security_code_explained(&self.strings));
    }

    fn ask_voice(&mut self, by: &Requester, timeout: Duration) {
        self.asked.set(Some(Question::Voice));
        self.line(&text::ask_voice(&self.strings, by, timeout.as_secs()));
    }

    fn voice_changed(&mut self, state: VoiceState, muted: bool, by: &Requester) {
        if state != VoiceState::Asking && self.asked.get() == Some(Question::Voice) {
            self.asked.set(None);
        }
        let sentence = text::voice_changed(&self.strings, state, muted, by);
        if !sentence.is_empty() {
            self.line(&sentence);
        }
        if state == VoiceState::On && !muted {
            let how = self.strings.get("console-voice");
            self.line(&how);
        }
        self.line(&text::voice_machine_line(state, muted));
    }

    fn chat_received(&mut self, _by: &Requester, text: &str) {
        self.line(&format!("chat received: {}", one_line(text)));
    }

    fn chat_sent(&mut self, text: &str) {
        self.line(&format!("chat sent: {}", one_line(text)));
    }

    fn clipboard_used(&mut self, by: &Requester, read: bool) {
        self.line(&text::clipboard_used(&self.strings, by, read));
        self.line(if read {
            "clipboard read"
        } else {
            "clipboard written"
        });
    }

    fn file_offered(&mut self, by: &Requester, file: &FileReport) {
        self.line(&text::file_offered(
            &self.strings,
            by,
            &file.name,
            file.size,
        ));
        self.line(&format!("file offered: {}, {} bytes", file.name, file.size));
    }

    fn file_ended(
        &mut self,
        by: &Requester,
        file: &FileReport,
        status: FileStatus,
        saved_to: Option<&Path>,
    ) {
        self.line(&text::file_ended(
            &self.strings,
            by,
            &file.name,
            file.outgoing,
            status,
        ));
        match (saved_to, file.outgoing, status) {
            (Some(path), _, _) => self.line(&format!("file saved: {}", path.display())),
            (None, true, FileStatus::Saved) => self.line(&format!("file sent: {}", file.name)),
            _ => self.line(&format!("file ended: {}, {}", file.name, status.as_str())),
        }
    }

    fn chat_not_sent(&mut self, _text: &str) {
        self.line("chat not sent");
    }

    fn data_sent(&mut self, bytes: u64) {
        // Kept for the end: a line every few seconds would drown the dialogue.
        self.data_sent = bytes;
    }

    fn ended(&mut self, reason: ByeReason, frames: u64) {
        self.asked.set(None);
        self.line(&text::ended(&self.strings, reason));
        let data = text::data_line(std::mem::take(&mut self.data_sent));
        self.line(&data);
        self.line(&format!(
            "session ended: {}, frames captured: {frames}",
            reason.as_str()
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| std::io::Error::other("poisoned"))?
                .extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn answers_in_french_and_english() {
        let view = Some(Question::View);
        let yes = |question| {
            Some(UiEvent::Answer {
                question,
                yes: true,
            })
        };
        assert_eq!(parse_line("y", view), yes(Question::View));
        assert_eq!(parse_line(" OUI ", view), yes(Question::View));
        assert_eq!(
            parse_line("n", view),
            Some(UiEvent::Answer {
                question: Question::View,
                yes: false
            })
        );
        assert_eq!(parse_line("q", None), Some(UiEvent::EndSession));
        assert_eq!(parse_line("s", None), Some(UiEvent::StopControl));
        assert_eq!(parse_line("maybe", view), None);
        assert_eq!(
            parse_line("m Merci, J'ai le PDF ", None),
            Some(UiEvent::Chat("Merci, J'ai le PDF".into()))
        );
        assert_eq!(
            parse_line("msg شكرا", None),
            Some(UiEvent::Chat("شكرا".into()))
        );
        assert_eq!(parse_line("mm", None), None);
        assert_eq!(parse_line("", None), None);
    }

    #[test]
    fn a_yes_names_the_question_last_asked_and_means_nothing_without_one() {
        let asked = AskedQuestion::default();
        let mut p = ConsolePrompter::new(Lang::En, Box::new(Shared::default()), asked.clone());
        assert_eq!(parse_line("y", asked.get()), None, "no question yet");
        let by = Requester {
            name: Some("Marie Dupont".into()),
            site: "CHRS".into(),
        };
        p.ask_view(&by, Duration::from_secs(60));
        assert_eq!(asked.get(), Some(Question::View));
        p.sharing(&by);
        p.ask_control(&by, Duration::from_secs(60));
        // The control question came after the view question: a yes now is for control.
        assert_eq!(
            parse_line("y", asked.get()),
            Some(UiEvent::Answer {
                question: Question::Control,
                yes: true
            })
        );
        p.ended(ByeReason::Ended, 0);
        assert_eq!(parse_line("y", asked.get()), None, "nothing left to answer");
    }

    #[test]
    fn machine_lines_are_stable() {
        let out = Shared::default();
        let mut p = ConsolePrompter::new(Lang::Fr, Box::new(out.clone()), AskedQuestion::default());
        p.show_code("482 913");
        p.ended(ByeReason::Refused, 0);
        p.data_sent(2_400_000);
        p.ended(ByeReason::Ended, 12);
        p.chat_received(
            &Requester {
                name: None,
                site: "x".into(),
            },
            "Bonjour\nhttps://caf.fr",
        );
        p.chat_sent("merci");
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines.contains(&"code 482 913"));
        assert!(lines.contains(&"chat received: Bonjour / https://caf.fr"));
        assert!(lines.contains(&"chat sent: merci"));
        let end = |s: &str| lines.iter().position(|l| *l == s).unwrap();
        let refused = end("session ended: refused, frames captured: 0");
        assert_eq!(lines[refused - 1], "data sent: 0 KB");
        let ended = end("session ended: ended, frames captured: 12");
        assert_eq!(lines[ended - 1], "data sent: 2.4 MB");
    }
}
