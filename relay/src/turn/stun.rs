//! A STUN binding responder (RFC 8489): answers "what address do you see me from?" and
//! nothing else. It relays no data, so it cannot be used as a proxy.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::net::UdpSocket;
use webrtc_stun::agent::TransactionId;
use webrtc_stun::message::{BINDING_REQUEST, BINDING_SUCCESS, Message, Setter};
use webrtc_stun::xoraddr::XorMappedAddress;

/// Counters of the STUN responder.
#[derive(Debug, Default)]
pub struct StunStats {
    /// Binding requests answered.
    pub answered: AtomicU64,
    /// Datagrams that were not binding requests (ignored, never answered).
    pub ignored: AtomicU64,
}

/// Builds the success response to one datagram, or `None` if it is not a binding request.
pub fn respond(datagram: &[u8], from: SocketAddr) -> Option<Vec<u8>> {
    let mut request = Message::new();
    request.unmarshal_binary(datagram).ok()?;
    if request.typ != BINDING_REQUEST {
        return None;
    }
    let mut response = Message::new();
    let setters: [Box<dyn Setter>; 3] = [
        Box::new(TransactionId(request.transaction_id.0)),
        Box::new(BINDING_SUCCESS),
        Box::new(XorMappedAddress {
            ip: from.ip(),
            port: from.port(),
        }),
    ];
    response.build(&setters).ok()?;
    Some(response.raw)
}

/// Answers binding requests on `socket` until the task is dropped.
pub async fn serve(socket: UdpSocket, stats: Arc<StunStats>) {
    // Large enough for any STUN message we answer; longer datagrams are cut and fail to parse.
    let mut buf = vec![0u8; 1500];
    loop {
        let (len, from) = match socket.recv_from(&mut buf).await {
            Ok(r) => r,
            Err(e) => {
                // ICMP errors from earlier sends surface here on some systems; keep serving.
                tracing::debug!(error = %e, "stun receive error");
                continue;
            }
        };
        match respond(&buf[..len], from) {
            Some(reply) => {
                stats.answered.fetch_add(1, Ordering::Relaxed);
                if let Err(e) = socket.send_to(&reply, from).await {
                    tracing::debug!(error = %e, "stun send error");
                }
            }
            None => {
                stats.ignored.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use webrtc_stun::message::Getter;

    #[test]
    fn binding_request_gets_the_source_address_back() {
        let mut req = Message::new();
        req.build(&[Box::new(TransactionId::new()), Box::new(BINDING_REQUEST)])
            .unwrap();
        let from: SocketAddr = "203.0.113.7:40000".parse().unwrap();
        let raw = respond(&req.raw, from).unwrap();
        let mut resp = Message::new();
        resp.unmarshal_binary(&raw).unwrap();
        assert_eq!(resp.typ, BINDING_SUCCESS);
        assert_eq!(resp.transaction_id, req.transaction_id);
        let mut xor = XorMappedAddress::default();
        xor.get_from(&resp).unwrap();
        assert_eq!(SocketAddr::new(xor.ip, xor.port), from);
    }

    #[test]
    fn garbage_and_other_methods_get_no_answer() {
        let from: SocketAddr = "203.0.113.7:40000".parse().unwrap();
        assert!(respond(b"", from).is_none());
        assert!(respond(&[0xff; 64], from).is_none());
        let mut ok = Message::new();
        ok.build(&[Box::new(TransactionId::new()), Box::new(BINDING_SUCCESS)])
            .unwrap();
        assert!(
            respond(&ok.raw, from).is_none(),
            "responses are never answered (no loops)"
        );
    }
}
