//! What a handler gets with a message: the account's bot and the
//! conversation to reply to. Every reply of a context, text, media or tool
//! call, goes to one target: the sender, the message's context token and
//! reply ids derived from the message.

use ilink_proto::{ContextToken, MessageItem, ToolCallStatus, UserId};

use crate::Error;
use crate::client::Bot;
use crate::media::{Download, MediaSource, SendMedia};
use crate::message::Message;
use crate::outbox::{Ids, ReplyBudget, Target};
use crate::send::SendText;
use crate::tool_call::SendToolCall;
use crate::typing::Typing;

/// What a handler gets besides the message: the account's bot and the
/// conversation to reply to. Cheap to clone.
///
/// Its methods answer the sender and carry the message's context token;
/// they are named as the [`Bot`](crate::Bot) methods that send to anyone.
#[derive(Clone, Debug)]
pub struct Context {
    bot: Bot,
    /// The sender, the message's context token and the ids of its replies:
    /// every reply of this context, text, media or tool call, goes there.
    target: Target,
}

impl Context {
    /// The context of a message (for the pull API: the runner makes one per
    /// message).
    ///
    /// Its replies get `client_id`s derived from the account, the message's
    /// key, the recipient and their order among the replies of this context
    /// (and its clones): a handler run again on the same message (after a
    /// crash, before the message was acknowledged) sends the same ids, and
    /// the server drops the copies it already has. The limits: the first
    /// run's messages win (a second run's different text under an id
    /// already delivered is dropped), and a handler that replies in a
    /// different order or number on its second run gets ids that do not
    /// line up.
    pub fn new(bot: Bot, msg: &Message) -> Self {
        Self {
            bot,
            target: Target::reply(
                msg.sender().clone(),
                msg.context_token().cloned(),
                msg.key(),
            ),
        }
    }

    /// The ids of this context's replies (the runner reads from them
    /// whether a reply failed inside the SDK).
    pub(crate) fn reply_ids(&self) -> Ids {
        self.target.ids.clone()
    }

    /// The bot of the account that received the message.
    pub fn bot(&self) -> &Bot {
        &self.bot
    }

    /// The sender.
    pub fn user_id(&self) -> &UserId {
        &self.target.to
    }

    /// The message's context token.
    pub fn context_token(&self) -> Option<&ContextToken> {
        self.target.context_token.as_ref()
    }

    /// How many more messages the sender's conversation can take now, and
    /// until when (see [`Bot::reply_budget`]).
    ///
    /// ```no_run
    /// # async fn demo(ctx: ilink::Context) -> Result<(), ilink::Error> {
    /// let budget = ctx.reply_budget().await?;
    /// if budget.left == Some(1) {
    ///     ctx.reply("That is all I can say until you write again.").await?;
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Store`].
    pub async fn reply_budget(&self) -> Result<ReplyBudget, Error> {
        self.bot.reply_budget(self.user_id()).await
    }

    /// Replies with text (chunked when long); see [`Bot::send_text`].
    pub fn reply(&self, text: impl Into<String>) -> SendText {
        SendText::new(self.bot.outbox().clone(), self.target.clone(), text.into())
    }

    /// Sends media to the sender of the message, carrying its context token;
    /// the kind follows the file name (see [`Bot::send_media`]).
    pub fn send_media(&self, source: impl Into<MediaSource>) -> SendMedia {
        self.bot
            .send_media_to(self.target.clone(), source.into(), None)
    }

    /// Tells the sender that a tool call started, carrying the message's
    /// context token.
    pub fn tool_call_start(
        &self,
        tool_name: impl Into<String>,
        call_id: impl Into<String>,
    ) -> SendToolCall {
        self.bot
            .tool_call_start_to(self.target.clone(), tool_name, call_id)
    }

    /// Tells the sender how a tool call ended, carrying the message's
    /// context token.
    pub fn tool_call_result(
        &self,
        tool_name: impl Into<String>,
        call_id: impl Into<String>,
        status: ToolCallStatus,
    ) -> SendToolCall {
        self.bot
            .tool_call_result_to(self.target.clone(), tool_name, call_id, status)
    }

    /// Shows "typing…" to the sender until the guard is dropped; see
    /// [`Bot::typing`].
    pub async fn typing(&self) -> Typing {
        self.bot.typing(self.user_id()).await
    }

    /// Downloads a received image, voice note, file or video; see
    /// [`Download`].
    pub fn download(&self, item: &MessageItem) -> Download {
        self.bot.download(item)
    }
}
