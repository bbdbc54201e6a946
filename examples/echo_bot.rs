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

use std::process::ExitCode;

use ilink::proto::ItemContent;
use ilink::{Context, Error, Message, RunEvent, handler_fn};

mod setup;

#[tokio::main]
async fn main() -> ExitCode {
    setup::init_logging("warn,ilink=info");
    setup::exit("echo_bot", run().await)
}

async fn run() -> Result<ExitCode, Error> {
    let Some(bot) = setup::bot("echo_bot", "EchoBot/1.0").await? else {
        return Ok(ExitCode::from(setup::NOT_CONFIGURED));
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
        .run_until(echo, ilink::shutdown_signal())
        .await?;
    println!(
        "Stopped; polling resumes from a cursor of {} bytes.",
        cursor.as_str().len()
    );
    Ok(ExitCode::SUCCESS)
}
