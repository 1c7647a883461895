//! The Windows injector: enigo's SendInput backend. Text goes as Unicode key events
//! (KEYEVENTF_UNICODE), which Windows delivers as the characters themselves, so accents,
//! "€" and Arabic arrive exactly whatever the resident's layout (AZERTY, QWERTZ, US…).
//! Named keys (Enter, arrows…) go as their virtual keys with their scancodes; a shortcut
//! goes by the key that types its character in the resident's layout, or by the
//! scancode at the caseworker's key's place where no key does (Cyrillic, Arabic layouts).
//!
//! Unsafe: the layout lookup (VkKeyScanExW on the foreground window's layout) and the
//! pointer's absolute move over the virtual desktop (SendInput).
#![allow(unsafe_code)]

use std::time::Duration;

use acote_proto::channel::{Modifiers, ViewerMessage};
use enigo::{Direction, Enigo, Key, Keyboard, Settings};
use windows::Win32::UI::Input::KeyboardAndMouse::{
    GetKeyboardLayout, INPUT, INPUT_0, INPUT_MOUSE, MOUSEEVENTF_ABSOLUTE, MOUSEEVENTF_MOVE,
    MOUSEEVENTF_VIRTUALDESK, MOUSEINPUT, SendInput, VkKeyScanExW,
};
use windows::Win32::UI::WindowsAndMessaging::{GetForegroundWindow, GetWindowThreadProcessId};

use super::capture::desktop;
use crate::input::consent::Grant;
use crate::input::hands::{self, Devices, Hands, err};
use crate::input::inject::{InjectError, Injector};

/// The time between two typed characters. SendInput queues Unicode key events at once,
/// and a program takes them at its own pace: unpaced, a long text is all in Windows'
/// queue before the resident's Stop can act, and no Stop can call it back. 250
/// characters a second is far above anyone's typing and lets Stop cut within 4 ms.
const TEXT_PACE: Duration = Duration::from_millis(4);

/// Injects into the Windows desktop with SendInput.
pub struct WindowsInjector {
    /// The enigo, and the buttons it holds.
    hands: Hands,
}

/// 0..=1 of a `len`-pixel side as SendInput's absolute 0..=65535: onto pixel centres,
/// 1.0 the last pixel and not past it, rounded as Windows' documentation advises.
fn normalised(v: f64, len: u32) -> i32 {
    let last = i64::from(len.max(2) - 1);
    let px = (v.clamp(0.0, 1.0) * last as f64).round() as i64;
    ((px * 65535 + last / 2) / last) as i32
}

/// Whether `c` has a key of its own, without modifiers, in the layout of the window the
/// resident is typing into.
fn on_a_key(c: char) -> bool {
    let mut units = [0u16; 2];
    let [unit] = c.encode_utf16(&mut units) else {
        return false;
    };
    // SAFETY: plain queries; a null foreground window gives this thread's layout.
    let scan = unsafe {
        let thread = GetWindowThreadProcessId(GetForegroundWindow(), None);
        VkKeyScanExW(*unit, GetKeyboardLayout(thread))
    };
    // -1: no key; the high byte is the shift state needed (0: none).
    scan != -1 && (scan as u16) >> 8 == 0
}

impl WindowsInjector {
    /// Opens SendInput (`display` is for X11 only).
    pub fn open(_display: Option<&str>) -> Result<Self, InjectError> {
        let settings = Settings {
            // Dropping the enigo (at the end) lets go of anything held.
            release_keys_when_dropped: true,
            ..Settings::default()
        };
        let enigo = Enigo::new(&settings).map_err(|e| InjectError::Open(e.to_string()))?;
        Ok(Self {
            hands: Hands::new(enigo),
        })
    }
}

impl Devices for WindowsInjector {
    fn hands(&mut self) -> &mut Hands {
        &mut self.hands
    }

    /// Moves the pointer to (x, y), each 0..=1 of the whole virtual desktop (every
    /// monitor): SendInput's absolute move over the virtual desktop, as enigo's own
    /// absolute move only reaches the primary monitor.
    fn pointer(&mut self, x: f64, y: f64) -> Result<(), InjectError> {
        let d = desktop();
        let input = INPUT {
            r#type: INPUT_MOUSE,
            Anonymous: INPUT_0 {
                mi: MOUSEINPUT {
                    dx: normalised(x, d.width),
                    dy: normalised(y, d.height),
                    mouseData: 0,
                    dwFlags: MOUSEEVENTF_MOVE | MOUSEEVENTF_ABSOLUTE | MOUSEEVENTF_VIRTUALDESK,
                    time: 0,
                    dwExtraInfo: 0,
                },
            },
        };
        // SAFETY: one properly sized INPUT.
        let sent = unsafe { SendInput(&[input], size_of::<INPUT>() as i32) };
        if sent == 1 {
            Ok(())
        } else {
            Err(err(windows::core::Error::from_win32()))
        }
    }

    /// Ctrl+A and friends: by character where the layout has it on a key of its own
    /// (Ctrl+A selects all on AZERTY too), else by position: the X keycode is the Linux
    /// evdev code + 8, and evdev codes of the main block are the PC's set-1 scancodes.
    fn shortcut(
        &mut self,
        ch: char,
        x_keycode: Option<u8>,
        mods: Modifiers,
    ) -> Result<(), InjectError> {
        match x_keycode {
            Some(code) if !on_a_key(ch) => self.hands.with_modifiers(mods, |enigo| {
                enigo
                    .raw(u16::from(code.saturating_sub(8)), Direction::Click)
                    .map_err(err)
            }),
            _ => self.hands.with_modifiers(mods, |enigo| {
                enigo.key(Key::Unicode(ch), Direction::Click).map_err(err)
            }),
        }
    }

    fn chord(&mut self, key: Key, mods: Modifiers) -> Result<(), InjectError> {
        self.hands
            .with_modifiers(mods, |enigo| enigo.key(key, Direction::Click).map_err(err))
    }

    fn text(&mut self, grant: &Grant, text: &str) -> Result<(), InjectError> {
        let mut buf = [0u8; 4];
        for c in text.chars() {
            // A long text takes time to type: the resident's Stop must cut it short.
            if !grant.is_live() {
                break;
            }
            self.hands
                .enigo
                .text(c.encode_utf8(&mut buf))
                .map_err(err)?;
            std::thread::sleep(TEXT_PACE);
        }
        Ok(())
    }
}

impl Injector for WindowsInjector {
    fn inject(&mut self, grant: &Grant, input: &ViewerMessage) -> Result<(), InjectError> {
        hands::inject(self, grant, input)
    }

    fn release_all(&mut self) -> Result<(), InjectError> {
        self.hands.release_all();
        Ok(())
    }
}
