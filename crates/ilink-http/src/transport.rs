//! The shared HTTP client, its builder, and the one function every API call
//! goes through.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::{Request, StatusCode, Uri};
use hyper_util::client::legacy::connect::HttpConnector;
use ilink_proto::consts::{self, headers as names};
use ilink_proto::{
    ApiResponse, BaseInfo, BatchFilter, BotToken, CallClass, Endpoint, HeaderSet, Method,
};
use tracing::Instrument;

use crate::body::ReqBody;
use crate::error::{Error, ErrorKind, snippet};
use crate::pool::{Pool, PoolConfig, PooledBody, Rebuild};
use crate::redact::redacted_body;
use crate::retry::Retry;

/// Why a base URL is refused (see [`crate::is_trusted_base_url`]).
pub(crate) const UNTRUSTED_BASE: &str = "the base URL must be https, or http to a loopback address";

/// How much of a non-success response body is read to explain the error.
pub(crate) const ERROR_BODY_LIMIT: u64 = 64 * 1024;

/// The HTTP transport: one connection pool for any number of bot accounts.
///
/// Cheap to clone (an [`Arc`] inside); share one per process. Build it with
/// [`Transport::builder`], then get a per-account handle with
/// [`account`](Self::account). Login calls, which need no token, and the CDN
/// transfers ([`upload`](Self::upload), [`download_to`](Self::download_to))
/// are methods of the transport itself.
///
/// It speaks HTTP/1.1, and HTTP/2 where an HTTPS server picks it by ALPN,
/// over `hyper` with `rustls` (webpki roots, or the
/// system's with the `native-roots` feature), keeps idle connections for
/// 90 s, and needs a Tokio runtime with the time driver enabled.
///
/// ```no_run
/// # async fn run() -> Result<(), ilink_http::Error> {
/// use ilink_http::Transport;
/// use ilink_proto::BotToken;
///
/// let transport = Transport::builder().bot_agent("MyBot/1.0").build()?;
/// let account = transport.account(BotToken::new("token"));
/// let batch = account.get_updates("", None).await?;
/// for msg in batch.messages() {
///     println!("{}", msg.text());
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Transport {
    pub(crate) shared: Arc<Shared>,
}

const _: () = {
    const fn assert_send_sync<T: Send + Sync + Clone + 'static>() {}
    assert_send_sync::<Transport>();
};

pub(crate) struct Shared {
    pool: Arc<Pool>,
    pub(crate) config: Config,
}

pub(crate) struct Config {
    pub(crate) api_base_url: String,
    pub(crate) cdn_base_url: String,
    app_id: HeaderValue,
    client_version: String,
    client_version_code: HeaderValue,
    route_tag: Option<HeaderValue>,
    bot_agent: String,
    pub(crate) timeouts: Timeouts,
    pub(crate) long_poll_margin: Duration,
    pub(crate) response_limit: u64,
    pub(crate) update_limit: u64,
    pub(crate) download_cap: u64,
    pub(crate) upload_chunk_size: usize,
    pub(crate) upload_retry: Retry,
    pub(crate) download_retry: Retry,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Timeouts {
    pub(crate) long_poll: Duration,
    pub(crate) api: Duration,
    pub(crate) config: Duration,
    pub(crate) login: Duration,
    pub(crate) upload: Duration,
    pub(crate) download: Duration,
    pub(crate) download_idle: Duration,
}

impl Transport {
    /// A builder with the official client's defaults.
    pub fn builder() -> TransportBuilder {
        TransportBuilder::new()
    }

    /// The default API base URL.
    pub fn api_base_url(&self) -> &str {
        &self.shared.config.api_base_url
    }

    /// The CDN base URL.
    pub fn cdn_base_url(&self) -> &str {
        &self.shared.config.cdn_base_url
    }

    /// How many connections are open now, by protocol: on HTTP/2 the held
    /// long-polls of many accounts share one connection, on HTTP/1.1 each
    /// holds its own.
    pub fn connections(&self) -> crate::Connections {
        self.shared.pool.connections()
    }

    /// A CDN URL as a server named it (`full_url`, `upload_full_url`) or as
    /// built from a parameter: `https`, or the scheme and host of the
    /// configured CDN (which may be loopback `http`); anything else is
    /// refused.
    pub(crate) fn cdn_uri(&self, url: &str) -> Result<Uri, Error> {
        let uri = parse_uri(url)?;
        let cdn = parse_uri(self.cdn_base_url())?;
        // Scheme, host and port: another port of the CDN's host is another
        // server.
        let same_origin = crate::origin::uri_origin(&uri)
            .is_some_and(|origin| Some(origin) == crate::origin::uri_origin(&cdn));
        if uri.scheme_str() == Some("https") || same_origin {
            Ok(uri)
        } else {
            Err(Error::invalid_input(
                "a CDN URL must be https, or on the configured CDN's origin",
            ))
        }
    }

    /// The `base_info` every POST body carries.
    pub fn base_info(&self) -> BaseInfo {
        let config = &self.shared.config;
        BaseInfo::new(config.client_version.clone(), config.bot_agent.clone())
    }

    /// The default deadline of a call class.
    pub fn class_timeout(&self, class: CallClass) -> Duration {
        let t = &self.shared.config.timeouts;
        match class {
            CallClass::Login => t.login,
            CallClass::LongPoll => t.long_poll,
            CallClass::Config => t.config,
            _ => t.api,
        }
    }

    /// Sends one API call and decodes its response.
    ///
    /// `base` is the API base URL, `token` the bot token (only sent for
    /// [`HeaderSet::PostWithToken`]), `timeout` the deadline for the whole
    /// exchange, sending and reading the body included.
    pub(crate) async fn call_endpoint<E: Endpoint>(
        &self,
        base: &str,
        token: Option<&BotToken>,
        mut req: E,
        timeout: Duration,
    ) -> Result<E::Response, Error> {
        let context = E::PATH;
        // Tokens, QR codes and context tokens travel in these calls: never
        // in clear text past this machine.
        if !crate::is_trusted_base_url(base) {
            return Err(Error::invalid_input(UNTRUSTED_BASE).with_context(context));
        }
        let url = ilink_proto::with_query(ilink_proto::join_url(base, E::PATH), &req.query());
        let uri = parse_uri(&url).map_err(|e| e.with_context(context))?;
        let config = &self.shared.config;

        let json = match E::METHOD {
            Method::Get => None,
            _ => {
                req.set_base_info(self.base_info());
                let json = serde_json::to_vec(&req).map_err(|e| {
                    Error::invalid_input("the request could not be serialized")
                        .with_source(e)
                        .with_context(context)
                })?;
                if tracing::enabled!(tracing::Level::TRACE) {
                    tracing::trace!(path = context, body = %ilink_proto::display_safe(&redacted_body(&json)), "request body");
                }
                Some(Bytes::from(json))
            }
        };
        // Not needed past here: not kept in the state of a held long-poll.
        drop(req);
        let with_token = match E::HEADERS {
            HeaderSet::AppOnly | HeaderSet::PostWithoutToken => false,
            _ => json.is_some(),
        };
        let token = if with_token { token } else { None };
        // Built again, should the request need sending a second time (an h2
        // server refused it unprocessed): rebuilding costs a held long-poll
        // nothing, a copy would be kept for the whole hold.
        let build = || self.api_request(&uri, json.clone(), token);
        let request = build().map_err(|e| e.with_context(context))?;
        let (status, resp_headers, bytes) = self
            .exchange(
                request,
                Some(&build),
                timeout,
                Limit {
                    total: config.response_limit,
                    batch: E::BATCH.map(|key| (key, config.update_limit)),
                },
            )
            .await
            .map_err(|e| e.with_context(context))?;
        if !status.is_success() {
            return Err(status_error(status, &resp_headers, bytes).with_context(context));
        }
        if tracing::enabled!(tracing::Level::TRACE) {
            tracing::trace!(path = context, body = %ilink_proto::display_safe(&redacted_body(&bytes)), "response body");
        }
        let response: E::Response = match serde_json::from_slice(&bytes) {
            Ok(response) => response,
            Err(err) => {
                return Err(Error::new(ErrorKind::Decode)
                    .with_reason("the body is not the expected JSON")
                    .with_source(err)
                    .with_body(bytes)
                    .with_context(context));
            }
        };
        if !response.outcome().is_success() {
            return Err(Error::new(ErrorKind::Api {
                ret: response.ret(),
                errcode: response.errcode(),
                errmsg: response.errmsg().map(str::to_owned),
            })
            .with_body(bytes)
            .with_context(context));
        }
        Ok(response)
    }

    /// An API request: the protocol's headers, the JSON body (a POST) or
    /// none (a GET), and the bot token when given.
    fn api_request(
        &self,
        uri: &Uri,
        json: Option<Bytes>,
        token: Option<&BotToken>,
    ) -> Result<Request<ReqBody>, Error> {
        let config = &self.shared.config;
        let mut headers = HeaderMap::with_capacity(8);
        let (method, body) = match json {
            None => (hyper::Method::GET, ReqBody::Empty),
            Some(json) => {
                headers.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                headers.insert(
                    HeaderName::from_static("authorizationtype"),
                    HeaderValue::from_static(names::AUTHORIZATION_TYPE_VALUE),
                );
                let uin = ilink_proto::wechat_uin(random_u32());
                headers.insert(
                    HeaderName::from_static("x-wechat-uin"),
                    HeaderValue::try_from(uin)
                        .map_err(|_| Error::invalid_input("X-WECHAT-UIN is not a header value"))?,
                );
                (hyper::Method::POST, ReqBody::full(json))
            }
        };
        headers.insert(
            HeaderName::from_static("ilink-app-id"),
            config.app_id.clone(),
        );
        headers.insert(
            HeaderName::from_static("ilink-app-clientversion"),
            config.client_version_code.clone(),
        );
        if let Some(tag) = &config.route_tag {
            headers.insert(HeaderName::from_static("skroutetag"), tag.clone());
        }
        if let Some(token) = token {
            headers.insert(header::AUTHORIZATION, bearer(token)?);
        }
        let mut request = Request::new(body);
        *request.method_mut() = method;
        *request.uri_mut() = uri.clone();
        *request.headers_mut() = headers;
        Ok(request)
    }

    /// Sends a request and reads the whole response body (up to `limit`
    /// bytes; an error status reads at most 64 KiB, best effort), all within
    /// `timeout`. One `request` span per call. `rebuild` makes the request
    /// again for a second attempt, when one is safe (see [`crate::pool`]).
    pub(crate) async fn exchange(
        &self,
        request: Request<ReqBody>,
        rebuild: Option<&Rebuild<'_>>,
        timeout: Duration,
        limit: impl Into<Limit>,
    ) -> Result<(StatusCode, HeaderMap, Bytes), Error> {
        let limit = limit.into();
        let span = request_span(&request);
        let started = Instant::now();
        let exchange = async {
            let response = self.send(request, rebuild, &span).await?;
            // Boxed: reading the body is not kept in the state of a held
            // long-poll, which every idle account holds.
            Box::pin(read_body(response, limit)).await
        }
        .instrument(span.clone());
        // The deadline is checked before the exchange is polled each time,
        // not after: a process that was stopped (SIGSTOP, a frozen VM) past
        // it sends nothing more when it continues (`tokio::time::timeout`
        // would poll the exchange once more first, and send the request).
        // (The timer boxed: it is not kept in the state of every held
        // long-poll.)
        let mut deadline = Box::pin(tokio::time::sleep(timeout));
        let mut exchange = std::pin::pin!(exchange);
        let result = std::future::poll_fn(|cx| {
            if deadline.as_mut().poll(cx).is_ready() {
                return std::task::Poll::Ready(Err(Error::timeout()));
            }
            exchange.as_mut().poll(cx)
        })
        .await;
        finish_span(&span, started, result.as_ref().err());
        result
    }

    /// Sends a request and returns the response head (the body is the
    /// caller's to read), recording the status into `span`. No deadline of
    /// its own: the caller sets it.
    pub(crate) async fn send(
        &self,
        request: Request<ReqBody>,
        rebuild: Option<&Rebuild<'_>>,
        span: &tracing::Span,
    ) -> Result<hyper::Response<PooledBody>, Error> {
        let response = self.shared.pool.send(request, rebuild).await?;
        span.record("status", response.status().as_u16());
        Ok(response)
    }
}

/// The largest message of a getupdates batch kept, by default.
pub const DEFAULT_UPDATE_LIMIT: u64 = 1024 * 1024;

/// How much of a response body is read.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limit {
    /// The most bytes kept.
    total: u64,
    /// For an answer with a batch of other people's messages: the batch
    /// array's key and the most bytes one element of it may have (larger
    /// ones are set aside, see [`ilink_proto::BatchFilter`]).
    batch: Option<(&'static str, u64)>,
}

impl From<u64> for Limit {
    fn from(total: u64) -> Self {
        Self { total, batch: None }
    }
}

/// The most bytes of a batch answer read off the wire, kept or set aside
/// (the deadline bounds it too).
/// CDN uploads: 3 attempts, 200 ms then 400 ms apart (±20 %).
const DEFAULT_UPLOAD_RETRY: Retry =
    Retry::new(Duration::from_millis(200), Duration::from_secs(5)).with_attempts(3);

/// CDN downloads: as uploads.
const DEFAULT_DOWNLOAD_RETRY: Retry = DEFAULT_UPLOAD_RETRY;

const MAX_BATCH_WIRE_BYTES: u64 = 256 * 1024 * 1024;

/// Reads a response's body whole: up to `limit` bytes for a success (a
/// declared length past it fails at once, except for a batch answer, whose
/// oversized elements are set aside as it streams in), at most 64 KiB, best
/// effort, to explain an error status.
async fn read_body(
    response: hyper::Response<PooledBody>,
    limit: Limit,
) -> Result<(StatusCode, HeaderMap, Bytes), Error> {
    let Limit {
        total: limit,
        batch,
    } = limit;
    let status = response.status();
    let (parts, body) = response.into_parts();
    if !status.is_success() {
        let bytes = Limited::new(body, as_usize(ERROR_BODY_LIMIT))
            .collect()
            .await
            .map(|c| c.to_bytes())
            .unwrap_or_default();
        return Ok((status, parts.headers, bytes));
    }
    if let Some((key, element_limit)) = batch {
        return read_batch(body, key, as_usize(element_limit), limit)
            .await
            .map(|bytes| (status, parts.headers, bytes));
    }
    if let Some(len) = content_length(&parts.headers)
        && len > limit
    {
        return Err(Error::new(ErrorKind::TooLarge { limit }));
    }
    let bytes = Limited::new(body, as_usize(limit))
        .collect()
        .await
        .map_err(|e| Error::from_body(e, limit))?
        .to_bytes();
    Ok((status, parts.headers, bytes))
}

/// Reads a batch answer through a [`BatchFilter`]: an element of the batch
/// over `element_limit` bytes, or past the total `limit`, is set aside with
/// a placeholder (reported later as a malformed update), so one oversized
/// message never fails the others or the cursor.
async fn read_batch(
    mut body: PooledBody,
    key: &'static str,
    element_limit: usize,
    limit: u64,
) -> Result<Bytes, Error> {
    let mut filter = BatchFilter::new(key, element_limit, as_usize(limit));
    let mut wire = 0u64;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| Error::from_body(e.into(), limit))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        wire = wire.saturating_add(data.len() as u64);
        if wire > MAX_BATCH_WIRE_BYTES {
            return Err(Error::new(ErrorKind::TooLarge {
                limit: MAX_BATCH_WIRE_BYTES,
            }));
        }
        filter
            .push(&data)
            .map_err(|e| Error::new(ErrorKind::TooLarge { limit }).with_source(e))?;
    }
    let kept = filter
        .finish()
        .map_err(|e| Error::new(ErrorKind::TooLarge { limit }).with_source(e))?;
    if kept.set_aside > 0 {
        tracing::warn!(
            set_aside = kept.set_aside,
            received = kept.received,
            "a batch answer had messages too large to keep; they are reported as malformed"
        );
    }
    Ok(Bytes::from(kept.bytes))
}

/// The `request` span: method and path, never the query.
pub(crate) fn request_span<B>(request: &Request<B>) -> tracing::Span {
    tracing::debug_span!(
        "request",
        method = %request.method(),
        path = request.uri().path(),
        status = tracing::field::Empty,
        elapsed_ms = tracing::field::Empty,
    )
}

/// Records the elapsed time and logs the end of a request.
pub(crate) fn finish_span(span: &tracing::Span, started: Instant, error: Option<&Error>) {
    let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    span.record("elapsed_ms", elapsed_ms);
    match error {
        None => tracing::debug!(parent: span, elapsed_ms, "request done"),
        Some(err) => tracing::debug!(parent: span, elapsed_ms, error = %err, "request failed"),
    }
}

/// The error for a non-success status: the CDN's `x-error-message`, else a
/// snippet of the body, as the reason.
pub(crate) fn status_error(status: StatusCode, headers: &HeaderMap, body: Bytes) -> Error {
    let mut err = Error::new(ErrorKind::Status {
        status: status.as_u16(),
    });
    let header_reason = headers
        .get(names::ERROR_MESSAGE)
        .map(|v| snippet(v.as_bytes()))
        .filter(|r| !r.is_empty());
    if let Some(reason) = header_reason.or_else(|| Some(snippet(&body)).filter(|r| !r.is_empty())) {
        err = err.with_reason(reason);
    }
    if !body.is_empty() {
        err = err.with_body(body);
    }
    err
}

pub(crate) fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

pub(crate) fn as_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// Parses an absolute `http`/`https` URL. The URL itself is never put in the
/// error: its query can carry a QR code or a CDN parameter.
pub(crate) fn parse_uri(url: &str) -> Result<Uri, Error> {
    let uri: Uri = url
        .parse()
        .map_err(|e| Error::invalid_input("malformed URL").with_source(e))?;
    match uri.scheme_str() {
        Some("http" | "https") if uri.host().is_some() => Ok(uri),
        _ => Err(Error::invalid_input(
            "the URL must be absolute with an http or https scheme",
        )),
    }
}

fn bearer(token: &BotToken) -> Result<HeaderValue, Error> {
    let token = token.expose().trim();
    if token.is_empty() {
        return Err(Error::invalid_input("the bot token is empty"));
    }
    let mut value = HeaderValue::try_from(format!("Bearer {token}"))
        .map_err(|_| Error::invalid_input("the bot token is not a valid header value"))?;
    value.set_sensitive(true);
    Ok(value)
}

/// A fresh random `u32` for `X-WECHAT-UIN` (it only has to vary).
fn random_u32() -> u32 {
    ilink_crypto::random::varying_u64() as u32
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let config = &self.shared.config;
        f.debug_struct("Transport")
            .field("api_base_url", &config.api_base_url)
            .field("cdn_base_url", &config.cdn_base_url)
            .field("client_version", &config.client_version)
            .field("bot_agent", &config.bot_agent)
            .field("timeouts", &config.timeouts)
            .finish_non_exhaustive()
    }
}

/// Configures a [`Transport`]. Every setting has the official client's
/// default (or a safe one where the official client has none).
#[must_use]
#[derive(Clone, Debug)]
pub struct TransportBuilder {
    api_base_url: String,
    cdn_base_url: String,
    app_id: String,
    client_version: String,
    route_tag: Option<String>,
    bot_agent: Option<String>,
    timeouts: Timeouts,
    long_poll_margin: Duration,
    response_limit: u64,
    update_limit: u64,
    download_cap: u64,
    connect_timeout: Duration,
    pool_idle_timeout: Duration,
    pool_max_idle_per_host: usize,
    http2: bool,
    extra_roots: Vec<Vec<u8>>,
    extra_pem: Vec<Vec<u8>>,
    upload_chunk_size: usize,
    upload_retry: Retry,
    download_retry: Retry,
    tls_config: Option<rustls::ClientConfig>,
    #[cfg(feature = "native-roots")]
    native_roots: bool,
}

impl Default for TransportBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl TransportBuilder {
    /// The defaults: official hosts, app id `bot`, this crate's version,
    /// timeouts 35 s (long-poll), 15 s (API), 10 s (config), 60 s (login),
    /// a 5 s long-poll margin, 4 MiB responses, 100 MiB downloads.
    pub fn new() -> Self {
        Self {
            api_base_url: consts::DEFAULT_API_BASE_URL.to_owned(),
            cdn_base_url: consts::DEFAULT_CDN_BASE_URL.to_owned(),
            app_id: consts::DEFAULT_APP_ID.to_owned(),
            client_version: env!("CARGO_PKG_VERSION").to_owned(),
            route_tag: None,
            bot_agent: None,
            timeouts: Timeouts {
                long_poll: consts::timeouts::LONG_POLL,
                api: consts::timeouts::API,
                config: consts::timeouts::CONFIG,
                login: Duration::from_secs(60),
                upload: Duration::from_secs(10 * 60),
                download: Duration::from_secs(10 * 60),
                download_idle: Duration::from_secs(30),
            },
            long_poll_margin: Duration::from_secs(5),
            response_limit: 4 * 1024 * 1024,
            update_limit: DEFAULT_UPDATE_LIMIT,
            download_cap: consts::MAX_DOWNLOAD_BYTES,
            connect_timeout: Duration::from_secs(10),
            pool_idle_timeout: Duration::from_secs(90),
            pool_max_idle_per_host: 64,
            http2: true,
            extra_roots: Vec::new(),
            extra_pem: Vec::new(),
            upload_chunk_size: 256 * 1024,
            upload_retry: DEFAULT_UPLOAD_RETRY,
            download_retry: DEFAULT_DOWNLOAD_RETRY,
            tls_config: None,
            #[cfg(feature = "native-roots")]
            native_roots: true,
        }
    }

    /// The API base URL (default `https://ilinkai.weixin.qq.com`); a path
    /// prefix and a trailing slash are fine.
    pub fn api_base_url(mut self, url: impl Into<String>) -> Self {
        self.api_base_url = url.into();
        self
    }

    /// The CDN base URL (default `https://novac2c.cdn.weixin.qq.com/c2c`).
    pub fn cdn_base_url(mut self, url: impl Into<String>) -> Self {
        self.cdn_base_url = url.into();
        self
    }

    /// The `iLink-App-Id` header (default `bot`).
    pub fn app_id(mut self, app_id: impl Into<String>) -> Self {
        self.app_id = app_id.into();
        self
    }

    /// The client version, `major.minor.patch` (default this crate's): sent
    /// as `base_info.channel_version` and, encoded, as
    /// `iLink-App-ClientVersion`.
    pub fn client_version(mut self, version: impl Into<String>) -> Self {
        self.client_version = version.into();
        self
    }

    /// The `SKRouteTag` header, sent on every request when set.
    pub fn route_tag(mut self, tag: impl Into<String>) -> Self {
        self.route_tag = Some(tag.into());
        self
    }

    /// `base_info.bot_agent`, cleaned with
    /// [`sanitize_bot_agent`](ilink_proto::sanitize_bot_agent).
    pub fn bot_agent(mut self, agent: impl Into<String>) -> Self {
        self.bot_agent = Some(agent.into());
        self
    }

    /// The long-poll timeout for when the server gave no hint; default
    /// 35 s. getupdates and get_qrcode_status wait this plus the
    /// [margin](Self::long_poll_margin).
    pub fn long_poll_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.long_poll = timeout;
        self
    }

    /// Added to the server's long-poll hint (or, without one, to the
    /// long-poll timeout) to get the getupdates deadline; default 5 s.
    pub fn long_poll_margin(mut self, margin: Duration) -> Self {
        self.long_poll_margin = margin;
        self
    }

    /// sendmessage and getuploadurl; default 15 s.
    pub fn api_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.api = timeout;
        self
    }

    /// getconfig, sendtyping, notifystart and notifystop; default 10 s.
    pub fn config_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.config = timeout;
        self
    }

    /// get_bot_qrcode, which the official client leaves unbounded; default
    /// 60 s so nothing hangs.
    pub fn login_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.login = timeout;
        self
    }

    /// The deadline of one CDN upload attempt; default 10 minutes.
    pub fn upload_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.upload = timeout;
        self
    }

    /// The overall deadline of a CDN download; default 10 minutes.
    pub fn download_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.download = timeout;
        self
    }

    /// How long a CDN download may wait for the response head or for the
    /// next piece of the body before it fails; default 30 s.
    pub fn download_idle_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.download_idle = timeout;
        self
    }

    /// The largest API response body read, in bytes; default 4 MiB.
    pub fn response_limit(mut self, bytes: u64) -> Self {
        self.response_limit = bytes;
        self
    }

    /// The largest message of a getupdates batch kept (default 1 MiB). A
    /// larger one, or one that would take the kept answer past
    /// [`response_limit`](Self::response_limit), is set aside as the answer
    /// streams in and reported as a
    /// [`MalformedUpdate`](ilink_proto::MalformedUpdate) with
    /// `set_aside`; the rest of the batch and the cursor are kept. The
    /// answer read off the wire is bounded only by the long-poll deadline
    /// and 256 MiB.
    pub fn update_limit(mut self, bytes: u64) -> Self {
        self.update_limit = bytes;
        self
    }

    /// The default cap on a CDN download, in bytes received; default
    /// 100 MiB, as the official client.
    pub fn download_cap(mut self, bytes: u64) -> Self {
        self.download_cap = bytes;
        self
    }

    /// The TCP connect timeout; default 10 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long an idle pooled connection is kept; default 90 s.
    pub fn pool_idle_timeout(mut self, timeout: Duration) -> Self {
        self.pool_idle_timeout = timeout;
        self
    }

    /// How many idle connections are kept per host; default 64.
    pub fn pool_max_idle_per_host(mut self, max: usize) -> Self {
        self.pool_max_idle_per_host = max;
        self
    }

    /// Whether to offer HTTP/2 to HTTPS servers (ALPN `h2` before
    /// `http/1.1`); default on. The server picks: on h2 the held long-polls
    /// of every account on one host share a few connections (as many
    /// streams on each as the server's `SETTINGS_MAX_CONCURRENT_STREAMS`
    /// allows); on HTTP/1.1 each held poll keeps a connection of its own.
    /// Plain `http://` URLs always use HTTP/1.1.
    pub fn http2(mut self, on: bool) -> Self {
        self.http2 = on;
        self
    }

    /// Also trusts this root certificate (DER), for a server behind a
    /// private certificate authority, such as the test authority of
    /// `ilink-testkit`. Certificate checks stay on. Ignored when a whole
    /// [`tls_config`](Self::tls_config) is given.
    pub fn add_root_certificate(mut self, der: impl Into<Vec<u8>>) -> Self {
        self.extra_roots.push(der.into());
        self
    }

    /// [`add_root_certificate`](Self::add_root_certificate) for every
    /// certificate in a PEM text (a CA bundle file's contents).
    /// [`build`](Self::build) fails if it holds none or a malformed one.
    pub fn add_root_certificates_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.extra_pem.push(pem.into());
        self
    }

    /// How much plaintext an upload reads and encrypts at a time; default
    /// 256 KiB. This bounds an upload's memory.
    pub fn upload_chunk_size(mut self, bytes: usize) -> Self {
        self.upload_chunk_size = bytes.max(16);
        self
    }

    /// Attempts and backoff of CDN uploads; default 3 attempts, 200 ms and
    /// then 400 ms apart (±20 %), up to 5 s between two.
    pub fn upload_retry(mut self, policy: Retry) -> Self {
        self.upload_retry = policy;
        self
    }

    /// Attempts and backoff of CDN downloads; default 3 attempts, 200 ms
    /// and then 400 ms apart (±20 %). A download is tried again only when
    /// it failed before any byte reached the writer (no connection, a 5xx,
    /// 408 or 429, a timeout or a cut body before the first byte): never
    /// once part of the media was written.
    pub fn download_retry(mut self, policy: Retry) -> Self {
        self.download_retry = policy;
        self
    }

    /// Uses this TLS configuration instead of the default one (custom roots,
    /// client certificates). ALPN is set by the transport.
    pub fn tls_config(mut self, config: rustls::ClientConfig) -> Self {
        self.tls_config = Some(config);
        self
    }

    /// Whether to trust the system's root certificates (default) or the
    /// bundled webpki roots.
    #[cfg(feature = "native-roots")]
    pub fn native_roots(mut self, yes: bool) -> Self {
        self.native_roots = yes;
        self
    }

    /// Builds the transport. Fails on a malformed base URL, app id, route
    /// tag or client version, or when no TLS roots can be loaded.
    ///
    /// Needs no runtime; the first request must run inside Tokio.
    pub fn build(self) -> Result<Transport, Error> {
        parse_uri(&self.api_base_url)
            .map_err(|e| e.with_reason("the API base URL must be an absolute http(s) URL"))?;
        parse_uri(&self.cdn_base_url)
            .map_err(|e| e.with_reason("the CDN base URL must be an absolute http(s) URL"))?;
        for url in [&self.api_base_url, &self.cdn_base_url] {
            if !crate::is_trusted_base_url(url) {
                return Err(Error::invalid_input(UNTRUSTED_BASE));
            }
        }
        let app_id = HeaderValue::try_from(self.app_id.as_str())
            .map_err(|_| Error::invalid_input("the app id is not a valid header value"))?;
        let code = ilink_proto::client_version_code(&self.client_version)
            .ok_or_else(|| Error::invalid_input("the client version is not major.minor.patch"))?;
        let route_tag =
            match self.route_tag.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(tag) => Some(HeaderValue::try_from(tag).map_err(|_| {
                    Error::invalid_input("the route tag is not a valid header value")
                })?),
            };
        let bot_agent = ilink_proto::sanitize_bot_agent(self.bot_agent.as_deref().unwrap_or(""));

        let mut http = HttpConnector::new();
        http.set_connect_timeout(Some(self.connect_timeout));
        http.set_nodelay(true);
        http.enforce_http(false);
        let tls = hyper_rustls::HttpsConnectorBuilder::new();
        let mut extra_roots = self.extra_roots;
        for pem in &self.extra_pem {
            use rustls::pki_types::pem::PemObject as _;
            let before = extra_roots.len();
            for cert in rustls::pki_types::CertificateDer::pem_slice_iter(pem) {
                let cert = cert.map_err(|e| {
                    Error::new(ErrorKind::Tls)
                        .with_reason("a root certificate PEM is malformed")
                        .with_source(e)
                })?;
                extra_roots.push(cert.to_vec());
            }
            if extra_roots.len() == before {
                return Err(Error::new(ErrorKind::Tls)
                    .with_reason("a root certificate PEM holds no certificate"));
            }
        }
        let tls = match self.tls_config {
            Some(config) => tls.with_tls_config(config),
            None => default_tls(
                tls,
                &extra_roots,
                #[cfg(feature = "native-roots")]
                self.native_roots,
            )?,
        };
        let tls = tls.https_or_http();
        let connector = if self.http2 {
            tls.enable_all_versions().wrap_connector(http)
        } else {
            tls.enable_http1().wrap_connector(http)
        };
        let pool = Pool::new(
            connector,
            PoolConfig {
                idle_timeout: self.pool_idle_timeout,
                max_idle_per_host: self.pool_max_idle_per_host,
                connect_timeout: self.connect_timeout,
            },
        );

        Ok(Transport {
            shared: Arc::new(Shared {
                pool,
                config: Config {
                    api_base_url: self.api_base_url,
                    cdn_base_url: self.cdn_base_url,
                    app_id,
                    client_version: self.client_version,
                    client_version_code: HeaderValue::from(code),
                    route_tag,
                    bot_agent,
                    timeouts: self.timeouts,
                    long_poll_margin: self.long_poll_margin,
                    response_limit: self.response_limit,
                    update_limit: self.update_limit,
                    download_cap: self.download_cap,
                    upload_chunk_size: self.upload_chunk_size,
                    upload_retry: self.upload_retry,
                    download_retry: self.download_retry,
                },
            }),
        })
    }
}

type TlsBuilder = hyper_rustls::HttpsConnectorBuilder<hyper_rustls::builderstates::WantsTlsConfig>;
type TlsReady = hyper_rustls::HttpsConnectorBuilder<hyper_rustls::builderstates::WantsSchemes>;

/// rustls with the `ring` provider (chosen explicitly, so another crate
/// enabling `aws-lc-rs` cannot make the process default ambiguous), trusting
/// the bundled (or system) roots and `extra_roots`.
fn default_tls(
    builder: TlsBuilder,
    extra_roots: &[Vec<u8>],
    #[cfg(feature = "native-roots")] native_roots: bool,
) -> Result<TlsReady, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    if !extra_roots.is_empty() {
        let mut roots = rustls::RootCertStore::empty();
        #[cfg(feature = "native-roots")]
        if native_roots {
            let found = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(found.certs);
        }
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        for der in extra_roots {
            roots
                .add(rustls::pki_types::CertificateDer::from(der.clone()))
                .map_err(|e| {
                    Error::new(ErrorKind::Tls)
                        .with_reason("an added root certificate is not valid DER")
                        .with_source(e)
                })?;
        }
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::new(ErrorKind::Tls).with_source(e))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        return Ok(builder.with_tls_config(config));
    }
    #[cfg(feature = "native-roots")]
    if native_roots {
        return builder
            .with_provider_and_native_roots(provider)
            .map_err(|e| {
                Error::new(ErrorKind::Tls)
                    .with_reason("no native root certificates could be loaded")
                    .with_source(e)
            });
    }
    builder
        .with_provider_and_webpki_roots(provider)
        .map_err(|e| Error::new(ErrorKind::Tls).with_source(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_checked_without_echoing_them() {
        assert!(parse_uri("https://h/p?qrcode=x").is_ok());
        assert!(parse_uri("http://127.0.0.1:1/").is_ok());
        for bad in [
            "ftp://h/x",
            "/relative?qrcode=secret",
            "https://",
            "not a url",
        ] {
            let err = parse_uri(bad).unwrap_err();
            assert_eq!(err.kind(), &ErrorKind::InvalidInput, "{bad}");
            assert!(!err.to_string().contains("secret"));
        }
    }

    #[test]
    fn a_plain_http_cdn_url_must_be_on_the_cdns_origin_port_included() {
        let t = Transport::builder()
            .cdn_base_url("http://127.0.0.1:8443/c2c")
            .build()
            .unwrap();
        assert!(t.cdn_uri("http://127.0.0.1:8443/download?x=1").is_ok());
        assert!(t.cdn_uri("HTTP://127.0.0.1:8443/download").is_ok());
        for other in [
            "http://127.0.0.1:8444/download",
            "http://127.0.0.1/download",
            "http://127.0.0.2:8443/download",
        ] {
            let err = t.cdn_uri(other).unwrap_err();
            assert_eq!(err.kind(), &ErrorKind::InvalidInput, "{other}");
        }
    }

    #[test]
    fn bearer_is_sensitive_and_trimmed() {
        let value = bearer(&BotToken::new(" abc \n")).unwrap();
        assert_eq!(value.to_str().unwrap(), "Bearer abc");
        assert!(value.is_sensitive());
        assert!(bearer(&BotToken::new("  ")).is_err());
        let err = bearer(&BotToken::new("a\u{1}b")).unwrap_err();
        assert!(!format!("{err} {err:?}").contains("a\u{1}b"));
    }

    #[test]
    fn builder_validates() {
        assert!(Transport::builder().build().is_ok());
        let bad = [
            Transport::builder().api_base_url("nope"),
            Transport::builder().cdn_base_url("ftp://x"),
            Transport::builder().client_version("one.two"),
            Transport::builder().app_id("a\nb"),
            Transport::builder().route_tag("x\u{0}"),
            Transport::builder().api_base_url("http://10.0.0.1"),
            Transport::builder().cdn_base_url("http://cdn.example/c2c"),
        ];
        for builder in bad {
            assert_eq!(
                builder.build().unwrap_err().kind(),
                &ErrorKind::InvalidInput
            );
        }
        let t = Transport::builder()
            .client_version("2.4.9")
            .bot_agent("Good/1 bad")
            .route_tag("  ")
            .build()
            .unwrap();
        assert_eq!(t.shared.config.client_version_code, "132105");
        assert!(t.shared.config.route_tag.is_none());
        assert_eq!(t.base_info(), BaseInfo::new("2.4.9", "Good/1"));
        assert_eq!(t.class_timeout(CallClass::Login), Duration::from_secs(60));
    }

    #[test]
    fn random_values_vary() {
        let values: std::collections::HashSet<u32> = (0..16).map(|_| random_u32()).collect();
        assert!(values.len() > 1);
    }
}
