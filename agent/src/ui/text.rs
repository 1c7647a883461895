//! The resident's sentences, built from the Fluent files through [`Strings`], and the
//! cleaning of names that come from the relay. Short, plain, one idea each.

use std::time::Duration;

use acote_proto::channel::{ControlState, VoiceState};
use acote_proto::{ByeReason, Requester};

use super::i18n::{Arg, Lang, Strings};

/// Longest name or site shown to the resident, in characters, before an ellipsis.
pub const MAX_SHOWN_CHARS: usize = 60;

/// A name from the relay made safe to show: control characters (which could move the
/// cursor or fake a new line), line and paragraph separators, zero-width spaces and
/// bidirectional controls (which could reverse what the resident reads) are dropped,
/// runs of spaces are collapsed, and an over-long name is cut with an ellipsis. HTML
/// stays text: neither the console nor the window interprets it.
pub fn clean_name(raw: &str) -> String {
    let mut text = String::with_capacity(raw.len().min(4 * MAX_SHOWN_CHARS));
    for c in raw.chars() {
        if c.is_control() || is_bidi_control(c) || is_invisible_separator(c) {
            continue;
        }
        if c.is_whitespace() && (text.is_empty() || text.ends_with(' ')) {
            continue;
        }
        text.push(if c.is_whitespace() { ' ' } else { c });
    }
    let text = text.trim_end();
    if text.chars().count() <= MAX_SHOWN_CHARS {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(MAX_SHOWN_CHARS - 1).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    cut
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Zero-width space, word joiner, byte-order mark, line and paragraph separators.
/// (ZWNJ and ZWJ stay: Persian and other scripts need them inside names.)
fn is_invisible_separator(c: char) -> bool {
    matches!(
        c,
        '\u{200B}' | '\u{2060}' | '\u{FEFF}' | '\u{2028}' | '\u{2029}'
    )
}

/// The caseworker's name, cleaned, or "Someone from SITE" when the relay has no name.
pub fn name(s: &Strings, by: &Requester) -> String {
    match by.name.as_deref().map(clean_name) {
        Some(name) if !name.is_empty() => name,
        _ => s.with(
            "who-anonymous",
            &[("site", Arg::Text(&clean_name(&by.site)))],
        ),
    }
}

/// "Marie Dupont read your clipboard." (`read`) or "… put text in your clipboard."
pub fn clipboard_used(s: &Strings, by: &Requester, read: bool) -> String {
    let key = if read {
        "clipboard-read"
    } else {
        "clipboard-written"
    };
    s.with(key, &[("name", Arg::Text(&name(s, by)))])
}

/// "Marie Dupont sends you attestation.pdf, 240 kB. Save it?"
pub fn file_offered(s: &Strings, by: &Requester, file: &str, size: u64) -> String {
    s.with(
        "file-offered",
        &[
            ("name", Arg::Text(&name(s, by))),
            ("file", Arg::Text(&clean_name(file))),
            ("size", Arg::Text(&data_amount(s, size))),
        ],
    )
}

/// How a transfer ended, in one sentence for the resident.
pub fn file_ended(
    s: &Strings,
    by: &Requester,
    file: &str,
    outgoing: bool,
    status: acote_proto::files::FileStatus,
) -> String {
    use acote_proto::files::FileStatus;
    let key = match (outgoing, status) {
        (false, FileStatus::Saved) => "file-saved",
        (true, FileStatus::Saved) => "file-sent",
        (false, FileStatus::DiskFull) => "file-disk-full",
        (false, _) => "file-not-saved",
        (true, _) => "file-not-sent",
    };
    s.with(
        key,
        &[
            ("name", Arg::Text(&name(s, by))),
            ("file", Arg::Text(&clean_name(file))),
        ],
    )
}

/// "Marie Dupont (CHRS Les Lilas)", or "Someone from CHRS Les Lilas".
pub fn who(s: &Strings, by: &Requester) -> String {
    let site = clean_name(&by.site);
    match by.name.as_deref().map(clean_name) {
        Some(name) if !name.is_empty() => s.with(
            "who-named",
            &[("name", Arg::Text(&name)), ("site", Arg::Text(&site))],
        ),
        _ => s.with("who-anonymous", &[("site", Arg::Text(&site))]),
    }
}

/// "Give this code…" under the code, with how long it works.
pub fn give_code(s: &Strings) -> String {
    format!("{} {}", s.get("give-code"), s.get("code-valid"))
}

/// "N seconds left." for a countdown.
pub fn countdown(s: &Strings, secs: u64) -> String {
    s.with("countdown", &[("secs", Arg::Num(secs))])
}

/// The view question, as the console prints it (the window splits it into lines).
pub fn ask_view(s: &Strings, by: &Requester, secs: u64) -> String {
    format!(
        "{} {} {} ({} {})",
        s.with("ask-view", &[("who", Arg::Text(&who(s, by)))]),
        s.get("question"),
        s.get("console-yes-no"),
        countdown(s, secs),
        s.get("no-answer-is-no"),
    )
}

/// The question was withdrawn.
pub fn question_withdrawn(s: &Strings) -> String {
    s.get("question-withdrawn")
}

/// Sharing has begun (console: with how to stop).
pub fn sharing(s: &Strings, by: &Requester) -> String {
    format!(
        "{} {}",
        s.with("sharing-bar", &[("name", Arg::Text(&name(s, by)))]),
        s.get("console-stop")
    )
}

/// The control question, separate from the view question (console form).
pub fn ask_control(s: &Strings, by: &Requester, secs: u64) -> String {
    format!(
        "{} {} {} {} ({} {})",
        s.with("ask-control", &[("who", Arg::Text(&who(s, by)))]),
        s.get("ask-control-detail"),
        s.get("question"),
        s.get("console-yes-no"),
        countdown(s, secs),
        s.get("no-answer-is-no"),
    )
}

/// The microphone question on one console line.
pub fn ask_voice(s: &Strings, by: &Requester, secs: u64) -> String {
    format!(
        "{} {} {} {} ({} {})",
        s.with("ask-voice", &[("who", Arg::Text(&who(s, by)))]),
        s.get("ask-voice-detail"),
        s.get("question"),
        s.get("console-yes-no"),
        countdown(s, secs),
        s.get("no-answer-is-no"),
    )
}

/// A sentence for the voice call's state; empty while asking (the question says it).
pub fn voice_changed(s: &Strings, state: VoiceState, muted: bool, by: &Requester) -> String {
    let n = name(s, by);
    let name = [("name", Arg::Text(&n))];
    match state {
        VoiceState::On if muted => s.with("voice-bar-muted", &name),
        VoiceState::On => s.with("voice-bar", &name),
        VoiceState::Asking => String::new(),
        VoiceState::Refused | VoiceState::NoAnswer => s.with("voice-refused", &name),
        VoiceState::Unavailable => s.get("voice-no-device"),
        VoiceState::Off | VoiceState::Other => s.with("voice-ended", &name),
    }
}

/// The voice call's state as a machine line on stdout (`voice on, muted`), for scripts
/// and tests, in both the console and the window.
pub fn voice_machine_line(state: VoiceState, muted: bool) -> String {
    let word = match state {
        VoiceState::Asking => "asking",
        VoiceState::On if muted => "on, muted",
        VoiceState::On => "on",
        VoiceState::Refused => "refused",
        VoiceState::NoAnswer => "no answer",
        VoiceState::Unavailable => "unavailable",
        VoiceState::Off | VoiceState::Other => "off",
    };
    format!("voice {word}")
}

/// A sentence for a change of control; empty for "asking" (the question says it).
pub fn control_changed(s: &Strings, state: ControlState, by: &Requester) -> String {
    let n = name(s, by);
    let name = [("name", Arg::Text(&n))];
    match state {
        ControlState::Controlling => format!(
            "{} {}",
            s.with("control-bar", &name),
            s.get("console-take-back")
        ),
        ControlState::TakenBack => s.with("taken-back", &name),
        ControlState::Asking => String::new(),
        ControlState::Refused
        | ControlState::NoAnswer
        | ControlState::Viewing
        | ControlState::Other => s.with("control-refused", &name),
    }
}

/// One sentence saying how the session ended.
pub fn ended(s: &Strings, reason: ByeReason) -> String {
    s.get(match reason {
        ByeReason::Refused => "ended-refused",
        ByeReason::NoAnswer => "ended-no-answer",
        ByeReason::PeerGone => "ended-peer-gone",
        ByeReason::Error => "ended-error",
        ByeReason::ConnectionLost => "ended-connection-lost",
        ByeReason::Ended | ByeReason::Other => "ended-ended",
    })
}

/// The connection to the caseworker is interrupted (either side's link to the relay).
/// Control, if it was given, is taken back: said plainly, because the resident must know
/// that a new request is a new question, not the old yes.
pub fn interrupted(s: &Strings, by: &Requester, had_control: bool) -> String {
    let key = if had_control {
        "interrupted-control"
    } else {
        "interrupted"
    };
    s.with(key, &[("who", Arg::Text(&who(s, by)))])
}

/// The connection is back after an interruption (console: with how to stop).
pub fn resumed(s: &Strings, by: &Requester) -> String {
    format!(
        "{} {}",
        s.with("resumed", &[("name", Arg::Text(&name(s, by)))]),
        s.get("console-stop")
    )
}

/// "Security code: 4821": the code both people compare, ASCII digits in every language.
pub fn security_code(s: &Strings, code: &str) -> String {
    s.with("security-code", &[("code", Arg::Text(code))])
}

/// What the security code is for, and what to do if it differs.
pub fn security_code_explained(s: &Strings) -> String {
    s.get("security-code-explained")
}

/// A duration in words: whole minutes (rounded), or "less than a minute".
pub fn duration(s: &Strings, d: Duration) -> String {
    let minutes = (d.as_secs() + 30) / 60;
    if minutes == 0 {
        s.get("duration-short")
    } else {
        s.with("duration-minutes", &[("n", Arg::Num(minutes))])
    }
}

/// "Marie Dupont saw your screen for 12 minutes and had control for 3 minutes."
pub fn summary(s: &Strings, by: &Requester, viewed: Duration, control: Duration) -> String {
    let n = name(s, by);
    let view = duration(s, viewed);
    if control.is_zero() {
        s.with(
            "summary-view",
            &[("name", Arg::Text(&n)), ("view", Arg::Text(&view))],
        )
    } else {
        let control = duration(s, control);
        s.with(
            "summary-view-control",
            &[
                ("name", Arg::Text(&n)),
                ("view", Arg::Text(&view)),
                ("control", Arg::Text(&control)),
            ],
        )
    }
}

/// A size in the resident's words, in decimal units as data plans count them:
/// "740 KB" below a megabyte, else "2.4 MB" with the language's decimal mark.
pub fn data_amount(s: &Strings, bytes: u64) -> String {
    if bytes < 999_500 {
        return s.with("data-kb", &[("n", Arg::Num(bytes.div_ceil(1000)))]);
    }
    let tenths = (bytes + 50_000) / 100_000;
    let mark = match s.lang() {
        Lang::Fr | Lang::Ru | Lang::Uk => ',',
        _ => '.',
    };
    let x = format!("{}{mark}{}", tenths / 10, tenths % 10);
    s.with("data-mb", &[("x", Arg::Text(&x))])
}

/// "Data used: 2.4 MB", under the sharing bar's sentence.
pub fn data_used(s: &Strings, bytes: u64) -> String {
    s.with(
        "data-used",
        &[("amount", Arg::Text(&data_amount(s, bytes)))],
    )
}

/// "Data sent during the session: 2.4 MB.", on the end screen.
pub fn data_summary(s: &Strings, bytes: u64) -> String {
    s.with(
        "data-summary",
        &[("amount", Arg::Text(&data_amount(s, bytes)))],
    )
}

/// The console's machine line before `session ended: …` (English, for scripts).
pub fn data_line(bytes: u64) -> String {
    let en = Strings::new(Lang::En, false);
    format!("data sent: {}", data_amount(&en, bytes))
}

/// Connecting to the relay.
pub fn connecting(s: &Strings) -> String {
    s.get("connecting")
}

/// Connected to the relay of `site`.
pub fn connected(s: &Strings, site: &str) -> String {
    s.with("connected", &[("site", Arg::Text(&clean_name(site)))])
}

/// The relay could not be reached.
pub fn retrying(s: &Strings, secs: u64) -> String {
    s.with("retrying", &[("secs", Arg::Num(secs))])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::i18n::Lang;

    fn marie() -> Requester {
        Requester {
            name: Some("Marie Dupont".into()),
            site: "CHRS Les Lilas".into(),
        }
    }

    #[test]
    fn question_names_who_asks_in_both_languages() {
        let fr = Strings::new(Lang::Fr, false);
        let en = Strings::new(Lang::En, false);
        assert!(ask_view(&fr, &marie(), 60).starts_with("Marie Dupont (CHRS Les Lilas) demande"));
        assert!(ask_view(&fr, &marie(), 60).contains("[o/n]"));
        assert!(ask_view(&en, &marie(), 60).contains("[y/n]"));
        let anon = Requester {
            name: None,
            site: "Lilas".into(),
        };
        assert!(ask_view(&en, &anon, 60).starts_with("Someone from Lilas"));
    }

    #[test]
    fn names_cannot_smuggle_control_or_bidi_characters() {
        let en = Strings::new(Lang::En, false);
        let by = Requester {
            name: Some("Eve\u{202E}nivlaC\n\x1b[2Jcode 000 000".into()),
            site: "Site\r".into(),
        };
        let q = ask_view(&en, &by, 60);
        assert!(q.starts_with("EvenivlaC[2Jcode 000 000 (Site) asks"), "{q}");
        assert!(!q.contains('\u{202E}') && !q.contains('\n') && !q.contains('\x1b'));
        let long = clean_name(&"a".repeat(200));
        assert_eq!(long.chars().count(), MAX_SHOWN_CHARS);
        assert!(long.ends_with('…'));
        assert_eq!(
            clean_name("<b>Marie</b>"),
            "<b>Marie</b>",
            "HTML is shown as text"
        );
        assert_eq!(
            clean_name("\u{2067}Marie\u{2069}\u{200F} \u{2028}  Dupont\u{200B}"),
            "Marie Dupont"
        );
        assert_eq!(clean_name("زهره\u{200C}ای"), "زهره\u{200C}ای", "ZWNJ stays");
        assert_eq!(clean_name(" \t\n "), "");
    }

    #[test]
    fn a_name_of_only_controls_reads_as_someone_from_the_site() {
        let en = Strings::new(Lang::En, false);
        let by = Requester {
            name: Some("\u{202E}\u{202D}\n".into()),
            site: "Lilas".into(),
        };
        assert_eq!(name(&en, &by), "Someone from Lilas");
    }

    #[test]
    fn data_amounts_read_naturally_in_each_language() {
        let en = Strings::new(Lang::En, false);
        let fr = Strings::new(Lang::Fr, false);
        assert_eq!(data_used(&en, 2_400_000), "Data used: 2.4 MB");
        assert_eq!(data_used(&fr, 2_449_999), "Données utilisées : 2,4 Mo");
        assert_eq!(data_amount(&en, 0), "0 KB");
        assert_eq!(data_amount(&en, 1), "1 KB", "anything sent shows");
        assert_eq!(data_amount(&en, 740_200), "741 KB");
        assert_eq!(data_amount(&en, 999_600), "1.0 MB");
        assert_eq!(data_amount(&en, 12_960_000), "13.0 MB");
        assert_eq!(
            data_summary(&en, 2_400_000),
            "Data sent during the session: 2.4 MB."
        );
        assert_eq!(data_line(2_400_000), "data sent: 2.4 MB");
        for lang in Lang::ALL {
            let s = Strings::new(lang, true);
            assert!(data_used(&s, 2_400_000).contains('2'), "{}", lang.tag());
        }
    }

    #[test]
    fn summary_says_how_long_in_one_sentence() {
        let en = Strings::new(Lang::En, false);
        let min = |m: u64| Duration::from_secs(m * 60);
        assert_eq!(
            summary(&en, &marie(), min(12), min(3)),
            "Marie Dupont saw your screen for 12 minutes and had control for 3 minutes."
        );
        assert_eq!(
            summary(&en, &marie(), Duration::from_secs(20), Duration::ZERO),
            "Marie Dupont saw your screen for less than a minute."
        );
        assert_eq!(
            summary(
                &en,
                &marie(),
                Duration::from_secs(89),
                Duration::from_secs(31)
            ),
            "Marie Dupont saw your screen for 1 minute and had control for 1 minute."
        );
        let fr = Strings::new(Lang::Fr, false);
        assert_eq!(
            summary(&fr, &marie(), min(12), min(3)),
            "Marie Dupont a vu votre écran pendant 12 minutes et a eu la main pendant 3 minutes."
        );
    }
}
