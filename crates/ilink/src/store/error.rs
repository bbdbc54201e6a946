//! [`StoreError`].

use std::path::PathBuf;

use ilink_proto::AccountId;

/// A store failed. Never carries a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Reading or writing the state directory failed (disk full,
    /// permissions, …).
    #[error("store I/O failed on {path}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The database failed (a full disk, a locked or damaged file, a lost
    /// connection).
    #[error("the store's database failed")]
    Database(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Stored data cannot be understood. It is left as it is: nothing is
    /// reset silently.
    #[error("stored {what} is corrupt: {reason}")]
    Corrupt {
        /// What it is (`credentials of <account>`, `an inbox entry`, …).
        what: String,
        /// What is wrong with it (no content is quoted).
        reason: String,
    },
    /// The database was written by a newer version of ilink, whose schema
    /// this one does not know.
    #[error("the store's schema version {found} is newer than this version knows ({known})")]
    NewerSchema {
        /// The database's version.
        found: i64,
        /// The newest this version knows.
        known: i64,
    },
    /// Another holder's lease on the account is live: another poller runs.
    #[error("account {account} is being polled by {holder}")]
    Leased {
        /// The account.
        account: AccountId,
        /// The holder.
        holder: String,
    },
    /// The lease was taken over by another holder: this poller must stop.
    #[error("the lease on account {account} was taken over; this poller stops")]
    LeaseLost {
        /// The account.
        account: AccountId,
    },
    /// The database is not on this host (a Unix socket or loopback) and
    /// the URL turns TLS off (`sslmode=disable`): the bot token and the
    /// messages would cross the network in clear text.
    #[error(
        "the database is not on this host (a Unix socket or loopback) and the URL turns TLS off (sslmode=disable)"
    )]
    InsecureDatabase,
    /// The account id cannot name a store namespace (empty).
    #[error("invalid account id for the store")]
    InvalidAccount,
    /// A state directory another user could change: owned by someone else,
    /// or writable by its group or by others. Fix its owner or mode
    /// (`chmod go-w`); the store does not touch it.
    #[error("the state directory {path} is not safe: {reason}")]
    Unsafe {
        /// The directory.
        path: PathBuf,
        /// Owned by another user, writable by group or others, or a link.
        reason: &'static str,
    },
}
