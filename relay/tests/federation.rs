//! Issue 19: three relays, each its own process, sharing one real PostgreSQL (started by
//! the tests) and one certificate, as behind one name. A code minted on one relay is
//! redeemed by a caseworker connected to another; each side gets its own relay's TURN;
//! signaling crosses between the relays both ways. Then the relay holding the session is
//! killed with SIGKILL: both sides come back through the other relays and resume, and
//! one of them takes the session over. Then the relay of the caseworker is killed: the
//! resident's side hears the caseworker is away, and the caseworker resumes elsewhere.
//! The audit log, written by all of them, is one chain that verifies.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod common;

use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use acote_proto::{ByeReason, ConsentEvent, Role, SignalMessage};
use common::postgres::Postgres;
use common::process::{admin, serve};
use common::{Client, Endpoint, LOGIN, NAME, PASSWORD, SITE};

struct Relay {
    child: Child,
    ep: Endpoint,
}

impl Relay {
    fn kill(&mut self) {
        // SIGKILL: nothing is said to anyone, the database keeps its last heartbeat.
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn hello_resuming(role: Role, token: &str) -> SignalMessage {
    SignalMessage::Hello {
        v: acote_proto::PROTOCOL_VERSION,
        role: Some(role),
        lang: None,
        site: None,
        ice_servers: Vec::new(),
        resume: Some(token.to_string()),
        max_file_bytes: None,
    }
}

/// The host:port of the TURN server in an `ice_servers` message.
fn turn_of(ice: &Option<SignalMessage>) -> String {
    let Some(SignalMessage::IceServers { ice_servers, .. }) = ice else {
        panic!("no ice_servers: {ice:?}");
    };
    let url = ice_servers
        .iter()
        .flat_map(|s| s.urls.iter())
        .find(|u| u.starts_with("turn:"))
        .unwrap();
    url.trim_start_matches("turn:")
        .split('?')
        .next()
        .unwrap()
        .to_string()
}

/// The port of the relay's STUN (its TURN service) as told in `hello`.
fn stun_port(hello: &SignalMessage) -> String {
    let SignalMessage::Hello { ice_servers, .. } = hello else {
        panic!("{hello:?}");
    };
    let url = ice_servers[0].urls[0].clone();
    url.rsplit(':').next().unwrap().to_string()
}

/// Comes back with `token` through `ep` until the session is resumed (a side proxied to
/// a relay that just died waits for its relay to notice, then comes back again).
/// Returns the connection, whether the other side is there, and the fresh token.
async fn resume(
    ep: &Endpoint,
    cookie: Option<&str>,
    role: Role,
    token: &str,
) -> (Client, bool, String) {
    let deadline = Instant::now() + Duration::from_secs(50);
    loop {
        assert!(
            Instant::now() < deadline,
            "{role:?} could not resume within 50 s"
        );
        let Ok(mut side) = ep.connect_with(None, cookie).await else {
            tokio::time::sleep(Duration::from_millis(300)).await;
            continue;
        };
        side.send(&hello_resuming(role, token)).await;
        if !matches!(side.try_recv().await, Some(SignalMessage::Hello { .. })) {
            continue;
        }
        match side.try_recv().await {
            Some(SignalMessage::Resumed { peer_present, .. }) => {
                let Some(SignalMessage::ResumeToken { token }) = side.recv().await else {
                    panic!("no fresh token after resuming");
                };
                return (side, peer_present, token);
            }
            Some(SignalMessage::Bye { reason }) => panic!("{role:?} was refused: {reason:?}"),
            // Closed, or nothing yet: its relay was waiting for a relay that died.
            _ => tokio::time::sleep(Duration::from_millis(300)).await,
        }
    }
}

/// The next message within `secs`: `Ok(None)` when the relay closed the connection,
/// `Err(())` when nothing came in time.
async fn next(side: &mut Client, secs: u64) -> Result<Option<SignalMessage>, ()> {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let frame = tokio::time::timeout_at(deadline, side.ws.next())
            .await
            .map_err(|_| ())?;
        match frame {
            Some(Ok(Message::Text(t))) => match SignalMessage::parse(t.as_str()).unwrap() {
                m @ SignalMessage::IceServers { .. } => side.ice = Some(m),
                m => return Ok(Some(m)),
            },
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return Ok(None),
            Some(Ok(_)) => continue,
        }
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_relays_on_one_postgresql_pair_across_and_survive_a_relay_killed() {
    let url = Postgres::shared().database("relays").await;
    let base: PathBuf =
        std::env::temp_dir().join(format!("acote-federation-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let dirs: Vec<PathBuf> = ["a", "b", "c"].iter().map(|n| base.join(n)).collect();
    for d in &dirs {
        std::fs::create_dir_all(d).unwrap();
    }
    let config = base.join("relay.toml");
    std::fs::write(
        &config,
        format!("[turn]\nlisten = \"127.0.0.1:0\"\n[store]\nurl = \"{url}\"\n"),
    )
    .unwrap();
    // The first relay makes the certificate and the audit key; the others get copies,
    // as an admin gives every relay behind one name the same ones.
    let (child, ep) = serve(&dirs[0], &config);
    let mut a = Relay { child, ep };
    copy_dir(&dirs[0].join("tls"), &dirs[1].join("tls"));
    copy_dir(&dirs[0].join("tls"), &dirs[2].join("tls"));
    for d in &dirs[1..] {
        std::fs::copy(dirs[0].join("audit.key"), d.join("audit.key")).unwrap();
    }
    let (child, ep) = serve(&dirs[1], &config);
    let mut b = Relay { child, ep };
    let (child, ep) = serve(&dirs[2], &config);
    let c = Relay { child, ep };
    let (ok, out) = admin(
        &dirs[0],
        &config,
        &[
            "caseworker",
            "add",
            LOGIN,
            "--name",
            NAME,
            "--site",
            SITE,
            "--password-stdin",
        ],
        &format!("{PASSWORD}\n"),
    );
    assert!(ok, "{out}");
    // Signed in through relay b; the same cookie works on c (the web session is shared).
    let cookie = b.ep.sign_in(LOGIN, PASSWORD).await.cookie().unwrap();

    // 1. The resident's agent on relay a; the caseworker on relay b redeems its code.
    let mut agent = a.ep.connect_with(None, None).await.unwrap();
    let agent_hello = agent.hello(Role::Agent).await;
    let Some(SignalMessage::Code { code, .. }) = agent.recv().await else {
        panic!("no code");
    };
    let mut viewer = b.ep.connect_with(None, Some(&cookie)).await.unwrap();
    let viewer_hello = viewer.hello(Role::Viewer).await;
    viewer
        .send(&SignalMessage::Redeem {
            code: code.clone(),
            procedure: Some("CAF".into()),
        })
        .await;
    assert_eq!(
        viewer.recv().await,
        Some(SignalMessage::Paired { by: None })
    );
    match agent.recv().await {
        Some(SignalMessage::Paired { by: Some(by) }) => {
            assert_eq!((by.name.as_deref(), by.site.as_str()), (Some(NAME), SITE));
        }
        other => panic!("agent expected paired, got {other:?}"),
    }
    // Each side's TURN is its own relay's.
    let (agent_turn, viewer_turn) = (turn_of(&agent.ice), turn_of(&viewer.ice));
    assert!(
        agent_turn.ends_with(&format!(":{}", stun_port(&agent_hello))),
        "{agent_turn}"
    );
    assert!(
        viewer_turn.ends_with(&format!(":{}", stun_port(&viewer_hello))),
        "{viewer_turn}"
    );
    assert_ne!(agent_turn, viewer_turn);

    // 2. The resident says yes; signaling crosses between the relays both ways.
    agent
        .send(&SignalMessage::Consent {
            event: ConsentEvent::ViewAllowed,
        })
        .await;
    let Some(SignalMessage::ResumeToken { token: agent_token }) = agent.recv().await else {
        panic!("agent: no token");
    };
    let Some(SignalMessage::ResumeToken {
        token: viewer_token,
    }) = viewer.recv().await
    else {
        panic!("viewer: no token");
    };
    let offer = SignalMessage::Offer {
        sdp: format!("v=0 {}", "a".repeat(9000)),
    };
    agent.send(&offer).await;
    assert_eq!(
        viewer.recv().await,
        Some(offer),
        "an offer larger than NOTIFY's 8 kB crosses"
    );
    let answer = SignalMessage::Answer {
        sdp: "v=0 answer".into(),
    };
    viewer.send(&answer).await;
    assert_eq!(agent.recv().await, Some(answer));

    // 3. The relay holding the session dies. Both sides come back through the others.
    a.kill();
    assert_eq!(
        next(&mut agent, 5).await,
        Ok(None),
        "the agent's socket died with its relay"
    );
    let (mut agent, agent_peer, agent_token) = resume(&c.ep, None, Role::Agent, &agent_token).await;
    // The caseworker's relay drops the side it proxied to the dead relay.
    assert_eq!(
        next(&mut viewer, 20).await,
        Ok(None),
        "relay b let the caseworker's side go"
    );
    let (mut viewer, viewer_peer, viewer_token) =
        resume(&b.ep, Some(&cookie), Role::Viewer, &viewer_token).await;
    assert!(
        !agent_peer || viewer_peer,
        "whichever came second found the other"
    );
    if !agent_peer {
        assert_eq!(agent.recv().await, Some(SignalMessage::PeerBack));
    } else {
        assert_eq!(viewer.recv().await, Some(SignalMessage::PeerBack));
    }
    let offer = SignalMessage::Offer {
        sdp: "v=0 again".into(),
    };
    agent.send(&offer).await;
    assert_eq!(
        viewer.recv().await,
        Some(offer),
        "signaling goes on after the take-over"
    );

    // 4. The caseworker's relay dies: the resident's side hears they are away; they
    // come back through relay c.
    b.kill();
    assert_eq!(
        next(&mut agent, 20).await,
        Ok(Some(SignalMessage::PeerAway))
    );
    let (mut viewer, viewer_peer, _) =
        resume(&c.ep, Some(&cookie), Role::Viewer, &viewer_token).await;
    assert!(viewer_peer);
    assert_eq!(agent.recv().await, Some(SignalMessage::PeerBack));
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
        "a fresh code"
    );
    let _ = agent_token;

    // 5. One audit log for the three relays, one chain.
    let (ok, out) = admin(&dirs[2], &config, &["audit", "verify"], "");
    assert!(ok && out.contains("chain intact"), "{out}");
    let today = acote_relay::store::time::format_utc(acote_relay::store::time::unix_now());
    let day = &today[..10];
    let (ok, csv) = admin(
        &dirs[2],
        &config,
        &["audit", "export", "--from", day, "--to", day],
        "",
    );
    assert!(ok, "{csv}");
    let count = |event: &str| {
        csv.lines()
            .filter(|l| l.split(',').nth(2) == Some(event))
            .count()
    };
    assert_eq!(count("code_redeemed"), 1, "{csv}");
    assert!(
        count("resumed") >= 3,
        "both sides after the first death, the caseworker after the second: {csv}"
    );
    assert_eq!(count("session_ended"), 1, "{csv}");
    drop(c);
    let _ = std::fs::remove_dir_all(&base);
}
