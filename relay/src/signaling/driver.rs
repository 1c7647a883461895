//! The one task that owns the [`Hub`]: connection tasks send it events over a channel and
//! it sends each connection its messages. No lock, no shared map of peers.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use acote_proto::{ErrorCode, SignalMessage};
use tokio::sync::{mpsc, oneshot};

use super::hub::{Caseworker, ConnId, Hub, HubStats, Output};
use crate::store::Store;
use crate::store::audit::Record;
use crate::store::time::unix_now;
use crate::turn::TurnService;

/// What a peer is told when its step cannot be written to the audit log.
pub const AUDIT_DOWN: &str = "the relay cannot write its audit log (disk full?); no session can start until an admin fixes it";

/// Records that start something: if one cannot be written, what it records must not
/// happen (the relay never runs a session unaudited).
const STARTS: &[&str] = &[
    "session_created",
    "code_redeemed",
    "view_allowed",
    "control_allowed",
];

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
        tx: mpsc::Sender<SignalMessage>,
    },
    Message {
        conn: ConnId,
        msg: SignalMessage,
    },
    Bad,
    Left {
        conn: ConnId,
    },
    Stats(oneshot::Sender<(HubStats, usize, usize)>),
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
}

impl HubHandle {
    /// Registers a connection that said hello; returns the queue of messages for it.
    pub async fn join(&self, conn: ConnId, as_: JoinedAs) -> mpsc::Receiver<SignalMessage> {
        let (tx, rx) = mpsc::channel(PER_CONNECTION_QUEUE);
        let _ = self.tx.send(Event::Joined { conn, as_, tx }).await;
        rx
    }

    /// Hands a parsed message to the hub.
    pub async fn message(&self, conn: ConnId, msg: SignalMessage) {
        let _ = self.tx.send(Event::Message { conn, msg }).await;
    }

    /// Counts a refused frame.
    pub async fn bad_message(&self) {
        let _ = self.tx.send(Event::Bad).await;
    }

    /// The connection is gone.
    pub async fn left(&self, conn: ConnId) {
        let _ = self.tx.send(Event::Left { conn }).await;
    }

    /// Current counters and gauges.
    pub async fn stats(&self) -> Option<HubSnapshot> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(Event::Stats(tx)).await.ok()?;
        let (stats, agents, sessions) = rx.await.ok()?;
        Some(HubSnapshot {
            stats,
            agents,
            sessions,
        })
    }
}

/// Starts the hub task, writing its audit records to `store`. It ends when every handle
/// is dropped.
pub fn spawn(hub: Hub, store: Store, turn: Option<Arc<TurnService>>) -> HubHandle {
    let (tx, rx) = mpsc::channel(1024);
    tokio::spawn(run(hub, store, turn, rx));
    HubHandle { tx }
}

async fn run(
    mut hub: Hub,
    store: Store,
    turn: Option<Arc<TurnService>>,
    mut rx: mpsc::Receiver<Event>,
) {
    let mut conns: HashMap<ConnId, mpsc::Sender<SignalMessage>> = HashMap::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let mut from = None;
        let outputs = tokio::select! {
            event = rx.recv() => {
                let Some(event) = event else { break };
                let now = Instant::now();
                from = match &event {
                    Event::Joined { conn, .. } | Event::Message { conn, .. } => Some(*conn),
                    _ => None,
                };
                match event {
                    Event::Joined { conn, as_, tx } => {
                        conns.insert(conn, tx);
                        match as_ {
                            JoinedAs::Agent { lang } => {
                                let out = hub.agent_joined(now, conn);
                                hub.set_agent_lang(conn, lang);
                                out
                            }
                            JoinedAs::Viewer { caseworker, addr } => {
                                hub.viewer_joined(conn, caseworker, addr);
                                Vec::new()
                            }
                        }
                    }
                    Event::Message { conn, msg } => hub.message(now, conn, msg),
                    Event::Bad => {
                        hub.bad_message();
                        Vec::new()
                    }
                    Event::Left { conn } => {
                        conns.remove(&conn);
                        hub.left(now, conn)
                    }
                    Event::Stats(reply) => {
                        let _ = reply.send((hub.stats().clone(), hub.agents(), hub.sessions()));
                        Vec::new()
                    }
                }
            }
            _ = tick.tick() => hub.tick(Instant::now()),
        };
        let mut records = Vec::new();
        let mut sends = Vec::new();
        for output in outputs {
            match output {
                Output::Audit(record) => records.push(record),
                Output::Send(conn, msg) => sends.push((conn, msg)),
                Output::SessionOpened {
                    session,
                    agent,
                    viewer,
                } => {
                    if let Some(turn) = &turn {
                        turn.session_opened(&session, agent, viewer);
                    }
                }
            }
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
            for conn in concerned {
                if let Some(tx) = conns.remove(&conn) {
                    let _ = tx.try_send(SignalMessage::error(ErrorCode::Unavailable, AUDIT_DOWN));
                }
            }
            continue;
        }
        for (conn, msg) in sends {
            let Some(tx) = conns.get(&conn) else { continue };
            if let Err(mpsc::error::TrySendError::Full(_)) = tx.try_send(msg) {
                // A connection that cannot keep up with signaling is broken; dropping its
                // sender makes its task close it, and the hub hears `Left` from there.
                tracing::warn!(conn, "connection too slow for signaling; closing it");
                conns.remove(&conn);
            }
        }
    }
}

/// Writes the records in order. Returns false when a record that starts something could
/// not be written (the step must not go ahead); other failures are logged.
async fn write_audit(store: &Store, records: &[Record]) -> bool {
    let at = unix_now();
    for record in records {
        if let Err(e) = store.append(at, record).await {
            tracing::error!(error = %e, event = %record.event, "cannot write to the audit log");
            if STARTS.contains(&record.event.as_str()) {
                return false;
            }
            continue;
        }
        if record.event == "code_wrong"
            && let Err(e) = store.count_wrong_code(&record.actor).await
        {
            tracing::error!(error = %e, "cannot count a wrong code");
        }
    }
    true
}
