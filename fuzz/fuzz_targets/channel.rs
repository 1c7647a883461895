//! Data-channel messages from the viewer: parsing never panics, and whatever passes
//! validation is within the ranges the injector relies on. The agent's messages (which
//! the viewer side parses) never panic either.
#![no_main]

use acote_proto::channel::{AgentMessage, MAX_TEXT_BYTES, MAX_WHEEL_STEPS, ViewerMessage};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(AgentMessage::SasCommit { c: hex } | AgentMessage::SasReveal { n: hex }) = AgentMessage::parse(text) {
        assert!(acote_proto::sas::is_wire_hex(&hex));
    }
    let Ok(msg) = ViewerMessage::parse(text) else { return };
    match msg {
        ViewerMessage::Pointer { x, y } | ViewerMessage::Highlight { x, y } => {
            assert!((0.0..=1.0).contains(&x) && (0.0..=1.0).contains(&y));
        }
        ViewerMessage::Wheel { dx, dy } => assert!(dx.abs() <= MAX_WHEEL_STEPS && dy.abs() <= MAX_WHEEL_STEPS),
        ViewerMessage::Text { text } => {
            assert!(!text.is_empty() && text.len() <= MAX_TEXT_BYTES);
            assert!(text.chars().all(|c| !c.is_control() || c == '\n' || c == '\t'));
        }
        ViewerMessage::Key { code, .. } => assert!(acote_proto::keys::is_known_code(&code)),
        ViewerMessage::SasNonce { n } => assert!(acote_proto::sas::is_wire_hex(&n)),
        ViewerMessage::Chat { text } => assert!(acote_proto::channel::check_chat(&text).is_ok()),
        ViewerMessage::ClipboardPut { text } => {
            assert!(acote_proto::channel::check_clipboard(&text).is_ok())
        }
        ViewerMessage::ShowScreen { id } => {
            assert!(id.is_none_or(|id| (id as usize) < acote_proto::channel::MAX_SCREENS))
        }
        ViewerMessage::FileOffer(offer) => {
            // A name that passed always cleans to something with no folder in it.
            let name = acote_proto::files::clean_file_name(&offer.name).unwrap_or_default();
            assert!(!name.is_empty() && !name.contains(['/', '\\']) && !name.starts_with('.'));
        }
        ViewerMessage::FileChunk(chunk) => {
            assert!(acote_proto::files::check_id(&chunk.id).is_ok());
            if let Ok(bytes) = chunk.bytes() {
                assert!(!bytes.is_empty() && bytes.len() <= acote_proto::files::FILE_CHUNK_BYTES);
            }
        }
        ViewerMessage::FileAccept(_) | ViewerMessage::FileAck(_) | ViewerMessage::FileEnd(_) => {}
        // Only a request or a stop: the resident is asked apart before any microphone opens.
        ViewerMessage::Voice { action } => assert!(matches!(
            action,
            acote_proto::channel::VoiceAction::Request | acote_proto::channel::VoiceAction::Stop
        )),
        ViewerMessage::Button { .. }
        | ViewerMessage::Control { .. }
        | ViewerMessage::LowData { .. }
        | ViewerMessage::ClipboardGet => {}
    }
});
