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
//! A poller first takes the account's lease ([`Store::acquire`]): a holder
//! name, an expiry and an epoch that grows with every new holder. The writes
//! a poller makes ([`Store::commit_batch`], [`Store::ack`]) carry the lease
//! and fail with [`StoreError::LeaseLost`] once another holder took the
//! account over: a poller that lost its lease cannot move the cursor or
//! acknowledge anything, and stops. A lease is taken over only after it
//! expired; its holder renews it ([`Store::renew`]) well before that and
//! never has a poll in flight past it.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::Duration;

use ilink_proto::{AccountId, BotToken, ContextToken, Cursor, UserId};
use serde::{Deserialize, Serialize};
use serde_json::Value;

mod dir;
mod memory;
#[cfg(feature = "postgres")]
mod postgres;
mod sqlite;
mod transient;

pub use memory::MemoryStore;

/// The database file's name in a state directory ([`SqliteStore::open`]).
pub const DATABASE_FILE: &str = dir::DB_FILE;
#[cfg(feature = "postgres")]
pub use postgres::PgStore;
pub use sqlite::SqliteStore;
pub use transient::STORE_RETRY_FOR;
pub(crate) use transient::retry_transient;

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

/// What a QR login produced, and what a client needs to act as that bot.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Credentials {
    /// The account id (`ilink_bot_id`, `...@im.bot`).
    pub account_id: AccountId,
    /// The bot token.
    pub bot_token: BotToken,
    /// The user who scanned the QR code (`...@im.wechat`).
    #[serde(default)]
    pub user_id: Option<UserId>,
    /// The API base URL the account was logged in at, or that the server
    /// named when it confirmed: the origin its token belongs to, and the
    /// only one it is sent to. A login always stores it, the default host
    /// included. `None` in credentials you build yourself: the client's
    /// API base URL ([`Client::bot_with`](crate::Client::bot_with)); `None`
    /// in a store (an older version's login): unknown, so the token is not
    /// sent at all ([`Client::stored_bot`](crate::Client::stored_bot)).
    #[serde(default)]
    pub base_url: Option<String>,
    /// When the login completed, milliseconds since the Unix epoch.
    #[serde(default)]
    pub saved_at_ms: u64,
}

impl Credentials {
    /// Credentials for an account.
    pub fn new(account_id: impl Into<AccountId>, bot_token: BotToken) -> Self {
        Self {
            account_id: account_id.into(),
            bot_token,
            user_id: None,
            base_url: None,
            saved_at_ms: 0,
        }
    }

    /// Credentials for a token, the account named by the token's id part
    /// when it looks like `<id>@im.bot:<secret>`, else `default`.
    ///
    /// ```
    /// use ilink::Credentials;
    ///
    /// assert_eq!(Credentials::from_token("abc@im.bot:s3cret").account_id, "abc@im.bot");
    /// assert_eq!(Credentials::from_token("opaque").account_id, "default");
    /// ```
    pub fn from_token(token: impl Into<String>) -> Self {
        let token = BotToken::new(token);
        let id = match token.expose().split_once(':') {
            Some((id, _)) if id.ends_with("@im.bot") => id.to_owned(),
            _ => "default".to_owned(),
        };
        Self::new(id, token)
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("account_id", &self.account_id)
            .field("bot_token", &self.bot_token)
            .field("user_id", &self.user_id)
            .field("base_url", &self.base_url)
            .field("saved_at_ms", &self.saved_at_ms)
            .finish()
    }
}

/// A received message kept in the inbox until its handler finished.
///
/// `Debug` leaves out the message (it holds the context token, keys and
/// text).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InboxEntry {
    /// The deduplication key (see [`Message::key_of`](crate::Message::key_of)).
    pub key: String,
    /// The message exactly as received.
    pub message: Value,
    /// When it was received, milliseconds since the Unix epoch.
    pub received_at_ms: u64,
}

impl std::fmt::Debug for InboxEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InboxEntry")
            .field("key", &self.key)
            .field("message", &ilink_http::REDACTED)
            .field("received_at_ms", &self.received_at_ms)
            .finish()
    }
}

impl InboxEntry {
    /// An inbox entry.
    pub fn new(key: impl Into<String>, message: Value, received_at_ms: u64) -> Self {
        Self {
            key: key.into(),
            message,
            received_at_ms,
        }
    }
}

/// A cached typing ticket for one user.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TypingTicket {
    /// The ticket (empty while none could be fetched).
    pub ticket: String,
    /// When to fetch it again, milliseconds since the Unix epoch.
    pub refresh_at_ms: u64,
    /// The current failure backoff, milliseconds (0 after a success).
    pub backoff_ms: u64,
}

impl fmt::Debug for TypingTicket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TypingTicket")
            .field(
                "ticket",
                &format_args!("<redacted, {} bytes>", self.ticket.len()),
            )
            .field("refresh_at_ms", &self.refresh_at_ms)
            .field("backoff_ms", &self.backoff_ms)
            .finish()
    }
}

impl TypingTicket {
    /// A ticket due for refresh at `refresh_at_ms`.
    pub fn new(ticket: impl Into<String>, refresh_at_ms: u64, backoff_ms: u64) -> Self {
        Self {
            ticket: ticket.into(),
            refresh_at_ms,
            backoff_ms,
        }
    }
}

/// A received batch, as the poller commits it: the new messages, the
/// context tokens they brought, and the cursor after them, in one
/// transaction.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct ReceivedBatch {
    /// The messages, in the order received.
    pub entries: Vec<InboxEntry>,
    /// Every sender's context token, in arrival order (a later token of a
    /// user replaces an earlier one).
    pub context_tokens: Vec<(UserId, ContextToken)>,
    /// The cursor to poll from next.
    pub cursor: Cursor,
    /// Every user who wrote in the batch, with when they wrote
    /// (milliseconds since the Unix epoch): each opens that user's
    /// conversation again (see [`Conversation`]).
    pub inbound: Vec<(UserId, u64)>,
}

impl ReceivedBatch {
    /// A batch of these entries, ending at `cursor`.
    pub fn new(entries: Vec<InboxEntry>, cursor: Cursor) -> Self {
        Self {
            entries,
            context_tokens: Vec::new(),
            cursor,
            inbound: Vec::new(),
        }
    }

    /// With the users who wrote and when (see [`ReceivedBatch::inbound`]).
    #[must_use]
    pub fn with_inbound(mut self, inbound: Vec<(UserId, u64)>) -> Self {
        self.inbound = inbound;
        self
    }

    /// With the context tokens the batch brought.
    #[must_use]
    pub fn with_context_tokens(mut self, tokens: Vec<(UserId, ContextToken)>) -> Self {
        self.context_tokens = tokens;
        self
    }
}

/// One conversation's reply state: when the user last wrote, how many bot
/// messages went to them since, and whether the server refused one since.
///
/// The server lets a bot answer a user only within a window after the
/// user's last message (24 hours) and only so many times (10) before the
/// user writes again; a refused send closes the conversation until then.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Conversation {
    /// The user.
    pub user: UserId,
    /// When the user last wrote, milliseconds since the Unix epoch.
    pub last_inbound_ms: u64,
    /// Bot messages queued to the user since (sent or waiting).
    pub replies: u32,
    /// The server refused a message to the user since they last wrote.
    pub closed: bool,
}

/// The limits a store applies when a message is queued
/// ([`Store::enqueue`]). `None` turns a limit off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReplyLimits {
    /// Bot messages per user message.
    pub budget: Option<u32>,
    /// How long after the user's last message the bot may write,
    /// milliseconds.
    pub window_ms: Option<u64>,
}

impl ReplyLimits {
    /// These limits.
    pub fn new(budget: Option<u32>, window: Option<Duration>) -> Self {
        Self {
            budget,
            window_ms: window.map(rows::ttl_ms),
        }
    }

    /// No limits.
    pub fn none() -> Self {
        Self {
            budget: None,
            window_ms: None,
        }
    }
}

/// Why a message was not queued: the conversation cannot take it now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// The reply budget since the user's last message is used up (or would
    /// be by this send): it opens again when the user writes.
    BudgetExhausted {
        /// Messages the budget still allows.
        left: u32,
        /// Messages this send needs.
        needed: u32,
    },
    /// The window after the user's last message has passed: it opens again
    /// when the user writes.
    WindowPassed {
        /// When the user last wrote, milliseconds since the Unix epoch.
        last_inbound_ms: u64,
    },
    /// The server refused a message to this user since they last wrote: it
    /// opens again when the user writes.
    Closed,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::BudgetExhausted { left, needed } => write!(
                f,
                "the reply budget is used up ({left} left, {needed} needed) until the user writes again"
            ),
            Refusal::WindowPassed { .. } => f.write_str(
                "the user last wrote too long ago; the conversation opens when they write again",
            ),
            Refusal::Closed => f.write_str(
                "the server refused a message in this conversation; it opens when the user writes again",
            ),
        }
    }
}

/// A message in the outbox: written before it is sent, removed once the
/// server accepted it (or it can never go).
///
/// `Debug` leaves out the message (it holds the context token and text).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OutboxEntry {
    /// The `client_id` it carries on every attempt (the server drops a
    /// repeat).
    pub client_id: String,
    /// The recipient.
    pub user: UserId,
    /// The `WeixinMessage` as it will be sent.
    pub message: Value,
    /// When it was queued, milliseconds since the Unix epoch.
    pub queued_at_ms: u64,
}

impl fmt::Debug for OutboxEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutboxEntry")
            .field("client_id", &self.client_id)
            .field("user", &self.user)
            .field("message", &ilink_http::REDACTED)
            .field("queued_at_ms", &self.queued_at_ms)
            .finish()
    }
}

impl OutboxEntry {
    /// An outbox entry.
    pub fn new(
        client_id: impl Into<String>,
        user: impl Into<UserId>,
        message: Value,
        queued_at_ms: u64,
    ) -> Self {
        Self {
            client_id: client_id.into(),
            user: user.into(),
            message,
            queued_at_ms,
        }
    }
}

/// What [`Store::enqueue`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Admission {
    /// Queued; `new` of the entries were not in the outbox already (a
    /// repeated `client_id` is kept once and not counted again).
    Queued {
        /// How many entries were new.
        new: usize,
    },
    /// Nothing was queued.
    Refused(Refusal),
}

/// The right to poll one account, held by one holder until it expires or is
/// released. Every new holder gets a higher epoch; the writes of a poller
/// carry its lease, and a store refuses them once the epoch moved on.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Lease {
    /// The account.
    pub account: AccountId,
    /// Who holds it (a name unique to the holding client).
    pub holder: String,
    /// Grows with every new holder of the account.
    pub epoch: u64,
    /// Until when it holds, milliseconds since the Unix epoch by the store's
    /// clock (informational: holders time their lease by their own clock
    /// from the moment they asked).
    pub expires_at_ms: u64,
}

impl fmt::Debug for Lease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lease")
            .field("account", &self.account)
            .field("holder", &self.holder)
            .field("epoch", &self.epoch)
            .field("expires_at_ms", &self.expires_at_ms)
            .finish()
    }
}

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

/// Persistent state of any number of bot accounts, each in its own namespace.
///
/// Implementations make every write durable before its future completes (a
/// crash right after must not lose what it wrote), commit each call
/// atomically (a batch's entries, its context tokens and the cursor
/// together; an acknowledgement removes the entry and records its key
/// together, so no key is ever both pending and acknowledged), and never
/// replace unreadable data silently: report [`StoreError::Corrupt`].
///
/// The delivery guarantee rests on three calls: [`commit_batch`]
/// (the batch and the new cursor, before any handler runs), then [`ack`]
/// per message after its handler finished, and [`pending`] on start (what
/// was received but never acknowledged). The first two are fenced by the
/// poller's [`Lease`].
///
/// The conformance suite in `crates/ilink/tests/it/store.rs` checks every
/// store the project ships against this contract.
///
/// [`commit_batch`]: Store::commit_batch
/// [`ack`]: Store::ack
/// [`pending`]: Store::pending
pub trait Store: Send + Sync + 'static {
    /// Saves (or replaces) an account's credentials and marks it the most
    /// recent.
    fn save_credentials<'a>(&'a self, credentials: &'a Credentials) -> StoreFuture<'a, ()>;
    /// An account's credentials.
    fn load_credentials<'a>(
        &'a self,
        account: &'a AccountId,
    ) -> StoreFuture<'a, Option<Credentials>>;
    /// Every account with credentials, most recently saved first. An
    /// account whose credentials cannot be read is left out (with a
    /// warning), so one bad record does not stop the others.
    fn accounts(&self) -> StoreFuture<'_, Vec<Credentials>>;
    /// Forgets an account entirely (credentials, cursor, inbox, tokens,
    /// tickets). [`StoreError::Leased`] while a poller holds it.
    fn remove_account<'a>(&'a self, account: &'a AccountId) -> StoreFuture<'a, ()>;

    /// Takes the account's lease for `ttl`: free, expired, or already this
    /// holder's (a new epoch each time). [`StoreError::Leased`] while
    /// another holder's lease is live.
    fn acquire<'a>(
        &'a self,
        account: &'a AccountId,
        holder: &'a str,
        ttl: Duration,
    ) -> StoreFuture<'a, Lease>;
    /// Takes the account's lease from `from`, a holder known to be gone
    /// (its process ended), whether or not its lease ran out; otherwise as
    /// [`acquire`](Store::acquire).
    fn take_over<'a>(
        &'a self,
        account: &'a AccountId,
        holder: &'a str,
        ttl: Duration,
        from: &'a str,
    ) -> StoreFuture<'a, Lease>;
    /// Extends a lease by `ttl` from now. [`StoreError::LeaseLost`] when
    /// another holder took the account.
    fn renew<'a>(&'a self, lease: &'a Lease, ttl: Duration) -> StoreFuture<'a, Lease>;
    /// Gives a lease up (another holder may take the account at once). A
    /// lease already taken over is left alone.
    fn release<'a>(&'a self, lease: &'a Lease) -> StoreFuture<'a, ()>;

    /// Announces `member` of a cluster as alive for `ttl` and counts the
    /// members alive now, itself included (see [`Cluster`](crate::Cluster)).
    fn heartbeat<'a>(&'a self, member: &'a str, ttl: Duration) -> StoreFuture<'a, usize>;
    /// Removes `member` from the cluster (a graceful shutdown).
    fn leave<'a>(&'a self, member: &'a str) -> StoreFuture<'a, ()>;

    /// The cursor to poll from (`None`: start from `""`).
    fn load_cursor<'a>(&'a self, account: &'a AccountId) -> StoreFuture<'a, Option<Cursor>>;
    /// Stores a received batch: its new entries in the inbox, its context
    /// tokens, and the cursor, in one transaction, under `lease`. Entries
    /// whose key is already in the inbox or the deduplication window (or
    /// earlier in the batch) are skipped. Returns the entries that were new.
    fn commit_batch<'a>(
        &'a self,
        lease: &'a Lease,
        batch: ReceivedBatch,
    ) -> StoreFuture<'a, Vec<InboxEntry>>;
    /// Inbox entries not yet acknowledged, in the order they were received.
    fn pending<'a>(&'a self, account: &'a AccountId) -> StoreFuture<'a, Vec<InboxEntry>>;
    /// Acknowledges a handled message under `lease`: it leaves the inbox and
    /// its key joins the deduplication window (bounded to [`DEDUP_WINDOW`]
    /// keys; the oldest fall out first).
    fn ack<'a>(&'a self, lease: &'a Lease, key: &'a str) -> StoreFuture<'a, ()>;
    /// Acknowledges several handled messages under `lease`, as [`ack`]
    /// does each, in one transaction where the store has them (one commit,
    /// one fsync, for all): all of them or, on an error, none.
    ///
    /// The default acknowledges them one by one.
    ///
    /// [`ack`]: Store::ack
    fn ack_many<'a>(&'a self, lease: &'a Lease, keys: &'a [String]) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            for key in keys {
                self.ack(lease, key).await?;
            }
            Ok(())
        })
    }
    /// Whether a key is in the inbox or the deduplication window.
    fn seen<'a>(&'a self, account: &'a AccountId, key: &'a str) -> StoreFuture<'a, bool>;

    /// Queues outbound messages to `user`, in order, after the ones already
    /// queued, if the user's conversation can take them under `limits`
    /// (all of them or none: [`Admission::Refused`]); counts the new ones
    /// against the budget in the same transaction. A conversation the store
    /// has never seen (the user never wrote) is not limited.
    ///
    /// The budget counts replies, not attempts: an entry whose `client_id`
    /// is queued already, or was counted by an earlier enqueue within
    /// [`COUNTED_FOR`] (sent since, or set aside), is neither queued again
    /// nor counted again; it is not among the `new`.
    ///
    /// With `fence`, the write happens only while that lease is the
    /// account's (its holder and epoch), checked in the same transaction,
    /// else [`StoreError::LeaseLost`]; so do [`dequeue`](Store::dequeue),
    /// [`save_context_token`](Store::save_context_token) and
    /// [`save_typing_ticket`](Store::save_typing_ticket).
    fn enqueue<'a>(
        &'a self,
        fence: Option<&'a Lease>,
        account: &'a AccountId,
        user: &'a UserId,
        entries: Vec<OutboxEntry>,
        limits: ReplyLimits,
    ) -> StoreFuture<'a, Admission>;
    /// The queued messages of an account, oldest first.
    fn outbox<'a>(&'a self, account: &'a AccountId) -> StoreFuture<'a, Vec<OutboxEntry>>;
    /// Removes a queued message (the server accepted it, or it can never
    /// go).
    fn dequeue<'a>(
        &'a self,
        fence: Option<&'a Lease>,
        account: &'a AccountId,
        client_id: &'a str,
    ) -> StoreFuture<'a, ()>;
    /// A user's conversation (`None`: the user never wrote).
    fn conversation<'a>(
        &'a self,
        account: &'a AccountId,
        user: &'a UserId,
    ) -> StoreFuture<'a, Option<Conversation>>;
    /// Closes (or opens again) a user's conversation, unless the user wrote
    /// after `as_of_inbound_ms` (their new message opened it). Returns
    /// whether it changed.
    fn set_closed<'a>(
        &'a self,
        account: &'a AccountId,
        user: &'a UserId,
        closed: bool,
        as_of_inbound_ms: u64,
    ) -> StoreFuture<'a, bool>;

    /// Remembers the latest context token of a user.
    fn save_context_token<'a>(
        &'a self,
        fence: Option<&'a Lease>,
        account: &'a AccountId,
        user: &'a UserId,
        token: &'a ContextToken,
    ) -> StoreFuture<'a, ()>;
    /// The latest context token of a user.
    fn load_context_token<'a>(
        &'a self,
        account: &'a AccountId,
        user: &'a UserId,
    ) -> StoreFuture<'a, Option<ContextToken>>;
    /// The context token of a user, the id compared as the server compares
    /// it: the exact id first, else one that differs only in ASCII case
    /// (WeChat ids come mixed-case, and an application that lower-cases
    /// them must still find the token: Tencent/openclaw-weixin#243). Gives
    /// the user's id as stored, which is the one to send to.
    ///
    /// The default reads [`load_context_token`](Self::load_context_token),
    /// then scans [`context_tokens`](Self::context_tokens); the shipped
    /// stores answer in one query.
    fn find_context_token<'a>(
        &'a self,
        account: &'a AccountId,
        user: &'a UserId,
    ) -> StoreFuture<'a, Option<(UserId, ContextToken)>> {
        Box::pin(async move {
            if let Some(token) = self.load_context_token(account, user).await? {
                return Ok(Some((user.clone(), token)));
            }
            Ok(self
                .context_tokens(account)
                .await?
                .into_iter()
                .find(|(u, _)| u.as_str().eq_ignore_ascii_case(user.as_str())))
        })
    }
    /// Every cached context token of an account.
    fn context_tokens<'a>(
        &'a self,
        account: &'a AccountId,
    ) -> StoreFuture<'a, BTreeMap<UserId, ContextToken>>;
    /// Drops every context token of an account (on re-login).
    fn clear_context_tokens<'a>(&'a self, account: &'a AccountId) -> StoreFuture<'a, ()>;

    /// Caches a user's typing ticket.
    fn save_typing_ticket<'a>(
        &'a self,
        fence: Option<&'a Lease>,
        account: &'a AccountId,
        user: &'a UserId,
        ticket: &'a TypingTicket,
    ) -> StoreFuture<'a, ()>;
    /// A user's cached typing ticket.
    fn load_typing_ticket<'a>(
        &'a self,
        account: &'a AccountId,
        user: &'a UserId,
    ) -> StoreFuture<'a, Option<TypingTicket>>;
}

/// What the database stores keep in common: the row conventions and the
/// lease rule, so that SQLite and PostgreSQL cannot drift apart.
pub(crate) mod rows {
    use std::time::Duration;

    use ilink_proto::AccountId;

    use super::{Credentials, StoreError};

    pub(crate) fn corrupt(what: impl Into<String>, reason: impl std::fmt::Display) -> StoreError {
        StoreError::Corrupt {
            what: what.into(),
            reason: reason.to_string(),
        }
    }

    /// A `u64` as a database integer (saturating).
    pub(crate) fn ms(value: u64) -> i64 {
        i64::try_from(value).unwrap_or(i64::MAX)
    }

    /// A database integer as a `u64` (negative reads as 0).
    pub(crate) fn unsigned(value: i64) -> u64 {
        u64::try_from(value).unwrap_or_default()
    }

    /// A time to live in milliseconds (saturating).
    pub(crate) fn ttl_ms(ttl: Duration) -> u64 {
        u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX)
    }

    pub(crate) fn check_account(account: &AccountId) -> Result<(), StoreError> {
        if account.is_empty() {
            return Err(StoreError::InvalidAccount);
        }
        Ok(())
    }

    /// A fence for a write to `account` must be a lease on that account.
    pub(crate) fn check_fence(
        fence: Option<&super::Lease>,
        account: &AccountId,
    ) -> Result<(), StoreError> {
        check_account(account)?;
        match fence {
            Some(lease) if &lease.account != account => Err(StoreError::LeaseLost {
                account: account.clone(),
            }),
            _ => Ok(()),
        }
    }

    /// How long ago an enqueue was counted for it to count as new again
    /// ([`COUNTED_FOR`](super::COUNTED_FOR)), in milliseconds.
    pub(crate) fn counted_since_ms(now_ms: u64) -> u64 {
        now_ms.saturating_sub(ttl_ms(super::COUNTED_FOR))
    }

    /// The epoch a new holder gets, from the account's lease row (`holder`,
    /// `epoch`, `expires_at_ms`): the lease is free, expired, already
    /// `holder`'s or held by `from` (a holder known to be gone); otherwise
    /// [`StoreError::Leased`].
    pub(crate) fn next_epoch(
        account: &AccountId,
        current: Option<(&str, u64, u64)>,
        holder: &str,
        from: &str,
        now_ms: u64,
    ) -> Result<u64, StoreError> {
        match current {
            Some((other, _, expires))
                if !other.is_empty() && other != holder && other != from && expires > now_ms =>
            {
                Err(StoreError::Leased {
                    account: account.clone(),
                    holder: other.to_owned(),
                })
            }
            Some((_, epoch, _)) => Ok(epoch + 1),
            None => Ok(1),
        }
    }

    /// Whether a conversation can take `needed` more messages now under
    /// `limits` (the rule every store applies in
    /// [`Store::enqueue`](super::Store::enqueue); `None`: the user never
    /// wrote, and nothing limits it).
    pub(crate) fn admit(
        conversation: Option<&super::Conversation>,
        needed: u32,
        limits: super::ReplyLimits,
        now_ms: u64,
    ) -> Result<(), super::Refusal> {
        let Some(&super::Conversation {
            last_inbound_ms,
            replies,
            closed,
            ..
        }) = conversation
        else {
            return Ok(());
        };
        if needed == 0 {
            return Ok(());
        }
        if closed {
            return Err(super::Refusal::Closed);
        }
        if let Some(window) = limits.window_ms
            && now_ms > last_inbound_ms.saturating_add(window)
        {
            return Err(super::Refusal::WindowPassed { last_inbound_ms });
        }
        if let Some(budget) = limits.budget {
            let left = budget.saturating_sub(replies);
            if needed > left {
                return Err(super::Refusal::BudgetExhausted { left, needed });
            }
        }
        Ok(())
    }

    /// A conversation row (`last_inbound_ms`, `replies`, `closed`) as read
    /// from a database.
    pub(crate) fn conversation(
        user: &ilink_proto::UserId,
        last_inbound_ms: i64,
        replies: i64,
        closed: bool,
    ) -> super::Conversation {
        super::Conversation {
            user: user.clone(),
            last_inbound_ms: unsigned(last_inbound_ms),
            replies: u32::try_from(replies).unwrap_or(u32::MAX),
            closed,
        }
    }

    /// The newest time each user wrote in a batch (a user listed twice
    /// keeps the later time).
    pub(crate) fn latest_inbound(inbound: &[(ilink_proto::UserId, u64)]) -> Vec<(&str, u64)> {
        let mut latest: std::collections::BTreeMap<&str, u64> = std::collections::BTreeMap::new();
        for (user, at) in inbound {
            let slot = latest.entry(user.as_str()).or_default();
            *slot = (*slot).max(*at);
        }
        latest.into_iter().collect()
    }

    /// A row of `accounts` for a listing: `None` (with a warning naming the
    /// account) when it cannot be read or names another account, so one
    /// bad row does not hide the others.
    pub(crate) fn listed(id: &str, json: &str) -> Option<Credentials> {
        match serde_json::from_str::<Credentials>(json) {
            Ok(c) if c.account_id == id => Some(c),
            Ok(_) => {
                tracing::warn!(account = %ilink_proto::display_safe(id), "stored credentials name another account; left out");
                None
            }
            Err(error) => {
                tracing::warn!(account = %ilink_proto::display_safe(id), %error, "stored credentials cannot be read; left out");
                None
            }
        }
    }
}

/// How long a store remembers the `client_id`s it counted against a
/// conversation's budget ([`Store::enqueue`]): a reply queued again within
/// it (a handler run again after a crash or a takeover) does not count
/// twice. Past the 24-hour reply window with room to spare.
pub const COUNTED_FOR: std::time::Duration = std::time::Duration::from_secs(48 * 60 * 60);

/// How many acknowledged keys the deduplication window keeps per account.
pub const DEDUP_WINDOW: usize = 10_000;
