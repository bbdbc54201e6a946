//! The `ilink` command.

use std::process::ExitCode;

use clap::Parser;

mod app;
mod cli;
mod commands;
mod qr;

/// Exit codes: 0 ok, 1 failure, 2 usage (clap's own), 3 session expired.
const EXIT_FAILURE: u8 = 1;
const EXIT_SESSION_EXPIRED: u8 = 3;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    init_logging(cli.global.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {}", app::describe(&err));
            if err.session_expired() {
                eprintln!("hint: the session expired; run `ilink login` again");
                ExitCode::from(EXIT_SESSION_EXPIRED)
            } else {
                ExitCode::from(EXIT_FAILURE)
            }
        }
    }
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info,ilink=debug",
        _ => "debug,ilink=trace,ilink_http=trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("ILINK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}
