//! The whole demo flow with trace-level logging: no bot token, QR code,
//! context token, typing ticket or AES key (in any of its forms) appears in
//! the logs or in any `Debug` print, login events, a decode error and a
//! failed login included.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use ilink::Retry;
use ilink::crypto::{KeyFormat, MediaKey};
use ilink::http::Transport;
use ilink::pacing::Pacing;
use ilink::proto::ItemContent;
use ilink::{
    Client, Context, LoginOutcome, MediaKind, MediaSource, Message, SqliteStore, handler_fn,
};
use ilink_testkit::{Inbound, KeyForm, Route, Simulator};
use tokio::sync::Notify;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture() -> Captured {
    static CAPTURED: OnceLock<Captured> = OnceLock::new();
    CAPTURED
        .get_or_init(|| {
            let sink = Captured::default();
            let writer = sink.clone();
            tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_ansi(false)
                .with_writer(move || writer.clone())
                .init();
            sink
        })
        .clone()
}

/// Every textual form a key can take on the wire.
fn key_forms(text: &str) -> Vec<String> {
    match MediaKey::parse(text) {
        Ok((key, _)) => vec![
            key.encode(KeyFormat::Hex),
            key.encode(KeyFormat::Base64Raw),
            key.encode(KeyFormat::Base64Hex),
            text.to_owned(),
        ],
        Err(_) => vec![text.to_owned()],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_logs_or_debug_output() {
    let logs = capture();
    let debug = Arc::new(Mutex::new(String::new()));
    let sim = Simulator::builder()
        .hold(Duration::from_millis(300))
        .start()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let client = Client::builder()
        .transport(
            Transport::builder()
                .api_base_url(sim.api_url())
                .cdn_base_url(sim.cdn_url()),
        )
        .store(SqliteStore::open(dir.path()).unwrap())
        .poll_retry(Retry::new(
            Duration::from_millis(20),
            Duration::from_millis(100),
        ))
        .qr_poll_interval(Duration::from_millis(5))
        .pacing(Pacing::unlimited())
        .build()
        .unwrap();
    let events = debug.clone();
    let LoginOutcome::LoggedIn {
        bot: client,
        credentials,
    } = client
        .login()
        .on_event(move |e| events.lock().unwrap().push_str(&format!("{e:?}\n")))
        .await
        .unwrap()
    else {
        panic!("login");
    };
    debug.lock().unwrap().push_str(&format!(
        "{client:?}\n{credentials:?}\n{:?}\n",
        client.health()
    ));
    let bot = credentials.account_id.to_string();
    let pushes = [
        sim.push(&bot, Inbound::text("alice@im.wechat", "hello")),
        sim.push(
            &bot,
            Inbound::image("bob@im.wechat", vec![1; 5000]).key(KeyForm::Base64Raw),
        ),
        sim.push(
            &bot,
            Inbound::image("bob@im.wechat", vec![2; 700]).key(KeyForm::HexAndBase64Hex),
        ),
        sim.push(
            &bot,
            Inbound::voice("carol@im.wechat", vec![3; 900], Some("hi")),
        ),
        sim.push(
            &bot,
            Inbound::file("dave@im.wechat", "r.pdf", vec![4; 3000]),
        ),
    ];
    let inbound_keys = Arc::new(Mutex::new(Vec::<String>::new()));
    let done = Arc::new(Notify::new());
    let handled = Arc::new(Mutex::new(0usize));
    let handler = {
        let keys = inbound_keys.clone();
        let debug = debug.clone();
        let done = done.clone();
        let handled = handled.clone();
        handler_fn(move |ctx: Context, msg: Message| {
            let keys = keys.clone();
            let debug = debug.clone();
            let done = done.clone();
            let handled = handled.clone();
            async move {
                debug
                    .lock()
                    .unwrap()
                    .push_str(&format!("{ctx:?}\n{msg:?}\n"));
                let typing = ctx.typing().await;
                debug.lock().unwrap().push_str(&format!("{typing:?}\n"));
                for item in msg.items() {
                    if let ItemContent::Image(i) = item.content()
                        && let Some(k) = &i.aeskey
                    {
                        keys.lock().unwrap().push(k.expose().to_owned());
                    }
                    if let Some(k) = item.media().and_then(|m| m.aes_key.as_ref()) {
                        keys.lock().unwrap().push(k.expose().to_owned());
                    }
                    if item.media().is_some() {
                        let bytes = ctx.download(item).bytes().await?;
                        ctx.send_media(MediaSource::bytes(bytes))
                            .kind(MediaKind::File)
                            .file_name("back.bin")
                            .await?;
                    }
                }
                let sent = ctx.reply("x".repeat(2500)).await?;
                debug.lock().unwrap().push_str(&format!("{sent:?}\n"));
                typing.finish().await;
                // A failure's Debug and Display too.
                let err = ctx.bot().client().bot("nobody@im.bot").await.unwrap_err();
                debug.lock().unwrap().push_str(&format!("{err:?} {err}\n"));
                let mut n = handled.lock().unwrap();
                *n += 1;
                if *n == 5 {
                    done.notify_one();
                }
                Ok(())
            }
        })
    };
    // Every public handle and builder, printed before use.
    debug.lock().unwrap().push_str(&format!(
        "{:?}\n{:?}\n{:?}\n{:?}\n",
        client.client(),
        client.runner(),
        client.client().login(),
        client.send_text("alice@im.wechat", "unsent"),
    ));
    // A poll that fails, so that the run reports a backoff with its error.
    sim.inject(ilink_testkit::Fault::new(
        Route::GetUpdates,
        ilink_testkit::FaultKind::MalformedJson,
        1,
    ));
    let events = debug.clone();
    let cursor = client
        .runner()
        .on_event(move |e| events.lock().unwrap().push_str(&format!("{e:?}\n")))
        .run_until(handler, done.notified())
        .await
        .unwrap();
    let poller = client.poller().await.unwrap();
    debug.lock().unwrap().push_str(&format!(
        "{cursor:?}\n{poller:?}\n{:?}\n{:?}\n",
        client.health(),
        client.client().all_health()
    ));
    drop(poller);
    assert!(
        debug.lock().unwrap().contains("Backoff"),
        "the run's events were printed"
    );
    // An answer that does not decode.
    sim.inject(ilink_testkit::Fault::new(
        Route::SendMessage,
        ilink_testkit::FaultKind::MalformedJson,
        1,
    ));
    let err = client
        .send_text("alice@im.wechat", "into a broken answer")
        .await
        .unwrap_err();
    assert!(matches!(err, ilink::Error::Decode(_)), "{err:?}");
    assert!(err.body().is_some(), "the body stays available by accessor");
    debug.lock().unwrap().push_str(&format!("{err:?} {err}\n"));
    sim.expire_session(&bot);
    let err = client
        .send_text("alice@im.wechat", "after expiry")
        .await
        .unwrap_err();
    debug.lock().unwrap().push_str(&format!("{err:?} {err}\n"));
    // A login that fails: the server names a clear-text host off loopback.
    let hostile = Simulator::builder()
        .confirmed_base_url("http://bot.invalid:8080")
        .start()
        .await
        .unwrap();
    let events = debug.clone();
    let err = Client::builder()
        .transport(
            Transport::builder()
                .api_base_url(hostile.api_url())
                .cdn_base_url(hostile.cdn_url()),
        )
        .qr_poll_interval(Duration::from_millis(5))
        .build()
        .unwrap()
        .login()
        .on_event(move |e| events.lock().unwrap().push_str(&format!("{e:?}\n")))
        .await
        .unwrap_err();
    debug.lock().unwrap().push_str(&format!("{err:?} {err}\n"));

    let mut secrets: Vec<String> = vec![credentials.bot_token.expose().to_owned()];
    // The QR codes: whoever has one can poll for the token.
    for r in sim
        .requests_to(Route::GetQrcodeStatus)
        .into_iter()
        .chain(hostile.requests_to(Route::GetQrcodeStatus))
    {
        if let Some((_, q)) = r.query.iter().find(|(k, _)| k == "qrcode") {
            secrets.push(q.clone());
        }
    }
    let qr_codes = secrets.len() - 1;
    assert!(
        qr_codes >= 2,
        "both logins' QR codes are looked for: {qr_codes}"
    );
    secrets.extend(pushes.iter().map(|p| p.context_token.clone()));
    for k in inbound_keys.lock().unwrap().iter() {
        secrets.extend(key_forms(k));
    }
    for r in sim.requests_to(Route::GetUploadUrl) {
        if let Some(k) = r.body.as_ref().and_then(|b| b["aeskey"].as_str()) {
            secrets.extend(key_forms(k));
        }
    }
    for r in sim.requests_to(Route::SendTyping) {
        if let Some(t) = r.body.as_ref().and_then(|b| b["typing_ticket"].as_str()) {
            secrets.push(t.to_owned());
        }
    }
    assert!(
        secrets.len() > 20,
        "the flow produced secrets to look for: {}",
        secrets.len()
    );
    assert!(sim.count(Route::GetUploadUrl) >= 4);
    let logged = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    assert!(logged.contains("TRACE"), "trace logging was captured");
    assert!(
        logged.len() > 10_000,
        "the flow logged: {} bytes",
        logged.len()
    );
    // Bodies were logged, with their secrets replaced.
    assert!(
        logged.contains(ilink::http::REDACTED),
        "redacted bodies are in the trace log"
    );
    assert!(
        logged.contains("sendmessage"),
        "request spans are in the trace log"
    );
    let printed = debug.lock().unwrap().clone();
    for secret in &secrets {
        assert!(
            !logged.contains(secret.as_str()),
            "a secret ({} chars) appears in the logs",
            secret.len()
        );
        assert!(
            !printed.contains(secret.as_str()),
            "a secret ({} chars) appears in a Debug print",
            secret.len()
        );
    }
}
