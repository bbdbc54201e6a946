//! `bench_store`: what a store costs per batch and per acknowledgement, as
//! the poller uses it: `commit_batch` of a batch of received messages (with
//! the cursor), then one `ack` per message once its handler finished; and
//! what the outbox adds to a reply: its `enqueue` (admitted against the
//! conversation's budget, in one transaction) before the send and its
//! `dequeue` after, next to the `ack` measured in the same run. With
//! `--ack-many` a batch's messages are acknowledged together
//! (`InboxStore::ack_many`, one transaction) instead of one by one. With
//! `--fenced` the outbox's writes carry the poller's lease, which the store
//! checks in the same transaction, as while a runner runs.
//!
//! ```text
//! bench_store --store memory|sqlite|postgres [--dir DIR] [--url URL] [--batches 2000] [--batch 4] [--ack-many] [--fenced]
//! bench_store --store memory|sqlite|postgres [--dir DIR] [--url URL] --footprint 10000
//! ```
//!
//! With `--footprint N` it measures instead what the store holds for N idle
//! accounts, as a running bot leaves them: each account's credentials
//! saved, its lease taken and renewed, its outbox read, one empty batch
//! committed with a cursor. It prints the process's resident memory
//! before and after, per account, and for SQLite on disk the database's
//! size per account:
//! `RESULT bench=store_footprint store=.. accounts=.. rss_kib_per_account=.. db_bytes_per_account=..`.
//!
//! Every message is a realistic received text message (about 600 bytes of
//! JSON). Each write is as durable as the store makes it (SQLite runs in
//! WAL mode with `synchronous=FULL`). Revisions up to eda0b91 also measure
//! the file store (`--store file`) this replaced; `scripts/bench-store.sh`
//! runs both in one run. Prints one line:
//! `RESULT bench=store store=.. acks=.. fenced=.. batches=.. messages=.. secs=.. batches_per_s=.. acks_per_s=.. commit_us=.. ack_us=.. enqueue_us=.. dequeue_us=.. outbox_per_ack=..`.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use ilink::store::{Admission, InboxEntry, OutboxEntry, ReceivedBatch, ReplyLimits};
use ilink::{AccountId, Cursor, UserId};

const ACCOUNT: &str = "bench@im.bot";

fn main() -> ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build();
    let result = match runtime {
        Ok(rt) => rt.block_on(run()),
        Err(e) => Err(e.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench_store: {e}");
            ExitCode::FAILURE
        }
    }
}

fn arg(name: &str) -> Option<String> {
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == name {
            return args.next();
        }
    }
    None
}

fn number(name: &str, default: usize) -> Result<usize, String> {
    arg(name).map_or(Ok(default), |v| {
        v.parse().map_err(|_| format!("{name} needs a number"))
    })
}

async fn run() -> Result<(), String> {
    let kind = arg("--store").ok_or("--store memory|sqlite|postgres")?;
    let batches = number("--batches", 2000)?;
    let batch = number("--batch", 4)?.max(1);
    let many = std::env::args().any(|a| a == "--ack-many");
    // The outbox's writes fenced by the poller's lease, as a runner makes
    // them (the guarantee of issue 33), or unfenced, as a send with no
    // poller does: the pair measures what the fence costs.
    let fenced = std::env::args().any(|a| a == "--fenced");
    let dir = match arg("--dir") {
        Some(d) => std::path::PathBuf::from(d),
        None => std::env::temp_dir().join(format!("ilink-bench-store-{}", std::process::id())),
    };
    let _ = std::fs::remove_dir_all(&dir);
    if let Some(n) = arg("--footprint") {
        let n: usize = n.parse().map_err(|_| "--footprint needs a number")?;
        return footprint(&kind, &dir, n.max(1)).await;
    }
    let store = ilink_proof::bench_store(&kind, &dir, arg("--url").as_deref()).await?;
    let message = message_json();
    let account = AccountId::from(ACCOUNT);
    let lease = store
        .acquire(&account, "bench", Duration::from_secs(3600))
        .await
        .map_err(|e| format!("acquire: {e}"))?;

    let mut commit = Duration::ZERO;
    let mut ack = Duration::ZERO;
    let mut enqueue = Duration::ZERO;
    let mut dequeue = Duration::ZERO;
    let user = UserId::from("o9cq80_someone_quite_long@im.wechat");
    let limits = ReplyLimits::new(Some(10), Some(Duration::from_secs(86_400)));
    let reply = serde_json::json!({
        "msg": {"to_user_id": user.as_str(), "client_id": "", "message_type": 2, "message_state": 2,
                "context_token": "AARzJWAFAAABAAAAAAAp2Kx1P8wAAAA5LrTmXg3dq2pXrX4S6eh0dJhgq3WBkLsBqBm1M3h/Ue9Ka3PpRF2hPqkC1Wk+8pXb7g==",
                "item_list": [{"type": 1, "text_item": {"text": "Tomorrow in Shenzhen: showers in the afternoon, 24 to 29 degrees. Take an umbrella."}}]}
    });
    let mut seq = 0u64;
    let started = Instant::now();
    for b in 0..batches {
        let entries: Vec<InboxEntry> = (0..batch)
            .map(|_| {
                seq += 1;
                InboxEntry::new(format!("m:{seq}"), message.clone(), seq)
            })
            .collect();
        let keys: Vec<String> = entries.iter().map(|e| e.key.clone()).collect();
        let t = Instant::now();
        let fresh = store
            .commit_batch(
                &lease,
                ReceivedBatch::new(entries, Cursor::new(format!("cursor-{b}")))
                    .with_inbound(vec![(user.clone(), now_ms() + b as u64)]),
            )
            .await
            .map_err(|e| format!("commit_batch: {e}"))?;
        commit += t.elapsed();
        if fresh.len() != batch {
            return Err(format!("{} of {batch} entries were new", fresh.len()));
        }
        for key in &keys {
            // The handler's reply: queued before the send, removed after.
            let id = format!("bench:r{key}");
            let t = Instant::now();
            let fence = fenced.then_some(&lease);
            let admitted = store
                .enqueue(
                    fence,
                    &account,
                    &user,
                    vec![OutboxEntry::new(
                        id.clone(),
                        user.clone(),
                        reply.clone(),
                        now_ms(),
                    )],
                    limits,
                )
                .await
                .map_err(|e| format!("enqueue: {e}"))?;
            enqueue += t.elapsed();
            if !matches!(admitted, Admission::Queued { .. }) {
                return Err(format!("the reply was not queued: {admitted:?}"));
            }
            let t = Instant::now();
            store
                .dequeue(fence, &account, &id)
                .await
                .map_err(|e| format!("dequeue: {e}"))?;
            dequeue += t.elapsed();
            if !many {
                let t = Instant::now();
                store
                    .ack(&lease, key)
                    .await
                    .map_err(|e| format!("ack: {e}"))?;
                ack += t.elapsed();
            }
        }
        if many {
            let t = Instant::now();
            store
                .ack_many(&lease, &keys)
                .await
                .map_err(|e| format!("ack_many: {e}"))?;
            ack += t.elapsed();
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let pending = store
        .pending(&account)
        .await
        .map_err(|e| e.to_string())?
        .len();
    if pending != 0 {
        return Err(format!("{pending} entries left pending"));
    }
    let messages = batches * batch;
    let per = |d: Duration| d.as_secs_f64() * 1e6 / messages as f64;
    println!(
        "RESULT bench=store store={kind} acks={} fenced={fenced} batches={batches} messages={messages} secs={secs:.3} batches_per_s={:.0} acks_per_s={:.0} commit_us={:.0} ack_us={:.0} enqueue_us={:.0} dequeue_us={:.0} outbox_per_ack={:.2}",
        if many { "many" } else { "one" },
        batches as f64 / commit.as_secs_f64(),
        messages as f64 / ack.as_secs_f64(),
        commit.as_secs_f64() * 1e6 / batches as f64,
        per(ack),
        per(enqueue),
        per(dequeue),
        (enqueue + dequeue).as_secs_f64() / ack.as_secs_f64(),
    );
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// What `n` idle accounts leave in the store (see the module's doc).
async fn footprint(kind: &str, dir: &std::path::Path, n: usize) -> Result<(), String> {
    let store = ilink_proof::bench_store(kind, dir, arg("--url").as_deref()).await?;
    let ttl = Duration::from_secs(3600);
    // One account first, so that what every store allocates once (its
    // connection, its prepared statements) is not counted per account.
    let mut leases = Vec::with_capacity(n + 1);
    let idle = async |i: usize| -> Result<ilink::store::Lease, String> {
        let id = format!("o9cq80_{i:08}_bench_account@im.bot");
        let mut credentials = ilink::Credentials::new(
            id.as_str(),
            format!("{i:08}@im.bot:060000a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f607").into(),
        );
        credentials.user_id = Some(UserId::from("o9cq80_someone_quite_long@im.wechat"));
        store
            .save_credentials(&credentials)
            .await
            .map_err(|e| format!("save_credentials: {e}"))?;
        let account = AccountId::from(id.as_str());
        let lease = store
            .acquire(&account, "bench", ttl)
            .await
            .map_err(|e| format!("acquire: {e}"))?;
        let lease = store
            .renew(&lease, ttl)
            .await
            .map_err(|e| format!("renew: {e}"))?;
        store
            .load_cursor(&account)
            .await
            .map_err(|e| format!("load_cursor: {e}"))?;
        store
            .outbox(&account)
            .await
            .map_err(|e| format!("outbox: {e}"))?;
        store
            .commit_batch(
                &lease,
                ReceivedBatch::new(
                    Vec::new(),
                    Cursor::new(format!("CgQIARAAGgYIgICAgBAiBgiAgICAECoGCICAgIAQ{i:08}")),
                ),
            )
            .await
            .map_err(|e| format!("commit_batch: {e}"))?;
        Ok(lease)
    };
    leases.push(idle(n).await?);
    let before = ilink_proof::rss_kib();
    for i in 0..n {
        leases.push(idle(i).await?);
    }
    let after = ilink_proof::rss_kib();
    let accounts = store.accounts().await.map_err(|e| e.to_string())?.len();
    if accounts != n + 1 {
        return Err(format!("{accounts} accounts stored, not {}", n + 1));
    }
    let db = if kind == "sqlite" {
        let bytes: u64 = std::fs::read_dir(dir)
            .map_err(|e| e.to_string())?
            .filter_map(|e| e.ok()?.metadata().ok())
            .map(|m| m.len())
            .sum();
        format!("{:.0}", bytes as f64 / (n + 1) as f64)
    } else {
        "-".to_owned()
    };
    println!(
        "RESULT bench=store_footprint store={kind} accounts={n} rss_kib_before={before} rss_kib_after={after} rss_kib_per_account={:.3} db_bytes_per_account={db}",
        after.saturating_sub(before) as f64 / n as f64,
    );
    drop(leases);
    drop(store);
    let _ = std::fs::remove_dir_all(dir);
    Ok(())
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A received text message as the server sends it.
fn message_json() -> serde_json::Value {
    serde_json::json!({
        "seq": 1,
        "message_id": 7_000_000_000_000_000_001u64,
        "from_user_id": "o9cq80_someone_quite_long@im.wechat",
        "to_user_id": "bench@im.bot",
        "client_id": "",
        "create_time_ms": 1_764_000_000_000u64,
        "update_time_ms": 1_764_000_000_000u64,
        "session_id": "",
        "group_id": "",
        "message_type": 1,
        "message_state": 2,
        "context_token": "AARzJWAFAAABAAAAAAAp2Kx1P8wAAAA5LrTmXg3dq2pXrX4S6eh0dJhgq3WBkLsBqBm1M3h/Ue9Ka3PpRF2hPqkC1Wk+8pXb7g==",
        "item_list": [{
            "type": 1,
            "create_time_ms": 1_764_000_000_000u64,
            "is_completed": true,
            "text_item": {"text": "Hello! Could you tell me what the weather will be like tomorrow in Shenzhen, and whether I need an umbrella?"}
        }]
    })
}
