//! Sending text (chunked). Every send goes through the outbox
//! ([`crate::outbox`]).

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;

use ilink_proto::{ContextToken, MessageId, MessageItem, UserId};

use crate::Error;
use crate::client::Bot;
use crate::outbox::Ids;

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
    /// [`Bot::flush_outbox`]).
    pub waiting: Option<Arc<Error>>,
}

impl Sent {
    /// Whether the server accepted it.
    pub fn is_delivered(&self) -> bool {
        self.waiting.is_none()
    }
}

/// A text send, built by [`Bot::send_text`] or
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
    bot: Bot,
    to: UserId,
    text: String,
    context_token: Option<ContextToken>,
    chunk_chars: usize,
    ids: Ids,
}

impl std::fmt::Debug for SendText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendText")
            .field("to", &self.to)
            .field("chars", &self.text.chars().count())
            .finish_non_exhaustive()
    }
}

impl SendText {
    /// Uses this context token instead of the cached one.
    pub fn context_token(mut self, token: ContextToken) -> Self {
        self.context_token = Some(token);
        self
    }

    /// Splits at this many characters instead of 2000 (the official limit is
    /// [`OFFICIAL_TEXT_LIMIT`](ilink_proto::consts::OFFICIAL_TEXT_LIMIT)).
    pub fn chunk_chars(mut self, limit: usize) -> Self {
        self.chunk_chars = limit.max(1);
        self
    }

    pub(crate) fn ids(mut self, ids: Ids) -> Self {
        self.ids = ids;
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
            let (to, token) = self.bot.recipient(&self.to, self.context_token).await?;
            let chunks = crate::chunk::chunk_text(&self.text, self.chunk_chars);
            let items: Vec<MessageItem> = chunks.into_iter().map(MessageItem::text).collect();
            self.bot.send_items(&to, token, items, &self.ids).await
        })
    }
}

impl Bot {
    /// Sends text to a user. The user's cached context token is used unless
    /// one is given; long text is chunked.
    ///
    /// ```no_run
    /// # async fn demo(bot: ilink::Bot) -> Result<(), ilink::Error> {
    /// let sent = bot.send_text("alice@im.wechat", "hello").await?;
    /// println!("server id {:?}", sent[0].message_id);
    /// # Ok(()) }
    /// ```
    pub fn send_text(&self, to: impl Into<UserId>, text: impl Into<String>) -> SendText {
        SendText {
            bot: self.clone(),
            to: to.into(),
            text: text.into(),
            context_token: None,
            chunk_chars: crate::chunk::DEFAULT_CHUNK_CHARS,
            ids: Ids::Fresh,
        }
    }
}

/// A fresh client id like the official client's:
/// `<prefix>:<unix ms>-<8 hex>`.
pub(crate) fn client_id(prefix: &str) -> String {
    format!(
        "{prefix}:{}-{:08x}",
        crate::store::now_ms(),
        crate::backoff::random_u64() as u32
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids_are_unique_and_shaped() {
        let a = client_id("ilink");
        let b = client_id("ilink");
        assert_ne!(a, b);
        let (prefix, rest) = a.split_once(':').unwrap();
        assert_eq!(prefix, "ilink");
        let (ms, hex) = rest.split_once('-').unwrap();
        assert!(ms.parse::<u64>().is_ok());
        assert_eq!(hex.len(), 8);
        let u = crate::backoff::random_unit();
        assert!((0.0..1.0).contains(&u));
    }
}
