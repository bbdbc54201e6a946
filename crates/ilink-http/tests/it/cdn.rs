//! CDN upload (streaming, encrypting, retried) and download (streaming,
//! decrypting, capped).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use ilink_crypto::{MediaKey, ciphertext_size, decrypt, encrypt, md5};
use ilink_http::{DownloadSource, ErrorKind, Progress, Retry, UploadTarget};
use tokio::io::AsyncWrite;

use crate::server::{Action, Body, TestServer};
use crate::{builder, transport};

fn key() -> MediaKey {
    MediaKey::from_bytes(*b"0123456789abcdef")
}

fn plaintext(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

/// A CDN that decrypts each upload and answers with its MD5 as the
/// download parameter.
async fn md5_cdn() -> TestServer {
    let key = key();
    TestServer::start(move |req| match decrypt(&key, &req.body) {
        Ok(plain) => {
            Action::status(200, "").header("x-encrypted-param", &format!("md5-{}", md5(&plain)))
        }
        Err(_) => Action::status(400, "").header("x-error-message", "bad ciphertext"),
    })
    .await
}

#[tokio::test]
async fn uploads_decrypt_to_the_same_md5() {
    let server = md5_cdn().await;
    let transport = builder(server.url())
        .upload_chunk_size(64 * 1024)
        .build()
        .unwrap();
    let sizes = [0usize, 15, 16, 17, 1024 * 1024, 1024 * 1024 + 5];
    for (n, &len) in sizes.iter().enumerate() {
        let data = plaintext(len);
        let last = Arc::new(AtomicU64::new(u64::MAX));
        let seen = last.clone();
        let progress: Progress = Arc::new(move |sent, total| {
            assert!(sent <= total);
            seen.store(sent, Ordering::SeqCst);
        });
        let target = UploadTarget::slot("up/param=", format!("filekey{n}"));
        let param = transport
            .upload(
                &target,
                &key(),
                len as u64,
                || {
                    let data = data.clone();
                    async move { Ok(io::Cursor::new(data)) }
                },
                Some(progress),
            )
            .await
            .unwrap();
        assert_eq!(param, format!("md5-{}", md5(&data)), "len {len}");
        if len > 0 {
            assert_eq!(last.load(Ordering::SeqCst), len as u64);
        }

        let req = server.requests().pop().unwrap();
        assert_eq!(req.method, "POST");
        assert_eq!(req.path, "/c2c/upload");
        assert_eq!(
            req.query.as_deref(),
            Some(format!("encrypted_query_param=up%2Fparam%3D&filekey=filekey{n}").as_str())
        );
        assert_eq!(req.header("Content-Type"), Some("application/octet-stream"));
        assert_eq!(
            req.header("Content-Length"),
            Some(ciphertext_size(len as u64).to_string().as_str())
        );
        for name in [
            "Authorization",
            "iLink-App-Id",
            "X-WECHAT-UIN",
            "AuthorizationType",
        ] {
            assert!(!req.has_header(name), "CDN upload carries {name}");
        }
    }
    assert_eq!(server.count(), sizes.len());
}

#[tokio::test]
async fn upload_to_a_full_url_and_from_a_file() {
    let server = md5_cdn().await;
    let transport = transport(server.url());
    let data = plaintext(300_000);
    let path = std::env::temp_dir().join(format!("ilink-http-upload-{}", std::process::id()));
    std::fs::write(&path, &data).unwrap();
    let target = UploadTarget::full_url(format!("{}/custom/up?token=abc", server.url()));
    let param = transport.upload_file(&target, &key(), &path, None).await;
    std::fs::remove_file(&path).unwrap();
    assert_eq!(param.unwrap(), format!("md5-{}", md5(&data)));
    let req = server.requests().pop().unwrap();
    assert_eq!(req.path, "/custom/up");
    assert_eq!(req.query.as_deref(), Some("token=abc"));
}

#[tokio::test]
async fn plain_http_on_another_port_of_the_cdn_host_is_refused() {
    let server = md5_cdn().await;
    // Same host as the CDN, another port: another server.
    let transport = transport("http://127.0.0.1:9");
    let target = UploadTarget::full_url(format!("{}/custom/up", server.url()));
    let data = plaintext(1000);
    let err = transport
        .upload(
            &target,
            &key(),
            data.len() as u64,
            || {
                let data = data.clone();
                async move { Ok(io::Cursor::new(data)) }
            },
            None,
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("CDN URL"), "{err}");
    assert_eq!(server.count(), 0, "nothing may reach the other port");
}

/// Answers the first `failures` uploads with `fail`, then succeeds.
async fn flaky_cdn(failures: usize, fail: fn() -> Action) -> (TestServer, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let key = key();
    let server = TestServer::start(move |req| {
        if counter.fetch_add(1, Ordering::SeqCst) < failures {
            return fail();
        }
        match decrypt(&key, &req.body) {
            Ok(plain) => {
                Action::status(200, "").header("x-encrypted-param", &format!("md5-{}", md5(&plain)))
            }
            Err(_) => Action::status(400, "").header("x-error-message", "bad ciphertext"),
        }
    })
    .await;
    (server, calls)
}

async fn upload_counting_opens(
    transport: &ilink_http::Transport,
    data: &[u8],
) -> (Result<String, ilink_http::Error>, usize) {
    let opens = AtomicUsize::new(0);
    let result = transport
        .upload(
            &UploadTarget::slot("p", "k"),
            &key(),
            data.len() as u64,
            || {
                opens.fetch_add(1, Ordering::SeqCst);
                let data = data.to_vec();
                async move { Ok(io::Cursor::new(data)) }
            },
            None,
        )
        .await;
    (result, opens.load(Ordering::SeqCst))
}

#[tokio::test]
async fn server_errors_are_retried_with_a_fresh_body() {
    let (server, calls) = flaky_cdn(2, || Action::status(500, "oops")).await;
    let data = plaintext(100_000);
    let (result, opens) = upload_counting_opens(&transport(server.url()), &data).await;
    assert_eq!(result.unwrap(), format!("md5-{}", md5(&data)));
    assert_eq!(opens, 3);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    // Every attempt sent the whole ciphertext.
    for req in server.requests() {
        assert_eq!(req.body.len() as u64, ciphertext_size(data.len() as u64));
    }
}

#[tokio::test]
async fn retries_give_up_after_three_attempts() {
    let (server, _) = flaky_cdn(usize::MAX, || {
        Action::status(503, "").header("x-error-message", "busy")
    })
    .await;
    let started = Instant::now();
    let (result, opens) = upload_counting_opens(&transport(server.url()), b"abc").await;
    let err = result.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Status { status: 503 });
    assert_eq!(err.reason(), Some("busy"));
    assert_eq!(err.context(), Some("cdn upload"));
    assert_eq!(opens, 3);
    assert_eq!(server.count(), 3);
    // Backoff 10 ms then 20 ms.
    assert!(started.elapsed() >= Duration::from_millis(30));
}

#[tokio::test]
async fn a_200_without_the_parameter_is_retried() {
    let (server, _) = flaky_cdn(usize::MAX, || Action::status(200, "")).await;
    let (result, opens) = upload_counting_opens(&transport(server.url()), b"abc").await;
    let err = result.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Decode);
    assert!(err.reason().unwrap().contains("x-encrypted-param"));
    assert_eq!(opens, 3);

    let (server, _) = flaky_cdn(1, || Action::status(200, "")).await;
    let (result, opens) = upload_counting_opens(&transport(server.url()), b"abc").await;
    assert_eq!(result.unwrap(), format!("md5-{}", md5(b"abc")));
    assert_eq!(opens, 2);
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let (server, _) = flaky_cdn(usize::MAX, || {
        Action::status(400, "ignored body").header("x-error-message", "bad filekey")
    })
    .await;
    let (result, opens) = upload_counting_opens(&transport(server.url()), b"abc").await;
    let err = result.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Status { status: 400 });
    assert_eq!(err.reason(), Some("bad filekey"));
    assert!(!err.is_retryable());
    assert_eq!(opens, 1);
    assert_eq!(server.count(), 1);

    let (server, _) = flaky_cdn(usize::MAX, || Action::status(413, "too big")).await;
    let (result, _) = upload_counting_opens(&transport(server.url()), b"abc").await;
    assert_eq!(result.unwrap_err().reason(), Some("too big"));
    assert_eq!(server.count(), 1);
}

#[tokio::test]
async fn network_errors_are_retried() {
    let (server, _) = flaky_cdn(2, || Action::Reset).await;
    let (result, opens) = upload_counting_opens(&transport(server.url()), b"hello").await;
    assert_eq!(result.unwrap(), format!("md5-{}", md5(b"hello")));
    assert_eq!(opens, 3);
}

#[tokio::test]
async fn a_source_of_the_wrong_length_fails_without_retry() {
    let server = md5_cdn().await;
    let transport = builder(server.url())
        .upload_chunk_size(1024)
        .build()
        .unwrap();
    for (actual, declared) in [(5000usize, 5001u64), (5001, 5000), (0, 10)] {
        let data = plaintext(actual);
        let opens = AtomicUsize::new(0);
        let err = transport
            .upload(
                &UploadTarget::slot("p", "k"),
                &key(),
                declared,
                || {
                    opens.fetch_add(1, Ordering::SeqCst);
                    let data = data.clone();
                    async move { Ok(io::Cursor::new(data)) }
                },
                None,
            )
            .await
            .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::InvalidInput, "{actual}/{declared}");
        assert_eq!(opens.load(Ordering::SeqCst), 1);
    }
    assert_eq!(server.count(), 0, "no short or long upload completed");
}

struct FailingReader;

impl tokio::io::AsyncRead for FailingReader {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        _: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Poll::Ready(Err(io::Error::other("disk on fire")))
    }
}

#[tokio::test]
async fn source_errors_are_io() {
    let server = md5_cdn().await;
    let transport = transport(server.url());
    let err = transport
        .upload(
            &UploadTarget::slot("p", "k"),
            &key(),
            10,
            || async { Ok(FailingReader) },
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Io);
    assert_eq!(
        err.to_string(),
        "cdn upload: I/O error reading the upload source"
    );
    let err = transport
        .upload(
            &UploadTarget::slot("p", "k"),
            &key(),
            10,
            || async { Err::<FailingReader, _>(io::Error::from(io::ErrorKind::NotFound)) },
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Io);
    assert_eq!(server.count(), 0);
}

#[tokio::test]
async fn an_upload_stalled_by_the_cdn_times_out() {
    let server = TestServer::start(|_| Action::Hang).await;
    let transport = builder(server.url())
        .upload_timeout(Duration::from_millis(200))
        .upload_retry(Retry::never())
        .build()
        .unwrap();
    let (result, opens) = upload_counting_opens(&transport, b"abc").await;
    assert!(result.unwrap_err().is_timeout());
    assert_eq!(opens, 1);
}

/// A CDN that serves `body` (declared at its full length) for downloads.
async fn serving(body: Vec<u8>) -> TestServer {
    TestServer::start(move |_| Action::status(200, body.clone())).await
}

#[tokio::test]
async fn downloads_decrypt_while_streaming() {
    let data = plaintext(700_000);
    let sealed = encrypt(&key(), &data);
    let server = TestServer::start(move |_| {
        Action::body(
            200,
            Body::Drip {
                data: sealed.clone(),
                piece: 100_003,
                interval: Duration::from_millis(1),
            },
        )
    })
    .await;
    let transport = transport(server.url());
    let got = transport
        .download_bytes(&DownloadSource::param("a b/c"), Some(&key()), None)
        .await
        .unwrap();
    assert!(got == data, "decrypted bytes differ");
    let req = server.requests().pop().unwrap();
    assert_eq!(req.method, "GET");
    assert_eq!(req.path, "/c2c/download");
    assert_eq!(
        req.query.as_deref(),
        Some("encrypted_query_param=a%20b%2Fc")
    );
    assert!(!req.has_header("Authorization"));

    // Into any writer; the count is of plaintext bytes.
    let mut sink = Vec::new();
    let n = transport
        .download_to(
            &DownloadSource::full_url(format!("{}/full?x=1", server.url())),
            Some(&key()),
            &mut sink,
            None,
        )
        .await
        .unwrap();
    assert_eq!(n, data.len() as u64);
    assert_eq!(server.requests().pop().unwrap().path, "/full");
}

#[tokio::test]
async fn downloads_without_a_key_are_raw() {
    let server = serving(b"plain picture".to_vec()).await;
    let got = transport(server.url())
        .download_bytes(&DownloadSource::param("p"), None, None)
        .await
        .unwrap();
    assert_eq!(got, b"plain picture");
}

#[tokio::test]
async fn a_download_above_the_cap_fails_without_buffering() {
    // Declared too large: refused from the header alone.
    let server = TestServer::start(|_| {
        Action::body(
            200,
            Body::Endless {
                declared: Some(1 << 40),
            },
        )
    })
    .await;
    let started = Instant::now();
    let err = transport(server.url())
        .download_bytes(&DownloadSource::param("p"), None, None)
        .await
        .unwrap_err();
    assert_eq!(
        err.kind(),
        &ErrorKind::TooLarge {
            limit: ilink_proto::consts::MAX_DOWNLOAD_BYTES
        }
    );
    assert!(started.elapsed() < Duration::from_secs(2));

    // Endless and undeclared: stopped as soon as it passes the cap, with
    // nothing past the cap written.
    let server = TestServer::start(|_| Action::body(200, Body::Endless { declared: None })).await;
    let mut sink = CountingWriter::default();
    let started = Instant::now();
    let err = transport(server.url())
        .download_to(&DownloadSource::param("p"), None, &mut sink, Some(1 << 20))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::TooLarge { limit: 1 << 20 });
    assert!(sink.written <= 1 << 20);
    assert!(started.elapsed() < Duration::from_secs(2));

    // The transport's default cap applies too.
    let transport = builder(server.url()).download_cap(1000).build().unwrap();
    let err = transport
        .download_bytes(&DownloadSource::param("p"), Some(&key()), None)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::TooLarge { limit: 1000 });
}

#[tokio::test]
async fn truncated_or_corrupt_downloads_fail() {
    let sealed = encrypt(&key(), &plaintext(1000));
    let cut = sealed[..500].to_vec();
    let server = TestServer::start(move |_| {
        Action::body(
            200,
            Body::Truncated {
                declared: 1008,
                data: cut.clone(),
            },
        )
    })
    .await;
    let err = transport(server.url())
        .download_bytes(&DownloadSource::param("p"), Some(&key()), None)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Body);
    assert_eq!(err.context(), Some("cdn download"));

    // Complete as declared, but not whole blocks.
    let server = serving(sealed[..1000].to_vec()).await;
    let err = transport(server.url())
        .download_bytes(&DownloadSource::param("p"), Some(&key()), None)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Decrypt);
    // Whole blocks, wrong key: bad padding.
    let server = serving(sealed.clone()).await;
    let err = transport(server.url())
        .download_bytes(
            &DownloadSource::param("p"),
            Some(&MediaKey::from_bytes([9; 16])),
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Decrypt);
    assert!(!err.is_retryable());
    // Empty ciphertext.
    let server = serving(Vec::new()).await;
    let err = transport(server.url())
        .download_bytes(&DownloadSource::param("p"), Some(&key()), None)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Decrypt);
}

#[tokio::test]
async fn download_errors_and_stalls() {
    let server = TestServer::start(|req| match req.query.as_deref() {
        Some("encrypted_query_param=missing") => {
            Action::status(404, "").header("x-error-message", "file expired")
        }
        Some("encrypted_query_param=stall") => Action::body(
            200,
            Body::Drip {
                data: vec![0; 64],
                piece: 16,
                interval: Duration::from_secs(5),
            },
        ),
        _ => Action::Hang,
    })
    .await;
    let transport = builder(server.url())
        .download_idle_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let err = transport
        .download_bytes(&DownloadSource::param("missing"), None, None)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404));
    assert_eq!(err.reason(), Some("file expired"));

    for param in ["stall", "hang"] {
        let started = Instant::now();
        let err = transport
            .download_bytes(&DownloadSource::param(param), None, None)
            .await
            .unwrap_err();
        assert!(err.is_timeout(), "{param}: {err:?}");
        assert!(started.elapsed() < Duration::from_secs(1), "{param}");
    }

    // The overall deadline holds even while bytes keep coming.
    let server = TestServer::start(|_| {
        Action::body(
            200,
            Body::Drip {
                data: vec![0; 4096],
                piece: 16,
                interval: Duration::from_millis(20),
            },
        )
    })
    .await;
    let transport = builder(server.url())
        .download_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = transport
        .download_bytes(&DownloadSource::param("p"), None, None)
        .await
        .unwrap_err();
    assert!(err.is_timeout());
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[tokio::test]
async fn writer_errors_are_io() {
    let server = serving(encrypt(&key(), b"data")).await;
    let err = transport(server.url())
        .download_to(
            &DownloadSource::param("p"),
            Some(&key()),
            &mut BrokenWriter,
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Io);
    assert_eq!(
        err.to_string(),
        "cdn download: I/O error writing the download"
    );
}

#[derive(Default)]
struct CountingWriter {
    written: usize,
}

impl AsyncWrite for CountingWriter {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.written += buf.len();
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

struct BrokenWriter;

impl AsyncWrite for BrokenWriter {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, _: &[u8]) -> Poll<io::Result<usize>> {
        Poll::Ready(Err(io::Error::from(io::ErrorKind::BrokenPipe)))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// A CDN whose first `failures` downloads answer `fail`, then `body`.
async fn flaky_download(failures: usize, fail: fn() -> Action, body: Vec<u8>) -> TestServer {
    let calls = Arc::new(AtomicUsize::new(0));
    TestServer::start(move |_| {
        if calls.fetch_add(1, Ordering::SeqCst) < failures {
            return fail();
        }
        Action::status(200, body.clone())
    })
    .await
}

#[tokio::test]
async fn a_download_that_fails_before_its_first_byte_is_tried_again() {
    let data = plaintext(50_000);
    let sealed = encrypt(&key(), &data);
    // Two 500s, then the media: the third attempt gets it.
    let server = flaky_download(2, || Action::status(500, "busy"), sealed.clone()).await;
    let got = transport(server.url())
        .download_bytes(&DownloadSource::param("p"), Some(&key()), None)
        .await
        .unwrap();
    assert!(got == data);
    assert_eq!(server.count(), 3);
    // Failing every time: three attempts, then the last error.
    let server = flaky_download(usize::MAX, || Action::status(503, ""), sealed.clone()).await;
    let err = transport(server.url())
        .download_bytes(&DownloadSource::param("p"), Some(&key()), None)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Status { status: 503 });
    assert_eq!(server.count(), 3);
    // A refusal is not retried.
    let server = flaky_download(usize::MAX, || Action::status(404, ""), sealed).await;
    let err = transport(server.url())
        .download_bytes(&DownloadSource::param("p"), Some(&key()), None)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Status { status: 404 });
    assert_eq!(server.count(), 1);
}

#[tokio::test]
async fn a_download_cut_after_bytes_were_written_is_not_tried_again() {
    let data = plaintext(200_000);
    let server = TestServer::start(move |_| {
        Action::body(
            200,
            Body::Truncated {
                declared: data.len() as u64,
                data: data[..100_000].to_vec(),
            },
        )
    })
    .await;
    let mut sink = Vec::new();
    let err = transport(server.url())
        .download_to(&DownloadSource::param("p"), None, &mut sink, None)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Body);
    assert!(!sink.is_empty(), "part of the media reached the writer");
    // The writer holds part of the media: another attempt would append to
    // it, so there is none.
    assert_eq!(server.count(), 1);
}
