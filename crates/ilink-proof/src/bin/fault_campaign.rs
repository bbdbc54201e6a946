//! The fault campaign: every fault the simulator can inject, on every route
//! the client uses, against the real [`ilink::Client`] with short timeouts.
//!
//! ```text
//! fault_campaign [--quick] [--only ROUTE[:KIND]] [--count N] [--jobs 4] [--verbose]
//! ```
//!
//! Each case gets a fresh simulator and client, arms the fault for the next
//! calls of its route (5; 3 for throttled sends, 1 for getconfig, whose
//! client-side backoff is a fixed 2 s), and drives the operation that uses
//! the route until it succeeds again. Recorded per case: whether anything
//! panicked (each case runs in its own task), the error the caller saw and
//! whether it is the one the expectation table names, the request rate on
//! the route while the fault lasted (from the simulator's records), and the
//! recovery: from the last faulted request to the next request, which must
//! succeed, within one backoff step of the route. Two throttling scenarios
//! follow: a server rate limit tripped with pacing off (no send may reach
//! the server during the cooldown) and the default pacing (never tripped).
//!
//! Prints a markdown table and `PASS` or `FAIL`; exits 1 on `FAIL`.

use std::future::Future;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ilink::Retry;
use ilink::http::{ErrorKind, Transport, TransportBuilder};
use ilink::pacing::Pacing;
use ilink::proto::{MessageItem, TypingStatus};
use ilink::{
    Bot, Client, Credentials, Error, LoginOutcome, MediaSource, Message, RunEvent, handler_fn,
};
use ilink_testkit::{Fault, FaultKind, Inbound, RateLimit, RequestRecord, Route, Simulator};

const HOLD: Duration = Duration::from_millis(300);
const HANG: Duration = Duration::from_millis(1000);
const OP_GAP: Duration = Duration::from_millis(100);
const LONG_POLL: Duration = Duration::from_millis(500);
const MARGIN: Duration = Duration::from_millis(300);
const API_TIMEOUT: Duration = Duration::from_millis(400);
const CONFIG_TIMEOUT: Duration = Duration::from_millis(400);
const LOGIN_TIMEOUT: Duration = Duration::from_millis(400);
const UPLOAD_TIMEOUT: Duration = Duration::from_millis(600);
const DOWNLOAD_IDLE: Duration = Duration::from_millis(400);
const POLL_INITIAL: Duration = Duration::from_millis(100);
const POLL_MAX: Duration = Duration::from_millis(800);
const SEND_INITIAL: Duration = Duration::from_millis(50);
const SEND_MAX: Duration = Duration::from_millis(400);
const UPLOAD_RETRY: Duration = Duration::from_millis(50);
const COOLDOWN: Duration = Duration::from_millis(1000);
const QR_INTERVAL: Duration = Duration::from_millis(50);
/// The client's first getconfig backoff (fixed, not configurable).
const TYPING_BACKOFF: Duration = Duration::from_secs(2);
/// Jitter of the client's backoffs.
const JITTER: f64 = 0.2;
/// Added to every recovery bound for scheduling and loopback latency.
const SLACK: Duration = Duration::from_millis(300);
/// Measured rates may exceed their bound by this factor (request arrival
/// times carry loopback and scheduling noise).
const RATE_TOLERANCE: f64 = 1.1;
const CASE_DEADLINE: Duration = Duration::from_secs(25);
const USER: &str = "alice@im.wechat";

fn kinds() -> Vec<FaultKind> {
    vec![
        FaultKind::Status500,
        FaultKind::BadGatewayHtml,
        FaultKind::Gateway524,
        FaultKind::ConnectionReset,
        FaultKind::Hang {
            duration: Some(HANG),
        },
        FaultKind::MalformedJson,
        FaultKind::TruncatedBody,
        FaultKind::Throttled,
        FaultKind::SessionExpired,
        FaultKind::SlowAfterEffect { delay: HANG },
    ]
}

fn kind_name(kind: &FaultKind) -> &'static str {
    match kind {
        FaultKind::Status500 => "500",
        FaultKind::BadGatewayHtml => "502 html",
        FaultKind::Gateway524 => "524",
        FaultKind::ConnectionReset => "reset",
        FaultKind::Hang { .. } => "hang 1 s",
        FaultKind::MalformedJson => "bad JSON",
        FaultKind::TruncatedBody => "truncated",
        FaultKind::Throttled => "ret -2",
        FaultKind::SessionExpired => "ret -14",
        FaultKind::SlowAfterEffect { .. } => "slow 1 s",
        _ => "other",
    }
}

fn route_name(route: Route) -> &'static str {
    match route {
        Route::GetBotQrcode => "get_bot_qrcode",
        Route::GetQrcodeStatus => "get_qrcode_status",
        Route::GetUpdates => "getupdates",
        Route::SendMessage => "sendmessage",
        Route::GetUploadUrl => "getuploadurl",
        Route::GetConfig => "getconfig",
        Route::SendTyping => "sendtyping",
        Route::NotifyStart => "notifystart",
        Route::NotifyStop => "notifystop",
        Route::CdnUpload => "cdn upload",
        Route::CdnDownload => "cdn download",
        _ => "other",
    }
}

/// The cases `--quick` runs (CI): one or two kinds per route, the slow
/// kinds only once.
fn quick() -> Vec<(Route, FaultKind)> {
    vec![
        (Route::GetUpdates, FaultKind::Status500),
        (Route::GetUpdates, FaultKind::SessionExpired),
        (Route::SendMessage, FaultKind::ConnectionReset),
        (Route::SendMessage, FaultKind::Throttled),
        (
            Route::SendMessage,
            FaultKind::SlowAfterEffect { delay: HANG },
        ),
        (Route::GetUploadUrl, FaultKind::MalformedJson),
        (Route::CdnUpload, FaultKind::Status500),
        (Route::CdnDownload, FaultKind::TruncatedBody),
        (Route::GetConfig, FaultKind::Status500),
        (Route::SendTyping, FaultKind::SessionExpired),
        (Route::NotifyStart, FaultKind::BadGatewayHtml),
        (Route::GetQrcodeStatus, FaultKind::ConnectionReset),
        (Route::GetBotQrcode, FaultKind::Status500),
    ]
}

// ---------------------------------------------------------------- labels

fn http_label(e: &ilink::http::Error) -> String {
    match e.kind() {
        ErrorKind::Status { status } => format!("Status({status})"),
        ErrorKind::Timeout => "Timeout".to_owned(),
        ErrorKind::Body => "Body".to_owned(),
        ErrorKind::Connect => "Connect".to_owned(),
        ErrorKind::Decode => "Decode".to_owned(),
        ErrorKind::Decrypt => "Decrypt".to_owned(),
        ErrorKind::Api { ret, errcode, .. } => {
            format!("Api({})", ret.filter(|r| *r != 0).or(*errcode).unwrap_or(0))
        }
        ErrorKind::TooLarge { .. } => "TooLarge".to_owned(),
        ErrorKind::Tls => "Tls".to_owned(),
        ErrorKind::Io => "Io".to_owned(),
        ErrorKind::InvalidInput => "InvalidInput".to_owned(),
        other => format!("{other:?}"),
    }
}

fn label(e: &Error) -> String {
    match e {
        Error::Http(h) => format!("Http({})", http_label(h)),
        Error::SessionExpired { .. } => "SessionExpired".to_owned(),
        Error::Throttled { .. } => "Throttled".to_owned(),
        Error::Api { ret, errcode, .. } => {
            format!("Api({})", ret.or(*errcode).map_or(0, |c| c.0))
        }
        Error::Decode(_) => "Decode".to_owned(),
        Error::Timeout(_) => "Timeout".to_owned(),
        Error::EmptyText => "EmptyText".to_owned(),
        Error::NoRecipient => "NoRecipient".to_owned(),
        Error::NoTypingTicket { .. } => "NoTypingTicket".to_owned(),
        Error::Partial { source, .. } => format!("Partial({})", label(source)),
        Error::Login(f) => format!("Login({f})"),
        Error::Store(_) => "Store".to_owned(),
        Error::Io(_) => "Io".to_owned(),
        Error::Media(_) => "Media".to_owned(),
        Error::Random(_) => "Random".to_owned(),
        Error::UnknownAccount { .. } => "UnknownAccount".to_owned(),
        other => format!("{other:?}"),
    }
}

/// What the caller should see: the client's documented taxonomy (transport
/// failures as `Http(kind)`, in-band outcomes as their own variants, an
/// unreadable answer as `Decode`), or `ok` where the client absorbs the
/// fault by design.
fn expected(route: Route, kind: &FaultKind) -> &'static [&'static str] {
    use FaultKind as K;
    // How the transport classifies each kind on an ordinary API call.
    let api: &'static [&'static str] = match kind {
        K::Status500 => &["Http(Status(500))"],
        K::BadGatewayHtml => &["Http(Status(502))"],
        K::Gateway524 => &["Http(Status(524))"],
        K::ConnectionReset | K::TruncatedBody => &["Http(Body)"],
        K::Hang { .. } | K::SlowAfterEffect { .. } => &["Http(Timeout)"],
        K::MalformedJson => &["Decode"],
        K::Throttled => &["Throttled"],
        K::SessionExpired => &["SessionExpired"],
        _ => &[],
    };
    match route {
        // A long-poll that times out or meets a 524 is an empty batch.
        Route::GetUpdates => match kind {
            K::Gateway524 | K::Hang { .. } | K::SlowAfterEffect { .. } => &["ok"],
            _ => api,
        },
        Route::SendMessage | Route::GetUploadUrl | Route::SendTyping => api,
        // Typing is best-effort: getconfig failures leave no ticket.
        Route::GetConfig => &["NoTypingTicket"],
        // The raw transport call (the runner logs it and goes on).
        Route::NotifyStart | Route::NotifyStop => match kind {
            K::MalformedJson => &["Http(Decode)"],
            K::Throttled => &["Http(Api(-2))"],
            K::SessionExpired => &["Http(Api(-14))"],
            _ => api,
        },
        // The CDN answers bytes, not JSON: a 200 without the upload
        // parameter is undecodable; a JSON body does not decrypt.
        Route::CdnUpload => match kind {
            K::MalformedJson | K::Throttled | K::SessionExpired => &["Decode"],
            _ => api,
        },
        Route::CdnDownload => match kind {
            K::MalformedJson | K::Throttled | K::SessionExpired => &["Http(Decrypt)"],
            _ => api,
        },
        // get_bot_qrcode has no retry: the login fails with the error.
        Route::GetBotQrcode => match kind {
            K::Throttled => &["Throttled", "Api(-2)"],
            K::SessionExpired => &["SessionExpired", "Api(-14)"],
            _ => api,
        },
        // Status polls retry timeouts, broken connections and 5xx.
        Route::GetQrcodeStatus => match kind {
            K::MalformedJson => &["Decode"],
            K::Throttled => &["Throttled", "Api(-2)"],
            K::SessionExpired => &["SessionExpired", "Api(-14)"],
            _ => &["ok"],
        },
        _ => &[],
    }
}

/// `--count`: overrides how many calls every fault affects.
static COUNT_OVERRIDE: std::sync::OnceLock<u32> = std::sync::OnceLock::new();

/// How many calls the fault affects.
fn count_for(route: Route, kind: &FaultKind) -> u32 {
    if let Some(n) = COUNT_OVERRIDE.get() {
        return *n;
    }
    match (route, kind) {
        (Route::GetConfig, _) => 1,
        (Route::SendMessage, FaultKind::Throttled) => 3,
        _ => 5,
    }
}

/// The deadline of one call of the route.
fn deadline(route: Route) -> Duration {
    match route {
        Route::GetUpdates | Route::GetQrcodeStatus => LONG_POLL + MARGIN,
        Route::SendMessage | Route::GetUploadUrl => API_TIMEOUT,
        Route::GetConfig | Route::SendTyping | Route::NotifyStart | Route::NotifyStop => {
            CONFIG_TIMEOUT
        }
        Route::GetBotQrcode => LOGIN_TIMEOUT,
        Route::CdnUpload => UPLOAD_TIMEOUT,
        Route::CdnDownload => DOWNLOAD_IDLE,
        _ => API_TIMEOUT,
    }
}

fn is_slow(kind: &FaultKind) -> bool {
    matches!(
        kind,
        FaultKind::Hang { .. } | FaultKind::SlowAfterEffect { .. }
    )
}

/// One backoff step of the route after the fault (what may pass between the
/// end of the last faulted call and the next call).
fn step(route: Route, kind: &FaultKind) -> Duration {
    match route {
        Route::GetUpdates => match kind {
            // A timed-out poll is an ordinary empty poll: no backoff.
            FaultKind::Hang { .. } | FaultKind::SlowAfterEffect { .. } => Duration::ZERO,
            // Instant 524s are empty polls that come back at once: the
            // runner backs off on them like on failures.
            _ => POLL_MAX.mul_f64(1.0 + JITTER),
        },
        Route::SendMessage if *kind == FaultKind::Throttled => COOLDOWN + OP_GAP,
        Route::SendMessage => SEND_MAX.mul_f64(1.0 + JITTER).max(OP_GAP),
        Route::GetConfig => TYPING_BACKOFF + OP_GAP,
        Route::CdnUpload | Route::CdnDownload => OP_GAP + UPLOAD_RETRY * 2,
        Route::GetQrcodeStatus => QR_INTERVAL,
        _ => OP_GAP,
    }
}

/// The highest request rate on the route the client's pacing allows in this
/// campaign's workload (requests per second).
fn rate_bound(route: Route, kind: &FaultKind, count: u32) -> f64 {
    let per_s = |gap: Duration| 1.0 / gap.as_secs_f64();
    match route {
        // An instant 524 is an empty batch, not a failure: the runner polls
        // again at once after the first two in a row, then backs off (the
        // third is followed by the first backoff step). So the gaps between
        // `count` calls are 0, 0, then the backoff steps, at least
        // (1 - jitter) of each.
        Route::GetUpdates if *kind == FaultKind::Gateway524 => {
            let steps = (1..(count as i32 - 2).max(1)).map(|k| {
                POLL_INITIAL
                    .mul_f64(2f64.powi(k - 1))
                    .min(POLL_MAX)
                    .mul_f64(1.0 - JITTER)
                    .as_secs_f64()
            });
            let least: f64 = steps.sum();
            if least > 0.0 {
                f64::from(count.saturating_sub(1)) / least
            } else {
                f64::INFINITY
            }
        }
        Route::GetUpdates => per_s(POLL_INITIAL.mul_f64(1.0 - JITTER)),
        Route::SendMessage if *kind == FaultKind::Throttled => per_s(COOLDOWN),
        Route::SendMessage => per_s(SEND_INITIAL.mul_f64(1.0 - JITTER).min(OP_GAP)),
        Route::GetConfig => per_s(TYPING_BACKOFF),
        Route::CdnUpload | Route::CdnDownload => per_s(UPLOAD_RETRY),
        Route::GetQrcodeStatus => per_s(QR_INTERVAL),
        _ => per_s(OP_GAP),
    }
}

/// The most calls of the route one operation may make (`None`: not bounded
/// per operation, e.g. the status polls of one login).
fn calls_per_op(route: Route, kind: &FaultKind) -> Option<usize> {
    let retryable = matches!(
        kind,
        FaultKind::Status500
            | FaultKind::BadGatewayHtml
            | FaultKind::Gateway524
            | FaultKind::ConnectionReset
            | FaultKind::Hang { .. }
            | FaultKind::TruncatedBody
            | FaultKind::SlowAfterEffect { .. }
    );
    match route {
        Route::GetUpdates | Route::GetQrcodeStatus => None,
        // Retryable failures: 3 attempts with the same client_id.
        Route::SendMessage if retryable => Some(3),
        // Every failure but a 4xx: 3 attempts.
        Route::CdnUpload => Some(3),
        // Retryable failures before a byte was written: 3 attempts.
        Route::CdnDownload if retryable => Some(3),
        _ => Some(1),
    }
}

// ---------------------------------------------------------------- the client

struct Env {
    sim: Simulator,
    bot_id: String,
    client: Client,
    /// The account's bot (unused by the login routes).
    bot: Bot,
    image: Option<MessageItem>,
}

fn transport(sim: &Simulator) -> Result<TransportBuilder, String> {
    let t = Transport::builder()
        .api_base_url(sim.api_url())
        .cdn_base_url(sim.cdn_url())
        .long_poll_timeout(LONG_POLL)
        .long_poll_margin(MARGIN)
        .api_timeout(API_TIMEOUT)
        .config_timeout(CONFIG_TIMEOUT)
        .login_timeout(LOGIN_TIMEOUT)
        .upload_timeout(UPLOAD_TIMEOUT)
        .download_timeout(UPLOAD_TIMEOUT)
        .download_idle_timeout(DOWNLOAD_IDLE)
        .connect_timeout(Duration::from_millis(400))
        .upload_retry(Retry::new(UPLOAD_RETRY, Duration::from_secs(5)).with_attempts(3))
        .download_retry(Retry::new(UPLOAD_RETRY, Duration::from_secs(5)).with_attempts(3));
    Ok(t)
}

fn builder(transport: TransportBuilder) -> ilink::ClientBuilder {
    Client::builder()
        .transport(transport)
        .poll_retry(Retry::new(POLL_INITIAL, POLL_MAX))
        .send_retry(Retry::new(SEND_INITIAL, SEND_MAX).with_attempts(3))
        .throttle_cooldown(COOLDOWN)
        // Hundreds of sends to one user: the reply budget is not what this
        // campaign measures.
        .reply_limits(ilink::store::ReplyLimits::none())
        .pacing(Pacing::unlimited())
        .qr_poll_interval(QR_INTERVAL)
        .login_deadline(Duration::from_secs(15))
}

/// A fresh simulator and a client whose store knows the user (its context
/// token), and for downloads a received image.
async fn setup(route: Route, sim: Simulator) -> Result<Env, String> {
    let bot = sim.create_account();
    let login_route = matches!(route, Route::GetBotQrcode | Route::GetQrcodeStatus);
    let client = builder(transport(&sim)?)
        .build()
        .map_err(|e| format!("client: {e}"))?;
    let me = client.bot_with(&Credentials::from_token(bot.token.clone()));
    let mut env = Env {
        bot_id: bot.bot_id,
        client,
        bot: me,
        image: None,
        sim,
    };
    if login_route {
        return Ok(env);
    }
    env.sim.push(&env.bot_id, Inbound::text(USER, "hello"));
    let want = if route == Route::CdnDownload {
        env.sim
            .push(&env.bot_id, Inbound::image(USER, vec![7u8; 3000]));
        2
    } else {
        1
    };
    let mut poller = env
        .bot
        .poller()
        .await
        .map_err(|e| format!("poller: {}", label(&e)))?;
    let mut got = 0;
    while got < want {
        let batch = poller
            .next_batch()
            .await
            .map_err(|e| format!("setup poll: {}", label(&e)))?;
        for msg in &batch.messages {
            got += 1;
            if let Some(item) = msg.items().iter().find(|i| i.media().is_some()) {
                env.image = Some(item.clone());
            }
            poller
                .ack(msg)
                .await
                .map_err(|e| format!("ack: {}", label(&e)))?;
        }
    }
    drop(poller);
    if route == Route::SendTyping {
        // A typing ticket first, so that the fault meets sendtyping itself.
        env.bot
            .send_typing(USER, TypingStatus::TYPING)
            .await
            .map_err(|e| format!("setup typing: {}", label(&e)))?;
    }
    Ok(env)
}

/// A send as a one-shot caller sees it: a message left waiting in the
/// outbox counts as the failure that holds it, and is taken back out (each
/// operation of this campaign is measured on its own; the outbox's own
/// retries are checked by the client's tests).
async fn one_shot(
    bot: &ilink::Bot,
    sent: Result<Vec<ilink::Sent>, Error>,
) -> Result<(), std::sync::Arc<Error>> {
    let sent = sent.map_err(std::sync::Arc::new)?;
    match bot.withdraw_waiting(&sent).await {
        Ok(None) => Ok(()),
        Ok(Some(cause)) => Err(cause),
        Err(e) => Err(std::sync::Arc::new(e)),
    }
}

/// One use of the route, as an application would make it.
async fn operation(route: Route, env: &Env, i: usize) -> Result<(), String> {
    let c = &env.bot;
    match route {
        Route::SendMessage => one_shot(c, c.send_text(USER, format!("op {i}")).await)
            .await
            .map_err(|e| label(&e)),
        Route::GetUploadUrl | Route::CdnUpload => one_shot(
            c,
            c.send_image(USER, MediaSource::bytes(vec![i as u8; 2000]))
                .await,
        )
        .await
        .map_err(|e| label(&e)),
        Route::GetConfig | Route::SendTyping => c
            .send_typing(USER, TypingStatus::TYPING)
            .await
            .map_err(|e| label(&e)),
        Route::NotifyStart | Route::NotifyStop => {
            let raw = c.raw();
            let result = if route == Route::NotifyStart {
                raw.notify_start().await
            } else {
                raw.notify_stop().await
            };
            result
                .map(drop)
                .map_err(|e| format!("Http({})", http_label(&e)))
        }
        Route::CdnDownload => {
            let item = env.image.as_ref().ok_or("no image received")?;
            c.download(item)
                .bytes()
                .await
                .map(drop)
                .map_err(|e| label(&e))
        }
        Route::GetBotQrcode | Route::GetQrcodeStatus => match env.client.login().await {
            Ok(LoginOutcome::LoggedIn { .. }) => Ok(()),
            Ok(_) => Err("AlreadyBound".to_owned()),
            Err(e) => Err(label(&e)),
        },
        _ => Err("no operation for this route".to_owned()),
    }
}

// ---------------------------------------------------------------- one case

struct Row {
    route: Route,
    kind: FaultKind,
    error: String,
    right: bool,
    count: u32,
    faulted: usize,
    ops: usize,
    calls: usize,
    per_op: Option<usize>,
    rate: Option<f64>,
    rate_bound: f64,
    recovery: Option<Duration>,
    recovery_bound: Option<Duration>,
    notes: Vec<String>,
    problems: Vec<String>,
}

impl Row {
    fn new(route: Route, kind: FaultKind) -> Self {
        let slow = if is_slow(&kind) {
            deadline(route)
        } else {
            Duration::ZERO
        };
        Self {
            route,
            count: count_for(route, &kind),
            rate_bound: rate_bound(route, &kind, count_for(route, &kind)),
            recovery_bound: Some(slow + step(route, &kind) + SLACK),
            per_op: calls_per_op(route, &kind),
            kind,
            error: String::new(),
            right: false,
            faulted: 0,
            ops: 0,
            calls: 0,
            rate: None,
            recovery: None,
            notes: Vec::new(),
            problems: Vec::new(),
        }
    }

    fn problem(&mut self, p: impl Into<String>) {
        self.problems.push(p.into());
    }

    fn pass(&self) -> bool {
        self.problems.is_empty()
    }

    /// The error seen, checked against the table.
    fn saw(&mut self, error: Option<String>) {
        self.error = error.unwrap_or_else(|| "ok".to_owned());
        let want = expected(self.route, &self.kind);
        self.right = want.contains(&self.error.as_str());
        if !self.right {
            self.problem(format!(
                "saw {}, expected {}",
                self.error,
                want.join(" or ")
            ));
        }
    }

    /// Rate and recovery from the simulator's records of the route (those
    /// after the fault was armed).
    fn measure(&mut self, records: &[RequestRecord], recovered: bool) {
        let n = self.count as usize;
        self.calls = records.len();
        if let Some(per_op) = self.per_op
            && self.calls > per_op * self.ops
        {
            self.problem(format!(
                "{} calls in {} operations (at most {per_op} each)",
                self.calls, self.ops
            ));
        }
        let faulted = &records[..records.len().min(n)];
        self.faulted = faulted.len();
        let next = records.get(n);
        self.rate = match (faulted, next) {
            ([first, .., last], _) => {
                let span = last.at.saturating_sub(first.at).as_secs_f64();
                Some(if span > 0.0 {
                    (faulted.len() - 1) as f64 / span
                } else {
                    f64::INFINITY
                })
            }
            ([only], Some(next)) => Some(1.0 / next.at.saturating_sub(only.at).as_secs_f64()),
            _ => None,
        };
        if let Some(rate) = self.rate
            && rate > self.rate_bound * RATE_TOLERANCE
        {
            self.problem(format!(
                "{rate:.1} requests/s while faulted, above the bound {:.1}",
                self.rate_bound
            ));
        }
        match (faulted.last(), next) {
            (Some(last), Some(next)) if recovered => {
                let r = next.at.saturating_sub(last.at);
                self.recovery = Some(r);
                if let Some(bound) = self.recovery_bound
                    && r > bound
                {
                    self.problem(format!(
                        "recovered after {} ms, above the bound {} ms",
                        r.as_millis(),
                        bound.as_millis()
                    ));
                }
            }
            _ => self.problem("no successful call after the fault"),
        }
    }
}

async fn run_case(route: Route, kind: FaultKind) -> Row {
    let mut row = Row::new(route, kind.clone());
    let sim = match Simulator::builder().hold(HOLD).start().await {
        Ok(s) => s,
        Err(e) => {
            row.problem(format!("simulator: {e}"));
            return row;
        }
    };
    let env = match setup(route, sim).await {
        Ok(env) => env,
        Err(e) => {
            row.problem(e);
            return row;
        }
    };
    if route == Route::GetUpdates {
        poll_case(&env, &mut row).await;
    } else {
        op_case(&env, &mut row).await;
    }
    row
}

/// Operations in a loop (a pause of `OP_GAP` after each failure) until one
/// succeeds after every faulted call was made.
async fn op_case(env: &Env, row: &mut Row) {
    let route = row.route;
    let n0 = env.sim.count(route);
    env.sim
        .inject(Fault::new(route, row.kind.clone(), row.count));
    let started = Instant::now();
    let mut first_error = None;
    let mut recovered = false;
    loop {
        row.ops += 1;
        let result = operation(route, env, row.ops).await;
        let exhausted = env.sim.count(route) > n0 + row.count as usize;
        match result {
            Ok(()) if exhausted => {
                recovered = true;
                break;
            }
            Ok(()) => {}
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
        if started.elapsed() > CASE_DEADLINE {
            break;
        }
        tokio::time::sleep(OP_GAP).await;
    }
    row.saw(first_error);
    let records = env.sim.requests_to(route);
    row.measure(&records[n0.min(records.len())..], recovered);
    if route == Route::SendMessage {
        let sent = env.sim.sent();
        let mut texts: Vec<String> = sent.iter().map(|s| s.text()).collect();
        texts.sort();
        let before = texts.len();
        texts.dedup();
        if texts.len() != before {
            row.problem("a message reached the chat twice");
        }
        let dropped = env.sim.dropped_duplicates().len();
        if dropped > 0 {
            row.notes.push(format!(
                "{dropped} retries repeated a delivered client_id (dropped by the server)"
            ));
        }
    }
    if route == Route::SendMessage && row.kind == FaultKind::Throttled {
        row.notes.push(format!(
            "{} sends refused locally during the cooldowns",
            row.ops.saturating_sub(row.calls)
        ));
    }
    if route == Route::GetConfig {
        row.notes.push(format!(
            "{} operations, {} getconfig calls",
            row.ops,
            env.sim.count(route) - n0
        ));
    }
    if matches!(route, Route::NotifyStart | Route::NotifyStop) {
        row.notes
            .push("raw call; the runner logs notify failures and goes on".to_owned());
    }
}

/// getupdates: the error from one `next_batch` with the fault armed once,
/// then the runner (its own backoff) through the whole fault, with a
/// message pushed during it that must arrive after it.
async fn poll_case(env: &Env, row: &mut Row) {
    let route = Route::GetUpdates;
    // The error a caller of the pull API sees.
    match env.bot.poller().await {
        Ok(mut poller) => {
            env.sim.inject(Fault::new(route, row.kind.clone(), 1));
            let seen = match poller.next_batch().await {
                Ok(_) => None,
                Err(e) => Some(label(&e)),
            };
            row.saw(seen);
        }
        Err(e) => {
            row.problem(format!("poller: {}", label(&e)));
            return;
        }
    }

    // The runner through the fault.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let handler = handler_fn(move |_ctx, msg: Message| {
        let _ = tx.send(msg.text().into_owned());
        async { Ok(()) }
    });
    let backoffs: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let seen_backoffs = backoffs.clone();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let runner = env.bot.runner().on_event(move |e| {
        if let RunEvent::Backoff { delay, .. } = e {
            seen_backoffs
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(*delay);
        }
    });
    let mut task = tokio::spawn(runner.run_until(handler, async {
        let _ = stop_rx.await;
    }));
    let sim = &env.sim;
    if sim
        .wait_until(
            "the runner's first held poll",
            Duration::from_secs(3),
            |s| s.held_polls() == 1,
        )
        .await
        .is_err()
    {
        row.problem("the runner did not start polling");
    }
    let n0 = sim.count(route);
    sim.inject(Fault::new(route, row.kind.clone(), row.count));
    let _ = sim
        .wait_for_requests(route, n0 + 1, Duration::from_secs(3))
        .await;
    sim.push(&env.bot_id, Inbound::text(USER, "during the fault"));
    let mut recovered = false;
    if row.kind == FaultKind::SessionExpired {
        // The runner stops for a new login; nothing more reaches the server.
        match tokio::time::timeout(Duration::from_secs(5), &mut task).await {
            Ok(Ok(Err(e))) if e.is_session_expired() => {
                row.notes
                    .push("the runner stopped with SessionExpired (a login is needed)".to_owned());
            }
            Ok(other) => row.problem(format!(
                "the runner did not stop with SessionExpired: {:?}",
                other.map(|r| r.map_err(|e| label(&e)))
            )),
            Err(_) => row.problem("the runner kept running after -14"),
        }
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let after = sim.count(route) - n0;
        row.faulted = after;
        row.calls = after;
        row.rate = None;
        row.recovery_bound = None;
        if after != 1 {
            row.problem(format!("{after} polls after the -14 (expected 1)"));
        }
        let _ = stop_tx.send(());
        return;
    }
    // The message arrives with the first poll after the fault, or (slow
    // answers) was taken by a faulted poll and is gone.
    let through = sim
        .wait_for_requests(route, n0 + row.count as usize + 1, CASE_DEADLINE)
        .await
        .is_ok();
    if !through {
        row.problem("the fault's calls were never all made");
    }
    let deadline = Instant::now() + HOLD * 2 + Duration::from_secs(2);
    loop {
        match tokio::time::timeout_at(deadline.into(), rx.recv()).await {
            Ok(Some(text)) if text == "during the fault" => {
                recovered = true;
                break;
            }
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => break,
        }
    }
    if !recovered && matches!(row.kind, FaultKind::SlowAfterEffect { .. }) {
        // The batch was answered after the client's deadline: gone, as the
        // server does not replay. A message after the fault must arrive.
        sim.push(&env.bot_id, Inbound::text(USER, "after the fault"));
        if let Ok(Some(_)) = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await {
            recovered = true;
        }
        row.notes.push(
            "the batch answered after the client's deadline was lost (the server does not replay)"
                .to_owned(),
        );
    }
    let _ = stop_tx.send(());
    match tokio::time::timeout(Duration::from_secs(5), task).await {
        Ok(Ok(Ok(_))) => {}
        Ok(Ok(Err(e))) => row.problem(format!("the runner failed: {}", label(&e))),
        Ok(Err(join)) => row.problem(format!("the runner task: {join}")),
        Err(_) => row.problem("the runner did not stop"),
    }
    let records = sim.requests_to(route);
    row.measure(&records[n0.min(records.len())..], recovered);
    let b = backoffs.lock().unwrap_or_else(|p| p.into_inner()).clone();
    if !b.is_empty() {
        let ms: Vec<String> = b.iter().map(|d| d.as_millis().to_string()).collect();
        row.notes.push(format!("backoffs {} ms", ms.join(", ")));
    }
}

// ---------------------------------------------------------------- throttling

struct Throttling {
    lines: Vec<String>,
    problems: Vec<String>,
}

/// The server's rate limit tripped with pacing off: after the first
/// `ret -2`, nothing may reach the server until the cooldown ends.
async fn throttled_scenario() -> Result<Throttling, String> {
    let penalty = Duration::from_secs(2);
    let cooldown = Duration::from_millis(2500);
    let sim = Simulator::builder()
        .hold(HOLD)
        .rate_limit(RateLimit::reported(penalty))
        .start()
        .await
        .map_err(|e| format!("simulator: {e}"))?;
    let bot = sim.create_account();
    let client = builder(transport(&sim)?)
        .throttle_cooldown(cooldown)
        .build()
        .map_err(|e| format!("client: {e}"))?
        .bot_with(&Credentials::from_token(bot.token.clone()));
    let pushed = sim.push(&bot.bot_id, Inbound::text(USER, "hello"));
    let token = ilink::proto::ContextToken::new(pushed.context_token);
    let mut out = Throttling {
        lines: Vec::new(),
        problems: Vec::new(),
    };
    let started = Instant::now();
    let mut first_throttle: Option<(Instant, usize)> = None;
    let mut attempts = 0usize;
    let mut refused_locally = 0usize;
    let mut during_cooldown = 0usize;
    let mut first_ok_after: Option<Duration> = None;
    while started.elapsed() < Duration::from_secs(6) {
        attempts += 1;
        let before = sim.count(Route::SendMessage);
        let r = one_shot(
            &client,
            client
                .send_text(USER, format!("burst {attempts}"))
                .context_token(token.clone())
                .await,
        )
        .await;
        let reached = sim.count(Route::SendMessage) - before;
        match (&r, first_throttle) {
            (Err(e), None) if e.is_throttled() => {
                first_throttle = Some((Instant::now(), sim.count(Route::SendMessage)));
            }
            (Err(e), Some((at, _))) if e.is_throttled() => {
                if at.elapsed() < cooldown {
                    during_cooldown += reached;
                }
                if reached == 0 {
                    refused_locally += 1;
                }
            }
            (Ok(_), Some((at, _))) => {
                if first_ok_after.is_none() {
                    first_ok_after = Some(at.elapsed());
                }
                if at.elapsed() < cooldown {
                    during_cooldown += reached;
                }
            }
            (Err(e), _) => out.problems.push(format!("send failed: {}", label(e))),
            (Ok(_), None) => {}
        }
        if first_ok_after.is_some() {
            break;
        }
        if r.is_err() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let during_penalty = sim.sends_during_penalty(&bot.bot_id);
    let Some((_, at_first)) = first_throttle else {
        out.problems
            .push("the rate limit was never tripped (pacing off)".to_owned());
        return Ok(out);
    };
    if during_cooldown > 0 {
        out.problems.push(format!(
            "{during_cooldown} sendmessage requests reached the server during the cooldown"
        ));
    }
    if during_penalty > 0 {
        out.problems.push(format!(
            "{during_penalty} sends were attempted during the server's penalty"
        ));
    }
    match first_ok_after {
        Some(d) if d <= cooldown + Duration::from_millis(500) => {}
        Some(d) => out.problems.push(format!(
            "first send after the -2 succeeded only after {} ms",
            d.as_millis()
        )),
        None => out
            .problems
            .push("no send succeeded after the cooldown".to_owned()),
    }
    out.lines.push(format!(
        "| rate limit tripped, pacing off (server: {} sends/{} s, penalty {} s; client cooldown {} s) | first `ret -2` at request {at_first}; {attempts} sends tried, {refused_locally} refused locally; sendmessage requests during the cooldown: {during_cooldown}; `sends_during_penalty`: {during_penalty}; first success {} ms after the `-2` | {} |",
        3,
        1,
        penalty.as_secs(),
        cooldown.as_secs_f64(),
        first_ok_after.map_or("—".to_owned(), |d| d.as_millis().to_string()),
        if out.problems.is_empty() { "ok" } else { "FAIL" }
    ));
    Ok(out)
}

/// The same limit with the default pacing: never tripped.
async fn paced_scenario() -> Result<Throttling, String> {
    let sim = Simulator::builder()
        .hold(HOLD)
        .rate_limit(RateLimit::reported(Duration::from_secs(2)))
        .start()
        .await
        .map_err(|e| format!("simulator: {e}"))?;
    let bot = sim.create_account();
    let client = builder(transport(&sim)?)
        .pacing(Pacing::default())
        .build()
        .map_err(|e| format!("client: {e}"))?
        .bot_with(&Credentials::from_token(bot.token.clone()));
    let pushed = sim.push(&bot.bot_id, Inbound::text(USER, "hello"));
    let token = ilink::proto::ContextToken::new(pushed.context_token);
    let started = Instant::now();
    let n = 6;
    let mut problems = Vec::new();
    let mut throttled = 0;
    for i in 0..n {
        match one_shot(
            &client,
            client
                .send_text(USER, format!("paced {i}"))
                .context_token(token.clone())
                .await,
        )
        .await
        {
            Ok(_) => {}
            Err(e) if e.is_throttled() => throttled += 1,
            Err(e) => problems.push(format!("send failed: {}", label(&e))),
        }
    }
    let took = started.elapsed();
    let sent = sim.sent().len();
    if throttled > 0 || sent != n {
        problems.push(format!("{throttled} throttled, {sent} of {n} sent"));
    }
    let lines = vec![format!(
        "| the same limit, default pacing (burst 2, then 1 per 700 ms) | {n} sends back to back: {sent} delivered, {throttled} throttled, in {} ms | {} |",
        took.as_millis(),
        if problems.is_empty() { "ok" } else { "FAIL" }
    )];
    Ok(Throttling { lines, problems })
}

// ---------------------------------------------------------------- main

struct Args {
    quick: bool,
    only: Option<String>,
    verbose: bool,
    jobs: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        quick: false,
        only: None,
        verbose: false,
        jobs: 4,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--quick" => a.quick = true,
            "--only" => a.only = Some(args.next().ok_or("--only needs ROUTE[:KIND]")?),
            "-v" | "--verbose" => a.verbose = true,
            "--count" => {
                let n = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .ok_or("--count needs a number")?;
                let _ = COUNT_OVERRIDE.set(n);
            }
            "--jobs" => {
                a.jobs = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .ok_or("--jobs needs a number")?;
            }
            "-h" | "--help" => {
                println!(
                    "fault_campaign [--quick] [--only ROUTE[:KIND]] [--count N] [--jobs N] [--verbose]"
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(a)
}

async fn in_task<T: Send + 'static>(
    fut: impl Future<Output = T> + Send + 'static,
) -> Result<T, String> {
    tokio::spawn(fut).await.map_err(|join| {
        if join.is_panic() {
            "PANIC".to_owned()
        } else {
            format!("task ended: {join}")
        }
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("fault_campaign: {e}");
            return ExitCode::from(2);
        }
    };
    let started = Instant::now();
    let mut cases: Vec<(Route, FaultKind)> = if args.quick {
        quick()
    } else {
        Route::ALL
            .iter()
            .flat_map(|r| kinds().into_iter().map(move |k| (*r, k)))
            .collect()
    };
    if let Some(only) = &args.only {
        let (r, k) = only.split_once(':').unwrap_or((only.as_str(), ""));
        cases.retain(|(route, kind)| {
            route_name(*route) == r && (k.is_empty() || kind_name(kind) == k)
        });
    }
    println!(
        "fault_campaign{}{}{}",
        if args.quick { " --quick" } else { "" },
        args.only
            .as_deref()
            .map(|o| format!(" --only '{o}'"))
            .unwrap_or_default(),
        COUNT_OVERRIDE
            .get()
            .map(|n| format!(" --count {n}"))
            .unwrap_or_default()
    );
    println!();
    println!(
        "| route | fault | error seen | expected | right? | faulted calls | ops (calls, most per op) | req/s while faulted (bound) | recovery ms (bound) | notes | |"
    );
    println!("|---|---|---|---|---|---:|---:|---:|---:|---|---|");
    let mut failures = Vec::new();
    let mut panics = 0;
    // Cases run `--jobs` at a time, each in its own task (a panic is a
    // JoinError, caught here), on its own simulator; rows print in order.
    let permits = Arc::new(tokio::sync::Semaphore::new(args.jobs.max(1)));
    let mut set = tokio::task::JoinSet::new();
    for (i, (route, kind)) in cases.iter().cloned().enumerate() {
        let permits = permits.clone();
        set.spawn(async move {
            let _permit = permits.acquire_owned().await;
            let case_started = Instant::now();
            let result = in_task(run_case(route, kind)).await;
            (i, result, case_started.elapsed())
        });
    }
    let mut rows: Vec<Option<(Result<Row, String>, Duration)>> =
        cases.iter().map(|_| None).collect();
    while let Some(done) = set.join_next().await {
        if let Ok((i, result, took)) = done {
            rows[i] = Some((result, took));
        }
    }
    for ((route, kind), done) in cases.into_iter().zip(rows) {
        let (result, took) = done.unwrap_or((Err("case lost".to_owned()), Duration::ZERO));
        let row = match result {
            Ok(row) => row,
            Err(e) => {
                if e == "PANIC" {
                    panics += 1;
                }
                let mut row = Row::new(route, kind);
                row.error = e.clone();
                row.problem(e);
                row
            }
        };
        let rate = match row.rate {
            Some(r) if r.is_finite() => format!("{r:.1} ({:.1})", row.rate_bound),
            Some(_) => format!("∞ ({:.1})", row.rate_bound),
            None => "—".to_owned(),
        };
        let recovery = match (row.recovery, row.recovery_bound) {
            (Some(r), Some(b)) => format!("{} ({})", r.as_millis(), b.as_millis()),
            (None, None) => "login needed".to_owned(),
            (None, Some(b)) => format!("— ({})", b.as_millis()),
            (Some(r), None) => r.as_millis().to_string(),
        };
        let ops = match (route, row.per_op) {
            (Route::GetUpdates, _) => format!("runner ({} calls)", row.calls),
            (_, Some(n)) => format!("{} ({}, ≤{n})", row.ops, row.calls),
            (_, None) => format!("{} ({})", row.ops, row.calls),
        };
        let mut notes = row.notes.clone();
        notes.extend(row.problems.iter().map(|p| format!("**{p}**")));
        println!(
            "| {} | {} | {} | {} | {} | {}/{} | {} | {} | {} | {} | {} |",
            route_name(route),
            kind_name(&row.kind),
            row.error,
            expected(route, &row.kind).join(" or "),
            if row.right { "yes" } else { "**no**" },
            row.faulted,
            row.count,
            ops,
            rate,
            recovery,
            notes.join("; "),
            if row.pass() { "ok" } else { "FAIL" }
        );
        if args.verbose {
            eprintln!(
                "{} / {}: {} ms",
                route_name(route),
                kind_name(&row.kind),
                took.as_millis()
            );
        }
        if !row.pass() {
            failures.push(format!(
                "{} / {}: {}",
                route_name(route),
                kind_name(&row.kind),
                row.problems.join("; ")
            ));
        }
    }

    if args.only.is_none() {
        println!();
        println!("| throttling scenario | measured | |");
        println!("|---|---|---|");
        for scenario in [
            in_task(throttled_scenario()).await,
            in_task(paced_scenario()).await,
        ] {
            match scenario {
                Ok(Ok(t)) => {
                    for l in &t.lines {
                        println!("{l}");
                    }
                    for p in t.problems {
                        failures.push(format!("throttling: {p}"));
                    }
                }
                Ok(Err(e)) | Err(e) => {
                    if e == "PANIC" {
                        panics += 1;
                    }
                    failures.push(format!("throttling: {e}"));
                }
            }
        }
    }
    println!();
    println!(
        "{} panics; wall time {:.1} s",
        panics,
        started.elapsed().as_secs_f64()
    );
    if failures.is_empty() {
        println!("PASS");
        ExitCode::SUCCESS
    } else {
        println!("FAIL: {} cases", failures.len());
        for f in &failures {
            println!("  {f}");
        }
        ExitCode::from(1)
    }
}
