//! The agent's driver against a real relay on 127.0.0.1:0 (TLS, WSS, pinned certificate),
//! with a scripted viewer and an in-memory screen: consent, offer, end, and retries.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use acote_agent::capture::Capturer;
use acote_agent::capture::fake::FakeScreen;
use acote_agent::control::Marker;
use acote_agent::driver::{self, Options};
use acote_agent::input::consent::Grant;
use acote_agent::input::inject::{self, InjectError, Injector};
use acote_agent::transport::signal_client::{SignalClient, SignalClientError, signal_url};
use acote_agent::transport::tls::{self, Fingerprint};
use acote_agent::ui::{Prompter, Question, Status, UiEvent};
use acote_proto::{ByeReason, Requester, Role, SignalMessage};
use acote_relay::Relay;
use acote_relay::config::Config;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// The caseworker the scripted viewer is signed in as (the relay requires one).
const NAME: &str = "Marie Dupont";
const SITE: &str = "CHRS Les Lilas";

/// What the prompter was asked to show, in order.
#[derive(Debug, Clone, PartialEq)]
enum Shown {
    Status(String),
    Code(String),
    Asked(Requester),
    Withdrawn,
    Sharing,
    Ended(ByeReason, u64),
}

#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<Shown>>>, Option<mpsc::UnboundedSender<Shown>>);

impl Recorder {
    fn push(&mut self, s: Shown) {
        self.0.lock().unwrap().push(s.clone());
        if let Some(tx) = &self.1 {
            let _ = tx.send(s);
        }
    }
}

impl Prompter for Recorder {
    fn status(&mut self, status: &Status) {
        self.push(Shown::Status(format!("{status:?}")));
    }
    fn show_code(&mut self, grouped: &str) {
        self.push(Shown::Code(grouped.replace(' ', "")));
    }
    fn ask_view(&mut self, by: &Requester, _timeout: Duration) {
        self.push(Shown::Asked(by.clone()));
    }
    fn cancel_question(&mut self) {
        self.push(Shown::Withdrawn);
    }
    fn sharing(&mut self, _by: &Requester) {
        self.push(Shown::Sharing);
    }
    fn ask_control(&mut self, _by: &Requester, _timeout: Duration) {
        self.push(Shown::Status("asked for control".into()));
    }
    fn control_changed(&mut self, state: acote_proto::channel::ControlState, _by: &Requester) {
        self.push(Shown::Status(format!("control {state:?}")));
    }
    fn ask_voice(&mut self, _by: &Requester, _timeout: Duration) {
        self.push(Shown::Status("asked for voice".into()));
    }
    fn voice_changed(
        &mut self,
        state: acote_proto::channel::VoiceState,
        muted: bool,
        _by: &Requester,
    ) {
        self.push(Shown::Status(format!("voice {state:?} muted {muted}")));
    }
    fn chat_received(&mut self, _by: &Requester, text: &str) {
        self.push(Shown::Status(format!("chat received {text}")));
    }
    fn chat_sent(&mut self, text: &str) {
        self.push(Shown::Status(format!("chat sent {text}")));
    }
    fn clipboard_used(&mut self, _by: &Requester, read: bool) {
        self.push(Shown::Status(format!("clipboard read {read}")));
    }
    fn file_offered(&mut self, _by: &Requester, file: &acote_agent::files::FileReport) {
        self.push(Shown::Status(format!("file offered {}", file.name)));
    }
    fn file_ended(
        &mut self,
        _by: &Requester,
        file: &acote_agent::files::FileReport,
        status: acote_proto::files::FileStatus,
        _saved_to: Option<&std::path::Path>,
    ) {
        self.push(Shown::Status(format!(
            "file {} {}",
            file.name,
            status.as_str()
        )));
    }
    fn ended(&mut self, reason: ByeReason, frames: u64) {
        self.push(Shown::Ended(reason, frames));
    }
}

struct Harness {
    relay_addr: std::net::SocketAddr,
    fingerprint: String,
    stop_relay: Option<oneshot::Sender<()>>,
    data_dir: std::path::PathBuf,
    /// The signed-in caseworker's session cookie.
    cookie: String,
}

async fn start_relay(name: &str, listen: &str) -> Harness {
    let data_dir =
        std::env::temp_dir().join(format!("acote-agent-test-{name}-{}", std::process::id()));
    let mut config =
        Config::parse("[turn]\nlisten = \"127.0.0.1:0\"\n[server]\nsite_name = \"Test site\"\n")
            .unwrap();
    config.server.listen = listen.parse().unwrap();
    config.server.data_dir = data_dir.clone();
    let relay = Relay::start(&config).await.unwrap();
    // A caseworker and a live web session for them, as a sign-in would leave.
    relay
        .store()
        .add_account("marie", NAME, SITE, Some("$argon2id$unused"), None, 0)
        .await
        .unwrap();
    let token = acote_relay::auth::new_token();
    relay.state().auth_state().sessions.create(
        std::time::Instant::now(),
        "marie",
        &token,
        acote_relay::auth::new_token(),
    );
    let (stop, stopped) = oneshot::channel::<()>();
    let (relay_addr, fingerprint) = (relay.local_addr, relay.fingerprint.clone());
    tokio::spawn(relay.serve(async {
        let _ = stopped.await;
    }));
    Harness {
        relay_addr,
        fingerprint,
        stop_relay: Some(stop),
        data_dir,
        cookie: format!("__Host-acote_session={token}"),
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        if let Some(s) = self.stop_relay.take() {
            let _ = s.send(());
        }
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// Control is not exercised here (it needs a WebRTC data channel: see the e2e tests);
/// this injector would record nothing, and says so loudly if ever called.
struct NoInput;

impl Injector for NoInput {
    fn inject(
        &mut self,
        _: &Grant,
        input: &acote_proto::channel::ViewerMessage,
    ) -> Result<(), InjectError> {
        panic!("unexpected input {}", input.kind());
    }
    fn release_all(&mut self) -> Result<(), InjectError> {
        Ok(())
    }
}

struct NoMarker;

impl Marker for NoMarker {
    fn show(&self, _: f64, _: f64) {}
}

fn options(addr: std::net::SocketAddr, fingerprint: &str, opened: Arc<AtomicUsize>) -> Options {
    let pin: Fingerprint = fingerprint.parse().unwrap();
    Options {
        signal_url: signal_url(&format!("https://127.0.0.1:{}", addr.port())).unwrap(),
        tls: tls::client_config(Some(pin)).unwrap(),
        lang: "en".into(),
        include_loopback: true,
        relay_only: false,
        open_capturer: Arc::new(move || {
            let opened = opened.clone();
            Box::new(move || {
                opened.fetch_add(1, Ordering::SeqCst);
                Ok(Box::new(FakeScreen::new(640, 360)) as Box<dyn Capturer>)
            })
        }),
        open_injector: Arc::new(|| inject::spawn(|| Ok(NoInput))),
        open_marker: Arc::new(|| Box::new(NoMarker)),
        monitors: Arc::new(Vec::new),
        downloads: std::env::temp_dir().join("acote-driver-test-downloads"),
        open_clipboard: Arc::new(|| {
            Err(acote_agent::input::clipboard::ClipboardError::Unavailable(
                "none in tests".into(),
            ))
        }),
    }
}

/// Runs the driver in the background; returns its answer channel, event feed and stopper.
fn spawn_agent(
    opts: Options,
) -> (
    mpsc::UnboundedSender<UiEvent>,
    mpsc::UnboundedReceiver<Shown>,
    oneshot::Sender<()>,
) {
    let (ui_tx, mut ui_rx) = mpsc::unbounded_channel();
    let (shown_tx, shown_rx) = mpsc::unbounded_channel();
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let mut prompter = Recorder(Arc::default(), Some(shown_tx));
        let _ = driver::run(opts, &mut prompter, &mut ui_rx, async {
            let _ = stop_rx.await;
        })
        .await;
    });
    (ui_tx, shown_rx, stop_tx)
}

async fn next_matching(
    rx: &mut mpsc::UnboundedReceiver<Shown>,
    what: &str,
    f: impl Fn(&Shown) -> bool,
) -> Shown {
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let s = rx.recv().await.expect("agent stopped");
            if f(&s) {
                return s;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("agent never showed {what}"))
}

/// A scripted viewer: a WSS signaling client carrying the caseworker's cookie.
struct Viewer {
    ws: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
}

impl Viewer {
    async fn send(&mut self, msg: &SignalMessage) -> Result<(), SignalClientError> {
        self.ws
            .send(Message::Text(msg.to_json().into()))
            .await
            .map_err(|e| SignalClientError::Unreachable(e.to_string()))
    }

    async fn recv(&mut self) -> Result<Option<SignalMessage>, SignalClientError> {
        loop {
            match self.ws.next().await {
                Some(Ok(Message::Text(t))) => return Ok(SignalMessage::parse(t.as_str()).ok()),
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return Ok(None),
                Some(Ok(_)) => continue,
            }
        }
    }
}

async fn viewer(h: &Harness) -> Viewer {
    let pin: Fingerprint = h.fingerprint.parse().unwrap();
    let url = format!("wss://127.0.0.1:{}/signal", h.relay_addr.port());
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("cookie", h.cookie.parse().unwrap());
    let (ws, _) = tokio_tungstenite::connect_async_tls_with_config(
        request,
        None,
        true,
        Some(tokio_tungstenite::Connector::Rustls(
            tls::client_config(Some(pin)).unwrap(),
        )),
    )
    .await
    .unwrap();
    let mut v = Viewer { ws };
    v.send(&SignalMessage::client_hello(Role::Viewer, None))
        .await
        .unwrap();
    assert!(matches!(
        v.recv().await.unwrap(),
        Some(SignalMessage::Hello { .. })
    ));
    v
}

async fn code(rx: &mut mpsc::UnboundedReceiver<Shown>) -> String {
    match next_matching(rx, "a code", |s| matches!(s, Shown::Code(_))).await {
        Shown::Code(c) => c,
        _ => unreachable!(),
    }
}

/// An agent with its code redeemed by a signed-in viewer, its question on screen.
struct Asked {
    ui: mpsc::UnboundedSender<UiEvent>,
    shown: mpsc::UnboundedReceiver<Shown>,
    v: Viewer,
    opened: Arc<AtomicUsize>,
    asked: Shown,
    _stop: oneshot::Sender<()>,
}

async fn asked(h: &Harness) -> Asked {
    let opened = Arc::new(AtomicUsize::new(0));
    let (ui, mut shown, stop) = spawn_agent(options(h.relay_addr, &h.fingerprint, opened.clone()));
    let code = code(&mut shown).await;
    let mut v = viewer(h).await;
    v.send(&SignalMessage::Redeem {
        code,
        procedure: None,
    })
    .await
    .unwrap();
    let asked = next_matching(&mut shown, "the question", |s| matches!(s, Shown::Asked(_))).await;
    Asked {
        ui,
        shown,
        v,
        opened,
        asked,
        _stop: stop,
    }
}

#[tokio::test]
async fn yes_leads_to_an_offer_with_video_and_the_acote_channel() {
    let h = start_relay("yes", "127.0.0.1:0").await;
    let Asked {
        ui,
        mut shown,
        mut v,
        opened,
        asked,
        _stop: _keep_running,
    } = asked(&h).await;
    assert_eq!(
        asked,
        Shown::Asked(Requester {
            name: Some(NAME.into()),
            site: SITE.into()
        })
    );
    assert_eq!(
        opened.load(Ordering::SeqCst),
        0,
        "nothing captured before yes"
    );
    ui.send(UiEvent::Answer {
        question: Question::View,
        yes: true,
    })
    .unwrap();
    let offer = loop {
        match v.recv().await.unwrap() {
            Some(SignalMessage::Offer { sdp }) => break sdp,
            Some(_) => continue,
            None => panic!("relay closed"),
        }
    };
    assert!(offer.contains("m=video"), "{offer}");
    assert!(offer.contains("H264/90000"));
    assert!(offer.contains("a=sendonly"));
    assert!(
        offer.contains("m=application"),
        "the data channel is in the offer"
    );
    // The agent is the DTLS client in every section, so a lost last flight is resent.
    assert_eq!(
        offer.matches("a=setup:active").count(),
        offer.matches("m=").count(),
        "{offer}"
    );
    assert!(!offer.contains("a=setup:actpass"));
    assert_eq!(opened.load(Ordering::SeqCst), 1);
    v.send(&SignalMessage::Bye {
        reason: ByeReason::Ended,
    })
    .await
    .unwrap();
    let ended = next_matching(&mut shown, "the end", |s| matches!(s, Shown::Ended(..))).await;
    let Shown::Ended(ByeReason::Ended, frames) = ended else {
        panic!("{ended:?}")
    };
    assert!(frames >= 1, "the fake screen was captured");
    code_after_end(&mut shown).await;
}

async fn code_after_end(shown: &mut mpsc::UnboundedReceiver<Shown>) {
    next_matching(shown, "a new code", |s| matches!(s, Shown::Code(_))).await;
}

#[tokio::test]
async fn no_shares_nothing_and_the_viewer_is_told() {
    let h = start_relay("no", "127.0.0.1:0").await;
    let Asked {
        ui,
        mut shown,
        mut v,
        opened,
        _stop: _keep_running,
        ..
    } = asked(&h).await;
    // A yes given to the control question (say, a window late to redraw) is not a yes
    // to being seen: nothing is shared by it.
    ui.send(UiEvent::Answer {
        question: Question::Control,
        yes: true,
    })
    .unwrap();
    ui.send(UiEvent::Answer {
        question: Question::View,
        yes: false,
    })
    .unwrap();
    loop {
        match v.recv().await.unwrap() {
            Some(SignalMessage::Bye { reason }) => {
                assert_eq!(reason, ByeReason::Refused);
                break;
            }
            Some(SignalMessage::Offer { .. }) => panic!("an offer after no"),
            Some(_) => continue,
            None => panic!("relay closed"),
        }
    }
    let ended = next_matching(&mut shown, "the end", |s| matches!(s, Shown::Ended(..))).await;
    assert_eq!(ended, Shown::Ended(ByeReason::Refused, 0));
    assert_eq!(
        opened.load(Ordering::SeqCst),
        0,
        "the capturer was never opened"
    );
}

#[tokio::test]
async fn a_relay_that_is_down_at_start_is_retried_until_it_comes() {
    // Reserve a port, free it, and start the agent against it before the relay exists.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    // The fingerprint is only known once the relay made its certificate: make it first.
    let h = start_relay("retry", &format!("127.0.0.1:{port}")).await;
    let fingerprint = h.fingerprint.clone();
    let data_dir = h.data_dir.clone();
    // Stop that relay but keep its data dir (and so its certificate) for the restart.
    let mut h = h;
    if let Some(stop) = h.stop_relay.take() {
        let _ = stop.send(());
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_ui, mut shown, _stop) = spawn_agent(options(addr, &fingerprint, Arc::default()));
    next_matching(
        &mut shown,
        "a retry",
        |s| matches!(s, Shown::Status(t) if t.starts_with("Retrying")),
    )
    .await;
    // Same data dir → same certificate → the pinned fingerprint still matches.
    let mut config = Config::parse("[turn]\nenabled = false\n").unwrap();
    config.server.listen = addr;
    config.server.data_dir = data_dir.clone();
    let _ = std::fs::create_dir_all(&data_dir);
    let relay = Relay::start(&config).await;
    let relay = match relay {
        Ok(r) => r,
        Err(e) => panic!("restart failed: {e}"),
    };
    tokio::spawn(relay.serve(std::future::pending()));
    code(&mut shown).await;
}

#[tokio::test]
async fn a_wrong_fingerprint_is_refused_for_good() {
    let h = start_relay("pin", "127.0.0.1:0").await;
    let wrong = "00".repeat(32);
    let opts = options(h.relay_addr, &wrong, Arc::default());
    let mut prompter = Recorder::default();
    let (_ui_tx, mut ui_rx) = mpsc::unbounded_channel();
    let result = tokio::time::timeout(
        Duration::from_secs(20),
        driver::run(opts, &mut prompter, &mut ui_rx, std::future::pending()),
    )
    .await
    .expect("a pin mismatch must not be retried forever");
    match result {
        Err(SignalClientError::Untrusted(why)) => {
            assert!(why.contains("is not the pinned one"), "{why}");
            assert!(
                why.contains(&h.fingerprint),
                "names the certificate presented: {why}"
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn system_roots_do_not_trust_a_self_signed_relay() {
    let h = start_relay("roots", "127.0.0.1:0").await;
    let url = signal_url(&format!("https://127.0.0.1:{}", h.relay_addr.port())).unwrap();
    let Ok(config) = tls::client_config(None) else {
        // A machine without system roots is refused at setup, which is also a refusal.
        return;
    };
    match SignalClient::connect(&url, config).await {
        Err(SignalClientError::Untrusted(why)) => assert!(why.contains("is not trusted"), "{why}"),
        Err(other) => panic!("expected an untrusted certificate, got {other}"),
        Ok(_) => panic!("a self-signed relay was trusted without a pin"),
    }
}
