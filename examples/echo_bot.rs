//! An echo bot: every text comes back, with "typing…" shown while the reply
//! is prepared; Ctrl-C stops it gracefully.
//!
//! ```sh
//! # with a bot token you already have:
//! ILINK_TOKEN=... cargo run --example echo_bot
//! # or with a login stored by the qr_login example (or by `ilink login`):
//! cargo run --example qr_login
//! cargo run --example echo_bot
//! ```
//!
//! Environment:
//!
//! - `ILINK_TOKEN`: act as the bot with this token;
//! - `ILINK_STATE_DIR`: the state directory (default `./ilink-state`): stored
//!   logins, and the cursor, inbox and context tokens that let a restart
//!   resume where the bot stopped;
//! - `ILINK_BASE_URL`, `ILINK_CDN_BASE_URL`: other hosts, e.g. a simulator
//!   started with `cargo run -p ilink-cli -- simulate`;
//! - `RUST_LOG`: log filter (default `warn,ilink=info`).

use std::path::PathBuf;
use std::process::ExitCode;

use ilink::http::Transport;
use ilink::proto::ItemContent;
use ilink::{Client, Context, Error, FileStore, Message, RunEvent, handler_fn};

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "warn,ilink=info".into()),
        )
        .init();

    match run().await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("echo_bot: {}", e.report());
            if e.is_session_expired() {
                eprintln!("The token is no longer valid: log in again (example qr_login).");
            }
            ExitCode::FAILURE
        }
    }
}

/// The exit code when no bot is configured.
const NOT_CONFIGURED: u8 = 2;

async fn run() -> Result<ExitCode, Error> {
    let state_dir = std::env::var_os("ILINK_STATE_DIR")
        .map_or_else(|| PathBuf::from("ilink-state"), PathBuf::from);
    let token = std::env::var("ILINK_TOKEN").ok().filter(|t| !t.is_empty());

    // Without a token there must be a stored login; say so instead of
    // creating an empty state directory and waiting for nothing.
    if token.is_none() && !state_dir.exists() {
        eprintln!(
            "echo_bot: no bot configured.\n\
             Set ILINK_TOKEN to a bot token, or log in first:\n    \
             cargo run --example qr_login\n\
             (state directory looked at: {})",
            state_dir.display()
        );
        return Ok(ExitCode::from(NOT_CONFIGURED));
    }

    // The file store keeps the cursor and the inbox even for a token-only
    // bot, so nothing is lost across restarts.
    let mut transport = Transport::builder().bot_agent("EchoBot/1.0");
    if let Ok(url) = std::env::var("ILINK_BASE_URL") {
        transport = transport.api_base_url(url);
    }
    if let Ok(url) = std::env::var("ILINK_CDN_BASE_URL") {
        transport = transport.cdn_base_url(url);
    }
    let client = Client::builder()
        .store(FileStore::open(&state_dir)?)
        .transport(transport)
        .build()?;
    let bot = match token {
        Some(token) => client.bot_with(&ilink::Credentials::from_token(token)),
        // The most recent stored login.
        None => match client.bots()?.into_iter().next() {
            Some(bot) => bot,
            None => {
                eprintln!(
                    "echo_bot: {} holds no login. Set ILINK_TOKEN, or run:\n    \
                     cargo run --example qr_login",
                    state_dir.display()
                );
                return Ok(ExitCode::from(NOT_CONFIGURED));
            }
        },
    };
    let account = bot.id();
    println!("Echoing for {account}; press Ctrl-C to stop.");

    // The handler: called once per message, in order within a conversation,
    // concurrently across conversations. An error is logged and the message
    // is acknowledged anyway (it would otherwise come back forever).
    let echo = handler_fn(|ctx: Context, msg: Message| async move {
        let Some(item) = msg.items().first() else {
            return Ok(());
        };
        let reply = match item.content() {
            ItemContent::Text(_) => format!("echo: {}", msg.text()),
            ItemContent::Voice(v) => match v.text.as_deref() {
                Some(said) => format!("you said: {said}"),
                None => "a voice note, without a transcript".to_owned(),
            },
            ItemContent::Image(_) => "a picture, thanks!".to_owned(),
            ItemContent::File(f) => {
                format!("a file: {}", f.file_name.as_deref().unwrap_or("(no name)"))
            }
            ItemContent::Video(_) => "a video, thanks!".to_owned(),
            _ => return Ok(()),
        };
        println!("to {}: {reply}", ctx.user_id());

        // "typing…" until the guard is finished (or dropped); best-effort:
        // without a typing ticket nothing is shown and nothing fails.
        let typing = ctx.typing().await;
        // The reply carries the message's context token; long text would be
        // split into several messages.
        ctx.reply(reply).await?;
        typing.finish().await;
        Ok(())
    });

    // Ctrl-C is the graceful stop: running handlers finish, `notifystop` is
    // sent, and the final cursor comes back. (Dropping the future would be
    // the hard stop; unacknowledged messages are then delivered again on the
    // next start.)
    let cursor = bot
        .runner()
        .on_event(|event| match event {
            RunEvent::Backoff {
                failures,
                delay,
                reason,
                ..
            } => {
                eprintln!("polling paused ({failures} in a row) for {delay:?}: {reason}");
            }
            RunEvent::HandlerFailed { key, failure, .. } => {
                eprintln!("handler failed on {key}: {failure}");
            }
            _ => {}
        })
        .run_until(echo, tokio::signal::ctrl_c())
        .await?;
    println!(
        "Stopped; polling resumes from a cursor of {} bytes.",
        cursor.as_str().len()
    );
    Ok(ExitCode::SUCCESS)
}
