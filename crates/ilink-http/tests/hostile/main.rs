//! Hostile and broken servers on loopback, over HTTP/1.1 (plain and TLS) and
//! HTTP/2 (TLS): every answer ends in a typed error within its deadline, and
//! the process's peak memory stays bounded.
//!
//! This is a test binary of its own so that its peak RSS (`VmHWM`) is its
//! own: a response that were held whole (an endless trailer section, say)
//! would push it past the bound whichever test ran it.

mod h1;
mod h2;
mod tls;

use std::time::{Duration, Instant};

use ilink_http::{Account, ErrorKind, Transport, TransportBuilder};
use ilink_proto::{BotToken, ContextToken, MessageItem, SendMessageRequest, WeixinMessage};

/// A token distinctive enough to search for in error texts.
const TOKEN: &str = "tok-SECRET-hostile";
/// The deadline of every call here.
const DEADLINE: Duration = Duration::from_millis(1500);
/// The response limit here (the default is 4 MiB).
const LIMIT: u64 = 1024 * 1024;
/// The peak resident memory this whole binary may reach.
const PEAK_RSS_BOUND: u64 = 64 * 1024 * 1024;

fn builder(url: &str) -> TransportBuilder {
    Transport::builder()
        .api_base_url(url)
        .cdn_base_url(format!("{url}/c2c"))
        .api_timeout(DEADLINE)
        .config_timeout(DEADLINE)
        .long_poll_timeout(DEADLINE)
        .long_poll_margin(Duration::ZERO)
        .connect_timeout(DEADLINE)
        .response_limit(LIMIT)
        .download_cap(LIMIT)
}

fn account(transport: &Transport) -> Account {
    transport.account(BotToken::new(TOKEN))
}

fn send_request() -> SendMessageRequest {
    let msg = WeixinMessage::outbound("user@im.wechat", "cid-1", MessageItem::text("hi"))
        .with_context_token(Some(ContextToken::new("ctx")));
    SendMessageRequest::new(msg)
}

/// Sends one message and returns the error kind, checking the deadline, the
/// token's absence from the error and the peak memory.
async fn send_fails(account: &Account) -> ErrorKind {
    let started = Instant::now();
    let err = account
        .send_message(send_request())
        .await
        .expect_err("a hostile answer cannot succeed");
    let elapsed = started.elapsed();
    assert!(
        elapsed < DEADLINE + Duration::from_secs(1),
        "took {elapsed:?}: {err:?}"
    );
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("SECRET"), "token leaked: {shown}");
    assert_peak_rss();
    err.kind().clone()
}

/// The process's peak resident set (`VmHWM`), in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}

fn assert_peak_rss() {
    let peak = peak_rss();
    assert!(
        peak < PEAK_RSS_BOUND,
        "peak RSS {} MiB is over the bound",
        peak / (1024 * 1024)
    );
}
