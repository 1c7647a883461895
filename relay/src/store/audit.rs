//! The audit log: append-only, metadata only, hash-chained under a key.
//!
//! Each row stores `hash = HMAC-SHA256(key, canonical(seq, at, event, actor, session,
//! detail, prev_hash))` where `prev_hash` is the previous row's hash (64 zeros for the
//! first), so deleting or editing a row breaks the chain at that row and `verify` names
//! it. The key is kept outside the database (`audit.key`, 0600): someone who can write
//! `acote.db` but not read the key cannot recompute the hashes after an edit. Deleting
//! the newest rows leaves a valid chain; an *anchor* (the head's hash, printed by each
//! `audit export` and logged by the relay every hour) that `verify --anchor` no longer
//! finds reveals it.
//! Retention deletes the oldest rows and appends a `retention` record naming the last
//! deleted row and its hash, which becomes the anchor of what remains.

use std::fmt;

use ring::hmac;
use sqlx::Row;

pub use super::audit_event::AuditEvent;
use super::{Backend, Store, StoreError};

/// `prev_hash` of the very first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Longest text kept in one field: a record holds metadata, never content.
const MAX_FIELD: usize = 200;

/// What happened, ready to append. Plain data, built by IO-free code (hub, auth).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// What happened.
    pub event: AuditEvent,
    /// Who did it: a caseworker's login, `admin`, `agent`, or empty.
    pub actor: String,
    /// The signaling session it belongs to, if any.
    pub session: String,
    /// Further metadata as `key=value` pairs separated by `; `.
    pub detail: String,
}

impl Record {
    /// A record of `event` with no actor, session or detail yet.
    pub fn new(event: AuditEvent) -> Self {
        Self {
            event,
            actor: String::new(),
            session: String::new(),
            detail: String::new(),
        }
    }

    /// Sets who did it.
    pub fn actor(mut self, actor: &str) -> Self {
        self.actor = clean(actor);
        self
    }

    /// Sets the session.
    pub fn session(mut self, session: &str) -> Self {
        self.session = clean(session);
        self
    }

    /// Appends `key=value` to the detail (the value is cleaned and cut).
    pub fn with(mut self, key: &str, value: impl fmt::Display) -> Self {
        if !self.detail.is_empty() {
            self.detail.push_str("; ");
        }
        let value = clean(&value.to_string()).replace(';', ",");
        self.detail.push_str(&format!("{key}={value}"));
        self
    }
}

/// Drops control characters and cuts: actors may come from what a stranger typed.
fn clean(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control() && !super::accounts::is_bidi_control(*c))
        .take(MAX_FIELD)
        .collect()
}

/// One stored row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// Unix seconds.
    pub at: i64,
    /// The record.
    pub record: Record,
    /// Hash of the previous row.
    pub prev_hash: String,
    /// Hash of this row.
    pub hash: String,
}

/// The chain hash of a row: HMAC-SHA256 under the audit key over length-prefixed
/// fields, so no two different rows encode the same way.
pub fn chain_hash(key: &hmac::Key, seq: i64, at: i64, record: &Record, prev_hash: &str) -> String {
    let mut h = hmac::Context::with_key(key);
    for field in [
        &seq.to_string(),
        &at.to_string(),
        &record.event.to_string(),
        &record.actor,
        &record.session,
        &record.detail,
        &prev_hash.to_string(),
    ] {
        h.update(format!("{}:", field.len()).as_bytes());
        h.update(field.as_bytes());
        h.update(b"\n");
    }
    hex::encode(h.sign().as_ref())
}

/// A break in the chain, as `audit verify` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The row's content does not match its hash: it was edited.
    Altered {
        /// The row.
        seq: i64,
    },
    /// Rows are missing between two that remain: they were deleted.
    Missing {
        /// First missing position.
        from: i64,
        /// Last missing position.
        to: i64,
    },
    /// A row does not follow the one before it (its `prev_hash` differs).
    Unlinked {
        /// The row.
        seq: i64,
    },
    /// The oldest rows are gone and no retention record says they were deleted.
    MissingStart {
        /// The oldest remaining row.
        first: i64,
    },
    /// The anchor given to `verify` is in no remaining row nor retention record: rows
    /// from it on were deleted (or the chain was rebuilt).
    AnchorMissing,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Altered { seq } => write!(f, "record {seq} was altered"),
            Problem::Missing { from, to } if from == to => {
                write!(f, "record {from} is missing (deleted)")
            }
            Problem::Missing { from, to } => write!(f, "records {from} to {to} are missing"),
            Problem::Unlinked { seq } => {
                write!(f, "record {seq} does not follow the record before it")
            }
            Problem::MissingStart { first } => write!(
                f,
                "records before {first} are missing and no retention record says why"
            ),
            Problem::AnchorMissing => write!(
                f,
                "the anchor is not in the log: its record and those after it were removed"
            ),
        }
    }
}

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// Rows checked.
    pub records: usize,
    /// Every break found, oldest first; empty when the chain holds.
    pub problems: Vec<Problem>,
}

/// Checks a chain held in memory (IO-free, so tests can tamper freely); with an anchor
/// (a hash the chain once had at its head), also that the anchored row is still there,
/// or was deleted by retention, which records its hash.
pub fn verify_entries(key: &hmac::Key, entries: &[Entry], anchor: Option<&str>) -> Verification {
    let mut problems = Vec::new();
    if let Some(first) = entries.first()
        && !start_is_anchored(first, entries)
    {
        problems.push(Problem::MissingStart { first: first.seq });
    }
    let mut prev: Option<&Entry> = None;
    for e in entries {
        if chain_hash(key, e.seq, e.at, &e.record, &e.prev_hash) != e.hash {
            problems.push(Problem::Altered { seq: e.seq });
        }
        if let Some(p) = prev {
            if e.seq != p.seq + 1 {
                problems.push(Problem::Missing {
                    from: p.seq + 1,
                    to: e.seq - 1,
                });
            } else if e.prev_hash != p.hash {
                problems.push(Problem::Unlinked { seq: e.seq });
            }
        }
        prev = Some(e);
    }
    if let Some(anchor) = anchor.map(str::trim).map(str::to_ascii_lowercase) {
        let retained = format!("last_hash={anchor}");
        let found = entries.iter().any(|e| {
            e.hash == anchor
                || (e.record.event == AuditEvent::Retention
                    && e.record.detail.split("; ").any(|kv| kv == retained))
        });
        if !found {
            problems.push(Problem::AnchorMissing);
        }
    }
    Verification {
        records: entries.len(),
        problems,
    }
}

fn start_is_anchored(first: &Entry, entries: &[Entry]) -> bool {
    if first.seq == 1 {
        return first.prev_hash == GENESIS;
    }
    let through = format!("deleted_through={}", first.seq - 1);
    let last = format!("last_hash={}", first.prev_hash);
    entries.iter().any(|e| {
        e.record.event == AuditEvent::Retention
            && e.record.detail.split("; ").any(|kv| kv == through)
            && e.record.detail.split("; ").any(|kv| kv == last)
    })
}

fn entry(row: &sqlx::any::AnyRow) -> Result<Entry, sqlx::Error> {
    Ok(Entry {
        seq: row.try_get("seq")?,
        at: row.try_get("at")?,
        record: Record {
            event: AuditEvent::from_name(&row.try_get::<String, _>("event")?),
            actor: row.try_get("actor")?,
            session: row.try_get("session")?,
            detail: row.try_get("detail")?,
        },
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
    })
}

/// The advisory lock's key for the audit chain ("acote" in ASCII).
const CHAIN_LOCK: i64 = 0x61_636f_7465;

const SELECT: &str = "SELECT seq, at, event, actor, session, detail, prev_hash, hash FROM audit";

impl Store {
    /// Appends a record; when this returns `Ok`, the record is on disk.
    ///
    /// Another process (the admin command) may append at the same moment: SQLite then
    /// refuses the later writer (stale snapshot, or the same `seq` taken), and the append
    /// is retried a few times from a fresh read of the chain head. On PostgreSQL, relays
    /// sharing the database take turns on an advisory lock, so none is refused.
    pub async fn append(&self, at: i64, record: &Record) -> Result<i64, StoreError> {
        let _one_at_a_time = self.append_lock.lock().await;
        let mut attempt = 0u64;
        loop {
            match self.try_append(at, record).await {
                Ok(seq) => return Ok(seq),
                Err(StoreError::Db(sqlx::Error::Database(e))) if attempt < 4 => {
                    tracing::debug!(error = %e, "audit append raced another writer; retrying");
                }
                Err(e) => {
                    self.audit_errors
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    return Err(e);
                }
            }
            attempt += 1;
            tokio::time::sleep(std::time::Duration::from_millis(10 * attempt)).await;
        }
    }

    async fn try_append(&self, at: i64, record: &Record) -> Result<i64, StoreError> {
        let mut tx = self.pool().begin().await?;
        self.chain_lock(&mut tx).await?;
        let seq = append_in(&mut tx, &self.audit_key, at, record).await?;
        tx.commit().await?;
        Ok(seq)
    }

    /// On PostgreSQL, holds the chain's advisory lock until `tx` ends: every relay
    /// sharing the database appends in turn, each reading the head the last one wrote
    /// (a statement in a read-committed transaction sees what committed before it).
    async fn chain_lock(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    ) -> Result<(), StoreError> {
        if self.backend() == Backend::Postgres {
            sqlx::query("SELECT 1 AS locked FROM pg_advisory_xact_lock($1)")
                .bind(CHAIN_LOCK)
                .fetch_one(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// Every record, oldest first.
    pub async fn entries(&self) -> Result<Vec<Entry>, StoreError> {
        let rows = sqlx::query(&format!("{SELECT} ORDER BY seq"))
            .fetch_all(self.pool())
            .await?;
        Ok(rows.iter().map(entry).collect::<Result<_, _>>()?)
    }

    /// Records with `from <= at < to`, oldest first.
    pub async fn entries_between(&self, from: i64, to: i64) -> Result<Vec<Entry>, StoreError> {
        let rows = sqlx::query(&format!("{SELECT} WHERE at >= $1 AND at < $2 ORDER BY seq"))
            .bind(from)
            .bind(to)
            .fetch_all(self.pool())
            .await?;
        Ok(rows.iter().map(entry).collect::<Result<_, _>>()?)
    }

    /// The wrong codes recorded after position `seq` (by any relay sharing the
    /// database): (position, when, which account).
    pub async fn wrong_codes_after(&self, seq: i64) -> Result<Vec<(i64, i64, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, at, actor FROM audit WHERE seq > $1 AND event = $2 ORDER BY seq",
        )
        .bind(seq)
        .bind(AuditEvent::CodeWrong.as_str())
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| {
                Ok::<_, sqlx::Error>((r.try_get("seq")?, r.try_get("at")?, r.try_get("actor")?))
            })
            .collect::<Result<_, _>>()?)
    }

    /// Checks the whole chain.
    pub async fn verify(&self) -> Result<Verification, StoreError> {
        self.verify_anchored(None).await
    }

    /// Checks the whole chain and, if given, that the anchor is still in it.
    pub async fn verify_anchored(&self, anchor: Option<&str>) -> Result<Verification, StoreError> {
        Ok(verify_entries(
            &self.audit_key,
            &self.entries().await?,
            anchor,
        ))
    }

    /// The newest record's position and hash: the anchor to keep for a later `verify`.
    pub async fn head(&self) -> Result<Option<(i64, String)>, StoreError> {
        let row = sqlx::query("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
            .fetch_optional(self.pool())
            .await?;
        Ok(row
            .map(|r| Ok::<_, sqlx::Error>((r.try_get("seq")?, r.try_get("hash")?)))
            .transpose()?)
    }

    /// Deletes records older than `retention_days` and appends a `retention` record that
    /// anchors what remains. Returns how many were deleted.
    pub async fn apply_retention(&self, now: i64, retention_days: u32) -> Result<u64, StoreError> {
        let cutoff = now - i64::from(retention_days) * 86_400;
        let _one_at_a_time = self.append_lock.lock().await;
        let mut tx = self.pool().begin().await?;
        self.chain_lock(&mut tx).await?;
        let last_old =
            sqlx::query("SELECT seq, hash FROM audit WHERE at < $1 ORDER BY seq DESC LIMIT 1")
                .bind(cutoff)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(last_old) = last_old else {
            return Ok(0);
        };
        let through: i64 = last_old.try_get("seq")?;
        let last_hash: String = last_old.try_get("hash")?;
        let deleted = sqlx::query("DELETE FROM audit WHERE seq <= $1")
            .bind(through)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let record = Record::new(AuditEvent::Retention)
            .actor("relay")
            .with("deleted_through", through)
            .with("last_hash", &last_hash)
            .with("deleted", deleted)
            .with("retention_days", retention_days);
        append_in(&mut tx, &self.audit_key, now, &record).await?;
        tx.commit().await?;
        Ok(deleted)
    }
}

async fn append_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    key: &hmac::Key,
    at: i64,
    record: &Record,
) -> Result<i64, StoreError> {
    let head = sqlx::query("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&mut **tx)
        .await?;
    let (seq, prev) = match head {
        Some(row) => (
            row.try_get::<i64, _>("seq")? + 1,
            row.try_get::<String, _>("hash")?,
        ),
        None => (1, GENESIS.to_string()),
    };
    let hash = chain_hash(key, seq, at, record, &prev);
    sqlx::query(
        "INSERT INTO audit (seq, at, event, actor, session, detail, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(seq)
    .bind(at)
    .bind(record.event.as_str())
    .bind(&record.actor)
    .bind(&record.session)
    .bind(&record.detail)
    .bind(&prev)
    .bind(&hash)
    .execute(&mut **tx)
    .await?;
    Ok(seq)
}

/// Writes entries as CSV (RFC 4180) for a service's reports.
pub fn write_csv(out: &mut dyn std::io::Write, entries: &[Entry]) -> std::io::Result<()> {
    writeln!(out, "seq,time_utc,event,actor,session,detail")?;
    for e in entries {
        writeln!(
            out,
            "{},{},{},{},{},{}",
            e.seq,
            super::time::format_utc(e.at),
            csv_field(e.record.event.as_str()),
            csv_field(&e.record.actor),
            csv_field(&e.record.session),
            csv_field(&e.record.detail)
        )?;
    }
    Ok(())
}

/// Quotes a CSV field, and defuses spreadsheet formulas (a login a stranger typed could
/// start with `=`).
fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

#[cfg(test)]
#[path = "audit_tests.rs"]
mod tests;
