//! The session's ICE servers: a side of a new or resumed session is sent the relay's
//! TURN, with credentials for that session, just before `paired` or `resumed`. The hub
//! task puts them in order ([`with_session_ice`]); the TURN service mints them.

use std::sync::Arc;

use acote_proto::{IceServer, SignalMessage};

use super::hub::ConnId;
use crate::turn::TurnService;

/// What a connection hands its side of a new session: TURN URLs for the host it used,
/// and fresh credentials from the TURN service.
pub struct TurnOffer {
    /// The TURN service.
    pub service: Arc<TurnService>,
    /// The STUN servers the connection was given at hello.
    pub stun: Vec<IceServer>,
    /// `turn:`/`turns:` URLs at the host this connection reached the relay by.
    pub urls: Vec<String>,
    /// The site requires relayed paths only.
    pub relay_only: bool,
}

impl TurnOffer {
    /// The `ice_servers` message for `conn`'s session, if it is in one.
    pub fn message(&self, conn: ConnId) -> Option<SignalMessage> {
        let creds = self.service.credentials_for(conn)?;
        let mut ice_servers = self.stun.clone();
        ice_servers.push(IceServer {
            urls: self.urls.clone(),
            username: Some(creds.username),
            credential: Some(creds.password),
        });
        Some(SignalMessage::IceServers {
            ice_servers,
            relay_only: self.relay_only,
        })
    }
}

/// Puts each side's `ice_servers` (from `ice`, when it has one for that connection) just
/// before its `paired`, as the agent may be told yes at once and must not build its
/// connection without them, and before its `resumed`, as an ICE restart after a relay
/// restart needs new credentials.
pub fn with_session_ice(
    sends: Vec<(ConnId, SignalMessage)>,
    ice: impl Fn(ConnId) -> Option<SignalMessage>,
) -> Vec<(ConnId, SignalMessage)> {
    let mut out = Vec::with_capacity(sends.len());
    for (conn, msg) in sends {
        if matches!(
            msg,
            SignalMessage::Paired { .. } | SignalMessage::Resumed { .. }
        ) && let Some(servers) = ice(conn)
        {
            out.push((conn, servers));
        }
        out.push((conn, msg));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn servers(tag: &str) -> SignalMessage {
        SignalMessage::IceServers {
            ice_servers: vec![IceServer {
                urls: vec![format!("turn:{tag}")],
                username: Some(tag.into()),
                credential: Some("secret".into()),
            }],
            relay_only: false,
        }
    }

    fn ice_for_conn_1(conn: ConnId) -> Option<SignalMessage> {
        (conn == 1).then(|| servers("one"))
    }

    #[test]
    fn ice_servers_go_just_before_paired_and_resumed() {
        let paired = SignalMessage::Paired { by: None };
        let resumed = SignalMessage::Resumed {
            by: None,
            peer_present: true,
        };
        let other = SignalMessage::PeerAway;
        let sends = vec![
            (1, other.clone()),
            (1, paired.clone()),
            (2, paired.clone()),
            (1, resumed.clone()),
        ];
        let out = with_session_ice(sends, ice_for_conn_1);
        assert_eq!(
            out,
            vec![
                (1, other),
                (1, servers("one")),
                (1, paired.clone()),
                // Conn 2 has no TURN (disabled, or not in a session): nothing added.
                (2, paired),
                (1, servers("one")),
                (1, resumed),
            ]
        );
    }

    #[test]
    fn other_messages_get_no_ice_servers() {
        let sends = vec![(1, SignalMessage::PeerBack), (1, SignalMessage::PeerAway)];
        assert_eq!(with_session_ice(sends.clone(), ice_for_conn_1), sends);
    }
}
