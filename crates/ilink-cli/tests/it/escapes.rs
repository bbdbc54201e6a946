//! Terminal escapes from a hostile login server, a hostile sender and a
//! hostile file name are shown as text, never obeyed: `login`, `accounts`,
//! `listen` (and its `polling started account=…` log line), `typing`,
//! `voice decode` and `logout` of the built binary write no raw ESC, BEL,
//! C1 control or bidi override to stdout or stderr (issue 33, item B).

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use ilink_testkit::{Inbound, LoginTarget, QrScript, QrStep, Simulator};
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_ilink");

/// Clear the screen, write the clipboard (OSC 52, ended by BEL), ring the
/// bell, a C1 CSI, reverse the rest of the line (RLO), an isolate.
const HOSTILE: &str = "\u{1b}[2J\u{1b}]52;c;ZXZpbA==\u{7}\u{9b}1m\u{202e}gnp.exe\u{2066}";

/// What a terminal would obey, or what reorders or hides text.
fn raw_escapes(text: &str) -> Vec<char> {
    text.chars()
        .filter(|&c| c != '\n' && ilink::proto::is_display_unsafe(c))
        .collect()
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn cmd(sim: &Simulator, state: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args)
        .env("ILINK_BASE_URL", sim.api_url())
        .env("ILINK_CDN_BASE_URL", sim.cdn_url())
        .env("ILINK_STATE_DIR", state)
        .env("NO_COLOR", "1")
        .env_remove("ILINK_LOG")
        .env_remove("ILINK_TOKEN")
        .env_remove("ILINK_ACCOUNT")
        .env_remove("ILINK_AES_KEY")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    c
}

/// Runs the command and checks that neither stream carries a raw escape.
async fn run_clean(what: &str, mut c: Command) -> Run {
    let out = tokio::time::timeout(Duration::from_secs(60), c.output())
        .await
        .expect("ilink finished in time")
        .unwrap();
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    };
    for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        let raw = raw_escapes(text);
        assert!(
            raw.is_empty(),
            "`{what}` wrote {raw:?} raw to {stream}:\n{text}"
        );
    }
    run
}

#[tokio::test]
async fn escapes_from_a_hostile_server_sender_and_file_name_are_shown_not_obeyed() {
    let bot_id = format!("bot{HOSTILE}@im.bot");
    let sim = Simulator::builder()
        .hold(Duration::from_millis(300))
        .confirmed_bot_id(bot_id.clone())
        .confirmed_user_id(format!("owner{HOSTILE}@im.wechat"))
        .qr_content(format!("https://liteapp.weixin.qq.com/q/x{HOSTILE}"))
        .start()
        .await
        .unwrap();
    // The login binds an account the simulator knows (so that messages can
    // be pushed to it), under the hostile id the server answers.
    let account = sim.create_account();
    sim.script_login(QrScript::new(vec![QrStep::Confirm {
        target: LoginTarget::Existing {
            bot_id: account.bot_id.clone(),
        },
    }]));
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");

    // login: the QR content (as text and drawn), the bot id.
    let r = run_clean("login", cmd(&sim, &state, &["login"])).await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("\\u{1b}[2J"), "{}", r.stdout);
    assert!(
        r.stdout.contains("Logged in as bot\\u{1b}[2J"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("\\u{202e}gnp.exe"), "{}", r.stdout);

    // accounts: the stored bot id and user id, on every run.
    let r = run_clean("accounts", cmd(&sim, &state, &["accounts"])).await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("user owner\\u{1b}[2J"), "{}", r.stdout);
    assert!(r.stdout.contains("session ok"), "{}", r.stdout);

    // listen: a hostile sender, and the `polling started account=…` line.
    let sender = format!("carol{HOSTILE}@im.wechat");
    sim.push(
        &account.bot_id,
        Inbound::voice_tone(sender.clone(), 440.0, Duration::from_millis(400)),
    );
    let media = dir.path().join("media");
    let media_arg = media.to_str().unwrap();
    let r = run_clean(
        "listen -v",
        cmd(
            &sim,
            &state,
            &[
                "-v",
                "listen",
                "--count",
                "1",
                "--timeout",
                "20",
                "--download",
                media_arg,
                "--voice",
                "silk",
            ],
        ),
    )
    .await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("carol\\u{1b}[2J"), "{}", r.stdout);
    assert!(
        r.stderr.contains("polling started") && r.stderr.contains("bot\\u{1b}[2J"),
        "{}",
        r.stderr
    );

    // typing to the hostile sender (its context token is stored now).
    let r = run_clean(
        "typing",
        cmd(&sim, &state, &["-v", "typing", "--to", &sender]),
    )
    .await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    // typing to a user who never wrote, with the requests logged.
    run_clean(
        "typing (never wrote)",
        cmd(
            &sim,
            &state,
            &[
                "-vv",
                "typing",
                "--to",
                &format!("nobody{HOSTILE}@im.wechat"),
            ],
        ),
    )
    .await;

    // voice decode: a hostile file name, echoed when decoded and named
    // when it does not decode.
    let silk = std::fs::read_dir(&media)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "silk"))
        .expect("a saved .silk");
    let hostile_dir = dir.path().join(format!("in{HOSTILE}"));
    std::fs::create_dir(&hostile_dir).unwrap();
    let hostile_silk = hostile_dir.join(format!("note{HOSTILE}.silk"));
    std::fs::copy(&silk, &hostile_silk).unwrap();
    let r = run_clean(
        "voice decode",
        cmd(
            &sim,
            &state,
            &["voice", "decode", hostile_silk.to_str().unwrap()],
        ),
    )
    .await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("Decoded ") && r.stdout.contains("note\\u{1b}[2J"),
        "{}",
        r.stdout
    );
    assert!(hostile_silk.with_extension("wav").exists());
    let junk = hostile_dir.join(format!("junk{HOSTILE}.silk"));
    std::fs::write(&junk, b"not audio").unwrap();
    let r = run_clean(
        "voice decode (not SILK)",
        cmd(&sim, &state, &["voice", "decode", junk.to_str().unwrap()]),
    )
    .await;
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("junk\\u{1b}[2J"), "{}", r.stderr);

    // logout: the bot id once more.
    let r = run_clean("logout", cmd(&sim, &state, &["logout"])).await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("Forgot bot\\u{1b}[2J"), "{}", r.stdout);
    let r = run_clean("logout (unknown)", cmd(&sim, &state, &["logout", &bot_id])).await;
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
}
