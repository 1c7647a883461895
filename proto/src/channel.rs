//! Messages on the `acote` WebRTC data channel (DESIGN §4): input from the viewer,
//! control requests, the "look here" highlight, and the agent's replies.
//!
//! One JSON object per message, tagged by `"type"`. [`ViewerMessage::parse`] validates
//! everything before anything acts on it — coordinates in 0..=1, wheel steps bounded,
//! text at most [`MAX_TEXT_BYTES`] without control characters other than tab and newline,
//! keys from a known list — so the agent's injector only ever sees sane input.

use serde::{Deserialize, Serialize};

use crate::files::{FileAccept, FileAck, FileChunk, FileEnd, FileOffer};

/// Largest data-channel message accepted, in bytes.
pub const MAX_CHANNEL_MESSAGE_BYTES: usize = 16 * 1024;

/// Longest text the caseworker may send to type in one message, in bytes.
pub const MAX_TEXT_BYTES: usize = 4 * 1024;

/// Longest chat message either way, in bytes (a few paragraphs: enough to explain a
/// step, short enough for the resident's window to show whole).
pub const MAX_CHAT_BYTES: usize = 2000;

/// Longest clipboard text either way, in bytes (a reference number, an address, a
/// paragraph; the data channel's message limit leaves room for JSON escapes).
pub const MAX_CLIPBOARD_BYTES: usize = 6 * 1024;

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
    /// A chat message from the caseworker, shown in the resident's window. Needs no
    /// control: it only shows words. See [`check_chat`].
    Chat {
        /// The message, plain text.
        text: String,
    },
    /// Put this text in the resident's clipboard (needs control). See [`check_clipboard`].
    ClipboardPut {
        /// The text.
        text: String,
    },
    /// Send the text of the resident's clipboard (needs control; the resident is told).
    ClipboardGet,
    /// Show one of the resident's monitors (by its `id` in [`AgentMessage::Screens`]),
    /// or all of them (`null`). Needs no control: it only narrows what is seen.
    ShowScreen {
        /// The monitor, or `None` for the whole desktop.
        id: Option<u32>,
    },
    /// A file on offer (see [`crate::files`]).
    FileOffer(FileOffer),
    /// Send the offered file from this offset.
    FileAccept(FileAccept),
    /// Bytes of an accepted file.
    FileChunk(FileChunk),
    /// Bytes of a file written so far.
    FileAck(FileAck),
    /// A transfer is over.
    FileEnd(FileEnd),
    /// Ask to talk through the computer, or hang up (see [`VoiceAction`]). Needs no
    /// control; the resident is asked apart for the microphone.
    Voice {
        /// Which.
        action: VoiceAction,
    },
}

/// What the caseworker does about the voice call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VoiceAction {
    /// Ask the resident to talk (a question of its own).
    Request,
    /// Hang up, or withdraw the request.
    Stop,
}

/// Where the voice call stands, as the agent tells the viewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VoiceState {
    /// The resident is being asked.
    Asking,
    /// The call is on: the resident's microphone and speaker are open.
    On,
    /// The resident said no.
    Refused,
    /// The resident did not answer in time.
    NoAnswer,
    /// The call ended (either side hung up, or the connection was interrupted).
    Off,
    /// This PC has no working microphone or speaker.
    Unavailable,
    /// A state named by a newer agent (taken for `off`).
    #[serde(other)]
    Other,
}

/// Most monitors described to the viewer.
pub const MAX_SCREENS: usize = 16;

/// One of the resident's monitors, as the viewer is told of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScreenInfo {
    /// Its index in the list, used to choose it.
    pub id: u32,
    /// The system's name for it (e.g. `HDMI-1`), at most 32 characters.
    pub name: String,
    /// Left edge on the whole desktop, in pixels.
    pub x: u32,
    /// Top edge on the whole desktop, in pixels.
    pub y: u32,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The system's main monitor.
    pub primary: bool,
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
    /// A chat message typed by the resident. See [`check_chat`].
    Chat {
        /// The message, plain text.
        text: String,
    },
    /// The text of the resident's clipboard, on `clipboard_get`.
    Clipboard {
        /// The text (see [`check_clipboard`]).
        text: String,
    },
    /// How a clipboard request ended, when no text comes back.
    ClipboardStatus {
        /// What happened.
        status: ClipboardStatus,
    },
    /// The resident's monitors and which one is shown: sent when the channel opens and
    /// whenever either changes.
    Screens {
        /// At most [`MAX_SCREENS`] monitors.
        screens: Vec<ScreenInfo>,
        /// The monitor shown, or `None` for the whole desktop.
        shown: Option<u32>,
    },
    /// A file on offer (see [`crate::files`]).
    FileOffer(FileOffer),
    /// Send the offered file from this offset.
    FileAccept(FileAccept),
    /// Bytes of an accepted file.
    FileChunk(FileChunk),
    /// Bytes of a file written so far.
    FileAck(FileAck),
    /// A transfer is over.
    FileEnd(FileEnd),
    /// Where the voice call stands.
    Voice {
        /// The call's state.
        state: VoiceState,
        /// The resident turned their microphone off (they still hear the caseworker).
        #[serde(default)]
        muted: bool,
    },
}

/// How a clipboard request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClipboardStatus {
    /// The text is in the resident's clipboard.
    Written,
    /// The resident's clipboard holds no text (nothing, or a picture or files).
    Empty,
    /// The clipboard's text is over [`MAX_CLIPBOARD_BYTES`]; nothing was sent.
    TooLong,
    /// The clipboard could not be reached.
    Unavailable,
    /// A status sent by a newer agent.
    #[serde(other)]
    Other,
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
    /// Clipboard text that is empty, too long, or has control characters.
    #[error("clipboard text has 1 to {MAX_CLIPBOARD_BYTES} bytes, without control characters")]
    BadClipboard,
    /// A file transfer message with a bad id, checksum or name.
    #[error("file transfer: {0}")]
    BadFile(#[from] crate::files::FileError),
    /// A chat message that is empty, too long, or has control characters.
    #[error("a chat message has 1 to {MAX_CHAT_BYTES} bytes, without control characters")]
    BadChat,
}

/// Checks a chat message either way: not blank, at most [`MAX_CHAT_BYTES`], no control
/// characters but newlines, and no bidirectional overrides or isolates (a message must
/// not reorder the words around it in the resident's window).
pub fn check_chat(text: &str) -> Result<(), ChannelError> {
    let ok = !text.trim().is_empty()
        && text.len() <= MAX_CHAT_BYTES
        && text
            .chars()
            .all(|c| (!c.is_control() || c == '\n') && !is_bidi_control(c));
    if ok {
        Ok(())
    } else {
        Err(ChannelError::BadChat)
    }
}

/// Checks clipboard text either way: not empty, at most [`MAX_CLIPBOARD_BYTES`], no
/// control characters but tab and line ends (a clipboard from Windows holds `\r\n`).
pub fn check_clipboard(text: &str) -> Result<(), ChannelError> {
    let ok = !text.is_empty()
        && text.len() <= MAX_CLIPBOARD_BYTES
        && text
            .chars()
            .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'));
    if ok {
        Ok(())
    } else {
        Err(ChannelError::BadClipboard)
    }
}

/// What [`check_chat`] would refuse, removed from typed text (a keyboard may add
/// isolates, a paste may bring `\r\n`); trimmed. Length is not touched.
pub fn clean_chat(text: &str) -> String {
    text.chars()
        .filter(|&c| (!c.is_control() || c == '\n') && !is_bidi_control(c))
        .collect::<String>()
        .trim()
        .to_string()
}

/// The Unicode bidirectional embeddings, overrides and isolates (U+202A–U+202E,
/// U+2066–U+2069).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
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
            ViewerMessage::Chat { text } => check_chat(text),
            ViewerMessage::ClipboardPut { text } => check_clipboard(text),
            ViewerMessage::ClipboardGet | ViewerMessage::Voice { .. } => Ok(()),
            ViewerMessage::ShowScreen { id } => {
                if id.is_none_or(|id| (id as usize) < MAX_SCREENS) {
                    Ok(())
                } else {
                    Err(ChannelError::OutOfRange)
                }
            }
            ViewerMessage::FileOffer(offer) => Ok(offer.check()?),
            ViewerMessage::FileAccept(FileAccept { id, .. })
            | ViewerMessage::FileChunk(FileChunk { id, .. })
            | ViewerMessage::FileAck(FileAck { id, .. })
            | ViewerMessage::FileEnd(FileEnd { id, .. }) => Ok(crate::files::check_id(id)?),
            ViewerMessage::Button { .. }
            | ViewerMessage::Control { .. }
            | ViewerMessage::LowData { .. } => Ok(()),
        }
    }

    /// Whether this message acts for the resident (input devices, clipboard), so the
    /// consent gate must admit it: the one place that says what needs control.
    pub fn needs_control(&self) -> bool {
        match self {
            ViewerMessage::Pointer { .. }
            | ViewerMessage::Button { .. }
            | ViewerMessage::Wheel { .. }
            | ViewerMessage::Key { .. }
            | ViewerMessage::Text { .. }
            | ViewerMessage::ClipboardPut { .. }
            | ViewerMessage::ClipboardGet => true,
            // Listed rather than `_`: a new message must be placed on one side here.
            ViewerMessage::Control { .. }
            | ViewerMessage::Highlight { .. }
            | ViewerMessage::ShowScreen { .. }
            | ViewerMessage::LowData { .. }
            | ViewerMessage::SasNonce { .. }
            | ViewerMessage::Chat { .. }
            | ViewerMessage::FileOffer(_)
            | ViewerMessage::FileAccept(_)
            | ViewerMessage::FileChunk(_)
            | ViewerMessage::FileAck(_)
            | ViewerMessage::FileEnd(_)
            | ViewerMessage::Voice { .. } => false,
        }
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
            ViewerMessage::Chat { .. } => "chat",
            ViewerMessage::ClipboardPut { .. } => "clipboard_put",
            ViewerMessage::ClipboardGet => "clipboard_get",
            ViewerMessage::ShowScreen { .. } => "show_screen",
            ViewerMessage::FileOffer(_) => "file_offer",
            ViewerMessage::FileAccept(_) => "file_accept",
            ViewerMessage::FileChunk(_) => "file_chunk",
            ViewerMessage::FileAck(_) => "file_ack",
            ViewerMessage::FileEnd(_) => "file_end",
            ViewerMessage::Voice { .. } => "voice",
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
            AgentMessage::Chat { text } => check_chat(text)?,
            AgentMessage::Clipboard { text } => check_clipboard(text)?,
            AgentMessage::Screens { screens, .. } if screens.len() > MAX_SCREENS => {
                return Err(ChannelError::OutOfRange);
            }
            AgentMessage::FileOffer(offer) => offer.check()?,
            AgentMessage::FileAccept(FileAccept { id, .. })
            | AgentMessage::FileChunk(FileChunk { id, .. })
            | AgentMessage::FileAck(FileAck { id, .. })
            | AgentMessage::FileEnd(FileEnd { id, .. }) => crate::files::check_id(id)?,
            AgentMessage::ClipboardStatus { .. } | AgentMessage::Screens { .. } => {}
            AgentMessage::Control { .. }
            | AgentMessage::Refused { .. }
            | AgentMessage::DataSent { .. }
            | AgentMessage::Voice { .. } => {}
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
    fn the_clipboard_needs_control_like_the_keyboard_and_files_and_chat_do_not() {
        let put = ViewerMessage::parse(r#"{"type":"clipboard_put","text":"AB12"}"#).unwrap();
        assert!(put.needs_control());
        let get = ViewerMessage::parse(r#"{"type":"clipboard_get"}"#).unwrap();
        assert!(get.needs_control());
        let key = ViewerMessage::parse(r#"{"type":"text","text":"x"}"#).unwrap();
        assert!(key.needs_control());
        let chat = ViewerMessage::parse(r#"{"type":"chat","text":"x"}"#).unwrap();
        assert!(!chat.needs_control());
        let point = ViewerMessage::parse(r#"{"type":"highlight","x":0.5,"y":0.5}"#).unwrap();
        assert!(!point.needs_control(), "pointing only draws");
    }

    #[test]
    fn voice_needs_no_control_and_a_newer_state_reads_as_off() {
        let ask = ViewerMessage::parse(r#"{"type":"voice","action":"request"}"#).unwrap();
        assert_eq!(
            ask,
            ViewerMessage::Voice {
                action: VoiceAction::Request
            }
        );
        assert!(
            !ask.needs_control(),
            "talking is not acting for the resident"
        );
        assert_eq!(ask.kind(), "voice");
        for bad in [
            r#"{"type":"voice"}"#,
            r#"{"type":"voice","action":"shout"}"#,
            r#"{"type":"voice","action":1}"#,
        ] {
            assert!(
                matches!(ViewerMessage::parse(bad), Err(ChannelError::Malformed(_))),
                "{bad}"
            );
        }
        let on = AgentMessage::Voice {
            state: VoiceState::On,
            muted: true,
        };
        assert_eq!(
            on.to_json(),
            r#"{"type":"voice","state":"on","muted":true}"#
        );
        assert_eq!(AgentMessage::parse(&on.to_json()).unwrap(), on);
        let newer = AgentMessage::parse(r#"{"type":"voice","state":"ringing"}"#).unwrap();
        assert_eq!(
            newer,
            AgentMessage::Voice {
                state: VoiceState::Other,
                muted: false
            }
        );
    }

    #[test]
    fn low_data_is_not_input() {
        let on = ViewerMessage::parse(r#"{"type":"low_data","on":true}"#).unwrap();
        assert_eq!(on, ViewerMessage::LowData { on: true });
        assert!(!on.needs_control(), "allowed without control");
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
        assert!(!parsed.needs_control(), "needs no control");
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

    #[test]
    fn chat_is_plain_text_both_ways() {
        let m = ViewerMessage::parse(r#"{"type":"chat","text":"Bonjour,\nvoici le lien"}"#);
        assert_eq!(
            m,
            Ok(ViewerMessage::Chat {
                text: "Bonjour,\nvoici le lien".into()
            })
        );
        assert_eq!(m.map(|m| m.needs_control()), Ok(false));
        let arabic = AgentMessage::Chat {
            text: "شكرا \u{200F}ok".into(),
        };
        assert_eq!(AgentMessage::parse(&arabic.to_json()), Ok(arabic));
        let long = "é".repeat(MAX_CHAT_BYTES / 2 + 1);
        for bad in [
            "",
            "  \n ",
            "a\u{1b}[2J",
            "x\u{202E}gnp.exe",
            "\u{2067}a",
            &long,
        ] {
            let json = serde_json::json!({"type": "chat", "text": bad}).to_string();
            assert_eq!(
                ViewerMessage::parse(&json),
                Err(ChannelError::BadChat),
                "{bad:?}"
            );
            assert_eq!(
                AgentMessage::parse(&json),
                Err(ChannelError::BadChat),
                "{bad:?}"
            );
        }
        assert!(check_chat(&"é".repeat(MAX_CHAT_BYTES / 2)).is_ok());
        let typed = clean_chat(" \u{2067}سلام\u{2069}\r\nok\u{7} ");
        assert_eq!(typed, "سلام\nok");
        assert!(check_chat(&typed).is_ok());
    }

    #[test]
    fn clipboard_text_is_checked_both_ways_and_needs_control() {
        let put = ViewerMessage::parse(r#"{"type":"clipboard_put","text":"FR76 3000\r\n\t12"}"#);
        assert!(matches!(put, Ok(ViewerMessage::ClipboardPut { .. })));
        assert_eq!(put.map(|m| m.kind()), Ok("clipboard_put"));
        assert_eq!(
            ViewerMessage::parse(r#"{"type":"clipboard_get"}"#),
            Ok(ViewerMessage::ClipboardGet)
        );
        let long = "a".repeat(MAX_CLIPBOARD_BYTES + 1);
        for bad in ["", "a\u{1b}[2J", &long] {
            let json = serde_json::json!({"type": "clipboard_put", "text": bad}).to_string();
            assert_eq!(ViewerMessage::parse(&json), Err(ChannelError::BadClipboard));
            let json = serde_json::json!({"type": "clipboard", "text": bad}).to_string();
            assert_eq!(AgentMessage::parse(&json), Err(ChannelError::BadClipboard));
        }
        assert_eq!(
            AgentMessage::ClipboardStatus {
                status: ClipboardStatus::TooLong
            }
            .to_json(),
            r#"{"type":"clipboard_status","status":"too_long"}"#
        );
    }

    #[test]
    fn a_screen_is_chosen_by_its_index_or_all() {
        assert_eq!(
            ViewerMessage::parse(r#"{"type":"show_screen","id":1}"#),
            Ok(ViewerMessage::ShowScreen { id: Some(1) })
        );
        assert_eq!(
            ViewerMessage::parse(r#"{"type":"show_screen","id":null}"#),
            Ok(ViewerMessage::ShowScreen { id: None })
        );
        assert_eq!(
            ViewerMessage::parse(r#"{"type":"show_screen","id":16}"#),
            Err(ChannelError::OutOfRange)
        );
        let m = AgentMessage::Screens {
            screens: vec![ScreenInfo {
                id: 0,
                name: "HDMI-1".into(),
                x: 1366,
                y: 0,
                width: 1366,
                height: 768,
                primary: false,
            }],
            shown: None,
        };
        assert_eq!(
            m.to_json(),
            r#"{"type":"screens","screens":[{"id":0,"name":"HDMI-1","x":1366,"y":0,"width":1366,"height":768,"primary":false}],"shown":null}"#
        );
        assert_eq!(AgentMessage::parse(&m.to_json()), Ok(m));
    }

    #[test]
    fn file_messages_have_a_flat_wire_shape_and_checked_ids() {
        let id = "0123456789abcdef0123456789abcdef";
        let offer = format!(
            r#"{{"type":"file_offer","id":"{id}","name":"a.pdf","size":3,"sha256":"{}"}}"#,
            "ab".repeat(32)
        );
        assert!(matches!(
            ViewerMessage::parse(&offer),
            Ok(ViewerMessage::FileOffer(o)) if o.size == 3 && o.name == "a.pdf"
        ));
        assert!(matches!(
            AgentMessage::parse(&offer),
            Ok(AgentMessage::FileOffer(_))
        ));
        let accept = format!(r#"{{"type":"file_accept","id":"{id}","offset":0}}"#);
        assert!(ViewerMessage::parse(&accept).is_ok());
        let bad = r#"{"type":"file_ack","id":"../x","offset":0}"#;
        assert_eq!(
            ViewerMessage::parse(bad),
            Err(ChannelError::BadFile(crate::files::FileError::BadId))
        );
        let end = AgentMessage::FileEnd(crate::files::FileEnd {
            id: id.into(),
            status: crate::files::FileStatus::DiskFull,
        });
        assert_eq!(
            end.to_json(),
            format!(r#"{{"type":"file_end","id":"{id}","status":"disk_full"}}"#)
        );
    }
}
