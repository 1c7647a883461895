//! Several relays behind one name, sharing one PostgreSQL database (issue 19).
//!
//! A session lives on one relay, its *holder*: the relay of the agent that showed the
//! code, or the relay that took the session over after its holder died. A side connected
//! to another relay (a caseworker who redeems a code minted elsewhere, a side that came
//! back through another relay after a drop) is *proxied*: its relay forwards what the side
//! says to the holder as letters, and the holder's hub sees it as one more connection,
//! under a stand-in id. What the hub sends to that id goes back as letters. Each relay
//! keeps its own sockets and its own TURN: a proxied side gets its credentials from its
//! own relay, told by the holder when the session opens.
//!
//! Letters travel through the database (`store::relays`): a table, and a PostgreSQL
//! NOTIFY that wakes the addressee (the table has no size limit; NOTIFY's 8 kB would
//! not hold an offer). Relays beat every [`HEARTBEAT`]; one silent for [`DEAD_AFTER`] is
//! gone: its proxied sides are dropped (they come back and resume), and the sessions it
//! held are taken over by whichever relay a side of them comes back to.
//!
//! This file is the routing, IO-free: who is proxied where, which stand-in stands for
//! which remote side, the letters to post. The driver does the database work.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use acote_proto::{Requester, SignalMessage};
use serde::{Deserialize, Serialize};

use super::driver::JoinedAs;
use super::hub::{Caseworker, ConnId, GHOST_BASE};

/// How often a relay notes in the database that it is alive.
pub const HEARTBEAT: Duration = Duration::from_secs(2);
/// A relay not heard from for this long is gone.
pub const DEAD_AFTER: Duration = Duration::from_secs(8);
/// Stand-in ids of sides connected to other relays: above every real connection id,
/// below the hub's ghosts.
pub const REMOTE_BASE: ConnId = 1 << 61;
/// A proxied side's liveness is passed on at most this often (its pongs come every 20 s).
const HEARD_EVERY: Duration = Duration::from_secs(15);

/// A caseworker as a relay vouches for them to another (signed in on the sender).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vouched {
    /// Their login.
    pub login: String,
    /// Their display name.
    pub name: Option<String>,
    /// Their site.
    pub site: String,
    /// Where their viewer connects from (for the holder's rate limits).
    pub addr: IpAddr,
}

/// One letter between relays. `conn` is always the proxying relay's connection id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Mail {
    /// Proxy to holder: a side connected here belongs to a session or a code you hold.
    Join {
        /// The proxy's connection.
        conn: ConnId,
        /// Agent or viewer.
        agent: bool,
        /// The agent's resident's language.
        lang: Option<String>,
        /// The viewer's caseworker.
        caseworker: Option<Vouched>,
        /// The resumption token the side presented.
        resume: Option<String>,
    },
    /// Proxy to holder: the side said this (a signaling message, as JSON).
    Said {
        /// The proxy's connection.
        conn: ConnId,
        /// The message.
        msg: String,
    },
    /// Proxy to holder: the side sent a frame the proxy refused.
    Bad {
        /// The proxy's connection.
        conn: ConnId,
    },
    /// Proxy to holder: the side is alive (pongs).
    Heard {
        /// The proxy's connection.
        conn: ConnId,
    },
    /// Proxy to holder: the side's connection closed.
    Left {
        /// The proxy's connection.
        conn: ConnId,
    },
    /// Holder to proxy: send this to the side (a signaling message, as JSON).
    Deliver {
        /// The proxy's connection.
        conn: ConnId,
        /// The message.
        msg: String,
    },
    /// Holder to proxy: the side's session opened (or the side is back): give it TURN.
    Opened {
        /// The proxy's connection.
        conn: ConnId,
        /// The session's id.
        session: String,
        /// Whether the side is the agent.
        agent: bool,
    },
    /// Holder to proxy: stop serving the side.
    Close {
        /// The proxy's connection.
        conn: ConnId,
    },
    /// Holder to proxy: the session ended; its TURN credentials go.
    Ended {
        /// The session's id.
        session: String,
    },
}

impl Mail {
    /// The letter as stored.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A stored letter; `None` for one this relay cannot read (logged by the caller).
    pub fn parse(body: &str) -> Option<Self> {
        serde_json::from_str(body).ok()
    }
}

/// What the hub must be told when a letter from another relay arrives at the holder.
#[derive(Debug)]
pub enum Arrived {
    /// A side connected to another relay joins, under a stand-in id.
    Joined {
        /// The stand-in.
        conn: ConnId,
        /// What it joined as.
        as_: JoinedAs,
        /// Its resumption token.
        resume: Option<String>,
    },
    /// It said something.
    Message(ConnId, SignalMessage),
    /// It sent a refused frame.
    Bad(ConnId),
    /// It is alive.
    Heard(ConnId),
    /// It left.
    Left(ConnId),
    /// For the proxy: send this to a local connection.
    Deliver(ConnId, SignalMessage),
    /// For the proxy: open TURN for a local side of a session.
    Opened {
        /// The local connection.
        conn: ConnId,
        /// The session.
        session: String,
        /// Whether it is the agent.
        agent: bool,
    },
    /// For the proxy: close a local connection.
    Close(ConnId),
    /// For the proxy: a session ended.
    Ended(String),
}

#[derive(Debug)]
struct Proxied {
    holder: String,
    /// When its liveness was last passed on.
    heard_sent: Instant,
    /// Whether the holder paired it (a viewer's next redeem then stays with the holder).
    in_session: bool,
}

/// The routing of one relay.
#[derive(Debug)]
pub struct Routes {
    me: String,
    /// Local connections whose session or code another relay holds.
    proxied: HashMap<ConnId, Proxied>,
    /// Stand-ins for sides connected to other relays: (their relay, their connection).
    remote: HashMap<ConnId, (String, ConnId)>,
    by_remote: HashMap<(String, ConnId), ConnId>,
    next_remote: ConnId,
    /// Sessions with a side on another relay, for the `Ended` letter.
    remote_sessions: HashMap<String, Vec<(String, ConnId)>>,
    letters: Vec<(String, i64, String)>,
    seq: i64,
}

impl Routes {
    /// The routing of relay `me`, with nothing routed yet.
    pub fn new(me: String) -> Self {
        Self {
            me,
            proxied: HashMap::new(),
            remote: HashMap::new(),
            by_remote: HashMap::new(),
            next_remote: REMOTE_BASE,
            remote_sessions: HashMap::new(),
            letters: Vec::new(),
            seq: 0,
        }
    }

    /// This relay's id.
    pub fn me(&self) -> &str {
        &self.me
    }

    fn post(&mut self, to: &str, mail: &Mail) {
        self.seq += 1;
        self.letters
            .push((to.to_string(), self.seq, mail.to_json()));
    }

    /// The letters to post, numbered in the order they were written.
    pub fn take_letters(&mut self) -> Vec<(String, i64, String)> {
        std::mem::take(&mut self.letters)
    }

    // ------------------------------------------------------------------ proxy side

    /// The holder a local connection is proxied to.
    pub fn holder_of(&self, conn: ConnId) -> Option<&str> {
        self.proxied.get(&conn).map(|p| p.holder.as_str())
    }

    /// Whether a proxied viewer is in a session at its holder.
    pub fn in_session(&self, conn: ConnId) -> bool {
        self.proxied.get(&conn).is_some_and(|p| p.in_session)
    }

    /// From now on `conn` (local) is served by `holder`: it joins there.
    pub fn proxy(
        &mut self,
        now: Instant,
        conn: ConnId,
        holder: &str,
        as_: &JoinedAs,
        resume: Option<String>,
    ) {
        let (agent, lang, caseworker) = match as_ {
            JoinedAs::Agent { lang } => (true, lang.clone(), None),
            JoinedAs::Viewer { caseworker, addr } => (
                false,
                None,
                Some(Vouched {
                    login: caseworker.login.clone(),
                    name: caseworker.who.name.clone(),
                    site: caseworker.who.site.clone(),
                    addr: *addr,
                }),
            ),
        };
        self.proxied.insert(
            conn,
            Proxied {
                holder: holder.to_string(),
                heard_sent: now,
                in_session: resume.is_some(),
            },
        );
        let join = Mail::Join {
            conn,
            agent,
            lang,
            caseworker,
            resume,
        };
        self.post(holder, &join);
    }

    /// A message from a proxied side: to its holder.
    pub fn said(&mut self, conn: ConnId, msg: &SignalMessage) {
        if let Some(holder) = self.holder_of(conn).map(str::to_string) {
            self.post(
                &holder,
                &Mail::Said {
                    conn,
                    msg: msg.to_json(),
                },
            );
        }
    }

    /// A refused frame from a proxied side.
    pub fn bad(&mut self, conn: ConnId) {
        if let Some(holder) = self.holder_of(conn).map(str::to_string) {
            self.post(&holder, &Mail::Bad { conn });
        }
    }

    /// A proxied side is alive: passed on now and then.
    pub fn heard(&mut self, now: Instant, conn: ConnId) {
        let Some(p) = self.proxied.get_mut(&conn) else {
            return;
        };
        if now.saturating_duration_since(p.heard_sent) < HEARD_EVERY {
            return;
        }
        p.heard_sent = now;
        let holder = p.holder.clone();
        self.post(&holder, &Mail::Heard { conn });
    }

    /// A proxied side's connection closed: its holder is told.
    pub fn left(&mut self, conn: ConnId) {
        if let Some(p) = self.proxied.remove(&conn) {
            self.post(&p.holder, &Mail::Left { conn });
        }
    }

    /// Stops proxying `conn` without telling its holder (the holder let it go, or died).
    pub fn forget_proxied(&mut self, conn: ConnId) {
        self.proxied.remove(&conn);
    }

    /// Local connections proxied to relays not in `live`: their holder died.
    pub fn proxied_to_gone(&self, live: &HashSet<String>) -> Vec<ConnId> {
        self.proxied
            .iter()
            .filter(|(_, p)| !live.contains(&p.holder))
            .map(|(c, _)| *c)
            .collect()
    }

    // ----------------------------------------------------------------- holder side

    /// Whether `conn` is a stand-in for a side on another relay.
    pub fn is_remote(&self, conn: ConnId) -> bool {
        self.remote.contains_key(&conn)
    }

    /// What the hub sent to stand-in `conn`: to the side's relay.
    pub fn deliver(&mut self, conn: ConnId, msg: &SignalMessage) {
        if let Some((relay, theirs)) = self.remote.get(&conn).cloned() {
            self.post(
                &relay,
                &Mail::Deliver {
                    conn: theirs,
                    msg: msg.to_json(),
                },
            );
        }
    }

    /// The hub let stand-in `conn` go: its relay stops serving the side.
    pub fn close(&mut self, conn: ConnId) {
        if let Some((relay, theirs)) = self.remote.remove(&conn) {
            self.by_remote.remove(&(relay.clone(), theirs));
            self.post(&relay, &Mail::Close { conn: theirs });
        }
    }

    /// A session opened with these sides: those on other relays get their relay's TURN.
    pub fn opened(&mut self, session: &str, agent: ConnId, viewer: ConnId) {
        for (conn, is_agent) in [(agent, true), (viewer, false)] {
            let Some((relay, theirs)) = self.remote.get(&conn).cloned() else {
                continue;
            };
            self.post(
                &relay,
                &Mail::Opened {
                    conn: theirs,
                    session: session.to_string(),
                    agent: is_agent,
                },
            );
            let sides = self.remote_sessions.entry(session.to_string()).or_default();
            if !sides.contains(&(relay.clone(), theirs)) {
                sides.push((relay, theirs));
            }
        }
    }

    /// A session ended: the relays of its remote sides let its TURN credentials go.
    pub fn ended(&mut self, session: &str) {
        let Some(sides) = self.remote_sessions.remove(session) else {
            return;
        };
        let mut told: Vec<String> = Vec::new();
        for (relay, _) in sides {
            if !told.contains(&relay) {
                self.post(
                    &relay,
                    &Mail::Ended {
                        session: session.to_string(),
                    },
                );
                told.push(relay);
            }
        }
    }

    /// Stand-ins of sides on relays not in `live`: their relay died, the sides dropped.
    pub fn remote_on_gone(&self, live: &HashSet<String>) -> Vec<ConnId> {
        self.remote
            .iter()
            .filter(|(_, (relay, _))| !live.contains(relay))
            .map(|(c, _)| *c)
            .collect()
    }

    /// The hub heard that stand-in `conn` left: forgotten.
    pub fn remote_left(&mut self, conn: ConnId) {
        if let Some(key) = self.remote.remove(&conn) {
            self.by_remote.remove(&key);
        }
    }

    // -------------------------------------------------------------------- letters

    /// Reads a letter from relay `from` into what the hub (holder side) or the local
    /// connections (proxy side) must be told. `None` when it concerns nothing known.
    pub fn arrived(&mut self, from: &str, mail: Mail) -> Option<Arrived> {
        match mail {
            Mail::Join {
                conn,
                agent,
                lang,
                caseworker,
                resume,
            } => {
                let as_ = if agent {
                    JoinedAs::Agent { lang }
                } else {
                    let v = caseworker?;
                    JoinedAs::Viewer {
                        caseworker: Caseworker {
                            login: v.login,
                            who: Requester {
                                name: v.name,
                                site: v.site,
                            },
                        },
                        addr: v.addr,
                    }
                };
                let key = (from.to_string(), conn);
                // A side joining again under the same connection (a viewer redeeming
                // after a refused code) keeps its stand-in.
                let stand_in = match self.by_remote.get(&key) {
                    Some(id) => *id,
                    None => {
                        let id = self.next_remote;
                        self.next_remote += 1;
                        debug_assert!(id < GHOST_BASE);
                        self.remote.insert(id, key.clone());
                        self.by_remote.insert(key, id);
                        id
                    }
                };
                Some(Arrived::Joined {
                    conn: stand_in,
                    as_,
                    resume,
                })
            }
            Mail::Said { conn, msg } => {
                let id = *self.by_remote.get(&(from.to_string(), conn))?;
                Some(Arrived::Message(id, SignalMessage::parse(&msg).ok()?))
            }
            Mail::Bad { conn } => Some(Arrived::Bad(
                *self.by_remote.get(&(from.to_string(), conn))?,
            )),
            Mail::Heard { conn } => Some(Arrived::Heard(
                *self.by_remote.get(&(from.to_string(), conn))?,
            )),
            Mail::Left { conn } => {
                let id = self.by_remote.remove(&(from.to_string(), conn))?;
                self.remote.remove(&id);
                Some(Arrived::Left(id))
            }
            Mail::Deliver { conn, msg } => {
                let msg = SignalMessage::parse(&msg).ok()?;
                let p = self.proxied.get_mut(&conn)?;
                if p.holder != from {
                    return None;
                }
                match &msg {
                    SignalMessage::Paired { .. } | SignalMessage::Resumed { .. } => {
                        p.in_session = true;
                    }
                    SignalMessage::Bye { .. } => p.in_session = false,
                    _ => {}
                }
                Some(Arrived::Deliver(conn, msg))
            }
            Mail::Opened {
                conn,
                session,
                agent,
            } => (self.holder_of(conn)? == from).then_some(Arrived::Opened {
                conn,
                session,
                agent,
            }),
            Mail::Close { conn } => {
                if self.holder_of(conn)? != from {
                    return None;
                }
                self.proxied.remove(&conn);
                Some(Arrived::Close(conn))
            }
            Mail::Ended { session } => Some(Arrived::Ended(session)),
        }
    }
}

#[cfg(test)]
#[path = "federation_tests.rs"]
mod tests;
