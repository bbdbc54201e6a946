use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use ilink_testkit::{Inbound, LoginTarget, QrScript, QrStep, Route, Simulator};
use serde_json::Value;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_ilink");

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json_lines(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .filter(|l| l.starts_with('{'))
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
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
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    c
}

async fn run(mut c: Command, stdin: &str) -> Run {
    let mut child = c.spawn().expect("spawn ilink");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).await.unwrap();
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

/// Logs in through the binary with a verify code typed on stdin.
async fn login(sim: &Simulator, state: &Path) -> String {
    sim.script_login(QrScript::new(vec![
        QrStep::Scanned,
        QrStep::VerifyCode {
            code: "4711".into(),
            max_wrong: 3,
        },
        QrStep::Confirm {
            target: LoginTarget::NewBot,
        },
    ]));
    let r = run(
        cmd(sim, state, &["--json", "login", "--no-qr"]),
        "0000\n4711\n",
    )
    .await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let lines = r.json_lines();
    let events: Vec<&str> = lines.iter().map(|l| l["event"].as_str().unwrap()).collect();
    assert!(events.contains(&"need_verify_code"), "{events:?}");
    assert!(
        lines
            .iter()
            .any(|l| l["event"] == "need_verify_code" && l["retry"] == true),
        "wrong code asked again"
    );
    let logged = lines
        .iter()
        .find(|l| l["event"] == "logged_in")
        .expect("logged in");
    logged["account"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn login_listen_send_download_decrypt() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let account = login(&sim, &state).await;

    // The login is in the state directory's SQLite database, stored 0600.
    let db = state.join("ilink.db");
    let header = std::fs::read(&db).unwrap();
    assert!(
        header.starts_with(b"SQLite format 3\0"),
        "a SQLite database"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for entry in walk(&state) {
            let mode = std::fs::metadata(&entry).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", entry.display());
        }
    }

    // accounts shows it, with a working session.
    let r = run(cmd(&sim, &state, &["--json", "accounts"]), "").await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let acct = &r.json_lines()[0];
    assert_eq!(acct["account"], account.as_str());
    assert_eq!(acct["session"], "ok");

    // listen --json --count 2, with media saved.
    let pushed = sim.push(&account, Inbound::text("alice@im.wechat", "hello"));
    sim.push(
        &account,
        Inbound::file("bob@im.wechat", "../../evil.txt", b"payload".to_vec()),
    );
    let media_dir = dir.path().join("media");
    let media_arg = media_dir.to_string_lossy().into_owned();
    let r = run(
        cmd(
            &sim,
            &state,
            &[
                "--json",
                "listen",
                "--count",
                "2",
                "--timeout",
                "20",
                "--download",
                &media_arg,
            ],
        ),
        "",
    )
    .await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let lines = r.json_lines();
    let msgs: Vec<&Value> = lines.iter().filter(|l| l["event"] == "message").collect();
    assert_eq!(msgs.len(), 2);
    // Two senders: their handlers run concurrently, in either order.
    assert!(
        msgs.iter()
            .any(|m| m["message_id"] == pushed.message_id.to_string().as_str()),
        "ids are lossless strings: {msgs:?}"
    );
    let saved: Vec<&Value> = lines.iter().filter(|l| l["event"] == "saved").collect();
    assert_eq!(saved.len(), 1);
    let saved_path = Path::new(saved[0]["path"].as_str().unwrap());
    assert!(
        saved_path.starts_with(&media_dir),
        "{saved_path:?} stays inside the download dir"
    );
    assert_eq!(std::fs::read(saved_path).unwrap(), b"payload");

    // send text (chunked) and a file; the context token came from listen.
    let long = "word ".repeat(900);
    let r = run(
        cmd(
            &sim,
            &state,
            &["--json", "send", "--to", "alice@im.wechat", "--text", &long],
        ),
        "",
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json_lines()[0]["messages"], 3);
    let file = dir.path().join("notes.txt");
    std::fs::write(&file, b"some notes").unwrap();
    let file_arg = file.to_string_lossy().into_owned();
    let r = run(
        cmd(
            &sim,
            &state,
            &[
                "--json",
                "send",
                "--to",
                "alice@im.wechat",
                "--file",
                &file_arg,
                "--caption",
                "see attached",
            ],
        ),
        "",
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let sent = sim.sent();
    assert_eq!(sent.len(), 5);
    assert!(
        sent.iter()
            .all(|m| m.in_conversation && m.rendering_problems.is_empty())
    );
    assert_eq!(sent[3].text(), "see attached");
    let media = &sent[4].media[0];
    assert_eq!(media.kind, "file");
    assert_eq!(
        media.bytes.as_deref().map(Vec::as_slice),
        Some(&b"some notes"[..])
    );

    // download + decrypt through the CLI's media tools.
    let img = sim.push(&account, Inbound::image("carol@im.wechat", vec![9u8; 5000]));
    let mut poll = run(
        cmd(
            &sim,
            &state,
            &["--json", "listen", "--count", "1", "--timeout", "20"],
        ),
        "",
    )
    .await;
    assert_eq!(poll.code, 0, "{}", poll.stderr);
    let msg = poll
        .json_lines()
        .into_iter()
        .find(|l| l["event"] == "message")
        .unwrap();
    assert_eq!(msg["message_id"], img.message_id.to_string().as_str());
    let media = &msg["message"]["item_list"][0]["image_item"]["media"];
    let param = media["encrypt_query_param"].as_str().unwrap();
    let key = media["aes_key"].as_str().unwrap();
    let cipher_path = dir.path().join("img.enc");
    let plain_path = dir.path().join("img.bin");
    let r = run(
        cmd(
            &sim,
            &state,
            &[
                "download",
                "--param",
                param,
                "--out",
                &cipher_path.to_string_lossy(),
            ],
        ),
        "",
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(
        cmd(
            &sim,
            &state,
            &[
                "--json",
                "decrypt",
                "--key",
                key,
                "--in",
                &cipher_path.to_string_lossy(),
                "--out",
                &plain_path.to_string_lossy(),
            ],
        ),
        "",
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(std::fs::read(&plain_path).unwrap(), vec![9u8; 5000]);
    assert_eq!(r.json_lines()[0]["key_format"], "base64 of the raw key");
    poll.stdout.clear();
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());
}

#[tokio::test]
async fn an_expired_session_exits_with_3() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let account = login(&sim, &state).await;
    sim.expire_session(&account);
    let r = run(
        cmd(&sim, &state, &["listen", "--count", "1", "--timeout", "20"]),
        "",
    )
    .await;
    assert_eq!(r.code, 3, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("ilink login"), "{}", r.stderr);
    let r = run(
        cmd(
            &sim,
            &state,
            &["send", "--to", "a@im.wechat", "--text", "x", "--force"],
        ),
        "",
    )
    .await;
    assert_eq!(r.code, 3);
    assert_eq!(sim.count(Route::SendMessage), 1);
}

#[tokio::test]
async fn usage_errors_exit_with_2_and_encrypt_round_trips() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let r = run(cmd(&sim, dir.path(), &["send", "--to", "x"]), "").await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    let r = run(cmd(&sim, dir.path(), &["no-such-command"]), "").await;
    assert_eq!(r.code, 2);
    let plain = dir.path().join("p");
    let enc = dir.path().join("e");
    let back = dir.path().join("b");
    std::fs::write(&plain, b"hello world").unwrap();
    let key = "MDAwMTAyMDMwNDA1MDYwNzA4MDkwYTBiMGMwZDBlMGY=";
    let r = run(
        cmd(
            &sim,
            dir.path(),
            &[
                "encrypt",
                "--key",
                key,
                "--in",
                &plain.to_string_lossy(),
                "--out",
                &enc.to_string_lossy(),
            ],
        ),
        "",
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let hex: String = std::fs::read(&enc)
        .unwrap()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(hex, "9276fdf384f38518fa6c8310f191678d");
    let r = run(
        cmd(
            &sim,
            dir.path(),
            &[
                "decrypt",
                "--key",
                "000102030405060708090a0b0c0d0e0f",
                "--in",
                &enc.to_string_lossy(),
                "--out",
                &back.to_string_lossy(),
            ],
        ),
        "",
    )
    .await;
    assert_eq!(r.code, 0);
    assert_eq!(std::fs::read(&back).unwrap(), b"hello world");
    // A wrong key fails and leaves no output behind.
    let wrong = dir.path().join("w");
    let r = run(
        cmd(
            &sim,
            dir.path(),
            &[
                "decrypt",
                "--key",
                "ffffffffffffffffffffffffffffffff",
                "--in",
                &enc.to_string_lossy(),
                "--out",
                &wrong.to_string_lossy(),
            ],
        ),
        "",
    )
    .await;
    assert_eq!(r.code, 1);
    assert!(!wrong.exists());
}

#[tokio::test]
async fn the_demo_exits_0_with_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Command::new(BIN);
    c.args(["--json", "demo"])
        .env("TMPDIR", dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let output = tokio::time::timeout(Duration::from_secs(60), c.output())
        .await
        .unwrap()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: Value = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|l| l["event"] == "summary")
        .expect("a summary line");
    assert_eq!(summary["messages_in"], 5);
    assert_eq!(summary["violations"], 0);
    assert_eq!(summary["md5_ok"], summary["md5_checked"]);
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// A sender's escape sequences reach the operator's terminal as visible
/// text, never obeyed; `--json` keeps the exact text.
#[tokio::test]
async fn escape_sequences_from_a_sender_are_shown_not_obeyed() {
    let sim = sim().await;
    let bot = sim.create_account();
    let dir = tempfile::tempdir().unwrap();
    let hostile = "hi\u{1b}]52;c;ZXZpbA==\u{7}\u{1b}[2J\nbob@im.wechat: forged";
    for json in [false, true] {
        sim.push(&bot.bot_id, Inbound::text("mallory@im.wechat", hostile));
        let mut args = vec!["listen", "--count", "1", "--timeout", "20", "--token"];
        args.push(&bot.token);
        if json {
            args.insert(0, "--json");
        }
        let state = dir.path().join(if json { "json" } else { "human" });
        let r = run(cmd(&sim, &state, &args), "").await;
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(
            !r.stdout.contains('\u{1b}'),
            "raw ESC on stdout: {:?}",
            r.stdout
        );
        assert!(
            !r.stdout.contains('\u{7}'),
            "raw BEL on stdout: {:?}",
            r.stdout
        );
        if json {
            let text = r
                .json_lines()
                .into_iter()
                .find(|l| l["event"] == "message")
                .map(|l| l["message"]["item_list"][0]["text_item"]["text"].clone())
                .unwrap();
            assert_eq!(text, hostile);
        } else {
            assert!(r.stdout.contains("\\u{1b}[2J"), "{:?}", r.stdout);
            assert!(
                !r.stdout.lines().any(|l| l.starts_with("bob@im.wechat")),
                "a forged line: {:?}",
                r.stdout
            );
        }
    }
}

/// A key need not be on the command line, where `ps` shows it: a file,
/// standard input or `ILINK_AES_KEY` work the same.
#[tokio::test]
async fn keys_come_from_a_file_stdin_or_the_environment() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("p");
    let enc = dir.path().join("e");
    std::fs::write(&plain, b"hello world").unwrap();
    let key = "000102030405060708090a0b0c0d0e0f";
    let key_file = dir.path().join("key.txt");
    std::fs::write(&key_file, format!("{key}\n")).unwrap();
    let (p, e) = (plain.to_string_lossy(), enc.to_string_lossy());
    let r = run(
        cmd(
            &sim,
            dir.path(),
            &[
                "encrypt",
                "--key-file",
                &key_file.to_string_lossy(),
                "--in",
                &p,
                "--out",
                &e,
            ],
        ),
        "",
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stdout.contains(key), "the key was printed: {}", r.stdout);
    for (i, how) in ["stdin", "env", "file"].into_iter().enumerate() {
        let back = dir.path().join(format!("b{i}"));
        let b = back.to_string_lossy();
        let mut args = vec!["decrypt", "--in", &*e, "--out", &*b];
        let key_path = key_file.to_string_lossy();
        let mut c = match how {
            "stdin" => {
                args.push("--key-stdin");
                cmd(&sim, dir.path(), &args)
            }
            "env" => {
                let mut c = cmd(&sim, dir.path(), &args);
                c.env("ILINK_AES_KEY", key);
                c
            }
            _ => {
                args.extend(["--key-file", &*key_path]);
                cmd(&sim, dir.path(), &args)
            }
        };
        let stdin = if how == "stdin" {
            format!("{key}\n")
        } else {
            String::new()
        };
        c.stdin(Stdio::piped());
        let r = run(c, &stdin).await;
        assert_eq!(r.code, 0, "{how}: {}", r.stderr);
        assert_eq!(std::fs::read(&back).unwrap(), b"hello world", "{how}");
    }
    // Two sources at once is a usage error; none, for decrypt, an error.
    let r = run(
        cmd(
            &sim,
            dir.path(),
            &[
                "decrypt",
                "--key",
                key,
                "--key-stdin",
                "--in",
                &e,
                "--out",
                "x",
            ],
        ),
        "",
    )
    .await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    let r = run(
        cmd(&sim, dir.path(), &["decrypt", "--in", &e, "--out", "x"]),
        "",
    )
    .await;
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("--key-file"), "{}", r.stderr);
}

// ---- issue 18: no destroyed files, exit codes and JSON a script can trust

const KEY: &str = "MDAwMTAyMDMwNDA1MDYwNzA4MDkwYTBiMGMwZDBlMGY=";

fn arg(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

#[tokio::test]
async fn no_command_destroys_or_reuses_a_file() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let d = dir.path();
    let plain = d.join("same.bin");
    std::fs::write(&plain, vec![7u8; 100_000]).unwrap();

    // encrypt onto its own input: refused before any work, input intact.
    let r = run(
        cmd(
            &sim,
            &state,
            &[
                "encrypt",
                "--key",
                KEY,
                "--in",
                &arg(&plain),
                "--out",
                &arg(&plain),
            ],
        ),
        "",
    )
    .await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("is the input"), "{}", r.stderr);
    assert_eq!(std::fs::read(&plain).unwrap().len(), 100_000);

    // decrypt --in data.partial --out data.bin keeps its input.
    let enc = d.join("data.partial");
    let r = run(
        cmd(
            &sim,
            &state,
            &[
                "encrypt",
                "--key",
                KEY,
                "--in",
                &arg(&plain),
                "--out",
                &arg(&enc),
            ],
        ),
        "",
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out = d.join("data.bin");
    let r = run(
        cmd(
            &sim,
            &state,
            &[
                "decrypt",
                "--key",
                KEY,
                "--in",
                &arg(&enc),
                "--out",
                &arg(&out),
            ],
        ),
        "",
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(enc.exists(), "the input survives");
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&plain).unwrap());

    // An existing output needs --force; with it, it is replaced.
    let r = run(
        cmd(
            &sim,
            &state,
            &[
                "decrypt",
                "--key",
                KEY,
                "--in",
                &arg(&enc),
                "--out",
                &arg(&plain),
            ],
        ),
        "",
    )
    .await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--force"), "{}", r.stderr);
    let r = run(
        cmd(
            &sim,
            &state,
            &[
                "decrypt",
                "--key",
                KEY,
                "--in",
                &arg(&enc),
                "--out",
                &arg(&out),
                "--force",
            ],
        ),
        "",
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);

    // A wrong key leaves nothing behind and the old output as it was.
    let wrong = "ZmZlZWRkY2NiYmFhOTk4ODc3NjY1NTQ0MzMyMjExMDA=";
    let r = run(
        cmd(
            &sim,
            &state,
            &[
                "decrypt",
                "--key",
                wrong,
                "--in",
                &arg(&enc),
                "--out",
                &arg(&out),
                "--force",
            ],
        ),
        "",
    )
    .await;
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&plain).unwrap());

    // download: an unrelated keep.partial is left alone; a directory as the
    // output is refused before anything is fetched.
    let keep = d.join("keep.bin");
    std::fs::write(d.join("keep.partial"), b"unrelated").unwrap();
    let bot = sim.create_account();
    let pushed = sim.push(
        &bot.bot_id,
        Inbound::file("u@im.wechat", "f.txt", b"payload".to_vec()),
    );
    let _ = pushed;
    let r = run(
        cmd(
            &sim,
            &state,
            &[
                "download",
                "--param",
                "nonexistent",
                "--key",
                KEY,
                "--out",
                &arg(d),
            ],
        ),
        "",
    )
    .await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("directory"), "{}", r.stderr);
    assert_eq!(sim.count(Route::CdnDownload), 0, "nothing fetched");
    let r = run(
        cmd(
            &sim,
            &state,
            &[
                "download",
                "--param",
                "nonexistent",
                "--key",
                KEY,
                "--out",
                &arg(&keep),
            ],
        ),
        "",
    )
    .await;
    assert_ne!(r.code, 0);
    assert_eq!(std::fs::read(d.join("keep.partial")).unwrap(), b"unrelated");
    assert!(!keep.exists());
    let leftovers: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.') && n.ends_with(".partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[tokio::test]
async fn listen_download_acknowledges_only_saved_media() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let account = login(&sim, &state).await;
    let photo = b"\xff\xd8\xff quoted photo".to_vec();
    sim.push(
        &account,
        Inbound::text("alice@im.wechat", "what is this?").quote(
            ilink_testkit::Quote::of(5)
                .with_media(Inbound::image("alice@im.wechat", photo.clone()).content),
        ),
    );
    // The download "directory" is a file: nothing can be saved.
    let blocked = dir.path().join("blocked");
    std::fs::write(&blocked, b"a file").unwrap();
    let r = run(
        cmd(
            &sim,
            &state,
            &[
                "--json",
                "listen",
                "--count",
                "1",
                "--timeout",
                "20",
                "--download",
                &arg(&blocked),
            ],
        ),
        "",
    )
    .await;
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let lines = r.json_lines();
    let failed = lines
        .iter()
        .find(|l| l["event"] == "save_failed")
        .expect("save_failed");
    assert!(
        !failed["reason"].as_str().unwrap_or_default().is_empty(),
        "{failed}"
    );
    let error = lines
        .iter()
        .find(|l| l.get("error").is_some())
        .expect("a JSON error");
    assert_eq!(error["exit_code"], 1);
    assert!(
        error["message"].as_str().unwrap().contains("stays pending"),
        "{error}"
    );

    // The message was not acknowledged: the next listen offers it again,
    // and saves the quoted photo.
    let media = dir.path().join("media");
    let r = run(
        cmd(
            &sim,
            &state,
            &[
                "--json",
                "listen",
                "--count",
                "1",
                "--timeout",
                "20",
                "--download",
                &arg(&media),
            ],
        ),
        "",
    )
    .await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let lines = r.json_lines();
    let saved = lines.iter().find(|l| l["event"] == "saved").expect("saved");
    assert_eq!(saved["quoted"], true);
    assert_eq!(
        std::fs::read(saved["path"].as_str().unwrap()).unwrap(),
        photo
    );
}

#[tokio::test]
async fn exit_codes_and_messages_tell_the_truth() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");

    // A made-up token: "rejected", exit 3, and nothing written anywhere.
    for args in [
        &["typing", "--to", "a@im.wechat"][..],
        &["send", "--to", "a@im.wechat", "--text", "x", "--force"][..],
        &["listen", "--count", "1", "--timeout", "20"][..],
    ] {
        let mut c = cmd(&sim, &state, args);
        c.env("ILINK_TOKEN", "made-up@im.bot:0123456789abcdef");
        let r = run(c, "").await;
        assert_eq!(r.code, 3, "{args:?}: {}", r.stderr);
        let line = r
            .stderr
            .lines()
            .find(|l| l.starts_with("error:"))
            .unwrap_or_default();
        assert!(
            line.contains("token") && line.contains("rejected"),
            "{args:?}: {}",
            r.stderr
        );
        assert!(!line.contains("session expired"), "{}", r.stderr);
    }
    assert!(!state.exists(), "no state for an ad hoc token");

    let account = login(&sim, &state).await;
    let sends_before = sim.count(Route::SendMessage);
    // Nobody wrote yet: refused (4) unless --force; an empty --to is usage (2).
    let r = run(
        cmd(
            &sim,
            &state,
            &["send", "--to", "bob@im.wechat", "--text", "hi"],
        ),
        "",
    )
    .await;
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(r.stderr.contains("no context token"), "{}", r.stderr);
    assert_eq!(
        sim.count(Route::SendMessage),
        sends_before,
        "refused before the server"
    );
    let r = run(cmd(&sim, &state, &["send", "--to", "", "--text", "hi"]), "").await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    let r = run(
        cmd(
            &sim,
            &state,
            &[
                "send",
                "--to",
                "bob@im.wechat",
                "--text",
                "a",
                "--caption",
                "c",
            ],
        ),
        "",
    )
    .await;
    assert_eq!(r.code, 2, "a caption needs a file: {}", r.stderr);

    // --json errors are JSON on stdout, with a stable kind; no colour.
    let r = run(
        cmd(
            &sim,
            &state,
            &["--json", "send", "--to", "bob@im.wechat", "--text", "hi"],
        ),
        "",
    )
    .await;
    assert_eq!(r.code, 4);
    let error = &r.json_lines()[0];
    assert_eq!(error["error"], "refused");
    assert_eq!(error["exit_code"], 4);
    assert!(
        !r.stderr.contains('\u{1b}'),
        "no ANSI codes: {:?}",
        r.stderr
    );

    // A server nobody answers at: listen gives up with 5. (A token given
    // on the command line goes there; a stored login's token goes only to
    // the host it was logged in at, and is refused for another.)
    let mut c = cmd(
        &sim,
        &state,
        &[
            "--json",
            "listen",
            "--token",
            "tok-nowhere",
            "--max-failures",
            "1",
        ],
    );
    c.env("ILINK_BASE_URL", "http://127.0.0.1:1");
    let r = run(c, "").await;
    assert_eq!(r.code, 5, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.json_lines().last().unwrap()["error"], "unreachable");

    // An unknown item prints without Rust Debug text.
    sim.push(
        &account,
        Inbound::unknown_item(
            "alice@im.wechat",
            99,
            "future_item",
            serde_json::json!({"x": 1}),
        ),
    );
    let r = run(
        cmd(&sim, &state, &["listen", "--count", "1", "--timeout", "20"]),
        "",
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("unknown type 99"), "{}", r.stdout);
    assert!(!r.stdout.contains("Unknown("), "{}", r.stdout);

    // users lists alice, who wrote; the help has the exit-code table.
    let r = run(cmd(&sim, &state, &["--json", "users"]), "").await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let users = r.json_lines();
    assert_eq!(users[0]["user"], "alice@im.wechat");
    assert_eq!(users[0]["replies_left"], 10);
    let r = run(cmd(&sim, &state, &["--help"]), "").await;
    assert!(r.stdout.contains("Exit codes") && r.stdout.contains("5  server unreachable"));

    // An empty ILINK_STATE_DIR is "not set", not a clap error; logout
    // takes --account.
    let mut c = cmd(&sim, &state, &["--help"]);
    c.env("ILINK_STATE_DIR", "");
    assert_eq!(run(c, "").await.code, 0);
    let r = run(cmd(&sim, &state, &["logout", "--account", &account]), "").await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(cmd(&sim, &state, &["--json", "accounts"]), "").await;
    assert_eq!(r.json_lines()[0]["count"], 0);
}

#[tokio::test]
async fn voice_notes_are_saved_as_wav_and_decoded_by_hand() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let account = login(&sim, &state).await;
    sim.push(
        &account,
        Inbound::voice_tone("carol@im.wechat", 440.0, Duration::from_millis(1_000)),
    );
    let media = dir.path().join("media");
    let r = run(
        cmd(
            &sim,
            &state,
            &[
                "--json",
                "listen",
                "--count",
                "1",
                "--timeout",
                "20",
                "--download",
                &arg(&media),
            ],
        ),
        "",
    )
    .await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let lines = r.json_lines();
    let saved: Vec<&Value> = lines.iter().filter(|l| l["event"] == "saved").collect();
    assert_eq!(saved.len(), 2, "{saved:?}");
    let wav = saved.iter().find(|l| l["format"] == "wav").expect("a wav");
    assert!((i64::try_from(wav["duration_ms"].as_u64().unwrap()).unwrap() - 1_000).abs() <= 20);
    let wav_path = Path::new(wav["path"].as_str().unwrap());
    let bytes = std::fs::read(wav_path).unwrap();
    assert_eq!(&bytes[..4], b"RIFF");
    assert_eq!(&bytes[8..12], b"WAVE");
    let silk = saved.iter().find(|l| l["format"] != "wav").unwrap();
    let silk_path = Path::new(silk["path"].as_str().unwrap()).to_owned();

    // ilink voice decode IN OUT, by hand: the same audio; never over a file.
    let by_hand = dir.path().join("by-hand.wav");
    let r = run(
        cmd(
            &sim,
            &state,
            &[
                "--json",
                "voice",
                "decode",
                &arg(&silk_path),
                &arg(&by_hand),
            ],
        ),
        "",
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json_lines()[0]["sample_rate"], 24_000);
    assert_eq!(std::fs::read(&by_hand).unwrap(), bytes);
    let r = run(
        cmd(
            &sim,
            &state,
            &["voice", "decode", &arg(&silk_path), &arg(&by_hand)],
        ),
        "",
    )
    .await;
    assert_eq!(r.code, 2, "exists: {}", r.stderr);
    // Not SILK: a typed failure, nothing written.
    let junk = dir.path().join("junk.silk");
    std::fs::write(&junk, b"not audio").unwrap();
    let r = run(cmd(&sim, &state, &["voice", "decode", &arg(&junk)]), "").await;
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("not SILK"), "{}", r.stderr);
    assert!(!dir.path().join("junk.wav").exists());
}

#[tokio::test]
async fn the_command_keeps_its_state_in_postgresql_when_told() {
    let Some(url) = std::env::var("ILINK_TEST_PG_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        assert!(
            std::env::var_os("ILINK_TEST_PG_REQUIRED").is_none(),
            "ILINK_TEST_PG_REQUIRED is set but ILINK_TEST_PG_URL is not"
        );
        eprintln!("SKIP the CLI on PostgreSQL: ILINK_TEST_PG_URL is not set");
        return;
    };
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    // The state directory is never used: nothing may appear in it.
    let state = dir.path().join("state");
    let schema = format!("cli_{}", std::process::id());
    let pg = |args: &[&str]| {
        let mut c = cmd(&sim, &state, args);
        c.env("ILINK_DATABASE_URL", &url)
            .env("ILINK_DATABASE_SCHEMA", &schema);
        c
    };
    sim.script_login(QrScript::new(vec![
        QrStep::Scanned,
        QrStep::Confirm {
            target: LoginTarget::NewBot,
        },
    ]));
    let r = run(pg(&["--json", "login", "--no-qr"]), "").await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let account = r
        .json_lines()
        .iter()
        .find(|l| l["event"] == "logged_in")
        .expect("logged in")["account"]
        .as_str()
        .unwrap()
        .to_owned();
    sim.push(&account, Inbound::text("alice@im.wechat", "hello"));
    let r = run(
        pg(&["--json", "listen", "--count", "1", "--timeout", "20"]),
        "",
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(
        pg(&["--json", "send", "--to", "alice@im.wechat", "--text", "hi"]),
        "",
    )
    .await;
    assert_eq!(
        r.code, 0,
        "the context token came from PostgreSQL: {}",
        r.stderr
    );
    let r = run(pg(&["--json", "users"]), "").await;
    assert_eq!(r.json_lines()[0]["replies_left"], 9);
    let r = run(pg(&["--json", "accounts"]), "").await;
    assert_eq!(r.json_lines()[0]["account"], account.as_str());
    assert!(!state.exists(), "nothing written to the state directory");
    // The URL (which may hold a password) is never printed, even failing.
    let mut c = cmd(&sim, &state, &["accounts"]);
    c.env(
        "ILINK_DATABASE_URL",
        "postgres://me:s3cret-pw@127.0.0.1:1/db",
    );
    let r = run(c, "").await;
    assert_ne!(r.code, 0);
    assert!(
        !r.stderr.contains("s3cret-pw") && !r.stdout.contains("s3cret-pw"),
        "{}",
        r.stderr
    );
}

/// A voice note with the SILK header and a body that is not SILK: saved as
/// it came, reported as `decode_failed`, acknowledged; the next message is
/// handled in the same run, and a second `listen` does not see the note
/// again (one bad note never stops the bot).
#[tokio::test]
async fn a_voice_note_that_does_not_decode_never_wedges_listen() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let account = login(&sim, &state).await;
    let mut corrupt = b"\x02#!SILK_V3".to_vec();
    // A packet of length -8361 (0xdf57 little-endian), then junk.
    corrupt.extend_from_slice(&[0x57, 0xdf]);
    corrupt.extend_from_slice(&[0x5a; 300]);
    sim.push(
        &account,
        Inbound::voice("mallory@im.wechat", corrupt.clone(), None),
    );
    sim.push(
        &account,
        Inbound::text("carol@im.wechat", "after the bad note"),
    );
    let media = dir.path().join("media");
    let listen = |count: &'static str| {
        cmd(
            &sim,
            &state,
            &[
                "--json",
                "listen",
                "--count",
                count,
                "--timeout",
                "20",
                "--download",
                &arg(&media),
            ],
        )
    };
    let r = run(listen("2"), "").await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let lines = r.json_lines();
    let failed: Vec<&Value> = lines
        .iter()
        .filter(|l| l["event"] == "decode_failed")
        .collect();
    assert_eq!(failed.len(), 1, "{lines:?}");
    assert!(!failed[0]["reason"].as_str().unwrap().is_empty());
    let kept = Path::new(failed[0]["path"].as_str().unwrap());
    assert_eq!(
        std::fs::read(kept).unwrap(),
        corrupt,
        "the note is kept as it came"
    );
    assert!(
        lines.iter().any(|l| l["text"] == "after the bad note"),
        "{lines:?}"
    );
    // Acknowledged: a new message is the first the next run sees.
    sim.push(&account, Inbound::text("carol@im.wechat", "next run"));
    let r = run(listen("1"), "").await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let lines = r.json_lines();
    assert!(
        lines.iter().all(|l| l["event"] != "decode_failed"),
        "{lines:?}"
    );
    assert!(lines.iter().any(|l| l["text"] == "next run"), "{lines:?}");
}

#[tokio::test]
async fn completions_are_scripts_their_shells_accept() {
    let script = |shell: &'static str| async move {
        let out = Command::new(BIN)
            .args(["completions", shell])
            .env_remove("ILINK_STATE_DIR")
            .output()
            .await
            .unwrap();
        assert!(out.status.success(), "{shell}: {:?}", out.status);
        String::from_utf8(out.stdout).unwrap()
    };
    let bash = script("bash").await;
    // Every command is offered.
    for sub in ["login", "listen", "send", "simulate", "completions"] {
        assert!(bash.contains(sub), "bash completion lacks {sub}");
    }
    // bash parses it without running it.
    let mut check = Command::new("bash")
        .arg("-n")
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    check
        .stdin
        .take()
        .unwrap()
        .write_all(bash.as_bytes())
        .await
        .unwrap();
    assert!(check.wait().await.unwrap().success(), "bash -n refused it");
    assert!(script("zsh").await.starts_with("#compdef ilink"));
    assert!(script("fish").await.contains("complete -c ilink"));
    for shell in ["powershell", "elvish"] {
        assert!(!script(shell).await.is_empty());
    }
    let unknown = Command::new(BIN)
        .args(["completions", "tcsh"])
        .output()
        .await
        .unwrap();
    assert_eq!(
        unknown.status.code(),
        Some(2),
        "an unknown shell is a usage error"
    );
}

/// `ilink listen` started in the background, once the simulator has its
/// first poll.
async fn polling_listener(sim: &Simulator, state: &Path) -> tokio::process::Child {
    let listener = cmd(sim, state, &["listen", "--timeout", "120"])
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while sim.count(Route::GetUpdates) == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the listener never polled"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    listener
}

/// `/proc/<pid>/stat`'s state letter.
#[cfg(target_os = "linux")]
fn process_state(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().next().map(str::to_owned)
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_listener_killed_and_not_yet_reaped_gives_its_account_back_at_once() {
    // Replaying: a batch answered to the killed process's last poll (its
    // connection not yet seen closed) comes again for the stored cursor.
    let sim = Simulator::builder()
        .hold(Duration::from_millis(300))
        .replay_on_old_cursor(true)
        .start()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let account = login(&sim, &state).await;
    // It holds the account's lease once it polls.
    let mut first = polling_listener(&sim, &state).await;
    let pid = first.id().unwrap();
    // SIGKILL, and no wait: the process stays a zombie until reaped.
    first.start_kill().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while process_state(pid).as_deref() != Some("Z") {
        assert!(
            std::time::Instant::now() < deadline,
            "never a zombie: {:?}",
            process_state(pid)
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // A restart at once takes the account back (its lease has 90 s left)
    // and gets what arrives.
    sim.push(&account, Inbound::text("alice@im.wechat", "after the kill"));
    let r = run(
        cmd(&sim, &state, &["listen", "--count", "1", "--timeout", "20"]),
        "",
    )
    .await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("after the kill"), "{}", r.stdout);
    assert_eq!(process_state(pid).as_deref(), Some("Z"), "still unreaped");
    first.wait().await.unwrap();
}

#[cfg(unix)]
#[tokio::test]
async fn sigterm_stops_a_listener_gracefully() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    login(&sim, &state).await;
    let mut listener = polling_listener(&sim, &state).await;
    let pid = listener.id().unwrap().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(10), listener.wait())
        .await
        .expect("the listener stops on SIGTERM")
        .unwrap();
    assert!(status.success(), "{status:?}");
    // A graceful stop: notifystop sent, as on Ctrl-C.
    assert!(
        sim.notify_calls().iter().any(|n| !n.start),
        "{:?}",
        sim.notify_calls()
    );
}
