//! Unit tests of the pairing hub, with time passed in.

use super::*;
use crate::signaling::limits::{ADDR_WINDOW, MAX_WRONG_PER_ACCOUNT_BURST, MAX_WRONG_PER_ADDR};
use acote_proto::ConsentEvent;
use std::collections::VecDeque;
use std::net::Ipv4Addr;

pub(super) const A: ConnId = 1;
pub(super) const V: ConnId = 2;
const V2: ConnId = 3;

pub(super) fn hub_with_codes(codes: &[&str]) -> Hub {
    let mut list: VecDeque<SessionCode> = codes
        .iter()
        .map(|c| SessionCode::parse(c).unwrap())
        .collect();
    Hub::new(Box::new(move || {
        list.pop_front().unwrap_or_else(SessionCode::random)
    }))
}

pub(super) fn who() -> Requester {
    Requester {
        name: Some("Marie Dupont".into()),
        site: "CHRS Les Lilas".into(),
    }
}

pub(super) fn cw() -> Caseworker {
    cw_named("marie")
}

pub(super) fn cw_named(login: &str) -> Caseworker {
    Caseworker {
        login: login.into(),
        who: who(),
    }
}

pub(super) fn records(out: &[Output]) -> Vec<Record> {
    out.iter()
        .filter_map(|o| match o {
            Output::Audit(r) => Some(r.clone()),
            _ => None,
        })
        .collect()
}

pub(super) fn events(out: &[Output]) -> Vec<String> {
    records(out)
        .into_iter()
        .map(|r| r.event.to_string())
        .collect()
}

pub(super) fn addr(n: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(192, 0, 2, n))
}

pub(super) fn redeem(code: &str) -> SignalMessage {
    SignalMessage::Redeem {
        code: code.into(),
        procedure: None,
    }
}

pub(super) fn sent_to(out: &[Output], conn: ConnId) -> Vec<SignalMessage> {
    out.iter()
        .filter_map(|o| match o {
            Output::Send(c, m) if *c == conn => Some(m.clone()),
            _ => None,
        })
        .collect()
}

/// The `retry_after_s` of the error sent to `conn`.
pub(super) fn retry_after(out: &[Output], conn: ConnId) -> Option<u32> {
    sent_to(out, conn).into_iter().find_map(|m| match m {
        SignalMessage::Error { retry_after_s, .. } => retry_after_s,
        _ => None,
    })
}

pub(super) fn error_code(out: &[Output], conn: ConnId) -> Option<ErrorCode> {
    sent_to(out, conn).into_iter().find_map(|m| match m {
        SignalMessage::Error { code, .. } => Some(code),
        _ => None,
    })
}

pub(super) fn code_of(out: &[Output], conn: ConnId) -> Option<String> {
    sent_to(out, conn).into_iter().find_map(|m| match m {
        SignalMessage::Code { code, .. } => Some(code),
        _ => None,
    })
}

pub(super) fn paired(now: Instant) -> Hub {
    let mut hub = hub_with_codes(&["111111", "222222", "333333"]);
    hub.agent_joined(now, A);
    hub.viewer_joined(V, cw(), addr(1));
    let out = hub.message(now, V, redeem("111111"));
    assert_eq!(
        sent_to(&out, A),
        vec![SignalMessage::Paired { by: Some(who()) }]
    );
    hub
}

/// The agent reports the resident's yes to viewing.
fn view_allowed(hub: &mut Hub, now: Instant) {
    hub.message(
        now,
        A,
        SignalMessage::Consent {
            event: ConsentEvent::ViewAllowed,
        },
    );
}

#[test]
fn the_caseworker_is_told_the_residents_language() {
    let now = Instant::now();
    let mut hub = hub_with_codes(&["482913"]);
    hub.agent_joined(now, A);
    hub.set_agent_lang(A, Some("ar".into()));
    hub.viewer_joined(V, cw(), addr(1));
    let out = hub.message(now, V, redeem("482913"));
    assert_eq!(
        sent_to(&out, V),
        vec![
            SignalMessage::Paired { by: None },
            SignalMessage::Resident { lang: "ar".into() }
        ]
    );
    assert_eq!(
        sent_to(&out, A),
        vec![SignalMessage::Paired { by: Some(who()) }],
        "the agent is not told its own language"
    );
}

#[test]
fn agent_gets_a_code_valid_ten_minutes() {
    let now = Instant::now();
    let mut hub = hub_with_codes(&["482913"]);
    let out = hub.agent_joined(now, A);
    assert_eq!(events(&out), vec!["session_created"]);
    assert_eq!(
        sent_to(&out, A)
            .into_iter()
            .map(|m| Output::Send(A, m))
            .collect::<Vec<_>>(),
        vec![Output::Send(
            A,
            SignalMessage::Code {
                code: "482913".into(),
                expires_in: 600
            }
        )]
    );
}

#[test]
fn redeem_pairs_and_tells_the_agent_who_asks() {
    let now = Instant::now();
    let mut hub = hub_with_codes(&["482913"]);
    hub.agent_joined(now, A);
    hub.viewer_joined(V, cw(), addr(1));
    let out = hub.message(now, V, redeem("482 913"));
    assert_eq!(
        sent_to(&out, A),
        vec![SignalMessage::Paired { by: Some(who()) }]
    );
    assert_eq!(sent_to(&out, V), vec![SignalMessage::Paired { by: None }]);
    assert_eq!(hub.sessions(), 1);
    assert_eq!(hub.stats().redeemed, 1);
    // The driver hears of the session before the sends, to hand out TURN credentials.
    let opened = out.iter().position(|o| {
        matches!(
            o,
            Output::SessionOpened {
                agent: A,
                viewer: V,
                ..
            }
        )
    });
    let first_send = out.iter().position(|o| matches!(o, Output::Send(..)));
    assert!(opened.is_some() && opened < first_send, "{out:?}");
    assert!(hub.take_ended().is_empty());
}

#[test]
fn every_way_a_session_ends_is_reported_for_turn_revocation() {
    let now = Instant::now();
    let mut hub = paired(now);
    let session = hub.agents.get(&A).map(|a| a.session.clone()).unwrap();
    hub.message(
        now,
        V,
        SignalMessage::Bye {
            reason: ByeReason::Ended,
        },
    );
    assert_eq!(hub.take_ended(), vec![session]);
    assert!(hub.take_ended().is_empty(), "reported once");
    // Lost connections and time-outs too.
    let mut hub = paired(now);
    hub.left(now, A);
    assert_eq!(hub.take_ended().len(), 1);
    let mut hub = paired(now);
    hub.tick(now + ANSWER_BACKSTOP);
    assert_eq!(hub.take_ended().len(), 1);
}

#[test]
fn a_code_is_single_use() {
    let now = Instant::now();
    let mut hub = paired(now);
    hub.viewer_joined(V2, cw_named("paul"), addr(2));
    let out = hub.message(now, V2, redeem("111111"));
    assert_eq!(error_code(&out, V2), Some(ErrorCode::InvalidCode));
    assert!(
        sent_to(&out, A).is_empty(),
        "the agent in session hears nothing"
    );
}

#[test]
fn expired_code_is_refused_and_replaced() {
    let t0 = Instant::now();
    let mut hub = hub_with_codes(&["111111", "222222"]);
    hub.agent_joined(t0, A);
    hub.viewer_joined(V, cw(), addr(1));
    let late = t0 + CODE_LIFETIME;
    let out = hub.message(late, V, redeem("111111"));
    assert_eq!(error_code(&out, V), Some(ErrorCode::InvalidCode));
    let out = hub.tick(late);
    assert_eq!(code_of(&out, A).as_deref(), Some("222222"));
    assert_eq!(hub.stats().codes_expired, 1);
    let out = hub.message(late, V, redeem("222222"));
    assert_eq!(sent_to(&out, V), vec![SignalMessage::Paired { by: None }]);
}

#[test]
fn a_tick_before_expiry_changes_nothing() {
    let t0 = Instant::now();
    let mut hub = hub_with_codes(&["111111"]);
    hub.agent_joined(t0, A);
    assert!(
        hub.tick(t0 + CODE_LIFETIME - Duration::from_secs(1))
            .is_empty()
    );
}

#[test]
fn wrong_codes_are_counted_and_rate_limited_per_address() {
    let now = Instant::now();
    let mut hub = hub_with_codes(&["111111"]);
    hub.agent_joined(now, A);
    hub.viewer_joined(V, cw(), addr(1));
    hub.viewer_joined(V2, cw_named("paul"), addr(2));
    // Five wrong codes from one address, by several accounts (each under its own limit).
    for i in 0..MAX_WRONG_PER_ADDR {
        let conn = 100 + i as ConnId;
        hub.viewer_joined(conn, cw_named(&format!("user{i}")), addr(1));
        let out = hub.message(now, conn, redeem(&format!("99999{i}")));
        assert_eq!(error_code(&out, conn), Some(ErrorCode::InvalidCode));
        assert_eq!(events(&out), vec!["code_wrong"]);
    }
    // Even the right code is refused now from that address…
    let out = hub.message(now, V, redeem("111111"));
    assert_eq!(error_code(&out, V), Some(ErrorCode::RateLimited));
    // The wait is a number the viewer counts down, never a sentence it must parse.
    let wait = retry_after(&out, V).expect("a rate limit says when to try again");
    assert!((60..=24 * 3600).contains(&wait), "{wait}");
    // …but another address is untouched.
    let out = hub.message(now, V2, redeem("111111"));
    assert_eq!(sent_to(&out, V2), vec![SignalMessage::Paired { by: None }]);
    assert_eq!(hub.stats().invalid_codes, MAX_WRONG_PER_ADDR as u64);
    assert_eq!(hub.stats().rate_limited, 1);
}

#[test]
fn rate_limit_lifts_after_the_window() {
    let t0 = Instant::now();
    let mut hub = hub_with_codes(&["111111"]);
    hub.agent_joined(t0, A);
    hub.viewer_joined(V, cw(), addr(1));
    for i in 0..MAX_WRONG_PER_ADDR {
        let conn = 100 + i as ConnId;
        hub.viewer_joined(conn, cw_named(&format!("user{i}")), addr(1));
        hub.message(t0, conn, redeem("000000"));
    }
    let later = t0 + ADDR_WINDOW;
    hub.tick(later);
    let out = hub.message(later, V, redeem("111111"));
    assert_eq!(sent_to(&out, V), vec![SignalMessage::Paired { by: None }]);
}

#[test]
fn garbage_code_text_is_just_an_invalid_code() {
    let now = Instant::now();
    let mut hub = hub_with_codes(&["111111"]);
    hub.agent_joined(now, A);
    hub.viewer_joined(V, cw(), addr(1));
    for (i, typed) in ["", "abc", "1234567", "١١١١١١"].into_iter().enumerate() {
        let conn = 100 + i as ConnId;
        hub.viewer_joined(conn, cw_named(&format!("user{i}")), addr(i as u8 + 10));
        let out = hub.message(now, conn, redeem(typed));
        assert_eq!(
            error_code(&out, conn),
            Some(ErrorCode::InvalidCode),
            "{typed:?}"
        );
    }
}

#[test]
fn offer_answer_and_candidates_are_forwarded_only_within_the_session() {
    let now = Instant::now();
    let mut hub = paired(now);
    view_allowed(&mut hub, now);
    let offer = SignalMessage::Offer { sdp: "v=0".into() };
    assert_eq!(
        hub.message(now, A, offer.clone()),
        vec![Output::Send(V, offer)]
    );
    let answer = SignalMessage::Answer { sdp: "v=0".into() };
    assert_eq!(
        hub.message(now, V, answer.clone()),
        vec![Output::Send(A, answer)]
    );
    let cand = SignalMessage::Candidate {
        candidate: "candidate:1".into(),
        sdp_mid: Some("0".into()),
        sdp_mline_index: Some(0),
        username_fragment: None,
    };
    assert_eq!(
        hub.message(now, V, cand.clone()),
        vec![Output::Send(A, cand.clone())]
    );
    assert_eq!(
        hub.message(now, A, cand.clone()),
        vec![Output::Send(V, cand)]
    );
}

#[test]
fn messages_out_of_place_get_unexpected() {
    let now = Instant::now();
    let mut hub = hub_with_codes(&["111111"]);
    hub.agent_joined(now, A);
    hub.viewer_joined(V, cw(), addr(1));
    let out = hub.message(now, A, SignalMessage::Offer { sdp: "v=0".into() });
    assert_eq!(error_code(&out, A), Some(ErrorCode::Unexpected));
    let out = hub.message(now, V, SignalMessage::Answer { sdp: "v=0".into() });
    assert_eq!(error_code(&out, V), Some(ErrorCode::Unexpected));
    // A viewer answering in the agent's place, and an agent redeeming, are refused.
    let mut hub = paired(now);
    let out = hub.message(now, V, SignalMessage::Offer { sdp: "v=0".into() });
    assert_eq!(error_code(&out, V), Some(ErrorCode::Unexpected));
    let out = hub.message(now, A, redeem("222222"));
    assert_eq!(error_code(&out, A), Some(ErrorCode::Unexpected));
    let out = hub.message(
        now,
        V,
        SignalMessage::Code {
            code: "1".into(),
            expires_in: 1,
        },
    );
    assert_eq!(error_code(&out, V), Some(ErrorCode::Unexpected));
    assert_eq!(hub.stats().unexpected, 3);
}

#[test]
fn resident_says_no_viewer_is_told_and_agent_gets_a_new_code() {
    let now = Instant::now();
    let mut hub = paired(now);
    let out = hub.message(
        now,
        A,
        SignalMessage::Bye {
            reason: ByeReason::Refused,
        },
    );
    assert_eq!(
        sent_to(&out, V),
        vec![SignalMessage::Bye {
            reason: ByeReason::Refused
        }]
    );
    assert_eq!(code_of(&out, A).as_deref(), Some("222222"));
    assert_eq!(hub.sessions(), 0);
}

#[test]
fn viewer_ends_the_session() {
    let now = Instant::now();
    let mut hub = paired(now);
    let out = hub.message(
        now,
        V,
        SignalMessage::Bye {
            reason: ByeReason::Ended,
        },
    );
    assert_eq!(
        sent_to(&out, A)[0],
        SignalMessage::Bye {
            reason: ByeReason::Ended
        }
    );
    assert_eq!(code_of(&out, A).as_deref(), Some("222222"));
    // The viewer may redeem again on the same connection.
    let out = hub.message(now, V, redeem("222222"));
    assert_eq!(sent_to(&out, V), vec![SignalMessage::Paired { by: None }]);
}

#[test]
fn viewer_vanishing_mid_offer_tells_the_agent() {
    let now = Instant::now();
    let mut hub = paired(now);
    hub.message(now, A, SignalMessage::Offer { sdp: "v=0".into() });
    let out = hub.left(now, V);
    assert_eq!(
        sent_to(&out, A)[0],
        SignalMessage::Bye {
            reason: ByeReason::PeerGone
        }
    );
    assert!(code_of(&out, A).is_some());
    assert_eq!(hub.sessions(), 0);
}

#[test]
fn agent_vanishing_tells_the_viewer_and_other_sessions_are_untouched() {
    let now = Instant::now();
    let mut hub = paired(now);
    hub.agent_joined(now, 10);
    hub.viewer_joined(11, cw_named("lea"), addr(3));
    let out = hub.message(now, 11, redeem("222222"));
    assert_eq!(sent_to(&out, 10).len(), 1);
    let out = hub.left(now, A);
    assert_eq!(
        out[1..],
        [Output::Send(
            V,
            SignalMessage::Bye {
                reason: ByeReason::PeerGone
            }
        )]
    );
    assert_eq!(events(&out), vec!["session_ended"]);
    assert!(records(&out)[0].detail.starts_with("reason=agent_gone"));
    assert_eq!(hub.sessions(), 1);
    assert_eq!(hub.agents(), 1);
}

#[test]
fn silent_agent_is_given_up_on_after_the_backstop() {
    let t0 = Instant::now();
    let mut hub = paired(t0);
    assert!(
        hub.tick(t0 + ANSWER_BACKSTOP - Duration::from_secs(1))
            .is_empty()
    );
    let out = hub.tick(t0 + ANSWER_BACKSTOP);
    assert_eq!(
        sent_to(&out, V),
        vec![SignalMessage::Bye {
            reason: ByeReason::NoAnswer
        }]
    );
    assert!(code_of(&out, A).is_some());
}

#[test]
fn an_answered_session_is_not_timed_out() {
    let t0 = Instant::now();
    let mut hub = paired(t0);
    view_allowed(&mut hub, t0);
    hub.message(t0, A, SignalMessage::Offer { sdp: "v=0".into() });
    assert!(hub.tick(t0 + ANSWER_BACKSTOP * 10).is_empty());
    assert_eq!(hub.sessions(), 1);
}

#[test]
fn issued_codes_never_collide_with_live_ones() {
    let now = Instant::now();
    let mut hub = hub_with_codes(&["111111", "111111", "222222"]);
    let a = code_of(&hub.agent_joined(now, A), A);
    let b = code_of(&hub.agent_joined(now, 5), 5);
    assert_eq!(a.as_deref(), Some("111111"));
    assert_eq!(b.as_deref(), Some("222222"));
}

#[test]
fn a_stolen_account_is_stopped_after_three_wrong_codes_even_from_many_addresses() {
    let now = Instant::now();
    let mut hub = hub_with_codes(&["111111"]);
    hub.agent_joined(now, A);
    for i in 0..=MAX_WRONG_PER_ACCOUNT_BURST {
        let conn = 100 + i as ConnId;
        hub.viewer_joined(conn, cw_named("eve"), addr(i as u8 + 1));
        let out = hub.message(now, conn, redeem("000000"));
        if i < MAX_WRONG_PER_ACCOUNT_BURST {
            assert_eq!(error_code(&out, conn), Some(ErrorCode::InvalidCode));
        } else {
            // Even the right code is refused now for this account…
            let out = hub.message(now, conn, redeem("111111"));
            assert_eq!(error_code(&out, conn), Some(ErrorCode::RateLimited));
            let r = &records(&out)[0];
            assert_eq!(
                (r.event.as_str(), r.actor.as_str()),
                ("code_limited", "eve")
            );
            assert!(r.detail.contains("scope=account"), "{}", r.detail);
        }
    }
    // …while another caseworker still gets in.
    hub.viewer_joined(V, cw(), addr(1));
    let out = hub.message(now, V, redeem("111111"));
    assert_eq!(sent_to(&out, V), vec![SignalMessage::Paired { by: None }]);
}

#[test]
fn the_audit_trail_of_a_session_names_who_and_never_the_code() {
    let t0 = Instant::now();
    let mut hub = hub_with_codes(&["482913", "222222"]);
    let mut all = hub.agent_joined(t0, A);
    hub.viewer_joined(V, cw(), addr(1));
    all.extend(hub.message(
        t0,
        V,
        SignalMessage::Redeem {
            code: "482913".into(),
            procedure: Some("CAF renewal".into()),
        },
    ));
    for event in [ConsentEvent::ViewAsked, ConsentEvent::ViewAllowed] {
        let out = hub.message(t0, A, SignalMessage::Consent { event });
        assert!(
            sent_to(&out, V)
                .iter()
                .all(|m| matches!(m, SignalMessage::ResumeToken { .. })),
            "consent is never forwarded (the yes only brings the viewer its resumption token)"
        );
        all.extend(out);
    }
    all.extend(hub.message(
        t0 + Duration::from_secs(125),
        V,
        SignalMessage::Bye {
            reason: ByeReason::Ended,
        },
    ));
    let recs = records(&all);
    let names: Vec<&str> = recs.iter().map(|r| r.event.as_str()).collect();
    assert_eq!(
        names,
        [
            "session_created",
            "code_redeemed",
            "view_asked",
            "view_allowed",
            "session_ended",
            "session_created"
        ]
    );
    let session = &recs[0].session;
    assert!(recs[1..5].iter().all(|r| &r.session == session));
    assert_eq!(recs[1].actor, "marie");
    assert_eq!(recs[1].detail, "procedure=CAF renewal");
    assert_eq!(recs[4].detail, "reason=ended; duration_s=125");
    assert_ne!(&recs[5].session, session, "the next session has a new id");
    let text = format!("{recs:?}");
    assert!(!text.contains("482913") && !text.contains("482 913"));
}

#[test]
fn an_oversized_procedure_is_refused_and_consent_outside_a_session_is_unexpected() {
    let now = Instant::now();
    let mut hub = hub_with_codes(&["111111"]);
    hub.agent_joined(now, A);
    hub.viewer_joined(V, cw(), addr(1));
    let out = hub.message(
        now,
        V,
        SignalMessage::Redeem {
            code: "111111".into(),
            procedure: Some("x".repeat(61)),
        },
    );
    assert_eq!(error_code(&out, V), Some(ErrorCode::Malformed));
    let out = hub.message(
        now,
        A,
        SignalMessage::Consent {
            event: ConsentEvent::ViewAllowed,
        },
    );
    assert_eq!(error_code(&out, A), Some(ErrorCode::Unexpected));
}

#[test]
fn a_full_relay_refuses_redeems_without_consuming_the_code() {
    let now = Instant::now();
    let mut hub = hub_with_codes(&["111111", "222222"]).with_max_sessions(1);
    hub.agent_joined(now, A);
    hub.agent_joined(now, 10);
    hub.viewer_joined(V, cw(), addr(1));
    hub.viewer_joined(V2, cw_named("karim"), addr(2));
    hub.message(now, V, redeem("111111"));
    assert_eq!(hub.sessions(), 1);
    let out = hub.message(now, V2, redeem("222222"));
    assert_eq!(error_code(&out, V2), Some(ErrorCode::Unavailable));
    assert_eq!(retry_after(&out, V2), Some(180));
    // Once a place frees up, the same code still works.
    hub.message(
        now,
        V,
        SignalMessage::Bye {
            reason: ByeReason::Ended,
        },
    );
    let out = hub.message(now, V2, redeem("222222"));
    assert_eq!(sent_to(&out, V2), vec![SignalMessage::Paired { by: None }]);
}

/// Issue 16 (8): the relay holds media signaling back until the resident's yes is on
/// record, whatever the agent or the viewer sends before it.
#[test]
fn issue16_no_offer_answer_or_candidate_crosses_before_the_residents_yes() {
    let now = Instant::now();
    let mut hub = paired(now);
    let offer = SignalMessage::Offer { sdp: "v=0".into() };
    let answer = SignalMessage::Answer { sdp: "v=0".into() };
    let cand = SignalMessage::Candidate {
        candidate: "candidate:1".into(),
        sdp_mid: Some("0".into()),
        sdp_mline_index: Some(0),
        username_fragment: None,
    };
    let asked = SignalMessage::Consent {
        event: ConsentEvent::ViewAsked,
    };
    for step in [None, Some(asked)] {
        if let Some(step) = step {
            hub.message(now, A, step);
        }
        for (from, to, msg) in [
            (A, V, offer.clone()),
            (V, A, answer.clone()),
            (A, V, cand.clone()),
            (V, A, cand.clone()),
        ] {
            let out = hub.message(now, from, msg.clone());
            assert!(
                sent_to(&out, to).is_empty(),
                "{} crossed before the yes",
                msg.kind()
            );
            assert_eq!(error_code(&out, from), Some(ErrorCode::Unexpected));
        }
    }
    hub.message(
        now,
        A,
        SignalMessage::Consent {
            event: ConsentEvent::ViewAllowed,
        },
    );
    assert_eq!(
        hub.message(now, A, offer.clone()),
        vec![Output::Send(V, offer)]
    );
    assert_eq!(
        hub.message(now, V, answer.clone()),
        vec![Output::Send(A, answer)]
    );
}

/// Issue 16 (2): the wrong codes an account typed before a restart still count after it.
#[test]
fn issue16_wrong_codes_read_back_after_a_restart_still_limit_the_account() {
    let now = Instant::now();
    let mut hub = hub_with_codes(&["111111"]);
    hub.agent_joined(now, A);
    let earlier = now.checked_sub(Duration::from_secs(60)).unwrap_or(now);
    hub.restore_wrong_codes((0..MAX_WRONG_PER_ACCOUNT_BURST).map(|_| (earlier, "eve".to_string())));
    hub.viewer_joined(V, cw_named("eve"), addr(9));
    let out = hub.message(now, V, redeem("111111"));
    assert_eq!(error_code(&out, V), Some(ErrorCode::RateLimited));
}

#[test]
fn issue16_5_a_flood_of_agent_connections_writes_few_session_created_records() {
    let t0 = Instant::now();
    let mut hub = hub_with_codes(&[]);
    // 100 agents (anyone can connect one, no account needed) within the same minute.
    let mut written = Vec::new();
    let mut last_code = String::new();
    for conn in 100..200 {
        let out = hub.agent_joined(t0, conn);
        written.extend(records(&out));
        if let Some(SignalMessage::Code { code, .. }) = sent_to(&out, conn).into_iter().next() {
            last_code = code;
        }
    }
    assert!(
        written.len() <= 30,
        "{} session_created records for one minute of unauthenticated connections",
        written.len()
    );
    assert!(written.iter().all(|r| r.event == "session_created"));
    // The next minute, the first record written tells how many were not.
    let later = records(&hub.agent_joined(t0 + Duration::from_secs(60), 200));
    assert_eq!(later.len(), 1);
    assert_eq!(
        later[0].detail,
        format!("unwritten_before={}", 100 - written.len())
    );
    // A session whose record was left unwritten still has it once a caseworker pairs it:
    // written then, before its `code_redeemed`.
    hub.viewer_joined(V, cw(), addr(1));
    let out = hub.message(t0 + Duration::from_secs(61), V, redeem(&last_code));
    let recs = records(&out);
    assert_eq!(events(&out), vec!["session_created", "code_redeemed"]);
    assert_eq!(recs[0].session, recs[1].session);
    assert_eq!(recs[0].detail, "late=true");
}

#[test]
fn issue22_a_connection_silent_for_60_s_is_closed_by_the_tick() {
    let t0 = Instant::now();
    let mut hub = paired(t0);
    hub.heard(t0, A);
    hub.heard(t0, V);
    // The viewer's pongs keep it; the agent says nothing more.
    hub.heard(t0 + Duration::from_secs(40), V);
    assert!(
        hub.tick(t0 + SILENCE_LIMIT).is_empty(),
        "60 s is not yet too long"
    );
    let out = hub.tick(t0 + SILENCE_LIMIT + Duration::from_secs(1));
    assert_eq!(
        out,
        vec![Output::Close(A)],
        "only the silent side, and once"
    );
    let t1 = t0 + SILENCE_LIMIT + Duration::from_secs(2);
    assert!(hub.tick(t1).is_empty(), "closed once");
    // Its task then ends the socket and the hub hears it left, as for any drop.
    let out = hub.left(t1, A);
    assert_eq!(
        sent_to(&out, V),
        vec![SignalMessage::Bye {
            reason: ByeReason::PeerGone
        }]
    );
    let later = t0 + Duration::from_secs(40) + SILENCE_LIMIT + Duration::from_secs(1);
    assert_eq!(hub.tick(later), vec![Output::Close(V)]);
}

#[test]
fn issue22_a_connection_that_left_is_not_watched_any_more() {
    let t0 = Instant::now();
    let mut hub = hub_with_codes(&["111111"]);
    hub.agent_joined(t0, A);
    hub.heard(t0, A);
    hub.left(t0, A);
    assert!(
        !hub.tick(t0 + SILENCE_LIMIT * 2).contains(&Output::Close(A)),
        "a gone connection is not closed again"
    );
}

#[test]
fn a_feature_is_audited_once_per_session_never_forwarded() {
    let t0 = Instant::now();
    let mut hub = paired(t0);
    let chat = SignalMessage::Used {
        feature: acote_proto::signal::Feature::Chat,
    };
    // Before the resident's yes there is no session to guide in: refused.
    let out = hub.message(t0, A, chat.clone());
    assert_eq!(error_code(&out, A), Some(ErrorCode::Unexpected));
    assert!(records(&out).is_empty());
    view_allowed(&mut hub, t0);
    let out = hub.message(t0, A, chat.clone());
    assert!(sent_to(&out, V).is_empty(), "the caseworker is not told");
    let recs = records(&out);
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].event, "feature_used");
    assert_eq!(recs[0].actor, "marie");
    assert_eq!(recs[0].detail, "feature=chat");
    for _ in 0..50 {
        assert!(records(&hub.message(t0, A, chat.clone())).is_empty());
    }
    // A viewer cannot report one: only the agent knows what was used.
    let out = hub.message(t0, V, chat.clone());
    assert_eq!(error_code(&out, V), Some(ErrorCode::Unexpected));
    // The next session records it again.
    hub.message(
        t0,
        V,
        SignalMessage::Bye {
            reason: ByeReason::Ended,
        },
    );
    hub.viewer_joined(V2, cw(), addr(2));
    hub.message(t0, V2, redeem("222222"));
    view_allowed(&mut hub, t0);
    assert_eq!(events(&hub.message(t0, A, chat)), ["feature_used"]);
}

#[test]
fn answers_steps_and_durations_are_measured_in_virtual_time() {
    let t0 = Instant::now();
    let mut hub = hub_with_codes(&["111111", "222222"]);
    hub.agent_joined(t0, A);
    hub.viewer_joined(V, cw(), addr(1));
    // The resident reads the code out after 40 s.
    hub.message(t0 + Duration::from_secs(40), V, redeem("111111"));
    assert_eq!(
        hub.take_timings(),
        vec![Timing::Paired(Duration::from_secs(40))]
    );
    assert_eq!(hub.session_steps().asking, 1);
    let consent = |hub: &mut Hub, at: u64, event| {
        hub.message(
            t0 + Duration::from_secs(at),
            A,
            SignalMessage::Consent { event },
        );
    };
    consent(&mut hub, 41, ConsentEvent::ViewAsked);
    consent(&mut hub, 48, ConsentEvent::ViewAllowed);
    consent(&mut hub, 60, ConsentEvent::ControlAsked);
    consent(&mut hub, 120, ConsentEvent::ControlTimeout);
    // An answer with no question before it is counted, not timed.
    consent(&mut hub, 121, ConsentEvent::ControlRefused);
    assert_eq!(
        hub.take_timings(),
        vec![
            Timing::Answered(Duration::from_secs(7)),
            Timing::Answered(Duration::from_secs(60)),
        ]
    );
    let s = hub.stats();
    assert_eq!((s.view_answers.yes, s.view_answers.no), (1, 0));
    assert_eq!(
        (
            s.control_answers.yes,
            s.control_answers.no,
            s.control_answers.timeout
        ),
        (0, 1, 1)
    );
    assert_eq!(
        hub.session_steps(),
        SessionSteps {
            asking: 0,
            seen: 1,
            away: 0
        }
    );
    // A side drops: the session is waited for, counted away.
    hub.left(t0 + Duration::from_secs(130), V);
    assert_eq!(hub.session_steps().away, 1);
}

#[test]
fn a_full_relay_counts_its_refusals() {
    let now = Instant::now();
    let mut hub = hub_with_codes(&["111111", "222222"]).with_max_sessions(1);
    hub.agent_joined(now, A);
    hub.agent_joined(now, 10);
    hub.viewer_joined(V, cw(), addr(1));
    hub.viewer_joined(V2, cw(), addr(2));
    hub.message(now, V, redeem("111111"));
    let out = hub.message(now, V2, redeem("222222"));
    assert_eq!(error_code(&out, V2), Some(ErrorCode::Unavailable));
    assert_eq!(hub.stats().relay_full, 1);
}
