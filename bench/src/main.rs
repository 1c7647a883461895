//! `acote-bench`: measurements run on purpose, writing JSON and a readable summary.
//!
//! `acote-bench load`: starts a real relay process and holds many idle agents and some
//! paired sessions on it, all on loopback (spread over several 127.0.0.x source addresses,
//! as residents behind different boxes would be), bounded in count and time. Reports the
//! relay's memory per idle agent, its CPU, and the time to pair a session under that load.
//!
//! `acote-bench turn`: relayed throughput and server CPU per relayed Mbit/s, the relay's
//! embedded TURN and Debian's coturn side by side in one run.
//!
//! `acote-bench link` and `acote-bench marker`: the two probes of the video bench
//! (`tests/bench/video.mjs`, run by `scripts/bench.sh`): an emulated network link with
//! rate, delay and loss, and the coded marker whose changes give glass-to-glass latency.

mod link;
mod load;
mod marker;
mod postgres;
mod turn;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

/// Acote's measurement commands.
#[derive(Parser)]
#[command(name = "acote-bench", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Idle agents and paired sessions on one relay, or several sharing PostgreSQL:
    /// memory, CPU, pairing time.
    Load {
        /// Idle agents to connect.
        #[arg(long, default_value_t = 1000)]
        agents: usize,
        /// Sessions to pair among them (each gets a viewer exchanging signaling).
        #[arg(long, default_value_t = 50)]
        sessions: usize,
        /// Relays sharing one PostgreSQL database, agents spread over them, every other
        /// caseworker on another relay than the agent's.
        #[arg(long, default_value_t = 1)]
        relays: usize,
        /// Their database (postgres://…); by default the bench starts its own PostgreSQL.
        #[arg(long)]
        store: Option<String>,
        /// The relay binary to start.
        #[arg(long, default_value = "target/debug/acote-relay")]
        relay: PathBuf,
        /// Where to write the JSON figures.
        #[arg(long, default_value = "load.json")]
        json: PathBuf,
    },
    /// Relayed throughput and CPU per Mbit/s: the embedded TURN beside coturn.
    Turn {
        /// Rates to send at, Mbit/s, comma-separated.
        #[arg(long, value_delimiter = ',', default_values_t = [5, 20, 50])]
        rates: Vec<u32>,
        /// Seconds per rate and server.
        #[arg(long, default_value_t = 5)]
        seconds: u64,
        /// The relay binary to start.
        #[arg(long, default_value = "target/debug/acote-relay")]
        relay: PathBuf,
        /// coturn's server binary.
        #[arg(long, default_value = "/usr/bin/turnserver")]
        coturn: PathBuf,
        /// Where to write the JSON figures.
        #[arg(long, default_value = "turn.json")]
        json: PathBuf,
    },
    /// An emulated network link into a new network namespace (rate, delay, loss, counters).
    Link {
        /// The namespace to create; the far side of the link (removed on exit).
        #[arg(long, default_value = "acote-bench")]
        netns: String,
        /// First three octets of the /24 used: .1 is this side, .2 the namespace's.
        #[arg(long, default_value = "10.77.0")]
        subnet: String,
        /// loopback, shelter-wifi, weak-4g or very-poor.
        #[arg(long, default_value = "loopback")]
        profile: String,
    },
    /// The glass-to-glass probe: paint a coded sequence number, or watch for it.
    Marker {
        #[command(subcommand)]
        action: MarkerAction,
    },
}

#[derive(Subcommand)]
enum MarkerAction {
    /// Show a new number in the screen's top-left corner every --every-ms.
    Paint {
        /// The X display, e.g. :5.
        #[arg(long)]
        display: String,
        /// Milliseconds between changes.
        #[arg(long, default_value_t = 250)]
        every_ms: u64,
        /// The first number shown (so numbers stay unique across runs on one screen).
        #[arg(long, default_value_t = 1)]
        start: u16,
    },
    /// Print each new number seen in the screen's top-left corner, polled every --every-ms.
    Watch {
        /// The X display, e.g. :6.
        #[arg(long)]
        display: String,
        /// Milliseconds between polls.
        #[arg(long, default_value_t = 2)]
        every_ms: u64,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let runtime = || tokio::runtime::Runtime::new().map_err(anyhow::Error::from);
    let result = match cli.command {
        Command::Load {
            agents,
            sessions,
            relays,
            store,
            relay,
            json,
        } => tokio::runtime::Runtime::new()
            .map_err(anyhow::Error::from)
            .and_then(|rt| {
                rt.block_on(load::run(load::Plan {
                    agents,
                    sessions,
                    relays,
                    store,
                    relay,
                    json,
                }))
            }),
        Command::Turn {
            rates,
            seconds,
            relay,
            coturn,
            json,
        } => runtime().and_then(|rt| {
            rt.block_on(turn::run(turn::Plan {
                rates,
                seconds,
                relay,
                coturn,
                json,
            }))
        }),
        Command::Link {
            netns,
            subnet,
            profile,
        } => link::Profile::named(&profile).and_then(|profile| {
            link::run(link::Plan {
                netns,
                subnet,
                profile,
            })
        }),
        Command::Marker { action } => match action {
            MarkerAction::Paint {
                display,
                every_ms,
                start,
            } => marker::paint(&display, Duration::from_millis(every_ms.max(1)), start),
            MarkerAction::Watch { display, every_ms } => {
                marker::watch(&display, Duration::from_millis(every_ms.max(1)))
            }
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("acote-bench: {e:#}");
            ExitCode::from(1)
        }
    }
}
