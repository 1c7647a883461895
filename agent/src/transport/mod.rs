//! Getting pixels to the viewer and messages to the relay: signaling over WSS
//! ([`signal_client`], trust rules in [`tls`]) and the WebRTC connection ([`peer`], with
//! fewer RTCP reports on a quiet session, and each video packet noted as it leaves: [`thin`]),
//! and its way out of a network that lets no UDP out ([`egress`]).

pub mod egress;
pub mod peer;
pub mod signal_client;
pub mod thin;
pub mod tls;
