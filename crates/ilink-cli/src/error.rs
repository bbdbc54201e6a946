//! A command's failure ([`CliError`]) and the exit code table it maps to.

use std::fmt;

/// The exit codes, one table for every command (also in `ilink --help`
/// and the README).
pub(crate) mod exit {
    /// Done.
    pub(crate) const OK: u8 = 0;
    /// Failed (I/O, the store, media that does not check out, …).
    pub(crate) const FAILURE: u8 = 1;
    /// The command line is wrong (clap's own errors too).
    pub(crate) const USAGE: u8 = 2;
    /// The session expired, or the token was rejected.
    pub(crate) const SESSION: u8 = 3;
    /// The server refused (throttled, no context token, the reply budget
    /// used up, another refusal).
    pub(crate) const REFUSED: u8 = 4;
    /// The server could not be reached.
    pub(crate) const UNREACHABLE: u8 = 5;
}

/// A command's failure.
#[derive(Debug)]
pub(crate) enum CliError {
    /// From the SDK.
    Sdk(ilink::Error),
    /// The command line asks for something wrong (exit 2).
    Usage(String),
    /// Refused before or by the server (exit 4).
    Refused(String),
    /// The server could not be reached (exit 5).
    Unreachable(String),
    /// Anything else, with a message for the user (exit 1).
    Other(String),
}

impl CliError {
    /// The exit code (see [`exit`]).
    pub(crate) fn code(&self) -> u8 {
        self.classify().0
    }

    /// The stable kind named in `--json` errors.
    pub(crate) fn kind(&self) -> &'static str {
        self.classify().1
    }

    fn classify(&self) -> (u8, &'static str) {
        match self {
            CliError::Sdk(e) => classify_sdk(e),
            CliError::Usage(_) => (exit::USAGE, "usage"),
            CliError::Refused(_) => (exit::REFUSED, "refused"),
            CliError::Unreachable(_) => (exit::UNREACHABLE, "unreachable"),
            CliError::Other(_) => (exit::FAILURE, "failure"),
        }
    }
}

fn classify_sdk(e: &ilink::Error) -> (u8, &'static str) {
    use ilink::Error as E;
    if e.is_session_expired() {
        return (exit::SESSION, "session_expired");
    }
    match e {
        E::Partial { source, .. } => classify_sdk(source),
        E::Throttled { .. } => (exit::REFUSED, "throttled"),
        E::ConversationClosed { .. } => (exit::REFUSED, "conversation_closed"),
        E::Api { .. } | E::NoTypingTicket { .. } => (exit::REFUSED, "refused"),
        E::Http(h) if unreachable(h) => (exit::UNREACHABLE, "unreachable"),
        E::Timeout(_) => (exit::UNREACHABLE, "unreachable"),
        E::EmptyText | E::NoRecipient => (exit::USAGE, "usage"),
        E::UnknownAccount { .. } => (exit::FAILURE, "no_account"),
        E::TokenOrigin { .. } => (exit::FAILURE, "token_origin"),
        E::Store(_) => (exit::FAILURE, "store"),
        E::Media(_) => (exit::FAILURE, "media"),
        E::Io(_) => (exit::FAILURE, "io"),
        E::Login(_) => (exit::FAILURE, "login"),
        _ => (exit::FAILURE, "failure"),
    }
}

/// Whether a transport error means the server could not be reached: no
/// connection, no answer in time, no TLS, or a gateway that found no
/// server behind it.
pub(crate) fn unreachable(e: &ilink::http::Error) -> bool {
    use ilink::http::ErrorKind as K;
    matches!(
        e.kind(),
        K::Connect
            | K::Timeout
            | K::Tls
            | K::Status {
                status: 502..=504 | 524
            }
    )
}

/// Whether an SDK error means the server could not be reached.
pub(crate) fn sdk_unreachable(e: &ilink::Error) -> bool {
    matches!(classify_sdk(e).0, exit::UNREACHABLE)
}

impl From<ilink::Error> for CliError {
    fn from(e: ilink::Error) -> Self {
        CliError::Sdk(e)
    }
}

impl From<ilink::StoreError> for CliError {
    fn from(e: ilink::StoreError) -> Self {
        CliError::Sdk(ilink::Error::Store(e))
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError::Sdk(ilink::Error::Io(e))
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Sdk(e) => write!(f, "{e}"),
            CliError::Usage(m)
            | CliError::Refused(m)
            | CliError::Unreachable(m)
            | CliError::Other(m) => f.write_str(m),
        }
    }
}

pub(crate) type Result<T, E = CliError> = std::result::Result<T, E>;
