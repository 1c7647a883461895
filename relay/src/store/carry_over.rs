//! What a restarted relay picks up from before: sessions that may resume (hashes of their
//! tokens), the last time the relay was alive, and caseworkers' web sessions (hashes of
//! their cookies). Plain rows; the rules live in `signaling` and `auth`.

use sqlx::Row;

use super::{Store, StoreError};

/// A saved resumable session, as stored (hashes in hex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResumableRow {
    /// The session's id in the audit log.
    pub session: String,
    /// SHA-256 of the agent's token, hex.
    pub agent_hash: String,
    /// SHA-256 of the viewer's token, hex.
    pub viewer_hash: String,
    /// The caseworker's login.
    pub login: String,
    /// The relay holding the session, when several share a PostgreSQL database (empty
    /// with SQLite, or when copied from it).
    pub relay: String,
}

/// A saved web session, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSessionRow {
    /// SHA-256 of the cookie, hex.
    pub token_hash: String,
    /// The account's login.
    pub login: String,
    /// The session's CSRF token.
    pub csrf: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub last_seen_at: i64,
}

impl Store {
    /// Saves (or replaces, after a token changed) a resumable session.
    pub async fn save_resumable(&self, row: &ResumableRow) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM resumptions WHERE session = $1")
            .bind(&row.session)
            .execute(self.pool())
            .await?;
        sqlx::query(
            "INSERT INTO resumptions (session, agent_hash, viewer_hash, login, relay) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&row.session)
        .bind(&row.agent_hash)
        .bind(&row.viewer_hash)
        .bind(&row.login)
        .bind(&row.relay)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Forgets a session that ended.
    pub async fn forget_resumable(&self, session: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM resumptions WHERE session = $1")
            .bind(session)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Every saved resumable session, and removes them: a restart resumes each at most
    /// once (the hub saves again what it restores).
    pub async fn take_resumables(&self) -> Result<Vec<ResumableRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT session, agent_hash, viewer_hash, login, relay FROM resumptions ORDER BY session",
        )
        .fetch_all(self.pool())
        .await?;
        sqlx::query("DELETE FROM resumptions")
            .execute(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(ResumableRow {
                    session: r.try_get("session")?,
                    agent_hash: r.try_get("agent_hash")?,
                    viewer_hash: r.try_get("viewer_hash")?,
                    login: r.try_get("login")?,
                    relay: r.try_get("relay")?,
                })
            })
            .collect()
    }

    /// Notes that the relay is alive at `at` (unix seconds).
    pub async fn alive(&self, at: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM relay_clock")
            .execute(self.pool())
            .await?;
        sqlx::query("INSERT INTO relay_clock (id, alive_at) VALUES (1, $1)")
            .bind(at)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// The last time the relay noted it was alive, if ever.
    pub async fn last_alive(&self) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query("SELECT alive_at FROM relay_clock WHERE id = 1")
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|r| r.try_get("alive_at")).transpose()?)
    }

    /// Saves a new web session, and drops those past `expired_before` (unix seconds of
    /// last use) or created before `too_old`.
    pub async fn save_web_session(
        &self,
        row: &WebSessionRow,
        expired_before: i64,
        too_old: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM web_sessions WHERE last_seen_at < $1 OR created_at < $2")
            .bind(expired_before)
            .bind(too_old)
            .execute(self.pool())
            .await?;
        sqlx::query(
            "INSERT INTO web_sessions (token_hash, login, csrf, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&row.token_hash)
        .bind(&row.login)
        .bind(&row.csrf)
        .bind(row.created_at)
        .bind(row.last_seen_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The saved web session of a cookie hash, if any.
    pub async fn web_session(&self, token_hash: &str) -> Result<Option<WebSessionRow>, StoreError> {
        let row = sqlx::query(
            "SELECT token_hash, login, csrf, created_at, last_seen_at FROM web_sessions WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(WebSessionRow {
                token_hash: r.try_get("token_hash")?,
                login: r.try_get("login")?,
                csrf: r.try_get("csrf")?,
                created_at: r.try_get("created_at")?,
                last_seen_at: r.try_get("last_seen_at")?,
            })
        })
        .transpose()
    }

    /// Records a use of a web session (its idle timer survives a restart).
    pub async fn touch_web_session(&self, token_hash: &str, at: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE web_sessions SET last_seen_at = $1 WHERE token_hash = $2")
            .bind(at)
            .bind(token_hash)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Ends every saved web session of a login (password reset or set, account disabled).
    pub async fn forget_web_sessions_of(&self, login: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM web_sessions WHERE login = $1")
            .bind(login)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Ends a saved web session (sign-out, rotation, disabled account).
    pub async fn forget_web_session(&self, token_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM web_sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn resumables_and_web_sessions_survive_a_reopen() {
        let dir = std::env::temp_dir().join(format!("acote-carry-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let row = ResumableRow {
            session: "s-1".into(),
            agent_hash: "a".repeat(64),
            viewer_hash: "b".repeat(64),
            login: "marie".into(),
            relay: String::new(),
        };
        let web = WebSessionRow {
            token_hash: "c".repeat(64),
            login: "marie".into(),
            csrf: "x".into(),
            created_at: 1000,
            last_seen_at: 1000,
        };
        {
            let store = Store::open(&dir).await.unwrap();
            store.save_resumable(&row).await.unwrap();
            store.save_resumable(&row).await.unwrap();
            store.alive(1234).await.unwrap();
            store.save_web_session(&web, 0, 0).await.unwrap();
            store
                .touch_web_session(&web.token_hash, 1100)
                .await
                .unwrap();
            store.close().await;
        }
        let store = Store::open(&dir).await.unwrap();
        assert_eq!(store.take_resumables().await.unwrap(), vec![row]);
        assert!(
            store.take_resumables().await.unwrap().is_empty(),
            "taken once"
        );
        assert_eq!(store.last_alive().await.unwrap(), Some(1234));
        let back = store.web_session(&web.token_hash).await.unwrap().unwrap();
        assert_eq!(back.last_seen_at, 1100);
        store.forget_web_session(&web.token_hash).await.unwrap();
        assert!(store.web_session(&web.token_hash).await.unwrap().is_none());
        store.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}
