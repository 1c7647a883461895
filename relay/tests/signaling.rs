//! The relay over real TLS and WSS on 127.0.0.1:0: pairing, forwarding, bad input, and
//! graceful shutdown.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod common;

use acote_proto::{ByeReason, ConsentEvent, ErrorCode, Role, SignalMessage};
use common::{Client, TestRelay};

fn redeem(code: &str) -> SignalMessage {
    SignalMessage::Redeem {
        code: code.into(),
        procedure: None,
    }
}

fn error_code(msg: Option<SignalMessage>) -> ErrorCode {
    match msg {
        Some(SignalMessage::Error { code, .. }) => code,
        other => panic!("expected an error, got {other:?}"),
    }
}

async fn agent_with_code(relay: &TestRelay) -> (Client, String) {
    let mut agent = relay.connect().await;
    agent.hello(Role::Agent).await;
    match agent.recv().await {
        Some(SignalMessage::Code { code, expires_in }) => {
            assert_eq!(expires_in, 600);
            (agent, code)
        }
        other => panic!("expected a code, got {other:?}"),
    }
}

async fn paired(relay: &TestRelay) -> (Client, Client) {
    let (mut agent, code) = agent_with_code(relay).await;
    let mut viewer = relay.connect_viewer().await;
    viewer.hello(Role::Viewer).await;
    viewer.send(&redeem(&code)).await;
    assert_eq!(
        viewer.recv().await,
        Some(SignalMessage::Paired { by: None })
    );
    match agent.recv().await {
        Some(SignalMessage::Paired { by: Some(by) }) => {
            // Who the resident is told about comes from the account, not the viewer.
            assert_eq!(by.name.as_deref(), Some(common::NAME));
            assert_eq!(by.site, common::SITE);
        }
        other => panic!("agent expected paired, got {other:?}"),
    }
    (agent, viewer)
}

/// The agent reports the resident's yes; each side gets its resumption token. Only then
/// does the relay forward media signaling.
async fn view_allowed(agent: &mut Client, viewer: &mut Client) {
    agent
        .send(&SignalMessage::Consent {
            event: ConsentEvent::ViewAllowed,
        })
        .await;
    for side in [agent, viewer] {
        assert!(matches!(
            side.recv().await,
            Some(SignalMessage::ResumeToken { .. })
        ));
    }
}

#[tokio::test]
async fn viewer_page_is_served_with_strict_headers() {
    let relay = TestRelay::start("page").await;
    let page = relay.get("/").await;
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("content-security-policy: default-src 'self'"));
    assert!(page.contains("x-content-type-options: nosniff"));
    assert!(page.contains("/src/main.js"));
    assert!(relay.get("/src/main.js").await.contains("text/javascript"));
    assert!(
        relay
            .get("/../Cargo.toml")
            .await
            .starts_with("HTTP/1.1 404")
    );
    assert!(relay.get("/nothing-here").await.starts_with("HTTP/1.1 404"));
}

#[tokio::test]
async fn hello_gives_the_site_and_the_relays_stun() {
    let relay = TestRelay::start("hello").await;
    let mut viewer = relay.connect_viewer().await;
    match viewer.hello(Role::Viewer).await {
        SignalMessage::Hello {
            v,
            site,
            ice_servers,
            ..
        } => {
            assert_eq!(v, 1);
            assert_eq!(site.as_deref(), Some("Test site"));
            assert_eq!(ice_servers.len(), 1);
            assert!(
                ice_servers[0].urls[0].starts_with("stun:localhost:"),
                "{ice_servers:?}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_session_is_paired_and_signaling_is_forwarded_both_ways() {
    let relay = TestRelay::start("pair").await;
    let (mut agent, mut viewer) = paired(&relay).await;
    view_allowed(&mut agent, &mut viewer).await;
    agent
        .send(&SignalMessage::Offer {
            sdp: "v=0 offer".into(),
        })
        .await;
    assert_eq!(
        viewer.recv().await,
        Some(SignalMessage::Offer {
            sdp: "v=0 offer".into()
        })
    );
    viewer
        .send(&SignalMessage::Answer {
            sdp: "v=0 answer".into(),
        })
        .await;
    assert_eq!(
        agent.recv().await,
        Some(SignalMessage::Answer {
            sdp: "v=0 answer".into()
        })
    );
    let cand = SignalMessage::Candidate {
        candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host".into(),
        sdp_mid: Some("0".into()),
        sdp_mline_index: Some(0),
        username_fragment: None,
    };
    viewer.send(&cand).await;
    assert_eq!(agent.recv().await, Some(cand));
    viewer
        .send(&SignalMessage::Bye {
            reason: ByeReason::Ended,
        })
        .await;
    assert_eq!(
        agent.recv().await,
        Some(SignalMessage::Bye {
            reason: ByeReason::Ended
        })
    );
    assert!(
        matches!(agent.recv().await, Some(SignalMessage::Code { .. })),
        "a fresh code follows"
    );
}

#[tokio::test]
async fn bad_frames_get_clear_errors_and_leave_other_sessions_untouched() {
    let relay = TestRelay::start("bad").await;
    let (mut agent, mut viewer) = paired(&relay).await;
    view_allowed(&mut agent, &mut viewer).await;
    let mut noisy = relay.connect_viewer().await;
    noisy.hello(Role::Viewer).await;
    noisy.send_raw("{not json").await;
    assert_eq!(error_code(noisy.recv().await), ErrorCode::Malformed);
    noisy.send_raw(r#"{"type":"teleport"}"#).await;
    assert_eq!(error_code(noisy.recv().await), ErrorCode::UnknownType);
    noisy
        .send_raw(&format!(
            r#"{{"type":"offer","sdp":"{}"}}"#,
            "a".repeat(70 * 1024)
        ))
        .await;
    assert_eq!(error_code(noisy.recv().await), ErrorCode::TooLarge);
    noisy.send(&redeem("000000")).await;
    assert_eq!(error_code(noisy.recv().await), ErrorCode::InvalidCode);
    // The wrong code is counted on the account, for `caseworker list`.
    let account = relay.store.account(common::LOGIN).await.unwrap().unwrap();
    assert_eq!(account.wrong_codes, 1);
    noisy
        .send(&SignalMessage::Answer { sdp: "v=0".into() })
        .await;
    assert_eq!(error_code(noisy.recv().await), ErrorCode::Unexpected);
    noisy.send_binary(&[1, 2, 3]).await;
    assert_eq!(error_code(noisy.recv().await), ErrorCode::Malformed);
    // The paired session still works.
    agent
        .send(&SignalMessage::Offer { sdp: "v=0".into() })
        .await;
    assert_eq!(
        viewer.recv().await,
        Some(SignalMessage::Offer { sdp: "v=0".into() })
    );
    let stats = relay.hub.stats().await.unwrap();
    assert_eq!(stats.stats.bad_messages, 4);
    assert_eq!(stats.stats.invalid_codes, 1);
    assert_eq!(stats.sessions, 1);
}

#[tokio::test]
async fn another_major_version_or_no_hello_is_refused_and_closed() {
    let relay = TestRelay::start("version").await;
    let mut c = relay.connect().await;
    c.send_raw(r#"{"type":"hello","v":2,"role":"agent"}"#).await;
    assert_eq!(error_code(c.recv().await), ErrorCode::UnsupportedVersion);
    assert_eq!(c.recv().await, None, "closed after the refusal");
    let mut c = relay.connect().await;
    c.send(&redeem("123456")).await;
    assert_eq!(error_code(c.recv().await), ErrorCode::Unexpected);
    assert_eq!(c.recv().await, None);
}

#[tokio::test]
async fn an_agent_vanishing_mid_offer_ends_the_session_for_the_viewer() {
    let relay = TestRelay::start("vanish").await;
    let (mut agent, mut viewer) = paired(&relay).await;
    // Before the resident's yes an offer goes nowhere.
    agent
        .send(&SignalMessage::Offer { sdp: "v=0".into() })
        .await;
    assert_eq!(error_code(agent.recv().await), ErrorCode::Unexpected);
    drop(agent);
    assert_eq!(
        viewer.recv().await,
        Some(SignalMessage::Bye {
            reason: ByeReason::PeerGone
        })
    );
}

#[tokio::test]
async fn a_used_code_cannot_be_redeemed_twice() {
    let relay = TestRelay::start("once").await;
    let (mut agent, code) = agent_with_code(&relay).await;
    let mut first = relay.connect_viewer().await;
    first.hello(Role::Viewer).await;
    first.send(&redeem(&code)).await;
    assert_eq!(first.recv().await, Some(SignalMessage::Paired { by: None }));
    let _ = agent.recv().await;
    let mut second = relay.connect_viewer().await;
    second.hello(Role::Viewer).await;
    second.send(&redeem(&code)).await;
    assert_eq!(error_code(second.recv().await), ErrorCode::InvalidCode);
}

#[tokio::test]
async fn a_page_from_another_origin_cannot_open_signaling() {
    let relay = TestRelay::start("origin").await;
    let refused = relay
        .connect_with_origin(Some("https://evil.example"))
        .await;
    assert!(refused.is_err(), "cross-origin WebSocket must be refused");
    let own = format!("https://localhost:{}", relay.addr.port());
    assert!(relay.connect_with_origin(Some(&own)).await.is_ok());
}

#[tokio::test]
async fn shutdown_tells_connected_peers_and_stops_serving() {
    let mut relay = TestRelay::start("shutdown").await;
    let (mut agent, _code) = agent_with_code(&relay).await;
    relay.shutdown();
    assert_eq!(error_code(agent.recv().await), ErrorCode::Unavailable);
    assert_eq!(agent.recv().await, None);
    let served = tokio::time::timeout(std::time::Duration::from_secs(10), &mut relay.served).await;
    assert!(
        matches!(served, Ok(Ok(Ok(())))),
        "serve() returns cleanly: {served:?}"
    );
}

#[tokio::test]
async fn issue7_a_viewer_without_a_signed_in_caseworker_cannot_redeem() {
    let relay = TestRelay::start("unauth").await;
    let (mut agent, code) = agent_with_code(&relay).await;
    // No cookie: hello as a viewer is refused and the socket closed.
    let mut anon = relay.connect().await;
    anon.send(&SignalMessage::client_hello(Role::Viewer, None))
        .await;
    assert_eq!(error_code(anon.recv().await), ErrorCode::SignInRequired);
    assert_eq!(anon.recv().await, None);
    // A forged cookie is no better.
    let forged = format!("__Host-acote_session={}", "ab".repeat(32));
    let mut forger = relay.connect_with(None, Some(&forged)).await.unwrap();
    forger
        .send(&SignalMessage::client_hello(Role::Viewer, None))
        .await;
    assert_eq!(error_code(forger.recv().await), ErrorCode::SignInRequired);
    // Without a session, even the right code reaches nobody: the agent heard nothing.
    let mut anon = relay.connect().await;
    anon.send(&redeem(&code)).await;
    assert_eq!(error_code(anon.recv().await), ErrorCode::Unexpected);
    let stats = relay.hub.stats().await.unwrap();
    assert_eq!(stats.sessions, 0);
    // The signed-in caseworker pairs, and the agent is told their name and site.
    let mut viewer = relay.connect_viewer().await;
    viewer.hello(Role::Viewer).await;
    viewer.send(&redeem(&code)).await;
    assert_eq!(
        viewer.recv().await,
        Some(SignalMessage::Paired { by: None })
    );
    match agent.recv().await {
        Some(SignalMessage::Paired { by: Some(by) }) => {
            assert_eq!(by.name.as_deref(), Some(common::NAME));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn issue7_a_session_is_audited_end_to_end() {
    let relay = TestRelay::start("audited").await;
    let (mut agent, code) = agent_with_code(&relay).await;
    let mut viewer = relay.connect_viewer().await;
    viewer.hello(Role::Viewer).await;
    viewer
        .send(&SignalMessage::Redeem {
            code: code.clone(),
            procedure: Some("CAF renewal".into()),
        })
        .await;
    assert_eq!(
        viewer.recv().await,
        Some(SignalMessage::Paired { by: None })
    );
    let _ = agent.recv().await;
    for event in [ConsentEvent::ViewAsked, ConsentEvent::ViewRefused] {
        agent.send(&SignalMessage::Consent { event }).await;
    }
    agent
        .send(&SignalMessage::Bye {
            reason: ByeReason::Refused,
        })
        .await;
    assert_eq!(
        viewer.recv().await,
        Some(SignalMessage::Bye {
            reason: ByeReason::Refused
        }),
        "consent messages are not forwarded: the bye is the next thing the viewer hears"
    );
    assert!(matches!(
        agent.recv().await,
        Some(SignalMessage::Code { .. })
    ));
    let entries = relay.store.entries().await.unwrap();
    let events: Vec<&str> = entries.iter().map(|e| e.record.event.as_str()).collect();
    for wanted in [
        "login_ok",
        "session_created",
        "code_redeemed",
        "view_asked",
        "view_refused",
        "session_ended",
    ] {
        assert!(events.contains(&wanted), "{wanted} missing from {events:?}");
    }
    let redeemed = entries
        .iter()
        .find(|e| e.record.event == "code_redeemed")
        .unwrap();
    assert_eq!(redeemed.record.actor, common::LOGIN);
    assert_eq!(redeemed.record.detail, "procedure=CAF renewal");
    let all = format!("{entries:?}");
    assert!(
        !all.contains(&code),
        "the code must never be in the audit log"
    );
    assert!(!all.contains(common::PASSWORD));
    assert!(relay.store.verify().await.unwrap().problems.is_empty());
}

/// Makes the audit table refuse new rows, as on a full disk, while everything else in
/// the database still reads and writes (sign-ins, resumptions).
async fn audit_table_full(relay: &TestRelay) {
    let url = format!(
        "sqlite://{}",
        relay.data_dir.join(acote_relay::store::DB_FILE).display()
    );
    let mut side = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    sqlx::query(
        "CREATE TRIGGER full_disk BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'disk full'); END",
    )
    .execute(&mut side)
    .await
    .unwrap();
}

#[tokio::test]
async fn issue22_an_unrecorded_pairing_opens_no_turn_session_and_tells_both_sides() {
    let relay = TestRelay::start("auditdown-turn").await;
    let (mut agent, code) = agent_with_code(&relay).await;
    let mut viewer = relay.connect_viewer().await;
    viewer.hello(Role::Viewer).await;
    // Between the code and its redemption `code_redeemed` becomes unwritable.
    audit_table_full(&relay).await;
    viewer.send(&redeem(&code)).await;
    assert_eq!(error_code(viewer.recv().await), ErrorCode::AuditDown);
    assert_eq!(error_code(agent.recv().await), ErrorCode::AuditDown);
    let turn = relay.turn.as_ref().expect("the test relay runs TURN");
    assert_eq!(
        turn.registry().sessions(),
        0,
        "TURN must not relay for a session the audit log does not know"
    );
}

#[tokio::test]
async fn issue22_an_unrecorded_yes_saves_no_resumption() {
    let relay = TestRelay::start("auditdown-resume").await;
    let (mut agent, mut viewer) = paired(&relay).await;
    audit_table_full(&relay).await;
    agent
        .send(&SignalMessage::Consent {
            event: ConsentEvent::ViewAllowed,
        })
        .await;
    assert_eq!(error_code(agent.recv().await), ErrorCode::AuditDown);
    assert_eq!(error_code(viewer.recv().await), ErrorCode::AuditDown);
    // Whatever the hub does next, no token of an unrecorded session was ever kept for
    // a relay restart to honour.
    let kept = relay.store.take_resumables().await.unwrap();
    assert!(kept.is_empty(), "{kept:?}");
}

#[tokio::test]
async fn issue7_no_session_starts_when_the_audit_log_cannot_be_written() {
    let relay = TestRelay::start("auditdown").await;
    // Every write now fails, as on a full disk.
    relay.store.close().await;
    let mut agent = relay.connect().await;
    agent.hello(Role::Agent).await;
    match agent.recv().await {
        Some(SignalMessage::Error { code, message, .. }) => {
            assert_eq!(code, ErrorCode::AuditDown);
            assert!(message.contains("audit log"), "{message}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(agent.recv().await, None, "closed: no code was handed out");
    assert_eq!(relay.hub.stats().await.unwrap().agents, 0);
}

#[tokio::test]
async fn a_flood_of_connections_from_one_address_leaves_room_for_others() {
    let relay = TestRelay::start_with("connflood", "[limits]\nconnections_per_address = 3\n").await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(relay.connect_from("127.0.0.1").await.unwrap());
    }
    assert!(
        relay.connect_from("127.0.0.1").await.is_err(),
        "a fourth connection from the same address is refused"
    );
    // Another address still gets in and is served.
    let mut other = relay.connect_from("127.0.0.2").await.unwrap();
    other.hello(Role::Agent).await;
    assert!(matches!(
        other.recv().await,
        Some(SignalMessage::Code { .. })
    ));
    // A closed connection gives its place back.
    let closing = held.pop().unwrap();
    drop(closing);
    let mut again = None;
    for _ in 0..50 {
        if let Ok(c) = relay.connect_from("127.0.0.1").await {
            again = Some(c);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(again.is_some(), "the freed place is usable again");
}

#[tokio::test]
async fn a_socket_flooding_messages_is_refused_then_closed_and_others_are_served() {
    let relay = TestRelay::start_with("msgflood", "[limits]\nmessages_per_second = 5\n").await;
    let (_agent, code) = agent_with_code(&relay).await;
    let mut noisy = relay.connect().await;
    noisy.hello(Role::Agent).await;
    assert!(matches!(
        noisy.recv().await,
        Some(SignalMessage::Code { .. })
    ));
    for _ in 0..200 {
        noisy.send_raw(r#"{"type":"bye","reason":"ended"}"#).await;
    }
    let mut told = false;
    loop {
        match noisy.recv().await {
            Some(SignalMessage::Error {
                code: ErrorCode::RateLimited,
                ..
            }) => told = true,
            Some(_) => {}
            None => break,
        }
    }
    assert!(
        told,
        "the flooding socket is told to slow down before it is closed"
    );
    // The well-behaved agent's code still pairs.
    let mut viewer = relay.connect_viewer().await;
    viewer.hello(Role::Viewer).await;
    viewer.send(&redeem(&code)).await;
    assert_eq!(
        viewer.recv().await,
        Some(SignalMessage::Paired { by: None })
    );
}

/// After signing out, a redeem on a socket opened before must not pair: the socket is
/// refused and closed, and the code stays for someone signed in.
#[tokio::test]
async fn issue16_a_signed_out_caseworker_cannot_redeem_on_an_open_socket() {
    let relay = TestRelay::start("signed-out").await;
    let (mut agent, code) = agent_with_code(&relay).await;
    let signed = relay.sign_in(common::LOGIN, common::PASSWORD).await;
    let cookie = signed.cookie().unwrap();
    let csrf = signed.json()["csrf"].as_str().unwrap().to_string();
    let mut viewer = relay.connect_with(None, Some(&cookie)).await.unwrap();
    viewer.hello(Role::Viewer).await;
    let out = relay
        .request(
            "POST",
            "/api/logout",
            &[
                ("cookie", &cookie),
                ("x-csrf-token", &csrf),
                ("content-type", "application/json"),
            ],
            "{}",
        )
        .await;
    assert_eq!(out.status, 204, "{out:?}");
    viewer.send(&redeem(&code)).await;
    let reply = viewer.recv().await;
    assert_ne!(reply, Some(SignalMessage::Paired { by: None }));
    if reply.is_some() {
        assert_eq!(error_code(reply), ErrorCode::SignInRequired);
        assert_eq!(viewer.recv().await, None, "the socket is closed");
    }
    // The code was not consumed: a signed-in caseworker still pairs with it.
    let mut other = relay.connect_viewer().await;
    other.hello(Role::Viewer).await;
    other.send(&redeem(&code)).await;
    assert_eq!(other.recv().await, Some(SignalMessage::Paired { by: None }));
    assert!(matches!(
        agent.recv().await,
        Some(SignalMessage::Paired { .. })
    ));
}

/// An account the admin disabled (in the database, as `caseworker disable` does from
/// another process) cannot redeem on a socket opened while it was enabled.
#[tokio::test]
async fn issue16_a_disabled_caseworker_cannot_redeem_on_an_open_socket() {
    let relay = TestRelay::start("disabled-open").await;
    let (_agent, code) = agent_with_code(&relay).await;
    let mut viewer = relay.connect_viewer().await;
    viewer.hello(Role::Viewer).await;
    relay.store.set_disabled(common::LOGIN, true).await.unwrap();
    viewer.send(&redeem(&code)).await;
    let reply = viewer.recv().await;
    assert_ne!(reply, Some(SignalMessage::Paired { by: None }));
    if reply.is_some() {
        assert_eq!(error_code(reply), ErrorCode::SignInRequired);
    }
    let stats = relay.hub.stats().await.unwrap();
    assert_eq!(stats.sessions, 0);
}
