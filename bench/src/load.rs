//! The relay load run. Everything is on loopback and bounded: a fixed number of
//! connections, each step under a time limit, the relay process ended at the close.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use acote_agent::transport::tls::{self, Fingerprint};
use acote_proto::{Role, SignalMessage};
use anyhow::{Context, anyhow, bail};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

use crate::postgres::Postgres;

/// What to run.
pub(crate) struct Plan {
    /// Idle agents.
    pub(crate) agents: usize,
    /// Sessions paired among them.
    pub(crate) sessions: usize,
    /// Relays sharing one PostgreSQL database (1: a single relay on SQLite).
    pub(crate) relays: usize,
    /// The PostgreSQL database for several relays; the bench starts its own when none.
    pub(crate) store: Option<String>,
    /// The relay binary.
    pub(crate) relay: PathBuf,
    /// Output file.
    pub(crate) json: PathBuf,
}

pub(crate) type Socket = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

pub(crate) const PASSWORD: &str = "load bench password 42";
/// Source addresses the clients are spread over (127.0.0.0/8 is all this machine).
const SOURCES: u8 = 40;
const STEP_LIMIT: Duration = Duration::from_secs(120);

/// A relay process started for a bench, ended when dropped.
pub(crate) struct Relay {
    pub(crate) child: Child,
    pub(crate) addr: SocketAddr,
    pub(crate) tls: Arc<rustls::ClientConfig>,
    dir: PathBuf,
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs the plan and writes the figures.
pub(crate) async fn run(plan: Plan) -> anyhow::Result<()> {
    if plan.sessions > plan.agents {
        bail!(
            "--sessions ({}) cannot exceed --agents ({})",
            plan.sessions,
            plan.agents
        );
    }
    if plan.relays == 0 {
        bail!("--relays must be at least 1");
    }
    if plan.relays == 1 && plan.store.is_some() {
        bail!("--store is for several relays (--relays 2 or more)");
    }
    let own_db = match (&plan.store, plan.relays) {
        (None, n) if n > 1 => Some(Postgres::start()?),
        _ => None,
    };
    let store = plan
        .store
        .clone()
        .or_else(|| own_db.as_ref().map(|db| db.url.clone()));
    // Every agent may come from any of the 40 source addresses, all to one relay.
    let room = plan.agents + plan.sessions + 100;
    let mut config = format!(
        "[turn]\nenabled = false\n[limits]\nconnections_per_address = {room}\nmax_connections = {room}\n"
    );
    if let Some(url) = &store {
        config.push_str(&format!("[store]\nurl = \"{url}\"\n"));
    }
    let relays = start_relays(&plan.relay, &config, plan.relays)?;
    let cookie = sign_in(&relays[0]).await?;
    let pids: Vec<u32> = relays.iter().map(|r| r.child.id()).collect();
    let rss = || -> anyhow::Result<u64> { pids.iter().map(|p| rss_kib(*p)).sum() };
    let cpu = || -> anyhow::Result<u64> { pids.iter().map(|p| cpu_ticks(*p)).sum() };
    let db_cpu = || own_db.as_ref().map_or(0, Postgres::cpu_ticks);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (rss_base, cpu_base, db_base) = (rss()?, cpu()?, db_cpu());

    let started = Instant::now();
    let mut codes = Vec::with_capacity(plan.agents);
    let mut idle = Vec::with_capacity(plan.agents);
    for batch in (0..plan.agents).collect::<Vec<_>>().chunks(50) {
        let joins: Vec<_> = batch
            .iter()
            .map(|&i| {
                let relay = &relays[i % relays.len()];
                tokio::spawn(agent(relay.addr, relay.tls.clone(), source(i)))
            })
            .collect();
        for j in joins {
            let (socket, code) = j.await.context("agent task")??;
            codes.push(code);
            idle.push(tokio::spawn(keep_reading(socket)));
        }
    }
    let connect_seconds = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (rss_loaded, cpu_loaded, db_loaded) = (rss()?, cpu()?, db_cpu());
    let connect_cpu = percent(cpu_loaded - cpu_base, started.elapsed());
    let connect_db_cpu = percent(db_loaded - db_base, started.elapsed());

    // Session j pairs agent j (on relay j mod n); with several relays, every other
    // caseworker is on the next relay: pairing across relays beside pairing on one.
    let (mut same_ms, mut across_ms) = (Vec::new(), Vec::new());
    let mut viewers = Vec::with_capacity(plan.sessions);
    let pairing_started = Instant::now();
    for (j, code) in codes.iter().take(plan.sessions).enumerate() {
        let n = relays.len();
        let across = n > 1 && j % 2 == 1;
        let relay = &relays[if across { (j + 1) % n } else { j % n }];
        let (socket, ms, _) = viewer(
            relay.addr,
            relay.tls.clone(),
            source(plan.agents + j),
            &cookie,
            code,
        )
        .await?;
        if across {
            across_ms.push(ms)
        } else {
            same_ms.push(ms)
        }
        viewers.push(socket);
    }
    // Each session exchanges a round of signaling, as an offer with candidates would.
    for v in &mut viewers {
        for k in 0..5 {
            let cand = SignalMessage::Candidate {
                candidate: format!(
                    "candidate:{k} 1 udp 2122260223 127.0.0.1 {} typ host",
                    40000 + k
                ),
                sdp_mid: Some("0".into()),
                sdp_mline_index: Some(0),
                username_fragment: None,
            };
            v.send(Message::Text(cand.to_json().into())).await?;
        }
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (cpu_end, db_end) = (cpu()?, db_cpu());
    let sessions_cpu = percent(cpu_end - cpu_loaded, pairing_started.elapsed());
    let sessions_db_cpu = percent(db_end - db_loaded, pairing_started.elapsed());
    let rss_sessions = rss()?;
    for task in idle {
        task.abort();
    }

    let mut all_ms: Vec<f64> = same_ms.iter().chain(&across_ms).copied().collect();
    let (same, across, all) = (
        quantiles(&mut same_ms),
        quantiles(&mut across_ms),
        quantiles(&mut all_ms),
    );
    let per_agent = (rss_loaded.saturating_sub(rss_base)) as f64 / plan.agents.max(1) as f64;
    let mut figures = serde_json::json!({
        "agents": plan.agents,
        "sessions": plan.sessions,
        "relays": relays.len(),
        "store": if store.is_some() { "postgresql" } else { "sqlite" },
        "source_addresses": SOURCES,
        "relay_rss_kib": { "started": rss_base, "with_idle_agents": rss_loaded, "with_sessions": rss_sessions },
        "kib_per_idle_agent": (per_agent * 10.0).round() / 10.0,
        "connect_seconds": (connect_seconds * 100.0).round() / 100.0,
        "relay_cpu_percent_of_one_core": { "while_agents_connect": connect_cpu, "while_pairing": sessions_cpu },
        "pair_ms": all,
    });
    if relays.len() > 1 {
        figures["pair_ms_same_relay"] = same;
        figures["pair_ms_across_relays"] = across;
        if own_db.is_some() {
            figures["postgres_cpu_percent_of_one_core"] = serde_json::json!({
                "while_agents_connect": connect_db_cpu, "while_pairing": sessions_db_cpu,
            });
        }
    }
    let mut out = std::fs::File::create(&plan.json)
        .with_context(|| format!("cannot write {}", plan.json.display()))?;
    writeln!(out, "{}", serde_json::to_string_pretty(&figures)?)?;
    println!(
        "{} idle agents on {} relay(s): {} KiB → {} KiB ({:.1} KiB per agent), connected in {:.1} s at {:.0} % of one core",
        plan.agents,
        relays.len(),
        rss_base,
        rss_loaded,
        per_agent,
        connect_seconds,
        connect_cpu
    );
    println!(
        "{} sessions paired under that load: {}; relays at {:.0} % of one core",
        plan.sessions, figures["pair_ms"], sessions_cpu
    );
    if relays.len() > 1 {
        println!(
            "pairing on one relay {}, across relays {}; PostgreSQL at {} / {} % of one core",
            figures["pair_ms_same_relay"],
            figures["pair_ms_across_relays"],
            connect_db_cpu,
            sessions_db_cpu
        );
    }
    println!("figures written to {}", plan.json.display());
    Ok(())
}

/// p50, p95 and max of `ms`, rounded to 0.1 ms.
fn quantiles(ms: &mut [f64]) -> serde_json::Value {
    ms.sort_by(f64::total_cmp);
    let q = |p: f64| {
        let v = ms
            .get(((ms.len() as f64 - 1.0) * p).round() as usize)
            .copied()
            .unwrap_or(0.0);
        (v * 10.0).round() / 10.0
    };
    serde_json::json!({ "p50": q(0.5), "p95": q(0.95), "max": q(1.0) })
}

fn source(i: usize) -> String {
    format!("127.0.0.{}", 2 + (i % usize::from(SOURCES)))
}

fn percent(ticks: u64, over: Duration) -> f64 {
    // Linux counts CPU time in clock ticks of 1/100 s.
    let busy = ticks as f64 / 100.0;
    (busy / over.as_secs_f64().max(0.001) * 1000.0).round() / 10.0
}

/// Starts `bin` with a caseworker `bench` and `config` after a `[server]` section.
pub(crate) fn start_relay(bin: &PathBuf, config: &str) -> anyhow::Result<Relay> {
    let mut relays = start_relays(bin, config, 1)?;
    relays.pop().ok_or_else(|| anyhow!("no relay started"))
}

/// Starts `n` relays with one configuration (several share its `[store]` database): the
/// first makes the certificate and the audit key, the others get copies, as an admin
/// sets up relays behind one name. The caseworker `bench` is added once.
pub(crate) fn start_relays(bin: &PathBuf, config: &str, n: usize) -> anyhow::Result<Vec<Relay>> {
    let mut relays: Vec<Relay> = Vec::with_capacity(n);
    for i in 0..n {
        let dir = std::env::temp_dir().join(format!("acote-bench-{}-{i}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let data = dir.join("data");
        std::fs::create_dir_all(&data)?;
        let file = dir.join("relay.toml");
        std::fs::write(&file, format!("[server]\nsite_name = \"Load\"\n{config}"))?;
        match relays.first() {
            None => add_caseworker(bin, &file, &data)?,
            Some(first) => {
                let from = first.dir.join("data");
                std::fs::create_dir_all(data.join("tls"))?;
                for entry in std::fs::read_dir(from.join("tls"))? {
                    let entry = entry?;
                    std::fs::copy(entry.path(), data.join("tls").join(entry.file_name()))?;
                }
                std::fs::copy(from.join("audit.key"), data.join("audit.key"))?;
            }
        }
        relays.push(serve(bin, &file, &data, dir)?);
    }
    Ok(relays)
}

fn add_caseworker(
    bin: &PathBuf,
    config: &std::path::Path,
    data: &std::path::Path,
) -> anyhow::Result<()> {
    let admin = Command::new(bin)
        .args(["admin", "--config"])
        .arg(config)
        .arg("--data-dir")
        .arg(data)
        .args([
            "caseworker",
            "add",
            "bench",
            "--name",
            "Bench",
            "--site",
            "Load",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start {}", bin.display()))?;
    let mut admin = admin;
    if let Some(mut stdin) = admin.stdin.take() {
        writeln!(stdin, "{PASSWORD}")?;
    }
    if !admin.wait()?.success() {
        bail!("could not create the bench caseworker");
    }
    Ok(())
}

fn serve(
    bin: &PathBuf,
    config: &std::path::Path,
    data: &std::path::Path,
    dir: PathBuf,
) -> anyhow::Result<Relay> {
    let mut child = Command::new(bin)
        .args(["serve", "--config"])
        .arg(config)
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| anyhow!("no relay stdout"))?;
    let (mut addr, mut fingerprint) = (None, None);
    for line in BufReader::new(stdout).lines().take(20) {
        let line = line?;
        if let Some(a) = line.strip_prefix("listening on https://") {
            addr = Some(a.parse::<SocketAddr>()?);
        } else if let Some(f) = line.strip_prefix("certificate sha256 ") {
            fingerprint = Some(f.parse::<Fingerprint>()?);
        }
        if addr.is_some() && fingerprint.is_some() {
            break;
        }
    }
    let (Some(addr), Some(pin)) = (addr, fingerprint) else {
        bail!("the relay did not start")
    };
    Ok(Relay {
        child,
        addr,
        tls: tls::client_config(Some(pin))?,
        dir,
    })
}

pub(crate) async fn sign_in(relay: &Relay) -> anyhow::Result<String> {
    let body = serde_json::json!({ "login": "bench", "password": PASSWORD }).to_string();
    let port = relay.addr.port();
    let request = format!(
        "POST /api/login HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: https://127.0.0.1:{port}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let tcp = tokio::net::TcpStream::connect(relay.addr).await?;
    let name = rustls::pki_types::ServerName::try_from("localhost")?;
    let mut stream = tokio_rustls::TlsConnector::from(relay.tls.clone())
        .connect(name, tcp)
        .await?;
    stream.write_all(request.as_bytes()).await?;
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw).await;
    let text = String::from_utf8_lossy(&raw);
    text.lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .starts_with("set-cookie:")
                .then(|| l[11..].trim().to_string())
        })
        .and_then(|c| c.split(';').next().map(str::to_string))
        .ok_or_else(|| anyhow!("sign-in failed: {}", text.lines().next().unwrap_or("")))
}

async fn connect(
    addr: SocketAddr,
    tls: Arc<rustls::ClientConfig>,
    from: &str,
    cookie: Option<&str>,
) -> anyhow::Result<Socket> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind(format!("{from}:0").parse()?)?;
    let stream = socket.connect(addr).await?;
    let mut request = format!("wss://localhost:{}/signal", addr.port()).into_client_request()?;
    if let Some(c) = cookie {
        request.headers_mut().insert("cookie", c.parse()?);
    }
    let (ws, _) = tokio_tungstenite::client_async_tls_with_config(
        request,
        stream,
        None,
        Some(Connector::Rustls(tls)),
    )
    .await?;
    Ok(ws)
}

pub(crate) async fn next_message(ws: &mut Socket) -> anyhow::Result<SignalMessage> {
    loop {
        let frame = tokio::time::timeout(STEP_LIMIT, ws.next())
            .await
            .context("no message from the relay in time")?
            .ok_or_else(|| anyhow!("the relay closed the connection"))??;
        if let Message::Text(t) = frame {
            return Ok(SignalMessage::parse(t.as_str())?);
        }
    }
}

pub(crate) async fn agent(
    addr: SocketAddr,
    tls: Arc<rustls::ClientConfig>,
    from: String,
) -> anyhow::Result<(Socket, String)> {
    let mut ws = connect(addr, tls, &from, None).await?;
    ws.send(Message::Text(
        SignalMessage::client_hello(Role::Agent, None)
            .to_json()
            .into(),
    ))
    .await?;
    loop {
        if let SignalMessage::Code { code, .. } = next_message(&mut ws).await? {
            return Ok((ws, code));
        }
    }
}

/// Reads (and so answers the relay's pings) until aborted.
async fn keep_reading(mut ws: Socket) {
    while let Some(Ok(_)) = ws.next().await {}
}

pub(crate) async fn viewer(
    addr: SocketAddr,
    tls: Arc<rustls::ClientConfig>,
    from: String,
    cookie: &str,
    code: &str,
) -> anyhow::Result<(Socket, f64, Option<SignalMessage>)> {
    let mut ws = connect(addr, tls, &from, Some(cookie)).await?;
    ws.send(Message::Text(
        SignalMessage::client_hello(Role::Viewer, None)
            .to_json()
            .into(),
    ))
    .await?;
    next_message(&mut ws).await?;
    let started = Instant::now();
    let redeem = SignalMessage::Redeem {
        code: code.to_string(),
        procedure: None,
    };
    ws.send(Message::Text(redeem.to_json().into())).await?;
    let mut ice = None;
    loop {
        match next_message(&mut ws).await? {
            SignalMessage::Paired { .. } => {
                return Ok((ws, started.elapsed().as_secs_f64() * 1000.0, ice));
            }
            // The session's ICE servers come just before `paired`.
            m @ SignalMessage::IceServers { .. } => ice = Some(m),
            other => bail!("pairing failed: {}", other.to_json()),
        }
    }
}

/// Resident memory of a process, from /proc.
fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| anyhow!("no VmRSS for the relay"))
}

/// User + system CPU time of a process, in clock ticks, from /proc.
pub(crate) fn cpu_ticks(pid: u32) -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may hold spaces, so split after its ')').
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0);
    let stime: u64 = fields.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
    Ok(utime + stime)
}
