//! HTTP/2 servers (the `h2` crate over TLS, ALPN `h2`) that reset streams,
//! go away, flood, drip or hold, and the client's answers to each.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use h2::Reason;
use h2::server::SendResponse;
use ilink_http::{ErrorKind, Transport};
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};

use crate::{DEADLINE, LIMIT, account, builder, send_fails};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Script {
    /// Reset every stream (`INTERNAL_ERROR`).
    ResetAll,
    /// Refuse the first stream of all (`REFUSED_STREAM`), answer the rest.
    RefuseFirst,
    /// Data frames past the response limit, without end.
    EndlessBody,
    /// A response head with 5,000 headers.
    HeaderFlood,
    /// One byte a second.
    SlowDrip,
    /// Half the declared body, then the connection is dropped.
    DroppedMidBody,
    /// Hold every stream until `held` streams are open at once, then
    /// answer them all; `held` is set per test.
    HoldUntil(usize),
    /// Hold the first stream, send GOAWAY, then answer it.
    GoAwayWhileHolding,
    /// Hold streams until two are open, then drop the connection.
    DropWithTwoHeld,
}

struct Server {
    url: String,
    root: Vec<u8>,
    conns: Arc<AtomicUsize>,
    streams: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    async fn start(script: Script, max_streams: u32) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // h2 and http/1.1 offered; the client's first choice, h2, is taken.
        let (config, root) = crate::tls::server(true);
        let acceptor = tokio_rustls::TlsAcceptor::from(config);
        let conns = Arc::new(AtomicUsize::new(0));
        let streams = Arc::new(AtomicUsize::new(0));
        let (c, st) = (conns.clone(), streams.clone());
        // Shared across connections: the streams open now, and a wake-up
        // when that changes.
        let open = Arc::new(watch::Sender::new(0usize));
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                c.fetch_add(1, Ordering::SeqCst);
                let acceptor = acceptor.clone();
                let st = st.clone();
                let open = open.clone();
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let Ok(mut conn) = h2::server::Builder::new()
                        .max_concurrent_streams(max_streams)
                        .handshake::<_, Bytes>(tls)
                        .await
                    else {
                        return;
                    };
                    let mut first = true;
                    let gone = Arc::new(Notify::new());
                    loop {
                        let accepted = tokio::select! {
                            accepted = conn.accept() => accepted,
                            () = gone.notified() => {
                                if script == Script::GoAwayWhileHolding {
                                    conn.graceful_shutdown();
                                    // Drive the connection so that GOAWAY
                                    // goes out and the held stream is
                                    // answered; it ends when all are done.
                                    // A stream that still arrives is refused
                                    // unprocessed, as a server going away
                                    // does.
                                    while let Some(Ok((_, mut late))) = conn.accept().await {
                                        late.send_reset(Reason::REFUSED_STREAM);
                                    }
                                }
                                return;
                            }
                        };
                        let Some(Ok((_req, respond))) = accepted else {
                            return;
                        };
                        let n = st.fetch_add(1, Ordering::SeqCst);
                        let is_first = std::mem::replace(&mut first, false);
                        let open = open.clone();
                        let gone = gone.clone();
                        tokio::spawn(async move {
                            stream(script, n, is_first, respond, &open, &gone).await;
                        });
                    }
                });
            }
        });
        Self {
            url: format!("https://{addr}"),
            root,
            conns,
            streams,
            task,
        }
    }

    fn transport(&self) -> Transport {
        builder(&self.url)
            .add_root_certificate(self.root.clone())
            .build()
            .unwrap()
    }
}

fn ok_head() -> hyper::Response<()> {
    hyper::Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(())
        .unwrap()
}

fn answer_ok(mut respond: SendResponse<Bytes>) {
    if let Ok(mut body) = respond.send_response(ok_head(), false) {
        let _ = body.send_data(Bytes::from_static(br#"{"ret":0}"#), true);
    }
}

/// Waits until `target` streams (over all connections) have arrived here.
async fn hold_until(open: &watch::Sender<usize>, target: usize) {
    open.send_modify(|n| *n += 1);
    let mut rx = open.subscribe();
    let _ = rx.wait_for(|n| *n >= target).await;
}

async fn stream(
    script: Script,
    n: usize,
    first: bool,
    mut respond: SendResponse<Bytes>,
    open: &watch::Sender<usize>,
    gone: &Notify,
) {
    match script {
        Script::ResetAll => respond.send_reset(Reason::INTERNAL_ERROR),
        Script::RefuseFirst if n == 0 => respond.send_reset(Reason::REFUSED_STREAM),
        Script::RefuseFirst => answer_ok(respond),
        Script::EndlessBody => {
            let Ok(mut body) = respond.send_response(ok_head(), false) else {
                return;
            };
            let chunk = Bytes::from(vec![b' '; 16 * 1024]);
            loop {
                body.reserve_capacity(chunk.len());
                match std::future::poll_fn(|cx| body.poll_capacity(cx)).await {
                    Some(Ok(_)) => {}
                    _ => return,
                }
                if body.send_data(chunk.clone(), false).is_err() {
                    return;
                }
            }
        }
        Script::HeaderFlood => {
            let mut head = hyper::Response::builder().status(200);
            for i in 0..5000 {
                head = head.header(format!("x-flood-{i}"), "d".repeat(100));
            }
            let _ = respond.send_response(head.body(()).unwrap(), true);
            // Keep the stream until the client gives up on it.
            let _ = std::future::poll_fn(|cx| respond.poll_reset(cx)).await;
        }
        Script::SlowDrip => {
            let head = hyper::Response::builder()
                .status(200)
                .header("content-length", "100")
                .body(())
                .unwrap();
            let Ok(mut body) = respond.send_response(head, false) else {
                return;
            };
            for _ in 0..100 {
                if body.send_data(Bytes::from_static(b" "), false).is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
        Script::DroppedMidBody => {
            let head = hyper::Response::builder()
                .status(200)
                .header("content-length", "18")
                .body(())
                .unwrap();
            if let Ok(mut body) = respond.send_response(head, false) {
                let _ = body.send_data(Bytes::from_static(br#"{"ret":0"#), false);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
            gone.notify_one();
        }
        Script::HoldUntil(target) => {
            hold_until(open, target).await;
            answer_ok(respond);
        }
        Script::DropWithTwoHeld => {
            hold_until(open, 2).await;
            gone.notify_one();
            // Keep the stream open: the connection goes, not the stream.
            tokio::time::sleep(Duration::from_secs(10)).await;
            drop(respond);
        }
        Script::GoAwayWhileHolding => {
            if first {
                gone.notify_one();
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            answer_ok(respond);
        }
    }
}

async fn kind_of(script: Script) -> ErrorKind {
    let server = Server::start(script, 100).await;
    let transport = server.transport();
    let kind = send_fails(&account(&transport)).await;
    assert_eq!(transport.connections().http1, 0, "h2 was negotiated");
    kind
}

#[tokio::test]
async fn hostile_answers_over_h2() {
    use ErrorKind::*;
    let cases = [
        (Script::ResetAll, Body),
        (Script::EndlessBody, TooLarge { limit: LIMIT }),
        (Script::HeaderFlood, Body),
        (Script::SlowDrip, Timeout),
        (Script::DroppedMidBody, Body),
    ];
    for (script, expected) in cases {
        assert_eq!(kind_of(script).await, expected, "{script:?}");
    }
}

#[tokio::test]
async fn a_refused_stream_is_sent_again() {
    let server = Server::start(Script::RefuseFirst, 100).await;
    let transport = server.transport();
    account(&transport)
        .send_message(crate::send_request())
        .await
        .unwrap();
    assert_eq!(server.streams.load(Ordering::SeqCst), 2);
}

/// The server allows 2 streams a connection; 5 accounts' long-polls are all
/// held at once, on 3 connections.
#[tokio::test]
async fn more_polls_than_streams_open_more_connections() {
    let server = Server::start(Script::HoldUntil(5), 2).await;
    let transport = server.transport();
    let polls: Vec<_> = (0..5)
        .map(|i| {
            let account = account(&transport);
            tokio::spawn(async move { account.get_updates(&format!("c{i}"), Some(DEADLINE)).await })
        })
        .collect();
    for poll in polls {
        let batch = poll.await.unwrap().unwrap();
        // Answered by the server (ret 0, its cursor absent), not an empty
        // batch from a client-side timeout.
        assert_eq!(
            batch.get_updates_buf,
            None,
            "streams {} conns {} open {:?}",
            server.streams.load(Ordering::SeqCst),
            server.conns.load(Ordering::SeqCst),
            transport.connections()
        );
    }
    assert_eq!(server.streams.load(Ordering::SeqCst), 5);
    assert_eq!(server.conns.load(Ordering::SeqCst), 3);
}

/// A dropped connection fails its own streams only; the next calls open a
/// new connection.
#[tokio::test]
async fn a_dropped_connection_fails_its_streams_and_the_next_call_reconnects() {
    let server = Server::start(Script::DropWithTwoHeld, 100).await;
    let transport = server.transport();
    let a = account(&transport);
    let b = account(&transport);
    let (ra, rb) = tokio::join!(
        a.send_message(crate::send_request()),
        b.send_message(crate::send_request())
    );
    for r in [ra, rb] {
        let err = r.unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Body, "{err:?}");
        assert!(err.is_retryable());
    }
    assert_eq!(server.conns.load(Ordering::SeqCst), 1);
}

/// GOAWAY while a stream is held: that stream is still answered, and the
/// next call goes out on a new connection.
#[tokio::test]
async fn goaway_lets_held_streams_finish_and_new_ones_reconnect() {
    let server = Server::start(Script::GoAwayWhileHolding, 100).await;
    let transport = server.transport();
    let a = account(&transport);
    a.send_message(crate::send_request()).await.unwrap();
    a.send_message(crate::send_request()).await.unwrap();
    assert_eq!(server.conns.load(Ordering::SeqCst), 2);
}
