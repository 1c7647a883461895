//! Caseworkers' passkeys (issue 16 item 11): each a WebAuthn credential as webauthn-rs
//! serialises it (public key and signature counter, never a secret), by account.

use sqlx::Row;

use super::{Store, StoreError};

/// One stored passkey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyRow {
    /// Internal id, what the viewer names when it removes one.
    pub id: i64,
    /// Whose it is.
    pub login: String,
    /// The credential id, base64url.
    pub cred_id: String,
    /// The credential, JSON.
    pub passkey: String,
    /// When it was enrolled, unix seconds.
    pub created_at: i64,
    /// When it last signed in, unix seconds.
    pub last_used_at: Option<i64>,
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<PasskeyRow, sqlx::Error> {
    Ok(PasskeyRow {
        id: row.try_get("id")?,
        login: row.try_get("login")?,
        cred_id: row.try_get("cred_id")?,
        passkey: row.try_get("passkey")?,
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
    })
}

impl Store {
    /// The passkeys of an account, oldest first.
    pub async fn passkeys(&self, login: &str) -> Result<Vec<PasskeyRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, login, cred_id, passkey, created_at, last_used_at FROM passkeys \
             WHERE login = $1 ORDER BY id",
        )
        .bind(login)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
    }

    /// Adds a passkey; `false` if that credential id is already enrolled (on any account).
    pub async fn add_passkey(
        &self,
        login: &str,
        cred_id: &str,
        passkey: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO passkeys (id, login, cred_id, passkey, created_at) \
             SELECT COALESCE(MAX(id), 0) + 1, $1, $2, $3, $4 FROM passkeys \
             HAVING NOT EXISTS (SELECT 1 FROM passkeys WHERE cred_id = $5)",
        )
        .bind(login)
        .bind(cred_id)
        .bind(passkey)
        .bind(now)
        .bind(cred_id)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Stores a passkey's new state (counter) after it signed in.
    pub async fn passkey_used(&self, id: i64, passkey: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE passkeys SET passkey = $1, last_used_at = $2 WHERE id = $3")
            .bind(passkey)
            .bind(now)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Removes one passkey of this account; `false` if it has none with that id.
    pub async fn remove_passkey(&self, login: &str, id: i64) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM passkeys WHERE login = $1 AND id = $2")
            .bind(login)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
