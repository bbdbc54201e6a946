//! The JSON control API, driven over HTTP like another process would, and the
//! standalone binary.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Method, Request, StatusCode};
use ilink_crypto::MediaKey;
use ilink_testkit::Simulator;
use serde_json::{Value, json};

use crate::raw::{Answer, Raw, outbound, text_item};

/// A client for the control API.
struct Control(Raw);

impl Control {
    fn of(sim: &Simulator) -> Self {
        Self(Raw::new(sim.control_url().expect("control is enabled")))
    }

    async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> Answer {
        let req = Request::builder()
            .method(method)
            .uri(format!("{}/{path}", self.0.base))
            .header("Content-Type", "application/json")
            .body(Full::new(
                body.map_or_else(Bytes::new, |b| Bytes::from(b.to_string())),
            ))
            .unwrap();
        let answer = self.0.send(req).await.unwrap();
        assert_eq!(
            answer.headers["content-type"], "application/json",
            "{path}: {}",
            answer.text
        );
        answer
    }

    async fn get(&self, path: &str) -> Value {
        let a = self.call(Method::GET, path, None).await;
        assert_eq!(a.status, StatusCode::OK, "GET {path}: {}", a.text);
        a.json()
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let a = self.call(Method::POST, path, Some(&body)).await;
        assert_eq!(a.status, StatusCode::OK, "POST {path}: {}", a.text);
        a.json()
    }

    /// A call that must be refused with `status` and an `error` message.
    async fn refused(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        status: u16,
    ) -> String {
        let a = self.call(method.clone(), path, body.as_ref()).await;
        assert_eq!(a.status.as_u16(), status, "{method} {path}: {}", a.text);
        a.json()["error"].as_str().unwrap_or_default().to_owned()
    }
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[tokio::test]
async fn control_is_off_by_default() {
    let sim = Simulator::start().await.unwrap();
    assert_eq!(sim.control_url(), None);
    assert_eq!(sim.urls().control, None);
}

#[tokio::test]
async fn a_conversation_scripted_over_json() {
    let sim = Simulator::builder()
        .control(true)
        .hold(Duration::from_millis(200))
        .start()
        .await
        .unwrap();
    let ctl = Control::of(&sim);
    let account = ctl.post("accounts", json!({})).await;
    let bot_id = account["bot_id"].as_str().unwrap().to_owned();
    let token = account["token"].as_str().unwrap().to_owned();
    assert!(bot_id.ends_with("@im.bot"));
    assert!(
        account["owner_user_id"]
            .as_str()
            .unwrap()
            .ends_with("@im.wechat")
    );

    // Push a text and an image (bytes in base64), the bot id percent-encoded once.
    let text = ctl
        .post(
            &format!("accounts/{bot_id}/push"),
            json!({"from": "alice@im.wechat", "content": {"type": "text", "text": "ping"}}),
        )
        .await;
    let image: Vec<u8> = (0..5000u32).map(|i| (i % 253) as u8).collect();
    let pushed_image = ctl
        .post(
            &format!("accounts/{}/push", bot_id.replace('@', "%40")),
            json!({"from": "alice@im.wechat",
                   "content": {"type": "image", "bytes": b64(&image), "key": "base64_raw"}}),
        )
        .await;
    let image_md5 = ilink_crypto::md5(&image).to_hex();
    assert_eq!(pushed_image["media_md5"], image_md5);
    assert_eq!(pushed_image["media_size"], 5000);

    // The bot polls with its token and sees both.
    let api = Raw::new(sim.api_url());
    let batch = api
        .post(
            "ilink/bot/getupdates",
            Some(&token),
            json!({"get_updates_buf": ""}),
        )
        .await
        .json();
    let msgs = batch["msgs"].as_array().unwrap();
    assert_eq!(msgs.len(), 2);
    assert_eq!(msgs[0]["item_list"][0]["text_item"]["text"], "ping");
    let ctx = msgs[0]["context_token"].as_str().unwrap();
    assert_eq!(ctx, text["context_token"]);
    assert_eq!(msgs[0]["message_id"], text["message_id"]);

    // It replies with a text, then sends the image back (key re-encoded as
    // base64 of the hex string).
    let reply = outbound("alice@im.wechat", "c-1", Some(ctx), text_item("pong"));
    let ok = api
        .post("ilink/bot/sendmessage", Some(&token), reply)
        .await
        .json();
    assert_eq!(ok["ret"], 0);
    let media = &msgs[1]["item_list"][0]["image_item"]["media"];
    let (key, _) = MediaKey::parse(media["aes_key"].as_str().unwrap()).unwrap();
    let item = json!({"type": 2, "image_item": {"media": {
        "encrypt_query_param": media["encrypt_query_param"], "aes_key": key.to_base64_hex(), "encrypt_type": 1,
    }}});
    let ctx2 = msgs[1]["context_token"].as_str().unwrap();
    let ok = api
        .post(
            "ilink/bot/sendmessage",
            Some(&token),
            outbound("alice@im.wechat", "c-2", Some(ctx2), item),
        )
        .await
        .json();
    assert_eq!(ok["ret"], 0);

    // Read back: the text, and the image with its MD5 (no bytes).
    let sent = ctl.get("wait/sent?n=2&timeout_ms=5000").await;
    assert_eq!(sent, ctl.get("sent").await);
    let sent = sent.as_array().unwrap();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0]["msg"]["item_list"][0]["text_item"]["text"], "pong");
    assert_eq!(sent[0]["in_conversation"], true);
    assert_eq!(sent[0]["rendering_problems"], json!([]));
    let m = &sent[1]["media"][0];
    assert_eq!(m["kind"], "image");
    assert_eq!(m["md5"], image_md5);
    assert_eq!(m["size"], 5000);
    assert_eq!(m["key_format"], "base64_hex");
    assert!(m.get("bytes").is_none());

    // The other records.
    let polls = ctl.get("requests?route=get_updates").await;
    assert_eq!(polls.as_array().unwrap().len(), 1);
    assert_eq!(polls[0]["bot_id"], bot_id.as_str());
    assert_eq!(ctl.get("requests").await.as_array().unwrap().len(), 3);
    assert_eq!(ctl.get("violations").await, json!([]));
    assert_eq!(ctl.get("duplicates").await, json!([]));
    assert_eq!(ctl.get("typing").await, json!([]));
    api.post("ilink/bot/msg/notifystart", Some(&token), json!({}))
        .await;
    assert_eq!(ctl.get("notify").await[0]["start"], true);

    ctl.post("reset-records", json!({})).await;
    assert_eq!(ctl.get("sent").await, json!([]));
    assert_eq!(ctl.get("requests").await, json!([]));

    // Expiry: the token now answers -14.
    ctl.post(&format!("accounts/{bot_id}/expire"), json!({}))
        .await;
    let expired = api
        .post(
            "ilink/bot/getupdates",
            Some(&token),
            json!({"get_updates_buf": ""}),
        )
        .await
        .json();
    assert_eq!(expired["ret"], -14);
}

#[tokio::test]
async fn faults_and_login_scripts_over_json() {
    let sim = Simulator::builder().control(true).start().await.unwrap();
    let ctl = Control::of(&sim);
    let token = ctl.post("accounts", json!({})).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let api = Raw::new(sim.api_url());
    let getconfig = || {
        api.post(
            "ilink/bot/getconfig",
            Some(&token),
            json!({"ilink_user_id": "a@im.wechat"}),
        )
    };

    ctl.post(
        "faults",
        json!({"route": "get_config", "kind": {"kind": "status500"}, "count": 1}),
    )
    .await;
    assert_eq!(getconfig().await.status, 500);
    assert_eq!(getconfig().await.json()["ret"], 0);

    ctl.post(
        "faults",
        json!({"route": "get_config", "kind": {"kind": "throttled"}, "count": 5}),
    )
    .await;
    assert_eq!(getconfig().await.json()["ret"], -2);
    let cleared = ctl.call(Method::DELETE, "faults", None).await;
    assert_eq!(cleared.status, 200);
    assert_eq!(getconfig().await.json()["ret"], 0);

    ctl.post(
        "login-scripts",
        json!({"steps": [{"step": "wait"}, {"step": "expired"}]}),
    )
    .await;
    let qr = api
        .post_exact(
            "ilink/bot/get_bot_qrcode?bot_type=3",
            None,
            &json!({"local_token_list": []}),
        )
        .await
        .unwrap()
        .json();
    let poll = format!(
        "ilink/bot/get_qrcode_status?qrcode={}",
        qr["qrcode"].as_str().unwrap()
    );
    assert_eq!(api.get(&poll).await.json()["status"], "wait");
    assert_eq!(api.get(&poll).await.json()["status"], "expired");
}

#[tokio::test]
async fn waiting_and_refusals() {
    let sim = Simulator::builder().control(true).start().await.unwrap();
    let ctl = Control::of(&sim);

    // Nothing is sent: the wait ends with 408.
    let started = std::time::Instant::now();
    let err = ctl
        .refused(Method::GET, "wait/sent?n=1&timeout_ms=150", None, 408)
        .await;
    assert!(started.elapsed() >= Duration::from_millis(140));
    assert!(err.contains("timed out"), "{err}");

    // A send while waiting ends the wait with 200.
    let bot = sim.create_account();
    let api = Raw::new(sim.api_url());
    let send = async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let body = outbound("a@im.wechat", "w-1", None, text_item("x"));
        api.post("ilink/bot/sendmessage", Some(&bot.token), body)
            .await
    };
    let (waited, _) = tokio::join!(ctl.get("wait/sent?n=1&timeout_ms=5000"), send);
    assert_eq!(waited.as_array().unwrap().len(), 1);

    // Refusals are JSON with a reason; nothing panics on bad input.
    let push = |bot: &str| format!("accounts/{bot}/push");
    let text = json!({"from": "a@im.wechat", "content": {"type": "text", "text": "x"}});
    assert!(
        ctl.refused(Method::POST, &push("nobody@im.bot"), Some(text), 404)
            .await
            .contains("nobody@im.bot")
    );
    let bad_b64 = json!({"from": "a@im.wechat", "content": {"type": "image", "bytes": "%%%"}});
    assert!(
        ctl.refused(Method::POST, &push(&bot.bot_id), Some(bad_b64), 400)
            .await
            .contains("base64")
    );
    ctl.refused(Method::POST, &push(&bot.bot_id), None, 400)
        .await;
    ctl.refused(
        Method::POST,
        &push(&bot.bot_id),
        Some(json!({"from": 1})),
        400,
    )
    .await;
    ctl.refused(Method::POST, "accounts/nobody@im.bot/expire", None, 404)
        .await;
    ctl.refused(
        Method::POST,
        "faults",
        Some(json!({"route": "nowhere", "kind": {"kind": "status500"}, "count": 1})),
        400,
    )
    .await;
    ctl.refused(
        Method::POST,
        "login-scripts",
        Some(json!({"steps": [{"step": "dance"}]})),
        400,
    )
    .await;
    assert!(
        ctl.refused(Method::GET, "requests?route=bogus", None, 400)
            .await
            .contains("get_updates")
    );
    ctl.refused(Method::GET, "wait/sent?n=-1", None, 400).await;
    ctl.refused(
        Method::GET,
        "wait/sent?timeout_ms=18446744073709551615",
        None,
        400,
    )
    .await;
    ctl.refused(Method::GET, "nowhere", None, 404).await;
    ctl.refused(Method::GET, "accounts", None, 405).await;
    ctl.refused(Method::PUT, "faults", None, 405).await;
}

#[cfg(unix)]
#[tokio::test]
async fn the_binary_prints_its_urls_and_serves() {
    use tokio::io::AsyncBufReadExt as _;

    let exe = env!("CARGO_BIN_EXE_ilink-simulator");
    let mut child = tokio::process::Command::new(exe)
        .args(["--hold", "100ms", "--upload-full-url"])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let urls: Value = serde_json::from_str(&line).unwrap();
    let keys: Vec<&str> = urls
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for key in ["api_url", "cdn_url", "redirect_url", "control_url"] {
        assert!(keys.contains(&key), "{line}");
        assert!(
            urls[key].as_str().unwrap().starts_with("http://127.0.0.1:"),
            "{line}"
        );
    }
    let ctl = Raw::new(urls["control_url"].as_str().unwrap());
    let req = Request::builder()
        .method(Method::POST)
        .uri(format!("{}/accounts", ctl.base))
        .body(Full::new(Bytes::new()))
        .unwrap();
    let account = ctl.send(req).await.unwrap().json();
    let api = Raw::new(urls["api_url"].as_str().unwrap());
    let token = account["token"].as_str().unwrap();
    let started = std::time::Instant::now();
    let poll = api
        .post(
            "ilink/bot/getupdates",
            Some(token),
            json!({"get_updates_buf": ""}),
        )
        .await
        .json();
    assert_eq!(poll["longpolling_timeout_ms"], 100);
    assert!(started.elapsed() < Duration::from_secs(5));

    // SIGTERM stops it cleanly.
    let pid = child.id().unwrap().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status:?}");

    let usage = tokio::process::Command::new(exe)
        .arg("--no-such-flag")
        .output()
        .await
        .unwrap();
    assert_eq!(usage.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&usage.stderr);
    assert!(stderr.contains("Usage: ilink-simulator"), "{stderr}");
    // A duration without its unit is refused, not guessed.
    let unitless = tokio::process::Command::new(exe)
        .args(["--hold", "100"])
        .output()
        .await
        .unwrap();
    assert_eq!(unitless.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&unitless.stderr);
    assert!(stderr.contains("needs a unit"), "{stderr}");
}
