//! Long-polls on the account's own connection (`lean_long_polls`, on by
//! default): what goes on the wire, keep-alive, every response framing, and
//! every failure, against the scripted server.

use std::collections::BTreeSet;
use std::time::Duration;

use ilink_http::ErrorKind;
use ilink_proto::BotToken;
use serde_json::json;

use crate::server::{Action, Body, Recorded, TestServer};
use crate::{TOKEN, assert_no_token, builder, transport};

fn batch(cursor: &str) -> serde_json::Value {
    json!({"ret": 0, "msgs": [{"message_id": 7, "from_user_id": "u@im.wechat"}], "get_updates_buf": cursor})
}

fn raw(text: &str, close: bool) -> Action {
    Action::Raw {
        bytes: text.as_bytes().to_vec(),
        close,
    }
}

/// The names of a request's headers.
fn header_names(request: &Recorded) -> BTreeSet<String> {
    request.headers.iter().map(|(n, _)| n.clone()).collect()
}

#[tokio::test]
async fn polls_keep_one_connection_and_send_what_hyper_sends() {
    let server = TestServer::start(|req| {
        Action::json(batch(&format!(
            "next-{}",
            req.json()["get_updates_buf"].as_str().unwrap_or_default()
        )))
    })
    .await;
    let account = transport(server.url()).account(BotToken::new(TOKEN));
    let mut cursor = String::from("c");
    for _ in 0..5 {
        let got = account.get_updates(&cursor, None).await.unwrap();
        assert_eq!(got.msgs.len(), 1);
        cursor = got.get_updates_buf.unwrap();
    }
    assert_eq!(cursor, "next-next-next-next-next-c");
    let lane = server.requests();
    assert_eq!(lane.len(), 5);
    assert!(
        lane.iter().all(|r| r.conn == 0),
        "{:?}",
        lane.iter().map(|r| r.conn).collect::<Vec<_>>()
    );

    // The same call through hyper (the lane switched off).
    let hyper = builder(server.url())
        .lean_long_polls(false)
        .build()
        .unwrap();
    let account = hyper.account(BotToken::new(TOKEN));
    account.get_updates("c", None).await.unwrap();
    let through_hyper = server.requests().pop().unwrap();
    let on_lane = &lane[0];
    assert_eq!(header_names(on_lane), header_names(&through_hyper));
    for name in [
        "host",
        "authorization",
        "content-type",
        "authorizationtype",
        "content-length",
        "ilink-app-id",
        "ilink-app-clientversion",
    ] {
        assert_eq!(on_lane.header(name), through_hyper.header(name), "{name}");
    }
    assert_eq!(
        (on_lane.method.as_str(), on_lane.path.as_str()),
        ("POST", "/ilink/bot/getupdates")
    );
    assert_eq!(on_lane.json(), through_hyper.json());
}

#[tokio::test]
async fn every_response_framing_decodes() {
    let body = batch("framed").to_string();
    let (a, b) = body.split_at(10);
    let chunked = format!(
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{:x};x=y\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\nTrailer: t\r\n\r\n",
        a.len(),
        b.len()
    );
    let close_delimited = format!("HTTP/1.0 200 OK\r\n\r\n{body}");
    let close_header = format!(
        "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let length = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let script = vec![
        raw(&chunked, false),
        raw(&length, false),
        raw(&close_delimited, true),
        raw(&close_header, false),
        raw(&length, false),
    ];
    let script = std::sync::Mutex::new(script.into_iter());
    let server =
        TestServer::start(move |_| script.lock().unwrap().next().unwrap_or(Action::Close)).await;
    let account = transport(server.url()).account(BotToken::new(TOKEN));
    for _ in 0..5 {
        let got = account.get_updates("c", None).await.unwrap();
        assert_eq!(got.get_updates_buf.as_deref(), Some("framed"));
        assert_eq!(got.msgs.len(), 1);
    }
    // Chunked and Content-Length keep the connection; the end of the
    // connection and `Connection: close` do not.
    let conns: Vec<usize> = server.requests().iter().map(|r| r.conn).collect();
    assert_eq!(conns, [0, 0, 0, 1, 2]);
}

#[tokio::test]
async fn a_connection_the_server_closed_while_idle_is_replaced() {
    let body = batch("again").to_string();
    // Every answer is complete and keep-alive, and then the server hangs up.
    let answer = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let server = TestServer::start(move |_| raw(&answer, true)).await;
    let account = transport(server.url()).account(BotToken::new(TOKEN));
    for _ in 0..3 {
        account.get_updates("c", None).await.unwrap();
        // Let the close reach us, as it would between two polls.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let conns: Vec<usize> = server.requests().iter().map(|r| r.conn).collect();
    assert_eq!(conns, [0, 1, 2]);
}

#[tokio::test]
async fn broken_answers_are_typed_errors() {
    let cases: Vec<(&str, Action, ErrorKind)> = vec![
        ("reset", Action::Reset, ErrorKind::Body),
        ("closed", Action::Close, ErrorKind::Body),
        (
            "truncated",
            Action::body(
                200,
                Body::Truncated {
                    declared: 100,
                    data: b"{\"ret\":".to_vec(),
                },
            ),
            ErrorKind::Body,
        ),
        ("garbage", raw("SMTP ready\r\n\r\n", false), ErrorKind::Body),
        (
            "head cut",
            raw("HTTP/1.1 200 OK\r\nContent-Le", true),
            ErrorKind::Body,
        ),
        (
            "chunk cut",
            raw(
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
                true,
            ),
            ErrorKind::Body,
        ),
        (
            "bad chunk",
            raw(
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                false,
            ),
            ErrorKind::Body,
        ),
        (
            "two lengths",
            raw(
                "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
                false,
            ),
            ErrorKind::Body,
        ),
        (
            "too long",
            Action::body(
                200,
                Body::Endless {
                    declared: Some(10_000),
                },
            ),
            ErrorKind::TooLarge { limit: 4096 },
        ),
        (
            "endless chunks",
            Action::body(200, Body::Endless { declared: None }),
            ErrorKind::TooLarge { limit: 4096 },
        ),
        (
            "endless close-delimited",
            raw(
                &format!("HTTP/1.0 200 OK\r\n\r\n{}", "x".repeat(5000)),
                true,
            ),
            ErrorKind::TooLarge { limit: 4096 },
        ),
        ("not JSON", Action::status(200, "<html>"), ErrorKind::Decode),
        (
            "500",
            Action::status(500, "oops"),
            ErrorKind::Status { status: 500 },
        ),
        (
            "-14",
            Action::json(json!({"ret": -14, "errcode": -14, "errmsg": "session timeout"})),
            ErrorKind::Api {
                ret: Some(-14),
                errcode: Some(-14),
                errmsg: Some("session timeout".to_owned()),
            },
        ),
    ];
    for (name, action, expected) in cases {
        let action = std::sync::Mutex::new(Some(action));
        let server =
            TestServer::start(move |_| action.lock().unwrap().take().unwrap_or(Action::Close))
                .await;
        let transport = builder(server.url()).response_limit(4096).build().unwrap();
        let account = transport.account(BotToken::new(TOKEN));
        let err = account.get_updates("c", None).await.unwrap_err();
        assert_eq!(err.kind(), &expected, "{name}: {err:?}");
        assert_eq!(err.context(), Some("ilink/bot/getupdates"), "{name}");
        assert_no_token(&err);
    }
}

#[tokio::test]
async fn a_hang_and_a_524_are_empty_batches_and_the_lane_recovers() {
    let calls = std::sync::atomic::AtomicUsize::new(0);
    let server =
        TestServer::start(
            move |_| match calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) {
                0 => Action::Hang,
                1 => Action::status(524, ""),
                _ => Action::json(batch("after")),
            },
        )
        .await;
    let transport = builder(server.url())
        .long_poll_timeout(Duration::from_millis(200))
        .long_poll_margin(Duration::from_millis(50))
        .build()
        .unwrap();
    let account = transport.account(BotToken::new(TOKEN));
    for _ in 0..2 {
        let empty = account.get_updates("before", None).await.unwrap();
        assert!(empty.msgs.is_empty());
        assert_eq!(empty.get_updates_buf.as_deref(), Some("before"));
    }
    let got = account.get_updates("before", None).await.unwrap();
    assert_eq!(got.get_updates_buf.as_deref(), Some("after"));
    // The hung connection was given up; the 524 (complete, keep-alive)
    // left its connection reusable.
    let conns: Vec<usize> = server.requests().iter().map(|r| r.conn).collect();
    assert_eq!(conns, [0, 1, 1]);
}

/// The loopback certificate (self-signed, for 127.0.0.1 and localhost,
/// valid until 2126) and its key, made with
/// `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 36500
/// -subj "/CN=ilink-rs test loopback" -addext "subjectAltName=IP:127.0.0.1,DNS:localhost"`.
const CERT: &[u8] = include_bytes!("../fixtures/loopback-cert.pem");
const KEY: &[u8] = include_bytes!("../fixtures/loopback-key.pem");

mod tls {
    use std::sync::{Arc, Mutex};

    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::{CERT, KEY};

    fn provider() -> Arc<rustls::crypto::CryptoProvider> {
        Arc::new(rustls::crypto::ring::default_provider())
    }

    fn cert() -> CertificateDer<'static> {
        CertificateDer::from_pem_slice(CERT).unwrap()
    }

    /// A client configuration that trusts the loopback certificate only.
    pub(super) fn client_config() -> rustls::ClientConfig {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(cert()).unwrap();
        rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth()
    }

    /// An HTTPS server on 127.0.0.1 answering every request with `body`
    /// (keep-alive), recording (connection, path) of each; after answering a
    /// path containing `notifystop` it closes the connection (TLS
    /// close_notify, then FIN), as a server retiring an idle connection.
    pub(super) async fn server(body: String) -> (String, Arc<Mutex<Vec<(usize, String)>>>) {
        let config = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert()], PrivateKeyDer::from_pem_slice(KEY).unwrap())
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("https://{}", listener.local_addr().unwrap());
        let log = Arc::new(Mutex::new(Vec::new()));
        let recorded = log.clone();
        tokio::spawn(async move {
            for conn in 0.. {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let acceptor = acceptor.clone();
                let recorded = recorded.clone();
                let body = body.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let mut buf = Vec::new();
                    loop {
                        let head_end = loop {
                            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                                break i + 4;
                            }
                            let mut chunk = [0u8; 4096];
                            match tls.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                        };
                        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
                        let path = head.split(' ').nth(1).unwrap_or_default().to_owned();
                        let len: usize = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length: "))
                            .map_or(0, |v| v.trim().parse().unwrap());
                        while buf.len() < head_end + len {
                            let mut chunk = [0u8; 4096];
                            match tls.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                        }
                        buf.drain(..head_end + len);
                        let retire = path.contains("notifystop");
                        recorded.lock().unwrap().push((conn, path));
                        let answer = format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                            body.len()
                        );
                        if tls.write_all(answer.as_bytes()).await.is_err() {
                            return;
                        }
                        let _ = tls.flush().await;
                        if retire {
                            let _ = tls.shutdown().await;
                            return;
                        }
                    }
                });
            }
        });
        (url, log)
    }
}

#[tokio::test]
async fn polls_over_tls_keep_one_connection_until_the_server_retires_it() {
    let (url, log) = tls::server(batch("tls").to_string()).await;
    let transport = builder(&url)
        .tls_config(tls::client_config())
        .build()
        .unwrap();
    let account = transport.account(BotToken::new(TOKEN));

    account.notify_start().await.unwrap();
    for _ in 0..3 {
        let got = account.get_updates("c", None).await.unwrap();
        assert_eq!(got.get_updates_buf.as_deref(), Some("tls"));
        assert_eq!(got.msgs.len(), 1);
    }
    // The server answers this one and then closes the connection.
    account.notify_stop().await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let got = account.get_updates("c", None).await.unwrap();
    assert_eq!(got.get_updates_buf.as_deref(), Some("tls"));

    let log = log.lock().unwrap().clone();
    let conns: Vec<usize> = log.iter().map(|(c, _)| *c).collect();
    assert_eq!(conns, [0, 0, 0, 0, 0, 1], "{log:?}");
    assert!(log[0].1.ends_with("/notifystart"), "{log:?}");
    assert!(log[5].1.ends_with("/getupdates"), "{log:?}");
}
