//! Messages and their items: `WeixinMessage`, `MessageItem`, the per-kind item
//! objects, quotes and CDN media references.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::codes::{EncryptType, ItemType, MessageState, MessageType, VoiceEncodeType};
use crate::ids::{MessageId, OpaqueId, decimal_string};
use crate::secret::{AesKeyText, ContextToken};

/// Fields this version does not model, kept so that decoding and re-encoding
/// loses nothing.
pub type Extra = Map<String, Value>;

/// A message, inbound (from a user) or outbound (from the bot).
///
/// Every field is optional on the wire. Fields unknown to this version are kept
/// in [`extra`](Self::extra).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WeixinMessage {
    /// Sequence number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<i64>,
    /// The server's id for the message (a `u64`, lossless).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<MessageId>,
    /// Inbound: the sender (`...@im.wechat`). Outbound: must be `""`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_user_id: Option<String>,
    /// Inbound: the bot (`...@im.bot`). Outbound: the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_user_id: Option<String>,
    /// Outbound: unique per message; the server drops a repeated id silently.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Creation time, milliseconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_time_ms: Option<i64>,
    /// Last update time, milliseconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_time_ms: Option<i64>,
    /// Deletion time, milliseconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_time_ms: Option<i64>,
    /// Session id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// Group id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    /// Who sent it: user or bot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_type: Option<MessageType>,
    /// New, generating or finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_state: Option<MessageState>,
    /// The content. Outbound messages carry exactly one item.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_empty"
    )]
    pub item_list: Vec<MessageItem>,
    /// Must be echoed on every reply to this user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_token: Option<ContextToken>,
    /// Groups the messages of one reply run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// Fields this version does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One piece of a message's content. `item_type` says which of the `*_item`
/// objects is set; [`content`](Self::content) gives a typed view.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MessageItem {
    /// The kind of item (`type` on the wire).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub item_type: Option<ItemType>,
    /// Creation time, milliseconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_time_ms: Option<i64>,
    /// Last update time, milliseconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_time_ms: Option<i64>,
    /// Whether the item is complete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_completed: Option<bool>,
    /// The item's id: a string or a bare number, kept exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msg_id: Option<OpaqueId>,
    /// A quoted message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ref_msg: Option<Box<RefMessage>>,
    /// Text content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_item: Option<Box<TextItem>>,
    /// Image content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_item: Option<Box<ImageItem>>,
    /// Voice content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice_item: Option<Box<VoiceItem>>,
    /// File content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_item: Option<Box<FileItem>>,
    /// Video content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_item: Option<Box<VideoItem>>,
    /// An agent's tool call starting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_start_item: Option<Box<ToolCallStartItem>>,
    /// An agent's tool call result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_result_item: Option<Box<ToolCallResultItem>>,
    /// Fields this version does not model (e.g. `button_item_list`).
    #[serde(flatten)]
    pub extra: Extra,
}

/// `text_item`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TextItem {
    /// The text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Fields this version does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `image_item`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ImageItem {
    /// The full image on the CDN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<CdnMedia>,
    /// The thumbnail on the CDN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumb_media: Option<CdnMedia>,
    /// The AES key as 32 hex characters; preferred over `media.aes_key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aeskey: Option<AesKeyText>,
    /// A URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Size of the mid-size image (outbound: the ciphertext size).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mid_size: Option<u64>,
    /// Size of the thumbnail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumb_size: Option<u64>,
    /// Thumbnail height in pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumb_height: Option<u32>,
    /// Thumbnail width in pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumb_width: Option<u32>,
    /// Size of the high-definition image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hd_size: Option<u64>,
    /// Fields this version does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `voice_item`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct VoiceItem {
    /// The audio on the CDN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<CdnMedia>,
    /// The codec.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encode_type: Option<VoiceEncodeType>,
    /// Bits per sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bits_per_sample: Option<u32>,
    /// Sample rate in Hz.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_rate: Option<u32>,
    /// Duration in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub playtime: Option<u64>,
    /// Speech-to-text transcript.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Fields this version does not model (e.g. `size`).
    #[serde(flatten)]
    pub extra: Extra,
}

/// `file_item`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FileItem {
    /// The file on the CDN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<CdnMedia>,
    /// The sender's file name. Untrusted: never use it as a path as it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    /// Hex MD5 of the plaintext. Without it, files arrive as 0 bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub md5: Option<String>,
    /// Plaintext size. Written as a decimal string, accepted as a number too.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "decimal_string"
    )]
    pub len: Option<u64>,
    /// Fields this version does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `video_item`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct VideoItem {
    /// The video on the CDN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<CdnMedia>,
    /// Size of the video (outbound: the ciphertext size).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_size: Option<u64>,
    /// Duration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub play_length: Option<u64>,
    /// Hex MD5 of the video.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_md5: Option<String>,
    /// The thumbnail on the CDN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumb_media: Option<CdnMedia>,
    /// Size of the thumbnail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumb_size: Option<u64>,
    /// Thumbnail height in pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumb_height: Option<u32>,
    /// Thumbnail width in pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumb_width: Option<u32>,
    /// Fields this version does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `tool_call_start_item`: an agent started a tool call.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ToolCallStartItem {
    /// The tool's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_name: Option<String>,
    /// The call's id, matching its result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    /// Fields this version does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `tool_call_result_item`: a tool call ended.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ToolCallResultItem {
    /// The tool's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_name: Option<String>,
    /// The call's id, matching its start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    /// How it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ToolCallStatus>,
    /// Fields this version does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

/// How a tool call ended. Unknown strings are kept in [`Other`](Self::Other).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ToolCallStatus {
    /// `completed`.
    Completed,
    /// `failed`.
    Failed,
    /// `blocked`.
    Blocked,
    /// `unknown` (the protocol's own value).
    Unknown,
    /// A status this version does not know, kept as sent.
    Other(String),
}

impl ToolCallStatus {
    /// The wire string.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Blocked => "blocked",
            Self::Unknown => "unknown",
            Self::Other(s) => s,
        }
    }
}

impl From<&str> for ToolCallStatus {
    fn from(s: &str) -> Self {
        match s {
            "completed" => Self::Completed,
            "failed" => Self::Failed,
            "blocked" => Self::Blocked,
            "unknown" => Self::Unknown,
            other => Self::Other(other.to_owned()),
        }
    }
}

crate::serde_util::string_enum_serde!(ToolCallStatus);

/// A quoted message (`ref_msg`).
///
/// Newer phones may send only [`svr_id`](Self::svr_id) (the quoted message's
/// id) without the quoted item.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RefMessage {
    /// The quoted item, when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_item: Option<Box<MessageItem>>,
    /// A summary of the quoted message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The quoted message's server id: a string or a bare number, kept exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub svr_id: Option<OpaqueId>,
    /// The quoted part, when only part of a text was quoted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partial_text: Option<PartialText>,
    /// Fields this version does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `partial_text` of a quote: which part of the quoted text was selected.
///
/// In the official client's types `start` and `end` are text fragments (the
/// selection's first and last words), `startindex` and `endindex` say which
/// occurrence of each is meant, and `quotemd5` is the MD5 of the selection.
/// The fields are kept as raw JSON values so that a server sending another
/// shape still decodes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PartialText {
    /// The selection's start fragment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<Value>,
    /// The selection's end fragment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<Value>,
    /// Which occurrence of `start` is meant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub startindex: Option<Value>,
    /// Which occurrence of `end` is meant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endindex: Option<Value>,
    /// MD5 of the selected text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quotemd5: Option<String>,
    /// Fields this version does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A reference to an encrypted file on the CDN (`CDNMedia`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CdnMedia {
    /// The download parameter (`x-encrypted-param` of the upload).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encrypt_query_param: Option<String>,
    /// The AES key: base64 of the raw key or base64 of its hex string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aes_key: Option<AesKeyText>,
    /// What is encrypted in the parameter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encrypt_type: Option<EncryptType>,
    /// The complete download URL; takes precedence when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_url: Option<String>,
    /// Fields this version does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A typed, borrowed view of an item's content, for `match`.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum ItemContent<'a> {
    /// Text.
    Text(&'a TextItem),
    /// An image.
    Image(&'a ImageItem),
    /// A voice note.
    Voice(&'a VoiceItem),
    /// A file.
    File(&'a FileItem),
    /// A video.
    Video(&'a VideoItem),
    /// A tool call started.
    ToolCallStart(&'a ToolCallStartItem),
    /// A tool call ended.
    ToolCallResult(&'a ToolCallResultItem),
    /// An item type this version does not know, or a known type whose object
    /// is missing. The raw item is still available.
    Unknown(ItemType),
}

fn null_as_empty<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

impl MessageItem {
    /// The item's kind, `NONE` when absent.
    pub fn kind(&self) -> ItemType {
        self.item_type.unwrap_or_default()
    }

    /// A typed view of the content.
    ///
    /// The `type` field decides; when it is absent or zero, the first present
    /// item object does.
    ///
    /// ```
    /// use ilink_proto::{ItemContent, MessageItem};
    ///
    /// let item = MessageItem::text("hi");
    /// match item.content() {
    ///     ItemContent::Text(t) => assert_eq!(t.text.as_deref(), Some("hi")),
    ///     other => panic!("{other:?}"),
    /// }
    /// ```
    pub fn content(&self) -> ItemContent<'_> {
        let kind = self.kind();
        let by_type = match kind {
            ItemType::TEXT => self.text_item.as_deref().map(ItemContent::Text),
            ItemType::IMAGE => self.image_item.as_deref().map(ItemContent::Image),
            ItemType::VOICE => self.voice_item.as_deref().map(ItemContent::Voice),
            ItemType::FILE => self.file_item.as_deref().map(ItemContent::File),
            ItemType::VIDEO => self.video_item.as_deref().map(ItemContent::Video),
            ItemType::TOOL_CALL_START => self
                .tool_call_start_item
                .as_deref()
                .map(ItemContent::ToolCallStart),
            ItemType::TOOL_CALL_RESULT => self
                .tool_call_result_item
                .as_deref()
                .map(ItemContent::ToolCallResult),
            _ => None,
        };
        if let Some(content) = by_type {
            return content;
        }
        if kind != ItemType::NONE {
            return ItemContent::Unknown(kind);
        }
        None.or_else(|| self.text_item.as_deref().map(ItemContent::Text))
            .or_else(|| self.image_item.as_deref().map(ItemContent::Image))
            .or_else(|| self.voice_item.as_deref().map(ItemContent::Voice))
            .or_else(|| self.file_item.as_deref().map(ItemContent::File))
            .or_else(|| self.video_item.as_deref().map(ItemContent::Video))
            .or_else(|| {
                self.tool_call_start_item
                    .as_deref()
                    .map(ItemContent::ToolCallStart)
            })
            .or_else(|| {
                self.tool_call_result_item
                    .as_deref()
                    .map(ItemContent::ToolCallResult)
            })
            .unwrap_or(ItemContent::Unknown(kind))
    }

    /// The CDN media of an image, voice, file or video item.
    pub fn media(&self) -> Option<&CdnMedia> {
        match self.content() {
            ItemContent::Image(i) => i.media.as_ref(),
            ItemContent::Voice(v) => v.media.as_ref(),
            ItemContent::File(f) => f.media.as_ref(),
            ItemContent::Video(v) => v.media.as_ref(),
            _ => None,
        }
    }

    /// A text item.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            item_type: Some(ItemType::TEXT),
            text_item: Some(Box::new(TextItem {
                text: Some(text.into()),
                ..TextItem::default()
            })),
            ..Self::default()
        }
    }

    /// An image item referencing an upload, filled as the official client does:
    /// `aes_key` as base64 of the hex key, `encrypt_type` 1, `mid_size` the
    /// ciphertext size, and the thumbnail when one was uploaded.
    pub fn image(media: &UploadedMedia) -> Self {
        let mut image = ImageItem {
            media: Some(media.cdn_media()),
            mid_size: Some(media.ciphertext_size()),
            ..ImageItem::default()
        };
        if let Some(thumb) = &media.thumb {
            image.thumb_media = Some(media.thumb_cdn_media(thumb));
            image.thumb_size = Some(thumb.ciphertext_size());
            image.thumb_width = thumb.width;
            image.thumb_height = thumb.height;
        }
        Self {
            item_type: Some(ItemType::IMAGE),
            image_item: Some(Box::new(image)),
            ..Self::default()
        }
    }

    /// A video item referencing an upload: `video_size` the ciphertext size,
    /// `video_md5` the plaintext MD5, and the thumbnail when one was uploaded.
    pub fn video(media: &UploadedMedia) -> Self {
        let mut video = VideoItem {
            media: Some(media.cdn_media()),
            video_size: Some(media.ciphertext_size()),
            video_md5: Some(media.md5_hex.clone()),
            ..VideoItem::default()
        };
        if let Some(thumb) = &media.thumb {
            video.thumb_media = Some(media.thumb_cdn_media(thumb));
            video.thumb_size = Some(thumb.ciphertext_size());
            video.thumb_width = thumb.width;
            video.thumb_height = thumb.height;
        }
        Self {
            item_type: Some(ItemType::VIDEO),
            video_item: Some(Box::new(video)),
            ..Self::default()
        }
    }

    /// A file item referencing an upload: `file_name`, `md5` (hex MD5 of the
    /// plaintext; without it files arrive as 0 bytes) and `len` (plaintext size
    /// as a decimal string).
    pub fn file(media: &UploadedMedia, file_name: impl Into<String>) -> Self {
        Self {
            item_type: Some(ItemType::FILE),
            file_item: Some(Box::new(FileItem {
                media: Some(media.cdn_media()),
                file_name: Some(file_name.into()),
                md5: Some(media.md5_hex.clone()),
                len: Some(media.plaintext_size),
                ..FileItem::default()
            })),
            ..Self::default()
        }
    }

    /// A voice item referencing an upload.
    ///
    /// The server accepts voice items from bots but phones do not show them as
    /// voice bubbles; send audio as a [`file`](Self::file) unless you know the
    /// receiving side renders them.
    pub fn voice(
        media: &UploadedMedia,
        encode_type: Option<VoiceEncodeType>,
        playtime_ms: Option<u64>,
    ) -> Self {
        Self {
            item_type: Some(ItemType::VOICE),
            voice_item: Some(Box::new(VoiceItem {
                media: Some(media.cdn_media()),
                encode_type,
                playtime: playtime_ms,
                ..VoiceItem::default()
            })),
            ..Self::default()
        }
    }

    /// A tool-call start item.
    pub fn tool_call_start(tool_name: impl Into<String>, tool_call_id: impl Into<String>) -> Self {
        Self {
            item_type: Some(ItemType::TOOL_CALL_START),
            tool_call_start_item: Some(Box::new(ToolCallStartItem {
                tool_name: Some(tool_name.into()),
                tool_call_id: Some(tool_call_id.into()),
                ..ToolCallStartItem::default()
            })),
            ..Self::default()
        }
    }

    /// A tool-call result item.
    pub fn tool_call_result(
        tool_name: impl Into<String>,
        tool_call_id: impl Into<String>,
        status: ToolCallStatus,
    ) -> Self {
        Self {
            item_type: Some(ItemType::TOOL_CALL_RESULT),
            tool_call_result_item: Some(Box::new(ToolCallResultItem {
                tool_name: Some(tool_name.into()),
                tool_call_id: Some(tool_call_id.into()),
                status: Some(status),
                ..ToolCallResultItem::default()
            })),
            ..Self::default()
        }
    }
}

impl WeixinMessage {
    /// An empty message; set the fields you need.
    pub fn new() -> Self {
        Self::default()
    }

    /// An outbound bot message as `sendmessage` expects it: `from_user_id`
    /// `""`, `message_type` bot, `message_state` finished, one item.
    ///
    /// ```
    /// use ilink_proto::{MessageItem, WeixinMessage};
    ///
    /// let msg = WeixinMessage::outbound("u@im.wechat", "bot:1-abc", MessageItem::text("hi"));
    /// assert_eq!(msg.from_user_id.as_deref(), Some(""));
    /// assert_eq!(msg.text(), "hi");
    /// ```
    pub fn outbound(
        to_user_id: impl Into<String>,
        client_id: impl Into<String>,
        item: MessageItem,
    ) -> Self {
        Self {
            from_user_id: Some(String::new()),
            to_user_id: Some(to_user_id.into()),
            client_id: Some(client_id.into()),
            message_type: Some(MessageType::BOT),
            message_state: Some(MessageState::FINISH),
            item_list: vec![item],
            ..Self::default()
        }
    }

    /// Sets the `context_token`.
    #[must_use]
    pub fn with_context_token(mut self, token: Option<ContextToken>) -> Self {
        self.context_token = token;
        self
    }

    /// The text of all text items, concatenated (empty when there is none).
    pub fn text(&self) -> Cow<'_, str> {
        let mut texts = self
            .item_list
            .iter()
            .filter_map(|item| match item.content() {
                ItemContent::Text(t) => t.text.as_deref(),
                _ => None,
            });
        let Some(first) = texts.next() else {
            return Cow::Borrowed("");
        };
        match texts.next() {
            None => Cow::Borrowed(first),
            Some(second) => {
                let mut all = String::from(first);
                all.push_str(second);
                texts.for_each(|t| all.push_str(t));
                Cow::Owned(all)
            }
        }
    }

    /// The sender's user id, or `""`.
    pub fn sender(&self) -> &str {
        self.from_user_id.as_deref().unwrap_or_default()
    }
}

/// What an upload produced, for building the message item that references it.
///
/// `aes_key_hex` is the 32-character hex form of the key used to encrypt the
/// file (the one declared in getuploadurl's `aeskey`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct UploadedMedia {
    /// The download parameter from the CDN's `x-encrypted-param` header.
    pub encrypt_query_param: String,
    /// The AES key as 32 hex characters.
    pub aes_key_hex: AesKeyText,
    /// Plaintext size in bytes.
    pub plaintext_size: u64,
    /// Hex MD5 of the plaintext.
    pub md5_hex: String,
    /// The thumbnail, when one was uploaded (images and videos).
    pub thumb: Option<UploadedThumb>,
}

/// An uploaded thumbnail (same AES key as its media).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct UploadedThumb {
    /// The thumbnail's download parameter.
    pub encrypt_query_param: String,
    /// Plaintext size in bytes.
    pub plaintext_size: u64,
    /// Width in pixels, when known.
    pub width: Option<u32>,
    /// Height in pixels, when known.
    pub height: Option<u32>,
}

impl UploadedMedia {
    /// Describes an upload without a thumbnail.
    pub fn new(
        encrypt_query_param: impl Into<String>,
        aes_key_hex: AesKeyText,
        plaintext_size: u64,
        md5_hex: impl Into<String>,
    ) -> Self {
        Self {
            encrypt_query_param: encrypt_query_param.into(),
            aes_key_hex,
            plaintext_size,
            md5_hex: md5_hex.into(),
            thumb: None,
        }
    }

    /// Adds an uploaded thumbnail.
    #[must_use]
    pub fn with_thumb(mut self, thumb: UploadedThumb) -> Self {
        self.thumb = Some(thumb);
        self
    }

    /// The ciphertext size on the CDN.
    pub fn ciphertext_size(&self) -> u64 {
        crate::ciphertext_size(self.plaintext_size)
    }

    /// The outbound [`CdnMedia`]: `aes_key` is base64 of the hex key string
    /// (base64 of the raw key makes images grey on phones), `encrypt_type` 1.
    pub fn cdn_media(&self) -> CdnMedia {
        self.media_for(&self.encrypt_query_param)
    }

    fn thumb_cdn_media(&self, thumb: &UploadedThumb) -> CdnMedia {
        self.media_for(&thumb.encrypt_query_param)
    }

    fn media_for(&self, param: &str) -> CdnMedia {
        CdnMedia {
            encrypt_query_param: Some(param.to_owned()),
            aes_key: Some(AesKeyText::new(crate::wire::base64_encode(
                self.aes_key_hex.expose().as_bytes(),
            ))),
            encrypt_type: Some(EncryptType::PACKED),
            ..CdnMedia::default()
        }
    }
}

impl UploadedThumb {
    /// Describes an uploaded thumbnail.
    pub fn new(encrypt_query_param: impl Into<String>, plaintext_size: u64) -> Self {
        Self {
            encrypt_query_param: encrypt_query_param.into(),
            plaintext_size,
            width: None,
            height: None,
        }
    }

    /// Sets the pixel size.
    #[must_use]
    pub fn with_size(mut self, width: u32, height: u32) -> Self {
        self.width = Some(width);
        self.height = Some(height);
        self
    }

    /// The ciphertext size on the CDN.
    pub fn ciphertext_size(&self) -> u64 {
        crate::ciphertext_size(self.plaintext_size)
    }
}

impl CdnMedia {
    /// A reference to a CDN file by its download parameter.
    pub fn new(encrypt_query_param: impl Into<String>) -> Self {
        Self {
            encrypt_query_param: Some(encrypt_query_param.into()),
            ..Self::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_item_is_small_and_its_content_boxed() {
        // Every message holds a list of these: the sub-items, each hundreds
        // of bytes, are boxed so an item costs what its kind needs.
        let size = std::mem::size_of::<MessageItem>();
        assert!(size <= 256, "MessageItem is {size} bytes");
        let item = MessageItem::text("hi");
        assert!(matches!(item.content(), ItemContent::Text(t) if t.text.as_deref() == Some("hi")));
    }
}
