//! The one task that owns the [`Hub`]: connection tasks send it events over a channel and
//! it sends each connection its messages. No lock, no shared map of peers.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use acote_proto::{ErrorCode, SignalMessage};
use tokio::sync::{mpsc, oneshot, watch};

use acote_proto::Role;
use acote_proto::resume::{RESUME_WINDOW, TokenHash};

use super::federation::{Arrived, DEAD_AFTER, HEARTBEAT, Mail, Routes};
use super::hub::{
    Caseworker, ConnId, Hub, HubStats, Output, Restored, Resumable, SessionSteps, TokenPair,
};
use super::ice::{TurnOffer, with_session_ice};
use crate::metrics::Metrics;
use crate::store::Backend;
use crate::store::Store;
use crate::store::audit::{AuditEvent, Record};
use crate::store::carry_over::ResumableRow;
use crate::store::time::unix_now;
use crate::turn::TurnService;

/// What a peer is told when its step cannot be written to the audit log.
pub const AUDIT_DOWN: &str = "the relay cannot write its audit log (disk full?); no session can start until an admin fixes it";

/// How many messages may wait for one slow connection before it is cut off.
const PER_CONNECTION_QUEUE: usize = 64;

/// What a connection said hello as.
#[derive(Debug, Clone)]
pub enum JoinedAs {
    /// A resident's agent, with its resident's language when it said it (already checked).
    Agent {
        /// BCP 47 tag, passed on to the caseworker when the code is redeemed.
        lang: Option<String>,
    },
    /// A caseworker's viewer, with who the relay vouches it is and where it connects from.
    Viewer {
        /// The signed-in caseworker (from the store, never from the viewer).
        caseworker: Caseworker,
        /// Source address, for rate limits.
        addr: IpAddr,
    },
}

enum Event {
    Joined {
        conn: ConnId,
        as_: JoinedAs,
        resume: Option<String>,
        turn: Option<TurnOffer>,
        tx: mpsc::Sender<SignalMessage>,
    },
    Message {
        conn: ConnId,
        msg: SignalMessage,
    },
    Bad {
        conn: ConnId,
    },
    Heard {
        conn: ConnId,
    },
    Left {
        conn: ConnId,
    },
    Stats(oneshot::Sender<HubSnapshot>),
}

/// A cloneable handle to the hub task.
#[derive(Clone)]
pub struct HubHandle {
    tx: mpsc::Sender<Event>,
}

/// Counters plus current gauges, as returned by [`HubHandle::stats`].
#[derive(Debug, Clone)]
pub struct HubSnapshot {
    /// The hub's counters.
    pub stats: HubStats,
    /// Agents connected.
    pub agents: usize,
    /// Sessions paired.
    pub sessions: usize,
    /// Paired sessions by step.
    pub steps: SessionSteps,
}

impl HubHandle {
    /// Registers a connection that said hello (with a resumption token if it presented
    /// one, and the TURN its sessions get if the relay runs it); returns the queue of
    /// messages for it.
    pub async fn join(
        &self,
        conn: ConnId,
        as_: JoinedAs,
        resume: Option<String>,
        turn: Option<TurnOffer>,
    ) -> mpsc::Receiver<SignalMessage> {
        let (tx, rx) = mpsc::channel(PER_CONNECTION_QUEUE);
        let _ = self
            .tx
            .send(Event::Joined {
                conn,
                as_,
                resume,
                turn,
                tx,
            })
            .await;
        rx
    }

    /// Hands a parsed message to the hub.
    pub async fn message(&self, conn: ConnId, msg: SignalMessage) {
        let _ = self.tx.send(Event::Message { conn, msg }).await;
    }

    /// Counts a refused frame from `conn` (which was heard from all the same).
    pub async fn bad_message(&self, conn: ConnId) {
        let _ = self.tx.send(Event::Bad { conn }).await;
    }

    /// A frame the hub has nothing to do with (ping, pong) came from `conn`: it is alive.
    pub async fn heard(&self, conn: ConnId) {
        let _ = self.tx.send(Event::Heard { conn }).await;
    }

    /// The connection is gone.
    pub async fn left(&self, conn: ConnId) {
        let _ = self.tx.send(Event::Left { conn }).await;
    }

    /// Current counters and gauges.
    pub async fn stats(&self) -> Option<HubSnapshot> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(Event::Stats(tx)).await.ok()?;
        rx.await.ok()
    }
}

/// The hub task, not yet running: [`crate::Relay::serve`] runs it beside the other
/// tasks of the relay.
pub struct HubTask {
    hub: Hub,
    store: Store,
    turn: Option<Arc<TurnService>>,
    metrics: Arc<Metrics>,
    rx: mpsc::Receiver<Event>,
    fed: Option<FedSetup>,
}

/// What a relay sharing its PostgreSQL database with others needs to reach them.
struct FedSetup {
    /// This relay's id among them.
    me: String,
    /// The database, for the listener of letters.
    url: String,
}

/// How long the hub goes on, once the relay shuts down, for its connections to say they
/// left (their steps go to the audit log).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Makes the hub task, writing its audit records to `store` and its durations to
/// `metrics`, and the handle to reach it.
pub fn new(
    hub: Hub,
    store: Store,
    turn: Option<Arc<TurnService>>,
    metrics: Arc<Metrics>,
) -> (HubHandle, HubTask) {
    let (tx, rx) = mpsc::channel(1024);
    let task = HubTask {
        hub,
        store,
        turn,
        metrics,
        rx,
        fed: None,
    };
    (HubHandle { tx }, task)
}

impl HubTask {
    /// Makes this relay one of several sharing the PostgreSQL database at `url` (the
    /// store's), known to the others as `me` (see `federation`).
    pub fn federated(mut self, me: String, url: String) -> Self {
        self.fed = Some(FedSetup { me, url });
        self
    }

    /// Runs until every handle is dropped, or until `shutdown` flips and then every
    /// connection has left (at most 5 s later).
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        run(self, shutdown).await;
    }
}

async fn run(task: HubTask, mut shutdown: watch::Receiver<bool>) {
    let HubTask {
        mut hub,
        store,
        turn,
        metrics,
        mut rx,
        fed,
    } = task;
    let mut conns: HashMap<ConnId, mpsc::Sender<SignalMessage>> = HashMap::new();
    let mut offers: HashMap<ConnId, TurnOffer> = HashMap::new();
    let (mut fed, listener) = match fed {
        Some(setup) => {
            let (wake_tx, wake) = mpsc::channel(1);
            let listener = tokio::spawn(listen(setup.url, setup.me.clone(), wake_tx));
            // The wrong codes already in the log are read back below (`restore`).
            let audit_seen = store.head().await.ok().flatten().map_or(0, |(seq, _)| seq);
            let mut fed = Fed {
                routes: Routes::new(setup.me),
                live: HashSet::new(),
                wake,
                joined: HashMap::new(),
                audit_seen,
                own_wrong: HashSet::new(),
            };
            fed.beat(&store).await;
            (Some(fed), Some(listener))
        }
        None => (None, None),
    };
    restore(&mut hub, &store).await;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut alive = tokio::time::interval(if fed.is_some() {
        HEARTBEAT
    } else {
        ALIVE_EVERY
    });
    alive.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut stop_by: Option<tokio::time::Instant> = None;
    let mut watching = true;
    loop {
        if let Some(by) = stop_by
            && (conns.is_empty() || tokio::time::Instant::now() >= by)
        {
            break;
        }
        let mut from = None;
        let outputs = tokio::select! {
            changed = shutdown.changed(), if watching && stop_by.is_none() => {
                match changed {
                    Ok(()) if *shutdown.borrow() => {
                        stop_by = Some(tokio::time::Instant::now() + SHUTDOWN_GRACE);
                    }
                    Ok(()) => {}
                    // A dropped sender is no shutdown: the hub then ends with its handles.
                    Err(_) => watching = false,
                }
                Vec::new()
            }
            event = rx.recv() => {
                let Some(event) = event else { break };
                let now = Instant::now();
                from = match &event {
                    Event::Joined { conn, .. } | Event::Message { conn, .. } => Some(*conn),
                    _ => None,
                };
                // A side served by another relay is heard, and answered, there.
                let proxied = match &event {
                    Event::Joined { .. } | Event::Stats(_) => false,
                    Event::Message { conn, .. }
                    | Event::Bad { conn }
                    | Event::Heard { conn }
                    | Event::Left { conn } => {
                        fed.as_ref().is_some_and(|f| f.routes.holder_of(*conn).is_some())
                    }
                };
                // (A connection that joins is heard where it is served: below.)
                match &event {
                    Event::Message { conn, .. }
                    | Event::Bad { conn }
                    | Event::Heard { conn } if !proxied => hub.heard(now, *conn),
                    _ => {}
                }
                match event {
                    Event::Joined { conn, as_, resume, turn, tx } => {
                        conns.insert(conn, tx);
                        if let Some(turn) = turn {
                            offers.insert(conn, turn);
                        }
                        match &mut fed {
                            Some(f) => f.joined(&mut hub, &store, now, conn, as_, resume).await,
                            None => {
                                hub.heard(now, conn);
                                join(&mut hub, now, conn, as_, resume)
                            }
                        }
                    }
                    Event::Message { conn, msg } => match &mut fed {
                        Some(f) => f.message(&mut hub, &store, now, conn, msg).await,
                        None => hub.message(now, conn, msg),
                    },
                    Event::Bad { conn } => {
                        match &mut fed {
                            Some(f) if proxied => f.routes.bad(conn),
                            _ => hub.bad_message(),
                        }
                        Vec::new()
                    }
                    Event::Heard { conn } => {
                        if let Some(f) = &mut fed && proxied {
                            f.routes.heard(now, conn);
                        }
                        Vec::new()
                    }
                    Event::Left { conn } => {
                        conns.remove(&conn);
                        offers.remove(&conn);
                        match &mut fed {
                            Some(f) if proxied => {
                                f.routes.left(conn);
                                f.joined.remove(&conn);
                                Vec::new()
                            }
                            Some(f) => {
                                f.joined.remove(&conn);
                                hub.left(now, conn)
                            }
                            None => hub.left(now, conn),
                        }
                    }
                    Event::Stats(reply) => {
                        let _ = reply.send(HubSnapshot {
                            stats: hub.stats().clone(),
                            agents: hub.agents(),
                            sessions: hub.sessions(),
                            steps: hub.session_steps(),
                        });
                        Vec::new()
                    }
                }
            }
            Some(()) = wake(&mut fed) => {
                match &mut fed {
                    Some(f) => f.read_mail(&mut hub, &store, turn.as_deref(), &mut conns).await,
                    None => Vec::new(),
                }
            }
            _ = tick.tick() => hub.tick(Instant::now()),
            _ = alive.tick() => {
                match &mut fed {
                    Some(f) => {
                        let mut out = f.beat_and_forget_the_gone(&mut hub, &store, &mut conns).await;
                        // Letters whose ring was missed (the listener reconnecting).
                        out.extend(f.read_mail(&mut hub, &store, turn.as_deref(), &mut conns).await);
                        out
                    }
                    None => {
                        if let Err(e) = store.alive(unix_now()).await {
                            tracing::warn!(error = %e, "cannot note that the relay is alive");
                        }
                        Vec::new()
                    }
                }
            }
        };
        let outputs = match &mut fed {
            Some(f) => f.publish_codes(&mut hub, &store, outputs).await,
            None => outputs,
        };
        let mut records = Vec::new();
        let mut sends = Vec::new();
        let mut closes = Vec::new();
        // What the step opens (TURN for a session, a saved resumption) waits for its
        // audit record: a step that cannot be recorded must leave nothing behind.
        let mut opened = Vec::new();
        let mut saves = Vec::new();
        for output in outputs {
            match output {
                Output::Audit(record) => records.push(record),
                Output::Send(conn, msg) => sends.push((conn, msg)),
                Output::SessionOpened {
                    session,
                    agent,
                    viewer,
                } => opened.push((session, agent, viewer)),
                Output::SaveResumable(r) => saves.push(r),
                Output::ForgetResumable(session) => {
                    if let Err(e) = store.forget_resumable(&session).await {
                        tracing::warn!(error = %e, "cannot forget a resumable session");
                    }
                }
                Output::Close(conn) => closes.push(conn),
            }
        }
        for timing in hub.take_timings() {
            metrics.timing(timing);
        }
        for session in hub.take_ended() {
            // From here the session's TURN credentials are refused and its relayed
            // media stops, whoever ended it and however.
            if let Some(turn) = &turn {
                turn.session_closed(&session);
            }
            if let Some(f) = &mut fed {
                f.routes.ended(&session);
            }
        }
        let own_wrong = fed.as_mut().map(|f| &mut f.own_wrong);
        if !write_audit_noting(&store, &records, own_wrong).await {
            // Refuse rather than run unaudited: whoever this step concerns is told why
            // and disconnected; the hub hears `Left` and tidies up.
            let mut concerned: HashSet<ConnId> = sends.iter().map(|(c, _)| *c).collect();
            concerned.extend(from);
            concerned.extend(opened.iter().flat_map(|(_, a, v)| [*a, *v]));
            for conn in concerned {
                let down = SignalMessage::error(ErrorCode::AuditDown, AUDIT_DOWN);
                if let Some(f) = &mut fed
                    && f.routes.is_remote(conn)
                {
                    f.routes.deliver(conn, &down);
                    f.routes.close(conn);
                    outputs_left(&mut hub, f, conn);
                } else if let Some(tx) = conns.remove(&conn) {
                    let _ = tx.try_send(down);
                }
            }
            post(&mut fed, &store).await;
            continue;
        }
        if let Some(turn) = &turn {
            for (session, agent, viewer) in &opened {
                turn.session_opened(session, *agent, *viewer);
            }
        }
        if let Some(f) = &mut fed {
            // Before the messages: a side on another relay gets its TURN before `paired`.
            for (session, agent, viewer) in &opened {
                f.routes.opened(session, *agent, *viewer);
            }
        }
        for r in &saves {
            save_resumable(&store, r, fed.as_ref().map(|f| f.routes.me())).await;
        }
        // Credentials are asked for here, after `SessionOpened` registered the session.
        let sends = with_session_ice(sends, |conn| offers.get(&conn)?.message(conn));
        for (conn, msg) in sends {
            if let Some(f) = &mut fed
                && f.routes.is_remote(conn)
            {
                f.routes.deliver(conn, &msg);
                continue;
            }
            let Some(tx) = conns.get(&conn) else { continue };
            if let Err(mpsc::error::TrySendError::Full(_)) = tx.try_send(msg) {
                // A connection that cannot keep up with signaling is broken; dropping its
                // sender makes its task close it, and the hub hears `Left` from there.
                tracing::warn!(conn, "connection too slow for signaling; closing it");
                conns.remove(&conn);
            }
        }
        for conn in closes {
            match &mut fed {
                Some(f) if f.routes.is_remote(conn) => f.routes.close(conn),
                // Its task sees its queue closed and ends the socket.
                _ => {
                    conns.remove(&conn);
                }
            }
        }
        post(&mut fed, &store).await;
    }
    if let Some(f) = &fed
        && let Err(e) = store.relay_stopped(f.routes.me()).await
    {
        tracing::warn!(error = %e, "cannot tell the other relays this one stopped");
    }
    if let Some(listener) = listener {
        listener.abort();
    }
}

/// A stand-in the hub must let go of at once (its side was told the audit log is down).
fn outputs_left(hub: &mut Hub, fed: &mut Fed, conn: ConnId) {
    fed.routes.remote_left(conn);
    // Its session, if any, ends as for any side that left; what that step would send
    // goes nowhere now (the side is closed), which is the point.
    let _ = hub.left(Instant::now(), conn);
}

/// Posts the letters the step wrote.
async fn post(fed: &mut Option<Fed>, store: &Store) {
    let Some(f) = fed else { return };
    let letters = f.routes.take_letters();
    if let Err(e) = store.post(f.routes.me(), &letters).await {
        tracing::warn!(error = %e, letters = letters.len(), "cannot post letters to the other relays");
    }
}

/// Resolves when letters are waiting (never without federation).
async fn wake(fed: &mut Option<Fed>) -> Option<()> {
    match fed {
        Some(f) => f.wake.recv().await,
        None => std::future::pending().await,
    }
}

/// A connection that said hello, on this relay's own hub.
fn join(
    hub: &mut Hub,
    now: Instant,
    conn: ConnId,
    as_: JoinedAs,
    resume: Option<String>,
) -> Vec<Output> {
    match (as_, resume) {
        (JoinedAs::Agent { lang }, None) => {
            let out = hub.agent_joined(now, conn);
            hub.set_agent_lang(conn, lang);
            out
        }
        (JoinedAs::Viewer { caseworker, addr }, None) => {
            hub.viewer_joined(conn, caseworker, addr);
            Vec::new()
        }
        (JoinedAs::Agent { .. }, Some(token)) => hub.resume(now, conn, Role::Agent, &token, None),
        (JoinedAs::Viewer { caseworker, addr }, Some(token)) => {
            hub.resume(now, conn, Role::Viewer, &token, Some((caseworker, addr)))
        }
    }
}

/// The state of a relay that shares its database with others.
struct Fed {
    routes: Routes,
    /// The relays heard from lately (this one included), as of the last heartbeat.
    live: HashSet<String>,
    /// Rung by the listener when letters wait.
    wake: mpsc::Receiver<()>,
    /// What each local viewer joined as, to join another relay with it.
    joined: HashMap<ConnId, JoinedAs>,
    /// The audit log's position up to which the wrong codes were taken in.
    audit_seen: i64,
    /// Positions of the wrong codes this relay wrote (already counted here).
    own_wrong: HashSet<i64>,
}

impl Fed {
    fn me(&self) -> String {
        self.routes.me().to_string()
    }

    /// Notes this relay alive, and reads who else is.
    async fn beat(&mut self, store: &Store) {
        let now = unix_now();
        if let Err(e) = store.relay_heartbeat(self.routes.me(), now).await {
            tracing::warn!(error = %e, "cannot note that the relay is alive");
        }
        let since = now - i64::try_from(DEAD_AFTER.as_secs()).unwrap_or(8);
        match store.live_relays(since).await {
            Ok(live) => self.live = live,
            Err(e) => tracing::warn!(error = %e, "cannot read which relays are alive"),
        }
        self.live.insert(self.me());
        if let Err(e) = store.prune_codes(now).await {
            tracing::debug!(error = %e, "cannot prune codes");
        }
        let day = i64::try_from(crate::auth::lockout::FORGET_AFTER.as_secs()).unwrap_or(86_400);
        if let Err(e) = store.prune_sign_in_counts(now - day).await {
            tracing::debug!(error = %e, "cannot prune sign-in counts");
        }
    }

    /// Whether relay `id` is alive: from the last heartbeat's list, else asked of the
    /// database (a relay that started since then is not on the list yet).
    async fn is_live(&mut self, store: &Store, id: &str) -> bool {
        if self.live.contains(id) {
            return true;
        }
        let since = unix_now() - i64::try_from(DEAD_AFTER.as_secs()).unwrap_or(8);
        match store.relay_alive_at(id).await {
            Ok(Some(at)) if at >= since => {
                self.live.insert(id.to_string());
                true
            }
            Ok(_) => false,
            Err(e) => {
                // In doubt, not gone: a session is never taken from a relay that may live.
                tracing::warn!(error = %e, "cannot tell whether another relay is alive");
                true
            }
        }
    }

    /// The heartbeat; sides proxied to a relay that died are dropped (they come back
    /// and resume), and sides of ours on a relay that died are away.
    async fn beat_and_forget_the_gone(
        &mut self,
        hub: &mut Hub,
        store: &Store,
        conns: &mut HashMap<ConnId, mpsc::Sender<SignalMessage>>,
    ) -> Vec<Output> {
        let before = self.live.clone();
        self.beat(store).await;
        for gone in before.difference(&self.live) {
            tracing::warn!(relay = %gone, "another relay stopped answering");
            if let Err(e) = store.drop_mail_to(gone).await {
                tracing::debug!(error = %e, "cannot drop letters to a relay that is gone");
            }
        }
        for conn in self.routes.proxied_to_gone(&self.live) {
            self.routes.forget_proxied(conn);
            self.joined.remove(&conn);
            // Its task sees its queue closed and ends the socket; the side comes back.
            conns.remove(&conn);
        }
        self.take_in_wrong_codes(hub, store).await;
        let now = Instant::now();
        let mut out = Vec::new();
        for conn in self.routes.remote_on_gone(&self.live) {
            self.routes.remote_left(conn);
            out.extend(hub.left(now, conn));
        }
        out
    }

    /// Takes in the wrong codes the other relays recorded since the last heartbeat: an
    /// account's limit holds over all the relays, as it does across a restart.
    async fn take_in_wrong_codes(&mut self, hub: &mut Hub, store: &Store) {
        let rows = match store.wrong_codes_after(self.audit_seen).await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the other relays' wrong codes");
                return;
            }
        };
        let (now, now_unix) = (Instant::now(), unix_now());
        let mut theirs = Vec::new();
        for (seq, at, login) in rows {
            self.audit_seen = self.audit_seen.max(seq);
            if self.own_wrong.remove(&seq) || login.is_empty() {
                continue;
            }
            let ago = Duration::from_secs(u64::try_from(now_unix - at).unwrap_or(0));
            theirs.extend(now.checked_sub(ago).map(|t| (t, login)));
        }
        let seen = self.audit_seen;
        self.own_wrong.retain(|s| *s > seen);
        hub.restore_wrong_codes(theirs);
    }

    /// A connection said hello: served here, or proxied to the relay holding the session
    /// its token names (taken over if that relay died).
    async fn joined(
        &mut self,
        hub: &mut Hub,
        store: &Store,
        now: Instant,
        conn: ConnId,
        as_: JoinedAs,
        resume: Option<String>,
    ) -> Vec<Output> {
        if matches!(as_, JoinedAs::Viewer { .. }) {
            self.joined.insert(conn, as_.clone());
        }
        let role = match as_ {
            JoinedAs::Agent { .. } => Role::Agent,
            JoinedAs::Viewer { .. } => Role::Viewer,
        };
        if let Some(token) = &resume
            && !hub.knows_token(role, token)
            && let Some(holder) = self.holder_of_token(hub, store, role, token).await
        {
            // Not the hub's: the relay holding the session answers.
            self.routes.proxy(now, conn, &holder, &as_, resume);
            return Vec::new();
        }
        hub.heard(now, conn);
        join(hub, now, conn, as_, resume)
    }

    /// The live relay holding the session of `token`, when it is not this one. A session
    /// held by a relay that died is taken over here (restored into `hub`), so the caller
    /// resumes it locally.
    async fn holder_of_token(
        &mut self,
        hub: &mut Hub,
        store: &Store,
        role: Role,
        token: &str,
    ) -> Option<String> {
        let hash = acote_proto::resume::ResumeToken::parse(token)
            .ok()?
            .hash()
            .to_hex();
        for _ in 0..3 {
            let row = match store.resumable_of(role == Role::Agent, &hash).await {
                Ok(row) => row?,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot look up a resumable session");
                    return None;
                }
            };
            if row.relay == self.routes.me() {
                return None;
            }
            if self.is_live(store, &row.relay).await {
                return Some(row.relay);
            }
            // Its relay is gone: take it over, unless another relay just did.
            let gone_at = store.relay_alive_at(&row.relay).await.ok().flatten();
            match store
                .claim_resumable(&row.session, &row.relay, self.routes.me())
                .await
            {
                Ok(Some(claimed)) => {
                    tracing::info!(from = %row.relay, "taking over a session of a relay that is gone");
                    adopt(hub, store, claimed, gone_at).await;
                    return None;
                }
                Ok(None) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot take over a session");
                    return None;
                }
            }
        }
        None
    }

    /// A message from a connection of this relay: to the hub, or to the relay holding
    /// its session or the code it redeems.
    async fn message(
        &mut self,
        hub: &mut Hub,
        store: &Store,
        now: Instant,
        conn: ConnId,
        msg: SignalMessage,
    ) -> Vec<Output> {
        let holder = self.routes.holder_of(conn).map(str::to_string);
        let redeemed = match &msg {
            SignalMessage::Redeem { code, .. } => Some(code.clone()),
            _ => None,
        };
        let Some(code) = redeemed else {
            return match holder {
                Some(_) => {
                    self.routes.said(conn, &msg);
                    Vec::new()
                }
                None => hub.message(now, conn, msg),
            };
        };
        // A redeem goes where the code was handed out; a viewer in a session stays.
        let in_session = match &holder {
            Some(_) => self.routes.in_session(conn),
            None => hub.viewer_in_session(conn),
        };
        let owner = if in_session || hub.knows_code(&code, now) {
            None
        } else {
            match store.code_owner(&code, unix_now()).await {
                Ok(Some(owner))
                    if owner != self.routes.me() && self.is_live(store, &owner).await =>
                {
                    Some(owner)
                }
                Ok(_) => None,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot look up which relay handed out a code");
                    None
                }
            }
        };
        let Some(as_) = self.joined.get(&conn).cloned() else {
            return hub.message(now, conn, msg);
        };
        match (holder, owner) {
            (Some(holder), Some(owner)) if holder != owner && !in_session => {
                self.routes.left(conn);
                self.routes.proxy(now, conn, &owner, &as_, None);
                self.routes.said(conn, &msg);
                Vec::new()
            }
            (Some(_), None) if !in_session && hub.knows_code(&code, now) => {
                // Back to this relay's own hub.
                self.routes.left(conn);
                hub.heard(now, conn);
                let mut out = join(hub, now, conn, as_, None);
                out.extend(hub.message(now, conn, msg));
                out
            }
            (Some(_), _) => {
                self.routes.said(conn, &msg);
                Vec::new()
            }
            (None, Some(owner)) => {
                // Not paired here (checked above): leaving this hub ends nothing.
                let out = hub.left(now, conn);
                self.routes.proxy(now, conn, &owner, &as_, None);
                self.routes.said(conn, &msg);
                out
            }
            (None, None) => hub.message(now, conn, msg),
        }
    }

    /// Publishes the codes handed out in `outputs`; one another relay holds already is
    /// replaced by a new one (the hub draws again).
    async fn publish_codes(
        &mut self,
        hub: &mut Hub,
        store: &Store,
        outputs: Vec<Output>,
    ) -> Vec<Output> {
        let mut out = Vec::with_capacity(outputs.len());
        for output in outputs {
            let Output::Send(conn, SignalMessage::Code { code, expires_in }) = &output else {
                out.push(output);
                continue;
            };
            let (conn, mut code, mut expires_in) = (*conn, code.clone(), *expires_in);
            let mut msg = output;
            for _ in 0..8 {
                let now = unix_now();
                let until = now + i64::try_from(expires_in).unwrap_or(0);
                match store
                    .publish_code(&code, self.routes.me(), until, now)
                    .await
                {
                    Ok(true) => break,
                    Ok(false) => {
                        let again = hub.reissue_code(Instant::now(), conn);
                        let Some(next) = again.into_iter().find(|o| {
                            matches!(o, Output::Send(c, SignalMessage::Code { .. }) if *c == conn)
                        }) else {
                            break;
                        };
                        if let Output::Send(
                            _,
                            SignalMessage::Code {
                                code: c,
                                expires_in: e,
                            },
                        ) = &next
                        {
                            (code, expires_in) = (c.clone(), *e);
                        }
                        msg = next;
                    }
                    Err(e) => {
                        // The agent keeps its code: redeemed here it works, elsewhere not.
                        tracing::warn!(error = %e, "cannot publish a code to the other relays");
                        break;
                    }
                }
            }
            out.push(msg);
        }
        out
    }

    /// Reads the letters waiting for this relay.
    async fn read_mail(
        &mut self,
        hub: &mut Hub,
        store: &Store,
        turn: Option<&TurnService>,
        conns: &mut HashMap<ConnId, mpsc::Sender<SignalMessage>>,
    ) -> Vec<Output> {
        let letters = match store.take_mail(self.routes.me()).await {
            Ok(letters) => letters,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read letters from the other relays");
                return Vec::new();
            }
        };
        let now = Instant::now();
        let mut out = Vec::new();
        for letter in letters {
            let Some(mail) = Mail::parse(&letter.body) else {
                tracing::warn!(from = %letter.from, "unreadable letter from another relay; dropped");
                continue;
            };
            let Some(arrived) = self.routes.arrived(&letter.from, mail) else {
                continue;
            };
            match arrived {
                Arrived::Joined { conn, as_, resume } => {
                    hub.heard(now, conn);
                    out.extend(join(hub, now, conn, as_, resume));
                }
                Arrived::Message(conn, msg) => {
                    hub.heard(now, conn);
                    out.extend(hub.message(now, conn, msg));
                }
                Arrived::Bad(conn) => {
                    hub.heard(now, conn);
                    hub.bad_message();
                }
                Arrived::Heard(conn) => hub.heard(now, conn),
                Arrived::Left(conn) => out.extend(hub.left(now, conn)),
                Arrived::Deliver(conn, msg) => out.push(Output::Send(conn, msg)),
                Arrived::Opened {
                    conn,
                    session,
                    agent,
                } => {
                    if let Some(turn) = turn {
                        turn.side_opened(&session, conn, agent);
                    }
                }
                Arrived::Close(conn) => {
                    self.joined.remove(&conn);
                    conns.remove(&conn);
                }
                Arrived::Ended(session) => {
                    if let Some(turn) = turn {
                        turn.session_closed(&session);
                    }
                }
            }
        }
        out
    }
}

/// Restores a session taken over from a relay that died: both sides are away until they
/// resume, within what is left of their 60 s since it was last alive.
async fn adopt(hub: &mut Hub, store: &Store, row: ResumableRow, gone_at: Option<i64>) {
    let now_unix = unix_now();
    let gone = gone_at.map_or(0, |t| u64::try_from(now_unix - t).unwrap_or(0));
    let left = RESUME_WINDOW.saturating_sub(Duration::from_secs(gone));
    let account = store.account(&row.login).await.ok().flatten();
    let tokens = TokenHash::from_hex(&row.agent_hash)
        .zip(TokenHash::from_hex(&row.viewer_hash))
        .map(|(agent, viewer)| TokenPair { agent, viewer });
    match (account, tokens) {
        (Some(account), Some(tokens)) if !left.is_zero() && !account.disabled => {
            hub.restore(vec![Restored {
                saved: Resumable {
                    session: row.session,
                    tokens,
                    login: row.login,
                },
                caseworker: super::caseworker::from_account(&account),
                deadline: Instant::now() + left,
            }]);
        }
        _ => {
            let _ = store.forget_resumable(&row.session).await;
            let ended = Record::new(AuditEvent::SessionEnded)
                .session(&row.session)
                .actor(&row.login)
                .with("reason", "connection_lost");
            write_audit(store, &[ended]).await;
        }
    }
}

/// Listens for "you have mail" on this relay's channel and rings `wake`; reconnects when
/// the database connection drops, ringing once after each reconnection (letters may have
/// come meanwhile). Ends when the hub task is gone.
async fn listen(url: String, me: String, wake: mpsc::Sender<()>) {
    let channel = crate::store::relays::channel(&me);
    loop {
        match sqlx::postgres::PgListener::connect(&url).await {
            Ok(mut listener) => match listener.listen(&channel).await {
                Ok(()) => {
                    let _ = wake.try_send(());
                    loop {
                        match listener.recv().await {
                            Ok(_) => {
                                if let Err(mpsc::error::TrySendError::Closed(_)) = wake.try_send(())
                                {
                                    return;
                                }
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, "lost the database's mail notifications; reconnecting");
                                break;
                            }
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for letters from the other relays")
                }
            },
            Err(e) => {
                tracing::warn!(error = %e, "cannot connect to listen for letters from the other relays")
            }
        }
        if wake.is_closed() {
            return;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// How often the relay notes in the store that it is alive, so that after a crash it
/// knows how long it was gone.
const ALIVE_EVERY: Duration = Duration::from_secs(5);

async fn save_resumable(store: &Store, r: &Resumable, relay: Option<&str>) {
    let row = ResumableRow {
        session: r.session.clone(),
        agent_hash: r.tokens.agent.to_hex(),
        viewer_hash: r.tokens.viewer.to_hex(),
        login: r.login.clone(),
        relay: relay.unwrap_or_default().to_string(),
    };
    if let Err(e) = store.save_resumable(&row).await {
        // The session goes on; only a relay restart would now end it.
        tracing::warn!(error = %e, "cannot save a resumable session");
    }
}

/// Picks up the sessions that were live when the relay last stopped: each side gets what
/// is left of its 60 s (counted from the last time the relay was known alive) to come
/// back. Sessions that cannot resume are recorded as ended.
async fn restore(hub: &mut Hub, store: &Store) {
    if store.backend() == Backend::Postgres {
        // Several relays may share the database: sessions are taken over one by one, by
        // the relay a side comes back to (`federation`), not all at start.
        restore_wrong_codes(hub, store, unix_now()).await;
        return;
    }
    let last_alive = store.last_alive().await.ok().flatten();
    let now_unix = unix_now();
    if let Err(e) = store.alive(now_unix).await {
        tracing::warn!(error = %e, "cannot note that the relay is alive");
    }
    let rows = match store.take_resumables().await {
        Ok(rows) => rows,
        Err(e) => {
            tracing::error!(error = %e, "cannot read the sessions to resume");
            return;
        }
    };
    let gone = last_alive.map_or(u64::MAX, |t| u64::try_from(now_unix - t).unwrap_or(0));
    let left = RESUME_WINDOW.saturating_sub(Duration::from_secs(gone));
    let mut restored = Vec::new();
    let mut ended = Vec::new();
    for row in rows {
        let account = store.account(&row.login).await.ok().flatten();
        let tokens = TokenHash::from_hex(&row.agent_hash)
            .zip(TokenHash::from_hex(&row.viewer_hash))
            .map(|(agent, viewer)| TokenPair { agent, viewer });
        match (account, tokens) {
            (Some(account), Some(tokens)) if !left.is_zero() && !account.disabled => {
                let saved = Resumable {
                    session: row.session,
                    tokens,
                    login: row.login,
                };
                save_resumable(store, &saved, None).await;
                restored.push(Restored {
                    saved,
                    caseworker: super::caseworker::from_account(&account),
                    deadline: Instant::now() + left,
                });
            }
            _ => ended.push(
                Record::new(AuditEvent::SessionEnded)
                    .session(&row.session)
                    .actor(&row.login)
                    .with("reason", "connection_lost"),
            ),
        }
    }
    if !restored.is_empty() {
        tracing::info!(
            sessions = restored.len(),
            left_s = left.as_secs(),
            "waiting for the sides of sessions live before the restart"
        );
    }
    hub.restore(restored);
    write_audit(store, &ended).await;
    restore_wrong_codes(hub, store, now_unix).await;
}

/// Reads back the wrong codes of the last day from the audit log, so a restart does not
/// hand a stolen account fresh tries.
async fn restore_wrong_codes(hub: &mut Hub, store: &Store, now_unix: i64) {
    let day = i64::try_from(super::limits::ACCOUNT_DAY.as_secs()).unwrap_or(i64::MAX);
    let entries = match store.entries_between(now_unix - day, now_unix + 1).await {
        Ok(entries) => entries,
        Err(e) => {
            tracing::error!(error = %e, "cannot read back the wrong codes of the last day");
            return;
        }
    };
    let now = Instant::now();
    let wrong = entries
        .into_iter()
        .filter(|e| e.record.event == AuditEvent::CodeWrong && !e.record.actor.is_empty())
        .filter_map(|e| {
            let ago = Duration::from_secs(u64::try_from(now_unix - e.at).unwrap_or(0));
            Some((now.checked_sub(ago)?, e.record.actor))
        });
    hub.restore_wrong_codes(wrong);
}

/// Writes the records in order. Returns false when a record that starts something could
/// not be written (the step must not go ahead); other failures are logged.
async fn write_audit(store: &Store, records: &[Record]) -> bool {
    write_audit_noting(store, records, None).await
}

/// The same, noting in `own` the positions of the wrong codes written (relays sharing a
/// database take in the others' wrong codes from the log, not their own twice).
async fn write_audit_noting(
    store: &Store,
    records: &[Record],
    mut own: Option<&mut HashSet<i64>>,
) -> bool {
    let at = unix_now();
    for record in records {
        let seq = match store.append(at, record).await {
            Ok(seq) => seq,
            Err(e) => {
                tracing::error!(error = %e, event = %record.event, "cannot write to the audit log");
                if record.event.starts_session() {
                    return false;
                }
                continue;
            }
        };
        if record.event == AuditEvent::CodeWrong {
            if let Some(own) = own.as_deref_mut() {
                own.insert(seq);
            }
            if let Err(e) = store.count_wrong_code(&record.actor).await {
                tracing::error!(error = %e, "cannot count a wrong code");
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

    use super::*;

    async fn started(name: &str) -> (HubHandle, watch::Sender<bool>, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("acote-driver-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let store = Store::open(&dir).await.unwrap();
        let (hub, task) = new(Hub::with_random_codes(), store, None, Arc::default());
        let (stop, shutdown) = watch::channel(false);
        tokio::spawn(task.run(shutdown));
        (hub, stop, dir)
    }

    fn agent() -> JoinedAs {
        JoinedAs::Agent { lang: None }
    }

    #[tokio::test]
    async fn issue22_the_hub_task_ends_once_its_connections_left_after_shutdown() {
        let (hub, stop, dir) = started("shutdown").await;
        let _outbox = hub.join(1, agent(), None, None).await;
        assert!(hub.stats().await.is_some());
        stop.send(true).unwrap();
        // Still there for the connection's last steps.
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(hub.stats().await.map(|s| s.agents), Some(1));
        hub.left(1).await;
        // Within a tick of the last one leaving.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert!(hub.stats().await.is_none(), "ended once nobody was left");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn issue22_the_hub_task_gives_up_on_connections_5_s_after_shutdown() {
        let (hub, stop, dir) = started("grace").await;
        let _outbox = hub.join(1, agent(), None, None).await;
        assert!(hub.stats().await.is_some());
        stop.send(true).unwrap();
        tokio::time::sleep(SHUTDOWN_GRACE + Duration::from_millis(1500)).await;
        assert!(
            hub.stats().await.is_none(),
            "ended without the connection's goodbye"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
