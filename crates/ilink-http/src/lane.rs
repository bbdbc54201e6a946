//! Long-poll lanes: each account's `getupdates` (and the `notifystart` and
//! `notifystop` around its polling) on a kept-alive HTTP/1.1 connection of
//! its own, spoken here directly instead of through the pooled hyper client.
//!
//! A long-poll holds its connection for up to 35 s and a bot polls again at
//! once, so a process serving many accounts holds one connection per
//! account nearly all the time. Through hyper's pooled client each held poll
//! keeps about 30 KiB allocated: the connection's 8 KiB header buffer and
//! 8 KiB read buffer, its request channel (a 9 KiB block of 32 slots), the
//! pool's and the connection task's state. A lane keeps the socket and
//! nothing else while it waits: no buffer of ours is allocated until the
//! socket is readable (a TLS session keeps its own state).
//!
//! The exchange is deliberately small: one request with a complete body
//! (`Content-Length`), a response framed by `Content-Length`, `chunked` or
//! the end of the connection, `1xx` responses skipped. Everything else
//! (headers, errors, decoding) is shared with the hyper path, and the lane
//! can be switched off with
//! [`TransportBuilder::lean_long_polls`](crate::TransportBuilder::lean_long_polls).

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::sync::{Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::{Request, StatusCode, Uri};
use hyper_rustls::MaybeHttpsStream;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tower_service::Service;
use tracing::Instrument;

use crate::body::ReqBody;
use crate::error::{Error, ErrorKind};
use crate::transport::{ERROR_BODY_LIMIT, Transport, finish_span, request_span};

/// Most header lines a response may have.
const MAX_HEADERS: usize = 100;
/// Largest response head (status line and headers) accepted.
const MAX_HEAD: usize = 64 * 1024;
/// Longest chunk-size line (with extensions) accepted.
const MAX_CHUNK_LINE: usize = 4 * 1024;
/// How much room a read of the response head makes.
const HEAD_READ: usize = 2 * 1024;
/// Most room one read of a body makes.
const BODY_READ: usize = 64 * 1024;

/// An account's long-poll connection, kept between polls.
#[derive(Default)]
pub(crate) struct Lane {
    slot: Mutex<Option<Conn>>,
}

impl fmt::Debug for Lane {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lane").finish_non_exhaustive()
    }
}

/// A kept-alive connection and what it may be reused for.
struct Conn {
    stream: Stream,
    /// `scheme://authority` it is connected to.
    origin: String,
    idle_since: Instant,
}

type TlsIo = TokioIo<MaybeHttpsStream<TokioIo<TcpStream>>>;

/// The socket, plain or behind TLS.
enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsIo>),
}

impl Stream {
    /// The TCP socket underneath.
    fn tcp(&self) -> &TcpStream {
        match self {
            Self::Plain(tcp) => tcp,
            Self::Tls(io) => match io.inner() {
                MaybeHttpsStream::Http(tcp) => tcp.inner(),
                MaybeHttpsStream::Https(tls) => tls.inner().get_ref().0.inner().inner(),
            },
        }
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(tcp) => Pin::new(tcp).poll_read(cx, buf),
            Self::Tls(io) => Pin::new(&mut **io).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(tcp) => Pin::new(tcp).poll_write(cx, buf),
            Self::Tls(io) => Pin::new(&mut **io).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(tcp) => Pin::new(tcp).poll_flush(cx),
            Self::Tls(io) => Pin::new(&mut **io).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(tcp) => Pin::new(tcp).poll_shutdown(cx),
            Self::Tls(io) => Pin::new(&mut **io).poll_shutdown(cx),
        }
    }
}

impl Lane {
    /// The kept connection, if it goes to `origin`, has not idled past
    /// `max_idle`, and the server has neither closed it nor sent anything
    /// unasked on it.
    fn take(&self, origin: &str, max_idle: Duration) -> Option<Conn> {
        let mut conn = self
            .slot
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()?;
        if conn.origin != origin || conn.idle_since.elapsed() > max_idle {
            return None;
        }
        // One read that must not find anything: an end (a FIN, a TLS
        // close_notify), an error, or bytes nobody asked for all retire the
        // connection. TLS records of the protocol's own (session tickets)
        // are consumed by the TLS layer and read as nothing.
        let mut probe = [0u8; 1];
        let mut probe = ReadBuf::new(&mut probe);
        let mut cx = Context::from_waker(Waker::noop());
        match Pin::new(&mut conn.stream).poll_read(&mut cx, &mut probe) {
            Poll::Pending => Some(conn),
            Poll::Ready(_) => None,
        }
    }

    fn put(&self, conn: Conn) {
        *self.slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(conn);
    }
}

/// What [`Transport::exchange`] returns: status, headers and the body.
type Exchanged = (StatusCode, HeaderMap, Bytes);

/// [`Transport::exchange`] on `lane`: the same contract (the whole response
/// body up to `limit`, an error status's body best effort, all within
/// `timeout`, one `request` span), on the lane's connection.
pub(crate) async fn exchange(
    transport: &Transport,
    lane: &Lane,
    request: Request<ReqBody>,
    timeout: Duration,
    limit: u64,
) -> Result<Exchanged, Error> {
    let span = request_span(&request);
    let started = Instant::now();
    let exchange = async {
        let uri = request.uri().clone();
        let origin = origin(&uri);
        let bytes = serialize(request)?;
        let max_idle = transport.shared.pool_idle_timeout;
        let mut conn = match lane.take(&origin, max_idle) {
            Some(mut conn) => match write(&mut conn.stream, &bytes).await {
                Ok(()) => conn,
                // The server closed it as it was reused: a fresh one.
                Err(_) => fresh(transport, &uri, origin, &bytes).await?,
            },
            None => fresh(transport, &uri, origin, &bytes).await?,
        };
        drop(bytes);
        let response = read_response(&mut conn.stream, limit).await?;
        span.record("status", response.status.as_u16());
        if response.reusable {
            conn.idle_since = Instant::now();
            lane.put(conn);
        }
        Ok((response.status, response.headers, response.body))
    }
    .instrument(span.clone());
    // Inline, as in `Transport::exchange`: see the note there.
    let result = tokio::time::timeout(timeout, exchange)
        .await
        .unwrap_or_else(|_| Err(Error::timeout()));
    finish_span(&span, started, result.as_ref().err());
    result
}

/// Connects to `uri` with the transport's connector (TCP, TLS when the URL
/// is `https`) and sends `bytes` on the new connection.
async fn fresh(
    transport: &Transport,
    uri: &Uri,
    origin: String,
    bytes: &[u8],
) -> Result<Conn, Error> {
    let mut connector = transport.shared.connector.clone();
    poll_fn(|cx| connector.poll_ready(cx))
        .await
        .map_err(Error::from_connect)?;
    let io = connector
        .call(uri.clone())
        .await
        .map_err(Error::from_connect)?;
    let mut stream = match io {
        MaybeHttpsStream::Http(tcp) => Stream::Plain(tcp.into_inner()),
        tls => Stream::Tls(Box::new(TokioIo::new(tls))),
    };
    write(&mut stream, bytes).await.map_err(|e| {
        Error::new(ErrorKind::Body)
            .with_reason("the request could not be sent")
            .with_source(e)
    })?;
    Ok(Conn {
        stream,
        origin,
        idle_since: Instant::now(),
    })
}

async fn write(stream: &mut Stream, bytes: &[u8]) -> io::Result<()> {
    stream.write_all(bytes).await?;
    stream.flush().await
}

/// `scheme://authority` of a URL: which connections may serve it.
fn origin(uri: &Uri) -> String {
    format!(
        "{}://{}",
        uri.scheme_str().unwrap_or("http"),
        uri.authority().map_or("", |a| a.as_str())
    )
}

/// The `Host` header hyper would send: the host, and the port unless it is
/// the scheme's default.
fn host(uri: &Uri) -> String {
    let host = uri.host().unwrap_or_default();
    let default_port = if uri.scheme_str() == Some("https") {
        443
    } else {
        80
    };
    match uri.port_u16() {
        Some(port) if port != default_port => format!("{host}:{port}"),
        _ => host.to_owned(),
    }
}

/// The request as HTTP/1.1 bytes: request line, `Host`, the request's
/// headers, `Content-Length` for a POST, the body.
fn serialize(request: Request<ReqBody>) -> Result<Vec<u8>, Error> {
    let (parts, body) = request.into_parts();
    let body = match body {
        ReqBody::Empty => None,
        ReqBody::Full(bytes) => Some(bytes.unwrap_or_default()),
        ReqBody::Upload(_) => {
            return Err(Error::invalid_input(
                "a streaming body cannot go through a long-poll lane",
            ));
        }
    };
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let body_len = body.as_ref().map_or(0, Bytes::len);
    let mut out = Vec::with_capacity(256 + body_len);
    out.extend_from_slice(parts.method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(path.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    if !parts.headers.contains_key(header::HOST) {
        out.extend_from_slice(b"host: ");
        out.extend_from_slice(host(&parts.uri).as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    for (name, value) in &parts.headers {
        if name == header::CONTENT_LENGTH || name == header::TRANSFER_ENCODING {
            continue;
        }
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if let Some(body) = &body {
        out.extend_from_slice(format!("content-length: {}\r\n\r\n", body.len()).as_bytes());
        out.extend_from_slice(body);
    } else {
        out.extend_from_slice(b"\r\n");
    }
    Ok(out)
}

/// A response read off a lane.
struct Response {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    /// Whether the connection may carry the next poll.
    reusable: bool,
}

fn body_error(reason: &'static str) -> Error {
    Error::new(ErrorKind::Body).with_reason(reason)
}

fn io_error(reason: &'static str) -> impl FnOnce(io::Error) -> Error {
    move |e| body_error(reason).with_source(e)
}

/// Where a response is read from: a lane's connection (or, for fuzzing,
/// bytes in memory).
trait Source {
    /// Waits until the answer starts to arrive, holding no buffer meanwhile.
    async fn answer_started(&mut self) -> io::Result<()>;

    /// Reads more of the response into `buf`, making room for up to `room`
    /// more bytes. Returns how many bytes came (0: the end).
    async fn fill(&mut self, buf: &mut Vec<u8>, room: usize) -> io::Result<usize>;
}

impl Source for Stream {
    /// Plain TCP waits in [`fill`](Source::fill); TLS waits here, for the
    /// socket to be readable (nothing of the answer can be buffered in the
    /// TLS layer yet: the request was just sent).
    async fn answer_started(&mut self) -> io::Result<()> {
        if let Self::Tls(_) = self {
            self.tcp().readable().await?;
        }
        Ok(())
    }

    /// On plain TCP no room is made until the socket is readable, so a held
    /// poll owns no buffer.
    async fn fill(&mut self, buf: &mut Vec<u8>, room: usize) -> io::Result<usize> {
        if let Self::Plain(tcp) = self {
            loop {
                tcp.readable().await?;
                buf.reserve(room);
                match tcp.try_read_buf(buf) {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        if buf.is_empty() {
                            *buf = Vec::new();
                        }
                    }
                    other => return other,
                }
            }
        }
        buf.reserve(room);
        self.read_buf(buf).await
    }
}

/// Reads one response: the head (skipping `1xx` responses), then the body
/// as framed. A success body longer than `limit` is
/// [`ErrorKind::TooLarge`]; an error status's body is read up to
/// [`ERROR_BODY_LIMIT`] bytes, best effort.
async fn read_response(stream: &mut impl Source, limit: u64) -> Result<Response, Error> {
    stream
        .answer_started()
        .await
        .map_err(io_error("the connection failed before the response"))?;
    let mut buf = Vec::new();
    let (status, headers, http11, head_len) = loop {
        match parse_head(&buf)? {
            Some(Head::Informational(len)) => {
                buf.drain(..len);
                continue;
            }
            Some(Head::Final { len, .. }) if len > MAX_HEAD => {
                return Err(body_error("the response head is too large"));
            }
            Some(Head::Final {
                status,
                headers,
                http11,
                len,
            }) => break (status, headers, http11, len),
            None => {}
        }
        if buf.len() > MAX_HEAD {
            return Err(body_error("the response head is too large"));
        }
        let n = stream
            .fill(&mut buf, HEAD_READ)
            .await
            .map_err(io_error("the connection failed before the response"))?;
        if n == 0 {
            return Err(body_error(if buf.is_empty() {
                "the connection closed before the response"
            } else {
                "the connection closed in the response head"
            }));
        }
    };
    buf.drain(..head_len);

    let success = status.is_success();
    let framing = framing(status, &headers)?;
    let read = read_body(
        stream,
        buf,
        framing,
        if success { limit } else { ERROR_BODY_LIMIT },
    )
    .await;
    let (body, complete) = match read {
        Ok(read) => read,
        // An error status's body only explains it: best effort.
        Err(_) if !success => (Bytes::new(), false),
        Err(e) => return Err(e),
    };
    let reusable = complete && http11 && !closes(&headers);
    Ok(Response {
        status,
        headers,
        body,
        reusable,
    })
}

/// A parsed response head.
enum Head {
    /// A `1xx` response (not `101`) of `len` bytes, to skip.
    Informational(usize),
    Final {
        status: StatusCode,
        headers: HeaderMap,
        http11: bool,
        len: usize,
    },
}

/// Parses a response head at the start of `buf`; `None` when more bytes are
/// needed.
fn parse_head(buf: &[u8]) -> Result<Option<Head>, Error> {
    if buf.is_empty() {
        return Ok(None);
    }
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut slots);
    let len = match response.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => {
            return Err(body_error("the response head is malformed").with_source(e));
        }
    };
    let code = response.code.unwrap_or_default();
    if (100..200).contains(&code) && code != 101 {
        return Ok(Some(Head::Informational(len)));
    }
    let status = StatusCode::from_u16(code)
        .map_err(|e| body_error("the response status is malformed").with_source(e))?;
    let mut headers = HeaderMap::with_capacity(response.headers.len());
    for h in response.headers.iter() {
        let name = HeaderName::from_bytes(h.name.as_bytes())
            .map_err(|e| body_error("a response header name is malformed").with_source(e))?;
        let value = HeaderValue::from_bytes(h.value)
            .map_err(|e| body_error("a response header value is malformed").with_source(e))?;
        headers.append(name, value);
    }
    Ok(Some(Head::Final {
        status,
        headers,
        http11: response.version == Some(1),
        len,
    }))
}

/// How a response body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    /// No body (`204`, `304`).
    Empty,
    Length(u64),
    Chunked,
    /// At the end of the connection.
    Close,
}

fn framing(status: StatusCode, headers: &HeaderMap) -> Result<Framing, Error> {
    if status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED {
        return Ok(Framing::Empty);
    }
    let mut codings = headers.get_all(header::TRANSFER_ENCODING).iter().peekable();
    if codings.peek().is_some() {
        let last = codings
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .last();
        return match last {
            Some(c) if c.eq_ignore_ascii_case("chunked") => Ok(Framing::Chunked),
            // Another final coding: the body runs to the end of the
            // connection (RFC 9112, 6.3).
            _ => Ok(Framing::Close),
        };
    }
    let mut length = None;
    for value in headers.get_all(header::CONTENT_LENGTH) {
        let n: u64 = value
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| body_error("the Content-Length is malformed"))?;
        if length.is_some_and(|l| l != n) {
            return Err(body_error("the Content-Length headers disagree"));
        }
        length = Some(n);
    }
    Ok(length.map_or(Framing::Close, Framing::Length))
}

/// Whether the response ends the connection.
fn closes(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case("close"))
}

/// Reads the body after the head (`buf` holds what was read past it).
/// Returns the body and whether the connection ended exactly with it.
async fn read_body(
    stream: &mut impl Source,
    mut buf: Vec<u8>,
    framing: Framing,
    limit: u64,
) -> Result<(Bytes, bool), Error> {
    let too_large = || Error::new(ErrorKind::TooLarge { limit });
    match framing {
        Framing::Empty => Ok((Bytes::new(), buf.is_empty())),
        Framing::Length(len) => {
            if len > limit {
                return Err(too_large());
            }
            let len = usize::try_from(len).map_err(|_| too_large())?;
            while buf.len() < len {
                let room = (len - buf.len()).min(BODY_READ);
                more_body(stream, &mut buf, room).await?;
            }
            let exact = buf.len() == len;
            buf.truncate(len);
            Ok((Bytes::from(buf), exact))
        }
        Framing::Chunked => loop {
            match dechunk(&buf, limit)? {
                Some((body, used)) => return Ok((Bytes::from(body), used == buf.len())),
                None => more_body(stream, &mut buf, BODY_READ).await?,
            }
        },
        Framing::Close => loop {
            let n = stream
                .fill(&mut buf, BODY_READ)
                .await
                .map_err(io_error("the connection failed in the response body"))?;
            if buf.len() as u64 > limit {
                return Err(too_large());
            }
            if n == 0 {
                return Ok((Bytes::from(buf), false));
            }
        },
    }
}

/// Reads more of a body whose end is still to come: the connection ending
/// here is an error.
async fn more_body(stream: &mut impl Source, buf: &mut Vec<u8>, room: usize) -> Result<(), Error> {
    let n = stream
        .fill(buf, room)
        .await
        .map_err(io_error("the connection failed in the response body"))?;
    if n == 0 {
        return Err(body_error("the connection closed in the response body"));
    }
    Ok(())
}

/// Decodes a complete `chunked` body at the start of `raw`: the data and how
/// many bytes of `raw` it took (trailers included); `None` while incomplete.
fn dechunk(raw: &[u8], limit: u64) -> Result<Option<(Vec<u8>, usize)>, Error> {
    // First walk the chunk lines only (cheap: the data is jumped over), so
    // that an incomplete body costs no copy.
    let mut spans = Vec::new();
    let mut total = 0u64;
    let mut pos = 0;
    loop {
        let Some(line_end) = find_crlf(&raw[pos..], MAX_CHUNK_LINE)? else {
            return Ok(None);
        };
        let line = &raw[pos..pos + line_end];
        let size_text = line.split(|&b| b == b';').next().unwrap_or_default();
        let size_text = std::str::from_utf8(size_text)
            .map_err(|_| body_error("a chunk size is malformed"))?
            .trim();
        let size = u64::from_str_radix(size_text, 16)
            .map_err(|_| body_error("a chunk size is malformed"))?;
        pos += line_end + 2;
        if size == 0 {
            break;
        }
        total = total.saturating_add(size);
        if total > limit {
            return Err(Error::new(ErrorKind::TooLarge { limit }));
        }
        let size = usize::try_from(size).map_err(|_| body_error("a chunk is too large"))?;
        let end = pos.saturating_add(size);
        if raw.len() < end.saturating_add(2) {
            return Ok(None);
        }
        if &raw[end..end + 2] != b"\r\n" {
            return Err(body_error("a chunk does not end with CRLF"));
        }
        spans.push(pos..end);
        pos = end + 2;
    }
    // Trailers, up to the empty line.
    loop {
        let Some(line_end) = find_crlf(&raw[pos..], MAX_HEAD)? else {
            return Ok(None);
        };
        pos += line_end + 2;
        if line_end == 0 {
            break;
        }
    }
    let mut body = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
    for span in spans {
        body.extend_from_slice(&raw[span]);
    }
    Ok(Some((body, pos)))
}

/// Where the first CRLF of `bytes` starts; `None` when there is none yet,
/// an error when a line runs past `max` bytes.
fn find_crlf(bytes: &[u8], max: usize) -> Result<Option<usize>, Error> {
    match bytes.windows(2).position(|w| w == b"\r\n") {
        Some(i) if i <= max => Ok(Some(i)),
        Some(_) => Err(body_error("a chunk line is too long")),
        None if bytes.len() > max => Err(body_error("a chunk line is too long")),
        None => Ok(None),
    }
}

/// The response reader over bytes in memory, for the `http_response` fuzz
/// target (feature `fuzzing`; not a stable API) and the tests below.
#[cfg(any(test, feature = "fuzzing"))]
#[cfg_attr(not(feature = "fuzzing"), allow(unreachable_pub))]
pub mod fuzzing {
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    use super::{Error, Source, io};

    /// What [`read_response`] read.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Read {
        /// The final status.
        pub status: u16,
        /// The body as decoded.
        pub body: Vec<u8>,
        /// Whether the connection could carry the next request (only as far
        /// as the bytes read tell).
        pub reusable: bool,
    }

    /// Bytes handed out in pieces of the given sizes (the last size
    /// repeating), at most the room each read makes.
    struct Pieces<'a> {
        data: &'a [u8],
        sizes: &'a [usize],
        next: usize,
    }

    impl Source for Pieces<'_> {
        async fn answer_started(&mut self) -> io::Result<()> {
            Ok(())
        }

        async fn fill(&mut self, buf: &mut Vec<u8>, room: usize) -> io::Result<usize> {
            let size = self
                .sizes
                .get(self.next)
                .or(self.sizes.last())
                .copied()
                .unwrap_or(usize::MAX)
                .max(1);
            self.next += 1;
            let n = size.min(room.max(1)).min(self.data.len());
            buf.extend_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    /// Reads one response from `data`, delivered in reads of `sizes` bytes
    /// (empty: as much as each read makes room for), as a lane reads it.
    pub fn read_response(data: &[u8], sizes: &[usize], limit: u64) -> Result<Read, Error> {
        let mut source = Pieces {
            data,
            sizes,
            next: 0,
        };
        let future = pin!(super::read_response(&mut source, limit));
        // Nothing in memory ever waits: one poll finishes it.
        match future.poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(result) => result.map(|r| Read {
                status: r.status.as_u16(),
                body: r.body.to_vec(),
                reusable: r.reusable,
            }),
            Poll::Pending => unreachable!("reading from memory never waits"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(text: &str) -> Head {
        parse_head(text.as_bytes()).unwrap().unwrap()
    }

    #[test]
    fn heads_parse_or_ask_for_more() {
        assert!(parse_head(b"").unwrap().is_none());
        assert!(
            parse_head(b"HTTP/1.1 200 OK\r\ncontent-le")
                .unwrap()
                .is_none()
        );
        match head("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n") {
            Head::Informational(len) => assert_eq!(len, 25),
            Head::Final { .. } => panic!("a 100 is not final"),
        }
        match head("HTTP/1.0 524 Timeout\r\nA: 1\r\na: 2\r\n\r\nbody") {
            Head::Final {
                status,
                headers,
                http11,
                len,
            } => {
                assert_eq!(status.as_u16(), 524);
                assert_eq!(headers.get_all("a").iter().count(), 2);
                assert!(!http11);
                assert_eq!(len, 36);
            }
            Head::Informational(_) => panic!("a 524 is final"),
        }
        let err = parse_head(b"HTTP/1.1 2x0 OK\r\n\r\n").err().unwrap();
        assert_eq!(err.kind(), &ErrorKind::Body);
    }

    #[test]
    fn framing_follows_rfc_9112() {
        let map = |pairs: &[(&'static str, &'static str)]| {
            let mut h = HeaderMap::new();
            for (n, v) in pairs {
                h.append(*n, HeaderValue::from_static(v));
            }
            h
        };
        let ok = StatusCode::OK;
        assert_eq!(framing(ok, &map(&[])).unwrap(), Framing::Close);
        assert_eq!(
            framing(ok, &map(&[("content-length", "12")])).unwrap(),
            Framing::Length(12)
        );
        assert_eq!(
            framing(
                ok,
                &map(&[("content-length", "3"), ("content-length", "3")])
            )
            .unwrap(),
            Framing::Length(3)
        );
        assert!(
            framing(
                ok,
                &map(&[("content-length", "3"), ("content-length", "4")])
            )
            .is_err()
        );
        assert!(framing(ok, &map(&[("content-length", "-1")])).is_err());
        assert_eq!(
            framing(
                ok,
                &map(&[
                    ("transfer-encoding", "gzip, Chunked"),
                    ("content-length", "9")
                ])
            )
            .unwrap(),
            Framing::Chunked
        );
        assert_eq!(
            framing(ok, &map(&[("transfer-encoding", "gzip")])).unwrap(),
            Framing::Close
        );
        assert_eq!(
            framing(StatusCode::NO_CONTENT, &map(&[("content-length", "5")])).unwrap(),
            Framing::Empty
        );
        assert!(closes(&map(&[("connection", "keep-alive, Close")])));
        assert!(!closes(&map(&[("connection", "keep-alive")])));
    }

    #[test]
    fn chunked_bodies_decode_in_any_split() {
        let wire = b"5;ext=1\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nx-trailer: y\r\n\r\nNEXT";
        let full = wire.len() - 4;
        for cut in 0..full {
            assert!(dechunk(&wire[..cut], 1024).unwrap().is_none(), "cut {cut}");
        }
        let (body, used) = dechunk(wire, 1024).unwrap().unwrap();
        assert_eq!(body, b"hello world");
        assert_eq!(used, full);
        assert_eq!(dechunk(b"0\r\n\r\n", 0).unwrap().unwrap(), (Vec::new(), 5));
        let err = dechunk(b"5\r\nhello\r\n0\r\n\r\n", 4).err().unwrap();
        assert_eq!(err.kind(), &ErrorKind::TooLarge { limit: 4 });
        assert!(dechunk(b"zz\r\n", 1024).is_err());
        assert!(dechunk(b"2\r\nabXY", 1024).is_err());
        assert!(dechunk(&[b'1'; MAX_CHUNK_LINE + 8], 1024).is_err());
        // A size that does not fit in 64 bits is malformed, not a panic.
        assert!(dechunk(b"ffffffffffffffffff\r\n", u64::MAX).is_err());
    }

    #[test]
    fn responses_read_the_same_in_any_split() {
        let responses: [&[u8]; 6] = [
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x\r\nabc\r\n2\r\nde\r\n0\r\nT: 1\r\n\r\n",
            b"HTTP/1.0 200 OK\r\n\r\nuntil the end",
            b"HTTP/1.1 503 Busy\r\nContent-Length: 4\r\n\r\nbusy",
            b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nff\r\n",
        ];
        for data in responses {
            let whole = fuzzing::read_response(data, &[], 100);
            for size in 1..data.len() {
                let split = fuzzing::read_response(data, &[size], 100);
                match (&whole, &split) {
                    (Ok(a), Ok(b)) => {
                        assert_eq!((a.status, &a.body), (b.status, &b.body), "size {size}");
                    }
                    (Err(a), Err(b)) => assert_eq!(a.kind(), b.kind(), "size {size}"),
                    _ => panic!("size {size}: {whole:?} against {split:?}"),
                }
            }
        }
        let read = fuzzing::read_response(responses[1], &[], 100).unwrap();
        assert_eq!(
            (read.status, read.body.as_slice(), read.reusable),
            (200, &b"abcde"[..], true)
        );
        let read = fuzzing::read_response(responses[2], &[], 100).unwrap();
        assert_eq!(
            (read.body.as_slice(), read.reusable),
            (&b"until the end"[..], false)
        );
        let read = fuzzing::read_response(responses[3], &[], 100).unwrap();
        assert_eq!((read.status, read.body.as_slice()), (503, &b"busy"[..]));
        let err = fuzzing::read_response(responses[4], &[], 100).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Body);
        let err = fuzzing::read_response(responses[5], &[], 100).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::TooLarge { limit: 100 });
    }

    #[test]
    fn requests_serialize_like_hyper() {
        let mut request = Request::new(ReqBody::full(&b"{}"[..]));
        *request.method_mut() = hyper::Method::POST;
        *request.uri_mut() = "http://127.0.0.1:8080/ilink/bot/getupdates?x=1"
            .parse()
            .unwrap();
        request.headers_mut().insert(
            "authorizationtype",
            HeaderValue::from_static("ilink_bot_token"),
        );
        let text = String::from_utf8(serialize(request).unwrap()).unwrap();
        assert_eq!(
            text,
            "POST /ilink/bot/getupdates?x=1 HTTP/1.1\r\nhost: 127.0.0.1:8080\r\n\
             authorizationtype: ilink_bot_token\r\ncontent-length: 2\r\n\r\n{}"
        );
        let uri: Uri = "https://example.com:443/a".parse().unwrap();
        assert_eq!(host(&uri), "example.com");
        assert_eq!(origin(&uri), "https://example.com:443");
        let uri: Uri = "http://[::1]:80/a".parse().unwrap();
        assert_eq!(host(&uri), "[::1]");
    }
}
