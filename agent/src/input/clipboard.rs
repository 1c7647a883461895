//! The resident's clipboard, read or written for the caseworker, text only and only under
//! a live [`Grant`] (control granted): the same gate as the mouse and keyboard. Runs on
//! its own thread, which keeps the platform clipboard open for the session (on X11 the
//! text written stays pasteable only while its owner lives). The platform side is
//! `arboard` (X11 selections, the Win32 clipboard), behind [`ClipboardAccess`].

use std::sync::mpsc::{Receiver, Sender, channel};

use acote_proto::channel::{ClipboardStatus, MAX_CLIPBOARD_BYTES, check_clipboard};
use tokio::sync::mpsc::UnboundedSender;

use super::consent::Grant;

/// Why the clipboard could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ClipboardError {
    /// The clipboard could not be opened or used.
    #[error("clipboard unavailable: {0}")]
    Unavailable(String),
}

/// Reads and writes the platform's clipboard text.
pub trait ClipboardAccess {
    /// The clipboard's text; `None` when it holds none (empty, a picture, files).
    fn read_text(&mut self) -> Result<Option<String>, ClipboardError>;
    /// Replaces the clipboard's content with `text`.
    fn write_text(&mut self, text: &str) -> Result<(), ClipboardError>;
}

/// What the caseworker asks of the clipboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Send the clipboard's text.
    Read,
    /// Put this (checked) text in the clipboard.
    Write(String),
}

/// How a request ended, for the driver (the viewer and the resident are told).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The clipboard's text, checked by [`check_clipboard`].
    Read(String),
    /// Nothing was read or written, or the text was written ([`ClipboardStatus::Written`]).
    Status(ClipboardStatus),
}

/// Sends requests to the clipboard thread.
pub struct ClipboardHandle {
    tx: Sender<(Grant, Request)>,
}

impl ClipboardHandle {
    /// Queues an admitted request.
    pub fn send(&self, grant: Grant, request: Request) {
        // Fails only once the thread is gone (it logged why); nothing else to do.
        let _ = self.tx.send((grant, request));
    }
}

/// Starts the clipboard thread; `open` runs there on the first request (most sessions
/// never touch the clipboard). Outcomes go to `done`.
pub fn spawn<F>(open: F, done: UnboundedSender<Outcome>) -> ClipboardHandle
where
    F: FnOnce() -> Result<Box<dyn ClipboardAccess>, ClipboardError> + Send + 'static,
{
    let (tx, rx) = channel::<(Grant, Request)>();
    let spawned = std::thread::Builder::new()
        .name("acote-clipboard".into())
        .spawn(move || run(open, &rx, &done));
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot start the clipboard thread");
    }
    ClipboardHandle { tx }
}

fn run<F>(open: F, rx: &Receiver<(Grant, Request)>, done: &UnboundedSender<Outcome>)
where
    F: FnOnce() -> Result<Box<dyn ClipboardAccess>, ClipboardError>,
{
    let mut open = Some(open);
    let mut clipboard: Option<Box<dyn ClipboardAccess>> = None;
    while let Ok((grant, request)) = rx.recv() {
        // Checked here too: control may have ended while this waited.
        if !grant.is_live() {
            continue;
        }
        if clipboard.is_none()
            && let Some(open) = open.take()
        {
            match open() {
                Ok(c) => clipboard = Some(c),
                Err(e) => tracing::warn!(error = %e, "clipboard unavailable"),
            }
        }
        let outcome = match clipboard.as_mut() {
            Some(c) => serve(c.as_mut(), &grant, request),
            None => Outcome::Status(ClipboardStatus::Unavailable),
        };
        if done.send(outcome).is_err() {
            break;
        }
    }
}

/// Carries out one request on an open clipboard.
fn serve(clipboard: &mut dyn ClipboardAccess, grant: &Grant, request: Request) -> Outcome {
    if !grant.is_live() {
        return Outcome::Status(ClipboardStatus::Unavailable);
    }
    match request {
        Request::Write(text) => match clipboard.write_text(&text) {
            Ok(()) => Outcome::Status(ClipboardStatus::Written),
            Err(e) => {
                tracing::warn!(error = %e, "clipboard not written");
                Outcome::Status(ClipboardStatus::Unavailable)
            }
        },
        Request::Read => match clipboard.read_text() {
            Ok(Some(text)) if text.len() > MAX_CLIPBOARD_BYTES => {
                Outcome::Status(ClipboardStatus::TooLong)
            }
            Ok(Some(text)) => {
                // Control characters other than line ends are dropped, not refused: a
                // copied text often carries a stray one.
                let text: String = text
                    .chars()
                    .filter(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
                    .collect();
                match check_clipboard(&text) {
                    Ok(()) => Outcome::Read(text),
                    Err(_) => Outcome::Status(ClipboardStatus::Empty),
                }
            }
            Ok(None) => Outcome::Status(ClipboardStatus::Empty),
            Err(e) => {
                tracing::warn!(error = %e, "clipboard not read");
                Outcome::Status(ClipboardStatus::Unavailable)
            }
        },
    }
}

/// The platform clipboard through `arboard` (X11 on Linux, Win32 on Windows).
pub struct SystemClipboard(arboard::Clipboard);

impl SystemClipboard {
    /// Opens the clipboard of the desktop the agent runs on.
    pub fn open() -> Result<Box<dyn ClipboardAccess>, ClipboardError> {
        arboard::Clipboard::new()
            .map(|c| Box::new(SystemClipboard(c)) as Box<dyn ClipboardAccess>)
            .map_err(|e| ClipboardError::Unavailable(e.to_string()))
    }
}

impl ClipboardAccess for SystemClipboard {
    fn read_text(&mut self) -> Result<Option<String>, ClipboardError> {
        match self.0.get_text() {
            Ok(text) => Ok(Some(text)),
            Err(arboard::Error::ContentNotAvailable) => Ok(None),
            Err(e) => Err(ClipboardError::Unavailable(e.to_string())),
        }
    }

    fn write_text(&mut self, text: &str) -> Result<(), ClipboardError> {
        self.0
            .set_text(text)
            .map_err(|e| ClipboardError::Unavailable(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::consent::ConsentGate;
    use std::time::{Duration, Instant};

    /// A clipboard in memory.
    struct Memory(Option<String>);
    impl ClipboardAccess for Memory {
        fn read_text(&mut self) -> Result<Option<String>, ClipboardError> {
            Ok(self.0.clone())
        }
        fn write_text(&mut self, text: &str) -> Result<(), ClipboardError> {
            self.0 = Some(text.to_string());
            Ok(())
        }
    }

    /// A live grant: the resident said yes to control.
    fn granted() -> (ConsentGate, Grant) {
        let mut gate = ConsentGate::new();
        let now = Instant::now();
        gate.request(now);
        gate.answer(now, true);
        let grant = gate.admit();
        (gate, grant.unwrap_or_else(|| panic!("control was granted")))
    }

    #[test]
    fn reads_and_writes_text_under_a_live_grant() {
        let (_gate, grant) = granted();
        let mut c = Memory(None);
        assert_eq!(
            serve(&mut c, &grant, Request::Read),
            Outcome::Status(ClipboardStatus::Empty)
        );
        assert_eq!(
            serve(&mut c, &grant, Request::Write("FR76 3000 6000".into())),
            Outcome::Status(ClipboardStatus::Written)
        );
        assert_eq!(
            serve(&mut c, &grant, Request::Read),
            Outcome::Read("FR76 3000 6000".into())
        );
        c.0 = Some("x".repeat(MAX_CLIPBOARD_BYTES + 1));
        assert_eq!(
            serve(&mut c, &grant, Request::Read),
            Outcome::Status(ClipboardStatus::TooLong)
        );
        c.0 = Some("ligne 1\r\nligne\u{7} 2".into());
        assert_eq!(
            serve(&mut c, &grant, Request::Read),
            Outcome::Read("ligne 1\r\nligne 2".into())
        );
    }

    #[test]
    fn nothing_is_read_once_control_ended() {
        let (mut gate, grant) = granted();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let opened = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = std::sync::Arc::clone(&opened);
        let handle = spawn(
            move || {
                flag.store(true, std::sync::atomic::Ordering::SeqCst);
                Ok(Box::new(Memory(Some("secret".into()))) as Box<dyn ClipboardAccess>)
            },
            tx,
        );
        // The resident takes control back before the request is served.
        gate.stop();
        handle.send(grant, Request::Read);
        drop(handle);
        let deadline = Instant::now() + Duration::from_secs(5);
        while rx.try_recv().is_err() && Instant::now() < deadline && !rx.is_closed() {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(
            rx.try_recv().is_err(),
            "no outcome: the request was dropped"
        );
        assert!(
            !opened.load(std::sync::atomic::Ordering::SeqCst),
            "the clipboard was not even opened"
        );
    }
}
