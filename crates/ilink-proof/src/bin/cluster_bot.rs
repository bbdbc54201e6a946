//! The member the failover campaign runs and kills: a
//! [`Cluster`](ilink::Cluster) member on a PostgreSQL (or SQLite) store whose handler
//! journals every message it handled, and whose events journal every
//! account it took or gave up.
//!
//! ```text
//! cluster_bot (--url PG --schema S | --sqlite DIR) --api URL --cdn URL
//!             --journal FILE --member NAME [--lease-ttl-ms 6000] [--tick-ms 250]
//!             [--reply]
//! ```
//!
//! Journal lines (appended, one `write` each): `H <key>` handled,
//! `T <account>` took, `G <account>` gave up or ended, each followed by the
//! milliseconds since the Unix epoch. With `--reply` the handler answers
//! every message with `re: <text> (<key>)` and journals the outcome after
//! the time: `R <key> <ms> ok` or `R <key> <ms> err <the error's report>`;
//! a failed reply fails the handler (the runner's policy then applies).
//! Every request carries `base_info.bot_agent` `cluster_bot/1 (<member>)`,
//! so the simulator's records tell which member sent what. It stops
//! gracefully on `SIGTERM`.

use std::io::Write;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ilink::Retry;
use ilink::http::Transport;
use ilink::{Client, ClusterEvent, Context, Message, handler_fn};

fn arg(name: &str) -> Option<String> {
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == name {
            return args.next();
        }
    }
    None
}

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

#[derive(Clone)]
struct Journal(Arc<Mutex<std::fs::File>>);

impl Journal {
    fn line(&self, kind: char, what: &str) {
        let mut f = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let _ = f.write_all(format!("{kind} {what} {}\n", now_ms()).as_bytes());
    }

    /// A line with more after the time (one line: newlines become spaces).
    fn line_with(&self, kind: char, what: &str, extra: &str) {
        let extra = extra.replace(['\n', '\r'], " ");
        let mut f = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let _ = f.write_all(format!("{kind} {what} {} {extra}\n", now_ms()).as_bytes());
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cluster_bot: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let need = |n: &str| arg(n).ok_or_else(|| format!("{n} is required"));
    let member = need("--member")?;
    let ttl = Duration::from_millis(
        arg("--lease-ttl-ms")
            .and_then(|v| v.parse().ok())
            .unwrap_or(6000),
    );
    let reply = std::env::args().any(|a| a == "--reply");
    let tick = Duration::from_millis(arg("--tick-ms").and_then(|v| v.parse().ok()).unwrap_or(250));
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(need("--journal")?)
        .map_err(|e| e.to_string())?;
    let journal = Journal(Arc::new(Mutex::new(file)));
    let store: std::sync::Arc<dyn ilink::Store> = match arg("--sqlite") {
        Some(dir) => std::sync::Arc::new(
            ilink::SqliteStore::open(dir).map_err(|e| ilink::Report::new(&e).to_string())?,
        ),
        None => std::sync::Arc::new(
            ilink::store::PgStore::connect_in_schema(&need("--url")?, &need("--schema")?)
                .await
                .map_err(|e| ilink::Report::new(&e).to_string())?,
        ),
    };
    let client = Client::builder()
        .shared_store(store)
        .transport(
            Transport::builder()
                .api_base_url(need("--api")?)
                .cdn_base_url(need("--cdn")?)
                .long_poll_margin(Duration::from_millis(500))
                .bot_agent(format!("cluster_bot/1 ({member})")),
        )
        .poll_retry(Retry::new(
            Duration::from_millis(50),
            Duration::from_millis(500),
        ))
        .lease_ttl(ttl)
        // A name that is not this host's pid: as if every member ran on a
        // machine of its own, a dead one's accounts wait for their leases.
        .lease_holder(member)
        .build()
        .map_err(|e| e.to_string())?;
    let handler = {
        let journal = journal.clone();
        handler_fn(move |c: Context, m: Message| {
            let journal = journal.clone();
            async move {
                journal.line('H', m.key());
                if reply {
                    let text = format!("re: {} ({})", m.text(), m.key());
                    if let Err(e) = c.reply(text).await {
                        let report = format!("err {}", ilink::Report::new(&e));
                        journal.line_with('R', m.key(), &report);
                        return Err(e.into());
                    }
                    journal.line_with('R', m.key(), "ok");
                }
                Ok(())
            }
        })
    };
    let events = journal.clone();
    let cluster = client.cluster().tick(tick).on_event(move |e| match e {
        ClusterEvent::Took { account_id } => events.line('T', account_id.as_str()),
        ClusterEvent::Gave { account_id } | ClusterEvent::Ended { account_id, .. } => {
            events.line('G', account_id.as_str());
        }
        _ => {}
    });
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    cluster
        .run_until(handler, term)
        .await
        .map_err(|e| e.to_string())
}
