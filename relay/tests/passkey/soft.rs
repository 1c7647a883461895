//! A software authenticator for the relay's passkey tests: one P-256 key (ring), the
//! WebAuthn structures built by hand (CBOR of a "none" attestation, authenticator
//! data, client data), so every error path can be driven without a browser.

#![allow(unreachable_pub, clippy::new_without_default)]

use base64::Engine;
use base64::prelude::BASE64_URL_SAFE_NO_PAD as B64;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
use sha2::{Digest, Sha256};

pub struct SoftKey {
    key: EcdsaKeyPair,
    pub cred_id: Vec<u8>,
    counter: u32,
    rng: SystemRandom,
}

fn head(major: u8, n: usize, out: &mut Vec<u8>) {
    let m = major << 5;
    if n < 24 {
        out.push(m | n as u8);
    } else if n < 256 {
        out.extend([m | 24, n as u8]);
    } else {
        out.extend([m | 25, (n >> 8) as u8, n as u8]);
    }
}

fn bytes(b: &[u8], out: &mut Vec<u8>) {
    head(2, b.len(), out);
    out.extend_from_slice(b);
}

fn text(s: &str, out: &mut Vec<u8>) {
    head(3, s.len(), out);
    out.extend_from_slice(s.as_bytes());
}

impl SoftKey {
    pub fn new() -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        Self {
            key,
            cred_id: rand::random::<[u8; 16]>().to_vec(),
            counter: 0,
            rng,
        }
    }

    fn cose_key(&self) -> Vec<u8> {
        let point = self.key.public_key().as_ref();
        let (x, y) = (&point[1..33], &point[33..65]);
        let mut out = vec![0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21];
        bytes(x, &mut out);
        out.push(0x22);
        bytes(y, &mut out);
        out
    }

    fn client_data(kind: &str, challenge: &str, origin: &str) -> Vec<u8> {
        serde_json::json!({
            "type": kind,
            "challenge": challenge,
            "origin": origin,
            "crossOrigin": false,
        })
        .to_string()
        .into_bytes()
    }

    /// The answer to `create()` for `options` (the relay's JSON), as a browser sends it.
    pub fn create(
        &self,
        options: &serde_json::Value,
        rp_id: &str,
        origin: &str,
    ) -> serde_json::Value {
        let challenge = options["publicKey"]["challenge"].as_str().unwrap();
        let client_data = Self::client_data("webauthn.create", challenge, origin);
        let mut auth_data = Sha256::digest(rp_id.as_bytes()).to_vec();
        auth_data.push(0x45); // user present, user verified, attested credential data
        auth_data.extend(0u32.to_be_bytes());
        auth_data.extend([0u8; 16]); // AAGUID
        auth_data.extend((self.cred_id.len() as u16).to_be_bytes());
        auth_data.extend(&self.cred_id);
        auth_data.extend(self.cose_key());
        let mut att = vec![0xa3];
        text("fmt", &mut att);
        text("none", &mut att);
        text("attStmt", &mut att);
        att.push(0xa0);
        text("authData", &mut att);
        bytes(&auth_data, &mut att);
        let id = B64.encode(&self.cred_id);
        serde_json::json!({
            "id": id,
            "rawId": id,
            "type": "public-key",
            "response": {
                "attestationObject": B64.encode(att),
                "clientDataJSON": B64.encode(client_data),
            },
            "extensions": {},
        })
    }

    /// The answer to `get()` for the challenge `challenge` (base64url).
    pub fn get_for(&mut self, challenge: &str, rp_id: &str, origin: &str) -> serde_json::Value {
        self.counter += 1;
        let client_data = Self::client_data("webauthn.get", challenge, origin);
        let mut auth_data = Sha256::digest(rp_id.as_bytes()).to_vec();
        auth_data.push(0x05); // user present, user verified
        auth_data.extend(self.counter.to_be_bytes());
        let mut signed = auth_data.clone();
        signed.extend(Sha256::digest(&client_data));
        let signature = self.key.sign(&self.rng, &signed).unwrap();
        let id = B64.encode(&self.cred_id);
        serde_json::json!({
            "id": id,
            "rawId": id,
            "type": "public-key",
            "response": {
                "authenticatorData": B64.encode(auth_data),
                "clientDataJSON": B64.encode(client_data),
                "signature": B64.encode(signature.as_ref()),
                "userHandle": null,
            },
            "extensions": {},
        })
    }

    /// The answer to `get()` for `options` (the relay's JSON).
    pub fn get(
        &mut self,
        options: &serde_json::Value,
        rp_id: &str,
        origin: &str,
    ) -> serde_json::Value {
        let challenge = options["publicKey"]["challenge"]
            .as_str()
            .unwrap()
            .to_string();
        self.get_for(&challenge, rp_id, origin)
    }
}
