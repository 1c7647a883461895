//! Getting pixels to the viewer and messages to the relay: signaling over WSS
//! ([`signal_client`], trust rules in [`tls`]) and the WebRTC connection ([`peer`], with
//! fewer RTCP reports on a quiet session, and each video packet noted as it leaves: [`thin`]).

pub mod peer;
pub mod signal_client;
pub mod thin;
pub mod tls;
