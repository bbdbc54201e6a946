//! HTTP/1.1 servers that answer as a hostile or broken one would, over plain
//! TCP and over TLS (ALPN `http/1.1` only).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ilink_http::{ErrorKind, Transport};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::{LIMIT, account, builder, send_fails};

/// What the server answers every request with.
#[derive(Clone, Copy, Debug)]
enum Script {
    /// A chunked body, its last chunk, then trailer lines without end.
    EndlessTrailers,
    /// One-byte chunks, each with a 4,000-byte chunk extension, forever.
    EndlessChunkExtensions,
    /// A chunked body of zeros without end (past the response limit).
    EndlessChunkedBody,
    /// A `Content-Length` larger than the limit.
    DeclaredTooLarge,
    /// Header lines without end.
    HeaderFlood,
    /// A 100-byte body, one byte a second.
    SlowDrip,
    /// Half of the declared body, then the connection closes.
    ClosedMidBody,
    /// A good answer, then the connection closes while idle (no
    /// `Connection: close`).
    GoodThenIdleClose,
}

const OK_JSON: &[u8] = br#"{"ret":0}"#;

struct Server {
    url: String,
    /// Connections accepted.
    conns: Arc<AtomicUsize>,
    /// Requests read.
    requests: Arc<AtomicUsize>,
    root: Option<Vec<u8>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    async fn start(script: Script, tls: bool) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (acceptor, root, scheme) = if tls {
            let (config, root) = crate::tls::server(false);
            (
                Some(tokio_rustls::TlsAcceptor::from(config)),
                Some(root),
                "https",
            )
        } else {
            (None, None, "http")
        };
        let conns = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(AtomicUsize::new(0));
        let (c, r) = (conns.clone(), requests.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                c.fetch_add(1, Ordering::SeqCst);
                let acceptor = acceptor.clone();
                let r = r.clone();
                tokio::spawn(async move {
                    match acceptor {
                        None => serve(tcp, script, &r).await,
                        Some(acceptor) => {
                            if let Ok(tls) = acceptor.accept(tcp).await {
                                serve(tls, script, &r).await;
                            }
                        }
                    }
                });
            }
        });
        Self {
            url: format!("{scheme}://{addr}"),
            conns,
            requests,
            root,
            task,
        }
    }

    fn transport(&self) -> Transport {
        let mut b = builder(&self.url);
        if let Some(root) = &self.root {
            b = b.add_root_certificate(root.clone());
        }
        b.build().unwrap()
    }
}

/// Reads requests and answers each as `script` says.
async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    script: Script,
    requests: &AtomicUsize,
) {
    let mut buf = Vec::new();
    loop {
        if read_request(&mut s, &mut buf).await.is_none() {
            return;
        }
        requests.fetch_add(1, Ordering::SeqCst);
        if answer(&mut s, script).await.is_err() {
            return;
        }
        if matches!(script, Script::GoodThenIdleClose) {
            // Idle for a moment, then gone, as a server's keep-alive timer
            // would do it.
            tokio::time::sleep(Duration::from_millis(50)).await;
            return;
        }
    }
}

async fn answer<S: AsyncWrite + Unpin>(s: &mut S, script: Script) -> std::io::Result<()> {
    let chunked =
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    match script {
        Script::EndlessTrailers => {
            s.write_all(chunked).await?;
            s.write_all(b"9\r\n{\"ret\":0}\r\n0\r\n").await?;
            let line = format!("X-Trailer: {}\r\n", "a".repeat(60 * 1024));
            loop {
                s.write_all(line.as_bytes()).await?;
            }
        }
        Script::EndlessChunkExtensions => {
            s.write_all(chunked).await?;
            let chunk = format!("1;ext={}\r\n{{\r\n", "b".repeat(4000));
            loop {
                s.write_all(chunk.as_bytes()).await?;
            }
        }
        Script::EndlessChunkedBody => {
            s.write_all(chunked).await?;
            let zeros = vec![b' '; 64 * 1024];
            loop {
                s.write_all(format!("{:x}\r\n", zeros.len()).as_bytes())
                    .await?;
                s.write_all(&zeros).await?;
                s.write_all(b"\r\n").await?;
            }
        }
        Script::DeclaredTooLarge => {
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", LIMIT * 100);
            s.write_all(head.as_bytes()).await?;
            let zeros = vec![b' '; 64 * 1024];
            loop {
                s.write_all(&zeros).await?;
            }
        }
        Script::HeaderFlood => {
            s.write_all(b"HTTP/1.1 200 OK\r\n").await?;
            let line = format!("X-Flood: {}\r\n", "c".repeat(100));
            loop {
                s.write_all(line.as_bytes()).await?;
            }
        }
        Script::SlowDrip => {
            s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
                .await?;
            loop {
                s.write_all(b" ").await?;
                s.flush().await?;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
        Script::ClosedMidBody => {
            s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 18\r\n\r\n{\"ret\":0")
                .await?;
            s.flush().await?;
            s.shutdown().await?;
            Err(std::io::ErrorKind::ConnectionAborted.into())
        }
        Script::GoodThenIdleClose => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                OK_JSON.len()
            );
            s.write_all(head.as_bytes()).await?;
            s.write_all(OK_JSON).await?;
            s.flush().await
        }
    }
}

/// Reads one request head and its `Content-Length` body; `None` at EOF.
async fn read_request<S: AsyncRead + Unpin>(s: &mut S, buf: &mut Vec<u8>) -> Option<()> {
    let end = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
        let mut chunk = [0u8; 4096];
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < end + len {
        let mut chunk = [0u8; 4096];
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    buf.drain(..end + len);
    Some(())
}

async fn kind_of(script: Script, tls: bool) -> ErrorKind {
    let server = Server::start(script, tls).await;
    let transport = server.transport();
    let kind = send_fails(&account(&transport)).await;
    assert_eq!(
        server.requests.load(Ordering::SeqCst),
        1,
        "{script:?}: sent once"
    );
    kind
}

async fn every_hostile_answer_is_a_typed_error(tls: bool) {
    use ErrorKind::*;
    let cases = [
        (Script::EndlessTrailers, Body),
        (Script::EndlessChunkExtensions, Body),
        (Script::EndlessChunkedBody, TooLarge { limit: LIMIT }),
        (Script::DeclaredTooLarge, TooLarge { limit: LIMIT }),
        (Script::HeaderFlood, Body),
        (Script::SlowDrip, Timeout),
        (Script::ClosedMidBody, Body),
    ];
    for (script, expected) in cases {
        let kind = kind_of(script, tls).await;
        assert_eq!(kind, expected, "{script:?} (tls: {tls})");
    }
}

#[tokio::test]
async fn hostile_answers_over_plain_http1() {
    every_hostile_answer_is_a_typed_error(false).await;
}

#[tokio::test]
async fn hostile_answers_over_tls_http1() {
    every_hostile_answer_is_a_typed_error(true).await;
}

/// A long-poll answered with endless trailers is an error, not an empty
/// batch, and does not hold the trailers.
#[tokio::test]
async fn a_long_poll_with_endless_trailers_fails_fast() {
    let server = Server::start(Script::EndlessTrailers, true).await;
    let transport = server.transport();
    let started = std::time::Instant::now();
    let err = account(&transport)
        .get_updates("c", None)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Body, "{err:?}");
    assert!(
        started.elapsed() < crate::DEADLINE,
        "{:?}",
        started.elapsed()
    );
    crate::assert_peak_rss();
}

/// A kept connection that the server closed while idle is not written to:
/// the next call goes out on a new connection and succeeds.
#[tokio::test]
async fn an_idle_connection_the_server_closed_is_replaced_transparently() {
    for tls in [false, true] {
        let server = Server::start(Script::GoodThenIdleClose, tls).await;
        let transport = server.transport();
        let account = account(&transport);
        account.send_message(crate::send_request()).await.unwrap();
        // The server closes its side 50 ms after answering.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while transport.connections().http1 > 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "the close was never seen"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        account.send_message(crate::send_request()).await.unwrap();
        assert_eq!(server.conns.load(Ordering::SeqCst), 2, "tls: {tls}");
        assert_eq!(server.requests.load(Ordering::SeqCst), 2, "tls: {tls}");
    }
}
