//! The physical keys (`KeyboardEvent.code`) the viewer may send. Anything else is refused
//! before it reaches the agent's injector.

/// Named keys that are not characters.
pub const NAMED: &[&str] = &[
    "Enter",
    "Tab",
    "Backspace",
    "Escape",
    "Space",
    "Delete",
    "Insert",
    "Home",
    "End",
    "PageUp",
    "PageDown",
    "ArrowUp",
    "ArrowDown",
    "ArrowLeft",
    "ArrowRight",
    "CapsLock",
    "ShiftLeft",
    "ShiftRight",
    "ControlLeft",
    "ControlRight",
    "AltLeft",
    "AltRight",
    "MetaLeft",
    "MetaRight",
    "ContextMenu",
    "F1",
    "F2",
    "F3",
    "F4",
    "F5",
    "F6",
    "F7",
    "F8",
    "F9",
    "F10",
    "F11",
    "F12",
    "NumpadEnter",
];

/// Character keys by position (US names, as browsers report them on every layout).
pub const CHARACTER: &[&str] = &[
    "Backquote",
    "Minus",
    "Equal",
    "BracketLeft",
    "BracketRight",
    "Backslash",
    "Semicolon",
    "Quote",
    "Comma",
    "Period",
    "Slash",
    "IntlBackslash",
    "NumpadAdd",
    "NumpadSubtract",
    "NumpadMultiply",
    "NumpadDivide",
    "NumpadDecimal",
];

/// Whether `code` is a key the viewer may send.
pub fn is_known_code(code: &str) -> bool {
    if NAMED.contains(&code) || CHARACTER.contains(&code) {
        return true;
    }
    let one_of = |prefix: &str, range: std::ops::RangeInclusive<char>| {
        code.strip_prefix(prefix)
            .is_some_and(|rest| rest.len() == 1 && rest.chars().all(|c| range.contains(&c)))
    };
    one_of("Key", 'A'..='Z') || one_of("Digit", '0'..='9') || one_of("Numpad", '0'..='9')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown() {
        for ok in [
            "KeyA",
            "KeyZ",
            "Digit0",
            "Numpad9",
            "Enter",
            "ArrowLeft",
            "F12",
            "Quote",
        ] {
            assert!(is_known_code(ok), "{ok}");
        }
        for bad in [
            "", "Key", "KeyAA", "Keya", "Digit10", "F13", "Power", "KeyÉ",
        ] {
            assert!(!is_known_code(bad), "{bad}");
        }
    }
}
