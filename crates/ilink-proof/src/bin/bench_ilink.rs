//! `bench_ilink`: the ilink-rs side of `crates/ilink-proof/scripts/bench-compare.sh`, run
//! against a standalone `ilink-simulator` whose JSON URL line is passed with
//! `--urls` (the official client's side is `crates/ilink-proof/node/*.mjs`).
//!
//! ```text
//! bench_ilink send --urls JSON --concurrency N --messages M [--users U] [--queued N] [--store memory|sqlite|postgres --url URL] [--pool-idle N] [--via raw]
//! bench_ilink file --urls JSON --path FILE
//! bench_ilink idle --urls JSON --accounts N [--window-secs S] [--settle-secs S] [--hold-secs S] [--store memory|sqlite]
//! bench_ilink receive --urls JSON --messages M [--users U] [--concurrency C] [--store memory|sqlite|postgres --url URL]
//! bench_ilink latency --urls JSON --users U --messages M --bot ours [--store sqlite] | --bot node --script echo.mjs --pkg DIR
//! bench_ilink echo --urls JSON [--store memory|sqlite]   (the bot `latency --bot ours` starts)
//! ```
//!
//! Every mode also takes `--ca FILE`, the PEM root of a simulator started
//! with `--tls --ca-out FILE` (trusted explicitly, verification on), and
//! `--http 1|2`: `2` (default) offers h2 by ALPN, `1` offers only HTTP/1.1.
//!
//! - `send`: one bot account, `users` users (default 1) each with a context
//!   token from a pushed inbound message, `concurrency` tasks calling
//!   [`Bot::send_text`] (each send its own `client_id`,
//!   [`Pacing::unlimited`]), message `n` to user `n % users`, until
//!   `messages` went out, after one warm-up send per task, on the store
//!   `--store` names (default memory; `sqlite` a file in a fresh state
//!   directory). One conversation is sent in order, one message at a time:
//!   `--users 1` measures that, many users the rate across conversations.
//!   `--queued N` first puts N messages in the outbox for 1,000 other
//!   users (never sent): the cost of a backlog to every send. Rate = messages / wall time. `--via raw` sends
//!   the same messages through [`Bot::raw`] instead (the transport alone:
//!   no pacer, no retries), to attribute the cost; `--pool-idle` sets the
//!   pool's idle connections per host (default 64).
//! - `file`: [`Bot::send_file`] of a file from disk (getuploadurl, the
//!   streamed CDN upload, sendmessage); wall time and peak RSS (`VmHWM`).
//! - `idle`: `accounts` accounts, each polled by [`Bot::run_until`] with a
//!   trivial handler, all sharing one transport (one pool) through
//!   [`Client::bot`]. Memory per account is (RSS once every poll is
//!   held and the process has settled − RSS before the first account
//!   started) / accounts; then the CPU time over an idle window. The settling
//!   (default 12 s) lets any blocking threads used at start-up time out
//!   (tokio keeps them 10 s). The result
//!   line also gives `runner_state_bytes`, the size of one account's
//!   `run_until` future, which every idle account holds.
//! - `receive`: one account with `messages` texts waiting from `users`
//!   senders (default 64), pushed before the runner starts; then
//!   [`Bot::runner`] with a trivial handler and `concurrency` (default 16)
//!   handlers at once receives, stores, handles and acknowledges them all.
//!   Rate = messages / time from the runner's start to the last handler's
//!   end (the acknowledgements of all but the last `concurrency` inside
//!   it); once the runner stopped, the inbox is checked empty. What it measures is the receive
//!   path with its durable writes (one commit per batch, the
//!   acknowledgements), so `--store sqlite` is the figure that matters.
//!
//! - `latency`: an echo bot (ours: [`Bot::run_until`] with a handler that
//!   replies `re: <text>` through [`Context::reply`], on the store `--store`
//!   names, [`Pacing::unlimited`]; or the official client's getUpdates and
//!   sendMessage loop, `node/echo.mjs`) is started as a process of its own
//!   on a fresh account; then `messages` texts are pushed, `users` at a time
//!   (one per user, the next round once all replies of one arrived). The
//!   latency of each is the simulator's time of the reply's acceptance
//!   minus that of the push (one clock, the simulator's); p50 and p99.
//!
//! Each mode checks through the control API that the simulator accepted
//! everything (every message, the file with its size and MD5, a held poll
//! for every account and none returning during the window), prints progress on stderr and one
//! `RESULT key=value ...` line on stdout, and exits non-zero otherwise.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ilink::http::Transport;
use ilink::pacing::Pacing;
use ilink::proto::{BotToken, ContextToken, MessageItem, SendMessageRequest, WeixinMessage};
use ilink::{Bot, Client, Context, Credentials, MediaSource, Message, Store, handler_fn};
use ilink_proof::{cpu_time, peak_rss_kib, rss_kib};
use ilink_testkit::Inbound;
use serde_json::Value;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const USAGE: &str = "\
usage: bench_ilink send --urls JSON --concurrency N --messages M [--users U] [--queued N] [--store memory|sqlite|postgres --url URL] [--pool-idle N] [--via raw]
       bench_ilink file --urls JSON --path FILE
       bench_ilink idle --urls JSON --accounts N [--window-secs S] [--settle-secs S] [--hold-secs S] [--store memory|sqlite]
       bench_ilink receive --urls JSON --messages M [--users U] [--concurrency C] [--store memory|sqlite|postgres --url URL]
every mode also takes --ca FILE (trust this PEM root, for a --tls simulator)
and --http 1|2 (2, the default, offers h2 and takes what the server picks)";

/// The user every message goes to.
const USER: &str = "bench_user@im.wechat";
/// The text of every benchmark message.
const TEXT: &str = "benchmark message";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_default();
    let result = Args::parse(args).and_then(|a| match mode.as_str() {
        "send" => send(&a),
        "file" => file(&a),
        "idle" => idle(&a),
        "receive" => receive(&a),
        "echo" => echo(&a),
        "latency" => latency(&a),
        _ => Err(format!("unknown mode {mode:?}").into()),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench_ilink {mode}: {e}\n\n{USAGE}");
            ExitCode::FAILURE
        }
    }
}

// ------------------------------------------------------------------ arguments

/// `--flag value` pairs.
struct Args(Vec<(String, String)>);

impl Args {
    fn parse(args: impl Iterator<Item = String>) -> Result<Self, BoxError> {
        let mut pairs = Vec::new();
        let mut args = args.peekable();
        while let Some(flag) = args.next() {
            let Some(name) = flag.strip_prefix("--") else {
                return Err(format!("unexpected argument {flag:?}").into());
            };
            let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
            pairs.push((name.to_owned(), value));
        }
        Ok(Self(pairs))
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A transport builder for the simulator's URLs: trusting `--ca FILE`
    /// (the simulator's test authority, PEM) when given, HTTP/2 offered
    /// unless `--http 1`.
    fn transport(&self, urls: &Urls) -> Result<ilink::http::TransportBuilder, BoxError> {
        let mut builder = Transport::builder()
            .api_base_url(urls.api.clone())
            .cdn_base_url(urls.cdn.clone());
        if let Some(path) = self.get("ca") {
            builder = builder.add_root_certificates_pem(std::fs::read(path)?);
        }
        match self.get("http") {
            None | Some("2") => {}
            Some("1") => builder = builder.http2(false),
            Some(other) => return Err(format!("--http takes 1 or 2, not {other:?}").into()),
        }
        Ok(builder)
    }

    fn text(&self, name: &str) -> Result<&str, BoxError> {
        self.get(name)
            .ok_or_else(|| format!("--{name} is required").into())
    }

    fn number(&self, name: &str, default: Option<u64>) -> Result<u64, BoxError> {
        match (self.get(name), default) {
            (Some(v), _) => v
                .parse()
                .map_err(|_| format!("--{name} needs a number, not {v:?}").into()),
            (None, Some(d)) => Ok(d),
            (None, None) => Err(format!("--{name} is required").into()),
        }
    }

    /// The simulator's URL line.
    fn urls(&self) -> Result<Urls, BoxError> {
        let v: Value = serde_json::from_str(self.text("urls")?)?;
        let field = |name: &str| -> Result<String, BoxError> {
            v[name]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("--urls has no {name}").into())
        };
        Ok(Urls {
            api: field("api_url")?,
            cdn: field("cdn_url")?,
            control: field("control_url")?,
        })
    }
}

struct Urls {
    api: String,
    cdn: String,
    control: String,
}

fn runtime() -> Result<tokio::runtime::Runtime, BoxError> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

// ------------------------------------------------------------------ control API

/// A blocking HTTP/1.1 client for the simulator's control API, on one
/// kept-alive connection (thousands of accounts must not leave thousands of
/// sockets in TIME_WAIT). Blocking on purpose: it runs on the main thread,
/// outside the runtime being measured.
struct Control {
    host: String,
    conn: Option<BufReader<TcpStream>>,
}

impl Control {
    fn new(url: &str) -> Result<Self, BoxError> {
        let host = url
            .strip_prefix("http://")
            .ok_or("the control URL is not http://")?
            .trim_end_matches('/')
            .to_owned();
        Ok(Self { host, conn: None })
    }

    /// A JSON request; the parsed answer, or an error for a non-2xx status.
    fn json(&mut self, method: &str, path: &str, body: &str) -> Result<Value, BoxError> {
        let mut out = Vec::new();
        let status = self.call(method, path, body, &mut |chunk| {
            out.extend_from_slice(chunk)
        })?;
        if !(200..300).contains(&status) {
            let text = String::from_utf8_lossy(&out);
            return Err(format!("control {method} {path}: {status} {text}").into());
        }
        Ok(serde_json::from_slice(&out)?)
    }

    /// How often `needle` occurs in the answer to a GET, counted while the
    /// body streams through a small buffer (no large allocation in the
    /// measured process).
    fn count(&mut self, path: &str, needle: &[u8]) -> Result<usize, BoxError> {
        let mut count = 0;
        let mut carry: Vec<u8> = Vec::new();
        let status = self.call("GET", path, "", &mut |chunk| {
            carry.extend_from_slice(chunk);
            count += carry.windows(needle.len()).filter(|w| *w == needle).count();
            let keep = needle.len().saturating_sub(1).min(carry.len());
            carry.drain(..carry.len() - keep);
        })?;
        if !(200..300).contains(&status) {
            return Err(format!("control GET {path}: {status}").into());
        }
        Ok(count)
    }

    /// One request, retried once on a fresh connection when the kept-alive
    /// one was closed in the meantime.
    fn call(
        &mut self,
        method: &str,
        path: &str,
        body: &str,
        sink: &mut dyn FnMut(&[u8]),
    ) -> Result<u16, BoxError> {
        let had_connection = self.conn.is_some();
        match self.try_call(method, path, body, sink) {
            Err(_) if had_connection => {
                self.conn = None;
                self.try_call(method, path, body, sink)
            }
            other => other,
        }
    }

    fn try_call(
        &mut self,
        method: &str,
        path: &str,
        body: &str,
        sink: &mut dyn FnMut(&[u8]),
    ) -> Result<u16, BoxError> {
        let conn = match &mut self.conn {
            Some(c) => c,
            None => {
                let stream = TcpStream::connect(&self.host)?;
                stream.set_nodelay(true)?;
                self.conn
                    .insert(BufReader::with_capacity(64 * 1024, stream))
            }
        };
        let head = format!(
            "{method} {path} HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            self.host,
            body.len()
        );
        let stream = conn.get_mut();
        stream.write_all(head.as_bytes())?;
        stream.write_all(body.as_bytes())?;
        let mut line = String::new();
        conn.read_line(&mut line)?;
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("bad status line {line:?}"))?;
        let mut len: Option<usize> = None;
        let mut close = false;
        loop {
            line.clear();
            if conn.read_line(&mut line)? == 0 {
                return Err("the control connection closed mid-answer".into());
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((k, v)) = header.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    len = Some(v.trim().parse()?);
                } else if k.eq_ignore_ascii_case("connection") {
                    close = v.trim().eq_ignore_ascii_case("close");
                }
            }
        }
        let mut left = len.ok_or("a control answer without content-length")?;
        let mut buf = [0u8; 16 * 1024];
        while left > 0 {
            let want = left.min(buf.len());
            let n = conn.read(&mut buf[..want])?;
            if n == 0 {
                return Err("the control connection closed mid-body".into());
            }
            sink(&buf[..n]);
            left -= n;
        }
        if close {
            self.conn = None;
        }
        Ok(status)
    }

    /// Creates an account: its id and token.
    fn create_account(&mut self) -> Result<(String, String), BoxError> {
        let v = self.json("POST", "/accounts", "")?;
        match (v["bot_id"].as_str(), v["token"].as_str()) {
            (Some(id), Some(token)) => Ok((id.to_owned(), token.to_owned())),
            _ => Err(format!("POST /accounts answered {v}").into()),
        }
    }

    /// Pushes a text from [`USER`] and returns the context token issued with
    /// it, so that sends are replies in a conversation.
    fn context_token(&mut self, bot_id: &str) -> Result<String, BoxError> {
        self.context_token_of(bot_id, USER)
    }

    /// Pushes a text from `user`; the context token issued with it.
    fn context_token_of(&mut self, bot_id: &str, user: &str) -> Result<String, BoxError> {
        let v = self.json(
            "POST",
            &format!("/accounts/{bot_id}/push"),
            &push_body(user, "hello, bot")?,
        )?;
        v["context_token"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("push answered {v}").into())
    }

    /// The messages the simulator accepted from `bot_id`.
    fn sent_by(&mut self, bot_id: &str) -> Result<Vec<Value>, BoxError> {
        let all = self.json("GET", "/sent", "")?;
        Ok(all
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|m| m["bot_id"] == bot_id)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Fails when the simulator recorded protocol violations or dropped
    /// duplicate sends.
    fn check_clean(&mut self) -> Result<(), BoxError> {
        for route in ["/violations", "/duplicates"] {
            let v = self.json("GET", route, "")?;
            if v.as_array().is_some_and(|a| !a.is_empty()) {
                return Err(format!("the simulator recorded {route}: {v}").into());
            }
        }
        Ok(())
    }
}

// ------------------------------------------------------------------ send

fn send(args: &Args) -> Result<(), BoxError> {
    let urls = args.urls()?;
    let concurrency = usize::try_from(args.number("concurrency", None)?)?.max(1);
    let messages = usize::try_from(args.number("messages", None)?)?;
    let users = usize::try_from(args.number("users", Some(1))?)?.max(1);
    let queued = usize::try_from(args.number("queued", Some(0))?)?;
    let pool_idle = args.get("pool-idle").map(str::parse::<usize>).transpose()?;
    let raw = match args.get("via") {
        None | Some("send_text") => false,
        Some("raw") => true,
        Some(other) => return Err(format!("--via takes send_text or raw, not {other:?}").into()),
    };
    let mut ctl = Control::new(&urls.control)?;
    let (bot_id, token) = ctl.create_account()?;
    // One context token per user, from a message the user sent; the store
    // has not seen those messages (nothing polls), so no reply budget
    // applies: the benchmark measures sending.
    let mut targets = Vec::with_capacity(users);
    for i in 0..users {
        let user = if users == 1 {
            USER.to_owned()
        } else {
            format!("bench_user_{i:04}@im.wechat")
        };
        let context = ContextToken::new(ctl.context_token_of(&bot_id, &user)?);
        targets.push((user, context));
    }
    let targets = Arc::new(targets);

    let rt = runtime()?;
    let state_dir = std::env::temp_dir().join(format!("ilink-bench-send-{}", std::process::id()));
    let store = bench_store(args, &state_dir, &rt)?;
    let client = rt.block_on(async {
        let mut transport = args.transport(&urls)?;
        if let Some(n) = pool_idle {
            transport = transport.pool_max_idle_per_host(n);
        }
        let client = Client::builder()
            .transport(transport)
            .shared_store(store.clone())
            .pacing(Pacing::unlimited())
            .build()?
            .bot_with(&Credentials::new(bot_id.as_str(), BotToken::new(token)));
        Ok::<_, BoxError>(client)
    })?;

    // Messages waiting in other conversations (what a backlog looks like
    // to the store): queued, never sent (nothing drains them: no runner).
    rt.block_on(prefill_outbox(&*store, &bot_id, queued))?;

    // Warm-up: one send per task, so that the connections are open.
    rt.block_on(send_all(&client, &targets, raw, concurrency, concurrency))?;
    ctl.json("POST", "/reset-records", "")?;

    let started = Instant::now();
    rt.block_on(send_all(&client, &targets, raw, concurrency, messages))?;
    let secs = started.elapsed().as_secs_f64();
    let rss = rss_kib();
    let left = rt.block_on(store.outbox(&bot_id.as_str().into()))?.len();
    drop(client);
    drop(store);
    drop(rt);
    let _ = std::fs::remove_dir_all(&state_dir);

    let sent = ctl.sent_by(&bot_id)?;
    let ids: HashSet<&str> = sent
        .iter()
        .filter(|m| m["msg"]["item_list"][0]["text_item"]["text"] == TEXT)
        .filter_map(|m| m["msg"]["client_id"].as_str())
        .collect();
    let to: HashSet<&str> = sent
        .iter()
        .filter_map(|m| m["msg"]["to_user_id"].as_str())
        .collect();
    ctl.check_clean()?;
    println!(
        "RESULT bench=send impl=ours via={} store={} users={users} queued={queued} concurrency={concurrency} messages={messages} secs={secs:.3} rate={:.1} accepted={} recipients={} outbox_left={left} rss_kib={rss}",
        if raw { "raw" } else { "send_text" },
        args.get("store").unwrap_or("memory"),
        messages as f64 / secs,
        ids.len(),
        to.len(),
    );
    if ids.len() != messages || left != queued {
        return Err(format!(
            "the simulator accepted {} distinct messages of {messages}; {left} in the outbox, not the {queued} queued before",
            ids.len()
        )
        .into());
    }
    Ok(())
}

/// Queues `n` messages to up to 1,000 other users (`backlog_NNNN`), in
/// enqueues of up to 1,000 messages each.
async fn prefill_outbox(store: &dyn Store, bot_id: &str, n: usize) -> Result<(), BoxError> {
    use ilink::store::{OutboxEntry, ReplyLimits};
    if n == 0 {
        return Ok(());
    }
    let account = ilink::AccountId::from(bot_id);
    let others = n.min(1000);
    let per = n.div_ceil(others);
    let mut left = n;
    for u in 0..others {
        let user = ilink::UserId::from(format!("backlog_{u:04}@im.wechat"));
        let take = per.min(left);
        let entries = (0..take)
            .map(|i| {
                let client_id = format!("backlog:{u}-{i}");
                let msg = WeixinMessage::outbound(
                    user.as_str(),
                    client_id.clone(),
                    MessageItem::text(TEXT),
                );
                Ok(OutboxEntry::new(
                    client_id,
                    user.clone(),
                    serde_json::to_value(msg)?,
                    0,
                ))
            })
            .collect::<Result<Vec<_>, serde_json::Error>>()?;
        store
            .enqueue(None, &account, &user, entries, ReplyLimits::none())
            .await?;
        left -= take;
        if left == 0 {
            break;
        }
    }
    eprintln!("send: {n} messages queued in {others} other conversations");
    Ok(())
}

/// `total` sends from `concurrency` tasks, message `n` to target `n %
/// targets`, through [`Bot::send_text`] or (`raw`) the bare transport.
async fn send_all(
    client: &Bot,
    targets: &Arc<Vec<(String, ContextToken)>>,
    raw: bool,
    concurrency: usize,
    total: usize,
) -> Result<(), BoxError> {
    static RAW_SENDS: AtomicUsize = AtomicUsize::new(0);
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (client, targets, next) = (client.clone(), targets.clone(), next.clone());
        tasks.spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= total {
                    break;
                }
                let (user, context) = &targets[n % targets.len()];
                if raw {
                    let n = RAW_SENDS.fetch_add(1, Ordering::Relaxed);
                    let client_id = format!("bench-raw:{}-{n}", std::process::id());
                    let msg =
                        WeixinMessage::outbound(user.as_str(), client_id, MessageItem::text(TEXT))
                            .with_context_token(Some(context.clone()));
                    client
                        .raw()
                        .send_message(SendMessageRequest::new(msg))
                        .await?;
                } else {
                    client
                        .send_text(user.as_str(), TEXT)
                        .context_token(context.clone())
                        .await?;
                }
            }
            Ok::<(), BoxError>(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    Ok(())
}

// ------------------------------------------------------------------ latency

/// Our echo bot for `latency`: the account from `ILINK_BENCH_BOT_ID` and
/// `ILINK_BENCH_TOKEN`, run until SIGTERM.
fn echo(args: &Args) -> Result<(), BoxError> {
    let urls = args.urls()?;
    let bot_id = std::env::var("ILINK_BENCH_BOT_ID")?;
    let token = std::env::var("ILINK_BENCH_TOKEN")?;
    let rt = runtime()?;
    let state_dir = std::env::temp_dir().join(format!("ilink-bench-echo-{}", std::process::id()));
    let store = bench_store(args, &state_dir, &rt)?;
    rt.block_on(async {
        store
            .save_credentials(&stored(&bot_id, token, &urls.api))
            .await?;
        let client = Client::builder()
            .transport(args.transport(&urls)?)
            .shared_store(store.clone())
            .pacing(Pacing::unlimited())
            .build()?;
        let bot = client.bot(bot_id.as_str()).await?;
        let echo = handler_fn(|ctx: Context, msg: Message| async move {
            ctx.reply(format!("re: {}", msg.text())).await?;
            Ok(())
        });
        bot.run_until(echo, ilink::shutdown_signal()).await?;
        Ok::<(), BoxError>(())
    })?;
    drop(store);
    let _ = std::fs::remove_dir_all(&state_dir);
    Ok(())
}

/// Pushes texts to an echo bot and measures each reply's latency at the
/// simulator.
fn latency(args: &Args) -> Result<(), BoxError> {
    let urls = args.urls()?;
    let users = usize::try_from(args.number("users", Some(1))?)?.max(1);
    let messages = usize::try_from(args.number("messages", None)?)?.max(users);
    let rounds = messages / users;
    let mut ctl = Control::new(&urls.control)?;
    let (bot_id, token) = ctl.create_account()?;
    let line = serde_json::to_string(&serde_json::json!({
        "api_url": urls.api, "cdn_url": urls.cdn,
        "control_url": urls.control,
    }))?;
    let which = args.get("bot").unwrap_or("ours");
    let mut bot = match which {
        "ours" => {
            let mut c = std::process::Command::new(std::env::current_exe()?);
            c.args([
                "echo",
                "--urls",
                &line,
                "--store",
                args.get("store").unwrap_or("sqlite"),
            ]);
            if let Some(ca) = args.get("ca") {
                c.args(["--ca", ca]);
            }
            c
        }
        "node" => {
            let mut c = std::process::Command::new("node");
            c.arg(args.text("script")?)
                .args(["--pkg", args.text("pkg")?, "--urls", &line]);
            if let Some(ca) = args.get("ca") {
                c.env("NODE_EXTRA_CA_CERTS", ca);
            }
            c
        }
        other => return Err(format!("--bot takes ours or node, not {other:?}").into()),
    };
    let mut bot = bot
        .env("ILINK_BENCH_BOT_ID", &bot_id)
        .env("ILINK_BENCH_TOKEN", &token)
        .stdout(std::process::Stdio::null())
        .spawn()?;
    let measured = (|| {
        // Warm-up: the bot polls and answers once before anything counts.
        ctl.json(
            "POST",
            &format!("/accounts/{bot_id}/push"),
            &push_body("warm@im.wechat", "warm")?,
        )?;
        ctl.json("GET", "/wait/sent?n=1&timeout_ms=60000", "")?;
        let mut pushed_at = std::collections::HashMap::new();
        for round in 0..rounds {
            for u in 0..users {
                let user = format!("lat_{u:04}@im.wechat");
                let text = format!("ping {round}-{u}");
                let p = ctl.json(
                    "POST",
                    &format!("/accounts/{bot_id}/push"),
                    &push_body(&user, &text)?,
                )?;
                let at = p["at_ms"].as_u64().ok_or("a push without at_ms")?;
                pushed_at.insert(format!("re: {text}"), at);
            }
            let want = 1 + (round + 1) * users;
            ctl.json("GET", &format!("/wait/sent?n={want}&timeout_ms=60000"), "")?;
        }
        let sent = ctl.sent_by(&bot_id)?;
        let mut lat: Vec<u64> = Vec::with_capacity(messages);
        for m in &sent {
            let text = m["msg"]["item_list"][0]["text_item"]["text"]
                .as_str()
                .unwrap_or_default();
            if let (Some(p), Some(at)) = (pushed_at.get(text), m["at_ms"].as_u64()) {
                lat.push(at.saturating_sub(*p));
            }
        }
        ctl.check_clean()?;
        Ok::<_, BoxError>((lat, pushed_at.len()))
    })();
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &bot.id().to_string()])
        .status();
    let _ = bot.wait();
    let (mut lat, pushed) = measured?;
    lat.sort_unstable();
    let pct = |q: f64| lat[((lat.len() as f64 - 1.0) * q).round() as usize];
    if lat.len() != pushed {
        return Err(format!("{} replies for {pushed} messages", lat.len()).into());
    }
    println!(
        "RESULT bench=latency impl={} store={} users={users} messages={} p50_ms={} p99_ms={} max_ms={}",
        if which == "ours" { "ours" } else { "official" },
        if which == "ours" {
            args.get("store").unwrap_or("sqlite")
        } else {
            "none"
        },
        lat.len(),
        pct(0.5),
        pct(0.99),
        lat[lat.len() - 1],
    );
    Ok(())
}

/// The control API's push body for a text from `from`.
fn push_body(from: &str, text: &str) -> Result<String, BoxError> {
    Ok(serde_json::to_string(&Inbound::text(from, text))?)
}

// ------------------------------------------------------------------ file

fn file(args: &Args) -> Result<(), BoxError> {
    let urls = args.urls()?;
    let path = PathBuf::from(args.text("path")?);
    let size = std::fs::metadata(&path)?.len();
    let mut ctl = Control::new(&urls.control)?;
    let (bot_id, token) = ctl.create_account()?;
    let context = ContextToken::new(ctl.context_token(&bot_id)?);

    let transport = args.transport(&urls)?;
    let rt = runtime()?;
    let rss_before = rss_kib();
    let started = Instant::now();
    let sent = rt.block_on(async {
        let client = Client::builder()
            .transport(transport)
            .pacing(Pacing::unlimited())
            .build()?
            .bot_with(&Credentials::new(bot_id.as_str(), BotToken::new(token)));
        client
            .send_file(USER, MediaSource::path(&path))
            .context_token(context)
            .await
    })?;
    let secs = started.elapsed().as_secs_f64();
    let peak = peak_rss_kib();
    drop(rt);

    let client_id = sent.last().map(|s| s.client_id.clone()).unwrap_or_default();
    let accepted = ctl.sent_by(&bot_id)?.into_iter().find(|m| {
        m["msg"]["client_id"] == client_id.as_str()
            && m["media"][0]["kind"] == "file"
            && m["media"][0]["size"] == size
            && m["media"][0]["md5"] == m["msg"]["item_list"][0]["file_item"]["md5"]
    });
    ctl.check_clean()?;
    println!(
        "RESULT bench=file impl=ours bytes={size} secs={secs:.3} peak_rss_kib={peak} rss_before_kib={rss_before} accepted={}",
        u8::from(accepted.is_some())
    );
    if accepted.is_none() {
        return Err("the simulator has no file message with the right size and MD5".into());
    }
    Ok(())
}

/// Credentials as a login stores them: with the host their token belongs
/// to (a stored token with none is sent nowhere).
fn stored(bot_id: &str, token: String, api: &str) -> Credentials {
    let mut c = Credentials::new(bot_id, BotToken::new(token));
    c.base_url = Some(api.to_owned());
    c
}

// ------------------------------------------------------------------ idle

fn idle(args: &Args) -> Result<(), BoxError> {
    let urls = args.urls()?;
    let accounts = usize::try_from(args.number("accounts", None)?)?.max(1);
    let window = Duration::from_secs(args.number("window-secs", Some(10))?);
    let settle = Duration::from_secs(args.number("settle-secs", Some(12))?);
    let hold = Duration::from_secs(args.number("hold-secs", Some(120))?);
    let mut ctl = Control::new(&urls.control)?;

    let rt = runtime()?;
    // The store the accounts' state lives in: memory (SQLite in memory), or
    // a SQLite file on this disk (a fresh state directory).
    let state_dir = std::env::temp_dir().join(format!("ilink-bench-idle-{}", std::process::id()));
    let store = bench_store(args, &state_dir, &rt)?;
    let mut ids = Vec::with_capacity(accounts);
    for _ in 0..accounts {
        let (bot_id, token) = ctl.create_account()?;
        rt.block_on(store.save_credentials(&stored(&bot_id, token, &urls.api)))?;
        ids.push(bot_id);
    }
    eprintln!("idle: {accounts} accounts created");

    let client = rt.block_on(async {
        // The server's hold is the first poll's deadline too (later polls
        // take the server's hint).
        let transport = args.transport(&urls)?.long_poll_timeout(hold);
        let client = Client::builder()
            .transport(transport)
            .shared_store(store.clone())
            .build()?;
        Ok::<_, BoxError>(client)
    })?;
    // Let the runtime's threads settle before the baseline.
    rt.block_on(async { tokio::time::sleep(Duration::from_millis(200)).await });
    let rss_before = rss_kib();

    // What each idle account's task holds: the state of its whole run (the
    // held poll's included). Printed so that a change that grows it shows.
    let runner_state_bytes = {
        let bot = rt.block_on(client.bot(ids[0].as_str()))?;
        let trivial = handler_fn(|_ctx: Context, _msg: Message| async { Ok(()) });
        let run = bot.run_until(trivial, std::future::pending::<()>());
        std::mem::size_of_val(&run)
    };

    let started = Instant::now();
    for id in &ids {
        let bot = rt.block_on(client.bot(id.as_str()))?;
        rt.spawn(async move {
            let trivial = handler_fn(|_ctx: Context, _msg: Message| async { Ok(()) });
            if let Err(e) = bot.run_until(trivial, std::future::pending::<()>()).await {
                eprintln!("idle: a runner stopped: {e}");
            }
        });
    }
    // Every account has a poll held once the simulator recorded as many
    // getupdates as there are accounts (a failed poll is retried by the
    // runner and counted again: the final check looks at distinct accounts).
    let needle = br#""route":"get_updates""#;
    let deadline = started + hold / 2;
    loop {
        let polls = ctl.count("/requests?route=get_updates", needle)?;
        if polls >= accounts {
            break;
        }
        if Instant::now() > deadline {
            return Err(format!("only {polls} of {accounts} polls arrived").into());
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    let ramp = started.elapsed();
    eprintln!(
        "idle: {accounts} polls held after {:.1} s",
        ramp.as_secs_f64()
    );
    std::thread::sleep(settle);
    let polls_settled = ctl.count("/requests?route=get_updates", needle)?;
    let rss_after = rss_kib();
    let conns = client.transport().connections();
    let fds = std::fs::read_dir("/proc/self/fd").map_or(0, Iterator::count);
    let threads = std::fs::read_dir("/proc/self/task").map_or(0, Iterator::count);

    let cpu_before = cpu_time();
    std::thread::sleep(window);
    let idle_cpu = cpu_time().saturating_sub(cpu_before);
    let measured = started.elapsed();

    let records = ctl.json("GET", "/requests?route=get_updates", "")?;
    let records = records.as_array().map(Vec::as_slice).unwrap_or_default();
    let polls = records.len();
    let held = records
        .iter()
        .filter_map(|r| r["bot_id"].as_str())
        .collect::<HashSet<_>>()
        .len();
    rt.shutdown_background();
    let per_account = rss_after.saturating_sub(rss_before) as f64 / accounts as f64;
    println!(
        "RESULT bench=idle impl=ours store={} accounts={accounts} rss_before_kib={rss_before} rss_after_kib={rss_after} per_account_kib={per_account:.2} idle_cpu_ms={} window_s={} polls={polls} held={held} fds={fds} threads={threads} ramp_s={:.1} runner_state_bytes={runner_state_bytes} conns_http1={} conns_http2={}",
        args.get("store").unwrap_or("memory"),
        idle_cpu.as_millis(),
        window.as_secs(),
        ramp.as_secs_f64(),
        conns.http1,
        conns.http2,
    );
    let _ = std::fs::remove_dir_all(&state_dir);
    if held != accounts {
        return Err(format!("only {held} of {accounts} accounts had a poll held").into());
    }
    if polls != polls_settled {
        return Err(format!(
            "{} polls returned or were retried during the window",
            polls - polls_settled
        )
        .into());
    }
    if measured >= hold {
        return Err("the window ran past the simulator's hold".into());
    }
    Ok(())
}

// ------------------------------------------------------------------ receive

fn receive(args: &Args) -> Result<(), BoxError> {
    let urls = args.urls()?;
    let messages = usize::try_from(args.number("messages", None)?)?.max(1);
    let users = usize::try_from(args.number("users", Some(64))?)?.max(1);
    let concurrency = usize::try_from(args.number("concurrency", Some(16))?)?.max(1);
    let mut ctl = Control::new(&urls.control)?;
    let rt = runtime()?;
    let state_dir =
        std::env::temp_dir().join(format!("ilink-bench-receive-{}", std::process::id()));
    let store = bench_store(args, &state_dir, &rt)?;
    let (bot_id, token) = ctl.create_account()?;
    rt.block_on(store.save_credentials(&stored(&bot_id, token, &urls.api)))?;
    for i in 0..messages {
        let from = format!("bench_sender_{:04}@im.wechat", i % users);
        let body = serde_json::to_string(&Inbound::text(&from, TEXT))?;
        ctl.json("POST", &format!("/accounts/{bot_id}/push"), &body)?;
    }
    eprintln!("receive: {messages} messages from {users} senders waiting");

    let handled = Arc::new(AtomicUsize::new(0));
    let all_handled = Arc::new(tokio::sync::Notify::new());
    let (secs, pending) = rt.block_on(async {
        let client = Client::builder()
            .transport(args.transport(&urls)?)
            .shared_store(store.clone())
            .build()?;
        let bot = client.bot(bot_id.as_str()).await?;
        let (count, done) = (handled.clone(), all_handled.clone());
        let handler = handler_fn(move |_ctx: Context, _msg: Message| {
            let (count, done) = (count.clone(), done.clone());
            async move {
                if count.fetch_add(1, Ordering::Relaxed) + 1 == messages {
                    done.notify_one();
                }
                Ok(())
            }
        });
        let started = Instant::now();
        let finished = Arc::new(std::sync::Mutex::new(None));
        let stop = {
            let finished = finished.clone();
            async move {
                all_handled.notified().await;
                *finished.lock().unwrap_or_else(|p| p.into_inner()) = Some(started.elapsed());
            }
        };
        let run = bot
            .runner()
            .concurrency(concurrency)
            .shutdown_grace(Duration::from_millis(100));
        tokio::time::timeout(Duration::from_secs(600), run.run_until(handler, stop))
            .await
            .map_err(|_| "the messages were not all handled within 600 s")??;
        // Up to the last handler's end: the stop that follows (the held poll
        // cut after the grace, the lease released) is not receiving.
        let secs = finished
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .map_or(f64::NAN, |d| d.as_secs_f64());
        let pending = store.pending(&bot_id.as_str().into()).await?.len();
        Ok::<_, BoxError>((secs, pending))
    })?;
    rt.shutdown_background();
    let _ = std::fs::remove_dir_all(&state_dir);
    let n = handled.load(Ordering::Relaxed);
    println!(
        "RESULT bench=receive impl=ours store={} messages={messages} users={users} concurrency={concurrency} handled={n} secs={secs:.3} messages_per_s={:.0} pending_after={pending}",
        args.get("store").unwrap_or("memory"),
        n as f64 / secs,
    );
    if n != messages {
        return Err(format!("{n} of {messages} messages handled").into());
    }
    if pending != 0 {
        return Err(format!("{pending} messages still pending after the run").into());
    }
    ctl.check_clean()
}

/// The store `--store` names (default `memory`), in a fresh state
/// directory `dir` for `sqlite`.
fn bench_store(
    args: &Args,
    dir: &std::path::Path,
    rt: &tokio::runtime::Runtime,
) -> Result<Arc<dyn Store>, BoxError> {
    let kind = args.get("store").unwrap_or("memory");
    if kind == "sqlite" {
        let _ = std::fs::remove_dir_all(dir);
    }
    Ok(rt.block_on(ilink_proof::bench_store(kind, dir, args.get("url")))?)
}
