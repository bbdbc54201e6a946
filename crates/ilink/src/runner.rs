//! The runner: polls, hands each message to a handler (in order per
//! conversation, concurrently across conversations), acknowledges it once
//! handled, backs off on failures, and stops gracefully.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::FutureExt;
use ilink_proto::{AccountId, Cursor, MalformedUpdate};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

use crate::Error;
use crate::client::Bot;
use crate::context::Context;
use crate::error::BoxError;
use crate::message::Message;
use crate::poller::Poller;
use crate::sync::lock;

/// Handles inbound messages.
///
/// Implement it for a type, or wrap a closure with [`handler_fn`]. An error
/// or a panic is logged and reported ([`RunEvent::HandlerFailed`]); the
/// message is acknowledged either way (a message
/// that always fails must not be redelivered forever), and the loop goes on
/// — except for a [`KeepPending`] error, which leaves the message in the
/// inbox, and for a handler one of whose sends through its [`Context`]
/// failed inside the SDK (the store after its retries, a lost lease, an
/// expired session, the transport): that failure is not the handler's, and
/// the message stays pending too, to be handled again with the same reply
/// ids.
pub trait Handler: Send + Sync + 'static {
    /// Handles one message.
    fn handle(
        &self,
        ctx: Context,
        msg: Message,
    ) -> impl Future<Output = Result<(), BoxError>> + Send;
}

/// One handler shared by several runs (a [`Cluster`](crate::Cluster) runs
/// one per account).
impl<H: Handler> Handler for Arc<H> {
    fn handle(
        &self,
        ctx: Context,
        msg: Message,
    ) -> impl Future<Output = Result<(), BoxError>> + Send {
        H::handle(self, ctx, msg)
    }
}

/// A [`Handler`] from a closure; see [`handler_fn`].
#[derive(Clone, Copy, Debug)]
pub struct HandlerFn<F>(F);

/// Wraps an async closure as a [`Handler`].
///
/// ```no_run
/// # async fn demo(bot: ilink::Bot) -> Result<(), ilink::Error> {
/// use ilink::handler_fn;
///
/// let echo = handler_fn(|ctx: ilink::Context, msg: ilink::Message| async move {
///     ctx.reply(msg.text()).await?;
///     Ok(())
/// });
/// bot.run_until(echo, tokio::signal::ctrl_c()).await?;
/// # Ok(()) }
/// ```
pub fn handler_fn<F, Fut>(f: F) -> HandlerFn<F>
where
    F: Fn(Context, Message) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), BoxError>> + Send + 'static,
{
    HandlerFn(f)
}

impl<F, Fut> Handler for HandlerFn<F>
where
    F: Fn(Context, Message) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), BoxError>> + Send + 'static,
{
    fn handle(
        &self,
        ctx: Context,
        msg: Message,
    ) -> impl Future<Output = Result<(), BoxError>> + Send {
        (self.0)(ctx, msg)
    }
}

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

/// Something the runner wants the application to know.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum RunEvent {
    /// Polling started (after `notifystart`).
    Started {
        /// The account.
        account_id: AccountId,
    },
    /// The session expired (`-14`).
    SessionExpired {
        /// The account.
        account_id: AccountId,
    },
    /// New credentials were found after an expiry; polling resumes.
    SessionRestored {
        /// The account.
        account_id: AccountId,
    },
    /// A batch element was not a valid message (its `Debug` shows no
    /// content).
    Malformed {
        /// The element and why it did not decode.
        update: MalformedUpdate,
    },
    /// Polling pauses before the next poll.
    Backoff {
        /// Failures (or instant empty answers) in a row.
        failures: u32,
        /// The wait.
        delay: Duration,
        /// Why.
        reason: BackoffReason,
    },
    /// A handler failed or panicked (the message was acknowledged, unless
    /// the error was [`KeepPending`] or one of its sends failed inside the
    /// SDK).
    HandlerFailed {
        /// The message's key.
        key: String,
        /// What happened.
        failure: HandlerFailure,
    },
    /// A queued reply can never go (its conversation closed, the server
    /// refused it); it left the outbox.
    Undeliverable(crate::Undeliverable),
    /// Polling stopped (after `notifystop`).
    Stopped {
        /// The account.
        account_id: AccountId,
    },
}

/// Why the runner backs off.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum BackoffReason {
    /// The poll failed.
    PollFailed(Arc<Error>),
    /// Empty long-poll answers came back at once, again and again (a gateway
    /// answering without holding the poll).
    InstantEmptyAnswers,
}

impl std::fmt::Display for BackoffReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::PollFailed(e) => write!(f, "poll failed: {}", e.report()),
            Self::InstantEmptyAnswers => f.write_str("empty long-poll answers came back at once"),
        }
    }
}

/// The error a handler returns to leave its message unacknowledged: it
/// stays in the store's inbox and is delivered again when a poller next
/// starts for the account (after a restart), never lost. For work that
/// must not be skipped, such as saving a message's media when the disk is
/// full. The failure is reported like any other
/// ([`RunEvent::HandlerFailed`]); the runner goes on with other messages.
///
/// ```no_run
/// # async fn save(_: &ilink::Message) -> std::io::Result<()> { Ok(()) }
/// let handler = ilink::handler_fn(|_ctx, msg: ilink::Message| async move {
///     if let Err(e) = save(&msg).await {
///         return Err(ilink::KeepPending::because(e).into());
///     }
///     Ok(())
/// });
/// # let _ = handler;
/// ```
#[derive(Debug, thiserror::Error)]
#[error("left pending: {source}")]
pub struct KeepPending {
    #[source]
    source: BoxError,
}

impl KeepPending {
    /// Leaves the message pending, for this reason.
    pub fn because(reason: impl Into<BoxError>) -> Self {
        Self {
            source: reason.into(),
        }
    }
}

/// How a handler failed.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum HandlerFailure {
    /// It returned this error.
    Error(Arc<dyn std::error::Error + Send + Sync + 'static>),
    /// It panicked (the panic's message went to the panic hook, as usual).
    Panicked,
}

impl std::fmt::Display for HandlerFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Error(e) => write!(f, "{}", crate::Report::new(e.as_ref())),
            Self::Panicked => f.write_str("handler panicked"),
        }
    }
}

type Listener = Arc<dyn Fn(&RunEvent) + Send + Sync>;

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
        self.queue_capacity = n.clamp(1, Semaphore::MAX_PERMITS);
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
            Arc::new(handler),
            self.concurrency,
            self.queue_capacity,
            self.listener.clone(),
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
        let backoff = bot.shared().config.poll_backoff;
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
                    let all_queued = Box::pin(dispatcher.dispatch_all(
                        poller.bot(),
                        poller.lease_handle(),
                        batch.messages,
                        (!stopping).then_some(shutdown.as_mut()),
                    ))
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
                    failures = failures.saturating_add(1);
                    let delay = backoff.delay(failures);
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
        dispatcher: &mut Dispatcher<H>,
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

/// Runs handlers: in order within a conversation, concurrently across
/// conversations, at most `concurrency` at once, with at most
/// `queue_capacity` messages queued or running.
///
/// One task runs a conversation's queue until it is empty; a message joins
/// the queue of its conversation's running task, or starts one.
struct Dispatcher<H> {
    shared: Arc<DispatchShared<H>>,
    queued: Arc<Semaphore>,
    tasks: JoinSet<()>,
}

struct DispatchShared<H> {
    handler: Arc<H>,
    running: Arc<Semaphore>,
    queues: Mutex<HashMap<String, VecDeque<Queued>>>,
    listener: Option<Listener>,
    acks: Acks,
}

/// The acknowledgements of handlers that ended, committed in groups: the
/// first to arrive commits at once, and whatever arrives while its
/// transaction runs goes together in the next one (a group commit: no wait
/// when the runner is quiet, one transaction and one fsync for many
/// messages when it is busy). Each handler's task waits until its own
/// acknowledgement was written (or failed), as if it had written it alone.
#[derive(Default)]
struct Acks {
    queue: Mutex<AckQueue>,
}

#[derive(Default)]
struct AckQueue {
    waiting: Vec<PendingAck>,
    /// A task is committing: new acknowledgements wait for it.
    committing: bool,
}

struct PendingAck {
    lease: Arc<crate::store::Lease>,
    key: String,
    /// Tells the waiting task its acknowledgement is done (`Done`) or that
    /// it commits the next group itself (`Commit`). `None` for the task
    /// that commits.
    turn: Option<tokio::sync::oneshot::Sender<AckTurn>>,
}

enum AckTurn {
    Done,
    Commit,
}

/// While a task commits, or waits with the turn to commit perhaps handed to
/// it: if it is dropped there (its runner aborted), the turn goes to a task
/// that waits, or the commit ends so that the next acknowledgement commits
/// at once. (The group it was committing stays pending and comes again
/// after a restart.)
struct Turn<'a> {
    acks: &'a Acks,
    /// Committing now.
    committing: bool,
    /// Waiting for this.
    waiting: Option<tokio::sync::oneshot::Receiver<AckTurn>>,
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        // Closed first: a turn handed from now on is refused (and goes to
        // another task), one handed before is in the channel.
        let handed = self.waiting.as_mut().is_some_and(|w| {
            w.close();
            matches!(w.try_recv(), Ok(AckTurn::Commit))
        });
        if self.committing || handed {
            lock(&self.acks.queue).hand_over();
        }
    }
}

impl AckQueue {
    /// The committing task is done: the turn goes to the first task that
    /// waits and can still take it, else the commit ends. Acknowledgements
    /// left by tasks that are gone stay in the queue for the next commit.
    fn hand_over(&mut self) {
        for p in &mut self.waiting {
            if let Some(t) = p.turn.take()
                && t.send(AckTurn::Commit).is_ok()
            {
                return;
            }
        }
        self.committing = false;
    }
}

impl Acks {
    /// Acknowledges `key` under `lease`, with whatever else waits.
    async fn ack(&self, bot: &Bot, lease: &Arc<crate::store::Lease>, key: String) {
        let (tell, told) = tokio::sync::oneshot::channel();
        let mut turn = Turn {
            acks: self,
            committing: false,
            waiting: None,
        };
        {
            let mut q = lock(&self.queue);
            turn.committing = !q.committing;
            q.committing = true;
            q.waiting.push(PendingAck {
                lease: lease.clone(),
                key,
                turn: (!turn.committing).then_some(tell),
            });
        }
        if !turn.committing {
            let told = turn.waiting.insert(told);
            let t = told.await;
            turn.waiting = None;
            match t {
                Ok(AckTurn::Commit) => turn.committing = true,
                Ok(AckTurn::Done) => return,
                Err(_) => {
                    // The task committing it was dropped or panicked.
                    tracing::error!(
                        "an acknowledgement was abandoned; the message will be delivered again after a restart"
                    );
                    return;
                }
            }
        }
        let mut group = std::mem::take(&mut lock(&self.queue).waiting);
        // One transaction per lease (a runner's messages share one).
        while !group.is_empty() {
            let lease = group[0].lease.clone();
            let (same, rest): (Vec<_>, Vec<_>) = group
                .into_iter()
                .partition(|p| p.lease.epoch == lease.epoch && p.lease.holder == lease.holder);
            group = rest;
            let keys: Vec<String> = same.iter().map(|p| p.key.clone()).collect();
            if let Err(e) = Box::pin(bot.ack_many(&lease, &keys)).await {
                tracing::error!(
                    messages = keys.len(),
                    error = %e.report(),
                    "ack failed; the messages will be delivered again after a restart"
                );
            }
            for p in same {
                if let Some(t) = p.turn {
                    let _ = t.send(AckTurn::Done);
                }
            }
        }
        // The next group is another task's to commit (this one's handler
        // ended: it goes back to its conversation).
        turn.committing = false;
        lock(&self.queue).hand_over();
    }
}

/// A message with its place in the queue bound.
struct Queued {
    msg: Message,
    /// The lease of the poller that received it: its acknowledgement is
    /// fenced by it.
    lease: Arc<crate::store::Lease>,
    _slot: OwnedSemaphorePermit,
}

impl<H: Handler> Dispatcher<H> {
    fn new(
        handler: Arc<H>,
        concurrency: usize,
        queue_capacity: usize,
        listener: Option<Listener>,
    ) -> Self {
        Self {
            shared: Arc::new(DispatchShared {
                handler,
                running: Arc::new(Semaphore::new(concurrency)),
                queues: Mutex::new(HashMap::new()),
                listener,
                acks: Acks::default(),
            }),
            queued: Arc::new(Semaphore::new(queue_capacity)),
            tasks: JoinSet::new(),
        }
    }

    /// Queues a message, waiting while the queue is full.
    async fn dispatch(&mut self, bot: &Bot, lease: Arc<crate::store::Lease>, msg: Message) {
        let Ok(slot) = self.queued.clone().acquire_owned().await else {
            return;
        };
        let conv = msg.conversation().to_owned();
        let item = Queued {
            msg,
            lease,
            _slot: slot,
        };
        {
            let mut queues = self.shared.queues.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(queue) = queues.get_mut(&conv) {
                // A task is running this conversation; it will get to it.
                queue.push_back(item);
                return;
            }
            queues.insert(conv.clone(), VecDeque::from([item]));
        }
        let shared = self.shared.clone();
        let bot = bot.clone();
        self.tasks.spawn(shared.run_conversation(bot, conv));
    }

    /// Queues every message in order; `false` when `shutdown` came first
    /// (the rest stay in the inbox).
    async fn dispatch_all<S: Future>(
        &mut self,
        bot: &Bot,
        lease: Arc<crate::store::Lease>,
        messages: Vec<Message>,
        mut shutdown: Option<std::pin::Pin<&mut S>>,
    ) -> bool {
        for msg in messages {
            match shutdown.as_mut() {
                None => self.dispatch(bot, lease.clone(), msg).await,
                Some(stop) => {
                    tokio::select! {
                        biased;
                        _ = stop => return false,
                        () = self.dispatch(bot, lease.clone(), msg) => {}
                    }
                }
            }
        }
        true
    }

    fn reap(&mut self) {
        while self.tasks.try_join_next().is_some() {}
    }

    async fn drain(&mut self) {
        while self.tasks.join_next().await.is_some() {}
    }
}

impl<H: Handler> DispatchShared<H> {
    async fn run_conversation(self: Arc<Self>, bot: Bot, conv: String) {
        loop {
            let next = {
                let mut queues = self.queues.lock().unwrap_or_else(|p| p.into_inner());
                let Some(queue) = queues.get_mut(&conv) else {
                    return;
                };
                match queue.pop_front() {
                    Some(m) => m,
                    None => {
                        // Removing the entry under the lock means the next
                        // message of this conversation starts a new task.
                        queues.remove(&conv);
                        return;
                    }
                }
            };
            let Ok(permit) = self.running.clone().acquire_owned().await else {
                return;
            };
            self.handle_one(&bot, &next.lease, next.msg).await;
            drop(permit);
            // `next._slot` goes here: a place in the queue frees up.
        }
    }

    async fn handle_one(&self, bot: &Bot, lease: &Arc<crate::store::Lease>, msg: Message) {
        let key = msg.key().to_owned();
        let ctx = Context::new(bot.clone(), &msg);
        let ids = ctx.reply_ids();
        // A panic is caught here, in this task, and acknowledged as a
        // failure like an error.
        let outcome = AssertUnwindSafe(self.handler.handle(ctx, msg))
            .catch_unwind()
            .await;
        let mut keep = false;
        let failure = match outcome {
            Ok(Ok(())) => None,
            Ok(Err(e)) => {
                // A reply that failed inside the SDK (its store after its
                // retries, a lost lease, an expired session) is not the
                // handler's failure: the message stays pending, to be
                // handled again (after a restart, or by the process that
                // holds the account now), never acknowledged without its
                // reply.
                keep = e.downcast_ref::<KeepPending>().is_some() || ids.sdk_failed();
                Some(HandlerFailure::Error(Arc::from(e)))
            }
            Err(_panic) => Some(HandlerFailure::Panicked),
        };
        if let Some(failure) = failure {
            if keep {
                tracing::warn!(key = %ilink_proto::display_safe(&key), error = %failure, "handler failed; the message stays pending");
            } else {
                tracing::warn!(key = %ilink_proto::display_safe(&key), error = %failure, "handler failed; acknowledging the message anyway");
            }
            if let Some(l) = &self.listener {
                let event = RunEvent::HandlerFailed {
                    key: key.clone(),
                    failure,
                };
                // A listener that panics must not end this conversation's
                // task (its queue would wait for it for ever): the
                // message is acknowledged all the same.
                if std::panic::catch_unwind(AssertUnwindSafe(|| l(&event))).is_err() {
                    tracing::error!(key = %ilink_proto::display_safe(&key), "the runner's event listener panicked");
                }
            }
        }
        if keep {
            return;
        }
        self.acks.ack(bot, lease, key).await;
    }
}
