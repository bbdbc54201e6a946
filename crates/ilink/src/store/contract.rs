//! The store contract, by concern: [`CredentialStore`], [`LeaseStore`],
//! [`InboxStore`], [`OutboxStore`] and [`TokenStore`], and [`Store`], the one
//! object a client is given, which is all five.

use std::collections::BTreeMap;
use std::time::Duration;

use ilink_proto::{AccountId, ContextToken, Cursor, UserId};

use super::{
    Admission, Conversation, Credentials, InboxEntry, Lease, OutboxEntry, ReceivedBatch,
    ReplyLimits, StoreFuture, TypingTicket,
};
#[cfg(doc)]
use super::{COUNTED_FOR, DEDUP_WINDOW, StoreError};

/// Persistent state of any number of bot accounts, each in its own namespace.
///
/// Implementations make every write durable before its future completes (a
/// crash right after must not lose what it wrote), commit each call
/// atomically (a batch's entries, its context tokens and the cursor
/// together; an acknowledgement removes the entry and records its key
/// together, so no key is ever both pending and acknowledged), and never
/// replace unreadable data silently: report [`StoreError::Corrupt`].
///
/// It is the five traits of the module, each one concern; a type that
/// implements all five is a `Store` (there is nothing else to implement).
///
/// The delivery guarantee rests on three calls: [`commit_batch`]
/// (the batch and the new cursor, before any handler runs), then [`ack`]
/// per message after its handler finished, and [`pending`] on start (what
/// was received but never acknowledged). The first two are fenced by the
/// poller's [`Lease`].
///
/// The conformance suite, `ilink::store::testing` (feature
/// `testing`), checks a store against this contract: every store the
/// project ships runs it, and so can yours.
///
/// [`commit_batch`]: InboxStore::commit_batch
/// [`ack`]: InboxStore::ack
/// [`pending`]: InboxStore::pending
pub trait Store: CredentialStore + LeaseStore + InboxStore + OutboxStore + TokenStore {}

impl<T> Store for T where T: CredentialStore + LeaseStore + InboxStore + OutboxStore + TokenStore {}

/// Credentials: the accounts a store knows and how to act as each.
pub trait CredentialStore: Send + Sync + 'static {
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
}

/// Leases and cluster membership: one poller at a time per account, and
/// which members of a cluster are alive.
pub trait LeaseStore: Send + Sync + 'static {
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
    /// [`acquire`](LeaseStore::acquire).
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
}

/// The inbox and the cursor: received batches, what is pending, what was
/// acknowledged (the deduplication window).
pub trait InboxStore: Send + Sync + 'static {
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
    /// [`ack`]: InboxStore::ack
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
}

/// The outbox and the conversations it sends into: queued replies, each
/// conversation's budget and window.
pub trait OutboxStore: Send + Sync + 'static {
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
    /// else [`StoreError::LeaseLost`]; so do [`dequeue`](OutboxStore::dequeue),
    /// [`save_context_token`](TokenStore::save_context_token) and
    /// [`save_typing_ticket`](TokenStore::save_typing_ticket).
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
    /// The messages queued to `user`, oldest first: what a delivery to
    /// that conversation reads, once per send.
    ///
    /// The default filters [`outbox`](Self::outbox), which reads every
    /// conversation's; the shipped stores answer from an index on the
    /// conversation, so that a send costs the same with 10 or 100,000
    /// messages queued to others.
    fn outbox_to<'a>(
        &'a self,
        account: &'a AccountId,
        user: &'a UserId,
    ) -> StoreFuture<'a, Vec<OutboxEntry>> {
        Box::pin(async move {
            let mut queued = self.outbox(account).await?;
            queued.retain(|e| &e.user == user);
            Ok(queued)
        })
    }
    /// The users with messages queued, each once, in the order of their
    /// oldest queued message.
    ///
    /// The default reads [`outbox`](Self::outbox); the shipped stores read
    /// the recipients alone.
    fn outbox_users<'a>(&'a self, account: &'a AccountId) -> StoreFuture<'a, Vec<UserId>> {
        Box::pin(async move {
            let mut users: Vec<UserId> = Vec::new();
            for entry in self.outbox(account).await? {
                if !users.contains(&entry.user) {
                    users.push(entry.user);
                }
            }
            Ok(users)
        })
    }
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
}

/// Per-user tokens: the context token a reply needs and the typing ticket
/// "typing…" needs.
pub trait TokenStore: Send + Sync + 'static {
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
