//! The relay's database: caseworker accounts, the audit log and what a restart carries
//! over (resumable sessions, web sessions), in SQLite inside the data
//! dir (`acote.db`), through sqlx with versioned migrations (`relay/migrations/`).
//!
//! Durability: WAL journal with `synchronous = FULL`, so a record is on disk when its
//! insert returns; a `kill -9` at any moment loses no acknowledged record and leaves a
//! database SQLite recovers on the next open. Queries stay portable SQL so a PostgreSQL
//! backend can follow for multi-instance sites.

pub mod accounts;
pub mod audit;
pub mod carry_over;
pub mod time;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::SqliteSynchronous;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

/// The database file's name inside the data dir.
pub const DB_FILE: &str = "acote.db";

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened or migrated.
    #[error("cannot open the database {path}: {source}")]
    Open {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: sqlx::Error,
    },
    /// The schema could not be brought up to date.
    #[error("cannot update the database schema: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A query failed (disk full, file removed, locked too long…).
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// No caseworker has this login.
    #[error("no caseworker has the login {0:?}")]
    UnknownLogin(String),
    /// A caseworker already has this login.
    #[error("a caseworker already has the login {0:?}")]
    LoginTaken(String),
    /// The set-password link is unknown, used or expired.
    #[error("this set-password link is not valid (unknown, already used or expired)")]
    BadSetupToken,
}

/// A handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: SqlitePool,
    /// Serialises audit appends in this process so each reads the true chain head.
    append_lock: Arc<tokio::sync::Mutex<()>>,
}

impl Store {
    /// Opens (creating if needed) the database in `data_dir` and applies migrations.
    pub async fn open(data_dir: &Path) -> Result<Self, StoreError> {
        let path = data_dir.join(DB_FILE);
        let options = SqliteConnectOptions::from_str("sqlite:")
            .map_err(|source| StoreError::Open {
                path: path.clone(),
                source,
            })?
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: the WAL is synced at every commit, so an acknowledged audit record
            // survives a power cut or kill -9 (NORMAL could lose the last commits).
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|source| StoreError::Open {
                path: path.clone(),
                source,
            })?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Self {
            pool,
            append_lock: Arc::default(),
        })
    }

    /// Closes every connection (tests, and the admin command before exiting).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}
