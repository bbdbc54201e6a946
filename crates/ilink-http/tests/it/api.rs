//! Every endpoint's headers and body as the server receives them, and the
//! long-poll and login outcomes.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use base64::Engine as _;
use ilink_http::{CallOptions, ErrorKind};
use ilink_proto::{
    AesKeyText, BotToken, ContextToken, GetBotQrcodeRequest, GetConfigRequest,
    GetQrcodeStatusRequest, GetUploadUrlRequest, MessageItem, QrStatus, SendMessageRequest,
    SendTypingRequest, TypingStatus, UploadMediaType, WeixinMessage,
};
use serde_json::json;

use crate::server::{Action, Body, Recorded, TestServer};
use crate::{TOKEN, assert_no_token, builder, transport};

/// Answers each endpoint as the real server would.
fn happy(req: &Recorded) -> Action {
    let path = req.path.rsplit("ilink/bot/").next().unwrap_or_default();
    match path {
        "getupdates" => Action::json(json!({
            "ret": 0,
            "msgs": [{"message_id": 9007199254740993u64, "from_user_id": "u@im.wechat",
                      "context_token": "ctx", "item_list": [{"type": 1, "text_item": {"text": "hi"}}]},
                     {"message_id": "not a number"}],
            "get_updates_buf": "c2",
            "longpolling_timeout_ms": 30000,
        })),
        "sendmessage" => Action::json(json!({"ret": 0, "message_id": 18446744073709551615u64})),
        "getuploadurl" => Action::json(json!({"ret": 0, "upload_param": "up/param="})),
        "getconfig" => Action::json(json!({"ret": 0, "typing_ticket": "ticket"})),
        "sendtyping" | "msg/notifystart" | "msg/notifystop" => Action::json(json!({"ret": 0})),
        "get_bot_qrcode" => {
            Action::json(json!({"qrcode": "q1", "qrcode_img_content": "https://qr/q1"}))
        }
        "get_qrcode_status" => Action::json(json!({
            "status": "confirmed", "bot_token": "new-token", "ilink_bot_id": "b@im.bot",
            "ilink_user_id": "u@im.wechat", "baseurl": "https://regional"})),
        _ => Action::status(404, "no such path"),
    }
}

fn decode_uin(value: &str) -> u32 {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(value)
        .expect("X-WECHAT-UIN is base64");
    let digits = String::from_utf8(bytes).unwrap();
    assert!(digits.bytes().all(|b| b.is_ascii_digit()), "{digits}");
    digits.parse().expect("a decimal u32")
}

#[tokio::test]
async fn every_endpoint_sends_the_protocol_headers_and_bodies() {
    let server = TestServer::start(happy).await;
    let transport = builder(&format!("{}/prefix/", server.url()))
        .client_version("2.4.9")
        .bot_agent("Test/1.0 (ci) bad agent")
        .route_tag("rt-1")
        .build()
        .unwrap();
    let account = transport.account(BotToken::new(TOKEN));

    let batch = account.get_updates("c1", None).await.unwrap();
    assert_eq!(batch.next_cursor("c1"), "c2");
    assert_eq!(batch.messages().count(), 1);
    assert_eq!(batch.malformed().count(), 1);
    assert_eq!(batch.poll_timeout_hint(), Some(Duration::from_secs(30)));

    let msg = WeixinMessage::outbound("u@im.wechat", "cid-1", MessageItem::text("hello"))
        .with_context_token(Some(ContextToken::new("ctx")));
    let sent = account
        .send_message(SendMessageRequest::new(msg))
        .await
        .unwrap();
    assert_eq!(sent.message_id.unwrap().get(), u64::MAX);

    let slot = account
        .get_upload_url(GetUploadUrlRequest::new(
            "00ff",
            UploadMediaType::FILE,
            "u@im.wechat",
            5,
            "md5",
            AesKeyText::new("00112233445566778899aabbccddeeff"),
        ))
        .await
        .unwrap();
    assert_eq!(slot.upload_param.as_deref(), Some("up/param="));

    let config = account
        .get_config(GetConfigRequest::new(
            "u@im.wechat",
            Some(ContextToken::new("ctx")),
        ))
        .await
        .unwrap();
    assert_eq!(config.typing_ticket.as_deref(), Some("ticket"));
    account
        .send_typing(SendTypingRequest::new(
            "u@im.wechat",
            "ticket",
            TypingStatus::TYPING,
        ))
        .await
        .unwrap();
    account.notify_start().await.unwrap();
    account.notify_stop().await.unwrap();

    let qr = transport
        .get_bot_qrcode(
            GetBotQrcodeRequest::new(vec![BotToken::new("old-1"), BotToken::new("old-2")]),
            None,
        )
        .await
        .unwrap();
    assert_eq!(qr.qrcode.as_deref(), Some("q1"));
    let status = transport
        .get_qrcode_status(
            GetQrcodeStatusRequest::new("a b+c/=").with_verify_code("123"),
            None,
        )
        .await
        .unwrap();
    assert_eq!(status.status, QrStatus::Confirmed);
    assert_eq!(status.bot_token.unwrap().expose(), "new-token");

    let requests = server.requests();
    assert_eq!(requests.len(), 9);
    let mut uins = HashSet::new();
    for req in &requests {
        assert!(req.path.starts_with("/prefix/ilink/bot/"), "{}", req.path);
        assert!(!req.path.contains("//"), "{}", req.path);
        assert_eq!(req.header("iLink-App-Id"), Some("bot"));
        assert_eq!(req.header("iLink-App-ClientVersion"), Some("132105"));
        assert_eq!(req.header("SKRouteTag"), Some("rt-1"));
        if req.method == "GET" {
            continue;
        }
        assert_eq!(req.method, "POST");
        assert_eq!(req.header("Content-Type"), Some("application/json"));
        assert_eq!(req.header("AuthorizationType"), Some("ilink_bot_token"));
        assert_eq!(
            req.header("Content-Length"),
            Some(req.body.len().to_string().as_str())
        );
        uins.insert(decode_uin(req.header("X-WECHAT-UIN").unwrap()));
        // The official client's order.
        let order: Vec<&str> = req
            .headers
            .iter()
            .map(|(name, _)| name.as_str())
            .filter(|name| !matches!(*name, "host" | "content-length"))
            .collect();
        let mut expected = vec![
            "content-type",
            "authorizationtype",
            "x-wechat-uin",
            "ilink-app-id",
            "ilink-app-clientversion",
            "skroutetag",
        ];
        if !req.path.ends_with("get_bot_qrcode") {
            expected.push("authorization");
        }
        assert_eq!(order, expected, "{}", req.path);
        let body = req.json();
        if req.path.ends_with("get_bot_qrcode") {
            continue;
        }
        assert_eq!(req.query, None);
        assert_eq!(
            req.header("Authorization"),
            Some(format!("Bearer {TOKEN}").as_str())
        );
        assert_eq!(
            body["base_info"],
            json!({"channel_version": "2.4.9", "bot_agent": "Test/1.0 (ci)"}),
            "{}",
            req.path
        );
    }
    assert_eq!(uins.len(), 8, "a fresh X-WECHAT-UIN per POST");

    let by_path =
        |suffix: &str| -> &Recorded { requests.iter().find(|r| r.path.ends_with(suffix)).unwrap() };
    assert_eq!(
        by_path("getupdates").json(),
        json!({"get_updates_buf": "c1", "base_info": {"channel_version": "2.4.9", "bot_agent": "Test/1.0 (ci)"}})
    );
    let send = by_path("sendmessage").json();
    assert_eq!(send["msg"]["to_user_id"], "u@im.wechat");
    assert_eq!(send["msg"]["from_user_id"], "");
    assert_eq!(send["msg"]["context_token"], "ctx");
    assert_eq!(send["msg"]["item_list"][0]["text_item"]["text"], "hello");
    let upload = by_path("getuploadurl").json();
    assert_eq!(upload["filesize"], 16);
    assert_eq!(upload["no_need_thumb"], true);
    assert_eq!(upload["aeskey"], "00112233445566778899aabbccddeeff");
    assert_eq!(by_path("getconfig").json()["ilink_user_id"], "u@im.wechat");
    assert_eq!(by_path("sendtyping").json()["status"], 1);
    assert_eq!(by_path("notifystart").json().as_object().unwrap().len(), 1);
    assert!(by_path("notifystop").json()["base_info"].is_object());

    let qr = by_path("get_bot_qrcode");
    assert_eq!(qr.query.as_deref(), Some("bot_type=3"));
    assert!(!qr.has_header("Authorization"));
    assert_eq!(qr.json(), json!({"local_token_list": ["old-1", "old-2"]}));

    let poll = by_path("get_qrcode_status");
    assert_eq!(poll.method, "GET");
    assert_eq!(
        poll.query.as_deref(),
        Some("qrcode=a%20b%2Bc%2F%3D&verify_code=123")
    );
    assert!(poll.body.is_empty());
    for name in [
        "Authorization",
        "AuthorizationType",
        "X-WECHAT-UIN",
        "Content-Type",
        "Content-Length",
    ] {
        assert!(!poll.has_header(name), "GET carries {name}");
    }
}

#[tokio::test]
async fn base_url_overrides() {
    let server = TestServer::start(happy).await;
    let url = server.url();
    let transport = transport(&format!("{url}/default"));
    let account = transport
        .account(BotToken::new(TOKEN))
        .with_base_url(format!("{url}/regional/"));
    account.notify_start().await.unwrap();
    account
        .call_with(
            ilink_proto::NotifyStopRequest::new(),
            CallOptions::new().base_url(format!("{url}/once")),
        )
        .await
        .unwrap();
    transport
        .get_bot_qrcode(
            GetBotQrcodeRequest::default(),
            Some(&format!("{url}/login")),
        )
        .await
        .unwrap();
    transport
        .get_qrcode_status(GetQrcodeStatusRequest::new("q"), None)
        .await
        .unwrap();
    // The generic call without a token still omits Authorization.
    transport
        .call(ilink_proto::NotifyStartRequest::new(), CallOptions::new())
        .await
        .unwrap();
    let paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(
        paths,
        [
            "/regional/ilink/bot/msg/notifystart",
            "/once/ilink/bot/msg/notifystop",
            "/login/ilink/bot/get_bot_qrcode",
            "/default/ilink/bot/get_qrcode_status",
            "/default/ilink/bot/msg/notifystart",
        ]
    );
    assert!(!server.requests()[4].has_header("Authorization"));
}

#[tokio::test]
async fn long_poll_timeout_is_an_empty_batch_with_the_old_cursor() {
    let server = TestServer::start(|_| Action::Hang).await;
    let transport = builder(server.url())
        .long_poll_timeout(Duration::from_millis(300))
        .long_poll_margin(Duration::from_millis(100))
        .build()
        .unwrap();
    let account = transport.account(BotToken::new(TOKEN));

    // Without a hint: the long-poll timeout plus the margin, so that a batch
    // answered right at the server's hold time is not dropped.
    let started = Instant::now();
    let batch = account.get_updates("cursor-7", None).await.unwrap();
    let elapsed = started.elapsed();
    assert!(batch.msgs.is_empty());
    assert_eq!(batch.get_updates_buf.as_deref(), Some("cursor-7"));
    assert!(
        elapsed >= Duration::from_millis(390) && elapsed < Duration::from_secs(2),
        "{elapsed:?}"
    );

    // The server's hint plus the margin replaces the default.
    let started = Instant::now();
    let batch = account
        .get_updates("cursor-8", Some(Duration::from_millis(500)))
        .await
        .unwrap();
    let elapsed = started.elapsed();
    assert_eq!(batch.next_cursor(""), "cursor-8");
    assert!(
        elapsed >= Duration::from_millis(580) && elapsed < Duration::from_secs(2),
        "{elapsed:?}"
    );
    assert_eq!(server.count(), 2);
}

#[tokio::test]
async fn gateway_524_is_an_empty_batch() {
    let server = TestServer::start(|_| {
        Action::status(524, "<html>A timeout occurred</html>").header("Content-Type", "text/html")
    })
    .await;
    let account = transport(server.url()).account(BotToken::new(TOKEN));
    let batch = account.get_updates("c9", None).await.unwrap();
    assert!(batch.msgs.is_empty());
    assert_eq!(batch.get_updates_buf.as_deref(), Some("c9"));

    // Elsewhere 524 is an ordinary retryable status.
    let err = account.notify_start().await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Status { status: 524 });
    assert!(err.is_retryable());
    assert_eq!(err.reason(), Some("<html>A timeout occurred</html>"));
}

#[tokio::test]
async fn session_expired_and_throttled_are_typed() {
    let server = TestServer::start(|req| {
        if req.path.ends_with("getupdates") {
            Action::json(
                json!({"ret": -14, "errcode": -14, "errmsg": "session timeout",
                                "longpolling_timeout_ms": 1000}),
            )
        } else if req.path.ends_with("getconfig") {
            Action::json(json!({"errcode": -14}))
        } else {
            Action::json(json!({"ret": -2, "errmsg": "rate limited"}))
        }
    })
    .await;
    let account = transport(server.url()).account(BotToken::new(TOKEN));

    let err = account.get_updates("", None).await.unwrap_err();
    assert!(err.is_session_expired());
    assert!(!err.is_retryable());
    assert_eq!(
        err.kind(),
        &ErrorKind::Api {
            ret: Some(-14),
            errcode: Some(-14),
            errmsg: Some("session timeout".into())
        }
    );
    assert_eq!(err.context(), Some("ilink/bot/getupdates"));
    let body: serde_json::Value = serde_json::from_slice(err.body().unwrap()).unwrap();
    assert_eq!(body["longpolling_timeout_ms"], 1000);
    assert_no_token(&err);

    let err = account
        .get_config(GetConfigRequest::new("u", None))
        .await
        .unwrap_err();
    assert!(err.is_session_expired());

    let msg = WeixinMessage::outbound("u@im.wechat", "cid", MessageItem::text("x"));
    let err = account
        .send_message(SendMessageRequest::new(msg))
        .await
        .unwrap_err();
    assert!(err.is_throttled());
    assert!(!err.is_session_expired());
    assert!(!err.is_retryable());
    assert_eq!(
        err.to_string(),
        "ilink/bot/sendmessage: the account is throttled (-2), ret -2: rate limited"
    );
}

#[tokio::test]
async fn qr_status_gateway_errors_and_timeouts_are_wait() {
    let server = TestServer::start(|req| {
        let code = req
            .query
            .as_deref()
            .and_then(|q| q.strip_prefix("qrcode="))
            .unwrap_or_default()
            .to_owned();
        match code.as_str() {
            "hang" => Action::Hang,
            "500" => Action::status(500, "boom"),
            "bad" => Action::status(200, "not json"),
            status => Action::body(
                status.parse().unwrap(),
                Body::Full(b"<html>Bad Gateway</html>".to_vec()),
            ),
        }
    })
    .await;
    let transport = builder(server.url())
        .long_poll_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    for code in ["502", "503", "504", "524", "hang"] {
        let resp = transport
            .get_qrcode_status(GetQrcodeStatusRequest::new(code), None)
            .await
            .unwrap_or_else(|e| panic!("{code}: {e}"));
        assert_eq!(resp.status, QrStatus::Wait, "{code}");
    }
    let err = transport
        .get_qrcode_status(GetQrcodeStatusRequest::new("500"), None)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(500));
    let err = transport
        .get_qrcode_status(GetQrcodeStatusRequest::new("bad"), None)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Decode);
    assert_eq!(err.body(), Some(&b"not json"[..]));
}

#[tokio::test]
async fn per_call_timeout_override() {
    let server =
        TestServer::start(|_| Action::json(json!({"ret": 0})).delay(Duration::from_millis(400)))
            .await;
    let account = transport(server.url()).account(BotToken::new(TOKEN));
    let started = Instant::now();
    let err = account
        .call_with(
            ilink_proto::NotifyStopRequest::new(),
            CallOptions::new().timeout(Duration::from_millis(100)),
        )
        .await
        .unwrap_err();
    assert!(err.is_timeout());
    assert!(started.elapsed() < Duration::from_millis(350));
    // Without the override the default (5 s) lets it finish.
    account.notify_stop().await.unwrap();
}

#[tokio::test]
async fn connections_are_reused() {
    let server = TestServer::start(happy).await;
    let account = transport(server.url()).account(BotToken::new(TOKEN));
    for _ in 0..5 {
        account.notify_start().await.unwrap();
    }
    let conns: HashSet<usize> = server.requests().iter().map(|r| r.conn).collect();
    assert_eq!(
        conns.len(),
        1,
        "one pooled connection serves sequential calls"
    );
}
