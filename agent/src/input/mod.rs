//! Input from the caseworker to the resident's PC: the consent gate that decides, and the
//! injector that acts. Data flows `viewer → data channel → consent → inject`.

pub mod consent;
pub mod enigo_x11;
pub mod inject;
pub mod keys;
