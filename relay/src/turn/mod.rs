//! NAT traversal services of the relay. For now a STUN responder, so peers learn their
//! public address; the embedded TURN service joins it here.

pub mod stun;
