//! The client's error type, and a reporter that prints an error with its
//! causes on one line.

use std::fmt;
use std::time::Duration;

use ilink_proto::{AccountId, ErrorCode, UserId};

use crate::store::StoreError;

/// A boxed error from a handler or a prompt.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What went wrong in a client call.
///
/// Match on the variant, or ask: [`is_retryable`](Error::is_retryable)
/// decides every retry the client makes (network failures, timeouts and
/// 5xx are retried; refusals, session expiry, throttling and undecodable
/// answers are not), [`is_session_expired`](Error::is_session_expired),
/// [`is_throttled`](Error::is_throttled). Causes are kept as
/// [`source`](std::error::Error::source)s; print the whole chain with
/// [`Report`].
///
/// `Debug` and `Display` never print a raw body (it may hold message text,
/// context tokens or keys): read it with [`body`](Error::body).
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The transport failed (connect, timeout, TLS, HTTP status, body, size).
    #[error("request failed")]
    Http(#[source] ilink_http::Error),
    /// The server's answer could not be decoded (the body is kept: see
    /// [`Error::body`]; the decoder's error is the source).
    #[error("could not decode the server's answer")]
    Decode(#[source] ilink_http::Error),
    /// The bot token is unknown, revoked or expired (`-14`): a new QR login is
    /// the remedy.
    #[error("session expired for account {account}; log in again")]
    SessionExpired {
        /// The account.
        account: AccountId,
    },
    /// A send was refused with `ret -2` (the account's send budget). Retrying
    /// now prolongs the penalty.
    #[error("sending is throttled by the server")]
    Throttled {
        /// The server's message, when it gave one.
        errmsg: Option<String>,
    },
    /// The server answered with another non-zero `ret`/`errcode`.
    #[error("the server refused the request ({})", refusal(*ret, *errcode))]
    Api {
        /// `ret`, when non-zero.
        ret: Option<ErrorCode>,
        /// `errcode`, when non-zero.
        errcode: Option<ErrorCode>,
        /// `errmsg`.
        errmsg: Option<String>,
    },
    /// The system's random source failed (generating a media key).
    #[error("no randomness for a media key")]
    Random(#[source] ilink_crypto::RandomError),
    /// A received media item cannot be downloaded or saved.
    #[error("the media item cannot be downloaded")]
    Media(#[from] crate::media::MediaError),
    /// Received voice could not be decoded (feature `voice`).
    #[cfg(feature = "voice")]
    #[error("the voice note cannot be decoded")]
    Voice(#[from] crate::voice::VoiceError),
    /// Local I/O failed (a file to send, a download target).
    #[error("I/O failed")]
    Io(#[from] std::io::Error),
    /// The store failed.
    #[error("the state store failed")]
    Store(#[from] StoreError),
    /// A background task of the client (a store call, hashing a file) ended
    /// without an answer: it panicked or the runtime is shutting down.
    #[error("a background task failed")]
    Task(#[source] tokio::task::JoinError),
    /// The store has no login for this account.
    #[error("no stored login for account {account}; log in first or give a token")]
    UnknownAccount {
        /// The account asked for.
        account: AccountId,
    },
    /// A stored account's token is not sent: the origin it belongs to
    /// (the host it was logged in at) is unknown, or is not where this
    /// client would send it. See [`Client::stored_bot`](crate::Client::stored_bot).
    #[error("the token of account {account} is not sent: {problem}")]
    TokenOrigin {
        /// The account.
        account: AccountId,
        /// Why.
        problem: OriginProblem,
    },
    /// A send had nothing to send.
    #[error("nothing to send: the text is empty")]
    EmptyText,
    /// A send named no recipient.
    #[error("no recipient: the user id is empty")]
    NoRecipient,
    /// The conversation cannot take this send now: the reply budget since
    /// the user's last message is used up, the window after it passed, or
    /// the server refused a message in it. It opens again when the user
    /// writes; nothing of this send was queued, except what the server
    /// accepted before a refusal ([`Error::Partial`] then says how much).
    #[error("no message to {user} now: {refusal}")]
    ConversationClosed {
        /// The user.
        user: UserId,
        /// Why.
        refusal: crate::store::Refusal,
    },
    /// No typing ticket could be had for this user (getconfig gave none).
    #[error("no typing ticket could be had for user {user}")]
    NoTypingTicket {
        /// The user.
        user: UserId,
    },
    /// The QR login did not complete.
    #[error("login failed")]
    Login(#[source] LoginFailure),
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

fn refusal(ret: Option<ErrorCode>, errcode: Option<ErrorCode>) -> String {
    match (ret, errcode) {
        (Some(r), Some(c)) => format!("ret {}, errcode {}", r.0, c.0),
        (Some(r), None) => format!("ret {}", r.0),
        (None, Some(c)) => format!("errcode {}", c.0),
        (None, None) => "no code".to_owned(),
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Every field here is free of secrets: bodies live inside the
        // transport error, whose Debug shows their length only.
        match self {
            Self::Http(e) => f.debug_tuple("Http").field(e).finish(),
            Self::Decode(e) => f.debug_tuple("Decode").field(e).finish(),
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
            Self::Random(e) => f.debug_tuple("Random").field(e).finish(),
            Self::Media(e) => f.debug_tuple("Media").field(e).finish(),
            #[cfg(feature = "voice")]
            Self::Voice(e) => f.debug_tuple("Voice").field(e).finish(),
            Self::Io(e) => f.debug_tuple("Io").field(e).finish(),
            Self::Store(e) => f.debug_tuple("Store").field(e).finish(),
            Self::Task(e) => f.debug_tuple("Task").field(e).finish(),
            Self::UnknownAccount { account } => f
                .debug_struct("UnknownAccount")
                .field("account", account)
                .finish(),
            Self::TokenOrigin { account, problem } => f
                .debug_struct("TokenOrigin")
                .field("account", account)
                .field("problem", problem)
                .finish(),
            Self::EmptyText => f.write_str("EmptyText"),
            Self::NoRecipient => f.write_str("NoRecipient"),
            Self::ConversationClosed { user, refusal } => f
                .debug_struct("ConversationClosed")
                .field("user", user)
                .field("refusal", refusal)
                .finish(),
            Self::NoTypingTicket { user } => f
                .debug_struct("NoTypingTicket")
                .field("user", user)
                .finish(),
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

/// Why a stored account's token is not sent ([`Error::TokenOrigin`]).
///
/// A token goes only to the origin (scheme, host and port) of the API base
/// URL its login stored: the host the login was made at, or the one the
/// server named when it confirmed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OriginProblem {
    /// The stored login names no API base URL (it was saved by a version
    /// that did not store the host it was made at), so where the token
    /// belongs is unknown. Log in again: a new login stores it.
    #[error(
        "its stored login names no API host (an older version saved it), so where it \
         belongs is unknown; log in again"
    )]
    Unknown,
    /// The stored API base URL may not carry a token (neither https nor
    /// loopback): no login of ours saved it.
    #[error("its stored API base URL is neither https nor loopback; log in again")]
    Untrusted,
    /// The client's API base URL was set to another origin than the one
    /// the account was logged in at.
    #[error(
        "it was logged in at {origin}, and the client's API base URL is {configured}; \
         log in there, or leave the base URL unset to use the account's own host"
    )]
    Elsewhere {
        /// The account's origin (`scheme://host:port`).
        origin: String,
        /// The origin of the client's API base URL.
        configured: String,
    },
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
    /// `get_bot_qrcode` answered without a QR code.
    #[error("the server gave no QR code")]
    NoQrCode,
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

    /// Whether the conversation cannot take a send until the user writes
    /// again ([`Error::ConversationClosed`]).
    pub fn is_conversation_closed(&self) -> bool {
        match self {
            Error::ConversationClosed { .. } => true,
            Error::Partial { source, .. } => source.is_conversation_closed(),
            _ => false,
        }
    }

    /// Whether another poller took this poller's lease on its account
    /// ([`StoreError::LeaseLost`]): it stops, and must not poll again.
    pub fn is_lease_lost(&self) -> bool {
        matches!(self, Error::Store(StoreError::LeaseLost { .. }))
    }

    /// The raw body of an answer that could not be decoded. It may hold
    /// message text, context tokens or keys: do not log it.
    pub fn body(&self) -> Option<&[u8]> {
        match self {
            Error::Decode(e) | Error::Http(e) => e.body(),
            Error::Partial { source, .. } => source.body(),
            _ => None,
        }
    }

    /// This error and its causes on one line; see [`Report`].
    pub fn report(&self) -> Report<'_> {
        Report::new(self)
    }

    /// Maps a transport error to the client's taxonomy.
    pub(crate) fn from_http(account: &AccountId, err: ilink_http::Error) -> Self {
        if err.is_session_expired() {
            return Error::SessionExpired {
                account: account.clone(),
            };
        }
        Self::from_transport(err)
    }

    /// Maps a transport error of a call made without an account (login,
    /// the CDN).
    pub(crate) fn from_transport(err: ilink_http::Error) -> Self {
        use ilink_http::ErrorKind;
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
                    let code = |c: &Option<i64>| c.filter(|&v| v != 0).map(ErrorCode);
                    Error::Api {
                        ret: code(ret),
                        errcode: code(errcode),
                        errmsg: errmsg.clone(),
                    }
                }
            }
            ErrorKind::Decode => Error::Decode(err),
            _ => Error::Http(err),
        }
    }
}

impl From<tokio::task::JoinError> for Error {
    fn from(err: tokio::task::JoinError) -> Self {
        Error::Task(err)
    }
}

/// An error and its causes, on one line: `a: b: c`.
///
/// No error of this workspace puts a secret in its message, so a report is
/// safe to log and to show; text of outside origin in a message (an account
/// id, a server's words) goes through [`display_safe`](ilink_proto::display_safe),
/// so control and bidi characters show as escapes.
///
/// ```
/// use ilink::Report;
///
/// let err = std::io::Error::other("disk full");
/// assert_eq!(Report::new(&err).to_string(), "disk full");
/// ```
#[derive(Clone, Copy)]
pub struct Report<'a>(&'a (dyn std::error::Error + 'static));

impl<'a> Report<'a> {
    /// Reports `err` and its sources.
    pub fn new(err: &'a (dyn std::error::Error + 'static)) -> Self {
        Self(err)
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Messages can quote the network (ids, a server's words): shown
        // through display_safe, a report is one line a terminal cannot obey.
        let layer = |e: &dyn std::error::Error| e.to_string();
        f.write_str(&ilink_proto::display_safe(&layer(self.0)))?;
        let mut source = self.0.source();
        while let Some(s) = source {
            write!(f, ": {}", ilink_proto::display_safe(&layer(s)))?;
            source = s.source();
        }
        Ok(())
    }
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
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

    #[test]
    fn a_report_walks_the_chain() {
        let err = Error::Partial {
            sent: 1,
            total: 3,
            source: Box::new(Error::Login(LoginFailure::Deadline)),
        };
        assert_eq!(
            err.report().to_string(),
            "sent 1 of 3 messages before a failure: login failed: the login deadline passed"
        );
    }

    #[test]
    fn a_report_shows_escapes_from_the_network_as_text() {
        let err = Error::SessionExpired {
            account: AccountId::from("a\u{1b}[2J\u{202e}@im.bot"),
        };
        let shown = err.report().to_string();
        assert_eq!(
            shown,
            "session expired for account a\\u{1b}[2J\\u{202e}@im.bot; log in again"
        );
    }

    #[test]
    fn refusals_name_their_codes() {
        let err = Error::Api {
            ret: Some(ErrorCode(-1)),
            errcode: None,
            errmsg: None,
        };
        assert_eq!(err.to_string(), "the server refused the request (ret -1)");
    }
}
