//! TURN credentials per session, in the style of the TURN REST API convention (as coturn's
//! `use-auth-secret`): the username says until when and for whom, the password is an HMAC
//! of the username under a secret only the relay holds. Nothing is stored per credential,
//! yet the relay can check any of them; the session registry adds revocation on top, so a
//! credential stops working when its session ends, not only when it expires.

use std::fmt;
use std::time::Duration;

use base64::Engine;
use base64::prelude::BASE64_STANDARD;
use ring::hmac;

/// How long credentials handed to a session stay valid if the session is not ended
/// before: long enough for a long procedure, bounded so a leaked one dies on its own.
pub const CREDENTIAL_TTL: Duration = Duration::from_secs(8 * 3600);

/// Which side of a session a credential was issued to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The resident's agent.
    Agent,
    /// The caseworker's viewer.
    Viewer,
}

impl Side {
    fn tag(self) -> &'static str {
        match self {
            Side::Agent => "a",
            Side::Viewer => "v",
        }
    }
}

/// The relay's HMAC key for TURN credentials; random per relay process, never written.
pub struct TurnSecret(hmac::Key);

impl TurnSecret {
    /// A fresh random secret.
    pub fn random() -> Self {
        Self::from_bytes(&rand::random::<[u8; 32]>())
    }

    /// A secret from known bytes (tests).
    pub fn from_bytes(bytes: &[u8]) -> Self {
        // SHA-1 because the TURN REST convention, and every TURN client, expects it.
        Self(hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, bytes))
    }

    /// The password that goes with `username`.
    pub fn password(&self, username: &str) -> String {
        BASE64_STANDARD.encode(hmac::sign(&self.0, username.as_bytes()).as_ref())
    }
}

impl fmt::Debug for TurnSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TurnSecret(…)")
    }
}

/// A username and password for one side of one session.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// `EXPIRY:SESSION:SIDE`, e.g. `1764100000:3f2a9c1b-7:a`.
    pub username: String,
    /// Base64 HMAC-SHA1 of the username.
    pub password: String,
    /// Unix time after which the credentials are refused.
    pub expires_at: u64,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Issues credentials for `side` of `session`, valid `ttl` from `now_unix`.
pub fn issue(
    secret: &TurnSecret,
    session: &str,
    side: Side,
    now_unix: u64,
    ttl: Duration,
) -> Credentials {
    let expires_at = now_unix.saturating_add(ttl.as_secs());
    let username = format!("{expires_at}:{session}:{}", side.tag());
    let password = secret.password(&username);
    Credentials {
        username,
        password,
        expires_at,
    }
}

/// What a username says, once checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim<'a> {
    /// The session it was issued for.
    pub session: &'a str,
    /// The side it was issued to.
    pub side: Side,
    /// Its expiry, unix time.
    pub expires_at: u64,
}

/// Why a username is refused before any password is looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CredError {
    /// Not of our `EXPIRY:SESSION:SIDE` form.
    #[error("malformed TURN username")]
    Malformed,
    /// Its time is past.
    #[error("expired TURN credentials")]
    Expired,
}

/// Longest username we parse; ours are about 40 bytes.
const MAX_USERNAME: usize = 128;

/// Parses and time-checks a username received in a TURN request.
pub fn parse_username(username: &str, now_unix: u64) -> Result<Claim<'_>, CredError> {
    if username.len() > MAX_USERNAME {
        return Err(CredError::Malformed);
    }
    let mut parts = username.split(':');
    let (Some(expiry), Some(session), Some(side), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(CredError::Malformed);
    };
    let expires_at: u64 = expiry.parse().map_err(|_| CredError::Malformed)?;
    let side = match side {
        "a" => Side::Agent,
        "v" => Side::Viewer,
        _ => return Err(CredError::Malformed),
    };
    let session_ok = !session.is_empty()
        && session
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !session_ok {
        return Err(CredError::Malformed);
    }
    if now_unix >= expires_at {
        return Err(CredError::Expired);
    }
    Ok(Claim {
        session,
        side,
        expires_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_764_000_000;

    #[test]
    fn issued_credentials_parse_back_and_carry_an_hmac() {
        let secret = TurnSecret::from_bytes(b"k");
        let c = issue(&secret, "3f2a9c1b-7", Side::Viewer, NOW, CREDENTIAL_TTL);
        assert_eq!(c.username, format!("{}:3f2a9c1b-7:v", NOW + 8 * 3600));
        let claim = parse_username(&c.username, NOW).unwrap();
        assert_eq!(claim.session, "3f2a9c1b-7");
        assert_eq!(claim.side, Side::Viewer);
        assert_eq!(c.password, secret.password(&c.username));
        // 20-byte HMAC-SHA1 in base64.
        assert_eq!(c.password.len(), 28);
    }

    #[test]
    fn the_password_depends_on_the_secret_and_every_part_of_the_username() {
        let a = TurnSecret::from_bytes(b"one");
        let b = TurnSecret::from_bytes(b"two");
        let c = issue(&a, "s-1", Side::Agent, NOW, CREDENTIAL_TTL);
        assert_ne!(
            c.password,
            b.password(&c.username),
            "other relay, other password"
        );
        let other_side = issue(&a, "s-1", Side::Viewer, NOW, CREDENTIAL_TTL);
        let other_session = issue(&a, "s-2", Side::Agent, NOW, CREDENTIAL_TTL);
        let later = issue(&a, "s-1", Side::Agent, NOW + 1, CREDENTIAL_TTL);
        for other in [other_side, other_session, later] {
            assert_ne!(c.password, other.password);
        }
    }

    #[test]
    fn expired_credentials_are_refused_at_the_second() {
        let c = issue(
            &TurnSecret::from_bytes(b"k"),
            "s-1",
            Side::Agent,
            NOW,
            Duration::from_secs(60),
        );
        assert!(parse_username(&c.username, NOW + 59).is_ok());
        assert_eq!(
            parse_username(&c.username, NOW + 60),
            Err(CredError::Expired)
        );
    }

    #[test]
    fn foreign_or_hostile_usernames_are_malformed() {
        for u in [
            "",
            "1764000000",                  // the plain REST form: not ours
            "1764000000:s-1",              // no side
            "1764000000:s-1:x",            // unknown side
            "1764000000:s-1:a:extra",      // too many parts
            "soon:s-1:a",                  // expiry not a number
            "-5:s-1:a",                    // negative
            "99999999999999999999999:s:a", // overflows u64
            "1764000000::a",               // empty session
            "1764000000:s 1:a",            // space
            "1764000000:s\u{202e}1:a",     // bidi control
            "1764000000:../../etc:a",      // path-like
        ] {
            assert_eq!(
                parse_username(u, NOW - 10),
                Err(CredError::Malformed),
                "{u:?}"
            );
        }
        let long = format!("1764000000:{}:a", "s".repeat(200));
        assert_eq!(parse_username(&long, NOW), Err(CredError::Malformed));
    }

    #[test]
    fn debug_output_never_shows_the_password() {
        let c = issue(
            &TurnSecret::from_bytes(b"k"),
            "s-1",
            Side::Agent,
            NOW,
            CREDENTIAL_TTL,
        );
        let shown = format!("{c:?}");
        assert!(!shown.contains(&c.password));
        assert_eq!(format!("{:?}", TurnSecret::random()), "TurnSecret(…)");
    }
}
