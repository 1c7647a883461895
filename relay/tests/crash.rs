//! Issue 7: the relay process is killed with SIGKILL during a burst of sessions and
//! restarted; every record the relay acknowledged (`paired` means the session's
//! `session_created` and its `code_redeemed` are written) is in the log, the chain
//! verifies, and the relay serves again. Since issue 16 item 5 a code handed out no longer
//! means its `session_created` is written: past 30 a minute, agent connections are only
//! counted until a caseworker pairs one.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use acote_proto::{Role, SignalMessage};
use common::Endpoint;
use common::process::{admin, serve};

const PASSWORD: &str = "cheval agrafe batterie";

/// One client pair looping: agent hello → code (acked), viewer redeem → paired (acked).
async fn burst_loop(
    ep: Endpoint,
    cookie: String,
    created: Arc<AtomicUsize>,
    redeemed: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
) {
    while !stop.load(Ordering::Relaxed) {
        let Ok(mut agent) = ep.connect_with(None, None).await else {
            return;
        };
        agent
            .send(&SignalMessage::client_hello(Role::Agent, None))
            .await;
        let Some(SignalMessage::Hello { .. }) = agent.try_recv().await else {
            return;
        };
        let Some(SignalMessage::Code { code, .. }) = agent.try_recv().await else {
            return;
        };
        created.fetch_add(1, Ordering::SeqCst);
        let Ok(mut viewer) = ep.connect_with(None, Some(&cookie)).await else {
            return;
        };
        viewer
            .send(&SignalMessage::client_hello(Role::Viewer, None))
            .await;
        let Some(SignalMessage::Hello { .. }) = viewer.try_recv().await else {
            return;
        };
        viewer
            .send(&SignalMessage::Redeem {
                code,
                procedure: Some("crash test".into()),
            })
            .await;
        let Some(SignalMessage::Paired { .. }) = viewer.try_recv().await else {
            return;
        };
        redeemed.fetch_add(1, Ordering::SeqCst);
    }
}

fn count(csv: &str, event: &str) -> usize {
    csv.lines()
        .filter(|l| l.split(',').nth(2) == Some(event))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue7_sigkill_during_a_burst_loses_no_acknowledged_record() {
    let dir: PathBuf = std::env::temp_dir().join(format!("acote-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("relay.toml");
    std::fs::write(&config, "[turn]\nenabled = false\n").unwrap();
    let (ok, out) = admin(
        &dir,
        &config,
        &[
            "caseworker",
            "add",
            "marie",
            "--name",
            "Marie Dupont",
            "--site",
            "Lilas",
            "--password-stdin",
        ],
        &format!("{PASSWORD}\n"),
    );
    assert!(ok, "{out}");

    let (mut relay, ep) = serve(&dir, &config);
    let signed = ep.sign_in("marie", PASSWORD).await;
    assert_eq!(signed.status, 200, "{signed:?}");
    let cookie = signed.cookie().unwrap();
    let (created, redeemed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let stop = Arc::new(AtomicBool::new(false));
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            tokio::spawn(burst_loop(
                ep.clone(),
                cookie.clone(),
                created.clone(),
                redeemed.clone(),
                stop.clone(),
            ))
        })
        .collect();
    // Let the burst run until it has done real work, then kill the relay mid-flight.
    let deadline = Instant::now() + Duration::from_secs(30);
    while redeemed.load(Ordering::SeqCst) < 40 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    relay.kill().unwrap(); // SIGKILL on Unix
    relay.wait().unwrap();
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(20), t).await;
    }
    let acked_redeemed = redeemed.load(Ordering::SeqCst);
    assert!(created.load(Ordering::SeqCst) >= acked_redeemed);
    assert!(
        acked_redeemed >= 40,
        "the burst did too little: {acked_redeemed}"
    );

    // Restart on the same data: the database opens and the relay serves again.
    let (mut relay, ep) = serve(&dir, &config);
    assert_eq!(ep.sign_in("marie", PASSWORD).await.status, 200);
    relay.kill().unwrap();
    relay.wait().unwrap();

    let (ok, out) = admin(&dir, &config, &["audit", "verify"], "");
    assert!(ok, "audit verify failed after the crash: {out}");
    assert!(out.contains("chain intact"), "{out}");
    let (ok, csv) = admin(
        &dir,
        &config,
        &[
            "audit",
            "export",
            "--from",
            "2000-01-01",
            "--to",
            "2100-12-31",
        ],
        "",
    );
    assert!(ok, "{csv}");
    assert!(
        count(&csv, "session_created") >= acked_redeemed,
        "{} session_created in the log, {acked_redeemed} sessions paired",
        count(&csv, "session_created")
    );
    assert!(
        count(&csv, "code_redeemed") >= acked_redeemed,
        "{} code_redeemed in the log, {acked_redeemed} acknowledged",
        count(&csv, "code_redeemed")
    );
    let _ = std::fs::remove_dir_all(&dir);
}
