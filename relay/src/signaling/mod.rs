//! Signaling: the IO-free pairing [`hub`], the task that owns it ([`driver`]), and the
//! WebSocket adapter ([`ws`]) that turns frames into hub events.

pub mod caseworker;
pub mod driver;
pub mod federation;
pub mod hub;
pub mod ice;
pub mod limits;
pub mod rate;
pub mod ws;
