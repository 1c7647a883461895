//! Codes typed by people: parsing never panics and accepts only six digits.
#![no_main]

use acote_proto::SessionCode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(code) = SessionCode::parse(text) {
        let wire = code.as_wire();
        assert!(wire.len() == 6 && wire.bytes().all(|b| b.is_ascii_digit()));
    }
});
