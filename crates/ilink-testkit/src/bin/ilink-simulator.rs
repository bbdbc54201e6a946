//! `ilink-simulator`: the iLink API and CDN simulator as a standalone process,
//! with the JSON control API enabled, for testing bots written in any
//! language. The same flags as `ilink simulate` (one parser:
//! [`ilink_testkit::cli::SimulatorArgs`]).
//!
//! It prints one JSON line with its URLs on stdout, then serves until Ctrl-C
//! or SIGTERM. Run it with `--help` for the flags.

use std::process::ExitCode;

use clap::Parser;
use ilink_testkit::cli::SimulatorArgs;

/// Runs the WeChat iLink Bot API and CDN simulator on 127.0.0.1 with its
/// JSON control API, prints one JSON line
/// {"api_url":..,"cdn_url":..,"redirect_url":..,"control_url":..} and
/// serves until Ctrl-C or SIGTERM. Durations take a unit: 250ms, 35s, 10m,
/// 24h.
#[derive(Debug, Parser)]
#[command(name = "ilink-simulator", version)]
struct Cli {
    #[command(flatten)]
    sim: SimulatorArgs,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.sim.serve().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ilink-simulator: {e}");
            ExitCode::FAILURE
        }
    }
}
