//! The agent's async driver: keeps a signaling connection to the relay (reconnecting with
//! back-off), feeds what happens into the IO-free [`Session`], and carries out its
//! actions — asking the resident, starting and stopping capture, WebRTC.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use acote_proto::signal::Feature;
use acote_proto::{ErrorCode, Requester, Role, SignalMessage};
use tokio::sync::mpsc;

use acote_proto::channel::{AgentMessage, ClipboardStatus, ControlState};
use acote_proto::files::FileStatus;
use acote_proto::sas::{AgentSas, Nonce};

use crate::control::{Control, ControlEffect, Marker};
use crate::encode::h264::{H264Encoder, H264Settings};
use crate::files::{self, Downloads, Transfers};
use crate::input::clipboard::{self, ClipboardAccess, ClipboardError, Outcome as ClipboardOutcome};
use crate::input::inject::InjectorHandle;
use crate::link::Link;
use crate::pipeline::{self, OpenCapturer, Pacing, PipelineError, Sharing, Source};
use crate::screens::{self, Monitor, Shown};
use crate::session::{Action, Event, Session, ViewGrant};
use crate::stall::StallWatch;
use crate::transport::peer::{Peer, PeerEvent};
use crate::transport::signal_client::{SignalClient, SignalClientError};
use crate::ui::{Prompter, Question, Status, UiEvent};

mod guidance;
mod media;

use media::media_event;

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
        session: Session::new(),
        media: None,
        who: None,
        link: Link::default(),
        frames: 0,
        bytes_sent: 0,
        features_used: Vec::new(),
        transfers: Transfers::new(0, Box::new(Downloads::new(opts.downloads.clone()))),
        stall: StallWatch::new(Instant::now(), SystemTime::now()),
    };
    let mut delay = Duration::ZERO;
    loop {
        if !delay.is_zero()
            && live
                .offline(tokio::time::sleep(delay), ui, &mut shutdown)
                .await
                .is_none()
        {
            live.quit().await;
            return Ok(());
        }
        live.prompter.status(&Status::Connecting);
        let connecting = SignalClient::connect(&opts.signal_url, opts.tls.clone());
        let Some(attempt) = live.offline(connecting, ui, &mut shutdown).await else {
            live.quit().await;
            return Ok(());
        };
        let outcome = match attempt {
            Ok(client) => {
                backoff.reset();
                live.client = Some(client);
                let outcome = live.run(ui, &mut shutdown).await;
                live.client = None;
                if let Outcome::Lost = outcome {
                    live.disconnected().await;
                }
                outcome
            }
            Err(e) if !e.is_transient() => {
                live.quit().await;
                return Err(e);
            }
            Err(e) => {
                tracing::warn!(error = %e, "relay unreachable");
                Outcome::Lost
            }
        };
        if let Outcome::Quit = outcome {
            live.quit().await;
            return Ok(());
        }
        delay = backoff.next_delay();
        if live.session.resume_token().is_some() {
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

/// A session's media: the peer connection and the capture pipeline.
struct Media {
    peer: Peer,
    /// Bytes sent on this connection, as last read, and when.
    sent: u64,
    sent_at: Instant,
    sharing: Sharing,
    control: Control,
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
}

/// The agent's state across connections to the relay.
struct Live<'a> {
    opts: &'a Options,
    /// The signaling connection, when there is one.
    client: Option<SignalClient>,
    prompter: &'a mut dyn Prompter,
    session: Session,
    media: Option<Media>,
    who: Option<Requester>,
    /// ICE servers, relay-only and audit steps kept across drops.
    link: Link,
    /// Frames captured in the current session, reported when it ends.
    frames: u64,
    /// Bytes sent in the current session by connections already closed.
    bytes_sent: u64,
    /// The guidance features already reported for the current session.
    features_used: Vec<Feature>,
    /// Files between the caseworker and the resident in the current session.
    transfers: Transfers,
    /// When the event loop last turned, to notice that the agent was not running.
    stall: StallWatch,
}

enum Input {
    Signal(Result<Option<SignalMessage>, SignalClientError>),
    Ui(Option<UiEvent>),
    Peer(Option<PeerEvent>),
    Clipboard(ClipboardOutcome),
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
            resume: self.session.resume_token().map(str::to_string),
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
            self.check_stall().await;
            let now = Instant::now();
            let actions = match input {
                Input::Signal(Ok(Some(msg))) => match self.on_signal(now, msg).await {
                    Some(actions) => actions,
                    None => return Outcome::Lost,
                },
                Input::Signal(Ok(None)) => return Outcome::Lost,
                Input::Signal(Err(SignalClientError::Protocol(e))) => {
                    tracing::warn!(error = %e, "ignoring an invalid message from the relay");
                    Vec::new()
                }
                Input::Signal(Err(e)) => {
                    tracing::warn!(error = %e, "lost the relay");
                    return Outcome::Lost;
                }
                Input::Shutdown => {
                    if self.session.is_sharing() {
                        let _ = self
                            .send(SignalMessage::Bye {
                                reason: acote_proto::ByeReason::Ended,
                            })
                            .await;
                    }
                    return Outcome::Quit;
                }
                local => self.local(now, local).await,
            };
            for action in actions {
                self.perform(action).await;
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
            self.check_stall().await;
            let actions = self.local(Instant::now(), input).await;
            for action in actions {
                self.perform(action).await;
            }
        }
    }

    /// What the resident, the peer connection and the clock say, online or not.
    async fn local(&mut self, now: Instant, input: Input) -> Vec<Action> {
        match input {
            Input::Ui(Some(UiEvent::Answer {
                question: Question::View,
                yes,
            })) => self.session.handle(now, Event::Answer(yes)),
            Input::Ui(Some(UiEvent::Answer {
                question: Question::Control,
                yes,
            })) => {
                self.control(|c| c.answer(now, yes)).await;
                Vec::new()
            }
            Input::Ui(Some(UiEvent::StopControl)) => {
                self.control(Control::stop).await;
                Vec::new()
            }
            Input::Ui(Some(UiEvent::EndSession)) if self.session.is_sharing() => {
                let bye = SignalMessage::Bye {
                    reason: acote_proto::ByeReason::Ended,
                };
                let _ = self.send(bye).await;
                self.session
                    .handle(now, Event::Bye(acote_proto::ByeReason::Ended))
            }
            Input::Clipboard(outcome) => {
                self.clipboard_done(outcome).await;
                Vec::new()
            }
            Input::Ui(Some(UiEvent::Chat(text))) => {
                self.send_chat(text).await;
                Vec::new()
            }
            Input::Ui(Some(UiEvent::SaveFile(yes))) => {
                let effects = self.transfers.answer(yes);
                self.file_effects(effects).await;
                Vec::new()
            }
            Input::Ui(Some(UiEvent::SendFile(path))) => {
                self.send_file(path).await;
                Vec::new()
            }
            Input::Peer(Some(PeerEvent::Candidate(c))) => {
                // Offline, a candidate is lost: an ICE restart after the resume makes new ones.
                let _ = self.send(c).await;
                Vec::new()
            }
            Input::Peer(Some(PeerEvent::ChannelOpen)) => {
                self.start_sas().await;
                self.tell_screens(true).await;
                let effects = self.transfers.channel_open();
                self.file_effects(effects).await;
                Vec::new()
            }
            Input::Peer(Some(PeerEvent::Channel(text))) => {
                self.control(|c| c.on_message(now, &text)).await;
                Vec::new()
            }
            Input::Peer(Some(PeerEvent::Failed) | None) | Input::PipelineFailed => {
                self.session.handle(now, Event::MediaFailed)
            }
            Input::Tick => {
                self.control(|c| c.poll(now)).await;
                self.count_data(now).await;
                self.session.poll(now)
            }
            Input::Ui(_) | Input::Peer(Some(PeerEvent::Connected)) => Vec::new(),
            Input::Signal(_) | Input::Shutdown => Vec::new(),
        }
    }

    /// Sends on the signaling connection. Without one, consent steps and features used
    /// are kept for the audit log and sent after the resume; anything else is dropped.
    async fn send(&mut self, msg: SignalMessage) -> Result<(), SignalClientError> {
        match self.client.as_mut() {
            Some(client) => client.send(&msg).await,
            None => {
                self.link.unsent(msg, self.session.is_sharing());
                Err(SignalClientError::Unreachable("not connected".into()))
            }
        }
    }

    /// Turns a relay message into session events (or handles it directly).
    /// `None` means the connection should be dropped and retried.
    async fn on_signal(&mut self, now: Instant, msg: SignalMessage) -> Option<Vec<Action>> {
        let actions = match msg {
            SignalMessage::Hello {
                site,
                ice_servers,
                max_file_bytes,
                ..
            } => {
                self.transfers.set_limit(max_file_bytes.unwrap_or(0));
                self.link.hello(ice_servers, self.media.is_some());
                self.prompter.status(&Status::Connected {
                    site: site.unwrap_or_default(),
                });
                Vec::new()
            }
            SignalMessage::Code { code, expires_in } => {
                self.session.handle(now, Event::Code { code, expires_in })
            }
            SignalMessage::IceServers {
                ice_servers,
                relay_only,
            } => {
                self.link.session_servers(ice_servers, relay_only);
                Vec::new()
            }
            SignalMessage::Paired { by: Some(by) } => {
                self.session.handle(now, Event::Paired { by })
            }
            SignalMessage::Answer { sdp } => {
                if let Some(media) = &self.media
                    && let Err(e) = media.peer.answer(sdp).await
                {
                    tracing::warn!(error = %e, "the viewer's answer was refused");
                    return Some(self.session.handle(now, Event::MediaFailed));
                }
                Vec::new()
            }
            SignalMessage::Candidate {
                candidate,
                sdp_mid,
                sdp_mline_index,
                username_fragment,
            } => {
                if let Some(media) = &self.media
                    && let Err(e) = media
                        .peer
                        .add_candidate(candidate, sdp_mid, sdp_mline_index, username_fragment)
                        .await
                {
                    tracing::debug!(error = %e, "ignoring a candidate");
                }
                Vec::new()
            }
            SignalMessage::Bye { reason } => self.session.handle(now, Event::Bye(reason)),
            SignalMessage::ResumeToken { token } => {
                self.session.handle(now, Event::ResumeToken(token))
            }
            SignalMessage::Resumed { peer_present, .. } => {
                for consent in self.link.resumed() {
                    let _ = self.send(consent).await;
                }
                self.session.handle(now, Event::Resumed { peer_present })
            }
            SignalMessage::PeerAway => self.session.handle(now, Event::PeerAway),
            SignalMessage::PeerBack => self.session.handle(now, Event::PeerBack),
            SignalMessage::Error {
                code: ErrorCode::Unavailable | ErrorCode::AuditDown,
                ..
            } => return None,
            SignalMessage::Error { code, message, .. } => {
                tracing::warn!(?code, %message, "the relay refused a message");
                Vec::new()
            }
            other => {
                tracing::debug!(kind = other.kind(), "ignoring an unexpected message");
                Vec::new()
            }
        };
        Some(actions)
    }

    async fn perform(&mut self, action: Action) {
        match action {
            Action::ShowCode { code } => {
                let grouped = acote_proto::SessionCode::parse(&code)
                    .map(|c| c.grouped())
                    .unwrap_or(code);
                self.prompter.show_code(&grouped);
            }
            Action::AskView { by, timeout } => {
                self.prompter.ask_view(&by, timeout);
                self.who = Some(by);
            }
            Action::CancelQuestion => self.prompter.cancel_question(),
            Action::StartSharing(grant) => self.start_sharing(grant).await,
            Action::StopSharing => self.stop_media().await,
            Action::Send(msg) => {
                let _ = self.send(msg).await;
            }
            Action::Ended(reason) => {
                self.link.session_ended();
                self.prompter.data_sent(self.bytes_sent);
                self.prompter.ended(reason, self.frames);
                self.frames = 0;
                self.bytes_sent = 0;
                self.who = None;
            }
            Action::Interrupted => self.interrupted().await,
            Action::TakeControlBack => {
                if self.take_control_back().await
                    && let Some(by) = &self.who
                {
                    self.prompter.control_changed(ControlState::TakenBack, by);
                }
            }
            Action::Resumed => {
                if let Some(by) = &self.who {
                    self.prompter.resumed(by);
                }
            }
            Action::RestartIce => self.restart_ice().await,
        }
    }

    /// The connection to the relay is over: a resumable session is only interrupted;
    /// anything else stops, and the resident is told.
    async fn disconnected(&mut self) {
        for action in self.session.handle(Instant::now(), Event::Disconnected) {
            self.perform(action).await;
        }
        if !self.session.is_sharing() {
            self.stop_media().await;
        }
    }

    /// The agent exits: whatever is in progress stops (a session it shares ends; the
    /// relay was told with a `bye` when it could be).
    async fn quit(&mut self) {
        let event = if self.session.is_sharing() {
            Event::Bye(acote_proto::ByeReason::Ended)
        } else {
            Event::Disconnected
        };
        for action in self.session.handle(Instant::now(), event) {
            self.perform(action).await;
        }
        self.stop_media().await;
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
