//! "No control survives any interruption", in virtual time: both clocks are made up and
//! passed in, the injector only counts.

use acote_proto::ConsentEvent;

use super::*;
use crate::control::fakes::{self, Played};
use crate::voice::call::CallEffect;
use acote_proto::resume::RESUME_WINDOW;

const REQUEST: &str = r#"{"type":"control","action":"request"}"#;
const POINTER: &str = r#"{"type":"pointer","x":0.5,"y":0.5}"#;

fn who() -> Requester {
    Requester {
        name: Some("Marie Dupont".into()),
        site: "CHRS Les Lilas".into(),
    }
}

/// A made-up wall clock (far from the epoch, so going back stays valid).
fn wall(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs((1 << 30) + secs)
}

/// An agent online, its code redeemed by Marie Dupont: the view question is open.
fn asked(t0: Instant) -> Assist {
    let mut a = Assist::new(t0, wall(0));
    a.handle(t0, Happened::LinkUp);
    let code = SignalMessage::Code {
        code: "482913".into(),
        expires_in: 600,
    };
    a.handle(t0, Happened::Relay(code));
    a.handle(
        t0,
        Happened::Relay(SignalMessage::Paired { by: Some(who()) }),
    );
    a
}

/// An agent online, sharing its screen with Marie Dupont (view consent given, resume
/// token received), its control attached but not granted.
fn sharing(t0: Instant) -> (Assist, Played) {
    let mut a = asked(t0);
    let steps = a.handle(
        t0,
        Happened::Answer {
            question: Question::View,
            yes: true,
        },
    );
    assert!(steps.iter().any(|s| matches!(s, Step::StartSharing(_))));
    let (control, played) = fakes::control();
    a.attach(control);
    let token = SignalMessage::ResumeToken {
        token: "t".repeat(43),
    };
    a.handle(t0, Happened::Relay(token));
    assert!(a.is_sharing());
    (a, played)
}

/// The caseworker asks for control and the resident says yes.
fn grant(a: &mut Assist, now: Instant) {
    let asked = a.handle(now, Happened::Channel(REQUEST.into()));
    assert!(
        asked
            .iter()
            .any(|s| matches!(s, Step::Control(ControlEffect::Ask { .. })))
    );
    let yes = Happened::Answer {
        question: Question::Control,
        yes: true,
    };
    a.handle(now, yes);
    assert_eq!(a.control_state(), Some(ControlState::Controlling));
}

fn told_interrupted(steps: &[Step]) -> Option<bool> {
    steps.iter().find_map(|s| match s {
        Step::Interrupted { by, had_control } => {
            assert_eq!(by, &who());
            Some(*had_control)
        }
        _ => None,
    })
}

fn audited(steps: &[Step], event: ConsentEvent) -> bool {
    steps
        .iter()
        .any(|s| matches!(s, Step::Control(ControlEffect::Audit(e)) if *e == event))
}

#[test]
fn our_link_down_takes_control_back_and_the_resume_does_not_return_it() {
    let t0 = Instant::now();
    let (mut a, _) = sharing(t0);
    grant(&mut a, t0);
    let down = a.handle(t0, Happened::LinkDown { side: Side::Agent });
    assert_eq!(told_interrupted(&down), Some(true));
    assert!(audited(&down, ConsentEvent::ControlRevoked));
    assert_ne!(a.control_state(), Some(ControlState::Controlling));
    assert!(a.is_sharing(), "the view consent stands");
    assert!(a.resume_token().is_some());

    let t1 = t0 + Duration::from_secs(5);
    a.handle(t1, Happened::LinkUp);
    let back = Happened::Relay(SignalMessage::Resumed {
        by: None,
        peer_present: true,
    });
    let steps = a.handle(t1, back);
    assert!(steps.iter().any(|s| matches!(s, Step::Resumed { .. })));
    assert_ne!(a.control_state(), Some(ControlState::Controlling));
    // Input after the resume is not admitted until the resident says yes again.
    assert!(a.handle(t1, Happened::Channel(POINTER.into())).is_empty());
    assert_ne!(a.control_state(), Some(ControlState::Controlling));
}

#[test]
fn the_caseworkers_link_down_takes_control_back() {
    let t0 = Instant::now();
    let (mut a, _) = sharing(t0);
    grant(&mut a, t0);
    let away = a.handle(t0, Happened::Relay(SignalMessage::PeerAway));
    assert_eq!(told_interrupted(&away), Some(true));
    assert_ne!(a.control_state(), Some(ControlState::Controlling));
    let back = a.handle(t0, Happened::Relay(SignalMessage::PeerBack));
    assert!(back.iter().any(|s| matches!(s, Step::Resumed { .. })));
    assert_ne!(a.control_state(), Some(ControlState::Controlling));
}

#[test]
fn our_drop_while_the_caseworker_is_away_takes_back_a_control_granted_again() {
    // The gap of issue 22 item 1, seen from the whole core: the caseworker's link is
    // down, control is granted again over the media path, then our own link drops.
    let t0 = Instant::now();
    let (mut a, _) = sharing(t0);
    a.handle(t0, Happened::LinkDown { side: Side::Viewer });
    grant(&mut a, t0);
    let down = a.handle(t0, Happened::LinkDown { side: Side::Agent });
    assert_ne!(a.control_state(), Some(ControlState::Controlling));
    assert!(audited(&down, ConsentEvent::ControlRevoked));
    assert!(
        down.iter().any(|s| matches!(
            s,
            Step::Control(ControlEffect::Changed(ControlState::TakenBack))
        )),
        "the resident, who already sees the interruption, is told control came back"
    );
}

#[test]
fn a_stall_takes_control_back_and_keeps_the_view() {
    let t0 = Instant::now();
    let (mut a, _) = sharing(t0);
    grant(&mut a, t0);
    assert!(a.turn(t0 + Duration::from_secs(1), wall(1)).is_empty());
    let t1 = t0 + Duration::from_secs(12);
    let steps = a.turn(t1, wall(12));
    assert_eq!(told_interrupted(&steps), Some(true));
    assert!(
        steps.iter().any(|s| matches!(s, Step::Resumed { .. })),
        "online, the resident is told the session goes on"
    );
    assert_ne!(a.control_state(), Some(ControlState::Controlling));
    assert!(a.is_sharing());
}

#[test]
fn a_suspend_only_the_wall_clock_saw_takes_control_back() {
    let t0 = Instant::now();
    let (mut a, _) = sharing(t0);
    grant(&mut a, t0);
    // The monotonic clock stopped during the suspend: one second for it, ten minutes
    // for the wall clock.
    let steps = a.turn(t0 + Duration::from_secs(1), wall(600));
    assert_eq!(told_interrupted(&steps), Some(true));
    assert_ne!(a.control_state(), Some(ControlState::Controlling));
}

#[test]
fn an_interruption_that_runs_out_ends_the_session_and_its_control() {
    let t0 = Instant::now();
    let (mut a, _) = sharing(t0);
    grant(&mut a, t0);
    a.handle(t0, Happened::LinkDown { side: Side::Agent });
    let later = t0 + RESUME_WINDOW + Duration::from_secs(1);
    let steps = a.handle(later, Happened::Tick);
    assert!(steps.iter().any(|s| matches!(s, Step::StopSharing)));
    assert!(
        steps
            .iter()
            .any(|s| matches!(s, Step::Ended(ByeReason::ConnectionLost)))
    );
    assert_eq!(a.control_state(), None, "control ended with the session");
    assert!(!a.is_sharing());
}

#[test]
fn the_end_of_the_session_ends_control_before_the_capture_stops() {
    let t0 = Instant::now();
    let (mut a, _) = sharing(t0);
    a.handle(t0, Happened::Channel(REQUEST.into()));
    let bye = SignalMessage::Bye {
        reason: ByeReason::Ended,
    };
    let steps = a.handle(t0, Happened::Relay(bye));
    let withdrawn = steps
        .iter()
        .position(|s| matches!(s, Step::Control(ControlEffect::Withdraw)));
    let stopped = steps.iter().position(|s| matches!(s, Step::StopSharing));
    assert!(withdrawn.is_some() && stopped.is_some() && withdrawn < stopped);
    assert!(
        steps
            .iter()
            .any(|s| matches!(s, Step::Ended(ByeReason::Ended)))
    );
    assert_eq!(a.control_state(), None);
    // A data-channel message still in flight finds no control to reach.
    assert!(a.handle(t0, Happened::Channel(POINTER.into())).is_empty());
}

#[test]
fn audit_steps_kept_offline_are_sent_first_after_the_resume() {
    let t0 = Instant::now();
    let (mut a, _) = sharing(t0);
    a.handle(t0, Happened::LinkDown { side: Side::Agent });
    a.unsent(SignalMessage::Consent {
        event: ConsentEvent::ControlRevoked,
    });
    // Not an audit step: dropped.
    a.unsent(SignalMessage::Bye {
        reason: ByeReason::Ended,
    });
    a.handle(t0, Happened::LinkUp);
    let back = Happened::Relay(SignalMessage::Resumed {
        by: None,
        peer_present: true,
    });
    let steps = a.handle(t0, back);
    assert!(matches!(
        steps.first(),
        Some(Step::Send(SignalMessage::Consent {
            event: ConsentEvent::ControlRevoked
        }))
    ));
    let sent = steps.iter().filter(|s| matches!(s, Step::Send(_))).count();
    assert_eq!(sent, 1);
}

#[test]
fn quitting_while_sharing_says_bye_and_stops_everything() {
    let t0 = Instant::now();
    let (mut a, _) = sharing(t0);
    grant(&mut a, t0);
    let steps = a.handle(t0, Happened::Quit);
    assert!(matches!(
        steps.first(),
        Some(Step::Send(SignalMessage::Bye {
            reason: ByeReason::Ended
        }))
    ));
    assert!(steps.iter().any(|s| matches!(s, Step::StopSharing)));
    assert_eq!(a.control_state(), None);
    assert!(!a.is_sharing());
}

#[test]
fn the_relay_being_unable_to_serve_means_reconnecting() {
    let t0 = Instant::now();
    let mut a = Assist::new(t0, wall(0));
    for code in [ErrorCode::Unavailable, ErrorCode::AuditDown] {
        let refusal = SignalMessage::Error {
            code,
            message: "later".into(),
            retry_after_s: None,
        };
        let steps = a.handle(t0, Happened::Relay(refusal));
        assert!(matches!(&steps[..], [Step::Reconnect]));
    }
}

#[test]
fn a_control_yes_while_the_view_question_is_open_shares_nothing() {
    let t0 = Instant::now();
    let mut a = asked(t0);
    let late = Happened::Answer {
        question: Question::Control,
        yes: true,
    };
    assert!(a.handle(t0, late).is_empty());
    assert!(!a.is_sharing());
    assert_eq!(a.control_state(), None);
}

const TALK: &str = r#"{"type":"voice","action":"request"}"#;

fn voice_states(steps: &[Step]) -> Vec<acote_proto::channel::VoiceState> {
    steps
        .iter()
        .filter_map(|s| match s {
            Step::Voice(CallEffect::State { state, .. }) => Some(*state),
            _ => None,
        })
        .collect()
}

fn opens_mic(steps: &[Step]) -> bool {
    steps
        .iter()
        .any(|s| matches!(s, Step::Voice(CallEffect::Open(_))))
}

#[test]
fn the_microphone_opens_on_its_own_yes_not_on_a_yes_to_control() {
    use acote_proto::channel::VoiceState;
    let t0 = Instant::now();
    let (mut a, _) = sharing(t0);
    let asked = a.handle(t0, Happened::Channel(TALK.into()));
    assert!(
        asked
            .iter()
            .any(|s| matches!(s, Step::Voice(CallEffect::Ask { .. })))
    );
    assert_eq!(voice_states(&asked), [VoiceState::Asking]);
    // A yes meant for control answers nothing about the microphone.
    let control_yes = a.handle(
        t0,
        Happened::Answer {
            question: Question::Control,
            yes: true,
        },
    );
    assert!(!opens_mic(&control_yes));
    assert!(!a.voice_on());
    let yes = a.handle(
        t0,
        Happened::Answer {
            question: Question::Voice,
            yes: true,
        },
    );
    assert!(opens_mic(&yes));
    assert!(a.voice_on());
    assert_ne!(
        a.control_state(),
        Some(ControlState::Controlling),
        "talking gives no control"
    );
}

#[test]
fn an_interruption_or_the_end_hangs_up_and_the_call_must_be_asked_again() {
    use acote_proto::channel::VoiceState;
    let t0 = Instant::now();
    let (mut a, _) = sharing(t0);
    a.handle(t0, Happened::Channel(TALK.into()));
    a.handle(
        t0,
        Happened::Answer {
            question: Question::Voice,
            yes: true,
        },
    );
    let down = a.handle(t0, Happened::LinkDown { side: Side::Viewer });
    assert!(
        down.iter()
            .any(|s| matches!(s, Step::Voice(CallEffect::Close)))
    );
    assert_eq!(voice_states(&down), [VoiceState::Off]);
    assert!(!a.voice_on());
    let t1 = t0 + Duration::from_secs(5);
    a.handle(t1, Happened::Relay(SignalMessage::PeerBack));
    let again = a.handle(t1, Happened::Channel(TALK.into()));
    assert!(!opens_mic(&again), "asked again, not opened");
    a.handle(
        t1,
        Happened::Answer {
            question: Question::Voice,
            yes: true,
        },
    );
    assert!(a.voice_on());
    let end = a.handle(t1, Happened::EndSession);
    assert!(
        end.iter()
            .any(|s| matches!(s, Step::Voice(CallEffect::Close)))
    );
    assert!(!a.voice_on());
}
