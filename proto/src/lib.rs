//! The Acote wire vocabulary, shared by the agent, the relay and (by documentation) the
//! viewer: signaling messages, session codes and redaction for logs.
//!
//! Layout:
//! - [`signal`]: JSON signaling messages over WSS (DESIGN §4), with the 64 KiB limit and
//!   the protocol version check;
//! - [`code`]: the 6-digit single-use session code;
//! - [`channel`]: messages on the `acote` data channel (input, control, highlight),
//!   validated before use, with the known [`keys`];
//! - [`resume`]: the tokens that put a side back into its session after a drop;
//! - [`sas`]: the 4-digit security code both people compare, from the DTLS fingerprints
//!   and a commit-reveal exchange of nonces on the data channel;
//! - [`redact`]: a wrapper that keeps secrets and personal data out of logs;
//! - [`turn_frame`]: where TURN messages end on a TCP or TLS stream.
//!
//! Everything here is plain data and pure functions: no sockets, no clocks read, no
//! threads. Time is always passed in by the caller.

pub mod channel;
pub mod code;
pub mod files;
pub mod keys;
pub mod redact;
pub mod resume;
pub mod sas;
pub mod signal;
pub mod turn_frame;

pub use code::{CodeError, SessionCode};
pub use redact::Redacted;
pub use signal::{
    ByeReason, ConsentEvent, ErrorCode, IceServer, PROTOCOL_VERSION, Requester, Role, SignalError,
    SignalMessage,
};
