//! `ilink listen` against a server that answers every getupdates with a
//! chunked body followed by trailer lines without end: the poll fails with a
//! typed error each time, and the process's memory stays bounded.

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::Command;
use tokio::sync::Notify;

const BIN: &str = env!("CARGO_BIN_EXE_ilink");
/// The bound the issue sets for `ilink listen` under this attack.
const RSS_BOUND_KIB: u64 = 64 * 1024;

/// Reads one request head and its body; returns the request line.
async fn read_request(s: &mut TcpStream, buf: &mut Vec<u8>) -> Option<String> {
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
    let line = head.lines().next().unwrap_or_default().to_owned();
    buf.drain(..end + len);
    Some(line)
}

async fn serve(mut s: TcpStream, polls: Arc<AtomicUsize>, polled: Arc<Notify>) {
    let mut buf = Vec::new();
    while let Some(line) = read_request(&mut s, &mut buf).await {
        if line.contains("getupdates") {
            polls.fetch_add(1, Ordering::SeqCst);
            polled.notify_one();
            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n9\r\n{\"ret\":0}\r\n0\r\n";
            if s.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let trailer = format!("X-Trailer: {}\r\n", "a".repeat(60 * 1024));
            while s.write_all(trailer.as_bytes()).await.is_ok() {}
            return;
        }
        let ok = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 9\r\n\r\n{\"ret\":0}";
        if s.write_all(ok.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// The child's peak resident set, from `/proc/PID/status`.
fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn listen_against_endless_trailers_stays_bounded_and_reports_a_typed_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let polls = Arc::new(AtomicUsize::new(0));
    let polled = Arc::new(Notify::new());
    let (p, n) = (polls.clone(), polled.clone());
    let server = tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            tokio::spawn(serve(s, p.clone(), n.clone()));
        }
    });
    let state = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args(["listen", "--token", "tok-hostile", "--base-url", &url])
        .env("ILINK_STATE_DIR", state.path())
        .env_remove("ILINK_ACCOUNT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = child.id().unwrap();
    // Two hostile answers read through (the second after one backoff).
    tokio::time::timeout(Duration::from_secs(30), async {
        while polls.load(Ordering::SeqCst) < 3 {
            polled.notified().await;
        }
    })
    .await
    .expect("ilink listen polled three times");
    let peak = peak_rss_kib(pid);
    eprintln!("ilink listen under endless trailers: peak RSS {peak} KiB");
    child.start_kill().unwrap();
    let out = child.wait_with_output().await.unwrap();
    server.abort();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(peak > 0, "no VmHWM for the child");
    assert!(
        peak < RSS_BOUND_KIB,
        "peak RSS {peak} KiB is over {RSS_BOUND_KIB} KiB"
    );
    assert!(
        stderr.contains("the connection broke"),
        "no typed error reported: {stderr}"
    );
    assert!(!stderr.contains("tok-hostile"), "the token was printed");
}
