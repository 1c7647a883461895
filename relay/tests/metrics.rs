//! The monitoring address (`[metrics] listen`): Prometheus metrics that move with a real
//! session over TLS and WSS, and readiness that says when the database takes no writes.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod common;

use std::net::SocketAddr;

use acote_proto::{ConsentEvent, ErrorCode, Role, SignalMessage};
use common::TestRelay;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const MONITORED: &str = "[metrics]\nlisten = \"127.0.0.1:0\"\n";

/// A plain HTTP GET on the monitoring address: (status, content type, body).
async fn get(addr: SocketAddr, path: &str) -> (u16, String, String) {
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: monitor\r\nConnection: close\r\n\r\n");
    tcp.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tcp.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8(out).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let kind = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-type: ")
                .map(str::to_string)
        })
        .unwrap_or_default();
    (status, kind, body.to_string())
}

/// The value of the sample written exactly `name` (with its labels), or `None`.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

async fn scrape(relay: &TestRelay) -> String {
    let (status, kind, body) = get(relay.metrics_addr.unwrap(), "/metrics").await;
    assert_eq!(status, 200);
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    body
}

fn err(msg: Option<SignalMessage>) -> ErrorCode {
    match msg {
        Some(SignalMessage::Error { code, .. }) => code,
        other => panic!("expected an error, got {other:?}"),
    }
}

#[tokio::test]
async fn metrics_move_with_a_real_session() {
    let relay = TestRelay::start_with("metrics-session", MONITORED).await;
    let before = scrape(&relay).await;
    // TestRelay signed its caseworker in once.
    assert_eq!(
        sample(&before, "acote_sign_ins_total{result=\"ok\"}"),
        Some(1.0)
    );
    assert_eq!(sample(&before, "acote_agents_connected"), Some(0.0));
    assert_eq!(
        sample(&before, "acote_code_redeems_total{result=\"ok\"}"),
        Some(0.0)
    );
    assert_eq!(
        sample(&before, "acote_time_to_pair_seconds_count"),
        Some(0.0)
    );
    assert!(sample(&before, "process_resident_memory_bytes").is_some_and(|b| b > 0.0));

    // A wrong password; then an agent, a wrong code, the right one, the resident's yes.
    assert_eq!(
        relay
            .sign_in(common::LOGIN, "not the password")
            .await
            .status,
        401
    );
    let mut agent = relay.connect().await;
    agent.hello(Role::Agent).await;
    let Some(SignalMessage::Code { code, .. }) = agent.recv().await else {
        panic!("no code");
    };
    let mut viewer = relay.connect_viewer().await;
    viewer.hello(Role::Viewer).await;
    let wrong = if code == "000000" { "000001" } else { "000000" };
    viewer
        .send(&SignalMessage::Redeem {
            code: wrong.into(),
            procedure: None,
        })
        .await;
    assert_eq!(err(viewer.recv().await), ErrorCode::InvalidCode);
    viewer
        .send(&SignalMessage::Redeem {
            code: code.clone(),
            procedure: None,
        })
        .await;
    assert_eq!(
        viewer.recv().await,
        Some(SignalMessage::Paired { by: None })
    );
    assert!(matches!(
        agent.recv().await,
        Some(SignalMessage::Paired { .. })
    ));
    let during = scrape(&relay).await;
    assert_eq!(
        sample(&during, "acote_sessions{step=\"asking\"}"),
        Some(1.0)
    );
    for event in [ConsentEvent::ViewAsked, ConsentEvent::ViewAllowed] {
        agent.send(&SignalMessage::Consent { event }).await;
    }
    for side in [&mut agent, &mut viewer] {
        assert!(matches!(
            side.recv().await,
            Some(SignalMessage::ResumeToken { .. })
        ));
    }

    let after = scrape(&relay).await;
    for (name, want) in [
        ("acote_sign_ins_total{result=\"failed\"}", 1.0),
        ("acote_agents_connected", 1.0),
        ("acote_sessions{step=\"asking\"}", 0.0),
        ("acote_sessions{step=\"seen\"}", 1.0),
        ("acote_code_redeems_total{result=\"ok\"}", 1.0),
        ("acote_code_redeems_total{result=\"wrong\"}", 1.0),
        (
            "acote_consent_answers_total{question=\"view\",answer=\"yes\"}",
            1.0,
        ),
        (
            "acote_consent_answers_total{question=\"view\",answer=\"no\"}",
            0.0,
        ),
        ("acote_time_to_pair_seconds_count", 1.0),
        ("acote_time_to_consent_answer_seconds_count", 1.0),
        ("acote_web_sessions", 1.0),
        ("acote_audit_write_errors_total", 0.0),
        ("acote_turn_allocations_open", 0.0),
    ] {
        assert_eq!(sample(&after, name), Some(want), "{name} in:\n{after}");
    }
    // Nothing that names anyone: no login, no code.
    assert!(!after.contains(common::LOGIN) && !after.contains(&code));

    // The session ends: its gauge goes back down, the end is counted.
    viewer
        .send(&SignalMessage::Bye {
            reason: acote_proto::ByeReason::Ended,
        })
        .await;
    let mut ended = scrape(&relay).await;
    for _ in 0..50 {
        if sample(&ended, "acote_sessions_ended_total") == Some(1.0) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        ended = scrape(&relay).await;
    }
    assert_eq!(sample(&ended, "acote_sessions_ended_total"), Some(1.0));
    assert_eq!(sample(&ended, "acote_sessions{step=\"seen\"}"), Some(0.0));
}

#[tokio::test]
async fn metrics_are_off_by_default_and_never_on_the_public_port() {
    let relay = TestRelay::start("metrics-off").await;
    assert_eq!(relay.metrics_addr, None);
    let page = relay.get("/metrics").await;
    assert!(!page.contains("acote_"), "{page}");
    // Health and readiness are on the public port too.
    assert!(relay.get("/healthz").await.starts_with("HTTP/1.1 200"));
    let ready = relay.get("/readyz").await;
    assert!(
        ready.starts_with("HTTP/1.1 200") && ready.ends_with("ready\n"),
        "{ready}"
    );
}

#[tokio::test]
async fn readyz_says_when_the_database_takes_no_writes() {
    let relay = TestRelay::start_with("metrics-ready", MONITORED).await;
    let addr = relay.metrics_addr.unwrap();
    assert_eq!(get(addr, "/readyz").await.0, 200);
    assert_eq!(
        get(addr, "/healthz").await,
        (200, "text/plain; charset=utf-8".into(), "ok".into())
    );

    // Another process holds the database's write lock (a stuck backup, a disk gone
    // read-only): not ready, and it says why; alive all the same.
    use sqlx::Connection;
    let db = relay.data_dir.join(acote_relay::store::DB_FILE);
    let mut other = sqlx::SqliteConnection::connect(&format!("sqlite:{}", db.display()))
        .await
        .unwrap();
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut other)
        .await
        .unwrap();
    let (status, _, body) = get(addr, "/readyz").await;
    assert_eq!((status, body.as_str()), (503, "database: not writable\n"));
    assert_eq!(get(addr, "/healthz").await.0, 200);
    sqlx::query("ROLLBACK").execute(&mut other).await.unwrap();
    assert_eq!(
        get(addr, "/readyz").await.0,
        200,
        "ready again once it is released"
    );
}
