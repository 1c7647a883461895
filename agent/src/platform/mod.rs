//! The one place that picks each platform's implementations of the agent's seams:
//! [`Capturer`](crate::capture::Capturer), [`Injector`](crate::input::inject::Injector),
//! [`ScreenBorder`](crate::ui::border::ScreenBorder), the caseworker's
//! [`Marker`](crate::control::Marker) and the Stop hotkey. Shared code calls these
//! functions and never looks at the platform itself. `display` names the X display on
//! Linux (`None`: `$DISPLAY`); Windows has one desktop and ignores it.
//!
//! Each platform's code lives in one folder, [`x11`] or `windows`, with the same shape:
//! `capture/`, `input.rs`, `border.rs`, `highlight.rs`, `hotkey.rs` and the desktop's odds
//! and ends in its `mod.rs`. The traits they implement stay with the data flow
//! (`capture/`, `input/`, `ui/`); a macOS port would add a third folder and one `imp`.

#[cfg(windows)]
pub mod windows;
#[cfg(not(windows))]
pub mod x11;

#[cfg(windows)]
mod imp {
    pub(super) use super::windows::border::WindowsBorder as PlatformBorder;
    pub(super) use super::windows::capture::{monitors, open as open_capturer};
    pub(super) use super::windows::highlight::Highlighter;
    pub(super) use super::windows::hotkey;
    pub(super) use super::windows::input::WindowsInjector as PlatformInjector;
    pub(super) use super::windows::{
        attach_console, chime, documents_folder, has_display, open_folder, screen_size,
        system_languages,
    };
}

#[cfg(not(windows))]
mod imp {
    pub(super) use super::x11::border::X11Border as PlatformBorder;
    pub(super) use super::x11::capture::{monitors, open as open_capturer};
    pub(super) use super::x11::highlight::Highlighter;
    pub(super) use super::x11::hotkey;
    pub(super) use super::x11::input::EnigoInjector as PlatformInjector;
    pub(super) use super::x11::{attach_console, chime, has_display, open_folder, screen_size};

    /// The XDG Documents folder is found by the receipt's own search under $HOME.
    pub(super) fn documents_folder() -> Option<std::path::PathBuf> {
        None
    }

    /// The session's POSIX locale variables, in the order the C library reads them.
    pub(super) fn system_languages() -> Vec<String> {
        ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .filter_map(|var| std::env::var(var).ok())
            .collect()
    }
}

use crate::capture::{CaptureError, Capturer};
use crate::control::Marker;
use crate::input::inject::{InjectError, Injector};
use crate::ui::border::ScreenBorder;

/// The keys of the Stop hotkey, as shown to the resident (the same in every language).
pub const HOTKEY_KEYS: &str = imp::hotkey::KEYS;

/// Opens the screen capturer (called only after the resident's yes).
pub fn open_capturer(display: Option<&str>) -> Result<Box<dyn Capturer>, CaptureError> {
    imp::open_capturer(display)
}

/// The resident's monitors, where they sit on the captured desktop.
pub fn monitors(display: Option<&str>) -> Vec<crate::screens::Monitor> {
    imp::monitors(display)
}

/// Opens the mouse and keyboard injector (run on the injector's thread).
pub fn open_injector(display: Option<&str>) -> Result<impl Injector + use<>, InjectError> {
    imp::PlatformInjector::open(display)
}

/// Starts the frame around the screen; it shows nothing until asked.
pub fn border(display: Option<String>) -> Box<dyn ScreenBorder> {
    Box::new(imp::PlatformBorder::spawn(display))
}

/// Starts the caseworker's "look here" marker.
pub fn marker(display: Option<String>) -> Box<dyn Marker> {
    Box::new(imp::Highlighter::spawn(display))
}

/// Starts listening for the Stop hotkey; `pressed` runs on the hotkey's thread at each
/// press. False when the hotkey cannot be had (another program holds it), so the
/// window does not advertise keys that will not work.
pub fn spawn_hotkey(display: Option<String>, pressed: impl Fn() + Send + 'static) -> bool {
    imp::hotkey::spawn(display, pressed)
}

/// The screen's size in pixels, to place the window and the bar.
pub fn screen_size(display: Option<&str>) -> Option<(u16, u16)> {
    imp::screen_size(display)
}

/// Whether there is a desktop to show a window on (on Linux, an X display).
pub fn has_display() -> bool {
    imp::has_display()
}

/// The resident's Documents folder where the platform names one (Windows' Known
/// Folder); `None` lets the receipt look under the home folder.
pub fn documents_folder() -> Option<std::path::PathBuf> {
    imp::documents_folder()
}

/// The languages the PC's user reads, most preferred first (BCP 47 tags, or POSIX
/// locale names such as `uk_UA.UTF-8`), for the window's default language.
pub fn system_languages() -> Vec<String> {
    imp::system_languages()
}

/// Plays the short alert sound that says a chat message came.
pub fn chime() {
    imp::chime();
}

/// Shows a folder in the system's file manager (the resident's Downloads).
pub fn open_folder(dir: &std::path::Path) {
    imp::open_folder(dir);
}

/// Makes stdout and stderr reach the terminal the agent was started from, for
/// `--console`. Only Windows needs it: its agent is a GUI program with no console of
/// its own.
pub fn attach_console() {
    imp::attach_console();
}
