//! The agent's session lifecycle, IO-free: waiting with a code → asked by a caseworker →
//! sharing → back to waiting. Time is passed in; the driver performs the [`Action`]s.
//!
//! A session survives a drop of the connection to the relay (the agent's or the
//! caseworker's): the relay hands each side a resumption token once the resident said
//! yes, and for [`RESUME_WINDOW`] the session is only *interrupted* — the consent to be
//! seen stands (it lives here, in the agent), capture and the peer connection go on if
//! media still flows, and the agent presents its token when it reconnects. After the
//! window it ends with `connection_lost`. Control is another matter: it is taken back at
//! every interruption (see `driver.rs`), and the resident must say yes again.
//!
//! Consent to be seen is a value: only [`Session`] can create a [`ViewGrant`], only on the
//! resident's yes to the question it asked, before that question timed out. Capture
//! (`pipeline::start`) requires one, so "nothing is captured before yes" holds by
//! construction.

use std::time::{Duration, Instant};

use acote_proto::resume::RESUME_WINDOW;
use acote_proto::{ByeReason, ConsentEvent, Requester, SignalMessage};

/// How long the resident has to answer before silence counts as no.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

/// Proof that the resident agreed to be seen in this session. Not constructible outside
/// this module:
///
/// ```compile_fail,E0451
/// let forged = acote_agent::session::ViewGrant { _private: () };
/// ```
#[derive(Debug)]
pub struct ViewGrant {
    _private: (),
}

/// What happened, as far as the session is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The relay gave us a code to show.
    Code {
        /// Six digits.
        code: String,
        /// Seconds until it expires.
        expires_in: u64,
    },
    /// A caseworker redeemed the code.
    Paired {
        /// Who, as vouched for by the relay.
        by: Requester,
    },
    /// The resident answered the question.
    Answer(bool),
    /// The other side or the relay ended the session.
    Bye(ByeReason),
    /// The media connection failed for good.
    MediaFailed,
    /// The connection to the relay dropped.
    Disconnected,
    /// The relay handed us the token to resume this session after a drop.
    ResumeToken(String),
    /// The relay took our token: the session goes on.
    Resumed {
        /// Whether the caseworker's side is connected right now.
        peer_present: bool,
    },
    /// The caseworker's connection to the relay dropped (the relay waits 60 s for it).
    PeerAway,
    /// The caseworker's connection is back.
    PeerBack,
}

/// What the session decided; the core ([`crate::assist`]) turns it into steps.
#[derive(Debug)]
pub enum Action {
    /// Show this code to the resident.
    ShowCode {
        /// Six digits.
        code: String,
    },
    /// Ask the resident whether `by` may see the screen, answering within `timeout`.
    AskView {
        /// Who asks.
        by: Requester,
        /// How long they have.
        timeout: Duration,
    },
    /// Withdraw an open question (the caseworker left, or time ran out).
    CancelQuestion,
    /// Start capture and the WebRTC offer.
    StartSharing(ViewGrant),
    /// Stop capture and close the peer connection.
    StopSharing,
    /// Send a signaling message.
    Send(SignalMessage),
    /// Tell the resident the session is over, and why.
    Ended(ByeReason),
    /// Signaling to one side is down: take control back (the resident must say yes
    /// again) and tell the resident the connection is interrupted.
    Interrupted,
    /// Our own connection dropped while the caseworker's side was already away: the
    /// resident already sees the interruption, but control is taken back all the same
    /// (it may have been granted again over the media path meanwhile).
    TakeControlBack,
    /// Both sides are connected again: tell the resident the session goes on.
    Resumed,
    /// Media failed while a side was away: renegotiate the path (ICE restart offer).
    RestartIce,
}

#[derive(Debug)]
enum State {
    Idle,
    Waiting,
    Asking {
        deadline: Instant,
    },
    /// Sharing; `peer_away` while the caseworker's side is reconnecting.
    Sharing {
        peer_away: bool,
    },
    /// Sharing, but our own connection to the relay dropped; ends at `deadline`.
    Interrupted {
        deadline: Instant,
    },
}

/// The session state machine.
#[derive(Debug)]
pub struct Session {
    state: State,
    /// Our resumption token for the current session, once the relay gave one.
    token: Option<String>,
    /// Media failed while a side was away: the path must be renegotiated when both are
    /// back, rather than the session ended.
    media_failed: bool,
}

impl Default for Session {
    fn default() -> Self {
        Self::new()
    }
}

impl Session {
    /// A session not yet connected to a relay.
    pub fn new() -> Self {
        Self {
            state: State::Idle,
            token: None,
            media_failed: false,
        }
    }

    /// True while the screen is being shared (also while interrupted).
    pub fn is_sharing(&self) -> bool {
        matches!(
            self.state,
            State::Sharing { .. } | State::Interrupted { .. }
        )
    }

    /// The token to present when reconnecting, while the session is interrupted.
    pub fn resume_token(&self) -> Option<&str> {
        match self.state {
            State::Interrupted { .. } => self.token.as_deref(),
            _ => None,
        }
    }

    /// True while the view question is open.
    pub fn is_asking(&self) -> bool {
        matches!(self.state, State::Asking { .. })
    }

    /// Feeds one event in.
    pub fn handle(&mut self, now: Instant, event: Event) -> Vec<Action> {
        match (&self.state, event) {
            (_, Event::Code { code, .. }) => {
                let mut out = self.leave_current(ByeReason::Ended, false);
                out.push(Action::ShowCode { code });
                self.state = State::Waiting;
                out
            }
            (State::Waiting, Event::Paired { by }) => {
                self.state = State::Asking {
                    deadline: now + ANSWER_TIMEOUT,
                };
                vec![
                    consent(ConsentEvent::ViewAsked),
                    Action::AskView {
                        by,
                        timeout: ANSWER_TIMEOUT,
                    },
                ]
            }
            (State::Asking { deadline }, Event::Answer(yes)) => {
                if now >= *deadline {
                    // Too late: the timeout already said no (or is about to).
                    return self.poll(now);
                }
                if yes {
                    self.state = State::Sharing { peer_away: false };
                    self.media_failed = false;
                    vec![
                        consent(ConsentEvent::ViewAllowed),
                        Action::StartSharing(ViewGrant { _private: () }),
                    ]
                } else {
                    self.state = State::Waiting;
                    vec![
                        consent(ConsentEvent::ViewRefused),
                        Action::Send(SignalMessage::Bye {
                            reason: ByeReason::Refused,
                        }),
                        Action::Ended(ByeReason::Refused),
                    ]
                }
            }
            (
                State::Asking { .. } | State::Sharing { .. } | State::Interrupted { .. },
                Event::Bye(reason),
            ) => {
                let out = self.leave_current(reason, true);
                self.state = State::Waiting;
                out
            }
            (State::Sharing { .. } | State::Interrupted { .. }, Event::ResumeToken(token)) => {
                self.token = Some(token);
                Vec::new()
            }
            (
                State::Sharing { peer_away: true } | State::Interrupted { .. },
                Event::MediaFailed,
            ) => {
                // A side is away: its return renegotiates the path; the window decides.
                self.media_failed = true;
                Vec::new()
            }
            (State::Sharing { peer_away }, Event::Disconnected) if self.token.is_some() => {
                let told = *peer_away;
                self.state = State::Interrupted {
                    deadline: now + RESUME_WINDOW,
                };
                if told {
                    // Already interrupted from the resident's point of view.
                    vec![Action::TakeControlBack]
                } else {
                    vec![Action::Interrupted]
                }
            }
            (State::Interrupted { .. }, Event::Resumed { peer_present }) => {
                self.state = State::Sharing {
                    peer_away: !peer_present,
                };
                if peer_present {
                    self.both_back()
                } else {
                    // Still waiting for the caseworker: the resident already knows.
                    Vec::new()
                }
            }
            (State::Sharing { peer_away: false }, Event::PeerAway) => {
                self.state = State::Sharing { peer_away: true };
                vec![Action::Interrupted]
            }
            (State::Sharing { peer_away: true }, Event::PeerBack) => {
                self.state = State::Sharing { peer_away: false };
                self.both_back()
            }
            (State::Sharing { .. }, Event::MediaFailed) => {
                let mut out = self.leave_current(ByeReason::Error, true);
                out.insert(
                    0,
                    Action::Send(SignalMessage::Bye {
                        reason: ByeReason::Error,
                    }),
                );
                self.state = State::Waiting;
                out
            }
            (State::Interrupted { .. }, Event::Disconnected) => Vec::new(),
            (_, Event::Disconnected) => {
                let out = self.leave_current(ByeReason::PeerGone, true);
                self.state = State::Idle;
                out
            }
            // Answers with no open question, pairings while busy, stray byes: nothing to do.
            _ => Vec::new(),
        }
    }

    /// Both sides are connected again: the resident is told, and a path that failed
    /// meanwhile is renegotiated.
    fn both_back(&mut self) -> Vec<Action> {
        let mut out = vec![Action::Resumed];
        if std::mem::take(&mut self.media_failed) {
            out.push(Action::RestartIce);
        }
        out
    }

    /// Checks timers: an unanswered question becomes a no at its deadline; an
    /// interruption longer than [`RESUME_WINDOW`] ends the session.
    pub fn poll(&mut self, now: Instant) -> Vec<Action> {
        match self.state {
            State::Interrupted { deadline } if now >= deadline => {
                let out = self.leave_current(ByeReason::ConnectionLost, true);
                self.state = State::Idle;
                out
            }
            State::Asking { deadline } if now >= deadline => {
                self.state = State::Waiting;
                vec![
                    Action::CancelQuestion,
                    consent(ConsentEvent::ViewTimeout),
                    Action::Send(SignalMessage::Bye {
                        reason: ByeReason::NoAnswer,
                    }),
                    Action::Ended(ByeReason::NoAnswer),
                ]
            }
            _ => Vec::new(),
        }
    }

    /// Actions to wind down whatever is in progress.
    fn leave_current(&mut self, reason: ByeReason, tell: bool) -> Vec<Action> {
        match self.state {
            State::Asking { .. } => {
                let mut out = vec![Action::CancelQuestion];
                if tell {
                    out.push(Action::Ended(reason));
                }
                out
            }
            State::Sharing { .. } | State::Interrupted { .. } => {
                self.token = None;
                self.media_failed = false;
                let mut out = vec![Action::StopSharing];
                if tell {
                    out.push(Action::Ended(reason));
                }
                out
            }
            State::Idle | State::Waiting => Vec::new(),
        }
    }
}

/// Tells the relay a consent step, for its audit log (it forwards nothing).
fn consent(event: ConsentEvent) -> Action {
    Action::Send(SignalMessage::Consent { event })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who() -> Requester {
        Requester {
            name: Some("Marie Dupont".into()),
            site: "CHRS Les Lilas".into(),
        }
    }

    fn asked(now: Instant) -> Session {
        let mut s = Session::new();
        s.handle(
            now,
            Event::Code {
                code: "482913".into(),
                expires_in: 600,
            },
        );
        let out = s.handle(now, Event::Paired { by: who() });
        assert!(matches!(
            &out[..],
            [Action::Send(SignalMessage::Consent { event: ConsentEvent::ViewAsked }), Action::AskView { timeout, .. }]
                if *timeout == ANSWER_TIMEOUT
        ));
        s
    }

    fn consents(out: &[Action]) -> Vec<ConsentEvent> {
        out.iter()
            .filter_map(|a| match a {
                Action::Send(SignalMessage::Consent { event }) => Some(*event),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn each_view_answer_is_reported_to_the_relay() {
        let t0 = Instant::now();
        let out = asked(t0).handle(t0, Event::Answer(true));
        assert_eq!(consents(&out), vec![ConsentEvent::ViewAllowed]);
        let out = asked(t0).handle(t0, Event::Answer(false));
        assert_eq!(consents(&out), vec![ConsentEvent::ViewRefused]);
        let out = asked(t0).poll(t0 + ANSWER_TIMEOUT);
        assert_eq!(consents(&out), vec![ConsentEvent::ViewTimeout]);
    }

    fn grants(out: &[Action]) -> usize {
        out.iter()
            .filter(|a| matches!(a, Action::StartSharing(_)))
            .count()
    }

    #[test]
    fn yes_within_the_time_starts_sharing() {
        let t0 = Instant::now();
        let mut s = asked(t0);
        let out = s.handle(t0 + Duration::from_secs(59), Event::Answer(true));
        assert_eq!(grants(&out), 1);
        assert!(s.is_sharing());
    }

    #[test]
    fn no_tells_the_relay_and_shares_nothing() {
        let t0 = Instant::now();
        let mut s = asked(t0);
        let out = s.handle(t0, Event::Answer(false));
        assert_eq!(grants(&out), 0);
        assert!(out.iter().any(|a| matches!(
            a,
            Action::Send(SignalMessage::Bye {
                reason: ByeReason::Refused
            })
        )));
        assert!(!s.is_sharing());
    }

    #[test]
    fn silence_is_no_after_sixty_seconds() {
        let t0 = Instant::now();
        let mut s = asked(t0);
        assert!(
            s.poll(t0 + ANSWER_TIMEOUT - Duration::from_millis(1))
                .is_empty()
        );
        let out = s.poll(t0 + ANSWER_TIMEOUT);
        assert!(matches!(out[0], Action::CancelQuestion));
        assert!(out.iter().any(|a| matches!(
            a,
            Action::Send(SignalMessage::Bye {
                reason: ByeReason::NoAnswer
            })
        )));
    }

    #[test]
    fn a_yes_after_the_timeout_grants_nothing() {
        let t0 = Instant::now();
        let mut s = asked(t0);
        let out = s.handle(
            t0 + ANSWER_TIMEOUT + Duration::from_secs(1),
            Event::Answer(true),
        );
        assert_eq!(grants(&out), 0);
        assert!(!s.is_sharing());
        // And once the timeout fired, a late yes is ignored too.
        let out = s.handle(t0 + ANSWER_TIMEOUT * 2, Event::Answer(true));
        assert!(out.is_empty());
    }

    #[test]
    fn a_yes_nobody_asked_for_grants_nothing() {
        let t0 = Instant::now();
        let mut s = Session::new();
        assert!(s.handle(t0, Event::Answer(true)).is_empty());
        s.handle(
            t0,
            Event::Code {
                code: "1".into(),
                expires_in: 600,
            },
        );
        assert!(s.handle(t0, Event::Answer(true)).is_empty());
        assert!(!s.is_sharing());
    }

    #[test]
    fn caseworker_leaving_withdraws_the_question() {
        let t0 = Instant::now();
        let mut s = asked(t0);
        let out = s.handle(t0, Event::Bye(ByeReason::PeerGone));
        assert!(matches!(out[0], Action::CancelQuestion));
        assert_eq!(grants(&s.handle(t0, Event::Answer(true))), 0);
    }

    #[test]
    fn bye_while_sharing_stops_capture() {
        let t0 = Instant::now();
        let mut s = asked(t0);
        s.handle(t0, Event::Answer(true));
        let out = s.handle(t0, Event::Bye(ByeReason::Ended));
        assert!(matches!(out[0], Action::StopSharing));
        assert!(matches!(out[1], Action::Ended(ByeReason::Ended)));
        assert!(!s.is_sharing());
    }

    #[test]
    fn losing_the_relay_stops_sharing() {
        let t0 = Instant::now();
        let mut s = asked(t0);
        s.handle(t0, Event::Answer(true));
        let out = s.handle(t0, Event::Disconnected);
        assert!(matches!(out[0], Action::StopSharing));
    }

    #[test]
    fn media_failure_ends_the_session_on_both_sides() {
        let t0 = Instant::now();
        let mut s = asked(t0);
        s.handle(t0, Event::Answer(true));
        let out = s.handle(t0, Event::MediaFailed);
        assert!(matches!(
            out[0],
            Action::Send(SignalMessage::Bye {
                reason: ByeReason::Error
            })
        ));
        assert!(out.iter().any(|a| matches!(a, Action::StopSharing)));
    }

    fn sharing_with_token(t0: Instant) -> Session {
        let mut s = asked(t0);
        s.handle(t0, Event::Answer(true));
        assert!(s.handle(t0, Event::ResumeToken("tok".into())).is_empty());
        s
    }

    fn stops(out: &[Action]) -> bool {
        out.iter().any(|a| matches!(a, Action::StopSharing))
    }

    #[test]
    fn a_drop_interrupts_without_stopping_and_a_resume_carries_on() {
        let t0 = Instant::now();
        let mut s = sharing_with_token(t0);
        let out = s.handle(t0, Event::Disconnected);
        assert!(matches!(out[..], [Action::Interrupted]), "{out:?}");
        assert!(s.is_sharing(), "consent to be seen stands");
        assert_eq!(s.resume_token(), Some("tok"));
        // Further drops while reconnecting change nothing.
        assert!(s.handle(t0, Event::Disconnected).is_empty());
        assert!(
            s.poll(t0 + RESUME_WINDOW - Duration::from_secs(1))
                .is_empty()
        );
        let out = s.handle(
            t0 + Duration::from_secs(59),
            Event::Resumed { peer_present: true },
        );
        assert!(matches!(out[..], [Action::Resumed]), "{out:?}");
        assert_eq!(grants(&out), 0, "no new question, no new grant");
        assert_eq!(s.resume_token(), None, "only while interrupted");
        assert!(s.poll(t0 + RESUME_WINDOW * 3).is_empty());
    }

    #[test]
    fn an_interruption_longer_than_the_window_ends_the_session() {
        let t0 = Instant::now();
        let mut s = sharing_with_token(t0);
        s.handle(t0, Event::Disconnected);
        let out = s.poll(t0 + RESUME_WINDOW);
        assert!(stops(&out));
        assert!(
            out.iter()
                .any(|a| matches!(a, Action::Ended(ByeReason::ConnectionLost)))
        );
        assert!(!s.is_sharing());
        assert_eq!(s.resume_token(), None);
    }

    #[test]
    fn a_refused_resume_ends_the_session_with_the_reason() {
        let t0 = Instant::now();
        let mut s = sharing_with_token(t0);
        s.handle(t0, Event::Disconnected);
        let out = s.handle(t0, Event::Bye(ByeReason::ConnectionLost));
        assert!(stops(&out));
        assert!(
            out.iter()
                .any(|a| matches!(a, Action::Ended(ByeReason::ConnectionLost)))
        );
    }

    #[test]
    fn media_failing_while_a_side_is_away_waits_and_restarts_ice_on_return() {
        let t0 = Instant::now();
        let mut s = sharing_with_token(t0);
        assert!(matches!(
            s.handle(t0, Event::PeerAway)[..],
            [Action::Interrupted]
        ));
        assert!(s.handle(t0, Event::MediaFailed).is_empty(), "not ended");
        let out = s.handle(t0, Event::PeerBack);
        assert!(
            matches!(out[..], [Action::Resumed, Action::RestartIce]),
            "{out:?}"
        );
        // With both sides there, a failure still ends the session as before.
        assert!(stops(&s.handle(t0, Event::MediaFailed)));
    }

    #[test]
    fn issue22_1_our_own_drop_while_the_caseworker_is_away_still_takes_control_back() {
        let t0 = Instant::now();
        let mut s = sharing_with_token(t0);
        assert!(matches!(
            s.handle(t0, Event::PeerAway)[..],
            [Action::Interrupted]
        ));
        // Control may have been asked and granted again over the data channel, which
        // outlives the caseworker's signaling socket: our drop must take it back too.
        let out = s.handle(t0, Event::Disconnected);
        assert!(
            out.iter()
                .any(|a| matches!(a, Action::Interrupted | Action::TakeControlBack)),
            "{out:?}"
        );
        assert!(!stops(&out), "the view consent stands");
        assert!(s.is_sharing());
    }

    #[test]
    fn a_drop_before_any_token_ends_as_before() {
        let t0 = Instant::now();
        let mut s = asked(t0);
        s.handle(t0, Event::Answer(true));
        assert!(stops(&s.handle(t0, Event::Disconnected)));
        assert_eq!(s.resume_token(), None);
    }

    #[test]
    fn a_second_pairing_while_busy_is_ignored() {
        let t0 = Instant::now();
        let mut s = asked(t0);
        assert!(s.handle(t0, Event::Paired { by: who() }).is_empty());
    }
}
