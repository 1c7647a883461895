//! What the resident's window shows, as plain data: which screen, which sentences, the
//! countdown, how long the screen was seen and controlled, and what the global hotkey
//! does. IO-free, with time passed in, so every screen is unit-tested; the Slint window
//! (`ui/window.rs`) only copies a [`View`] into its properties.

use std::time::{Duration, Instant, SystemTime};

use acote_proto::channel::{ControlState, VoiceState};
use acote_proto::{ByeReason, Requester};

use super::i18n::{Arg, Strings};
use super::text::{self, clean_name};
use super::{Status, UiEvent};

/// Which screen is up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    /// No code yet (connecting to the relay, or retrying).
    Connecting,
    /// The code, large, to read to the caseworker.
    Waiting,
    /// "X asks to see your screen. Do you agree?"
    AskView,
    /// The screen is shared; only the small bar shows.
    Sharing,
    /// "X wants to use your mouse and keyboard." (the bar stays)
    AskControl,
    /// The caseworker has control; the bar changes colour.
    Controlling,
    /// "X asks to talk with you through the computer." (the bar stays)
    AskVoice,
    /// What happened, in one sentence, and the receipt button.
    Ended,
    /// The agent cannot start (config file missing or broken).
    Problem,
}

impl Screen {
    /// Whether the main window is up on this screen (the bar is up on the others).
    pub fn has_main_window(self) -> bool {
        !matches!(self, Screen::Sharing | Screen::Controlling)
    }

    /// Whether the sharing bar and the coloured screen border are up.
    pub fn is_shared(self) -> bool {
        matches!(
            self,
            Screen::Sharing | Screen::AskControl | Screen::Controlling | Screen::AskVoice
        )
    }

    /// Whether a yes/no question is open (Escape refuses it).
    pub fn is_question(self) -> bool {
        matches!(
            self,
            Screen::AskView | Screen::AskControl | Screen::AskVoice
        )
    }
}

/// How long the bar says the clipboard was read or written.
pub const CLIPBOARD_NOTE_FOR: Duration = Duration::from_secs(30);

/// Why the agent cannot start, shown in the resident's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// No relay configured: the admin has not prepared this copy.
    NotSetUp,
    /// The config file cannot be read or parsed.
    BrokenConfig,
    /// The relay's certificate is not the one the config file trusts (or not trusted at
    /// all): the agent will not connect.
    Untrusted,
}

/// A finished session, for the summary and the receipt.
#[derive(Debug, Clone)]
pub struct Finished {
    /// Why it ended.
    pub reason: ByeReason,
    /// Who asked (none if the session never got that far).
    pub by: Option<Requester>,
    /// How long the screen was shared.
    pub viewed: Duration,
    /// How long the caseworker had control.
    pub controlled: Duration,
    /// Bytes the session sent.
    pub data_sent: u64,
    /// When it ended (wall clock, for the receipt).
    pub at: SystemTime,
}

/// Everything the window shows, already in words.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct View {
    /// On a question, who asks ("Marie Dupont (CHRS Les Lilas)"), on a line of its own.
    pub who: String,
    /// The screen's big line (a title, or the question's first sentence after who asks).
    pub title: String,
    /// The sentence under it.
    pub body: String,
    /// A smaller line (e.g. "They can only look.").
    pub detail: String,
    /// The code, grouped ("482 913"), ASCII digits, on the waiting screen.
    pub code: String,
    /// "27 seconds left." and "No answer means no." on questions.
    pub countdown: String,
    /// The yes button.
    pub allow: String,
    /// The no button.
    pub refuse: String,
    /// The connection line ("Help from: CHRS Les Lilas").
    pub status: String,
    /// The bar's sentence ("Your screen is visible to Marie Dupont.").
    pub bar: String,
    /// The bar's second line after control changed ("You took back control."), if any.
    pub bar_note: String,
    /// The bar's data counter ("Data used: 2.4 MB"), once something was sent.
    pub data: String,
    /// The security code line ("Security code: 4821"), once the exchange fixed it.
    pub security: String,
    /// The button that explains it ("What is this?").
    pub security_help: String,
    /// What the code is for, shown on demand.
    pub security_explained: String,
    /// The Stop button.
    pub stop: String,
    /// The take-back button (shown while in control).
    pub take_back: String,
    /// The hotkey line ("Or press Ctrl+Alt+S.").
    pub hotkey: String,
    /// The receipt button on the end screen.
    pub keep_receipt: String,
    /// The button that closes the end screen (or the window, on a problem).
    pub done: String,
    /// "Language" above the picker.
    pub language: String,
    /// While a voice call is on: "You are talking with Marie Dupont." (or that the
    /// microphone is off); empty otherwise.
    pub call: String,
    /// The microphone button ("Turn off microphone" / "Turn on microphone").
    pub call_mute: String,
    /// Whether the resident's microphone is off.
    pub call_muted: bool,
    /// The hang-up button.
    pub call_hang_up: String,
}

/// The window's state, fed by the [`super::Prompter`] calls.
#[derive(Debug)]
pub struct Model {
    screen: Screen,
    /// The site's name: from the config file first, then from the relay's hello.
    site: String,
    status: Status,
    code: Option<String>,
    who: Option<Requester>,
    deadline: Option<Instant>,
    view_since: Option<Instant>,
    viewed: Duration,
    control_since: Option<Instant>,
    controlled: Duration,
    /// Bytes this session has sent so far.
    data_sent: u64,
    /// The security code both people compare (4 digits), once fixed.
    security: Option<String>,
    /// A short sentence in the bar after control changed ("You took back control.").
    note: Option<(ControlState, Requester)>,
    /// The caseworker last read (`true`) or wrote the clipboard, who, and when: said in
    /// the bar for [`CLIPBOARD_NOTE_FOR`].
    clipboard: Option<(bool, Requester, Instant)>,
    /// The connection is interrupted (`true`: control was taken back because of it).
    interrupted: Option<bool>,
    /// The voice call is on (`Some(muted)`).
    talking: Option<bool>,
    /// How the last call ended or was refused, by whom, and when: said in the bar for
    /// [`CLIPBOARD_NOTE_FOR`].
    voice_note: Option<(VoiceState, Requester, Instant)>,
    /// The microphone question's deadline (kept apart: it may come over the control
    /// question), and the screen to go back to after it.
    voice_deadline: Option<Instant>,
    back_to: Screen,
    finished: Option<Finished>,
    problem: Option<Problem>,
}

impl Model {
    /// A window that is connecting; `site` is the config file's `site_name`, if any.
    pub fn new(site: Option<String>) -> Self {
        Self {
            screen: Screen::Connecting,
            site: site.as_deref().map(clean_name).unwrap_or_default(),
            status: Status::Connecting,
            code: None,
            who: None,
            deadline: None,
            view_since: None,
            viewed: Duration::ZERO,
            control_since: None,
            controlled: Duration::ZERO,
            data_sent: 0,
            security: None,
            note: None,
            clipboard: None,
            interrupted: None,
            talking: None,
            voice_note: None,
            voice_deadline: None,
            back_to: Screen::Sharing,
            finished: None,
            problem: None,
        }
    }

    /// A window that only says why the agent cannot start.
    pub fn problem(problem: Problem) -> Self {
        let mut m = Self::new(None);
        m.fail(problem);
        m
    }

    /// The agent cannot go on: the window only says why, whatever was up.
    pub fn fail(&mut self, problem: Problem) {
        self.deadline = None;
        self.screen = Screen::Problem;
        self.problem = Some(problem);
    }

    /// Who asked, in the session under way.
    pub fn who(&self) -> Option<&Requester> {
        self.who.as_ref()
    }

    /// The screen up now.
    pub fn screen(&self) -> Screen {
        self.screen
    }

    /// The finished session, on the end screen.
    pub fn finished(&self) -> Option<&Finished> {
        self.finished
            .as_ref()
            .filter(|_| self.screen == Screen::Ended)
    }

    /// Seconds left to answer the open question (rounded up), if one is open.
    pub fn seconds_left(&self, now: Instant) -> Option<u64> {
        let deadline = if self.screen == Screen::AskVoice {
            self.voice_deadline
        } else {
            self.deadline
        };
        let left = deadline?.saturating_duration_since(now);
        Some(left.as_secs() + u64::from(left.subsec_nanos() > 0))
    }

    /// Connection status changed.
    pub fn status(&mut self, status: &Status) {
        if let Status::Connected { site } = status
            && !site.trim().is_empty()
        {
            self.site = clean_name(site);
        }
        if !matches!(status, Status::Connected { .. }) {
            // A new connection brings a new code; the old one is void.
            self.code = None;
            if self.screen == Screen::Waiting {
                self.screen = Screen::Connecting;
            }
        }
        self.status = status.clone();
    }

    /// A code arrived.
    pub fn show_code(&mut self, grouped: &str) {
        self.code = Some(
            grouped
                .chars()
                .filter(|c| c.is_ascii_digit() || *c == ' ')
                .collect(),
        );
        if self.screen == Screen::Connecting {
            self.screen = Screen::Waiting;
        }
    }

    /// The view question.
    pub fn ask_view(&mut self, now: Instant, by: &Requester, timeout: Duration) {
        self.who = Some(by.clone());
        self.deadline = Some(now + timeout);
        self.finished = None;
        self.screen = Screen::AskView;
    }

    /// The open question is withdrawn.
    pub fn cancel_question(&mut self) {
        if self.screen == Screen::AskVoice {
            self.voice_deadline = None;
            self.screen = self.back_to;
            return;
        }
        self.deadline = None;
        self.screen = match self.screen {
            Screen::AskView => self.idle_screen(),
            Screen::AskControl => Screen::Sharing,
            other => other,
        };
    }

    /// The microphone question, over whatever the shared screen shows.
    pub fn ask_voice(&mut self, now: Instant, by: &Requester, timeout: Duration) {
        self.who = Some(by.clone());
        self.voice_deadline = Some(now + timeout);
        if self.screen != Screen::AskVoice {
            self.back_to = self.screen;
        }
        self.screen = Screen::AskVoice;
    }

    /// Where the voice call stands.
    pub fn voice_changed(&mut self, now: Instant, state: VoiceState, muted: bool, by: &Requester) {
        if state == VoiceState::Asking {
            return;
        }
        if self.screen == Screen::AskVoice {
            self.screen = self.back_to;
        }
        self.voice_deadline = None;
        if state == VoiceState::On {
            self.talking = Some(muted);
            self.voice_note = None;
        } else {
            self.talking = None;
            self.voice_note = Some((state, by.clone(), now));
        }
    }

    /// Goes to a shared screen, or, under the microphone question, back to it after.
    fn go_shared(&mut self, screen: Screen) {
        if self.screen == Screen::AskVoice {
            self.back_to = screen;
        } else if self.screen.is_shared() {
            self.screen = screen;
        }
    }

    /// The screen is now shared with `by`.
    pub fn sharing(&mut self, now: Instant, by: &Requester) {
        self.who = Some(by.clone());
        self.deadline = None;
        self.view_since = Some(now);
        self.viewed = Duration::ZERO;
        self.controlled = Duration::ZERO;
        self.data_sent = 0;
        self.security = None;
        self.note = None;
        self.clipboard = None;
        self.talking = None;
        self.voice_note = None;
        self.screen = Screen::Sharing;
    }

    /// The security code of this session's connection, once the exchange fixed it.
    pub fn security_code(&mut self, code: &str) {
        self.security = Some(code.to_string());
    }

    /// The session's data counter moved on.
    pub fn data_sent(&mut self, bytes: u64) {
        self.data_sent = bytes;
    }

    /// The caseworker read (`read`) or wrote the resident's clipboard.
    pub fn clipboard_used(&mut self, now: Instant, by: &Requester, read: bool) {
        self.clipboard = Some((read, by.clone(), now));
    }

    /// The control question.
    pub fn ask_control(&mut self, now: Instant, by: &Requester, timeout: Duration) {
        self.who = Some(by.clone());
        self.deadline = Some(now + timeout);
        if self.screen == Screen::AskVoice {
            self.back_to = Screen::AskControl;
        } else {
            self.screen = Screen::AskControl;
        }
    }

    /// Control changed state.
    pub fn control_changed(&mut self, now: Instant, state: ControlState, by: &Requester) {
        match state {
            ControlState::Asking => return,
            ControlState::Controlling => {
                self.control_since = Some(now);
                self.note = None;
                if self.screen == Screen::AskVoice {
                    self.back_to = Screen::Controlling;
                } else {
                    self.screen = Screen::Controlling;
                }
            }
            _ => {
                self.stop_control_clock(now);
                self.note = Some((state, by.clone()));
                self.go_shared(Screen::Sharing);
            }
        }
        self.deadline = None;
    }

    /// The connection with the caseworker is interrupted; the screen stays shared while
    /// it waits (a minute at most). Control, if given, is taken back.
    pub fn interrupted(&mut self, now: Instant, by: &Requester, had_control: bool) {
        self.stop_control_clock(now);
        self.who = Some(by.clone());
        self.deadline = None;
        self.note = None;
        self.interrupted = Some(had_control);
        self.go_shared(Screen::Sharing);
    }

    /// The connection is back; sharing goes on without a new question.
    pub fn resumed(&mut self, by: &Requester) {
        self.who = Some(by.clone());
        self.interrupted = None;
    }

    /// The session is over.
    pub fn ended(&mut self, now: Instant, wall: SystemTime, reason: ByeReason) {
        self.stop_control_clock(now);
        if let Some(since) = self.view_since.take() {
            self.viewed += now.saturating_duration_since(since);
        }
        self.finished = Some(Finished {
            reason,
            by: self.who.take(),
            viewed: self.viewed,
            controlled: self.controlled,
            data_sent: self.data_sent,
            at: wall,
        });
        self.data_sent = 0;
        self.security = None;
        self.viewed = Duration::ZERO;
        self.controlled = Duration::ZERO;
        self.deadline = None;
        self.note = None;
        self.clipboard = None;
        self.interrupted = None;
        self.talking = None;
        self.voice_note = None;
        self.voice_deadline = None;
        // A new code comes for the next session; the old one is spent.
        self.code = None;
        self.screen = Screen::Ended;
    }

    /// The resident closed the end screen.
    pub fn dismiss_end(&mut self) {
        if self.screen == Screen::Ended {
            self.finished = None;
            self.screen = self.idle_screen();
        }
    }

    /// What the global hotkey does now: take control back, else stop sharing.
    pub fn hotkey(&self) -> Option<UiEvent> {
        match self.screen {
            Screen::Controlling => Some(UiEvent::StopControl),
            Screen::Sharing | Screen::AskControl => Some(UiEvent::EndSession),
            Screen::AskVoice if self.back_to == Screen::Controlling => Some(UiEvent::StopControl),
            Screen::AskVoice => Some(UiEvent::EndSession),
            _ => None,
        }
    }

    /// Whether a voice call is on, and if so whether the resident's microphone is off.
    pub fn talking(&self) -> Option<bool> {
        self.talking
    }

    /// Whether the caseworker has control (also under the microphone question).
    pub fn controlling(&self) -> bool {
        self.screen == Screen::Controlling
            || (self.screen == Screen::AskVoice && self.back_to == Screen::Controlling)
    }

    fn idle_screen(&self) -> Screen {
        if self.code.is_some() {
            Screen::Waiting
        } else {
            Screen::Connecting
        }
    }

    fn stop_control_clock(&mut self, now: Instant) {
        if let Some(since) = self.control_since.take() {
            self.controlled += now.saturating_duration_since(since);
        }
    }

    /// The sentences for the screen up now, in `s`'s language.
    pub fn view(&self, s: &Strings, now: Instant, hotkey: &str) -> View {
        let mut v = View {
            allow: s.get("allow"),
            refuse: s.get("refuse"),
            stop: s.get("stop-sharing"),
            take_back: s.get("take-back"),
            done: s.get("done"),
            keep_receipt: s.get("keep-receipt"),
            language: s.get("language"),
            status: self.status_line(s),
            ..View::default()
        };
        if !hotkey.is_empty() {
            v.hotkey = s.with("hotkey-hint", &[("keys", Arg::Text(hotkey))]);
        }
        let countdown = |v: &mut View| {
            if let Some(secs) = self.seconds_left(now) {
                v.countdown = format!("{} {}", text::countdown(s, secs), s.get("no-answer-is-no"));
            }
        };
        let who = self.who.as_ref();
        if let Some(by) = who {
            let name = text::name(s, by);
            let key = if self.controlling() {
                "control-bar"
            } else {
                "sharing-bar"
            };
            v.bar = s.with(key, &[("name", Arg::Text(&name))]);
            if let (Some((state, by)), Screen::Sharing) = (&self.note, self.screen) {
                v.bar_note = text::control_changed(s, *state, by);
            }
            if let Some((state, by, at)) = &self.voice_note
                && self.screen.is_shared()
                && now.saturating_duration_since(*at) < CLIPBOARD_NOTE_FOR
            {
                v.bar_note = text::voice_changed(s, *state, false, by);
            }
            if let Some(muted) = self.talking
                && self.screen.is_shared()
            {
                v.call = text::voice_changed(s, VoiceState::On, muted, by);
                v.call_muted = muted;
                v.call_mute = s.get(if muted { "voice-unmute" } else { "voice-mute" });
                v.call_hang_up = s.get("voice-hang-up");
            }
            if let Some((read, by, at)) = &self.clipboard
                && self.screen.is_shared()
                && now.saturating_duration_since(*at) < CLIPBOARD_NOTE_FOR
            {
                v.bar_note = text::clipboard_used(s, by, *read);
            }
            if let Some(had_control) = self.interrupted {
                v.bar_note = text::interrupted(s, by, had_control);
            }
        }
        if self.screen.is_shared() && self.data_sent > 0 {
            v.data = text::data_used(s, self.data_sent);
        }
        if let (true, Some(code)) = (self.screen.is_shared(), &self.security) {
            v.security = text::security_code(s, code);
            v.security_help = s.get("security-code-help");
            v.security_explained = text::security_code_explained(s);
        }
        match self.screen {
            Screen::Connecting => {
                v.title = s.get("code-title");
                v.body = match self.status {
                    Status::Retrying { in_secs } => text::retrying(s, in_secs),
                    _ => text::connecting(s),
                };
            }
            Screen::Waiting => {
                v.title = s.get("code-title");
                v.code = self.code.clone().unwrap_or_default();
                v.body = s.get("give-code");
                v.detail = s.get("code-valid");
            }
            Screen::AskView => {
                if let Some(by) = who {
                    (v.who, v.title) = question(s, "ask-view", by);
                }
                v.body = s.get("question");
                v.detail = s.get("ask-view-detail");
                countdown(&mut v);
            }
            Screen::AskControl => {
                if let Some(by) = who {
                    (v.who, v.title) = question(s, "ask-control", by);
                }
                v.body = s.get("question");
                v.detail = s.get("ask-control-detail");
                countdown(&mut v);
            }
            Screen::AskVoice => {
                if let Some(by) = who {
                    (v.who, v.title) = question(s, "ask-voice", by);
                }
                v.body = s.get("question");
                v.detail = s.get("ask-voice-detail");
                countdown(&mut v);
            }
            Screen::Sharing | Screen::Controlling => {}
            Screen::Ended => {
                if let Some(f) = &self.finished {
                    v.title = text::ended(s, f.reason);
                    if let Some(by) = &f.by
                        && !f.viewed.is_zero()
                    {
                        v.body = text::summary(s, by, f.viewed, f.controlled);
                    }
                    if f.data_sent > 0 {
                        v.detail = text::data_summary(s, f.data_sent);
                    }
                }
            }
            Screen::Problem => {
                v.title = s.get(match self.problem {
                    Some(Problem::BrokenConfig) => "config-broken",
                    Some(Problem::Untrusted) => "relay-untrusted",
                    Some(Problem::NotSetUp) | None => "config-missing",
                });
                v.body = s.get("get-help");
                v.done = s.get("close");
            }
        }
        v
    }

    fn status_line(&self, s: &Strings) -> String {
        if self.site.is_empty() {
            String::new()
        } else {
            s.with("site", &[("site", Arg::Text(&self.site))])
        }
    }
}

/// A question ("WHO asks to …") as two lines: who asks, then the rest of the sentence.
/// The name reads best alone, and Slint's text layout draws a wrapped line that mixes a
/// Latin name with right-to-left words broken (words over each other). A sentence that
/// does not start with who asks stays whole, on the second line.
fn question(s: &Strings, key: &str, by: &Requester) -> (String, String) {
    let who = text::who(s, by);
    let whole = s.with(key, &[("who", Arg::Text(&who))]);
    // Isolates around the name, and the space after it, belong to neither line.
    let is_mark = |c: char| c.is_whitespace() || ('\u{2066}'..='\u{2069}').contains(&c);
    match whole.find(&who) {
        Some(at) if whole[..at].chars().all(is_mark) => {
            let rest = whole[at + who.len()..]
                .trim_start_matches(is_mark)
                .to_owned();
            (who, rest)
        }
        _ => (String::new(), whole),
    }
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

    fn en() -> Strings {
        Strings::new(Lang::En, false)
    }

    const MIN: Duration = Duration::from_secs(60);

    #[test]
    fn an_interruption_takes_control_back_and_says_so_until_the_connection_is_back() {
        let t0 = Instant::now();
        let mut m = Model::new(None);
        m.sharing(t0, &marie());
        m.control_changed(t0, ControlState::Controlling, &marie());
        m.interrupted(t0 + MIN, &marie(), true);
        assert_eq!(
            m.screen(),
            Screen::Sharing,
            "still shared, no longer controlled"
        );
        let v = m.view(&en(), t0 + MIN, "");
        assert!(v.bar_note.contains("must ask again"), "{}", v.bar_note);
        assert_eq!(
            m.hotkey(),
            Some(UiEvent::EndSession),
            "the hotkey still stops sharing"
        );
        m.resumed(&marie());
        assert_eq!(m.view(&en(), t0 + MIN, "").bar_note, "");
        m.ended(t0 + 2 * MIN, SystemTime::UNIX_EPOCH, ByeReason::Ended);
        assert_eq!(
            m.finished().map(|f| f.controlled),
            Some(MIN),
            "control clock stopped at the cut"
        );
    }

    #[test]
    fn the_microphone_question_comes_over_control_and_goes_back_to_it() {
        let t0 = Instant::now();
        let mut m = Model::new(None);
        m.sharing(t0, &marie());
        m.control_changed(t0, ControlState::Controlling, &marie());
        m.ask_voice(t0, &marie(), Duration::from_secs(60));
        assert_eq!(m.screen(), Screen::AskVoice);
        assert!(m.screen().is_question() && m.screen().is_shared());
        assert!(m.controlling(), "control stands under the question");
        assert_eq!(m.hotkey(), Some(UiEvent::StopControl));
        let v = m.view(&en(), t0 + Duration::from_secs(10), "");
        assert_eq!(v.who, "Marie Dupont (CHRS Les Lilas)");
        assert_eq!(v.title, "asks to talk with you through the computer.");
        assert!(v.detail.contains("microphone"), "{}", v.detail);
        assert_eq!(v.countdown, "50 seconds left. No answer means no.");
        assert_eq!(v.bar, "Marie Dupont is using your mouse and keyboard.");
        // Taken back meanwhile: the question stays, and after it, only sharing.
        m.control_changed(t0, ControlState::TakenBack, &marie());
        assert_eq!(m.screen(), Screen::AskVoice);
        m.voice_changed(t0, VoiceState::On, false, &marie());
        assert_eq!(m.screen(), Screen::Sharing);
        let v = m.view(&en(), t0, "");
        assert_eq!(v.call, "You are talking with Marie Dupont.");
        assert_eq!(
            (v.call_mute.as_str(), v.call_hang_up.as_str()),
            ("Turn off microphone", "End the call")
        );
        m.voice_changed(t0, VoiceState::On, true, &marie());
        let v = m.view(&en(), t0, "");
        assert_eq!(
            v.call,
            "Your microphone is off. Marie Dupont cannot hear you."
        );
        assert_eq!(v.call_mute, "Turn on microphone");
        assert!(v.call_muted);
        m.voice_changed(t0, VoiceState::Off, false, &marie());
        let v = m.view(&en(), t0, "");
        assert_eq!(v.call, "", "no call, no call panel");
        assert_eq!(v.bar_note, "The call with Marie Dupont has ended.");
        assert_ne!(
            m.view(&en(), t0 + CLIPBOARD_NOTE_FOR, "").bar_note,
            v.bar_note,
            "said for a while only"
        );
    }

    #[test]
    fn a_withdrawn_or_refused_microphone_question_goes_back_where_it_was() {
        let t0 = Instant::now();
        let mut m = Model::new(None);
        m.sharing(t0, &marie());
        m.ask_voice(t0, &marie(), Duration::from_secs(60));
        m.cancel_question();
        assert_eq!(m.screen(), Screen::Sharing);
        m.ask_voice(t0, &marie(), Duration::from_secs(60));
        m.voice_changed(t0, VoiceState::Refused, false, &marie());
        assert_eq!(m.screen(), Screen::Sharing);
        let v = m.view(&en(), t0, "");
        assert_eq!(
            v.bar_note,
            "You said no to the call. Marie Dupont cannot hear you."
        );
        m.ask_voice(t0, &marie(), Duration::from_secs(60));
        m.voice_changed(t0, VoiceState::On, false, &marie());
        m.ended(t0, SystemTime::UNIX_EPOCH, ByeReason::Ended);
        m.dismiss_end();
        m.sharing(t0, &marie());
        assert_eq!(m.view(&en(), t0, "").call, "", "a new session has no call");
    }

    #[test]
    fn waiting_shows_the_code_and_the_site() {
        let mut m = Model::new(Some("Accueil\u{202E} Lilas".into()));
        assert_eq!(m.screen(), Screen::Connecting);
        m.status(&Status::Connected {
            site: String::new(),
        });
        m.show_code("482 913");
        let v = m.view(&en(), Instant::now(), "Ctrl+Alt+S");
        assert_eq!(m.screen(), Screen::Waiting);
        assert_eq!(v.code, "482 913");
        assert_eq!(v.body, "Give this code to the person who helps you.");
        assert_eq!(
            v.status, "Help from: Accueil Lilas",
            "the config's name, cleaned"
        );
        m.status(&Status::Connected {
            site: "CHRS Les Lilas".into(),
        });
        assert_eq!(
            m.view(&en(), Instant::now(), "").status,
            "Help from: CHRS Les Lilas"
        );
    }

    #[test]
    fn a_question_counts_down_and_a_withdrawal_goes_back_to_the_code() {
        let t0 = Instant::now();
        let mut m = Model::new(None);
        m.show_code("482 913");
        m.ask_view(t0, &marie(), Duration::from_secs(60));
        let v = m.view(&en(), t0 + Duration::from_millis(33_500), "");
        assert_eq!(v.who, "Marie Dupont (CHRS Les Lilas)");
        assert_eq!(v.title, "asks to see your screen.");
        assert_eq!(v.body, "Do you agree?");
        assert_eq!(v.countdown, "27 seconds left. No answer means no.");
        assert_eq!((v.allow.as_str(), v.refuse.as_str()), ("Yes, allow", "No"));
        assert!(m.screen().is_question());
        m.cancel_question();
        assert_eq!(m.screen(), Screen::Waiting);
        assert_eq!(m.seconds_left(t0), None);
    }

    #[test]
    fn issue16_7_the_security_code_is_in_the_bar_until_the_session_ends() {
        let t0 = Instant::now();
        let mut m = Model::new(None);
        m.show_code("482 913");
        m.ask_view(t0, &marie(), Duration::from_secs(60));
        m.sharing(t0, &marie());
        assert_eq!(
            m.view(&en(), t0, "").security,
            "",
            "not before the exchange"
        );
        m.security_code("0421");
        let v = m.view(&en(), t0, "");
        assert_eq!(v.security, "Security code: 0421");
        assert_eq!(v.security_help, "What is this?");
        assert!(
            v.security_explained.contains("press Stop"),
            "{}",
            v.security_explained
        );
        m.control_changed(t0 + MIN, ControlState::Controlling, &marie());
        assert_eq!(m.view(&en(), t0 + MIN, "").security, "Security code: 0421");
        m.ended(t0 + 2 * MIN, SystemTime::UNIX_EPOCH, ByeReason::Ended);
        assert_eq!(m.view(&en(), t0 + 2 * MIN, "").security, "");
        m.sharing(t0 + 3 * MIN, &marie());
        assert_eq!(
            m.view(&en(), t0 + 3 * MIN, "").security,
            "",
            "a new session, a new code"
        );
    }

    #[test]
    fn sharing_control_and_the_end_summary() {
        let t0 = Instant::now();
        let mut m = Model::new(None);
        m.show_code("482 913");
        m.ask_view(t0, &marie(), Duration::from_secs(60));
        m.sharing(t0, &marie());
        assert_eq!(m.screen(), Screen::Sharing);
        assert!(!m.screen().has_main_window());
        let v = m.view(&en(), t0, "Ctrl+Alt+S");
        assert_eq!(v.bar, "Your screen is visible to Marie Dupont.");
        assert_eq!(v.hotkey, "Or press Ctrl+Alt+S.");
        assert_eq!(m.hotkey(), Some(UiEvent::EndSession));

        m.ask_control(t0 + MIN, &marie(), Duration::from_secs(60));
        assert!(m.screen().has_main_window() && m.screen().is_shared());
        m.control_changed(t0 + MIN, ControlState::Asking, &marie());
        assert_eq!(m.screen(), Screen::AskControl);
        m.control_changed(t0 + 2 * MIN, ControlState::Controlling, &marie());
        assert_eq!(m.screen(), Screen::Controlling);
        assert_eq!(m.hotkey(), Some(UiEvent::StopControl));
        let v = m.view(&en(), t0 + 2 * MIN, "");
        assert_eq!(v.bar, "Marie Dupont is using your mouse and keyboard.");
        m.control_changed(t0 + 5 * MIN, ControlState::TakenBack, &marie());
        assert_eq!(m.screen(), Screen::Sharing);
        let v = m.view(&en(), t0 + 5 * MIN, "");
        assert_eq!(
            v.bar_note,
            "You took back control. Marie Dupont can only watch."
        );

        m.ended(t0 + 12 * MIN, SystemTime::UNIX_EPOCH, ByeReason::Ended);
        assert_eq!(m.screen(), Screen::Ended);
        assert_eq!(m.hotkey(), None);
        let v = m.view(&en(), t0 + 12 * MIN, "");
        assert_eq!(v.title, "Sharing has ended.");
        assert_eq!(
            v.body,
            "Marie Dupont saw your screen for 12 minutes and had control for 3 minutes."
        );
        let f = m.finished().map(|f| (f.viewed, f.controlled));
        assert_eq!(f, Some((12 * MIN, 3 * MIN)));
        assert_eq!(v.detail, "", "nothing counted, nothing said");
        // The next code waits behind the end screen until the resident closes it.
        m.show_code("111 222");
        assert_eq!(m.screen(), Screen::Ended);
        m.dismiss_end();
        assert_eq!(m.screen(), Screen::Waiting);
        assert_eq!(m.view(&en(), t0, "").code, "111 222");
    }

    #[test]
    fn the_data_counter_shows_while_sharing_and_in_the_end_summary() {
        let t0 = Instant::now();
        let mut m = Model::new(None);
        m.sharing(t0, &marie());
        assert_eq!(m.view(&en(), t0, "").data, "", "nothing until counted");
        m.data_sent(850_000);
        assert_eq!(m.view(&en(), t0, "").data, "Data used: 850 KB");
        m.data_sent(2_400_000);
        m.control_changed(t0, ControlState::Controlling, &marie());
        assert_eq!(m.view(&en(), t0, "").data, "Data used: 2.4 MB");
        m.ended(t0 + MIN, SystemTime::UNIX_EPOCH, ByeReason::Ended);
        let v = m.view(&en(), t0 + MIN, "");
        assert_eq!(v.data, "");
        assert_eq!(v.detail, "Data sent during the session: 2.4 MB.");
        assert_eq!(m.finished().map(|f| f.data_sent), Some(2_400_000));
        // The next session counts from zero.
        m.dismiss_end();
        m.sharing(t0 + 2 * MIN, &marie());
        assert_eq!(m.view(&en(), t0 + 2 * MIN, "").data, "");
    }

    #[test]
    fn a_refusal_ends_with_nothing_shared_and_no_summary() {
        let t0 = Instant::now();
        let mut m = Model::new(None);
        m.show_code("482 913");
        m.ask_view(t0, &marie(), Duration::from_secs(60));
        m.ended(t0, SystemTime::UNIX_EPOCH, ByeReason::Refused);
        let v = m.view(&en(), t0, "");
        assert_eq!(v.title, "You said no. Nothing was shared.");
        assert_eq!(v.body, "");
    }

    #[test]
    fn a_lost_connection_voids_the_code() {
        let mut m = Model::new(None);
        m.show_code("482 913");
        m.status(&Status::Retrying { in_secs: 4 });
        assert_eq!(m.screen(), Screen::Connecting);
        let v = m.view(&en(), Instant::now(), "");
        assert_eq!(v.code, "");
        assert_eq!(v.body, "No connection. New try in 4 s.");
    }

    #[test]
    fn problems_are_said_in_the_residents_language() {
        let m = Model::problem(Problem::BrokenConfig);
        let ar = Strings::new(Lang::Ar, false);
        let v = m.view(&ar, Instant::now(), "");
        assert_eq!(v.title, "ملف إعدادات هذا البرنامج تالف.");
        assert_eq!(v.body, "اعرض هذه النافذة على مكتب الاستقبال.");
        assert_eq!(m.hotkey(), None);
    }

    #[test]
    fn an_untrusted_relay_ends_on_a_problem_screen() {
        let mut m = Model::new(None);
        m.show_code("482 913");
        m.fail(Problem::Untrusted);
        assert_eq!(m.screen(), Screen::Problem);
        let v = m.view(&en(), Instant::now(), "");
        assert_eq!(
            v.title,
            "This program cannot connect safely to the help service."
        );
        assert_eq!(v.done, "Close");
    }

    #[test]
    fn a_hostile_name_is_shown_cleaned_and_cut() {
        let t0 = Instant::now();
        let mut m = Model::new(None);
        let by = Requester {
            name: Some(format!("<script>\u{202E}{}", "x".repeat(300))),
            site: "S".into(),
        };
        m.ask_view(t0, &by, Duration::from_secs(60));
        let v = m.view(&en(), t0, "");
        assert!(v.who.starts_with("<script>xxx"), "{}", v.who);
        assert!(v.who.ends_with("… (S)"), "{}", v.who);
        assert!(!v.who.contains('\u{202E}'));
        assert_eq!(v.title, "asks to see your screen.");
    }

    #[test]
    fn in_every_language_who_asks_stands_on_its_own_line() {
        let t0 = Instant::now();
        for lang in Lang::ALL {
            // As the window has them: names wrapped in Unicode isolates.
            let s = Strings::new(lang, true);
            let mut m = Model::new(None);
            m.ask_control(t0, &marie(), Duration::from_secs(60));
            let v = m.view(&s, t0, "");
            assert!(v.who.contains("Marie Dupont"), "{lang:?}: {:?}", v.who);
            assert!(v.who.contains("CHRS Les Lilas"), "{lang:?}: {:?}", v.who);
            assert!(!v.title.contains("Marie"), "{lang:?}: {:?}", v.title);
            let first = v.title.chars().next();
            assert!(
                first
                    .is_some_and(|c| !c.is_whitespace() && !('\u{2066}'..='\u{2069}').contains(&c)),
                "{lang:?}: {:?}",
                v.title
            );
        }
    }

    #[test]
    fn the_bar_says_when_the_clipboard_was_read_for_a_while() {
        let t0 = Instant::now();
        let mut m = Model::new(None);
        m.sharing(t0, &marie());
        m.control_changed(t0, ControlState::Controlling, &marie());
        m.clipboard_used(t0, &marie(), true);
        let v = m.view(&en(), t0 + Duration::from_secs(1), "");
        assert_eq!(v.bar_note, "Marie Dupont read your clipboard.");
        m.clipboard_used(t0, &marie(), false);
        let v = m.view(&en(), t0 + Duration::from_secs(1), "");
        assert_eq!(v.bar_note, "Marie Dupont put text in your clipboard.");
        let later = m.view(&en(), t0 + CLIPBOARD_NOTE_FOR, "");
        assert_eq!(later.bar_note, "");
        m.ended(t0, SystemTime::UNIX_EPOCH, ByeReason::Ended);
        m.sharing(t0, &marie());
        assert_eq!(
            m.view(&en(), t0, "").bar_note,
            "",
            "a new session starts clean"
        );
    }
}
