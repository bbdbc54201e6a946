//! Delivery: a conversation's queue sent oldest first, each message paced
//! and retried with its `client_id`, then dequeued; what the server's
//! refusals mean for the conversation and the account.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use ilink_proto::{MessageId, SendMessageRequest, UserId, WeixinMessage};
use tokio::time::Instant;

use super::{FIRST_COOLDOWN, Outbox, governor};
use crate::Error;
use crate::store::{OutboxEntry, Refusal, rows};

/// What became of one queued message in a delivery run.
pub(super) enum Outcome {
    Delivered(Option<MessageId>),
    Waiting(Arc<Error>),
    Failed(Error),
}

/// Why a delivery run stopped before the end of a conversation's queue.
enum Stop {
    /// A passing failure: the rest wait.
    Wait(Arc<Error>),
    /// The conversation closed: the rest can never go.
    Closed(Refusal),
}

impl Outbox {
    /// Removes a message from the outbox under `lease`, waiting out a store
    /// that fails for a passing reason.
    async fn dequeue(
        &self,
        lease: Option<&crate::store::Lease>,
        client_id: &str,
    ) -> Result<(), Error> {
        crate::store::retry_transient("removing a sent message from the outbox", || {
            self.store().dequeue(lease, self.id(), client_id)
        })
        .await
        .map_err(|e| match self.core.fence.get() {
            Some(fence) => fence.note(e),
            None => e,
        })?;
        Ok(())
    }

    /// Delivers the messages queued to `user`, oldest first, until one
    /// fails for a passing reason (it and the rest wait) or the
    /// conversation closes (they can never go).
    pub(super) async fn deliver(&self, user: &UserId) -> Result<HashMap<String, Outcome>, Error> {
        let governor = &self.governor;
        let lane = governor.lane(user);
        let _turn = lane.lock().await;
        let queued: Vec<OutboxEntry> = crate::store::retry_transient("reading the outbox", || {
            self.store().outbox_to(self.id(), user)
        })
        .await?;
        let mut outcomes = HashMap::with_capacity(queued.len());
        if queued.is_empty() {
            return Ok(outcomes);
        }
        let mut lease = self.fenced().await?;
        let as_of = crate::store::retry_transient("reading a conversation", || {
            self.store().conversation(self.id(), user)
        })
        .await?
        .map_or(0, |c| c.last_inbound_ms);
        let mut stop: Option<Stop> = None;
        for entry in queued {
            let client_id = entry.client_id.clone();
            match &stop {
                Some(Stop::Wait(cause)) => {
                    outcomes.insert(client_id, Outcome::Waiting(cause.clone()));
                    continue;
                }
                Some(Stop::Closed(refusal)) => {
                    self.dequeue(lease.as_deref(), &client_id).await?;
                    outcomes.insert(
                        client_id,
                        Outcome::Failed(Error::ConversationClosed {
                            user: user.clone(),
                            refusal: *refusal,
                        }),
                    );
                    continue;
                }
                None => {}
            }
            if self.throttled_for().is_some() {
                let cause = Arc::new(Error::Throttled {
                    errmsg: Some("waiting out the account's send cooldown".to_owned()),
                });
                stop = Some(Stop::Wait(cause.clone()));
                outcomes.insert(client_id, Outcome::Waiting(cause));
                continue;
            }
            let msg: WeixinMessage = match serde_json::from_value(entry.message) {
                Ok(m) => m,
                Err(e) => {
                    self.dequeue(lease.as_deref(), &client_id).await?;
                    outcomes.insert(
                        client_id,
                        Outcome::Failed(Error::Store(rows::corrupt("an outbox entry", e))),
                    );
                    continue;
                }
            };
            // The lease checked again before the message leaves (and by
            // `send_message` after its pacing): a process stopped past its
            // lease learns it lost it here.
            lease = self.fenced().await?;
            match self.send_message(msg).await {
                Ok(message_id) => {
                    self.dequeue(lease.as_deref(), &client_id).await?;
                    governor.sent();
                    outcomes.insert(client_id, Outcome::Delivered(message_id));
                }
                Err(e) if e.is_retryable() => {
                    // Passing: the network, a 5xx.
                    let cause = Arc::new(e);
                    stop = Some(Stop::Wait(cause.clone()));
                    outcomes.insert(client_id, Outcome::Waiting(cause));
                }
                Err(e) if e.is_session_expired() => {
                    // This message fails loudly (its sender must know the
                    // bot is logged out); the rest wait for a new login.
                    self.dequeue(lease.as_deref(), &client_id).await?;
                    stop = Some(Stop::Wait(Arc::new(Error::SessionExpired {
                        account: self.id().clone(),
                    })));
                    outcomes.insert(client_id, Outcome::Failed(e));
                }
                Err(Error::Throttled { errmsg }) => {
                    let account_wide = governor::is_account_wide(errmsg.as_deref()) || {
                        match governor.refused(user) {
                            Some(others) => {
                                // They were refused for the account's rate,
                                // not for their conversations.
                                for other in others {
                                    self.store()
                                        .set_closed(self.id(), &other, false, u64::MAX)
                                        .await?;
                                }
                                true
                            }
                            None => false,
                        }
                    };
                    if account_wide {
                        self.start_cooldown();
                        let cause = Arc::new(Error::Throttled { errmsg });
                        stop = Some(Stop::Wait(cause.clone()));
                        outcomes.insert(client_id, Outcome::Waiting(cause));
                    } else {
                        tracing::warn!(
                            %user,
                            "the server refused a message in this conversation (ret -2); \
                             closed until the user writes again"
                        );
                        self.store()
                            .set_closed(self.id(), user, true, as_of)
                            .await?;
                        self.dequeue(lease.as_deref(), &client_id).await?;
                        stop = Some(Stop::Closed(Refusal::Closed));
                        outcomes.insert(
                            client_id,
                            Outcome::Failed(Error::ConversationClosed {
                                user: user.clone(),
                                refusal: Refusal::Closed,
                            }),
                        );
                    }
                }
                Err(e) => {
                    // It can never go as it is (a refusal, an answer that
                    // does not decode).
                    self.dequeue(lease.as_deref(), &client_id).await?;
                    outcomes.insert(client_id, Outcome::Failed(e));
                }
            }
        }
        Ok(outcomes)
    }

    /// Holds every send of the account for the next cooldown: each in a row
    /// twice as long as the last, up to the configured longest.
    fn start_cooldown(&self) {
        let level = self.governor.next_cooldown_level();
        let longest = self.core.config.throttle_cooldown;
        let cooldown = FIRST_COOLDOWN
            .checked_mul(1u32 << level.min(16))
            .unwrap_or(longest)
            .min(longest);
        tracing::warn!(
            ?cooldown,
            "the account's sends are rate limited (ret -2); holding them for a cooldown"
        );
        self.pacer.penalise(Instant::now() + cooldown);
    }

    /// Sends one prepared message: paced, retried with the same `client_id`
    /// on retryable failures. It does not pass through the outbox; use
    /// [`Bot::send_text`](crate::Bot::send_text) and the other sends for that.
    ///
    /// # Errors
    ///
    /// [`Error::Throttled`] on `ret -2`, [`Error::SessionExpired`], or the
    /// last failure.
    pub(crate) async fn send_message(
        &self,
        msg: WeixinMessage,
    ) -> Result<Option<MessageId>, Error> {
        let handle = &self.core;
        let retry = self.core.config.send_retry;
        let started = Instant::now();
        let mut attempt = 1;
        loop {
            self.pacer.acquire().await;
            // The lease last, after any wait of the pacer or a retry: as
            // close to the request leaving as this layer gets.
            self.fenced().await?;
            let err = match handle
                .http
                .send_message(SendMessageRequest::new(msg.clone()))
                .await
            {
                Ok(resp) => {
                    handle.health.update(|h| h.messages_sent += 1);
                    return Ok(resp.message_id);
                }
                Err(e) => self.map_err(e),
            };
            let delay = match retry.next(attempt, started.elapsed()) {
                Some(delay) if err.is_retryable() => delay,
                _ => return Err(err),
            };
            tracing::warn!(
                attempt,
                ?delay,
                "send failed; retrying with the same client_id"
            );
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    /// How long the account's send cooldown lasts, if one runs: until then
    /// sends wait in the outbox instead of prolonging the server's penalty.
    pub(crate) fn throttled_for(&self) -> Option<Duration> {
        let until = self.pacer.penalty_until()?;
        let left = until.saturating_duration_since(Instant::now());
        (!left.is_zero()).then_some(left)
    }
}
