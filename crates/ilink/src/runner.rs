//! The runner: polls, hands each message to a handler (in order per
//! conversation, concurrently across conversations), acknowledges it once
//! handled, backs off on failures, and stops gracefully.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ilink_proto::ContextToken;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::Error;
use crate::client::Client;
use crate::error::BoxError;
use crate::message::Message;
use crate::send::SendText;

/// Handles inbound messages.
///
/// Implement it for a type, or wrap a closure with [`handler_fn`]. An error
/// or a panic is logged; the message is acknowledged either way (a message
/// that always fails must not be redelivered forever), and the loop goes on.
pub trait Handler: Send + Sync + 'static {
    /// Handles one message.
    fn handle(
        &self,
        ctx: Context,
        msg: Message,
    ) -> impl Future<Output = Result<(), BoxError>> + Send;
}

/// A [`Handler`] from a closure; see [`handler_fn`].
#[derive(Clone, Copy, Debug)]
pub struct HandlerFn<F>(F);

/// Wraps an async closure as a [`Handler`].
///
/// ```no_run
/// # async fn demo(client: ilink::Client) -> Result<(), ilink::Error> {
/// use ilink::handler_fn;
///
/// let echo = handler_fn(|ctx: ilink::Context, msg: ilink::Message| async move {
///     ctx.reply(msg.text()).await?;
///     Ok(())
/// });
/// client.run_until(echo, tokio::signal::ctrl_c()).await?;
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

/// What a handler gets besides the message: the client of the account and
/// the conversation to reply to. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Context {
    client: Client,
    user_id: String,
    context_token: Option<ContextToken>,
}

impl Context {
    /// The context of a message.
    pub fn new(client: Client, msg: &Message) -> Self {
        Self {
            client,
            user_id: msg.sender().to_owned(),
            context_token: msg.context_token().cloned(),
        }
    }

    /// The client of the account that received the message.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The sender.
    pub fn user_id(&self) -> &str {
        &self.user_id
    }

    /// The message's context token.
    pub fn context_token(&self) -> Option<&ContextToken> {
        self.context_token.as_ref()
    }

    /// Replies with text (chunked when long), carrying the message's context
    /// token.
    pub fn reply(&self, text: impl Into<String>) -> SendText {
        let send = self.client.send_text(self.user_id.clone(), text);
        match &self.context_token {
            Some(t) => send.context_token(t.clone()),
            None => send,
        }
    }
}

impl Client {
    /// Replies to a message with text, carrying its context token.
    pub fn reply(&self, msg: &Message, text: impl Into<String>) -> SendText {
        Context::new(self.clone(), msg).reply(text)
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
        account_id: String,
    },
    /// The session expired (`-14`).
    SessionExpired {
        /// The account.
        account_id: String,
    },
    /// New credentials were found after an expiry; polling resumes.
    SessionRestored {
        /// The account.
        account_id: String,
    },
    /// A batch element was not a valid message.
    Malformed {
        /// Why it did not decode.
        error: String,
    },
    /// A poll failed; the next one waits.
    Backoff {
        /// Failures in a row.
        failures: u32,
        /// The wait.
        delay: Duration,
        /// The failure, described without secrets.
        error: String,
    },
    /// A handler failed or panicked (the message was acknowledged).
    HandlerFailed {
        /// The message's key.
        key: String,
        /// What happened.
        error: String,
    },
    /// Polling stopped (after `notifystop`).
    Stopped {
        /// The account.
        account_id: String,
    },
}

type Listener = Arc<dyn Fn(&RunEvent) + Send + Sync>;

/// A configured run of the poll loop, built by [`Client::runner`].
#[must_use]
pub struct Runner {
    client: Client,
    concurrency: usize,
    shutdown_grace: Duration,
    on_expired: OnSessionExpired,
    listener: Option<Listener>,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("account", &self.client.account_id())
            .field("concurrency", &self.concurrency)
            .field("on_expired", &self.on_expired)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A runner with options; [`run_until`](Self::run_until) runs one with
    /// the defaults.
    pub fn runner(&self) -> Runner {
        Runner {
            client: self.clone(),
            concurrency: 16,
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
    /// [`Error::SessionExpired`] when the session expires; store and
    /// credential errors. Transient failures are retried with backoff.
    pub async fn run_until<H, S>(&self, handler: H, shutdown: S) -> Result<String, Error>
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

    /// How long a graceful stop waits for a poll already in flight (default
    /// 1 s). The server counts a batch as delivered once it answered, so an
    /// answer on its way when the stop comes is received, stored and handled
    /// rather than dropped with the connection.
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

    /// Runs until `shutdown` completes; see [`Client::run_until`].
    ///
    /// # Errors
    ///
    /// As [`Client::run_until`].
    pub async fn run_until<H, S>(self, handler: H, shutdown: S) -> Result<String, Error>
    where
        H: Handler,
        S: Future + Send,
    {
        let mut client = self.client.clone();
        let account_id = client.handle()?.id.clone();
        let mut poller = Box::pin(client.poller()).await?;
        let handler = Arc::new(handler);
        let mut dispatcher = Dispatcher::new(handler, self.concurrency, self.listener.clone());
        // Boxed, as every await below but the poll's: a future's state is
        // its largest await's, and each account's task holds it while its
        // poll is held.
        Box::pin(self.start(&client, &account_id)).await;
        tokio::pin!(shutdown);
        let backoff = client.shared.config.poll_backoff;
        let mut failures = 0u32;
        let mut stopping = false;
        let mut quick_empties = 0u32;
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
                            Err(_) => break Ok(()),
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
                    for m in &batch.malformed {
                        self.emit(RunEvent::Malformed {
                            error: m.error.clone(),
                        });
                    }
                    for msg in batch.messages {
                        dispatcher.dispatch(poller.client(), msg);
                    }
                    dispatcher.reap();
                    if quick_empties >= 3 {
                        let delay = backoff.delay(quick_empties - 2);
                        self.emit(RunEvent::Backoff {
                            failures: quick_empties,
                            delay,
                            error: "empty long-poll answers came back at once".to_owned(),
                        });
                        tokio::select! {
                            biased;
                            _ = &mut shutdown => break Ok(()),
                            _ = tokio::time::sleep(delay) => {}
                        }
                    }
                }
                Err(e) if stopping => {
                    // Stopping anyway: the failed last poll lost nothing.
                    tracing::debug!(error = %crate::health::describe(&e), "last poll before stopping failed");
                    break Ok(());
                }
                Err(e) if e.is_session_expired() => {
                    tracing::warn!(account = %account_id, "session expired (-14)");
                    self.emit(RunEvent::SessionExpired {
                        account_id: account_id.clone(),
                    });
                    let OnSessionExpired::WaitForLogin(every) = self.on_expired else {
                        break Err(e);
                    };
                    let old = client.handle()?.http.token().clone();
                    drop(poller);
                    let waited = tokio::select! {
                        biased;
                        _ = &mut shutdown => None,
                        c = Box::pin(wait_for_new_login(&client, &account_id, old, every)) => Some(c),
                    };
                    match waited {
                        None => {
                            return Ok(Box::pin(self.finish_without_poller(
                                &client,
                                &mut dispatcher,
                                &account_id,
                            ))
                            .await);
                        }
                        Some(Err(e)) => {
                            Box::pin(dispatcher.drain()).await;
                            return Err(e);
                        }
                        Some(Ok(fresh)) => {
                            client = fresh;
                            poller = Box::pin(client.poller()).await?;
                            self.emit(RunEvent::SessionRestored {
                                account_id: account_id.clone(),
                            });
                            Box::pin(self.start(&client, &account_id)).await;
                        }
                    }
                }
                Err(e) => {
                    failures = failures.saturating_add(1);
                    let delay = backoff.delay(failures);
                    let error = crate::health::describe(&e);
                    tracing::warn!(failures, ?delay, %error, "poll failed; backing off");
                    self.emit(RunEvent::Backoff {
                        failures,
                        delay,
                        error,
                    });
                    tokio::select! {
                        biased;
                        _ = &mut shutdown => break Ok(()),
                        _ = tokio::time::sleep(delay) => {}
                    }
                }
            }
        };
        Box::pin(dispatcher.drain()).await;
        let handle = client.handle()?;
        handle.health.update(|h| h.polling = false);
        match result {
            Ok(()) => {
                if let Err(e) = Box::pin(handle.http.notify_stop()).await {
                    tracing::warn!(error = %crate::health::describe(&e), "notifystop failed");
                }
                self.emit(RunEvent::Stopped { account_id });
                Ok(poller.cursor().to_owned())
            }
            Err(e) => Err(e),
        }
    }

    async fn start(&self, client: &Client, account_id: &str) {
        if let Ok(handle) = client.handle() {
            handle.health.update(|h| h.polling = true);
            if let Err(e) = handle.http.notify_start().await {
                tracing::warn!(error = %crate::health::describe(&e), "notifystart failed");
            }
        }
        tracing::info!(account = %account_id, "polling started");
        self.emit(RunEvent::Started {
            account_id: account_id.to_owned(),
        });
    }

    async fn finish_without_poller<H: Handler>(
        &self,
        client: &Client,
        dispatcher: &mut Dispatcher<H>,
        account_id: &str,
    ) -> String {
        dispatcher.drain().await;
        if let Ok(h) = client.handle() {
            h.health.update(|h| h.polling = false);
        }
        self.emit(RunEvent::Stopped {
            account_id: account_id.to_owned(),
        });
        let id = account_id.to_owned();
        client
            .blocking(move |s| s.load_cursor(&id))
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
    client: &Client,
    account_id: &str,
    old: ilink_proto::BotToken,
    every: Duration,
) -> Result<Client, Error> {
    loop {
        let id = account_id.to_owned();
        let creds = client.blocking(move |s| s.load_credentials(&id)).await?;
        if let Some(c) = creds
            && c.bot_token != old
        {
            return Ok(client.with_credentials(&c));
        }
        tokio::time::sleep(every).await;
    }
}

/// Runs handlers: in order within a conversation, concurrently across
/// conversations, at most `concurrency` at once.
struct Dispatcher<H> {
    handler: Arc<H>,
    permits: Arc<Semaphore>,
    queues: Arc<Mutex<HashMap<String, VecDeque<Message>>>>,
    tasks: JoinSet<()>,
    listener: Option<Listener>,
}

impl<H: Handler> Dispatcher<H> {
    fn new(handler: Arc<H>, concurrency: usize, listener: Option<Listener>) -> Self {
        Self {
            handler,
            permits: Arc::new(Semaphore::new(concurrency)),
            queues: Arc::new(Mutex::new(HashMap::new())),
            tasks: JoinSet::new(),
            listener,
        }
    }

    fn dispatch(&mut self, client: &Client, msg: Message) {
        let conv = msg.conversation().to_owned();
        {
            let mut queues = self.queues.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(queue) = queues.get_mut(&conv) {
                // A worker is running for this conversation; it will get to it.
                queue.push_back(msg);
                return;
            }
            queues.insert(conv.clone(), VecDeque::from([msg]));
        }
        let worker = Worker {
            conv,
            client: client.clone(),
            handler: self.handler.clone(),
            permits: self.permits.clone(),
            queues: self.queues.clone(),
            listener: self.listener.clone(),
        };
        self.tasks.spawn(worker.run());
    }

    fn reap(&mut self) {
        while self.tasks.try_join_next().is_some() {}
    }

    async fn drain(&mut self) {
        while self.tasks.join_next().await.is_some() {}
    }
}

struct Worker<H> {
    conv: String,
    client: Client,
    handler: Arc<H>,
    permits: Arc<Semaphore>,
    queues: Arc<Mutex<HashMap<String, VecDeque<Message>>>>,
    listener: Option<Listener>,
}

impl<H: Handler> Worker<H> {
    async fn run(self) {
        loop {
            let next = {
                let mut queues = self.queues.lock().unwrap_or_else(|p| p.into_inner());
                let Some(queue) = queues.get_mut(&self.conv) else {
                    return;
                };
                match queue.pop_front() {
                    Some(m) => m,
                    None => {
                        // Removing the entry under the lock means the next
                        // message of this conversation starts a new worker.
                        queues.remove(&self.conv);
                        return;
                    }
                }
            };
            let Ok(permit) = self.permits.clone().acquire_owned().await else {
                return;
            };
            self.handle_one(next).await;
            drop(permit);
        }
    }

    async fn handle_one(&self, msg: Message) {
        let key = msg.key().to_owned();
        let ctx = Context::new(self.client.clone(), &msg);
        let handler = self.handler.clone();
        let ack_copy = msg.clone();
        // A task of its own, so that a panic is caught as a JoinError.
        let outcome = tokio::spawn(async move { handler.handle(ctx, msg).await }).await;
        let failure = match outcome {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(crate::health::describe(e.as_ref())),
            Err(join) if join.is_panic() => Some("handler panicked".to_owned()),
            Err(join) => Some(format!("handler task ended: {join}")),
        };
        if let Some(error) = failure {
            tracing::warn!(%key, %error, "handler failed; acknowledging the message anyway");
            if let Some(l) = &self.listener {
                l(&RunEvent::HandlerFailed {
                    key: key.clone(),
                    error,
                });
            }
        }
        if let Err(e) = crate::poller::ack(&self.client, &ack_copy).await {
            tracing::error!(%key, error = %crate::health::describe(&e), "ack failed; the message will be delivered again after a restart");
        }
    }
}
