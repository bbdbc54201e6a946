//! An echo bot: every text comes back, with "typing…" shown while the reply
//! is prepared; Ctrl-C stops it gracefully.
//!
//! ```sh
//! # with a bot token you already have:
//! ILINK_TOKEN=... cargo run -p ilink --example echo_bot
//! # or with a login stored by the qr_login example (or by `ilink login`):
//! cargo run -p ilink --example qr_login
//! cargo run -p ilink --example echo_bot
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
            eprintln!("echo_bot: {}", describe(&e));
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
             cargo run -p ilink --example qr_login\n\
             (state directory looked at: {})",
            state_dir.display()
        );
        return Ok(ExitCode::from(NOT_CONFIGURED));
    }

    // One builder for both cases. The file store keeps the cursor and the
    // inbox even for a token-only bot, so nothing is lost across restarts.
    let mut builder = Client::builder().store(FileStore::open(&state_dir)?);
    if let Some(token) = token {
        builder = builder.token(token);
    }
    if let Ok(url) = std::env::var("ILINK_BASE_URL") {
        builder = builder.base_url(url);
    }
    if let Ok(url) = std::env::var("ILINK_CDN_BASE_URL") {
        builder = builder.cdn_base_url(url);
    }
    let client = builder.bot_agent("EchoBot/1.0").build()?;

    let Some(account) = client.account_id().map(str::to_owned) else {
        eprintln!(
            "echo_bot: {} holds no login. Set ILINK_TOKEN, or run:\n    \
             cargo run -p ilink --example qr_login",
            state_dir.display()
        );
        return Ok(ExitCode::from(NOT_CONFIGURED));
    };
    println!("Echoing for {account}; press Ctrl-C to stop.");

    // The handler: called once per message, in order within a conversation,
    // concurrently across conversations. An error is logged and the message
    // is acknowledged anyway (it would otherwise come back forever).
    let echo = handler_fn(|ctx: Context, msg: Message| async move {
        let Some(item) = msg.item_list.first() else {
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
        let typing = ctx.client().typing(ctx.user_id()).await;
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
    let cursor = client
        .runner()
        .on_event(|event| match event {
            RunEvent::Backoff {
                failures,
                delay,
                error,
                ..
            } => {
                eprintln!("poll failed ({failures} in a row), retrying in {delay:?}: {error}");
            }
            RunEvent::HandlerFailed { key, error, .. } => {
                eprintln!("handler failed on {key}: {error}");
            }
            _ => {}
        })
        .run_until(echo, tokio::signal::ctrl_c())
        .await?;
    println!(
        "Stopped; polling resumes from a cursor of {} bytes.",
        cursor.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// An error and its causes, on one line.
fn describe(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
