//! What the driver is given to run, and its back-off between connection attempts.

use std::sync::Arc;
use std::time::Duration;

use crate::control::Marker;
use crate::input::clipboard::{ClipboardAccess, ClipboardError};
use crate::input::inject::InjectorHandle;
use crate::pipeline::OpenCapturer;
use crate::screens::Monitor;

/// Everything the driver needs to know to run.
pub struct Options {
    /// `wss://…/signal`.
    pub signal_url: String,
    /// Trust rules for the relay.
    pub tls: Arc<rustls::ClientConfig>,
    /// The resident's language, told to the relay.
    pub lang: String,
    /// Offer loopback candidates (relay on this machine).
    pub include_loopback: bool,
    /// Send media only through the relay's TURN (the site's config may also ask it).
    pub relay_only: bool,
    /// Opens the screen capturer; called only after consent, once per session.
    pub open_capturer: Arc<dyn Fn() -> OpenCapturer + Send + Sync>,
    /// Starts an injector thread for a sharing session (it injects only with a grant).
    pub open_injector: Arc<dyn Fn() -> InjectorHandle + Send + Sync>,
    /// Makes the "look here" marker for a sharing session.
    pub open_marker: Arc<dyn Fn() -> Box<dyn Marker> + Send + Sync>,
    /// Opens the resident's clipboard, on the clipboard thread, at the caseworker's
    /// first admitted clipboard request of a session.
    pub open_clipboard: OpenClipboard,
    /// Lists the resident's monitors (a blocking call to the display).
    pub monitors: Arc<dyn Fn() -> Vec<Monitor> + Send + Sync>,
    /// Where files the caseworker sends are saved (the resident's Downloads folder).
    pub downloads: std::path::PathBuf,
}

/// Opens the platform clipboard (see [`Options::open_clipboard`]).
pub type OpenClipboard =
    Arc<dyn Fn() -> Result<Box<dyn ClipboardAccess>, ClipboardError> + Send + Sync>;

/// Exponential back-off between connection attempts: 1, 2, 4, 8, 16, then 30 s.
#[derive(Debug, Default)]
pub struct Backoff {
    failures: u32,
}

impl Backoff {
    /// The delay before the next attempt.
    pub fn next_delay(&mut self) -> Duration {
        let secs = 1u64 << self.failures.min(5);
        self.failures += 1;
        Duration::from_secs(secs.min(30))
    }

    /// A connection succeeded.
    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_then_caps_and_resets() {
        let mut b = Backoff::default();
        let secs: Vec<u64> = (0..8).map(|_| b.next_delay().as_secs()).collect();
        assert_eq!(secs, vec![1, 2, 4, 8, 16, 30, 30, 30]);
        b.reset();
        assert_eq!(b.next_delay().as_secs(), 1);
    }
}
