//! The relay's database: caseworker accounts, the audit log and what a restart carries
//! over (resumable sessions, web sessions), and caseworkers' passkeys. SQLite inside the
//! data dir (`acote.db`) by default; PostgreSQL when `[store] url` names one, for sites
//! whose relays share accounts and one audit log. Both through sqlx's `Any` driver with
//! the same versioned migrations (`relay/migrations/`) and the same portable SQL
//! (`$N` parameters, BIGINT and TEXT columns).
//!
//! Durability: SQLite runs a WAL journal with `synchronous = FULL`, so a record is on
//! disk when its insert returns; a `kill -9` at any moment loses no acknowledged record
//! and leaves a database SQLite recovers on the next open. PostgreSQL commits are durable
//! by its own defaults.

pub mod accounts;
pub mod audit;
pub mod audit_event;
pub mod carry_over;
pub mod copy;
pub mod passkeys;
pub mod relays;
pub mod time;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use sqlx::AnyPool;
use sqlx::ConnectOptions;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::sqlite::SqliteConnectOptions;

/// The database file's name inside the data dir.
pub const DB_FILE: &str = "acote.db";
/// The audit chain's key file inside the data dir (0600, never in the database).
pub const AUDIT_KEY_FILE: &str = "audit.key";

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
    /// The PostgreSQL database of `[store] url` could not be reached or used.
    #[error("cannot connect to the database {url}: {source}")]
    Connect {
        /// The URL, its password left out.
        url: String,
        /// The cause.
        source: sqlx::Error,
    },
    /// `[store] url` is not a database this relay can use.
    #[error("{0}")]
    BadUrl(String),
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
    /// A file of the data dir cannot be created, read or protected.
    #[error("cannot use {path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The audit key file does not hold a key.
    #[error("{0} does not hold an audit key (64 hex digits); restore it from a backup")]
    BadAuditKey(PathBuf),
    /// `admin store copy-to` found rows in the database it was to fill.
    #[error("the target database already has {0}: copy only into a new, empty database")]
    TargetNotEmpty(&'static str),
    /// The set-password link is unknown, used or expired.
    #[error("this set-password link is not valid (unknown, already used or expired)")]
    BadSetupToken,
}

/// Which engine holds the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `acote.db` in the data dir: one relay.
    Sqlite,
    /// A PostgreSQL database: one or several relays share it.
    Postgres,
}

/// A handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// Serialises audit appends in this process so each reads the true chain head
    /// (PostgreSQL also takes an advisory lock, for the other relays).
    append_lock: Arc<tokio::sync::Mutex<()>>,
    /// The key of the audit chain's HMAC.
    audit_key: Arc<ring::hmac::Key>,
    /// Audit records that could not be written (for the metrics).
    audit_errors: Arc<std::sync::atomic::AtomicU64>,
}

/// How long a query waits for a PostgreSQL connection from the pool.
const WAIT: Duration = Duration::from_secs(5);

impl Store {
    /// Opens (creating if needed) the SQLite database in `data_dir` and applies migrations.
    pub async fn open(data_dir: &Path) -> Result<Self, StoreError> {
        Self::open_at(data_dir, None).await
    }

    /// Opens the database `url` names (`postgres://…`), or SQLite in `data_dir` when
    /// there is none, and applies migrations. The audit key stays a file of the data dir
    /// either way: relays sharing a database need the same `audit.key`.
    pub async fn open_at(data_dir: &Path, url: Option<&str>) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let audit_key = audit_key(&data_dir.join(AUDIT_KEY_FILE))?;
        let (pool, backend) = match url {
            None => (open_sqlite(&data_dir.join(DB_FILE)).await?, Backend::Sqlite),
            Some(url) => (open_postgres(url).await?, Backend::Postgres),
        };
        sqlx::migrate!("./migrations").run(&pool).await?;
        if backend == Backend::Sqlite {
            // SQLite gives its -wal and -shm files the database's mode; older databases
            // made before this rule are tightened here too.
            private_files(&data_dir.join(DB_FILE))?;
        }
        Ok(Self {
            pool,
            backend,
            append_lock: Arc::default(),
            audit_key: Arc::new(audit_key),
            audit_errors: Arc::default(),
        })
    }

    /// Which engine holds the store.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Audit records this process could not write since it started.
    pub fn audit_write_errors(&self) -> u64 {
        self.audit_errors.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether the database takes writes now: a write transaction is opened and rolled
    /// back (for `/readyz`). SQLite waits up to 5 s for another writer; a PostgreSQL
    /// standby (read only) refuses it.
    pub async fn writable(&self) -> Result<(), StoreError> {
        let begin = match self.backend {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN READ WRITE",
        };
        let tx = self.pool.begin_with(begin).await?;
        tx.rollback().await?;
        Ok(())
    }

    /// Closes every connection (tests, and the admin command before exiting).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }
}

/// The SQLite file, created 0600 if missing, in WAL mode with full syncs.
async fn open_sqlite(path: &Path) -> Result<AnyPool, StoreError> {
    let open_err = |source| StoreError::Open {
        path: path.to_path_buf(),
        source,
    };
    private_files(path)?;
    let file = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true);
    let options = AnyConnectOptions::from_url(&file.to_url_lossy()).map_err(open_err)?;
    AnyPoolOptions::new()
        .max_connections(4)
        .after_connect(|conn, _| {
            Box::pin(async move {
                // FULL: the WAL is synced at every commit, so an acknowledged audit
                // record survives a power cut or kill -9 (NORMAL could lose the last
                // commits). Set on every connection: sqlx's `Any` takes only a URL.
                for pragma in [
                    "PRAGMA journal_mode = WAL",
                    "PRAGMA synchronous = FULL",
                    "PRAGMA foreign_keys = ON",
                    "PRAGMA busy_timeout = 5000",
                ] {
                    sqlx::query(pragma).execute(&mut *conn).await?;
                }
                Ok(())
            })
        })
        .connect_with(options)
        .await
        .map_err(open_err)
}

/// A pool on the PostgreSQL database of `url`.
async fn open_postgres(url: &str) -> Result<AnyPool, StoreError> {
    let shown = redacted(url);
    let parsed: url::Url = url
        .parse()
        .map_err(|e| StoreError::BadUrl(format!("[store] url {shown} is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "postgres" | "postgresql") {
        return Err(StoreError::BadUrl(format!(
            "[store] url {shown}: only postgres:// databases are supported (SQLite is the default, without a url)"
        )));
    }
    let options = AnyConnectOptions::from_url(&parsed).map_err(|source| StoreError::Connect {
        url: shown.clone(),
        source,
    })?;
    AnyPoolOptions::new()
        .max_connections(8)
        .acquire_timeout(WAIT)
        .connect_with(options)
        .await
        .map_err(|source| StoreError::Connect { url: shown, source })
}

/// `url` with its password replaced, fit for errors and logs.
pub fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            parsed.to_string()
        }
        Err(_) => "(not a URL)".to_string(),
    }
}

/// Creates the database file 0600 if it is not there yet, and takes away the access of
/// others to it and to its -wal and -shm files: they hold accounts and session hashes.
fn private_files(db: &Path) -> Result<(), StoreError> {
    let err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| StoreError::File { path, source }
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(db)
        {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(err(db)(e)),
        }
        for suffix in ["", "-wal", "-shm"] {
            let file = PathBuf::from(format!("{}{suffix}", db.display()));
            match std::fs::metadata(&file) {
                Ok(m) if m.permissions().mode() & 0o077 != 0 => {
                    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
                        .map_err(err(&file))?;
                }
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(err(&file)(e)),
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (db, err);
    Ok(())
}

/// Reads the audit key, or makes one (256 random bits, hex, 0600) on first open. A key
/// file that exists but holds no key is an error, never replaced: the chain would no
/// longer verify.
fn audit_key(path: &Path) -> Result<ring::hmac::Key, StoreError> {
    let err = |source| StoreError::File {
        path: path.to_path_buf(),
        source,
    };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let text = hex::encode(rand::random::<[u8; 32]>());
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(path).map_err(err)?;
            std::io::Write::write_all(&mut file, text.as_bytes()).map_err(err)?;
            file.sync_all().map_err(err)?;
            text
        }
        Err(e) => return Err(err(e)),
    };
    let bytes = hex::decode(text.trim())
        .ok()
        .filter(|b| b.len() == 32)
        .ok_or_else(|| StoreError::BadAuditKey(path.to_path_buf()))?;
    Ok(ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &bytes))
}
