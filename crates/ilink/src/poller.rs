//! The pull API: one batch at a time, stored durably before the cursor
//! advances, deduplicated, acknowledged by the caller, all under the
//! account's lease.

use std::sync::Arc;
use std::time::Duration;

use ilink_proto::{ContextToken, Cursor, MalformedUpdate, UserId, WeixinMessage};
use tokio::time::Instant;

use crate::Error;
use crate::client::Bot;
use crate::message::Message;
use crate::store::{InboxEntry, Lease, ReceivedBatch, StoreError};

use crate::fence::{Fence, LEASE_MARGIN};

/// What one poll produced.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Batch {
    /// New messages, in the order received. Acknowledge each with
    /// [`Poller::ack`] once handled.
    pub messages: Vec<Message>,
    /// Elements of the batch that were not valid messages (reported, never
    /// stalling the cursor).
    pub malformed: Vec<MalformedUpdate>,
    /// Received messages dropped as duplicates of ones already seen.
    pub duplicates: usize,
    /// Whether these are unacknowledged messages from before a restart.
    pub redelivered: bool,
}

/// Polls one account's messages.
///
/// Only one poller runs per account: it holds the account's lease in the
/// store ([`LeaseStore::acquire`](crate::store::LeaseStore::acquire)), so a second one, in
/// this process or in any other on the same store, fails with
/// [`StoreError::Leased`](crate::StoreError::Leased). The lease is renewed
/// when half of it is left, and no poll outlives it; a poller whose lease
/// was taken over gets [`StoreError::LeaseLost`](crate::StoreError::LeaseLost)
/// and polls no more. Dropping the poller releases the lease (in the
/// background; [`release`](Self::release) waits for it).
///
/// Every batch is written to the store's inbox and the cursor advanced
/// durably before it is returned; a message stays in the inbox until
/// [`ack`](Self::ack). After a restart, the first batch is what was never
/// acknowledged.
///
/// # Cancel safety
///
/// Dropping [`next_batch`](Self::next_batch) before it returns is safe:
/// either the batch was stored (and comes back as a redelivery next start,
/// or is skipped as a duplicate) or the cursor did not advance.
pub struct Poller {
    bot: Bot,
    cursor: Cursor,
    hint: Option<Duration>,
    redeliver: Option<Vec<InboxEntry>>,
    /// A received batch the store could not take yet: kept here, and
    /// committed before anything is polled again (the server does not send
    /// it twice).
    unstored: Option<Unstored>,
    /// The lease, shared with the account's sends while this poller polls.
    fence: Arc<Fence>,
    /// Released already (by [`release`](Self::release), or lost).
    released: bool,
}

/// A received batch waiting to be stored.
struct Unstored {
    /// Each message with its key, as parsed from the response: encoded for
    /// the store at each commit attempt, and handed to the handler as it
    /// is (never decoded again).
    parsed: Vec<(String, WeixinMessage)>,
    tokens: Vec<(UserId, ContextToken)>,
    /// Who wrote, and when.
    inbound: Vec<(UserId, u64)>,
    next: Cursor,
    malformed: Vec<MalformedUpdate>,
}

impl Drop for Poller {
    fn drop(&mut self) {
        crate::sync::lock(&self.bot.shared().polling).remove(&self.bot.account.id);
        self.bot.account.fence.clear(&self.fence);
        if self.released {
            return;
        }
        // Let another poller take the account now rather than after the
        // lease ran out. Best effort: without a runtime, it expires.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let store = self.bot.shared().store.clone();
            let lease = self.fence.lease();
            runtime.spawn(async move {
                if let Err(e) = store.release(&lease).await {
                    tracing::debug!(error = %crate::Report::new(&e), "could not release a lease");
                }
            });
        }
    }
}

impl std::fmt::Debug for Poller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Poller")
            .field("account", &self.bot.account.id)
            .field("cursor", &self.cursor)
            .field("lease", &self.fence.lease())
            .finish_non_exhaustive()
    }
}

impl Bot {
    /// A poller for the account: takes its lease and reads its cursor and
    /// what was received but never acknowledged.
    ///
    /// # Errors
    ///
    /// [`Error::Store`], including
    /// [`StoreError::Leased`](crate::StoreError::Leased) when another
    /// poller runs.
    pub async fn poller(&self) -> Result<Poller, Error> {
        let account = self.account.id.clone();
        let shared = self.shared();
        if !crate::sync::lock(&shared.polling).insert(account.clone()) {
            return Err(Error::Store(StoreError::Leased {
                account,
                holder: shared.holder.clone(),
            }));
        }
        // Registered: from here a failure must unregister.
        let started = Instant::now();
        let ttl = shared.config.lease_ttl;
        let taken = async {
            let lease = match shared.store.acquire(&account, &shared.holder, ttl).await {
                // A crashed process of this host: no need to wait for its
                // lease to run out.
                Err(StoreError::Leased { holder, .. })
                    if crate::client::holder_is_gone(&holder) =>
                {
                    tracing::info!(account = %ilink_proto::display_safe(account.as_str()), holder = %ilink_proto::display_safe(&holder), "taking over the lease of a process that ended");
                    shared
                        .store
                        .take_over(&account, &shared.holder, ttl, &holder)
                        .await?
                }
                other => other?,
            };
            let cursor = shared.store.load_cursor(&account).await?.unwrap_or_default();
            let pending = shared.store.pending(&account).await?;
            Ok::<_, StoreError>((lease, cursor, pending))
        }
        .await;
        let (lease, cursor, pending) = match taken {
            Ok(t) => t,
            Err(e) => {
                crate::sync::lock(&shared.polling).remove(&account);
                return Err(e.into());
            }
        };
        if !pending.is_empty() {
            tracing::info!(
                count = pending.len(),
                "redelivering unacknowledged messages"
            );
        }
        let fence = Arc::new(Fence::new(shared.store.clone(), lease, started, ttl));
        self.account.fence.set(fence.clone());
        Ok(Poller {
            bot: self.clone(),
            cursor,
            hint: None,
            redeliver: Some(pending),
            unstored: None,
            fence,
            released: false,
        })
    }
}

impl Poller {
    /// The cursor polling continues from.
    pub fn cursor(&self) -> &Cursor {
        &self.cursor
    }

    /// The server's long-poll timeout hint from the last answer, if any.
    pub fn timeout_hint(&self) -> Option<Duration> {
        self.hint
    }

    /// The polled account's bot.
    pub fn bot(&self) -> &Bot {
        &self.bot
    }

    /// Waits for the next batch (a long-poll of up to about 35 s; an empty
    /// batch when nothing came).
    ///
    /// # Errors
    ///
    /// [`Error::SessionExpired`] on `-14`; transport and server errors as
    /// they are (no retry here: [`Bot::run_until`] backs off).
    pub async fn next_batch(&mut self) -> Result<Batch, Error> {
        if let Some(entries) = self.redeliver.take()
            && !entries.is_empty()
        {
            let mut batch = self.decode(entries).await;
            batch.redelivered = true;
            return Ok(batch);
        }
        if self.unstored.is_some() {
            // Boxed: not part of the state of a held poll.
            return Box::pin(self.store_batch()).await;
        }
        // The lease first: renewed when half is left, and the poll ends
        // before it does, whatever the transport's deadline.
        Box::pin(self.keep_lease()).await?;
        let until = self.fence.until() - LEASE_MARGIN;
        let handle = &self.bot.account;
        let resp = match handle
            .http
            .get_updates_until(self.cursor.as_str(), self.hint, Some(until))
            .await
        {
            Ok(r) => r,
            Err(e) => {
                let err = self.bot.account.map_err(e);
                handle.health.poll_failed(&err);
                return Err(err);
            }
        };
        self.hint = resp.poll_timeout_hint().or(self.hint);
        let next = Cursor::new(resp.next_cursor(self.cursor.as_str()));
        let mut parsed = Vec::new();
        let mut malformed: Vec<MalformedUpdate> = Vec::new();
        let now = crate::store::now_ms();
        // Every sender's context tokens in arrival order: the store keeps the
        // latest of each, in one write.
        let mut tokens: Vec<(UserId, ContextToken)> = Vec::new();
        let mut inbound: Vec<(UserId, u64)> = Vec::new();
        for (position, update) in resp.msgs.into_iter().enumerate() {
            let msg = match update {
                ilink_proto::Update::Message(m) => *m,
                ilink_proto::Update::Malformed(m) => {
                    malformed.push(m);
                    continue;
                }
                // (`Update` is non-exhaustive: a kind this version does not
                // know is not a message to store.)
                _ => continue,
            };
            let key = Message::key_of(&msg, &self.cursor, position);
            if let (Some(t), Some(from)) = (&msg.context_token, msg.from_user_id.as_deref())
                && !from.is_empty()
            {
                tokens.push((UserId::new(from), t.clone()));
            }
            if let Some(from) = msg.from_user_id.as_deref().filter(|f| !f.is_empty())
                && msg.message_type != Some(ilink_proto::MessageType::BOT)
            {
                // The server's time of the message opens the reply window;
                // a time in the future (a skewed or hostile clock) counts as
                // now.
                let at = msg
                    .create_time_ms
                    .and_then(|t| u64::try_from(t).ok())
                    .filter(|t| *t > 0)
                    .map_or(now, |t| t.min(now));
                inbound.push((UserId::new(from), at));
            }
            parsed.push((key, msg));
        }
        for m in &malformed {
            tracing::warn!(error = %m.error, "malformed update in batch");
        }
        self.unstored = Some(Unstored {
            parsed,
            tokens,
            inbound,
            next,
            malformed,
        });
        Box::pin(self.store_batch()).await
    }

    /// Commits the received batch in `self.unstored` and the cursor after
    /// it, in one write, and returns what is new in it. On failure the batch
    /// stays in memory and the next [`next_batch`](Self::next_batch) tries
    /// again before polling: a full disk delays messages, never loses them.
    async fn store_batch(&mut self) -> Result<Batch, Error> {
        let Some(unstored) = &self.unstored else {
            return Ok(Batch::default());
        };
        let received = unstored.parsed.len();
        let now = crate::store::now_ms();
        let mut entries = Vec::with_capacity(received);
        for (key, msg) in &unstored.parsed {
            match serde_json::to_value(msg) {
                Ok(raw) => entries.push(InboxEntry::new(key.clone(), raw, now)),
                Err(e) => {
                    tracing::warn!(error = %e, "message could not be encoded for the store; skipped")
                }
            }
        }
        let batch = ReceivedBatch::new(entries, unstored.next.clone())
            .with_context_tokens(unstored.tokens.clone())
            .with_inbound(unstored.inbound.clone());
        let lease = self.fence.lease();
        let fresh = self
            .bot
            .store()
            .commit_batch(&lease, batch)
            .await
            .map_err(|e| Error::from(self.fence.note(e)));
        let fresh = match fresh {
            Ok(f) => f,
            Err(e) => {
                // Nothing was acknowledged to the server and the cursor did
                // not move; the batch waits here, and the runner backs off.
                tracing::error!(
                    error = %crate::Report::new(&e),
                    messages = received,
                    "could not store a received batch; keeping it and trying again"
                );
                self.bot.account.health.poll_failed(&e);
                return Err(e);
            }
        };
        let Some(unstored) = self.unstored.take() else {
            return Ok(Batch::default());
        };
        self.cursor = unstored.next;
        self.bot.account.health.poll_ok(fresh.len());
        let duplicates = received - fresh.len();
        if duplicates > 0 {
            tracing::debug!(duplicates, "dropped duplicate deliveries");
        }
        // The new ones, as parsed from the response: a key the store had
        // already (or that came earlier in the batch) is not among the fresh,
        // and each fresh key is taken once.
        let mut fresh: std::collections::HashSet<String> =
            fresh.into_iter().map(|e| e.key).collect();
        let mut batch = Batch::default();
        for (key, msg) in unstored.parsed {
            if fresh.remove(&key) {
                self.bot.account.recent.record(&msg);
                batch
                    .messages
                    .push(Message::new(&self.bot.account.id, key, msg));
            }
        }
        batch.malformed.extend(unstored.malformed);
        batch.duplicates = duplicates;
        Ok(batch)
    }

    async fn decode(&self, entries: Vec<InboxEntry>) -> Batch {
        let mut batch = Batch::default();
        for entry in entries {
            match serde_json::from_value(entry.message.clone()) {
                Ok(msg) => {
                    self.bot.account.recent.record(&msg);
                    batch
                        .messages
                        .push(Message::new(&self.bot.account.id, entry.key, msg));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "stored message no longer decodes; acknowledging it");
                    if let Err(e) = self.bot.store().ack(&self.fence.lease(), &entry.key).await {
                        tracing::error!(error = %crate::Report::new(&e), "ack failed");
                    }
                    batch
                        .malformed
                        .push(MalformedUpdate::new(entry.message, e.to_string()));
                }
            }
        }
        batch
    }

    /// Acknowledges a handled message: it leaves the inbox and will not be
    /// delivered again.
    ///
    /// # Errors
    ///
    /// [`Error::Store`]; the message then comes back after a restart.
    pub async fn ack(&self, msg: &Message) -> Result<(), Error> {
        self.bot.ack(&self.fence.lease(), msg.key()).await
    }

    /// Acknowledges several handled messages at once: one transaction (one
    /// fsync) for all of them where the store has transactions, so a bot
    /// that handles a batch before acknowledging it pays one durable write,
    /// not one per message.
    ///
    /// ```no_run
    /// # async fn demo(bot: ilink::Bot) -> Result<(), ilink::Error> {
    /// let mut poller = bot.poller().await?;
    /// let batch = poller.next_batch().await?;
    /// for msg in &batch.messages {
    ///     println!("{}", msg.text());
    /// }
    /// poller.ack_all(&batch.messages).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Store`]: then none of them is acknowledged, and they come
    /// back after a restart.
    pub async fn ack_all(&self, msgs: &[Message]) -> Result<(), Error> {
        let keys: Vec<String> = msgs.iter().map(|m| m.key().to_owned()).collect();
        self.bot.ack_many(&self.fence.lease(), &keys).await
    }

    /// The lease this poller holds (as last taken or renewed).
    pub fn lease(&self) -> Lease {
        (*self.fence.lease()).clone()
    }

    /// The lease, shared with the acknowledgements of the runner.
    pub(crate) fn lease_handle(&self) -> Arc<Lease> {
        self.fence.lease()
    }

    /// Gives the account's lease up, so that another poller may take it at
    /// once, and waits until the store has it.
    ///
    /// # Errors
    ///
    /// [`Error::Store`]; the lease then runs out by itself.
    pub async fn release(mut self) -> Result<(), Error> {
        self.released = true;
        Ok(self.bot.store().release(&self.fence.lease()).await?)
    }

    /// Drops the poller without releasing its lease: it runs out by itself.
    /// For a poller whose last poll was cut short (the server may still
    /// hold it): releasing would let another poller start beside it.
    pub(crate) fn abandon(mut self) {
        self.released = true;
    }

    /// Renews the lease when half of it is left, or less than a poll needs,
    /// by this process's monotonic clock (a process stopped past its lease
    /// renews, or learns it lost it, before it polls again). A lease another
    /// holder took is [`StoreError::LeaseLost`]; this poller polls no more.
    async fn keep_lease(&mut self) -> Result<(), Error> {
        // Renewed when half is left, and always before a poll that would not
        // fit in what is left: a poll the lease cuts short may still be held
        // at the server when the next one starts, and its answer is lost.
        let poll = self.bot.account.http.long_poll_timeout(self.hint) + LEASE_MARGIN;
        let need = (self.fence.ttl() / 2).max(poll);
        match self.fence.hold(need).await {
            Ok(_) => Ok(()),
            Err(e) => {
                if matches!(e, StoreError::LeaseLost { .. }) {
                    self.released = true;
                }
                let err = Error::from(e);
                self.bot.account.health.poll_failed(&err);
                Err(err)
            }
        }
    }
}

impl Bot {
    /// Acknowledges the message with this key in the account's inbox, under
    /// the poller's lease.
    pub(crate) async fn ack(&self, lease: &Lease, key: &str) -> Result<(), Error> {
        crate::store::retry_transient("acknowledging a message", || self.store().ack(lease, key))
            .await
            .map_err(|e| self.lease_error(e))?;
        self.account.health.update(|h| h.messages_handled += 1);
        Ok(())
    }

    /// Acknowledges these messages in one store transaction, under the
    /// poller's lease: all of them or, on an error, none.
    pub(crate) async fn ack_many(&self, lease: &Lease, keys: &[String]) -> Result<(), Error> {
        crate::store::retry_transient("acknowledging messages", || {
            self.store().ack_many(lease, keys)
        })
        .await
        .map_err(|e| self.lease_error(e))?;
        let n = u64::try_from(keys.len()).unwrap_or(u64::MAX);
        self.account.health.update(|h| h.messages_handled += n);
        Ok(())
    }

    /// A store error of a fenced write; a lost lease is recorded in the
    /// fence, so the account's sends stop too.
    fn lease_error(&self, e: StoreError) -> StoreError {
        match self.account.fence.get() {
            Some(fence) => fence.note(e),
            None => e,
        }
    }
}
