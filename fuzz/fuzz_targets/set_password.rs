//! Set-password bodies (`POST /api/password`): never a panic; an accepted token is 64 hex
//! digits and the password within its limit.
#![no_main]

use acote_relay::auth::forms::parse_password;
use acote_relay::auth::password::MAX_CHARS;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(form) = parse_password(data) {
        assert!(form.token.len() == 64 && form.token.bytes().all(|b| b.is_ascii_hexdigit()));
        assert!(form.password.chars().count() <= MAX_CHARS);
    }
});
