//! The failover campaign: cluster members ([`cluster_bot`](../cluster_bot))
//! share the accounts of one PostgreSQL store while one of them is killed
//! with `SIGKILL` at regular intervals and restarted under a new name, as a
//! machine that died and a new one that joined.
//!
//! ```text
//! failover_campaign (--url PG | --sqlite) [--accounts 300] [--members 3]
//!                   [--seconds 300] [--kill-every-s 20] [--lease-ttl-ms 6000] [--rate 20]
//!                   [--pause [--pause-every-s 20] [--pause-for-s 15]] [--keep]
//! ```
//!
//! `--keep` keeps the run's directory (the members' journals, the SQLite
//! file) and prints its path.
//!
//! With `--sqlite` the members share one SQLite database in a temporary
//! directory instead: processes of one machine on one state directory.
//!
//! The simulator replays the batches after an older cursor (a server that
//! honours the cursor), so a message lost is the client's fault. Checks,
//! each a violation that fails the run: every pushed message was handled; no message was handled twice except when the process that
//! handled it first was killed afterwards (it may have died before its
//! acknowledgement); the simulator never saw two long-polls of one account
//! held at once. Reports how long a killed member's accounts waited for
//! their next holder (p50, p99, max), which the lease TTL bounds.
//!
//! # Pause mode
//!
//! With `--pause` no member is killed: every `--pause-every-s` one member
//! that is not paused is stopped with `SIGSTOP` and continued with
//! `SIGCONT` `--pause-for-s` later (past the lease TTL, so its accounts
//! are taken over while it is stopped, and it comes back to leases it no
//! longer holds), as a VM paused, a container frozen or a laptop asleep.
//! Each member's bot replies to every message (`cluster_bot --reply`:
//! `re: <text> (<key>)`, the outcome journaled). Checks, each a violation
//! that fails the run:
//!
//! - every pushed message answered: the simulator accepted at least one
//!   sendmessage whose text names the message's key;
//! - no message whose reply our own reply budget refused (a journaled
//!   reply error containing "reply budget");
//! - no message acknowledged without its reply: handled, never answered,
//!   and no longer pending in the store at the end;
//! - no sendmessage by a member after it lost the account's lease: every
//!   sendmessage the simulator received (its `base_info.bot_agent` names
//!   the member) must come from the member whose `T` (took) of the account
//!   is the latest before the request, allowing 100 ms between the two
//!   clocks; such sends are counted as accepted or dropped as a repeated
//!   `client_id`;
//! - no two long-polls of one account held at once, no other protocol
//!   violation.
//!
//! Also reported: the replies the simulator dropped as a repeated
//! `client_id`, the replies that failed for another reason (with the most
//! frequent errors), and the messages handled more than once.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ilink::Store;
use ilink_testkit::{Inbound, Route, Simulator};

/// Clock slack between a member's journal and the simulator's records.
const SLACK_MS: u128 = 100;

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

/// Sends a signal (`STOP`, `CONT`, `TERM`) to a process with `kill(1)`
/// (the workspace forbids `unsafe`, which `libc::kill` needs).
fn signal(pid: Option<u32>, name: &str) -> bool {
    pid.is_some_and(|pid| {
        std::process::Command::new("kill")
            .args([&format!("-{name}"), &pid.to_string()])
            .status()
            .is_ok_and(|s| s.success())
    })
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
    let pause = std::env::args().any(|a| a == "--pause");
    let pause_every = Duration::from_secs(number("--pause-every-s", 20).max(1));
    let pause_for = Duration::from_secs(number("--pause-for-s", 15));
    if pause {
        println!(
            "failover_campaign --pause --accounts {accounts} --members {members} --seconds {seconds} --pause-every-s {} --pause-for-s {} --lease-ttl-ms {ttl_ms} --rate {rate}",
            pause_every.as_secs(),
            pause_for.as_secs()
        );
    } else {
        println!(
            "failover_campaign --accounts {accounts} --members {members} --seconds {seconds} --kill-every-s {} --lease-ttl-ms {ttl_ms} --rate {rate}",
            kill_every.as_secs()
        );
    }

    // A server that honours the cursor, so that a loss is the client's
    // (the real one does not replay: see the crash campaign's receive
    // window for what that costs).
    // Before the simulator starts, so that its times mapped to ours are
    // never later than they were.
    let sim_started_ms = now_ms();
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
        // Stored as a login stores it: with the host its token belongs to.
        let mut stored = ilink::Credentials::new(bot.bot_id.as_str(), bot.token.as_str().into());
        stored.base_url = Some(sim.api_url().to_owned());
        store
            .save_credentials(&stored)
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
            .args(pause.then_some("--reply"))
            .stdout(std::process::Stdio::null())
            // A member left stopped by an error of ours is not left behind.
            .kill_on_drop(true)
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
    // Pushed keys, with their account.
    let mut pushed: Vec<(String, String)> = Vec::new();
    let started = Instant::now();
    let mut next_kill = started + kill_every;
    let mut next_pause = started + pause_every;
    // Paused now: the member's index in `live`, when to continue it, when
    // it was stopped; and every pause: member, stopped, continued.
    let mut paused: Vec<(usize, Instant, u128)> = Vec::new();
    let mut pauses: Vec<(String, u128, u128)> = Vec::new();
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
        // Pause mode: eight users per account, as a bot has many
        // conversations. (One user who writes more than the budget's 10
        // messages while every member that could answer is stopped is
        // refused the rest by the server's rule, which ours mirrors: a
        // backlog, not a resend counted twice.)
        let from = if pause {
            format!("user{}@im.wechat", random(8))
        } else {
            "alice@im.wechat".to_owned()
        };
        let p = sim.push(id, Inbound::text(from, "failover"));
        pushed.push((format!("m:{}", p.message_id.get()), id.clone()));
        if pause {
            let now = Instant::now();
            for (i, _, stopped) in paused.extract_if(.., |(_, until, _)| *until <= now) {
                if !signal(live[i].child.id(), "CONT") {
                    return Err(format!("could not continue {}", live[i].name));
                }
                pauses.push((live[i].name.clone(), stopped, now_ms()));
            }
            if now >= next_pause {
                let free: Vec<usize> = (0..live.len())
                    .filter(|i| paused.iter().all(|(p, _, _)| p != i))
                    .collect();
                if !free.is_empty() {
                    let victim = free[random(free.len())];
                    if !signal(live[victim].child.id(), "STOP") {
                        return Err(format!("could not stop {}", live[victim].name));
                    }
                    paused.push((victim, now + pause_for, now_ms()));
                }
                next_pause += pause_every;
            }
        } else if Instant::now() >= next_kill {
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
    for (i, _, stopped) in paused.drain(..) {
        if !signal(live[i].child.id(), "CONT") {
            return Err(format!("could not continue {}", live[i].name));
        }
        pauses.push((live[i].name.clone(), stopped, now_ms()));
    }
    // Everything pushed must be handled (in pause mode: answered), within
    // two lease times.
    let deadline = Instant::now() + Duration::from_millis(ttl_ms * 2 + 10_000);
    let want: HashSet<&String> = pushed.iter().map(|(k, _)| k).collect();
    loop {
        let done = if pause {
            let answered = answered_keys(&sim);
            want.iter().all(|k| answered.contains(*k))
        } else {
            let handled =
                handled_keys(live.iter().chain(ended.iter()).map(|m| m.journal.as_path()));
            want.iter().all(|k| handled.contains_key(*k))
        };
        if done || Instant::now() > deadline {
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
    if pause {
        let run = PauseRun {
            sqlite,
            accounts,
            members,
            ttl_ms,
            pause_for,
            sim_started_ms,
            started,
        };
        let passed = run
            .check(&sim, store.as_ref(), &pushed, &all, &pauses)
            .await;
        finish(&dir);
        return passed;
    }
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
    let events = lease_events(&all);
    let takeovers = takeovers(&events, &kills);
    let pct = |p: f64| percentile(&takeovers, p);
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
    finish(&dir);
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

/// Removes the run's directory, or with `--keep` says where it is (the
/// journals, the SQLite file).
fn finish(dir: &Path) {
    if std::env::args().any(|a| a == "--keep") {
        println!("\njournals kept in {}", dir.display());
    } else {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// A pause run's settings, for its checks and table.
struct PauseRun {
    sqlite: bool,
    accounts: usize,
    members: usize,
    ttl_ms: u64,
    pause_for: Duration,
    sim_started_ms: u128,
    started: Instant,
}

impl PauseRun {
    /// The pause mode's checks and table (the members have stopped);
    /// `Ok(true)` when every check passed.
    async fn check(
        &self,
        sim: &Simulator,
        store: &dyn Store,
        pushed: &[(String, String)],
        all: &[&Member],
        pauses: &[(String, u128, u128)],
    ) -> Result<bool, String> {
        let answered = answered_keys(sim);
        let handled = handled_keys(all.iter().map(|m| m.journal.as_path()));
        let mut pending: HashSet<String> = HashSet::new();
        let accounts: HashSet<&String> = pushed.iter().map(|(_, a)| a).collect();
        for account in accounts {
            let entries = store
                .pending(&ilink::AccountId::from(account.as_str()))
                .await
                .map_err(|e| ilink::Report::new(&e).to_string())?;
            pending.extend(entries.into_iter().map(|e| e.key));
        }
        let never_answered = pushed.iter().filter(|(k, _)| !answered.contains(k)).count();
        let never_handled = pushed
            .iter()
            .filter(|(k, _)| !handled.contains_key(k))
            .count();
        let acked_unanswered = pushed
            .iter()
            .filter(|(k, _)| {
                !answered.contains(k) && handled.contains_key(k) && !pending.contains(k)
            })
            .count();
        let pending_unanswered = pushed
            .iter()
            .filter(|(k, _)| !answered.contains(k) && pending.contains(k))
            .count();
        let handled_again = handled.values().filter(|by| by.len() > 1).count();

        // Reply outcomes: keys refused by our budget, keys failed
        // otherwise, and how often each error came.
        let mut budget: HashSet<String> = HashSet::new();
        let mut failed: HashSet<String> = HashSet::new();
        let mut errors: HashMap<String, usize> = HashMap::new();
        for m in all {
            for (key, outcome) in reply_outcomes(&m.journal) {
                let Some(error) = outcome.strip_prefix("err ") else {
                    continue;
                };
                if error.contains("reply budget") {
                    budget.insert(key);
                } else {
                    failed.insert(key);
                }
                // Grouped with the account ids left out.
                let error: String = error
                    .split(' ')
                    .map(|w| {
                        if w.ends_with("@im.bot") {
                            "<account>"
                        } else {
                            w
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" ");
                let mut short: String = error.chars().take(160).collect();
                if short.len() < error.len() {
                    short.push('…');
                }
                *errors.entry(short).or_default() += 1;
            }
        }

        // Every sendmessage, by member, against the lease timeline.
        let mut takes: HashMap<String, Vec<(u128, String)>> = HashMap::new();
        for m in all {
            for (kind, account, at) in read_lines(&m.journal) {
                if kind == 'T' {
                    takes.entry(account).or_default().push((at, m.name.clone()));
                }
            }
        }
        let mut seen_client_ids: HashSet<(String, String)> = HashSet::new();
        let mut sends = 0usize;
        let mut unattributed = 0usize;
        let mut stale_accepted = 0usize;
        let mut stale_dropped = 0usize;
        let mut stale_samples: Vec<String> = Vec::new();
        for r in sim.requests_to(Route::SendMessage) {
            let Some(body) = &r.body else { continue };
            let account = r.bot_id.clone().unwrap_or_default();
            let client_id = body
                .pointer("/msg/client_id")
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let first = seen_client_ids.insert((account.clone(), client_id));
            sends += 1;
            let Some(member) = body
                .pointer("/base_info/bot_agent")
                .and_then(serde_json::Value::as_str)
                .and_then(member_of_agent)
            else {
                unattributed += 1;
                continue;
            };
            let at = self.sim_started_ms + r.at.as_millis();
            if holds(
                takes.get(&account).map_or(&[][..], Vec::as_slice),
                member,
                at,
            ) {
                continue;
            }
            if first {
                stale_accepted += 1;
            } else {
                stale_dropped += 1;
            }
            if stale_samples.len() < 5 {
                stale_samples.push(format!(
                    "{member} sent for {account} at +{:.3} s ({})",
                    r.at.as_secs_f64(),
                    if first {
                        "accepted"
                    } else {
                        "dropped as a repeat"
                    }
                ));
            }
        }
        let stale = stale_accepted + stale_dropped;
        let repeats = sim.dropped_duplicates().len();
        let violations = sim.violations();
        let double_polls = violations
            .iter()
            .filter(|v| v.message.contains("second long-poll"))
            .count();
        for v in violations
            .iter()
            .filter(|v| v.message.contains("second long-poll"))
        {
            println!("double poll: {}", v.message);
        }
        let others = violations.len() - double_polls;

        let events = lease_events(all);
        let stops: Vec<(String, u128)> = pauses.iter().map(|(n, s, _)| (n.clone(), *s)).collect();
        let takeovers = takeovers(&events, &stops);
        let pct = |p: f64| percentile(&takeovers, p);

        println!();
        println!("| figure | value |");
        println!("|---|---:|");
        println!(
            "| store | {} |",
            if self.sqlite {
                "one SQLite file"
            } else {
                "PostgreSQL"
            }
        );
        println!(
            "| accounts, members | {}, {} |",
            self.accounts, self.members
        );
        println!("| messages pushed | {} |", pushed.len());
        println!(
            "| pauses (SIGSTOP for {} s, then SIGCONT; lease TTL {:.1} s) | {} |",
            self.pause_for.as_secs(),
            self.ttl_ms as f64 / 1000.0,
            pauses.len()
        );
        println!("| messages never answered | {never_answered} |");
        println!("| messages never handled | {never_handled} |");
        println!(
            "| messages whose reply our reply budget refused | {} |",
            budget.len()
        );
        println!(
            "| messages whose reply failed otherwise | {} |",
            failed.len()
        );
        println!("| messages acknowledged without their reply | {acked_unanswered} |");
        println!("| messages unanswered, still pending at the end | {pending_unanswered} |");
        println!("| messages handled more than once | {handled_again} |");
        println!("| sendmessage calls | {sends} |");
        println!(
            "| sendmessage calls after the member lost the lease: accepted / dropped as a repeat | {stale_accepted} / {stale_dropped} |"
        );
        println!("| sendmessage calls naming no member | {unattributed} |");
        println!("| replies the server dropped as a repeated client_id | {repeats} |");
        println!("| moments with two held polls of one account | {double_polls} |");
        println!("| other protocol violations | {others} |");
        println!(
            "| accounts taken over from paused members | {} |",
            takeovers.len()
        );
        println!(
            "| takeover time p50 / p99 / max | {} / {} / {} |",
            pct(0.5),
            pct(0.99),
            pct(1.0)
        );
        println!(
            "| wall time | {:.1} s |",
            self.started.elapsed().as_secs_f64()
        );
        if !errors.is_empty() {
            let mut errors: Vec<(String, usize)> = errors.into_iter().collect();
            errors.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            println!("\nreply errors journaled (count, error):");
            for (e, n) in errors.iter().take(8) {
                println!("  {n:>5}  {e}");
            }
        }
        if !pauses.is_empty() {
            let since = |ms: u128| ms.saturating_sub(self.sim_started_ms) as f64 / 1000.0;
            let list: Vec<String> = pauses
                .iter()
                .map(|(m, stop, cont)| format!("{m} +{:.2}..+{:.2} s", since(*stop), since(*cont)))
                .collect();
            println!(
                "\npauses (since the simulator started): {}",
                list.join(", ")
            );
        }
        if !stale_samples.is_empty() {
            println!(
                "\nsends after a lost lease (first {}):",
                stale_samples.len()
            );
            for s in &stale_samples {
                println!("  {s}");
            }
        }

        let mut problems = Vec::new();
        if never_answered > 0 {
            problems.push(format!("{never_answered} messages never answered"));
        }
        if !budget.is_empty() {
            problems.push(format!(
                "{} messages whose reply our reply budget refused",
                budget.len()
            ));
        }
        if acked_unanswered > 0 {
            problems.push(format!(
                "{acked_unanswered} messages acknowledged without their reply"
            ));
        }
        if stale > 0 {
            problems.push(format!(
                "{stale} sendmessage calls by a member after it lost the account's lease ({stale_accepted} accepted, {stale_dropped} dropped as repeats)"
            ));
        }
        if unattributed > 0 {
            problems.push(format!("{unattributed} sendmessage calls naming no member"));
        }
        if double_polls > 0 {
            problems.push(format!(
                "{double_polls} moments with two held polls of one account"
            ));
        }
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
}

/// The member a `bot_agent` of `cluster_bot` names: `cluster_bot/1 (NAME)`.
fn member_of_agent(agent: &str) -> Option<&str> {
    agent
        .strip_prefix("cluster_bot/1 (")?
        .strip_suffix(')')
        .filter(|m| !m.is_empty())
}

/// Whether `member` held an account's lease at `at`, from the account's
/// takes `(ms, member)`: its own latest take at most [`SLACK_MS`] after
/// `at`, and no other member's take between that and `at` (less the
/// slack). A take is journaled after the store granted it, so a later
/// take by another member means the lease had passed by then.
fn holds(takes: &[(u128, String)], member: &str, at: u128) -> bool {
    let Some(own) = takes
        .iter()
        .filter(|(t, m)| m == member && *t <= at + SLACK_MS)
        .map(|(t, _)| *t)
        .max()
    else {
        return false;
    };
    !takes
        .iter()
        .any(|(t, m)| m != member && *t > own && *t + SLACK_MS < at)
}

/// The keys named by the replies the simulator accepted (`... (m:ID)`).
fn answered_keys(sim: &Simulator) -> HashSet<String> {
    sim.sent()
        .iter()
        .filter_map(|s| {
            let text = s.text();
            let start = text.rfind("(m:")?;
            let end = text[start..].find(')')? + start;
            Some(text[start + 1..end].to_owned())
        })
        .collect()
}

/// `(key, outcome)` of every reply line (`R <key> <ms> <outcome>`).
fn reply_outcomes(path: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let mut parts = l.splitn(4, ' ');
            (parts.next()? == "R").then_some(())?;
            let key = parts.next()?.to_owned();
            parts.next()?.parse::<u128>().ok()?;
            Some((key, parts.next()?.to_owned()))
        })
        .collect()
}

/// Every `T` and `G` of every member: member, kind, account, ms.
fn lease_events(all: &[&Member]) -> Vec<(String, char, String, u128)> {
    all.iter()
        .flat_map(|m| {
            read_lines(&m.journal)
                .into_iter()
                .filter(|(k, _, _)| *k == 'T' || *k == 'G')
                .map(|(k, a, t)| (m.name.clone(), k, a, t))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// For each `(member, ms)` that took its member out (a kill, a pause):
/// each account it held then, the time to another member's next `T` of
/// it; sorted.
fn takeovers(events: &[(String, char, String, u128)], outages: &[(String, u128)]) -> Vec<u128> {
    let mut out = Vec::new();
    for (victim, at) in outages {
        let mut held: HashSet<&str> = HashSet::new();
        for (m, k, a, t) in events {
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
                out.push(next - at);
            }
        }
    }
    out.sort_unstable();
    out
}

/// A percentile of sorted milliseconds, in seconds.
fn percentile(sorted: &[u128], p: f64) -> String {
    if sorted.is_empty() {
        return "n/a".to_owned();
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    format!("{:.2} s", sorted[i] as f64 / 1000.0)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_names_the_member() {
        assert_eq!(
            member_of_agent("cluster_bot/1 (member-2)"),
            Some("member-2")
        );
        assert_eq!(member_of_agent("cluster_bot/1 ()"), None);
        assert_eq!(member_of_agent("ilink-rs/0.1"), None);
    }

    #[test]
    fn lease_holder_by_latest_take() {
        let takes = vec![
            (1_000, "a".to_owned()),
            (5_000, "b".to_owned()),
            (9_000, "a".to_owned()),
        ];
        assert!(!holds(&takes, "a", 500), "before its first take");
        assert!(holds(&takes, "a", 4_000));
        assert!(!holds(&takes, "a", 6_000), "b took it at 5 s");
        assert!(holds(&takes, "b", 6_000));
        assert!(holds(&takes, "a", 9_050), "its own take, within the slack");
        assert!(holds(&takes, "a", 12_000));
        assert!(!holds(&takes, "b", 12_000), "a took it back at 9 s");
        assert!(holds(&takes, "a", 5_050), "b's take within the slack");
        assert!(!holds(&takes, "c", 12_000));
    }
}
