//! An agent's tool-call progress: "started" and "finished" items.

use std::future::{Future, IntoFuture};
use std::pin::Pin;

use ilink_proto::{ContextToken, MessageItem, ToolCallStatus, UserId};

use crate::client::Bot;
use crate::runner::Context;
use crate::{Error, Sent};

/// A tool-call progress send, built by [`Bot::tool_call_start`],
/// [`Bot::tool_call_result`] or the same methods of [`Context`]; `.await` it.
///
/// The item goes out as its own message through the same outbox, paced and
/// retried, as text, with the user's cached context token unless one is
/// given; it counts against the conversation's reply budget.
#[must_use = "a send does nothing until awaited"]
#[derive(Debug)]
pub struct SendToolCall {
    bot: Bot,
    to: UserId,
    item: MessageItem,
    context_token: Option<ContextToken>,
    ids: crate::outbox::Ids,
}

impl SendToolCall {
    fn new(bot: Bot, to: UserId, mut item: MessageItem, completed: bool) -> Self {
        // As the official client: creation time, and whether the call ended.
        item.create_time_ms = i64::try_from(crate::store::now_ms()).ok();
        item.is_completed = Some(completed);
        Self {
            bot,
            to,
            item,
            context_token: None,
            ids: crate::outbox::Ids::Fresh,
        }
    }

    /// Uses this context token instead of the cached one.
    pub fn context_token(mut self, token: ContextToken) -> Self {
        self.context_token = Some(token);
        self
    }
}

impl IntoFuture for SendToolCall {
    type Output = Result<Sent, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            if self.to.is_empty() {
                return Err(Error::NoRecipient);
            }
            let (to, token) = self.bot.recipient(&self.to, self.context_token).await?;
            let mut sent = self
                .bot
                .send_items(&to, token, vec![self.item], &self.ids)
                .await?;
            // One item in, one message out (send_items fails otherwise).
            Ok(sent.remove(0))
        })
    }
}

impl Bot {
    /// Tells a user that a tool call started (`tool_call_start_item`).
    ///
    /// ```no_run
    /// # async fn demo(bot: ilink::Bot) -> Result<(), ilink::Error> {
    /// use ilink::proto::ToolCallStatus;
    ///
    /// bot.tool_call_start("alice@im.wechat", "web_search", "call-1").await?;
    /// // ... run the tool ...
    /// bot.tool_call_result("alice@im.wechat", "web_search", "call-1", ToolCallStatus::Completed)
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn tool_call_start(
        &self,
        to: impl Into<UserId>,
        tool_name: impl Into<String>,
        call_id: impl Into<String>,
    ) -> SendToolCall {
        let item = MessageItem::tool_call_start(tool_name, call_id);
        SendToolCall::new(self.clone(), to.into(), item, false)
    }

    /// Tells a user how a tool call ended (`tool_call_result_item`).
    pub fn tool_call_result(
        &self,
        to: impl Into<UserId>,
        tool_name: impl Into<String>,
        call_id: impl Into<String>,
        status: ToolCallStatus,
    ) -> SendToolCall {
        let item = MessageItem::tool_call_result(tool_name, call_id, status);
        SendToolCall::new(self.clone(), to.into(), item, true)
    }
}

impl Context {
    /// Tells the sender that a tool call started, carrying the message's
    /// context token.
    pub fn tool_call_start(
        &self,
        tool_name: impl Into<String>,
        call_id: impl Into<String>,
    ) -> SendToolCall {
        self.with_token(
            self.bot()
                .tool_call_start(self.user_id(), tool_name, call_id),
        )
    }

    /// Tells the sender how a tool call ended, carrying the message's
    /// context token.
    pub fn tool_call_result(
        &self,
        tool_name: impl Into<String>,
        call_id: impl Into<String>,
        status: ToolCallStatus,
    ) -> SendToolCall {
        self.with_token(
            self.bot()
                .tool_call_result(self.user_id(), tool_name, call_id, status),
        )
    }

    fn with_token(&self, mut send: SendToolCall) -> SendToolCall {
        send.ids = self.reply_ids();
        match self.context_token() {
            Some(t) => send.context_token(t.clone()),
            None => send,
        }
    }
}
