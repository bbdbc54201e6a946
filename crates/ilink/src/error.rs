//! The client's error type.

use std::time::Duration;

use crate::store::StoreError;

/// A boxed error from a handler or a prompt.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What went wrong in a client call.
///
/// [`is_retryable`](Error::is_retryable) decides every retry the client
/// makes: network failures, timeouts and 5xx are retried; refusals, session
/// expiry, throttling and undecodable answers are not.
///
/// `Debug` and `Display` never print a raw body (it may hold message text,
/// context tokens or keys): [`Error::Decode`] shows its length only; read
/// the field itself to see it.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The transport failed (connect, timeout, TLS, HTTP status, body, size).
    #[error("request failed")]
    Http(#[source] ilink_http::Error),
    /// The bot token is unknown, revoked or expired (`-14`): a new QR login is
    /// the remedy.
    #[error("session expired for account {account}; log in again")]
    SessionExpired {
        /// The account.
        account: String,
    },
    /// A send was refused with `ret -2` (the account's send budget). Retrying
    /// now prolongs the penalty.
    #[error("sending is throttled by the server")]
    Throttled {
        /// The server's message, when it gave one.
        errmsg: Option<String>,
    },
    /// The server answered with another non-zero `ret`/`errcode`.
    #[error("the server refused the request (ret {ret:?}, errcode {errcode:?})")]
    Api {
        /// `ret`.
        ret: Option<i64>,
        /// `errcode`.
        errcode: Option<i64>,
        /// `errmsg`.
        errmsg: Option<String>,
    },
    /// The answer could not be decoded.
    #[error("could not decode the server's answer")]
    Decode {
        /// The raw body (never contains our token; may contain message text).
        body: String,
    },
    /// Media encryption or decryption failed.
    #[error("media crypto failed")]
    Crypto(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A received media item cannot be downloaded (not media, no reference,
    /// no usable key).
    #[error("the media item cannot be downloaded")]
    Media(#[from] crate::media::MediaError),
    /// Local I/O failed (a file to send, a download target).
    #[error("I/O failed")]
    Io(#[from] std::io::Error),
    /// The store failed.
    #[error("the state store failed")]
    Store(#[from] StoreError),
    /// The caller asked for something impossible.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// No credentials: neither a token nor a stored login for the account.
    #[error("no credentials for {0}; log in first or give a token")]
    NotLoggedIn(String),
    /// The QR login did not complete.
    #[error("login failed: {0}")]
    Login(LoginFailure),
    /// A deadline passed.
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    /// Part of a multi-message send went out before a failure.
    #[error("sent {sent} of {total} messages before a failure")]
    Partial {
        /// How many were sent.
        sent: usize,
        /// How many there were.
        total: usize,
        /// The failure.
        #[source]
        source: Box<Error>,
    },
}

impl std::fmt::Debug for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Http(e) => f.debug_tuple("Http").field(e).finish(),
            Self::SessionExpired { account } => f
                .debug_struct("SessionExpired")
                .field("account", account)
                .finish(),
            Self::Throttled { errmsg } => {
                f.debug_struct("Throttled").field("errmsg", errmsg).finish()
            }
            Self::Api {
                ret,
                errcode,
                errmsg,
            } => f
                .debug_struct("Api")
                .field("ret", ret)
                .field("errcode", errcode)
                .field("errmsg", errmsg)
                .finish(),
            Self::Decode { body } => f
                .debug_struct("Decode")
                .field("body_len", &body.len())
                .finish_non_exhaustive(),
            Self::Crypto(e) => f.debug_tuple("Crypto").field(e).finish(),
            Self::Media(e) => f.debug_tuple("Media").field(e).finish(),
            Self::Io(e) => f.debug_tuple("Io").field(e).finish(),
            Self::Store(e) => f.debug_tuple("Store").field(e).finish(),
            Self::InvalidInput(s) => f.debug_tuple("InvalidInput").field(s).finish(),
            Self::NotLoggedIn(s) => f.debug_tuple("NotLoggedIn").field(s).finish(),
            Self::Login(l) => f.debug_tuple("Login").field(l).finish(),
            Self::Timeout(d) => f.debug_tuple("Timeout").field(d).finish(),
            Self::Partial {
                sent,
                total,
                source,
            } => f
                .debug_struct("Partial")
                .field("sent", sent)
                .field("total", total)
                .field("source", source)
                .finish(),
        }
    }
}

/// Why a QR login ended without credentials.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LoginFailure {
    /// Every QR code expired (3 in all).
    #[error("the QR code expired {0} times")]
    Expired(u32),
    /// The login deadline passed.
    #[error("the login deadline passed")]
    Deadline,
    /// `confirmed` came without an account id or token.
    #[error("the server confirmed without credentials")]
    MissingCredentials,
    /// The caller's verify-code prompt gave up.
    #[error("no verify code was given")]
    NoVerifyCode,
    /// `confirmed` named an API base URL that may not carry a token (not
    /// https, and not http to a loopback address); nothing was saved.
    #[error(
        "the server named an API base URL that is neither https nor loopback; nothing was saved"
    )]
    UntrustedBaseUrl,
}

impl Error {
    /// Whether retrying the same call may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Http(e) => e.is_retryable(),
            Error::Timeout(_) => true,
            Error::Partial { source, .. } => source.is_retryable(),
            _ => false,
        }
    }

    /// Whether the session expired (`-14`).
    pub fn is_session_expired(&self) -> bool {
        match self {
            Error::SessionExpired { .. } => true,
            Error::Partial { source, .. } => source.is_session_expired(),
            _ => false,
        }
    }

    /// Whether the server throttled a send (`ret -2`).
    pub fn is_throttled(&self) -> bool {
        match self {
            Error::Throttled { .. } => true,
            Error::Partial { source, .. } => source.is_throttled(),
            _ => false,
        }
    }

    /// Maps a transport error to the client's taxonomy.
    pub(crate) fn from_http(account: &str, err: ilink_http::Error) -> Self {
        use ilink_http::ErrorKind;
        if err.is_session_expired() {
            return Error::SessionExpired {
                account: account.to_owned(),
            };
        }
        match err.kind() {
            ErrorKind::Api {
                ret,
                errcode,
                errmsg,
            } => {
                if err.is_throttled() {
                    Error::Throttled {
                        errmsg: errmsg.clone(),
                    }
                } else {
                    Error::Api {
                        ret: *ret,
                        errcode: *errcode,
                        errmsg: errmsg.clone(),
                    }
                }
            }
            ErrorKind::Decode => Error::Decode {
                body: err
                    .body()
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .unwrap_or_default(),
            },
            _ => Error::Http(err),
        }
    }
}

const _: () = {
    const fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<Error>();
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_print_a_raw_body() {
        let err = Error::Decode {
            body: r#"{"bot_token":"SECRET-TOKEN","context_token":"SECRET-CTX"}"#.to_owned(),
        };
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(shown.contains("body_len"), "{shown}");
        let partial = Error::Partial {
            sent: 1,
            total: 2,
            source: Box::new(err),
        };
        assert!(!format!("{partial:?}").contains("SECRET"));
    }

    #[test]
    fn an_inbox_entry_does_not_print_its_message() {
        let entry = crate::store::InboxEntry::new(
            "k1",
            serde_json::json!({"context_token": "SECRET-CTX", "text": "hi"}),
            7,
        );
        let shown = format!("{entry:?}");
        assert!(
            !shown.contains("SECRET") && !shown.contains("hi"),
            "{shown}"
        );
        assert!(shown.contains("k1"), "{shown}");
    }
}
