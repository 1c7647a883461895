//! What relays sharing one PostgreSQL database tell each other through it (issue 19):
//! their heartbeats, the codes each handed out, their mail, and which relay holds each
//! resumable session. Plain rows; the rules live in `signaling::federation`.

use std::collections::HashSet;

use ring::hmac;
use sqlx::Row;

use super::carry_over::ResumableRow;
use super::{Store, StoreError};

/// One letter between relays, as stored until its addressee takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    /// The sending relay.
    pub from: String,
    /// Its place in the sender's sequence: letters from one sender are read in order.
    pub seq: i64,
    /// The message (JSON).
    pub body: String,
}

/// The PostgreSQL channel a relay listens on for "you have mail".
pub fn channel(relay: &str) -> String {
    format!("acote_mail_{relay}")
}

impl Store {
    /// Notes that relay `id` is alive at `now` (unix seconds).
    pub async fn relay_heartbeat(&self, id: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO relays (id, alive_at) VALUES ($1, $2) \
             ON CONFLICT (id) DO UPDATE SET alive_at = excluded.alive_at",
        )
        .bind(id)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Relay `id` stopped: the others stop waiting for it at once.
    pub async fn relay_stopped(&self, id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM relays WHERE id = $1")
            .bind(id)
            .execute(self.pool())
            .await?;
        sqlx::query("DELETE FROM codes WHERE relay = $1")
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// The relays heard from since `since` (unix seconds); forgets those long gone.
    pub async fn live_relays(&self, since: i64) -> Result<HashSet<String>, StoreError> {
        let rows = sqlx::query("SELECT id FROM relays WHERE alive_at >= $1")
            .bind(since)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<String, _>("id")?))
            .collect()
    }

    /// The keyed hash a code is published under: relays sharing the database share the
    /// audit key, and a copy of the database does not list the codes in use.
    pub fn code_tag(&self, code: &str) -> String {
        hex::encode(hmac::sign(
            &self.audit_key,
            format!("code:{code}").as_bytes(),
        ))
    }

    /// Publishes that relay `relay` handed out `code` until `expires_at`; `false` when
    /// another relay holds the same code now (the caller draws another).
    pub async fn publish_code(
        &self,
        code: &str,
        relay: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO codes (tag, relay, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (tag) DO UPDATE SET relay = excluded.relay, expires_at = excluded.expires_at \
             WHERE codes.relay = excluded.relay OR codes.expires_at < $4",
        )
        .bind(self.code_tag(code))
        .bind(relay)
        .bind(expires_at)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The relay that handed out `code`, if it is still valid at `now`.
    pub async fn code_owner(&self, code: &str, now: i64) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT relay FROM codes WHERE tag = $1 AND expires_at >= $2")
            .bind(self.code_tag(code))
            .bind(now)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|r| r.try_get("relay")).transpose()?)
    }

    /// Forgets codes that ran out.
    pub async fn prune_codes(&self, now: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM codes WHERE expires_at < $1")
            .bind(now)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Posts letters (`to`, `seq`, `body`) from relay `from` in one transaction, and
    /// rings each addressee once (PostgreSQL's NOTIFY, delivered at commit).
    pub async fn post(
        &self,
        from: &str,
        letters: &[(String, i64, String)],
    ) -> Result<(), StoreError> {
        if letters.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool().begin().await?;
        let mut rung: Vec<&str> = Vec::new();
        for (to, seq, body) in letters {
            sqlx::query(
                "INSERT INTO relay_mail (from_relay, seq, to_relay, body) VALUES ($1, $2, $3, $4)",
            )
            .bind(from)
            .bind(seq)
            .bind(to)
            .bind(body)
            .execute(&mut *tx)
            .await?;
            if !rung.contains(&to.as_str()) {
                rung.push(to);
            }
        }
        for to in rung {
            sqlx::query("SELECT 1 AS rung FROM pg_notify($1, '')")
                .bind(channel(to))
                .fetch_optional(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Takes relay `me`'s letters, each sender's in its order.
    pub async fn take_mail(&self, me: &str) -> Result<Vec<Letter>, StoreError> {
        let rows = sqlx::query(
            "DELETE FROM relay_mail WHERE to_relay = $1 RETURNING from_relay, seq, body",
        )
        .bind(me)
        .fetch_all(self.pool())
        .await?;
        let mut letters = rows
            .iter()
            .map(|r| {
                Ok(Letter {
                    from: r.try_get("from_relay")?,
                    seq: r.try_get("seq")?,
                    body: r.try_get("body")?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        letters.sort_by(|a, b| (&a.from, a.seq).cmp(&(&b.from, b.seq)));
        Ok(letters)
    }

    /// Drops letters to relays that are gone (nobody will read them).
    pub async fn drop_mail_to(&self, relay: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM relay_mail WHERE to_relay = $1")
            .bind(relay)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// The resumable session one side's token hash (hex) belongs to, and its relay.
    pub async fn resumable_of(
        &self,
        agent_side: bool,
        hash: &str,
    ) -> Result<Option<ResumableRow>, StoreError> {
        let column = if agent_side {
            "agent_hash"
        } else {
            "viewer_hash"
        };
        let row = sqlx::query(&format!(
            "SELECT session, agent_hash, viewer_hash, login, relay FROM resumptions WHERE {column} = $1"
        ))
        .bind(hash)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.as_ref().map(resumable_row).transpose()?)
    }

    /// Takes over a session held by relay `gone` (no longer alive) for relay `me`;
    /// `None` when another relay took it first.
    pub async fn claim_resumable(
        &self,
        session: &str,
        gone: &str,
        me: &str,
    ) -> Result<Option<ResumableRow>, StoreError> {
        let row = sqlx::query(
            "UPDATE resumptions SET relay = $1 WHERE session = $2 AND relay = $3 \
             RETURNING session, agent_hash, viewer_hash, login, relay",
        )
        .bind(me)
        .bind(session)
        .bind(gone)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.as_ref().map(resumable_row).transpose()?)
    }

    /// When relay `id` was last heard from (unix seconds), if it ever was.
    pub async fn relay_alive_at(&self, id: &str) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query("SELECT alive_at FROM relays WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|r| r.try_get("alive_at")).transpose()?)
    }
}

/// A sign-in failure count as relays sharing the database keep it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignInCount {
    /// Failures counted.
    pub failures: i64,
    /// The last one, unix seconds.
    pub last_at: i64,
    /// Locked until, unix seconds.
    pub locked_until: Option<i64>,
}

impl Store {
    fn count_tag(&self, kind: &str, key: &str) -> String {
        hex::encode(hmac::sign(
            &self.audit_key,
            format!("signin:{kind}:{key}").as_bytes(),
        ))
    }

    /// The shared counts of these (kind, key) pairs, in their order.
    pub async fn sign_in_counts(
        &self,
        keys: &[(&str, &str)],
    ) -> Result<Vec<Option<SignInCount>>, StoreError> {
        let mut out = Vec::with_capacity(keys.len());
        for (kind, key) in keys {
            let row = sqlx::query(
                "SELECT failures, last_at, locked_until FROM sign_in_counts WHERE kind = $1 AND tag = $2",
            )
            .bind(*kind)
            .bind(self.count_tag(kind, key))
            .fetch_optional(self.pool())
            .await?;
            out.push(
                row.map(|r| {
                    Ok::<_, sqlx::Error>(SignInCount {
                        failures: r.try_get("failures")?,
                        last_at: r.try_get("last_at")?,
                        locked_until: r.try_get("locked_until")?,
                    })
                })
                .transpose()?,
            );
        }
        Ok(out)
    }

    /// Saves this relay's counts of these (kind, key) pairs; `None` clears one.
    pub async fn save_sign_in_counts(
        &self,
        counts: &[(&str, &str, Option<SignInCount>)],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        for (kind, key, count) in counts {
            let tag = self.count_tag(kind, key);
            match count {
                Some(c) => {
                    sqlx::query(
                        "INSERT INTO sign_in_counts (kind, tag, failures, last_at, locked_until) \
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (kind, tag) DO UPDATE SET \
                         failures = excluded.failures, last_at = excluded.last_at, \
                         locked_until = excluded.locked_until",
                    )
                    .bind(*kind)
                    .bind(tag)
                    .bind(c.failures)
                    .bind(c.last_at)
                    .bind(c.locked_until)
                    .execute(&mut *tx)
                    .await?;
                }
                None => {
                    sqlx::query("DELETE FROM sign_in_counts WHERE kind = $1 AND tag = $2")
                        .bind(*kind)
                        .bind(tag)
                        .execute(&mut *tx)
                        .await?;
                }
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Forgets counts idle since before `before` (unix seconds).
    pub async fn prune_sign_in_counts(&self, before: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sign_in_counts WHERE last_at < $1")
            .bind(before)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}

fn resumable_row(r: &sqlx::any::AnyRow) -> Result<ResumableRow, sqlx::Error> {
    Ok(ResumableRow {
        session: r.try_get("session")?,
        agent_hash: r.try_get("agent_hash")?,
        viewer_hash: r.try_get("viewer_hash")?,
        login: r.try_get("login")?,
        relay: r.try_get("relay")?,
    })
}
