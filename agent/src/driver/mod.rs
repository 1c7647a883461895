//! The agent's async driver, a plain pump: keeps a signaling connection to the relay
//! (reconnecting with back-off), feeds what happens into the IO-free [`Assist`] (the
//! consent decisions) with the time, and carries out its steps — asking the resident,
//! starting and stopping capture, WebRTC — in `steps.rs`, `media.rs` and `guidance.rs`.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use acote_proto::signal::Feature;
use acote_proto::{Requester, Role, SignalMessage};
use tokio::sync::mpsc;

use acote_proto::channel::{AgentMessage, ClipboardStatus, VoiceState};
use acote_proto::files::FileStatus;
use acote_proto::sas::{AgentSas, Nonce};

use crate::assist::{Assist, Happened, Side, Step};
use crate::control::{Control, ControlEffect};
use crate::encode::h264::{H264Encoder, H264Settings};
use crate::files::{self, Downloads, Transfers};
use crate::input::clipboard::{self, Outcome as ClipboardOutcome};
use crate::pipeline::{self, Pacing, PipelineError, Sharing, Source};
use crate::screens::{self, Monitor, Shown};
use crate::session::ViewGrant;
use crate::transport::egress;
use crate::transport::peer::{Peer, PeerEvent};
use crate::transport::signal_client::{SignalClient, SignalClientError};
use crate::ui::{Prompter, Status, UiEvent};
use crate::voice::VoiceIo;
use crate::voice::call::CallEffect;
use crate::voice::device::DeviceEvent;

mod guidance;
mod media;
mod options;
mod steps;

use media::media_event;
pub use options::{Backoff, OpenClipboard, Options};

/// How a connection to the relay ended.
enum Outcome {
    /// The agent should exit.
    Quit,
    /// The connection dropped; reconnect.
    Lost,
}

/// Runs until `shutdown` completes or the relay is refused for good.
///
/// A session outlives its connection to the relay: while the driver waits and
/// reconnects, media keeps flowing, the data channel is still read (control was taken
/// back, so input is refused) and the session's timers run; the next `hello` carries the
/// resumption token.
pub async fn run(
    opts: Options,
    prompter: &mut dyn Prompter,
    ui: &mut mpsc::UnboundedReceiver<UiEvent>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), SignalClientError> {
    tokio::pin!(shutdown);
    let mut backoff = Backoff::default();
    let mut live = Live {
        opts: &opts,
        client: None,
        prompter,
        assist: Assist::new(Instant::now(), SystemTime::now()),
        media: None,
        frames: 0,
        bytes_sent: 0,
        features_used: Vec::new(),
        transfers: Transfers::new(0, Box::new(Downloads::new(opts.downloads.clone()))),
    };
    let mut delay = Duration::ZERO;
    loop {
        if !delay.is_zero()
            && live
                .offline(tokio::time::sleep(delay), ui, &mut shutdown)
                .await
                .is_none()
        {
            live.step(Happened::Quit).await;
            return Ok(());
        }
        live.prompter.status(&Status::Connecting);
        let connecting = SignalClient::connect(&opts.signal_url, opts.tls.clone());
        let Some(attempt) = live.offline(connecting, ui, &mut shutdown).await else {
            live.step(Happened::Quit).await;
            return Ok(());
        };
        match attempt {
            Ok(client) => {
                backoff.reset();
                live.client = Some(client);
                live.step(Happened::LinkUp).await;
                let outcome = live.run(ui, &mut shutdown).await;
                if let Outcome::Quit = outcome {
                    // Said while the connection is still there: the relay hears the bye.
                    live.step(Happened::Quit).await;
                    return Ok(());
                }
                live.client = None;
                live.step(Happened::LinkDown { side: Side::Agent }).await;
            }
            Err(e) if !e.is_transient() => {
                live.step(Happened::Quit).await;
                return Err(e);
            }
            Err(e) => tracing::warn!(error = %e, "relay unreachable"),
        }
        delay = backoff.next_delay();
        if live.assist.resume_token().is_some() {
            // The session has 60 s to come back: keep trying often.
            delay = delay.min(Duration::from_secs(4));
        }
        live.prompter.status(&Status::Retrying {
            in_secs: delay.as_secs(),
        });
    }
}

/// How often the resident's data counter is brought up to date.
const DATA_EVERY: Duration = Duration::from_secs(2);
/// Growth under this waits (with 1 % of a small count, a still screen's few hundred bytes a
/// second would still be told every 2 s).
const TELL_DATA_STEP: u64 = 16_000;
/// The caseworker's page hears of the counter at least this often while it grows.
const TELL_DATA_AT_LEAST: Duration = Duration::from_secs(30);

/// Whether the caseworker's page should hear of the counter now: the first time, then
/// once it grew by 1 % and 16 KB (what the page shows moves by about that), or after
/// [`TELL_DATA_AT_LEAST`] if it grew at all. Every 2 s, as before, was a tenth of a still
/// screen's bytes.
fn worth_telling(told: Option<(u64, Instant)>, total: u64, now: Instant) -> bool {
    let Some((bytes, at)) = told else {
        return true;
    };
    let grown = total.saturating_sub(bytes);
    grown > 0
        && ((grown.saturating_mul(100) >= bytes && grown >= TELL_DATA_STEP)
            || now.saturating_duration_since(at) >= TELL_DATA_AT_LEAST)
}

/// A session's media: the peer connection and the capture pipeline.
struct Media {
    peer: Peer,
    /// The TURN bridges the peer connection may use (none when UDP leaves): they stop
    /// when dropped, with the session's media.
    _bridges: Vec<egress::Bridge>,
    /// Bytes sent on this connection, as last read, and when.
    sent: u64,
    sent_at: Instant,
    /// What the caseworker's page was last told of the counter, and when.
    told: Option<(u64, Instant)>,
    sharing: Sharing,
    /// The security code exchange, once the data channel opened (once per connection:
    /// an ICE restart keeps the certificates).
    sas: Option<AgentSas>,
    peer_events: mpsc::Receiver<PeerEvent>,
    failures: mpsc::Receiver<PipelineError>,
    /// What the clipboard thread did for the caseworker.
    clipboard_done: mpsc::UnboundedReceiver<ClipboardOutcome>,
    /// The resident's monitors as last told to the viewer (`None`: not yet told).
    monitors: Option<Vec<Monitor>>,
    /// The monitor the caseworker sees (or all).
    shown: Shown,
    /// The voice call's devices and encoder.
    voice: VoiceIo,
}

/// The agent's state across connections to the relay.
struct Live<'a> {
    opts: &'a Options,
    /// The signaling connection, when there is one.
    client: Option<SignalClient>,
    prompter: &'a mut dyn Prompter,
    /// The consent decisions: session, control, stalls, the link's memory.
    assist: Assist,
    media: Option<Media>,
    /// Frames captured in the current session, reported when it ends.
    frames: u64,
    /// Bytes sent in the current session by connections already closed.
    bytes_sent: u64,
    /// The guidance features already reported for the current session.
    features_used: Vec<Feature>,
    /// Files between the caseworker and the resident in the current session.
    transfers: Transfers,
}

enum Input {
    Signal(Result<Option<SignalMessage>, SignalClientError>),
    Ui(Option<UiEvent>),
    Peer(Option<PeerEvent>),
    Clipboard(ClipboardOutcome),
    Voice(DeviceEvent),
    PipelineFailed,
    Tick,
    Shutdown,
}

impl Live<'_> {
    async fn run(
        &mut self,
        ui: &mut mpsc::UnboundedReceiver<UiEvent>,
        shutdown: &mut (impl Future<Output = ()> + Unpin),
    ) -> Outcome {
        let hello = SignalMessage::Hello {
            v: acote_proto::PROTOCOL_VERSION,
            role: Some(Role::Agent),
            lang: Some(self.opts.lang.clone()),
            site: None,
            ice_servers: Vec::new(),
            resume: self.assist.resume_token().map(str::to_string),
            max_file_bytes: None,
        };
        if self.send(hello).await.is_err() {
            return Outcome::Lost;
        }
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        loop {
            let Some(client) = self.client.as_mut() else {
                return Outcome::Lost;
            };
            let input = tokio::select! {
                m = client.recv() => Input::Signal(m),
                e = ui.recv() => Input::Ui(e),
                i = media_event(&mut self.media) => i,
                _ = tick.tick() => Input::Tick,
                () = &mut *shutdown => Input::Shutdown,
            };
            self.turn().await;
            match input {
                Input::Signal(Ok(Some(msg))) => {
                    if !self.step(Happened::Relay(msg)).await {
                        return Outcome::Lost;
                    }
                }
                Input::Signal(Ok(None)) => return Outcome::Lost,
                Input::Signal(Err(SignalClientError::Protocol(e))) => {
                    tracing::warn!(error = %e, "ignoring an invalid message from the relay");
                }
                Input::Signal(Err(e)) => {
                    tracing::warn!(error = %e, "lost the relay");
                    return Outcome::Lost;
                }
                Input::Shutdown => return Outcome::Quit,
                local => self.local(local).await,
            }
        }
    }

    /// Waits for `fut` (a back-off delay, a connection attempt) while the session goes
    /// on without the relay. `None` when the agent is shutting down.
    async fn offline<T>(
        &mut self,
        fut: impl Future<Output = T>,
        ui: &mut mpsc::UnboundedReceiver<UiEvent>,
        shutdown: &mut (impl Future<Output = ()> + Unpin),
    ) -> Option<T> {
        tokio::pin!(fut);
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        loop {
            let input = tokio::select! {
                r = &mut fut => return Some(r),
                e = ui.recv() => Input::Ui(e),
                i = media_event(&mut self.media) => i,
                _ = tick.tick() => Input::Tick,
                () = &mut *shutdown => return None,
            };
            self.turn().await;
            self.local(input).await;
        }
    }

    /// What the resident, the peer connection and the clock say, online or not.
    async fn local(&mut self, input: Input) {
        let happened = match input {
            Input::Ui(Some(UiEvent::Answer { question, yes })) => {
                Happened::Answer { question, yes }
            }
            Input::Ui(Some(UiEvent::StopControl)) => Happened::StopControl,
            Input::Ui(Some(UiEvent::MuteVoice(muted))) => Happened::MuteVoice(muted),
            Input::Ui(Some(UiEvent::HangUp)) => Happened::HangUp,
            Input::Voice(DeviceEvent::Failed(e)) => {
                tracing::warn!(error = %e, "the voice call cannot go on");
                Happened::VoiceFailed
            }
            Input::Ui(Some(UiEvent::EndSession)) => Happened::EndSession,
            Input::Peer(Some(PeerEvent::Channel(text))) => Happened::Channel(text),
            Input::Peer(Some(PeerEvent::Failed) | None) | Input::PipelineFailed => {
                Happened::MediaFailed
            }
            Input::Tick => {
                self.count_data(Instant::now()).await;
                Happened::Tick
            }
            other => return self.plain(other).await,
        };
        self.step(happened).await;
    }

    /// Sends on the signaling connection. Without one, the message goes back to the
    /// core, which keeps consent steps and features used for the audit log.
    async fn send(&mut self, msg: SignalMessage) -> Result<(), SignalClientError> {
        match self.client.as_mut() {
            Some(client) => client.send(&msg).await,
            None => {
                self.assist.unsent(msg);
                Err(SignalClientError::Unreachable("not connected".into()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_hears_of_the_counter_when_it_moved_enough() {
        let t0 = Instant::now();
        let s = Duration::from_secs(1);
        assert!(worth_telling(None, 0, t0), "the first reading always goes");
        let told = Some((500_000, t0));
        assert!(
            !worth_telling(told, 500_000, t0 + 60 * s),
            "unchanged: never"
        );
        assert!(
            !worth_telling(told, 504_999, t0 + 2 * s),
            "under 1 %: not yet"
        );
        assert!(
            worth_telling(told, 516_000, t0 + 2 * s),
            "1 % and 16 KB: at once"
        );
        let small = Some((20_000, t0));
        assert!(
            !worth_telling(small, 35_999, t0 + 2 * s),
            "under 16 KB: not yet"
        );
        assert!(worth_telling(small, 36_000, t0 + 2 * s));
        assert!(
            worth_telling(told, 500_001, t0 + TELL_DATA_AT_LEAST),
            "any growth after 30 s"
        );
    }
}
