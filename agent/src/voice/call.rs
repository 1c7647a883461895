//! The voice call's consent, IO-free: the caseworker asks, the resident is asked apart
//! (the microphone is not the screen), and only their yes makes the [`MicConsent`] that
//! opening the microphone needs. Either side hangs up; an interruption or the end of the
//! session hangs up too, and a new call must be asked for again.

use std::time::{Duration, Instant};

use acote_proto::channel::{VoiceAction, VoiceState};

/// How long the resident has to answer the microphone question.
pub const VOICE_QUESTION_TIMEOUT: Duration = Duration::from_secs(60);

/// Proof that the resident said yes to the microphone for this call. Only [`Call`] makes
/// one; the audio devices open only with it.
#[derive(Debug)]
pub struct MicConsent(());

/// What the call decided, for the driver to carry out in order.
#[derive(Debug)]
pub enum CallEffect {
    /// Ask the resident whether they will talk.
    Ask {
        /// How long they have.
        timeout: Duration,
    },
    /// Withdraw the open microphone question.
    Withdraw,
    /// Open the microphone and the speakers.
    Open(MicConsent),
    /// Close them (nothing more is heard or sent).
    Close,
    /// Turn the microphone off (`true`) or on again; the speakers stay open.
    Mute(bool),
    /// Tell the viewer and the resident where the call stands.
    State {
        /// The call's state.
        state: VoiceState,
        /// Whether the resident's microphone is off.
        muted: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Idle,
    Asking { deadline: Instant },
    On { muted: bool },
}

/// One session's voice call.
#[derive(Debug)]
pub struct Call {
    stage: Stage,
}

impl Default for Call {
    fn default() -> Self {
        Self::new()
    }
}

impl Call {
    /// No call.
    pub fn new() -> Self {
        Self { stage: Stage::Idle }
    }

    /// Whether the call is on (devices open).
    pub fn is_on(&self) -> bool {
        matches!(self.stage, Stage::On { .. })
    }

    /// Whether the microphone question is open.
    pub fn is_asking(&self) -> bool {
        matches!(self.stage, Stage::Asking { .. })
    }

    /// The caseworker asks to talk, or hangs up.
    pub fn viewer(&mut self, now: Instant, action: VoiceAction) -> Vec<CallEffect> {
        match (action, self.stage) {
            (VoiceAction::Request, Stage::Idle) => {
                self.stage = Stage::Asking {
                    deadline: now + VOICE_QUESTION_TIMEOUT,
                };
                vec![
                    CallEffect::Ask {
                        timeout: VOICE_QUESTION_TIMEOUT,
                    },
                    state(VoiceState::Asking, false),
                ]
            }
            // Asked again while asking or talking: the viewer is told where it stands.
            (VoiceAction::Request, Stage::Asking { .. }) => vec![state(VoiceState::Asking, false)],
            (VoiceAction::Request, Stage::On { muted }) => vec![state(VoiceState::On, muted)],
            (VoiceAction::Stop, Stage::Idle) => vec![state(VoiceState::Off, false)],
            (VoiceAction::Stop, _) => self.hang_up(),
        }
    }

    /// The resident answered the microphone question.
    pub fn answer(&mut self, yes: bool) -> Vec<CallEffect> {
        if !self.is_asking() {
            return Vec::new();
        }
        if yes {
            self.stage = Stage::On { muted: false };
            vec![
                CallEffect::Open(MicConsent(())),
                state(VoiceState::On, false),
            ]
        } else {
            self.stage = Stage::Idle;
            vec![state(VoiceState::Refused, false)]
        }
    }

    /// The resident turned their microphone off or on.
    pub fn mute(&mut self, muted: bool) -> Vec<CallEffect> {
        match &mut self.stage {
            Stage::On { muted: was } if *was != muted => {
                *was = muted;
                vec![CallEffect::Mute(muted), state(VoiceState::On, muted)]
            }
            _ => Vec::new(),
        }
    }

    /// Either side hangs up, or the connection was interrupted: the question is
    /// withdrawn or the devices closed.
    pub fn hang_up(&mut self) -> Vec<CallEffect> {
        let out = match self.stage {
            Stage::Idle => return Vec::new(),
            Stage::Asking { .. } => vec![CallEffect::Withdraw],
            Stage::On { .. } => vec![CallEffect::Close],
        };
        self.stage = Stage::Idle;
        let mut out = out;
        out.push(state(VoiceState::Off, false));
        out
    }

    /// The devices could not be opened, or failed while talking.
    pub fn device_failed(&mut self) -> Vec<CallEffect> {
        if !self.is_on() {
            return Vec::new();
        }
        self.stage = Stage::Idle;
        vec![CallEffect::Close, state(VoiceState::Unavailable, false)]
    }

    /// Time passed: no answer in time means no.
    pub fn poll(&mut self, now: Instant) -> Vec<CallEffect> {
        match self.stage {
            Stage::Asking { deadline } if now >= deadline => {
                self.stage = Stage::Idle;
                vec![CallEffect::Withdraw, state(VoiceState::NoAnswer, false)]
            }
            _ => Vec::new(),
        }
    }
}

fn state(state: VoiceState, muted: bool) -> CallEffect {
    CallEffect::State { state, muted }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn states(effects: &[CallEffect]) -> Vec<VoiceState> {
        effects
            .iter()
            .filter_map(|e| match e {
                CallEffect::State { state, .. } => Some(*state),
                _ => None,
            })
            .collect()
    }

    fn opens(effects: &[CallEffect]) -> bool {
        effects.iter().any(|e| matches!(e, CallEffect::Open(_)))
    }

    #[test]
    fn the_microphone_opens_only_on_the_residents_yes() {
        let t0 = Instant::now();
        let mut call = Call::new();
        assert!(
            call.answer(true).is_empty(),
            "a yes to no question is nothing"
        );
        let asked = call.viewer(t0, VoiceAction::Request);
        assert!(matches!(asked[0], CallEffect::Ask { .. }));
        assert_eq!(states(&asked), [VoiceState::Asking]);
        assert!(!opens(&asked));
        let again = call.viewer(t0, VoiceAction::Request);
        assert_eq!(states(&again), [VoiceState::Asking], "asked once only");
        let yes = call.answer(true);
        assert!(opens(&yes));
        assert_eq!(states(&yes), [VoiceState::On]);
        assert!(call.is_on());
        assert!(
            call.answer(true).is_empty(),
            "a second yes opens nothing more"
        );
    }

    #[test]
    fn no_or_no_answer_opens_nothing_and_the_next_request_asks_again() {
        let t0 = Instant::now();
        let mut call = Call::new();
        call.viewer(t0, VoiceAction::Request);
        assert_eq!(states(&call.answer(false)), [VoiceState::Refused]);
        call.viewer(t0, VoiceAction::Request);
        assert!(call.poll(t0 + Duration::from_secs(59)).is_empty());
        let late = call.poll(t0 + VOICE_QUESTION_TIMEOUT);
        assert!(matches!(late[0], CallEffect::Withdraw));
        assert_eq!(states(&late), [VoiceState::NoAnswer]);
        assert!(
            call.answer(true).is_empty(),
            "a yes after the deadline opens nothing"
        );
        let asked = call.viewer(t0, VoiceAction::Request);
        assert!(matches!(asked[0], CallEffect::Ask { .. }));
    }

    #[test]
    fn mute_hang_up_and_a_failed_device() {
        let t0 = Instant::now();
        let mut call = Call::new();
        assert!(call.mute(true).is_empty(), "no call, nothing to mute");
        call.viewer(t0, VoiceAction::Request);
        call.answer(true);
        let muted = call.mute(true);
        assert!(matches!(muted[0], CallEffect::Mute(true)));
        assert!(matches!(
            muted[1],
            CallEffect::State {
                state: VoiceState::On,
                muted: true
            }
        ));
        assert!(call.mute(true).is_empty(), "already muted");
        let stop = call.viewer(t0, VoiceAction::Stop);
        assert!(matches!(stop[0], CallEffect::Close));
        assert_eq!(states(&stop), [VoiceState::Off]);
        assert!(call.hang_up().is_empty(), "already off");
        assert_eq!(
            states(&call.viewer(t0, VoiceAction::Stop)),
            [VoiceState::Off],
            "a stop with no call only says so"
        );
        call.viewer(t0, VoiceAction::Request);
        let withdrawn = call.hang_up();
        assert!(matches!(withdrawn[0], CallEffect::Withdraw));
        call.viewer(t0, VoiceAction::Request);
        call.answer(true);
        let failed = call.device_failed();
        assert!(matches!(failed[0], CallEffect::Close));
        assert_eq!(states(&failed), [VoiceState::Unavailable]);
        assert!(!call.is_on());
    }
}
