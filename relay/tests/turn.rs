//! The embedded TURN service with a real TURN client (webrtc-rs `turn`) over UDP on
//! loopback: per-session credentials from signaling, relaying between the two sides of a
//! session, the peer rule, revocation at the end of the session, quotas and bad input.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use acote_proto::{ByeReason, IceServer, Role, SignalMessage};
use common::{Client, TestRelay};
use tokio::net::UdpSocket;
use turn::client::{Client as TurnClient, ClientConfig};
use webrtc_util::Conn;

/// Pairs an agent and a viewer; returns both sockets and their TURN servers.
async fn session(relay: &TestRelay) -> (Client, Client, IceServer, IceServer) {
    let mut agent = relay.connect().await;
    agent.hello(Role::Agent).await;
    let Some(SignalMessage::Code { code, .. }) = agent.recv().await else {
        panic!("no code");
    };
    let mut viewer = relay.connect_viewer().await;
    viewer.hello(Role::Viewer).await;
    viewer
        .send(&SignalMessage::Redeem {
            code,
            procedure: None,
        })
        .await;
    assert!(matches!(
        viewer.recv().await,
        Some(SignalMessage::Paired { .. })
    ));
    assert!(matches!(
        agent.recv().await,
        Some(SignalMessage::Paired { .. })
    ));
    // `ice_servers` comes just before `paired`, so it is here already.
    let turn_of = |c: &Client| match &c.ice {
        Some(SignalMessage::IceServers { ice_servers, .. }) => ice_servers
            .iter()
            .find(|s| s.urls.iter().any(|u| u.starts_with("turn:")))
            .cloned()
            .expect("a TURN server"),
        other => panic!("expected ice_servers, got {other:?}"),
    };
    // No offer or answer here: the relay forwards them only after the resident's yes,
    // and these tests are about TURN before and without it.
    let (a, v) = (turn_of(&agent), turn_of(&viewer));
    (agent, viewer, a, v)
}

fn turn_addr(relay: &TestRelay) -> SocketAddr {
    relay.turn.as_ref().unwrap().udp_addr
}

async fn client(relay: &TestRelay, user: &str, password: &str) -> TurnClient {
    let conn = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
    let addr = turn_addr(relay).to_string();
    let c = TurnClient::new(ClientConfig {
        stun_serv_addr: addr.clone(),
        turn_serv_addr: addr,
        username: user.into(),
        password: password.into(),
        realm: "acote".into(),
        software: String::new(),
        rto_in_ms: 200,
        conn,
        vnet: None,
    })
    .await
    .unwrap();
    c.listen().await.unwrap();
    c
}

async fn client_for(relay: &TestRelay, s: &IceServer) -> TurnClient {
    client(
        relay,
        s.username.as_deref().unwrap(),
        s.credential.as_deref().unwrap(),
    )
    .await
}

async fn recv_within(conn: &impl Conn, ms: u64) -> Option<(Vec<u8>, SocketAddr)> {
    let mut buf = vec![0u8; 1500];
    match tokio::time::timeout(Duration::from_millis(ms), conn.recv_from(&mut buf)).await {
        Ok(Ok((n, from))) => Some((buf[..n].to_vec(), from)),
        _ => None,
    }
}

#[tokio::test]
async fn each_side_gets_its_own_credentials_with_the_turn_urls() {
    let relay = TestRelay::start("turn-creds").await;
    let (_agent, _viewer, a, v) = session(&relay).await;
    let port = turn_addr(&relay).port();
    assert!(
        a.urls
            .contains(&format!("turn:localhost:{port}?transport=udp")),
        "{a:?}"
    );
    assert!(
        a.urls
            .contains(&format!("turn:localhost:{port}?transport=tcp")),
        "{a:?}"
    );
    assert!(a.username.as_deref().unwrap().ends_with(":a"));
    assert!(v.username.as_deref().unwrap().ends_with(":v"));
    assert_ne!(a.credential, v.credential);
}

#[tokio::test]
async fn media_is_relayed_between_the_two_sides_and_stops_when_the_session_ends() {
    let relay = TestRelay::start("turn-relay").await;
    let (mut agent, _viewer, a, v) = session(&relay).await;
    let ca = client_for(&relay, &a).await;
    let cv = client_for(&relay, &v).await;
    let ra = ca.allocate().await.unwrap();
    let rv = cv.allocate().await.unwrap();
    let (addr_a, addr_v) = (ra.local_addr().unwrap(), rv.local_addr().unwrap());
    // Each side permits the other (the first packet of each creates the permission).
    rv.send_to(b"open", addr_a).await.unwrap();
    ra.send_to(b"hello viewer", addr_v).await.unwrap();
    let (got, from) = recv_within(&rv, 3000).await.expect("relayed to the viewer");
    assert_eq!(got, b"hello viewer");
    assert_eq!(from, addr_a);
    rv.send_to(b"hello agent", addr_a).await.unwrap();
    // The first "open" may arrive too, depending on when the agent's permission landed.
    let mut got = recv_within(&ra, 3000).await.unwrap().0;
    if got == b"open" {
        got = recv_within(&ra, 3000).await.unwrap().0;
    }
    assert_eq!(got, b"hello agent");
    let stats = &relay.turn.as_ref().unwrap().registry().stats;
    assert_eq!(stats.allocations_active.load(Ordering::Relaxed), 2);
    assert!(stats.bytes_to_peers.load(Ordering::Relaxed) >= 23);

    // The resident ends the session: the same credentials no longer allocate, and what
    // was relayed stops.
    agent
        .send(&SignalMessage::Bye {
            reason: ByeReason::Ended,
        })
        .await;
    let again = client_for(&relay, &a).await;
    assert!(
        again.allocate().await.is_err(),
        "revoked credentials refused"
    );
    let _ = ra.send_to(b"after the end", addr_v).await;
    assert_eq!(
        recv_within(&rv, 700).await,
        None,
        "nothing relayed after the end"
    );
    assert!(stats.auth_failures.load(Ordering::Relaxed) >= 1);
    for _ in 0..50 {
        if stats.allocations_active.load(Ordering::Relaxed) == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        stats.allocations_active.load(Ordering::Relaxed),
        0,
        "allocations deleted"
    );
}

#[tokio::test]
async fn valid_credentials_cannot_reach_loopback_or_private_addresses_by_default() {
    let relay = TestRelay::start("turn-policy").await;
    let (_agent, _viewer, a, _v) = session(&relay).await;
    // Something listening on the relay's own machine, as an internal service would.
    let internal = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let ca = client_for(&relay, &a).await;
    let ra = ca.allocate().await.unwrap();
    for target in [
        internal.local_addr().unwrap(),
        "10.1.2.3:53".parse().unwrap(),
        "169.254.169.254:80".parse().unwrap(),
        "[::ffff:127.0.0.1]:22".parse().unwrap(),
    ] {
        assert!(ra.send_to(b"knock", target).await.is_err(), "{target}");
    }
    let mut buf = [0u8; 64];
    let reached =
        tokio::time::timeout(Duration::from_millis(500), internal.recv_from(&mut buf)).await;
    assert!(reached.is_err(), "the internal service received nothing");
    let stats = &relay.turn.as_ref().unwrap().registry().stats;
    assert!(stats.peers_refused.load(Ordering::Relaxed) >= 3);
}

#[tokio::test]
async fn the_admin_can_allow_a_range_in_the_dangerous_section() {
    let relay = TestRelay::start_with(
        "turn-allow",
        "[dangerous]\nturn_allow_peers = [\"127.0.0.0/8\"]\n",
    )
    .await;
    let (_agent, _viewer, a, _v) = session(&relay).await;
    let internal = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let ra = client_for(&relay, &a).await.allocate().await.unwrap();
    ra.send_to(b"allowed", internal.local_addr().unwrap())
        .await
        .unwrap();
    let mut buf = [0u8; 64];
    let (n, _) = tokio::time::timeout(Duration::from_secs(3), internal.recv_from(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&buf[..n], b"allowed");
}

#[tokio::test]
async fn wrong_or_forged_credentials_and_garbage_are_refused_and_others_go_on() {
    let relay = TestRelay::start("turn-bad").await;
    let (_agent, _viewer, a, _v) = session(&relay).await;
    let user = a.username.clone().unwrap();
    assert!(
        client(&relay, &user, "wrong")
            .await
            .allocate()
            .await
            .is_err()
    );
    let forged = format!("{}:{}", u64::MAX / 2, user.split_once(':').unwrap().1);
    let password = a.credential.clone().unwrap();
    assert!(
        client(&relay, &forged, &password)
            .await
            .allocate()
            .await
            .is_err()
    );
    assert!(
        client(&relay, "someone", "secret")
            .await
            .allocate()
            .await
            .is_err()
    );
    // Garbage gets no answer at all.
    let junk = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    for bytes in [
        &b"\x00\x01\x00\x00nonsense"[..],
        &[0xffu8; 300][..],
        &[0x40, 1, 9, 9][..],
    ] {
        junk.send_to(bytes, turn_addr(&relay)).await.unwrap();
    }
    let mut buf = [0u8; 1500];
    assert!(
        tokio::time::timeout(Duration::from_millis(300), junk.recv_from(&mut buf))
            .await
            .is_err()
    );
    let stats = &relay.turn.as_ref().unwrap().registry().stats;
    assert!(stats.malformed.load(Ordering::Relaxed) >= 2);
    assert!(stats.auth_failures.load(Ordering::Relaxed) >= 2);
    // The session's real credentials still work.
    assert!(client_for(&relay, &a).await.allocate().await.is_ok());
}

#[tokio::test]
async fn one_session_cannot_take_more_than_its_allocations() {
    let relay = TestRelay::start_with("turn-quota", "allocations_per_session = 2\n").await;
    let (_agent, _viewer, a, v) = session(&relay).await;
    let mut held = Vec::new();
    for _ in 0..2 {
        let c = client_for(&relay, &a).await;
        held.push((c.allocate().await.unwrap(), c));
    }
    let third = client_for(&relay, &v).await;
    assert!(third.allocate().await.is_err(), "over the session's quota");
    let stats = &relay.turn.as_ref().unwrap().registry().stats;
    assert!(stats.quota_refused.load(Ordering::Relaxed) >= 1);
    // Another session is not affected.
    let (_a2, _v2, other, _) = session(&relay).await;
    assert!(client_for(&relay, &other).await.allocate().await.is_ok());
}

mod raw {
    //! Hand-built STUN requests, for what a TURN client library would never send.
    use super::*;
    use turn::proto::PROTO_UDP;
    use turn::proto::reqtrans::RequestedTransport;
    use webrtc_stun::agent::TransactionId;
    use webrtc_stun::attributes::{ATTR_NONCE, ATTR_REALM, ATTR_USERNAME};
    use webrtc_stun::error_code::ErrorCodeAttribute;
    use webrtc_stun::fingerprint::FINGERPRINT;
    use webrtc_stun::integrity::MessageIntegrity;
    use webrtc_stun::message::{
        CLASS_ERROR_RESPONSE, CLASS_REQUEST, CLASS_SUCCESS_RESPONSE, Getter, METHOD_ALLOCATE,
        Message, MessageType, Setter,
    };
    use webrtc_stun::textattrs::TextAttribute;

    pub(super) fn allocate(auth: Option<(&str, &str, &str)>) -> Vec<u8> {
        let mut setters: Vec<Box<dyn Setter>> = vec![
            Box::new(TransactionId::new()),
            Box::new(MessageType::new(METHOD_ALLOCATE, CLASS_REQUEST)),
            Box::new(RequestedTransport {
                protocol: PROTO_UDP,
            }),
        ];
        if let Some((user, password, nonce)) = auth {
            setters.push(Box::new(TextAttribute::new(ATTR_USERNAME, user.into())));
            setters.push(Box::new(TextAttribute::new(ATTR_REALM, "acote".into())));
            setters.push(Box::new(TextAttribute::new(ATTR_NONCE, nonce.into())));
            setters.push(Box::new(MessageIntegrity::new_long_term_integrity(
                user.into(),
                "acote".into(),
                password.into(),
            )));
            setters.push(Box::new(FINGERPRINT));
        }
        let mut m = Message::new();
        m.build(&setters).unwrap();
        m.raw
    }

    /// Sends `req` and returns (error code or 0 for success, nonce if any).
    pub(super) async fn exchange(
        sock: &UdpSocket,
        to: SocketAddr,
        req: &[u8],
    ) -> (u16, Option<String>) {
        sock.send_to(req, to).await.unwrap();
        let mut buf = [0u8; 1500];
        let (n, _) = tokio::time::timeout(Duration::from_secs(3), sock.recv_from(&mut buf))
            .await
            .expect("an answer")
            .unwrap();
        let mut m = Message::new();
        m.unmarshal_binary(&buf[..n]).unwrap();
        let nonce = m
            .get(ATTR_NONCE)
            .ok()
            .and_then(|v| String::from_utf8(v).ok());
        if m.typ.class == CLASS_SUCCESS_RESPONSE {
            return (0, nonce);
        }
        assert_eq!(m.typ.class, CLASS_ERROR_RESPONSE);
        let mut e = ErrorCodeAttribute::default();
        e.get_from(&m).unwrap();
        (e.code.0, nonce)
    }
}

#[tokio::test]
async fn a_request_replayed_from_another_address_gets_a_stale_nonce() {
    let relay = TestRelay::start("turn-replay").await;
    let (_agent, _viewer, a, _v) = session(&relay).await;
    let (user, password) = (a.username.clone().unwrap(), a.credential.clone().unwrap());
    let to = turn_addr(&relay);
    let owner = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let (code, nonce) = raw::exchange(&owner, to, &raw::allocate(None)).await;
    assert_eq!(
        code, 401,
        "first an unauthenticated try, answered with a nonce"
    );
    let nonce = nonce.unwrap();
    // Someone else presents that nonce, with a request signed with the right key (as a
    // captured and replayed request would be): 438 Stale Nonce, nothing allocated.
    let thief = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let signed = raw::allocate(Some((&user, &password, &nonce)));
    let (code, fresh) = raw::exchange(&thief, to, &signed).await;
    assert_eq!(code, 438);
    assert!(
        fresh.is_some_and(|f| f != nonce),
        "a fresh nonce for the newcomer"
    );
    let stats = &relay.turn.as_ref().unwrap().registry().stats;
    assert_eq!(stats.replays.load(Ordering::Relaxed), 1);
    assert_eq!(stats.allocations_active.load(Ordering::Relaxed), 0);
    // The replayed nonce is gone for everyone; the owner starts again and succeeds.
    let (code, again) = raw::exchange(&owner, to, &signed).await;
    assert_eq!(code, 438, "the burnt nonce is refused to its owner too");
    let fresh = raw::allocate(Some((&user, &password, &again.unwrap())));
    assert_eq!(raw::exchange(&owner, to, &fresh).await.0, 0, "allocated");
}

#[tokio::test]
async fn a_request_flood_from_one_address_is_cut_and_others_are_still_served() {
    let relay = TestRelay::start("turn-flood").await;
    let to = turn_addr(&relay);
    let flooder = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    for _ in 0..1000 {
        flooder.send_to(&raw::allocate(None), to).await.unwrap();
    }
    let mut answered = 0;
    let mut buf = [0u8; 1500];
    while let Ok(Ok(_)) =
        tokio::time::timeout(Duration::from_millis(300), flooder.recv_from(&mut buf)).await
    {
        answered += 1;
    }
    assert!(
        answered < 300,
        "{answered} of 1000 answered: the budget cuts the flood"
    );
    let stats = &relay.turn.as_ref().unwrap().registry().stats;
    // (Some of the flood may be lost in the socket buffer before the relay reads it.)
    assert!(stats.rate_limited.load(Ordering::Relaxed) > 0);
    // Another address (127.0.0.2: another source on this machine) is served at once.
    let other = UdpSocket::bind("127.0.0.2:0").await.unwrap();
    assert_eq!(raw::exchange(&other, to, &raw::allocate(None)).await.0, 401);
}

/// Both sides of a session relayed, each having sent to the other (so each may answer).
async fn relayed_pair(
    relay: &TestRelay,
    a: &IceServer,
    v: &IceServer,
) -> (
    TurnClient,
    TurnClient,
    impl Conn + Send + Sync + use<>,
    impl Conn + Send + Sync + use<>,
) {
    let ca = client_for(relay, a).await;
    let cv = client_for(relay, v).await;
    let ra = ca.allocate().await.unwrap();
    let rv = cv.allocate().await.unwrap();
    let (addr_a, addr_v) = (ra.local_addr().unwrap(), rv.local_addr().unwrap());
    rv.send_to(b"open", addr_a).await.unwrap();
    ra.send_to(b"open", addr_v).await.unwrap();
    // Drain the "open"s until both have been relayed once.
    let mut seen = (false, false);
    for _ in 0..20 {
        if seen == (true, true) {
            break;
        }
        if !seen.0 {
            rv.send_to(b"open", addr_a).await.unwrap();
            seen.0 = recv_within(&ra, 300).await.is_some();
        }
        if !seen.1 {
            ra.send_to(b"open", addr_v).await.unwrap();
            seen.1 = recv_within(&rv, 300).await.is_some();
        }
    }
    assert_eq!(seen, (true, true), "the pair relays both ways");
    while recv_within(&rv, 100).await.is_some() {}
    while recv_within(&ra, 100).await.is_some() {}
    (ca, cv, ra, rv)
}

#[tokio::test]
async fn issue16_3_junk_at_1_mb_s_to_a_relayed_port_does_not_starve_the_session_s_video() {
    // Loopback stands for the internet here, so the junk passes the peer rule and only
    // the permission stands between it and the session's bandwidth budget.
    let relay = TestRelay::start_with(
        "turn-junk",
        "[dangerous]\nturn_allow_peers = [\"127.0.0.0/8\"]\n",
    )
    .await;
    let (_agent, _viewer, a, v) = session(&relay).await;
    let (_ca, _cv, ra, rv) = relayed_pair(&relay, &a, &v).await;
    let addr_v = rv.local_addr().unwrap();

    // An outsider who learnt the viewer's relayed address: 1000 datagrams of 1000 bytes
    // a second, twice the allocation's budget, from an address of its own (127.0.0.2:
    // TURN permissions go by IP, and the relay's own is 127.0.0.1).
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let junk = {
        let stop = stop.clone();
        tokio::spawn(async move {
            let s = UdpSocket::bind("127.0.0.2:0").await.unwrap();
            let mut tick = tokio::time::interval(Duration::from_millis(5));
            let mut sent = 0u64;
            while !stop.load(Ordering::Relaxed) {
                tick.tick().await;
                for _ in 0..5 {
                    sent += s.send_to(&[0x5a; 1000], addr_v).await.unwrap() as u64;
                }
            }
            sent
        })
    };
    // The agent's video meanwhile: 30 frames a second of 1000 bytes, for 3 seconds.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let frames = 90u32;
    let sender = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(33));
        for i in 0..frames {
            tick.tick().await;
            let mut frame = vec![0u8; 1000];
            frame[..4].copy_from_slice(&i.to_be_bytes());
            ra.send_to(&frame, addr_v).await.unwrap();
        }
        ra
    });
    let mut got = std::collections::HashSet::new();
    while let Some((data, _)) = recv_within(&rv, 1500).await {
        assert_ne!(data[0], 0x5a, "junk reached the viewer");
        got.insert(u32::from_be_bytes(data[..4].try_into().unwrap()));
    }
    let _ra = sender.await.unwrap();
    stop.store(true, Ordering::Relaxed);
    let junk_sent = junk.await.unwrap();

    let stats = &relay.turn.as_ref().unwrap().registry().stats;
    assert!(junk_sent >= 1_000_000, "junk sent: {junk_sent} bytes");
    assert!(
        got.len() as u32 >= frames * 95 / 100,
        "the video kept its rate: {} of {frames} frames arrived",
        got.len()
    );
    assert_eq!(
        stats.bandwidth_dropped.load(Ordering::Relaxed),
        0,
        "the junk spent none of the session's budget"
    );
    let unpermitted = stats
        .snapshot()
        .into_iter()
        .find(|(name, _)| *name == "turn_unpermitted_dropped")
        .map(|(_, n)| n);
    assert!(
        unpermitted.is_some_and(|n| n >= 500),
        "the junk was counted: {unpermitted:?}"
    );
}

#[tokio::test]
async fn issue16_3_a_relay_port_cannot_reach_another_session_s_relay_port() {
    let relay = TestRelay::start("turn-cross").await;
    let (_agent, _viewer, a, v) = session(&relay).await;
    let (_ca, _cv, _ra, rv) = relayed_pair(&relay, &a, &v).await;
    let addr_v = rv.local_addr().unwrap();
    // Another session on the same relay: its relay ports share the relay's address,
    // which the first session's viewer has permitted (its own agent is relayed there).
    let (_agent2, _viewer2, a2, _v2) = session(&relay).await;
    let c2 = client_for(&relay, &a2).await;
    let r2 = c2.allocate().await.unwrap();
    let stats = &relay.turn.as_ref().unwrap().registry().stats;
    let refused_before = stats.peers_refused.load(Ordering::Relaxed);
    for _ in 0..5 {
        let _ = r2.send_to(b"intruder", addr_v).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    while let Some((data, _)) = recv_within(&rv, 700).await {
        assert_ne!(
            data, b"intruder",
            "another session's media reached the viewer"
        );
    }
    assert!(stats.peers_refused.load(Ordering::Relaxed) > refused_before);
}

#[tokio::test]
async fn issue22_serve_stops_the_hub_and_the_turn_listeners_with_it() {
    let mut relay = TestRelay::start("turn-stop").await;
    let to = turn_addr(&relay);
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let (code, _) = raw::exchange(&sock, to, &raw::allocate(None)).await;
    assert_eq!(code, 401, "TURN answers while the relay serves");
    assert!(relay.hub.stats().await.is_some());
    relay.shutdown();
    let served = tokio::time::timeout(Duration::from_secs(10), &mut relay.served).await;
    assert!(matches!(served, Ok(Ok(Ok(())))), "{served:?}");
    // Everything `serve` ran has ended with it: the hub hears nobody, and the TURN
    // ports are free again (nothing holds their sockets).
    assert!(relay.hub.stats().await.is_none(), "the hub task ended");
    assert!(
        UdpSocket::bind(to).await.is_ok(),
        "the UDP listener is gone"
    );
    assert!(
        tokio::net::TcpListener::bind(to).await.is_ok(),
        "the TCP listener is gone"
    );
}
