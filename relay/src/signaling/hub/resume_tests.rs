//! Resumption in virtual time: a side drops, comes back (or not) with its token.

use super::tests::*;
use super::*;
use acote_proto::ConsentEvent;
use acote_proto::resume::RESUME_WINDOW;
use std::time::Duration;

const A2: ConnId = 20;
const V2: ConnId = 21;

/// A session the resident agreed to, with each side's token.
fn sharing(now: Instant) -> (Hub, String, String) {
    let mut hub = paired(now);
    let out = hub.message(
        now,
        A,
        SignalMessage::Consent {
            event: ConsentEvent::ViewAllowed,
        },
    );
    assert!(
        out.iter().any(|o| matches!(o, Output::SaveResumable(_))),
        "hashes saved for a restart"
    );
    let (a, v) = (token_of(&out, A).unwrap(), token_of(&out, V).unwrap());
    assert_ne!(a, v);
    // Media signaling crosses only after the yes.
    hub.message(now, A, SignalMessage::Offer { sdp: "v=0".into() });
    (hub, a, v)
}

fn token_of(out: &[Output], conn: ConnId) -> Option<String> {
    sent_to(out, conn).into_iter().find_map(|m| match m {
        SignalMessage::ResumeToken { token } => Some(token),
        _ => None,
    })
}

fn bye_to(out: &[Output], conn: ConnId) -> Option<ByeReason> {
    sent_to(out, conn).into_iter().find_map(|m| match m {
        SignalMessage::Bye { reason } => Some(reason),
        _ => None,
    })
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

#[test]
fn an_agent_back_within_59_s_resumes_without_a_new_code() {
    let t0 = Instant::now();
    let (mut hub, a, _) = sharing(t0);
    let out = hub.left(t0, A);
    assert_eq!(sent_to(&out, V), vec![SignalMessage::PeerAway]);
    assert_eq!(events(&out), vec!["connection_interrupted"]);
    assert_eq!(hub.sessions(), 1, "the session waits");
    assert!(hub.tick(t0 + secs(59)).is_empty());
    let out = hub.resume(t0 + secs(59), A2, Role::Agent, &a, None);
    assert_eq!(
        sent_to(&out, A2)[0],
        SignalMessage::Resumed {
            by: Some(who()),
            peer_present: true
        }
    );
    assert!(token_of(&out, A2).is_some_and(|t| t != a), "a fresh token");
    assert!(code_of(&out, A2).is_none(), "no new code, no new question");
    assert_eq!(sent_to(&out, V), vec![SignalMessage::PeerBack]);
    assert_eq!(events(&out), vec!["resumed"]);
    assert_eq!(records(&out)[0].actor, "marie");
    // Signaling flows again between the new connection and the viewer.
    let out = hub.message(
        t0 + secs(60),
        V,
        SignalMessage::Answer { sdp: "v=0".into() },
    );
    assert_eq!(
        out,
        vec![Output::Send(
            A2,
            SignalMessage::Answer { sdp: "v=0".into() }
        )]
    );
    assert!(
        hub.tick(t0 + secs(200)).is_empty(),
        "nothing left to expire"
    );
    assert_eq!(hub.stats().resumed, 1);
}

#[test]
fn a_side_not_back_after_60_s_ends_the_session_for_both() {
    let t0 = Instant::now();
    let (mut hub, _, v) = sharing(t0);
    hub.left(t0, V);
    assert!(hub.tick(t0 + RESUME_WINDOW - secs(1)).is_empty());
    let out = hub.tick(t0 + secs(61));
    assert_eq!(bye_to(&out, A), Some(ByeReason::ConnectionLost));
    assert!(code_of(&out, A).is_some(), "the agent gets a new code");
    assert_eq!(events(&out), vec!["session_ended", "session_created"]);
    assert!(records(&out)[0].detail.contains("reason=connection_lost"));
    assert!(out.iter().any(|o| matches!(o, Output::ForgetResumable(_))));
    assert_eq!(hub.sessions(), 0);
    // Too late: the viewer's token no longer works.
    let out = hub.resume(t0 + secs(62), V2, Role::Viewer, &v, Some((cw(), addr(1))));
    assert_eq!(bye_to(&out, V2), Some(ByeReason::ConnectionLost));
    assert_eq!(events(&out), vec!["resume_refused"]);
}

#[test]
fn wrong_tokens_and_the_other_sides_token_are_refused() {
    let t0 = Instant::now();
    let (mut hub, a, v) = sharing(t0);
    hub.left(t0, A);
    for bad in ["", "nonsense", &"0".repeat(32), &v] {
        let out = hub.resume(t0 + secs(1), A2, Role::Agent, bad, None);
        assert_eq!(bye_to(&out, A2), Some(ByeReason::ConnectionLost), "{bad}");
        assert!(code_of(&out, A2).is_some(), "joins as a new agent instead");
        hub.left(t0 + secs(1), A2);
    }
    // The agent's token does not make a viewer either.
    let out = hub.resume(t0 + secs(2), V2, Role::Viewer, &a, Some((cw(), addr(1))));
    assert_eq!(bye_to(&out, V2), Some(ByeReason::ConnectionLost));
    assert_eq!(hub.stats().resume_refused, 5);
    // The real one still works.
    let out = hub.resume(t0 + secs(3), A2, Role::Agent, &a, None);
    assert!(matches!(
        sent_to(&out, A2)[0],
        SignalMessage::Resumed { .. }
    ));
}

#[test]
fn a_token_works_once() {
    let t0 = Instant::now();
    let (mut hub, _, v) = sharing(t0);
    hub.left(t0, V);
    let out = hub.resume(t0 + secs(5), V2, Role::Viewer, &v, Some((cw(), addr(1))));
    assert_eq!(
        sent_to(&out, V2)[0],
        SignalMessage::Resumed {
            by: None,
            peer_present: true
        }
    );
    let fresh = token_of(&out, V2).unwrap();
    hub.left(t0 + secs(6), V2);
    let out = hub.resume(t0 + secs(7), 30, Role::Viewer, &v, Some((cw(), addr(1))));
    assert_eq!(
        bye_to(&out, 30),
        Some(ByeReason::ConnectionLost),
        "replay refused"
    );
    let out = hub.resume(
        t0 + secs(8),
        31,
        Role::Viewer,
        &fresh,
        Some((cw(), addr(1))),
    );
    assert!(matches!(
        sent_to(&out, 31)[0],
        SignalMessage::Resumed { .. }
    ));
}

#[test]
fn a_viewer_token_needs_the_same_caseworker_signed_in() {
    let t0 = Instant::now();
    let (mut hub, _, v) = sharing(t0);
    hub.left(t0, V);
    let out = hub.resume(
        t0 + secs(1),
        V2,
        Role::Viewer,
        &v,
        Some((cw_named("lea"), addr(9))),
    );
    assert_eq!(bye_to(&out, V2), Some(ByeReason::ConnectionLost));
    let out = hub.resume(t0 + secs(1), 30, Role::Viewer, &v, Some((cw(), addr(1))));
    assert!(matches!(
        sent_to(&out, 30)[0],
        SignalMessage::Resumed { .. }
    ));
}

#[test]
fn a_resume_replaces_a_connection_the_relay_still_thinks_alive() {
    let t0 = Instant::now();
    let (mut hub, a, _) = sharing(t0);
    // The agent's network changed: the relay has not noticed the old socket is dead.
    let out = hub.resume(t0 + secs(3), A2, Role::Agent, &a, None);
    assert!(
        out.contains(&Output::Close(A)),
        "the stale socket is closed"
    );
    assert!(matches!(
        sent_to(&out, A2)[0],
        SignalMessage::Resumed {
            peer_present: true,
            ..
        }
    ));
    // When the stale socket finally closes, nothing happens to the session.
    assert!(hub.left(t0 + secs(4), A).is_empty());
    assert_eq!(hub.sessions(), 1);
    let out = hub.message(t0 + secs(5), V, SignalMessage::Answer { sdp: "v=0".into() });
    assert_eq!(
        out,
        vec![Output::Send(
            A2,
            SignalMessage::Answer { sdp: "v=0".into() }
        )]
    );
}

#[test]
fn both_sides_dropping_and_coming_back_resume() {
    let t0 = Instant::now();
    let (mut hub, a, v) = sharing(t0);
    hub.left(t0, A);
    let out = hub.left(t0 + secs(1), V);
    assert!(sent_to(&out, A).is_empty(), "nobody to tell");
    let out = hub.resume(t0 + secs(30), V2, Role::Viewer, &v, Some((cw(), addr(1))));
    assert_eq!(
        sent_to(&out, V2)[0],
        SignalMessage::Resumed {
            by: None,
            peer_present: false
        }
    );
    let out = hub.resume(t0 + secs(59), A2, Role::Agent, &a, None);
    assert_eq!(sent_to(&out, V2), vec![SignalMessage::PeerBack]);
    assert!(hub.tick(t0 + secs(120)).is_empty());
    assert_eq!(hub.sessions(), 1);
}

#[test]
fn both_sides_gone_for_good_leave_nothing_behind() {
    let t0 = Instant::now();
    let (mut hub, _, _) = sharing(t0);
    hub.left(t0, A);
    hub.left(t0 + secs(10), V);
    let out = hub.tick(t0 + secs(61));
    assert_eq!(events(&out), vec!["session_ended"]);
    assert!(sent_to(&out, A).is_empty() && sent_to(&out, V).is_empty());
    assert!(hub.tick(t0 + secs(80)).is_empty(), "ended once");
    assert_eq!((hub.sessions(), hub.agents()), (0, 0));
}

#[test]
fn a_live_side_saying_bye_while_the_other_is_away_ends_the_session() {
    let t0 = Instant::now();
    let (mut hub, a, _) = sharing(t0);
    hub.left(t0, A);
    let out = hub.message(
        t0 + secs(2),
        V,
        SignalMessage::Bye {
            reason: ByeReason::Ended,
        },
    );
    assert_eq!(events(&out), vec!["session_ended"]);
    assert_eq!((hub.sessions(), hub.agents()), (0, 0));
    let out = hub.resume(t0 + secs(3), A2, Role::Agent, &a, None);
    assert_eq!(bye_to(&out, A2), Some(ByeReason::ConnectionLost));
}

#[test]
fn a_drop_before_the_residents_yes_ends_the_session_as_before() {
    let t0 = Instant::now();
    let mut hub = paired(t0);
    let out = hub.left(t0, V);
    assert_eq!(bye_to(&out, A), Some(ByeReason::PeerGone));
    assert!(code_of(&out, A).is_some());
}

#[test]
fn sessions_restored_after_a_restart_resume_with_their_tokens() {
    let t0 = Instant::now();
    let (mut before, a, v) = sharing(t0);
    let out = before.left(t0, A);
    drop(out);
    let saved = Resumable {
        session: "s-1".into(),
        tokens: before.agents.values().find_map(|x| x.resume).unwrap(),
        login: "marie".into(),
    };
    let mut hub = hub_with_codes(&["999999"]);
    hub.restore(vec![Restored {
        saved,
        caseworker: cw(),
        deadline: t0 + secs(40),
    }]);
    assert_eq!((hub.sessions(), hub.agents()), (1, 0));
    let out = hub.resume(t0 + secs(5), A2, Role::Agent, &a, None);
    assert!(matches!(
        sent_to(&out, A2)[0],
        SignalMessage::Resumed {
            peer_present: false,
            ..
        }
    ));
    assert_eq!(records(&out)[0].session, "s-1");
    let out = hub.resume(t0 + secs(6), V2, Role::Viewer, &v, Some((cw(), addr(1))));
    assert_eq!(sent_to(&out, A2), vec![SignalMessage::PeerBack]);
    assert!(hub.tick(t0 + secs(100)).is_empty());
}

#[test]
fn a_side_back_after_the_other_sides_window_closed_is_too_late() {
    let t0 = Instant::now();
    let (mut hub, _, v) = sharing(t0);
    hub.left(t0, A);
    hub.left(t0 + secs(30), V);
    // The agent's 60 s are over (the tick has not run yet): the viewer cannot revive it.
    let out = hub.resume(t0 + secs(61), V2, Role::Viewer, &v, Some((cw(), addr(1))));
    assert_eq!(bye_to(&out, V2), Some(ByeReason::ConnectionLost));
}
