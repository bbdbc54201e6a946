//! Media both ways: send a file with a caption and upload progress, or
//! receive media and save it into a directory.
//!
//! ```sh
//! # send: images and videos go out as such (by extension), anything else as a file
//! cargo run --example send_media -- send alice@im.wechat photo.jpg "the beach"
//! # receive: save every image, voice note, file and video users send; Ctrl-C stops
//! cargo run --example send_media -- receive downloads
//! ```
//!
//! Needs a bot: `ILINK_TOKEN`, or a login in `ILINK_STATE_DIR` (default
//! `./ilink-state`; see the qr_login example). `ILINK_BASE_URL` and
//! `ILINK_CDN_BASE_URL` point it at other hosts (e.g. a simulator from
//! `cargo run -p ilink-cli -- simulate`).
//!
//! A bot cannot start a conversation: send to a user who wrote to the bot
//! recently, so that their context token is in the state directory.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use ilink::{Context, Error, MediaKind, MediaSource, Message, handler_fn};

const USAGE: &str = "\
usage: send_media send <user id> <file> [caption]
       send_media receive <directory>";

mod setup;

#[tokio::main]
async fn main() -> ExitCode {
    setup::init_logging("warn");

    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["send", to, file] => send(to, Path::new(file), None).await,
        ["send", to, file, caption] => send(to, Path::new(file), Some(caption)).await,
        ["receive", dir] => receive(Path::new(dir)).await,
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    if result.as_ref().is_err_and(Error::is_throttled) {
        eprintln!("The server limits how fast a bot sends; wait before trying again.");
    }
    setup::exit("send_media", result)
}

async fn send(to: &str, file: &Path, caption: Option<&str>) -> Result<ExitCode, Error> {
    let Some(bot) = setup::bot("send_media", "SendMediaExample/1.0").await? else {
        return Ok(ExitCode::from(setup::NOT_CONFIGURED));
    };
    if !file.is_file() {
        eprintln!("send_media: {} is not a readable file", file.display());
        return Ok(ExitCode::FAILURE);
    }
    // Replies need the context token of the user's latest message, cached in
    // the store while polling. Without it the send may not reach the chat.
    if bot.context_token(to).await?.is_none() {
        eprintln!(
            "warning: no context token for {to}: the message may not reach the chat \
             (has {to} written to the bot? run `receive` once to pick it up)"
        );
    }

    let kind = MediaKind::from_file_name(&file.to_string_lossy());
    println!("Sending {} as {kind} to {to}", file.display());

    // Progress comes from inside the HTTP stack: keep the callback quick. It
    // restarts from 0 if an upload attempt is retried.
    let last_percent = AtomicU64::new(u64::MAX);
    let progress = move |sent: u64, total: u64| {
        let percent = (sent * 100).checked_div(total).unwrap_or(100);
        if last_percent.swap(percent, Ordering::Relaxed) != percent {
            print!("\r  uploading {percent:3}% ({sent} of {total} bytes)");
            let _ = std::io::stdout().flush();
        }
    };
    let mut send = bot
        .send_media(to, MediaSource::path(file))
        .on_progress(progress);
    if let Some(caption) = caption {
        // Sent first, as its own text message, like the official client does.
        send = send.caption(caption);
    }
    // The file is read twice (size and MD5, then the encrypted upload), never
    // held in memory whole.
    let sent = send.await?;
    println!();
    for s in &sent {
        println!(
            "  sent client_id {} (server id {})",
            s.client_id,
            s.message_id.map_or("?".to_owned(), |id| id.to_string())
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn receive(dir: &Path) -> Result<ExitCode, Error> {
    let Some(bot) = setup::bot("send_media", "SendMediaExample/1.0").await? else {
        return Ok(ExitCode::from(setup::NOT_CONFIGURED));
    };
    let dir = Arc::new(dir.to_path_buf());
    println!(
        "Saving media sent to {} into {}; press Ctrl-C to stop.",
        bot.id(),
        dir.display()
    );
    let handler = handler_fn(move |ctx: Context, msg: Message| {
        let dir = dir.clone();
        async move {
            for item in msg.items() {
                // Text, tool calls and unknown items are not media.
                let Some(kind) = MediaKind::of_item(item.kind()) else {
                    continue;
                };
                // Streamed and decrypted into a temporary file, which appears
                // under a safe name (never the sender's path) once complete.
                let saved = ctx.download(item).to_dir(dir.as_path()).await?;
                let size = tokio::fs::metadata(&saved).await?.len();
                println!("{}: {kind} saved as {}", ctx.user_id(), saved.display());
                ctx.reply(format!("Saved your {kind} ({size} bytes)."))
                    .await?;
            }
            Ok(())
        }
    });
    bot.run_until(handler, ilink::shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}
