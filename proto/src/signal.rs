//! Signaling messages between the agent, the relay and the viewer (DESIGN §4).
//!
//! One JSON object per WebSocket text frame, tagged by `"type"`. Unknown fields are
//! ignored so that minor additions stay compatible; unknown types and other major
//! versions are refused with an [`SignalError`] that maps to an `error` reply.

use serde::{Deserialize, Serialize};

/// The major protocol version spoken by this build. A `hello` with another is refused.
pub const PROTOCOL_VERSION: u32 = 1;

/// The largest signaling frame accepted, in bytes. An SDP offer is a few KiB.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// Which side of a session a connection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The resident's agent, which shares its screen.
    Agent,
    /// The caseworker's viewer page.
    Viewer,
}

/// Who redeemed a code, as vouched for by the relay (never chosen by the viewer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requester {
    /// The caseworker's display name, when the relay knows it (accounts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The site or service the relay belongs to.
    pub site: String,
}

/// One ICE server, in the shape `RTCIceServer` takes in browsers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceServer {
    /// `stun:` or `turn:` URLs.
    pub urls: Vec<String>,
    /// TURN user name, when credentials are needed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// TURN credential, when needed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

/// Machine-readable reason carried by an `error` message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Not JSON, not an object, no `type`, or a field of the wrong shape.
    Malformed,
    /// Over [`MAX_MESSAGE_BYTES`].
    TooLarge,
    /// A `type` this version does not know.
    UnknownType,
    /// A `hello` with another major version.
    UnsupportedVersion,
    /// The code is unknown, already used or expired (one answer for all three, so a
    /// guesser learns nothing).
    InvalidCode,
    /// Too many attempts from this address or account; try later.
    RateLimited,
    /// A valid message that makes no sense now (e.g. an offer before pairing).
    Unexpected,
    /// The relay cannot take this request now (shutting down, full).
    Unavailable,
    /// The relay cannot write its audit log, so no session may start or go on until an
    /// admin fixes it.
    AuditDown,
    /// Only a signed-in caseworker may do this (say hello as a viewer, redeem a code).
    SignInRequired,
    /// A code sent by a newer peer; treated as a generic error.
    #[serde(other)]
    Other,
}

/// Why a session ended, carried by `bye`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ByeReason {
    /// The resident said no to being seen.
    Refused,
    /// The resident did not answer within the time allowed.
    NoAnswer,
    /// One side ended the session normally.
    Ended,
    /// The other side disconnected.
    PeerGone,
    /// Something failed (media could not start, relay shutting down).
    Error,
    /// A side's connection to the relay dropped and was not back within the resumption
    /// window (60 s).
    ConnectionLost,
    /// A reason sent by a newer peer.
    #[serde(other)]
    Other,
}

impl ByeReason {
    /// The reason as it appears on the wire and in the agent's console output.
    pub fn as_str(self) -> &'static str {
        match self {
            ByeReason::Refused => "refused",
            ByeReason::NoAnswer => "no_answer",
            ByeReason::Ended => "ended",
            ByeReason::PeerGone => "peer_gone",
            ByeReason::Error => "error",
            ByeReason::ConnectionLost => "connection_lost",
            ByeReason::Other => "other",
        }
    }
}

/// Longest procedure label a caseworker may attach to a session, in characters.
pub const MAX_PROCEDURE_CHARS: usize = 60;

/// A step of the resident's consent, reported by the agent to the relay for the audit
/// log (never forwarded). Only the agent decides; this only tells what it decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentEvent {
    /// The resident was asked whether the caseworker may see the screen.
    ViewAsked,
    /// The resident said yes to being seen.
    ViewAllowed,
    /// The resident said no to being seen.
    ViewRefused,
    /// The resident did not answer the view question in time.
    ViewTimeout,
    /// The resident was asked whether the caseworker may take control.
    ControlAsked,
    /// The resident said yes to control.
    ControlAllowed,
    /// The resident said no to control.
    ControlRefused,
    /// The resident took control back.
    ControlRevoked,
    /// The resident did not answer the control question in time.
    ControlTimeout,
    /// The caseworker gave control back.
    ControlReleased,
    /// An event sent by a newer agent.
    #[serde(other)]
    Other,
}

impl ConsentEvent {
    /// The event as written on the wire and in the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentEvent::ViewAsked => "view_asked",
            ConsentEvent::ViewAllowed => "view_allowed",
            ConsentEvent::ViewRefused => "view_refused",
            ConsentEvent::ViewTimeout => "view_timeout",
            ConsentEvent::ControlAsked => "control_asked",
            ConsentEvent::ControlAllowed => "control_allowed",
            ConsentEvent::ControlRefused => "control_refused",
            ConsentEvent::ControlRevoked => "control_revoked",
            ConsentEvent::ControlTimeout => "control_timeout",
            ConsentEvent::ControlReleased => "control_released",
            ConsentEvent::Other => "other",
        }
    }
}

/// A guidance feature of a session, reported by the agent when it is first used so the
/// audit log can say it was (never what was said or sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Feature {
    /// Chat messages, either way.
    Chat,
    /// The clipboard, read or written by the caseworker.
    Clipboard,
    /// One of several monitors chosen by the caseworker.
    Screens,
    /// A file sent either way.
    Files,
    /// A feature named by a newer agent.
    #[serde(other)]
    Other,
}

impl Feature {
    /// The feature as written on the wire and in the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            Feature::Chat => "chat",
            Feature::Clipboard => "clipboard",
            Feature::Screens => "screens",
            Feature::Files => "files",
            Feature::Other => "other",
        }
    }
}

/// Longest language tag passed on to the caseworker, in bytes (BCP 47 tags in practice
/// stay well under this).
pub const MAX_LANGUAGE_TAG: usize = 35;

/// The agent's language tag as the relay passes it on: ASCII letters, digits and `-`
/// only, at most [`MAX_LANGUAGE_TAG`] bytes, else nothing (the agent is outside input).
pub fn clean_language_tag(raw: &str) -> Option<String> {
    let ok = !raw.is_empty()
        && raw.len() <= MAX_LANGUAGE_TAG
        && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    ok.then(|| raw.to_string())
}

/// A signaling message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SignalMessage {
    /// First message each way. Clients say their role; the relay answers with its site
    /// name and the ICE servers to use.
    Hello {
        /// Major protocol version.
        v: u32,
        /// The sender's role (clients only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        role: Option<Role>,
        /// The resident's language, BCP 47 (agent only), shown to the caseworker.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lang: Option<String>,
        /// The relay's site name (relay only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        site: Option<String>,
        /// ICE servers for this connection (relay only).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        ice_servers: Vec<IceServer>,
        /// A resumption token (clients only): "I am this side of that session, back after
        /// a drop". See [`crate::resume`].
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resume: Option<String>,
        /// The largest file either side of a session may send the other, in bytes; 0
        /// or absent: file transfer is off (relay only; see [`crate::files`]).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_file_bytes: Option<u64>,
    },
    /// Relay → agent: the code to show, and how many seconds it stays valid.
    Code {
        /// Six digits.
        code: String,
        /// Seconds until it expires.
        expires_in: u64,
    },
    /// Viewer → relay: the code the resident read aloud.
    Redeem {
        /// What the caseworker typed.
        code: String,
        /// An optional label for the help given (e.g. "CAF renewal"), kept in the audit
        /// log; at most [`MAX_PROCEDURE_CHARS`] characters.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        procedure: Option<String>,
    },
    /// Relay → both: the code was right and the two are now a session. The agent is told
    /// who asks; the viewer waits for the resident's answer.
    Paired {
        /// Who redeemed the code (to the agent only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<Requester>,
    },
    /// Relay → each side of a session, just before `paired`: the ICE servers for this
    /// session, with TURN credentials of its own that stop working when it ends.
    IceServers {
        /// STUN and TURN servers, credentials included.
        ice_servers: Vec<IceServer>,
        /// The site requires media to go through the relay (no direct path).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        relay_only: bool,
    },
    /// Relay → viewer, right after `paired`, when the agent said it: the resident's
    /// language (BCP 47, as cleaned by [`clean_language_tag`]), shown to the caseworker.
    Resident {
        /// The resident's language.
        lang: String,
    },
    /// Agent → viewer (through the relay): SDP offer, sent only after the resident's yes.
    Offer {
        /// The SDP.
        sdp: String,
    },
    /// Viewer → agent: SDP answer.
    Answer {
        /// The SDP.
        sdp: String,
    },
    /// Either way: a trickled ICE candidate, in the shape of `RTCIceCandidateInit`.
    Candidate {
        /// The `candidate:` line.
        candidate: String,
        /// Media section id.
        #[serde(rename = "sdpMid", default, skip_serializing_if = "Option::is_none")]
        sdp_mid: Option<String>,
        /// Media section index.
        #[serde(
            rename = "sdpMLineIndex",
            default,
            skip_serializing_if = "Option::is_none"
        )]
        sdp_mline_index: Option<u16>,
        /// ICE username fragment.
        #[serde(
            rename = "usernameFragment",
            default,
            skip_serializing_if = "Option::is_none"
        )]
        username_fragment: Option<String>,
    },
    /// Something the receiver sent was refused.
    Error {
        /// What went wrong, for programs.
        code: ErrorCode,
        /// What went wrong, for people.
        message: String,
        /// When to try again, in seconds, where the relay knows (rate limits, a full
        /// relay): programs read this, never the sentence.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after_s: Option<u32>,
    },
    /// The session ends.
    Bye {
        /// Why.
        reason: ByeReason,
    },
    /// Agent → relay: a consent step, for the audit log. The relay forwards nothing.
    Consent {
        /// What happened.
        event: ConsentEvent,
    },
    /// Agent → relay: a guidance feature was used for the first time in this session,
    /// for the audit log (the relay records it once per session and forwards nothing).
    Used {
        /// Which feature.
        feature: Feature,
    },
    /// Relay → each side of a session: the token that side presents in its `hello` to
    /// resume the session after its connection dropped. Sent at pairing and after each
    /// resume (a token works once).
    ResumeToken {
        /// 128 random bits, hex ([`crate::resume::ResumeToken`]).
        token: String,
    },
    /// Relay → a side that presented a valid token: the session goes on.
    Resumed {
        /// Who the caseworker is (to the agent only), as at pairing.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<Requester>,
        /// Whether the other side is connected right now (else a `peer_back` follows
        /// when it is).
        peer_present: bool,
    },
    /// Relay → one side: the other side's connection dropped; it has 60 s to come back.
    PeerAway,
    /// Relay → one side: the other side is back.
    PeerBack,
}

/// Why a frame could not be taken as a signaling message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignalError {
    /// Over the size limit; nothing of it was parsed.
    #[error("message of {size} bytes is over the {MAX_MESSAGE_BYTES}-byte limit")]
    TooLarge {
        /// Its size in bytes.
        size: usize,
    },
    /// Not a JSON object with a string `type`.
    #[error("malformed message: {0}")]
    Malformed(String),
    /// A type this version does not know.
    #[error("unknown message type {0:?}")]
    UnknownType(String),
    /// A `hello` with another major version.
    #[error(
        "protocol version {got} is not supported (this relay speaks version {PROTOCOL_VERSION})"
    )]
    UnsupportedVersion {
        /// The version the peer announced.
        got: u32,
    },
}

impl SignalError {
    /// The `error` code to send back for this failure.
    pub fn code(&self) -> ErrorCode {
        match self {
            SignalError::TooLarge { .. } => ErrorCode::TooLarge,
            SignalError::Malformed(_) => ErrorCode::Malformed,
            SignalError::UnknownType(_) => ErrorCode::UnknownType,
            SignalError::UnsupportedVersion { .. } => ErrorCode::UnsupportedVersion,
        }
    }

    /// The `error` message to send back for this failure.
    pub fn to_reply(&self) -> SignalMessage {
        SignalMessage::error(self.code(), self.to_string())
    }
}

const KNOWN_TYPES: &[&str] = &[
    "hello",
    "code",
    "redeem",
    "paired",
    "ice_servers",
    "resident",
    "offer",
    "answer",
    "candidate",
    "error",
    "bye",
    "consent",
    "used",
    "resume_token",
    "resumed",
    "peer_away",
    "peer_back",
];

impl SignalMessage {
    /// Parses one text frame: size limit first, then JSON, then type, then version.
    pub fn parse(text: &str) -> Result<Self, SignalError> {
        if text.len() > MAX_MESSAGE_BYTES {
            return Err(SignalError::TooLarge { size: text.len() });
        }
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| SignalError::Malformed(e.to_string()))?;
        let kind = match value.get("type") {
            Some(serde_json::Value::String(t)) => t.clone(),
            Some(_) => return Err(SignalError::Malformed("`type` is not a string".into())),
            None if value.is_object() => {
                return Err(SignalError::Malformed("missing field `type`".into()));
            }
            None => return Err(SignalError::Malformed("not a JSON object".into())),
        };
        if !KNOWN_TYPES.contains(&kind.as_str()) {
            // Cut what we echo back: the type is attacker-chosen.
            let shown: String = kind.chars().take(40).collect();
            return Err(SignalError::UnknownType(shown));
        }
        let msg: SignalMessage = serde_json::from_value(value)
            .map_err(|e| SignalError::Malformed(format!("{kind}: {e}")))?;
        if let SignalMessage::Hello { v, .. } = &msg
            && *v != PROTOCOL_VERSION
        {
            return Err(SignalError::UnsupportedVersion { got: *v });
        }
        Ok(msg)
    }

    /// Serialises for the wire.
    pub fn to_json(&self) -> String {
        // Serialising these plain structs cannot fail; fall back to a valid error frame
        // rather than panicking if serde ever disagrees.
        serde_json::to_string(self).unwrap_or_else(|_| {
            r#"{"type":"error","code":"malformed","message":"internal encoding error"}"#.into()
        })
    }

    /// A client's `hello`.
    pub fn client_hello(role: Role, lang: Option<String>) -> Self {
        SignalMessage::Hello {
            v: PROTOCOL_VERSION,
            role: Some(role),
            lang,
            site: None,
            ice_servers: Vec::new(),
            resume: None,
            max_file_bytes: None,
        }
    }

    /// An `error` message.
    pub fn error(code: ErrorCode, message: impl Into<String>) -> Self {
        SignalMessage::Error {
            code,
            message: message.into(),
            retry_after_s: None,
        }
    }

    /// An `error` message saying when to try again.
    pub fn error_retry(code: ErrorCode, message: impl Into<String>, retry_after_s: u32) -> Self {
        SignalMessage::Error {
            code,
            message: message.into(),
            retry_after_s: Some(retry_after_s),
        }
    }

    /// The message's `type`, for logs and counters (never its content).
    pub fn kind(&self) -> &'static str {
        match self {
            SignalMessage::Hello { .. } => "hello",
            SignalMessage::Code { .. } => "code",
            SignalMessage::Redeem { .. } => "redeem",
            SignalMessage::Paired { .. } => "paired",
            SignalMessage::IceServers { .. } => "ice_servers",
            SignalMessage::Resident { .. } => "resident",
            SignalMessage::Offer { .. } => "offer",
            SignalMessage::Answer { .. } => "answer",
            SignalMessage::Candidate { .. } => "candidate",
            SignalMessage::Error { .. } => "error",
            SignalMessage::Bye { .. } => "bye",
            SignalMessage::Consent { .. } => "consent",
            SignalMessage::Used { .. } => "used",
            SignalMessage::ResumeToken { .. } => "resume_token",
            SignalMessage::Resumed { .. } => "resumed",
            SignalMessage::PeerAway => "peer_away",
            SignalMessage::PeerBack => "peer_back",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_tags_are_checked_before_reaching_the_caseworker() {
        assert_eq!(clean_language_tag("fa-AF").as_deref(), Some("fa-AF"));
        assert_eq!(clean_language_tag("ar"), Some("ar".into()));
        assert_eq!(clean_language_tag(""), None);
        assert_eq!(clean_language_tag("<b>ar</b>"), None);
        assert_eq!(clean_language_tag("ar\u{202E}"), None);
        assert_eq!(clean_language_tag(&"a".repeat(36)), None);
        let m = SignalMessage::Resident { lang: "ti".into() };
        assert_eq!(m.to_json(), r#"{"type":"resident","lang":"ti"}"#);
    }

    #[test]
    fn hello_round_trip_and_unknown_fields_ignored() {
        let m = SignalMessage::parse(r#"{"type":"hello","v":1,"role":"agent","lang":"fa","x":3}"#)
            .unwrap();
        assert_eq!(
            m,
            SignalMessage::client_hello(Role::Agent, Some("fa".into()))
        );
        assert_eq!(SignalMessage::parse(&m.to_json()).unwrap(), m);
    }

    #[test]
    fn ice_servers_round_trip_with_credentials() {
        let m = SignalMessage::parse(
            r#"{"type":"ice_servers","ice_servers":[{"urls":["turn:r.example:3478?transport=udp"],
                "username":"1764000000:s-1:a","credential":"c2VjcmV0"}],"relay_only":true}"#,
        )
        .unwrap();
        let SignalMessage::IceServers {
            ice_servers,
            relay_only,
        } = &m
        else {
            panic!("{m:?}");
        };
        assert!(relay_only);
        assert_eq!(ice_servers[0].username.as_deref(), Some("1764000000:s-1:a"));
        assert_eq!(SignalMessage::parse(&m.to_json()).unwrap(), m);
        let plain = SignalMessage::parse(r#"{"type":"ice_servers","ice_servers":[]}"#).unwrap();
        assert!(!plain.to_json().contains("relay_only"), "false is left out");
    }

    #[test]
    fn resumption_messages_parse_from_what_the_viewer_sends() {
        let m = SignalMessage::parse(
            r#"{"type":"hello","v":1,"role":"viewer","resume":"00112233445566778899aabbccddeeff"}"#,
        )
        .unwrap();
        assert!(matches!(
            m,
            SignalMessage::Hello { resume: Some(ref t), .. } if t.len() == 32
        ));
        assert_eq!(
            SignalMessage::parse(r#"{"type":"peer_away","extra":1}"#).unwrap(),
            SignalMessage::PeerAway
        );
        assert_eq!(
            SignalMessage::parse(r#"{"type":"bye","reason":"connection_lost"}"#).unwrap(),
            SignalMessage::Bye {
                reason: ByeReason::ConnectionLost
            }
        );
        assert_eq!(
            SignalMessage::parse(r#"{"type":"resumed"}"#)
                .unwrap_err()
                .code(),
            ErrorCode::Malformed,
            "peer_present is required"
        );
        assert_eq!(
            SignalMessage::parse(r#"{"type":"resume_token","token":5}"#)
                .unwrap_err()
                .code(),
            ErrorCode::Malformed
        );
    }

    #[test]
    fn other_major_version_is_refused() {
        let e = SignalMessage::parse(r#"{"type":"hello","v":2,"role":"viewer"}"#).unwrap_err();
        assert_eq!(e, SignalError::UnsupportedVersion { got: 2 });
        assert_eq!(e.code(), ErrorCode::UnsupportedVersion);
    }

    #[test]
    fn size_limit_is_checked_before_parsing() {
        let big = format!(
            r#"{{"type":"offer","sdp":"{}"}}"#,
            "a".repeat(MAX_MESSAGE_BYTES)
        );
        assert!(matches!(
            SignalMessage::parse(&big),
            Err(SignalError::TooLarge { .. })
        ));
        let fits = format!(r#"{{"type":"offer","sdp":"{}"}}"#, "a".repeat(60_000));
        assert!(SignalMessage::parse(&fits).is_ok());
    }

    #[test]
    fn malformed_inputs_get_clear_errors() {
        for bad in [
            "",
            "nope",
            "[1,2]",
            "{}",
            r#"{"type":3}"#,
            r#"{"type":"offer"}"#,
            r#"{"type":"redeem","code":12}"#,
            r#"{"type":"bye","reason":7}"#,
        ] {
            let e = SignalMessage::parse(bad).unwrap_err();
            assert_eq!(e.code(), ErrorCode::Malformed, "{bad}: {e}");
        }
    }

    #[test]
    fn unknown_type_is_named_and_cut() {
        let e = SignalMessage::parse(r#"{"type":"teleport"}"#).unwrap_err();
        assert_eq!(e, SignalError::UnknownType("teleport".into()));
        let long = format!(r#"{{"type":"{}"}}"#, "x".repeat(500));
        match SignalMessage::parse(&long).unwrap_err() {
            SignalError::UnknownType(t) => assert_eq!(t.len(), 40),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn consent_events_parse_and_unknown_ones_are_other() {
        let m = SignalMessage::parse(r#"{"type":"consent","event":"view_timeout"}"#).unwrap();
        assert_eq!(
            m,
            SignalMessage::Consent {
                event: ConsentEvent::ViewTimeout
            }
        );
        let m = SignalMessage::parse(r#"{"type":"consent","event":"telepathy"}"#).unwrap();
        assert_eq!(
            m,
            SignalMessage::Consent {
                event: ConsentEvent::Other
            }
        );
        let m = SignalMessage::parse(r#"{"type":"redeem","code":"1"}"#).unwrap();
        assert_eq!(
            m,
            SignalMessage::Redeem {
                code: "1".into(),
                procedure: None
            }
        );
    }

    #[test]
    fn candidate_uses_browser_field_names() {
        let json = r#"{"type":"candidate","candidate":"candidate:1 1 udp 1 127.0.0.1 5000 typ host","sdpMid":"0","sdpMLineIndex":0}"#;
        let m = SignalMessage::parse(json).unwrap();
        match &m {
            SignalMessage::Candidate {
                sdp_mid,
                sdp_mline_index,
                ..
            } => {
                assert_eq!(sdp_mid.as_deref(), Some("0"));
                assert_eq!(*sdp_mline_index, Some(0));
            }
            other => panic!("{other:?}"),
        }
        assert!(m.to_json().contains("\"sdpMLineIndex\":0"));
    }

    #[test]
    fn newer_reasons_and_codes_degrade_gracefully() {
        let m = SignalMessage::parse(r#"{"type":"bye","reason":"moon_phase"}"#).unwrap();
        assert_eq!(
            m,
            SignalMessage::Bye {
                reason: ByeReason::Other
            }
        );
        let m =
            SignalMessage::parse(r#"{"type":"error","code":"new_thing","message":"m"}"#).unwrap();
        assert!(matches!(
            m,
            SignalMessage::Error {
                code: ErrorCode::Other,
                ..
            }
        ));
    }

    #[test]
    fn an_error_says_when_to_retry_as_a_number_and_only_when_known() {
        let m = SignalMessage::error_retry(ErrorCode::RateLimited, "too many", 600);
        let json = m.to_json();
        assert!(json.contains("\"retry_after_s\":600"), "{json}");
        assert!(json.contains("\"code\":\"rate_limited\""), "{json}");
        let plain = SignalMessage::error(ErrorCode::AuditDown, "disk").to_json();
        assert!(!plain.contains("retry_after_s"), "{plain}");
        assert!(plain.contains("\"code\":\"audit_down\""), "{plain}");
        // An older relay's error (no number) still parses.
        let old = SignalMessage::parse(r#"{"type":"error","code":"rate_limited","message":"m"}"#);
        assert!(matches!(
            old,
            Ok(SignalMessage::Error {
                retry_after_s: None,
                ..
            })
        ));
    }

    #[test]
    fn every_known_type_parses_from_its_own_json() {
        let all = vec![
            SignalMessage::client_hello(Role::Viewer, None),
            SignalMessage::Code {
                code: "123456".into(),
                expires_in: 600,
            },
            SignalMessage::Redeem {
                code: "123456".into(),
                procedure: Some("CAF renewal".into()),
            },
            SignalMessage::Consent {
                event: ConsentEvent::ViewAllowed,
            },
            SignalMessage::Paired {
                by: Some(Requester {
                    name: None,
                    site: "S".into(),
                }),
            },
            SignalMessage::Offer { sdp: "v=0".into() },
            SignalMessage::Answer { sdp: "v=0".into() },
            SignalMessage::error(ErrorCode::InvalidCode, "wrong"),
            SignalMessage::error_retry(ErrorCode::RateLimited, "later", 600),
            SignalMessage::error(ErrorCode::AuditDown, "disk"),
            SignalMessage::Bye {
                reason: ByeReason::Refused,
            },
            SignalMessage::Bye {
                reason: ByeReason::ConnectionLost,
            },
            SignalMessage::ResumeToken {
                token: "00112233445566778899aabbccddeeff".into(),
            },
            SignalMessage::Resumed {
                by: None,
                peer_present: false,
            },
            SignalMessage::PeerAway,
            SignalMessage::PeerBack,
        ];
        for m in all {
            assert_eq!(SignalMessage::parse(&m.to_json()).unwrap(), m);
            assert!(KNOWN_TYPES.contains(&m.kind()));
        }
    }
}
