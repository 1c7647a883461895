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
    /// Nothing to do (modifier alone, dead key, key-up, caps lock).
    Nothing,
}

/// Interprets a key message (`code` and `key` as the browser reported them).
pub fn interpret(code: &str, key: &str, down: bool, mods: Modifiers) -> KeyAction {
    if !down {
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
        return KeyAction::Chord(Key::Unicode(lower), mods);
    }
    KeyAction::Text(c.to_string())
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
            KeyAction::Chord(Key::Unicode('a'), ctrl())
        );
        let shift_ctrl = Modifiers {
            shift: true,
            ..ctrl()
        };
        assert_eq!(
            interpret("KeyT", "T", true, shift_ctrl),
            KeyAction::Chord(Key::Unicode('t'), shift_ctrl)
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
