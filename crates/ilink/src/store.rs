//! Where a bot keeps what must survive a restart: credentials, the cursor,
//! the inbox of received but unhandled messages, the deduplication window,
//! context tokens, typing tickets, and the lease that lets one poller at a
//! time poll an account.
//!
//! [`Store`] is async and object-safe. [`SqliteStore`] is the default: one
//! database file for every account of a state directory, each write a
//! durable transaction. [`MemoryStore`] is the same code on an in-memory
//! database (tests, throwaway bots).
//!
//! # Leases
//!
//! A poller first takes the account's lease ([`LeaseStore::acquire`]): a holder
//! name, an expiry and an epoch that grows with every new holder. The writes
//! a poller makes ([`InboxStore::commit_batch`], [`InboxStore::ack`]) carry the lease
//! and fail with [`StoreError::LeaseLost`] once another holder took the
//! account over: a poller that lost its lease cannot move the cursor or
//! acknowledge anything, and stops. A lease is taken over only after it
//! expired; its holder renews it ([`LeaseStore::renew`]) well before that and
//! never has a poll in flight past it.

mod contract;
mod dir;
mod error;
mod memory;
#[cfg(feature = "postgres")]
mod postgres;
pub(crate) mod rows;
mod sqlite;
#[cfg(feature = "testing")]
pub mod testing;
mod transient;
mod types;

pub use memory::MemoryStore;

/// The database file's name in a state directory ([`SqliteStore::open`]).
pub const DATABASE_FILE: &str = dir::DB_FILE;
#[cfg(feature = "postgres")]
pub use postgres::PgStore;
pub use sqlite::SqliteStore;
pub use transient::STORE_RETRY_FOR;
pub(crate) use transient::retry_transient;

use std::future::Future;
use std::pin::Pin;

pub use contract::{CredentialStore, InboxStore, LeaseStore, OutboxStore, Store, TokenStore};

/// The five store traits, for calling a store's methods on a concrete type
/// (`SqliteStore`, `PgStore`, yours): `use ilink::store::prelude::*;`. On a
/// `dyn Store` they need no import.
pub mod prelude {
    pub use super::{CredentialStore, InboxStore, LeaseStore, OutboxStore, Store, TokenStore};
}
pub use error::StoreError;
pub use types::{
    Admission, COUNTED_FOR, Conversation, Credentials, DEDUP_WINDOW, InboxEntry, Lease,
    OutboxEntry, ReceivedBatch, Refusal, ReplyLimits, TypingTicket,
};

/// Milliseconds since the Unix epoch: the unit of every stored timestamp.
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or_default()
}

/// What a store call returns: a boxed future, so that [`Store`] can be a
/// trait object.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;
