//! An agent's tool-call progress: "started" and "finished" items.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;

use ilink_proto::{ContextToken, MessageItem};

use crate::Error;
use crate::outbox::{Outbox, Sent, Target};

/// A tool-call progress send, built by
/// [`Bot::tool_call_start`](crate::Bot::tool_call_start),
/// [`Bot::tool_call_result`](crate::Bot::tool_call_result) or the same
/// methods of [`Context`](crate::Context); `.await` it.
///
/// The item goes out as its own message through the same outbox, paced and
/// retried, as text, with the user's cached context token unless one is
/// given; it counts against the conversation's reply budget.
#[must_use = "a send does nothing until awaited"]
#[derive(Debug)]
pub struct SendToolCall {
    outbox: Arc<Outbox>,
    target: Target,
    item: MessageItem,
}

impl SendToolCall {
    pub(crate) fn new(
        outbox: Arc<Outbox>,
        target: Target,
        mut item: MessageItem,
        completed: bool,
    ) -> Self {
        // As the official client: creation time, and whether the call ended.
        item.create_time_ms = i64::try_from(crate::store::now_ms()).ok();
        item.is_completed = Some(completed);
        Self {
            outbox,
            target,
            item,
        }
    }

    /// Uses this context token instead of the cached one.
    pub fn context_token(mut self, token: ContextToken) -> Self {
        self.target.context_token = Some(token);
        self
    }
}

impl IntoFuture for SendToolCall {
    type Output = Result<Sent, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            if self.target.to.is_empty() {
                return Err(Error::NoRecipient);
            }
            let mut sent = self.outbox.send(self.target, vec![self.item]).await?;
            // One item in, one message out (send_items fails otherwise).
            Ok(sent.remove(0))
        })
    }
}
