//! The relay's Prometheus metrics and readiness, served on their own address
//! (`[metrics] listen`, off by default) so monitoring never needs the public port.
//!
//! Most figures are counters the relay keeps anyway (the hub's, the TURN service's, the
//! store's): they are read when scraped. Only what has no other home lives here: sign-in
//! outcomes and the two duration histograms. Nothing here names a person, a session or a
//! code.

use std::sync::atomic::Ordering;

use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use crate::signaling::driver::HubSnapshot;
use crate::signaling::hub::{Answers, Timing};
use crate::turn::TurnStats;

/// The `Content-Type` of what [`Metrics::render`] writes.
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

type Label = [(&'static str, &'static str); 1];
type Labels2 = [(&'static str, &'static str); 2];

/// How a caseworker's sign-in ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignIn {
    /// Signed in (password, or password and passkey).
    Ok,
    /// Wrong password or passkey, unknown or disabled account.
    Failed,
    /// Refused unheard: the login or the address is locked out for a while.
    Locked,
}

impl SignIn {
    fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Failed => "failed",
            Self::Locked => "locked",
        }
    }
}

/// The metrics counted as things happen; shared by the routes and the hub's driver.
#[derive(Debug)]
pub struct Metrics {
    sign_ins: Family<Label, Counter>,
    time_to_pair: Histogram,
    time_to_answer: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// What is read from the rest of the relay when scraped.
#[derive(Debug, Default)]
pub struct Snapshot<'a> {
    /// The hub's counters and gauges; `None` once it stopped.
    pub hub: Option<HubSnapshot>,
    /// The TURN service's counters, when it runs.
    pub turn: Option<&'a TurnStats>,
    /// Audit records that could not be written.
    pub audit_write_errors: u64,
    /// Caseworkers signed in (web sessions open).
    pub web_sessions: usize,
    /// The process's resident memory, where the system tells it.
    pub resident_memory_bytes: Option<u64>,
}

impl Metrics {
    /// Empty counters and histograms.
    pub fn new() -> Self {
        Self {
            sign_ins: Family::default(),
            // A resident reads their code out within seconds to minutes; codes last 10.
            time_to_pair: Histogram::new([5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0]),
            // Questions wait 60 s for an answer.
            time_to_answer: Histogram::new([1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 45.0, 60.0]),
        }
    }

    /// Counts one sign-in's outcome.
    pub fn sign_in(&self, outcome: SignIn) {
        self.sign_ins
            .get_or_create(&[("result", outcome.as_str())])
            .inc();
    }

    /// Records a duration the hub measured.
    pub fn timing(&self, timing: Timing) {
        match timing {
            Timing::Paired(d) => self.time_to_pair.observe(d.as_secs_f64()),
            Timing::Answered(d) => self.time_to_answer.observe(d.as_secs_f64()),
        }
    }

    /// Every metric in Prometheus' text format.
    pub fn render(&self, snap: &Snapshot<'_>) -> String {
        let mut r = Registry::with_prefix("acote");
        if let Some(hub) = &snap.hub {
            register_hub(&mut r, hub);
        }
        if let Some(turn) = snap.turn {
            register_turn(&mut r, turn);
        }
        r.register(
            "sign_ins",
            "Caseworker sign-ins by result (ok, failed, locked)",
            self.sign_ins.clone(),
        );
        r.register(
            "web_sessions",
            "Caseworkers signed in now",
            ConstGauge::new(gauge(snap.web_sessions as u64)),
        );
        r.register(
            "audit_write_errors",
            "Audit records that could not be written",
            ConstCounter::new(snap.audit_write_errors),
        );
        r.register_with_unit(
            "time_to_pair",
            "From the code shown to the resident to a caseworker redeeming it",
            Unit::Seconds,
            self.time_to_pair.clone(),
        );
        r.register_with_unit(
            "time_to_consent_answer",
            "From a question put to the resident (to be seen, for control) to their answer",
            Unit::Seconds,
            self.time_to_answer.clone(),
        );
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_text::encode(&mut out, &r);
        if let Some(bytes) = snap.resident_memory_bytes {
            // The standard process metric, outside the relay's prefix.
            let mut p = Registry::with_prefix("process");
            p.register_with_unit(
                "resident_memory",
                "Resident memory size",
                Unit::Bytes,
                ConstGauge::new(gauge(bytes)),
            );
            let _ = prometheus_text::encode(&mut out, &p);
        }
        out
    }
}

fn gauge(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn register_hub(r: &mut Registry, hub: &HubSnapshot) {
    let s = &hub.stats;
    r.register(
        "agents_connected",
        "Agents connected (waiting with a code or in a session)",
        ConstGauge::new(gauge(hub.agents as u64)),
    );
    let sessions = Family::<Label, Gauge>::default();
    for (step, n) in [
        ("asking", hub.steps.asking),
        ("seen", hub.steps.seen),
        ("away", hub.steps.away),
    ] {
        sessions.get_or_create(&[("step", step)]).set(gauge(n));
    }
    r.register(
        "sessions",
        "Paired sessions by step: asking to be seen, seen, a side away and waited for",
        sessions,
    );
    r.register(
        "codes_issued",
        "Codes handed to agents",
        ConstCounter::new(s.codes_issued),
    );
    let redeems = Family::<Label, Counter>::default();
    for (result, n) in [
        ("ok", s.redeemed),
        ("wrong", s.invalid_codes),
        ("limited", s.rate_limited),
        ("full", s.relay_full),
    ] {
        redeems.get_or_create(&[("result", result)]).inc_by(n);
    }
    r.register(
        "code_redeems",
        "Codes typed by caseworkers, by result (ok, wrong, limited, full)",
        redeems,
    );
    let answers = Family::<Labels2, Counter>::default();
    let count = |question: &'static str, a: &Answers| {
        for (answer, n) in [("yes", a.yes), ("no", a.no), ("timeout", a.timeout)] {
            answers
                .get_or_create(&[("question", question), ("answer", answer)])
                .inc_by(n);
        }
    };
    count("view", &s.view_answers);
    count("control", &s.control_answers);
    r.register(
        "consent_answers",
        "Residents' answers, by question (view, control) and answer (yes, no, timeout)",
        answers,
    );
    r.register(
        "sessions_ended",
        "Sessions ended, whatever the reason",
        ConstCounter::new(s.sessions_ended),
    );
    r.register(
        "signaling_bad_messages",
        "Signaling frames refused (malformed, too large, unknown type)",
        ConstCounter::new(s.bad_messages),
    );
}

fn register_turn(r: &mut Registry, t: &TurnStats) {
    let get = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed);
    r.register(
        "turn_allocations_open",
        "TURN allocations open now",
        ConstGauge::new(gauge(get(&t.allocations_active))),
    );
    r.register(
        "turn_allocations",
        "TURN allocations made",
        ConstCounter::new(get(&t.allocations_total)),
    );
    let relayed = Family::<Label, Counter>::default();
    relayed
        .get_or_create(&[("direction", "to_peers")])
        .inc_by(get(&t.bytes_to_peers));
    relayed
        .get_or_create(&[("direction", "from_peers")])
        .inc_by(get(&t.bytes_from_peers));
    r.register_with_unit(
        "turn_relayed",
        "Media bytes relayed by TURN, by direction",
        Unit::Bytes,
        relayed,
    );
    r.register(
        "turn_refused_peers",
        "TURN permissions, channels or packets refused for a forbidden peer",
        ConstCounter::new(get(&t.peers_refused)),
    );
    r.register(
        "turn_auth_failures",
        "TURN requests with wrong, expired or revoked credentials",
        ConstCounter::new(get(&t.auth_failures)),
    );
    r.register(
        "turn_quota_refused",
        "TURN allocations refused by a quota",
        ConstCounter::new(get(&t.quota_refused)),
    );
}

/// This process's resident memory in bytes (Linux: `/proc/self/status`), else `None`.
pub fn resident_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::signaling::hub::{HubStats, SessionSteps};

    fn line<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
        text.lines().find(|l| l.starts_with(prefix))
    }

    #[test]
    fn names_types_and_values_follow_prometheus_conventions() {
        let m = Metrics::new();
        m.sign_in(SignIn::Ok);
        m.sign_in(SignIn::Failed);
        m.sign_in(SignIn::Failed);
        m.timing(Timing::Paired(Duration::from_secs(12)));
        m.timing(Timing::Answered(Duration::from_millis(3500)));
        let stats = HubStats {
            redeemed: 3,
            invalid_codes: 2,
            view_answers: Answers {
                yes: 3,
                no: 1,
                timeout: 0,
            },
            ..HubStats::default()
        };
        let turn = TurnStats::default();
        turn.bytes_to_peers.store(1200, Ordering::Relaxed);
        let text = m.render(&Snapshot {
            hub: Some(HubSnapshot {
                stats,
                agents: 4,
                sessions: 2,
                steps: SessionSteps {
                    asking: 1,
                    seen: 1,
                    away: 0,
                },
            }),
            turn: Some(&turn),
            audit_write_errors: 0,
            web_sessions: 1,
            resident_memory_bytes: Some(4096),
        });
        for want in [
            "# TYPE acote_agents_connected gauge",
            "acote_agents_connected 4",
            "acote_sessions{step=\"seen\"} 1",
            "# TYPE acote_code_redeems_total counter",
            "acote_code_redeems_total{result=\"ok\"} 3",
            "acote_code_redeems_total{result=\"wrong\"} 2",
            "acote_consent_answers_total{question=\"view\",answer=\"yes\"} 3",
            "acote_sign_ins_total{result=\"failed\"} 2",
            "acote_turn_relayed_bytes_total{direction=\"to_peers\"} 1200",
            "# TYPE acote_time_to_pair_seconds histogram",
            "acote_time_to_pair_seconds_bucket{le=\"15\"} 1",
            "acote_time_to_pair_seconds_bucket{le=\"5\"} 0",
            "acote_time_to_consent_answer_seconds_count 1",
            "acote_audit_write_errors_total 0",
            "process_resident_memory_bytes 4096",
        ] {
            assert!(
                text.lines().any(|l| l == want),
                "missing {want:?} in:\n{text}"
            );
        }
        assert!(line(&text, "acote_sign_ins_total{result=\"locked\"}").is_none());
    }

    #[test]
    fn a_stopped_hub_and_no_turn_leave_their_metrics_out() {
        let text = Metrics::new().render(&Snapshot::default());
        assert!(line(&text, "acote_agents_connected").is_none());
        assert!(line(&text, "acote_turn_").is_none());
        assert!(line(&text, "acote_audit_write_errors_total 0").is_some());
    }

    #[test]
    fn resident_memory_is_read_on_linux() {
        if cfg!(target_os = "linux") {
            assert!(resident_memory_bytes().is_some_and(|b| b > 0));
        }
    }
}
