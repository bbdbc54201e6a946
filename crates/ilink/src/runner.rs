//! The runner: polls, hands each message to a handler (in order per
//! conversation, concurrently across conversations), acknowledges it once
//! handled, backs off on failures, and stops gracefully.
//!
//! In parts: this module is the poll loop (batches in, backoff, session
//! expiry, the stop); [`dispatch`] runs work per conversation; [`handler`]
//! is what handling one message means; [`acks`] groups the
//! acknowledgements of handlers that end together; [`events`] is what the
//! application is told.

mod acks;
mod dispatch;
mod events;
mod handler;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use ilink_proto::Cursor;

use self::acks::Acks;
use self::dispatch::Dispatcher;
use self::events::Listener;
pub use self::events::{BackoffReason, RunEvent};
use self::handler::{Delivery, Handling};
pub use self::handler::{Handler, HandlerFailure, HandlerFn, KeepPending, handler_fn};
use crate::Error;
use crate::client::Bot;
use crate::poller::Poller;

/// What happens when the session expires (`-14`) while running.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum OnSessionExpired {
    /// Stop and return [`Error::SessionExpired`] (the default).
    #[default]
    Stop,
    /// Wait until the store holds new credentials for the account (a QR
    /// login elsewhere), checking at this interval, then resume with
    /// `notifystart`.
    WaitForLogin(Duration),
}

/// A configured run of the poll loop, built by [`Bot::runner`].
#[must_use]
pub struct Runner {
    bot: Bot,
    concurrency: usize,
    queue_capacity: usize,
    shutdown_grace: Duration,
    on_expired: OnSessionExpired,
    listener: Option<Listener>,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("account", self.bot.id())
            .field("concurrency", &self.concurrency)
            .field("queue_capacity", &self.queue_capacity)
            .field("on_expired", &self.on_expired)
            .finish_non_exhaustive()
    }
}

impl Bot {
    /// A runner with options; [`run_until`](Self::run_until) runs one with
    /// the defaults.
    pub fn runner(&self) -> Runner {
        Runner {
            bot: self.clone(),
            concurrency: 16,
            queue_capacity: 256,
            shutdown_grace: Duration::from_secs(1),
            on_expired: OnSessionExpired::Stop,
            listener: None,
        }
    }

    /// Polls and handles messages until `shutdown` completes, then waits for
    /// running handlers, sends `notifystop`, and returns the final cursor.
    ///
    /// Dropping the returned future is the hard stop: unacknowledged messages
    /// are delivered again on the next start.
    ///
    /// # Errors
    ///
    /// [`Error::SessionExpired`] when the session expires; store errors.
    /// Transient failures are retried with backoff.
    pub async fn run_until<H, S>(&self, handler: H, shutdown: S) -> Result<Cursor, Error>
    where
        H: Handler,
        S: Future + Send,
    {
        self.runner().run_until(handler, shutdown).await
    }
}

impl Runner {
    /// How many handlers run at once across conversations (default 16).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// How many received messages may wait for or be in their handler at
    /// once (default 256). When that many are, the runner stops polling
    /// until one is done: a slow handler slows this account's polling, never
    /// grows memory. The waiting messages are in the store's inbox already.
    pub fn queue_capacity(mut self, n: usize) -> Self {
        self.queue_capacity = n.clamp(1, tokio::sync::Semaphore::MAX_PERMITS);
        self
    }

    /// How long a graceful stop waits for a poll already in flight (default
    /// 1 s). The server counts a batch as delivered once it answered, so an
    /// answer on its way when the stop comes is received, stored and handled
    /// rather than dropped with the connection. A poll still held after the
    /// grace is cut, and then the account's lease is not released but left
    /// to run out: the server may hold the cut poll a while, and another
    /// poller must not start beside it.
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }

    /// What to do when the session expires.
    pub fn on_session_expired(mut self, policy: OnSessionExpired) -> Self {
        self.on_expired = policy;
        self
    }

    /// Calls `f` with every [`RunEvent`].
    pub fn on_event(mut self, f: impl Fn(&RunEvent) + Send + Sync + 'static) -> Self {
        self.listener = Some(Arc::new(f));
        self
    }

    fn emit(&self, event: RunEvent) {
        if let Some(l) = &self.listener {
            l(&event);
        }
    }

    /// Runs until `shutdown` completes; see [`Bot::run_until`].
    ///
    /// # Errors
    ///
    /// As [`Bot::run_until`].
    pub async fn run_until<H, S>(self, handler: H, shutdown: S) -> Result<Cursor, Error>
    where
        H: Handler,
        S: Future + Send,
    {
        self.run_from(None, handler, shutdown).await
    }

    /// [`run_until`](Self::run_until) on a poller already made (its lease
    /// taken), else on a new one.
    pub(crate) async fn run_from<H, S>(
        self,
        poller: Option<Box<Poller>>,
        handler: H,
        shutdown: S,
    ) -> Result<Cursor, Error>
    where
        H: Handler,
        S: Future + Send,
    {
        let mut bot = self.bot.clone();
        let account_id = bot.id().clone();
        // Boxed: the run's state stays small while its poll is held.
        let mut poller = match poller {
            Some(p) => p,
            None => Box::new(Box::pin(bot.poller()).await?),
        };
        let mut dispatcher = Dispatcher::new(
            Handling {
                handler: Arc::new(handler),
                listener: self.listener.clone(),
                acks: Acks::default(),
            },
            self.concurrency,
            self.queue_capacity,
        );
        // Boxed, as every await below but the poll's: a future's state is
        // its largest await's, and each account's task holds it while its
        // poll is held.
        Box::pin(self.start(&bot)).await;
        let mut outbox = Some(crate::outbox::keep_sending(
            bot.outbox(),
            self.outbox_listener(),
        ));
        tokio::pin!(shutdown);
        let backoff = bot.shared().config.poll_retry;
        // When the failures in a row began.
        let mut failing_since = tokio::time::Instant::now();
        let mut failures = 0u32;
        let mut stopping = false;
        let mut quick_empties = 0u32;
        let mut cut_poll = false;
        let result = loop {
            if stopping {
                break Ok(());
            }
            let poll_started = tokio::time::Instant::now();
            let polled = {
                let poll = poller.next_batch();
                tokio::pin!(poll);
                tokio::select! {
                    biased;
                    _ = &mut shutdown => {
                        stopping = true;
                        // Let an answer already on its way arrive.
                        match tokio::time::timeout(self.shutdown_grace, &mut poll).await {
                            Ok(r) => r,
                            Err(_) => {
                                // The server may still hold the poll we cut:
                                // another poller must not start before it
                                // ended, so the lease is left to run out.
                                cut_poll = true;
                                break Ok(());
                            }
                        }
                    }
                    r = &mut poll => r,
                }
            };
            match polled {
                Ok(batch) => {
                    failures = 0;
                    failing_since = tokio::time::Instant::now();
                    // A long-poll is held until messages come; an empty answer
                    // at once, again and again (a gateway answering 524
                    // instantly, say), must not turn into a busy loop.
                    let held_for = poll_started.elapsed();
                    let quick = held_for < quick_empty_threshold(poller.timeout_hint());
                    if batch.messages.is_empty() && batch.malformed.is_empty() && quick {
                        quick_empties = quick_empties.saturating_add(1);
                    } else {
                        quick_empties = 0;
                    }
                    for update in batch.malformed {
                        self.emit(RunEvent::Malformed { update });
                    }
                    // Waits while the queue is full: backpressure on polling.
                    // A stop meanwhile leaves the rest of the batch in the
                    // inbox, for the next start. (Once `stopping`, the stop
                    // came during the last poll, whose answer is handled:
                    // `shutdown` is spent.) Boxed: not part of the state of
                    // a held poll.
                    let (bot, lease) = (poller.bot(), poller.lease_handle());
                    let deliveries = batch.messages.into_iter().map(|msg| {
                        let delivery = Delivery {
                            bot: bot.clone(),
                            lease: lease.clone(),
                            msg,
                        };
                        (delivery.msg.conversation().to_owned(), delivery)
                    });
                    let all_queued = Box::pin(
                        dispatcher
                            .dispatch_all(deliveries, (!stopping).then_some(shutdown.as_mut())),
                    )
                    .await;
                    if !all_queued {
                        stopping = true;
                    }
                    dispatcher.reap();
                    if quick_empties >= 3 && !stopping {
                        let delay = backoff.delay(quick_empties - 2);
                        self.emit(RunEvent::Backoff {
                            failures: quick_empties,
                            delay,
                            reason: BackoffReason::InstantEmptyAnswers,
                        });
                        tokio::select! {
                            biased;
                            _ = &mut shutdown => break Ok(()),
                            _ = Box::pin(tokio::time::sleep(delay)) => {}
                        }
                    }
                }
                Err(e) if stopping => {
                    // Stopping anyway: the failed last poll lost nothing.
                    tracing::debug!(error = %e.report(), "last poll before stopping failed");
                    break Ok(());
                }
                Err(e) if e.is_session_expired() => {
                    tracing::warn!(account = %ilink_proto::display_safe(account_id.as_str()), "session expired (-14)");
                    self.emit(RunEvent::SessionExpired {
                        account_id: account_id.clone(),
                    });
                    let OnSessionExpired::WaitForLogin(every) = self.on_expired else {
                        break Err(e);
                    };
                    let old = bot.raw().token().clone();
                    drop(poller);
                    // Nothing can go until a new login; what waits, waits.
                    drop(outbox.take());
                    let waited = tokio::select! {
                        biased;
                        _ = &mut shutdown => None,
                        c = Box::pin(wait_for_new_login(&bot, old, every)) => Some(c),
                    };
                    match waited {
                        None => {
                            return Ok(
                                Box::pin(self.finish_without_poller(&bot, &mut dispatcher)).await
                            );
                        }
                        Some(Err(e)) => {
                            Box::pin(dispatcher.drain()).await;
                            return Err(e);
                        }
                        Some(Ok(fresh)) => {
                            bot = fresh;
                            // A poller refused (another holder took the
                            // account meanwhile): the handlers still running
                            // finish and acknowledge first, as on every stop.
                            // (One boxed future: what it holds takes no room
                            // in every idle run's state.)
                            let polled = Box::pin(async {
                                let polled = bot.poller().await;
                                if polled.is_err() {
                                    dispatcher.drain().await;
                                }
                                polled
                            })
                            .await;
                            poller = Box::new(polled?);
                            self.emit(RunEvent::SessionRestored {
                                account_id: account_id.clone(),
                            });
                            Box::pin(self.start(&bot)).await;
                            outbox = Some(crate::outbox::keep_sending(
                                bot.outbox(),
                                self.outbox_listener(),
                            ));
                        }
                    }
                }
                Err(e) if e.is_lease_lost() => {
                    // Another poller has the account: not one more poll.
                    break Err(e);
                }
                Err(e) => {
                    if failures == 0 {
                        failing_since = poll_started;
                    }
                    failures = failures.saturating_add(1);
                    let Some(delay) = backoff.next(failures, failing_since.elapsed()) else {
                        tracing::warn!(failures, error = %e.report(), "polls failed past the retry policy; stopping");
                        break Err(e);
                    };
                    tracing::warn!(failures, ?delay, error = %e.report(), "poll failed; backing off");
                    self.emit(RunEvent::Backoff {
                        failures,
                        delay,
                        reason: BackoffReason::PollFailed(Arc::new(e)),
                    });
                    tokio::select! {
                        biased;
                        _ = &mut shutdown => break Ok(()),
                        _ = Box::pin(tokio::time::sleep(delay)) => {}
                    }
                }
            }
        };
        Box::pin(dispatcher.drain()).await;
        drop(outbox);
        bot.account.health.update(|h| h.polling = false);
        match result {
            Ok(()) => {
                if let Err(e) = Box::pin(bot.account.http.notify_stop()).await {
                    tracing::warn!(error = %crate::Report::new(&e), "notifystop failed");
                }
                let cursor = poller.cursor().clone();
                if cut_poll {
                    poller.abandon();
                } else if let Err(e) = Box::pin(poller.release()).await {
                    tracing::warn!(error = %e.report(), "could not release the lease; it runs out by itself");
                }
                self.emit(RunEvent::Stopped { account_id });
                Ok(cursor)
            }
            Err(e) => Err(e),
        }
    }

    /// Where the outbox task reports undeliverable messages: the log, and
    /// [`RunEvent::Undeliverable`].
    fn outbox_listener(&self) -> Arc<dyn Fn(&crate::Undeliverable) + Send + Sync> {
        let listener = self.listener.clone();
        Arc::new(move |lost: &crate::Undeliverable| {
            if let Some(l) = &listener {
                l(&RunEvent::Undeliverable(lost.clone()));
            }
        })
    }

    async fn start(&self, bot: &Bot) {
        bot.account.health.update(|h| h.polling = true);
        if let Err(e) = bot.account.http.notify_start().await {
            tracing::warn!(error = %crate::Report::new(&e), "notifystart failed");
        }
        tracing::info!(account = %ilink_proto::display_safe(bot.id().as_str()), "polling started");
        self.emit(RunEvent::Started {
            account_id: bot.id().clone(),
        });
    }

    async fn finish_without_poller<H: Handler>(
        &self,
        bot: &Bot,
        dispatcher: &mut Dispatcher<Handling<H>, Delivery>,
    ) -> Cursor {
        dispatcher.drain().await;
        bot.account.health.update(|h| h.polling = false);
        self.emit(RunEvent::Stopped {
            account_id: bot.id().clone(),
        });
        bot.store()
            .load_cursor(bot.id())
            .await
            .ok()
            .flatten()
            .unwrap_or_default()
    }
}

/// An empty poll answered faster than this was not held by the server.
fn quick_empty_threshold(hint: Option<Duration>) -> Duration {
    hint.map_or(Duration::from_secs(1), |h| {
        (h / 4).min(Duration::from_secs(1))
    })
}

async fn wait_for_new_login(
    bot: &Bot,
    old: ilink_proto::BotToken,
    every: Duration,
) -> Result<Bot, Error> {
    loop {
        let creds = bot.store().load_credentials(bot.id()).await?;
        if let Some(c) = creds
            && c.bot_token != old
        {
            // Its token goes only to its own origin.
            return bot.client().stored_bot(&c);
        }
        tokio::time::sleep(every).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_instant_empty_answer_is_a_quarter_of_the_poll_timeout_at_most_a_second() {
        assert_eq!(quick_empty_threshold(None), Duration::from_secs(1));
        assert_eq!(
            quick_empty_threshold(Some(Duration::from_secs(35))),
            Duration::from_secs(1)
        );
        assert_eq!(
            quick_empty_threshold(Some(Duration::from_secs(2))),
            Duration::from_millis(500)
        );
    }
}
