//! Unit tests of the pairing hub, with time passed in.

use super::*;
use std::net::Ipv4Addr;

const A: ConnId = 1;
const V: ConnId = 2;
const V2: ConnId = 3;

fn hub_with_codes(codes: &[&str]) -> Hub {
    let mut list: VecDeque<SessionCode> = codes
        .iter()
        .map(|c| SessionCode::parse(c).unwrap())
        .collect();
    Hub::new(Box::new(move || {
        list.pop_front().unwrap_or_else(SessionCode::random)
    }))
}

fn who() -> Requester {
    Requester {
        name: Some("Marie Dupont".into()),
        site: "CHRS Les Lilas".into(),
    }
}

fn addr(n: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(192, 0, 2, n))
}

fn redeem(code: &str) -> SignalMessage {
    SignalMessage::Redeem { code: code.into() }
}

fn sent_to(out: &[Output], conn: ConnId) -> Vec<SignalMessage> {
    out.iter()
        .filter(|Output::Send(c, _)| *c == conn)
        .map(|Output::Send(_, m)| m.clone())
        .collect()
}

fn error_code(out: &[Output], conn: ConnId) -> Option<ErrorCode> {
    sent_to(out, conn).into_iter().find_map(|m| match m {
        SignalMessage::Error { code, .. } => Some(code),
        _ => None,
    })
}

fn code_of(out: &[Output], conn: ConnId) -> Option<String> {
    sent_to(out, conn).into_iter().find_map(|m| match m {
        SignalMessage::Code { code, .. } => Some(code),
        _ => None,
    })
}

fn paired(now: Instant) -> Hub {
    let mut hub = hub_with_codes(&["111111", "222222", "333333"]);
    hub.agent_joined(now, A);
    hub.viewer_joined(V, who(), addr(1));
    let out = hub.message(now, V, redeem("111111"));
    assert_eq!(
        sent_to(&out, A),
        vec![SignalMessage::Paired { by: Some(who()) }]
    );
    hub
}

#[test]
fn agent_gets_a_code_valid_ten_minutes() {
    let now = Instant::now();
    let mut hub = hub_with_codes(&["482913"]);
    let out = hub.agent_joined(now, A);
    assert_eq!(
        out,
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
    hub.viewer_joined(V, who(), addr(1));
    let out = hub.message(now, V, redeem("482 913"));
    assert_eq!(
        sent_to(&out, A),
        vec![SignalMessage::Paired { by: Some(who()) }]
    );
    assert_eq!(sent_to(&out, V), vec![SignalMessage::Paired { by: None }]);
    assert_eq!(hub.sessions(), 1);
    assert_eq!(hub.stats().redeemed, 1);
}

#[test]
fn a_code_is_single_use() {
    let now = Instant::now();
    let mut hub = paired(now);
    hub.viewer_joined(V2, who(), addr(2));
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
    hub.viewer_joined(V, who(), addr(1));
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
    hub.viewer_joined(V, who(), addr(1));
    hub.viewer_joined(V2, who(), addr(2));
    for i in 0..MAX_FAILURES_PER_ADDR {
        let out = hub.message(now, V, redeem(&format!("99999{i}")));
        assert_eq!(error_code(&out, V), Some(ErrorCode::InvalidCode));
    }
    // Even the right code is refused now from that address…
    let out = hub.message(now, V, redeem("111111"));
    assert_eq!(error_code(&out, V), Some(ErrorCode::RateLimited));
    // …but another address is untouched.
    let out = hub.message(now, V2, redeem("111111"));
    assert_eq!(sent_to(&out, V2), vec![SignalMessage::Paired { by: None }]);
    assert_eq!(hub.stats().invalid_codes, MAX_FAILURES_PER_ADDR as u64);
    assert_eq!(hub.stats().rate_limited, 1);
}

#[test]
fn rate_limit_lifts_after_the_window() {
    let t0 = Instant::now();
    let mut hub = hub_with_codes(&["111111"]);
    hub.agent_joined(t0, A);
    hub.viewer_joined(V, who(), addr(1));
    for _ in 0..MAX_FAILURES_PER_ADDR {
        hub.message(t0, V, redeem("000000"));
    }
    let later = t0 + FAILURE_WINDOW;
    hub.tick(later);
    let out = hub.message(later, V, redeem("111111"));
    assert_eq!(sent_to(&out, V), vec![SignalMessage::Paired { by: None }]);
}

#[test]
fn garbage_code_text_is_just_an_invalid_code() {
    let now = Instant::now();
    let mut hub = hub_with_codes(&["111111"]);
    hub.agent_joined(now, A);
    hub.viewer_joined(V, who(), addr(1));
    for typed in ["", "abc", "1234567", "١١١١١١"] {
        let out = hub.message(now, V, redeem(typed));
        assert_eq!(
            error_code(&out, V),
            Some(ErrorCode::InvalidCode),
            "{typed:?}"
        );
    }
}

#[test]
fn offer_answer_and_candidates_are_forwarded_only_within_the_session() {
    let now = Instant::now();
    let mut hub = paired(now);
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
    hub.viewer_joined(V, who(), addr(1));
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
    hub.viewer_joined(11, who(), addr(3));
    let out = hub.message(now, 11, redeem("222222"));
    assert_eq!(sent_to(&out, 10).len(), 1);
    let out = hub.left(now, A);
    assert_eq!(
        out,
        vec![Output::Send(
            V,
            SignalMessage::Bye {
                reason: ByeReason::PeerGone
            }
        )]
    );
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
