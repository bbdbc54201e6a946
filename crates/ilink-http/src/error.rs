//! The transport's error: an opaque struct with a [`kind`](Error::kind) and
//! predicates that decide retries.

use std::error::Error as StdError;
use std::fmt;
use std::io;

use bytes::Bytes;
use ilink_proto::Outcome;

/// A boxed error, as hyper and `http-body` carry them.
pub(crate) type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// What went wrong, in broad strokes. Match on it; more kinds may be added.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The connection could not be made (DNS, refused, unreachable, connect
    /// timeout).
    Connect,
    /// The deadline passed before the response (head and body) was complete.
    Timeout,
    /// The TLS handshake failed (certificate, protocol).
    Tls,
    /// The server answered with a non-success HTTP status.
    /// [`Error::reason`] carries the CDN's `x-error-message` or a short
    /// snippet of the body.
    Status {
        /// The HTTP status code.
        status: u16,
    },
    /// The connection broke after it was made: the request could not be sent,
    /// or the response was reset, closed early or cut short.
    Body,
    /// The response is larger than the configured limit.
    TooLarge {
        /// The limit that was exceeded, in bytes.
        limit: u64,
    },
    /// The response body is not what the endpoint returns (bad JSON, a
    /// missing header). [`Error::body`] keeps the raw body.
    Decode,
    /// The server refused the call in-band: `ret` or `errcode` is non-zero.
    /// See [`Error::is_session_expired`] and [`Error::is_throttled`].
    Api {
        /// `ret`, as sent.
        ret: Option<i64>,
        /// `errcode`, as sent.
        errcode: Option<i64>,
        /// `errmsg`, as sent.
        errmsg: Option<String>,
    },
    /// Downloaded media could not be decrypted (not whole blocks, bad
    /// padding: a truncated body or a wrong key).
    Decrypt,
    /// A local reader or writer failed (the upload source, the download sink).
    Io,
    /// The caller's input cannot be used: a malformed URL or header value, or
    /// an upload source that did not yield the declared number of bytes.
    InvalidInput,
}

/// The error of every transport call.
///
/// [`Display`](fmt::Display) describes this layer only and never contains a
/// token, key or query string; the underlying hyper, rustls or I/O error is
/// available through [`source`](StdError::source).
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    /// What was being called: an endpoint path or `cdn upload`/`cdn download`.
    context: Option<&'static str>,
    /// A server-provided reason or a short description of our own.
    reason: Option<String>,
    /// The raw response body, when one was read.
    body: Option<Bytes>,
    source: Option<BoxError>,
}

const _: () = {
    const fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<Error>();
};

impl Error {
    pub(crate) fn new(kind: ErrorKind) -> Self {
        Self {
            inner: Box::new(Inner {
                kind,
                context: None,
                reason: None,
                body: None,
                source: None,
            }),
        }
    }

    pub(crate) fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.inner.source = Some(source.into());
        self
    }

    pub(crate) fn with_reason(mut self, reason: impl Into<String>) -> Self {
        self.inner.reason = Some(reason.into());
        self
    }

    pub(crate) fn with_body(mut self, body: Bytes) -> Self {
        self.inner.body = Some(body);
        self
    }

    pub(crate) fn with_context(mut self, context: &'static str) -> Self {
        if self.inner.context.is_none() {
            self.inner.context = Some(context);
        }
        self
    }

    pub(crate) fn invalid_input(reason: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput).with_reason(reason)
    }

    pub(crate) fn io(what: &'static str, source: io::Error) -> Self {
        Self::new(ErrorKind::Io)
            .with_reason(what)
            .with_source(source)
    }

    pub(crate) fn timeout() -> Self {
        Self::new(ErrorKind::Timeout)
    }

    /// Classifies an error of a hyper connection (TLS, a refused request, a
    /// head over the limit, a broken connection).
    pub(crate) fn from_hyper(err: hyper::Error) -> Self {
        let tls = chain_has_tls(&err);
        let kind = if tls {
            ErrorKind::Tls
        } else if chain_has_user_error(&err) {
            ErrorKind::InvalidInput
        } else {
            ErrorKind::Body
        };
        Self::new(kind).with_source(err)
    }

    /// A connector's failure to open a connection (TCP or TLS).
    pub(crate) fn from_connect(err: BoxError) -> Self {
        let kind = if chain_has_tls(&*err) {
            ErrorKind::Tls
        } else {
            ErrorKind::Connect
        };
        Self::new(kind).with_source(err)
    }

    /// An error while reading a response body.
    pub(crate) fn from_body(err: BoxError, limit: u64) -> Self {
        if err.is::<http_body_util::LengthLimitError>() {
            Self::new(ErrorKind::TooLarge { limit }).with_source(err)
        } else {
            Self::new(ErrorKind::Body).with_source(err)
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.inner.kind
    }

    /// The HTTP status, for [`ErrorKind::Status`].
    pub fn status(&self) -> Option<u16> {
        match self.inner.kind {
            ErrorKind::Status { status } => Some(status),
            _ => None,
        }
    }

    /// The reason given with the error: the CDN's `x-error-message` or a
    /// short snippet of an error body for [`ErrorKind::Status`]; a short
    /// description of our own for [`ErrorKind::InvalidInput`],
    /// [`ErrorKind::Decode`] and [`ErrorKind::Io`].
    pub fn reason(&self) -> Option<&str> {
        self.inner.reason.as_deref()
    }

    /// The raw response body, when one was read: always for
    /// [`ErrorKind::Decode`] and [`ErrorKind::Api`], and for
    /// [`ErrorKind::Status`] when the body was small enough to keep.
    pub fn body(&self) -> Option<&[u8]> {
        self.inner.body.as_deref()
    }

    /// The endpoint path (or `cdn upload` / `cdn download`) this error
    /// belongs to, when known.
    pub fn context(&self) -> Option<&'static str> {
        self.inner.context
    }

    /// The in-band outcome, for [`ErrorKind::Api`].
    pub fn api_outcome(&self) -> Option<Outcome> {
        match self.inner.kind {
            ErrorKind::Api { ret, errcode, .. } => Some(Outcome::classify(ret, errcode)),
            _ => None,
        }
    }

    /// Whether the deadline passed ([`ErrorKind::Timeout`]).
    pub fn is_timeout(&self) -> bool {
        matches!(self.inner.kind, ErrorKind::Timeout)
    }

    /// Whether the bot token is stale (`-14`): a new QR login is needed.
    pub fn is_session_expired(&self) -> bool {
        self.api_outcome() == Some(Outcome::SessionExpired)
    }

    /// Whether the server throttled the account (`-2`). Do not retry into it.
    pub fn is_throttled(&self) -> bool {
        self.api_outcome() == Some(Outcome::Throttled)
    }

    /// Whether trying the same call again may succeed: connection failures,
    /// timeouts, broken connections, HTTP 5xx, 408 and 429. API refusals,
    /// session expiry, throttling, decode errors, other 4xx, TLS failures and
    /// local I/O are not retryable.
    pub fn is_retryable(&self) -> bool {
        match self.inner.kind {
            ErrorKind::Connect | ErrorKind::Timeout | ErrorKind::Body => true,
            ErrorKind::Status { status } => status >= 500 || status == 408 || status == 429,
            _ => false,
        }
    }
}

/// Whether a rustls error is somewhere in the chain (`io::Error` hides its
/// payload from `source()`, so look inside those too).
fn chain_has_tls(err: &(dyn StdError + 'static)) -> bool {
    walk_chain(err, &|e| e.is::<rustls::Error>())
}

/// Whether hyper refused the request itself (a malformed request, an
/// unsupported URL), as opposed to a network failure.
fn chain_has_user_error(err: &(dyn StdError + 'static)) -> bool {
    walk_chain(err, &|e| {
        e.downcast_ref::<hyper::Error>()
            .is_some_and(|h| h.is_user() && !h.is_body_write_aborted())
    })
}

fn walk_chain(
    mut err: &(dyn StdError + 'static),
    pred: &dyn Fn(&(dyn StdError + 'static)) -> bool,
) -> bool {
    loop {
        if pred(err) {
            return true;
        }
        if let Some(io) = err.downcast_ref::<io::Error>()
            && let Some(inner) = io.get_ref()
            && walk_chain(inner, pred)
        {
            return true;
        }
        match err.source() {
            Some(next) => err = next,
            None => return false,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(context) = self.inner.context {
            write!(f, "{context}: ")?;
        }
        match &self.inner.kind {
            ErrorKind::Connect => f.write_str("could not connect to the server"),
            ErrorKind::Timeout => f.write_str("the request timed out"),
            ErrorKind::Tls => f.write_str("the TLS handshake failed"),
            ErrorKind::Status { status } => write!(f, "the server answered HTTP {status}"),
            ErrorKind::Body => f.write_str("the connection broke during the request"),
            ErrorKind::TooLarge { limit } => {
                write!(f, "the response is larger than the limit of {limit} bytes")
            }
            ErrorKind::Decode => match &self.inner.reason {
                Some(reason) => write!(f, "unexpected response: {reason}"),
                None => f.write_str("the response could not be decoded"),
            },
            ErrorKind::Api {
                ret,
                errcode,
                errmsg,
            } => {
                match Outcome::classify(*ret, *errcode) {
                    Outcome::SessionExpired => f.write_str("the session expired (-14)")?,
                    Outcome::Throttled => f.write_str("the account is throttled (-2)")?,
                    _ => f.write_str("the server refused the call")?,
                }
                if let Some(ret) = ret {
                    write!(f, ", ret {ret}")?;
                }
                if let Some(errcode) = errcode {
                    write!(f, ", errcode {errcode}")?;
                }
                match errmsg.as_deref() {
                    Some(msg) if !msg.is_empty() => write!(f, ": {}", snippet(msg.as_bytes())),
                    _ => Ok(()),
                }
            }
            ErrorKind::Decrypt => f.write_str("the media could not be decrypted"),
            ErrorKind::Io => match &self.inner.reason {
                Some(reason) => write!(f, "I/O error {reason}"),
                None => f.write_str("I/O error"),
            },
            ErrorKind::InvalidInput => match &self.inner.reason {
                Some(reason) => write!(f, "invalid input: {reason}"),
                None => f.write_str("invalid input"),
            },
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.inner.kind);
        if let Some(context) = self.inner.context {
            d.field("context", &context);
        }
        if let Some(reason) = &self.inner.reason {
            d.field("reason", reason);
        }
        if let Some(body) = &self.inner.body {
            d.field("body_len", &body.len());
        }
        if let Some(source) = &self.inner.source {
            d.field("source", source);
        }
        d.finish()
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.inner
            .source
            .as_ref()
            .map(|e| &**e as &(dyn StdError + 'static))
    }
}

/// At most this many characters of a body go into a reason.
const SNIPPET_CHARS: usize = 200;

/// A short, printable, single-line excerpt of a body: whitespace, control
/// characters and the characters that reorder or hide text (bidi
/// overrides, isolates, marks: see [`ilink_proto::is_display_unsafe`])
/// become single spaces, so a body cannot rewrite the line it is shown on.
pub(crate) fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut out = String::new();
    let mut last_space = true;
    for c in text.trim().chars() {
        if out.chars().count() >= SNIPPET_CHARS {
            out.push('…');
            break;
        }
        if c.is_whitespace() || ilink_proto::is_display_unsafe(c) {
            if !last_space {
                out.push(' ');
            }
            last_space = true;
        } else {
            out.push(c);
            last_space = false;
        }
    }
    out.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(ret: Option<i64>, errcode: Option<i64>) -> Error {
        Error::new(ErrorKind::Api {
            ret,
            errcode,
            errmsg: Some("nope".into()),
        })
    }

    #[test]
    fn predicates() {
        assert!(Error::timeout().is_timeout());
        assert!(Error::timeout().is_retryable());
        assert!(Error::new(ErrorKind::Connect).is_retryable());
        assert!(Error::new(ErrorKind::Body).is_retryable());
        for status in [500, 502, 503, 504, 524, 429, 408] {
            let err = Error::new(ErrorKind::Status { status });
            assert!(err.is_retryable(), "{status}");
            assert_eq!(err.status(), Some(status));
        }
        for status in [400, 401, 403, 404, 413] {
            assert!(!Error::new(ErrorKind::Status { status }).is_retryable());
        }
        for kind in [
            ErrorKind::Tls,
            ErrorKind::Decode,
            ErrorKind::Decrypt,
            ErrorKind::Io,
            ErrorKind::InvalidInput,
            ErrorKind::TooLarge { limit: 1 },
        ] {
            assert!(!Error::new(kind).is_retryable());
        }

        let expired = api(Some(-14), None);
        assert!(expired.is_session_expired());
        assert!(!expired.is_throttled());
        assert!(!expired.is_retryable());
        assert!(api(None, Some(-14)).is_session_expired());
        let throttled = api(Some(-2), None);
        assert!(throttled.is_throttled());
        assert!(!throttled.is_retryable());
        let failed = api(Some(-1), None);
        assert!(!failed.is_session_expired() && !failed.is_throttled());
        assert_eq!(failed.status(), None);
    }

    #[test]
    fn display_is_own_layer_only() {
        let source = io::Error::other("secret-token-in-source");
        let err = Error::new(ErrorKind::Body)
            .with_source(source)
            .with_context("ilink/bot/getupdates");
        let shown = err.to_string();
        assert_eq!(
            shown,
            "ilink/bot/getupdates: the connection broke during the request"
        );
        assert!(err.source().is_some());

        let err = api(Some(-14), Some(-14));
        assert_eq!(
            err.to_string(),
            "the session expired (-14), ret -14, errcode -14: nope"
        );
        let err = Error::new(ErrorKind::Status { status: 524 }).with_reason("<html>");
        assert_eq!(err.to_string(), "the server answered HTTP 524");
        assert_eq!(err.reason(), Some("<html>"));
    }

    #[test]
    fn snippets_are_short_single_lines() {
        assert_eq!(
            snippet(b"  <h1>Bad\r\n\tGateway</h1>\n"),
            "<h1>Bad Gateway</h1>"
        );
        let long = "x".repeat(1000);
        let s = snippet(long.as_bytes());
        assert_eq!(s.chars().count(), SNIPPET_CHARS + 1);
        assert!(s.ends_with('…'));
        assert_eq!(snippet(&[0xff, b'a']), "\u{fffd}a");
    }

    #[test]
    fn snippets_drop_escapes_and_bidi_controls() {
        let hostile = "err\u{1b}[2J\u{7}\u{202e}gnp.exe\u{2066}x\u{200f}y\u{9b}z 文字 👋";
        let s = snippet(hostile.as_bytes());
        assert_eq!(s, "err [2J gnp.exe x y z 文字 👋");
        assert!(!s.chars().any(ilink_proto::is_display_unsafe), "{s:?}");
    }
}
