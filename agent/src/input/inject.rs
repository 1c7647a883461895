//! The [`Injector`] trait and the thread that feeds it.
//!
//! Injection runs on its own thread (X calls block, typing takes time). Pointer moves
//! queued back to back are coalesced into the last one as they arrive, typed text has a byte
//! budget, and the other commands waiting are bounded, so a flood from the viewer cannot freeze the resident's PC. Every
//! command carries the [`Grant`] it was admitted under; once control ends the grant is
//! dead and what is still queued is dropped, not played.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use acote_proto::channel::ViewerMessage;

use super::consent::Grant;

/// Commands other than pointer moves waiting for the injector at most; more are refused
/// as "too many".
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

impl Command {
    fn is_move(&self) -> bool {
        matches!(self, Command::Input(_, ViewerMessage::Pointer { .. }))
    }

    fn text_len(&self) -> usize {
        match self {
            Command::Input(_, ViewerMessage::Text { text }) => text.len(),
            _ => 0,
        }
    }
}

/// What waits for the injector. Plain data: the bounds are tested without a thread.
#[derive(Default)]
struct Queue {
    commands: VecDeque<Command>,
    /// Commands in `commands` that are not pointer moves.
    counted: usize,
    text_queued: usize,
    /// The handle is gone, or the thread is.
    closed: bool,
}

impl Queue {
    /// Queues one admitted input. A move right behind another move replaces it as it
    /// arrives, so a flood of moves holds one place and never crowds out the click
    /// that follows it.
    fn push(&mut self, grant: Grant, input: ViewerMessage) -> Result<(), QueueRefusal> {
        if self.closed {
            return Err(QueueRefusal::Closed);
        }
        let command = Command::Input(grant, input);
        if command.is_move() {
            if let Some(last) = self.commands.back_mut().filter(|last| last.is_move()) {
                *last = command;
            } else {
                self.commands.push_back(command);
            }
            return Ok(());
        }
        let text_len = command.text_len();
        if self.counted >= QUEUE_LEN || self.text_queued + text_len > TEXT_BUDGET {
            return Err(QueueRefusal::TooMany);
        }
        self.counted += 1;
        self.text_queued += text_len;
        self.commands.push_back(command);
        Ok(())
    }

    /// Everything waiting, in order.
    fn take(&mut self) -> Vec<Command> {
        self.counted = 0;
        self.text_queued = 0;
        self.commands.drain(..).collect()
    }
}

/// The queue and the bell that wakes the injector thread.
#[derive(Default)]
struct Shared {
    queue: Mutex<Queue>,
    ready: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        // A panic on the other side leaves the queue consistent: keep using it.
        self.queue
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_all();
    }
}

/// Sends commands to the injector thread.
pub struct InjectorHandle {
    shared: Arc<Shared>,
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
        self.shared.lock().push(grant, input)?;
        self.shared.ready.notify_one();
        Ok(())
    }

    /// Asks the injector to let go of everything (ahead of anything else queued after it).
    pub fn release_all(&self) {
        // Beyond the bound: this one must not be dropped even when the queue is full.
        let mut queue = self.shared.lock();
        if !queue.closed {
            queue.commands.push_back(Command::ReleaseAll);
        }
        drop(queue);
        self.shared.ready.notify_one();
    }
}

impl Drop for InjectorHandle {
    fn drop(&mut self) {
        self.shared.close();
    }
}

/// Starts the injector thread. `open` runs on that thread (X connections are not Send
/// everywhere); if it fails, every later command is refused and the error is logged.
pub fn spawn<I, F>(open: F) -> InjectorHandle
where
    I: Injector,
    F: FnOnce() -> Result<I, InjectError> + Send + 'static,
{
    let shared = Arc::new(Shared::default());
    let thread_side = Arc::clone(&shared);
    let spawned = std::thread::Builder::new()
        .name("acote-input".into())
        .spawn(move || {
            match open() {
                Ok(mut injector) => run(&mut injector, &thread_side),
                Err(e) => tracing::warn!(error = %e, "remote control unavailable"),
            }
            thread_side.close();
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot start the input thread");
        shared.close();
    }
    InjectorHandle { shared }
}

/// Waits for the next commands; none once the handle is gone and all was played.
fn next_batch(shared: &Shared) -> Option<Vec<Command>> {
    let mut queue = shared.lock();
    loop {
        if !queue.commands.is_empty() {
            return Some(queue.take());
        }
        if queue.closed {
            return None;
        }
        queue = shared
            .ready
            .wait(queue)
            .unwrap_or_else(|poisoned| poisoned.into_inner());
    }
}

/// The thread's loop: take what waits (moves already coalesced), check the grant again,
/// inject.
fn run<I: Injector>(injector: &mut I, shared: &Shared) {
    while let Some(batch) = next_batch(shared) {
        for command in batch {
            match command {
                Command::ReleaseAll => {
                    if let Err(e) = injector.release_all() {
                        tracing::warn!(error = %e, "releasing keys and buttons");
                    }
                }
                Command::Input(grant, input) => {
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

#[cfg(test)]
#[path = "inject_tests.rs"]
mod tests;
