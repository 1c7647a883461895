//! The values signaling messages carry: roles, who asks, ICE servers, error codes, bye
//! reasons, consent steps, guidance features and language tags.

use serde::{Deserialize, Serialize};

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
    /// A voice call through the computer.
    Voice,
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
            Feature::Voice => "voice",
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
