//! Signaling frames from the network: parsing never panics, and what parses re-encodes
//! to something that parses to the same message.
#![no_main]

use acote_proto::SignalMessage;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(msg) = SignalMessage::parse(text) {
        let again = SignalMessage::parse(&msg.to_json());
        assert_eq!(again.ok(), Some(msg));
    }
});
