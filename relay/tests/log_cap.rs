//! Issue 16 (9): whatever `RUST_LOG` says — `TRACE`, `5`, a per-target or per-span
//! directive — the relay's log filter never lets the WebSocket library print frames
//! (which hold session codes and resumption tokens). Each spelling is first shown to
//! reach the frames without the cap, so the test proves the cap, not the spelling.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::io::Write;
use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::Role;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

const SECRET: &str = "CODE-483920-TOKEN-9f8e7d";

/// One text frame from a client to a server over an in-memory pipe, the way the relay's
/// signaling socket carries a `redeem`.
fn exchange_a_frame() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let conn = tracing::info_span!("conn");
    rt.block_on(tracing::Instrument::instrument(
        async {
            let (a, b) = tokio::io::duplex(64 * 1024);
            let mut client = WebSocketStream::from_raw_socket(a, Role::Client, None).await;
            let mut server = WebSocketStream::from_raw_socket(b, Role::Server, None).await;
            let json = format!(r#"{{"type":"redeem","code":"{SECRET}"}}"#);
            client.send(Message::Text(json.into())).await.unwrap();
            let got = server.next().await.unwrap().unwrap();
            assert!(got.to_text().unwrap().contains(SECRET));
            tracing::trace!(target: "acote_relay::probe", "probe at trace");
        },
        conn,
    ));
}

/// The logs of one exchange under `filter`.
fn logs_with<L>(filter: L) -> String
where
    L: tracing_subscriber::Layer<tracing_subscriber::Registry> + Send + Sync + 'static,
{
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::registry().with(filter).with(
        tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_writer(move || writer.clone()),
    );
    tracing::subscriber::with_default(subscriber, exchange_a_frame);
    captured.text()
}

#[test]
fn issue16_no_spelling_of_rust_log_prints_websocket_frames() {
    // The `log` records of the WebSocket library reach the thread's subscriber.
    let _ = tracing_subscriber::registry().try_init();
    for spelling in [
        "trace",
        "TRACE",
        "Trace",
        "5",
        "info,tungstenite=trace",
        "tungstenite::protocol=TRACE",
        "warn,tungstenite::protocol=5",
        "warn,[conn]=trace",
    ] {
        let uncapped = logs_with(tracing_subscriber::EnvFilter::new(spelling));
        assert!(
            uncapped.contains(SECRET),
            "{spelling}: without the cap the frame is printed (else this test proves nothing)"
        );
        let capped = logs_with(acote_relay::log_filter(Some(spelling), "info"));
        assert!(
            !capped.contains(SECRET),
            "{spelling}: a frame got through the cap:\n{capped}"
        );
        if !spelling.contains("tungstenite") {
            assert!(
                capped.contains("probe at trace"),
                "{spelling}: the relay's own trace lines are still printed"
            );
        }
    }
}
