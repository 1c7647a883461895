//! What both platforms' injectors do the same way through enigo: which message does what
//! ([`inject`]), mouse buttons held across a drag, the wheel, modifiers pressed around a
//! key and always let go, and letting go of everything when control ends. Pointer moves,
//! text and shortcuts differ per platform ([`Devices`], in `platform/x11/input.rs` and
//! `platform/windows/input.rs`).

use acote_proto::channel::{ButtonAction, Modifiers, MouseButton, ViewerMessage};
use enigo::{Axis, Button, Direction, Enigo, Key, Keyboard, Mouse};

use super::consent::Grant;
use super::inject::InjectError;
use super::keys::{KeyAction, interpret};

/// An enigo error as an injection error.
pub(crate) fn err(e: impl std::fmt::Display) -> InjectError {
    InjectError::Inject(e.to_string())
}

/// An enigo and the buttons it holds down.
pub(crate) struct Hands {
    /// The platform's enigo (X11 replaces it when the keyboard layout changes).
    pub(crate) enigo: Enigo,
    /// Buttons pressed and not yet released (drags).
    held_buttons: Vec<Button>,
}

impl Hands {
    /// Nothing held yet.
    pub(crate) fn new(enigo: Enigo) -> Self {
        Self {
            enigo,
            held_buttons: Vec::new(),
        }
    }

    /// Presses, releases, clicks or double-clicks a button, remembering what stays down.
    pub(crate) fn button(
        &mut self,
        button: MouseButton,
        action: ButtonAction,
    ) -> Result<(), InjectError> {
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

    /// Scrolls by whole notches, vertically then horizontally.
    pub(crate) fn wheel(&mut self, dx: i32, dy: i32) -> Result<(), InjectError> {
        if dy != 0 {
            self.enigo.scroll(dy, Axis::Vertical).map_err(err)?;
        }
        if dx != 0 {
            self.enigo.scroll(dx, Axis::Horizontal).map_err(err)?;
        }
        Ok(())
    }

    /// Presses the modifiers, runs `press`, and lets the modifiers go whatever happened.
    pub(crate) fn with_modifiers(
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

    /// Lets go of every held button and every modifier (best effort: each is tried).
    pub(crate) fn release_all(&mut self) {
        for b in std::mem::take(&mut self.held_buttons) {
            let _ = self.enigo.button(b, Direction::Release);
        }
        for k in [Key::Control, Key::Alt, Key::Shift, Key::Meta] {
            let _ = self.enigo.key(k, Direction::Release);
        }
    }
}

/// What differs per platform in an injector; the rest is [`inject`].
pub(crate) trait Devices {
    /// The enigo and its held buttons.
    fn hands(&mut self) -> &mut Hands;
    /// Moves the pointer to (x, y), each 0..=1 of the whole desktop.
    fn pointer(&mut self, x: f64, y: f64) -> Result<(), InjectError>;
    /// Types `text`, stopping as soon as the grant dies.
    fn text(&mut self, grant: &Grant, text: &str) -> Result<(), InjectError>;
    /// Presses `key` with `mods` held.
    fn chord(&mut self, key: Key, mods: Modifiers) -> Result<(), InjectError>;
    /// A character shortcut (see [`KeyAction::Shortcut`]).
    fn shortcut(
        &mut self,
        ch: char,
        x_keycode: Option<u8>,
        mods: Modifiers,
    ) -> Result<(), InjectError>;
    /// Called before any keyboard input (X11 follows a layout change here).
    fn before_keys(&mut self) -> Result<(), InjectError> {
        Ok(())
    }
}

/// Injects one message from the caseworker through a platform's devices, while `grant`
/// lives; messages that are not input do nothing here.
pub(crate) fn inject(
    devices: &mut impl Devices,
    grant: &Grant,
    input: &ViewerMessage,
) -> Result<(), InjectError> {
    if !grant.is_live() {
        return Ok(());
    }
    match input {
        ViewerMessage::Pointer { x, y } => devices.pointer(*x, *y),
        ViewerMessage::Button { button, action } => devices.hands().button(*button, *action),
        ViewerMessage::Wheel { dx, dy } => devices.hands().wheel(*dx, *dy),
        ViewerMessage::Key {
            code,
            key,
            down,
            mods,
        } => match interpret(code, key, *down, *mods) {
            KeyAction::Nothing => Ok(()),
            KeyAction::Text(t) => {
                devices.before_keys()?;
                devices.text(grant, &t)
            }
            KeyAction::Chord(k, m) => {
                devices.before_keys()?;
                devices.chord(k, m)
            }
            KeyAction::Shortcut {
                ch,
                x_keycode,
                mods,
            } => {
                devices.before_keys()?;
                devices.shortcut(ch, x_keycode, mods)
            }
        },
        ViewerMessage::Text { text } => {
            devices.before_keys()?;
            devices.text(grant, text)
        }
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
        | ViewerMessage::FileEnd(_)
        | ViewerMessage::Voice { .. } => Ok(()),
    }
}
