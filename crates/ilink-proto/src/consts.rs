//! Constants of the protocol: hosts, paths, header names, timeouts and limits.

use std::time::Duration;

/// The default API base URL.
pub const DEFAULT_API_BASE_URL: &str = "https://ilinkai.weixin.qq.com";

/// The default CDN base URL.
pub const DEFAULT_CDN_BASE_URL: &str = "https://novac2c.cdn.weixin.qq.com/c2c";

/// The app id the official client sends in `iLink-App-Id`.
pub const DEFAULT_APP_ID: &str = "bot";

/// The `bot_type` query value of get_bot_qrcode.
pub const BOT_TYPE: &str = "3";

/// What a `bot_agent` falls back to when nothing valid is left of it.
pub const DEFAULT_BOT_AGENT: &str = concat!("ilink-rs/", env!("CARGO_PKG_VERSION"));

/// The official client's per-message text limit, in characters.
pub const OFFICIAL_TEXT_LIMIT: usize = 4000;

/// How many bot tokens a get_bot_qrcode `local_token_list` carries at most.
pub const MAX_LOCAL_TOKENS: usize = 10;

/// How many QR codes a login shows in all before it gives up.
pub const MAX_QR_CODES: u32 = 3;

/// The official client's cap on a media download: 100 MiB.
pub const MAX_DOWNLOAD_BYTES: u64 = 100 * 1024 * 1024;

/// Endpoint paths, relative to the API base URL.
pub mod paths {
    /// Start a QR login (`?bot_type=3`).
    pub const GET_BOT_QRCODE: &str = "ilink/bot/get_bot_qrcode";
    /// Poll a QR login's status (`?qrcode=…[&verify_code=…]`).
    pub const GET_QRCODE_STATUS: &str = "ilink/bot/get_qrcode_status";
    /// Long-poll for inbound messages.
    pub const GET_UPDATES: &str = "ilink/bot/getupdates";
    /// Send one message.
    pub const SEND_MESSAGE: &str = "ilink/bot/sendmessage";
    /// Get a CDN upload slot.
    pub const GET_UPLOAD_URL: &str = "ilink/bot/getuploadurl";
    /// Per-user config (the typing ticket).
    pub const GET_CONFIG: &str = "ilink/bot/getconfig";
    /// Typing indicator.
    pub const SEND_TYPING: &str = "ilink/bot/sendtyping";
    /// A bot client started.
    pub const NOTIFY_START: &str = "ilink/bot/msg/notifystart";
    /// A bot client stops.
    pub const NOTIFY_STOP: &str = "ilink/bot/msg/notifystop";
    /// CDN upload, relative to the CDN base URL.
    pub const CDN_UPLOAD: &str = "upload";
    /// CDN download, relative to the CDN base URL.
    pub const CDN_DOWNLOAD: &str = "download";
}

/// Header names.
pub mod headers {
    /// The app id (every request).
    pub const APP_ID: &str = "iLink-App-Id";
    /// The client version as a decimal uint32 (every request).
    pub const CLIENT_VERSION: &str = "iLink-App-ClientVersion";
    /// The route tag, when configured (every request).
    pub const ROUTE_TAG: &str = "SKRouteTag";
    /// Authorization scheme name (every POST).
    pub const AUTHORIZATION_TYPE: &str = "AuthorizationType";
    /// The value of [`AUTHORIZATION_TYPE`].
    pub const AUTHORIZATION_TYPE_VALUE: &str = "ilink_bot_token";
    /// `Bearer <bot_token>` (POSTs that have a token).
    pub const AUTHORIZATION: &str = "Authorization";
    /// A fresh random uint32, decimal, base64-encoded (every POST).
    pub const WECHAT_UIN: &str = "X-WECHAT-UIN";
    /// The CDN's download parameter on a successful upload.
    pub const ENCRYPTED_PARAM: &str = "x-encrypted-param";
    /// The CDN's reason for a refused upload.
    pub const ERROR_MESSAGE: &str = "x-error-message";
}

/// Client-side timeouts.
pub mod timeouts {
    use super::Duration;

    /// getupdates and get_qrcode_status, unless the server hints otherwise.
    pub const LONG_POLL: Duration = Duration::from_secs(35);
    /// sendmessage and getuploadurl.
    pub const API: Duration = Duration::from_secs(15);
    /// getconfig, sendtyping, notifystart and notifystop.
    pub const CONFIG: Duration = Duration::from_secs(10);
    /// The overall deadline of a QR login.
    pub const LOGIN: Duration = Duration::from_secs(8 * 60);
    /// The pause between two QR-status polls.
    pub const QR_POLL_INTERVAL: Duration = Duration::from_secs(1);
    /// The official client's pause after a failed poll.
    pub const RETRY: Duration = Duration::from_secs(2);
    /// The official client's pause after 3 failed polls in a row.
    pub const BACKOFF: Duration = Duration::from_secs(30);
    /// How long the official client pauses an account after `-14`.
    pub const SESSION_PAUSE: Duration = Duration::from_secs(60 * 60);
}
