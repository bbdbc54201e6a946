//! Throughput and latency of `sendmessage` through `ilink-http` compared with
//! a bare hyper client sending identical bytes to the in-process simulator.
//!
//! Run with `cargo bench -p ilink-http --bench send`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use ilink_http::Transport;
use ilink_proto::{BotToken, ContextToken, MessageItem, SendMessageRequest, WeixinMessage};
use ilink_testkit::{Inbound, Simulator};

const TO: &str = "alice@im.wechat";

/// One run's outcome: wall time and sorted per-request latencies.
struct Run {
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Run {
    fn rps(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }

    fn pct(&self, p: f64) -> Duration {
        let n = self.latencies.len();
        let idx = ((n as f64 * p).ceil() as usize).clamp(1, n) - 1;
        self.latencies[idx]
    }
}

/// Runs `total` calls of `op` over `concurrency` tasks pulling indices from
/// a shared counter.
async fn drive<F, Fut>(concurrency: usize, total: usize, op: F) -> Run
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send,
{
    let op = Arc::new(op);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let op = Arc::clone(&op);
        let next = Arc::clone(&next);
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(total / concurrency + 1);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let t = Instant::now();
                op(i).await;
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut latencies = Vec::with_capacity(total);
    for task in tasks {
        latencies.extend(task.await.expect("worker panicked"));
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    Run { elapsed, latencies }
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

async fn bench() -> Result<(), Box<dyn std::error::Error>> {
    let sim = Simulator::builder().record_limit(0).start().await?;
    let bot = sim.create_account();
    let pushed = sim.push(&bot.bot_id, Inbound::text(TO, "hi"));
    let ctx = pushed.context_token.clone();
    let url: hyper::Uri = format!(
        "{}/ilink/bot/sendmessage",
        sim.api_url().trim_end_matches('/')
    )
    .parse()?;
    let client_version = ilink_proto::client_version_code(env!("CARGO_PKG_VERSION"))
        .ok_or("bad crate version")?
        .to_string();
    let bearer = format!("Bearer {}", bot.token);

    let transport = Transport::builder()
        .api_base_url(sim.api_url())
        .cdn_base_url(sim.cdn_url())
        .build()?;
    let account = Arc::new(transport.account(BotToken::new(bot.token.clone())));

    let plan = [(1usize, 3_000usize), (16, 12_000), (256, 24_000)];
    let mut rows = Vec::new();
    let mut expected = 0;
    for (concurrency, total) in plan {
        // (a) bare hyper, identical bytes and headers.
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client: Client<HttpConnector, Full<Bytes>> = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(concurrency)
            .build(connector);
        let (client, url2, ctx2) = (client.clone(), url.clone(), ctx.clone());
        let (cv, bearer2) = (client_version.clone(), bearer.clone());
        let base = drive(concurrency, total, move |i| {
            let body = format!(
                concat!(
                    r#"{{"msg":{{"from_user_id":"","to_user_id":"{}","client_id":"base-{}-{}","#,
                    r#""message_type":2,"message_state":2,"item_list":[{{"type":1,"text_item":{{"text":"hello"}}}}],"#,
                    r#""context_token":"{}"}},"base_info":{{"channel_version":"0.1.0","bot_agent":"ilink-rs/0.1.0"}}}}"#
                ),
                TO, concurrency, i, ctx2
            );
            let req = Request::post(url2.clone())
                .header("Content-Type", "application/json")
                .header("AuthorizationType", "ilink_bot_token")
                .header("X-WECHAT-UIN", ilink_proto::wechat_uin(i as u32))
                .header("iLink-App-Id", "bot")
                .header("iLink-App-ClientVersion", cv.as_str())
                .header("Authorization", bearer2.as_str())
                .body(Full::new(Bytes::from(body)))
                .expect("request");
            let client = client.clone();
            async move {
                let resp = client.request(req).await.expect("bare send");
                let status = resp.status();
                let bytes = resp.into_body().collect().await.expect("body").to_bytes();
                assert!(status.is_success(), "bare: {status} {bytes:?}");
            }
        })
        .await;

        // (b) ilink-http.
        let (account2, ctx2) = (Arc::clone(&account), ctx.clone());
        let ours = drive(concurrency, total, move |i| {
            let account = Arc::clone(&account2);
            let msg = WeixinMessage::outbound(
                TO,
                format!("ours-{concurrency}-{i}"),
                MessageItem::text("hello"),
            )
            .with_context_token(Some(ContextToken::new(ctx2.clone())));
            async move {
                account
                    .send_message(SendMessageRequest::new(msg))
                    .await
                    .expect("ilink-http send");
            }
        })
        .await;
        expected += 2 * total;
        rows.push((concurrency, base, ours));
    }

    println!();
    println!(
        "| concurrency | bare hyper req/s | ilink-http req/s | overhead (bare/ours) | p50 bare | p50 ours | p99 bare | p99 ours |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (c, b, o) in &rows {
        println!(
            "| {c} | {:.0} | {:.0} | {:.3}x | {} | {} | {} | {} |",
            b.rps(),
            o.rps(),
            b.rps() / o.rps(),
            ms(b.pct(0.50)),
            ms(o.pct(0.50)),
            ms(b.pct(0.99)),
            ms(o.pct(0.99)),
        );
    }
    let sent = sim.sent().len();
    println!();
    println!("simulator accepted {sent} messages (expected {expected})");
    assert_eq!(sent, expected, "not every message arrived");
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(bench())
}
