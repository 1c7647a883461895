//! `acote-bench link`: an emulated network link between this machine's root network
//! namespace and a namespace it creates, with a bottleneck rate, a one-way delay and random
//! loss in each direction, and byte counters. It stands in for `tc netem`, which this
//! kernel lacks (no `sch_netem`): two TUN devices, one in each namespace, with a userspace
//! forwarder between them.
//!
//! The model per direction is netem's with `rate`: a packet waits its turn at the
//! bottleneck (serialisation at `rate`), then travels `delay`; a queue longer than
//! [`QUEUE_PACKETS`] drops at the tail, and `loss` drops at random before the queue.
//!
//! Commands on stdin, one per line: `stats` prints one JSON line of counters (bytes and
//! packets each way, losses, and bytes per [`Kind`] of packet); `quit` (or
//! the end of stdin) removes the namespace and exits.

use std::io::{BufRead, Write};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rand::Rng;

/// netem's default queue limit, in packets.
const QUEUE_PACKETS: usize = 1000;

/// What one direction of the link does to packets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Shape {
    /// Bottleneck rate in bits per second; 0 means no limit.
    pub(crate) rate_bps: u64,
    /// One-way delay.
    pub(crate) delay: Duration,
    /// Probability of losing a packet, 0..1.
    pub(crate) loss: f64,
}

/// A named network profile (both directions alike; the RTT is split evenly).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Profile {
    /// Name used on the command line and in the JSON.
    pub(crate) name: &'static str,
    /// Bottleneck rate, kbit/s (0: none).
    pub(crate) rate_kbit: u64,
    /// Round-trip time added, ms.
    pub(crate) rtt_ms: u64,
    /// Loss each way, percent.
    pub(crate) loss_pct: f64,
}

/// The profiles of the bench issue.
pub(crate) const PROFILES: [Profile; 4] = [
    Profile {
        name: "loopback",
        rate_kbit: 0,
        rtt_ms: 0,
        loss_pct: 0.0,
    },
    Profile {
        name: "shelter-wifi",
        rate_kbit: 10_000,
        rtt_ms: 30,
        loss_pct: 1.0,
    },
    Profile {
        name: "weak-4g",
        rate_kbit: 1_000,
        rtt_ms: 100,
        loss_pct: 3.0,
    },
    Profile {
        name: "very-poor",
        rate_kbit: 256,
        rtt_ms: 300,
        loss_pct: 5.0,
    },
];

impl Profile {
    /// The profile called `name`.
    pub(crate) fn named(name: &str) -> anyhow::Result<Self> {
        PROFILES
            .iter()
            .find(|p| p.name == name)
            .copied()
            .with_context(|| {
                let names: Vec<_> = PROFILES.iter().map(|p| p.name).collect();
                format!(
                    "unknown network profile {name:?}; known: {}",
                    names.join(", ")
                )
            })
    }

    /// What each direction does.
    pub(crate) fn shape(&self) -> Shape {
        Shape {
            rate_bps: self.rate_kbit * 1000,
            delay: Duration::from_millis(self.rtt_ms / 2),
            loss: self.loss_pct / 100.0,
        }
    }
}

/// The bottleneck queue of one direction, IO-free: given arrival times and sizes it says
/// when each packet leaves, or that it is dropped.
#[derive(Debug)]
pub(crate) struct Bottleneck {
    shape: Shape,
    /// When the bottleneck finishes sending what it holds.
    busy_until: Option<Instant>,
    /// Departure times of packets still queued, oldest first.
    queued: std::collections::VecDeque<Instant>,
}

/// What happens to one packet.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Fate {
    /// Delivered at this time.
    Deliver(Instant),
    /// Lost at random.
    Lost,
    /// Dropped because the queue was full.
    QueueFull,
}

impl Bottleneck {
    /// A link direction with this shape.
    pub(crate) fn new(shape: Shape) -> Self {
        Self {
            shape,
            busy_until: None,
            queued: std::collections::VecDeque::new(),
        }
    }

    /// The fate of a packet of `len` bytes arriving at `now`; `roll` is uniform in 0..1.
    pub(crate) fn admit(&mut self, now: Instant, len: usize, roll: f64) -> Fate {
        if roll < self.shape.loss {
            return Fate::Lost;
        }
        if self.shape.rate_bps == 0 {
            return Fate::Deliver(now + self.shape.delay);
        }
        while self.queued.front().is_some_and(|&t| t <= now) {
            self.queued.pop_front();
        }
        if self.queued.len() >= QUEUE_PACKETS {
            return Fate::QueueFull;
        }
        let start = self.busy_until.map_or(now, |b| b.max(now));
        let serialise = Duration::from_nanos(len as u64 * 8 * 1_000_000_000 / self.shape.rate_bps);
        let departs = start + serialise;
        self.busy_until = Some(departs);
        self.queued.push_back(departs);
        Fate::Deliver(departs + self.shape.delay)
    }
}

#[derive(Default)]
struct Counters {
    bytes: AtomicU64,
    packets: AtomicU64,
    lost: AtomicU64,
    queue_full: AtomicU64,
    /// Bytes per [`Kind`], in [`Kind::ALL`]'s order: where a still screen's bytes go.
    by_kind: [AtomicU64; Kind::ALL.len()],
}

/// What an IP packet carries, read from its first bytes (RFC 7983's demultiplexing of
/// one UDP port shared by STUN, DTLS and SRTP; RFC 5761 for RTCP beside RTP).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// STUN: ICE connectivity checks and consent freshness, TURN.
    Stun,
    /// DTLS: the handshake, and the data channel (SCTP inside).
    Dtls,
    /// SRTP media: pictures, sound, retransmissions, padding.
    Rtp,
    /// SRTCP: reports, NACKs, PLIs, REMB.
    Rtcp,
    /// TCP: the signalling WebSocket, or VNC's RFB stream.
    Tcp,
    /// Anything else (ARP-free TUN: mostly IPv6 router chatter).
    Other,
}

impl Kind {
    /// Every kind, in the counters' order.
    pub(crate) const ALL: [Kind; 6] = [
        Kind::Stun,
        Kind::Dtls,
        Kind::Rtp,
        Kind::Rtcp,
        Kind::Tcp,
        Kind::Other,
    ];

    /// The kind's name in the `stats` JSON.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Stun => "stun",
            Kind::Dtls => "dtls",
            Kind::Rtp => "rtp",
            Kind::Rtcp => "rtcp",
            Kind::Tcp => "tcp",
            Kind::Other => "other",
        }
    }

    /// Classifies one IPv4 packet as read from the TUN device.
    pub(crate) fn of(packet: &[u8]) -> Kind {
        let Some(&first) = packet.first() else {
            return Kind::Other;
        };
        if first >> 4 != 4 || packet.len() < 20 {
            return Kind::Other;
        }
        let header = usize::from(first & 0x0f) * 4;
        match packet[9] {
            6 => Kind::Tcp,
            17 => {
                // Past the 8-byte UDP header.
                let payload = packet.get(header + 8..).unwrap_or(&[]);
                match payload {
                    [0..=3, ..] => Kind::Stun,
                    [20..=63, ..] => Kind::Dtls,
                    [128..=191, second, ..] if (192..=223).contains(second) => Kind::Rtcp,
                    [128..=191, ..] => Kind::Rtp,
                    _ => Kind::Other,
                }
            }
            _ => Kind::Other,
        }
    }
}

/// Options of the link command.
pub(crate) struct Plan {
    /// Network namespace to create (removed first if it exists).
    pub(crate) netns: String,
    /// First three octets of the /24 used: `.1` is the root side, `.2` the namespace's.
    pub(crate) subnet: String,
    /// The impairment.
    pub(crate) profile: Profile,
}

fn ip(args: &[&str]) -> anyhow::Result<()> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .context("cannot run `ip` (install iproute2)")?;
    if !out.status.success() {
        bail!(
            "ip {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// Creates the namespace and devices, forwards until told to quit.
pub(crate) fn run(plan: Plan) -> anyhow::Result<()> {
    let Plan {
        netns,
        subnet,
        profile,
    } = plan;
    let _ = ip(&["netns", "del", &netns]);
    ip(&["netns", "add", &netns])?;
    let result = forward(&netns, &subnet, profile);
    let _ = ip(&["netns", "del", &netns]);
    result
}

fn forward(netns: &str, subnet: &str, profile: Profile) -> anyhow::Result<()> {
    // Names are per namespace, but both devices start in the root one.
    let pid = std::process::id() % 100_000;
    let (inner_name, outer_name) = (format!("acb{pid}i"), format!("acb{pid}o"));
    let open = |name: &str| {
        tun_rs::DeviceBuilder::new()
            .name(name)
            .packet_information(false)
            .build_sync()
            .with_context(|| format!("cannot create the TUN device {name} (root needed)"))
    };
    let inner = Arc::new(open(&inner_name)?);
    let outer = Arc::new(open(&outer_name)?);
    // A TUN device keeps its file descriptor when it moves to another namespace.
    ip(&["link", "set", &inner_name, "netns", netns])?;
    let (root_ip, ns_ip) = (format!("{subnet}.1"), format!("{subnet}.2"));
    ip(&["-n", netns, "link", "set", "lo", "up"])?;
    ip(&[
        "-n",
        netns,
        "addr",
        "add",
        &format!("{ns_ip}/24"),
        "dev",
        &inner_name,
    ])?;
    ip(&["-n", netns, "link", "set", &inner_name, "up"])?;
    ip(&["addr", "add", &format!("{root_ip}/24"), "dev", &outer_name])?;
    ip(&["link", "set", &outer_name, "up"])?;

    let up = Arc::new(Counters::default());
    let down = Arc::new(Counters::default());
    let shape = profile.shape();
    direction(
        "link-up",
        Arc::clone(&inner),
        Arc::clone(&outer),
        shape,
        Arc::clone(&up),
    )?;
    direction("link-down", outer, inner, shape, Arc::clone(&down))?;

    let mut stdout = std::io::stdout().lock();
    writeln!(
        stdout,
        "link ready: namespace {netns} at {ns_ip}, root side {root_ip}, profile {}",
        profile.name
    )?;
    stdout.flush()?;
    for line in std::io::stdin().lock().lines() {
        match line?.trim() {
            "stats" => {
                let get = |c: &Counters| {
                    let by_kind: serde_json::Map<String, serde_json::Value> = Kind::ALL
                        .iter()
                        .zip(&c.by_kind)
                        .map(|(k, b)| (k.name().to_string(), b.load(Ordering::Relaxed).into()))
                        .collect();
                    serde_json::json!({
                        "bytes_by_kind": by_kind,
                        "bytes": c.bytes.load(Ordering::Relaxed),
                        "packets": c.packets.load(Ordering::Relaxed),
                        "lost": c.lost.load(Ordering::Relaxed),
                        "queue_full": c.queue_full.load(Ordering::Relaxed),
                    })
                };
                writeln!(
                    stdout,
                    "{}",
                    serde_json::json!({"up": get(&up), "down": get(&down)})
                )?;
                stdout.flush()?;
            }
            "quit" => break,
            "" => {}
            _ => writeln!(stdout, "unknown command (stats, quit)")?,
        }
    }
    Ok(())
}

/// One direction: a reader thread that admits packets into the bottleneck, and a writer
/// thread that sends each at its delivery time (times only grow, so a FIFO suffices).
fn direction(
    name: &str,
    from: Arc<tun_rs::SyncDevice>,
    to: Arc<tun_rs::SyncDevice>,
    shape: Shape,
    counters: Arc<Counters>,
) -> anyhow::Result<()> {
    let (tx, rx) = mpsc::channel::<(Instant, Vec<u8>)>();
    std::thread::Builder::new()
        .name(format!("{name}-in"))
        .spawn(move || {
            let mut bottleneck = Bottleneck::new(shape);
            let mut rng = rand::rng();
            let mut buf = vec![0u8; 65_536];
            while let Ok(n) = from.recv(&mut buf) {
                // Counted as offered: what the sender put on the wire, lost or not.
                counters.bytes.fetch_add(n as u64, Ordering::Relaxed);
                counters.packets.fetch_add(1, Ordering::Relaxed);
                let kind = Kind::of(&buf[..n]);
                if let Some(i) = Kind::ALL.iter().position(|k| *k == kind) {
                    counters.by_kind[i].fetch_add(n as u64, Ordering::Relaxed);
                }
                match bottleneck.admit(Instant::now(), n, rng.random::<f64>()) {
                    Fate::Deliver(at) => {
                        if tx.send((at, buf[..n].to_vec())).is_err() {
                            break;
                        }
                    }
                    Fate::Lost => {
                        counters.lost.fetch_add(1, Ordering::Relaxed);
                    }
                    Fate::QueueFull => {
                        counters.queue_full.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        })?;
    std::thread::Builder::new()
        .name(format!("{name}-out"))
        .spawn(move || {
            for (at, packet) in rx {
                if let Some(wait) = at.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
                let _ = to.send(&packet);
            }
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An IPv4 packet of `protocol` whose payload (after a UDP header) starts with `body`.
    fn ipv4(protocol: u8, body: &[u8]) -> Vec<u8> {
        let mut p = vec![0x45, 0, 0, 0, 0, 0, 0, 0, 64, protocol];
        p.resize(20, 0);
        p.extend_from_slice(&[0; 8]);
        p.extend_from_slice(body);
        p
    }

    #[test]
    fn packets_are_told_apart_by_their_first_bytes() {
        assert_eq!(Kind::of(&ipv4(17, &[0x00, 0x01, 0, 0])), Kind::Stun);
        assert_eq!(Kind::of(&ipv4(17, &[23, 0xfe, 0xfd])), Kind::Dtls);
        assert_eq!(Kind::of(&ipv4(17, &[0x80, 102, 0, 1])), Kind::Rtp);
        // The marker bit on a dynamic payload type (96 and up) stays media.
        assert_eq!(Kind::of(&ipv4(17, &[0x80, 0x80 | 96, 0, 1])), Kind::Rtp);
        assert_eq!(Kind::of(&ipv4(17, &[0x81, 200, 0, 6])), Kind::Rtcp);
        assert_eq!(Kind::of(&ipv4(17, &[0x8f, 205, 0, 3])), Kind::Rtcp);
        assert_eq!(Kind::of(&ipv4(6, &[0x17, 3, 3])), Kind::Tcp);
        assert_eq!(Kind::of(&ipv4(17, &[])), Kind::Other);
        assert_eq!(Kind::of(&[0x60, 0, 0, 0]), Kind::Other);
        assert_eq!(Kind::of(&[]), Kind::Other);
    }

    fn shape(rate_kbit: u64, delay_ms: u64, loss: f64) -> Shape {
        Shape {
            rate_bps: rate_kbit * 1000,
            delay: Duration::from_millis(delay_ms),
            loss,
        }
    }

    #[test]
    fn unlimited_link_only_delays() {
        let mut b = Bottleneck::new(shape(0, 15, 0.0));
        let t = Instant::now();
        assert_eq!(
            b.admit(t, 1500, 0.5),
            Fate::Deliver(t + Duration::from_millis(15))
        );
        assert_eq!(
            b.admit(t, 1500, 0.5),
            Fate::Deliver(t + Duration::from_millis(15))
        );
    }

    #[test]
    fn packets_queue_behind_each_other_at_the_rate() {
        // 1 Mbit/s: 1250 bytes take 10 ms.
        let mut b = Bottleneck::new(shape(1000, 50, 0.0));
        let t = Instant::now();
        let ms = Duration::from_millis;
        assert_eq!(b.admit(t, 1250, 0.9), Fate::Deliver(t + ms(60)));
        assert_eq!(b.admit(t, 1250, 0.9), Fate::Deliver(t + ms(70)));
        // After the queue drained, a packet waits only for itself.
        assert_eq!(b.admit(t + ms(100), 1250, 0.9), Fate::Deliver(t + ms(160)));
    }

    #[test]
    fn random_loss_and_full_queue_drop() {
        let mut b = Bottleneck::new(shape(8, 0, 0.05));
        let t = Instant::now();
        assert_eq!(b.admit(t, 100, 0.01), Fate::Lost);
        for _ in 0..QUEUE_PACKETS {
            assert!(matches!(b.admit(t, 100, 0.5), Fate::Deliver(_)));
        }
        assert_eq!(b.admit(t, 100, 0.5), Fate::QueueFull);
    }

    #[test]
    fn profiles_are_known_by_name() {
        assert_eq!(
            Profile::named("weak-4g").map(|p| p.rate_kbit).ok(),
            Some(1000)
        );
        assert!(Profile::named("moon").is_err());
        let s = Profile::named("very-poor").map(|p| p.shape()).ok();
        assert_eq!(s.map(|s| s.delay), Some(Duration::from_millis(150)));
    }
}
