//! What the agent keeps about its relay across drops, IO-free: the ICE servers and the
//! relay-only rule for the session, and the audit steps waiting for the link to return.

use acote_proto::signal::{IceServer, SignalMessage};

/// The relay link's memory between connections.
#[derive(Debug, Default)]
pub struct Link {
    ice_servers: Vec<IceServer>,
    /// The relay asked for relayed paths only (its `ice_servers` message).
    site_relay_only: bool,
    /// Consent steps and features used while the relay was out of reach, for its audit
    /// log once the session resumed, in the order they happened.
    unsent: Vec<SignalMessage>,
}

impl Link {
    /// The relay's `hello`. Back after a drop, a live session keeps its own TURN
    /// credentials (an ICE restart needs them); hello's list is for sessions to come.
    pub fn hello(&mut self, ice_servers: Vec<IceServer>, media_live: bool) {
        if !media_live {
            self.ice_servers = ice_servers;
            self.site_relay_only = false;
        }
    }

    /// The session's own ICE servers (TURN credentials), replacing hello's STUN list.
    pub fn session_servers(&mut self, ice_servers: Vec<IceServer>, relay_only: bool) {
        self.ice_servers = ice_servers;
        self.site_relay_only = relay_only;
    }

    /// The servers to build a peer connection with, and whether only relayed paths may
    /// be used: when the agent's own option or the relay says so.
    pub fn ice(&self, option_relay_only: bool) -> (&[IceServer], bool) {
        (&self.ice_servers, option_relay_only || self.site_relay_only)
    }

    /// `msg` could not be sent: an audit step of a live session is kept for the resume;
    /// anything else is dropped (it was about a moment that has passed).
    pub fn unsent(&mut self, msg: SignalMessage, sharing: bool) {
        let audited = matches!(
            msg,
            SignalMessage::Consent { .. } | SignalMessage::Used { .. }
        );
        if audited && sharing {
            self.unsent.push(msg);
        }
    }

    /// The session resumed: what waited, to send now, oldest first.
    pub fn resumed(&mut self) -> Vec<SignalMessage> {
        std::mem::take(&mut self.unsent)
    }

    /// The session ended: nothing of it is sent any more.
    pub fn session_ended(&mut self) {
        self.unsent.clear();
    }
}

#[cfg(test)]
mod tests {
    use acote_proto::signal::{ConsentEvent, Feature};

    use super::*;

    fn server(url: &str) -> Vec<IceServer> {
        vec![IceServer {
            urls: vec![url.into()],
            username: None,
            credential: None,
        }]
    }

    fn consent(event: ConsentEvent) -> SignalMessage {
        SignalMessage::Consent { event }
    }

    #[test]
    fn consent_steps_taken_offline_are_sent_after_the_resume_in_order() {
        let mut link = Link::default();
        link.unsent(consent(ConsentEvent::ControlRevoked), true);
        link.unsent(
            SignalMessage::Used {
                feature: Feature::Chat,
            },
            true,
        );
        link.unsent(consent(ConsentEvent::ControlAsked), true);
        // Not for the audit log: gone with the moment.
        link.unsent(SignalMessage::Offer { sdp: "v=0".into() }, true);
        assert_eq!(
            link.resumed(),
            vec![
                consent(ConsentEvent::ControlRevoked),
                SignalMessage::Used {
                    feature: Feature::Chat
                },
                consent(ConsentEvent::ControlAsked),
            ]
        );
        assert!(link.resumed().is_empty(), "sent once");
    }

    #[test]
    fn nothing_is_kept_outside_a_session_or_after_its_end() {
        let mut link = Link::default();
        link.unsent(consent(ConsentEvent::ViewRefused), false);
        assert!(link.resumed().is_empty());
        link.unsent(consent(ConsentEvent::ControlAllowed), true);
        link.session_ended();
        assert!(link.resumed().is_empty());
    }

    #[test]
    fn relay_only_when_the_option_or_the_relay_says_so() {
        let mut link = Link::default();
        link.hello(server("stun:relay:3478"), false);
        assert!(!link.ice(false).1);
        assert!(link.ice(true).1);
        link.session_servers(server("turn:relay:3478"), true);
        assert_eq!(link.ice(false), (&server("turn:relay:3478")[..], true));
    }

    #[test]
    fn a_hello_after_a_drop_keeps_the_live_sessions_turn_credentials() {
        let mut link = Link::default();
        link.session_servers(server("turn:relay:3478?session"), true);
        link.hello(server("stun:relay:3478"), true);
        assert_eq!(
            link.ice(false),
            (&server("turn:relay:3478?session")[..], true)
        );
        // Without live media, hello's list is for the next session, relay-only reset.
        link.hello(server("stun:relay:3478"), false);
        assert_eq!(link.ice(false), (&server("stun:relay:3478")[..], false));
    }
}
