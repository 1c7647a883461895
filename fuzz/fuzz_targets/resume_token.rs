//! Resumption tokens presented in a `hello`, and token hashes read back from the database:
//! never a panic; an accepted token is 32 lowercase hex digits and its hash survives the
//! database round trip.
#![no_main]

use acote_proto::resume::{ResumeToken, TOKEN_CHARS, TokenHash};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(token) = ResumeToken::parse(text) {
        assert_eq!(token.as_wire().len(), TOKEN_CHARS);
        let hash = token.hash();
        let back = TokenHash::from_hex(&hash.to_hex());
        assert!(back.is_some_and(|b| b.matches(&hash)));
    }
    if let Some(hash) = TokenHash::from_hex(text) {
        assert_eq!(hash.to_hex(), text.to_ascii_lowercase());
    }
});
