//! Sign-in bodies (`POST /api/login`): any bytes give a form or a clear refusal, never a
//! panic; an accepted form is within the limits the argon2 check relies on.
#![no_main]

use acote_relay::auth::forms::{MAX_LOGIN_CHARS, parse_login};
use acote_relay::auth::password::MAX_CHARS;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((form, login)) = parse_login(data) {
        assert!(form.login.chars().count() <= MAX_LOGIN_CHARS);
        assert!(form.password.chars().count() <= MAX_CHARS);
        assert_eq!(login, login.trim());
    }
});
