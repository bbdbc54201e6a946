//! The failover campaign: cluster members ([`cluster_bot`](../cluster_bot))
//! share the accounts of one PostgreSQL store while one of them is killed
//! with `SIGKILL` at regular intervals and restarted under a new name, as a
//! machine that died and a new one that joined.
//!
//! ```text
//! failover_campaign (--url PG | --sqlite) [--accounts 300] [--members 3]
//!                   [--seconds 300] [--kill-every-s 20] [--lease-ttl-ms 6000] [--rate 20]
//! ```
//!
//! With `--sqlite` the members share one SQLite database in a temporary
//! directory instead: processes of one machine on one state directory.
//!
//! ```text
//! ```
//!
//! The simulator replays the batches after an older cursor (a server that
//! honours the cursor), so a message lost is the client's fault. Checks,
//! each a violation that fails the run: every pushed message was handled; no message was handled twice except when the process that
//! handled it first was killed afterwards (it may have died before its
//! acknowledgement); the simulator never saw two long-polls of one account
//! held at once. Reports how long a killed member's accounts waited for
//! their next holder (p50, p99, max), which the lease TTL bounds.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ilink::Store;
use ilink_testkit::{Inbound, Simulator};

fn arg(name: &str) -> Option<String> {
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == name {
            return args.next();
        }
    }
    None
}

fn number(name: &str, default: u64) -> u64 {
    arg(name).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

struct Member {
    name: String,
    journal: PathBuf,
    child: tokio::process::Child,
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("failover_campaign: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<bool, String> {
    let sqlite = std::env::args().any(|a| a == "--sqlite");
    let url = match arg("--url") {
        Some(u) => u,
        None if sqlite => String::new(),
        None => return Err("--url PG or --sqlite is required".to_owned()),
    };
    let accounts = number("--accounts", 300) as usize;
    let members = number("--members", 3) as usize;
    let seconds = number("--seconds", 300);
    let kill_every = Duration::from_secs(number("--kill-every-s", 20));
    let ttl_ms = number("--lease-ttl-ms", 6000);
    let rate = number("--rate", 20).max(1);
    println!(
        "failover_campaign --accounts {accounts} --members {members} --seconds {seconds} --kill-every-s {} --lease-ttl-ms {ttl_ms} --rate {rate}",
        kill_every.as_secs()
    );

    // A server that honours the cursor, so that a loss is the client's
    // (the real one does not replay: see the crash campaign's receive
    // window for what that costs).
    let sim = Simulator::builder()
        .hold(Duration::from_millis(1500))
        .replay_on_old_cursor(true)
        .start()
        .await
        .map_err(|e| e.to_string())?;
    let schema = format!("failover_{}", std::process::id());
    let dir = std::env::temp_dir().join(format!("ilink-failover-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let state = dir.join("state");
    let store: Box<dyn Store> = if sqlite {
        Box::new(ilink::SqliteStore::open(&state).map_err(|e| ilink::Report::new(&e).to_string())?)
    } else {
        Box::new(
            ilink::store::PgStore::connect_in_schema(&url, &schema)
                .await
                .map_err(|e| ilink::Report::new(&e).to_string())?,
        )
    };
    let mut ids = Vec::with_capacity(accounts);
    for _ in 0..accounts {
        let bot = sim.create_account();
        store
            .save_credentials(&ilink::Credentials::new(
                bot.bot_id.as_str(),
                bot.token.as_str().into(),
            ))
            .await
            .map_err(|e| e.to_string())?;
        ids.push(bot.bot_id);
    }
    let exe = std::env::current_exe()
        .map_err(|e| e.to_string())?
        .with_file_name("cluster_bot");
    let spawn = |name: String| -> Result<Member, String> {
        let journal = dir.join(format!("{name}.journal"));
        let mut command = tokio::process::Command::new(&exe);
        if sqlite {
            command.arg("--sqlite").arg(&state);
        } else {
            command.args(["--url", &url, "--schema", &schema]);
        }
        let child = command
            .args(["--api", sim.api_url()])
            .args(["--cdn", sim.cdn_url(), "--member", &name])
            .args(["--lease-ttl-ms", &ttl_ms.to_string()])
            .arg("--journal")
            .arg(&journal)
            .stdout(std::process::Stdio::null())
            .spawn()
            .map_err(|e| format!("spawning {}: {e}", exe.display()))?;
        Ok(Member {
            name,
            journal,
            child,
        })
    };
    let mut generation = 0usize;
    let mut live: Vec<Member> = Vec::new();
    for _ in 0..members {
        generation += 1;
        live.push(spawn(format!("member-{generation}"))?);
    }
    // Killed members: name, when.
    let mut kills: Vec<(String, u128)> = Vec::new();
    let mut ended: Vec<Member> = Vec::new();
    let mut pushed: Vec<String> = Vec::new();
    let started = Instant::now();
    let mut next_kill = started + kill_every;
    let mut rng = 0x9e37_79b9_7f4a_7c15u64 ^ u64::try_from(now_ms()).unwrap_or(1);
    let mut random = |n: usize| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        usize::try_from(rng % n.max(1) as u64).unwrap_or(0)
    };
    let gap = Duration::from_millis(1000 / rate);
    while started.elapsed() < Duration::from_secs(seconds) {
        let id = &ids[random(ids.len())];
        let p = sim.push(id, Inbound::text("alice@im.wechat", "failover"));
        pushed.push(format!("m:{}", p.message_id.get()));
        if Instant::now() >= next_kill {
            let victim = random(live.len());
            let mut m = live.remove(victim);
            let _ = m.child.start_kill();
            let _ = m.child.wait().await;
            kills.push((m.name.clone(), now_ms()));
            ended.push(m);
            generation += 1;
            live.push(spawn(format!("member-{generation}"))?);
            next_kill += kill_every;
        }
        tokio::time::sleep(gap).await;
    }
    // Everything pushed must be handled, within two lease times.
    let deadline = Instant::now() + Duration::from_millis(ttl_ms * 2 + 10_000);
    let want: HashSet<&String> = pushed.iter().collect();
    loop {
        let handled = handled_keys(live.iter().chain(ended.iter()).map(|m| m.journal.as_path()));
        if want.iter().all(|k| handled.contains_key(*k)) || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for m in &mut live {
        if let Some(pid) = m.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
    }
    for m in &mut live {
        let _ = m.child.wait().await;
    }
    let all: Vec<&Member> = live.iter().chain(ended.iter()).collect();
    let handled = handled_keys(all.iter().map(|m| m.journal.as_path()));
    let killed: HashMap<&str, u128> = kills.iter().map(|(n, t)| (n.as_str(), *t)).collect();

    let mut problems = Vec::new();
    let lost = want.iter().filter(|k| !handled.contains_key(**k)).count();
    if lost > 0 {
        problems.push(format!("{lost} messages never handled"));
    }
    let mut twice_after_kill = 0usize;
    let mut twice_unexplained = 0usize;
    for (key, by) in &handled {
        if by.len() < 2 {
            continue;
        }
        let (first, at) = &by[0];
        if killed.get(first.as_str()).is_some_and(|t| *t >= *at) {
            twice_after_kill += 1;
        } else {
            twice_unexplained += 1;
            problems.push(format!("{key} handled twice, its first handler not killed"));
        }
    }
    let double_polls = sim
        .violations()
        .iter()
        .filter(|v| v.message.contains("second long-poll"))
        .count();
    if double_polls > 0 {
        problems.push(format!(
            "{double_polls} moments with two held polls of one account"
        ));
    }
    let others = sim
        .violations()
        .into_iter()
        .filter(|v| !v.message.contains("second long-poll"))
        .count();
    // Takeover: each account a killed member held, to its next `T`.
    let mut takeovers: Vec<u128> = Vec::new();
    let events: Vec<(String, char, String, u128)> = all
        .iter()
        .flat_map(|m| {
            read_lines(&m.journal)
                .into_iter()
                .filter(|(k, _, _)| *k == 'T' || *k == 'G')
                .map(|(k, a, t)| (m.name.clone(), k, a, t))
                .collect::<Vec<_>>()
        })
        .collect();
    for (victim, at) in &kills {
        let mut held: HashSet<&str> = HashSet::new();
        for (m, k, a, t) in &events {
            if m == victim && *t <= *at {
                if *k == 'T' {
                    held.insert(a);
                } else {
                    held.remove(a.as_str());
                }
            }
        }
        for account in held {
            if let Some(next) = events
                .iter()
                .filter(|(m, k, a, t)| m != victim && *k == 'T' && a == account && t > at)
                .map(|(_, _, _, t)| *t)
                .min()
            {
                takeovers.push(next - at);
            }
        }
    }
    takeovers.sort_unstable();
    let pct = |p: f64| -> String {
        if takeovers.is_empty() {
            return "n/a".to_owned();
        }
        let i = ((takeovers.len() as f64 - 1.0) * p).round() as usize;
        format!("{:.2} s", takeovers[i] as f64 / 1000.0)
    };
    println!();
    println!("| figure | value |");
    println!("|---|---:|");
    println!(
        "| store | {} |",
        if sqlite {
            "one SQLite file"
        } else {
            "PostgreSQL"
        }
    );
    println!("| accounts, members | {accounts}, {members} |");
    println!("| messages pushed | {} |", pushed.len());
    println!(
        "| members killed (SIGKILL) and replaced | {} |",
        kills.len()
    );
    println!("| messages never handled | {lost} |");
    println!("| messages handled twice, first handler killed after | {twice_after_kill} |");
    println!("| messages handled twice otherwise | {twice_unexplained} |");
    println!("| moments with two held polls of one account | {double_polls} |");
    println!("| other protocol violations | {others} |");
    println!(
        "| accounts taken over from killed members | {} |",
        takeovers.len()
    );
    println!(
        "| takeover time p50 / p99 / max (lease TTL {:.1} s) | {} / {} / {} |",
        ttl_ms as f64 / 1000.0,
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
    println!("| wall time | {:.1} s |", started.elapsed().as_secs_f64());
    let _ = std::fs::remove_dir_all(&dir);
    if others > 0 {
        problems.push(format!("{others} other protocol violations"));
    }
    if problems.is_empty() {
        println!("\nPASS");
        Ok(true)
    } else {
        for p in &problems {
            println!("FAIL: {p}");
        }
        Ok(false)
    }
}

/// `(kind, what, ms)` of every complete line of a journal.
fn read_lines(path: &Path) -> Vec<(char, String, u128)> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let mut parts = l.split(' ');
            let kind = parts.next()?.chars().next()?;
            let what = parts.next()?.to_owned();
            let at = parts.next()?.parse().ok()?;
            Some((kind, what, at))
        })
        .collect()
}

/// Every handled key, with who handled it and when, in time order.
fn handled_keys<'a>(
    journals: impl Iterator<Item = &'a Path>,
) -> HashMap<String, Vec<(String, u128)>> {
    let mut out: HashMap<String, Vec<(String, u128)>> = HashMap::new();
    for path in journals {
        let member = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        for (kind, key, at) in read_lines(path) {
            if kind == 'H' {
                out.entry(key).or_default().push((member.clone(), at));
            }
        }
    }
    for v in out.values_mut() {
        v.sort_by_key(|(_, at)| *at);
    }
    out
}
