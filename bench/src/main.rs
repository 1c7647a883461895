//! `acote-bench`: measurements run on purpose, writing JSON and a readable summary.
//!
//! `acote-bench load`: starts a real relay process and holds many idle agents and some
//! paired sessions on it, all on loopback (spread over several 127.0.0.x source addresses,
//! as residents behind different boxes would be), bounded in count and time. Reports the
//! relay's memory per idle agent, its CPU, and the time to pair a session under that load.
//!
//! `acote-bench turn`: relayed throughput and server CPU per relayed Mbit/s, the relay's
//! embedded TURN and Debian's coturn side by side in one run.

mod load;
mod turn;

use std::path::PathBuf;
use std::process::ExitCode;

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
    /// Idle agents and paired sessions on one relay: memory, CPU, pairing time.
    Load {
        /// Idle agents to connect.
        #[arg(long, default_value_t = 1000)]
        agents: usize,
        /// Sessions to pair among them (each gets a viewer exchanging signaling).
        #[arg(long, default_value_t = 50)]
        sessions: usize,
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
            relay,
            json,
        } => tokio::runtime::Runtime::new()
            .map_err(anyhow::Error::from)
            .and_then(|rt| {
                rt.block_on(load::run(load::Plan {
                    agents,
                    sessions,
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
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("acote-bench: {e:#}");
            ExitCode::from(1)
        }
    }
}
