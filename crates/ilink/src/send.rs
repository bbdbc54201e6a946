//! Sending: text (chunked), with client ids kept across retries, pacing, and
//! throttling that never retries into the server's penalty.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::time::Duration;

use ilink_proto::{
    ContextToken, MessageId, MessageItem, SendMessageRequest, UserId, WeixinMessage,
};

use crate::Error;
use crate::client::Bot;

/// One message that went out.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Sent {
    /// The `client_id` it carried (the same across its retries).
    pub client_id: String,
    /// The server's id for it.
    pub message_id: Option<MessageId>,
}

/// A text send, built by [`Bot::send_text`] or
/// [`Context::reply`](crate::Context::reply); `.await` it.
///
/// Long text is split into several messages (at line and sentence breaks,
/// 2000 characters by default), sent in order, each with its own `client_id`.
/// The first failure stops the rest: [`Error::Partial`] says how many went
/// out.
#[must_use = "a send does nothing until awaited"]
pub struct SendText {
    bot: Bot,
    to: UserId,
    text: String,
    context_token: Option<ContextToken>,
    chunk_chars: usize,
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
}

impl IntoFuture for SendText {
    type Output = Result<Vec<Sent>, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            if self.text.is_empty() {
                return Err(Error::EmptyText);
            }
            let token = match self.context_token {
                Some(t) => Some(t),
                None => self.bot.context_token(&self.to).await?,
            };
            let chunks = crate::chunk::chunk_text(&self.text, self.chunk_chars);
            let items: Vec<MessageItem> = chunks.into_iter().map(MessageItem::text).collect();
            self.bot.send_items(&self.to, token, items).await
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
        }
    }

    /// Sends items in order, one per message; stops at the first failure.
    pub(crate) async fn send_items(
        &self,
        to: &UserId,
        token: Option<ContextToken>,
        items: Vec<MessageItem>,
    ) -> Result<Vec<Sent>, Error> {
        if to.is_empty() {
            return Err(Error::NoRecipient);
        }
        if token.is_none() {
            tracing::warn!("sending without a context token: the message may not reach the chat");
        }
        let total = items.len();
        let mut sent = Vec::with_capacity(total);
        for item in items {
            let client_id = client_id(&self.shared().config.client_id_prefix);
            let msg = WeixinMessage::outbound(to.as_str(), client_id.clone(), item)
                .with_context_token(token.clone());
            match self.send_message(msg).await {
                Ok(message_id) => sent.push(Sent {
                    client_id,
                    message_id,
                }),
                Err(e) if sent.is_empty() => return Err(e),
                Err(e) => {
                    return Err(Error::Partial {
                        sent: sent.len(),
                        total,
                        source: Box::new(e),
                    });
                }
            }
        }
        Ok(sent)
    }

    /// Sends one prepared message: paced, retried with the same `client_id`
    /// on retryable failures, never while a throttling penalty runs.
    ///
    /// # Errors
    ///
    /// [`Error::Throttled`] (the penalty is remembered: later sends fail at
    /// once until it ends), [`Error::SessionExpired`], or the last failure.
    pub async fn send_message(&self, msg: WeixinMessage) -> Result<Option<MessageId>, Error> {
        let handle = &self.account;
        let attempts = self.shared().config.send_attempts;
        let mut attempt = 1;
        loop {
            if handle.pacer.penalty_until().is_some() {
                return Err(Error::Throttled {
                    errmsg: Some("waiting out the server's send penalty".to_owned()),
                });
            }
            handle.pacer.acquire().await;
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
            if err.is_throttled() {
                self.note_throttled();
                return Err(err);
            }
            if !err.is_retryable() || attempt >= attempts {
                return Err(err);
            }
            let delay = self.shared().config.send_backoff.delay(attempt);
            tracing::warn!(
                attempt,
                ?delay,
                "send failed; retrying with the same client_id"
            );
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    fn note_throttled(&self) {
        let cooldown = self.shared().config.throttle_cooldown;
        tracing::warn!(
            ?cooldown,
            "sends throttled (ret -2); holding sends for the cooldown"
        );
        self.account
            .pacer
            .penalise(tokio::time::Instant::now() + cooldown);
    }

    /// How long the current throttling cooldown of the account lasts, if one
    /// runs: until then every send fails at once with [`Error::Throttled`]
    /// instead of prolonging the server's penalty.
    pub fn throttled_for(&self) -> Option<Duration> {
        let until = self.account.pacer.penalty_until()?;
        Some(until.saturating_duration_since(tokio::time::Instant::now()))
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
