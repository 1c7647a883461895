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

mod fields;
pub use fields::*;

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
mod tests;
