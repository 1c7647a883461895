//! What a browser sends to sign in, set a password or prove a session, checked before
//! anything acts on it: the JSON bodies of `POST /api/login` and `POST /api/password`, and
//! the `Cookie` header. Pure functions (the fuzz targets `sign_in`, `set_password` and
//! `cookies` call them directly).

use serde::Deserialize;

use super::password::MAX_CHARS;

/// The session cookie's name. The `__Host-` prefix makes browsers refuse it unless it is
/// `Secure`, for `Path=/` and without `Domain`: a sibling host or a plain-HTTP page
/// cannot plant or overwrite it.
pub const COOKIE: &str = "__Host-acote_session";

/// Longest login accepted in a sign-in, in characters.
pub const MAX_LOGIN_CHARS: usize = 64;

/// Why a body was refused; each maps to the stable error code the viewer translates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    /// A field is over its length limit.
    #[error("too_long")]
    TooLong,
    /// The set-password token is not 64 hex digits.
    #[error("link_invalid")]
    BadToken,
    /// Not JSON, or not the expected fields.
    #[error("malformed")]
    Malformed,
}

impl FormError {
    /// The code sent to the viewer.
    pub fn code(self) -> &'static str {
        match self {
            FormError::TooLong => "too_long",
            FormError::BadToken => "link_invalid",
            FormError::Malformed => "malformed",
        }
    }
}

/// Body of `POST /api/login`.
#[derive(Debug, Clone, Deserialize)]
pub struct LoginForm {
    /// As typed.
    pub login: String,
    /// As typed; never logged.
    pub password: String,
}

impl LoginForm {
    /// Checks lengths (before any argon2 work) and returns the normalised login.
    pub fn check(&self) -> Result<String, FormError> {
        if self.login.chars().count() > MAX_LOGIN_CHARS || self.password.chars().count() > MAX_CHARS
        {
            return Err(FormError::TooLong);
        }
        Ok(self.login.trim().to_lowercase())
    }
}

/// Body of `POST /api/password`.
#[derive(Debug, Clone, Deserialize)]
pub struct PasswordForm {
    /// The one-time token from the set-password link.
    pub token: String,
    /// The new password (its policy is checked later, with the login).
    pub password: String,
}

impl PasswordForm {
    /// Checks the token's shape and the password's length.
    pub fn check(&self) -> Result<(), FormError> {
        if !is_token(&self.token) {
            return Err(FormError::BadToken);
        }
        if self.password.chars().count() > MAX_CHARS {
            return Err(FormError::TooLong);
        }
        Ok(())
    }
}

/// Parses and checks a sign-in body, as the route does; returns the form and the
/// normalised login.
pub fn parse_login(body: &[u8]) -> Result<(LoginForm, String), FormError> {
    let form: LoginForm = serde_json::from_slice(body).map_err(|_| FormError::Malformed)?;
    let login = form.check()?;
    Ok((form, login))
}

/// Parses and checks a set-password body, as the route does.
pub fn parse_password(body: &[u8]) -> Result<PasswordForm, FormError> {
    let form: PasswordForm = serde_json::from_slice(body).map_err(|_| FormError::Malformed)?;
    form.check()?;
    Ok(form)
}

/// Whether `text` has the shape of our 256-bit tokens: 64 hex digits.
pub fn is_token(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The value of the session cookie among `Cookie` header values, if it has the shape of
/// a token (anything else is not ours and is ignored).
pub fn session_cookie<'a>(headers: impl IntoIterator<Item = &'a str>) -> Option<String> {
    headers
        .into_iter()
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_string())
        .filter(|v| is_token(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_in_bodies() {
        let (form, login) =
            parse_login(br#"{"login":"  Marie ","password":"x","extra":1}"#).unwrap();
        assert_eq!((login.as_str(), form.password.as_str()), ("marie", "x"));
        let long = format!(r#"{{"login":"{}","password":"x"}}"#, "a".repeat(65));
        assert_eq!(
            parse_login(long.as_bytes()).unwrap_err(),
            FormError::TooLong
        );
        for bad in [
            &b""[..],
            b"[]",
            b"{\"login\":1}",
            b"\xff",
            b"{\"login\":\"a\"}",
        ] {
            assert_eq!(parse_login(bad).unwrap_err(), FormError::Malformed);
        }
    }

    #[test]
    fn set_password_tokens_are_64_hex_digits() {
        let ok = format!(r#"{{"token":"{}","password":"p"}}"#, "ab".repeat(32));
        assert!(parse_password(ok.as_bytes()).is_ok());
        let bad = format!(r#"{{"token":"{}","password":"p"}}"#, "zz".repeat(32));
        assert_eq!(
            parse_password(bad.as_bytes()).unwrap_err(),
            FormError::BadToken
        );
        let multibyte = format!(r#"{{"token":"{}","password":"p"}}"#, "é".repeat(32));
        assert_eq!(
            parse_password(multibyte.as_bytes()).unwrap_err(),
            FormError::BadToken
        );
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let token = "0f".repeat(32);
        let header = format!("a=b; __Host-acote_session={token}; c");
        assert_eq!(session_cookie([header.as_str()]), Some(token.clone()));
        assert_eq!(
            session_cookie(["x=1", &format!("__Host-acote_session={token}")]),
            Some(token)
        );
        assert_eq!(session_cookie(["__Host-acote_session=short"]), None);
        assert_eq!(session_cookie(["__Host-acote_session"]), None);
        assert_eq!(session_cookie([""]), None);
    }
}
