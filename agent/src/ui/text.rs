//! The resident's sentences in French and English. Short, plain, one idea each. (The
//! resident's window brings Fluent files and more languages; these cover the console.)

use acote_proto::channel::ControlState;
use acote_proto::{ByeReason, Requester};

/// A language the console speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// French (the default).
    Fr,
    /// English.
    En,
}

impl Lang {
    /// Picks from a BCP 47 tag (`--lang`), else the system's `LANG`, else French.
    pub fn pick(tag: Option<&str>) -> Self {
        let env = std::env::var("LANG").ok();
        match tag.or(env.as_deref()).map(|t| t.to_ascii_lowercase()) {
            Some(t) if t.starts_with("en") => Lang::En,
            _ => Lang::Fr,
        }
    }

    /// The BCP 47 tag sent to the relay.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }
}

/// Longest name or site shown to the resident, in characters, before an ellipsis.
const MAX_SHOWN_CHARS: usize = 60;

/// A name from the relay made safe to print: control characters (which could move the
/// cursor or fake a new line) and bidirectional overrides (which could reverse what the
/// resident reads) are dropped, and an over-long name is cut with an ellipsis.
pub fn clean_name(raw: &str) -> String {
    let kept: Vec<char> = raw
        .chars()
        .filter(|c| !c.is_control() && !is_bidi_control(*c))
        .collect();
    let text: String = kept.iter().collect();
    let text = text.trim();
    if text.chars().count() <= MAX_SHOWN_CHARS {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(MAX_SHOWN_CHARS - 1).collect();
    cut.push('…');
    cut
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn who(lang: Lang, by: &Requester) -> String {
    let site = clean_name(&by.site);
    match (by.name.as_deref().map(clean_name), lang) {
        (Some(name), _) if !name.is_empty() => format!("{name} ({site})"),
        (_, Lang::Fr) => format!("Une personne de {site}"),
        (_, Lang::En) => format!("Someone from {site}"),
    }
}

/// "Give this code…" under the code.
pub fn give_code(lang: Lang) -> &'static str {
    match lang {
        Lang::Fr => "Donnez ce code à la personne qui vous aide. Il marche 10 minutes.",
        Lang::En => "Give this code to the person helping you. It works for 10 minutes.",
    }
}

/// The view question.
pub fn ask_view(lang: Lang, by: &Requester, secs: u64) -> String {
    match lang {
        Lang::Fr => format!(
            "{} demande à voir votre écran. Acceptez-vous ? [o/n] ({secs} s pour répondre, sinon c'est non)",
            who(lang, by)
        ),
        Lang::En => format!(
            "{} asks to see your screen. Do you agree? [y/n] ({secs} s to answer, then it is no)",
            who(lang, by)
        ),
    }
}

/// The question was withdrawn.
pub fn question_withdrawn(lang: Lang) -> &'static str {
    match lang {
        Lang::Fr => "La question est annulée. Rien n'est partagé.",
        Lang::En => "The question is withdrawn. Nothing is shared.",
    }
}

/// Sharing has begun.
pub fn sharing(lang: Lang, by: &Requester) -> String {
    match lang {
        Lang::Fr => format!(
            "Votre écran est visible par {}. Pour arrêter : tapez q puis Entrée.",
            who(lang, by)
        ),
        Lang::En => format!(
            "Your screen is visible to {}. To stop: type q then Enter.",
            who(lang, by)
        ),
    }
}

/// The control question (separate from the view question).
pub fn ask_control(lang: Lang, by: &Requester, secs: u64) -> String {
    match lang {
        Lang::Fr => format!(
            "{} demande à utiliser votre souris et votre clavier pour vous aider. Vous pourrez reprendre la main à tout moment (s puis Entrée). Acceptez-vous ? [o/n] ({secs} s pour répondre, sinon c'est non)",
            who(lang, by)
        ),
        Lang::En => format!(
            "{} asks to use your mouse and keyboard to help you. You can take control back at any moment (s then Enter). Do you agree? [y/n] ({secs} s to answer, then it is no)",
            who(lang, by)
        ),
    }
}

/// A sentence for a change of control.
pub fn control_changed(lang: Lang, state: ControlState, by: &Requester) -> String {
    let w = who(lang, by);
    match (lang, state) {
        (Lang::Fr, ControlState::Controlling) => format!(
            "{w} utilise votre souris et votre clavier. Pour reprendre la main : tapez s puis Entrée."
        ),
        (Lang::En, ControlState::Controlling) => format!(
            "{w} is using your mouse and keyboard. To take control back: type s then Enter."
        ),
        (Lang::Fr, ControlState::TakenBack) => {
            format!("Vous avez repris la main. {w} peut seulement regarder.")
        }
        (Lang::En, ControlState::TakenBack) => {
            format!("You took control back. {w} can only watch.")
        }
        (Lang::Fr, ControlState::Refused | ControlState::NoAnswer) => format!(
            "{w} ne peut pas utiliser votre souris ni votre clavier. Il peut seulement regarder."
        ),
        (Lang::En, ControlState::Refused | ControlState::NoAnswer) => {
            format!("{w} cannot use your mouse or keyboard. They can only watch.")
        }
        (_, ControlState::Asking) => String::new(),
        (Lang::Fr, _) => format!("{w} peut seulement regarder votre écran."),
        (Lang::En, _) => format!("{w} can only watch your screen."),
    }
}

/// One sentence saying how the session ended.
pub fn ended(lang: Lang, reason: ByeReason) -> &'static str {
    match (lang, reason) {
        (Lang::Fr, ByeReason::Refused) => "Vous avez dit non. Rien n'a été partagé.",
        (Lang::En, ByeReason::Refused) => "You said no. Nothing was shared.",
        (Lang::Fr, ByeReason::NoAnswer) => "Pas de réponse : rien n'a été partagé.",
        (Lang::En, ByeReason::NoAnswer) => "No answer: nothing was shared.",
        (Lang::Fr, ByeReason::PeerGone) => "La connexion a été coupée. Le partage est arrêté.",
        (Lang::En, ByeReason::PeerGone) => "The connection was lost. Sharing has stopped.",
        (Lang::Fr, ByeReason::Error) => "Un problème technique a arrêté le partage.",
        (Lang::En, ByeReason::Error) => "A technical problem stopped the sharing.",
        (Lang::Fr, ByeReason::ConnectionLost) => {
            "La connexion n'est pas revenue en 1 minute. Le partage est arrêté."
        }
        (Lang::En, ByeReason::ConnectionLost) => {
            "The connection did not come back within a minute. Sharing has stopped."
        }
        (Lang::Fr, _) => "Le partage est terminé.",
        (Lang::En, _) => "Sharing has ended.",
    }
}

/// The connection to the caseworker is interrupted (either side's link to the relay).
/// Control, if it was given, is taken back: said plainly, because the resident must
/// know that a new request is a new question, not the old yes.
pub fn interrupted(lang: Lang, by: &Requester, had_control: bool) -> String {
    let w = who(lang, by);
    match (lang, had_control) {
        (Lang::Fr, true) => format!(
            "La connexion est interrompue. {w} peut encore voir votre écran ; pour utiliser votre souris, il devra vous redemander. Reconnexion en cours (1 minute au plus)…"
        ),
        (Lang::En, true) => format!(
            "The connection was interrupted. {w} can still see your screen; they must ask again to use your mouse. Reconnecting (a minute at most)…"
        ),
        (Lang::Fr, false) => format!(
            "La connexion est interrompue. {w} peut encore voir votre écran. Reconnexion en cours (1 minute au plus)…"
        ),
        (Lang::En, false) => format!(
            "The connection was interrupted. {w} can still see your screen. Reconnecting (a minute at most)…"
        ),
    }
}

/// The connection is back after an interruption.
pub fn resumed(lang: Lang, by: &Requester) -> String {
    match lang {
        Lang::Fr => format!(
            "La connexion est revenue. Votre écran est visible par {}. Pour arrêter : tapez q puis Entrée.",
            who(lang, by)
        ),
        Lang::En => format!(
            "The connection is back. Your screen is visible to {}. To stop: type q then Enter.",
            who(lang, by)
        ),
    }
}

/// Connection status lines.
pub fn connecting(lang: Lang) -> &'static str {
    match lang {
        Lang::Fr => "Connexion au relais…",
        Lang::En => "Connecting to the relay…",
    }
}

/// Connected to the relay of `site`.
pub fn connected(lang: Lang, site: &str) -> String {
    match lang {
        Lang::Fr => format!("Connecté au relais : {site}"),
        Lang::En => format!("Connected to the relay: {site}"),
    }
}

/// The relay could not be reached.
pub fn retrying(lang: Lang, secs: u64) -> String {
    match lang {
        Lang::Fr => format!("Le relais ne répond pas. Nouvel essai dans {secs} s."),
        Lang::En => format!("The relay does not answer. Trying again in {secs} s."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn question_names_who_asks_in_both_languages() {
        let by = Requester {
            name: Some("Marie Dupont".into()),
            site: "CHRS Les Lilas".into(),
        };
        assert!(ask_view(Lang::Fr, &by, 60).starts_with("Marie Dupont (CHRS Les Lilas) demande"));
        assert!(ask_view(Lang::En, &by, 60).contains("[y/n]"));
        let anon = Requester {
            name: None,
            site: "Lilas".into(),
        };
        assert!(ask_view(Lang::En, &anon, 60).starts_with("Someone from Lilas"));
    }

    #[test]
    fn names_cannot_smuggle_control_or_bidi_characters() {
        let by = Requester {
            name: Some("Eve\u{202E}nivlaC\n\x1b[2Jcode 000 000".into()),
            site: "Site\r".into(),
        };
        let q = ask_view(Lang::En, &by, 60);
        assert!(q.starts_with("EvenivlaC[2Jcode 000 000 (Site) asks"), "{q}");
        assert!(!q.contains('\u{202E}') && !q.contains('\n') && !q.contains('\x1b'));
        let long = clean_name(&"a".repeat(200));
        assert_eq!(long.chars().count(), MAX_SHOWN_CHARS);
        assert!(long.ends_with('…'));
        assert_eq!(
            clean_name("<b>Marie</b>"),
            "<b>Marie</b>",
            "a console shows HTML as text"
        );
    }

    #[test]
    fn language_choice() {
        assert_eq!(Lang::pick(Some("en-GB")), Lang::En);
        assert_eq!(Lang::pick(Some("fr")), Lang::Fr);
        assert_eq!(Lang::pick(Some("ar")), Lang::Fr);
    }
}
