//! The agent's consent decisions, IO-free: one owner for the view [`Session`], the
//! session's [`Control`] (and with it the control [`ConsentGate`]), the stall watch and
//! the relay link's memory. The driver feeds in what happened with the time, and carries
//! out the returned [`Step`]s in order. The promise "no control survives an interruption"
//! (our link down, the caseworker's link down, the agent stalled) is kept here, and
//! tested here in virtual time.
//!
//! [`ConsentGate`]: crate::input::consent::ConsentGate

use std::time::{Duration, Instant, SystemTime};

use acote_proto::channel::ControlState;
use acote_proto::signal::IceServer;
use acote_proto::{ByeReason, ErrorCode, Requester, SignalMessage};

use crate::control::{Control, ControlEffect};
use crate::link::Link;
use crate::session::{Action, Event, Session, ViewGrant};
use crate::stall::StallWatch;
use crate::ui::Question;
use crate::voice::call::{Call, CallEffect};

/// Whose signaling link to the relay dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The agent's own connection.
    Agent,
    /// The caseworker's (the relay says `peer_away`).
    Viewer,
}

/// What happened, as far as consent is concerned.
#[derive(Debug)]
pub enum Happened {
    /// The agent's signaling connection is up (before the relay's `hello`).
    LinkUp,
    /// A side's signaling link dropped.
    LinkDown {
        /// Whose.
        side: Side,
    },
    /// A message from the relay.
    Relay(SignalMessage),
    /// The resident answered a question.
    Answer {
        /// Which one.
        question: Question,
        /// Their answer.
        yes: bool,
    },
    /// The resident takes control back.
    StopControl,
    /// The resident turns their microphone off (`true`) or on, in a call.
    MuteVoice(bool),
    /// The resident ends the voice call.
    HangUp,
    /// The microphone or speakers cannot be opened, or failed: the call ends.
    VoiceFailed,
    /// The resident stops sharing.
    EndSession,
    /// A message on the viewer's data channel.
    Channel(String),
    /// The media path or the capture failed.
    MediaFailed,
    /// Time passed (questions' deadlines, the resume window, refusal notices).
    Tick,
    /// The agent exits.
    Quit,
}

/// What the driver must carry out, in order.
#[derive(Debug)]
pub enum Step {
    /// Show this code to the resident.
    ShowCode(String),
    /// Ask the resident whether `by` may see the screen.
    AskView {
        /// Who asks.
        by: Requester,
        /// How long they have.
        timeout: Duration,
    },
    /// Withdraw the open view question.
    CancelQuestion,
    /// Start capture and the WebRTC offer, then [`Assist::attach`] the session's control.
    StartSharing(ViewGrant),
    /// Stop capture and close the peer connection (control already ended).
    StopSharing,
    /// Send this to the relay (or hand it back with [`Assist::unsent`]).
    Send(SignalMessage),
    /// Tell the resident the session ended, and why.
    Ended(ByeReason),
    /// Renegotiate the media path (an ICE restart offer).
    RestartIce,
    /// What control decided: a question, a notice, a reply, an audit step.
    Control(ControlEffect),
    /// What the voice call decided: a question, the devices, its state.
    Voice(CallEffect),
    /// Tell the resident the connection is interrupted.
    Interrupted {
        /// The caseworker.
        by: Requester,
        /// Whether control was taken back.
        had_control: bool,
    },
    /// Tell the resident the session goes on.
    Resumed {
        /// The caseworker.
        by: Requester,
    },
    /// The relay's `hello`: the site's name and the file size limit (0: none given).
    Connected {
        /// The site, as the relay names it.
        site: String,
        /// The largest file a transfer may carry.
        max_file_bytes: u64,
    },
    /// The viewer's answer or a candidate, for the peer connection.
    Peer(SignalMessage),
    /// The relay cannot serve us now: drop the connection and retry.
    Reconnect,
}

/// The consent side of the agent, across sessions and connections.
pub struct Assist {
    session: Session,
    /// The current sharing session's control, from [`Assist::attach`] until it ends.
    control: Option<Control>,
    /// The current sharing session's voice call (none, asked, or on).
    call: Call,
    stall: StallWatch,
    link: Link,
    /// The caseworker of the current (or last) session, once they asked.
    who: Option<Requester>,
    /// Whether the agent's signaling connection is up.
    online: bool,
}

impl Assist {
    /// Nothing in progress; the stall watch starts at (`mono`, `wall`).
    pub fn new(mono: Instant, wall: SystemTime) -> Self {
        Self {
            session: Session::new(),
            control: None,
            call: Call::new(),
            stall: StallWatch::new(mono, wall),
            link: Link::default(),
            who: None,
            online: false,
        }
    }

    /// True while the screen is shared (also while interrupted).
    pub fn is_sharing(&self) -> bool {
        self.session.is_sharing()
    }

    /// The token to present when reconnecting, while the session is interrupted.
    pub fn resume_token(&self) -> Option<&str> {
        self.session.resume_token()
    }

    /// Where control stands, while a session's control is attached.
    pub fn control_state(&self) -> Option<ControlState> {
        self.control.as_ref().map(Control::state)
    }

    /// The caseworker of the current (or last) session, once known.
    pub fn who(&self) -> Option<&Requester> {
        self.who.as_ref()
    }

    /// The ICE servers for a new peer connection, and whether only relayed paths may be
    /// used (the agent's own option or the relay's rule).
    pub fn ice(&self, option_relay_only: bool) -> (&[IceServer], bool) {
        self.link.ice(option_relay_only)
    }

    /// The driver could not send `msg`: an audit step of a live session is kept and sent
    /// after the resume; anything else is dropped.
    pub fn unsent(&mut self, msg: SignalMessage) {
        let sharing = self.session.is_sharing();
        self.link.unsent(msg, sharing);
    }

    /// The driver started sharing (after [`Step::StartSharing`]): this is the session's
    /// control, viewing only until the resident says yes.
    pub fn attach(&mut self, control: Control) {
        self.control = Some(control);
        self.call = Call::new();
    }

    /// Whether the voice call is on.
    pub fn voice_on(&self) -> bool {
        self.call.is_on()
    }

    /// One turn of the driver's loop, before it handles what woke it: after a stall
    /// (see [`crate::stall`]) control is taken back, as after an interruption, since the
    /// resident may have walked away and input sent meanwhile must not land unseen. The
    /// view consent stands.
    pub fn turn(&mut self, mono: Instant, wall: SystemTime) -> Vec<Step> {
        let control = self.control_state();
        let Some(gap) = self.stall.turn(mono, wall, control) else {
            return Vec::new();
        };
        tracing::warn!(
            secs = gap.as_secs(),
            "the agent was not running (suspended or stopped); control is taken back"
        );
        let mut out = self.interrupted();
        if self.online
            && let Some(by) = &self.who
        {
            out.push(Step::Resumed { by: by.clone() });
        }
        out
    }

    /// Feeds one happening in, at `now`.
    pub fn handle(&mut self, now: Instant, what: Happened) -> Vec<Step> {
        match what {
            Happened::LinkUp => {
                self.online = true;
                Vec::new()
            }
            Happened::LinkDown { side: Side::Agent } => {
                self.online = false;
                let mut out = self.session_event(now, Event::Disconnected);
                if !self.session.is_sharing() {
                    out.extend(self.end_control());
                    out.push(Step::StopSharing);
                }
                out
            }
            Happened::LinkDown { side: Side::Viewer } => self.session_event(now, Event::PeerAway),
            Happened::Relay(msg) => self.relay(now, msg),
            Happened::Answer {
                question: Question::View,
                yes,
            } => self.session_event(now, Event::Answer(yes)),
            Happened::Answer {
                question: Question::Control,
                yes,
            } => self.with_control(|c| c.answer(now, yes)),
            Happened::Answer {
                question: Question::Voice,
                yes,
            } => voice(self.call.answer(yes)),
            Happened::StopControl => self.with_control(Control::stop),
            Happened::MuteVoice(muted) => voice(self.call.mute(muted)),
            Happened::HangUp => voice(self.call.hang_up()),
            Happened::VoiceFailed => voice(self.call.device_failed()),
            Happened::EndSession if self.session.is_sharing() => {
                let mut out = vec![Step::Send(SignalMessage::Bye {
                    reason: ByeReason::Ended,
                })];
                out.extend(self.session_event(now, Event::Bye(ByeReason::Ended)));
                out
            }
            Happened::EndSession => Vec::new(),
            Happened::Channel(text) => {
                let mut out = Vec::new();
                for step in self.with_control(|c| c.on_message(now, &text)) {
                    match step {
                        Step::Control(ControlEffect::Voice(action)) if self.control.is_some() => {
                            out.extend(voice(self.call.viewer(now, action)));
                        }
                        other => out.push(other),
                    }
                }
                out
            }
            Happened::MediaFailed => self.session_event(now, Event::MediaFailed),
            Happened::Tick => {
                let mut out = self.with_control(|c| c.poll(now));
                out.extend(voice(self.call.poll(now)));
                let actions = self.session.poll(now);
                out.extend(self.translate(actions));
                out
            }
            Happened::Quit => {
                let mut out = Vec::new();
                let event = if self.session.is_sharing() {
                    // The relay is told when it can be; offline the bye is dropped.
                    out.push(Step::Send(SignalMessage::Bye {
                        reason: ByeReason::Ended,
                    }));
                    Event::Bye(ByeReason::Ended)
                } else {
                    Event::Disconnected
                };
                self.online = false;
                out.extend(self.session_event(now, event));
                out.extend(self.end_control());
                out.push(Step::StopSharing);
                out
            }
        }
    }

    /// A relay message: session events, the link's memory, or the peer connection's.
    fn relay(&mut self, now: Instant, msg: SignalMessage) -> Vec<Step> {
        match msg {
            SignalMessage::Hello {
                site,
                ice_servers,
                max_file_bytes,
                ..
            } => {
                self.link.hello(ice_servers, self.control.is_some());
                vec![Step::Connected {
                    site: site.unwrap_or_default(),
                    max_file_bytes: max_file_bytes.unwrap_or(0),
                }]
            }
            SignalMessage::Code { code, expires_in } => {
                self.session_event(now, Event::Code { code, expires_in })
            }
            SignalMessage::IceServers {
                ice_servers,
                relay_only,
            } => {
                self.link.session_servers(ice_servers, relay_only);
                Vec::new()
            }
            SignalMessage::Paired { by: Some(by) } => self.session_event(now, Event::Paired { by }),
            peer @ (SignalMessage::Answer { .. } | SignalMessage::Candidate { .. }) => {
                vec![Step::Peer(peer)]
            }
            SignalMessage::Bye { reason } => self.session_event(now, Event::Bye(reason)),
            SignalMessage::ResumeToken { token } => {
                self.session_event(now, Event::ResumeToken(token))
            }
            SignalMessage::Resumed { peer_present, .. } => {
                let mut out: Vec<Step> = self.link.resumed().into_iter().map(Step::Send).collect();
                out.extend(self.session_event(now, Event::Resumed { peer_present }));
                out
            }
            SignalMessage::PeerAway => self.handle(now, Happened::LinkDown { side: Side::Viewer }),
            SignalMessage::PeerBack => self.session_event(now, Event::PeerBack),
            SignalMessage::Error {
                code: ErrorCode::Unavailable | ErrorCode::AuditDown,
                ..
            } => vec![Step::Reconnect],
            SignalMessage::Error { code, message, .. } => {
                tracing::warn!(?code, %message, "the relay refused a message");
                Vec::new()
            }
            other => {
                tracing::debug!(kind = other.kind(), "ignoring an unexpected message");
                Vec::new()
            }
        }
    }

    fn session_event(&mut self, now: Instant, event: Event) -> Vec<Step> {
        let actions = self.session.handle(now, event);
        self.translate(actions)
    }

    /// The session's actions as steps; interruptions and endings reach control here.
    fn translate(&mut self, actions: Vec<Action>) -> Vec<Step> {
        let mut out = Vec::new();
        for action in actions {
            match action {
                // The last caseworker is kept until the next one asks: the end of their
                // session, carried out after this batch, still names them.
                Action::ShowCode { code } => out.push(Step::ShowCode(code)),
                Action::AskView { by, timeout } => {
                    self.who = Some(by.clone());
                    out.push(Step::AskView { by, timeout });
                }
                Action::CancelQuestion => out.push(Step::CancelQuestion),
                Action::StartSharing(grant) => out.push(Step::StartSharing(grant)),
                Action::StopSharing => {
                    // Control ends first: the injector lets go of every key.
                    out.extend(self.end_control());
                    out.push(Step::StopSharing);
                }
                Action::Send(msg) => out.push(Step::Send(msg)),
                Action::Ended(reason) => {
                    self.link.session_ended();
                    out.push(Step::Ended(reason));
                }
                Action::Interrupted => out.extend(self.interrupted()),
                Action::TakeControlBack => {
                    let (had_control, steps) = self.take_back();
                    out.extend(steps);
                    if had_control {
                        out.push(Step::Control(ControlEffect::Changed(
                            ControlState::TakenBack,
                        )));
                    }
                }
                Action::Resumed => {
                    if let Some(by) = &self.who {
                        out.push(Step::Resumed { by: by.clone() });
                    }
                }
                Action::RestartIce => out.push(Step::RestartIce),
            }
        }
        out
    }

    /// A side's link is down (or the agent stalled): control is taken back at once (held
    /// keys and buttons released), the viewer told over the data channel if it still
    /// works, and the resident in their words. A resume never brings control back.
    fn interrupted(&mut self) -> Vec<Step> {
        if self.control.is_none() {
            return Vec::new();
        }
        let (had_control, mut out) = self.take_back();
        // The microphone is asked for again after an interruption, like control.
        out.extend(voice(self.call.hang_up()));
        if let Some(by) = &self.who {
            out.push(Step::Interrupted {
                by: by.clone(),
                had_control,
            });
        }
        out
    }

    /// Ends control, if held, without the usual notice to the resident (the caller tells
    /// them): whether it was held, and what else control decided.
    fn take_back(&mut self) -> (bool, Vec<Step>) {
        let effects = match self.control.as_mut() {
            Some(control) => control.stop(),
            None => return (false, Vec::new()),
        };
        let had_control = effects
            .iter()
            .any(|e| matches!(e, ControlEffect::Changed(ControlState::TakenBack)));
        let steps = effects
            .into_iter()
            .filter(|e| !matches!(e, ControlEffect::Changed(_)))
            .map(Step::Control)
            .collect();
        (had_control, steps)
    }

    /// The session's control ends with its sharing; everything held is released.
    fn end_control(&mut self) -> Vec<Step> {
        let mut out = voice(self.call.hang_up());
        if let Some(mut control) = self.control.take() {
            out.extend(control.end().into_iter().map(Step::Control));
        }
        out
    }

    fn with_control(&mut self, f: impl FnOnce(&mut Control) -> Vec<ControlEffect>) -> Vec<Step> {
        match self.control.as_mut() {
            Some(control) => f(control).into_iter().map(Step::Control).collect(),
            None => Vec::new(),
        }
    }
}

/// The call's decisions as steps.
fn voice(effects: Vec<CallEffect>) -> Vec<Step> {
    effects.into_iter().map(Step::Voice).collect()
}

#[cfg(test)]
mod tests;
