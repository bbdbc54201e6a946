//! How the examples find their bot, from the environment:
//!
//! - `ILINK_TOKEN`: act as the bot with this token;
//! - `ILINK_STATE_DIR`: the state directory (default `./ilink-state`): stored
//!   logins, and the cursor, inbox and context tokens that let a restart
//!   resume where the bot stopped;
//! - `ILINK_BASE_URL`, `ILINK_CDN_BASE_URL`: other hosts, e.g. a simulator
//!   started with `cargo run -p ilink-cli -- simulate`;
//! - `RUST_LOG`: the log filter.
//!
//! Each example uses part of this module.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use ilink::http::Transport;
use ilink::{Bot, Client, Credentials, Error, SqliteStore};

/// The exit code when no bot is configured.
pub(crate) const NOT_CONFIGURED: u8 = 2;

/// Logs to stderr, filtered by `RUST_LOG` (else `default`).
pub(crate) fn init_logging(default: &str) {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| default.into()),
        )
        .init();
}

/// The state directory.
pub(crate) fn state_dir() -> PathBuf {
    std::env::var_os("ILINK_STATE_DIR").map_or_else(|| PathBuf::from("ilink-state"), PathBuf::from)
}

/// A client on the state directory's file store, with the hosts of the
/// environment.
pub(crate) fn client(bot_agent: &str) -> Result<Client, Error> {
    let mut transport = Transport::builder().bot_agent(bot_agent);
    if let Ok(url) = std::env::var("ILINK_BASE_URL") {
        transport = transport.api_base_url(url);
    }
    if let Ok(url) = std::env::var("ILINK_CDN_BASE_URL") {
        transport = transport.cdn_base_url(url);
    }
    Client::builder()
        .store(SqliteStore::open(state_dir())?)
        .transport(transport)
        .build()
}

/// The configured bot: `ILINK_TOKEN`'s, else the most recent stored login;
/// `None` (after saying why) when there is neither.
pub(crate) async fn bot(example: &str, bot_agent: &str) -> Result<Option<Bot>, Error> {
    let token = std::env::var("ILINK_TOKEN").ok().filter(|t| !t.is_empty());
    // Without a token there must be a stored login; say so instead of
    // creating an empty state directory and waiting for nothing.
    if token.is_none() && !state_dir().exists() {
        eprintln!(
            "{example}: no bot configured. Set ILINK_TOKEN, or log in first:\n    \
             cargo run --example qr_login\n(state directory looked at: {})",
            state_dir().display()
        );
        return Ok(None);
    }
    let client = client(bot_agent)?;
    let bot = match token {
        Some(token) => Some(client.bot_with(&Credentials::from_token(token))),
        None => client.bots().await?.into_iter().next(),
    };
    if bot.is_none() {
        eprintln!(
            "{example}: {} holds no login. Set ILINK_TOKEN, or run:\n    \
             cargo run --example qr_login",
            state_dir().display()
        );
    }
    Ok(bot)
}

/// The exit code of `result`, printing a failure with its causes.
pub(crate) fn exit(example: &str, result: Result<ExitCode, Error>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{example}: {}", e.report());
            if e.is_session_expired() {
                eprintln!("The token is no longer valid: log in again (example qr_login).");
            }
            ExitCode::FAILURE
        }
    }
}
