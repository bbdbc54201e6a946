//! Replies that are never lost, never doubled, and never held up by another
//! user's conversation.
//!
//! Every outbound message is written to the store's outbox, with its
//! `client_id`, before it is sent, and leaves it once the server accepted it
//! (or it can never go). The store queues a message only if its
//! conversation can take it ([`ReplyLimits`](crate::store::ReplyLimits)): the reply budget since the
//! user's last message, and the window after it. A send that cannot go
//! fails here, before the server, with [`Error::ConversationClosed`].
//!
//! The server answers several refusals with the same bare `ret -2`. One
//! about a conversation (a stale context token, the budget, the window)
//! closes that conversation until the user writes again and delays no one
//! else. Only evidence that the limit is the account's (an `errmsg` that
//! says so, or bare refusals from [`ACCOUNT_EVIDENCE`] conversations within
//! [`EVIDENCE_WINDOW`]) holds the account's sends, for a cooldown that
//! doubles from [`FIRST_COOLDOWN`] while refusals go on and resets after a
//! send goes through.
//!
//! Sends that fail for a passing reason (the network, a 5xx, the account's
//! cooldown) stay queued and
//! go out later in order per conversation, with the same `client_id`s: the
//! runner retries them, and [`Bot::flush_outbox`](crate::Bot::flush_outbox) does on demand. The rule
//! for a caller: a message still in the outbox comes back as a [`Sent`]
//! with [`waiting`](Sent::waiting) set (do not send it again: it will go);
//! a message that left it without being delivered comes back as an error.

mod delivery;
mod drain;
mod governor;
mod ids;

use std::sync::Arc;
use std::time::Duration;

use ilink_proto::{AccountId, ContextToken, MessageId, MessageItem, UserId, WeixinMessage};

use crate::Error;
use crate::account::AccountCore;
use crate::pacing::Pacer;
use crate::store::{Admission, OutboxEntry, Refusal, now_ms, rows};

/// The first account-wide cooldown; each further one in a row doubles, up
/// to [`ClientBuilder::throttle_cooldown`](crate::ClientBuilder::throttle_cooldown).
pub const FIRST_COOLDOWN: Duration = Duration::from_secs(30);

/// Bare `ret -2` refusals from this many conversations (that had budget
/// left) within [`EVIDENCE_WINDOW`] mean the limit is the account's.
pub const ACCOUNT_EVIDENCE: usize = 3;

/// See [`ACCOUNT_EVIDENCE`].
pub const EVIDENCE_WINDOW: Duration = Duration::from_secs(60);

pub use crate::config::{DEFAULT_REPLY_BUDGET, DEFAULT_REPLY_WINDOW};

use self::delivery::Outcome;
use self::drain::Nudge;
pub(crate) use self::drain::keep_sending;
use self::governor::Governor;
pub(crate) use self::ids::{Ids, Target};

/// One message of a send: delivered, or waiting in the outbox.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Sent {
    /// The `client_id` it carries (the same on every attempt).
    pub client_id: String,
    /// The server's id for it, once delivered (when the server gave one).
    pub message_id: Option<MessageId>,
    /// Why it waits, when it could not go yet for a passing reason (the
    /// network, a 5xx, the account's send cooldown): it stays in the
    /// outbox and goes out later with the same `client_id`, in order after
    /// the conversation's earlier messages (the runner sends it, or
    /// [`Bot::flush_outbox`](crate::Bot::flush_outbox)).
    pub waiting: Option<Arc<Error>>,
}

impl Sent {
    /// Whether the server accepted it.
    pub fn is_delivered(&self) -> bool {
        self.waiting.is_none()
    }
}

/// A queued message that can never go: it left the outbox.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Undeliverable {
    /// The recipient.
    pub user: UserId,
    /// Its `client_id`.
    pub client_id: String,
    /// Why.
    pub error: Arc<Error>,
}

/// What [`Bot::flush_outbox`](crate::Bot::flush_outbox) did.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct FlushReport {
    /// Messages the server accepted.
    pub delivered: usize,
    /// Messages still waiting (a passing failure, or the account's
    /// cooldown).
    pub waiting: usize,
    /// Messages that can never go; they left the outbox.
    pub undeliverable: Vec<Undeliverable>,
    /// Why the first waiting message waits, if one does.
    pub waiting_because: Option<Arc<Error>>,
}

/// How many more messages a conversation can take now.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReplyBudget {
    /// Messages left until the user writes again (`None`: no budget applies,
    /// or the user never wrote to this store).
    pub left: Option<u32>,
    /// When the window after the user's last message closes, milliseconds
    /// since the Unix epoch (`None`: no window applies, or the user never
    /// wrote).
    pub open_until_ms: Option<u64>,
    /// Why no message can go now, if none can. Every reason ends when the
    /// user writes again.
    pub closed: Option<Refusal>,
}

/// Where undeliverable messages are reported.
pub(crate) type LostListener = Arc<dyn Fn(&Undeliverable) + Send + Sync>;

/// One account's outbox: what it sends, through its pacing and its reply
/// governance, on the account's core.
pub(crate) struct Outbox {
    pub(crate) core: Arc<AccountCore>,
    governor: Governor,
    pacer: Pacer,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox")
            .field("account", &self.core.id)
            .finish_non_exhaustive()
    }
}

impl Outbox {
    /// The outbox of an account.
    pub(crate) fn new(core: Arc<AccountCore>) -> Self {
        Self {
            pacer: Pacer::new(core.config.pacing),
            governor: Governor::default(),
            core,
        }
    }

    fn id(&self) -> &AccountId {
        &self.core.id
    }

    fn store(&self) -> &dyn crate::store::Store {
        self.core.store()
    }

    async fn fenced(&self) -> Result<Option<Arc<crate::store::Lease>>, Error> {
        self.core.fenced().await
    }

    fn map_err(&self, err: ilink_http::Error) -> Error {
        self.core.map_err(err)
    }
}

impl Outbox {
    /// Sends items to a target, one message each: its recipient resolved
    /// (see [`AccountCore::recipient`]), then queued and delivered.
    pub(crate) async fn send(
        &self,
        target: Target,
        items: Vec<MessageItem>,
    ) -> Result<Vec<Sent>, Error> {
        let (to, token) = self.resolve(&target).await?;
        self.send_items(&to, token, items, &target.ids).await
    }

    /// A target's recipient as the server knows it and its context token
    /// (see [`AccountCore::recipient`]); a store failure here is the SDK's
    /// (see [`Ids::sdk_failed`]).
    pub(crate) async fn resolve(
        &self,
        target: &Target,
    ) -> Result<(UserId, Option<ContextToken>), Error> {
        self.core
            .recipient(&target.to, target.context_token.clone())
            .await
            .inspect_err(|e| target.ids.note_failure(e))
    }

    /// Queues items to `to`, one message each, then delivers what is queued
    /// to `to`, in order.
    pub(crate) async fn send_items(
        &self,
        to: &UserId,
        token: Option<ContextToken>,
        items: Vec<MessageItem>,
        ids: &Ids,
    ) -> Result<Vec<Sent>, Error> {
        let sent = Box::pin(self.queue_and_deliver(to, token, items, ids)).await;
        if let Err(e) = &sent {
            ids.note_failure(e);
        }
        sent
    }

    async fn queue_and_deliver(
        &self,
        to: &UserId,
        token: Option<ContextToken>,
        items: Vec<MessageItem>,
        ids: &Ids,
    ) -> Result<Vec<Sent>, Error> {
        if to.is_empty() {
            return Err(Error::NoRecipient);
        }
        if token.is_none() {
            tracing::warn!("sending without a context token: the message may not reach the chat");
        }
        let now = now_ms();
        let mut entries = Vec::with_capacity(items.len());
        for item in items {
            let client_id = ids.next(&self.core, to);
            let msg = WeixinMessage::outbound(to.as_str(), client_id.clone(), item)
                .with_context_token(token.clone());
            let value = serde_json::to_value(&msg).map_err(|e| {
                Error::Io(std::io::Error::other(format!(
                    "an outbound message did not encode: {e}"
                )))
            })?;
            entries.push(OutboxEntry::new(client_id, to.clone(), value, now));
        }
        let ours: Vec<String> = entries.iter().map(|e| e.client_id.clone()).collect();
        let limits = self.core.config.reply_limits;
        // While a poller of this client holds the account, its lease fences
        // the queueing: a process that lost it queues nothing.
        let lease = self.fenced().await?;
        // A store that fails for a passing reason (another process holds
        // SQLite's write lock) is waited for: the reply is not lost to it.
        let admission = crate::store::retry_transient("queueing a message", || {
            self.store()
                .enqueue(lease.as_deref(), self.id(), to, entries.clone(), limits)
        })
        .await?;
        match admission {
            Admission::Refused(refusal) => {
                return Err(Error::ConversationClosed {
                    user: to.clone(),
                    refusal,
                });
            }
            Admission::Queued { .. } => {}
        }
        // From here on something may be left queued however this ends (an
        // error, a drop half-way): the runner's drain is woken then, unless
        // everything of ours went.
        let nudge = Nudge::new(&self.governor.drain);
        let mut outcomes = self.deliver(to).await?;
        let total = ours.len();
        let mine: Vec<(String, Option<Outcome>)> = ours
            .into_iter()
            .map(|id| {
                let outcome = outcomes.remove(&id);
                (id, outcome)
            })
            .collect();
        // Earlier messages of the conversation that this run found unable
        // to go are reported too: never silently.
        for (client_id, outcome) in outcomes {
            if let Outcome::Failed(e) = outcome {
                self.governor.report(&Undeliverable {
                    user: to.clone(),
                    client_id,
                    error: Arc::new(e),
                });
            }
        }
        let mut sent = Vec::with_capacity(total);
        let mut waiting = false;
        for (client_id, outcome) in mine {
            match outcome {
                Some(Outcome::Delivered(message_id)) => sent.push(Sent {
                    client_id,
                    message_id,
                    waiting: None,
                }),
                Some(Outcome::Waiting(cause)) => {
                    waiting = true;
                    sent.push(Sent {
                        client_id,
                        message_id: None,
                        waiting: Some(cause),
                    });
                }
                Some(Outcome::Failed(e)) if sent.is_empty() => return Err(e),
                Some(Outcome::Failed(e)) => {
                    return Err(Error::Partial {
                        sent: sent.len(),
                        total,
                        source: Box::new(e),
                    });
                }
                // Another delivery run (the runner's, a concurrent send)
                // took it and accepted it.
                None => sent.push(Sent {
                    client_id,
                    message_id: None,
                    waiting: None,
                }),
            }
        }
        if !waiting {
            nudge.disarm();
        }
        Ok(sent)
    }

    /// Sends what waits in the account's outbox, in order per conversation
    /// (the runner does this by itself while it runs).
    ///
    /// # Errors
    ///
    /// [`Error::Store`].
    pub(crate) async fn flush_outbox(&self) -> Result<FlushReport, Error> {
        let users = self.store().outbox_users(self.id()).await?;
        let mut report = FlushReport::default();
        for user in users {
            for (client_id, outcome) in self.deliver(&user).await? {
                match outcome {
                    Outcome::Delivered(_) => report.delivered += 1,
                    Outcome::Waiting(cause) => {
                        report.waiting += 1;
                        report.waiting_because.get_or_insert(cause);
                    }
                    Outcome::Failed(e) => {
                        let lost = Undeliverable {
                            user: user.clone(),
                            client_id,
                            error: Arc::new(e),
                        };
                        self.governor.report(&lost);
                        report.undeliverable.push(lost);
                    }
                }
            }
        }
        Ok(report)
    }

    /// Takes the messages of a send that still wait in the outbox back out
    /// (a one-shot caller, a command line, gives up on them rather than
    /// leave them for a later run), and returns why the first one waited.
    ///
    /// # Errors
    ///
    /// [`Error::Store`].
    pub(crate) async fn withdraw_waiting(
        &self,
        sent: &[Sent],
    ) -> Result<Option<Arc<Error>>, Error> {
        let mut why = None;
        for s in sent {
            if let Some(w) = &s.waiting {
                let lease = self.fenced().await?;
                self.store()
                    .dequeue(lease.as_deref(), self.id(), &s.client_id)
                    .await?;
                why.get_or_insert_with(|| w.clone());
            }
        }
        Ok(why)
    }

    /// How many more messages `user`'s conversation can take now.
    ///
    /// # Errors
    ///
    /// [`Error::Store`].
    pub(crate) async fn reply_budget(&self, user: impl Into<UserId>) -> Result<ReplyBudget, Error> {
        let user = user.into();
        let limits = self.core.config.reply_limits;
        let conversation = self.store().conversation(self.id(), &user).await?;
        let Some(c) = conversation else {
            return Ok(ReplyBudget {
                left: None,
                open_until_ms: None,
                closed: None,
            });
        };
        let closed = rows::admit(Some(&c), 1, limits, now_ms()).err();
        Ok(ReplyBudget {
            left: limits.budget.map(|b| b.saturating_sub(c.replies)),
            open_until_ms: limits
                .window_ms
                .map(|w| c.last_inbound_ms.saturating_add(w)),
            closed,
        })
    }

    /// Fails with [`Error::ConversationClosed`] when `user`'s conversation
    /// cannot take `needed` messages now (checked before work that would be
    /// wasted, an upload; the queueing itself checks again).
    pub(crate) async fn check_budget(&self, user: &UserId, needed: u32) -> Result<(), Error> {
        let limits = self.core.config.reply_limits;
        let conversation = self.store().conversation(self.id(), user).await?;
        rows::admit(conversation.as_ref(), needed, limits, now_ms()).map_err(|refusal| {
            Error::ConversationClosed {
                user: user.clone(),
                refusal,
            }
        })
    }
}
