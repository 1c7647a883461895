//! `acote-relay admin`: caseworker accounts and the audit log, run by the site's IT admin
//! on the relay's machine (DESIGN §9). It opens the same database as the running relay;
//! SQLite's WAL lets both work at once.

use std::io::{BufRead, Write};
use std::path::Path;

use clap::Subcommand;

use crate::auth::{self, password};
use crate::config::Config;
use crate::store::accounts::{self, Account};
use crate::store::audit::{AuditEvent, Record, write_csv};
use crate::store::time::{format_utc, parse_date, unix_now};
use crate::store::{self, Store, StoreError};

/// How long a set-password link works.
pub const LINK_VALID_SECS: i64 = 24 * 3600;

/// The admin commands.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Manage caseworker accounts.
    #[command(subcommand)]
    Caseworker(CaseworkerCommand),
    /// Check or export the audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Move the database to PostgreSQL.
    #[command(subcommand)]
    Store(StoreCommand),
}

/// `admin store …`
#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Copy the data dir's SQLite database (accounts, passkeys, sign-ins, the audit log)
    /// into a new, empty PostgreSQL database; then set `[store] url` and restart.
    CopyTo {
        /// The PostgreSQL database, postgres://user@host/name (the password from
        /// PGPASSWORD or ~/.pgpass rather than on the command line).
        url: String,
    },
}

/// `admin caseworker …`
#[derive(Debug, Subcommand)]
pub enum CaseworkerCommand {
    /// Add a caseworker; prints a one-time set-password link valid 24 h.
    Add {
        /// What they type to sign in (a-z, 0-9, . _ - @).
        login: String,
        /// Display name shown to residents, e.g. "Marie Dupont".
        #[arg(long)]
        name: String,
        /// Site or service shown with the name, e.g. "CHRS Les Lilas".
        #[arg(long)]
        site: String,
        /// Read the password from the first line of standard input instead of printing
        /// a link.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Stop a caseworker from signing in and redeeming codes.
    Disable {
        /// The login.
        login: String,
    },
    /// Let a disabled caseworker in again (also clears their wrong-code count).
    Enable {
        /// The login.
        login: String,
    },
    /// Forget the password; prints a new one-time set-password link.
    Reset {
        /// The login.
        login: String,
    },
    /// List caseworkers with their status and counts of wrong codes and failed sign-ins.
    List,
}

/// `admin audit …`
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain; names every altered or deleted record.
    Verify {
        /// A hash printed by an earlier `audit export` (or logged by the relay as
        /// `audit anchor`): also check that no record from it on was removed.
        #[arg(long)]
        anchor: Option<String>,
    },
    /// Write records between two dates (UTC, inclusive) as CSV on stdout.
    Export {
        /// First day, YYYY-MM-DD.
        #[arg(long)]
        from: String,
        /// Last day, YYYY-MM-DD.
        #[arg(long)]
        to: String,
    },
}

/// Why an admin command failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// Bad input on the command line or stdin (exit code 2).
    #[error("{0}")]
    Usage(String),
    /// The database failed (exit code 1).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Writing the output failed (exit code 1).
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
    /// The audit chain is broken (exit code 1); the problems were printed.
    #[error("the audit log does not verify: {0} problem(s) found")]
    ChainBroken(usize),
}

impl AdminError {
    /// The process exit code for this failure (DESIGN §9).
    pub fn exit_code(&self) -> u8 {
        match self {
            AdminError::Usage(_) => 2,
            _ => 1,
        }
    }
}

fn usage(e: impl std::fmt::Display) -> AdminError {
    AdminError::Usage(e.to_string())
}

/// Runs one admin command against the relay's database.
pub async fn run(
    config: &Config,
    command: AdminCommand,
    stdin: &mut dyn BufRead,
    out: &mut dyn Write,
) -> Result<(), AdminError> {
    let data_dir = &config.server.data_dir;
    std::fs::create_dir_all(data_dir).map_err(|e| {
        usage(format!(
            "cannot create the data folder {}: {e}",
            data_dir.display()
        ))
    })?;
    if let AdminCommand::Store(StoreCommand::CopyTo { url }) = command {
        return copy_to(data_dir, &url, out).await;
    }
    let store = Store::open_at(data_dir, config.store.url.as_deref()).await?;
    let result = match command {
        AdminCommand::Caseworker(c) => caseworker(config, &store, c, stdin, out).await,
        AdminCommand::Audit(AuditCommand::Verify { anchor }) => {
            verify(&store, anchor.as_deref(), out).await
        }
        AdminCommand::Audit(AuditCommand::Export { from, to }) => {
            export(&store, &from, &to, out).await
        }
        AdminCommand::Store(_) => Ok(()),
    };
    store.close().await;
    result
}

async fn caseworker(
    config: &Config,
    store: &Store,
    command: CaseworkerCommand,
    stdin: &mut dyn BufRead,
    out: &mut dyn Write,
) -> Result<(), AdminError> {
    let now = unix_now();
    match command {
        CaseworkerCommand::Add {
            login,
            name,
            site,
            password_stdin,
        } => {
            let login = accounts::check_login(&login).map_err(usage)?;
            let name = accounts::check_text("name", &name).map_err(usage)?;
            let site = accounts::check_text("site", &site).map_err(usage)?;
            if password_stdin {
                let mut line = String::new();
                stdin.read_line(&mut line)?;
                let pw = line.trim_end_matches(['\n', '\r']);
                password::check_policy(pw, &login).map_err(usage)?;
                let hash = password::hash(pw).map_err(usage)?;
                store
                    .add_account(&login, &name, &site, Some(&hash), None, now)
                    .await
                    .map_err(taken_is_usage)?;
                audit(store, AuditEvent::AccountAdded, &login).await?;
                writeln!(out, "caseworker {login} added")?;
            } else {
                let token = auth::new_token();
                let expires = now + LINK_VALID_SECS;
                store
                    .add_account(
                        &login,
                        &name,
                        &site,
                        None,
                        Some((&auth::token_hash(&token), expires)),
                        now,
                    )
                    .await
                    .map_err(taken_is_usage)?;
                audit(store, AuditEvent::AccountAdded, &login).await?;
                writeln!(
                    out,
                    "caseworker {login} added; send them this link (valid 24 h, once):"
                )?;
                writeln!(out, "{}/set-password#{token}", config.public_url())?;
            }
        }
        CaseworkerCommand::Disable { login } => {
            store
                .set_disabled(&login, true)
                .await
                .map_err(unknown_is_usage)?;
            // A running relay notices at its next check of the account (every redeem,
            // every ping of an open socket) and signs them out there too.
            store.forget_web_sessions_of(&login).await?;
            audit(store, AuditEvent::AccountDisabled, &login).await?;
            writeln!(out, "caseworker {login} disabled")?;
        }
        CaseworkerCommand::Enable { login } => {
            store
                .set_disabled(&login, false)
                .await
                .map_err(unknown_is_usage)?;
            audit(store, AuditEvent::AccountEnabled, &login).await?;
            writeln!(out, "caseworker {login} enabled")?;
        }
        CaseworkerCommand::Reset { login } => {
            let token = auth::new_token();
            store
                .reset_account(&login, &auth::token_hash(&token), now + LINK_VALID_SECS)
                .await
                .map_err(unknown_is_usage)?;
            store.forget_web_sessions_of(&login).await?;
            audit(store, AuditEvent::AccountReset, &login).await?;
            writeln!(
                out,
                "password of {login} cleared; send them this link (valid 24 h, once):"
            )?;
            writeln!(out, "{}/set-password#{token}", config.public_url())?;
        }
        CaseworkerCommand::List => list(&store.accounts().await?, out)?,
    }
    Ok(())
}

fn taken_is_usage(e: StoreError) -> AdminError {
    match e {
        StoreError::LoginTaken(_) => usage(e),
        other => other.into(),
    }
}

fn unknown_is_usage(e: StoreError) -> AdminError {
    match e {
        StoreError::UnknownLogin(_) => usage(e),
        other => other.into(),
    }
}

async fn audit(store: &Store, event: AuditEvent, login: &str) -> Result<(), AdminError> {
    let record = Record::new(event).actor("admin").with("account", login);
    store.append(unix_now(), &record).await?;
    Ok(())
}

fn list(accounts: &[Account], out: &mut dyn Write) -> Result<(), AdminError> {
    writeln!(
        out,
        "login\tname\tsite\tstatus\twrong_codes\tfailed_logins\tlast_login"
    )?;
    for a in accounts {
        let status = match (a.disabled, a.password_hash.is_some()) {
            (true, _) => "disabled",
            (false, false) => "pending",
            (false, true) => "active",
        };
        let last = a.last_login_at.map_or_else(|| "-".to_string(), format_utc);
        writeln!(
            out,
            "{}\t{}\t{}\t{status}\t{}\t{}\t{last}",
            a.login, a.display_name, a.site, a.wrong_codes, a.failed_logins
        )?;
    }
    Ok(())
}

/// Copies `acote.db` into the PostgreSQL database `url`, and checks the copied chain.
async fn copy_to(data_dir: &Path, url: &str, out: &mut dyn Write) -> Result<(), AdminError> {
    let file = data_dir.join(store::DB_FILE);
    if !file.exists() {
        return Err(usage(format!(
            "there is no database to copy: {} does not exist (give --data-dir or --config)",
            file.display()
        )));
    }
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(usage("copy-to needs a postgres:// URL"));
    }
    let source = Store::open(data_dir).await?;
    let target = Store::open_at(data_dir, Some(url)).await;
    let target = match target {
        Ok(target) => target,
        Err(e) => {
            source.close().await;
            return Err(e.into());
        }
    };
    let copied = async {
        let copied = source.copy_into(&target).await?;
        Ok::<_, StoreError>((copied, target.verify().await?))
    }
    .await;
    source.close().await;
    target.close().await;
    let (copied, v) = copied?;
    for (table, rows) in copied {
        writeln!(out, "{table}: {rows} rows copied")?;
    }
    if !v.problems.is_empty() {
        return Err(AdminError::ChainBroken(v.problems.len()));
    }
    writeln!(
        out,
        "audit log verified in {}: {} records, chain intact",
        store::redacted(url),
        v.records
    )?;
    writeln!(
        out,
        "now set [store] url in the relay's configuration and restart it; {} stays as it was",
        file.display()
    )?;
    Ok(())
}

async fn verify(
    store: &Store,
    anchor: Option<&str>,
    out: &mut dyn Write,
) -> Result<(), AdminError> {
    let v = store.verify_anchored(anchor).await?;
    for problem in &v.problems {
        writeln!(out, "{problem}")?;
    }
    if v.problems.is_empty() {
        writeln!(
            out,
            "audit log verified: {} records, chain intact",
            v.records
        )?;
        Ok(())
    } else {
        Err(AdminError::ChainBroken(v.problems.len()))
    }
}

async fn export(
    store: &Store,
    from: &str,
    to: &str,
    out: &mut dyn Write,
) -> Result<(), AdminError> {
    let bad = |d: &str| usage(format!("{d:?} is not a date (YYYY-MM-DD)"));
    let start = parse_date(from).ok_or_else(|| bad(from))?;
    let end = parse_date(to).ok_or_else(|| bad(to))? + 86_400;
    if end <= start {
        return Err(usage("--to is before --from"));
    }
    write_csv(out, &store.entries_between(start, end).await?)?;
    // On stderr, so the CSV stays plain: the head of the chain at export time, which a
    // later `verify --anchor` checks is still there (removing the newest records
    // leaves a chain that verifies on its own).
    if let Some((seq, hash)) = store.head().await? {
        eprintln!(
            "audit anchor {hash} (record {seq}): keep it; `acote-relay admin audit verify --anchor {hash}` checks that nothing from it on was removed"
        );
    }
    Ok(())
}
