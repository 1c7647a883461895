//! Resumption tokens: what a side of a session presents, after its connection to the
//! relay dropped, to be put back into the same session without a new code or a new
//! question to the resident.
//!
//! A token is 128 random bits written as 32 lowercase hex digits. The relay hands one to
//! each side (`resume_token`) and keeps only its SHA-256 ([`TokenHash`]), bound to the
//! session and the side; a token works once (a fresh one follows each resume) and only
//! within the 60 s [`RESUME_WINDOW`] after the drop.

use std::fmt;
use std::time::Duration;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// How long after a drop a session waits for the missing side (DESIGN §3 step 7).
pub const RESUME_WINDOW: Duration = Duration::from_secs(60);

/// Length of a token on the wire: 16 bytes as hex.
pub const TOKEN_CHARS: usize = 32;

/// A resumption token. Its `Debug` never shows it: it is a secret.
#[derive(Clone, PartialEq, Eq)]
pub struct ResumeToken(String);

/// Why a presented token was not even a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResumeTokenError {
    /// Not exactly [`TOKEN_CHARS`] lowercase hex digits.
    #[error("a resumption token is {TOKEN_CHARS} lowercase hex digits")]
    Shape,
}

impl ResumeToken {
    /// A fresh token from the operating system's CSPRNG.
    pub fn random() -> Self {
        let bytes: [u8; 16] = rand::random();
        let mut s = String::with_capacity(TOKEN_CHARS);
        for b in bytes {
            s.push_str(&format!("{b:02x}"));
        }
        Self(s)
    }

    /// Checks the shape of a presented token (length first, so a huge string costs
    /// nothing more).
    pub fn parse(text: &str) -> Result<Self, ResumeTokenError> {
        if text.len() != TOKEN_CHARS
            || !text
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(ResumeTokenError::Shape);
        }
        Ok(Self(text.to_string()))
    }

    /// The token as sent on the wire.
    pub fn as_wire(&self) -> &str {
        &self.0
    }

    /// What the relay keeps instead of the token.
    pub fn hash(&self) -> TokenHash {
        TokenHash(Sha256::digest(self.0.as_bytes()).into())
    }
}

impl fmt::Debug for ResumeToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ResumeToken(…)")
    }
}

/// The SHA-256 of a token: a copy of the relay's memory or database resumes nothing.
#[derive(Clone, Copy)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    /// Constant-time comparison, so timing does not tell how much of a guess was right.
    pub fn matches(&self, other: &TokenHash) -> bool {
        bool::from(self.0.ct_eq(&other.0))
    }

    /// Hex, for the relay's database.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Reads back what [`TokenHash::to_hex`] wrote; `None` if it is not 64 hex digits.
    pub fn from_hex(text: &str) -> Option<Self> {
        // Hex digits only: `from_str_radix` alone would take "+f" as 15.
        if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, slot) in out.iter_mut().enumerate() {
            *slot = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(Self(out))
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenHash(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_tokens_parse_and_differ() {
        let a = ResumeToken::random();
        let b = ResumeToken::random();
        assert_ne!(a, b);
        assert_eq!(ResumeToken::parse(a.as_wire()).unwrap(), a);
        assert!(a.hash().matches(&a.hash()));
        assert!(!a.hash().matches(&b.hash()));
    }

    #[test]
    fn malformed_tokens_are_refused() {
        for bad in [
            "",
            "0011",
            "00112233445566778899AABBCCDDEEFF",
            "00112233445566778899aabbccddeefg",
            "00112233445566778899aabbccddeeff0",
            "0011223344556677889\u{e9}aabbccddeef",
        ] {
            assert_eq!(
                ResumeToken::parse(bad),
                Err(ResumeTokenError::Shape),
                "{bad}"
            );
        }
    }

    #[test]
    fn hashes_survive_the_database_and_debug_hides_secrets() {
        let t = ResumeToken::random();
        let back = TokenHash::from_hex(&t.hash().to_hex()).unwrap();
        assert!(back.matches(&t.hash()));
        assert!(TokenHash::from_hex("zz").is_none());
        assert!(
            TokenHash::from_hex(&"+f".repeat(32)).is_none(),
            "a sign is not a digit"
        );
        assert!(TokenHash::from_hex(&"é".repeat(32)).is_none());
        assert!(!format!("{t:?}").contains(t.as_wire()));
    }
}
