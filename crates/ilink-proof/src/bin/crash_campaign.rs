//! The crash campaign: a bot on the SQLite store ([`crash_bot`](../crash_bot))
//! handles a stream of inbound messages from an in-process simulator while
//! it is killed with `SIGKILL` at random moments and restarted; then the
//! journal and the store are checked.
//!
//! ```text
//! crash_campaign [--messages 10000] [--kills 100] [--seed N] [--no-replay]
//!                [--min-delay-ms 20] [--max-delay-ms 400] [--dir DIR] [--keep]
//!                [--pg-url URL] [--replies]
//! ```
//!
//! With `--replies` the bot answers every message (`re <key>`, through the
//! outbox) before acknowledging it, and the campaign also checks the
//! outbound side: every acknowledged message has its reply at the server,
//! and no reply was shown twice (a resend after a kill carries the same
//! `client_id`, which the server drops).
//!
//! With `--pg-url` the bot keeps its state in PostgreSQL (a fresh schema)
//! instead of a SQLite state directory.
//!
//! ```text
//! ```
//!
//! Checks, each a violation that fails the run:
//!
//! - every pushed message was handled (`H`) at least once, except, with
//!   `--no-replay`, messages the server had answered in the batch that was
//!   in flight when a kill landed (the receive window no client can close
//!   when the server does not replay; attributed per kill and reported);
//! - no message was handled again after its acknowledgement (`H k` after
//!   `A k`), and none twice within one run (duplicate deliveries included);
//! - a message stored in the inbox at one kill is, at the next kill, still
//!   there or handled (nothing vanishes);
//! - after every kill a copy of the state directory opens and every file
//!   reads (`accounts`, credentials, cursor, inbox, context tokens), and no
//!   run exits with the bot's store-error code (4);
//! - at the end the inbox is empty, the simulator's queue is empty and the
//!   final run stops cleanly on `SIGTERM`.
//!
//! By default the simulator replays the batches after an older cursor (a
//! server that honours the cursor), so at-least-once is checked strictly;
//! `--no-replay` runs it like the real server, which does not replay.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use ilink::{SqliteStore, Store};
use ilink_testkit::{Inbound, Simulator};

/// The simulator's batch size (its default, set explicitly).
const MAX_BATCH: usize = 100;
/// How long the simulator holds an empty poll.
const HOLD: Duration = Duration::from_millis(300);
/// The bot's exit code for a store error.
const EXIT_STORE: i32 = 4;

struct Args {
    messages: usize,
    kills: usize,
    seed: Option<u64>,
    replay: bool,
    min_delay: u64,
    max_delay: u64,
    dir: Option<PathBuf>,
    keep: bool,
    bot: Option<PathBuf>,
    dup_every: usize,
    senders: usize,
    final_timeout: Duration,
    verbose: bool,
    /// A PostgreSQL server to keep the bot's state in (a fresh schema)
    /// instead of a SQLite state directory.
    pg_url: Option<String>,
    /// The bot replies to every message; the outbound side is checked too.
    replies: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        messages: 10_000,
        kills: 100,
        seed: None,
        replay: true,
        min_delay: 20,
        max_delay: 400,
        dir: None,
        keep: false,
        bot: None,
        dup_every: 10,
        senders: 8,
        final_timeout: Duration::from_secs(300),
        verbose: false,
        pg_url: None,
        replies: false,
    };
    let mut senders_given = false;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        let num = |v: String| v.parse::<u64>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--messages" => a.messages = usize::try_from(num(value()?)?).unwrap_or(usize::MAX),
            "--kills" => a.kills = usize::try_from(num(value()?)?).unwrap_or(usize::MAX),
            "--seed" => a.seed = Some(num(value()?)?),
            "--no-replay" => a.replay = false,
            "--pg-url" => a.pg_url = Some(value()?),
            "--replay" => a.replay = true,
            "--min-delay-ms" => a.min_delay = num(value()?)?,
            "--max-delay-ms" => a.max_delay = num(value()?)?,
            "--dir" => a.dir = Some(PathBuf::from(value()?)),
            "--keep" => a.keep = true,
            "-v" | "--verbose" => a.verbose = true,
            "--bot" => a.bot = Some(PathBuf::from(value()?)),
            "--dup-every" => a.dup_every = usize::try_from(num(value()?)?).unwrap_or(0),
            "--senders" => {
                a.senders = usize::try_from(num(value()?)?).unwrap_or(1).max(1);
                senders_given = true;
            }
            "--replies" => a.replies = true,
            "--final-timeout-s" => a.final_timeout = Duration::from_secs(num(value()?)?),
            "-h" | "--help" => {
                println!(
                    "crash_campaign [--messages N] [--kills K] [--seed S] [--no-replay] \
                     [--min-delay-ms MS] [--max-delay-ms MS] [--dir DIR] [--keep] [--bot PATH] \
                     [--dup-every N] [--senders N] [--final-timeout-s S] [--replies]"
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if a.max_delay < a.min_delay {
        return Err("--max-delay-ms is below --min-delay-ms".to_owned());
    }
    if a.replies && !senders_given {
        // A reply budget is 10 messages per user message: a batch of 100
        // from 8 senders would exhaust it, as it would on the real server.
        // With 1,000 senders a batch holds each sender about once.
        a.senders = 1_000;
    }
    Ok(a)
}

/// xorshift64*: small, seeded, reproducible.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

/// One complete journal line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Start,
    Handled,
    Acked,
}

#[derive(Default)]
struct Journal {
    /// `(op, key or instance, instance)` in file order.
    events: Vec<(Op, String, u64)>,
    torn: usize,
}

impl Journal {
    fn read(path: &Path) -> Journal {
        let bytes = std::fs::read(path).unwrap_or_default();
        let mut journal = Journal::default();
        let mut instance = u64::MAX;
        for raw in bytes.split(|b| *b == b'\n') {
            if raw.is_empty() {
                continue;
            }
            let Some(line) = std::str::from_utf8(raw)
                .ok()
                .and_then(|l| l.strip_suffix(" ."))
            else {
                journal.torn += 1;
                continue;
            };
            let mut parts = line.splitn(2, ' ');
            let (Some(op), Some(what)) = (parts.next(), parts.next()) else {
                journal.torn += 1;
                continue;
            };
            if what.is_empty() || what.contains(' ') {
                journal.torn += 1;
                continue;
            }
            let op = match op {
                "S" => {
                    instance = what.parse().unwrap_or(u64::MAX);
                    Op::Start
                }
                "H" => Op::Handled,
                "A" => Op::Acked,
                _ => {
                    journal.torn += 1;
                    continue;
                }
            };
            journal.events.push((op, what.to_owned(), instance));
        }
        journal
    }

    fn handled(&self) -> HashSet<&str> {
        self.events
            .iter()
            .filter(|(op, ..)| *op == Op::Handled)
            .map(|(_, k, _)| k.as_str())
            .collect()
    }

    fn acked(&self) -> HashSet<&str> {
        self.events
            .iter()
            .filter(|(op, ..)| *op == Op::Acked)
            .map(|(_, k, _)| k.as_str())
            .collect()
    }

    /// The last `H`/`A` event of one run.
    fn last_of(&self, instance: u64) -> Option<Op> {
        self.events
            .iter()
            .rev()
            .find(|(op, _, i)| *i == instance && *op != Op::Start)
            .map(|(op, ..)| *op)
    }
}

/// Where a kill landed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    InFlight,
    BetweenHandledAndAcked,
    LongPoll,
    Startup,
    Elsewhere,
}

impl Phase {
    fn label(self) -> &'static str {
        match self {
            Phase::InFlight => "a batch in flight (answered by the server, not yet stored)",
            Phase::BetweenHandledAndAcked => "between `H` and `A` (handled, not acknowledged)",
            Phase::LongPoll => "in a held long-poll",
            Phase::Startup => {
                "before the run handled its first message (startup, first poll, first commit)"
            }
            Phase::Elsewhere => {
                "after an `A` line (polling, storing the next batch's context tokens)"
            }
        }
    }
}

#[derive(Default)]
struct Tally {
    violations: Vec<String>,
    phases: BTreeMap<Phase, usize>,
    exits: BTreeMap<String, usize>,
    unreadable: Vec<String>,
    state_checks: usize,
    /// Messages in a batch in flight at a kill (answered, not yet stored).
    in_flight: HashSet<String>,
}

impl Tally {
    fn violation(&mut self, v: impl Into<String>) {
        let v = v.into();
        eprintln!("VIOLATION: {v}");
        self.violations.push(v);
    }
}

/// How many messages each kill cycle pushes: about 3 in 10 cycles push
/// none (the bot catches up and waits in a long-poll, so kills land there
/// too), the others 1 to 3 shares; `messages` in all.
fn wave_sizes(rng: &mut Rng, messages: usize, kills: usize) -> Vec<usize> {
    if kills == 0 {
        return Vec::new();
    }
    let weights: Vec<u64> = (0..kills)
        .map(|_| {
            if rng.range(0, 9) < 3 {
                0
            } else {
                rng.range(1, 3)
            }
        })
        .collect();
    let total: u64 = weights.iter().sum::<u64>().max(1);
    let mut sizes: Vec<usize> = weights
        .iter()
        .map(|w| (messages as u64 * w / total) as usize)
        .collect();
    let rest = messages - sizes.iter().sum::<usize>();
    // The remainder goes to the last pushing cycle (or the final run).
    if let Some(last) = weights.iter().rposition(|w| *w > 0) {
        sizes[last] += rest;
    }
    sizes
}

fn exit_label(status: &ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (_, Some(9)) => "killed by SIGKILL".to_owned(),
        (_, Some(s)) => format!("killed by signal {s}"),
        (Some(0), _) => "exit 0".to_owned(),
        (Some(EXIT_STORE), _) => "exit 4 (store error)".to_owned(),
        (Some(c), _) => format!("exit {c}"),
        (None, None) => "unknown".to_owned(),
    }
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// Temporary files (`.`-names) left anywhere under `dir`.
fn orphans(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut n = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let path = entry.path();
        if path.is_dir() {
            n += orphans(&path);
        } else if name.to_string_lossy().starts_with('.') {
            n += 1;
        }
    }
    n
}

/// The outbound side of a campaign with `--replies`.
struct Replies {
    acked: usize,
    accepted: usize,
    dropped: usize,
    lost: usize,
    doubled: usize,
}

/// Every handled (and so, by the end, acknowledged) message has exactly one reply (`re <key>`) accepted
/// by the server; nothing else was sent.
fn check_replies(
    sim: &Simulator,
    bot_id: &str,
    keys: &[String],
    tally: &mut Tally,
    acked: &HashSet<&str>,
) -> Replies {
    let sent: Vec<String> = sim
        .sent()
        .into_iter()
        .filter(|m| m.bot_id == bot_id)
        .map(|m| m.msg.text().into_owned())
        .collect();
    let mut per_text: HashMap<&str, usize> = HashMap::new();
    for text in &sent {
        *per_text.entry(text.as_str()).or_default() += 1;
    }
    let mut lost = 0;
    let mut doubled = 0;
    for key in acked {
        match per_text.get(format!("re {key}").as_str()) {
            None => {
                lost += 1;
                tally.violation(format!(
                    "{key} was acknowledged but its reply never reached the server"
                ));
            }
            Some(1) => {}
            Some(n) => {
                doubled += 1;
                tally.violation(format!("the reply to {key} was accepted {n} times"));
            }
        }
    }
    let known: HashSet<String> = keys.iter().map(|k| format!("re {k}")).collect();
    let strays = per_text.keys().filter(|t| !known.contains(**t)).count();
    if strays > 0 {
        tally.violation(format!(
            "{strays} messages sent that answer no pushed message"
        ));
    }
    Replies {
        acked: acked.len(),
        accepted: sent.len(),
        dropped: sim
            .dropped_duplicates()
            .iter()
            .filter(|d| d.bot_id == bot_id)
            .count(),
        lost,
        doubled,
    }
}

/// Opens the store a target names.
async fn open_store(target: &Target) -> Result<Box<dyn Store>, String> {
    Ok(match target {
        Target::Dir(dir) => {
            Box::new(SqliteStore::open(dir).map_err(|e| format!("open: {}", describe(&e)))?)
        }
        Target::Pg(url, schema) => Box::new(
            ilink::store::PgStore::connect_in_schema(url, schema)
                .await
                .map_err(|e| format!("open: {}", describe(&e)))?,
        ),
    })
}

/// How many messages the account's outbox holds.
async fn outbox_len(target: &Target, account: &str) -> Result<usize, String> {
    let store = open_store(target).await?;
    store
        .outbox(&ilink::AccountId::from(account))
        .await
        .map(|o| o.len())
        .map_err(|e| format!("outbox: {}", describe(&e)))
}

/// Where the bot's state is: a state directory (or a copy of it), or a
/// PostgreSQL schema.
enum Target {
    Dir(PathBuf),
    Pg(String, String),
}

/// Opens the store (on a copy, when checking between runs) and reads
/// everything the bot's account has; the keys pending in the inbox.
async fn read_state(
    target: &Target,
    account: &str,
) -> Result<(HashSet<String>, Option<String>), String> {
    let store = open_store(target).await?;
    let id = ilink::AccountId::from(account);
    let accounts = store
        .accounts()
        .await
        .map_err(|e| format!("accounts: {}", describe(&e)))?;
    if !accounts.is_empty() && !accounts.iter().any(|c| c.account_id == account) {
        return Err("accounts: the bot's account is missing".to_owned());
    }
    store
        .load_credentials(&id)
        .await
        .map_err(|e| format!("credentials: {}", describe(&e)))?;
    let cursor = store
        .load_cursor(&id)
        .await
        .map_err(|e| format!("cursor: {}", describe(&e)))?;
    store
        .context_tokens(&id)
        .await
        .map_err(|e| format!("context tokens: {}", describe(&e)))?;
    let pending = store
        .pending(&id)
        .await
        .map_err(|e| format!("inbox: {}", describe(&e)))?;
    Ok((
        pending.into_iter().map(|e| e.key).collect(),
        cursor.map(ilink::Cursor::into_string),
    ))
}

/// How long the store takes, on this disk, to commit one full batch with
/// its context tokens (the receive window: a kill before it ends loses what
/// is not written yet when the server does not replay).
/// Senders of the probe's batch, as in the campaign's waves.
const PROBE_SENDERS: usize = 8;

async fn probe_commit(dir: &Path, pg_url: Option<&str>) -> Result<Duration, String> {
    let err = |e: ilink::StoreError| describe(&e);
    let store: Box<dyn Store> = match pg_url {
        Some(url) => Box::new(
            ilink::store::PgStore::connect_in_schema(url, &format!("probe_{}", std::process::id()))
                .await
                .map_err(err)?,
        ),
        None => Box::new(SqliteStore::open(dir).map_err(err)?),
    };
    let account = ilink::AccountId::from("probe@im.bot");
    let lease = store
        .acquire(&account, "probe", Duration::from_secs(60))
        .await
        .map_err(err)?;
    let entries: Vec<ilink::store::InboxEntry> = (0..MAX_BATCH)
        .map(|i| {
            let msg = serde_json::json!({
                "message_id": i,
                "from_user_id": "sender@im.wechat",
                "context_token": format!("AARz{i:024x}"),
                "item_list": [{"type": 1, "text_item": {"text": format!("message {i}")}}],
            });
            ilink::store::InboxEntry::new(format!("m:{i}"), msg, 0)
        })
        .collect();
    // As the poller does: the latest token of each sender (8, as in the
    // waves), in the same transaction.
    let tokens: Vec<(ilink::UserId, ilink::proto::ContextToken)> = (MAX_BATCH - PROBE_SENDERS
        ..MAX_BATCH)
        .map(|i| {
            (
                ilink::UserId::new(format!("sender-{}@im.wechat", i % PROBE_SENDERS)),
                ilink::proto::ContextToken::new(format!("AARz{i:024x}")),
            )
        })
        .collect();
    let started = Instant::now();
    store
        .commit_batch(
            &lease,
            ilink::store::ReceivedBatch::new(entries, ilink::Cursor::from("probe-cursor"))
                .with_context_tokens(tokens),
        )
        .await
        .map_err(err)?;
    Ok(started.elapsed())
}

fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    ilink::Report::new(e).to_string()
}

struct Campaign {
    args: Args,
    sim: Simulator,
    bot_id: String,
    token: String,
    exe: PathBuf,
    state: PathBuf,
    /// The PostgreSQL schema, with `--pg-url`.
    schema: String,
    journal: PathBuf,
    snapshot: PathBuf,
    /// Keys in queue order, duplicate deliveries included.
    entries: Vec<String>,
    /// Distinct keys in push order.
    keys: Vec<String>,
    next_message: usize,
    tally: Tally,
}

impl Campaign {
    fn push(&mut self, n: usize) {
        for _ in 0..n {
            if self.next_message >= self.args.messages {
                return;
            }
            let i = self.next_message;
            self.next_message += 1;
            let from = format!("sender{}@im.wechat", i % self.args.senders);
            let mut inbound = Inbound::text(from, format!("message {i}"));
            let dup = self.args.dup_every > 0 && i % self.args.dup_every == self.args.dup_every - 1;
            if dup {
                inbound = inbound.duplicated();
            }
            let pushed = self.sim.push(&self.bot_id, inbound);
            let key = format!("m:{}", pushed.message_id.get());
            self.entries.push(key.clone());
            if dup {
                self.entries.push(key.clone());
            }
            self.keys.push(key);
        }
    }

    fn spawn(&self, instance: u64) -> std::io::Result<tokio::process::Child> {
        let mut command = tokio::process::Command::new(&self.exe);
        match &self.args.pg_url {
            Some(url) => command.args(["--pg-url", url, "--schema", &self.schema]),
            None => command.arg("--state").arg(&self.state),
        };
        command
            .arg("--journal")
            .arg(&self.journal)
            .args(["--api", self.sim.api_url(), "--cdn", self.sim.cdn_url()])
            .args(["--account", &self.bot_id])
            .args(["--instance", &instance.to_string()])
            .args(self.args.replies.then_some("--reply"))
            .env("ILINK_TOKEN", &self.token)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
    }

    /// Waits until no poll of a dead run is held any more and the queue is
    /// still, so that whatever it took from the queue is counted at this kill
    /// (a request it wrote just before dying may still be read by the
    /// server: it then either takes a batch at once or is held).
    async fn settle(&self) {
        tokio::time::sleep(Duration::from_millis(30)).await;
        for _ in 0..20 {
            let _ = self
                .sim
                .wait_until("held polls to end", HOLD * 10, |s| s.held_polls() == 0)
                .await;
            let queued = self.sim.queued(&self.bot_id);
            tokio::time::sleep(Duration::from_millis(50)).await;
            if self.sim.held_polls() == 0 && self.sim.queued(&self.bot_id) == queued {
                return;
            }
        }
    }

    /// The bot's live state: its PostgreSQL schema or its state directory.
    fn final_target(&self) -> Target {
        match &self.args.pg_url {
            Some(url) => Target::Pg(url.clone(), self.schema.clone()),
            None => Target::Dir(self.state.clone()),
        }
    }

    fn handed_out(&self) -> usize {
        self.entries.len() - self.sim.queued(&self.bot_id)
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("crash_campaign: {e}");
            return ExitCode::from(2);
        }
    };
    match run(args).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("crash_campaign: {e}");
            ExitCode::from(2)
        }
    }
}

async fn run(args: Args) -> Result<bool, String> {
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64 ^ u64::from(std::process::id()))
            .unwrap_or(1)
    });
    let mut rng = Rng::new(seed);
    let command = format!(
        "crash_campaign --messages {} --kills {} --seed {seed}{} --min-delay-ms {} --max-delay-ms {}{}",
        args.messages,
        args.kills,
        if args.replay { "" } else { " --no-replay" },
        args.min_delay,
        args.max_delay,
        if args.replies { " --replies" } else { "" }
    );
    println!("{command}");
    println!("seed {seed}");

    let exe = match &args.bot {
        Some(p) => p.clone(),
        None => std::env::current_exe()
            .map_err(|e| format!("locating myself: {e}"))?
            .with_file_name("crash_bot"),
    };
    if !exe.is_file() {
        return Err(format!(
            "{} not found (build the ilink-proof bins)",
            exe.display()
        ));
    }
    let dir = args.dir.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("ilink-crash-{}-{seed}", std::process::id()))
    });
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;

    let sim = Simulator::builder()
        .hold(HOLD)
        .max_batch(MAX_BATCH)
        .record_limit(0)
        .replay_on_old_cursor(args.replay)
        .start()
        .await
        .map_err(|e| format!("starting the simulator: {e}"))?;
    let account = sim.create_account();
    let mut c = Campaign {
        schema: format!("crash_{}", std::process::id()),
        sim,
        bot_id: account.bot_id.clone(),
        token: account.token.clone(),
        exe,
        state: dir.join("state"),
        journal: dir.join("journal.log"),
        snapshot: dir.join("snapshot"),
        entries: Vec::with_capacity(args.messages * 11 / 10),
        keys: Vec::with_capacity(args.messages),
        next_message: 0,
        tally: Tally::default(),
        args,
    };
    let probe = probe_commit(&dir.join("probe"), c.args.pg_url.as_deref()).await;
    let started = Instant::now();

    // ---- the kills ---------------------------------------------------------
    let kills = c.args.kills;
    let waves = wave_sizes(&mut rng, c.args.messages, kills);
    let mut stored_prev: HashSet<String> = HashSet::new();
    let mut missing: HashMap<String, usize> = HashMap::new();
    let mut c_prev = 0usize;
    let mut killed_between_h_and_a = 0usize;
    for (k, &wave) in waves.iter().enumerate() {
        let first_half = wave / 2;
        c.push(first_half);
        let mut child = c
            .spawn(k as u64)
            .map_err(|e| format!("spawning crash_bot: {e}"))?;
        let delay = rng.range(c.args.min_delay, c.args.max_delay);
        let mid = rng.range(0, delay);
        tokio::time::sleep(Duration::from_millis(mid)).await;
        c.push(wave - first_half);
        tokio::time::sleep(Duration::from_millis(delay - mid)).await;
        let polling = c.sim.held_polls() > 0;
        // `start_kill` sends SIGKILL on unix.
        let exited_before = child.try_wait().ok().flatten();
        if exited_before.is_none() {
            child
                .start_kill()
                .map_err(|e| format!("killing crash_bot: {e}"))?;
        }
        let status = match exited_before {
            Some(s) => s,
            None => child
                .wait()
                .await
                .map_err(|e| format!("waiting for crash_bot: {e}"))?,
        };
        let label = exit_label(&status);
        if status.code() == Some(EXIT_STORE) {
            c.tally
                .unreadable
                .push(format!("run {k} exited with the store-error code"));
        }
        if status.signal() != Some(9) {
            c.tally
                .violation(format!("run {k} ended on its own before its kill: {label}"));
        }
        *c.tally.exits.entry(label).or_default() += 1;
        c.settle().await;
        let handed = c.handed_out();

        // The state as a restart will find it, read from a copy.
        let journal = Journal::read(&c.journal);
        let target = match &c.args.pg_url {
            Some(url) => Target::Pg(url.clone(), c.schema.clone()),
            None => {
                let _ = std::fs::remove_dir_all(&c.snapshot);
                copy_dir(&c.state, &c.snapshot).map_err(|e| format!("copying the state: {e}"))?;
                Target::Dir(c.snapshot.clone())
            }
        };
        c.tally.state_checks += 1;
        let pending = match read_state(&target, &c.bot_id).await {
            Ok((p, _)) => p,
            Err(e) => {
                c.tally.unreadable.push(format!("after kill {k}: {e}"));
                HashSet::new()
            }
        };
        let handled = journal.handled();
        let stored: HashSet<String> = handled
            .iter()
            .map(|k| (*k).to_owned())
            .chain(pending.iter().cloned())
            .collect();
        for key in &stored_prev {
            if !stored.contains(key) {
                c.tally.violation(format!(
                    "{key} was stored at the previous kill and is neither pending nor handled after kill {k}"
                ));
            }
        }
        let mut new_missing = 0;
        for (p, key) in c.entries.iter().enumerate().take(handed).skip(c_prev) {
            if stored.contains(key) || missing.contains_key(key) {
                continue;
            }
            new_missing += 1;
            missing.insert(key.clone(), k);
            c.tally.in_flight.insert(key.clone());
            if p + MAX_BATCH < handed {
                c.tally.violation(format!(
                    "{key} (queue position {p}) was lost at kill {k}, outside the last batch answered ({handed} handed out)"
                ));
            }
        }
        missing.retain(|key, _| !stored.contains(key));
        let phase = if new_missing > 0 {
            Phase::InFlight
        } else {
            match journal.last_of(k as u64) {
                Some(Op::Handled) => Phase::BetweenHandledAndAcked,
                _ if polling => Phase::LongPoll,
                None => Phase::Startup,
                _ => Phase::Elsewhere,
            }
        };
        if journal.last_of(k as u64) == Some(Op::Handled) {
            killed_between_h_and_a += 1;
        }
        *c.tally.phases.entry(phase).or_default() += 1;
        if c.args.verbose {
            eprintln!(
                "kill {k}: after {delay} ms ({}), {handed} handed out (+{}), {} pending, {new_missing} newly missing, {:?}",
                if polling { "poll held" } else { "busy" },
                handed - c_prev,
                pending.len(),
                phase
            );
        }
        stored_prev = stored;
        c_prev = handed;
    }

    // ---- the final run -------------------------------------------------------
    let rest = c.args.messages - c.next_message;
    c.push(rest);
    let final_instance = kills as u64;
    let mut child = c
        .spawn(final_instance)
        .map_err(|e| format!("spawning crash_bot: {e}"))?;
    let deadline = Instant::now() + c.args.final_timeout;
    let completed = loop {
        if let Ok(Some(status)) = child.try_wait() {
            c.tally.violation(format!(
                "the final run ended on its own: {}",
                exit_label(&status)
            ));
            *c.tally.exits.entry(exit_label(&status)).or_default() += 1;
            break false;
        }
        // The run redelivers what is pending before its first poll and
        // polls again only once a batch is handled: held in a poll with the
        // queue empty, it has handled everything it will ever get.
        let journal = Journal::read(&c.journal);
        let handled = journal.handled();
        let queue_empty = c.sim.queued(&c.bot_id) == 0;
        let idle = c.sim.held_polls() > 0;
        let all_handled = c
            .keys
            .iter()
            .all(|k| handled.contains(k.as_str()) || (!c.args.replay && missing.contains_key(k)));
        if queue_empty && idle && all_handled {
            break true;
        }
        if Instant::now() > deadline {
            let unhandled = c
                .keys
                .iter()
                .filter(|k| !handled.contains(k.as_str()))
                .count();
            c.tally.violation(format!(
                "the final run did not finish within {:?}: {unhandled} messages never handled, queue {}",
                c.args.final_timeout,
                c.sim.queued(&c.bot_id)
            ));
            break false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    if completed {
        if let Some(pid) = child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
        match tokio::time::timeout(Duration::from_secs(10), child.wait()).await {
            Ok(Ok(status)) => {
                let label = exit_label(&status);
                if status.code() != Some(0) {
                    c.tally.violation(format!(
                        "the final run did not stop cleanly on SIGTERM: {label}"
                    ));
                }
                if status.code() == Some(EXIT_STORE) {
                    c.tally
                        .unreadable
                        .push("the final run exited with the store-error code".to_owned());
                }
                *c.tally.exits.entry(label).or_default() += 1;
            }
            _ => {
                c.tally
                    .violation("the final run did not stop within 10 s of SIGTERM");
                let _ = child.start_kill();
                let _ = child.wait().await;
            }
        }
    } else {
        let _ = child.start_kill();
        let _ = child.wait().await;
    }
    let wall = started.elapsed();

    // ---- verification --------------------------------------------------------
    let journal = Journal::read(&c.journal);
    let mut acked: HashSet<&str> = HashSet::new();
    let mut h_runs: HashMap<&str, Vec<u64>> = HashMap::new();
    let mut after_ack = 0usize;
    let mut twice_in_a_run = 0usize;
    for (op, key, instance) in &journal.events {
        match op {
            Op::Handled => {
                if acked.contains(key.as_str()) {
                    after_ack += 1;
                    c.tally.violation(format!(
                        "{key} handled again after its acknowledgement (run {instance})"
                    ));
                }
                let runs = h_runs.entry(key.as_str()).or_default();
                if runs.contains(instance) {
                    twice_in_a_run += 1;
                    c.tally
                        .violation(format!("{key} handled twice within run {instance}"));
                }
                runs.push(*instance);
            }
            Op::Acked => {
                acked.insert(key.as_str());
            }
            Op::Start => {}
        }
    }
    let pushed: HashSet<&str> = c.keys.iter().map(String::as_str).collect();
    let handled_once_or_more = c
        .keys
        .iter()
        .filter(|k| h_runs.contains_key(k.as_str()))
        .count();
    let more_than_once = h_runs.values().filter(|r| r.len() > 1).count();
    let journal_acked = journal.acked();
    let acked_without_line = h_runs
        .keys()
        .filter(|k| !journal_acked.contains(*k))
        .count();
    let unknown = h_runs.keys().filter(|k| !pushed.contains(*k)).count();
    if unknown > 0 {
        c.tally
            .violation(format!("{unknown} handled keys were never pushed"));
    }
    let never: Vec<&String> = c
        .keys
        .iter()
        .filter(|k| !h_runs.contains_key(k.as_str()))
        .collect();
    let mut lost_in_window = 0usize;
    for key in &never {
        if !c.args.replay && missing.contains_key(*key) {
            lost_in_window += 1;
        } else {
            c.tally.violation(format!("{key} was never handled"));
        }
    }
    let final_state = if completed {
        let target = c.final_target();
        match read_state(&target, &c.bot_id).await {
            Ok((pending, cursor)) => {
                if !pending.is_empty() {
                    c.tally.violation(format!(
                        "{} messages still pending at the end",
                        pending.len()
                    ));
                }
                if cursor.is_none() {
                    c.tally.violation("no cursor stored at the end");
                }
                format!(
                    "opens; {} pending, cursor {}, 1 account",
                    pending.len(),
                    if cursor.is_some() {
                        "stored"
                    } else {
                        "missing"
                    }
                )
            }
            Err(e) => {
                c.tally.unreadable.push(format!("at the end: {e}"));
                format!("UNREADABLE: {e}")
            }
        }
    } else {
        "not checked (the final run did not finish)".to_owned()
    };
    if !c.tally.unreadable.is_empty() {
        for u in c.tally.unreadable.clone() {
            c.tally.violation(format!("unreadable state: {u}"));
        }
    }
    let temp_files = orphans(&c.state);
    // Every handled message was acknowledged by the end (the inbox is
    // checked empty above), some without their `A` line.
    let handled: HashSet<&str> = h_runs.keys().copied().collect();
    let replies = c
        .args
        .replies
        .then(|| check_replies(&c.sim, &c.bot_id, &c.keys, &mut c.tally, &handled));
    let outbox_left = if c.args.replies && completed {
        let target = c.final_target();
        match outbox_len(&target, &c.bot_id).await {
            Ok(0) => Some("0".to_owned()),
            Ok(n) => {
                c.tally
                    .violation(format!("{n} replies still in the outbox at the end"));
                Some(n.to_string())
            }
            Err(e) => {
                c.tally
                    .violation(format!("the outbox could not be read: {e}"));
                Some(format!("unreadable: {e}"))
            }
        }
    } else {
        None
    };

    // ---- report --------------------------------------------------------------
    let n = c.args.messages;
    let dups = c.entries.len() - c.keys.len();
    println!();
    println!("| figure | value |");
    println!("|---|---:|");
    println!(
        "| server | {} |",
        if c.args.replay {
            "replays batches after an older cursor"
        } else {
            "does not replay (as the real server)"
        }
    );
    println!("| messages pushed (+ duplicate deliveries) | {n} (+{dups}) |");
    println!("| bot runs started | {} |", kills + 1);
    println!(
        "| SIGKILLs | {kills} (after {}–{} ms each) |",
        c.args.min_delay, c.args.max_delay
    );
    for (phase, count) in &c.tally.phases {
        println!("| kills landing {} | {count} |", phase.label());
    }
    for (label, count) in &c.tally.exits {
        println!("| runs that ended with {label} | {count} |");
    }
    println!("| messages handled at least once | {handled_once_or_more} / {n} |");
    println!("| messages handled more than once (killed between `H` and `A`) | {more_than_once} |");
    println!("| kills between `H` and `A` | {killed_between_h_and_a} |");
    println!(
        "| messages whose `A` line a kill prevented (acknowledged in the store, not redelivered) | {acked_without_line} |"
    );
    println!("| messages handled again after their acknowledgement | {after_ack} |");
    println!("| messages handled twice within one run | {twice_in_a_run} |");
    println!(
        "| messages in a batch in flight at a kill | {} ({} of them handled later{}) |",
        c.tally.in_flight.len(),
        c.tally
            .in_flight
            .iter()
            .filter(|k| h_runs.contains_key(k.as_str()))
            .count(),
        if c.args.replay {
            ", by replay"
        } else {
            ", by a duplicate delivery"
        }
    );
    println!("| messages lost in the receive window | {lost_in_window} |");
    println!(
        "| messages never handled otherwise | {} |",
        never.len() - lost_in_window
    );
    println!(
        "| state checks after a kill: unreadable | {} of {} |",
        c.tally.unreadable.len(),
        c.tally.state_checks
    );
    println!("| final store | {final_state} |");
    if let Some(r) = &replies {
        println!(
            "| replies accepted by the server | {} (for {} acknowledged messages) |",
            r.accepted, r.acked
        );
        println!(
            "| replies resent after a kill and dropped by the server as a repeated `client_id` | {} |",
            r.dropped
        );
        println!(
            "| acknowledged messages without their reply at the server | {} |",
            r.lost
        );
        println!(
            "| replies shown twice (two accepted messages for one inbound message) | {} |",
            r.doubled
        );
        if let Some(left) = &outbox_left {
            println!("| replies left in the outbox at the end | {left} |");
        }
    }
    println!("| temporary files left behind by kills | {temp_files} |");
    match &probe {
        Ok(commit) => {
            println!(
                "| committing one {MAX_BATCH}-message batch on this disk (entries, {PROBE_SENDERS} senders' context tokens and the cursor, one transaction) | {:.1} ms |",
                commit.as_secs_f64() * 1000.0
            );
        }
        Err(e) => println!("| committing one batch on this disk | probe failed: {e} |"),
    }
    println!("| torn journal lines | {} |", journal.torn);
    println!("| wall time | {:.1} s |", wall.as_secs_f64());
    println!();
    let pass = c.tally.violations.is_empty();
    if pass && lost_in_window > 0 {
        println!(
            "PASS ({lost_in_window} of {n} messages lost in the receive window: the server does not replay)"
        );
    } else if pass {
        println!("PASS");
    } else {
        println!("FAIL: {} violations", c.tally.violations.len());
        for v in c.tally.violations.iter().take(20) {
            println!("  {v}");
        }
    }
    if !c.args.keep && pass {
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        println!("state and journal kept in {}", dir.display());
    }
    Ok(pass)
}
