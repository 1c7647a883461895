//! `Cookie` headers (one value per line): never a panic; what is taken as the session
//! cookie is a 64-hex-digit token.
#![no_main]

use acote_relay::auth::forms::session_cookie;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Some(v) = session_cookie(text.split('\n')) {
        assert!(v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()));
    }
});
