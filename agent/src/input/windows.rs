//! The Windows injector: enigo's SendInput backend. Text goes as Unicode key events
//! (KEYEVENTF_UNICODE), which Windows delivers as the characters themselves, so accents,
//! "€" and Arabic arrive exactly whatever the resident's layout (AZERTY, QWERTZ, US…).
//! Named keys (Enter, arrows…) go as their virtual keys with their scancodes; a shortcut
//! goes by the key that types its character in the resident's layout, or by the
//! scancode at the caseworker's key's place where no key does (Cyrillic, Arabic layouts).
//!
//! Unsafe: only the layout lookup (VkKeyScanExW on the foreground window's layout).
#![allow(unsafe_code)]

use std::time::Duration;

use acote_proto::channel::{ButtonAction, Modifiers, MouseButton, ViewerMessage};
use enigo::{Axis, Button, Coordinate, Direction, Enigo, Key, Keyboard, Mouse, Settings};
use windows::Win32::UI::Input::KeyboardAndMouse::{GetKeyboardLayout, VkKeyScanExW};
use windows::Win32::UI::WindowsAndMessaging::{GetForegroundWindow, GetWindowThreadProcessId};

use super::consent::Grant;
use super::inject::{InjectError, Injector};
use super::keys::{KeyAction, interpret};

/// The time between two typed characters. SendInput queues Unicode key events at once,
/// and a program takes them at its own pace: unpaced, a long text is all in Windows'
/// queue before the resident's Stop can act, and no Stop can call it back. 250
/// characters a second is far above anyone's typing and lets Stop cut within 4 ms.
const TEXT_PACE: Duration = Duration::from_millis(4);

/// Injects into the Windows desktop with SendInput.
pub struct WindowsInjector {
    enigo: Enigo,
    /// Buttons pressed and not yet released (drags).
    held_buttons: Vec<Button>,
}

fn err(e: impl std::fmt::Display) -> InjectError {
    InjectError::Inject(e.to_string())
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
            enigo,
            held_buttons: Vec::new(),
        })
    }

    fn pointer(&mut self, x: f64, y: f64) -> Result<(), InjectError> {
        let (w, h) = self.enigo.main_display().map_err(err)?;
        // Normalised 0..=1 onto pixel centres 0..=w-1: 1.0 is the last pixel, not past it.
        let px = (x * f64::from((w - 1).max(0))).round() as i32;
        let py = (y * f64::from((h - 1).max(0))).round() as i32;
        self.enigo.move_mouse(px, py, Coordinate::Abs).map_err(err)
    }

    fn button(&mut self, button: MouseButton, action: ButtonAction) -> Result<(), InjectError> {
        let b = match button {
            MouseButton::Left => Button::Left,
            MouseButton::Middle => Button::Middle,
            MouseButton::Right => Button::Right,
        };
        match action {
            ButtonAction::Press => {
                self.enigo.button(b, Direction::Press).map_err(err)?;
                if !self.held_buttons.contains(&b) {
                    self.held_buttons.push(b);
                }
            }
            ButtonAction::Release => {
                self.enigo.button(b, Direction::Release).map_err(err)?;
                self.held_buttons.retain(|h| *h != b);
            }
            ButtonAction::Click => self.enigo.button(b, Direction::Click).map_err(err)?,
            ButtonAction::Double => {
                self.enigo.button(b, Direction::Click).map_err(err)?;
                self.enigo.button(b, Direction::Click).map_err(err)?;
            }
        }
        Ok(())
    }

    /// Presses the modifiers, runs `press`, and lets the modifiers go whatever happened.
    fn with_modifiers(
        &mut self,
        mods: Modifiers,
        press: impl FnOnce(&mut Enigo) -> Result<(), InjectError>,
    ) -> Result<(), InjectError> {
        let held: Vec<Key> = [
            (mods.ctrl, Key::Control),
            (mods.alt, Key::Alt),
            (mods.shift, Key::Shift),
            (mods.meta, Key::Meta),
        ]
        .into_iter()
        .filter_map(|(on, k)| on.then_some(k))
        .collect();
        let mut result = Ok(());
        for m in &held {
            result = result.and(self.enigo.key(*m, Direction::Press).map_err(err));
        }
        if result.is_ok() {
            result = press(&mut self.enigo);
        }
        // Modifiers are let go even if the key failed: nothing may stay held.
        for m in held.iter().rev() {
            let _ = self.enigo.key(*m, Direction::Release);
        }
        result
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
            Some(code) if !on_a_key(ch) => self.with_modifiers(mods, |enigo| {
                enigo
                    .raw(u16::from(code.saturating_sub(8)), Direction::Click)
                    .map_err(err)
            }),
            _ => self.with_modifiers(mods, |enigo| {
                enigo.key(Key::Unicode(ch), Direction::Click).map_err(err)
            }),
        }
    }

    fn text(&mut self, grant: &Grant, text: &str) -> Result<(), InjectError> {
        let mut buf = [0u8; 4];
        for c in text.chars() {
            // A long text takes time to type: the resident's Stop must cut it short.
            if !grant.is_live() {
                break;
            }
            self.enigo.text(c.encode_utf8(&mut buf)).map_err(err)?;
            std::thread::sleep(TEXT_PACE);
        }
        Ok(())
    }
}

impl Injector for WindowsInjector {
    fn inject(&mut self, grant: &Grant, input: &ViewerMessage) -> Result<(), InjectError> {
        if !grant.is_live() {
            return Ok(());
        }
        match input {
            ViewerMessage::Pointer { x, y } => self.pointer(*x, *y),
            ViewerMessage::Button { button, action } => self.button(*button, *action),
            ViewerMessage::Wheel { dx, dy } => {
                if *dy != 0 {
                    self.enigo.scroll(*dy, Axis::Vertical).map_err(err)?;
                }
                if *dx != 0 {
                    self.enigo.scroll(*dx, Axis::Horizontal).map_err(err)?;
                }
                Ok(())
            }
            ViewerMessage::Key {
                code,
                key,
                down,
                mods,
            } => match interpret(code, key, *down, *mods) {
                KeyAction::Text(t) => self.text(grant, &t),
                KeyAction::Chord(k, m) => {
                    self.with_modifiers(m, |enigo| enigo.key(k, Direction::Click).map_err(err))
                }
                KeyAction::Shortcut {
                    ch,
                    x_keycode,
                    mods,
                } => self.shortcut(ch, x_keycode, mods),
                KeyAction::Nothing => Ok(()),
            },
            ViewerMessage::Text { text } => self.text(grant, text),
            ViewerMessage::Control { .. }
            | ViewerMessage::Highlight { .. }
            | ViewerMessage::LowData { .. }
            | ViewerMessage::SasNonce { .. }
            | ViewerMessage::Chat { .. }
            | ViewerMessage::ClipboardPut { .. }
            | ViewerMessage::ClipboardGet
            | ViewerMessage::ShowScreen { .. }
            | ViewerMessage::FileOffer(_)
            | ViewerMessage::FileAccept(_)
            | ViewerMessage::FileChunk(_)
            | ViewerMessage::FileAck(_)
            | ViewerMessage::FileEnd(_) => Ok(()),
        }
    }

    fn release_all(&mut self) -> Result<(), InjectError> {
        for b in std::mem::take(&mut self.held_buttons) {
            let _ = self.enigo.button(b, Direction::Release);
        }
        for k in [Key::Control, Key::Alt, Key::Shift, Key::Meta] {
            let _ = self.enigo.key(k, Direction::Release);
        }
        Ok(())
    }
}
