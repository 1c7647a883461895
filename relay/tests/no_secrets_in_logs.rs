//! Issue 7: every log line of a full session (sign-in, wrong password, wrong code,
//! redeem, consent, offer/answer, end), captured at trace level, holds neither the
//! session code, nor a password, nor the content relayed between the peers.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use acote_proto::{ByeReason, ConsentEvent, Role, SignalMessage};
use common::TestRelay;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn issue7_logs_of_a_full_session_hold_no_code_password_content_or_token() {
    let captured = Captured::default();
    let writer = captured.clone();
    // The relay's own filter, opened up as far as an admin could: everything at trace
    // (other spellings of it are in `log_cap.rs`).
    tracing_subscriber::registry()
        .with(acote_relay::log_filter(Some("TRACE"), "info"))
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(move || writer.clone()),
        )
        .init();

    let relay = TestRelay::start("secrets").await;
    let wrong_password = "not-the-password-41";
    assert_eq!(
        relay.sign_in(common::LOGIN, wrong_password).await.status,
        401
    );

    let mut agent = relay.connect().await;
    agent.hello(Role::Agent).await;
    let Some(SignalMessage::Code { code, .. }) = agent.recv().await else {
        panic!("no code")
    };
    // A wrong code as unlikely as the right one to look like anything else.
    let wrong: String = code
        .chars()
        .map(|c| char::from(b'0' + (c as u8 - b'0' + 5) % 10))
        .collect();
    let wrong_code = wrong.as_str();
    let mut viewer = relay.connect_viewer().await;
    viewer.hello(Role::Viewer).await;
    for typed in [wrong_code, code.as_str()] {
        viewer
            .send(&SignalMessage::Redeem {
                code: typed.into(),
                procedure: Some("CAF renewal".into()),
            })
            .await;
        let _ = viewer.recv().await;
    }
    let _ = agent.recv().await;
    let content = "TYPED-TEXT-Bonjour-Madame-secret";
    for event in [ConsentEvent::ViewAsked, ConsentEvent::ViewAllowed] {
        agent.send(&SignalMessage::Consent { event }).await;
    }
    // The yes makes the session resumable: each side gets its token.
    let mut tokens = Vec::new();
    for side in [&mut agent, &mut viewer] {
        match side.recv().await {
            Some(SignalMessage::ResumeToken { token }) => tokens.push(token),
            other => panic!("expected a resumption token, got {other:?}"),
        }
    }
    agent
        .send(&SignalMessage::Offer {
            sdp: format!("v=0 {content}"),
        })
        .await;
    let _ = viewer.recv().await;
    viewer
        .send(&SignalMessage::Answer {
            sdp: format!("v=0 {content}"),
        })
        .await;
    let _ = agent.recv().await;
    // The caseworker's page loses its socket and comes back with its token.
    drop(viewer);
    assert_eq!(agent.recv().await, Some(SignalMessage::PeerAway));
    let mut viewer = relay.connect_viewer().await;
    viewer
        .send_raw(&format!(
            r#"{{"type":"hello","v":1,"role":"viewer","resume":"{}"}}"#,
            tokens[1]
        ))
        .await;
    assert!(matches!(
        viewer.recv().await,
        Some(SignalMessage::Hello { .. })
    ));
    assert_eq!(
        viewer.recv().await,
        Some(SignalMessage::Resumed {
            by: None,
            peer_present: true
        })
    );
    match viewer.recv().await {
        Some(SignalMessage::ResumeToken { token }) => tokens.push(token),
        other => panic!("expected a fresh token, got {other:?}"),
    }
    assert_eq!(agent.recv().await, Some(SignalMessage::PeerBack));
    viewer
        .send(&SignalMessage::Bye {
            reason: ByeReason::Ended,
        })
        .await;
    let _ = agent.recv().await;
    let _ = agent.recv().await;

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("code redeemed"), "the logs were captured");
    let spaced = format!("{} {}", &code[..3], &code[3..]);
    for secret in [
        code.as_str(),
        spaced.as_str(),
        wrong_code,
        common::PASSWORD,
        wrong_password,
        content,
        relay.cookie.trim_start_matches("__Host-acote_session="),
        tokens[0].as_str(),
        tokens[1].as_str(),
        tokens[2].as_str(),
    ] {
        let leaks: Vec<&str> = logs.lines().filter(|l| holds(l, secret)).collect();
        assert!(
            leaks.is_empty(),
            "a log line holds a secret ({} chars):\n{}",
            secret.len(),
            leaks.join("\n")
        );
    }
}

/// Whether `line` holds `secret` as a token of its own: a six-digit code also occurs by
/// chance inside the long hex dumps of TLS traces, which reveal nothing.
fn holds(line: &str, secret: &str) -> bool {
    line.match_indices(secret).any(|(i, _)| {
        let before = line[..i].chars().next_back();
        let after = line[i + secret.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_alphanumeric())
            && !after.is_some_and(|c| c.is_ascii_alphanumeric())
    })
}
