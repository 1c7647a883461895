//! Caseworker accounts: who may sign in and redeem codes, with the display name and site
//! the resident is shown. Passwords are stored only as argon2id hashes (see `auth`).

use sqlx::Row;

use super::{Store, StoreError};

/// One caseworker, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Internal id.
    pub id: i64,
    /// What they type to sign in.
    pub login: String,
    /// Shown to residents, e.g. "Marie Dupont".
    pub display_name: String,
    /// Their site or service, shown with the name.
    pub site: String,
    /// argon2id PHC string, `None` until they set a password.
    pub password_hash: Option<String>,
    /// A disabled account cannot sign in.
    pub disabled: bool,
    /// Wrong session codes typed so far (visible to the admin).
    pub wrong_codes: i64,
    /// Failed sign-ins so far (visible to the admin).
    pub failed_logins: i64,
    /// Last successful sign-in, unix seconds.
    pub last_login_at: Option<i64>,
}

/// Longest login, display name or site, in characters.
pub const MAX_FIELD_CHARS: usize = 80;

/// Why a login, name or site was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    /// Logins are 1–64 of `a-z 0-9 . _ - @`.
    #[error("a login is 1 to 64 characters among a-z, 0-9, '.', '_', '-', '@'")]
    Login,
    /// Empty or too long.
    #[error("the {0} must be 1 to {MAX_FIELD_CHARS} characters")]
    Length(&'static str),
    /// Control or bidirectional-override characters, which could disguise the name.
    #[error("the {0} contains control or text-direction characters")]
    Characters(&'static str),
}

/// Normalises and checks a login (lowercased).
pub fn check_login(login: &str) -> Result<String, FieldError> {
    let login = login.trim().to_lowercase();
    let ok = !login.is_empty()
        && login.len() <= 64
        && login
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-@".contains(c));
    if ok {
        Ok(login)
    } else {
        Err(FieldError::Login)
    }
}

/// Checks a display name or site: what the resident will read must be plain text.
pub fn check_text(what: &'static str, text: &str) -> Result<String, FieldError> {
    let text = text.trim();
    let n = text.chars().count();
    if n == 0 || n > MAX_FIELD_CHARS {
        return Err(FieldError::Length(what));
    }
    if text.chars().any(|c| c.is_control() || is_bidi_control(c)) {
        return Err(FieldError::Characters(what));
    }
    Ok(text.to_string())
}

/// Unicode characters that change text direction (used to disguise names).
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

const COLUMNS: &str = "id, login, display_name, site, password_hash, disabled, wrong_codes, \
                       failed_logins, last_login_at";

fn from_row(row: &sqlx::any::AnyRow) -> Result<Account, sqlx::Error> {
    Ok(Account {
        id: row.try_get("id")?,
        login: row.try_get("login")?,
        display_name: row.try_get("display_name")?,
        site: row.try_get("site")?,
        password_hash: row.try_get("password_hash")?,
        disabled: row.try_get::<i64, _>("disabled")? != 0,
        wrong_codes: row.try_get("wrong_codes")?,
        failed_logins: row.try_get("failed_logins")?,
        last_login_at: row.try_get("last_login_at")?,
    })
}

impl Store {
    /// Adds a caseworker with either a password hash or a one-time setup token (its
    /// SHA-256) valid until `setup_expires_at`.
    pub async fn add_account(
        &self,
        login: &str,
        display_name: &str,
        site: &str,
        password_hash: Option<&str>,
        setup: Option<(&str, i64)>,
        now: i64,
    ) -> Result<Account, StoreError> {
        if self.account(login).await?.is_some() {
            return Err(StoreError::LoginTaken(login.to_string()));
        }
        sqlx::query(
            "INSERT INTO accounts (id, login, display_name, site, password_hash, \
             setup_token_hash, setup_expires_at, created_at) \
             SELECT COALESCE(MAX(id), 0) + 1, $1, $2, $3, $4, $5, $6, $7 FROM accounts",
        )
        .bind(login)
        .bind(display_name)
        .bind(site)
        .bind(password_hash)
        .bind(setup.map(|s| s.0))
        .bind(setup.map(|s| s.1))
        .bind(now)
        .execute(self.pool())
        .await?;
        self.account(login)
            .await?
            .ok_or_else(|| StoreError::UnknownLogin(login.to_string()))
    }

    /// The account with this login, if any.
    pub async fn account(&self, login: &str) -> Result<Option<Account>, StoreError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM accounts WHERE login = $1"))
            .bind(login)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.as_ref().map(from_row).transpose()?)
    }

    /// Every account, by login.
    pub async fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM accounts ORDER BY login"))
            .fetch_all(self.pool())
            .await?;
        Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
    }

    /// Disables or re-enables an account. Enabling also clears its wrong-code counter.
    pub async fn set_disabled(&self, login: &str, disabled: bool) -> Result<(), StoreError> {
        let sql = if disabled {
            "UPDATE accounts SET disabled = 1 WHERE login = $1"
        } else {
            "UPDATE accounts SET disabled = 0, wrong_codes = 0, failed_logins = 0 WHERE login = $1"
        };
        self.expect_one(sqlx::query(sql).bind(login), login).await
    }

    /// Forgets the password and the passkeys, and sets a new one-time setup token.
    pub async fn reset_account(
        &self,
        login: &str,
        token_hash: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        let done = sqlx::query(
            "UPDATE accounts SET password_hash = NULL, setup_token_hash = $1, \
             setup_expires_at = $2 WHERE login = $3",
        )
        .bind(token_hash)
        .bind(expires_at)
        .bind(login)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::UnknownLogin(login.to_string()));
        }
        sqlx::query("DELETE FROM passkeys WHERE login = $1")
            .bind(login)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sets the password of the account holding this unexpired setup token, and burns the
    /// token. Returns the account's login.
    pub async fn set_password_with_token(
        &self,
        token_hash: &str,
        password_hash: &str,
        now: i64,
    ) -> Result<String, StoreError> {
        let row = sqlx::query(
            "UPDATE accounts SET password_hash = $1, setup_token_hash = NULL, \
             setup_expires_at = NULL WHERE setup_token_hash = $2 AND setup_expires_at > $3 \
             RETURNING login",
        )
        .bind(password_hash)
        .bind(token_hash)
        .bind(now)
        .fetch_optional(self.pool())
        .await?;
        match row {
            Some(row) => Ok(row.try_get("login")?),
            None => Err(StoreError::BadSetupToken),
        }
    }

    /// The login whose unexpired setup token has this hash.
    pub async fn login_for_setup_token(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(
            "SELECT login FROM accounts WHERE setup_token_hash = $1 AND setup_expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|r| r.try_get("login")).transpose()?)
    }

    /// Records a successful sign-in.
    pub async fn record_login(&self, login: &str, now: i64) -> Result<(), StoreError> {
        let q = sqlx::query("UPDATE accounts SET last_login_at = $1 WHERE login = $2")
            .bind(now)
            .bind(login);
        self.expect_one(q, login).await
    }

    /// Counts a failed sign-in against an existing account (unknown logins are ignored).
    pub async fn count_failed_login(&self, login: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE accounts SET failed_logins = failed_logins + 1 WHERE login = $1")
            .bind(login)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Counts a wrong session code typed by this caseworker.
    pub async fn count_wrong_code(&self, login: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE accounts SET wrong_codes = wrong_codes + 1 WHERE login = $1")
            .bind(login)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    async fn expect_one<'q>(
        &self,
        q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
        login: &str,
    ) -> Result<(), StoreError> {
        if q.execute(self.pool()).await?.rows_affected() == 1 {
            Ok(())
        } else {
            Err(StoreError::UnknownLogin(login.to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_checked() {
        assert_eq!(check_login(" Marie.D@lilas ").unwrap(), "marie.d@lilas");
        assert!(check_login("marie dupont").is_err());
        assert!(check_login("").is_err());
        assert_eq!(
            check_text("name", " Marie Dupont ").unwrap(),
            "Marie Dupont"
        );
        assert_eq!(
            check_text("name", "Eve\u{202E}nivlaC"),
            Err(FieldError::Characters("name"))
        );
        assert!(check_text("name", "a\nb").is_err());
        assert!(check_text("site", &"x".repeat(81)).is_err());
        // HTML is just text: the viewer and the agent show it as text.
        assert!(check_text("name", "<b>Marie</b>").is_ok());
    }
}
