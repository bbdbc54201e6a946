//! Wire types of Tencent's WeChat iLink Bot API, with no I/O.
//!
//! This crate models every endpoint, message and item of the protocol exactly
//! and losslessly: unknown fields and unknown code values survive a decode and
//! re-encode, 64-bit ids never pass through `f64`, and one malformed message
//! never spoils a batch. It depends on `serde` and `serde_json` only, so it can
//! be used with any transport.
//!
//! - [`Endpoint`] ties each request type to its method, path, deadline class,
//!   headers and response type.
//! - [`WeixinMessage`] and [`MessageItem`] are the messages; [`ItemContent`] is
//!   a typed view for `match`.
//! - Integer codes ([`ItemType`], [`ErrorCode`], …) are open newtypes with
//!   named constants.
//! - [`consts`] holds the hosts, paths, header names and timeouts; the free
//!   functions compute header values, sizes and URLs.
//!
//! ```
//! use ilink_proto::{GetUpdatesResponse, ItemContent};
//!
//! let body = r#"{"ret":0,"msgs":[{"message_id":9007199254740993,
//!     "from_user_id":"u@im.wechat","context_token":"ctx",
//!     "item_list":[{"type":1,"text_item":{"text":"hello"}}]}],
//!     "get_updates_buf":"c1","longpolling_timeout_ms":35000}"#;
//! let resp: GetUpdatesResponse = serde_json::from_str(body).unwrap();
//! let msg = resp.messages().next().unwrap();
//! assert_eq!(msg.message_id.unwrap().get(), 9007199254740993);
//! assert_eq!(msg.text(), "hello");
//! assert!(matches!(msg.item_list[0].content(), ItemContent::Text(_)));
//! assert_eq!(resp.next_cursor(""), "c1");
//! ```

mod api;
mod batch;
mod codes;
pub mod consts;
mod display;
mod ids;
mod message;
mod names;
mod secret;
mod serde_util;
mod wire;

pub use api::{
    AckResponse, ApiResponse, BaseInfo, CallClass, Endpoint, GetBotQrcodeRequest,
    GetBotQrcodeResponse, GetConfigRequest, GetConfigResponse, GetQrcodeStatusRequest,
    GetQrcodeStatusResponse, GetUpdatesRequest, GetUpdatesResponse, GetUploadUrlRequest,
    GetUploadUrlResponse, HeaderSet, MalformedUpdate, Method, NotifyStartRequest,
    NotifyStopRequest, Outcome, QrStatus, SendMessageRequest, SendMessageResponse,
    SendTypingRequest, Update,
};
pub use batch::{BatchFilter, BatchFilterError, Filtered, OUTSIDE_LIMIT};
pub use codes::{
    EncryptType, ErrorCode, ItemType, MessageState, MessageType, TypingStatus, UploadMediaType,
    VoiceEncodeType,
};
pub use display::{display_safe, is_display_unsafe};
pub use ids::{MessageId, OpaqueId};
pub use message::{
    CdnMedia, Extra, FileItem, ImageItem, ItemContent, MessageItem, PartialText, RefMessage,
    TextItem, ToolCallResultItem, ToolCallStartItem, ToolCallStatus, UploadedMedia, UploadedThumb,
    VideoItem, VoiceItem, WeixinMessage,
};
pub use names::{AccountId, Cursor, UserId};
pub use secret::{AesKeyText, BotToken, ContextToken};
pub use wire::{
    cdn_download_url, cdn_upload_url, ciphertext_size, client_version_code, join_url,
    percent_encode, sanitize_bot_agent, wechat_uin, with_query,
};
