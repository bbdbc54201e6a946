//! Smoke runs of the reliability campaigns for CI: the crash campaign with
//! small numbers (both server modes), the fault campaign's `--quick`
//! subset, a small failover campaign (on the PostgreSQL server CI
//! starts) and small pause campaigns (`failover_campaign --pause`, on one
//! SQLite file and on PostgreSQL), each through the built binaries. The
//! full runs are `crates/ilink-proof/scripts/crash-campaign.sh`,
//! `crates/ilink-proof/scripts/fault-campaign.sh`,
//! `crates/ilink-proof/scripts/failover-campaign.sh` and
//! `crates/ilink-proof/scripts/pause-campaign.sh`.

use std::process::{Command, Output};

fn run(exe: &str, args: &[&str]) -> (Output, String) {
    let out = Command::new(exe)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {exe}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    (out, stdout)
}

fn assert_pass(what: &str, out: &Output, stdout: &str) {
    assert!(
        out.status.success() && stdout.lines().any(|l| l.starts_with("PASS")),
        "{what} failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn crash_campaign_small() {
    let exe = env!("CARGO_BIN_EXE_crash_campaign");
    let small = ["--messages", "300", "--kills", "5", "--seed", "11"];
    let (out, stdout) = run(exe, &small);
    assert_pass("crash campaign", &out, &stdout);
    assert!(stdout.contains("| messages handled at least once | 300 / 300 |"));
    assert!(stdout.contains("| messages handled again after their acknowledgement | 0 |"));
    assert!(stdout.contains("| state checks after a kill: unreadable | 0 of 5 |"));

    // The real server's mode: losses only in the receive window.
    let (out, stdout) = run(exe, &[&small[..], &["--no-replay"]].concat());
    assert_pass("crash campaign (no replay)", &out, &stdout);
    assert!(stdout.contains("| messages never handled otherwise | 0 |"));
}

#[test]
fn fault_campaign_quick() {
    let exe = env!("CARGO_BIN_EXE_fault_campaign");
    let (out, stdout) = run(exe, &["--quick"]);
    assert_pass("fault campaign --quick", &out, &stdout);
    assert!(stdout.contains("0 panics"));
    // Every quick case printed a row, and the throttling scenarios ran.
    assert!(stdout.matches("| ok |").count() >= 13, "{stdout}");
    assert!(stdout.contains("sendmessage requests during the cooldown: 0"));
}

/// The PostgreSQL server CI starts (`ILINK_TEST_PG_URL`); `None` (the
/// test then SKIPs) without one, unless `ILINK_TEST_PG_REQUIRED` is set.
fn pg_url(test: &str) -> Option<String> {
    let url = std::env::var("ILINK_TEST_PG_URL")
        .ok()
        .filter(|u| !u.is_empty());
    if url.is_none() {
        assert!(
            std::env::var_os("ILINK_TEST_PG_REQUIRED").is_none(),
            "ILINK_TEST_PG_REQUIRED is set but ILINK_TEST_PG_URL is not"
        );
        eprintln!("SKIP {test}: ILINK_TEST_PG_URL is not set");
    }
    url
}

#[test]
fn failover_campaign_small() {
    // Needs a PostgreSQL server (CI starts one); SKIP without, unless
    // required.
    let Some(url) = pg_url("failover_campaign_small") else {
        return;
    };
    let exe = env!("CARGO_BIN_EXE_failover_campaign");
    let small = [
        "--url",
        url.as_str(),
        "--accounts",
        "12",
        "--members",
        "3",
        "--seconds",
        "12",
        "--kill-every-s",
        "4",
        "--lease-ttl-ms",
        "4000",
    ];
    let (out, stdout) = run(exe, &small);
    assert_pass("failover campaign", &out, &stdout);
    assert!(
        stdout.contains("| messages never handled | 0 |"),
        "{stdout}"
    );
    assert!(stdout.contains("| moments with two held polls of one account | 0 |"));
    assert!(!stdout.contains("| members killed (SIGKILL) and replaced | 0 |"));
}

/// A small pause campaign: members paused with `SIGSTOP` for 8 s, past
/// their 4 s lease TTL, every 8 s, while their bots reply to every message.
/// (The TTL less its 2 s margin outlasts the simulator's 1.5 s hold, so a
/// running member's polls are never cut by its own lease.)
fn pause_campaign(store: &[&str], accounts: &str, members: &str) {
    let exe = env!("CARGO_BIN_EXE_failover_campaign");
    let small = [
        "--pause",
        "--accounts",
        accounts,
        "--members",
        members,
        "--seconds",
        "25",
        "--pause-every-s",
        "8",
        "--pause-for-s",
        "8",
        "--lease-ttl-ms",
        "4000",
        "--rate",
        "8",
    ];
    let (out, stdout) = run(exe, &[store, &small[..]].concat());
    // The table, for `--nocapture`.
    println!("{stdout}");
    assert_pass("pause campaign", &out, &stdout);
    for line in [
        "| messages never answered | 0 |",
        "| messages whose reply our reply budget refused | 0 |",
        "| messages acknowledged without their reply | 0 |",
        "| sendmessage calls after the member lost the lease: accepted / dropped as a repeat | 0 / 0 |",
        "| moments with two held polls of one account | 0 |",
    ] {
        assert!(stdout.contains(line), "{line} missing:\n{stdout}");
    }
    assert!(
        !stdout.contains("| pauses (SIGSTOP for 8 s, then SIGCONT; lease TTL 4.0 s) | 0 |"),
        "{stdout}"
    );
}

#[test]
fn failover_pause_small_sqlite() {
    pause_campaign(&["--sqlite"], "10", "2");
}

#[test]
fn failover_pause_small_postgres() {
    let Some(url) = pg_url("failover_pause_small_postgres") else {
        return;
    };
    pause_campaign(&["--url", &url], "12", "3");
}
