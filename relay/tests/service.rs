//! The relay binary as systemd runs it: `READY=1` on the notify socket once it listens
//! (Type=notify), log lines as JSON objects on request (`[log] format = "json"`), and
//! the HTTPS certificate loaded again on SIGHUP (`systemctl reload`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_acote-relay");

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("acote-service-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Kills the child when the test ends, however it ends.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn ready_is_told_to_systemd_once_the_relay_listens_and_logs_are_json_on_request() {
    let dir = temp_dir("notify");
    let socket_path = dir.join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let config = dir.join("relay.toml");
    std::fs::write(
        &config,
        "[server]\nsite_name = \"Test site\"\n[turn]\nlisten = \"127.0.0.1:0\"\n[log]\nformat = \"json\"\n",
    )
    .unwrap();
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .arg("--data-dir")
        .arg(dir.join("data"))
        .env("NOTIFY_SOCKET", &socket_path)
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let _child = Killed(child);

    let mut buf = [0u8; 512];
    let n = socket.recv(&mut buf).expect("READY=1 within 30 s");
    let said = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert_eq!(said.trim(), "READY=1");
    // By then it listens: the address is printed before READY is sent.
    let mut first = String::new();
    BufReader::new(stdout).read_line(&mut first).unwrap();
    assert!(
        first.starts_with("listening on https://127.0.0.1:"),
        "{first}"
    );

    // Every log line is one JSON object with a level and a message.
    let mut lines = BufReader::new(stderr).lines();
    let line = lines.next().unwrap().unwrap();
    let v: serde_json::Value = serde_json::from_str(&line).expect("a JSON log line");
    assert_eq!(v["level"], "INFO", "{line}");
    assert!(v["fields"]["message"].is_string(), "{line}");
}

#[test]
fn an_unknown_log_format_is_a_clear_configuration_error() {
    let dir = temp_dir("badlog");
    let config = dir.join("relay.toml");
    std::fs::write(&config, "[log]\nformat = \"xml\"\n").unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--config"])
        .arg(&config)
        .arg("--data-dir")
        .arg(dir.join("data"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("format") && err.contains("xml"), "{err}");
}

/// `GET /healthz` trusting only the certificate now in `data/tls/cert.pem`.
async fn healthz_with_current_cert(addr: std::net::SocketAddr, data: &std::path::Path) -> bool {
    let endpoint = common::Endpoint::new(addr, data);
    let probe = tokio::spawn(async move { endpoint.request("GET", "/healthz", &[], "").await });
    matches!(probe.await, Ok(r) if r.status == 200)
}

#[tokio::test]
async fn sighup_reloads_the_certificate_and_a_broken_one_leaves_the_old_in_place() {
    let dir = temp_dir("reload");
    let data = dir.join("data");
    let out_path = dir.join("stdout");
    let config = dir.join("relay.toml");
    std::fs::write(&config, "[turn]\nlisten = \"127.0.0.1:0\"\n").unwrap();
    let child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .arg("--data-dir")
        .arg(&data)
        .env("RUST_LOG", "error")
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id().to_string();
    let _child = Killed(child);
    let mut addr = None;
    for _ in 0..1500 {
        let text = std::fs::read_to_string(&out_path).unwrap_or_default();
        addr = text
            .lines()
            .find_map(|l| l.strip_prefix("listening on https://"))
            .map(|a| a.trim().parse::<std::net::SocketAddr>().unwrap());
        if addr.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let addr = addr.expect("the relay started");
    assert!(healthz_with_current_cert(addr, &data).await);
    let hup = || {
        let ok = Command::new("kill").args(["-HUP", &pid]).status().unwrap();
        assert!(ok.success());
    };

    // A broken certificate file: the reload fails and the running one stays.
    let cert = data.join("tls/cert.pem");
    let good = std::fs::read(&cert).unwrap();
    std::fs::write(&cert, "not a certificate").unwrap();
    hup();
    tokio::time::sleep(Duration::from_millis(500)).await;
    std::fs::write(&cert, &good).unwrap();
    assert!(
        healthz_with_current_cert(addr, &data).await,
        "still served with the old certificate"
    );

    // A new certificate (here: the self-signed pair removed, so one is made): served
    // after SIGHUP, without a restart.
    std::fs::remove_file(&cert).unwrap();
    std::fs::remove_file(data.join("tls/key.pem")).unwrap();
    hup();
    let mut served = false;
    for _ in 0..100 {
        if data.join("tls/cert.pem").exists() && healthz_with_current_cert(addr, &data).await {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(served, "the new certificate is served after SIGHUP");
    assert_ne!(std::fs::read(data.join("tls/cert.pem")).unwrap(), good);
}
