//! The real transport against the real simulator (`ilink-testkit`) over
//! loopback: QR login, every endpoint, long-polls, injected faults and CDN
//! transfers. The simulator checks headers and `base_info` strictly (a
//! violation is answered with HTTP 400 and recorded), so every test ends by
//! asserting that it recorded none.

use std::io;
use std::pin::Pin;
use std::sync::LazyLock;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use ilink_crypto::{FileKey, KeyFormat, Md5, MediaKey};
use ilink_http::{
    Account, CallOptions, DownloadSource, Error, ErrorKind, Transport, TransportBuilder,
    UploadTarget, redirect_base_url,
};
use ilink_proto::{
    AesKeyText, BotToken, ContextToken, GetBotQrcodeRequest, GetConfigRequest,
    GetQrcodeStatusRequest, GetQrcodeStatusResponse, GetUpdatesResponse, GetUploadUrlRequest,
    ItemType, MessageItem, QrStatus, SendMessageRequest, SendTypingRequest, TypingStatus,
    UploadMediaType, UploadedMedia, WeixinMessage,
};
use ilink_testkit::{
    Fault, FaultKind, Host, Inbound, InboundContent, KeyForm, LoginTarget, QrScript, QrStep, Route,
    SentMessage, Simulator, TestAccount,
};
use serde_json::json;
use tokio::io::{AsyncRead, ReadBuf};

/// The WeChat user the bots talk to.
const USER: &str = "alice@im.wechat";

/// How long to wait for the simulator to see something.
const WAIT: Duration = Duration::from_secs(10);

const MIB: u64 = 1024 * 1024;

/// The test transport settings, pointed at the simulator's API and CDN.
fn sim_builder(sim: &Simulator) -> TransportBuilder {
    crate::builder(sim.api_url()).cdn_base_url(sim.cdn_url())
}

fn assert_no_violations(sim: &Simulator) {
    let violations = sim.violations();
    assert!(violations.is_empty(), "{violations:#?}");
}

/// A bot account on `transport` with the simulator's token for it.
fn account_of(transport: &Transport, bot: &TestAccount) -> Account {
    transport.account(BotToken::new(bot.token.as_str()))
}

/// Asserts that the error's Display and Debug do not show the bot's token.
fn assert_no_token_in(err: &Error, bot: &TestAccount) {
    let shown = format!("{err} | {err:?}");
    assert!(!shown.contains(&bot.token), "token leaked: {shown}");
}

/// Makes `USER` write to the bot and returns the context token the bot
/// receives with it, read through getupdates.
async fn open_chat(sim: &Simulator, bot: &TestAccount, account: &Account) -> ContextToken {
    let pushed = sim.push(&bot.bot_id, Inbound::text(USER, "send me something"));
    let batch = account.get_updates("", None).await.unwrap();
    let msg = batch.messages().next().expect("the pushed message");
    assert_eq!(msg.message_id, Some(pushed.message_id));
    let token = msg.context_token.clone().expect("a context token");
    assert_eq!(token.expose(), pushed.context_token);
    token
}

// ------------------------------------------------------------------ login

/// Plays one QR login to its end: fetches a QR code, polls it, follows a
/// redirect (the simulator serves plain http, so `https://<redirect_host>`
/// becomes `http://<redirect_host>`) and answers each `need_verifycode` with
/// the next of `codes`. Returns the final answer and every status seen.
async fn scan(
    transport: &Transport,
    codes: &[&str],
) -> (GetQrcodeStatusResponse, Vec<QrStatus>, Option<String>) {
    let qr = transport
        .get_bot_qrcode(GetBotQrcodeRequest::new(Vec::new()), None)
        .await
        .unwrap();
    let qrcode = qr.qrcode.expect("a QR code");
    assert!(
        qr.qrcode_img_content
            .is_some_and(|content| content.contains(&qrcode))
    );
    let mut base: Option<String> = None;
    let mut codes = codes.iter();
    let mut code = None;
    let mut seen = Vec::new();
    for _ in 0..20 {
        let mut req = GetQrcodeStatusRequest::new(qrcode.as_str());
        if let Some(code) = code.take() {
            req = req.with_verify_code(code);
        }
        let status = transport
            .get_qrcode_status(req, base.as_deref())
            .await
            .unwrap();
        seen.push(status.status.clone());
        match &status.status {
            QrStatus::Confirmed => return (status, seen, base),
            QrStatus::ScannedButRedirect => {
                let host = status.redirect_host.as_deref().unwrap_or_default();
                let https = redirect_base_url(host).expect("a bare redirect host");
                base = Some(https.replacen("https://", "http://", 1));
            }
            QrStatus::NeedVerifyCode => code = codes.next().copied(),
            QrStatus::Wait | QrStatus::Scanned => {}
            other => panic!("unexpected QR status {other}"),
        }
    }
    panic!("the login did not finish: {seen:?}");
}

/// The confirmed credentials work: notifystart and a getupdates that
/// receives a pushed message, on the `baseurl` the login returned.
async fn assert_token_works(
    sim: &Simulator,
    transport: &Transport,
    confirmed: GetQrcodeStatusResponse,
) {
    let bot_id = confirmed.ilink_bot_id.expect("ilink_bot_id");
    let token = confirmed.bot_token.expect("bot_token");
    assert_eq!(sim.token_of(&bot_id).as_deref(), Some(token.expose()));
    assert!(confirmed.ilink_user_id.is_some_and(|u| !u.is_empty()));
    let account = transport
        .account(token)
        .with_base_url(confirmed.baseurl.unwrap_or_default());
    assert_eq!(account.base_url(), sim.api_url());

    account.notify_start().await.unwrap();
    sim.push(&bot_id, Inbound::text(USER, "welcome"));
    let batch = account.get_updates("", None).await.unwrap();
    let texts: Vec<_> = batch.messages().map(|m| m.text().into_owned()).collect();
    assert_eq!(texts, ["welcome"]);
    let notify = sim.notify_calls();
    assert_eq!(
        notify.last().map(|n| n.bot_id.as_str()),
        Some(bot_id.as_str())
    );
}

#[tokio::test]
async fn qr_login_then_the_token_works() {
    let sim = Simulator::start().await.unwrap();
    let transport = sim_builder(&sim).build().unwrap();

    // No script: a quick scan.
    let (confirmed, seen, base) = scan(&transport, &[]).await;
    assert_eq!(
        seen,
        [QrStatus::Wait, QrStatus::Scanned, QrStatus::Confirmed]
    );
    assert_eq!(base, None);
    assert_token_works(&sim, &transport, confirmed).await;

    // A redirect to the second host, then a verify code: wrong, then right.
    sim.reset_records();
    sim.script_login(QrScript::new(vec![
        QrStep::Wait,
        QrStep::Redirect,
        QrStep::VerifyCode {
            code: "4711".into(),
            max_wrong: 3,
        },
        QrStep::Confirm {
            target: LoginTarget::NewBot,
        },
    ]));
    let (confirmed, seen, base) = scan(&transport, &["0000", "4711"]).await;
    assert_eq!(
        seen,
        [
            QrStatus::Wait,
            QrStatus::ScannedButRedirect,
            QrStatus::NeedVerifyCode,
            QrStatus::NeedVerifyCode,
            QrStatus::Confirmed,
        ]
    );
    assert_eq!(base.as_deref(), Some(sim.urls().redirect.as_str()));
    let polls = sim.requests_to(Route::GetQrcodeStatus);
    let hosts: Vec<Host> = polls.iter().map(|r| r.host).collect();
    assert_eq!(
        hosts,
        [
            Host::Api,
            Host::Api,
            Host::Redirect,
            Host::Redirect,
            Host::Redirect
        ]
    );
    let codes: Vec<Option<&str>> = polls.iter().map(|r| r.query_value("verify_code")).collect();
    assert_eq!(codes, [None, None, None, Some("0000"), Some("4711")]);
    assert_token_works(&sim, &transport, confirmed).await;

    assert_eq!(sim.count(Route::GetBotQrcode), 1);
    assert_no_violations(&sim);
}

// ------------------------------------------------------------------ endpoints

#[tokio::test]
async fn every_endpoint_passes_the_strict_checks() {
    let sim = Simulator::builder()
        .hold(Duration::from_millis(300))
        .start()
        .await
        .unwrap();
    let bot = sim.create_account();
    let transport = sim_builder(&sim).bot_agent("SimTest/1.0").build().unwrap();
    let account = account_of(&transport, &bot);

    account.notify_start().await.unwrap();

    // One message of each kind, and one that does not decode.
    let pushes = [
        (
            ItemType::TEXT,
            sim.push(&bot.bot_id, Inbound::text(USER, "ping")),
        ),
        (
            ItemType::IMAGE,
            sim.push(&bot.bot_id, Inbound::image(USER, vec![1; 100])),
        ),
        (
            ItemType::VOICE,
            sim.push(
                &bot.bot_id,
                Inbound::voice(USER, vec![2; 50], Some("hello")),
            ),
        ),
        (
            ItemType::FILE,
            sim.push(&bot.bot_id, Inbound::file(USER, "a.pdf", vec![3; 20])),
        ),
        (
            ItemType::VIDEO,
            sim.push(&bot.bot_id, Inbound::video(USER, vec![4; 40])),
        ),
        (
            ItemType(99),
            sim.push(
                &bot.bot_id,
                Inbound::unknown_item(USER, 99, "future_item", json!({"x": 1})),
            ),
        ),
    ];
    sim.push(
        &bot.bot_id,
        Inbound::raw(json!({"from_user_id": USER, "item_list": "not a list"})),
    );
    let batch = account.get_updates("", None).await.unwrap();
    let cursor = batch.next_cursor("").to_owned();
    assert!(!cursor.is_empty());
    assert_eq!(batch.malformed().count(), 1);
    let msgs: Vec<&WeixinMessage> = batch.messages().collect();
    assert_eq!(msgs.len(), pushes.len());
    for (msg, (kind, pushed)) in msgs.iter().zip(&pushes) {
        assert_eq!(msg.message_id, Some(pushed.message_id));
        assert_eq!(msg.sender(), USER);
        assert_eq!(
            msg.context_token.as_ref().map(|t| t.expose()),
            Some(pushed.context_token.as_str())
        );
        assert_eq!(msg.item_list.len(), 1);
        let item = &msg.item_list[0];
        assert_eq!(item.kind(), *kind);
        if pushed.media_md5.is_some() {
            let media = item.media().expect("a media reference");
            assert!(media.encrypt_query_param.is_some());
        }
    }
    assert_eq!(msgs[0].text(), "ping");
    assert_eq!(
        msgs[2].item_list[0]
            .voice_item
            .as_ref()
            .and_then(|v| v.text.as_deref()),
        Some("hello")
    );

    // Reply with the context token of the text message.
    let ping = msgs[0];
    let reply = WeixinMessage::outbound(USER, "it-reply-1", MessageItem::text("pong"))
        .with_context_token(ping.context_token.clone());
    let answer = account
        .send_message(SendMessageRequest::new(reply))
        .await
        .unwrap();
    let sent = sim.wait_for_sent(1, WAIT).await.unwrap();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].text(), "pong");
    assert_eq!(sent[0].to(), USER);
    assert!(sent[0].in_conversation);
    assert!(
        sent[0].rendering_problems.is_empty(),
        "{:?}",
        sent[0].rendering_problems
    );
    assert_eq!(answer.message_id, Some(sent[0].message_id));

    // An upload slot.
    let key = MediaKey::generate().unwrap();
    let filekey = FileKey::generate().unwrap();
    let slot = account
        .get_upload_url(
            GetUploadUrlRequest::new(
                filekey.as_str(),
                UploadMediaType::FILE,
                USER,
                5,
                ilink_crypto::md5(b"hello").to_hex(),
                AesKeyText::new(key.to_hex()),
            )
            .with_context_token(ping.context_token.clone()),
        )
        .await
        .unwrap();
    assert!(slot.upload_param.is_some_and(|p| !p.is_empty()));
    assert_eq!(slot.upload_full_url, None);

    // Typing, with the ticket getconfig hands out.
    let config = account
        .get_config(GetConfigRequest::new(USER, ping.context_token.clone()))
        .await
        .unwrap();
    let ticket = config.typing_ticket.expect("a typing ticket");
    for status in [TypingStatus::TYPING, TypingStatus::CANCEL] {
        account
            .send_typing(SendTypingRequest::new(USER, ticket.as_str(), status))
            .await
            .unwrap();
    }
    let typing: Vec<i32> = sim.typing_calls().iter().map(|t| t.status).collect();
    assert_eq!(typing, [1, 2]);

    // Nothing new: the server holds the poll, then answers with its hint.
    let empty = account.get_updates(&cursor, None).await.unwrap();
    assert!(empty.msgs.is_empty());
    assert_eq!(empty.next_cursor(&cursor), cursor);
    assert_eq!(empty.poll_timeout_hint(), Some(Duration::from_millis(300)));

    account.notify_stop().await.unwrap();
    let notify: Vec<bool> = sim.notify_calls().iter().map(|n| n.start).collect();
    assert_eq!(notify, [true, false]);

    // Every call was recognised as the bot's, and nothing was refused.
    let requests = sim.requests();
    assert_eq!(requests.len(), 9);
    for req in &requests {
        assert_eq!(
            req.bot_id.as_deref(),
            Some(bot.bot_id.as_str()),
            "{:?}",
            req.route
        );
        assert_eq!(
            req.body.as_ref().unwrap()["base_info"]["bot_agent"],
            "SimTest/1.0"
        );
    }
    assert_no_violations(&sim);
}

// ------------------------------------------------------------------ long-poll

#[tokio::test]
async fn long_polls_wake_on_push_and_end_empty_after_the_deadline() {
    let sim = Simulator::builder()
        .hold(Duration::from_secs(3))
        .start()
        .await
        .unwrap();
    let bot = sim.create_account();

    // A push wakes a held poll at once.
    let transport = sim_builder(&sim).build().unwrap();
    let account = account_of(&transport, &bot);
    let poll = tokio::spawn(async move { account.get_updates("", None).await });
    sim.wait_until("a held poll", WAIT, |s| s.held_polls() == 1)
        .await
        .unwrap();
    let started = Instant::now();
    sim.push(&bot.bot_id, Inbound::text(USER, "wake up"));
    let batch = poll.await.unwrap().unwrap();
    assert!(started.elapsed() < Duration::from_secs(2));
    let texts: Vec<_> = batch.messages().map(|m| m.text().into_owned()).collect();
    assert_eq!(texts, ["wake up"]);
    assert_eq!(batch.poll_timeout_hint(), Some(Duration::from_secs(3)));

    // The server holds longer than the client waits: an empty batch with the
    // old cursor, after the long-poll timeout plus the margin.
    let impatient = sim_builder(&sim)
        .long_poll_timeout(Duration::from_millis(200))
        .long_poll_margin(Duration::from_millis(100))
        .build()
        .unwrap();
    let account = account_of(&impatient, &bot);
    let started = Instant::now();
    let batch = account.get_updates("sim-old-cursor", None).await.unwrap();
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(290) && elapsed < Duration::from_secs(2),
        "{elapsed:?}"
    );
    assert!(batch.msgs.is_empty());
    assert_eq!(batch.get_updates_buf.as_deref(), Some("sim-old-cursor"));
    assert_eq!(
        batch.longpolling_timeout_ms, None,
        "not the server's answer"
    );
    assert_eq!(sim.count(Route::GetUpdates), 2);
    assert_no_violations(&sim);
}

#[tokio::test]
async fn a_batch_answered_at_the_long_poll_timeout_arrives() {
    // The client's long-poll timeout equals the server's hold: the margin
    // lets the server's own answer (with its hint) arrive.
    let hold = Duration::from_millis(300);
    let sim = Simulator::builder().hold(hold).start().await.unwrap();
    let bot = sim.create_account();
    let transport = sim_builder(&sim)
        .long_poll_timeout(hold)
        .long_poll_margin(Duration::from_millis(300))
        .build()
        .unwrap();
    let account = account_of(&transport, &bot);
    let started = Instant::now();
    let batch = account.get_updates("", None).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(290));
    assert_eq!(
        batch.longpolling_timeout_ms,
        Some(300),
        "the server's answer"
    );
    let hint = batch.poll_timeout_hint();
    assert_eq!(hint, Some(hold));

    // The hint, not the long-poll timeout, sets the next deadline: a poll
    // that hangs ends after hint + margin.
    let slow = sim_builder(&sim)
        .long_poll_timeout(Duration::from_secs(10))
        .long_poll_margin(Duration::from_millis(200))
        .build()
        .unwrap();
    let account = account_of(&slow, &bot);
    sim.inject(Fault::new(
        Route::GetUpdates,
        FaultKind::Hang {
            duration: Some(Duration::from_secs(3)),
        },
        1,
    ));
    let started = Instant::now();
    let batch = account.get_updates("c-hint", hint).await.unwrap();
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(490) && elapsed < Duration::from_secs(2),
        "{elapsed:?}"
    );
    assert!(batch.msgs.is_empty());
    assert_eq!(batch.get_updates_buf.as_deref(), Some("c-hint"));
    assert_no_violations(&sim);
}

// ------------------------------------------------------------------ faults

/// What a call should end with under a fault.
#[derive(Clone, Copy, Debug)]
enum Expect {
    Status(u16),
    /// getupdates: an empty batch with the old cursor.
    EmptyBatch,
    /// The connection broke: `Body` (or `Connect`), retryable.
    Broken,
    Timeout,
    Decode,
    Throttled,
    SessionExpired,
}

/// Calls `route` once. getupdates yields its batch; the others `None`.
async fn call_route(
    account: &Account,
    route: Route,
    n: usize,
    timeout: Option<Duration>,
) -> Result<Option<GetUpdatesResponse>, Error> {
    let opts = match timeout {
        Some(t) => CallOptions::new().timeout(t),
        None => CallOptions::new(),
    };
    match route {
        Route::GetUpdates => account
            .get_updates(&format!("cursor-{n}"), None)
            .await
            .map(Some),
        Route::SendMessage => {
            let msg =
                WeixinMessage::outbound(USER, format!("it-fault-{n}"), MessageItem::text("x"));
            account
                .call_with(SendMessageRequest::new(msg), opts)
                .await
                .map(|_| None)
        }
        Route::GetConfig => account
            .call_with(GetConfigRequest::new(USER, None), opts)
            .await
            .map(|_| None),
        other => unreachable!("{other:?}"),
    }
}

fn expectation(route: Route, kind: &FaultKind) -> Expect {
    let poll = route == Route::GetUpdates;
    match kind {
        FaultKind::Status500 => Expect::Status(500),
        FaultKind::BadGatewayHtml => Expect::Status(502),
        FaultKind::Gateway524 if poll => Expect::EmptyBatch,
        FaultKind::Gateway524 => Expect::Status(524),
        FaultKind::ConnectionReset | FaultKind::TruncatedBody => Expect::Broken,
        FaultKind::Hang { .. } if poll => Expect::EmptyBatch,
        FaultKind::Hang { .. } => Expect::Timeout,
        FaultKind::MalformedJson => Expect::Decode,
        FaultKind::Throttled => Expect::Throttled,
        FaultKind::SessionExpired => Expect::SessionExpired,
        other => unreachable!("{other:?}"),
    }
}

#[tokio::test]
async fn simulator_faults_map_to_typed_errors() {
    let sim = Simulator::start().await.unwrap();
    let bot = sim.create_account();
    // A short long-poll so that a hung getupdates ends quickly; the other
    // calls get a short deadline only where they hang.
    let transport = sim_builder(&sim)
        .long_poll_timeout(Duration::from_millis(300))
        .long_poll_margin(Duration::from_millis(100))
        .build()
        .unwrap();
    let account = account_of(&transport, &bot);
    let kinds = [
        FaultKind::Status500,
        FaultKind::BadGatewayHtml,
        FaultKind::Gateway524,
        FaultKind::ConnectionReset,
        FaultKind::Hang { duration: None },
        FaultKind::MalformedJson,
        FaultKind::TruncatedBody,
        FaultKind::Throttled,
        FaultKind::SessionExpired,
    ];
    let mut n = 0;
    for route in [Route::GetUpdates, Route::SendMessage, Route::GetConfig] {
        for kind in &kinds {
            n += 1;
            let what = format!("{route:?} {kind:?}");
            let before = sim.count(route);
            sim.inject(Fault::new(route, kind.clone(), 1));
            let hangs = matches!(kind, FaultKind::Hang { .. });
            let short = hangs.then_some(Duration::from_millis(300));
            let started = Instant::now();
            let result = call_route(&account, route, n, short).await;
            let elapsed = started.elapsed();
            assert_eq!(
                sim.count(route),
                before + 1,
                "{what}: one request, no retry"
            );
            if hangs {
                assert!(elapsed < Duration::from_secs(2), "{what}: {elapsed:?}");
            }
            let expect = expectation(route, kind);
            let err = match (expect, result) {
                (Expect::EmptyBatch, Ok(Some(batch))) => {
                    assert!(batch.msgs.is_empty(), "{what}");
                    let cursor = format!("cursor-{n}");
                    assert_eq!(
                        batch.get_updates_buf.as_deref(),
                        Some(cursor.as_str()),
                        "{what}"
                    );
                    continue;
                }
                (_, Err(err)) => err,
                (_, Ok(answer)) => panic!("{what}: expected {expect:?}, got {answer:?}"),
            };
            assert_no_token_in(&err, &bot);
            assert!(err.context().is_some(), "{what}: {err:?}");
            match expect {
                Expect::Status(status) => {
                    assert_eq!(err.status(), Some(status), "{what}: {err:?}");
                    assert!(err.is_retryable(), "{what}");
                    assert!(err.reason().is_some_and(|r| !r.is_empty()), "{what}");
                }
                Expect::Broken => {
                    assert!(
                        matches!(err.kind(), ErrorKind::Body | ErrorKind::Connect),
                        "{what}: {err:?}"
                    );
                    assert!(err.is_retryable(), "{what}");
                }
                Expect::Timeout => {
                    assert!(err.is_timeout(), "{what}: {err:?}");
                    assert!(err.is_retryable(), "{what}");
                }
                Expect::Decode => {
                    assert_eq!(err.kind(), &ErrorKind::Decode, "{what}: {err:?}");
                    let body = err.body().expect("the undecodable body");
                    assert!(body.starts_with(b"{\"ret\":0,\"msgs\":[{"), "{what}");
                    assert!(!err.is_retryable(), "{what}");
                }
                Expect::Throttled => {
                    assert!(err.is_throttled(), "{what}: {err:?}");
                    assert!(!err.is_retryable(), "{what}");
                }
                Expect::SessionExpired => {
                    assert!(err.is_session_expired(), "{what}: {err:?}");
                    assert!(!err.is_retryable(), "{what}");
                }
                Expect::EmptyBatch => unreachable!(),
            }
        }
    }

    // The faults are spent: the same calls succeed again.
    for route in [Route::GetConfig, Route::SendMessage] {
        n += 1;
        call_route(&account, route, n, None).await.unwrap();
    }
    assert_eq!(sim.sent().len(), 1);
    assert_no_violations(&sim);
}

#[tokio::test]
async fn an_expired_session_is_minus_14_everywhere() {
    let sim = Simulator::builder()
        .hold(Duration::from_secs(10))
        .start()
        .await
        .unwrap();
    let bot = sim.create_account();
    let transport = sim_builder(&sim).build().unwrap();
    let account = account_of(&transport, &bot);

    // A held poll ends at once.
    let poll = tokio::spawn({
        let account = account.clone();
        async move { account.get_updates("", None).await }
    });
    sim.wait_until("a held poll", WAIT, |s| s.held_polls() >= 1)
        .await
        .unwrap();
    let started = Instant::now();
    assert!(sim.expire_session(&bot.bot_id));
    let err = poll.await.unwrap().unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(err.is_session_expired(), "{err:?}");
    assert!(!err.is_retryable());
    assert_no_token_in(&err, &bot);

    let send = account
        .send_message(SendMessageRequest::new(WeixinMessage::outbound(
            USER,
            "it-expired",
            MessageItem::text("x"),
        )))
        .await
        .unwrap_err();
    let config = account
        .get_config(GetConfigRequest::new(USER, None))
        .await
        .unwrap_err();
    let start = account.notify_start().await.unwrap_err();
    let again = account.get_updates("", None).await.unwrap_err();
    for err in [send, config, start, again] {
        assert!(err.is_session_expired(), "{err:?}");
        assert_no_token_in(&err, &bot);
    }
    assert!(sim.sent().is_empty());
    assert_no_violations(&sim);
}

// ------------------------------------------------------------------ CDN

/// The length of the deterministic byte pattern: prime, so it lines up with
/// neither AES blocks nor read buffers.
const PERIOD: usize = 65_521;

static PATTERN: LazyLock<Vec<u8>> = LazyLock::new(|| {
    (0..PERIOD)
        .map(|i| (i.wrapping_mul(31) ^ (i >> 7)) as u8)
        .collect()
});

/// `len` deterministic bytes, produced on the fly: a 100 MiB upload never
/// sits in memory.
struct Pattern {
    pos: u64,
    len: u64,
}

impl Pattern {
    fn new(len: u64) -> Self {
        Self { pos: 0, len }
    }

    /// The next piece, at most `max` bytes; empty at the end.
    fn next_piece(&mut self, max: usize) -> &'static [u8] {
        let offset = (self.pos % PERIOD as u64) as usize;
        let left = usize::try_from(self.len - self.pos).unwrap_or(usize::MAX);
        let n = max.min(PERIOD - offset).min(left);
        self.pos += n as u64;
        &PATTERN[offset..offset + n]
    }

    fn md5(len: u64) -> String {
        let mut pattern = Self::new(len);
        let mut md5 = Md5::new();
        loop {
            let piece = pattern.next_piece(PERIOD);
            if piece.is_empty() {
                return md5.finalize().to_hex();
            }
            md5.update(piece);
        }
    }

    fn bytes(len: u64) -> Vec<u8> {
        let mut pattern = Self::new(len);
        let mut out = Vec::with_capacity(usize::try_from(len).unwrap());
        loop {
            let piece = pattern.next_piece(PERIOD);
            if piece.is_empty() {
                return out;
            }
            out.extend_from_slice(piece);
        }
    }
}

impl AsyncRead for Pattern {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        while buf.remaining() > 0 {
            let piece = self.next_piece(buf.remaining());
            if piece.is_empty() {
                break;
            }
            buf.put_slice(piece);
        }
        Poll::Ready(Ok(()))
    }
}

/// Uploads `len` pattern bytes as a file the way a bot does (getuploadurl,
/// CDN upload, sendmessage with the user's context token) and returns what
/// the simulator received, after checking it decrypted to our MD5 and size.
async fn send_file(
    sim: &Simulator,
    account: &Account,
    ctx: &ContextToken,
    len: u64,
) -> (SentMessage, UploadTarget) {
    let key = MediaKey::generate().unwrap();
    let filekey = FileKey::generate().unwrap();
    let md5 = Pattern::md5(len);
    let slot = account
        .get_upload_url(
            GetUploadUrlRequest::new(
                filekey.as_str(),
                UploadMediaType::FILE,
                USER,
                len,
                md5.as_str(),
                AesKeyText::new(key.to_hex()),
            )
            .with_context_token(Some(ctx.clone())),
        )
        .await
        .unwrap();
    let target = UploadTarget::from_response(&slot, filekey.as_str()).expect("an upload target");
    let param = account
        .transport()
        .upload(
            &target,
            &key,
            len,
            move || async move { Ok::<_, io::Error>(Pattern::new(len)) },
            None,
        )
        .await
        .unwrap_or_else(|e| panic!("upload of {len} bytes: {e:?}"));
    let media = UploadedMedia::new(param, AesKeyText::new(key.to_hex()), len, md5.as_str());
    let before = sim.sent().len();
    let msg = WeixinMessage::outbound(
        USER,
        format!("it-file-{}", filekey.as_str()),
        MessageItem::file(&media, format!("{len}.bin")),
    )
    .with_context_token(Some(ctx.clone()));
    account
        .send_message(SendMessageRequest::new(msg))
        .await
        .unwrap();
    let sent = sim
        .wait_for_sent(before + 1, WAIT)
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert!(sent.in_conversation);
    assert!(
        sent.rendering_problems.is_empty(),
        "{len}: {:?}",
        sent.rendering_problems
    );
    assert_eq!(sent.media.len(), 1, "{len}");
    let received = &sent.media[0];
    assert_eq!(received.kind, "file");
    assert_eq!(received.md5, md5, "{len}");
    assert_eq!(received.size, len);
    assert_eq!(received.key_format, KeyFormat::Base64Hex);
    let expected_name = format!("{len}.bin");
    assert_eq!(received.file_name.as_deref(), Some(expected_name.as_str()));
    (sent, target)
}

#[tokio::test]
async fn uploads_decrypt_to_our_md5_with_and_without_a_full_url() {
    for full_url in [false, true] {
        let sim = Simulator::builder()
            .upload_full_url(full_url)
            .keep_media_bytes(2 * MIB)
            .start()
            .await
            .unwrap();
        let bot = sim.create_account();
        // A small chunk size so that 1 MiB goes out in many pieces.
        let transport = sim_builder(&sim)
            .upload_chunk_size(64 * 1024)
            .build()
            .unwrap();
        let account = account_of(&transport, &bot);
        let ctx = open_chat(&sim, &bot, &account).await;
        for len in [0, 15, 16, 17, MIB] {
            let (sent, target) = send_file(&sim, &account, &ctx, len).await;
            assert_eq!(matches!(target, UploadTarget::FullUrl(_)), full_url);
            let kept = sent.media[0].bytes.as_deref().expect("kept plaintext");
            assert!(*kept == Pattern::bytes(len), "{len}");
        }
        let uploads = sim.requests_to(Route::CdnUpload);
        assert_eq!(uploads.len(), 5);
        for up in &uploads {
            assert_eq!(up.path, "/c2c/upload");
            assert_eq!(up.header("content-type"), Some("application/octet-stream"));
            assert!(up.header("authorization").is_none());
        }
        assert_no_violations(&sim);
    }
}

/// 100 MiB streamed from a generator, checked by MD5 on the other side; the
/// simulator keeps only the digest. Two workers, so that encrypting (here)
/// and decrypting (in the simulator) overlap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_100_mib_upload_streams_through() {
    let len = 100 * MIB;
    let sim = Simulator::builder()
        .keep_media_bytes(MIB)
        .start()
        .await
        .unwrap();
    let bot = sim.create_account();
    let transport = sim_builder(&sim).build().unwrap();
    let account = account_of(&transport, &bot);
    let ctx = open_chat(&sim, &bot, &account).await;
    let started = Instant::now();
    let (sent, target) = send_file(&sim, &account, &ctx, len).await;
    eprintln!("100 MiB upload round trip: {:?}", started.elapsed());
    assert!(matches!(target, UploadTarget::Slot { .. }));
    assert!(sent.media[0].bytes.is_none());
    let uploads = sim.requests_to(Route::CdnUpload);
    assert_eq!(uploads.len(), 1);
    assert_eq!(
        uploads[0].header("content-length"),
        Some(ilink_crypto::ciphertext_size(len).to_string().as_str())
    );
    assert_no_violations(&sim);
}

#[tokio::test]
async fn cdn_upload_retries_5xx_and_resets_but_not_4xx() {
    let sim = Simulator::start().await.unwrap();
    let bot = sim.create_account();
    let transport = sim_builder(&sim).build().unwrap();
    let account = account_of(&transport, &bot);
    let ctx = open_chat(&sim, &bot, &account).await;

    for kind in [FaultKind::Status500, FaultKind::ConnectionReset] {
        let before = sim.count(Route::CdnUpload);
        sim.inject(Fault::new(Route::CdnUpload, kind.clone(), 1));
        send_file(&sim, &account, &ctx, 4000).await;
        assert_eq!(sim.count(Route::CdnUpload), before + 2, "{kind:?}");
    }

    // A filekey that does not match the slot: the CDN answers 400 with
    // x-error-message, and the upload fails without another attempt.
    let key = MediaKey::generate().unwrap();
    let filekey = FileKey::generate().unwrap();
    let slot = account
        .get_upload_url(
            GetUploadUrlRequest::new(
                filekey.as_str(),
                UploadMediaType::FILE,
                USER,
                17,
                Pattern::md5(17),
                AesKeyText::new(key.to_hex()),
            )
            .with_context_token(Some(ctx.clone())),
        )
        .await
        .unwrap();
    let wrong = FileKey::generate().unwrap();
    let target = UploadTarget::slot(slot.upload_param.unwrap(), wrong.as_str());
    let before = sim.count(Route::CdnUpload);
    let err = transport
        .upload(
            &target,
            &key,
            17,
            || async { Ok::<_, io::Error>(Pattern::new(17)) },
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400), "{err:?}");
    assert_eq!(err.reason(), Some("filekey does not match the upload slot"));
    assert!(!err.is_retryable());
    assert_eq!(sim.count(Route::CdnUpload), before + 1);
    assert_no_violations(&sim);
}

/// The key of an inbound media item: `image_item.aeskey` (hex) first, else
/// `media.aes_key` (base64 of the raw key or of the hex); `None` when the
/// media is not encrypted.
fn inbound_key(item: &MessageItem) -> Option<(MediaKey, KeyFormat)> {
    let image_hex = item.image_item.as_ref().and_then(|i| i.aeskey.as_ref());
    let media_key = item.media().and_then(|m| m.aes_key.as_ref());
    image_hex
        .or(media_key)
        .map(|text| MediaKey::parse(text.expose()).expect("a media key"))
}

#[tokio::test]
async fn downloads_of_every_key_form_decrypt_to_the_pushed_bytes() {
    let sim = Simulator::start().await.unwrap();
    let bot = sim.create_account();
    let transport = sim_builder(&sim).build().unwrap();
    let account = account_of(&transport, &bot);

    let forms = [
        (KeyForm::Base64Raw, Some(KeyFormat::Base64Raw)),
        (KeyForm::Base64Hex, Some(KeyFormat::Base64Hex)),
        (KeyForm::HexAndBase64Hex, Some(KeyFormat::Hex)),
        (KeyForm::HexOnly, Some(KeyFormat::Hex)),
        (KeyForm::Unencrypted, None),
    ];
    // (message id, plaintext, key format, via full_url)
    let mut expected = Vec::new();
    let mut len = 1000;
    for (form, format) in forms {
        for full_url in [false, true] {
            len += 333;
            let bytes = Pattern::bytes(len);
            let mut inbound = Inbound::image(USER, bytes.clone()).key(form);
            if full_url {
                inbound = inbound.full_url();
            }
            let pushed = sim.push(&bot.bot_id, inbound);
            expected.push((pushed.message_id, bytes, format, full_url));
        }
    }
    for (n, inbound) in [
        Inbound::file(USER, "empty.txt", Vec::new()),
        Inbound::file(USER, "block.bin", Pattern::bytes(4096)),
        Inbound::voice(USER, Pattern::bytes(777), None),
        Inbound::video(USER, Pattern::bytes(70_000)).full_url(),
    ]
    .into_iter()
    .enumerate()
    {
        let bytes = match &inbound.content {
            InboundContent::File { bytes, .. }
            | InboundContent::Voice { bytes, .. }
            | InboundContent::Video { bytes } => bytes.clone(),
            other => unreachable!("{other:?}"),
        };
        let pushed = sim.push(&bot.bot_id, inbound);
        expected.push((pushed.message_id, bytes, Some(KeyFormat::Base64Hex), n == 3));
    }

    let batch = account.get_updates("", None).await.unwrap();
    let msgs: Vec<&WeixinMessage> = batch.messages().collect();
    assert_eq!(msgs.len(), expected.len());
    for (msg, (id, bytes, format, full_url)) in msgs.iter().zip(&expected) {
        assert_eq!(msg.message_id, Some(*id));
        let item = &msg.item_list[0];
        let media = item.media().expect("a media reference");
        let key = inbound_key(item);
        assert_eq!(key.map(|(_, f)| f), *format, "{id}");
        let source = DownloadSource::from_media(media).expect("a download source");
        assert_eq!(
            matches!(source, DownloadSource::FullUrl(_)),
            *full_url,
            "{id}"
        );
        let key = key.map(|(k, _)| k);
        let got = transport
            .download_bytes(&source, key.as_ref(), None)
            .await
            .unwrap_or_else(|e| panic!("{id}: {e:?}"));
        assert!(
            got == *bytes,
            "{id}: {} bytes, expected {}",
            got.len(),
            bytes.len()
        );

        // A cap below the size fails before the body is read.
        if !bytes.is_empty() {
            let cap = bytes.len() as u64 / 2;
            let err = transport
                .download_bytes(&source, key.as_ref(), Some(cap))
                .await
                .unwrap_err();
            assert_eq!(err.kind(), &ErrorKind::TooLarge { limit: cap }, "{id}");
        }
    }
    let downloads = sim.requests_to(Route::CdnDownload);
    let via_full_url = downloads
        .iter()
        .filter(|r| r.path.contains("/full/"))
        .count();
    let full_url_items = expected.iter().filter(|e| e.3).count();
    assert_eq!(via_full_url, 2 * full_url_items);
    assert_no_violations(&sim);
}

// -------------------------------------------------------------------- TLS

/// A transport that trusts the simulator's test authority (verification
/// stays on).
fn tls_transport(sim: &Simulator) -> Transport {
    let ca = sim.ca_certificate_der().expect("a TLS simulator").to_vec();
    sim_builder(sim).add_root_certificate(ca).build().unwrap()
}

/// Login-free flow over HTTPS, on h2 and with h2 refused: a long-poll that
/// a push wakes, a text and a file sent through the CDN, each on the
/// protocol the server picked.
#[tokio::test]
async fn the_flow_runs_over_tls_on_http1_and_h2() {
    for refuse_http2 in [false, true] {
        let sim = Simulator::builder()
            .tls(true)
            .refuse_http2(refuse_http2)
            .keep_media_bytes(MIB)
            .start()
            .await
            .unwrap();
        assert!(sim.api_url().starts_with("https://127.0.0.1:"));
        let bot = sim.create_account();
        let transport = tls_transport(&sim);
        let account = account_of(&transport, &bot);
        let ctx = open_chat(&sim, &bot, &account).await;
        let (sent, _) = send_file(&sim, &account, &ctx, 100_000).await;
        assert!(*sent.media[0].bytes.as_deref().unwrap() == Pattern::bytes(100_000));
        let open = transport.connections();
        if refuse_http2 {
            assert_eq!(open.http2, 0, "{open:?}");
            assert!(open.http1 >= 1, "{open:?}");
        } else {
            assert_eq!(open.http1, 0, "{open:?}");
            // One for the API host, one for the CDN host.
            assert_eq!(open.http2, 2, "{open:?}");
        }
        assert_no_violations(&sim);
    }
}

/// On h2, the held long-polls of 300 accounts share two connections (the
/// simulator allows 200 streams on each); on HTTP/1.1 each holds its own.
#[tokio::test]
async fn held_long_polls_share_h2_connections() {
    for refuse_http2 in [false, true] {
        let sim = Simulator::builder()
            .tls(true)
            .refuse_http2(refuse_http2)
            .max_concurrent_streams(200)
            .start()
            .await
            .unwrap();
        let transport = tls_transport(&sim);
        let bots: Vec<TestAccount> = (0..300).map(|_| sim.create_account()).collect();
        let polls: Vec<_> = bots
            .iter()
            .map(|bot| {
                let account = account_of(&transport, bot);
                tokio::spawn(async move { account.get_updates("", None).await })
            })
            .collect();
        sim.wait_until("300 held polls", WAIT, |s| s.held_polls() == 300)
            .await
            .expect("all 300 polls held");
        let open = transport.connections();
        if refuse_http2 {
            assert_eq!((open.http1, open.http2), (300, 0));
        } else {
            assert_eq!((open.http1, open.http2), (0, 2));
        }
        // Wake them all: each gets its message.
        for bot in &bots {
            sim.push(&bot.bot_id, Inbound::text(USER, "hi"));
        }
        for poll in polls {
            let batch = poll.await.unwrap().unwrap();
            assert_eq!(batch.messages().count(), 1);
        }
    }
}

/// Verification stays on: without the test authority the handshake fails,
/// and nothing was sent.
#[tokio::test]
async fn an_untrusted_certificate_is_a_tls_error() {
    let sim = Simulator::builder().tls(true).start().await.unwrap();
    let bot = sim.create_account();
    let transport = sim_builder(&sim).build().unwrap();
    let err = account_of(&transport, &bot)
        .notify_start()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Tls, "{err:?}");
    assert_no_token_in(&err, &bot);
    assert_eq!(sim.count(Route::NotifyStart), 0);
}
