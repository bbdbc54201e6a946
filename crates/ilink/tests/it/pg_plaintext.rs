//! PostgreSQL's "TLS off this host" rule judged by every address the client
//! connects to (issue 33): a `hostaddr` overrides the host for connecting,
//! so `host=localhost hostaddr=X` is only as local as X. Against a fake
//! server on loopback that records the first bytes it receives: an
//! SSLRequest, or a StartupMessage (and then the password, in clear).
//!
//! No test here ever connects to an address off loopback: the addresses
//! off loopback (192.0.2.1, a documentation address) appear only in URLs
//! that are refused before any connection, which each test asserts (the
//! refusal is immediate, and the fake sees no connection).

#![cfg(feature = "postgres")]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use ilink::store::{PgStore, StoreError};

/// What a client sends first to ask for TLS.
const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];

/// The password every URL here carries: it must never reach the fake
/// unless the connection is to loopback in plaintext by design.
const PASSWORD: &str = "pw-must-not-leak";

/// A fake PostgreSQL server: each connection's received bytes are sent on
/// the channel when it ends. It refuses TLS (`N`), and to a StartupMessage
/// answers "send your password in clear", as a hostile server would.
struct Fake {
    addr: SocketAddr,
    seen: mpsc::Receiver<Vec<u8>>,
}

impl Fake {
    fn start(ip: &str) -> Fake {
        let listener = TcpListener::bind((ip, 0)).unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, seen) = mpsc::channel();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let tx = tx.clone();
                std::thread::spawn(move || {
                    let _ = tx.send(serve(stream));
                });
            }
        });
        Fake { addr, seen }
    }

    /// The bytes of the next connection, `None` when none comes in `wait`.
    fn next(&self, wait: Duration) -> Option<Vec<u8>> {
        self.seen.recv_timeout(wait).ok()
    }
}

fn serve(mut stream: TcpStream) -> Vec<u8> {
    stream
        .set_read_timeout(Some(Duration::from_secs(3)))
        .unwrap();
    let mut seen = Vec::new();
    let mut first = [0u8; 8];
    if stream.read_exact(&mut first).is_err() {
        return seen;
    }
    seen.extend_from_slice(&first);
    if first == SSL_REQUEST {
        // No TLS here: a client that insists goes away; one that does not
        // sends its StartupMessage in clear next.
        let _ = stream.write_all(b"N");
    } else {
        // The rest of the StartupMessage, then: cleartext password, please.
        let len = u32::from_be_bytes(first[..4].try_into().unwrap()) as usize;
        let mut rest = vec![0u8; len.saturating_sub(8).min(1 << 16)];
        if stream.read_exact(&mut rest).is_err() {
            return seen;
        }
        seen.extend_from_slice(&rest);
        let _ = stream.write_all(&[b'R', 0, 0, 0, 8, 0, 0, 0, 3]);
        // The PasswordMessage, and hang up.
        let mut buf = [0u8; 4096];
        if let Ok(n) = stream.read(&mut buf) {
            seen.extend_from_slice(&buf[..n]);
        }
        return seen;
    }
    // Whatever follows, until the client closes or goes quiet.
    let mut buf = [0u8; 4096];
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 {
            break;
        }
        seen.extend_from_slice(&buf[..n]);
        if seen.len() > 1 << 16 {
            break;
        }
    }
    seen
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Connects (the fake makes it fail), within a bound.
fn open(rt: &tokio::runtime::Runtime, url: &str) -> Result<PgStore, StoreError> {
    rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(20), PgStore::connect(url))
            .await
            .unwrap_or_else(|_| panic!("{url}: no answer in 20 s"))
    })
}

#[test]
fn pg_a_hostaddr_off_loopback_is_refused_before_connecting() {
    let rt = runtime();
    // A fake on loopback that nothing below may reach either: each URL is
    // refused before any lookup or connection.
    let fake = Fake::start("127.0.0.1");
    let port = fake.addr.port();
    let urls = [
        // The bypass: a local host name, a remote hostaddr.
        format!("postgres://bob:{PASSWORD}@localhost:{port}/x?hostaddr=192.0.2.1&sslmode=disable"),
        format!(
            "host=localhost hostaddr=192.0.2.1 port={port} user=bob password={PASSWORD} sslmode=disable"
        ),
        // A remote hostaddr with no host at all.
        format!("hostaddr=192.0.2.1 port={port} user=bob password={PASSWORD} sslmode=disable"),
        format!(
            "hostaddr=::ffff:192.0.2.1 port={port} user=bob password={PASSWORD} sslmode=disable"
        ),
        // A Unix socket overridden by a remote hostaddr.
        format!(
            "host=/run/postgresql hostaddr=192.0.2.1 user=bob password={PASSWORD} sslmode=disable"
        ),
        // One remote entry among local ones.
        format!(
            "host=localhost,localhost hostaddr=127.0.0.1,192.0.2.1 port={port} user=bob password={PASSWORD} sslmode=disable"
        ),
        // A remote name over a loopback hostaddr: TLS for that name, so
        // no plaintext either.
        format!(
            "postgres://bob:{PASSWORD}@db.example.com:{port}/x?hostaddr=127.0.0.1&sslmode=disable"
        ),
        // No address at all.
        format!("user=bob password={PASSWORD} dbname=x sslmode=disable"),
        format!("postgres://bob:{PASSWORD}@/x?sslmode=disable"),
    ];
    for url in &urls {
        let started = Instant::now();
        match open(&rt, url) {
            Err(StoreError::InsecureDatabase) => {}
            other => panic!("{url}: expected InsecureDatabase, got {other:?}"),
        }
        assert!(
            started.elapsed() < Duration::from_millis(500),
            "{url}: refused only after {:?} (a connection was tried)",
            started.elapsed()
        );
    }
    assert_eq!(
        fake.next(Duration::from_millis(300)),
        None,
        "a refused URL reached the fake"
    );
}

#[test]
fn pg_a_remote_name_over_a_loopback_hostaddr_is_reached_over_tls_only() {
    // `host` names the server TLS is verified for; a name off this host
    // over a loopback hostaddr (a tunnel, a port forward) is a remote
    // server: the password only ever goes over TLS. The fake refuses TLS,
    // so the client must go away without a StartupMessage.
    let rt = runtime();
    let fake = Fake::start("127.0.0.1");
    let port = fake.addr.port();
    for url in [
        format!("postgres://bob:{PASSWORD}@db.example.com:{port}/x?hostaddr=127.0.0.1"),
        format!(
            "postgres://bob:{PASSWORD}@db.example.com:{port}/x?hostaddr=127.0.0.1&sslmode=prefer"
        ),
        format!("host=db.example.com hostaddr=127.0.0.1 port={port} user=bob password={PASSWORD}"),
    ] {
        match open(&rt, &url) {
            Err(StoreError::Database(_)) => {}
            other => panic!("{url}: expected a failed TLS connection, got {other:?}"),
        }
        let seen = fake
            .next(Duration::from_secs(5))
            .unwrap_or_else(|| panic!("{url}: the fake saw no connection"));
        assert_eq!(seen, SSL_REQUEST, "{url}: an SSLRequest and nothing else");
        assert!(!contains(&seen, PASSWORD.as_bytes()), "{url}");
        assert_eq!(fake.next(Duration::from_millis(200)), None, "{url}");
    }
}

#[test]
fn pg_a_loopback_hostaddr_is_this_host_and_may_be_plaintext() {
    // Plaintext is for this host only: a loopback hostaddr under
    // `localhost`, or under no host at all. The fake sees the StartupMessage
    // (no SSLRequest): that is the design, and the address is loopback.
    let rt = runtime();
    let mut cases = vec![];
    // The form, on 127.0.0.2 (all of 127.0.0.0/8 is loopback).
    if let Ok(listener) = TcpListener::bind("127.0.0.2:0") {
        drop(listener);
        let fake = Fake::start("127.0.0.2");
        let url = format!(
            "postgres://bob:{PASSWORD}@localhost:{}/x?hostaddr=127.0.0.2",
            fake.addr.port()
        );
        cases.push((fake, url));
    } else {
        eprintln!("127.0.0.2 cannot be bound here: that case is skipped");
    }
    let fake = Fake::start("127.0.0.1");
    let url = format!(
        "hostaddr=127.0.0.1 port={} user=bob password={PASSWORD} dbname=x",
        fake.addr.port()
    );
    cases.push((fake, url));
    for (fake, url) in cases {
        assert!(open(&rt, &url).is_err(), "{url}: the fake is no database");
        let seen = fake
            .next(Duration::from_secs(5))
            .unwrap_or_else(|| panic!("{url}: the fake saw no connection"));
        assert_ne!(seen[..8], SSL_REQUEST, "{url}: plaintext on loopback");
        // A StartupMessage: length, then protocol 3.0, then user=bob.
        assert_eq!(seen[4..8], [0, 3, 0, 0], "{url}");
        assert!(contains(&seen, b"user\0bob\0"), "{url}");
        assert!(
            contains(&seen, PASSWORD.as_bytes()),
            "{url}: the password, in clear"
        );
    }
}
