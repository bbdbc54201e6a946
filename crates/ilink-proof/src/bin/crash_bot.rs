//! The bot the crash campaign kills: a pull-API bot on a [`SqliteStore`] that
//! journals every message it handles, so that a driver can check from the
//! outside what was handled, when, and whether it was acknowledged.
//!
//! ```text
//! ILINK_TOKEN=<token> crash_bot --state DIR --journal FILE --api URL --cdn URL \
//!     --account BOT_ID [--instance N] [--work-us 100] [--reply]
//! ```
//!
//! With `--reply` it answers each message with `re <key>` (through the
//! outbox, with the reply id derived from the message) between `H` and the
//! acknowledgement, and each start first sends what a kill left in the
//! outbox (`Bot::flush_outbox`).
//!
//! For each message of `poller.next_batch()` it appends `H <key> .` to the
//! journal (open for append, one `write`, fsync), does a little work, calls
//! `poller.ack`, then appends `A <key> .` (fsync). Each start appends
//! `S <instance> .`. A line is complete only with its ` .`: a `SIGKILL`
//! in the middle of a write leaves a torn line without it, which the
//! checker skips (and every start first ends a torn line with a newline).
//!
//! Exit codes: 0 after `SIGTERM`, 2 bad arguments, 3 client or journal
//! failure, 4 a store error (a state file unreadable, the lock, I/O),
//! 5 session expired.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ilink::Retry;
use ilink::http::Transport;
use ilink::proto::BotToken;
use ilink::{Client, Credentials, Error, SqliteStore, Store};
use tokio::sync::Notify;

const EXIT_USAGE: u8 = 2;
const EXIT_CLIENT: u8 = 3;
const EXIT_STORE: u8 = 4;
const EXIT_EXPIRED: u8 = 5;

struct Args {
    state: PathBuf,
    /// PostgreSQL instead of the state directory: a URL and a schema.
    pg: Option<(String, String)>,
    journal: PathBuf,
    api: String,
    cdn: String,
    account: String,
    token: String,
    instance: u64,
    work: Duration,
    reply: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut state = None;
    let mut pg_url = None;
    let mut schema = None;
    let mut journal = None;
    let mut api = None;
    let mut cdn = None;
    let mut account = None;
    let mut token = std::env::var("ILINK_TOKEN").ok();
    let mut instance = 0;
    let mut work = Duration::from_micros(100);
    let mut reply = false;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--state" => state = Some(PathBuf::from(value()?)),
            "--pg-url" => pg_url = Some(value()?),
            "--schema" => schema = Some(value()?),
            "--journal" => journal = Some(PathBuf::from(value()?)),
            "--api" => api = Some(value()?),
            "--cdn" => cdn = Some(value()?),
            "--account" => account = Some(value()?),
            "--token" => token = Some(value()?),
            "--instance" => instance = value()?.parse().map_err(|e| format!("--instance: {e}"))?,
            "--reply" => reply = true,
            "--work-us" => {
                work =
                    Duration::from_micros(value()?.parse().map_err(|e| format!("--work-us: {e}"))?);
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(Args {
        pg: pg_url.zip(schema.clone()),
        state: match (&state, &schema) {
            (Some(s), _) => s.clone(),
            (None, Some(_)) => PathBuf::new(),
            (None, None) => return Err("--state (or --pg-url and --schema) is required".to_owned()),
        },
        journal: journal.ok_or("--journal is required")?,
        api: api.ok_or("--api is required")?,
        cdn: cdn.ok_or("--cdn is required")?,
        account: account.ok_or("--account is required")?,
        token: token.ok_or("a token is required (ILINK_TOKEN or --token)")?,
        instance,
        work,
        reply,
    })
}

/// The journal: one complete line per event, each made durable before the
/// bot goes on.
struct Journal {
    file: File,
}

impl Journal {
    fn open(path: &PathBuf) -> std::io::Result<Self> {
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(path)?;
        // A torn last line (a kill mid-write) is ended here, so that this
        // run's first line does not join it.
        let len = file.metadata()?.len();
        if len > 0 {
            let mut last = [0u8; 1];
            file.seek(SeekFrom::Start(len - 1))?;
            file.read_exact(&mut last)?;
            if last[0] != b'\n' {
                file.write_all(b"\n")?;
                file.sync_data()?;
            }
        }
        Ok(Self { file })
    }

    fn line(&mut self, op: char, what: &str) -> std::io::Result<()> {
        // One write per line: a kill tears at most the line being written.
        self.file.write_all(format!("{op} {what} .\n").as_bytes())?;
        self.file.sync_data()
    }
}

/// Some CPU work standing in for a handler.
fn work(text: &str, budget: Duration) -> u64 {
    let start = Instant::now();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    loop {
        for b in text.bytes() {
            hash = (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        if start.elapsed() >= budget {
            return std::hint::black_box(hash);
        }
    }
}

fn is_store_error(e: &Error) -> bool {
    matches!(e, Error::Store(_))
}

fn describe(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("crash_bot: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err((code, message)) => {
            eprintln!("crash_bot: {message}");
            ExitCode::from(code)
        }
    }
}

async fn run(args: Args) -> Result<(), (u8, String)> {
    let client_err =
        |what: &str, e: &dyn std::error::Error| (EXIT_CLIENT, format!("{what}: {}", describe(e)));
    let store_err =
        |what: &str, e: &dyn std::error::Error| (EXIT_STORE, format!("{what}: {}", describe(e)));
    let classify = |what: &str, e: &Error| {
        if is_store_error(e) {
            store_err(what, e)
        } else if e.is_session_expired() {
            (EXIT_EXPIRED, format!("{what}: {}", describe(e)))
        } else {
            client_err(what, e)
        }
    };

    let stop = Arc::new(AtomicBool::new(false));
    let stopped = Arc::new(Notify::new());
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .map_err(|e| client_err("installing the SIGTERM handler", &e))?;
        let (stop, stopped) = (stop.clone(), stopped.clone());
        tokio::spawn(async move {
            term.recv().await;
            stop.store(true, Ordering::SeqCst);
            stopped.notify_one();
        });
    }

    let mut journal =
        Journal::open(&args.journal).map_err(|e| client_err("opening the journal", &e))?;
    journal
        .line('S', &args.instance.to_string())
        .map_err(|e| client_err("writing the journal", &e))?;

    // Every state file is read (and the credentials rewritten) on each start.
    let store: std::sync::Arc<dyn Store> = match &args.pg {
        Some((url, schema)) => std::sync::Arc::new(
            ilink::store::PgStore::connect_in_schema(url, schema)
                .await
                .map_err(|e| store_err("opening the store", &e))?,
        ),
        None => std::sync::Arc::new(
            SqliteStore::open(&args.state).map_err(|e| store_err("opening the store", &e))?,
        ),
    };
    let mut credentials = Credentials::new(args.account.clone(), BotToken::new(args.token));
    credentials.base_url = Some(args.api.clone());
    store
        .save_credentials(&credentials)
        .await
        .map_err(|e| store_err("saving credentials", &e))?;
    let client = Client::builder()
        .shared_store(store.clone())
        .transport(
            Transport::builder()
                .api_base_url(args.api)
                .cdn_base_url(args.cdn)
                .long_poll_margin(Duration::from_secs(2)),
        )
        .poll_retry(Retry::new(
            Duration::from_millis(50),
            Duration::from_millis(500),
        ))
        // The simulator enforces no rate limit: replies go out unpaced, so
        // the campaign measures the outbox, not the pacer's 700 ms gap.
        .pacing(ilink::pacing::Pacing::unlimited())
        .build()
        .map_err(|e| classify("building the client", &e))?
        .bot(args.account.as_str())
        .await
        .map_err(|e| classify("loading the account", &e))?;
    if args.reply {
        client
            .flush_outbox()
            .await
            .map_err(|e| classify("sending what the outbox held", &e))?;
    }
    let mut poller = client
        .poller()
        .await
        .map_err(|e| classify("starting the poller", &e))?;

    let backoff = Retry::new(Duration::from_millis(20), Duration::from_millis(200));
    let mut failures = 0u32;
    while !stop.load(Ordering::SeqCst) {
        let polled = tokio::select! {
            biased;
            _ = stopped.notified() => break,
            polled = poller.next_batch() => polled,
        };
        let batch = match polled {
            Ok(batch) => {
                failures = 0;
                batch
            }
            Err(e) if is_store_error(&e) || e.is_session_expired() => {
                return Err(classify("polling", &e));
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                eprintln!("crash_bot: poll failed ({}); backing off", describe(&e));
                tokio::time::sleep(backoff.delay(failures)).await;
                continue;
            }
        };
        for msg in &batch.messages {
            if stop.load(Ordering::SeqCst) {
                break;
            }
            journal
                .line('H', msg.key())
                .map_err(|e| client_err("writing the journal", &e))?;
            work(&msg.text(), args.work);
            if args.reply {
                // A reply still waiting in the outbox (a passing failure) is
                // sent by a later start; only a refusal is an error here.
                ilink::Context::new(client.clone(), msg)
                    .reply(format!("re {}", msg.key()))
                    .await
                    .map_err(|e| classify("replying", &e))?;
            }
            poller
                .ack(msg)
                .await
                .map_err(|e| classify("acknowledging", &e))?;
            journal
                .line('A', msg.key())
                .map_err(|e| client_err("writing the journal", &e))?;
        }
    }
    Ok(())
}
