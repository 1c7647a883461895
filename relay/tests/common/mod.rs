//! Starting a real relay on 127.0.0.1:0 and talking to it over real TLS and WSS.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report
#![allow(dead_code, unreachable_pub, missing_docs)]

pub mod postgres;
pub mod process;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use acote_proto::SignalMessage;
use acote_relay::Relay;
use acote_relay::config::Config;
use acote_relay::signaling::driver::HubHandle;
use futures_util::{SinkExt, StreamExt};
use rustls::pki_types::pem::PemObject;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

/// The caseworker every test relay starts with.
pub const LOGIN: &str = "marie";
pub const NAME: &str = "Marie Dupont";
pub const SITE: &str = "CHRS Les Lilas";
pub const PASSWORD: &str = "cheval agrafe batterie";

/// A raw HTTP response.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl HttpResponse {
    /// The session cookie set by this response, as `name=value`.
    pub fn cookie(&self) -> Option<String> {
        self.head
            .lines()
            .find(|l| {
                l.to_ascii_lowercase()
                    .starts_with("set-cookie: __host-acote_session=")
            })
            .and_then(|l| l.split_once(": "))
            .and_then(|(_, v)| v.split(';').next())
            .map(str::to_string)
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// Where a relay listens and how to trust it: enough to talk to an in-process relay or
/// to a relay process.
#[derive(Clone)]
pub struct Endpoint {
    pub addr: std::net::SocketAddr,
    pub tls: Arc<rustls::ClientConfig>,
    /// The name asked for (SNI and Host), checked against the certificate.
    pub name: String,
}

impl Endpoint {
    /// Trusts exactly the self-signed certificate in `data_dir`, as a pinned agent would.
    pub fn new(addr: std::net::SocketAddr, data_dir: &std::path::Path) -> Self {
        let pem = std::fs::read(data_dir.join("tls/cert.pem")).unwrap();
        Self::trusting(addr, &pem, "localhost")
    }

    /// Trusts the PEM certificates in `pem` (e.g. an authority's root) for `name`.
    pub fn trusting(addr: std::net::SocketAddr, pem: &[u8], name: &str) -> Self {
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls::pki_types::CertificateDer::pem_slice_iter(pem) {
            roots.add(cert.unwrap()).unwrap();
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        Self {
            addr,
            tls: Arc::new(tls),
            name: name.to_string(),
        }
    }

    /// Signs in through `POST /api/login`.
    pub async fn sign_in(&self, login: &str, password: &str) -> HttpResponse {
        let body = serde_json::json!({ "login": login, "password": password }).to_string();
        self.request(
            "POST",
            "/api/login",
            &[("content-type", "application/json")],
            &body,
        )
        .await
    }

    /// Any HTTPS request; `headers` are added as given.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> HttpResponse {
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}:{}\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.name,
            self.addr.port(),
            body.len()
        );
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        head.push_str(body);
        let raw = self.raw(&head).await;
        let (h, b) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
        let status = h
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        HttpResponse {
            status,
            head: h.to_string(),
            body: b.to_string(),
        }
    }

    async fn raw(&self, request: &str) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let tcp = tokio::net::TcpStream::connect(self.addr).await.unwrap();
        let connector = tokio_rustls::TlsConnector::from(self.tls.clone());
        let name = rustls::pki_types::ServerName::try_from(self.name.clone()).unwrap();
        let mut tls = connector.connect(name, tcp).await.unwrap();
        tls.write_all(request.as_bytes()).await.unwrap();
        let mut out = Vec::new();
        let _ = tls.read_to_end(&mut out).await;
        String::from_utf8_lossy(&out).into_owned()
    }

    pub async fn connect_with(
        &self,
        origin: Option<&str>,
        cookie: Option<&str>,
    ) -> Result<Client, tokio_tungstenite::tungstenite::Error> {
        let url = format!("wss://localhost:{}/signal", self.addr.port());
        let mut request = url.into_client_request().unwrap();
        if let Some(o) = origin {
            request.headers_mut().insert("origin", o.parse().unwrap());
        }
        if let Some(c) = cookie {
            request.headers_mut().insert("cookie", c.parse().unwrap());
        }
        let (ws, _) = tokio_tungstenite::connect_async_tls_with_config(
            request,
            None,
            true,
            Some(Connector::Rustls(self.tls.clone())),
        )
        .await?;
        Ok(Client { ws, ice: None })
    }

    /// A signaling connection from a chosen loopback source address (127.0.0.0/8 is all
    /// this machine), to play several clients on one machine.
    pub async fn connect_from(
        &self,
        source: &str,
    ) -> Result<Client, tokio_tungstenite::tungstenite::Error> {
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.bind(format!("{source}:0").parse().unwrap())?;
        let stream = socket.connect(self.addr).await?;
        let url = format!("wss://{}:{}/signal", self.name, self.addr.port());
        let (ws, _) = tokio_tungstenite::client_async_tls_with_config(
            url,
            stream,
            None,
            Some(Connector::Rustls(self.tls.clone())),
        )
        .await?;
        Ok(Client { ws, ice: None })
    }
}

pub struct TestRelay {
    pub addr: std::net::SocketAddr,
    pub tls: Arc<rustls::ClientConfig>,
    pub hub: HubHandle,
    pub store: acote_relay::store::Store,
    /// The default caseworker's session cookie (`__Host-acote_session=…`).
    pub cookie: String,
    pub data_dir: PathBuf,
    /// The STUN/TURN service, when the configuration enables it.
    pub turn: Option<Arc<acote_relay::turn::TurnService>>,
    /// The plain-HTTP monitoring address, when `[metrics] listen` is set.
    pub metrics_addr: Option<std::net::SocketAddr>,
    stop: Option<oneshot::Sender<()>>,
    pub served: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl TestRelay {
    pub async fn start(name: &str) -> Self {
        Self::start_with(name, "").await
    }

    /// A relay whose configuration file also says `extra` (e.g. a `[limits]` section).
    pub async fn start_with(name: &str, extra: &str) -> Self {
        Self::start_sharing(name, extra, None).await
    }

    /// A relay as `start_with` makes it; with `audit_key`, that file is its audit key
    /// (relays sharing one database share it). The test caseworker is added unless the
    /// shared database has it already.
    pub async fn start_sharing(
        name: &str,
        extra: &str,
        audit_key: Option<&std::path::Path>,
    ) -> Self {
        let data_dir =
            std::env::temp_dir().join(format!("acote-relay-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&data_dir);
        if let Some(key) = audit_key {
            std::fs::create_dir_all(&data_dir).unwrap();
            std::fs::copy(key, data_dir.join(acote_relay::store::AUDIT_KEY_FILE)).unwrap();
        }
        let mut config = Config::parse(&format!(
            "[server]\nsite_name = \"Test site\"\n[turn]\nlisten = \"127.0.0.1:0\"\n{extra}"
        ))
        .unwrap();
        config.server.listen = "127.0.0.1:0".parse().unwrap();
        config.server.data_dir = data_dir.clone();
        let relay = Relay::start(&config).await.unwrap();
        let addr = relay.local_addr;
        let hub = relay.hub();
        let store = relay.store();
        let turn = relay.turn.clone();
        let metrics_addr = relay.metrics_addr;
        if store.account(LOGIN).await.unwrap().is_none() {
            let hash = acote_relay::auth::password::hash(PASSWORD).unwrap();
            store
                .add_account(LOGIN, NAME, SITE, Some(&hash), None, 0)
                .await
                .unwrap();
        }
        let tls = Endpoint::new(addr, &data_dir).tls;
        let (stop, stopped) = oneshot::channel::<()>();
        let served = tokio::spawn(relay.serve(async {
            let _ = stopped.await;
        }));
        let mut relay = Self {
            addr,
            tls,
            hub,
            store,
            cookie: String::new(),
            data_dir,
            turn,
            metrics_addr,
            stop: Some(stop),
            served,
        };
        let signed = relay.sign_in(LOGIN, PASSWORD).await;
        assert_eq!(signed.status, 200, "{signed:?}");
        relay.cookie = signed.cookie().unwrap();
        relay
    }

    fn endpoint(&self) -> Endpoint {
        Endpoint {
            addr: self.addr,
            tls: self.tls.clone(),
            name: "localhost".to_string(),
        }
    }

    /// Signs in through `POST /api/login`.
    pub async fn sign_in(&self, login: &str, password: &str) -> HttpResponse {
        self.endpoint().sign_in(login, password).await
    }

    /// Any HTTPS request.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> HttpResponse {
        self.endpoint().request(method, path, headers, body).await
    }

    /// A signaling connection from a chosen loopback address.
    pub async fn connect_from(
        &self,
        source: &str,
    ) -> Result<Client, tokio_tungstenite::tungstenite::Error> {
        self.endpoint().connect_from(source).await
    }

    /// A signaling connection carrying the default caseworker's cookie.
    pub async fn connect_viewer(&self) -> Client {
        self.connect_with(None, Some(&self.cookie)).await.unwrap()
    }

    pub fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    pub async fn connect(&self) -> Client {
        self.connect_with_origin(None).await.unwrap()
    }

    pub async fn connect_with_origin(
        &self,
        origin: Option<&str>,
    ) -> Result<Client, tokio_tungstenite::tungstenite::Error> {
        self.connect_with(origin, None).await
    }

    pub async fn connect_with(
        &self,
        origin: Option<&str>,
        cookie: Option<&str>,
    ) -> Result<Client, tokio_tungstenite::tungstenite::Error> {
        self.endpoint().connect_with(origin, cookie).await
    }

    /// A plain HTTPS GET; returns the raw response head and body.
    pub async fn get(&self, path: &str) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let tcp = tokio::net::TcpStream::connect(self.addr).await.unwrap();
        let connector = tokio_rustls::TlsConnector::from(self.tls.clone());
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let mut tls = connector.connect(name, tcp).await.unwrap();
        let req = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        tls.write_all(req.as_bytes()).await.unwrap();
        let mut out = Vec::new();
        let _ = tls.read_to_end(&mut out).await;
        String::from_utf8_lossy(&out).into_owned()
    }
}

impl Drop for TestRelay {
    fn drop(&mut self) {
        self.shutdown();
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

pub struct Client {
    pub ws: WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>,
    /// The last `ice_servers` message: `recv` sets it aside, since it follows every
    /// `paired` and most tests are about what comes next.
    pub ice: Option<SignalMessage>,
}

impl Client {
    /// Sends a message; a failure (the relay is gone) is ignored, the next read says so.
    pub async fn send(&mut self, msg: &SignalMessage) {
        let _ = self.ws.send(Message::Text(msg.to_json().into())).await;
    }

    pub async fn send_raw(&mut self, text: &str) {
        self.ws
            .send(Message::Text(text.to_string().into()))
            .await
            .unwrap();
    }

    pub async fn send_binary(&mut self, bytes: &[u8]) {
        self.ws
            .send(Message::Binary(bytes.to_vec().into()))
            .await
            .unwrap();
    }

    /// The next signaling message, or `None` if the relay closed the connection.
    pub async fn recv(&mut self) -> Option<SignalMessage> {
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(10), self.ws.next())
                .await
                .expect("no message from the relay within 10 s");
            match frame {
                Some(Ok(Message::Text(t))) => match SignalMessage::parse(t.as_str()).unwrap() {
                    m @ SignalMessage::IceServers { .. } => self.ice = Some(m),
                    m => return Some(m),
                },
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
                Some(Ok(_)) => continue,
            }
        }
    }

    /// Like `recv`, but `None` on any failure (the relay was killed) instead of a panic.
    pub async fn try_recv(&mut self) -> Option<SignalMessage> {
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(10), self.ws.next())
                .await
                .ok()?;
            match frame {
                Some(Ok(Message::Text(t))) => match SignalMessage::parse(t.as_str()).ok()? {
                    m @ SignalMessage::IceServers { .. } => self.ice = Some(m),
                    m => return Some(m),
                },
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
                Some(Ok(_)) => continue,
            }
        }
    }

    pub async fn hello(&mut self, role: acote_proto::Role) -> SignalMessage {
        self.send(&SignalMessage::client_hello(role, None)).await;
        self.recv().await.unwrap()
    }
}
