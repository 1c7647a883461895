//! What a key message from the viewer means on the resident's side.
//!
//! Printable characters are typed as text (Unicode, whatever the resident's layout), so
//! "é" from a caseworker on AZERTY arrives as "é" on a US keyboard. Shortcuts (a character
//! with Ctrl, Alt or Meta) press the key that produces that character in the resident's
//! layout, so Ctrl+A selects all on AZERTY too. Named keys (Enter, Tab, arrows…) are sent
//! as those keys.

use acote_proto::channel::Modifiers;
use enigo::Key;

/// The action one key-down message stands for.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyAction {
    /// Type this text.
    Text(String),
    /// Press this key with these modifiers, then release all.
    Chord(Key, Modifiers),
    /// A character shortcut (Ctrl+A): the key that types `ch` in the resident's layout,
    /// or, where no key does (Arabic, Cyrillic layouts), the key at the same place as
    /// the caseworker's (`x_keycode`), as applications there expect.
    Shortcut {
        /// The character, lower case.
        ch: char,
        /// The X keycode of the caseworker's physical key, when it is a known one.
        x_keycode: Option<u8>,
        /// Modifiers held.
        mods: Modifiers,
    },
    /// Nothing to do (modifier alone, dead key, key-up, caps lock).
    Nothing,
}

/// Interprets a key message (`code` and `key` as the browser reported them).
pub fn interpret(code: &str, key: &str, down: bool, mods: Modifiers) -> KeyAction {
    if !down {
        return KeyAction::Nothing;
    }
    if is_system_chord(code, mods) {
        // Counted by key name only: a chord is not typed content.
        tracing::info!(code, "refused a system chord from the caseworker");
        return KeyAction::Nothing;
    }
    if let Some(named) = named(code) {
        // A bare Space is just text; with modifiers it is a chord.
        if code == "Space" && !(mods.ctrl || mods.alt || mods.meta) {
            return KeyAction::Text(" ".into());
        }
        return KeyAction::Chord(named, mods);
    }
    let mut chars = key.chars();
    let (Some(c), None) = (chars.next(), chars.next()) else {
        // "Shift", "Dead", "Unidentified", "CapsLock"…: nothing to type.
        return KeyAction::Nothing;
    };
    // Ctrl+Alt together is how Windows reports AltGr: "@" from AltGr+0 is text.
    let altgr = mods.ctrl && mods.alt && !c.is_ascii_alphanumeric();
    if (mods.ctrl || mods.alt || mods.meta) && !altgr {
        let lower = c.to_lowercase().next().unwrap_or(c);
        return KeyAction::Shortcut {
            ch: lower,
            x_keycode: x_keycode(code),
            mods,
        };
    }
    KeyAction::Text(c.to_string())
}

/// Chords that act on the whole PC rather than the procedure on screen, never pressed
/// for the caseworker even with control (issue 16): Ctrl+Alt+Delete (the secure attention
/// sequence), Ctrl+Alt+Backspace (kills the X server where enabled), Ctrl+Alt+F1–F12
/// (switches the virtual console away from the resident's session), and every chord with
/// the Super/Windows key (lock, run dialog, settings, desktop switching).
pub fn is_system_chord(code: &str, mods: Modifiers) -> bool {
    let ctrl_alt = mods.ctrl && mods.alt;
    let function_key = code
        .strip_prefix('F')
        .and_then(|n| n.parse::<u8>().ok())
        .is_some_and(|n| (1..=12).contains(&n));
    mods.meta
        || code.starts_with("Meta")
        || (ctrl_alt && (code == "Delete" || code == "Backspace" || function_key))
}

/// The X keycode (Linux evdev code + 8) of a character key, by its position.
pub fn x_keycode(code: &str) -> Option<u8> {
    const LETTERS: &[(char, u8)] = &[
        ('Q', 16),
        ('W', 17),
        ('E', 18),
        ('R', 19),
        ('T', 20),
        ('Y', 21),
        ('U', 22),
        ('I', 23),
        ('O', 24),
        ('P', 25),
        ('A', 30),
        ('S', 31),
        ('D', 32),
        ('F', 33),
        ('G', 34),
        ('H', 35),
        ('J', 36),
        ('K', 37),
        ('L', 38),
        ('Z', 44),
        ('X', 45),
        ('C', 46),
        ('V', 47),
        ('B', 48),
        ('N', 49),
        ('M', 50),
    ];
    let evdev = if let Some(letter) = code.strip_prefix("Key") {
        let mut chars = letter.chars();
        let (Some(l), None) = (chars.next(), chars.next()) else {
            return None;
        };
        LETTERS.iter().find(|(c, _)| *c == l)?.1
    } else if let Some(digit) = code.strip_prefix("Digit") {
        match digit.parse::<u8>().ok()? {
            0 => 11,
            d @ 1..=9 => d + 1,
            _ => return None,
        }
    } else {
        match code {
            "Minus" => 12,
            "Equal" => 13,
            "BracketLeft" => 26,
            "BracketRight" => 27,
            "Semicolon" => 39,
            "Quote" => 40,
            "Backquote" => 41,
            "Backslash" => 43,
            "Comma" => 51,
            "Period" => 52,
            "Slash" => 53,
            "IntlBackslash" => 86,
            _ => return None,
        }
    };
    Some(evdev + 8)
}

fn named(code: &str) -> Option<Key> {
    Some(match code {
        "Enter" | "NumpadEnter" => Key::Return,
        "Tab" => Key::Tab,
        "Backspace" => Key::Backspace,
        "Escape" => Key::Escape,
        "Space" => Key::Space,
        "Delete" => Key::Delete,
        "Insert" => Key::Insert,
        "Home" => Key::Home,
        "End" => Key::End,
        "PageUp" => Key::PageUp,
        "PageDown" => Key::PageDown,
        "ArrowUp" => Key::UpArrow,
        "ArrowDown" => Key::DownArrow,
        "ArrowLeft" => Key::LeftArrow,
        "ArrowRight" => Key::RightArrow,
        "ContextMenu" => Key::LMenu,
        "F1" => Key::F1,
        "F2" => Key::F2,
        "F3" => Key::F3,
        "F4" => Key::F4,
        "F5" => Key::F5,
        "F6" => Key::F6,
        "F7" => Key::F7,
        "F8" => Key::F8,
        "F9" => Key::F9,
        "F10" => Key::F10,
        "F11" => Key::F11,
        "F12" => Key::F12,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctrl() -> Modifiers {
        Modifiers {
            ctrl: true,
            ..Modifiers::default()
        }
    }

    #[test]
    fn characters_are_text_shortcuts_are_chords() {
        assert_eq!(
            interpret("KeyQ", "a", true, Modifiers::default()),
            KeyAction::Text("a".into())
        );
        assert_eq!(
            interpret("Digit2", "é", true, Modifiers::default()),
            KeyAction::Text("é".into())
        );
        assert_eq!(
            interpret("KeyA", "a", true, ctrl()),
            KeyAction::Shortcut {
                ch: 'a',
                x_keycode: Some(38),
                mods: ctrl()
            }
        );
        let shift_ctrl = Modifiers {
            shift: true,
            ..ctrl()
        };
        assert_eq!(
            interpret("KeyT", "T", true, shift_ctrl),
            KeyAction::Shortcut {
                ch: 't',
                x_keycode: Some(28),
                mods: shift_ctrl
            }
        );
        let altgr = Modifiers {
            ctrl: true,
            alt: true,
            ..Modifiers::default()
        };
        assert_eq!(
            interpret("Digit0", "@", true, altgr),
            KeyAction::Text("@".into())
        );
    }

    #[test]
    fn issue16_system_chords_are_refused_even_with_control() {
        let ctrl_alt = Modifiers {
            ctrl: true,
            alt: true,
            ..Modifiers::default()
        };
        let meta = Modifiers {
            meta: true,
            ..Modifiers::default()
        };
        for (code, key, mods) in [
            ("Delete", "Delete", ctrl_alt),
            ("Backspace", "Backspace", ctrl_alt),
            ("F1", "F1", ctrl_alt),
            ("F7", "F7", ctrl_alt),
            ("F12", "F12", ctrl_alt),
            ("KeyL", "l", meta),
            ("KeyR", "r", meta),
            ("Tab", "Tab", meta),
            ("MetaLeft", "Meta", Modifiers::default()),
            ("MetaRight", "Meta", Modifiers::default()),
        ] {
            assert_eq!(
                interpret(code, key, true, mods),
                KeyAction::Nothing,
                "{code} with {mods:?}"
            );
        }
        // What a procedure needs stays: Delete, Ctrl+Delete, Alt+F4, F5, AltGr characters.
        let ctrl = ctrl();
        let alt = Modifiers {
            alt: true,
            ..Modifiers::default()
        };
        assert_eq!(
            interpret("Delete", "Delete", true, Modifiers::default()),
            KeyAction::Chord(Key::Delete, Modifiers::default())
        );
        assert_eq!(
            interpret("Delete", "Delete", true, ctrl),
            KeyAction::Chord(Key::Delete, ctrl)
        );
        assert_eq!(
            interpret("F4", "F4", true, alt),
            KeyAction::Chord(Key::F4, alt)
        );
        assert_eq!(
            interpret("F5", "F5", true, Modifiers::default()),
            KeyAction::Chord(Key::F5, Modifiers::default())
        );
        assert_eq!(
            interpret("KeyE", "€", true, ctrl_alt),
            KeyAction::Text("€".into())
        );
    }

    #[test]
    fn physical_positions() {
        assert_eq!(x_keycode("KeyQ"), Some(24));
        assert_eq!(x_keycode("KeyA"), Some(38));
        assert_eq!(x_keycode("Digit1"), Some(10));
        assert_eq!(x_keycode("Digit0"), Some(19));
        assert_eq!(x_keycode("Slash"), Some(61));
        assert_eq!(x_keycode("Enter"), None);
        assert_eq!(x_keycode("KeyAB"), None);
    }

    #[test]
    fn named_keys_and_nothing() {
        assert_eq!(
            interpret("Enter", "Enter", true, Modifiers::default()),
            KeyAction::Chord(Key::Return, Modifiers::default())
        );
        let alt = Modifiers {
            alt: true,
            ..Modifiers::default()
        };
        assert_eq!(
            interpret("Tab", "Tab", true, alt),
            KeyAction::Chord(Key::Tab, alt)
        );
        assert_eq!(
            interpret("Space", " ", true, Modifiers::default()),
            KeyAction::Text(" ".into())
        );
        assert_eq!(
            interpret("KeyA", "a", false, Modifiers::default()),
            KeyAction::Nothing
        );
        assert_eq!(
            interpret("ShiftLeft", "Shift", true, Modifiers::default()),
            KeyAction::Nothing
        );
        assert_eq!(
            interpret("BracketLeft", "Dead", true, Modifiers::default()),
            KeyAction::Nothing
        );
        assert_eq!(
            interpret("CapsLock", "CapsLock", true, Modifiers::default()),
            KeyAction::Nothing
        );
    }
}
