//! The short authentication string (SAS): a 4-digit security code both people see, which
//! the caseworker reads aloud on the phone and the resident compares, so that a relay
//! sitting in the middle of both DTLS handshakes is caught (issue 16 item 7).
//!
//! The DTLS fingerprints travel through the relay's signaling, so a malicious relay can
//! answer each side with a certificate of its own. Each side therefore hashes the two
//! fingerprints it actually used (its local description's and its remote description's
//! `a=fingerprint:sha-256`; DTLS enforces the remote one) into the code. A code of the
//! fingerprints alone could be ground: the man in the middle makes 10^4 certificates until
//! both sides' codes agree. So fresh nonces go in too, exchanged commit-first (ZRTP style)
//! on the `acote` data channel once it is open:
//!
//! 1. agent → viewer `sas_commit {c}`, `c` = SHA-256(nA), nA 32 fresh random bytes;
//! 2. viewer → agent `sas_nonce {n: nV}`, 32 fresh random bytes;
//! 3. agent → viewer `sas_reveal {n: nA}`; the viewer checks SHA-256(nA) = c.
//!
//! Both compute [`derive`]: SHA-256(`"acote-sas-v1"` ‖ fp_agent ‖ fp_viewer ‖ nA ‖ nV),
//! its first 8 bytes big-endian modulo 10,000, as 4 digits. All fields have fixed
//! lengths (32 bytes each), so the concatenation is unambiguous. Hex on the wire is
//! 64 lowercase digits; anything else is refused.
//!
//! Why one guess: where the relay plays the agent (towards the viewer) it must commit to
//! its nA before it sees the viewer's nV, which then fixes the viewer's code; where it
//! plays the viewer (towards the agent) it must send its nV before the agent reveals nA,
//! which the commitment hides until then. Whichever exchange it finishes first, the other
//! side's code is still uniformly random when its choice is made: the codes agree with
//! probability 1/10,000 per session. See `docs/security.md`.
//!
//! Plain data and pure functions: [`AgentSas`] and [`ViewerSas`] are the two sides'
//! state machines; nonces come from the caller (or [`Nonce::random`]).

use std::fmt;

use sha2::{Digest, Sha256};

use crate::channel::{AgentMessage, ViewerMessage};

/// Domain separation for the code's hash; the version changes if the derivation does.
pub const SAS_LABEL: &[u8] = b"acote-sas-v1";

/// Length of a nonce or commitment on the wire: 32 bytes as lowercase hex.
pub const HEX_CHARS: usize = 64;

/// Why the exchange, or a code, was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SasError {
    /// The session description has no `a=fingerprint:sha-256` line.
    #[error("the session description has no sha-256 fingerprint")]
    NoFingerprint,
    /// Fingerprint lines that differ, or use another hash than SHA-256: which one DTLS
    /// enforces would be unclear, so none is trusted.
    #[error("the session description's fingerprints differ or are not all sha-256")]
    AmbiguousFingerprint,
    /// A fingerprint that is not 32 colon-separated hex bytes.
    #[error("malformed fingerprint")]
    BadFingerprint,
    /// A nonce or commitment that is not [`HEX_CHARS`] lowercase hex digits.
    #[error("a nonce or commitment is {HEX_CHARS} lowercase hex digits")]
    BadHex,
    /// A message out of its place: repeated, or before the one it answers.
    #[error("unexpected {0} in the security code exchange")]
    Unexpected(&'static str),
    /// The agent's revealed nonce does not hash to its commitment: someone changed it.
    #[error("the revealed nonce does not match the commitment")]
    CommitMismatch,
}

/// A certificate's SHA-256 fingerprint, as a session description gives it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    /// A fingerprint from its 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The fingerprint a session description declares. Every `a=fingerprint:` line (at
    /// session or media level) must be SHA-256 and carry the same value; otherwise the
    /// description is refused, since a peer's DTLS might enforce a line the code does not
    /// cover.
    pub fn from_sdp(sdp: &str) -> Result<Self, SasError> {
        let mut found: Option<Fingerprint> = None;
        for line in sdp.lines() {
            let Some(rest) = line.trim_end_matches('\r').strip_prefix("a=fingerprint:") else {
                continue;
            };
            let mut parts = rest.split_whitespace();
            let (Some(algorithm), Some(value), None) = (parts.next(), parts.next(), parts.next())
            else {
                return Err(SasError::BadFingerprint);
            };
            if !algorithm.eq_ignore_ascii_case("sha-256") {
                return Err(SasError::AmbiguousFingerprint);
            }
            let fp = Self::parse_colon_hex(value)?;
            match found {
                Some(first) if first != fp => return Err(SasError::AmbiguousFingerprint),
                _ => found = Some(fp),
            }
        }
        found.ok_or(SasError::NoFingerprint)
    }

    /// `AB:CD:…` (32 bytes, either case).
    fn parse_colon_hex(value: &str) -> Result<Self, SasError> {
        let mut out = [0u8; 32];
        let mut count = 0;
        for pair in value.split(':') {
            let b = pair.as_bytes();
            if count == 32 || b.len() != 2 {
                return Err(SasError::BadFingerprint);
            }
            let (Some(hi), Some(lo)) = (hex_digit(b[0], true), hex_digit(b[1], true)) else {
                return Err(SasError::BadFingerprint);
            };
            out[count] = hi << 4 | lo;
            count += 1;
        }
        if count != 32 {
            return Err(SasError::BadFingerprint);
        }
        Ok(Self(out))
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hex: Vec<String> = self.0.iter().map(|b| format!("{b:02X}")).collect();
        write!(f, "Fingerprint({})", hex.join(":"))
    }
}

/// 32 random bytes of one side. Secret until revealed: its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Nonce([u8; 32]);

impl Nonce {
    /// A fresh nonce from the operating system's CSPRNG.
    pub fn random() -> Self {
        Self(rand::random())
    }

    /// A nonce from its bytes (tests, known-answer vectors).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// A nonce as sent on the wire: [`HEX_CHARS`] lowercase hex digits.
    pub fn parse(hex: &str) -> Result<Self, SasError> {
        parse_hex32(hex).map(Self)
    }

    /// The wire form.
    pub fn to_hex(&self) -> String {
        to_hex(&self.0)
    }

    /// SHA-256 of the nonce: what the agent sends before revealing it.
    pub fn commitment(&self) -> Commitment {
        Commitment(Sha256::digest(self.0).into())
    }
}

impl fmt::Debug for Nonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Nonce(…)")
    }
}

/// SHA-256 of the agent's nonce, sent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Commitment([u8; 32]);

impl Commitment {
    /// A commitment as sent on the wire: [`HEX_CHARS`] lowercase hex digits.
    pub fn parse(hex: &str) -> Result<Self, SasError> {
        parse_hex32(hex).map(Self)
    }

    /// The wire form.
    pub fn to_hex(&self) -> String {
        to_hex(&self.0)
    }
}

/// The 4-digit code both people compare. Shown and printed with its leading zeros.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecurityCode(u16);

impl SecurityCode {
    /// The code as a number below 10,000.
    pub fn value(self) -> u16 {
        self.0
    }
}

impl fmt::Display for SecurityCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}", self.0)
    }
}

/// The code from the agent's and the viewer's fingerprints and nonces (in that order on
/// both sides).
pub fn derive(
    fp_agent: &Fingerprint,
    fp_viewer: &Fingerprint,
    n_agent: &Nonce,
    n_viewer: &Nonce,
) -> SecurityCode {
    let mut h = Sha256::new();
    h.update(SAS_LABEL);
    h.update(fp_agent.0);
    h.update(fp_viewer.0);
    h.update(n_agent.0);
    h.update(n_viewer.0);
    let digest = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    // 2^64 mod 10^4 leaves a bias of under 10^-15: none worth a rejection loop.
    SecurityCode((u64::from_be_bytes(first) % 10_000) as u16)
}

/// Whether `text` has the wire shape of a nonce or commitment (channel validation).
pub fn is_wire_hex(text: &str) -> bool {
    parse_hex32(text).is_ok()
}

/// The agent's side: it commits first and reveals last.
#[derive(Debug)]
pub enum AgentSas {
    /// The commitment is sent; waiting for the viewer's nonce.
    Committed {
        /// Our nonce, revealed once the viewer's has come.
        nonce: Nonce,
        /// Our local description's fingerprint.
        fp_agent: Fingerprint,
        /// Our remote description's fingerprint (the one DTLS enforced).
        fp_viewer: Fingerprint,
    },
    /// The code is fixed; nothing more is accepted.
    Done(SecurityCode),
}

impl AgentSas {
    /// Starts the exchange: the state and the `sas_commit` to send.
    pub fn start(
        nonce: Nonce,
        fp_agent: Fingerprint,
        fp_viewer: Fingerprint,
    ) -> (Self, AgentMessage) {
        let commit = AgentMessage::SasCommit {
            c: nonce.commitment().to_hex(),
        };
        let state = AgentSas::Committed {
            nonce,
            fp_agent,
            fp_viewer,
        };
        (state, commit)
    }

    /// The viewer's nonce (wire hex): the `sas_reveal` to send and the code to show. A
    /// second nonce is refused and changes nothing.
    pub fn on_nonce(&mut self, n_viewer: &str) -> Result<(AgentMessage, SecurityCode), SasError> {
        let AgentSas::Committed {
            nonce,
            fp_agent,
            fp_viewer,
        } = &*self
        else {
            return Err(SasError::Unexpected("sas_nonce"));
        };
        let n_viewer = Nonce::parse(n_viewer)?;
        let code = derive(fp_agent, fp_viewer, nonce, &n_viewer);
        let reveal = AgentMessage::SasReveal { n: nonce.to_hex() };
        *self = AgentSas::Done(code);
        Ok((reveal, code))
    }

    /// The code, once fixed.
    pub fn code(&self) -> Option<SecurityCode> {
        match self {
            AgentSas::Done(code) => Some(*code),
            AgentSas::Committed { .. } => None,
        }
    }
}

/// The viewer's side (the browser runs the same steps in `viewer/src/sas.js`; this one
/// is the reference and serves tests). Any refusal is final: a failed exchange never
/// shows a code.
#[derive(Debug)]
pub enum ViewerSas {
    /// Waiting for the agent's commitment.
    AwaitingCommit {
        /// Our nonce, sent once the commitment came.
        nonce: Nonce,
        /// Our remote description's fingerprint.
        fp_agent: Fingerprint,
        /// Our local description's fingerprint.
        fp_viewer: Fingerprint,
    },
    /// Our nonce is sent; waiting for the agent's reveal.
    AwaitingReveal {
        /// The agent's commitment.
        commitment: Commitment,
        /// Our nonce.
        nonce: Nonce,
        /// Our remote description's fingerprint.
        fp_agent: Fingerprint,
        /// Our local description's fingerprint.
        fp_viewer: Fingerprint,
    },
    /// The code is fixed.
    Done(SecurityCode),
    /// The exchange failed: no code.
    Failed(SasError),
}

impl ViewerSas {
    /// Ready for the agent's commitment.
    pub fn new(nonce: Nonce, fp_agent: Fingerprint, fp_viewer: Fingerprint) -> Self {
        ViewerSas::AwaitingCommit {
            nonce,
            fp_agent,
            fp_viewer,
        }
    }

    /// The agent's commitment (wire hex): the `sas_nonce` to send.
    pub fn on_commit(&mut self, c: &str) -> Result<ViewerMessage, SasError> {
        let ViewerSas::AwaitingCommit {
            nonce,
            fp_agent,
            fp_viewer,
        } = &*self
        else {
            return Err(self.fail(SasError::Unexpected("sas_commit")));
        };
        let commitment = match Commitment::parse(c) {
            Ok(c) => c,
            Err(e) => return Err(self.fail(e)),
        };
        let reply = ViewerMessage::SasNonce { n: nonce.to_hex() };
        *self = ViewerSas::AwaitingReveal {
            commitment,
            nonce: nonce.clone(),
            fp_agent: *fp_agent,
            fp_viewer: *fp_viewer,
        };
        Ok(reply)
    }

    /// The agent's revealed nonce (wire hex): the code, if it matches the commitment.
    pub fn on_reveal(&mut self, n_agent: &str) -> Result<SecurityCode, SasError> {
        let ViewerSas::AwaitingReveal {
            commitment,
            nonce,
            fp_agent,
            fp_viewer,
        } = &*self
        else {
            return Err(self.fail(SasError::Unexpected("sas_reveal")));
        };
        let n_agent = match Nonce::parse(n_agent) {
            Ok(n) => n,
            Err(e) => return Err(self.fail(e)),
        };
        if n_agent.commitment() != *commitment {
            return Err(self.fail(SasError::CommitMismatch));
        }
        let code = derive(fp_agent, fp_viewer, &n_agent, nonce);
        *self = ViewerSas::Done(code);
        Ok(code)
    }

    /// The code, once fixed (never after a failure).
    pub fn code(&self) -> Option<SecurityCode> {
        match self {
            ViewerSas::Done(code) => Some(*code),
            _ => None,
        }
    }

    fn fail(&mut self, e: SasError) -> SasError {
        *self = ViewerSas::Failed(e);
        e
    }
}

fn hex_digit(b: u8, upper_too: bool) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' if upper_too => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Exactly [`HEX_CHARS`] lowercase hex digits (length checked first).
fn parse_hex32(text: &str) -> Result<[u8; 32], SasError> {
    let b = text.as_bytes();
    if b.len() != HEX_CHARS {
        return Err(SasError::BadHex);
    }
    let mut out = [0u8; 32];
    for (i, pair) in b.chunks_exact(2).enumerate() {
        let (Some(hi), Some(lo)) = (hex_digit(pair[0], false), hex_digit(pair[1], false)) else {
            return Err(SasError::BadHex);
        };
        out[i] = hi << 4 | lo;
    }
    Ok(out)
}

fn to_hex(bytes: &[u8; 32]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests;
