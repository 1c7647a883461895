//! Messages on the `acote` WebRTC data channel (DESIGN §4): input from the viewer,
//! control requests, the "look here" highlight, and the agent's replies.
//!
//! One JSON object per message, tagged by `"type"`. [`ViewerMessage::parse`] validates
//! everything before anything acts on it — coordinates in 0..=1, wheel steps bounded,
//! text at most [`MAX_TEXT_BYTES`] without control characters other than tab and newline,
//! keys from a known list — so the agent's injector only ever sees sane input.

use serde::{Deserialize, Serialize};

/// Largest data-channel message accepted, in bytes.
pub const MAX_CHANNEL_MESSAGE_BYTES: usize = 16 * 1024;

/// Longest text the caseworker may send to type in one message, in bytes.
pub const MAX_TEXT_BYTES: usize = 4 * 1024;

/// Most wheel steps in one message, per axis.
pub const MAX_WHEEL_STEPS: i32 = 20;

/// A mouse button.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MouseButton {
    /// Primary.
    Left,
    /// Wheel button.
    Middle,
    /// Secondary (context menu).
    Right,
}

/// What happens to a button.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ButtonAction {
    /// Pressed (a drag starts with this and a pointer move).
    Press,
    /// Released.
    Release,
    /// Pressed and released.
    Click,
    /// Two clicks.
    Double,
}

/// Modifier keys held with a key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Modifiers {
    /// Control.
    pub ctrl: bool,
    /// Alt.
    pub alt: bool,
    /// Shift.
    pub shift: bool,
    /// Windows / Command.
    pub meta: bool,
}

/// What the caseworker wants to do about control.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ControlAction {
    /// Ask the resident for control.
    Request,
    /// Give control back (or withdraw the request).
    Release,
}

/// Viewer → agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ViewerMessage {
    /// Move the pointer to (x, y), each 0..=1 of the shared screen.
    Pointer {
        /// Horizontal position, 0 = left edge.
        x: f64,
        /// Vertical position, 0 = top edge.
        y: f64,
    },
    /// A button, at the current pointer position.
    Button {
        /// Which button.
        button: MouseButton,
        /// What happens to it.
        action: ButtonAction,
    },
    /// Wheel steps (notches), positive = down / right.
    Wheel {
        /// Horizontal steps.
        #[serde(default)]
        dx: i32,
        /// Vertical steps.
        #[serde(default)]
        dy: i32,
    },
    /// A key pressed or released, as the browser names it: `code` is the physical key
    /// (`KeyA`, `Enter`), `key` the logical value (`a`, `é`, `Enter`).
    Key {
        /// Physical key (KeyboardEvent.code).
        code: String,
        /// Logical key (KeyboardEvent.key).
        key: String,
        /// True on press, false on release.
        down: bool,
        /// Modifiers held.
        #[serde(default)]
        mods: Modifiers,
    },
    /// Text to type as is (input events, paste, the text box).
    Text {
        /// The text.
        text: String,
    },
    /// Ask for, or give back, control.
    Control {
        /// Which.
        action: ControlAction,
    },
    /// "Look here": show a marker on the resident's screen, without any control.
    Highlight {
        /// Horizontal position, 0..=1.
        x: f64,
        /// Vertical position, 0..=1.
        y: f64,
    },
    /// Low data on or off: a low bitrate and frame rate cap for poor links. Needs no
    /// control: it only lowers what the agent sends.
    LowData {
        /// True to cap, false for the normal rate.
        on: bool,
    },
    /// The viewer's nonce for the security code, sent once the agent's `sas_commit`
    /// came (see [`crate::sas`]).
    SasNonce {
        /// 32 random bytes, 64 lowercase hex digits.
        n: String,
    },
}

/// The state of control, as the agent reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ControlState {
    /// Watching only.
    Viewing,
    /// The resident is being asked.
    Asking,
    /// The caseworker controls the mouse and keyboard.
    Controlling,
    /// The resident said no.
    Refused,
    /// The resident did not answer in time.
    NoAnswer,
    /// The resident took control back.
    TakenBack,
    /// A state sent by a newer agent.
    #[serde(other)]
    Other,
}

/// Why an input message was not used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputRefusal {
    /// The caseworker does not have control.
    NotInControl,
    /// The message was invalid.
    Invalid,
    /// Too many messages; some were dropped.
    TooMany,
    /// A reason sent by a newer agent.
    #[serde(other)]
    Other,
}

/// Agent → viewer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AgentMessage {
    /// Control changed state.
    Control {
        /// The new state.
        state: ControlState,
    },
    /// Input was refused (sent at most about once a second, with a count).
    Refused {
        /// Why.
        reason: InputRefusal,
        /// How many messages since the last notice.
        count: u64,
        /// Detail for the caseworker (never the refused content itself).
        #[serde(default, skip_serializing_if = "String::is_empty")]
        detail: String,
    },
    /// Bytes the session has sent so far (the resident sees the same figure).
    DataSent {
        /// Total bytes on the wire since the screen was first shown.
        bytes: u64,
    },
    /// The agent's commitment to its security-code nonce, sent as soon as the channel
    /// opens (see [`crate::sas`]).
    SasCommit {
        /// SHA-256 of the agent's nonce, 64 lowercase hex digits.
        c: String,
    },
    /// The agent's nonce, revealed once the viewer's nonce came.
    SasReveal {
        /// 32 random bytes, 64 lowercase hex digits.
        n: String,
    },
}

/// Why a data-channel message was refused before use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChannelError {
    /// Over [`MAX_CHANNEL_MESSAGE_BYTES`].
    #[error("message of {0} bytes is over the limit")]
    TooLarge(usize),
    /// Not a known message of the right shape.
    #[error("malformed message: {0}")]
    Malformed(String),
    /// A coordinate outside 0..=1, or not a number.
    #[error("coordinates must be within 0..1")]
    OutOfRange,
    /// Wheel steps over the limit.
    #[error("at most {MAX_WHEEL_STEPS} wheel steps per message")]
    TooManySteps,
    /// Text too long or with control characters.
    #[error("text must be at most {MAX_TEXT_BYTES} bytes, without control characters")]
    BadText,
    /// A key this agent does not know.
    #[error("unknown key {0:?}")]
    UnknownKey(String),
    /// A security-code nonce or commitment that is not 64 lowercase hex digits.
    #[error("a security-code nonce or commitment is 64 lowercase hex digits")]
    BadHex,
}

impl ViewerMessage {
    /// Parses and validates one message from the viewer.
    pub fn parse(text: &str) -> Result<Self, ChannelError> {
        if text.len() > MAX_CHANNEL_MESSAGE_BYTES {
            return Err(ChannelError::TooLarge(text.len()));
        }
        let msg: ViewerMessage =
            serde_json::from_str(text).map_err(|e| ChannelError::Malformed(e.to_string()))?;
        msg.validate()?;
        Ok(msg)
    }

    /// Checks ranges, lengths and key names.
    pub fn validate(&self) -> Result<(), ChannelError> {
        match self {
            ViewerMessage::Pointer { x, y } | ViewerMessage::Highlight { x, y } => {
                if unit(*x) && unit(*y) {
                    Ok(())
                } else {
                    Err(ChannelError::OutOfRange)
                }
            }
            ViewerMessage::Wheel { dx, dy } => {
                if dx.abs() <= MAX_WHEEL_STEPS && dy.abs() <= MAX_WHEEL_STEPS {
                    Ok(())
                } else {
                    Err(ChannelError::TooManySteps)
                }
            }
            ViewerMessage::Text { text } => {
                let ok = !text.is_empty()
                    && text.len() <= MAX_TEXT_BYTES
                    && text
                        .chars()
                        .all(|c| !c.is_control() || c == '\n' || c == '\t');
                if ok {
                    Ok(())
                } else {
                    Err(ChannelError::BadText)
                }
            }
            ViewerMessage::Key { code, key, .. } => {
                if !crate::keys::is_known_code(code) {
                    return Err(ChannelError::UnknownKey(code.chars().take(24).collect()));
                }
                // The logical key is one character or a short named key ("Enter").
                if key.is_empty() || key.len() > 24 || key.chars().any(char::is_control) {
                    return Err(ChannelError::UnknownKey(key.chars().take(24).collect()));
                }
                Ok(())
            }
            ViewerMessage::SasNonce { n } => hex_field(n),
            ViewerMessage::Button { .. }
            | ViewerMessage::Control { .. }
            | ViewerMessage::LowData { .. } => Ok(()),
        }
    }

    /// Whether this message acts on the resident's input devices (needs control).
    pub fn is_input(&self) -> bool {
        matches!(
            self,
            ViewerMessage::Pointer { .. }
                | ViewerMessage::Button { .. }
                | ViewerMessage::Wheel { .. }
                | ViewerMessage::Key { .. }
                | ViewerMessage::Text { .. }
        )
    }

    /// The message's type, for counters and logs (never its content).
    pub fn kind(&self) -> &'static str {
        match self {
            ViewerMessage::Pointer { .. } => "pointer",
            ViewerMessage::Button { .. } => "button",
            ViewerMessage::Wheel { .. } => "wheel",
            ViewerMessage::Key { .. } => "key",
            ViewerMessage::Text { .. } => "text",
            ViewerMessage::Control { .. } => "control",
            ViewerMessage::Highlight { .. } => "highlight",
            ViewerMessage::LowData { .. } => "low_data",
            ViewerMessage::SasNonce { .. } => "sas_nonce",
        }
    }
}

impl AgentMessage {
    /// Parses and validates one message from the agent (the viewer's side; the browser
    /// checks the same in `viewer/src/channel.js` and `viewer/src/sas.js`).
    pub fn parse(text: &str) -> Result<Self, ChannelError> {
        if text.len() > MAX_CHANNEL_MESSAGE_BYTES {
            return Err(ChannelError::TooLarge(text.len()));
        }
        let msg: AgentMessage =
            serde_json::from_str(text).map_err(|e| ChannelError::Malformed(e.to_string()))?;
        match &msg {
            AgentMessage::SasCommit { c: hex } | AgentMessage::SasReveal { n: hex } => {
                hex_field(hex)?
            }
            AgentMessage::Control { .. }
            | AgentMessage::Refused { .. }
            | AgentMessage::DataSent { .. } => {}
        }
        Ok(msg)
    }

    /// Serialises for the channel.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self)
            .unwrap_or_else(|_| r#"{"type":"refused","reason":"other","count":0}"#.into())
    }
}

fn hex_field(text: &str) -> Result<(), ChannelError> {
    if crate::sas::is_wire_hex(text) {
        Ok(())
    } else {
        Err(ChannelError::BadHex)
    }
}

fn unit(v: f64) -> bool {
    v.is_finite() && (0.0..=1.0).contains(&v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_messages_parse() {
        let cases = [
            r#"{"type":"pointer","x":0.5,"y":1}"#,
            r#"{"type":"button","button":"left","action":"double"}"#,
            r#"{"type":"wheel","dy":-3}"#,
            r#"{"type":"key","code":"KeyA","key":"q","down":true,"mods":{"ctrl":true}}"#,
            r#"{"type":"key","code":"Enter","key":"Enter","down":false}"#,
            r#"{"type":"text","text":"État civil, Île-de-France\n"}"#,
            r#"{"type":"control","action":"request"}"#,
            r#"{"type":"highlight","x":0,"y":0}"#,
            r#"{"type":"low_data","on":true}"#,
            r#"{"type":"sas_nonce","n":"4444444444444444444444444444444444444444444444444444444444444444"}"#,
        ];
        for c in cases {
            assert!(ViewerMessage::parse(c).is_ok(), "{c}");
        }
    }

    #[test]
    fn invalid_messages_are_refused_with_a_reason() {
        let cases: &[(&str, ChannelError)] = &[
            (
                r#"{"type":"pointer","x":1.5,"y":0}"#,
                ChannelError::OutOfRange,
            ),
            (
                r#"{"type":"pointer","x":-0.1,"y":0}"#,
                ChannelError::OutOfRange,
            ),
            (
                r#"{"type":"highlight","x":0.2,"y":2}"#,
                ChannelError::OutOfRange,
            ),
            (r#"{"type":"wheel","dy":1000}"#, ChannelError::TooManySteps),
            (r#"{"type":"text","text":""}"#, ChannelError::BadText),
            (
                r#"{"type":"text","text":"a\u0000b"}"#,
                ChannelError::BadText,
            ),
            (
                r#"{"type":"text","text":"\u001b[2J"}"#,
                ChannelError::BadText,
            ),
            (
                r#"{"type":"key","code":"Teleport","key":"x","down":true}"#,
                ChannelError::UnknownKey("Teleport".into()),
            ),
        ];
        for (text, want) in cases {
            assert_eq!(&ViewerMessage::parse(text).unwrap_err(), want, "{text}");
        }
        let long = format!(
            r#"{{"type":"text","text":"{}"}}"#,
            "é".repeat(MAX_TEXT_BYTES)
        );
        assert_eq!(
            ViewerMessage::parse(&long).unwrap_err(),
            ChannelError::BadText
        );
        let huge = "x".repeat(MAX_CHANNEL_MESSAGE_BYTES + 1);
        assert!(matches!(
            ViewerMessage::parse(&huge),
            Err(ChannelError::TooLarge(_))
        ));
        for bad in [
            "",
            "{",
            r#"{"type":"pointer"}"#,
            r#"{"type":"nope"}"#,
            r#"{"type":"pointer","x":"1","y":0}"#,
            r#"{"type":"low_data"}"#,
            r#"{"type":"low_data","on":"yes"}"#,
            r#"{"type":"low_data","on":1}"#,
        ] {
            assert!(
                matches!(ViewerMessage::parse(bad), Err(ChannelError::Malformed(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn low_data_is_not_input() {
        let on = ViewerMessage::parse(r#"{"type":"low_data","on":true}"#).unwrap();
        assert_eq!(on, ViewerMessage::LowData { on: true });
        assert!(!on.is_input(), "allowed without control");
        assert_eq!(on.kind(), "low_data");
        let off = ViewerMessage::parse(r#"{"type":"low_data","on":false,"extra":1}"#).unwrap();
        assert_eq!(off, ViewerMessage::LowData { on: false });
    }

    #[test]
    fn non_finite_numbers_never_pass() {
        // JSON has no NaN, but a struct built in code could carry one.
        let m = ViewerMessage::Pointer {
            x: f64::NAN,
            y: 0.5,
        };
        assert_eq!(m.validate(), Err(ChannelError::OutOfRange));
    }

    #[test]
    fn security_code_messages_need_64_lowercase_hex_digits() {
        let good = "0123456789abcdef".repeat(4);
        let nonce = format!(r#"{{"type":"sas_nonce","n":"{good}"}}"#);
        let parsed = ViewerMessage::parse(&nonce).unwrap();
        assert!(!parsed.is_input(), "needs no control");
        assert_eq!(parsed.kind(), "sas_nonce");
        for msg in [
            AgentMessage::SasCommit { c: good.clone() },
            AgentMessage::SasReveal { n: good.clone() },
        ] {
            assert_eq!(AgentMessage::parse(&msg.to_json()).unwrap(), msg);
        }
        let bad = [
            good.to_uppercase(),
            good[..62].to_string(),
            format!("{good}00"),
            format!("{}g", &good[..63]),
            format!("{}é", &good[..62]),
            String::new(),
        ];
        for b in &bad {
            let v = format!(r#"{{"type":"sas_nonce","n":"{b}"}}"#);
            assert_eq!(ViewerMessage::parse(&v), Err(ChannelError::BadHex), "{b}");
            for t in ["sas_commit\",\"c", "sas_reveal\",\"n"] {
                let a = format!(r#"{{"type":"{t}":"{b}"}}"#);
                assert_eq!(AgentMessage::parse(&a), Err(ChannelError::BadHex), "{a}");
            }
        }
        for malformed in [r#"{"type":"sas_nonce"}"#, r#"{"type":"sas_nonce","n":7}"#] {
            let r = ViewerMessage::parse(malformed);
            assert!(matches!(r, Err(ChannelError::Malformed(_))), "{malformed}");
        }
        let r = AgentMessage::parse(r#"{"type":"sas_commit","n":"00"}"#);
        assert!(matches!(r, Err(ChannelError::Malformed(_))));
    }

    #[test]
    fn agent_messages_round_trip() {
        let m = AgentMessage::Refused {
            reason: InputRefusal::NotInControl,
            count: 3,
            detail: String::new(),
        };
        let json = m.to_json();
        assert_eq!(serde_json::from_str::<AgentMessage>(&json).unwrap(), m);
        assert_eq!(
            AgentMessage::Control {
                state: ControlState::TakenBack
            }
            .to_json(),
            r#"{"type":"control","state":"taken_back"}"#
        );
        assert_eq!(
            AgentMessage::DataSent { bytes: 2_400_000 }.to_json(),
            r#"{"type":"data_sent","bytes":2400000}"#
        );
    }
}
