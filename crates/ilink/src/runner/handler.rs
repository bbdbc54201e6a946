//! Handlers, and what handling one message means: a [`Context`], a caught
//! panic, then the message kept pending or acknowledged.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt;

use super::acks::{Acks, Commit};
use super::dispatch::Work;
use super::events::{Listener, RunEvent};
use crate::Error;
use crate::client::Bot;
use crate::context::Context;
use crate::error::BoxError;
use crate::message::Message;
use crate::store::Lease;

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
/// bot.run_until(echo, ilink::shutdown_signal()).await?;
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

/// A received message, with the account it came to and the lease of the
/// poller that received it (its acknowledgement is fenced by it).
pub(crate) struct Delivery {
    pub(crate) bot: Bot,
    pub(crate) lease: Arc<Lease>,
    pub(crate) msg: Message,
}

/// Runs a handler on each [`Delivery`], then acknowledges it (grouped with
/// the others that end meanwhile) or leaves it pending.
pub(crate) struct Handling<H> {
    pub(crate) handler: Arc<H>,
    pub(crate) listener: Option<Listener>,
    pub(crate) acks: Acks,
}

impl Commit for Bot {
    fn commit<'a>(
        &'a self,
        lease: &'a Lease,
        keys: &'a [String],
    ) -> impl Future<Output = Result<(), Error>> + Send + 'a {
        self.ack_many(lease, keys)
    }
}

impl<H: Handler> Work<Delivery> for Handling<H> {
    fn run(&self, delivery: Delivery) -> impl Future<Output = ()> + Send {
        self.handle(delivery)
    }
}

impl<H: Handler> Handling<H> {
    async fn handle(&self, Delivery { bot, lease, msg }: Delivery) {
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
        self.acks.ack(&bot, &lease, key).await;
    }
}
