//! Secrets from files or standard input, never only argv (issue 33):
//! `--token-file`, `--token-stdin` and `--database-url-file`, driven through
//! the built binary. Each reads the first line, trimmed, at most 64 KiB; an
//! empty value is refused; the value never appears in output or errors.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use ilink_testkit::{Inbound, Simulator};
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_ilink");

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn error_line(&self) -> &str {
        self.stderr
            .lines()
            .find(|l| l.starts_with("error"))
            .unwrap_or_default()
    }
}

fn cmd(sim: &Simulator, state: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args)
        .env("ILINK_BASE_URL", sim.api_url())
        .env("ILINK_CDN_BASE_URL", sim.cdn_url())
        .env("ILINK_STATE_DIR", state)
        .env_remove("ILINK_TOKEN")
        .env_remove("ILINK_ACCOUNT")
        .env_remove("ILINK_AES_KEY")
        .env_remove("ILINK_DATABASE_URL")
        .env_remove("ILINK_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    c
}

async fn run(mut c: Command, stdin: &str) -> Run {
    let mut child = c.spawn().expect("spawn ilink");
    let mut input = child.stdin.take().unwrap();
    // A command that never reads its input may have exited already.
    let _ = input.write_all(stdin.as_bytes()).await;
    drop(input);
    let output = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("ilink finished in time")
        .unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

async fn sim() -> Simulator {
    Simulator::builder()
        .hold(Duration::from_millis(300))
        .start()
        .await
        .unwrap()
}

fn write(dir: &Path, name: &str, contents: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path.to_string_lossy().into_owned()
}

#[tokio::test]
async fn a_token_from_a_file_or_stdin_acts_as_the_bot_and_never_shows() {
    let sim = sim().await;
    let bot = sim.create_account();
    let dir = tempfile::tempdir().unwrap();
    // The first line only, trimmed (a CRLF file and a second line too).
    let file = write(
        dir.path(),
        "token",
        format!("  {}\t\r\nnot the token\n", bot.token).as_bytes(),
    );
    let stdin_line = format!("{}\nnot the token\n", bot.token);
    for (n, (args, stdin)) in [
        (vec!["--token-file", file.as_str()], ""),
        (vec!["--token-stdin"], stdin_line.as_str()),
    ]
    .into_iter()
    .enumerate()
    {
        sim.push(
            &bot.bot_id,
            Inbound::text("alice@im.wechat", format!("hello {n}")),
        );
        let mut full = vec!["-vv", "--json", "listen", "--count", "1", "--timeout", "20"];
        full.extend(args.iter().copied());
        let r = run(cmd(&sim, &dir.path().join("state"), &full), stdin).await;
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
        assert!(r.stdout.contains(&format!("hello {n}")), "{}", r.stdout);
        for (name, text) in [("stdout", &r.stdout), ("stderr", &r.stderr)] {
            assert!(
                !text.contains(&bot.token),
                "{args:?}: the token is in {name}"
            );
        }
    }
    // An ad hoc token from a file writes no state, as --token does.
    assert!(!dir.path().join("state").exists());

    // A token from a file that the server rejects: exit 3, said so, and
    // the token is not quoted.
    let wrong = write(dir.path(), "wrong", b"made-up@im.bot:0123456789abcdef\n");
    let r = run(
        cmd(
            &sim,
            &dir.path().join("state"),
            &["typing", "--to", "a@im.wechat", "--token-file", &wrong],
        ),
        "",
    )
    .await;
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.error_line().contains("--token-file"), "{}", r.stderr);
    assert!(!r.stderr.contains("0123456789abcdef"), "{}", r.stderr);
}

#[tokio::test]
async fn secret_inputs_conflict_with_their_plain_forms() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let file = write(dir.path(), "secret", b"a@im.bot:file-secret\n");
    for args in [
        &[
            "--token",
            "a@im.bot:argv",
            "--token-file",
            &file,
            "accounts",
        ][..],
        &["--token", "a@im.bot:argv", "--token-stdin", "accounts"][..],
        &["--token-file", &file, "--token-stdin", "accounts"][..],
        &[
            "--database-url",
            "postgres://x@localhost/x",
            "--database-url-file",
            &file,
            "accounts",
        ][..],
    ] {
        let r = run(cmd(&sim, &state, args), "").await;
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains("cannot be used with"), "{}", r.stderr);
        assert!(!r.stderr.contains("file-secret"), "{}", r.stderr);
    }
    // ILINK_TOKEN and a token file are two sources for one value too.
    let mut c = cmd(&sim, &state, &["--token-file", &file, "accounts"]);
    c.env("ILINK_TOKEN", "a@im.bot:env-secret");
    let r = run(c, "").await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(!r.stderr.contains("env-secret"), "{}", r.stderr);
    // Two secrets cannot both come from standard input.
    let input = dir.path().join("in.bin");
    std::fs::write(&input, b"x").unwrap();
    let r = run(
        cmd(
            &sim,
            &state,
            &[
                "--token-stdin",
                "decrypt",
                "--key-stdin",
                "--in",
                &input.to_string_lossy(),
                "--out",
                &dir.path().join("out.bin").to_string_lossy(),
            ],
        ),
        "a@im.bot:t\n00112233445566778899aabbccddeeff\n",
    )
    .await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.error_line().contains("standard input"), "{}", r.stderr);
    assert!(!state.exists());
}

#[tokio::test]
async fn empty_oversized_and_missing_secret_inputs_are_refused_without_quoting_them() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let empty = write(dir.path(), "empty", b"");
    let blank = write(dir.path(), "blank", b"  \t\r\nsecond-line-secret\n");
    let long = write(
        dir.path(),
        "long",
        "s3cret".repeat(12_000).as_bytes(), // 72,000 bytes, one line
    );
    let missing = dir.path().join("missing").to_string_lossy().into_owned();
    let cases: [(&[&str], &str, &str); 7] = [
        (&["--token-file", &empty, "accounts"], "", "empty"),
        (&["--token-file", &blank, "accounts"], "", "empty"),
        (
            &["--token-file", &long, "accounts"],
            "",
            "longer than 64 KiB",
        ),
        (
            &["--token-file", &missing, "accounts"],
            "",
            "cannot read the token file",
        ),
        (&["--token-stdin", "accounts"], "", "empty"),
        (&["--token-stdin", "accounts"], "\n", "empty"),
        (
            &["--database-url-file", &empty, "accounts"],
            "",
            "database URL file",
        ),
    ];
    for (args, stdin, says) in cases {
        let r = run(cmd(&sim, &state, args), stdin).await;
        assert_eq!(r.code, 1, "{args:?}: {}", r.stderr);
        assert!(r.error_line().contains(says), "{args:?}: {}", r.stderr);
        assert!(
            !r.stderr.contains("s3cret") && !r.stderr.contains("second-line-secret"),
            "{args:?}: {}",
            r.stderr
        );
    }
    // With --json the refusal is a JSON error, the same way.
    let r = run(
        cmd(
            &sim,
            &state,
            &["--json", "--token-file", &empty, "accounts"],
        ),
        "",
    )
    .await;
    assert_eq!(r.code, 1);
    let error: serde_json::Value = serde_json::from_str(r.stdout.trim()).unwrap();
    assert_eq!(error["exit_code"], 1);
    assert!(!state.exists(), "nothing was written");
}

/// A fake PostgreSQL server on loopback: the bytes of its first
/// connection (the client's StartupMessage and password), then it hangs up.
fn fake_postgres() -> (u16, mpsc::Receiver<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let Ok((mut s, _)) = listener.accept() else {
            return;
        };
        s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        let mut asked = false;
        while let Ok(n) = s.read(&mut buf) {
            if n == 0 {
                break;
            }
            seen.extend_from_slice(&buf[..n]);
            if !asked {
                // "Your password, in clear": loopback, so the client may.
                let _ = s.write_all(&[b'R', 0, 0, 0, 8, 0, 0, 0, 3]);
                asked = true;
            } else {
                break;
            }
        }
        let _ = tx.send(seen);
    });
    (port, rx)
}

#[tokio::test]
async fn the_database_url_comes_from_its_file_and_is_never_printed() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let (port, seen) = fake_postgres();
    let file = write(
        dir.path(),
        "db-url",
        format!("postgres://filerole:s3cret-pw@127.0.0.1:{port}/db\n").as_bytes(),
    );
    let r = run(
        cmd(&sim, &state, &["accounts", "--database-url-file", &file]),
        "",
    )
    .await;
    assert_ne!(r.code, 0, "the fake is no database");
    let seen = seen
        .recv_timeout(Duration::from_secs(10))
        .expect("the URL of the file was used");
    assert!(
        seen.windows(14).any(|w| w == b"user\0filerole\0"),
        "the file's user"
    );
    for text in [&r.stdout, &r.stderr] {
        assert!(!text.contains("s3cret-pw"), "{text}");
    }
    assert!(!state.exists(), "the state directory is never used");

    // Against a real server when there is one: the whole command works.
    let Some(url) = std::env::var("ILINK_TEST_PG_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        eprintln!("SKIP --database-url-file on PostgreSQL: ILINK_TEST_PG_URL is not set");
        return;
    };
    let file = write(dir.path(), "real-url", format!("{url}\n").as_bytes());
    let mut c = cmd(
        &sim,
        &state,
        &["--json", "accounts", "--database-url-file", &file],
    );
    c.env(
        "ILINK_DATABASE_SCHEMA",
        format!("cli_url_file_{}", std::process::id()),
    );
    let r = run(c, "").await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!state.exists());
}
