//! The [`Injector`] trait and the thread that feeds it.
//!
//! Injection runs on its own thread (X calls block, typing takes time). Pointer moves
//! queued back to back are coalesced into the last one, typed text has a byte budget, and
//! the queue is bounded, so a flood from the viewer cannot freeze the resident's PC. Every
//! command carries the [`Grant`] it was admitted under; once control ends the grant is
//! dead and what is still queued is dropped, not played.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};

use acote_proto::channel::ViewerMessage;

use super::consent::Grant;

/// Commands waiting for the injector at most; more are refused as "too many".
pub const QUEUE_LEN: usize = 256;

/// Typed text waiting at most, in bytes (about a page; typing takes time).
pub const TEXT_BUDGET: usize = 8 * 1024;

/// Why injection failed.
#[derive(Debug, thiserror::Error)]
pub enum InjectError {
    /// The input system could not be opened.
    #[error("cannot open the input system: {0}")]
    Open(String),
    /// An injection call failed.
    #[error("input injection failed: {0}")]
    Inject(String),
}

/// Acts on the resident's mouse and keyboard. Only ever called with a live [`Grant`].
pub trait Injector {
    /// Plays one validated input message (`Pointer`, `Button`, `Wheel`, `Key`, `Text`).
    fn inject(&mut self, grant: &Grant, input: &ViewerMessage) -> Result<(), InjectError>;

    /// Releases every key and mouse button this injector holds down. Needs no grant:
    /// letting go is always allowed.
    fn release_all(&mut self) -> Result<(), InjectError>;
}

enum Command {
    Input(Grant, ViewerMessage),
    ReleaseAll,
}

/// Sends commands to the injector thread.
pub struct InjectorHandle {
    tx: SyncSender<Command>,
    text_queued: Arc<AtomicUsize>,
}

/// Why a command was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueRefusal {
    /// The queue or the text budget is full.
    TooMany,
    /// The injector thread is gone.
    Closed,
}

impl InjectorHandle {
    /// Queues one admitted input.
    pub fn send(&self, grant: Grant, input: ViewerMessage) -> Result<(), QueueRefusal> {
        let text_len = match &input {
            ViewerMessage::Text { text } => text.len(),
            _ => 0,
        };
        if text_len > 0 && self.text_queued.load(Ordering::SeqCst) + text_len > TEXT_BUDGET {
            return Err(QueueRefusal::TooMany);
        }
        match self.tx.try_send(Command::Input(grant, input)) {
            Ok(()) => {
                self.text_queued.fetch_add(text_len, Ordering::SeqCst);
                Ok(())
            }
            Err(TrySendError::Full(_)) => Err(QueueRefusal::TooMany),
            Err(TrySendError::Disconnected(_)) => Err(QueueRefusal::Closed),
        }
    }

    /// Asks the injector to let go of everything (ahead of anything else queued after it).
    pub fn release_all(&self) {
        // Blocking send: this one must not be dropped even when the queue is full.
        let _ = self.tx.send(Command::ReleaseAll);
    }
}

/// Starts the injector thread. `open` runs on that thread (X connections are not Send
/// everywhere); if it fails, every later command is refused and the error is logged.
pub fn spawn<I, F>(open: F) -> InjectorHandle
where
    I: Injector,
    F: FnOnce() -> Result<I, InjectError> + Send + 'static,
{
    let (tx, rx) = sync_channel(QUEUE_LEN);
    let text_queued = Arc::new(AtomicUsize::new(0));
    let queued = Arc::clone(&text_queued);
    let spawned = std::thread::Builder::new()
        .name("acote-input".into())
        .spawn(move || match open() {
            Ok(mut injector) => run(&mut injector, &rx, &queued),
            Err(e) => tracing::warn!(error = %e, "remote control unavailable"),
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot start the input thread");
    }
    InjectorHandle { tx, text_queued }
}

/// The thread's loop: coalesce, check the grant again, inject.
fn run<I: Injector>(injector: &mut I, rx: &Receiver<Command>, text_queued: &AtomicUsize) {
    while let Ok(first) = rx.recv() {
        // Take everything already waiting, so moves can be coalesced.
        let mut batch = vec![first];
        batch.extend(rx.try_iter());
        for command in coalesce(batch) {
            match command {
                Command::ReleaseAll => {
                    if let Err(e) = injector.release_all() {
                        tracing::warn!(error = %e, "releasing keys and buttons");
                    }
                }
                Command::Input(grant, input) => {
                    if let ViewerMessage::Text { text } = &input {
                        text_queued.fetch_sub(
                            text.len().min(text_queued.load(Ordering::SeqCst)),
                            Ordering::SeqCst,
                        );
                    }
                    // Checked again here: control may have ended while this waited.
                    if !grant.is_live() {
                        continue;
                    }
                    if let Err(e) = injector.inject(&grant, &input) {
                        tracing::warn!(error = %e, kind = input.kind(), "input not injected");
                    }
                }
            }
        }
    }
}

/// Drops every pointer move that another move directly follows.
fn coalesce(batch: Vec<Command>) -> Vec<Command> {
    let mut out: Vec<Command> = Vec::with_capacity(batch.len());
    for command in batch {
        let is_move = matches!(&command, Command::Input(_, ViewerMessage::Pointer { .. }));
        if is_move
            && matches!(
                out.last(),
                Some(Command::Input(_, ViewerMessage::Pointer { .. }))
            )
        {
            out.pop();
        }
        out.push(command);
    }
    out
}

#[cfg(test)]
#[path = "inject_tests.rs"]
mod tests;
