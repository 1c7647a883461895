//! The agent's signaling connection: WSS to the relay, with the trust rules of
//! [`super::tls`], and JSON messages in and out.

use std::sync::Arc;

use acote_proto::signal::MAX_MESSAGE_BYTES;
use acote_proto::{SignalError, SignalMessage};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

/// Why the relay could not be reached or used.
#[derive(Debug, thiserror::Error)]
pub enum SignalClientError {
    /// The relay URL is not usable (exit 2: configuration).
    #[error("the relay address {0:?} is not valid: use https://host[:port]")]
    BadUrl(String),
    /// The relay's certificate was refused: no retry, this is not a passing fault.
    #[error("refusing the relay: {0}")]
    Untrusted(String),
    /// Network, TLS or WebSocket failure: worth retrying.
    #[error("{0}")]
    Unreachable(String),
    /// The relay sent something that is not a valid message.
    #[error("the relay sent an invalid message: {0}")]
    Protocol(#[from] SignalError),
}

impl SignalClientError {
    /// Whether trying again later may help.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            SignalClientError::Unreachable(_) | SignalClientError::Protocol(_)
        )
    }
}

/// Turns what the admin wrote (`https://relay.example:8443`) into the signaling URL.
pub fn signal_url(relay: &str) -> Result<String, SignalClientError> {
    let bad = || SignalClientError::BadUrl(relay.to_string());
    let relay = relay.trim();
    let rest = if let Some(rest) = relay.strip_prefix("https://") {
        rest
    } else if let Some(rest) = relay.strip_prefix("wss://") {
        rest
    } else if relay.contains("://") {
        // Plain http/ws would expose codes and SDP: TLS is not optional.
        return Err(bad());
    } else {
        relay
    };
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty() || host.contains(['@', ' ', '?', '#']) {
        return Err(bad());
    }
    Ok(format!("wss://{host}/signal"))
}

/// An open signaling connection.
pub struct SignalClient {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl SignalClient {
    /// Connects to `url` (from [`signal_url`]) trusting only what `tls` trusts.
    pub async fn connect(
        url: &str,
        tls: Arc<rustls::ClientConfig>,
    ) -> Result<Self, SignalClientError> {
        let mut config = WebSocketConfig::default();
        config.max_message_size = Some(4 * MAX_MESSAGE_BYTES);
        config.max_frame_size = Some(4 * MAX_MESSAGE_BYTES);
        let connecting = tokio_tungstenite::connect_async_tls_with_config(
            url,
            Some(config),
            true,
            Some(Connector::Rustls(tls)),
        );
        let (ws, _) = tokio::time::timeout(std::time::Duration::from_secs(15), connecting)
            .await
            .map_err(|_| SignalClientError::Unreachable("no answer within 15 s".into()))?
            .map_err(classify)?;
        Ok(Self { ws })
    }

    /// Sends one message.
    pub async fn send(&mut self, msg: &SignalMessage) -> Result<(), SignalClientError> {
        self.ws
            .send(Message::Text(msg.to_json().into()))
            .await
            .map_err(|e| SignalClientError::Unreachable(e.to_string()))
    }

    /// The next message; `Ok(None)` when the relay closed the connection.
    pub async fn recv(&mut self) -> Result<Option<SignalMessage>, SignalClientError> {
        loop {
            let Some(frame) = self.ws.next().await else {
                return Ok(None);
            };
            match frame.map_err(|e| SignalClientError::Unreachable(e.to_string()))? {
                Message::Text(text) => return Ok(Some(SignalMessage::parse(text.as_str())?)),
                Message::Close(_) => return Ok(None),
                // Pings are answered by tungstenite itself on the next read/write.
                _ => continue,
            }
        }
    }

    /// Closes politely.
    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

/// Separates "the certificate was refused" (final) from network trouble (retry).
fn classify(e: tungstenite::Error) -> SignalClientError {
    if let tungstenite::Error::Io(io) = &e
        && let Some(tls) = io
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        && matches!(tls, rustls::Error::InvalidCertificate(_))
    {
        return SignalClientError::Untrusted(super::tls::describe(tls));
    }
    if let tungstenite::Error::Tls(tls) = &e {
        return SignalClientError::Untrusted(tls.to_string());
    }
    SignalClientError::Unreachable(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_urls() {
        assert_eq!(
            signal_url("https://relay.example:8443").unwrap(),
            "wss://relay.example:8443/signal"
        );
        assert_eq!(
            signal_url("https://relay.example/").unwrap(),
            "wss://relay.example/signal"
        );
        assert_eq!(
            signal_url("relay.example").unwrap(),
            "wss://relay.example/signal"
        );
        assert_eq!(
            signal_url("wss://127.0.0.1:9/signal").unwrap(),
            "wss://127.0.0.1:9/signal"
        );
        assert!(signal_url("http://relay.example").is_err());
        assert!(signal_url("ws://relay.example").is_err());
        assert!(signal_url("https://").is_err());
        assert!(signal_url("https://user@evil").is_err());
    }
}
