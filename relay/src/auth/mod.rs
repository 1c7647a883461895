//! Caseworker authentication, IO-free where it can be: password policy and argon2id
//! ([`password`]), progressive lock-out after failed sign-ins ([`lockout`]), which
//! attempts get a password check at all ([`attempts`]), and the web sessions behind the
//! cookie with their CSRF tokens ([`sessions`]). Time is passed in; randomness comes
//! from [`new_token`]. What browsers send for all this is parsed
//! and checked in [`forms`].

pub mod attempts;
pub mod forms;
pub mod lockout;
pub mod passkeys;
pub mod password;
pub mod sessions;

use sha2::{Digest, Sha256};

/// A fresh 256-bit secret from the OS CSPRNG, as lowercase hex (cookies, CSRF tokens,
/// set-password links).
pub fn new_token() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// SHA-256 of a token, hex: what the store keeps, so a copy of the database does not
/// hold usable links.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}
