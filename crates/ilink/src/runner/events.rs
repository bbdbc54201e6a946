//! What the runner tells the application: [`RunEvent`]s.

use std::sync::Arc;
use std::time::Duration;

use ilink_proto::{AccountId, MalformedUpdate};

use super::HandlerFailure;
#[cfg(doc)]
use super::KeepPending;
use crate::Error;

/// Something the runner wants the application to know.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum RunEvent {
    /// Polling started (after `notifystart`).
    Started {
        /// The account.
        account_id: AccountId,
    },
    /// The session expired (`-14`).
    SessionExpired {
        /// The account.
        account_id: AccountId,
    },
    /// New credentials were found after an expiry; polling resumes.
    SessionRestored {
        /// The account.
        account_id: AccountId,
    },
    /// A batch element was not a valid message (its `Debug` shows no
    /// content).
    Malformed {
        /// The element and why it did not decode.
        update: MalformedUpdate,
    },
    /// Polling pauses before the next poll.
    Backoff {
        /// Failures (or instant empty answers) in a row.
        failures: u32,
        /// The wait.
        delay: Duration,
        /// Why.
        reason: BackoffReason,
    },
    /// A handler failed or panicked (the message was acknowledged, unless
    /// the error was [`KeepPending`] or one of its sends failed inside the
    /// SDK).
    HandlerFailed {
        /// The message's key.
        key: String,
        /// What happened.
        failure: HandlerFailure,
    },
    /// A queued reply can never go (its conversation closed, the server
    /// refused it); it left the outbox.
    Undeliverable(crate::Undeliverable),
    /// Polling stopped (after `notifystop`).
    Stopped {
        /// The account.
        account_id: AccountId,
    },
}

/// Why the runner backs off.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum BackoffReason {
    /// The poll failed.
    PollFailed(Arc<Error>),
    /// Empty long-poll answers came back at once, again and again (a gateway
    /// answering without holding the poll).
    InstantEmptyAnswers,
}

impl std::fmt::Display for BackoffReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::PollFailed(e) => write!(f, "poll failed: {}", e.report()),
            Self::InstantEmptyAnswers => f.write_str("empty long-poll answers came back at once"),
        }
    }
}

/// Where events go.
pub(crate) type Listener = Arc<dyn Fn(&RunEvent) + Send + Sync>;
