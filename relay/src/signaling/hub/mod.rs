//! The pairing hub: which agents wait with which code, which viewer is paired with which
//! agent, and what each side must be told. Plain and synchronous: every call takes the
//! current time and returns the messages to send, so expiry and timeouts are tested by
//! passing instants, not by sleeping. What the audit log must hold comes out as
//! [`Output::Audit`] records, which the driver writes before it sends anything.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use acote_proto::code::{CODE_LIFETIME, IssuedCode};
use acote_proto::signal::Feature;
use acote_proto::{ByeReason, ErrorCode, Requester, Role, SessionCode, SignalMessage};

pub use resume::Restored;

use super::limits::{CreatedReports, WrongCodeLimits};
use crate::store::audit::{AuditEvent, Record};

/// Identifies one signaling connection for the life of the relay process.
pub type ConnId = u64;

/// How long a paired agent may take to answer (offer or bye) before the relay gives up
/// on its behalf. The agent's own limit is 60 s; this is the backstop for a dead agent.
pub const ANSWER_BACKSTOP: Duration = Duration::from_secs(90);

/// A connection silent for this long is considered gone (the relay pings every 20 s,
/// so a live peer is heard at least that often).
pub const SILENCE_LIMIT: Duration = Duration::from_secs(60);

/// What the hub asks its driver to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Send this message on that connection.
    Send(ConnId, SignalMessage),
    /// Write this record to the audit log (before any `Send` of the same call).
    Audit(Record),
    /// A session was paired: its two sides may now be given TURN credentials (handled
    /// before any `Send` of the same call).
    SessionOpened {
        /// The session id.
        session: String,
        /// The agent's connection.
        agent: ConnId,
        /// The viewer's connection.
        viewer: ConnId,
    },
    /// Keep what a restarted relay needs to resume this session (before any `Send`, so
    /// a token is never handed out that a restart would forget).
    SaveResumable(Resumable),
    /// The session with this id ended: forget its resumption state.
    ForgetResumable(String),
    /// Stop serving this connection: another connection took its place in its session,
    /// or nothing was heard from it for [`SILENCE_LIMIT`].
    Close(ConnId),
}

/// A signed-in caseworker, as the relay knows them from the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caseworker {
    /// Their login, for the audit log and per-account limits.
    pub login: String,
    /// What the resident is shown: display name and site from the account.
    pub who: Requester,
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
    /// Redeems refused by the per-address or per-account limit.
    pub rate_limited: u64,
    /// Frames refused before reaching the hub (malformed, too large, unknown type…).
    pub bad_messages: u64,
    /// Valid messages that made no sense in the sender's state.
    pub unexpected: u64,
    /// Sessions ended, whatever the reason.
    pub sessions_ended: u64,
    /// Sides put back into their session after a drop.
    pub resumed: u64,
    /// Resumption tokens refused (unknown, used, expired, or of another account).
    pub resume_refused: u64,
    /// Redeems refused because the relay had as many sessions as it takes.
    pub relay_full: u64,
    /// The residents' answers when asked to be seen.
    pub view_answers: Answers,
    /// The residents' answers when asked for control.
    pub control_answers: Answers,
}

/// How residents answered one kind of question.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Answers {
    /// They said yes.
    pub yes: u64,
    /// They said no.
    pub no: u64,
    /// The question ran out unanswered (which means no).
    pub timeout: u64,
}

/// Paired sessions by step, for the relay's gauges.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SessionSteps {
    /// Paired; the resident has not yet said yes to being seen.
    pub asking: u64,
    /// The resident said yes: the caseworker sees the screen (and may have control).
    pub seen: u64,
    /// A side dropped and is waited for (resumption).
    pub away: u64,
}

/// A duration the hub measured, for the relay's histograms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timing {
    /// From the code shown to the resident (the agent's first, or the first of its next
    /// session) to a caseworker redeeming it.
    Paired(Duration),
    /// From a question put to the resident (to be seen, or for control) to their answer
    /// (yes, no, or none in time).
    Answered(Duration),
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
    /// The audit log's name for the current session of this agent.
    session: String,
    /// The resident's language, told to the caseworker when they redeem the code.
    lang: Option<String>,
    /// Whether this session's `session_created` is in the audit log (it may have been
    /// only counted, see [`CreatedReports`]; then it is written when the code is redeemed).
    created: bool,
    /// Hashes of the two sides' resumption tokens, once the resident let the caseworker
    /// see the screen: from then on a dropped side is waited for (see `resume.rs`).
    resume: Option<TokenPair>,
    /// The guidance features already in the audit log for this session (each is
    /// recorded once, however often it is used).
    used: Vec<Feature>,
    /// Since when this agent has been waiting for a caseworker in this session.
    waiting_since: Instant,
    /// When the resident was asked a question not yet answered.
    asked: Option<Instant>,
}

impl Agent {
    /// Whether the resident's yes to viewing is on record: that yes is what mints the
    /// resumption tokens (`make_resumable`), and they go with the session.
    fn view_allowed(&self) -> bool {
        self.resume.is_some()
    }
}

#[derive(Debug)]
struct Viewer {
    caseworker: Caseworker,
    addr: IpAddr,
    agent: Option<ConnId>,
}

/// Produces fresh session codes; the relay uses the OS CSPRNG, tests a fixed sequence.
pub type CodeSource = Box<dyn FnMut() -> SessionCode + Send>;

/// The pairing state of one relay.
pub struct Hub {
    agents: HashMap<ConnId, Agent>,
    viewers: HashMap<ConnId, Viewer>,
    limits: WrongCodeLimits,
    /// Which `session_created` records are written and which only counted.
    created: CreatedReports,
    new_code: CodeSource,
    stats: HubStats,
    /// Prefix of session ids, distinct per relay process, so ids stay unique across
    /// restarts in the audit log.
    session_prefix: String,
    next_session: u64,
    /// Sessions allowed at once; redeems beyond are refused.
    pub(super) max_sessions: usize,
    /// Sessions ended since the driver last asked (their TURN credentials must go).
    ended: Vec<String>,
    /// Sides whose connection dropped, under a stand-in id, with the instant their
    /// session ends if they are not back.
    ghosts: HashMap<ConnId, Instant>,
    next_ghost: ConnId,
    /// When each watched connection was last heard from (any frame, pongs included).
    heard: HashMap<ConnId, Instant>,
    /// Durations measured since the driver last asked.
    timings: Vec<Timing>,
}

impl Hub {
    /// A hub drawing codes from `new_code`.
    pub fn new(new_code: CodeSource) -> Self {
        Self {
            agents: HashMap::new(),
            viewers: HashMap::new(),
            limits: WrongCodeLimits::default(),
            created: CreatedReports::default(),
            new_code,
            stats: HubStats::default(),
            session_prefix: "s".into(),
            next_session: 1,
            max_sessions: usize::MAX,
            ended: Vec::new(),
            ghosts: HashMap::new(),
            next_ghost: GHOST_BASE,
            heard: HashMap::new(),
            timings: Vec::new(),
        }
    }

    /// Refuses redeems while `max` sessions are paired.
    pub fn with_max_sessions(mut self, max: usize) -> Self {
        self.max_sessions = max;
        self
    }

    /// A hub drawing codes from the operating system's CSPRNG, with session ids prefixed
    /// by a random tag.
    pub fn with_random_codes() -> Self {
        let mut hub = Self::new(Box::new(SessionCode::random));
        hub.session_prefix = format!("{:08x}", rand::random::<u32>());
        hub
    }

    /// The sessions that ended since the last call.
    pub fn take_ended(&mut self) -> Vec<String> {
        std::mem::take(&mut self.ended)
    }

    /// The durations measured since the last call.
    pub fn take_timings(&mut self) -> Vec<Timing> {
        std::mem::take(&mut self.timings)
    }

    /// Paired sessions by step: (waiting for the resident's yes to be seen, seen, with
    /// a side away and waited for).
    pub fn session_steps(&self) -> SessionSteps {
        let mut steps = SessionSteps::default();
        for (conn, a) in &self.agents {
            let AgentState::Paired { viewer, .. } = a.state else {
                continue;
            };
            if self.is_ghost(*conn) || self.is_ghost(viewer) {
                steps.away += 1;
            } else if a.view_allowed() {
                steps.seen += 1;
            } else {
                steps.asking += 1;
            }
        }
        steps
    }

    /// The counters so far.
    pub fn stats(&self) -> &HubStats {
        &self.stats
    }

    /// Number of agents connected (waiting or in a session).
    pub fn agents(&self) -> usize {
        self.agents.keys().filter(|c| !self.is_ghost(**c)).count()
    }

    /// Number of sessions currently paired.
    pub fn sessions(&self) -> usize {
        self.viewers.values().filter(|v| v.agent.is_some()).count()
    }

    /// An agent said hello: give it a code.
    pub fn agent_joined(&mut self, now: Instant, conn: ConnId) -> Vec<Output> {
        let issued = self.issue_code(now);
        let session = self.new_session_id();
        let (mut out, created) = self.session_created(now, &session);
        out.push(code_message(conn, &issued, now));
        self.agents.insert(
            conn,
            Agent {
                state: AgentState::Waiting(issued),
                session,
                lang: None,
                created,
                resume: None,
                used: Vec::new(),
                waiting_since: now,
                asked: None,
            },
        );
        out
    }

    /// Wrong codes of the last day as the audit log has them (when, which account),
    /// oldest first: the per-account limits go on counting across a restart.
    pub fn restore_wrong_codes(&mut self, wrong: impl IntoIterator<Item = (Instant, String)>) {
        for (at, login) in wrong {
            self.limits.restore_account(at, &login);
        }
    }

    /// The agent said which language its resident speaks (a checked BCP 47 tag).
    pub fn set_agent_lang(&mut self, conn: ConnId, lang: Option<String>) {
        if let Some(agent) = self.agents.get_mut(&conn) {
            agent.lang = lang;
        }
    }

    /// Whether viewer `conn` is paired with an agent of this relay.
    pub fn viewer_in_session(&self, conn: ConnId) -> bool {
        self.viewers.get(&conn).is_some_and(|v| v.agent.is_some())
    }

    /// A signed-in caseworker's viewer said hello. `caseworker` comes from the store
    /// (never from what the viewer claims); `addr` is where it connects from.
    pub fn viewer_joined(&mut self, conn: ConnId, caseworker: Caseworker, addr: IpAddr) {
        self.viewers.insert(
            conn,
            Viewer {
                caseworker,
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
            SignalMessage::Redeem { code, procedure } => {
                self.redeem(now, from, &code, procedure.as_deref())
            }
            SignalMessage::Consent { event } => self.consent(now, from, event),
            SignalMessage::Used { feature } => self.used(from, feature),
            SignalMessage::Offer { .. } => self.forward_from_agent(from, msg),
            SignalMessage::Answer { .. } => self.forward_from_viewer(from, msg),
            SignalMessage::Candidate { .. } => self.forward_either(from, msg),
            SignalMessage::Bye { reason } => self.bye(now, from, reason),
            other => self.unexpected(from, other.kind()),
        }
    }

    /// Something came from `conn` (a message, a refused frame, a pong): from now on
    /// the hub closes it once it stays silent for [`SILENCE_LIMIT`].
    pub fn heard(&mut self, now: Instant, conn: ConnId) {
        self.heard.insert(conn, now);
    }

    /// A connection closed, cleanly or not.
    pub fn left(&mut self, now: Instant, conn: ConnId) -> Vec<Output> {
        self.heard.remove(&conn);
        if let Some(agent) = self.agents.get(&conn) {
            let AgentState::Paired { viewer, .. } = agent.state else {
                let out = vec![self.end_record(now, conn, "agent_left")];
                self.agents.remove(&conn);
                return out;
            };
            if agent.resume.is_some() {
                return self.side_dropped(now, conn, viewer, Role::Agent);
            }
            let out = self.finish(
                now,
                conn,
                viewer,
                "agent_gone",
                &[(viewer, ByeReason::PeerGone)],
                false,
            );
            self.agents.remove(&conn);
            out
        } else if let Some(agent) = self.viewers.get(&conn).and_then(|v| v.agent) {
            if self.agents.get(&agent).is_some_and(|a| a.resume.is_some()) {
                return self.side_dropped(now, conn, agent, Role::Viewer);
            }
            let out = self.finish(
                now,
                agent,
                conn,
                "viewer_gone",
                &[(agent, ByeReason::PeerGone)],
                true,
            );
            self.viewers.remove(&conn);
            out
        } else {
            self.viewers.remove(&conn);
            Vec::new()
        }
    }

    /// Time passed: replace expired codes, end sessions whose agent never answered,
    /// close connections silent for too long.
    pub fn tick(&mut self, now: Instant) -> Vec<Output> {
        let mut out = Vec::new();
        // Closed here, the connection's task ends its socket and the hub hears `left`,
        // which treats it as any other drop.
        let gone: Vec<ConnId> = self
            .heard
            .iter()
            .filter(|(_, at)| now.duration_since(**at) > SILENCE_LIMIT)
            .map(|(conn, _)| *conn)
            .collect();
        for conn in gone {
            tracing::info!(conn, "signaling peer silent for 60 s; closing");
            self.heard.remove(&conn);
            out.push(Output::Close(conn));
        }
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
            out.extend(self.back_to_waiting(now, conn, false));
        }
        for (agent, viewer) in silent {
            let tell = [(viewer, ByeReason::NoAnswer), (agent, ByeReason::NoAnswer)];
            out.extend(self.finish(now, agent, viewer, "no_answer", &tell, true));
        }
        out.extend(self.expire_ghosts(now));
        self.limits.prune(now);
        out
    }

    /// Whether `typed` is the live code of an agent of this relay (several relays on one
    /// database ask before looking further).
    pub fn knows_code(&self, typed: &str, now: Instant) -> bool {
        SessionCode::parse(typed)
            .ok()
            .and_then(|code| self.find_agent(&code, now))
            .is_some()
    }

    /// Gives a waiting agent another code in the same session (another relay sharing the
    /// database holds the one it was given).
    pub fn reissue_code(&mut self, now: Instant, agent: ConnId) -> Vec<Output> {
        match self.agents.get(&agent).map(|a| &a.state) {
            Some(AgentState::Waiting(_)) => self.back_to_waiting(now, agent, false),
            _ => Vec::new(),
        }
    }

    /// Compares against every waiting code so the time taken does not reveal which
    /// codes exist.
    pub(super) fn find_agent(&self, typed: &SessionCode, now: Instant) -> Option<ConnId> {
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

    /// Media signaling (offer, answer, candidates) crosses only once the resident's yes
    /// is on record: a modified agent or viewer cannot start media before it.
    fn forward_from_agent(&mut self, from: ConnId, msg: SignalMessage) -> Vec<Output> {
        let viewer = self
            .agents
            .get_mut(&from)
            .filter(|a| a.view_allowed())
            .and_then(|a| match &mut a.state {
                AgentState::Paired {
                    viewer, answered, ..
                } => {
                    *answered = true;
                    Some(*viewer)
                }
                AgentState::Waiting(_) => None,
            });
        match viewer {
            Some(viewer) => vec![Output::Send(viewer, msg)],
            None => self.unexpected(from, msg.kind()),
        }
    }

    fn forward_from_viewer(&mut self, from: ConnId, msg: SignalMessage) -> Vec<Output> {
        let agent = self.viewers.get(&from).and_then(|v| v.agent);
        match agent.filter(|a| self.agents.get(a).is_some_and(Agent::view_allowed)) {
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
        tracing::info!(agent, viewer, reason = reason.as_str(), "session ended");
        let peer = if from == agent { viewer } else { agent };
        self.finish(now, agent, viewer, reason.as_str(), &[(peer, reason)], true)
    }

    /// Ends the session between `agent` and `viewer`: its audit record, a `bye` to each
    /// connected side in `tell`, its resumption state forgotten, stand-ins of sides that
    /// were away removed, and the agent (if `agent_stays`) given a new code.
    pub(super) fn finish(
        &mut self,
        now: Instant,
        agent: ConnId,
        viewer: ConnId,
        reason: &str,
        tell: &[(ConnId, ByeReason)],
        agent_stays: bool,
    ) -> Vec<Output> {
        let mut out = vec![self.end_record(now, agent, reason)];
        if let Some(a) = self.agents.get_mut(&agent)
            && a.resume.take().is_some()
        {
            out.push(Output::ForgetResumable(a.session.clone()));
        }
        for &(conn, why) in tell {
            if !self.is_ghost(conn) {
                out.push(bye(conn, why));
            }
        }
        if let Some(v) = self.viewers.get_mut(&viewer) {
            v.agent = None;
        }
        if self.ghosts.remove(&viewer).is_some() {
            self.viewers.remove(&viewer);
        }
        if self.ghosts.remove(&agent).is_some() {
            self.agents.remove(&agent);
        } else if agent_stays {
            out.extend(self.back_to_waiting(now, agent, true));
        }
        out
    }

    /// The audit record of the end of `agent`'s current session; counts it if paired.
    fn end_record(&mut self, now: Instant, agent: ConnId, reason: &str) -> Output {
        let Some(a) = self.agents.get(&agent) else {
            return Output::Audit(Record::new(AuditEvent::SessionEnded).with("reason", reason));
        };
        let mut record = Record::new(AuditEvent::SessionEnded)
            .session(&a.session)
            .with("reason", reason);
        if let AgentState::Paired { viewer, since, .. } = a.state {
            // Counted once per session, whatever ends it.
            self.stats.sessions_ended += 1;
            self.ended.push(a.session.clone());
            if let Some(v) = self.viewers.get(&viewer) {
                record = record.actor(&v.caseworker.login);
            }
            record = record.with("duration_s", now.duration_since(since).as_secs());
        }
        Output::Audit(record)
    }

    /// Gives `agent` a fresh code; after a session ended, also a new session id.
    fn back_to_waiting(&mut self, now: Instant, agent: ConnId, new_session: bool) -> Vec<Output> {
        if !self.agents.contains_key(&agent) {
            return Vec::new();
        }
        let issued = self.issue_code(now);
        let mut out = Vec::new();
        let session = new_session.then(|| self.new_session_id());
        let created = session.as_ref().map(|id| self.session_created(now, id));
        if let Some(a) = self.agents.get_mut(&agent) {
            a.state = AgentState::Waiting(issued.clone());
            if let (Some(id), Some((record, written))) = (session, created) {
                out.extend(record);
                a.session = id;
                a.created = written;
                a.used.clear();
                a.waiting_since = now;
            }
            a.asked = None;
        }
        out.push(code_message(agent, &issued, now));
        out
    }

    /// The `session_created` record of a new session, if this one is written now (issue
    /// 16 item 5: agents connect without an account, so most of a flood is only counted);
    /// and whether it was.
    fn session_created(&mut self, now: Instant, session: &str) -> (Vec<Output>, bool) {
        match self.created.report(now) {
            Some(0) => (
                vec![Output::Audit(
                    Record::new(AuditEvent::SessionCreated).session(session),
                )],
                true,
            ),
            Some(unwritten) => (
                vec![Output::Audit(
                    Record::new(AuditEvent::SessionCreated)
                        .session(session)
                        .with("unwritten_before", unwritten),
                )],
                true,
            ),
            None => (Vec::new(), false),
        }
    }

    fn new_session_id(&mut self) -> String {
        let id = format!("{}-{}", self.session_prefix, self.next_session);
        self.next_session += 1;
        id
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

    pub(super) fn unexpected(&mut self, conn: ConnId, kind: &str) -> Vec<Output> {
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

pub(super) fn error(conn: ConnId, code: ErrorCode, message: impl Into<String>) -> Output {
    Output::Send(conn, SignalMessage::error(code, message))
}

mod redeem;

mod resume;
pub use resume::{GHOST_BASE, Resumable, TokenPair};

#[cfg(test)]
mod tests;

#[cfg(test)]
mod resume_tests;
