//! A real PostgreSQL for the tests (Debian's `postgresql` package): `initdb` into a
//! temporary folder, the server listening only on a Unix socket there, one per test
//! binary, stopped and its folder removed when the test binary exits.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use sqlx::Connection;

/// The server of this test binary.
pub struct Postgres {
    socket_dir: PathBuf,
    next: AtomicU32,
    /// Holds the watchdog's stdin: when this process ends, the pipe closes and the
    /// watchdog stops the server and removes its folder.
    _watchdog: Mutex<Child>,
}

/// The superuser `initdb` makes; the socket's folder is reachable by nobody else.
const USER: &str = "acote";

/// The newest PostgreSQL installed, e.g. `/usr/lib/postgresql/15/bin`.
fn bin_dir() -> PathBuf {
    let mut dirs: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is installed (Debian package postgresql; scripts/test.sh installs it)")
        .filter_map(|e| e.ok())
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin)| bin.join("postgres").exists())
        .collect();
    dirs.sort();
    dirs.pop()
        .expect("a PostgreSQL server under /usr/lib/postgresql")
        .1
}

/// `cmd` as the `postgres` system user when we are root (PostgreSQL refuses to run as root).
fn as_server_user(cmd: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(cmd);
        c
    } else {
        Command::new(cmd)
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.trim_ascii() == b"0")
}

impl Postgres {
    /// The server of this test binary, started on first use.
    pub fn shared() -> &'static Postgres {
        static SERVER: OnceLock<Postgres> = OnceLock::new();
        SERVER.get_or_init(Postgres::start)
    }

    fn start() -> Postgres {
        let bin = bin_dir();
        let dir = std::env::temp_dir().join(format!("acote-pg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let chown = |path: &Path| {
            let _ = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(path)
                .status();
        };
        if is_root() {
            chown(&dir);
        }
        let data = dir.join("data");
        let out = as_server_user(&bin.join("initdb"))
            .args([
                "--no-sync",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-locale",
                "-U",
                USER,
                "-D",
            ])
            .arg(&data)
            .output()
            .expect("initdb runs");
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // The watchdog: the server in the background, stopped (fast shutdown) and its
        // folder removed once our end of the pipe closes, however this process ends.
        let script = r#"
            "$1" -D "$2/data" -k "$2" -c listen_addresses= -c fsync=off \
                -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 \
                >"$2/server.log" 2>&1 &
            server=$!
            cat >/dev/null
            kill -INT "$server"
            wait "$server"
            rm -rf "$2"
        "#;
        let watchdog = as_server_user(Path::new("/bin/sh"))
            .args(["-c", script, "watchdog"])
            .arg(bin.join("postgres"))
            .arg(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("the PostgreSQL server starts");
        let socket = dir.join(".s.PGSQL.5432");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ready = socket.exists()
                && Command::new(bin.join("pg_isready"))
                    .arg("-h")
                    .arg(&dir)
                    .stdout(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success());
            if ready {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "PostgreSQL did not start: {}",
                std::fs::read_to_string(dir.join("server.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Postgres {
            socket_dir: dir,
            next: AtomicU32::new(0),
            _watchdog: Mutex::new(watchdog),
        }
    }

    /// The URL of database `name` on this server.
    pub fn url(&self, name: &str) -> String {
        let host: String = url_encoded(&self.socket_dir.to_string_lossy());
        format!("postgres://{USER}@localhost/{name}?host={host}")
    }

    /// A new, empty database; its URL.
    pub async fn database(&self, prefix: &str) -> String {
        let name = format!("{prefix}_{}", self.next.fetch_add(1, Ordering::Relaxed));
        let mut admin = sqlx::PgConnection::connect(&self.url("postgres"))
            .await
            .unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .unwrap();
        admin.close().await.unwrap();
        self.url(&name)
    }
}

fn url_encoded(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
