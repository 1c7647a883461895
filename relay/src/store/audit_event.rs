//! What an audit record says happened: one closed list, so code decides on variants
//! (which events start a session, which count a wrong code) rather than on spelling.

use std::fmt;

use acote_proto::signal::ConsentEvent;

/// The event of an audit record; its name (`as_str`) is what the log stores and hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditEvent {
    /// A caseworker signed in.
    LoginOk,
    /// A sign-in was refused (wrong password, unknown login, failed passkey).
    LoginFailed,
    /// An account was locked after too many failed sign-ins.
    LoginLocked,
    /// A caseworker signed out.
    Logout,
    /// A caseworker set their password from a set-password link.
    PasswordSet,
    /// A passkey was enrolled.
    PasskeyAdded,
    /// A passkey was removed.
    PasskeyRemoved,
    /// An admin added an account.
    AccountAdded,
    /// An admin disabled an account.
    AccountDisabled,
    /// An admin enabled an account again.
    AccountEnabled,
    /// An admin reset an account's password.
    AccountReset,
    /// Retention deleted the oldest rows (its detail anchors what remains).
    Retention,
    /// A caseworker's code redemptions were refused for a while.
    CodeLimited,
    /// A caseworker typed a code that matched no waiting agent.
    CodeWrong,
    /// A caseworker redeemed a code.
    CodeRedeemed,
    /// A signaling session began.
    SessionCreated,
    /// A signaling session ended.
    SessionEnded,
    /// One side's signaling connection dropped mid-session.
    ConnectionInterrupted,
    /// Both sides are back after an interruption.
    Resumed,
    /// A resumption token was refused.
    ResumeRefused,
    /// A consent step the agent reported.
    Consent(ConsentEvent),
    /// A guidance feature (chat, files…) was first used in a session.
    FeatureUsed,
    /// A name this version does not know, read back from a row another version wrote.
    Unknown(String),
}

/// Consent steps with a name of their own (`Other` is not recorded by name).
const CONSENTS: [ConsentEvent; 10] = [
    ConsentEvent::ViewAsked,
    ConsentEvent::ViewAllowed,
    ConsentEvent::ViewRefused,
    ConsentEvent::ViewTimeout,
    ConsentEvent::ControlAsked,
    ConsentEvent::ControlAllowed,
    ConsentEvent::ControlRefused,
    ConsentEvent::ControlRevoked,
    ConsentEvent::ControlTimeout,
    ConsentEvent::ControlReleased,
];

/// Events with a fixed name, for `as_str` and `from_name`.
const NAMED: [(AuditEvent, &str); 20] = [
    (AuditEvent::LoginOk, "login_ok"),
    (AuditEvent::LoginFailed, "login_failed"),
    (AuditEvent::LoginLocked, "login_locked"),
    (AuditEvent::Logout, "logout"),
    (AuditEvent::PasswordSet, "password_set"),
    (AuditEvent::PasskeyAdded, "passkey_added"),
    (AuditEvent::PasskeyRemoved, "passkey_removed"),
    (AuditEvent::AccountAdded, "account_added"),
    (AuditEvent::AccountDisabled, "account_disabled"),
    (AuditEvent::AccountEnabled, "account_enabled"),
    (AuditEvent::AccountReset, "account_reset"),
    (AuditEvent::Retention, "retention"),
    (AuditEvent::CodeLimited, "code_limited"),
    (AuditEvent::CodeWrong, "code_wrong"),
    (AuditEvent::CodeRedeemed, "code_redeemed"),
    (AuditEvent::SessionCreated, "session_created"),
    (AuditEvent::SessionEnded, "session_ended"),
    (AuditEvent::ConnectionInterrupted, "connection_interrupted"),
    (AuditEvent::Resumed, "resumed"),
    (AuditEvent::ResumeRefused, "resume_refused"),
];

impl AuditEvent {
    /// The name stored in the log.
    pub fn as_str(&self) -> &str {
        match self {
            AuditEvent::Consent(c) => c.as_str(),
            AuditEvent::FeatureUsed => "feature_used",
            AuditEvent::Unknown(name) => name,
            named => NAMED
                .iter()
                .find(|(e, _)| e == named)
                .map_or("unknown", |(_, name)| name),
        }
    }

    /// The event a stored name stands for (names of other versions kept as they are).
    pub fn from_name(name: &str) -> Self {
        if let Some((event, _)) = NAMED.iter().find(|(_, n)| *n == name) {
            return event.clone();
        }
        if let Some(c) = CONSENTS.iter().find(|c| c.as_str() == name) {
            return AuditEvent::Consent(*c);
        }
        if name == "feature_used" {
            return AuditEvent::FeatureUsed;
        }
        AuditEvent::Unknown(name.to_string())
    }

    /// True for the events that let a session start or widen: if one cannot be written,
    /// what it records must not happen (the relay never runs a session unaudited).
    pub fn starts_session(&self) -> bool {
        matches!(
            self,
            AuditEvent::SessionCreated
                | AuditEvent::CodeRedeemed
                | AuditEvent::Consent(ConsentEvent::ViewAllowed | ConsentEvent::ControlAllowed)
        )
    }
}

impl fmt::Display for AuditEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for AuditEvent {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_reads_back_as_its_event() {
        let mut all: Vec<AuditEvent> = NAMED.iter().map(|(e, _)| e.clone()).collect();
        all.extend(CONSENTS.iter().map(|c| AuditEvent::Consent(*c)));
        all.push(AuditEvent::FeatureUsed);
        let mut names = std::collections::HashSet::new();
        for event in all {
            let name = event.as_str().to_string();
            assert!(names.insert(name.clone()), "{name} named twice");
            assert_eq!(AuditEvent::from_name(&name), event, "{name}");
        }
    }

    #[test]
    fn a_name_from_another_version_is_kept_as_written() {
        let e = AuditEvent::from_name("teleported");
        assert_eq!(e, AuditEvent::Unknown("teleported".into()));
        assert_eq!(e.as_str(), "teleported");
        assert!(!e.starts_session());
    }

    #[test]
    fn only_the_steps_that_open_a_session_or_widen_it_start_one() {
        let starting: Vec<String> = NAMED
            .iter()
            .map(|(e, _)| e.clone())
            .chain(CONSENTS.iter().map(|c| AuditEvent::Consent(*c)))
            .chain([AuditEvent::FeatureUsed])
            .filter(AuditEvent::starts_session)
            .map(|e| e.to_string())
            .collect();
        assert_eq!(
            starting,
            [
                "code_redeemed",
                "session_created",
                "view_allowed",
                "control_allowed"
            ]
        );
    }
}
