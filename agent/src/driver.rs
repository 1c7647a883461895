//! The agent's async driver: keeps a signaling connection to the relay (reconnecting with
//! back-off), feeds what happens into the IO-free [`Session`], and carries out its
//! actions — asking the resident, starting and stopping capture, WebRTC.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use acote_proto::{ErrorCode, IceServer, Requester, Role, SignalMessage};
use tokio::sync::mpsc;

use crate::control::{Control, ControlEffect, Marker};
use crate::encode::h264::{H264Encoder, H264Settings};
use crate::input::inject::InjectorHandle;
use crate::pipeline::{self, OpenCapturer, Pacing, PipelineError, Sharing};
use crate::session::{Action, Event, Session, ViewGrant};
use crate::transport::peer::{Peer, PeerEvent};
use crate::transport::signal_client::{SignalClient, SignalClientError};
use crate::ui::{Prompter, Status, UiEvent};

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
}

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
pub async fn run(
    opts: Options,
    prompter: &mut dyn Prompter,
    ui: &mut mpsc::UnboundedReceiver<UiEvent>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), SignalClientError> {
    tokio::pin!(shutdown);
    let mut backoff = Backoff::default();
    let mut session = Session::new();
    loop {
        prompter.status(&Status::Connecting);
        let attempt = tokio::select! {
            r = SignalClient::connect(&opts.signal_url, opts.tls.clone()) => r,
            () = &mut shutdown => return Ok(()),
        };
        let outcome = match attempt {
            Ok(client) => {
                backoff.reset();
                let mut live = Live {
                    opts: &opts,
                    client,
                    prompter: &mut *prompter,
                    session: &mut session,
                    media: None,
                    who: None,
                    ice_servers: Vec::new(),
                    site_relay_only: false,
                    frames: 0,
                };
                let outcome = live.run(ui, &mut shutdown).await;
                live.wind_down().await;
                outcome
            }
            Err(e) if !e.is_transient() => return Err(e),
            Err(e) => {
                tracing::warn!(error = %e, "relay unreachable");
                Outcome::Lost
            }
        };
        if let Outcome::Quit = outcome {
            return Ok(());
        }
        let delay = backoff.next_delay();
        prompter.status(&Status::Retrying {
            in_secs: delay.as_secs(),
        });
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = &mut shutdown => return Ok(()),
        }
    }
}

/// A session's media: the peer connection and the capture pipeline.
struct Media {
    peer: Peer,
    sharing: Sharing,
    control: Control,
    peer_events: mpsc::Receiver<PeerEvent>,
    failures: mpsc::Receiver<PipelineError>,
}

/// State of one live connection to the relay.
struct Live<'a> {
    opts: &'a Options,
    client: SignalClient,
    prompter: &'a mut dyn Prompter,
    session: &'a mut Session,
    media: Option<Media>,
    who: Option<Requester>,
    ice_servers: Vec<IceServer>,
    /// The relay asked for relayed paths only (its `ice_servers` message).
    site_relay_only: bool,
    /// Frames captured in the current session, reported when it ends.
    frames: u64,
}

enum Input {
    Signal(Result<Option<SignalMessage>, SignalClientError>),
    Ui(Option<UiEvent>),
    Peer(Option<PeerEvent>),
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
        let hello = SignalMessage::client_hello(Role::Agent, Some(self.opts.lang.clone()));
        if self.client.send(&hello).await.is_err() {
            return Outcome::Lost;
        }
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        loop {
            let input = tokio::select! {
                m = self.client.recv() => Input::Signal(m),
                e = ui.recv() => Input::Ui(e),
                i = media_event(&mut self.media) => i,
                _ = tick.tick() => Input::Tick,
                () = &mut *shutdown => Input::Shutdown,
            };
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
                Input::Ui(Some(UiEvent::Answer(yes))) if self.session.is_asking() => {
                    self.session.handle(now, Event::Answer(yes))
                }
                Input::Ui(Some(UiEvent::Answer(yes))) => {
                    self.control(|c| c.answer(now, yes)).await;
                    Vec::new()
                }
                Input::Ui(Some(UiEvent::StopControl)) => {
                    self.control(Control::stop).await;
                    Vec::new()
                }
                Input::Ui(Some(UiEvent::EndSession)) if self.session.is_sharing() => {
                    let _ = self
                        .client
                        .send(&SignalMessage::Bye {
                            reason: acote_proto::ByeReason::Ended,
                        })
                        .await;
                    self.session
                        .handle(now, Event::Bye(acote_proto::ByeReason::Ended))
                }
                Input::Ui(_) => Vec::new(),
                Input::Peer(Some(PeerEvent::Candidate(c))) => {
                    let _ = self.client.send(&c).await;
                    Vec::new()
                }
                Input::Peer(Some(PeerEvent::Connected)) => Vec::new(),
                Input::Peer(Some(PeerEvent::Channel(text))) => {
                    self.control(|c| c.on_message(now, &text)).await;
                    Vec::new()
                }
                Input::Peer(Some(PeerEvent::Failed) | None) | Input::PipelineFailed => {
                    self.session.handle(now, Event::MediaFailed)
                }
                Input::Tick => {
                    self.control(|c| c.poll(now)).await;
                    self.session.poll(now)
                }
                Input::Shutdown => {
                    if self.session.is_sharing() {
                        let _ = self
                            .client
                            .send(&SignalMessage::Bye {
                                reason: acote_proto::ByeReason::Ended,
                            })
                            .await;
                    }
                    return Outcome::Quit;
                }
            };
            for action in actions {
                self.perform(action).await;
            }
        }
    }

    /// Turns a relay message into session events (or handles it directly).
    /// `None` means the connection should be dropped and retried.
    async fn on_signal(&mut self, now: Instant, msg: SignalMessage) -> Option<Vec<Action>> {
        let actions = match msg {
            SignalMessage::Hello {
                site, ice_servers, ..
            } => {
                self.ice_servers = ice_servers;
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
                // This session's TURN credentials; they replace hello's STUN-only list.
                self.ice_servers = ice_servers;
                self.site_relay_only = relay_only;
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
            SignalMessage::Error {
                code: ErrorCode::Unavailable,
                ..
            } => return None,
            SignalMessage::Error { code, message } => {
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
                let _ = self.client.send(&msg).await;
            }
            Action::Ended(reason) => {
                self.prompter.ended(reason, self.frames);
                self.frames = 0;
                self.who = None;
            }
        }
    }

    async fn start_sharing(&mut self, grant: ViewGrant) {
        let (peer_tx, peer_events) = mpsc::channel(64);
        let relay_only = self.opts.relay_only || self.site_relay_only;
        let peer = match Peer::new(
            &self.ice_servers,
            self.opts.include_loopback,
            relay_only,
            peer_tx,
        )
        .await
        {
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
        let sharing = pipeline::start(
            grant,
            (self.opts.open_capturer)(),
            Box::new(H264Encoder::new(H264Settings::default())),
            Arc::clone(&peer.track),
            Arc::clone(&peer.keyframe_wanted),
            Pacing::default(),
            fail_tx,
        );
        let offer = peer.offer().await;
        let control = Control::new((self.opts.open_injector)(), (self.opts.open_marker)());
        self.media = Some(Media {
            peer,
            sharing,
            control,
            peer_events,
            failures,
        });
        match offer {
            Ok(sdp) => {
                let _ = self.client.send(&SignalMessage::Offer { sdp }).await;
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
        let who = self.who.clone().unwrap_or_else(|| Requester {
            name: None,
            site: String::new(),
        });
        for effect in effects {
            match effect {
                ControlEffect::Ask { timeout } => self.prompter.ask_control(&who, timeout),
                ControlEffect::Withdraw => self.prompter.cancel_question(),
                ControlEffect::Changed(state) => self.prompter.control_changed(state, &who),
                ControlEffect::Audit(event) => {
                    let _ = self.client.send(&SignalMessage::Consent { event }).await;
                }
                ControlEffect::Reply(msg) => {
                    if let Some(media) = &self.media {
                        media.peer.send_channel(msg.to_json()).await;
                    }
                }
            }
        }
    }

    async fn stop_media(&mut self) {
        // Control ends before anything else: the injector lets go of every key first.
        self.control(Control::end).await;
        if let Some(media) = self.media.take() {
            self.frames += media.sharing.stop().await;
            media.peer.close().await;
        }
    }

    /// The connection is over: stop anything in progress, tell the resident.
    async fn wind_down(&mut self) {
        for action in self.session.handle(Instant::now(), Event::Disconnected) {
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
