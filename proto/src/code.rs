//! The session code a resident reads aloud to the caseworker.
//!
//! Six decimal digits drawn from a CSPRNG: 10^6 possibilities, so the relay's rate limits
//! (per address, per account) and the 10-minute lifetime are what keep guessing hopeless;
//! see the hub. Comparison is constant-time so response timing says nothing about how
//! many leading digits were right.

use std::fmt;
use std::time::{Duration, Instant};

use rand::Rng;
use subtle::ConstantTimeEq;

/// How long a code can be redeemed after it was issued.
pub const CODE_LIFETIME: Duration = Duration::from_secs(10 * 60);

/// Number of digits in a session code.
pub const CODE_DIGITS: usize = 6;

/// Why a typed code was not accepted as a code at all (before any lookup).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    /// Something other than digits and spaces was typed.
    #[error("a session code contains only digits")]
    NotDigits,
    /// The digits are not exactly six.
    #[error("a session code has exactly 6 digits, got {got}")]
    WrongLength {
        /// How many digits were given.
        got: usize,
    },
}

/// A 6-digit session code. `Debug` never shows the digits.
#[derive(Clone)]
pub struct SessionCode([u8; CODE_DIGITS]);

impl SessionCode {
    /// Draws a fresh code from the given cryptographically secure generator.
    pub fn generate<R: rand::CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut digits = [0u8; CODE_DIGITS];
        for d in &mut digits {
            *d = b'0' + rng.random_range(0..10u8);
        }
        Self(digits)
    }

    /// Draws a fresh code from the operating system's CSPRNG (through the thread RNG).
    pub fn random() -> Self {
        Self::generate(&mut rand::rng())
    }

    /// Parses what a person typed: digits, optionally grouped with spaces ("482 913").
    pub fn parse(typed: &str) -> Result<Self, CodeError> {
        let mut digits = [0u8; CODE_DIGITS];
        let mut n = 0usize;
        for c in typed.trim().chars() {
            if c == ' ' {
                continue;
            }
            if !c.is_ascii_digit() {
                return Err(CodeError::NotDigits);
            }
            if n < CODE_DIGITS {
                digits[n] = c as u8;
            }
            n += 1;
        }
        if n != CODE_DIGITS {
            return Err(CodeError::WrongLength { got: n });
        }
        Ok(Self(digits))
    }

    /// The six digits as sent on the wire, e.g. `"482913"`.
    pub fn as_wire(&self) -> String {
        self.0.iter().map(|&b| b as char).collect()
    }

    /// The digits grouped for reading aloud, e.g. `"482 913"`.
    pub fn grouped(&self) -> String {
        let s = self.as_wire();
        format!("{} {}", &s[..3], &s[3..])
    }

    /// Constant-time equality: the time taken does not depend on where the codes differ.
    pub fn ct_eq(&self, other: &SessionCode) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl fmt::Debug for SessionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Only the first digit: enough to tell codes apart in a trace, not to use one.
        write!(f, "SessionCode({}*****)", self.0[0] as char)
    }
}

/// A code the relay handed out, with the moment it stops being valid.
#[derive(Debug, Clone)]
pub struct IssuedCode {
    /// The code itself.
    pub code: SessionCode,
    /// The instant after which it can no longer be redeemed.
    pub expires_at: Instant,
}

impl IssuedCode {
    /// Issues `code` at `now`, valid for [`CODE_LIFETIME`].
    pub fn new(code: SessionCode, now: Instant) -> Self {
        Self {
            code,
            expires_at: now + CODE_LIFETIME,
        }
    }

    /// True once the lifetime has run out.
    pub fn is_expired(&self, now: Instant) -> bool {
        now >= self.expires_at
    }

    /// True if `typed` is this code and it is still valid at `now`.
    pub fn matches(&self, typed: &SessionCode, now: Instant) -> bool {
        // Compare first and always: the expiry check must not shortcut the comparison.
        let same = self.code.ct_eq(typed);
        same && !self.is_expired(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn generated_codes_are_six_digits_and_vary() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let codes: Vec<String> = (0..50)
            .map(|_| SessionCode::generate(&mut rng).as_wire())
            .collect();
        assert!(
            codes
                .iter()
                .all(|c| c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit()))
        );
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert!(unique.len() > 45, "codes should rarely repeat: {unique:?}");
    }

    #[test]
    fn parse_accepts_grouped_and_plain() {
        assert_eq!(
            SessionCode::parse("482913").map(|c| c.as_wire()),
            Ok("482913".into())
        );
        assert_eq!(
            SessionCode::parse(" 482 913 ").map(|c| c.grouped()),
            Ok("482 913".into())
        );
    }

    #[test]
    fn parse_refuses_wrong_input_with_a_reason() {
        assert_eq!(
            SessionCode::parse("48291").err(),
            Some(CodeError::WrongLength { got: 5 })
        );
        assert_eq!(
            SessionCode::parse("4829134").err(),
            Some(CodeError::WrongLength { got: 7 })
        );
        assert_eq!(
            SessionCode::parse("48a913").err(),
            Some(CodeError::NotDigits)
        );
        assert_eq!(
            SessionCode::parse("").err(),
            Some(CodeError::WrongLength { got: 0 })
        );
        assert_eq!(
            SessionCode::parse("４８２９１３").err(),
            Some(CodeError::NotDigits)
        );
    }

    #[test]
    fn equality_and_expiry() {
        let now = Instant::now();
        let issued = IssuedCode::new(SessionCode::parse("123456").unwrap(), now);
        let right = SessionCode::parse("123456").unwrap();
        let wrong = SessionCode::parse("123457").unwrap();
        assert!(issued.matches(&right, now));
        assert!(!issued.matches(&wrong, now));
        assert!(issued.matches(&right, now + CODE_LIFETIME - Duration::from_millis(1)));
        assert!(!issued.matches(&right, now + CODE_LIFETIME));
    }

    #[test]
    fn debug_does_not_leak_the_code() {
        let c = SessionCode::parse("482913").unwrap();
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("482913") && !shown.contains("82913"),
            "{shown}"
        );
    }
}
