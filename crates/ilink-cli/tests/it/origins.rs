//! The binary sends a stored token only to the host its login was made at
//! (issue 33, item A): a login at another host (`--base-url OTHER login`)
//! learns none of it, `accounts` checks each account at its own host (not
//! at the default one, not at `--base-url`), and a login stored with no
//! host by an older version sends its token nowhere.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use ilink::store::prelude::*;
use ilink_testkit::{RequestRecord, Route, Simulator};
use serde_json::Value;
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_ilink");

/// `ilink --json ARGS` on the state directory, against `base` (`None`: no
/// `--base-url`, the default host).
async fn ilink(base: Option<&Simulator>, state: &Path, args: &[&str]) -> (i32, Vec<Value>, String) {
    let mut c = Command::new(BIN);
    c.arg("--json")
        .args(args)
        .env("ILINK_STATE_DIR", state)
        .env_remove("ILINK_BASE_URL")
        .env_remove("ILINK_CDN_BASE_URL")
        .env_remove("ILINK_TOKEN")
        .env_remove("ILINK_ACCOUNT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(sim) = base {
        c.env("ILINK_BASE_URL", sim.api_url());
    }
    let out = tokio::time::timeout(Duration::from_secs(60), c.output())
        .await
        .expect("ilink finished in time")
        .unwrap();
    let lines = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (
        out.status.code().unwrap_or(-1),
        lines,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn carries(r: &RequestRecord, token: &str) -> bool {
    r.headers.iter().any(|(_, v)| v.contains(token))
        || r.query.iter().any(|(_, v)| v.contains(token))
        || r.body
            .as_ref()
            .is_some_and(|b| b.to_string().contains(token))
}

fn assert_never_received(sim: &Simulator, token: &str) {
    let leaked: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| carries(r, token))
        .map(|r| r.path)
        .collect();
    assert!(leaked.is_empty(), "the token reached {leaked:?}");
}

async fn stored_token(state: &Path, account: &str) -> String {
    let store = ilink::SqliteStore::open(state).unwrap();
    let creds = store
        .load_credentials(&account.into())
        .await
        .unwrap()
        .expect("stored");
    creds.bot_token.expose().to_owned()
}

fn session_of<'a>(lines: &'a [Value], account: &str) -> &'a str {
    lines
        .iter()
        .find(|l| l["event"] == "account" && l["account"] == account)
        .and_then(|l| l["session"].as_str())
        .unwrap_or_else(|| panic!("no line for {account}: {lines:?}"))
}

#[tokio::test]
async fn a_stored_token_goes_only_to_the_host_it_was_logged_in_at() {
    let first = Simulator::builder()
        .hold(Duration::from_millis(300))
        .confirmed_without_base_url()
        .start()
        .await
        .unwrap();
    let other = Simulator::builder()
        .hold(Duration::from_millis(300))
        .start()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");

    // A login whose confirmed answer names no host: the login's is stored.
    let (code, lines, err) = ilink(Some(&first), &state, &["login", "--no-qr"]).await;
    assert_eq!(code, 0, "{err}");
    let logged = lines.iter().find(|l| l["event"] == "logged_in").unwrap();
    assert_eq!(logged["base_url"], first.api_url());
    let a = logged["account"].as_str().unwrap().to_owned();
    let token = stored_token(&state, &a).await;

    // `--base-url OTHER login`: OTHER learns nothing of account A.
    let (code, lines, err) = ilink(Some(&other), &state, &["login", "--no-qr"]).await;
    assert_eq!(code, 0, "{err}");
    let b = lines.iter().find(|l| l["event"] == "logged_in").unwrap()["account"]
        .as_str()
        .unwrap()
        .to_owned();
    let qr = &other.requests_to(Route::GetBotQrcode)[0];
    assert_eq!(
        qr.body.as_ref().unwrap()["local_token_list"],
        serde_json::json!([])
    );

    // `--base-url OTHER accounts`: A is not checked there.
    let (code, lines, err) = ilink(Some(&other), &state, &["accounts"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(
        session_of(&lines, &a).starts_with("not checked"),
        "{lines:?}"
    );
    assert_eq!(session_of(&lines, &b), "ok");

    // `accounts` with no --base-url: each account at its own host, none at
    // the default one.
    let before = first.requests_to(Route::GetConfig).len();
    let (code, lines, err) = ilink(None, &state, &["accounts"]).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(session_of(&lines, &a), "ok");
    assert_eq!(session_of(&lines, &b), "ok");
    assert!(
        first.requests_to(Route::GetConfig)[before..]
            .iter()
            .any(|r| carries(r, &token)),
        "A was checked at its own host"
    );
    // Commands on A with OTHER's base URL are refused before sending.
    let (code, lines, _) = ilink(
        Some(&other),
        &state,
        &["--account", &a, "typing", "--to", "x@im.wechat"],
    )
    .await;
    assert_eq!(code, 1, "{lines:?}");
    assert!(
        lines[0]["message"]
            .as_str()
            .unwrap()
            .contains("is not sent"),
        "{lines:?}"
    );
    assert_never_received(&other, &token);
}

#[tokio::test]
async fn a_login_stored_with_no_host_sends_its_token_nowhere() {
    let sim = Simulator::builder()
        .hold(Duration::from_millis(300))
        .start()
        .await
        .unwrap();
    let account = sim.create_account();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    {
        // As an older version stored it: no base URL.
        let store = ilink::SqliteStore::open(&state).unwrap();
        store
            .save_credentials(&ilink::Credentials::new(
                account.bot_id.as_str(),
                account.token.as_str().into(),
            ))
            .await
            .unwrap();
    }
    for base in [None, Some(&sim)] {
        let (code, lines, err) = ilink(base, &state, &["accounts"]).await;
        assert_eq!(code, 0, "{err}");
        let session = session_of(&lines, &account.bot_id);
        assert!(
            session.starts_with("not checked") && session.contains("log in again"),
            "{session}"
        );
        let (code, lines, _) = ilink(base, &state, &["typing", "--to", "x@im.wechat"]).await;
        assert_eq!(code, 1, "{lines:?}");
        assert!(
            lines[0]["message"]
                .as_str()
                .unwrap()
                .contains("log in again"),
            "{lines:?}"
        );
    }
    // A login there sends no token in local_token_list.
    let (code, _, err) = ilink(Some(&sim), &state, &["login", "--no-qr"]).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        sim.requests_to(Route::GetBotQrcode)[0]
            .body
            .as_ref()
            .unwrap()["local_token_list"],
        serde_json::json!([])
    );
    assert_never_received(&sim, &account.token);
}
