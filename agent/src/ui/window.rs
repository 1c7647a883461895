//! The resident's window, in Slint (`agent/ui/window.slint`). Thin glue: the driver's
//! [`Prompter`] calls travel to the UI thread as [`Update`]s, feed the IO-free
//! [`Model`], and the model's [`View`] is copied into the windows. Windows are created
//! when their screen comes up and dropped when it goes (a hidden Slint window would
//! still be listed to screen readers, and a new window comes up in front).

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

use acote_proto::channel::ControlState;
use acote_proto::{ByeReason, Requester};
use slint::{ComponentHandle, LogicalPosition, ModelRc, SharedString, VecModel};
use tokio::sync::mpsc::UnboundedSender;

use super::border::{BorderColour, ScreenBorder};
use super::i18n::{Lang, Strings};
use super::screen::{Model, Problem, Screen, View};
use super::{Prompter, Status, UiEvent, receipt};

#[allow(missing_docs, unreachable_pub, clippy::all, clippy::pedantic)]
mod generated {
    slint::include_modules!();
}
use generated::{Page, ResidentWindow, SharingBar};

/// The main window's size (ui/window.slint), for centring it.
const MAIN_SIZE: (f32, f32) = (640.0, 520.0);
/// The bar's size (ui/window.slint).
const BAR_SIZE: (f32, f32) = (900.0, 96.0);

/// Why the window cannot be used (the agent then falls back to the console).
#[derive(Debug, thiserror::Error)]
pub enum WindowError {
    /// The toolkit found no display or could not create a window.
    #[error("cannot open the window: {0}")]
    Platform(#[from] slint::PlatformError),
}

/// One change for the window, sent from the driver's thread.
#[derive(Debug)]
enum Update {
    Status(Status),
    Code(String),
    AskView(Requester, Duration),
    Cancel,
    Sharing(Requester),
    AskControl(Requester, Duration),
    Control(ControlState, Requester),
    Ended(ByeReason),
}

/// What the window needs at start.
pub struct WindowSetup {
    /// The resident's language at start (the picker can change it).
    pub lang: Lang,
    /// The config file's `site_name`, shown until the relay says its own.
    pub site: Option<String>,
    /// Why the agent cannot start, if it cannot: the window only says so.
    pub problem: Option<(Problem, String)>,
    /// The keys of the global hotkey, when it could be grabbed.
    pub hotkey: Option<&'static str>,
    /// The screen's size in pixels, to place the bar and centre the window.
    pub screen_size: Option<(u16, u16)>,
    /// The frame around the shared screen.
    pub border: Box<dyn ScreenBorder>,
}

/// The [`Prompter`] the driver holds: it forwards each call to the UI thread. It also
/// prints the console's two machine lines (`code NNN NNN`, `session ended: …`) on stdout,
/// so scripts and tests can follow a window session too.
pub struct WindowPrompter {
    tx: mpsc::Sender<Update>,
}

impl WindowPrompter {
    fn send(&self, update: Update) {
        if self.tx.send(update).is_ok() {
            // Fails only once the UI has closed; then there is nothing to update.
            let _ = slint::invoke_from_event_loop(|| with_app(App::drain));
        }
    }
}

impl Prompter for WindowPrompter {
    fn status(&mut self, status: &Status) {
        self.send(Update::Status(status.clone()));
    }

    fn show_code(&mut self, grouped: &str) {
        machine_line(&format!("code {grouped}"));
        self.send(Update::Code(grouped.to_string()));
    }

    fn ask_view(&mut self, by: &Requester, timeout: Duration) {
        self.send(Update::AskView(by.clone(), timeout));
    }

    fn cancel_question(&mut self) {
        self.send(Update::Cancel);
    }

    fn sharing(&mut self, by: &Requester) {
        self.send(Update::Sharing(by.clone()));
    }

    fn ask_control(&mut self, by: &Requester, timeout: Duration) {
        self.send(Update::AskControl(by.clone(), timeout));
    }

    fn control_changed(&mut self, state: ControlState, by: &Requester) {
        self.send(Update::Control(state, by.clone()));
    }

    fn ended(&mut self, reason: ByeReason, frames: u64) {
        machine_line(&format!(
            "session ended: {}, frames captured: {frames}",
            reason.as_str()
        ));
        self.send(Update::Ended(reason));
    }
}

/// One line on stdout; a closed stdout must not stop the agent (unlike `println!`).
fn machine_line(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

thread_local! {
    /// The UI thread's state; Slint's windows are not `Send`, so it lives here and the
    /// driver's thread reaches it through `slint::invoke_from_event_loop`.
    static APP: RefCell<Option<App>> = const { RefCell::new(None) };
}

/// Runs `f` on the app, unless it is already borrowed (a callback fired while the app
/// was updating a window): then `f` runs a moment later, from the event loop.
fn with_app(f: fn(&mut App)) {
    let busy = APP.with(|cell| match cell.try_borrow_mut() {
        Ok(mut app) => {
            if let Some(app) = app.as_mut() {
                f(app);
            }
            false
        }
        Err(_) => true,
    });
    if busy {
        let _ = slint::invoke_from_event_loop(move || with_app(f));
    }
}

/// Runs `f` on the app from the event loop, never inside a window's own callback: a
/// callback may lead to that very window being dropped.
fn later(f: impl FnOnce(&mut App) + 'static) {
    let f = RefCell::new(Some(f));
    slint::Timer::single_shot(Duration::ZERO, move || {
        APP.with(|cell| {
            if let (Ok(mut app), Some(f)) = (cell.try_borrow_mut(), f.borrow_mut().take())
                && let Some(app) = app.as_mut()
            {
                f(app);
            }
        });
    });
}

struct App {
    model: Model,
    strings: Strings,
    hotkey: &'static str,
    problem_detail: String,
    screen_size: Option<(u16, u16)>,
    events: UnboundedSender<UiEvent>,
    updates: mpsc::Receiver<Update>,
    /// Called when the resident closes the window outside a question: the agent ends.
    quit: Rc<dyn Fn()>,
    main: Option<(Screen, ResidentWindow)>,
    bar: Option<SharingBar>,
    border: Box<dyn ScreenBorder>,
    tick: slint::Timer,
    note: String,
}

/// Opens the window on this (the main) thread. The driver's prompter comes back;
/// `events` receives the resident's answers, and `quit` is called when they close the
/// window. Run `slint::run_event_loop_until_quit()` afterwards.
pub fn open(
    setup: WindowSetup,
    events: UnboundedSender<UiEvent>,
    quit: impl Fn() + 'static,
) -> Result<WindowPrompter, WindowError> {
    // Creating a window first brings the toolkit up (and fails here if there is no
    // display), which registering fonts needs.
    let first = ResidentWindow::new()?;
    super::fonts::register();
    let (tx, updates) = mpsc::channel();
    let model = match setup.problem {
        Some((problem, _)) => Model::problem(problem),
        None => Model::new(setup.site),
    };
    let app = App {
        model,
        strings: Strings::new(setup.lang, true),
        hotkey: setup.hotkey.unwrap_or(""),
        problem_detail: setup.problem.map(|(_, d)| d).unwrap_or_default(),
        screen_size: setup.screen_size,
        events,
        updates,
        quit: Rc::new(quit),
        main: None,
        bar: None,
        border: setup.border,
        tick: slint::Timer::default(),
        note: String::new(),
    };
    APP.with(|cell| *cell.borrow_mut() = Some(app));
    with_app(|app| app.render());
    drop(first);
    Ok(WindowPrompter { tx })
}

/// The hotkey was pressed (called from the hotkey's thread).
pub fn hotkey_pressed() {
    let _ = slint::invoke_from_event_loop(|| with_app(App::on_hotkey));
}

impl App {
    fn drain(&mut self) {
        let now = Instant::now();
        while let Ok(update) = self.updates.try_recv() {
            match update {
                Update::Status(s) => self.model.status(&s),
                Update::Code(c) => self.model.show_code(&c),
                Update::AskView(by, t) => self.model.ask_view(now, &by, t),
                Update::Cancel => self.model.cancel_question(),
                Update::Sharing(by) => self.model.sharing(now, &by),
                Update::AskControl(by, t) => self.model.ask_control(now, &by, t),
                Update::Control(state, by) => self.model.control_changed(now, state, &by),
                Update::Ended(reason) => {
                    self.note.clear();
                    self.model.ended(now, SystemTime::now(), reason);
                }
            }
        }
        self.render();
    }

    fn send(&self, event: UiEvent) {
        let _ = self.events.send(event);
    }

    fn on_hotkey(&mut self) {
        if let Some(event) = self.model.hotkey() {
            tracing::info!(?event, "hotkey pressed");
            self.send(event);
        }
    }

    fn on_escape(&mut self) {
        match self.model.screen() {
            screen if screen.is_question() => self.send(UiEvent::Answer(false)),
            Screen::Ended => self.on_dismiss(),
            _ => {}
        }
    }

    fn on_dismiss(&mut self) {
        if self.model.screen() == Screen::Problem {
            (self.quit)();
            return;
        }
        self.note.clear();
        self.model.dismiss_end();
        self.render();
    }

    fn on_keep(&mut self) {
        let Some(finished) = self.model.finished().cloned() else {
            return;
        };
        // The receipt is plain text in the resident's language, without isolates.
        let plain = Strings::new(self.strings.lang(), false);
        let saved = receipt::default_folder()
            .ok_or_else(|| std::io::Error::other("no home folder"))
            .and_then(|dir| receipt::save(&dir, &plain, &finished));
        self.note = match saved {
            Ok(path) => {
                let path = path.display().to_string();
                self.strings
                    .with("receipt-saved", &[("path", super::i18n::Arg::Text(&path))])
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot save the receipt");
                self.strings.get("receipt-failed")
            }
        };
        self.render();
    }

    fn on_language(&mut self, index: i32) {
        let Some(lang) = usize::try_from(index).ok().and_then(|i| Lang::ALL.get(i)) else {
            return;
        };
        self.strings = Strings::new(*lang, true);
        self.render();
    }

    fn on_close(&mut self) {
        if self.model.screen().is_question() {
            self.send(UiEvent::Answer(false));
        } else {
            (self.quit)();
        }
    }

    fn render(&mut self) {
        let now = Instant::now();
        let screen = self.model.screen();
        let view = self.model.view(&self.strings, now, self.hotkey);
        if screen.has_main_window() {
            self.show_main(screen, &view);
        } else if let Some((_, window)) = self.main.take() {
            let _ = window.hide();
        }
        if screen.is_shared() {
            self.show_bar(screen, &view);
            self.border.show(if screen == Screen::Controlling {
                BorderColour::Controlling
            } else {
                BorderColour::Sharing
            });
        } else {
            if let Some(bar) = self.bar.take() {
                let _ = bar.hide();
            }
            self.border.hide();
        }
        if screen.is_question() {
            if !self.tick.running() {
                self.tick
                    .start(slint::TimerMode::Repeated, Duration::from_secs(1), || {
                        with_app(App::render)
                    });
            }
        } else {
            self.tick.stop();
        }
    }

    fn show_main(&mut self, screen: Screen, view: &View) {
        if self.main.as_ref().is_some_and(|(s, _)| *s != screen) {
            // A new screen gets a new window: it comes up in front, with its own focus.
            if let Some((_, old)) = self.main.take() {
                let _ = old.hide();
            }
        }
        if self.main.is_none() {
            match self.new_main() {
                Ok(window) => self.main = Some((screen, window)),
                Err(e) => {
                    tracing::error!(error = %e, "cannot open the window");
                    return;
                }
            }
        }
        let Some((_, w)) = &self.main else { return };
        let s = |text: &str| SharedString::from(text);
        w.set_rtl(self.strings.lang().is_rtl());
        w.set_page(page(screen));
        w.set_title_text(s(&view.title));
        w.set_body(s(&view.body));
        w.set_detail(s(if screen == Screen::Problem {
            &self.problem_detail
        } else {
            &view.detail
        }));
        w.set_code(s(&view.code));
        w.set_countdown(s(&view.countdown));
        w.set_allow(s(&view.allow));
        w.set_refuse(s(&view.refuse));
        w.set_status(s(&view.status));
        w.set_keep_receipt(s(&view.keep_receipt));
        w.set_done(s(&view.done));
        w.set_note(s(&self.note));
        w.set_language(s(&view.language));
        let index = Lang::ALL
            .iter()
            .position(|l| *l == self.strings.lang())
            .unwrap_or(0);
        w.set_language_index(i32::try_from(index).unwrap_or(0));
    }

    fn new_main(&self) -> Result<ResidentWindow, slint::PlatformError> {
        let w = ResidentWindow::new()?;
        let names: Vec<SharedString> = Lang::ALL.iter().map(|l| l.native_name().into()).collect();
        w.set_languages(ModelRc::new(VecModel::from(names)));
        w.on_answer(|yes| later(move |app| app.send(UiEvent::Answer(yes))));
        w.on_escape(|| later(App::on_escape));
        w.on_keep(|| later(App::on_keep));
        w.on_dismiss(|| later(App::on_dismiss));
        w.on_language_picked(|i| later(move |app| app.on_language(i)));
        w.window().on_close_requested(|| {
            later(App::on_close);
            slint::CloseRequestResponse::KeepWindowShown
        });
        if let Some((sw, sh)) = self.screen_size {
            let x = ((f32::from(sw) - MAIN_SIZE.0) / 2.0).max(0.0);
            let y = ((f32::from(sh) - MAIN_SIZE.1) / 2.0).max(0.0);
            w.window().set_position(LogicalPosition::new(x, y));
        }
        w.show()?;
        // A question stays in front of the resident's other windows until answered.
        if self.model.screen().is_question() {
            keep_on_top(w.as_weak(), |w: &ResidentWindow, on| w.set_on_top(on));
        }
        Ok(w)
    }

    fn show_bar(&mut self, screen: Screen, view: &View) {
        if self.bar.is_none() {
            match self.new_bar() {
                Ok(bar) => self.bar = Some(bar),
                Err(e) => {
                    tracing::error!(error = %e, "cannot open the sharing bar");
                    return;
                }
            }
        }
        let Some(bar) = &self.bar else { return };
        bar.set_rtl(self.strings.lang().is_rtl());
        bar.set_controlling(screen == Screen::Controlling);
        bar.set_text(view.bar.as_str().into());
        bar.set_detail(view.bar_note.as_str().into());
        bar.set_hotkey(view.hotkey.as_str().into());
        bar.set_stop(view.stop.as_str().into());
        bar.set_take_back(view.take_back.as_str().into());
    }

    fn new_bar(&self) -> Result<SharingBar, slint::PlatformError> {
        let bar = SharingBar::new()?;
        bar.on_stop_clicked(|| later(|app| app.send(UiEvent::EndSession)));
        bar.on_take_back_clicked(|| later(|app| app.send(UiEvent::StopControl)));
        // The bar cannot be closed while sharing: Stop is the way out.
        bar.window()
            .on_close_requested(|| slint::CloseRequestResponse::KeepWindowShown);
        let (sw, _) = self.screen_size.unwrap_or((1024, 768));
        let x = ((f32::from(sw) - BAR_SIZE.0) / 2.0).max(0.0);
        let top = f32::from(super::border::THICKNESS) + 4.0;
        bar.window().set_position(LogicalPosition::new(x, top));
        bar.show()?;
        keep_on_top(bar.as_weak(), |b: &SharingBar, on| b.set_on_top(on));
        Ok(bar)
    }
}

/// On X11 the window manager drops an "above" state that winit sets before it manages
/// the window, so the state is set only once the window is up
/// (docs/resident-window/toolkit-evaluation.md).
fn keep_on_top<T: ComponentHandle + 'static>(weak: slint::Weak<T>, set: fn(&T, bool)) {
    slint::Timer::single_shot(Duration::from_millis(300), move || {
        if let Some(w) = weak.upgrade() {
            set(&w, true);
        }
    });
}

fn page(screen: Screen) -> Page {
    match screen {
        Screen::Connecting => Page::Connecting,
        Screen::Waiting => Page::Waiting,
        Screen::AskView => Page::AskView,
        Screen::AskControl => Page::AskControl,
        Screen::Ended => Page::Ended,
        Screen::Problem => Page::Problem,
        // No main window on these; the bar shows them.
        Screen::Sharing | Screen::Controlling => Page::Waiting,
    }
}
