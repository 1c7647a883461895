//! The routing between relays, without a database: letters written, read back by the
//! other relay, and what each side's hub or connection is told.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use acote_proto::{ByeReason, Requester, SignalMessage};

use super::*;

fn viewer() -> JoinedAs {
    JoinedAs::Viewer {
        caseworker: Caseworker {
            login: "marie".into(),
            who: Requester {
                name: Some("Marie Dupont".into()),
                site: "CHRS Les Lilas".into(),
            },
        },
        addr: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7)),
    }
}

/// Posts `from`'s letters to `to`, as the database would; returns what `to` was told.
fn deliver(from: &mut Routes, to: &mut Routes) -> Vec<Arrived> {
    let me = from.me().to_string();
    let mut letters = from.take_letters();
    letters.sort_by_key(|(_, seq, _)| *seq);
    let addressee = to.me().to_string();
    letters
        .into_iter()
        .filter(|(a, _, _)| *a == addressee)
        .filter_map(|(_, _, body)| to.arrived(&me, Mail::parse(&body).unwrap()))
        .collect()
}

#[test]
fn a_viewer_proxied_to_the_holder_joins_there_under_a_stand_in_and_hears_back() {
    let (mut b, mut a) = (Routes::new("b".into()), Routes::new("a".into()));
    let now = Instant::now();
    b.proxy(now, 7, "a", &viewer(), None);
    let redeem = SignalMessage::Redeem {
        code: "123456".into(),
        procedure: None,
    };
    b.said(7, &redeem);
    let told = deliver(&mut b, &mut a);
    let stand_in = match &told[..] {
        [
            Arrived::Joined {
                conn,
                as_: JoinedAs::Viewer { caseworker, addr },
                resume: None,
            },
            Arrived::Message(m, msg),
        ] => {
            assert_eq!(caseworker.login, "marie");
            assert_eq!(caseworker.who.name.as_deref(), Some("Marie Dupont"));
            assert_eq!(*addr, IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7)));
            assert_eq!((m, msg), (conn, &redeem));
            *conn
        }
        other => panic!("{other:?}"),
    };
    assert!((REMOTE_BASE..GHOST_BASE).contains(&stand_in));
    assert!(a.is_remote(stand_in));

    // The holder's hub opens the session and answers: TURN first, then `paired`.
    a.opened("s-1", 3, stand_in);
    a.deliver(stand_in, &SignalMessage::Paired { by: None });
    let told = deliver(&mut a, &mut b);
    assert!(matches!(
        &told[..],
        [Arrived::Opened { conn: 7, session, agent: false }, Arrived::Deliver(7, SignalMessage::Paired { by: None })]
            if session == "s-1"
    ));
    assert!(b.in_session(7), "a later redeem stays with the holder");

    // The session ends: the proxy lets its TURN go; the viewer goes back to a code-less
    // state and may redeem elsewhere.
    a.deliver(
        stand_in,
        &SignalMessage::Bye {
            reason: ByeReason::Ended,
        },
    );
    a.ended("s-1");
    let told = deliver(&mut a, &mut b);
    assert!(
        matches!(&told[..], [Arrived::Deliver(7, SignalMessage::Bye { .. }), Arrived::Ended(s)] if s == "s-1")
    );
    assert!(!b.in_session(7));

    // The viewer leaves: the holder's hub hears it under the stand-in, once.
    b.left(7);
    assert!(matches!(&deliver(&mut b, &mut a)[..], [Arrived::Left(c)] if *c == stand_in));
    assert!(!a.is_remote(stand_in));
    b.left(7);
    assert!(deliver(&mut b, &mut a).is_empty());
}

#[test]
fn letters_from_a_relay_that_does_not_hold_a_connection_are_ignored() {
    let (mut b, mut a, mut c) = (
        Routes::new("b".into()),
        Routes::new("a".into()),
        Routes::new("c".into()),
    );
    b.proxy(Instant::now(), 7, "a", &viewer(), None);
    b.take_letters();
    // Relay c claims to speak for b's connection 7: b does not listen.
    c.remote.insert(REMOTE_BASE, ("b".into(), 7));
    c.deliver(REMOTE_BASE, &SignalMessage::Paired { by: None });
    c.close(REMOTE_BASE);
    assert!(deliver(&mut c, &mut b).is_empty());
    assert_eq!(b.holder_of(7), Some("a"));
    // And a holder hears nothing from a connection that never joined it.
    let mut stranger = Routes::new("b".into());
    stranger.proxied.insert(
        9,
        Proxied {
            holder: "a".into(),
            heard_sent: Instant::now(),
            in_session: false,
        },
    );
    stranger.said(9, &SignalMessage::PeerAway);
    assert!(deliver(&mut stranger, &mut a).is_empty());
}

#[test]
fn liveness_is_passed_on_now_and_then_not_at_every_pong() {
    let (mut b, mut a) = (Routes::new("b".into()), Routes::new("a".into()));
    let t0 = Instant::now();
    b.proxy(t0, 7, "a", &viewer(), None);
    deliver(&mut b, &mut a);
    b.heard(t0 + Duration::from_secs(1), 7);
    assert!(deliver(&mut b, &mut a).is_empty());
    b.heard(t0 + HEARD_EVERY, 7);
    assert!(matches!(&deliver(&mut b, &mut a)[..], [Arrived::Heard(_)]));
}

#[test]
fn sides_on_a_relay_that_died_are_found_on_both_ends() {
    let (mut b, mut a) = (Routes::new("b".into()), Routes::new("a".into()));
    b.proxy(Instant::now(), 7, "a", &viewer(), Some("token".into()));
    assert!(b.in_session(7), "a side that resumes is in its session");
    let stand_in = match &deliver(&mut b, &mut a)[..] {
        [
            Arrived::Joined {
                conn,
                resume: Some(t),
                ..
            },
        ] if t == "token" => *conn,
        other => panic!("{other:?}"),
    };
    let only_b: HashSet<String> = ["b".to_string()].into();
    let only_a: HashSet<String> = ["a".to_string()].into();
    assert_eq!(
        b.proxied_to_gone(&only_b),
        vec![7],
        "a died: b drops its side"
    );
    assert!(b.proxied_to_gone(&only_a).is_empty());
    assert_eq!(
        a.remote_on_gone(&only_a),
        vec![stand_in],
        "b died: a's hub hears the side left"
    );
    a.remote_left(stand_in);
    assert!(!a.is_remote(stand_in));
}

#[test]
fn letters_are_numbered_in_order_and_a_bad_letter_is_refused() {
    let mut b = Routes::new("b".into());
    b.proxy(Instant::now(), 1, "a", &viewer(), None);
    b.said(1, &SignalMessage::PeerAway);
    b.left(1);
    let seqs: Vec<i64> = b.take_letters().iter().map(|(_, s, _)| *s).collect();
    assert_eq!(seqs, vec![1, 2, 3]);
    assert_eq!(Mail::parse("{\"type\":\"join\"}"), None);
    assert_eq!(Mail::parse("not json"), None);
}
