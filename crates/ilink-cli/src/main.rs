//! The `ilink` command.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

mod app;
mod cli;
mod commands;
mod error;
mod files;
mod progress;
mod qr;

use app::exit;

/// The global options read from the environment, by argument id: an empty
/// variable means "not set" (clap would take it as an empty value and
/// report a flag the user never typed).
const ENV_OPTIONS: &[(&str, &str)] = &[
    ("base_url", "ILINK_BASE_URL"),
    ("cdn_base_url", "ILINK_CDN_BASE_URL"),
    ("state_dir", "ILINK_STATE_DIR"),
    ("database_url", "ILINK_DATABASE_URL"),
    ("database_schema", "ILINK_DATABASE_SCHEMA"),
    ("account", "ILINK_ACCOUNT"),
    ("token", "ILINK_TOKEN"),
];

/// The commands that read `ILINK_AES_KEY`.
const KEY_COMMANDS: &[&str] = &["download", "decrypt", "encrypt"];

fn empty_env(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|v| v.is_empty())
}

/// Parses the command line, ignoring empty `ILINK_*` variables.
fn parse() -> cli::Cli {
    let mut command = cli::Cli::command();
    for (id, name) in ENV_OPTIONS {
        if empty_env(name) {
            command = command.mut_arg(*id, |a| a.env(None::<&str>));
        }
    }
    if empty_env("ILINK_AES_KEY") {
        for sub in KEY_COMMANDS {
            command = command.mut_subcommand(*sub, |c| c.mut_arg("key", |a| a.env(None::<&str>)));
        }
    }
    let matches = command.get_matches();
    cli::Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

fn main() -> ExitCode {
    let mut cli = parse();
    init_logging(cli.global.verbose);
    let json = cli.global.json;
    let key_stdin = cli.key_stdin();
    if let Err(err) = cli.global.read_secrets(key_stdin) {
        return report(&err, &err.to_string(), json);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let err = app::CliError::Other(format!("cannot start the async runtime: {e}"));
            return report(&err, &err.to_string(), json);
        }
    };
    let global = cli.global.clone();
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::from(exit::OK),
        Err(err) => {
            let message = app::describe_for(&err, &global);
            report(&err, &message, json)
        }
    }
}

/// Reports a failure: with `--json` one JSON object on stdout (the stream
/// a script reads), else `error: …` on stderr, and a hint where one helps.
fn report(err: &app::CliError, message: &str, json: bool) -> ExitCode {
    let code = err.code();
    if json {
        println!(
            "{}",
            serde_json::json!({"error": err.kind(), "message": message, "exit_code": code})
        );
    } else {
        eprintln!("error: {message}");
        if code == exit::SESSION && !message.contains("rejected") {
            eprintln!("hint: run `ilink login` for a new session");
        }
    }
    ExitCode::from(code)
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info,ilink=debug",
        _ => "debug,ilink=trace,ilink_http=trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("ILINK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // Colour only for a person: a terminal, and NO_COLOR unset (no-color.org).
    let colour = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .with_target(false)
        .init();
}
