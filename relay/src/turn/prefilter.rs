//! What the relay checks on every TURN datagram or frame before the TURN engine sees it:
//! that it parses, that its source is not flooding, that an Allocate stays within its
//! session's quota, and that a permission or channel never points at a forbidden peer.
//! Synchronous and IO-free: it returns a verdict, the listener acts on it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use webrtc_stun::agent::TransactionId;
use webrtc_stun::attributes::{
    ATTR_MESSAGE_INTEGRITY, ATTR_NONCE, ATTR_USERNAME, ATTR_XOR_PEER_ADDRESS,
};
use webrtc_stun::error_code::{
    CODE_ALLOC_QUOTA_REACHED, CODE_FORBIDDEN, ErrorCode, ErrorCodeAttribute,
};
use webrtc_stun::fingerprint::FINGERPRINT;
use webrtc_stun::integrity::MessageIntegrity;
use webrtc_stun::message::{
    CLASS_ERROR_RESPONSE, CLASS_INDICATION, CLASS_REQUEST, METHOD_ALLOCATE, METHOD_CHANNEL_BIND,
    METHOD_CREATE_PERMISSION, Message, MessageType, Setter,
};

use super::policy::Refusal;

/// The STUN magic cookie (RFC 8489).
const MAGIC: u32 = 0x2112_A442;

/// What to do with one datagram or frame.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Hand it to the TURN engine; `username` is the request's USERNAME, if any.
    Pass {
        /// The USERNAME attribute of a request, for the allocation's session context.
        username: Option<String>,
    },
    /// A request whose nonce was handed to another address (a replay, or a client that
    /// moved): forget the nonce, so the engine answers 438 Stale Nonce with a fresh one.
    StaleNonce {
        /// The nonce to forget.
        nonce: String,
        /// As in `Pass`.
        username: Option<String>,
    },
    /// Answer this (an error response) and do not process the request.
    Reply(Vec<u8>, Dropped),
    /// Drop it silently, as the STUN and TURN RFCs say for what does not parse.
    Drop(Dropped),
}

/// Why a message did not reach the engine, for counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dropped {
    /// Not STUN and not ChannelData, or a STUN message that does not parse.
    Malformed,
    /// The source sends requests faster than its budget.
    RateLimited,
    /// The session already holds its allocations.
    Quota,
    /// A permission or channel for a forbidden peer.
    ForbiddenPeer(Refusal),
    /// A nonce presented from another address than the one it was given to.
    Replay,
}

/// What the filter needs to know from the rest of the relay.
pub trait Context {
    /// Takes one request from `src`'s budget; false when over it.
    fn admit_request(&mut self, src: IpAddr) -> bool;
    /// Whether the session named by a TURN `username` holds all its allocations.
    fn over_allocation_quota(&self, username: &str) -> bool;
    /// The peer rule (policy plus own relay ports).
    fn peer_allowed(&self, peer: SocketAddr) -> Result<(), Refusal>;
    /// The long-term key for `username` if its credentials are valid (to sign refusals).
    fn key_for(&self, username: &str) -> Option<Vec<u8>>;
    /// A request named valid credentials but was not signed with their password.
    fn bad_integrity(&mut self) {}
    /// Whether `nonce` was handed to an address other than `src`.
    fn nonce_from_elsewhere(&self, _nonce: &str, _src: SocketAddr) -> bool {
        false
    }
}

/// Whether a buffer starts like ChannelData (first two bits 01).
pub fn is_channel_data(buf: &[u8]) -> bool {
    buf.first().is_some_and(|b| (0x40..=0x7f).contains(b))
}

/// Judges one datagram or frame from `src`.
pub fn judge(buf: &[u8], src: SocketAddr, ctx: &mut impl Context) -> Verdict {
    if is_channel_data(buf) {
        // Data: the engine checks the channel is bound; the relay socket checks peer and
        // budget. Here only the frame: a channel number of 0x4000–0x4FFF (RFC 8656 §12)
        // and a length that fits.
        let fits = buf.len() >= 4
            && buf[0] < 0x50
            && usize::from(u16::from_be_bytes([buf[2], buf[3]])) <= buf.len() - 4;
        return if fits {
            Verdict::Pass { username: None }
        } else {
            Verdict::Drop(Dropped::Malformed)
        };
    }
    if buf.len() < 20
        || buf[0] & 0xc0 != 0
        || u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]) != MAGIC
    {
        return Verdict::Drop(Dropped::Malformed);
    }
    let mut m = Message::new();
    if m.unmarshal_binary(buf).is_err() {
        return Verdict::Drop(Dropped::Malformed);
    }
    if m.typ.class == CLASS_INDICATION {
        // Send indications are data; the relay socket applies the peer rule to them.
        return Verdict::Pass { username: None };
    }
    if m.typ.class != CLASS_REQUEST {
        // Responses are never sent to a server; answering them could loop.
        return Verdict::Drop(Dropped::Malformed);
    }
    if !ctx.admit_request(src.ip()) {
        return Verdict::Drop(Dropped::RateLimited);
    }
    let username = m
        .get(ATTR_USERNAME)
        .ok()
        .and_then(|v| String::from_utf8(v).ok());
    let method = m.typ.method;
    if let Some(u) = &username
        && m.contains(ATTR_MESSAGE_INTEGRITY)
        && let Some(key) = ctx.key_for(u)
        && MessageIntegrity(key).check(&mut m).is_err()
    {
        // The engine answers it (401/400); counted here, where the cause is known.
        ctx.bad_integrity();
    }
    if method == METHOD_ALLOCATE
        && let Some(u) = &username
        && ctx.over_allocation_quota(u)
    {
        let reply = error_response(
            &m,
            CODE_ALLOC_QUOTA_REACHED,
            "Allocation Quota Reached",
            None,
        );
        return Verdict::Reply(reply, Dropped::Quota);
    }
    if method == METHOD_CREATE_PERMISSION || method == METHOD_CHANNEL_BIND {
        for peer in peer_addresses(&m) {
            if let Err(why) = ctx.peer_allowed(peer) {
                let key = username.as_deref().and_then(|u| ctx.key_for(u));
                let reply = error_response(&m, CODE_FORBIDDEN, "Forbidden", key);
                return Verdict::Reply(reply, Dropped::ForbiddenPeer(why));
            }
        }
    }
    let nonce = m
        .get(ATTR_NONCE)
        .ok()
        .and_then(|v| String::from_utf8(v).ok());
    if let Some(nonce) = nonce
        && ctx.nonce_from_elsewhere(&nonce, src)
    {
        return Verdict::StaleNonce { nonce, username };
    }
    Verdict::Pass { username }
}

/// The nonce of an outgoing 401 or 438 response, to remember whom it was given to.
pub fn issued_nonce(buf: &[u8]) -> Option<String> {
    // Only error responses carry a fresh nonce; data and success responses are skipped
    // on their first bytes, before any parsing.
    if buf.len() < 20 || buf[0] & 0xc0 != 0 || buf[0] & 0x01 == 0 || buf[1] & 0x10 == 0 {
        return None;
    }
    let mut m = Message::new();
    m.unmarshal_binary(buf).ok()?;
    if m.typ.class != CLASS_ERROR_RESPONSE {
        return None;
    }
    String::from_utf8(m.get(ATTR_NONCE).ok()?).ok()
}

/// Every XOR-PEER-ADDRESS of a message (a CreatePermission may carry several).
pub fn peer_addresses(m: &Message) -> Vec<SocketAddr> {
    m.attributes
        .0
        .iter()
        .filter(|a| a.typ == ATTR_XOR_PEER_ADDRESS)
        .filter_map(|a| decode_xor_address(&a.value, &m.transaction_id))
        .collect()
}

/// Decodes an XOR-…-ADDRESS value (RFC 8489 §14.2).
fn decode_xor_address(v: &[u8], tid: &TransactionId) -> Option<SocketAddr> {
    if v.len() < 4 {
        return None;
    }
    let port = u16::from_be_bytes([v[2], v[3]]) ^ (MAGIC >> 16) as u16;
    let mut key = [0u8; 16];
    key[..4].copy_from_slice(&MAGIC.to_be_bytes());
    key[4..].copy_from_slice(&tid.0);
    let ip = match (v[1], v.len()) {
        (0x01, 8) => {
            let mut b = [0u8; 4];
            for (i, out) in b.iter_mut().enumerate() {
                *out = v[4 + i] ^ key[i];
            }
            IpAddr::V4(Ipv4Addr::from(b))
        }
        (0x02, 20) => {
            let mut b = [0u8; 16];
            for (i, out) in b.iter_mut().enumerate() {
                *out = v[4 + i] ^ key[i];
            }
            IpAddr::V6(Ipv6Addr::from(b))
        }
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

/// An error response to request `m`, signed with `key` when the sender's credentials
/// are valid (so its client accepts it as authentic).
fn error_response(m: &Message, code: ErrorCode, reason: &str, key: Option<Vec<u8>>) -> Vec<u8> {
    let mut out = Message::new();
    let mut setters: Vec<Box<dyn Setter>> = vec![
        Box::new(TransactionId(m.transaction_id.0)),
        Box::new(MessageType::new(m.typ.method, CLASS_ERROR_RESPONSE)),
        Box::new(ErrorCodeAttribute {
            code,
            reason: reason.as_bytes().to_vec(),
        }),
    ];
    if let Some(key) = key {
        setters.push(Box::new(MessageIntegrity(key)));
    }
    setters.push(Box::new(FINGERPRINT));
    if out.build(&setters).is_err() {
        // Cannot happen with these fixed attributes; an empty reply is never sent.
        return Vec::new();
    }
    out.raw
}

#[cfg(test)]
mod tests {
    use super::*;
    use webrtc_stun::message::{BINDING_REQUEST, CLASS_SUCCESS_RESPONSE, Getter, METHOD_SEND};
    use webrtc_stun::textattrs::TextAttribute;
    use webrtc_stun::xoraddr::XorMappedAddress;

    struct Ctx {
        budget: u32,
        full: bool,
    }

    impl Context for Ctx {
        fn admit_request(&mut self, _src: IpAddr) -> bool {
            if self.budget == 0 {
                return false;
            }
            self.budget -= 1;
            true
        }
        fn over_allocation_quota(&self, _u: &str) -> bool {
            self.full
        }
        fn peer_allowed(&self, peer: SocketAddr) -> Result<(), Refusal> {
            super::super::policy::classify(peer.ip())
        }
        fn key_for(&self, u: &str) -> Option<Vec<u8>> {
            (u == "good").then(|| b"0123456789abcdef".to_vec())
        }
    }

    fn ctx() -> Ctx {
        Ctx {
            budget: 100,
            full: false,
        }
    }

    const SRC: &str = "198.51.100.1:4000";

    struct XorPeer(SocketAddr);
    impl Setter for XorPeer {
        fn add_to(&self, m: &mut Message) -> Result<(), webrtc_stun::Error> {
            XorMappedAddress {
                ip: self.0.ip(),
                port: self.0.port(),
            }
            .add_to_as(m, ATTR_XOR_PEER_ADDRESS)
        }
    }

    fn request(method: webrtc_stun::message::Method, peers: &[&str], user: &str) -> Vec<u8> {
        let mut m = Message::new();
        let mut setters: Vec<Box<dyn Setter>> = vec![
            Box::new(TransactionId::new()),
            Box::new(MessageType::new(method, CLASS_REQUEST)),
            Box::new(TextAttribute::new(ATTR_USERNAME, user.into())),
        ];
        for p in peers {
            setters.push(Box::new(XorPeer(p.parse().unwrap())));
        }
        m.build(&setters).unwrap();
        m.raw
    }

    fn error_code_of(raw: &[u8]) -> (u16, bool) {
        let mut m = Message::new();
        m.unmarshal_binary(raw).unwrap();
        assert_eq!(m.typ.class, CLASS_ERROR_RESPONSE);
        let mut e = ErrorCodeAttribute::default();
        e.get_from(&m).unwrap();
        let signed = m.contains(webrtc_stun::attributes::ATTR_MESSAGE_INTEGRITY);
        (e.code.0, signed)
    }

    #[test]
    fn garbage_is_dropped_silently() {
        let src = SRC.parse().unwrap();
        for buf in [
            &b""[..],
            &[0u8; 19][..],
            &[0xff; 40][..],
            &[0x40, 0, 0][..], // ChannelData shorter than its header
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        ] {
            assert_eq!(
                judge(buf, src, &mut ctx()),
                Verdict::Drop(Dropped::Malformed),
                "{buf:?}"
            );
        }
        // The right cookie but a length that lies.
        let mut lying = request(METHOD_ALLOCATE, &[], "good");
        lying[3] = lying[3].wrapping_add(40);
        assert_eq!(
            judge(&lying, src, &mut ctx()),
            Verdict::Drop(Dropped::Malformed)
        );
    }

    #[test]
    fn a_binding_request_passes_and_responses_never_do() {
        let src = SRC.parse().unwrap();
        let mut m = Message::new();
        m.build(&[Box::new(TransactionId::new()), Box::new(BINDING_REQUEST)])
            .unwrap();
        assert_eq!(
            judge(&m.raw, src, &mut ctx()),
            Verdict::Pass { username: None }
        );
        let mut resp = Message::new();
        resp.build(&[
            Box::new(TransactionId::new()),
            Box::new(MessageType::new(METHOD_ALLOCATE, CLASS_ERROR_RESPONSE)),
        ])
        .unwrap();
        assert_eq!(
            judge(&resp.raw, src, &mut ctx()),
            Verdict::Drop(Dropped::Malformed)
        );
    }

    #[test]
    fn a_flood_of_requests_is_cut_at_the_budget() {
        let src = SRC.parse().unwrap();
        let mut c = Ctx {
            budget: 3,
            full: false,
        };
        let req = request(METHOD_ALLOCATE, &[], "good");
        for _ in 0..3 {
            assert!(matches!(judge(&req, src, &mut c), Verdict::Pass { .. }));
        }
        assert_eq!(
            judge(&req, src, &mut c),
            Verdict::Drop(Dropped::RateLimited)
        );
        // Data keeps flowing (its budget is the relay socket's bandwidth).
        assert!(matches!(
            judge(&[0x40, 0x00, 0x00, 0x00], src, &mut c),
            Verdict::Pass { .. }
        ));
    }

    #[test]
    fn an_allocate_over_quota_gets_486() {
        let src = SRC.parse().unwrap();
        let mut c = Ctx {
            budget: 10,
            full: true,
        };
        let Verdict::Reply(raw, Dropped::Quota) =
            judge(&request(METHOD_ALLOCATE, &[], "good"), src, &mut c)
        else {
            panic!("expected a 486 reply");
        };
        assert_eq!(error_code_of(&raw).0, 486);
    }

    #[test]
    fn a_permission_for_any_forbidden_peer_gets_a_signed_403() {
        let src = SRC.parse().unwrap();
        // The forbidden peer is second: every address is checked, not only the first.
        let req = request(
            METHOD_CREATE_PERMISSION,
            &["8.8.8.8:3000", "10.0.0.5:3000"],
            "good",
        );
        let Verdict::Reply(raw, Dropped::ForbiddenPeer(Refusal::Private)) =
            judge(&req, src, &mut ctx())
        else {
            panic!("expected a 403");
        };
        assert_eq!(error_code_of(&raw), (403, true));
        let bind = request(METHOD_CHANNEL_BIND, &["[::1]:3000"], "stranger");
        let Verdict::Reply(raw, Dropped::ForbiddenPeer(Refusal::Loopback)) =
            judge(&bind, src, &mut ctx())
        else {
            panic!("expected a 403");
        };
        assert_eq!(
            error_code_of(&raw),
            (403, false),
            "unsigned without valid creds"
        );
        let ok = request(METHOD_CREATE_PERMISSION, &["8.8.8.8:3000"], "good");
        assert_eq!(
            judge(&ok, src, &mut ctx()),
            Verdict::Pass {
                username: Some("good".into())
            }
        );
    }

    #[test]
    fn peer_addresses_decode_v4_and_v6() {
        let req = request(
            METHOD_CREATE_PERMISSION,
            &["8.8.8.8:3000", "[2a01:4f8::1]:9", "127.0.0.1:1"],
            "u",
        );
        let mut m = Message::new();
        m.unmarshal_binary(&req).unwrap();
        let got: Vec<String> = peer_addresses(&m).iter().map(|a| a.to_string()).collect();
        assert_eq!(got, ["8.8.8.8:3000", "[2a01:4f8::1]:9", "127.0.0.1:1"]);
    }

    #[test]
    fn a_nonce_replayed_from_another_address_is_made_stale() {
        struct Book(SocketAddr);
        impl Context for Book {
            fn admit_request(&mut self, _: IpAddr) -> bool {
                true
            }
            fn over_allocation_quota(&self, _: &str) -> bool {
                false
            }
            fn peer_allowed(&self, _: SocketAddr) -> Result<(), Refusal> {
                Ok(())
            }
            fn key_for(&self, _: &str) -> Option<Vec<u8>> {
                None
            }
            fn nonce_from_elsewhere(&self, nonce: &str, src: SocketAddr) -> bool {
                nonce == "n1" && src != self.0
            }
        }
        let owner: SocketAddr = SRC.parse().unwrap();
        let mut m = Message::new();
        m.build(&[
            Box::new(TransactionId::new()),
            Box::new(MessageType::new(METHOD_ALLOCATE, CLASS_REQUEST)),
            Box::new(TextAttribute::new(ATTR_USERNAME, "u".into())),
            Box::new(TextAttribute::new(ATTR_NONCE, "n1".into())),
        ])
        .unwrap();
        let mut book = Book(owner);
        assert!(matches!(
            judge(&m.raw, owner, &mut book),
            Verdict::Pass { .. }
        ));
        let thief: SocketAddr = "203.0.113.66:4000".parse().unwrap();
        assert_eq!(
            judge(&m.raw, thief, &mut book),
            Verdict::StaleNonce {
                nonce: "n1".into(),
                username: Some("u".into())
            }
        );
    }

    #[test]
    fn issued_nonces_are_read_from_error_responses_only() {
        let mut e = Message::new();
        e.build(&[
            Box::new(TransactionId::new()),
            Box::new(MessageType::new(METHOD_ALLOCATE, CLASS_ERROR_RESPONSE)),
            Box::new(TextAttribute::new(ATTR_NONCE, "fresh".into())),
        ])
        .unwrap();
        assert_eq!(issued_nonce(&e.raw).as_deref(), Some("fresh"));
        let mut ok = Message::new();
        ok.build(&[
            Box::new(TransactionId::new()),
            Box::new(MessageType::new(METHOD_ALLOCATE, CLASS_SUCCESS_RESPONSE)),
            Box::new(TextAttribute::new(ATTR_NONCE, "x".into())),
        ])
        .unwrap();
        assert_eq!(issued_nonce(&ok.raw), None);
        assert_eq!(issued_nonce(&[0x40, 0, 0, 4, 1, 2, 3, 4]), None);
    }

    #[test]
    fn send_indications_pass_to_the_socket_rule() {
        let src = SRC.parse().unwrap();
        let mut m = Message::new();
        m.build(&[
            Box::new(TransactionId::new()),
            Box::new(MessageType::new(METHOD_SEND, CLASS_INDICATION)),
        ])
        .unwrap();
        assert_eq!(
            judge(
                &m.raw,
                src,
                &mut Ctx {
                    budget: 0,
                    full: true
                }
            ),
            Verdict::Pass { username: None }
        );
    }
}
