//! Where a bot keeps what must survive a restart: credentials, the cursor,
//! the inbox of received but unhandled messages, the deduplication window,
//! context tokens and typing tickets.
//!
//! [`Store`] is synchronous and object-safe; the client calls it off the async
//! runtime's worker threads where it may block. Two implementations ship:
//! [`MemoryStore`] (tests, throwaway bots) and [`FileStore`] (a directory per
//! account, atomic writes, a lock so only one poller runs per account).

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use ilink_proto::{AccountId, BotToken, ContextToken, UserId};
use serde::{Deserialize, Serialize};
use serde_json::Value;

mod file;
mod memory;

/// Milliseconds since the Unix epoch: the unit of every stored timestamp.
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or_default()
}

pub use file::FileStore;
pub use memory::MemoryStore;

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
    /// The API base URL for this account (`None`: the default host).
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

/// A store failed. Never carries a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Reading or writing a file failed (disk full, permissions, …).
    #[error("store I/O failed on {path}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A file exists but cannot be understood. It is left as it is: nothing is
    /// reset silently.
    #[error("store file {path} is corrupt: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it (no content is quoted).
        reason: String,
    },
    /// Another poller holds this account's lock.
    #[error("account {account} is already being polled by another process or client")]
    Locked {
        /// The account.
        account: String,
    },
    /// The account id cannot name a store namespace.
    #[error("invalid account id for the store")]
    InvalidAccount,
    /// A state directory another user could change: owned by someone else,
    /// or writable by its group or by others. Fix its owner or mode
    /// (`chmod go-w`); the store does not touch it.
    #[error("the state directory {path} is not safe: {reason}")]
    Unsafe {
        /// The directory.
        path: PathBuf,
        /// Owned by another user, or writable by group or others.
        reason: &'static str,
    },
}

/// Held while a poller runs; dropping it releases the account.
pub struct PollerLock(#[allow(dead_code)] Box<dyn Send + Sync>);

impl PollerLock {
    /// Wraps whatever releases the lock on drop.
    pub fn new(guard: impl Send + Sync + 'static) -> Self {
        Self(Box::new(guard))
    }
}

impl fmt::Debug for PollerLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PollerLock")
    }
}

/// Persistent state of any number of bot accounts, each in its own namespace.
///
/// Implementations must make every write durable before returning (a crash
/// right after a call returns must not lose what it wrote) and must never
/// silently replace unreadable data: report [`StoreError::Corrupt`].
///
/// The delivery guarantee rests on three calls: [`commit_batch`]
/// (the batch and the new cursor, durably, before any handler runs), then
/// [`ack`] per message after its handler finished, and [`pending`] on start
/// (what was received but never acknowledged).
///
/// [`commit_batch`]: Store::commit_batch
/// [`ack`]: Store::ack
/// [`pending`]: Store::pending
pub trait Store: Send + Sync + 'static {
    /// Saves (or replaces) an account's credentials and marks it the most
    /// recent.
    fn save_credentials(&self, credentials: &Credentials) -> Result<(), StoreError>;
    /// An account's credentials.
    fn load_credentials(&self, account_id: &str) -> Result<Option<Credentials>, StoreError>;
    /// Every account with credentials, most recently saved first.
    fn accounts(&self) -> Result<Vec<Credentials>, StoreError>;
    /// Forgets an account entirely (credentials, cursor, inbox, tokens).
    fn remove_account(&self, account_id: &str) -> Result<(), StoreError>;

    /// The cursor to poll from (`None`: start from `""`).
    fn load_cursor(&self, account_id: &str) -> Result<Option<String>, StoreError>;
    /// Stores received messages in the inbox and then the new cursor, both
    /// durably. Entries whose key is already in the inbox or the
    /// deduplication window are skipped. Returns the entries that were new.
    fn commit_batch(
        &self,
        account_id: &str,
        entries: Vec<InboxEntry>,
        cursor: &str,
    ) -> Result<Vec<InboxEntry>, StoreError>;
    /// Inbox entries not yet acknowledged, in the order they were received.
    fn pending(&self, account_id: &str) -> Result<Vec<InboxEntry>, StoreError>;
    /// Acknowledges a handled message: it leaves the inbox and its key joins
    /// the deduplication window (bounded; oldest keys fall out first).
    fn ack(&self, account_id: &str, key: &str) -> Result<(), StoreError>;
    /// Whether a key is in the inbox or the deduplication window.
    fn seen(&self, account_id: &str, key: &str) -> Result<bool, StoreError>;

    /// Remembers the latest context token of a user.
    fn save_context_token(
        &self,
        account_id: &str,
        user_id: &str,
        token: &ContextToken,
    ) -> Result<(), StoreError>;
    /// Remembers the latest context token of several users at once, as a
    /// received batch brings them: `tokens` in arrival order, so a later
    /// token of a user replaces an earlier one.
    ///
    /// The default calls [`save_context_token`](Store::save_context_token)
    /// for each; stores whose writes are expensive make it one write.
    fn save_context_tokens(
        &self,
        account_id: &str,
        tokens: &[(String, ContextToken)],
    ) -> Result<(), StoreError> {
        for (user_id, token) in tokens {
            self.save_context_token(account_id, user_id, token)?;
        }
        Ok(())
    }
    /// The latest context token of a user.
    fn load_context_token(
        &self,
        account_id: &str,
        user_id: &str,
    ) -> Result<Option<ContextToken>, StoreError>;
    /// Every cached context token of an account.
    fn context_tokens(
        &self,
        account_id: &str,
    ) -> Result<BTreeMap<String, ContextToken>, StoreError>;
    /// Drops every context token of an account (on re-login).
    fn clear_context_tokens(&self, account_id: &str) -> Result<(), StoreError>;

    /// Caches a user's typing ticket.
    fn save_typing_ticket(
        &self,
        account_id: &str,
        user_id: &str,
        ticket: &TypingTicket,
    ) -> Result<(), StoreError>;
    /// A user's cached typing ticket.
    fn load_typing_ticket(
        &self,
        account_id: &str,
        user_id: &str,
    ) -> Result<Option<TypingTicket>, StoreError>;

    /// Takes the account's poller lock; [`StoreError::Locked`] when another
    /// poller (in this process or another) holds it.
    fn lock_poller(&self, account_id: &str) -> Result<PollerLock, StoreError>;
}

/// How many acknowledged keys the deduplication window keeps per account.
pub const DEDUP_WINDOW: usize = 10_000;
