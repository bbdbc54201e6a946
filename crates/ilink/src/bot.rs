//! The bot's API: each method a thin front for the feature that owns the
//! work (the outbox, typing, media, quotes), on the account's handle.

use std::sync::Arc;
use std::time::Duration;

use ilink_proto::{
    ContextToken, MessageId, MessageItem, ToolCallStatus, TypingStatus, UserId, WeixinMessage,
};

use crate::Error;
use crate::client::Bot;
use crate::media::{Download, MediaKind, MediaSource, SendMedia};
use crate::message::Message;
use crate::outbox::{FlushReport, Outbox, ReplyBudget, Sent, Target};
use crate::quote::{InboundMedia, Quoted};
use crate::send::SendText;
use crate::tool_call::SendToolCall;
use crate::typing::Typing;

impl Bot {
    /// The account's outbox (every send goes through it).
    pub(crate) fn outbox(&self) -> &Arc<Outbox> {
        &self.account.outbox
    }

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
        SendText::new(self.outbox().clone(), Target::to(to.into()), text.into())
    }

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
        self.tool_call_start_to(Target::to(to.into()), tool_name, call_id)
    }

    pub(crate) fn tool_call_start_to(
        &self,
        target: Target,
        tool_name: impl Into<String>,
        call_id: impl Into<String>,
    ) -> SendToolCall {
        let item = MessageItem::tool_call_start(tool_name, call_id);
        SendToolCall::new(self.outbox().clone(), target, item, false)
    }

    /// Tells a user how a tool call ended (`tool_call_result_item`).
    pub fn tool_call_result(
        &self,
        to: impl Into<UserId>,
        tool_name: impl Into<String>,
        call_id: impl Into<String>,
        status: ToolCallStatus,
    ) -> SendToolCall {
        self.tool_call_result_to(Target::to(to.into()), tool_name, call_id, status)
    }

    pub(crate) fn tool_call_result_to(
        &self,
        target: Target,
        tool_name: impl Into<String>,
        call_id: impl Into<String>,
        status: ToolCallStatus,
    ) -> SendToolCall {
        let item = MessageItem::tool_call_result(tool_name, call_id, status);
        SendToolCall::new(self.outbox().clone(), target, item, true)
    }

    /// Sends a file as the kind its name's MIME type says: `image/*` as an
    /// image, `video/*` as a video, anything else (audio included) as a file
    /// ([`MediaKind::from_file_name`]; force one with
    /// [`kind`](SendMedia::kind)). See [`SendMedia`] for the flow and the
    /// options.
    ///
    /// ```no_run
    /// # async fn demo(bot: ilink::Bot) -> Result<(), ilink::Error> {
    /// use ilink::MediaSource;
    ///
    /// let sent = bot
    ///     .send_media("alice@im.wechat", MediaSource::path("holiday.jpg"))
    ///     .caption("the beach")
    ///     .on_progress(|sent, total| println!("{sent}/{total}"))
    ///     .await?;
    /// assert_eq!(sent.len(), 2); // the caption, then the image
    /// # Ok(()) }
    /// ```
    pub fn send_media(&self, to: impl Into<UserId>, source: impl Into<MediaSource>) -> SendMedia {
        self.send_media_to(Target::to(to.into()), source.into(), None)
    }

    /// Sends an image. See [`SendMedia`].
    pub fn send_image(&self, to: impl Into<UserId>, source: impl Into<MediaSource>) -> SendMedia {
        self.send_media_to(Target::to(to.into()), source.into(), Some(MediaKind::Image))
    }

    /// Sends a video. See [`SendMedia`].
    pub fn send_video(&self, to: impl Into<UserId>, source: impl Into<MediaSource>) -> SendMedia {
        self.send_media_to(Target::to(to.into()), source.into(), Some(MediaKind::Video))
    }

    /// Sends a file, shown with its name and size. See [`SendMedia`].
    pub fn send_file(&self, to: impl Into<UserId>, source: impl Into<MediaSource>) -> SendMedia {
        self.send_media_to(Target::to(to.into()), source.into(), Some(MediaKind::File))
    }

    pub(crate) fn send_media_to(
        &self,
        target: Target,
        source: MediaSource,
        kind: Option<MediaKind>,
    ) -> SendMedia {
        SendMedia::new(self.outbox().clone(), target, source, kind)
    }

    /// Downloads a received image, voice note, file or video; see
    /// [`Download`]. (The CDN takes no token: this goes over the client's
    /// pool, not the account's session.)
    ///
    /// ```no_run
    /// # async fn demo(bot: ilink::Bot, msg: ilink::Message) -> Result<(), ilink::Error> {
    /// let bytes = bot.download(&msg.items()[0]).bytes().await?;
    /// # let _ = bytes; Ok(()) }
    /// ```
    pub fn download(&self, item: &MessageItem) -> Download {
        Download::new(self.client.transport().clone(), item)
    }

    /// The media a message brings: its own images, voice notes, files and
    /// videos; when it has none, the media it quotes, as the official client
    /// does (a user who answers "what is this?" to a photo means the photo).
    /// Empty when it brings none.
    ///
    /// ```no_run
    /// # async fn demo(bot: ilink::Bot, msg: ilink::Message) -> Result<(), ilink::Error> {
    /// for media in bot.media_of(&msg) {
    ///     let path = bot.download(&media.item).to_dir("inbox").await?;
    ///     println!("saved {} (quoted: {})", path.display(), media.quoted.is_some());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn media_of(&self, msg: &Message) -> Vec<InboundMedia> {
        self.account.recent.media_of(&self.account.id, msg)
    }

    /// What a message quotes, `None` when it quotes nothing.
    ///
    /// The quoted item is the one the quote carries
    /// ([`QuoteSource::Embedded`](crate::QuoteSource::Embedded)); newer phones send only the quoted
    /// message's id (`svr_id`), which is then looked up among the last 1,000
    /// messages this account received in this process
    /// ([`QuoteSource::RecentCache`](crate::QuoteSource::RecentCache)); failing both, the item is `None`
    /// ([`QuoteSource::Unresolved`](crate::QuoteSource::Unresolved)).
    ///
    /// ```no_run
    /// # fn demo(bot: ilink::Bot, msg: ilink::Message) {
    /// if let Some(quote) = bot.quoted(&msg) {
    ///     println!("quoting {:?}: {:?}", quote.svr_id, quote.selected_text());
    /// }
    /// # }
    /// ```
    pub fn quoted(&self, msg: &Message) -> Option<Quoted> {
        self.account.recent.quoted(&self.account.id, msg)
    }

    /// Shows "typing…" to a user until the returned guard is dropped or
    /// [finished](Typing::finish), renewing it every 5 seconds (for at most
    /// two minutes). Best-effort: without a ticket, or when the server
    /// refuses, nothing is shown and nothing fails.
    pub async fn typing(&self, user_id: impl Into<UserId>) -> Typing {
        self.account
            .typing
            .start(&self.account.core, user_id.into())
            .await
    }

    /// Sends one typing status (1 typing, 2 cancel) to a user.
    ///
    /// # Errors
    ///
    /// [`Error::NoTypingTicket`](crate::Error::NoTypingTicket) when getconfig
    /// gave none, else the server's or the transport's error; typing is
    /// best-effort, so most callers ignore it.
    pub async fn send_typing(
        &self,
        user_id: impl Into<UserId>,
        status: TypingStatus,
    ) -> Result<(), Error> {
        self.account
            .typing
            .send(&self.account.core, user_id.into(), status)
            .await
    }

    /// The cached context token for a user, the id compared as the server
    /// compares it (ASCII case ignored; see [`TokenStore::find_context_token`](crate::store::TokenStore::find_context_token)).
    ///
    /// # Errors
    ///
    /// [`Error::Store`].
    pub async fn context_token(
        &self,
        user: impl Into<UserId>,
    ) -> Result<Option<ContextToken>, Error> {
        let user = user.into();
        Ok(self.account.recipient(&user, None).await?.1)
    }

    /// Sends what waits in the account's outbox, in order per conversation
    /// (the runner does this by itself while it runs).
    ///
    /// # Errors
    ///
    /// [`Error::Store`].
    pub async fn flush_outbox(&self) -> Result<FlushReport, Error> {
        self.outbox().flush_outbox().await
    }

    /// Takes the messages of a send that still wait in the outbox back out
    /// (a one-shot caller, a command line, gives up on them rather than
    /// leave them for a later run), and returns why the first one waited.
    ///
    /// # Errors
    ///
    /// [`Error::Store`].
    pub async fn withdraw_waiting(&self, sent: &[Sent]) -> Result<Option<Arc<Error>>, Error> {
        self.outbox().withdraw_waiting(sent).await
    }

    /// How many more messages `user`'s conversation can take now.
    ///
    /// # Errors
    ///
    /// [`Error::Store`].
    pub async fn reply_budget(&self, user: impl Into<UserId>) -> Result<ReplyBudget, Error> {
        self.outbox().reply_budget(user).await
    }

    /// Sends one prepared message: paced, retried with the same `client_id`
    /// on retryable failures. It does not pass through the outbox; use
    /// [`send_text`](Self::send_text) and the other sends for that.
    ///
    /// # Errors
    ///
    /// [`Error::Throttled`] on `ret -2`, [`Error::SessionExpired`], or the
    /// last failure.
    pub async fn send_message(&self, msg: WeixinMessage) -> Result<Option<MessageId>, Error> {
        self.outbox().send_message(msg).await
    }

    /// How long the account's send cooldown lasts, if one runs: until then
    /// sends wait in the outbox instead of prolonging the server's penalty.
    pub fn throttled_for(&self) -> Option<Duration> {
        self.outbox().throttled_for()
    }
}
