//! Input from the caseworker to the resident's PC: the consent gate that decides, and the
//! injector that acts. Data flows `viewer → data channel → consent → inject`.

pub mod consent;
pub mod inject;
pub mod keys;
#[cfg(windows)]
pub mod windows;
#[cfg(not(windows))]
pub mod x11;
