//! Connections, kept and shared: hyper's `client::conn` under a small pool
//! that knows what the long-polls need.
//!
//! hyper speaks both protocols; this module only decides which connection a
//! request goes on:
//!
//! - **HTTP/2** (when the server picks `h2` by ALPN): the requests to one
//!   origin share a few connections. A connection takes new streams while
//!   fewer are open than the server's `SETTINGS_MAX_CONCURRENT_STREAMS`
//!   (read from hyper as it changes); when every connection is full another
//!   is opened, one at a time. hyper's pooled client keeps one connection
//!   per origin and queues the rest, which would park every long-poll past
//!   the hundredth until a held one ends.
//! - **HTTP/1.1**: one request per connection at a time; a connection whose
//!   response was read whole goes back to the idle list of its origin, at
//!   most `max_idle` of them, for at most `idle_timeout`.
//!
//! A kept HTTP/1.1 connection is waited on until hyper says it is ready, so
//! one the server closed while idle is skipped, never written to. A request
//! that was not sent (hyper gives it back) or that an h2 server refused
//! unprocessed (`REFUSED_STREAM`, a stream past its `GOAWAY`) is sent once
//! more on a new connection, if the caller can make it again (every API
//! call can; an upload cannot). A request the server may have read is never
//! sent twice.

use std::collections::HashMap;
use std::fmt;
use std::future::poll_fn;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use hyper::client::conn::{http1, http2};
use hyper::header::{HOST, HeaderValue};
use hyper::{Request, Response, Uri, Version};
use hyper_rustls::MaybeHttpsStream;
use hyper_util::client::legacy::connect::Connection as _;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::TcpStream;
use tower_service::Service;

use crate::body::ReqBody;
use crate::error::{Error, ErrorKind};

/// How the pool opens connections: TCP, then TLS where the URL says https.
pub(crate) type Connector =
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>;

type Io = MaybeHttpsStream<TokioIo<TcpStream>>;
type H1 = http1::SendRequest<ReqBody>;
type H2 = http2::SendRequest<ReqBody>;

/// Largest response head read over HTTP/1.1 (hyper's buffer limit, which
/// also bounds a chunk-size line) and over h2 (the header list).
const MAX_HEAD: usize = 64 * 1024;
/// Most header lines an HTTP/1.1 response may have.
const MAX_HEADERS: usize = 100;
/// How long a new h2 connection takes one stream only, unless the server's
/// SETTINGS came sooner: hyper assumes 100 streams until then, and a burst
/// of long-polls past the server's real limit would be queued inside the
/// connection, held until a poll ends.
const SETTLE: Duration = Duration::from_millis(200);
/// How often a request waiting for a new h2 connection's SETTINGS looks.
const SETTLE_CHECK: Duration = Duration::from_millis(2);
/// hyper's assumption of the server's stream limit before its SETTINGS.
const INITIAL_MAX_STREAMS: usize = 100;
/// How long a kept HTTP/1.1 connection may take to become ready for the
/// next request (its task finishing the previous response) before another
/// is used.
const READY_WAIT: Duration = Duration::from_secs(1);
/// How often, at most, every origin's expired idle connections are dropped.
const REAP_EVERY: Duration = Duration::from_secs(10);

/// How the pool is set up (from the transport's builder).
#[derive(Clone, Debug)]
pub(crate) struct PoolConfig {
    pub(crate) idle_timeout: Duration,
    pub(crate) max_idle_per_host: usize,
    /// The deadline for TCP, TLS and the HTTP/2 handshake together.
    pub(crate) connect_timeout: Duration,
}

/// The connection pool of one transport.
pub(crate) struct Pool {
    connector: Connector,
    config: PoolConfig,
    state: Mutex<State>,
    open: Arc<OpenCounts>,
}

/// Connections open now, by protocol (counted by their tasks).
#[derive(Default)]
struct OpenCounts {
    http1: AtomicUsize,
    http2: AtomicUsize,
}

/// How many connections a transport has open, by protocol: see
/// [`Transport::connections`](crate::Transport::connections).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Connections {
    /// HTTP/1.1 connections, idle or carrying a request.
    pub http1: usize,
    /// HTTP/2 connections, each carrying any number of requests.
    pub http2: usize,
}

#[derive(Default)]
struct State {
    origins: HashMap<Box<str>, Origin>,
    reaped: Option<Instant>,
}

#[derive(Default)]
struct Origin {
    /// Idle HTTP/1.1 connections, the most recently used last.
    idle: Vec<(H1, Instant)>,
    /// h2 connections, open streams counted.
    h2: Vec<Arc<H2Conn>>,
    /// What the server picked the last time a connection was made; `None`
    /// before the first.
    speaks_h2: Option<bool>,
    /// Held while a connection that may turn out h2 is being made, so that
    /// a thousand first requests open one connection, not a thousand.
    connecting: Arc<tokio::sync::Mutex<()>>,
}

impl Origin {
    fn is_empty(&self) -> bool {
        self.idle.is_empty() && self.h2.is_empty()
    }

    fn drop_expired(&mut self, idle_timeout: Duration, now: Instant) {
        self.idle
            .retain(|(tx, since)| !tx.is_closed() && now.duration_since(*since) < idle_timeout);
        self.h2.retain(|conn| {
            !conn.tx.is_closed()
                && !conn.broken.load(Ordering::Relaxed)
                && (conn.open.load(Ordering::Relaxed) > 0 || conn.idle_for(now) < idle_timeout)
        });
    }

    /// An h2 connection with a stream to spare, its stream counted.
    fn h2_with_room(&self) -> Option<Arc<H2Conn>> {
        self.h2.iter().find(|conn| conn.try_reserve()).cloned()
    }
}

/// One h2 connection and what the pool knows of it.
struct H2Conn {
    tx: H2,
    /// Streams open on it (reserved by checkouts not yet dropped).
    open: AtomicUsize,
    /// The connection itself, driven by its task, read here for the
    /// server's current `SETTINGS_MAX_CONCURRENT_STREAMS`.
    conn: Arc<Mutex<H2Connection>>,
    /// A request on it failed without a response, or its task ended: take
    /// no new streams.
    broken: Arc<AtomicBool>,
    born: Instant,
    /// When its last stream closed.
    idle_since: Mutex<Instant>,
}

impl H2Conn {
    fn try_reserve(&self) -> bool {
        if self.tx.is_closed() || self.broken.load(Ordering::Relaxed) {
            return false;
        }
        let max = match self.server_max() {
            Some(max) => max.max(1),
            None => 1,
        };
        self.open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |open| {
                (open < max).then_some(open + 1)
            })
            .is_ok()
    }

    /// The server's stream limit, once known: after its SETTINGS changed
    /// hyper's assumption, or once [`SETTLE`] has passed.
    fn server_max(&self) -> Option<usize> {
        let max = lock(&self.conn).current_max_send_streams();
        (max != INITIAL_MAX_STREAMS || self.born.elapsed() >= SETTLE).then_some(max)
    }

    fn is_settled(&self) -> bool {
        self.server_max().is_some()
    }

    fn release(&self) {
        if self.open.fetch_sub(1, Ordering::AcqRel) == 1 {
            *lock(&self.idle_since) = Instant::now();
        }
    }

    fn idle_for(&self, now: Instant) -> Duration {
        now.duration_since(*lock(&self.idle_since))
    }
}

/// A connection lent to one request, returned when the response body is
/// dropped.
enum Lease {
    H1 {
        tx: Option<H1>,
        pool: Arc<Pool>,
        origin: Box<str>,
    },
    H2(Arc<H2Conn>),
}

impl Drop for Lease {
    fn drop(&mut self) {
        match self {
            Self::H2(conn) => conn.release(),
            Self::H1 { tx, pool, origin } => {
                // Kept at once, though its task may not have seen the end of
                // the response yet: the next checkout waits for it to be
                // ready. A connection whose body was dropped unread closes,
                // and is skipped then.
                if let Some(tx) = tx.take()
                    && !tx.is_closed()
                {
                    pool.put_idle(std::mem::take(origin), tx);
                }
            }
        }
    }
}

/// A response body that gives its connection back when dropped.
pub(crate) struct PooledBody {
    body: Incoming,
    _lease: Lease,
}

impl fmt::Debug for PooledBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PooledBody").finish_non_exhaustive()
    }
}

impl Body for PooledBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// What a checkout found under the lock.
enum Next {
    /// A kept HTTP/1.1 connection, to be waited on until ready.
    Idle(H1),
    /// No connection: wait for this origin's turn to make one.
    Turn(Arc<tokio::sync::Mutex<()>>),
    /// No connection: make one.
    Connect,
}

enum Conn {
    H1(H1),
    H2(Arc<H2Conn>),
}

impl Pool {
    pub(crate) fn new(connector: Connector, config: PoolConfig) -> Arc<Self> {
        Arc::new(Self {
            connector,
            config,
            state: Mutex::new(State::default()),
            open: Arc::default(),
        })
    }

    /// The connections open now.
    pub(crate) fn connections(&self) -> Connections {
        Connections {
            http1: self.open.http1.load(Ordering::Relaxed),
            http2: self.open.http2.load(Ordering::Relaxed),
        }
    }

    /// Sends `request` (absolute URI) and returns the response head; the
    /// body gives the connection back when it is dropped. No deadline of
    /// its own: the caller sets it.
    pub(crate) async fn send(
        self: &Arc<Self>,
        request: Request<ReqBody>,
        rebuild: Option<&Rebuild<'_>>,
    ) -> Result<Response<PooledBody>, Error> {
        let uri = request.uri().clone();
        let origin = origin_of(&uri)?;
        // Boxed: what a checkout waits on is not kept for a held poll.
        let conn = Box::pin(self.checkout(&origin, &uri)).await?;
        let failed = match self.send_on(&origin, conn, request).await {
            Ok(response) => return Ok(response),
            Err(failed) => failed,
        };
        // Boxed: what a second attempt needs is not kept for a held poll (a
        // future's state is its largest await's).
        Box::pin(self.send_again(origin, uri, failed, rebuild)).await
    }

    /// The second attempt after `failed`: when hyper handed the request back
    /// unsent, or an h2 server refused it unprocessed (a stream past its
    /// GOAWAY, REFUSED_STREAM), once more on a fresh connection. A request
    /// the server may have read is never sent twice.
    async fn send_again(
        self: &Arc<Self>,
        origin: Box<str>,
        uri: Uri,
        failed: Failed,
        rebuild: Option<&Rebuild<'_>>,
    ) -> Result<Response<PooledBody>, Error> {
        let Failed { error, request } = failed;
        let mut request = match (request, rebuild) {
            (Some(request), _) => request,
            (None, Some(rebuild)) if unprocessed(&error) => rebuild()?,
            _ => return Err(error),
        };
        tracing::debug!(error = %error, "request failed unprocessed; sending it again");
        *request.uri_mut() = uri.clone();
        // Boxed, as every connect here: the state of a connect is large.
        let conn = Box::pin(self.connect_new(&origin, &uri)).await?;
        self.send_on(&origin, conn, request)
            .await
            .map_err(|f| f.error)
    }

    async fn send_on(
        self: &Arc<Self>,
        origin: &str,
        conn: Conn,
        request: Request<ReqBody>,
    ) -> Result<Response<PooledBody>, Failed> {
        match conn {
            Conn::H1(mut tx) => {
                let request = for_http1(request);
                match tx.try_send_request(request).await {
                    Ok(response) => Ok(response.map(|body| PooledBody {
                        body,
                        _lease: Lease::H1 {
                            tx: Some(tx),
                            pool: self.clone(),
                            origin: origin.into(),
                        },
                    })),
                    Err(mut err) => Err(Failed {
                        request: err.take_message(),
                        error: Error::from_hyper(err.into_error()),
                    }),
                }
            }
            Conn::H2(conn) => {
                let lease = Lease::H2(conn.clone());
                let mut tx = conn.tx.clone();
                let request = for_http2(request);
                match tx.try_send_request(request).await {
                    Ok(response) => Ok(response.map(|body| PooledBody {
                        body,
                        _lease: lease,
                    })),
                    Err(mut err) => {
                        conn.broken.store(true, Ordering::Relaxed);
                        Err(Failed {
                            request: err.take_message(),
                            error: Error::from_hyper(err.into_error()),
                        })
                    }
                }
            }
        }
    }

    /// A kept connection if one is free, else a new one.
    async fn checkout(self: &Arc<Self>, origin: &str, uri: &Uri) -> Result<Conn, Error> {
        loop {
            let next = {
                let mut state = lock(&self.state);
                self.reap(&mut state);
                let idle_timeout = self.config.idle_timeout;
                let entry = state.origins.entry(origin.into()).or_default();
                if let Some(conn) = entry.h2_with_room() {
                    return Ok(Conn::H2(conn));
                }
                let now = Instant::now();
                match entry.idle.pop() {
                    Some((tx, since))
                        if !tx.is_closed() && now.duration_since(since) < idle_timeout =>
                    {
                        Next::Idle(tx)
                    }
                    Some(_) => continue,
                    // A server that may pick h2 gets one connection at a
                    // time: the waiters then share it.
                    None if uri.scheme_str() == Some("https") && entry.speaks_h2 != Some(false) => {
                        Next::Turn(entry.connecting.clone())
                    }
                    None => Next::Connect,
                }
            };
            match next {
                Next::Idle(mut tx) => {
                    // Ready at once, or as soon as its task has finished the
                    // previous response; an error means it closed. One that
                    // is neither soon is given up, not waited on.
                    if let Ok(Ok(())) = tokio::time::timeout(READY_WAIT, tx.ready()).await {
                        return Ok(Conn::H1(tx));
                    }
                }
                Next::Turn(connecting) => {
                    let _turn = connecting.lock().await;
                    loop {
                        let (room, young) = self.with_origin(origin, |o| {
                            let room = o.h2_with_room();
                            let young = o.h2.iter().find(|c| !c.is_settled()).cloned();
                            (room, young)
                        });
                        if let Some(conn) = room {
                            return Ok(Conn::H2(conn));
                        }
                        // A connection whose limit is not known yet may
                        // have room as soon as its SETTINGS arrive. hyper
                        // gives no signal for that, so look again shortly.
                        let Some(young) = young else { break };
                        let left = SETTLE.saturating_sub(young.born.elapsed());
                        tokio::time::sleep(left.min(SETTLE_CHECK)).await;
                    }
                    return Box::pin(self.connect_new(origin, uri)).await;
                }
                Next::Connect => return Box::pin(self.connect_new(origin, uri)).await,
            }
        }
    }

    /// Opens a new connection to `origin` and, for h2, adds it to the pool
    /// with one stream reserved for the caller.
    async fn connect_new(self: &Arc<Self>, origin: &str, uri: &Uri) -> Result<Conn, Error> {
        let connect = async {
            let mut connector = self.connector.clone();
            poll_fn(|cx| connector.poll_ready(cx))
                .await
                .map_err(Error::from_connect)?;
            let io: Io = connector
                .call(base_uri(uri))
                .await
                .map_err(Error::from_connect)?;
            let h2 = io.connected().is_negotiated_h2();
            if h2 {
                let mut builder = http2::Builder::new(TokioExecutor::new());
                builder
                    .timer(TokioTimer::new())
                    .max_header_list_size(u32::try_from(MAX_HEAD).unwrap_or(u32::MAX))
                    .adaptive_window(true);
                let (tx, conn) = builder.handshake(io).await.map_err(Error::from_hyper)?;
                let conn = Arc::new(Mutex::new(conn));
                self.open.http2.fetch_add(1, Ordering::Relaxed);
                let open = self.open.clone();
                let broken = Arc::new(AtomicBool::new(false));
                let driver = H2Driver {
                    conn: conn.clone(),
                    ended: broken.clone(),
                };
                tokio::spawn(async move {
                    driver.await;
                    open.http2.fetch_sub(1, Ordering::Relaxed);
                });
                Ok(Conn::H2(Arc::new(H2Conn {
                    tx,
                    open: AtomicUsize::new(1),
                    conn,
                    broken,
                    idle_since: Mutex::new(Instant::now()),
                    born: Instant::now(),
                })))
            } else {
                let (tx, conn) = http1::Builder::new()
                    .max_headers(MAX_HEADERS)
                    .max_buf_size(MAX_HEAD)
                    .handshake(io)
                    .await
                    .map_err(Error::from_hyper)?;
                self.open.http1.fetch_add(1, Ordering::Relaxed);
                let open = self.open.clone();
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, "connection ended");
                    }
                    open.http1.fetch_sub(1, Ordering::Relaxed);
                });
                Ok(Conn::H1(tx))
            }
        };
        let conn = tokio::time::timeout(self.config.connect_timeout, connect)
            .await
            .unwrap_or_else(|_| {
                Err(Error::new(ErrorKind::Connect).with_reason("the connection timed out"))
            })?;
        self.with_origin(origin, |o| match &conn {
            Conn::H2(c) => {
                o.speaks_h2 = Some(true);
                o.h2.push(c.clone());
            }
            Conn::H1(_) => o.speaks_h2 = Some(false),
        });
        Ok(conn)
    }

    fn put_idle(&self, origin: Box<str>, tx: H1) {
        let mut state = lock(&self.state);
        let max = self.config.max_idle_per_host;
        let entry = state.origins.entry(origin).or_default();
        if entry.idle.len() < max {
            entry.idle.push((tx, Instant::now()));
        }
    }

    fn with_origin<R>(&self, origin: &str, f: impl FnOnce(&mut Origin) -> R) -> R {
        let mut state = lock(&self.state);
        f(state.origins.entry(origin.into()).or_default())
    }

    /// Drops expired idle connections of every origin, at most every
    /// [`REAP_EVERY`].
    fn reap(&self, state: &mut State) {
        let now = Instant::now();
        if state
            .reaped
            .is_some_and(|at| now.duration_since(at) < REAP_EVERY)
        {
            return;
        }
        state.reaped = Some(now);
        let idle_timeout = self.config.idle_timeout;
        state.origins.retain(|_, origin| {
            origin.drop_expired(idle_timeout, now);
            !origin.is_empty() || Arc::strong_count(&origin.connecting) > 1
        });
    }
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Makes a request again, for a second attempt.
pub(crate) type Rebuild<'a> = dyn Fn() -> Result<Request<ReqBody>, Error> + Send + Sync + 'a;

/// A failed send, with the request back when it can be sent again.
struct Failed {
    error: Error,
    request: Option<Request<ReqBody>>,
}

type H2Connection = http2::Connection<Io, ReqBody, TokioExecutor>;

/// Drives an h2 connection (hyper's request side of it; hyper runs the
/// frames in a task of its own), shared with the pool that reads its
/// settings.
struct H2Driver {
    conn: Arc<Mutex<H2Connection>>,
    /// Set when the connection ends: the pool keeps the connection object
    /// (for its settings), so hyper's request handle does not see it close.
    ended: Arc<AtomicBool>,
}

impl std::future::Future for H2Driver {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let polled = Pin::new(&mut *lock(&self.conn)).poll(cx);
        match polled {
            Poll::Ready(result) => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "h2 connection ended");
                }
                self.ended.store(true, Ordering::Relaxed);
                Poll::Ready(())
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Whether an h2 server said it did not process the request: a stream it
/// refused, or one past the last it accepted before going away.
fn unprocessed(error: &Error) -> bool {
    let mut source = std::error::Error::source(error);
    while let Some(err) = source {
        if let Some(h2) = err.downcast_ref::<h2::Error>() {
            return h2.reason() == Some(h2::Reason::REFUSED_STREAM)
                || (h2.is_go_away()
                    && h2.is_remote()
                    && h2.reason() == Some(h2::Reason::NO_ERROR));
        }
        source = err.source();
    }
    false
}

/// `scheme://host:port`, the key connections are kept under.
fn origin_of(uri: &Uri) -> Result<Box<str>, Error> {
    crate::origin::uri_origin(uri)
        .map(String::into_boxed_str)
        .ok_or_else(|| Error::invalid_input("the URL must be absolute http(s) with a host"))
}

/// `scheme://authority/`, what the connector is given.
fn base_uri(uri: &Uri) -> Uri {
    let mut parts = hyper::http::uri::Parts::default();
    parts.scheme = uri.scheme().cloned();
    parts.authority = uri.authority().cloned();
    parts.path_and_query = Some(hyper::http::uri::PathAndQuery::from_static("/"));
    Uri::from_parts(parts).unwrap_or_else(|_| uri.clone())
}

/// HTTP/1.1 wants the path in the request line and the authority in `Host`.
fn for_http1(mut request: Request<ReqBody>) -> Request<ReqBody> {
    let uri = request.uri().clone();
    if let Some(authority) = uri.authority()
        && !request.headers().contains_key(HOST)
    {
        let host = match uri.port_u16() {
            Some(port) => format!("{}:{port}", authority.host()),
            None => authority.host().to_owned(),
        };
        if let Ok(value) = HeaderValue::try_from(host) {
            request.headers_mut().insert(HOST, value);
        }
    }
    let path = uri
        .path_and_query()
        .cloned()
        .unwrap_or_else(|| hyper::http::uri::PathAndQuery::from_static("/"));
    *request.uri_mut() = Uri::from(path);
    *request.version_mut() = Version::HTTP_11;
    request
}

/// h2 takes the absolute URI (`:scheme`, `:authority`, `:path`).
fn for_http2(mut request: Request<ReqBody>) -> Request<ReqBody> {
    request.headers_mut().remove(HOST);
    *request.version_mut() = Version::HTTP_2;
    request
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_name_scheme_host_and_port() {
        let o = |s: &str| origin_of(&s.parse().unwrap()).unwrap();
        assert_eq!(&*o("https://Example.com/a?b"), "https://example.com:443");
        assert_eq!(&*o("http://h:8080/"), "http://h:8080");
        assert_eq!(&*o("http://[::1]:9/x"), "http://[::1]:9");
    }

    #[test]
    fn http1_requests_carry_host_and_a_path() {
        let mut req = Request::new(ReqBody::Empty);
        *req.uri_mut() = "https://h:8443/p/q?x=1".parse().unwrap();
        let req = for_http1(req);
        assert_eq!(req.uri().to_string(), "/p/q?x=1");
        assert_eq!(req.headers()[HOST], "h:8443");
    }
}
