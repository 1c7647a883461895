//! Datagrams and frames reaching the TURN listeners: the pre-filter and the nonce reader
//! never panic, and a reply the pre-filter builds is a STUN error response to the same
//! transaction.
#![no_main]

use std::net::{IpAddr, SocketAddr};

use acote_relay::turn::policy::{Refusal, classify};
use acote_relay::turn::prefilter::{self, Context, Verdict};
use libfuzzer_sys::fuzz_target;

struct Ctx;

impl Context for Ctx {
    fn admit_request(&mut self, _src: IpAddr) -> bool {
        true
    }
    fn over_allocation_quota(&self, username: &str) -> bool {
        username.len() % 2 == 0
    }
    fn peer_allowed(&self, peer: SocketAddr) -> Result<(), Refusal> {
        classify(peer.ip())
    }
    fn key_for(&self, username: &str) -> Option<Vec<u8>> {
        (!username.is_empty()).then(|| vec![7u8; 16])
    }
    fn nonce_from_elsewhere(&self, nonce: &str, _src: SocketAddr) -> bool {
        nonce.starts_with('x')
    }
}

fuzz_target!(|data: &[u8]| {
    let src: SocketAddr = ([198, 51, 100, 1], 4000).into();
    let _ = prefilter::issued_nonce(data);
    match prefilter::judge(data, src, &mut Ctx) {
        Verdict::Reply(reply, _) => {
            // An error response (class bits 11) with the request's transaction id.
            assert!(reply.len() >= 20);
            assert_eq!(reply[0] & 0x01, 0x01);
            assert_eq!(reply[1] & 0x10, 0x10);
            assert_eq!(&reply[8..20], &data[8..20]);
        }
        Verdict::Pass { .. } | Verdict::StaleNonce { .. } | Verdict::Drop(_) => {}
    }
});
