//! Certificates by ACME, against a real ACME authority: Let's Encrypt's test server
//! Pebble (Debian's `pebble`), resolving names through `pebble-challtestsrv`. The relay
//! binary gets its certificate by TLS-ALPN-01 on its HTTPS port, serves it (checked
//! against Pebble's root, never pinned), keeps trying while the authority is down, and
//! after a restart serves the saved certificate without asking again.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use acote_proto::{Role, SignalMessage};

const BIN: &str = env!("CARGO_BIN_EXE_acote-relay");
const DOMAIN: &str = "relay.acote.test";

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("acote-acme-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Kills the child when the test ends, however it ends.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_tcp_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn free_udp_port() -> u16 {
    let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    s.local_addr().unwrap().port()
}

async fn wait_for_port(port: u16, what: &str) {
    for _ in 0..300 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what} did not listen on port {port}");
}

/// Pebble and its DNS, with Pebble's own HTTPS certificate (made here: Debian ships
/// none). Every name resolves to 127.0.0.1, where the relay answers the validation.
struct Authority {
    dir: PathBuf,
    processes: Vec<Killed>,
    /// Pebble's HTTPS certificate: what the relay must trust to talk to it.
    cert_file: PathBuf,
    acme_port: u16,
    management: SocketAddr,
}

impl Authority {
    /// Its certificate and ports, nothing running yet.
    fn new(dir: &Path) -> Self {
        let issued = rcgen::generate_simple_self_signed(vec![
            "localhost".to_string(),
            "127.0.0.1".to_string(),
        ])
        .unwrap();
        let cert_file = dir.join("pebble-cert.pem");
        std::fs::write(&cert_file, issued.cert.pem()).unwrap();
        std::fs::write(dir.join("pebble-key.pem"), issued.key_pair.serialize_pem()).unwrap();
        Self {
            dir: dir.to_owned(),
            processes: Vec::new(),
            cert_file,
            acme_port: free_tcp_port(),
            management: SocketAddr::from(([127, 0, 0, 1], free_tcp_port())),
        }
    }

    fn directory(&self) -> String {
        format!("https://127.0.0.1:{}/dir", self.acme_port)
    }

    /// Starts the DNS and Pebble, which validates on `relay_https_port`.
    async fn start(&mut self, relay_https_port: u16) {
        let dns_port = free_udp_port();
        let dns = Command::new("pebble-challtestsrv")
            .args(["-dns01", &format!("127.0.0.1:{dns_port}")])
            .args(["-http01", "", "-https01", "", "-tlsalpn01", ""])
            .args(["-management", &format!("127.0.0.1:{}", free_tcp_port())])
            .args(["-defaultIPv4", "127.0.0.1", "-defaultIPv6", ""])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("pebble-challtestsrv (Debian package pebble) is installed");
        self.processes.push(Killed(dns));
        let config = self.dir.join("pebble.json");
        let json = serde_json::json!({ "pebble": {
            "listenAddress": format!("127.0.0.1:{}", self.acme_port),
            "managementListenAddress": self.management.to_string(),
            "certificate": self.cert_file,
            "privateKey": self.dir.join("pebble-key.pem"),
            "httpPort": free_tcp_port(),
            "tlsPort": relay_https_port,
            "ocspResponderURL": "",
            "externalAccountBindingRequired": false,
        }});
        std::fs::write(&config, json.to_string()).unwrap();
        let pebble = Command::new("pebble")
            .arg("-config")
            .arg(&config)
            .args(["-dnsserver", &format!("127.0.0.1:{dns_port}")])
            // Validate at once and never reject a nonce: a test needs no chaos.
            .env("PEBBLE_VA_NOSLEEP", "1")
            .env("PEBBLE_WFE_NONCEREJECT", "0")
            .stdout(std::fs::File::create(self.dir.join("pebble.log")).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .expect("pebble (Debian package pebble) is installed");
        self.processes.push(Killed(pebble));
        wait_for_port(self.acme_port, "pebble").await;
        wait_for_port(self.management.port(), "pebble's management").await;
    }

    /// Stops Pebble and its DNS.
    fn stop(&mut self) {
        self.processes.clear();
    }

    /// Pebble's root this run (it makes a new one at each start).
    async fn root(&self) -> Vec<u8> {
        let pem = std::fs::read(&self.cert_file).unwrap();
        let endpoint = common::Endpoint::trusting(self.management, &pem, "localhost");
        let r = endpoint.request("GET", "/roots/0", &[], "").await;
        assert_eq!(r.status, 200, "{r:?}");
        assert!(r.body.contains("BEGIN CERTIFICATE"), "{}", r.body);
        r.body.into_bytes()
    }
}

fn relay_config(dir: &Path, directory: &str) -> PathBuf {
    let config = dir.join("relay.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nsite_name = \"Test site\"\n[turn]\nlisten = \"127.0.0.1:0\"\n\
             [tls]\nacme = {{ domains = [\"{DOMAIN}\"], contact = \"it@acote.test\", \
             directory = \"{directory}\" }}\n"
        ),
    )
    .unwrap();
    config
}

fn start_relay(dir: &Path, port: u16, authority_cert: &Path, run: &str) -> (Killed, PathBuf) {
    let out = dir.join(format!("relay-{run}.out"));
    let child = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--config",
        ])
        .arg(dir.join("relay.toml"))
        .arg("--data-dir")
        .arg(dir.join("data"))
        // The authority's HTTPS is checked against the system's roots; here, Pebble's.
        .env("SSL_CERT_FILE", authority_cert)
        .env("RUST_LOG", "info")
        .stdout(Stdio::from(std::fs::File::create(&out).unwrap()))
        .stderr(Stdio::from(
            std::fs::File::create(dir.join(format!("relay-{run}.log"))).unwrap(),
        ))
        .spawn()
        .unwrap();
    (Killed(child), out)
}

/// Whether a TLS handshake with the relay succeeds against `root` for [`DOMAIN`]: it
/// fails while the relay has no certificate from the authority.
async fn handshake_ok(addr: SocketAddr, root: &[u8]) -> bool {
    let endpoint = common::Endpoint::trusting(addr, root, DOMAIN);
    let Ok(tcp) = tokio::net::TcpStream::connect(addr).await else {
        return false;
    };
    let connector = tokio_rustls::TlsConnector::from(endpoint.tls.clone());
    let name = rustls::pki_types::ServerName::try_from(DOMAIN).unwrap();
    connector.connect(name, tcp).await.is_ok()
}

/// `GET /healthz` answered over a certificate checked against `root`.
async fn healthz(addr: SocketAddr, root: &[u8]) -> bool {
    if !handshake_ok(addr, root).await {
        return false;
    }
    let endpoint = common::Endpoint::trusting(addr, root, DOMAIN);
    endpoint.request("GET", "/healthz", &[], "").await.status == 200
}

async fn served_within(addr: SocketAddr, root: &[u8], secs: u64) -> bool {
    for _ in 0..secs * 5 {
        if healthz(addr, root).await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

fn log_of(dir: &Path, run: &str) -> String {
    std::fs::read_to_string(dir.join(format!("relay-{run}.log"))).unwrap_or_default()
}

async fn wait_for_log(dir: &Path, run: &str, text: &str) -> bool {
    wait_for_text(&dir.join(format!("relay-{run}.log")), text).await
}

/// Whether `file` comes to hold `text` within 30 s: the relay prints after it listens.
async fn wait_for_text(file: &Path, text: &str) -> bool {
    for _ in 0..300 {
        if std::fs::read_to_string(file)
            .unwrap_or_default()
            .contains(text)
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test]
async fn the_relay_gets_its_certificate_by_acme_keeps_trying_while_the_authority_is_down_and_reuses_it()
 {
    let dir = temp_dir("order");
    let port = free_tcp_port();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut authority = Authority::new(&dir);
    relay_config(&dir, &authority.directory());

    // The authority is not up yet: the relay starts anyway, says where its certificate
    // comes from (no fingerprint to pin), and says why it has none yet.
    let (_relay, out) = start_relay(&dir, port, &authority.cert_file, "first");
    wait_for_port(port, "the relay").await;
    let from = format!(
        "certificate by ACME for {DOMAIN} from {}",
        authority.directory()
    );
    let found = wait_for_text(&out, &from).await;
    let printed = std::fs::read_to_string(&out).unwrap_or_default();
    assert!(found, "{printed}");
    assert!(!printed.contains("certificate sha256"), "{printed}");
    assert!(
        wait_for_log(&dir, "first", "ACME: no certificate this time").await,
        "{}",
        log_of(&dir, "first")
    );

    // Authority up: the relay tries again by itself; the certificate is ordered,
    // validated on the relay's own HTTPS port and served, checked against Pebble's root
    // for the public name.
    authority.start(port).await;
    let root = authority.root().await;
    assert!(
        served_within(addr, &root, 90).await,
        "served with the authority's certificate; relay log:\n{}\npebble log:\n{}",
        log_of(&dir, "first"),
        std::fs::read_to_string(dir.join("pebble.log")).unwrap_or_default()
    );
    assert!(log_of(&dir, "first").contains("ACME: new certificate in use"));

    // Signaling works over it as over a pinned certificate.
    let endpoint = common::Endpoint::trusting(addr, &root, DOMAIN);
    let mut agent = endpoint.connect_from("127.0.0.1").await.unwrap();
    let answer = agent.hello(Role::Agent).await;
    // The STUN address handed out is the public name the certificate is for.
    let SignalMessage::Hello { ice_servers, .. } = answer else {
        panic!("{answer:?}")
    };
    assert!(ice_servers[0].urls[0].starts_with(&format!("stun:{DOMAIN}:")));
    assert!(matches!(
        agent.recv().await,
        Some(SignalMessage::Code { .. })
    ));
    drop(agent);

    // The keys are the relay's alone.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir.join("data/acme"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700);
    // The relay saves the certificate just after it deploys it.
    assert!(wait_for_log(&dir, "first", "ACME: certificate saved").await);
    assert!(saved(&dir));

    // Restart with the authority gone: the saved certificate is served at once.
    drop(_relay);
    authority.stop();
    let (_relay, _out) = start_relay(&dir, port, &authority.cert_file, "second");
    assert!(
        served_within(addr, &root, 30).await,
        "the saved certificate is served without the authority; log:\n{}",
        log_of(&dir, "second")
    );
    assert!(log_of(&dir, "second").contains("ACME: saved certificate in use"));
}

/// Whether a certificate file is in the ACME cache.
fn saved(dir: &Path) -> bool {
    std::fs::read_dir(dir.join("data/acme"))
        .map(|entries| {
            entries
                .flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with("cached_cert_"))
        })
        .unwrap_or(false)
}

#[test]
fn without_any_root_certificate_the_relay_refuses_to_start_and_says_why() {
    let dir = temp_dir("noroots");
    relay_config(&dir, "https://127.0.0.1:9/dir");
    // Neither the file nor the folder of system roots has any.
    let empty = dir.join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    let empty_dir = dir.join("no-certs");
    std::fs::create_dir_all(&empty_dir).unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(dir.join("relay.toml"))
        .arg("--data-dir")
        .arg(dir.join("data"))
        .env("SSL_CERT_FILE", &empty)
        .env("SSL_CERT_DIR", &empty_dir)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no root certificate"), "{err}");
}
