//! Each network and server fault maps to the right error kind, promptly.

use std::time::{Duration, Instant};

use ilink_http::{Error, ErrorKind};
use ilink_proto::BotToken;
use serde_json::json;

use crate::server::{Action, Body, TestServer};
use crate::{TOKEN, assert_no_token, builder, transport};

async fn notify_error(server: &TestServer) -> Error {
    let account = transport(server.url()).account(BotToken::new(TOKEN));
    let err = account.notify_start().await.unwrap_err();
    assert_no_token(&err);
    assert_eq!(err.context(), Some("ilink/bot/msg/notifystart"));
    err
}

#[tokio::test]
async fn connection_refused_is_connect() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let account = transport(&url).account(BotToken::new(TOKEN));
    let err = account.notify_start().await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Connect);
    assert!(err.is_retryable());
    assert!(std::error::Error::source(&err).is_some());
    assert_no_token(&err);
}

#[tokio::test]
async fn a_failed_handshake_is_tls() {
    // A plain HTTP server behind an https URL.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut hello = [0u8; 512];
        let _ = stream.read(&mut hello).await;
        let _ = stream
            .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            .await;
    });
    let account = transport(&url).account(BotToken::new(TOKEN));
    let err = account.notify_start().await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Tls, "{err:?}");
    assert!(!err.is_retryable());
    assert_no_token(&err);
}

#[tokio::test]
async fn server_errors_are_status_with_a_reason() {
    let server = TestServer::start(|req| {
        if req.path.contains("notifystart") {
            Action::status(502, "<html>\n<h1>502 Bad Gateway</h1>\n</html>")
        } else {
            Action::status(404, "").header("x-error-message", "no such thing")
        }
    })
    .await;
    let err = notify_error(&server).await;
    assert_eq!(err.kind(), &ErrorKind::Status { status: 502 });
    assert!(err.is_retryable());
    assert_eq!(
        err.reason(),
        Some("<html> <h1>502 Bad Gateway</h1> </html>")
    );
    assert_eq!(
        err.to_string(),
        "ilink/bot/msg/notifystart: the server answered HTTP 502"
    );

    let account = transport(server.url()).account(BotToken::new(TOKEN));
    let err = account.notify_stop().await.unwrap_err();
    assert_eq!(err.status(), Some(404));
    assert!(!err.is_retryable());
    assert_eq!(err.reason(), Some("no such thing"));
}

#[tokio::test]
async fn malformed_json_is_decode_with_the_body() {
    let server = TestServer::start(|_| Action::status(200, "{\"ret\": 0,")).await;
    let err = notify_error(&server).await;
    assert_eq!(err.kind(), &ErrorKind::Decode);
    assert!(!err.is_retryable());
    assert_eq!(err.body(), Some(&b"{\"ret\": 0,"[..]));
    assert!(std::error::Error::source(&err).is_some());
}

#[tokio::test]
async fn truncated_body_is_body() {
    let server = TestServer::start(|_| {
        Action::body(
            200,
            Body::Truncated {
                declared: 100,
                data: b"{\"ret\":0".to_vec(),
            },
        )
    })
    .await;
    let err = notify_error(&server).await;
    assert_eq!(err.kind(), &ErrorKind::Body);
    assert!(err.is_retryable());
}

#[tokio::test]
async fn reset_and_close_without_answer_are_body() {
    for action in [|| Action::Reset, || Action::Close] {
        let server = TestServer::start(move |_| action()).await;
        let err = notify_error(&server).await;
        assert_eq!(err.kind(), &ErrorKind::Body, "{err:?}");
        assert!(err.is_retryable());
    }
}

#[tokio::test]
async fn huge_content_length_is_too_large_at_once() {
    let server = TestServer::start(|_| {
        Action::body(
            200,
            Body::Endless {
                declared: Some(10 << 30),
            },
        )
    })
    .await;
    let account = builder(server.url())
        .response_limit(1024)
        .build()
        .unwrap()
        .account(BotToken::new(TOKEN));
    let started = Instant::now();
    let err = account.notify_start().await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::TooLarge { limit: 1024 });
    assert!(!err.is_retryable());
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn endless_chunked_body_is_too_large() {
    let server = TestServer::start(|_| Action::body(200, Body::Endless { declared: None })).await;
    let account = builder(server.url())
        .response_limit(256 * 1024)
        .build()
        .unwrap()
        .account(BotToken::new(TOKEN));
    let started = Instant::now();
    let err = account.notify_start().await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::TooLarge { limit: 256 * 1024 });
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn the_deadline_covers_the_body() {
    // Headers at once, then the body drips for longer than the deadline.
    let server = TestServer::start(|_| {
        Action::body(
            200,
            Body::Drip {
                data: json!({"ret": 0, "errmsg": "x".repeat(20)})
                    .to_string()
                    .into_bytes(),
                piece: 2,
                interval: Duration::from_millis(50),
            },
        )
    })
    .await;
    let account = builder(server.url())
        .config_timeout(Duration::from_millis(300))
        .build()
        .unwrap()
        .account(BotToken::new(TOKEN));
    let started = Instant::now();
    let err = account.notify_start().await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(err.is_retryable());
    assert!(started.elapsed() < Duration::from_millis(900));
}

#[tokio::test]
async fn a_slow_but_timely_body_is_fine() {
    let server = TestServer::start(|_| {
        Action::body(
            200,
            Body::Drip {
                data: br#"{"ret":0}"#.to_vec(),
                piece: 3,
                interval: Duration::from_millis(20),
            },
        )
    })
    .await;
    let account = transport(server.url()).account(BotToken::new(TOKEN));
    account.notify_start().await.unwrap();
}

#[tokio::test]
async fn a_late_answer_is_a_timeout() {
    let server =
        TestServer::start(|_| Action::json(json!({"ret": 0})).delay(Duration::from_secs(3))).await;
    let account = builder(server.url())
        .config_timeout(Duration::from_millis(200))
        .build()
        .unwrap()
        .account(BotToken::new(TOKEN));
    let err = account.notify_start().await.unwrap_err();
    assert!(err.is_timeout());
    assert_eq!(
        err.to_string(),
        "ilink/bot/msg/notifystart: the request timed out"
    );
}

#[tokio::test]
async fn invalid_inputs_fail_before_sending() {
    let server = TestServer::start(|_| Action::json(json!({"ret": 0}))).await;
    let transport = transport(server.url());
    let err = transport
        .account(BotToken::new("bad\ntoken"))
        .notify_start()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::InvalidInput);
    assert!(!err.to_string().contains("bad"));
    let err = transport
        .account(BotToken::new(TOKEN))
        .with_base_url("not a url")
        .notify_start()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::InvalidInput);
    assert_eq!(server.count(), 0);
}

/// A token, a QR code or a context token never goes in clear text past this
/// machine: a call to a plain-HTTP base URL off loopback is refused before
/// anything is sent, and so is a CDN URL that is neither https nor on the
/// configured CDN's scheme and host. (`.invalid` never resolves; nothing is
/// sent.)
#[tokio::test]
async fn clear_text_off_loopback_is_refused_before_sending() {
    use ilink_crypto::MediaKey;
    use ilink_http::{CallOptions, DownloadSource, UploadTarget};
    use ilink_proto::NotifyStartRequest;

    let server = TestServer::start(|_| Action::json(json!({"ret": 0}))).await;
    let transport = transport(server.url());
    let account = transport.account(BotToken::new(TOKEN));
    let err = account
        .call_with(
            NotifyStartRequest::new(),
            CallOptions::new().base_url("http://bot.invalid"),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::InvalidInput, "{err:?}");
    assert_no_token(&err);
    assert!(
        builder("http://bot.invalid").build().is_err(),
        "a clear-text base URL off loopback is refused at build time"
    );

    let key = MediaKey::from_bytes([7; 16]);
    let target = UploadTarget::full_url("http://cdn.invalid/upload?x=1");
    let err = transport
        .upload(
            &target,
            &key,
            1,
            || async { Ok(std::io::Cursor::new(vec![0u8])) },
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::InvalidInput, "{err:?}");
    let mut sink = Vec::new();
    let err = transport
        .download_to(
            &DownloadSource::full_url("http://cdn.invalid/download?x=1"),
            Some(&key),
            &mut sink,
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::InvalidInput, "{err:?}");
    // The configured CDN's scheme and host are fine, even loopback http.
    let ok = DownloadSource::full_url(format!("{}/c2c/download?x=1", server.url()));
    let _ = transport.download_to(&ok, None, &mut sink, None).await;
    assert_eq!(server.count(), 1, "only the same-host download was sent");
}
