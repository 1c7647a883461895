//! The relay's TOML configuration: any text gives a config or a clear error, never a panic.
#![no_main]

use acote_relay::config::Config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = Config::parse(text);
});
