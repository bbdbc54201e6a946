//! What stores keep: credentials, inbox and outbox entries, tickets,
//! leases, conversations and the limits on them.

use std::fmt;
use std::time::Duration;

use ilink_proto::{AccountId, BotToken, ContextToken, Cursor, UserId};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::rows;

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
/// ([`OutboxStore::enqueue`](super::OutboxStore::enqueue)). `None` turns a limit off.
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

/// What [`OutboxStore::enqueue`](super::OutboxStore::enqueue) did.
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

/// How long a store remembers the `client_id`s it counted against a
/// conversation's budget ([`OutboxStore::enqueue`](super::OutboxStore::enqueue)): a reply queued again within
/// it (a handler run again after a crash or a takeover) does not count
/// twice. Past the 24-hour reply window with room to spare.
pub const COUNTED_FOR: std::time::Duration = std::time::Duration::from_secs(48 * 60 * 60);

/// How many acknowledged keys the deduplication window keeps per account.
pub const DEDUP_WINDOW: usize = 10_000;
