//! The control consent gate, IO-free: viewing → control asked → controlling → back to
//! viewing when the resident takes control back (or says no, or does not answer in 60 s).
//!
//! Only this module can create a [`Grant`], and the injector requires one for every
//! input, so "no input without consent" holds by construction. A grant dies the moment
//! control ends: input already queued behind it is dropped by the injector, not played.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use acote_proto::channel::{AgentMessage, ControlState, InputRefusal};

/// How long the resident has to answer the control question.
pub const CONTROL_ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

/// After the resident says no to control, how long a new request is refused without
/// asking them again: a "no" is not to be worn down by repeated questions (issue 16).
pub const CONTROL_ASK_COOLDOWN: Duration = Duration::from_secs(60);

/// Refusal notices to the viewer are grouped: at most one per this interval.
pub const NOTICE_INTERVAL: Duration = Duration::from_secs(1);

/// Proof that the resident gave control and has not taken it back. Cheap to clone; every
/// clone dies together when control ends.
///
/// Only the gate in this module makes one. Code elsewhere can name the type…
///
/// ```
/// fn inject(_proof: acote_agent::input::consent::Grant) {}
/// ```
///
/// …but cannot build one (its field is private), nor get one without the gate:
///
/// ```compile_fail,E0451
/// use std::sync::{Arc, atomic::AtomicBool};
/// let forged = acote_agent::input::consent::Grant { live: Arc::new(AtomicBool::new(true)) };
/// ```
#[derive(Debug, Clone)]
pub struct Grant {
    live: Arc<AtomicBool>,
}

impl Grant {
    /// True while control is still granted.
    pub fn is_live(&self) -> bool {
        self.live.load(Ordering::SeqCst)
    }

    fn revoke(&self) {
        self.live.store(false, Ordering::SeqCst);
    }
}

/// What the driver must do after a gate transition.
#[derive(Debug)]
pub enum GateAction {
    /// Ask the resident the control question.
    Ask {
        /// How long they have.
        timeout: Duration,
    },
    /// Withdraw the open control question.
    Withdraw,
    /// Tell the viewer the new state.
    Tell(ControlState),
    /// Release every key and button held on the resident's side.
    ReleaseAll,
}

#[derive(Debug)]
enum State {
    Viewing,
    Asking { deadline: Instant },
    Controlling(Grant),
}

/// The gate for one sharing session.
#[derive(Debug)]
pub struct ConsentGate {
    state: State,
    /// Input refused since the last notice to the viewer, by reason.
    pending: [(InputRefusal, u64); 3],
    last_notice: Option<Instant>,
    /// Every input ever refused in this session (for the summary and tests).
    refused_total: u64,
    /// When the resident last said no to control.
    said_no_at: Option<Instant>,
}

impl Default for ConsentGate {
    fn default() -> Self {
        Self::new()
    }
}

impl ConsentGate {
    /// A gate that starts in "viewing": no control.
    pub fn new() -> Self {
        Self {
            state: State::Viewing,
            pending: [
                (InputRefusal::NotInControl, 0),
                (InputRefusal::Invalid, 0),
                (InputRefusal::TooMany, 0),
            ],
            last_notice: None,
            refused_total: 0,
            said_no_at: None,
        }
    }

    /// The state as the viewer sees it.
    pub fn state(&self) -> ControlState {
        match self.state {
            State::Viewing => ControlState::Viewing,
            State::Asking { .. } => ControlState::Asking,
            State::Controlling(_) => ControlState::Controlling,
        }
    }

    /// True while the control question is open.
    pub fn is_asking(&self) -> bool {
        matches!(self.state, State::Asking { .. })
    }

    /// Inputs refused so far in this session.
    pub fn refused_total(&self) -> u64 {
        self.refused_total
    }

    /// The caseworker asks for control.
    pub fn request(&mut self, now: Instant) -> Vec<GateAction> {
        let cooling = self
            .said_no_at
            .is_some_and(|at| now.saturating_duration_since(at) < CONTROL_ASK_COOLDOWN);
        match self.state {
            // The resident just said no: the caseworker hears it again, the resident
            // is not disturbed.
            State::Viewing if cooling => vec![GateAction::Tell(ControlState::Refused)],
            State::Viewing => {
                self.state = State::Asking {
                    deadline: now + CONTROL_ANSWER_TIMEOUT,
                };
                vec![
                    GateAction::Ask {
                        timeout: CONTROL_ANSWER_TIMEOUT,
                    },
                    GateAction::Tell(ControlState::Asking),
                ]
            }
            // Already asked or granted: say where things stand, ask nothing twice.
            _ => vec![GateAction::Tell(self.state())],
        }
    }

    /// The resident answered the control question.
    pub fn answer(&mut self, now: Instant, yes: bool) -> Vec<GateAction> {
        let State::Asking { deadline } = self.state else {
            return Vec::new();
        };
        if now >= deadline {
            return self.poll(now);
        }
        if yes {
            self.state = State::Controlling(Grant {
                live: Arc::new(AtomicBool::new(true)),
            });
            vec![GateAction::Tell(ControlState::Controlling)]
        } else {
            self.state = State::Viewing;
            self.said_no_at = Some(now);
            vec![GateAction::Tell(ControlState::Refused)]
        }
    }

    /// The resident pressed Stop: control ends at once, whatever the state.
    pub fn stop(&mut self) -> Vec<GateAction> {
        match std::mem::replace(&mut self.state, State::Viewing) {
            State::Controlling(grant) => {
                grant.revoke();
                vec![
                    GateAction::ReleaseAll,
                    GateAction::Tell(ControlState::TakenBack),
                ]
            }
            State::Asking { .. } => vec![
                GateAction::Withdraw,
                GateAction::Tell(ControlState::Refused),
            ],
            State::Viewing => Vec::new(),
        }
    }

    /// The caseworker gives control back (or withdraws the request).
    pub fn release(&mut self) -> Vec<GateAction> {
        match std::mem::replace(&mut self.state, State::Viewing) {
            State::Controlling(grant) => {
                grant.revoke();
                vec![
                    GateAction::ReleaseAll,
                    GateAction::Tell(ControlState::Viewing),
                ]
            }
            State::Asking { .. } => vec![
                GateAction::Withdraw,
                GateAction::Tell(ControlState::Viewing),
            ],
            State::Viewing => vec![GateAction::Tell(ControlState::Viewing)],
        }
    }

    /// The sharing session ends: revoke without telling anyone (the viewer is gone).
    pub fn end(&mut self) -> Vec<GateAction> {
        let mut out = self.stop();
        out.retain(|a| matches!(a, GateAction::ReleaseAll | GateAction::Withdraw));
        out
    }

    /// Time passed: an unanswered question becomes a no.
    pub fn poll(&mut self, now: Instant) -> Vec<GateAction> {
        match self.state {
            State::Asking { deadline } if now >= deadline => {
                self.state = State::Viewing;
                vec![
                    GateAction::Withdraw,
                    GateAction::Tell(ControlState::NoAnswer),
                ]
            }
            _ => Vec::new(),
        }
    }

    /// An input message arrived: the grant to inject it with, or `None` (counted).
    pub fn admit(&mut self) -> Option<Grant> {
        match &self.state {
            State::Controlling(grant) => Some(grant.clone()),
            _ => {
                self.refuse(InputRefusal::NotInControl);
                None
            }
        }
    }

    /// Counts a refused message, to be reported in the next notice.
    pub fn refuse(&mut self, reason: InputRefusal) {
        self.refused_total += 1;
        if let Some(slot) = self.pending.iter_mut().find(|(r, _)| *r == reason) {
            slot.1 += 1;
        }
    }

    /// Notices owed to the viewer, at most one batch per [`NOTICE_INTERVAL`].
    pub fn notices(&mut self, now: Instant) -> Vec<AgentMessage> {
        if self
            .last_notice
            .is_some_and(|t| now.duration_since(t) < NOTICE_INTERVAL)
        {
            return Vec::new();
        }
        let out: Vec<AgentMessage> = self
            .pending
            .iter_mut()
            .filter(|(_, n)| *n > 0)
            .map(|(reason, n)| AgentMessage::Refused {
                reason: *reason,
                count: std::mem::take(n),
                detail: String::new(),
            })
            .collect();
        if !out.is_empty() {
            self.last_notice = Some(now);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tells(actions: &[GateAction]) -> Vec<ControlState> {
        actions
            .iter()
            .filter_map(|a| {
                if let GateAction::Tell(s) = a {
                    Some(*s)
                } else {
                    None
                }
            })
            .collect()
    }

    fn granted(now: Instant) -> (ConsentGate, Grant) {
        let mut g = ConsentGate::new();
        g.request(now);
        assert_eq!(tells(&g.answer(now, true)), vec![ControlState::Controlling]);
        let grant = g.admit().expect("granted");
        (g, grant)
    }

    #[test]
    fn no_input_before_a_yes() {
        let t0 = Instant::now();
        let mut g = ConsentGate::new();
        assert!(g.admit().is_none());
        g.request(t0);
        assert!(g.admit().is_none(), "asking is not granting");
        assert_eq!(g.refused_total(), 2);
    }

    #[test]
    fn yes_grants_and_stop_revokes_at_once_releasing_everything() {
        let t0 = Instant::now();
        let (mut g, grant) = granted(t0);
        assert!(grant.is_live());
        let out = g.stop();
        assert!(matches!(out[0], GateAction::ReleaseAll));
        assert_eq!(tells(&out), vec![ControlState::TakenBack]);
        assert!(
            !grant.is_live(),
            "input queued behind the old grant is dead"
        );
        assert!(g.admit().is_none());
    }

    #[test]
    fn no_and_silence_grant_nothing() {
        let t0 = Instant::now();
        let mut g = ConsentGate::new();
        g.request(t0);
        assert_eq!(tells(&g.answer(t0, false)), vec![ControlState::Refused]);
        assert!(g.admit().is_none());
        let t1 = t0 + CONTROL_ASK_COOLDOWN;
        g.request(t1);
        assert!(
            g.poll(t1 + CONTROL_ANSWER_TIMEOUT - Duration::from_millis(1))
                .is_empty()
        );
        let out = g.poll(t1 + CONTROL_ANSWER_TIMEOUT);
        assert!(matches!(out[0], GateAction::Withdraw));
        assert_eq!(tells(&out), vec![ControlState::NoAnswer]);
        assert!(g.admit().is_none());
    }

    #[test]
    fn a_yes_after_the_timeout_or_never_asked_grants_nothing() {
        let t0 = Instant::now();
        let mut g = ConsentGate::new();
        assert!(g.answer(t0, true).is_empty(), "a yes nobody asked for");
        g.request(t0);
        let late = g.answer(t0 + CONTROL_ANSWER_TIMEOUT, true);
        assert_eq!(tells(&late), vec![ControlState::NoAnswer]);
        assert!(g.admit().is_none());
        assert!(g.answer(t0 + CONTROL_ANSWER_TIMEOUT * 2, true).is_empty());
        assert!(g.admit().is_none());
    }

    #[test]
    fn issue16_a_second_ask_within_a_minute_of_a_no_does_not_disturb_the_resident() {
        let t0 = Instant::now();
        let mut g = ConsentGate::new();
        g.request(t0);
        g.answer(t0 + Duration::from_secs(5), false);
        let soon = t0 + Duration::from_secs(5) + CONTROL_ASK_COOLDOWN - Duration::from_millis(1);
        let again = g.request(soon);
        assert!(
            !again.iter().any(|a| matches!(a, GateAction::Ask { .. })),
            "no new question within the cool-down"
        );
        assert_eq!(tells(&again), vec![ControlState::Refused]);
        assert!(!g.is_asking());
        assert!(g.answer(soon, true).is_empty(), "no yes without a question");
        assert!(g.admit().is_none());
        // After it the caseworker may ask again; silence is not a no and starts no cool-down.
        let later = soon + Duration::from_millis(1);
        assert!(matches!(g.request(later)[0], GateAction::Ask { .. }));
        g.poll(later + CONTROL_ANSWER_TIMEOUT);
        assert!(matches!(
            g.request(later + CONTROL_ANSWER_TIMEOUT)[0],
            GateAction::Ask { .. }
        ));
    }

    #[test]
    fn asking_twice_asks_once() {
        let t0 = Instant::now();
        let mut g = ConsentGate::new();
        assert!(matches!(g.request(t0)[0], GateAction::Ask { .. }));
        let again = g.request(t0);
        assert!(!again.iter().any(|a| matches!(a, GateAction::Ask { .. })));
        let (mut g, _) = granted(t0);
        assert_eq!(tells(&g.request(t0)), vec![ControlState::Controlling]);
    }

    #[test]
    fn caseworker_gives_back_and_session_end_revoke_too() {
        let t0 = Instant::now();
        let (mut g, grant) = granted(t0);
        assert_eq!(tells(&g.release()), vec![ControlState::Viewing]);
        assert!(!grant.is_live());
        let (mut g, grant) = granted(t0);
        let out = g.end();
        assert!(matches!(out[..], [GateAction::ReleaseAll]));
        assert!(!grant.is_live());
    }

    #[test]
    fn a_new_grant_is_not_the_old_one() {
        let t0 = Instant::now();
        let (mut g, old) = granted(t0);
        g.stop();
        g.request(t0);
        g.answer(t0, true);
        let new = g.admit().unwrap();
        assert!(new.is_live());
        assert!(!old.is_live(), "a revoked grant never comes back to life");
    }

    #[test]
    fn refusals_are_reported_grouped_and_at_most_once_a_second() {
        let t0 = Instant::now();
        let mut g = ConsentGate::new();
        for _ in 0..10_000 {
            g.admit();
        }
        g.refuse(InputRefusal::Invalid);
        let n = g.notices(t0);
        assert_eq!(n.len(), 2);
        assert!(n.contains(&AgentMessage::Refused {
            reason: InputRefusal::NotInControl,
            count: 10_000,
            detail: String::new()
        }));
        g.admit();
        assert!(g.notices(t0 + Duration::from_millis(500)).is_empty());
        let n = g.notices(t0 + NOTICE_INTERVAL);
        assert_eq!(
            n,
            vec![AgentMessage::Refused {
                reason: InputRefusal::NotInControl,
                count: 1,
                detail: String::new()
            }]
        );
        assert_eq!(g.refused_total(), 10_002);
    }
}
