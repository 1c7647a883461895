//! Redeeming a code and the consent steps an agent reports: the part of the hub that
//! decides who may pair, within which limits, and what the audit log records of it.

use std::time::Instant;

use acote_proto::signal::{Feature, MAX_PROCEDURE_CHARS};
use acote_proto::{ConsentEvent, ErrorCode, Redacted, SessionCode, SignalMessage};

use super::{Agent, AgentState, ConnId, Hub, Output, Timing, error};
use crate::store::audit::{AuditEvent, Record};

/// When a caseworker refused by a full relay is told to try again (sessions last minutes).
const FULL_RETRY_S: u32 = 180;

impl Hub {
    pub(super) fn redeem(
        &mut self,
        now: Instant,
        viewer_conn: ConnId,
        typed: &str,
        procedure: Option<&str>,
    ) -> Vec<Output> {
        let Some(viewer) = self.viewers.get(&viewer_conn) else {
            return self.unexpected(viewer_conn, "redeem");
        };
        if viewer.agent.is_some() {
            return self.unexpected(viewer_conn, "redeem");
        }
        let (addr, login) = (viewer.addr, viewer.caseworker.login.clone());
        let procedure = match clean_procedure(procedure) {
            Ok(p) => p,
            Err(message) => return vec![error(viewer_conn, ErrorCode::Malformed, message)],
        };
        if let Err(limited) = self.limits.check(now, addr, &login) {
            self.stats.rate_limited += 1;
            let minutes = limited.wait().as_secs().div_ceil(60).max(1);
            tracing::warn!(
                scope = limited.scope(),
                "redeem refused: too many wrong codes"
            );
            let record = Record::new(AuditEvent::CodeLimited)
                .actor(&login)
                .with("scope", limited.scope())
                .with("addr", addr);
            return vec![
                Output::Audit(record),
                Output::Send(
                    viewer_conn,
                    SignalMessage::error_retry(
                        ErrorCode::RateLimited,
                        format!("too many wrong codes; try again in {minutes} min"),
                        u32::try_from(minutes * 60).unwrap_or(u32::MAX),
                    ),
                ),
            ];
        }
        if self.sessions() >= self.max_sessions {
            // Checked before the code is looked at: a full relay consumes nobody's code.
            self.stats.relay_full += 1;
            tracing::warn!(max = self.max_sessions, "redeem refused: the relay is full");
            return vec![Output::Send(
                viewer_conn,
                SignalMessage::error_retry(
                    ErrorCode::Unavailable,
                    "the relay has as many sessions as it can take; try again in a few minutes",
                    FULL_RETRY_S,
                ),
            )];
        }
        let found = SessionCode::parse(typed)
            .ok()
            .and_then(|code| self.find_agent(&code, now));
        let Some(agent_conn) = found else {
            self.stats.invalid_codes += 1;
            self.limits.failed(now, addr, &login);
            tracing::info!(code = %Redacted(typed), "redeem refused: unknown, used or expired code");
            let record = Record::new(AuditEvent::CodeWrong)
                .actor(&login)
                .with("addr", addr);
            return vec![
                Output::Audit(record),
                error(viewer_conn, ErrorCode::InvalidCode, "wrong or expired code"),
            ];
        };
        let who = viewer.caseworker.who.clone();
        if let Some(v) = self.viewers.get_mut(&viewer_conn) {
            v.agent = Some(agent_conn);
        }
        let mut record = Record::new(AuditEvent::CodeRedeemed).actor(&login);
        let mut opened = None;
        let mut late = None;
        if let Some(a) = self.agents.get_mut(&agent_conn) {
            if !a.created {
                // Only counted when the agent connected (a flood of them is); a session
                // that pairs is always in the log, from its start.
                late = Some(Output::Audit(
                    Record::new(AuditEvent::SessionCreated)
                        .session(&a.session)
                        .with("late", true),
                ));
                a.created = true;
            }
            self.timings.push(Timing::Paired(
                now.saturating_duration_since(a.waiting_since),
            ));
            // Single use: the code is dropped here, whatever the resident answers.
            a.state = AgentState::Paired {
                viewer: viewer_conn,
                since: now,
                answered: false,
            };
            record = record.session(&a.session);
            opened = Some(Output::SessionOpened {
                session: a.session.clone(),
                agent: agent_conn,
                viewer: viewer_conn,
            });
        }
        if let Some(p) = procedure {
            record = record.with("procedure", p);
        }
        self.stats.redeemed += 1;
        tracing::info!(
            agent = agent_conn,
            viewer = viewer_conn,
            "code redeemed, session paired"
        );
        let lang = self.agents.get(&agent_conn).and_then(|a| a.lang.clone());
        let mut out: Vec<Output> = late.into_iter().collect();
        out.push(Output::Audit(record));
        out.extend(opened);
        out.extend([
            Output::Send(agent_conn, SignalMessage::Paired { by: Some(who) }),
            Output::Send(viewer_conn, SignalMessage::Paired { by: None }),
        ]);
        if let Some(lang) = lang {
            out.push(Output::Send(viewer_conn, SignalMessage::Resident { lang }));
        }
        out
    }

    /// The agent reports a consent step: audited, counted, forwarded to no one.
    pub(super) fn consent(
        &mut self,
        now: Instant,
        from: ConnId,
        event: ConsentEvent,
    ) -> Vec<Output> {
        let Some(Agent {
            state: AgentState::Paired { viewer, .. },
            session,
            asked,
            ..
        }) = self.agents.get_mut(&from)
        else {
            return self.unexpected(from, "consent");
        };
        let answers = match event {
            ConsentEvent::ViewAllowed | ConsentEvent::ViewRefused | ConsentEvent::ViewTimeout => {
                Some(&mut self.stats.view_answers)
            }
            ConsentEvent::ControlAllowed
            | ConsentEvent::ControlRefused
            | ConsentEvent::ControlTimeout => Some(&mut self.stats.control_answers),
            _ => None,
        };
        if let Some(answers) = answers {
            match event {
                ConsentEvent::ViewAllowed | ConsentEvent::ControlAllowed => answers.yes += 1,
                ConsentEvent::ViewRefused | ConsentEvent::ControlRefused => answers.no += 1,
                _ => answers.timeout += 1,
            }
            if let Some(at) = asked.take() {
                self.timings
                    .push(Timing::Answered(now.saturating_duration_since(at)));
            }
        } else if matches!(event, ConsentEvent::ViewAsked | ConsentEvent::ControlAsked) {
            *asked = Some(now);
        }
        let (viewer, session) = (*viewer, session.clone());
        let actor = self
            .viewers
            .get(&viewer)
            .map(|v| v.caseworker.login.clone())
            .unwrap_or_default();
        let record = Record::new(AuditEvent::Consent(event))
            .actor(&actor)
            .session(&session);
        let mut out = vec![Output::Audit(record)];
        if event == ConsentEvent::ViewAllowed {
            out.extend(self.make_resumable(from));
        }
        out
    }
}

impl Hub {
    /// The agent says a guidance feature was used: audited once per session (that it
    /// was used, never what was said or sent), forwarded to no one. Only a paired agent
    /// whose resident agreed to be seen can report one.
    pub(super) fn used(&mut self, from: ConnId, feature: Feature) -> Vec<Output> {
        let actor = match self.agents.get(&from) {
            Some(
                a @ Agent {
                    state: AgentState::Paired { viewer, .. },
                    ..
                },
            ) if a.view_allowed() => self
                .viewers
                .get(viewer)
                .map(|v| v.caseworker.login.clone())
                .unwrap_or_default(),
            _ => return self.unexpected(from, "used"),
        };
        let Some(agent) = self.agents.get_mut(&from) else {
            return Vec::new();
        };
        if agent.used.contains(&feature) {
            return Vec::new();
        }
        agent.used.push(feature);
        let record = Record::new(AuditEvent::FeatureUsed)
            .actor(&actor)
            .session(&agent.session)
            .with("feature", feature.as_str());
        vec![Output::Audit(record)]
    }
}

/// Checks the optional procedure label: plain text, at most [`MAX_PROCEDURE_CHARS`].
fn clean_procedure(label: Option<&str>) -> Result<Option<String>, String> {
    let Some(label) = label.map(str::trim).filter(|l| !l.is_empty()) else {
        return Ok(None);
    };
    if label.chars().count() > MAX_PROCEDURE_CHARS {
        return Err(format!(
            "procedure: at most {MAX_PROCEDURE_CHARS} characters"
        ));
    }
    if label.chars().any(char::is_control) {
        return Err("procedure: control characters are not allowed".into());
    }
    Ok(Some(label.to_string()))
}
