//! Passwords: a policy (length, not a common password, not the login) and argon2id
//! hashing with the `argon2` crate's defaults (OWASP's minimum: 19 MiB, 2 passes).
//! Hashing is slow on purpose: callers on the async runtime use `spawn_blocking`.

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// Shortest password accepted, in characters.
pub const MIN_CHARS: usize = 10;
/// Longest password accepted, in characters (argon2 takes any length; this bounds work).
pub const MAX_CHARS: usize = 256;

/// Most common passwords of at least [`MIN_CHARS`] characters in public breach lists
/// (shorter ones are refused by length anyway), plus French favourites.
const COMMON: &[&str] = &[
    "1234567890",
    "0123456789",
    "12345678910",
    "123456789a",
    "a123456789",
    "1q2w3e4r5t",
    "1qaz2wsx3edc",
    "qwertyuiop",
    "azertyuiop",
    "qwerty1234",
    "azerty1234",
    "azerty123456",
    "password12",
    "password123",
    "password1234",
    "passw0rd12",
    "motdepasse",
    "motdepasse1",
    "motdepasse123",
    "iloveyou12",
    "1234qwerty",
    "abcdefghij",
    "abcd123456",
    "abc1234567",
    "1111111111",
    "0000000000",
    "9876543210",
    "1122334455",
    "1234512345",
    "qwertyuiop1",
    "football12",
    "baseball12",
    "princess12",
    "sunshine12",
    "superman12",
    "starwars12",
    "trustno1234",
    "welcome123",
    "welcome1234",
    "bonjour123",
    "soleil1234",
    "doudou1234",
    "chocolat12",
    "marseille13",
    "liverpool1",
    "changeme123",
    "administrator",
    "admin12345",
    "letmein123",
    "computer12",
    "internet12",
    "ordinateur",
    "jetaime123",
    "nicolas123",
    "loulou1234",
    "azerty1234567",
    "qwerty123456",
    "1234567890a",
    "zaq12wsxcde",
];

/// Why a new password was refused. The messages are shown to the caseworker.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Too short.
    #[error("the password must have at least {MIN_CHARS} characters")]
    TooShort,
    /// Too long.
    #[error("the password must have at most {MAX_CHARS} characters")]
    TooLong,
    /// In the list of common passwords, or the login itself.
    #[error("this password is too common or too easy to guess; choose another")]
    TooCommon,
    /// The hasher failed (not expected with valid parameters).
    #[error("cannot hash the password: {0}")]
    Hash(String),
}

impl PasswordError {
    /// A stable name for the viewer to pick its translated sentence.
    pub fn code(&self) -> &'static str {
        match self {
            PasswordError::TooShort => "password_too_short",
            PasswordError::TooLong => "password_too_long",
            PasswordError::TooCommon => "password_too_common",
            PasswordError::Hash(_) => "internal",
        }
    }
}

/// Checks a new password against the policy.
pub fn check_policy(password: &str, login: &str) -> Result<(), PasswordError> {
    let n = password.chars().count();
    if n < MIN_CHARS {
        return Err(PasswordError::TooShort);
    }
    if n > MAX_CHARS {
        return Err(PasswordError::TooLong);
    }
    let lower = password.to_lowercase();
    let same_char = lower.chars().all(|c| lower.starts_with(c));
    if same_char || COMMON.contains(&lower.as_str()) || lower == login.to_lowercase() {
        return Err(PasswordError::TooCommon);
    }
    Ok(())
}

/// Hashes with argon2id and a fresh random salt; returns the PHC string.
pub fn hash(password: &str) -> Result<String, PasswordError> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())
        .map_err(|e| PasswordError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// Whether `password` matches `phc`. With no hash (unknown account, or no password set
/// yet) it still spends the same time against a dummy hash, so timing does not tell
/// which logins exist.
pub fn verify(password: &str, phc: Option<&str>) -> bool {
    let (phc, real) = match phc {
        Some(p) => (p, true),
        None => (dummy_hash(), false),
    };
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let ok = Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok();
    ok && real
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash("acote-dummy-password-never-used").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy() {
        assert_eq!(check_policy("short", "m"), Err(PasswordError::TooShort));
        assert_eq!(
            check_policy("AzertyUiop", "m"),
            Err(PasswordError::TooCommon)
        );
        assert_eq!(
            check_policy("aaaaaaaaaaaa", "m"),
            Err(PasswordError::TooCommon)
        );
        assert_eq!(
            check_policy("marie.dupont", "marie.dupont"),
            Err(PasswordError::TooCommon)
        );
        assert_eq!(
            check_policy(&"x".repeat(300), "m"),
            Err(PasswordError::TooLong)
        );
        assert_eq!(check_policy("cheval agrafe batterie", "m"), Ok(()));
        assert!(COMMON.iter().all(|p| p.chars().count() >= MIN_CHARS));
    }

    #[test]
    fn hashes_are_argon2id_salted_and_verify() {
        let a = hash("cheval agrafe batterie").unwrap();
        let b = hash("cheval agrafe batterie").unwrap();
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b, "salted");
        assert!(verify("cheval agrafe batterie", Some(&a)));
        assert!(!verify("cheval agrafe batteries", Some(&a)));
        assert!(!verify("anything", None));
        assert!(!verify("anything", Some("not a hash")));
    }
}
