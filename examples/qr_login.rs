//! Logs a bot in by QR code and stores the credentials in a state directory.
//!
//! ```sh
//! cargo run --example qr_login               # into ./ilink-state
//! cargo run --example qr_login -- my-state   # into ./my-state
//! ```
//!
//! The QR code's URL is printed: open it, or turn it into a QR code, and scan
//! it with WeChat (`cargo run -p ilink-cli -- login` draws it in the
//! terminal). If the phone then shows a number, type it here. On success the
//! account id is printed and the credentials are in the state directory,
//! where the other examples (and `ilink --state-dir <dir>`) find them.
//!
//! Environment: `ILINK_STATE_DIR` (when no argument is given),
//! `ILINK_BASE_URL` (where the login starts; e.g. a simulator from
//! `cargo run -p ilink-cli -- simulate`, which confirms by itself), and
//! `RUST_LOG`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use ilink::http::Transport;
use ilink::store::prelude::*;
use ilink::{Client, Error, LoginEvent, LoginOutcome, SqliteStore};

mod setup;

#[tokio::main]
async fn main() -> ExitCode {
    setup::init_logging("warn");
    setup::exit("qr_login", run().await)
}

async fn run() -> Result<ExitCode, Error> {
    let state_dir = std::env::args_os()
        .nth(1)
        .or_else(|| std::env::var_os("ILINK_STATE_DIR"))
        .map_or_else(|| PathBuf::from("ilink-state"), PathBuf::from);
    let store = SqliteStore::open(&state_dir)?;

    let mut transport = Transport::builder();
    if let Ok(url) = std::env::var("ILINK_BASE_URL") {
        transport = transport.api_base_url(url);
    }
    let client = Client::builder()
        .store(store.clone())
        .transport(transport)
        .build()?;

    let login = client
        .login()
        // Progress, as it happens.
        .on_event(|event| match event {
            LoginEvent::QrCode { url, attempt } => {
                println!("Scan this QR code with WeChat (code {attempt} of 3):\n    {url}");
            }
            LoginEvent::Scanned => println!("Scanned; confirm on the phone."),
            LoginEvent::Redirected { base_url } => println!("Login moved to {base_url}."),
            LoginEvent::NeedVerifyCode { .. } => {} // the prompt below says it
            LoginEvent::VerifyCodeBlocked => {
                println!("Too many wrong numbers; a new QR code follows.");
            }
            LoginEvent::Expired { count } => println!("The QR code expired ({count} so far)."),
            LoginEvent::UnknownStatus(status) => println!("(server status {status:?})"),
            LoginEvent::Confirmed { account_id } => println!("Confirmed: {account_id}"),
            _ => {}
        })
        // Asked when the phone shows a number; `retry` says the last one was
        // wrong. `None` (end of input) gives up.
        .verify_code(|retry| async move {
            if retry {
                print!("Wrong number. Type the number shown on the phone again: ");
            } else {
                print!("Type the number shown on the phone: ");
            }
            let _ = std::io::stdout().flush();
            // Reading stdin blocks: keep it off the async workers.
            tokio::task::spawn_blocking(|| {
                let mut line = String::new();
                match std::io::stdin().read_line(&mut line) {
                    Ok(n) if n > 0 => Some(line.trim().to_owned()),
                    _ => None,
                }
            })
            .await
            .ok()
            .flatten()
        });

    // The login gives up by itself after 8 minutes (`.deadline(..)` changes
    // that); Ctrl-C abandons it at once. Dropping a login is always safe.
    let outcome = tokio::select! {
        outcome = login => outcome?,
        _ = tokio::signal::ctrl_c() => {
            eprintln!("\nLogin cancelled.");
            return Ok(ExitCode::from(130));
        }
    };

    match outcome {
        LoginOutcome::LoggedIn { bot, credentials } => {
            // The new account's bot, ready to send and poll.
            println!("Logged in as {}", bot.id());
            if let Some(user) = &credentials.user_id {
                println!("  scanned by   {user}");
            }
            if let Some(url) = &credentials.base_url {
                println!("  API host     {url}");
            }
            println!("  stored in    {}", state_dir.display());
        }
        LoginOutcome::AlreadyBound => {
            println!("This bot is already bound here; the stored credentials stay valid.");
        }
        _ => {}
    }

    let accounts = store.accounts().await?;
    println!("Accounts in {}:", state_dir.display());
    for account in accounts {
        println!("  {}", account.account_id);
    }
    Ok(ExitCode::SUCCESS)
}
