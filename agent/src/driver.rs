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

    /// Sends the resident's chat message to the caseworker, if the data channel is open
    /// and the message is valid; the resident's window is told either way.
    async fn send_chat(&mut self, text: String) {
        let text = acote_proto::channel::clean_chat(&text);
        let mut sent = false;
        if acote_proto::channel::check_chat(&text).is_ok()
            && let Some(media) = &self.media
        {
            let msg = AgentMessage::Chat { text: text.clone() };
            sent = media.peer.send_channel(msg.to_json()).await;
        }
        if sent {
            self.prompter.chat_sent(&text);
            self.used(Feature::Chat).await;
        } else {
            self.prompter.chat_not_sent(&text);
        }
    }

    /// The resident chose a file to send: measured (off the event loop: it reads the
    /// whole file once for its SHA-256), then offered to the caseworker.
    async fn send_file(&mut self, path: std::path::PathBuf) {
        if self.media.is_none() {
            tracing::info!("no session to send a file in");
            return;
        }
        let measured = {
            let path = path.clone();
            tokio::task::spawn_blocking(move || files::measure(&path)).await
        };
        let effects = match measured {
            Ok(Ok((size, sha256))) => self.transfers.send(path, size, sha256),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "cannot read the file the resident chose");
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().to_string())
                    .unwrap_or_default();
                vec![files::Effect::Ended {
                    file: files::FileReport {
                        id: String::new(),
                        name,
                        size: 0,
                        outgoing: true,
                    },
                    status: FileStatus::Failed,
                    saved_to: None,
                }]
            }
            Err(_) => Vec::new(),
        };
        self.file_effects(effects).await;
    }

    /// Carries out what the transfers decided.
    async fn file_effects(&mut self, effects: Vec<files::Effect>) {
        let who = self.requester();
        for effect in effects {
            match effect {
                files::Effect::Send(msg) => {
                    if matches!(msg, AgentMessage::FileOffer(_)) {
                        self.used(Feature::Files).await;
                    }
                    if let Some(media) = &self.media {
                        media.peer.send_channel(msg.to_json()).await;
                    }
                }
                files::Effect::Ask(file) => {
                    self.prompter.file_offered(&who, &file);
                    self.used(Feature::Files).await;
                }
                files::Effect::Withdraw(id) => self.prompter.file_withdrawn(&id),
                files::Effect::Sending(file) => self.prompter.file_sending(&file),
                files::Effect::Progress { id, done, size } => {
                    self.prompter.file_progress(&id, done, size);
                }
                files::Effect::Ended {
                    file,
                    status,
                    saved_to,
                } => {
                    self.prompter
                        .file_ended(&who, &file, status, saved_to.as_deref());
                }
            }
        }
    }

    /// The clipboard thread served the caseworker: they get the text or how it went;
    /// the resident is told their clipboard was read or written.
    async fn clipboard_done(&mut self, outcome: ClipboardOutcome) {
        let Some(media) = &self.media else {
            return;
        };
        let (msg, told) = match outcome {
            ClipboardOutcome::Read(text) => (AgentMessage::Clipboard { text }, Some(true)),
            ClipboardOutcome::Status(status) => (
                AgentMessage::ClipboardStatus { status },
                (status == ClipboardStatus::Written).then_some(false),
            ),
        };
        media.peer.send_channel(msg.to_json()).await;
        if let Some(read) = told {
            let who = self.requester();
            self.prompter.clipboard_used(&who, read);
            self.used(Feature::Clipboard).await;
        }
    }

    /// Lists the monitors again and tells the viewer when the list changed (or always,
    /// with `force`). A monitor that went away is no longer shown: the whole desktop is.
    async fn tell_screens(&mut self, force: bool) {
        let list = self.opts.monitors.clone();
        let monitors = tokio::task::spawn_blocking(move || list())
            .await
            .unwrap_or_default();
        let Some(media) = self.media.as_mut() else {
            return;
        };
        if !force && media.monitors.as_ref() == Some(&monitors) {
            return;
        }
        if let Some(rect) = media.shown.get()
            && !monitors.iter().any(|m| m.rect == rect)
        {
            media.shown.set(None);
        }
        media.monitors = Some(monitors);
        self.send_screens().await;
    }

    /// The caseworker chose a monitor (or all of them).
    async fn show_screen(&mut self, id: Option<u32>) {
        let Some(media) = self.media.as_mut() else {
            return;
        };
        let monitors = media.monitors.as_deref().unwrap_or_default();
        let rect = match id {
            None => None,
            Some(id) => match monitors.get(id as usize) {
                Some(m) => Some(m.rect),
                // Not (or no longer) a monitor: the viewer is told the list again.
                None => media.shown.get(),
            },
        };
        if rect != media.shown.get() {
            media.shown.set(rect);
            tracing::info!(monitor = ?id, "the caseworker changed the monitor shown");
            // A picture of the new size at once, even if nothing moves on it.
            media.peer.feedback.want_keyframe();
            self.used(Feature::Screens).await;
        }
        self.send_screens().await;
    }

    async fn send_screens(&mut self) {
        let Some(media) = self.media.as_ref() else {
            return;
        };
        let monitors = media.monitors.as_deref().unwrap_or_default();
        let shown = media
            .shown
            .get()
            .and_then(|r| monitors.iter().position(|m| m.rect == r))
            .and_then(|i| u32::try_from(i).ok());
        let msg = AgentMessage::Screens {
            screens: screens::describe(monitors),
            shown,
        };
        media.peer.send_channel(msg.to_json()).await;
    }

    /// Reports a guidance feature's first use in this session, for the relay's audit log
    /// (that it was used, never what was said).
    async fn used(&mut self, feature: Feature) {
        if self.features_used.contains(&feature) {
            return;
        }
        self.features_used.push(feature);
        let _ = self.send(SignalMessage::Used { feature }).await;
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

    /// A side's signaling is down: control is taken back at once (held keys and buttons
    /// released), the caseworker's page is told over the data channel if it still
    /// works, and the resident hears it in their words. A resume never brings control
    /// back: the caseworker must ask and the resident say yes again.
    async fn interrupted(&mut self) {
        if self.media.is_none() {
            return;
        }
        let had_control = self.take_control_back().await;
        if let Some(by) = &self.who {
            self.prompter.interrupted(by, had_control);
        }
    }

    /// Ends control, if held, without the usual notice (the caller tells the resident);
    /// true if it was held.
    async fn take_control_back(&mut self) -> bool {
        let Some(media) = self.media.as_mut() else {
            return false;
        };
        let effects = media.control.stop();
        let had_control = effects
            .iter()
            .any(|e| matches!(e, ControlEffect::Changed(ControlState::TakenBack)));
        let effects = effects
            .into_iter()
            .filter(|e| !matches!(e, ControlEffect::Changed(_)))
            .collect();
        self.apply(effects).await;
        had_control
    }

    /// After a stall (see [`crate::stall`]) control is taken back, as after an
    /// interruption: the resident may have walked away meanwhile, and input the
    /// caseworker sent during the stall must not land unseen. The view consent stands.
    async fn check_stall(&mut self) {
        let control = self.media.as_ref().map(|m| m.control.state());
        let Some(gap) = self.stall.turn(Instant::now(), SystemTime::now(), control) else {
            return;
        };
        tracing::warn!(
            secs = gap.as_secs(),
            "the agent was not running (suspended or stopped); control is taken back"
        );
        self.interrupted().await;
        if self.client.is_some()
            && let Some(by) = &self.who
        {
            self.prompter.resumed(by);
        }
    }

    /// The path failed while a side was away: offer again with new ICE credentials.
    async fn restart_ice(&mut self) {
        let Some(media) = &self.media else {
            return;
        };
        match media.peer.restart_offer().await {
            Ok(sdp) => {
                tracing::info!("media path failed during the interruption; restarting ICE");
                let _ = self.send(SignalMessage::Offer { sdp }).await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot restart ICE");
                for a in self.session.handle(Instant::now(), Event::MediaFailed) {
                    Box::pin(self.perform(a)).await;
                }
            }
        }
    }

    async fn start_sharing(&mut self, grant: ViewGrant) {
        self.features_used.clear();
        let (peer_tx, peer_events) = mpsc::channel(64);
        let (ice_servers, relay_only) = self.link.ice(self.opts.relay_only);
        let peer =
            match Peer::new(ice_servers, self.opts.include_loopback, relay_only, peer_tx).await {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot set up WebRTC");
                    let actions = self.session.handle(Instant::now(), Event::MediaFailed);
                    for a in actions {
                        Box::pin(self.perform(a)).await;
                    }
                    return;
                }
            };
        let (fail_tx, failures) = mpsc::channel(1);
        let shown = Shown::default();
        let source = Source {
            open: (self.opts.open_capturer)(),
            shown: shown.clone(),
        };
        let sharing = pipeline::start(
            grant,
            source,
            Box::new(H264Encoder::new(H264Settings::default())),
            Arc::clone(&peer.track),
            Arc::clone(&peer.feedback),
            Pacing::default(),
            fail_tx,
        );
        let offer = peer.offer().await;
        let (clip_tx, clipboard_done) = mpsc::unbounded_channel();
        let open_clipboard = Arc::clone(&self.opts.open_clipboard);
        let clipboard = clipboard::spawn(move || open_clipboard(), clip_tx);
        let control = Control::new(
            (self.opts.open_injector)(),
            (self.opts.open_marker)(),
            clipboard,
            shown.clone(),
        );
        self.media = Some(Media {
            peer,
            sent: 0,
            sent_at: Instant::now(),
            sharing,
            control,
            sas: None,
            peer_events,
            failures,
            clipboard_done,
            monitors: None,
            shown,
        });
        match offer {
            Ok(sdp) => {
                let _ = self.send(SignalMessage::Offer { sdp }).await;
                if let Some(by) = &self.who {
                    self.prompter.sharing(by);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot create the offer");
                for a in self.session.handle(Instant::now(), Event::MediaFailed) {
                    Box::pin(self.perform(a)).await;
                }
            }
        }
    }

    /// Runs `f` on the session's control, if sharing, and carries out its effects.
    async fn control(&mut self, f: impl FnOnce(&mut Control) -> Vec<ControlEffect>) {
        let Some(media) = self.media.as_mut() else {
            return;
        };
        let effects = f(&mut media.control);
        self.apply(effects).await;
    }

    /// Who the caseworker is, for the resident's window (nameless if not yet known).
    fn requester(&self) -> Requester {
        self.who.clone().unwrap_or_else(|| Requester {
            name: None,
            site: String::new(),
        })
    }

    /// Carries out what control decided.
    async fn apply(&mut self, effects: Vec<ControlEffect>) {
        let who = self.requester();
        for effect in effects {
            match effect {
                ControlEffect::Ask { timeout } => self.prompter.ask_control(&who, timeout),
                ControlEffect::Withdraw => self.prompter.cancel_question(),
                ControlEffect::Changed(state) => self.prompter.control_changed(state, &who),
                ControlEffect::Audit(event) => {
                    let _ = self.send(SignalMessage::Consent { event }).await;
                }
                ControlEffect::LowData(on) => {
                    if let Some(media) = &self.media {
                        tracing::info!(on, "low data set by the caseworker");
                        media.peer.feedback.set_low_data(on);
                    }
                }
                ControlEffect::SasNonce(n) => self.on_sas_nonce(&n).await,
                ControlEffect::ShowScreen(id) => self.show_screen(id).await,
                ControlEffect::File(msg) => {
                    let effects = self.transfers.on_message(msg);
                    Box::pin(self.file_effects(effects)).await;
                }
                ControlEffect::Chat(text) => {
                    self.prompter.chat_received(&who, &text);
                    self.used(Feature::Chat).await;
                }
                ControlEffect::Reply(msg) => {
                    if let Some(media) = &self.media {
                        media.peer.send_channel(msg.to_json()).await;
                    }
                }
            }
        }
    }

    /// The data channel is open: commit to our security-code nonce (see
    /// [`acote_proto::sas`]), from the fingerprints this connection actually uses.
    async fn start_sas(&mut self) {
        let Some(media) = self.media.as_mut() else {
            return;
        };
        if media.sas.is_some() {
            return;
        }
        match media.peer.fingerprints().await {
            Ok((fp_agent, fp_viewer)) => {
                let (sas, commit) = AgentSas::start(Nonce::random(), fp_agent, fp_viewer);
                media.sas = Some(sas);
                media.peer.send_channel(commit.to_json()).await;
            }
            Err(e) => tracing::warn!(error = %e, "no security code for this connection"),
        }
    }

    /// The viewer's nonce: reveal ours and show the code. A nonce before our commitment
    /// or after the code is fixed is refused (a man in the middle gets no second try).
    async fn on_sas_nonce(&mut self, n: &str) {
        let Some(media) = self.media.as_mut() else {
            return;
        };
        // Refusals are logged at debug level only, like other refused channel
        // messages: a viewer sending them in a flood must not fill the log.
        let Some(sas) = media.sas.as_mut() else {
            tracing::debug!("refused a security-code nonce before our commitment");
            return;
        };
        let code = match sas.on_nonce(n) {
            Ok((reveal, code)) => {
                media.peer.send_channel(reveal.to_json()).await;
                code
            }
            Err(e) => {
                tracing::debug!(error = %e, "refused a security-code message");
                return;
            }
        };
        self.prompter.security_code(code);
    }

    async fn stop_media(&mut self) {
        // Control ends before anything else: the injector lets go of every key first.
        self.control(Control::end).await;
        // Transfers end with the session; partial files are removed.
        let effects = self.transfers.end_all();
        self.file_effects(effects).await;
        if let Some(media) = self.media.take() {
            self.frames += media.sharing.stop().await;
            // The counter only grows; a smaller figure would be a reset, not a refund.
            self.bytes_sent += media.peer.bytes_sent().await.max(media.sent);
            media.peer.close().await;
        }
    }

    /// Every [`DATA_EVERY`] while sharing: tells the resident (and the caseworker's page)
    /// how much data the session has sent so far.
    async fn count_data(&mut self, now: Instant) {
        let Some(media) = self.media.as_mut() else {
            return;
        };
        if now.saturating_duration_since(media.sent_at) < DATA_EVERY {
            return;
        }
        media.sent_at = now;
        media.sent = media.peer.bytes_sent().await.max(media.sent);
        let total = self.bytes_sent + media.sent;
        self.prompter.data_sent(total);
        let msg = AgentMessage::DataSent { bytes: total };
        media.peer.send_channel(msg.to_json()).await;
        // Monitors come and go (a laptop docked, a projector): the list follows.
        if media.monitors.is_some() {
            self.tell_screens(false).await;
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

/// The next thing the media side reports; pending forever when there is no media.
async fn media_event(media: &mut Option<Media>) -> Input {
    let Some(m) = media else {
        return std::future::pending().await;
    };
    tokio::select! {
        e = m.peer_events.recv() => Input::Peer(e),
        Some(outcome) = m.clipboard_done.recv() => Input::Clipboard(outcome),
        failure = m.failures.recv() => match failure {
            Some(_) => Input::PipelineFailed,
            // The pipeline ended without error (stopped): wait for the peer alone.
            None => Input::Peer(m.peer_events.recv().await),
        },
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
