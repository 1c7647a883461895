//! Passkeys (WebAuthn) for caseworkers, issue 16 item 11: the ceremonies in flight and
//! their checks, through webauthn-rs. A passkey is asked for after the password (so the
//! password's lock-out and slow-downs apply to every try); the state of each ceremony
//! stays here, in memory, keyed by a random token, for two minutes and one use only: a
//! replayed response finds nothing to finish, and a response to another challenge fails
//! webauthn-rs's check.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use webauthn_rs::prelude::{
    CreationChallengeResponse, CredentialID, Passkey, PasskeyAuthentication, PasskeyRegistration,
    PublicKeyCredential, RegisterPublicKeyCredential, RequestChallengeResponse, Url, Uuid,
    Webauthn, WebauthnBuilder,
};

/// How long a ceremony may take (the browser's own timeout is shorter).
pub const CEREMONY_LIFETIME: Duration = Duration::from_secs(120);
/// How long the page of a set-password link may take to enrol a passkey afterwards.
pub const TICKET_LIFETIME: Duration = Duration::from_secs(15 * 60);
/// Ceremonies in flight at most, of each kind: beyond, new ones are refused.
pub const MAX_CEREMONIES: usize = 10_000;

/// Why a ceremony failed. The viewer only ever hears a generic code.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PasskeyError {
    /// No ceremony has this token (never started, already finished, or too old).
    #[error("no passkey ceremony with this token (unknown, used or expired)")]
    UnknownCeremony,
    /// The response does not verify (wrong challenge, origin, signature, credential).
    #[error("the passkey response does not verify: {0}")]
    Rejected(String),
    /// Too many ceremonies in flight.
    #[error("too many passkey ceremonies in flight")]
    Busy,
}

/// A sign-in waiting for its passkey: whose, from where.
#[derive(Debug)]
pub struct SignIn {
    /// The account whose password matched.
    pub login: String,
    /// Where the password came from (the passkey must finish there too).
    pub addr: IpAddr,
    state: PasskeyAuthentication,
    expires: Instant,
}

#[derive(Debug)]
struct Enrolment {
    login: String,
    state: PasskeyRegistration,
    expires: Instant,
}

/// The relay's passkey checks and the ceremonies in flight.
pub struct Passkeys {
    webauthn: Webauthn,
    /// Whether every sign-in needs a passkey (`[sign_in] passkeys = "required"`).
    pub required: bool,
    sign_ins: HashMap<String, SignIn>,
    enrolments: HashMap<String, Enrolment>,
    /// Enrolment tickets handed out with a new password set from an admin's link, when
    /// passkeys are required: login and end of validity, by the ticket's hash.
    tickets: HashMap<String, (String, Instant)>,
}

impl std::fmt::Debug for Passkeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passkeys")
            .field("required", &self.required)
            .field("sign_ins", &self.sign_ins.len())
            .field("enrolments", &self.enrolments.len())
            .finish()
    }
}

/// The WebAuthn user handle of an account: fixed per account id, so one authenticator
/// keeps one passkey per account; it names nobody.
pub fn user_handle(account_id: i64) -> Uuid {
    Uuid::from_u64_pair(0x6163_6f74_6500_0000, account_id as u64)
}

impl Passkeys {
    /// Passkeys for the relying party `rp_id` (the relay's DNS name), accepting the
    /// origin `https://rp_id` on any port.
    pub fn new(rp_id: &str, site: &str, required: bool) -> Result<Self, String> {
        let origin = Url::parse(&format!("https://{rp_id}")).map_err(|e| e.to_string())?;
        let webauthn = WebauthnBuilder::new(rp_id, &origin)
            .map_err(|e| e.to_string())?
            .allow_any_port(true)
            .rp_name(site)
            .timeout(CEREMONY_LIFETIME)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            webauthn,
            required,
            sign_ins: HashMap::new(),
            enrolments: HashMap::new(),
            tickets: HashMap::new(),
        })
    }

    fn prune(&mut self, now: Instant) {
        self.sign_ins.retain(|_, s| s.expires > now);
        self.enrolments.retain(|_, e| e.expires > now);
        self.tickets.retain(|_, (_, until)| *until > now);
    }

    /// A password was just set from an admin's one-time link and the site requires
    /// passkeys: a ticket that lets that page enrol the account's first passkey (the link
    /// is what vouches for the caseworker, as it did for the password).
    pub fn issue_ticket(&mut self, now: Instant, login: &str) -> Result<String, PasskeyError> {
        self.prune(now);
        if self.tickets.len() >= MAX_CEREMONIES {
            return Err(PasskeyError::Busy);
        }
        let ticket = super::new_token();
        self.tickets.insert(
            super::token_hash(&ticket),
            (login.to_string(), now + TICKET_LIFETIME),
        );
        Ok(ticket)
    }

    /// The login an enrolment ticket is for, while it is valid.
    pub fn ticket_login(&mut self, now: Instant, ticket: &str) -> Option<String> {
        self.prune(now);
        self.tickets
            .get(&super::token_hash(ticket))
            .map(|(login, _)| login.clone())
    }

    /// The ticket did its job (a passkey is enrolled): it works no more.
    pub fn burn_ticket(&mut self, ticket: &str) {
        self.tickets.remove(&super::token_hash(ticket));
    }

    /// After a matching password: the challenge for the account's passkeys, under a new
    /// token the browser sends back with its answer.
    pub fn begin_sign_in(
        &mut self,
        now: Instant,
        login: &str,
        addr: IpAddr,
        creds: &[Passkey],
    ) -> Result<(String, RequestChallengeResponse), PasskeyError> {
        self.prune(now);
        if self.sign_ins.len() >= MAX_CEREMONIES {
            return Err(PasskeyError::Busy);
        }
        let (options, state) = self
            .webauthn
            .start_passkey_authentication(creds)
            .map_err(|e| PasskeyError::Rejected(e.to_string()))?;
        let token = super::new_token();
        self.sign_ins.insert(
            super::token_hash(&token),
            SignIn {
                login: login.to_string(),
                addr,
                state,
                expires: now + CEREMONY_LIFETIME,
            },
        );
        Ok((token, options))
    }

    /// Takes the sign-in waiting under `token` (one use, whatever the outcome).
    pub fn take_sign_in(&mut self, now: Instant, token: &str) -> Result<SignIn, PasskeyError> {
        self.prune(now);
        self.sign_ins
            .remove(&super::token_hash(token))
            .ok_or(PasskeyError::UnknownCeremony)
    }

    /// Checks the browser's answer to a sign-in challenge against the account's
    /// passkeys; returns the one used, its counter updated.
    pub fn finish_sign_in(
        &self,
        sign_in: &SignIn,
        answer: &PublicKeyCredential,
        creds: &[Passkey],
    ) -> Result<Passkey, PasskeyError> {
        let result = self
            .webauthn
            .finish_passkey_authentication(answer, &sign_in.state)
            .map_err(|e| PasskeyError::Rejected(e.to_string()))?;
        let mut used = creds
            .iter()
            .find(|c| c.cred_id() == result.cred_id())
            .cloned()
            .ok_or_else(|| PasskeyError::Rejected("credential of another account".into()))?;
        used.update_credential(&result);
        Ok(used)
    }

    /// A signed-in caseworker (web session `key`) asks to enrol a passkey.
    pub fn begin_enrolment(
        &mut self,
        now: Instant,
        key: &str,
        login: &str,
        account_id: i64,
        display_name: &str,
        existing: Vec<CredentialID>,
    ) -> Result<CreationChallengeResponse, PasskeyError> {
        self.prune(now);
        if self.enrolments.len() >= MAX_CEREMONIES {
            return Err(PasskeyError::Busy);
        }
        let (options, state) = self
            .webauthn
            .start_passkey_registration(
                user_handle(account_id),
                login,
                display_name,
                Some(existing),
            )
            .map_err(|e| PasskeyError::Rejected(e.to_string()))?;
        self.enrolments.insert(
            super::token_hash(key),
            Enrolment {
                login: login.to_string(),
                state,
                expires: now + CEREMONY_LIFETIME,
            },
        );
        Ok(options)
    }

    /// Checks the browser's answer to the enrolment started under `key` by `login` (one
    /// use, whatever the outcome).
    pub fn finish_enrolment(
        &mut self,
        now: Instant,
        key: &str,
        login: &str,
        answer: &RegisterPublicKeyCredential,
    ) -> Result<Passkey, PasskeyError> {
        self.prune(now);
        let enrolment = self
            .enrolments
            .remove(&super::token_hash(key))
            .filter(|e| e.login == login)
            .ok_or(PasskeyError::UnknownCeremony)?;
        self.webauthn
            .finish_passkey_registration(answer, &enrolment.state)
            .map_err(|e| PasskeyError::Rejected(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ceremony_is_used_once_and_dies_after_two_minutes() {
        let t0 = Instant::now();
        let mut p = Passkeys::new("localhost", "Acote", false).unwrap();
        let addr = IpAddr::from([192, 0, 2, 1]);
        let (token, _) = p.begin_sign_in(t0, "marie", addr, &[]).unwrap();
        assert_eq!(p.take_sign_in(t0, &token).unwrap().login, "marie");
        assert_eq!(
            p.take_sign_in(t0, &token).unwrap_err(),
            PasskeyError::UnknownCeremony
        );
        let (token, _) = p.begin_sign_in(t0, "marie", addr, &[]).unwrap();
        assert_eq!(
            p.take_sign_in(t0 + CEREMONY_LIFETIME, &token).unwrap_err(),
            PasskeyError::UnknownCeremony
        );
        p.begin_enrolment(t0, "k", "marie", 1, "Marie", Vec::new())
            .unwrap();
        assert!(p.enrolments.contains_key(&super::super::token_hash("k")));
    }
}
