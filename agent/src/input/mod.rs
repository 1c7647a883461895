//! Input from the caseworker to the resident's PC: the consent gate that decides, and the
//! injector that acts, and the clipboard under the same gate. Data flows
//! `viewer → data channel → consent → inject` (or `→ clipboard`); each platform's
//! injector is in `platform/x11/input.rs` or `platform/windows/input.rs`.

pub mod clipboard;
pub mod consent;
pub(crate) mod hands;
pub mod inject;
pub mod keys;
