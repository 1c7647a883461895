//! The consent receipt: a short text file the resident may keep. It is written only when
//! they press "Keep a receipt"; otherwise the agent leaves nothing on the PC.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::i18n::{Arg, Strings};
use super::screen::Finished;
use super::text;

/// The receipt's text, in the resident's language.
pub fn text(s: &Strings, f: &Finished) -> String {
    let mut lines = vec![s.get("receipt-title"), String::new()];
    if let Some(by) = &f.by {
        lines.push(s.with("receipt-helper", &[("who", Arg::Text(&text::who(s, by)))]));
    }
    lines.push(s.with("receipt-date", &[("date", Arg::Text(&utc_stamp(f.at)))]));
    lines.push(s.with(
        "receipt-viewed",
        &[("view", Arg::Text(&text::duration(s, f.viewed)))],
    ));
    if f.controlled.is_zero() {
        lines.push(s.get("receipt-no-control"));
    } else {
        lines.push(s.with(
            "receipt-control",
            &[("control", Arg::Text(&text::duration(s, f.controlled)))],
        ));
    }
    lines.push(String::new());
    lines.push(text::ended(s, f.reason));
    if let Some(by) = &f.by
        && !f.viewed.is_zero()
    {
        lines.push(text::summary(s, by, f.viewed, f.controlled));
    }
    if f.data_sent > 0 {
        lines.push(text::data_summary(s, f.data_sent));
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// "2026-11-25 13:40 UTC": the agent reads no time-zone database, so the receipt says
/// UTC plainly rather than guess the local time.
pub fn utc_stamp(at: SystemTime) -> String {
    let secs = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Where a receipt goes: the resident's Documents folder (on Windows the Known Folder,
/// wherever it was moved to), else the Desktop, else home.
pub fn default_folder() -> Option<PathBuf> {
    if let Some(documents) = crate::platform::documents_folder() {
        return Some(documents);
    }
    let home = std::env::var_os("HOME")
        .or_else(|| std::env::var_os("USERPROFILE"))
        .map(PathBuf::from)?;
    ["Documents", "Desktop"]
        .iter()
        .map(|d| home.join(d))
        .find(|p| p.is_dir())
        .or(Some(home))
}

/// Writes the receipt into `folder` under a new name (never over another file).
pub fn save(folder: &Path, s: &Strings, f: &Finished) -> std::io::Result<PathBuf> {
    let stamp: String = utc_stamp(f.at)
        .chars()
        .filter(|c| c.is_ascii_digit())
        .take(12)
        .collect();
    let body = text(s, f);
    for n in 1..100 {
        let suffix = if n == 1 {
            String::new()
        } else {
            format!("-{n}")
        };
        let path = folder.join(format!("acote-receipt-{stamp}{suffix}.txt"));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut file) => {
                file.write_all(body.as_bytes())?;
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other(
        "too many receipts with the same time",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::i18n::Lang;
    use acote_proto::{ByeReason, Requester};
    use std::time::Duration;

    fn finished() -> Finished {
        Finished {
            reason: ByeReason::Ended,
            by: Some(Requester {
                name: Some("Marie Dupont".into()),
                site: "CHRS Les Lilas".into(),
            }),
            viewed: Duration::from_secs(12 * 60),
            controlled: Duration::from_secs(3 * 60),
            data_sent: 0,
            at: SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_354_800),
        }
    }

    #[test]
    fn dates_are_plain_utc() {
        assert_eq!(utc_stamp(SystemTime::UNIX_EPOCH), "1970-01-01 00:00 UTC");
        assert_eq!(utc_stamp(finished().at), "2026-11-22 13:40 UTC");
        let leap = SystemTime::UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(utc_stamp(leap), "2000-02-29 00:00 UTC");
    }

    #[test]
    fn the_receipt_says_who_when_and_how_long() {
        let en = Strings::new(Lang::En, false);
        let t = text(&en, &finished());
        assert!(t.contains("Helper: Marie Dupont (CHRS Les Lilas)"), "{t}");
        assert!(t.contains("Date: 2026-11-22 13:40 UTC"), "{t}");
        assert!(t.contains("Screen seen: 12 minutes"), "{t}");
        assert!(t.contains("Control: 3 minutes"), "{t}");
    }

    #[test]
    fn saving_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let en = Strings::new(Lang::En, false);
        let a = save(dir.path(), &en, &finished()).unwrap();
        let b = save(dir.path(), &en, &finished()).unwrap();
        assert_ne!(a, b);
        assert!(
            std::fs::read_to_string(&b)
                .unwrap()
                .starts_with("Acote: receipt")
        );
    }
}
