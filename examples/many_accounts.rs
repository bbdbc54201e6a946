//! Every account of a state directory, polled in one process over one
//! connection pool, with each account's health printed periodically.
//!
//! ```sh
//! cargo run --example qr_login    # once per bot
//! cargo run --example many_accounts
//! ```
//!
//! Each account gets its own runner (its own cursor, inbox and poller lock);
//! they share one [`Client`], so one pool and one store. When an account's
//! session expires, that account waits for a new login (run qr_login in
//! another terminal) while the others go on.
//!
//! Environment: `ILINK_STATE_DIR` (default `./ilink-state`),
//! `ILINK_BASE_URL`, `ILINK_CDN_BASE_URL`, `ILINK_HEALTH_SECS` (how often
//! health is printed, default 30), `RUST_LOG`.

use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ilink::{
    AccountId, Context, Cursor, Error, Health, Message, OnSessionExpired, RunEvent, handler_fn,
};
use tokio::sync::watch;
use tokio::task::JoinSet;

mod setup;

#[tokio::main]
async fn main() -> ExitCode {
    setup::init_logging("warn");
    setup::exit("many_accounts", run().await)
}

async fn run() -> Result<ExitCode, Error> {
    let state_dir = setup::state_dir();
    let every = std::env::var("ILINK_HEALTH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .map_or(Duration::from_secs(30), Duration::from_secs);
    if !state_dir.exists() {
        eprintln!(
            "many_accounts: {} does not exist. Log in first (once per bot):\n    \
             cargo run --example qr_login",
            state_dir.display()
        );
        return Ok(ExitCode::from(setup::NOT_CONFIGURED));
    }
    // One client: one connection pool and one store for every account.
    let client = setup::client("ManyAccountsExample/1.0")?;
    // Every stored login's bot, sharing the client's pool. Kept to the end:
    // `all_health` reports the accounts with a live handle in this process.
    let bots = client.bots().await?;
    if bots.is_empty() {
        eprintln!(
            "many_accounts: no logins in {}. Run:\n    cargo run --example qr_login",
            state_dir.display()
        );
        return Ok(ExitCode::from(setup::NOT_CONFIGURED));
    }

    // One shutdown signal for every runner: a watch channel, so a runner that
    // starts waiting late still sees it.
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut runs = JoinSet::new();
    for bot in &bots {
        let id = bot.id().clone();
        let mut stop = stop_rx.clone();
        let shutdown = async move {
            let _ = stop.wait_for(|stopped| *stopped).await;
        };
        let handler = handler_fn(|ctx: Context, msg: Message| async move {
            // `msg.account_id()` tells which bot received it.
            ctx.reply(format!("[{}] echo: {}", msg.account_id(), msg.text()))
                .await?;
            Ok(())
        });
        let runner = bot
            .runner()
            // An expired session pauses this account only, until a new login
            // for it shows up in the store.
            .on_session_expired(OnSessionExpired::WaitForLogin(Duration::from_secs(30)))
            .on_event(move |event| match event {
                RunEvent::Started { account_id } => println!("{account_id}: polling"),
                RunEvent::SessionExpired { account_id } => {
                    println!("{account_id}: session expired; waiting for a new QR login");
                }
                RunEvent::SessionRestored { account_id } => {
                    println!("{account_id}: new login found; polling again");
                }
                RunEvent::Stopped { account_id } => println!("{account_id}: stopped"),
                _ => {}
            });
        runs.spawn(async move { (id, runner.run_until(handler, shutdown).await) });
    }
    println!(
        "Polling {} accounts; health every {every:?}; press Ctrl-C (or send SIGTERM) to stop.",
        bots.len()
    );

    let mut ticker = tokio::time::interval(every);
    ticker.tick().await; // the first tick is immediate
    let ctrl_c = ilink::shutdown_signal();
    tokio::pin!(ctrl_c);
    loop {
        tokio::select! {
            _ = &mut ctrl_c => break,
            _ = ticker.tick() => print_health(&client.all_health()),
            // A runner ended by itself: report it, keep the others going.
            Some(done) = runs.join_next() => report(done),
        }
        if runs.is_empty() {
            eprintln!("Every runner has ended.");
            return Ok(ExitCode::FAILURE);
        }
    }

    // Graceful stop: every runner finishes its handlers and sends notifystop.
    let _ = stop_tx.send(true);
    while let Some(done) = runs.join_next().await {
        report(done);
    }
    print_health(&client.all_health());
    drop(bots);
    Ok(ExitCode::SUCCESS)
}

/// How a runner ended.
fn report(done: Result<(AccountId, Result<Cursor, Error>), tokio::task::JoinError>) {
    match done {
        Ok((id, Ok(_cursor))) => println!("{id}: done"),
        Ok((id, Err(e))) => eprintln!("{id}: ended with an error: {}", e.report()),
        Err(e) => eprintln!("a runner panicked: {e}"),
    }
}

/// One line per account.
fn print_health(all: &[(AccountId, Health)]) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    println!("-- health");
    for (id, h) in all {
        let last_ok = h.last_poll_ok_ms.map_or("never".to_owned(), |t| {
            format!("{} s ago", now.saturating_sub(t) / 1000)
        });
        println!(
            "{id}: session {:?}, polling {}, last poll ok {last_ok}, failures {}, \
             received {}, handled {}, sent {}{}",
            h.session,
            h.polling,
            h.consecutive_failures,
            h.messages_received,
            h.messages_handled,
            h.messages_sent,
            h.last_error
                .as_ref()
                .map(|e| format!(", last error: {e}"))
                .unwrap_or_default(),
        );
    }
}
