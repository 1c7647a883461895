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

use super::hub::{
    Caseworker, ConnId, Hub, HubStats, Output, Restored, Resumable, SessionSteps, TokenPair,
};
use super::ice::{TurnOffer, with_session_ice};
use crate::metrics::Metrics;
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
#[derive(Debug)]
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
    };
    (HubHandle { tx }, task)
}

impl HubTask {
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
    } = task;
    let mut conns: HashMap<ConnId, mpsc::Sender<SignalMessage>> = HashMap::new();
    let mut offers: HashMap<ConnId, TurnOffer> = HashMap::new();
    restore(&mut hub, &store).await;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut alive = tokio::time::interval(ALIVE_EVERY);
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
                match &event {
                    Event::Joined { conn, .. }
                    | Event::Message { conn, .. }
                    | Event::Bad { conn }
                    | Event::Heard { conn } => hub.heard(now, *conn),
                    Event::Left { .. } | Event::Stats(_) => {}
                }
                match event {
                    Event::Joined { conn, as_, resume, turn, tx } => {
                        conns.insert(conn, tx);
                        if let Some(turn) = turn {
                            offers.insert(conn, turn);
                        }
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
                            (JoinedAs::Agent { .. }, Some(token)) => {
                                hub.resume(now, conn, Role::Agent, &token, None)
                            }
                            (JoinedAs::Viewer { caseworker, addr }, Some(token)) => {
                                hub.resume(now, conn, Role::Viewer, &token, Some((caseworker, addr)))
                            }
                        }
                    }
                    Event::Message { conn, msg } => hub.message(now, conn, msg),
                    Event::Bad { .. } => {
                        hub.bad_message();
                        Vec::new()
                    }
                    Event::Heard { .. } => Vec::new(),
                    Event::Left { conn } => {
                        conns.remove(&conn);
                        offers.remove(&conn);
                        hub.left(now, conn)
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
            _ = tick.tick() => hub.tick(Instant::now()),
            _ = alive.tick() => {
                if let Err(e) = store.alive(unix_now()).await {
                    tracing::warn!(error = %e, "cannot note that the relay is alive");
                }
                Vec::new()
            }
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
        }
        if !write_audit(&store, &records).await {
            // Refuse rather than run unaudited: whoever this step concerns is told why
            // and disconnected; the hub hears `Left` and tidies up.
            let mut concerned: HashSet<ConnId> = sends.iter().map(|(c, _)| *c).collect();
            concerned.extend(from);
            concerned.extend(opened.iter().flat_map(|(_, a, v)| [*a, *v]));
            for conn in concerned {
                if let Some(tx) = conns.remove(&conn) {
                    let _ = tx.try_send(SignalMessage::error(ErrorCode::AuditDown, AUDIT_DOWN));
                }
            }
            continue;
        }
        if let Some(turn) = &turn {
            for (session, agent, viewer) in &opened {
                turn.session_opened(session, *agent, *viewer);
            }
        }
        for r in &saves {
            save_resumable(&store, r).await;
        }
        // Credentials are asked for here, after `SessionOpened` registered the session.
        let sends = with_session_ice(sends, |conn| offers.get(&conn)?.message(conn));
        for (conn, msg) in sends {
            let Some(tx) = conns.get(&conn) else { continue };
            if let Err(mpsc::error::TrySendError::Full(_)) = tx.try_send(msg) {
                // A connection that cannot keep up with signaling is broken; dropping its
                // sender makes its task close it, and the hub hears `Left` from there.
                tracing::warn!(conn, "connection too slow for signaling; closing it");
                conns.remove(&conn);
            }
        }
        for conn in closes {
            // Its task sees its queue closed and ends the socket.
            conns.remove(&conn);
        }
    }
}

/// How often the relay notes in the store that it is alive, so that after a crash it
/// knows how long it was gone.
const ALIVE_EVERY: Duration = Duration::from_secs(5);

async fn save_resumable(store: &Store, r: &Resumable) {
    let row = ResumableRow {
        session: r.session.clone(),
        agent_hash: r.tokens.agent.to_hex(),
        viewer_hash: r.tokens.viewer.to_hex(),
        login: r.login.clone(),
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
                save_resumable(store, &saved).await;
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
    let at = unix_now();
    for record in records {
        if let Err(e) = store.append(at, record).await {
            tracing::error!(error = %e, event = %record.event, "cannot write to the audit log");
            if record.event.starts_session() {
                return false;
            }
            continue;
        }
        if record.event == AuditEvent::CodeWrong
            && let Err(e) = store.count_wrong_code(&record.actor).await
        {
            tracing::error!(error = %e, "cannot count a wrong code");
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
