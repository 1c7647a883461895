//! The pairing hub: which agents wait with which code, which viewer is paired with which
//! agent, and what each side must be told. Plain and synchronous: every call takes the
//! current time and returns the messages to send, so expiry and timeouts are tested by
//! passing instants, not by sleeping.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use acote_proto::code::{CODE_LIFETIME, IssuedCode};
use acote_proto::{ByeReason, ErrorCode, Redacted, Requester, SessionCode, SignalMessage};

/// Identifies one signaling connection for the life of the relay process.
pub type ConnId = u64;

/// How long a paired agent may take to answer (offer or bye) before the relay gives up
/// on its behalf. The agent's own limit is 60 s; this is the backstop for a dead agent.
pub const ANSWER_BACKSTOP: Duration = Duration::from_secs(90);

/// Wrong codes accepted from one address within [`FAILURE_WINDOW`] before refusing.
pub const MAX_FAILURES_PER_ADDR: usize = 5;

/// The window over which wrong codes from one address are counted.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(60);

/// What the hub asks its driver to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Send this message on that connection.
    Send(ConnId, SignalMessage),
}

/// Counters an admin can read; never anything that identifies a person.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct HubStats {
    /// Codes handed to agents.
    pub codes_issued: u64,
    /// Codes that ran out unused.
    pub codes_expired: u64,
    /// Codes redeemed (sessions paired).
    pub redeemed: u64,
    /// Redeems with an unknown, used or expired code.
    pub invalid_codes: u64,
    /// Redeems refused by the per-address limit.
    pub rate_limited: u64,
    /// Frames refused before reaching the hub (malformed, too large, unknown type…).
    pub bad_messages: u64,
    /// Valid messages that made no sense in the sender's state.
    pub unexpected: u64,
    /// Sessions ended, whatever the reason.
    pub sessions_ended: u64,
}

#[derive(Debug)]
enum AgentState {
    Waiting(IssuedCode),
    Paired {
        viewer: ConnId,
        since: Instant,
        answered: bool,
    },
}

#[derive(Debug)]
struct Agent {
    state: AgentState,
}

#[derive(Debug)]
struct Viewer {
    who: Requester,
    addr: IpAddr,
    agent: Option<ConnId>,
}

/// Produces fresh session codes; the relay uses the OS CSPRNG, tests a fixed sequence.
pub type CodeSource = Box<dyn FnMut() -> SessionCode + Send>;

/// The pairing state of one relay.
pub struct Hub {
    agents: HashMap<ConnId, Agent>,
    viewers: HashMap<ConnId, Viewer>,
    failures: HashMap<IpAddr, VecDeque<Instant>>,
    new_code: CodeSource,
    stats: HubStats,
}

impl Hub {
    /// A hub drawing codes from `new_code`.
    pub fn new(new_code: CodeSource) -> Self {
        Self {
            agents: HashMap::new(),
            viewers: HashMap::new(),
            failures: HashMap::new(),
            new_code,
            stats: HubStats::default(),
        }
    }

    /// A hub drawing codes from the operating system's CSPRNG.
    pub fn with_random_codes() -> Self {
        Self::new(Box::new(SessionCode::random))
    }

    /// The counters so far.
    pub fn stats(&self) -> &HubStats {
        &self.stats
    }

    /// Number of agents connected (waiting or in a session).
    pub fn agents(&self) -> usize {
        self.agents.len()
    }

    /// Number of sessions currently paired.
    pub fn sessions(&self) -> usize {
        self.viewers.values().filter(|v| v.agent.is_some()).count()
    }

    /// An agent said hello: give it a code.
    pub fn agent_joined(&mut self, now: Instant, conn: ConnId) -> Vec<Output> {
        let issued = self.issue_code(now);
        let out = vec![code_message(conn, &issued, now)];
        self.agents.insert(
            conn,
            Agent {
                state: AgentState::Waiting(issued),
            },
        );
        out
    }

    /// A viewer said hello. `who` is what the relay vouches for (never what the viewer
    /// claims); `addr` is where it connects from, for rate limits.
    pub fn viewer_joined(&mut self, conn: ConnId, who: Requester, addr: IpAddr) {
        self.viewers.insert(
            conn,
            Viewer {
                who,
                addr,
                agent: None,
            },
        );
    }

    /// A frame was refused before reaching the hub; only counted.
    pub fn bad_message(&mut self) {
        self.stats.bad_messages += 1;
    }

    /// A parsed message arrived from a connection that said hello.
    pub fn message(&mut self, now: Instant, from: ConnId, msg: SignalMessage) -> Vec<Output> {
        match msg {
            SignalMessage::Redeem { code } => self.redeem(now, from, &code),
            SignalMessage::Offer { .. } => self.forward_from_agent(from, msg),
            SignalMessage::Answer { .. } => self.forward_from_viewer(from, msg),
            SignalMessage::Candidate { .. } => self.forward_either(from, msg),
            SignalMessage::Bye { reason } => self.bye(now, from, reason),
            other => self.unexpected(from, other.kind()),
        }
    }

    /// A connection closed, cleanly or not.
    pub fn left(&mut self, now: Instant, conn: ConnId) -> Vec<Output> {
        let mut out = Vec::new();
        if let Some(agent) = self.agents.remove(&conn) {
            if let AgentState::Paired { viewer, .. } = agent.state {
                if let Some(v) = self.viewers.get_mut(&viewer) {
                    v.agent = None;
                }
                self.stats.sessions_ended += 1;
                out.push(bye(viewer, ByeReason::PeerGone));
            }
        } else if let Some(viewer) = self.viewers.remove(&conn)
            && let Some(agent) = viewer.agent
        {
            self.stats.sessions_ended += 1;
            out.push(bye(agent, ByeReason::PeerGone));
            out.extend(self.back_to_waiting(now, agent));
        }
        out
    }

    /// Time passed: replace expired codes, end sessions whose agent never answered.
    pub fn tick(&mut self, now: Instant) -> Vec<Output> {
        let mut out = Vec::new();
        let mut expired = Vec::new();
        let mut silent = Vec::new();
        for (&conn, agent) in &self.agents {
            match &agent.state {
                AgentState::Waiting(issued) if issued.is_expired(now) => expired.push(conn),
                AgentState::Paired {
                    viewer,
                    since,
                    answered: false,
                } if now.duration_since(*since) >= ANSWER_BACKSTOP => {
                    silent.push((conn, *viewer));
                }
                _ => {}
            }
        }
        for conn in expired {
            self.stats.codes_expired += 1;
            out.extend(self.back_to_waiting(now, conn));
        }
        for (agent, viewer) in silent {
            if let Some(v) = self.viewers.get_mut(&viewer) {
                v.agent = None;
            }
            self.stats.sessions_ended += 1;
            out.push(bye(viewer, ByeReason::NoAnswer));
            out.push(bye(agent, ByeReason::NoAnswer));
            out.extend(self.back_to_waiting(now, agent));
        }
        self.failures.retain(|_, times| {
            times.retain(|t| now.duration_since(*t) < FAILURE_WINDOW);
            !times.is_empty()
        });
        out
    }

    fn redeem(&mut self, now: Instant, viewer_conn: ConnId, typed: &str) -> Vec<Output> {
        let Some(viewer) = self.viewers.get(&viewer_conn) else {
            return self.unexpected(viewer_conn, "redeem");
        };
        if viewer.agent.is_some() {
            return self.unexpected(viewer_conn, "redeem");
        }
        let addr = viewer.addr;
        let recent = self.failures.entry(addr).or_default();
        recent.retain(|t| now.duration_since(*t) < FAILURE_WINDOW);
        if recent.len() >= MAX_FAILURES_PER_ADDR {
            self.stats.rate_limited += 1;
            tracing::warn!(addr = %addr, "redeem refused: too many wrong codes from this address");
            return vec![error(
                viewer_conn,
                ErrorCode::RateLimited,
                "too many wrong codes; wait a minute",
            )];
        }
        let found = SessionCode::parse(typed)
            .ok()
            .and_then(|code| self.find_agent(&code, now));
        let Some(agent_conn) = found else {
            self.stats.invalid_codes += 1;
            self.failures.entry(addr).or_default().push_back(now);
            tracing::info!(code = %Redacted(typed), "redeem refused: unknown, used or expired code");
            return vec![error(
                viewer_conn,
                ErrorCode::InvalidCode,
                "wrong or expired code",
            )];
        };
        let who = viewer.who.clone();
        if let Some(v) = self.viewers.get_mut(&viewer_conn) {
            v.agent = Some(agent_conn);
        }
        if let Some(a) = self.agents.get_mut(&agent_conn) {
            // Single use: the code is dropped here, whatever the resident answers.
            a.state = AgentState::Paired {
                viewer: viewer_conn,
                since: now,
                answered: false,
            };
        }
        self.stats.redeemed += 1;
        tracing::info!(
            agent = agent_conn,
            viewer = viewer_conn,
            "code redeemed, session paired"
        );
        vec![
            Output::Send(agent_conn, SignalMessage::Paired { by: Some(who) }),
            Output::Send(viewer_conn, SignalMessage::Paired { by: None }),
        ]
    }

    /// Compares against every waiting code so the time taken does not reveal which
    /// codes exist.
    fn find_agent(&self, typed: &SessionCode, now: Instant) -> Option<ConnId> {
        let mut found = None;
        for (&conn, agent) in &self.agents {
            if let AgentState::Waiting(issued) = &agent.state
                && issued.matches(typed, now)
            {
                found = Some(conn);
            }
        }
        found
    }

    fn forward_from_agent(&mut self, from: ConnId, msg: SignalMessage) -> Vec<Output> {
        match self.agents.get_mut(&from) {
            Some(Agent {
                state:
                    AgentState::Paired {
                        viewer, answered, ..
                    },
            }) => {
                *answered = true;
                vec![Output::Send(*viewer, msg)]
            }
            _ => self.unexpected(from, msg.kind()),
        }
    }

    fn forward_from_viewer(&mut self, from: ConnId, msg: SignalMessage) -> Vec<Output> {
        match self.viewers.get(&from).and_then(|v| v.agent) {
            Some(agent) => vec![Output::Send(agent, msg)],
            None => self.unexpected(from, msg.kind()),
        }
    }

    fn forward_either(&mut self, from: ConnId, msg: SignalMessage) -> Vec<Output> {
        if self.agents.contains_key(&from) {
            self.forward_from_agent(from, msg)
        } else {
            self.forward_from_viewer(from, msg)
        }
    }

    fn bye(&mut self, now: Instant, from: ConnId, reason: ByeReason) -> Vec<Output> {
        let (agent, viewer) = if let Some(a) = self.agents.get(&from) {
            match a.state {
                AgentState::Paired { viewer, .. } => (from, viewer),
                AgentState::Waiting(_) => return Vec::new(),
            }
        } else if let Some(agent) = self.viewers.get(&from).and_then(|v| v.agent) {
            (agent, from)
        } else {
            // A bye outside a session ends nothing; not worth an error.
            return Vec::new();
        };
        if let Some(v) = self.viewers.get_mut(&viewer) {
            v.agent = None;
        }
        self.stats.sessions_ended += 1;
        tracing::info!(agent, viewer, reason = reason.as_str(), "session ended");
        let peer = if from == agent { viewer } else { agent };
        let mut out = vec![bye(peer, reason)];
        out.extend(self.back_to_waiting(now, agent));
        out
    }

    fn back_to_waiting(&mut self, now: Instant, agent: ConnId) -> Vec<Output> {
        if !self.agents.contains_key(&agent) {
            return Vec::new();
        }
        let issued = self.issue_code(now);
        let out = vec![code_message(agent, &issued, now)];
        if let Some(a) = self.agents.get_mut(&agent) {
            a.state = AgentState::Waiting(issued);
        }
        out
    }

    fn issue_code(&mut self, now: Instant) -> IssuedCode {
        // Never hand out a code that is live for another agent.
        let mut code = (self.new_code)();
        for _ in 0..16 {
            if self.find_agent(&code, now).is_none() {
                break;
            }
            code = (self.new_code)();
        }
        self.stats.codes_issued += 1;
        IssuedCode::new(code, now)
    }

    fn unexpected(&mut self, conn: ConnId, kind: &str) -> Vec<Output> {
        self.stats.unexpected += 1;
        vec![error(
            conn,
            ErrorCode::Unexpected,
            format!("`{kind}` is not expected now"),
        )]
    }
}

fn code_message(conn: ConnId, issued: &IssuedCode, now: Instant) -> Output {
    let left = issued.expires_at.saturating_duration_since(now).as_secs();
    debug_assert!(left <= CODE_LIFETIME.as_secs());
    Output::Send(
        conn,
        SignalMessage::Code {
            code: issued.code.as_wire(),
            expires_in: left,
        },
    )
}

fn bye(conn: ConnId, reason: ByeReason) -> Output {
    Output::Send(conn, SignalMessage::Bye { reason })
}

fn error(conn: ConnId, code: ErrorCode, message: impl Into<String>) -> Output {
    Output::Send(conn, SignalMessage::error(code, message))
}

#[cfg(test)]
#[path = "hub_tests.rs"]
mod tests;
