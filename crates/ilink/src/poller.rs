//! The pull API: one batch at a time, stored durably before the cursor
//! advances, deduplicated, acknowledged by the caller.

use std::time::Duration;

use ilink_proto::{Cursor, MalformedUpdate};

use crate::Error;
use crate::client::Bot;
use crate::message::Message;
use crate::store::{InboxEntry, PollerLock};

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
/// Only one poller runs per account: creating a second one (in this process
/// or another on the same file store) fails with
/// [`StoreError::Locked`](crate::StoreError::Locked).
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
    _lock: PollerLock,
}

/// A received batch waiting to be stored.
struct Unstored {
    entries: Vec<InboxEntry>,
    tokens: Vec<(String, ilink_proto::ContextToken)>,
    next: Cursor,
    malformed: Vec<MalformedUpdate>,
}

impl std::fmt::Debug for Poller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Poller")
            .field("account", &self.bot.account.id)
            .field("cursor", &self.cursor)
            .finish_non_exhaustive()
    }
}

impl Bot {
    /// A poller for the account.
    ///
    /// # Errors
    ///
    /// [`Error::Store`] (including
    /// [`StoreError::Locked`](crate::StoreError::Locked) when another poller
    /// runs).
    pub async fn poller(&self) -> Result<Poller, Error> {
        let id = self.account.id.clone();
        let (lock, cursor, pending) = self
            .blocking(move |s| {
                let lock = s.lock_poller(id.as_str())?;
                let cursor = s.load_cursor(id.as_str())?.unwrap_or_default();
                let pending = s.pending(id.as_str())?;
                Ok((lock, Cursor::new(cursor), pending))
            })
            .await?;
        if !pending.is_empty() {
            tracing::info!(
                count = pending.len(),
                "redelivering unacknowledged messages"
            );
        }
        Ok(Poller {
            bot: self.clone(),
            cursor,
            hint: None,
            redeliver: Some(pending),
            unstored: None,
            _lock: lock,
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
            let mut batch = self.decode(entries);
            batch.redelivered = true;
            return Ok(batch);
        }
        if self.unstored.is_some() {
            // Boxed: not part of the state of a held poll.
            return Box::pin(self.store_batch()).await;
        }
        let handle = &self.bot.account;
        let resp = match handle
            .http
            .get_updates(self.cursor.as_str(), self.hint)
            .await
        {
            Ok(r) => r,
            Err(e) => {
                let err = self.bot.map_err(e);
                handle.health.poll_failed(&err);
                return Err(err);
            }
        };
        self.hint = resp.poll_timeout_hint().or(self.hint);
        let next = Cursor::new(resp.next_cursor(self.cursor.as_str()));
        let now = crate::store::now_ms();
        let mut entries = Vec::new();
        // Every sender's context tokens in arrival order: the store keeps the
        // latest of each, in one write.
        let mut tokens: Vec<(String, ilink_proto::ContextToken)> = Vec::new();
        for msg in resp.messages() {
            let key = Message::key_of(msg);
            match serde_json::to_value(msg) {
                Ok(raw) => entries.push(InboxEntry::new(key, raw, now)),
                Err(e) => tracing::warn!(error = %e, "message could not be re-encoded; skipped"),
            }
            if let (Some(t), Some(from)) = (&msg.context_token, msg.from_user_id.as_deref())
                && !from.is_empty()
            {
                tokens.push((from.to_owned(), t.clone()));
            }
        }
        let malformed: Vec<MalformedUpdate> = resp.malformed().cloned().collect();
        for m in &malformed {
            tracing::warn!(error = %m.error, "malformed update in batch");
        }
        self.unstored = Some(Unstored {
            entries,
            tokens,
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
        let received = unstored.entries.len();
        let id = self.bot.account.id.clone();
        let cursor = unstored.next.clone();
        let entries = unstored.entries.clone();
        let tokens = unstored.tokens.clone();
        let fresh = self
            .bot
            .blocking(move |s| {
                let fresh = s.commit_batch(id.as_str(), entries, cursor.as_str())?;
                s.save_context_tokens(id.as_str(), &tokens)?;
                Ok(fresh)
            })
            .await;
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
        let mut batch = self.decode(fresh);
        batch.malformed.extend(unstored.malformed);
        batch.duplicates = duplicates;
        Ok(batch)
    }

    fn decode(&self, entries: Vec<InboxEntry>) -> Batch {
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
                    let store = &self.bot.shared().store;
                    if let Err(e) = store.ack(self.bot.account.id.as_str(), &entry.key) {
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
        self.bot.ack(msg.key().to_owned()).await
    }
}

impl Bot {
    /// Acknowledges the message with this key in the account's inbox.
    pub(crate) async fn ack(&self, key: String) -> Result<(), Error> {
        let id = self.account.id.clone();
        self.blocking(move |s| s.ack(id.as_str(), &key)).await?;
        self.account.health.update(|h| h.messages_handled += 1);
        Ok(())
    }
}
