//! A PostgreSQL server of the bench's own for the load run across relays: Debian's
//! server, `initdb` into a temporary folder, listening only on a Unix socket there, and
//! stopped (its folder removed) when the bench ends, however it ends.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};

/// A running server; stopped when dropped.
pub(crate) struct Postgres {
    /// The database the relays share.
    pub(crate) url: String,
    dir: PathBuf,
    watchdog: Child,
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // Closing its stdin tells the watchdog to stop the server and remove the folder.
        drop(self.watchdog.stdin.take());
        let _ = self.watchdog.wait();
    }
}

impl Postgres {
    /// Starts a server (as the `postgres` user when the bench runs as root).
    pub(crate) fn start() -> anyhow::Result<Self> {
        let bin = newest_server()?;
        let dir = std::env::temp_dir().join(format!("acote-bench-pg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let root = is_root();
        if root {
            let chown = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir)
                .status()?;
            if !chown.success() {
                bail!("cannot give {} to the postgres user", dir.display());
            }
        }
        let as_server = |program: PathBuf| {
            let mut c = if root {
                let mut c = Command::new("runuser");
                c.args(["-u", "postgres", "--"]).arg(program);
                c
            } else {
                Command::new(program)
            };
            c.stdin(Stdio::null());
            c
        };
        let init = as_server(bin.join("initdb"))
            .args([
                "--no-sync",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-locale",
                "-U",
                "acote",
                "-D",
            ])
            .arg(dir.join("data"))
            .output()
            .context("cannot run initdb")?;
        if !init.status.success() {
            bail!("initdb failed: {}", String::from_utf8_lossy(&init.stderr));
        }
        let script = r#"
            "$1" -D "$2/data" -k "$2" -c listen_addresses= -c max_connections=300 \
                -c fsync=off -c synchronous_commit=off >"$2/server.log" 2>&1 &
            server=$!
            cat >/dev/null
            kill -INT "$server"
            wait "$server"
            rm -rf "$2"
        "#;
        let mut sh = as_server(PathBuf::from("/bin/sh"));
        let watchdog = sh
            .args(["-c", script, "watchdog"])
            .arg(bin.join("postgres"))
            .arg(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .context("cannot start PostgreSQL")?;
        let server = Postgres {
            url: format!("postgres://acote@localhost/postgres?host={}", dir.display()),
            dir,
            watchdog,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !server.dir.join(".s.PGSQL.5432").exists() || server.postmaster().is_none() {
            if Instant::now() > deadline {
                bail!(
                    "PostgreSQL did not start: {}",
                    std::fs::read_to_string(server.dir.join("server.log")).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(server)
    }

    /// The server's main process id.
    fn postmaster(&self) -> Option<u32> {
        let text = std::fs::read_to_string(self.dir.join("data/postmaster.pid")).ok()?;
        text.lines().next()?.trim().parse().ok()
    }

    /// CPU time of the server and its backends so far, in clock ticks.
    pub(crate) fn cpu_ticks(&self) -> u64 {
        let Some(main) = self.postmaster() else {
            return 0;
        };
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return 0;
        };
        entries
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| *pid == main || parent(*pid) == Some(main))
            .filter_map(|pid| crate::load::cpu_ticks(pid).ok())
            .sum()
    }
}

/// The parent of a process, from /proc.
fn parent(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.rsplit_once(')')?.1;
    rest.split_whitespace().nth(1)?.parse().ok()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.trim_ascii() == b"0")
}

/// The newest PostgreSQL server installed by Debian's packages.
fn newest_server() -> anyhow::Result<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|_| {
            anyhow!("PostgreSQL is not installed (apt install postgresql), or give --store")
        })?
        .filter_map(|e| e.ok())
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin)| bin.join("postgres").exists())
        .collect();
    found.sort();
    found
        .pop()
        .map(|(_, bin)| bin)
        .ok_or_else(|| anyhow!("no PostgreSQL server under /usr/lib/postgresql"))
}
