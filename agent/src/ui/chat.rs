//! The chat with the caseworker in the resident's window, as plain data: the messages of
//! the session (kept in memory only, dropped when it ends), whether the chat window is
//! up, what is unread, and when a new message chimes. IO-free with time passed in; the
//! Slint glue (`ui/window.rs`) copies a [`ChatView`] into the chat window.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use acote_proto::Requester;

use super::i18n::{Arg, Strings};
use super::text;

/// Messages kept for the session; older ones drop off (a flood cannot fill memory).
pub const KEPT: usize = 100;

/// At most one chime in this long: a burst of messages rings once.
const CHIME_GAP: Duration = Duration::from_secs(2);

/// One message of the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatLine {
    /// Written by the resident (else by the caseworker).
    pub mine: bool,
    /// The message, as checked by `acote_proto::channel::check_chat`.
    pub text: String,
}

/// What a new message from the caseworker calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct News {
    /// Play the chime.
    pub chime: bool,
    /// The chat window comes up.
    pub open: bool,
}

/// The chat's state for the current session.
#[derive(Debug, Default)]
pub struct Chat {
    lines: VecDeque<ChatLine>,
    open: bool,
    unread: usize,
    last_chime: Option<Instant>,
    not_sent: bool,
}

/// The chat window's words and messages, ready to show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChatView {
    /// The bar's button ("Messages", "Messages (2)").
    pub button: String,
    /// Some messages are unread (the button stands out).
    pub unread: bool,
    /// The window's title ("Messages with Marie Dupont").
    pub title: String,
    /// Shown while there is no message yet.
    pub empty: String,
    /// The message box's label.
    pub write: String,
    /// The send button.
    pub send: String,
    /// The close button.
    pub close: String,
    /// Why the last message was not sent, if it was not.
    pub error: String,
    /// The messages, oldest first.
    pub lines: Vec<LineView>,
}

/// One message as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineView {
    /// Written by the resident.
    pub mine: bool,
    /// Who wrote it ("You", "Marie Dupont").
    pub who: String,
    /// The message.
    pub text: String,
    /// The message reads right to left (its first letter is Arabic or Hebrew script),
    /// whatever the window's language: it is aligned to its own reading side.
    pub rtl: bool,
}

impl Chat {
    /// A message from the caseworker. The chat window comes up unless the caseworker has
    /// control: a window coming up would take the keyboard focus from what they type in.
    pub fn received(&mut self, now: Instant, text: &str, controlling: bool) -> News {
        self.push(ChatLine {
            mine: false,
            text: text.to_string(),
        });
        let open = !self.open && !controlling;
        if open {
            self.open = true;
        }
        if !self.open {
            self.unread += 1;
        }
        let chime = self
            .last_chime
            .is_none_or(|t| now.saturating_duration_since(t) >= CHIME_GAP);
        if chime {
            self.last_chime = Some(now);
        }
        News { chime, open }
    }

    /// The resident's message went out.
    pub fn sent(&mut self, text: &str) {
        self.not_sent = false;
        self.push(ChatLine {
            mine: true,
            text: text.to_string(),
        });
    }

    /// The resident's message could not go out; the window says so.
    pub fn not_sent(&mut self) {
        self.not_sent = true;
    }

    /// The resident opened the chat window: everything is read.
    pub fn open(&mut self) {
        self.open = true;
        self.unread = 0;
    }

    /// The resident closed the chat window.
    pub fn close(&mut self) {
        self.open = false;
        self.not_sent = false;
    }

    /// Whether the chat window is up.
    pub fn is_open(&self) -> bool {
        self.open
    }

    /// The messages, oldest first.
    pub fn lines(&self) -> impl Iterator<Item = &ChatLine> {
        self.lines.iter()
    }

    /// The session is over: its messages are forgotten.
    pub fn clear(&mut self) {
        *self = Self::default();
    }

    /// The words for the chat window and the bar's button, in `s`'s language.
    pub fn view(&self, s: &Strings, by: Option<&Requester>) -> ChatView {
        let name = by.map(|b| text::name(s, b)).unwrap_or_default();
        let named = |key: &str| s.with(key, &[("name", Arg::Text(&name))]);
        let me = s.get("chat-me");
        ChatView {
            button: if self.unread > 0 {
                let n = u64::try_from(self.unread).unwrap_or(u64::MAX);
                s.with("chat-button-unread", &[("n", Arg::Num(n))])
            } else {
                s.get("chat-button")
            },
            unread: self.unread > 0,
            title: named("chat-title"),
            empty: named("chat-empty"),
            write: s.get("chat-write"),
            send: s.get("chat-send"),
            close: s.get("close"),
            error: if self.not_sent {
                s.get("chat-not-sent")
            } else {
                String::new()
            },
            lines: self
                .lines
                .iter()
                .map(|l| LineView {
                    mine: l.mine,
                    who: if l.mine { me.clone() } else { name.clone() },
                    text: l.text.clone(),
                    rtl: reads_right_to_left(&l.text),
                })
                .collect(),
        }
    }

    fn push(&mut self, line: ChatLine) {
        if self.lines.len() == KEPT {
            self.lines.pop_front();
        }
        self.lines.push_back(line);
    }
}

/// Whether a text's first strong letter is from a right-to-left script (Hebrew, Arabic,
/// Syriac, Thaana, N'Ko and their presentation forms), as the Unicode bidi algorithm
/// decides a paragraph's direction.
pub fn reads_right_to_left(text: &str) -> bool {
    text.chars().find(|c| c.is_alphabetic()).is_some_and(|c| {
        matches!(c,
                '\u{0590}'..='\u{08FF}' | '\u{FB1D}'..='\u{FDFF}' | '\u{FE70}'..='\u{FEFF}')
    })
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
    fn a_message_opens_the_window_unless_the_caseworker_types() {
        let t0 = Instant::now();
        let mut c = Chat::default();
        let news = c.received(t0, "Bonjour", false);
        assert_eq!(
            news,
            News {
                chime: true,
                open: true
            }
        );
        assert!(c.is_open());
        c.close();
        // In control: the window stays closed (it would take the focus); counted unread.
        let news = c.received(t0 + Duration::from_secs(5), "Cliquez ici", true);
        assert_eq!(
            news,
            News {
                chime: true,
                open: false
            }
        );
        let news = c.received(t0 + Duration::from_secs(6), "puis ici", true);
        assert_eq!(
            news,
            News {
                chime: false,
                open: false
            },
            "one chime a burst"
        );
        let s = Strings::new(Lang::En, false);
        assert_eq!(c.view(&s, Some(&marie())).button, "Messages (2)");
        c.open();
        assert_eq!(c.view(&s, Some(&marie())).button, "Messages");
    }

    #[test]
    fn lines_say_who_wrote_and_read_in_their_own_direction() {
        let t0 = Instant::now();
        let mut c = Chat::default();
        c.received(t0, "Cliquez sur « Suivant »", false);
        c.sent("شكرا، https://caf.fr");
        c.not_sent();
        let v = c.view(&Strings::new(Lang::Fr, false), Some(&marie()));
        assert_eq!(v.title, "Messages avec Marie Dupont");
        assert_eq!(v.lines.len(), 2);
        assert_eq!(
            (v.lines[0].who.as_str(), v.lines[0].rtl),
            ("Marie Dupont", false)
        );
        assert_eq!((v.lines[1].who.as_str(), v.lines[1].rtl), ("Vous", true));
        assert!(v.error.starts_with("Non envoyé"));
        c.sent("ok");
        assert_eq!(c.view(&Strings::new(Lang::Fr, false), None).error, "");
        assert!(!reads_right_to_left("123 https://x.fr"));
        assert!(reads_right_to_left("  ١٢ سلام"));
    }

    #[test]
    fn a_flood_keeps_only_the_last_messages_and_the_end_forgets_them() {
        let t0 = Instant::now();
        let mut c = Chat::default();
        for i in 0..KEPT + 20 {
            c.received(t0, &format!("m{i}"), false);
        }
        assert_eq!(c.lines().count(), KEPT);
        assert_eq!(c.lines().next().map(|l| l.text.as_str()), Some("m20"));
        c.clear();
        assert_eq!(c.lines().count(), 0);
        assert!(!c.is_open());
    }

    #[test]
    fn every_language_has_the_chat_words() {
        for lang in Lang::ALL {
            let s = Strings::new(lang, false);
            let v = Chat::default().view(&s, Some(&marie()));
            for (what, words) in [("title", &v.title), ("empty", &v.empty), ("send", &v.send)] {
                assert!(
                    !words.is_empty() && !words.contains("chat-"),
                    "{lang:?} {what}"
                );
            }
            assert!(v.title.contains("Marie Dupont"), "{lang:?}: {}", v.title);
        }
    }
}
