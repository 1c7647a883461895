//! The relay as its own process (`acote-relay serve` and `admin`), for tests that kill
//! it with SIGKILL or run several.

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::Endpoint;

/// The relay binary cargo built for these tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_acote-relay");

/// Runs `acote-relay admin --config CONFIG --data-dir DIR ARGS` with `stdin`; returns
/// whether it succeeded and what it printed (stdout then stderr).
pub fn admin(dir: &Path, config: &Path, args: &[&str], stdin: &str) -> (bool, String) {
    let mut child = Command::new(BIN)
        .arg("admin")
        .arg("--config")
        .arg(config)
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// Starts `acote-relay serve` on 127.0.0.1:0 and waits for its address. Its stdout goes
/// to a file, so nothing in the test can close the pipe under it.
#[allow(clippy::zombie_processes)] // the caller kills and waits for the child it gets
pub fn serve(dir: &Path, config: &Path) -> (Child, Endpoint) {
    let out_path = dir.join(format!(
        "serve-{}.out",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    let out = std::fs::File::create(&out_path).unwrap();
    let child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(config)
        .arg("--data-dir")
        .arg(dir)
        .env("RUST_LOG", "error")
        .stdout(out)
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = std::fs::read_to_string(&out_path).unwrap_or_default();
        if let Some(addr) = text
            .lines()
            .find_map(|l| l.strip_prefix("listening on https://"))
        {
            return (child, Endpoint::new(addr.trim().parse().unwrap(), dir));
        }
        assert!(Instant::now() < deadline, "the relay did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
}
