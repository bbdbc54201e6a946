//! Sending text (chunked). Every send goes through the outbox
//! ([`crate::outbox`]).

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;

use ilink_proto::{ContextToken, MessageItem};

use crate::Error;
use crate::outbox::{Outbox, Sent, Target};

/// A text send, built by [`Bot::send_text`](crate::Bot::send_text) or
/// [`Context::reply`](crate::Context::reply); `.await` it.
///
/// Long text is split into several messages (at line and sentence breaks,
/// 2000 characters by default), sent in order, each with its own `client_id`.
/// All of them count against the conversation's reply budget, checked up
/// front: when it cannot hold them all, nothing is sent
/// ([`Error::ConversationClosed`] with
/// [`Refusal::BudgetExhausted`](crate::store::Refusal::BudgetExhausted)
/// saying how many are left). A failure that cannot pass stops the rest:
/// [`Error::Partial`] says how many went out.
#[must_use = "a send does nothing until awaited"]
pub struct SendText {
    outbox: Arc<Outbox>,
    target: Target,
    text: String,
    chunk_chars: usize,
}

impl std::fmt::Debug for SendText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendText")
            .field("to", &self.target.to)
            .field("chars", &self.text.chars().count())
            .finish_non_exhaustive()
    }
}

impl SendText {
    pub(crate) fn new(outbox: Arc<Outbox>, target: Target, text: String) -> Self {
        Self {
            outbox,
            target,
            text,
            chunk_chars: crate::chunk::DEFAULT_CHUNK_CHARS,
        }
    }

    /// Uses this context token instead of the cached one.
    pub fn context_token(mut self, token: ContextToken) -> Self {
        self.target.context_token = Some(token);
        self
    }

    /// Splits at this many characters instead of 2000 (the official limit is
    /// [`OFFICIAL_TEXT_LIMIT`](ilink_proto::consts::OFFICIAL_TEXT_LIMIT)).
    pub fn chunk_chars(mut self, limit: usize) -> Self {
        self.chunk_chars = limit.max(1);
        self
    }
}

impl IntoFuture for SendText {
    type Output = Result<Vec<Sent>, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            if self.text.is_empty() {
                return Err(Error::EmptyText);
            }
            let chunks = crate::chunk::chunk_text(&self.text, self.chunk_chars);
            let items: Vec<MessageItem> = chunks.into_iter().map(MessageItem::text).collect();
            self.outbox.send(self.target, items).await
        })
    }
}
