//! A tiny scripted HTTP/1.1 server on 127.0.0.1 that records every request
//! and answers as the test's handler says, faults included (hang, reset,
//! truncated or endless bodies, slow drip).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request as the server received it.
#[derive(Clone, Debug)]
pub(crate) struct Recorded {
    /// Which connection it came on (numbered from 0 in accept order).
    pub(crate) conn: usize,
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) query: Option<String>,
    /// Header names lowercased, in the order received.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Recorded {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn has_header(&self, name: &str) -> bool {
        self.header(name).is_some()
    }

    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("request body is JSON")
    }
}

/// What the server does with a request.
pub(crate) enum Action {
    Respond(Reply),
    /// Never answer (the connection stays open).
    Hang,
    /// Close the connection without an answer.
    Close,
    /// Reset the connection (RST) without an answer.
    Reset,
    /// Write these bytes as the whole answer (status line included), then
    /// close the connection when `close` is set.
    #[allow(dead_code)]
    Raw {
        bytes: Vec<u8>,
        close: bool,
    },
}

pub(crate) struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Body,
    delay: Duration,
}

pub(crate) enum Body {
    Full(Vec<u8>),
    /// Declare `declared` bytes, send `data`, close.
    Truncated {
        declared: u64,
        data: Vec<u8>,
    },
    /// Send `data` in `piece`-sized writes, `interval` apart.
    Drip {
        data: Vec<u8>,
        piece: usize,
        interval: Duration,
    },
    /// Zeros until the client goes away; `Content-Length: declared` or
    /// chunked when `None`.
    Endless {
        declared: Option<u64>,
    },
}

impl Action {
    pub(crate) fn json(value: serde_json::Value) -> Self {
        Self::status(200, value.to_string()).header("Content-Type", "application/json")
    }

    pub(crate) fn status(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self::body(status, Body::Full(body.into()))
    }

    pub(crate) fn body(status: u16, body: Body) -> Self {
        Self::Respond(Reply {
            status,
            headers: Vec::new(),
            body,
            delay: Duration::ZERO,
        })
    }

    pub(crate) fn header(mut self, name: &str, value: &str) -> Self {
        if let Self::Respond(reply) = &mut self {
            reply.headers.push((name.to_owned(), value.to_owned()));
        }
        self
    }

    pub(crate) fn delay(mut self, delay: Duration) -> Self {
        if let Self::Respond(reply) = &mut self {
            reply.delay = delay;
        }
        self
    }
}

type Handler = dyn Fn(&Recorded) -> Action + Send + Sync;

pub(crate) struct TestServer {
    url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestServer {
    pub(crate) async fn start(
        handler: impl Fn(&Recorded) -> Action + Send + Sync + 'static,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let recorded = requests.clone();
        let task = tokio::spawn(async move {
            for conn in 0.. {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let _ = stream.set_nodelay(true);
                let handler = handler.clone();
                let recorded = recorded.clone();
                tokio::spawn(async move {
                    let _ = serve(conn, stream, &*handler, &recorded).await;
                });
            }
        });
        Self {
            url,
            requests,
            task,
        }
    }

    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    pub(crate) fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    pub(crate) fn count(&self) -> usize {
        self.requests.lock().unwrap().len()
    }
}

async fn serve(
    conn: usize,
    mut stream: TcpStream,
    handler: &Handler,
    recorded: &Mutex<Vec<Recorded>>,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    loop {
        let Some(request) = read_request(conn, &mut stream, &mut buf).await? else {
            return Ok(());
        };
        let action = handler(&request);
        recorded.lock().unwrap().push(request);
        let reply = match action {
            Action::Respond(reply) => reply,
            Action::Hang => {
                tokio::time::sleep(Duration::from_secs(60)).await;
                return Ok(());
            }
            Action::Close => return Ok(()),
            Action::Reset => {
                stream.set_zero_linger()?;
                return Ok(());
            }
            Action::Raw { bytes, close } => {
                stream.write_all(&bytes).await?;
                stream.flush().await?;
                if close {
                    return Ok(());
                }
                continue;
            }
        };
        if !reply.delay.is_zero() {
            tokio::time::sleep(reply.delay).await;
        }
        let mut head = format!("HTTP/1.1 {} X\r\n", reply.status);
        for (name, value) in &reply.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        match &reply.body {
            Body::Full(data) | Body::Drip { data, .. } => {
                head.push_str(&format!("Content-Length: {}\r\n\r\n", data.len()));
            }
            Body::Truncated { declared, .. } => {
                head.push_str(&format!("Content-Length: {declared}\r\n\r\n"));
            }
            Body::Endless { declared: Some(n) } => {
                head.push_str(&format!("Content-Length: {n}\r\n\r\n"));
            }
            Body::Endless { declared: None } => {
                head.push_str("Transfer-Encoding: chunked\r\n\r\n");
            }
        }
        stream.write_all(head.as_bytes()).await?;
        match reply.body {
            Body::Full(data) => stream.write_all(&data).await?,
            Body::Drip {
                data,
                piece,
                interval,
            } => {
                for chunk in data.chunks(piece.max(1)) {
                    stream.write_all(chunk).await?;
                    stream.flush().await?;
                    tokio::time::sleep(interval).await;
                }
            }
            Body::Truncated { data, .. } => {
                stream.write_all(&data).await?;
                stream.flush().await?;
                return Ok(());
            }
            Body::Endless { declared } => {
                let zeros = vec![0u8; 64 * 1024];
                loop {
                    if declared.is_none() {
                        stream
                            .write_all(format!("{:x}\r\n", zeros.len()).as_bytes())
                            .await?;
                    }
                    stream.write_all(&zeros).await?;
                    if declared.is_none() {
                        stream.write_all(b"\r\n").await?;
                    }
                }
            }
        }
        stream.flush().await?;
    }
}

/// Reads one request (head and `Content-Length` body); `None` at a clean EOF.
async fn read_request(
    conn: usize,
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
) -> std::io::Result<Option<Recorded>> {
    let head_end = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos;
        }
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    buf.drain(..head_end + 4);
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let method = first.next().unwrap_or_default().to_owned();
    let target = first.next().unwrap_or_default();
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
        None => (target.to_owned(), None),
    };
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .map_or(0, |(_, v)| v.parse().unwrap());
    while buf.len() < len {
        let mut chunk = vec![0u8; 64 * 1024];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body: Vec<u8> = buf.drain(..len).collect();
    Ok(Some(Recorded {
        conn,
        method,
        path,
        query,
        headers,
        body,
    }))
}
