//! The relayed-throughput run: the relay's embedded TURN and Debian's coturn, configured
//! alike (TURN REST credentials, UDP on loopback, no TLS, loopback peers allowed), side by
//! side in one run. Two TURN clients allocate on a server and one sends to the other's
//! relayed address at a paced rate; each packet crosses the server twice. Reports what
//! arrived, the loss, and the server's CPU per relayed Mbit/s, and the ratios between the
//! two servers. Everything is on loopback and bounded in time.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use acote_proto::SignalMessage;
use anyhow::{Context, anyhow, bail};
use base64::Engine;
use base64::prelude::BASE64_STANDARD;
use tokio::net::UdpSocket;
use turn::client::{Client as TurnClient, ClientConfig};
use webrtc_util::Conn;

use crate::load::{self, cpu_ticks};

/// What to run.
pub(crate) struct Plan {
    /// Rates to send at, Mbit/s.
    pub(crate) rates: Vec<u32>,
    /// Seconds per rate and server.
    pub(crate) seconds: u64,
    /// The relay binary.
    pub(crate) relay: PathBuf,
    /// coturn's `turnserver`.
    pub(crate) coturn: PathBuf,
    /// Output file.
    pub(crate) json: PathBuf,
}

/// Payload per packet: a typical video RTP packet.
const PACKET: usize = 1200;
const REALM: &str = "acote";

/// A username and password for one TURN client.
#[derive(Clone)]
struct Creds {
    user: String,
    password: String,
}

/// One server under test.
struct Server {
    name: &'static str,
    addr: SocketAddr,
    pid: u32,
    sender: Creds,
    receiver: Creds,
}

/// What one paced flow measured.
struct Flow {
    sent_packets: u64,
    got_packets: u64,
    got_bytes: u64,
    seconds: f64,
    cpu_seconds: f64,
}

impl Flow {
    fn mbit_per_s(&self) -> f64 {
        self.got_bytes as f64 * 8.0 / self.seconds / 1e6
    }
    fn loss_percent(&self) -> f64 {
        if self.sent_packets == 0 {
            return 0.0;
        }
        100.0 * (self.sent_packets.saturating_sub(self.got_packets)) as f64
            / self.sent_packets as f64
    }
    fn cpu_percent(&self) -> f64 {
        100.0 * self.cpu_seconds / self.seconds
    }
    /// Server CPU milliseconds per relayed megabit.
    fn cpu_ms_per_mbit(&self) -> f64 {
        let mbit = self.got_bytes as f64 * 8.0 / 1e6;
        if mbit == 0.0 {
            return f64::NAN;
        }
        self.cpu_seconds * 1000.0 / mbit
    }
}

struct Coturn(Child, PathBuf);

impl Drop for Coturn {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        let _ = std::fs::remove_dir_all(&self.1);
    }
}

/// Runs the plan and writes the figures.
pub(crate) async fn run(plan: Plan) -> anyhow::Result<()> {
    if plan.rates.is_empty() || plan.seconds == 0 || plan.seconds > 60 {
        bail!("give at least one rate and 1 to 60 seconds");
    }
    if !plan.coturn.exists() {
        bail!(
            "{} not found: install Debian's coturn (apt-get install coturn)",
            plan.coturn.display()
        );
    }
    let acote_port = free_udp_port().await?;
    // Bandwidth and allocation caps far above the test rates, so the engines are compared,
    // not our quotas.
    let config = format!(
        "[turn]\nlisten = \"127.0.0.1:{acote_port}\"\nallocations_per_session = 1000\n\
         kbit_per_allocation = 10000000\nkbit_per_session = 10000000\n"
    );
    let relay = load::start_relay(&plan.relay, &config)?;
    let (sender, receiver, _signaling) = session_credentials(&relay).await?;
    let acote = Server {
        name: "acote",
        addr: SocketAddr::from(([127, 0, 0, 1], acote_port)),
        pid: relay.child.id(),
        sender,
        receiver,
    };
    let coturn_port = free_udp_port().await?;
    let secret = format!("{:032x}", rand_u128());
    let coturn_proc = start_coturn(&plan.coturn, coturn_port, &secret)?;
    let coturn_creds = rest_credentials(&secret);
    let coturn = Server {
        name: "coturn",
        addr: SocketAddr::from(([127, 0, 0, 1], coturn_port)),
        pid: coturn_proc.0.id(),
        sender: coturn_creds.clone(),
        receiver: coturn_creds,
    };
    // Let both settle, then warm each up once.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for server in [&acote, &coturn] {
        flow(server, 1, 1)
            .await
            .with_context(|| format!("warm-up on {}", server.name))?;
    }
    let mut rows = Vec::new();
    for &rate in &plan.rates {
        // Alternate servers at each rate, so drift in the machine's load hits both alike.
        let a = flow(&acote, rate, plan.seconds)
            .await
            .context("acote flow")?;
        let c = flow(&coturn, rate, plan.seconds)
            .await
            .context("coturn flow")?;
        rows.push((rate, a, c));
    }
    let json = serde_json::json!({
        "bench": "turn",
        "packet_bytes": PACKET,
        "seconds_per_flow": plan.seconds,
        "relay_binary": plan.relay.display().to_string(),
        "rows": rows.iter().map(|(rate, a, c)| serde_json::json!({
            "target_mbit_s": rate,
            "acote": flow_json(a),
            "coturn": flow_json(c),
            "cpu_per_mbit_ratio_acote_over_coturn": a.cpu_ms_per_mbit() / c.cpu_ms_per_mbit(),
            "throughput_ratio_acote_over_coturn": a.mbit_per_s() / c.mbit_per_s(),
        })).collect::<Vec<_>>(),
    });
    std::fs::write(&plan.json, serde_json::to_string_pretty(&json)?)
        .with_context(|| format!("cannot write {}", plan.json.display()))?;
    println!(
        "relayed throughput, {PACKET}-byte packets, {} s per flow (server CPU: % of one core)",
        plan.seconds
    );
    println!(
        "{:>8} | {:>22} | {:>22} | {:>10}",
        "target", "acote Mbit/s loss cpu", "coturn Mbit/s loss cpu", "cpu/Mbit"
    );
    for (rate, a, c) in &rows {
        println!(
            "{:>6} M | {:>6.1} {:>5.1}% {:>5.1}% | {:>6.1} {:>5.1}% {:>5.1}% | {:>9.2}x",
            rate,
            a.mbit_per_s(),
            a.loss_percent(),
            a.cpu_percent(),
            c.mbit_per_s(),
            c.loss_percent(),
            c.cpu_percent(),
            a.cpu_ms_per_mbit() / c.cpu_ms_per_mbit(),
        );
    }
    println!("(cpu/Mbit: acote's server CPU per relayed Mbit over coturn's; below 1 is cheaper)");
    println!("figures written to {}", plan.json.display());
    Ok(())
}

fn flow_json(f: &Flow) -> serde_json::Value {
    serde_json::json!({
        "mbit_s": f.mbit_per_s(),
        "loss_percent": f.loss_percent(),
        "server_cpu_percent_of_one_core": f.cpu_percent(),
        "server_cpu_ms_per_mbit": f.cpu_ms_per_mbit(),
        "sent_packets": f.sent_packets,
        "received_packets": f.got_packets,
    })
}

fn rand_u128() -> u128 {
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    t ^ (u128::from(std::process::id()) << 64)
}

async fn free_udp_port() -> anyhow::Result<u16> {
    // The OS picks a free port; it is released and handed to the server just after.
    let s = UdpSocket::bind("127.0.0.1:0").await?;
    Ok(s.local_addr()?.port())
}

/// Pairs a session on the relay and returns the agent's and the viewer's TURN
/// credentials (and the sockets, which must stay open for the session to live).
async fn session_credentials(
    relay: &load::Relay,
) -> anyhow::Result<(Creds, Creds, (load::Socket, load::Socket))> {
    let cookie = load::sign_in(relay).await?;
    let (mut agent, code) = load::agent(relay.addr, relay.tls.clone(), "127.0.0.1".into()).await?;
    let (viewer, _, viewer_ice) = load::viewer(
        relay.addr,
        relay.tls.clone(),
        "127.0.0.1".into(),
        &cookie,
        &code,
    )
    .await?;
    let sender = loop {
        let m = load::next_message(&mut agent).await?;
        if matches!(m, SignalMessage::IceServers { .. }) {
            break turn_creds(m)?;
        }
    };
    let receiver = turn_creds(viewer_ice.ok_or_else(|| anyhow!("no ice_servers for the viewer"))?)?;
    Ok((sender, receiver, (agent, viewer)))
}

/// The TURN username and password of an `ice_servers` message.
fn turn_creds(m: SignalMessage) -> anyhow::Result<Creds> {
    let SignalMessage::IceServers { ice_servers, .. } = m else {
        bail!("expected ice_servers, got {}", m.kind());
    };
    let turn = ice_servers
        .into_iter()
        .find(|s| s.username.is_some())
        .ok_or_else(|| anyhow!("no TURN server in ice_servers"))?;
    Ok(Creds {
        user: turn.username.unwrap_or_default(),
        password: turn.credential.unwrap_or_default(),
    })
}

/// coturn with the settings that match the relay's: REST credentials, UDP, no TLS, peers
/// on loopback allowed (both allocations are on this machine), logs to stdout only.
fn start_coturn(bin: &PathBuf, port: u16, secret: &str) -> anyhow::Result<Coturn> {
    let dir = std::env::temp_dir().join(format!("acote-bench-coturn-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let child = Command::new(bin)
        .args([
            "-n",
            "--listening-ip=127.0.0.1",
            &format!("--listening-port={port}"),
            "--relay-ip=127.0.0.1",
            "--use-auth-secret",
            &format!("--static-auth-secret={secret}"),
            &format!("--realm={REALM}"),
            "--no-tls",
            "--no-dtls",
            "--no-tcp",
            "--no-cli",
            "--allow-loopback-peers",
            "--log-file=stdout",
            "--simple-log",
            "--no-stdout-log",
        ])
        .arg(format!(
            "--pidfile={}",
            dir.join("turnserver.pid").display()
        ))
        .arg(format!("--userdb={}", dir.join("turndb").display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start {}", bin.display()))?;
    Ok(Coturn(child, dir))
}

/// TURN REST credentials for coturn's `use-auth-secret`.
fn rest_credentials(secret: &str) -> Creds {
    let expiry = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
        + 3600;
    let user = format!("{expiry}:bench");
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret.as_bytes());
    let password = BASE64_STANDARD.encode(ring::hmac::sign(&key, user.as_bytes()).as_ref());
    Creds { user, password }
}

async fn client(server: SocketAddr, creds: &Creds) -> anyhow::Result<TurnClient> {
    let conn = Arc::new(UdpSocket::bind("127.0.0.1:0").await?);
    let addr = server.to_string();
    let c = TurnClient::new(ClientConfig {
        stun_serv_addr: addr.clone(),
        turn_serv_addr: addr,
        username: creds.user.clone(),
        password: creds.password.clone(),
        realm: REALM.into(),
        software: String::new(),
        rto_in_ms: 200,
        conn,
        vnet: None,
    })
    .await?;
    c.listen().await?;
    Ok(c)
}

/// Sends `rate` Mbit/s for `seconds` from one allocation to another on `server`.
async fn flow(server: &Server, rate: u32, seconds: u64) -> anyhow::Result<Flow> {
    let limit = Duration::from_secs(10);
    let tx_client = client(server.addr, &server.sender).await?;
    let rx_client = client(server.addr, &server.receiver).await?;
    let tx = tokio::time::timeout(limit, tx_client.allocate())
        .await
        .context("allocation timed out")??;
    let rx = tokio::time::timeout(limit, rx_client.allocate())
        .await
        .context("allocation timed out")??;
    let (tx_addr, rx_addr) = (tx.local_addr()?, rx.local_addr()?);
    // Permissions both ways, then a first packet through.
    rx.send_to(b"open", tx_addr).await?;
    tx.send_to(b"open", rx_addr).await?;
    let mut probe = [0u8; 2048];
    tokio::time::timeout(limit, rx.recv_from(&mut probe))
        .await
        .context("nothing relayed before the flow")??;

    let rx = Arc::new(rx);
    let stop = Arc::new(AtomicBool::new(false));
    let (got_packets, got_bytes) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let reader = {
        let (rx, stop) = (rx.clone(), stop.clone());
        let (p, b) = (got_packets.clone(), got_bytes.clone());
        tokio::spawn(async move {
            let mut buf = vec![0u8; 2048];
            while !stop.load(Ordering::Relaxed) {
                if let Ok(Ok((n, _))) =
                    tokio::time::timeout(Duration::from_millis(200), rx.recv_from(&mut buf)).await
                    && n == PACKET
                {
                    p.fetch_add(1, Ordering::Relaxed);
                    b.fetch_add(n as u64, Ordering::Relaxed);
                }
            }
        })
    };
    let cpu_before = cpu_ticks(server.pid)?;
    let started = Instant::now();
    let per_second = f64::from(rate) * 1e6 / 8.0 / PACKET as f64;
    let payload = vec![0x5a_u8; PACKET];
    let mut sent = 0u64;
    let mut tick = tokio::time::interval(Duration::from_millis(2));
    let duration = Duration::from_secs(seconds);
    while started.elapsed() < duration {
        tick.tick().await;
        let due = (started.elapsed().as_secs_f64() * per_second) as u64;
        while sent < due {
            let _ = tx.send_to(&payload, rx_addr).await;
            sent += 1;
        }
    }
    let elapsed = started.elapsed();
    // What is in flight arrives within this.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let cpu_after = cpu_ticks(server.pid)?;
    stop.store(true, Ordering::Relaxed);
    let _ = reader.await;
    let _ = tx.close().await;
    let _ = rx.close().await;
    let _ = tx_client.close().await;
    let _ = rx_client.close().await;
    Ok(Flow {
        sent_packets: sent,
        got_packets: got_packets.load(Ordering::Relaxed),
        got_bytes: got_bytes.load(Ordering::Relaxed),
        seconds: elapsed.as_secs_f64(),
        cpu_seconds: cpu_after.saturating_sub(cpu_before) as f64 / 100.0,
    })
}
