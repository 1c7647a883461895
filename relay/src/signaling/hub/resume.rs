//! Resumption: a side of a session whose connection dropped keeps its place for
//! [`RESUME_WINDOW`] under a stand-in ("ghost") connection id, and a new connection that
//! presents that side's token takes the place back, without a new code and without a new
//! question to the resident (whose consent lives in the agent).
//!
//! Tokens are made when the agent reports the resident's yes (`view_allowed`): before
//! that there is nothing to resume, and a drop ends the session as it always did. The
//! hub keeps only their SHA-256, bound to the session and the side, and replaces a
//! token at each use. Messages sent to a ghost are dropped by the driver (it has no
//! socket for that id), which is what "the other side is away" means for signaling.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

use acote_proto::resume::{RESUME_WINDOW, ResumeToken, TokenHash};
use acote_proto::{ByeReason, Role, SignalMessage};

use super::{Agent, AgentState, Caseworker, ConnId, Hub, Output, Viewer, bye};
use crate::store::audit::{AuditEvent, Record};

/// Connection ids from here on are stand-ins for sides that are away; real connection
/// ids are counted from 1 and never get this far.
pub const GHOST_BASE: ConnId = 1 << 62;

/// The hashes of the two sides' tokens for one session.
#[derive(Debug, Clone, Copy)]
pub struct TokenPair {
    /// The agent's.
    pub agent: TokenHash,
    /// The viewer's.
    pub viewer: TokenHash,
}

/// What must survive a relay restart for a session to resume: no token, only hashes.
#[derive(Debug, Clone)]
pub struct Resumable {
    /// The session's id in the audit log.
    pub session: String,
    /// Hashes of both sides' tokens.
    pub tokens: TokenPair,
    /// The caseworker's login (their name and site are read again from the store).
    pub login: String,
}

impl PartialEq for Resumable {
    fn eq(&self, other: &Self) -> bool {
        self.session == other.session
            && self.login == other.login
            && self.tokens.agent.matches(&other.tokens.agent)
            && self.tokens.viewer.matches(&other.tokens.viewer)
    }
}

impl Eq for Resumable {}

/// A session read back from the store after a restart, to be waited for.
#[derive(Debug, Clone)]
pub struct Restored {
    /// What was saved.
    pub saved: Resumable,
    /// The caseworker as the store knows them now.
    pub caseworker: Caseworker,
    /// When the two sides' places are given up.
    pub deadline: Instant,
}

impl Hub {
    pub(super) fn is_ghost(&self, conn: ConnId) -> bool {
        conn >= GHOST_BASE
    }

    /// The resident said yes: from now on this session survives a drop. Each side gets
    /// its token; the hashes are saved first.
    pub(super) fn make_resumable(&mut self, agent: ConnId) -> Vec<Output> {
        let Some(a) = self.agents.get(&agent) else {
            return Vec::new();
        };
        let AgentState::Paired { viewer, .. } = a.state else {
            return Vec::new();
        };
        if a.resume.is_some() {
            return Vec::new();
        }
        let Some(login) = self
            .viewers
            .get(&viewer)
            .map(|v| v.caseworker.login.clone())
        else {
            return Vec::new();
        };
        let (agent_token, viewer_token) = (ResumeToken::random(), ResumeToken::random());
        let tokens = TokenPair {
            agent: agent_token.hash(),
            viewer: viewer_token.hash(),
        };
        let session = a.session.clone();
        if let Some(a) = self.agents.get_mut(&agent) {
            a.resume = Some(tokens);
        }
        vec![
            Output::SaveResumable(Resumable {
                session,
                tokens,
                login,
            }),
            token_message(agent, &agent_token),
            token_message(viewer, &viewer_token),
        ]
    }

    /// `conn`, one side of a resumable session, dropped: its place is kept under a
    /// stand-in id and the other side (`peer`) is told.
    pub(super) fn side_dropped(
        &mut self,
        now: Instant,
        conn: ConnId,
        peer: ConnId,
        role: Role,
    ) -> Vec<Output> {
        let ghost = self.next_ghost;
        self.next_ghost += 1;
        self.move_side(conn, ghost, role);
        self.ghosts.insert(ghost, now + RESUME_WINDOW);
        let agent = if role == Role::Agent { ghost } else { peer };
        tracing::info!(conn, side = ?role, "a side of a session dropped; keeping its place for 60 s");
        let mut out = vec![Output::Audit(
            self.session_record(agent, AuditEvent::ConnectionInterrupted)
                .with("side", role_name(role)),
        )];
        if !self.is_ghost(peer) {
            out.push(Output::Send(peer, SignalMessage::PeerAway));
        }
        out
    }

    /// A connection said hello with a resumption token. On success it takes its side's
    /// place; otherwise it is told the session is over (`bye connection_lost`, the same
    /// answer for every failure) and joins as new. `caseworker` is the viewer's
    /// signed-in account (ignored for agents).
    pub fn resume(
        &mut self,
        now: Instant,
        conn: ConnId,
        role: Role,
        token: &str,
        caseworker: Option<(Caseworker, IpAddr)>,
    ) -> Vec<Output> {
        match self.try_resume(now, conn, role, token, caseworker.as_ref()) {
            Some(out) => out,
            None => {
                self.stats.resume_refused += 1;
                tracing::info!(conn, side = ?role, "resumption refused");
                let mut record =
                    Record::new(AuditEvent::ResumeRefused).with("side", role_name(role));
                if let Some((cw, addr)) = &caseworker {
                    record = record.actor(&cw.login).with("addr", addr);
                }
                let mut out = vec![Output::Audit(record), bye(conn, ByeReason::ConnectionLost)];
                match (role, caseworker) {
                    (Role::Agent, _) => out.extend(self.agent_joined(now, conn)),
                    (Role::Viewer, Some((cw, addr))) => self.viewer_joined(conn, cw, addr),
                    (Role::Viewer, None) => {}
                }
                out
            }
        }
    }

    /// Whether `token` is a live token of a session of this relay, for that side.
    pub fn knows_token(&self, role: Role, token: &str) -> bool {
        let Ok(presented) = ResumeToken::parse(token).map(|t| t.hash()) else {
            return false;
        };
        self.agents.values().any(|a| {
            a.resume.is_some_and(|pair| match role {
                Role::Agent => pair.agent.matches(&presented),
                Role::Viewer => pair.viewer.matches(&presented),
            })
        })
    }

    fn try_resume(
        &mut self,
        now: Instant,
        conn: ConnId,
        role: Role,
        token: &str,
        caseworker: Option<&(Caseworker, IpAddr)>,
    ) -> Option<Vec<Output>> {
        let presented = ResumeToken::parse(token).ok()?.hash();
        // Compare against every resumable session, so timing tells nothing.
        let mut found = None;
        for (&agent, a) in &self.agents {
            if let (Some(pair), AgentState::Paired { viewer, .. }) = (&a.resume, &a.state) {
                let hash = if role == Role::Agent {
                    pair.agent
                } else {
                    pair.viewer
                };
                if hash.matches(&presented) {
                    found = Some((agent, *viewer));
                }
            }
        }
        let (agent, viewer) = found?;
        if [agent, viewer]
            .iter()
            .any(|c| self.ghosts.get(c).is_some_and(|d| now >= *d))
        {
            // Due to end at the next tick: too late.
            return None;
        }
        let (old, peer) = if role == Role::Agent {
            (agent, viewer)
        } else {
            (viewer, agent)
        };
        if role == Role::Viewer {
            let (cw, addr) = caseworker?;
            let v = self.viewers.get_mut(&viewer)?;
            if v.caseworker.login != cw.login {
                // Another account's page: the token alone is not enough.
                return None;
            }
            v.caseworker = cw.clone();
            v.addr = *addr;
        }
        let mut out = Vec::new();
        if self.ghosts.remove(&old).is_none() {
            // The old connection has not noticed it is dead yet: this one replaces it.
            out.push(Output::Close(old));
        }
        self.move_side(old, conn, role);
        let agent_now = if role == Role::Agent { conn } else { agent };
        let fresh = ResumeToken::random();
        let a = self.agents.get_mut(&agent_now)?;
        let pair = a.resume.as_mut()?;
        if role == Role::Agent {
            pair.agent = fresh.hash();
        } else {
            pair.viewer = fresh.hash();
        }
        let tokens = *pair;
        let session = a.session.clone();
        let login = self
            .viewers
            .get(&if role == Role::Agent { peer } else { conn })?;
        let (login, who) = (login.caseworker.login.clone(), login.caseworker.who.clone());
        self.stats.resumed += 1;
        tracing::info!(conn, side = ?role, "a side of a session is back");
        let present = !self.is_ghost(peer);
        out.push(Output::Audit(
            self.session_record(agent_now, AuditEvent::Resumed)
                .with("side", role_name(role)),
        ));
        // TURN learns the session's current connections, so the side that is back can
        // be given credentials again (after a relay restart, the old ones are gone).
        let viewer_now = if role == Role::Viewer { conn } else { viewer };
        out.push(Output::SessionOpened {
            session: session.clone(),
            agent: agent_now,
            viewer: viewer_now,
        });
        out.push(Output::SaveResumable(Resumable {
            session,
            tokens,
            login,
        }));
        out.push(Output::Send(
            conn,
            SignalMessage::Resumed {
                by: (role == Role::Agent).then_some(who),
                peer_present: present,
            },
        ));
        out.push(token_message(conn, &fresh));
        if present {
            out.push(Output::Send(peer, SignalMessage::PeerBack));
        }
        Some(out)
    }

    /// Sessions read back after a restart: both sides are away until they resume.
    pub fn restore(&mut self, restored: Vec<Restored>) {
        for r in restored {
            let (agent, viewer) = (self.next_ghost, self.next_ghost + 1);
            self.next_ghost += 2;
            self.agents.insert(
                agent,
                Agent {
                    state: AgentState::Paired {
                        viewer,
                        since: r.deadline - RESUME_WINDOW,
                        answered: true,
                    },
                    session: r.saved.session,
                    resume: Some(r.saved.tokens),
                    lang: None,
                    created: true,
                    used: Vec::new(),
                    waiting_since: r.deadline - RESUME_WINDOW,
                    asked: None,
                },
            );
            self.viewers.insert(
                viewer,
                Viewer {
                    caseworker: r.caseworker,
                    addr: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                    agent: Some(agent),
                },
            );
            self.ghosts.insert(agent, r.deadline);
            self.ghosts.insert(viewer, r.deadline);
        }
    }

    /// Sessions whose away side did not come back in time end, for both sides, with
    /// `connection_lost`.
    pub(super) fn expire_ghosts(&mut self, now: Instant) -> Vec<Output> {
        let due: Vec<ConnId> = self
            .ghosts
            .iter()
            .filter(|(_, deadline)| now >= **deadline)
            .map(|(c, _)| *c)
            .collect();
        let mut out = Vec::new();
        for ghost in due {
            let pair = if let Some(a) = self.agents.get(&ghost) {
                match a.state {
                    AgentState::Paired { viewer, .. } => Some((ghost, viewer)),
                    AgentState::Waiting(_) => None,
                }
            } else {
                self.viewers
                    .get(&ghost)
                    .and_then(|v| v.agent)
                    .map(|a| (a, ghost))
            };
            let Some((agent, viewer)) = pair else {
                // Already ended with its session (both sides were away).
                self.ghosts.remove(&ghost);
                continue;
            };
            tracing::info!(
                agent,
                viewer,
                "session ended: a side did not come back within 60 s"
            );
            let tell = [
                (viewer, ByeReason::ConnectionLost),
                (agent, ByeReason::ConnectionLost),
            ];
            out.extend(self.finish(now, agent, viewer, "connection_lost", &tell, true));
        }
        out
    }

    /// Moves a side's entry from connection id `from` to `to`, and the other side's link.
    fn move_side(&mut self, from: ConnId, to: ConnId, role: Role) {
        match role {
            Role::Agent => {
                let Some(a) = self.agents.remove(&from) else {
                    return;
                };
                if let AgentState::Paired { viewer, .. } = a.state
                    && let Some(v) = self.viewers.get_mut(&viewer)
                {
                    v.agent = Some(to);
                }
                self.agents.insert(to, a);
            }
            Role::Viewer => {
                let Some(v) = self.viewers.remove(&from) else {
                    return;
                };
                if let Some(agent) = v.agent
                    && let Some(Agent {
                        state: AgentState::Paired { viewer, .. },
                        ..
                    }) = self.agents.get_mut(&agent)
                {
                    *viewer = to;
                }
                self.viewers.insert(to, v);
            }
        }
    }

    /// A record about `agent`'s current session, with the caseworker as actor.
    fn session_record(&self, agent: ConnId, event: AuditEvent) -> Record {
        let Some(a) = self.agents.get(&agent) else {
            return Record::new(event);
        };
        let mut record = Record::new(event).session(&a.session);
        if let AgentState::Paired { viewer, .. } = a.state
            && let Some(v) = self.viewers.get(&viewer)
        {
            record = record.actor(&v.caseworker.login);
        }
        record
    }
}

fn token_message(conn: ConnId, token: &ResumeToken) -> Output {
    Output::Send(
        conn,
        SignalMessage::ResumeToken {
            token: token.as_wire().to_string(),
        },
    )
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Agent => "agent",
        Role::Viewer => "viewer",
    }
}
