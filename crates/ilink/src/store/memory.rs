//! [`MemoryStore`]: the SQLite store's code on an in-memory database.

use std::collections::BTreeMap;
use std::time::Duration;

use ilink_proto::{AccountId, ContextToken, Cursor, UserId};

use super::{
    Admission, Conversation, Credentials, InboxEntry, Lease, OutboxEntry, ReceivedBatch,
    ReplyLimits, SqliteStore, Store, StoreFuture, TypingTicket,
};

/// A [`Store`] in memory, for tests and bots that need nothing to survive a
/// restart: the [`SqliteStore`] on an in-memory database, so it keeps the
/// very same semantics. Cheap to clone; clones share the data.
#[derive(Clone, Debug)]
pub struct MemoryStore(SqliteStore);

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self(SqliteStore::in_memory())
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl Store for MemoryStore {
    fn save_credentials<'a>(&'a self, credentials: &'a Credentials) -> StoreFuture<'a, ()> {
        self.0.save_credentials(credentials)
    }
    fn load_credentials<'a>(
        &'a self,
        account: &'a AccountId,
    ) -> StoreFuture<'a, Option<Credentials>> {
        self.0.load_credentials(account)
    }
    fn accounts(&self) -> StoreFuture<'_, Vec<Credentials>> {
        self.0.accounts()
    }
    fn remove_account<'a>(&'a self, account: &'a AccountId) -> StoreFuture<'a, ()> {
        self.0.remove_account(account)
    }
    fn acquire<'a>(
        &'a self,
        account: &'a AccountId,
        holder: &'a str,
        ttl: Duration,
    ) -> StoreFuture<'a, Lease> {
        self.0.acquire(account, holder, ttl)
    }
    fn take_over<'a>(
        &'a self,
        account: &'a AccountId,
        holder: &'a str,
        ttl: Duration,
        from: &'a str,
    ) -> StoreFuture<'a, Lease> {
        self.0.take_over(account, holder, ttl, from)
    }
    fn renew<'a>(&'a self, lease: &'a Lease, ttl: Duration) -> StoreFuture<'a, Lease> {
        self.0.renew(lease, ttl)
    }
    fn release<'a>(&'a self, lease: &'a Lease) -> StoreFuture<'a, ()> {
        self.0.release(lease)
    }
    fn heartbeat<'a>(&'a self, member: &'a str, ttl: Duration) -> StoreFuture<'a, usize> {
        self.0.heartbeat(member, ttl)
    }
    fn leave<'a>(&'a self, member: &'a str) -> StoreFuture<'a, ()> {
        self.0.leave(member)
    }
    fn load_cursor<'a>(&'a self, account: &'a AccountId) -> StoreFuture<'a, Option<Cursor>> {
        self.0.load_cursor(account)
    }
    fn commit_batch<'a>(
        &'a self,
        lease: &'a Lease,
        batch: ReceivedBatch,
    ) -> StoreFuture<'a, Vec<InboxEntry>> {
        self.0.commit_batch(lease, batch)
    }
    fn pending<'a>(&'a self, account: &'a AccountId) -> StoreFuture<'a, Vec<InboxEntry>> {
        self.0.pending(account)
    }
    fn ack<'a>(&'a self, lease: &'a Lease, key: &'a str) -> StoreFuture<'a, ()> {
        self.0.ack(lease, key)
    }
    fn ack_many<'a>(&'a self, lease: &'a Lease, keys: &'a [String]) -> StoreFuture<'a, ()> {
        self.0.ack_many(lease, keys)
    }
    fn seen<'a>(&'a self, account: &'a AccountId, key: &'a str) -> StoreFuture<'a, bool> {
        self.0.seen(account, key)
    }
    fn save_context_token<'a>(
        &'a self,
        fence: Option<&'a Lease>,
        account: &'a AccountId,
        user: &'a UserId,
        token: &'a ContextToken,
    ) -> StoreFuture<'a, ()> {
        self.0.save_context_token(fence, account, user, token)
    }
    fn load_context_token<'a>(
        &'a self,
        account: &'a AccountId,
        user: &'a UserId,
    ) -> StoreFuture<'a, Option<ContextToken>> {
        self.0.load_context_token(account, user)
    }
    fn find_context_token<'a>(
        &'a self,
        account: &'a AccountId,
        user: &'a UserId,
    ) -> StoreFuture<'a, Option<(UserId, ContextToken)>> {
        self.0.find_context_token(account, user)
    }
    fn context_tokens<'a>(
        &'a self,
        account: &'a AccountId,
    ) -> StoreFuture<'a, BTreeMap<UserId, ContextToken>> {
        self.0.context_tokens(account)
    }
    fn clear_context_tokens<'a>(&'a self, account: &'a AccountId) -> StoreFuture<'a, ()> {
        self.0.clear_context_tokens(account)
    }
    fn save_typing_ticket<'a>(
        &'a self,
        fence: Option<&'a Lease>,
        account: &'a AccountId,
        user: &'a UserId,
        ticket: &'a TypingTicket,
    ) -> StoreFuture<'a, ()> {
        self.0.save_typing_ticket(fence, account, user, ticket)
    }
    fn load_typing_ticket<'a>(
        &'a self,
        account: &'a AccountId,
        user: &'a UserId,
    ) -> StoreFuture<'a, Option<TypingTicket>> {
        self.0.load_typing_ticket(account, user)
    }
    fn enqueue<'a>(
        &'a self,
        fence: Option<&'a Lease>,
        account: &'a AccountId,
        user: &'a UserId,
        entries: Vec<OutboxEntry>,
        limits: ReplyLimits,
    ) -> StoreFuture<'a, Admission> {
        self.0.enqueue(fence, account, user, entries, limits)
    }
    fn outbox<'a>(&'a self, account: &'a AccountId) -> StoreFuture<'a, Vec<OutboxEntry>> {
        self.0.outbox(account)
    }
    fn dequeue<'a>(
        &'a self,
        fence: Option<&'a Lease>,
        account: &'a AccountId,
        client_id: &'a str,
    ) -> StoreFuture<'a, ()> {
        self.0.dequeue(fence, account, client_id)
    }
    fn conversation<'a>(
        &'a self,
        account: &'a AccountId,
        user: &'a UserId,
    ) -> StoreFuture<'a, Option<Conversation>> {
        self.0.conversation(account, user)
    }
    fn set_closed<'a>(
        &'a self,
        account: &'a AccountId,
        user: &'a UserId,
        closed: bool,
        as_of_inbound_ms: u64,
    ) -> StoreFuture<'a, bool> {
        self.0.set_closed(account, user, closed, as_of_inbound_ms)
    }
}
