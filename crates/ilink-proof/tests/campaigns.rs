//! Smoke runs of the reliability campaigns for CI: the crash campaign with
//! small numbers (both server modes), the fault campaign's `--quick`
//! subset and a small failover campaign (on the PostgreSQL server CI
//! starts), each through the built binaries. The full runs are
//! `crates/ilink-proof/scripts/crash-campaign.sh` and
//! `crates/ilink-proof/scripts/fault-campaign.sh`.

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

#[test]
fn failover_campaign_small() {
    // Needs a PostgreSQL server (CI starts one); SKIP without, unless
    // required.
    let Some(url) = std::env::var("ILINK_TEST_PG_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        assert!(
            std::env::var_os("ILINK_TEST_PG_REQUIRED").is_none(),
            "ILINK_TEST_PG_REQUIRED is set but ILINK_TEST_PG_URL is not"
        );
        eprintln!("SKIP failover_campaign_small: ILINK_TEST_PG_URL is not set");
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
