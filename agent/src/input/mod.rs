//! Input from the caseworker to the resident's PC: the consent gate that decides, and the
//! injector that acts, and the clipboard under the same gate. Data flows
//! `viewer → data channel → consent → inject` (or `→ clipboard`).

pub mod clipboard;
pub mod consent;
pub mod inject;
pub mod keys;
#[cfg(windows)]
pub mod windows;
#[cfg(not(windows))]
pub mod x11;
