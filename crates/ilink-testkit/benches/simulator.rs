//! Simulator capacity: sendmessage requests per second on loopback at
//! concurrency 1, 16 and 256, and the cost of 10,000 held long-polls (CPU
//! while idle, memory). Run with `cargo bench -p ilink-testkit --bench simulator`.
//!
//! The long-poll clients run in a child process (this binary re-executed with
//! `--poll-client`) so that the simulator's process holds only its own
//! sockets and its CPU and memory are measured alone.

use std::io::{BufRead, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use ilink_testkit::{Inbound, Simulator};
use serde_json::json;

type Http = Client<HttpConnector, Full<Bytes>>;

fn client(max_idle: usize) -> Http {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(max_idle)
        .build(connector)
}

fn post(url: &str, token: &str, body: &serde_json::Value) -> Request<Full<Bytes>> {
    Request::builder()
        .method(Method::POST)
        .uri(url)
        .header("Content-Type", "application/json")
        .header("AuthorizationType", "ilink_bot_token")
        .header("X-WECHAT-UIN", ilink_proto::wechat_uin(42))
        .header("iLink-App-Id", "bot")
        .header("iLink-App-ClientVersion", "65547")
        .header("Authorization", format!("Bearer {token}"))
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("request")
}

/// (user time + system time) of this process, in clock ticks.
fn cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or_default();
    let fields: Vec<&str> = after.split_whitespace().collect();
    let utime: u64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0);
    let stime: u64 = fields.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
    utime + stime
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

async fn send_rate(sim: &Simulator, concurrency: usize, total: u64) -> (f64, Duration, Duration) {
    let bot = sim.create_account();
    let pushed = sim.push(&bot.bot_id, Inbound::text("alice@im.wechat", "hi"));
    let http = client(concurrency);
    let url = format!("{}/ilink/bot/sendmessage", sim.api_url());
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let http = http.clone();
        let url = url.clone();
        let token = bot.token.clone();
        let ctx = pushed.context_token.clone();
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let body = json!({"msg": {"from_user_id": "", "to_user_id": "alice@im.wechat",
                    "client_id": format!("bench-{i}"), "message_type": 2, "message_state": 2,
                    "context_token": ctx, "item_list": [{"type": 1, "text_item": {"text": "hello"}}]},
                    "base_info": {"channel_version": "0.1.0", "bot_agent": "bench/1"}});
                let t = Instant::now();
                let resp = http.request(post(&url, &token, &body)).await.expect("send");
                let _ = resp.into_body().collect().await.expect("body");
                latencies.push(t.elapsed());
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("task"));
    }
    let elapsed = start.elapsed();
    all.sort();
    let p = |q: f64| all[((all.len() as f64 * q) as usize).min(all.len() - 1)];
    (total as f64 / elapsed.as_secs_f64(), p(0.5), p(0.99))
}

async fn poll_client(api: String, tokens: Vec<String>) {
    let http = client(0);
    let url = format!("{api}/ilink/bot/getupdates");
    let mut tasks = Vec::new();
    for token in tokens {
        let http = http.clone();
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let body = json!({"get_updates_buf": "", "base_info": {"channel_version": "0.1.0"}});
            if let Ok(resp) = http.request(post(&url, &token, &body)).await {
                let _ = resp.into_body().collect().await;
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    if args.get(1).map(String::as_str) == Some("--poll-client") {
        let api = args[2].clone();
        let tokens: Vec<String> = std::io::stdin()
            .lock()
            .lines()
            .map_while(Result::ok)
            .collect();
        rt.block_on(poll_client(api, tokens));
        return;
    }
    let polls: usize = std::env::var("ILINK_BENCH_POLLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    rt.block_on(async {
        let sim = Simulator::builder()
            .hold(Duration::from_secs(120))
            .record_limit(0)
            .start()
            .await
            .expect("simulator");
        println!("## simulator: sendmessage on loopback (one client process, keep-alive)\n");
        println!("| concurrency | requests/s | p50 | p99 |");
        println!("|---:|---:|---:|---:|");
        for (c, n) in [(1usize, 5_000u64), (16, 20_000), (256, 40_000)] {
            let (rps, p50, p99) = send_rate(&sim, c, n).await;
            println!("| {c} | {rps:.0} | {p50:.2?} | {p99:.2?} |");
        }

        let rss_before = rss_kib();
        let tokens: Vec<String> = (0..polls).map(|_| sim.create_account().token).collect();
        let exe = std::env::current_exe().expect("exe");
        let mut child = std::process::Command::new(exe)
            .arg("--poll-client")
            .arg(sim.api_url())
            .stdin(std::process::Stdio::piped())
            .spawn()
            .expect("spawn poll client");
        {
            let mut stdin = child.stdin.take().expect("stdin");
            for t in &tokens {
                writeln!(stdin, "{t}").expect("write token");
            }
        }
        let start = Instant::now();
        sim.wait_until("held polls", Duration::from_secs(120), |s| {
            s.held_polls() as usize >= polls
        })
        .await
        .expect("all polls held");
        let ramp = start.elapsed();
        tokio::time::sleep(Duration::from_millis(500)).await;
        let ticks0 = cpu_ticks();
        let idle = Duration::from_secs(5);
        tokio::time::sleep(idle).await;
        let ticks = cpu_ticks() - ticks0;
        let rss = rss_kib();
        println!("\n## simulator: {polls} held long-polls\n");
        println!("| held | ramp-up | CPU while idle ({idle:?}) | RSS growth | per poll |");
        println!("|---:|---:|---:|---:|---:|");
        println!(
            "| {} | {ramp:.2?} | {} ms | {} MiB | {} KiB |",
            sim.held_polls(),
            ticks * 10,
            (rss.saturating_sub(rss_before)) / 1024,
            rss.saturating_sub(rss_before) / polls.max(1) as u64,
        );
        let _ = child.kill();
        let _ = child.wait();
    });
}
