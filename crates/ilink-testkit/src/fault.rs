//! Faults the simulator can inject into the next calls of an endpoint.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Which route a fault, a record or an expectation is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Route {
    /// `ilink/bot/get_bot_qrcode`.
    GetBotQrcode,
    /// `ilink/bot/get_qrcode_status`.
    GetQrcodeStatus,
    /// `ilink/bot/getupdates`.
    GetUpdates,
    /// `ilink/bot/sendmessage`.
    SendMessage,
    /// `ilink/bot/getuploadurl`.
    GetUploadUrl,
    /// `ilink/bot/getconfig`.
    GetConfig,
    /// `ilink/bot/sendtyping`.
    SendTyping,
    /// `ilink/bot/msg/notifystart`.
    NotifyStart,
    /// `ilink/bot/msg/notifystop`.
    NotifyStop,
    /// CDN `POST /upload`.
    CdnUpload,
    /// CDN `GET /download` (and `full_url` downloads).
    CdnDownload,
    /// Anything else (answered 404).
    Unknown,
}

impl Route {
    /// Every route the simulator serves.
    pub const ALL: [Route; 11] = [
        Route::GetBotQrcode,
        Route::GetQrcodeStatus,
        Route::GetUpdates,
        Route::SendMessage,
        Route::GetUploadUrl,
        Route::GetConfig,
        Route::SendTyping,
        Route::NotifyStart,
        Route::NotifyStop,
        Route::CdnUpload,
        Route::CdnDownload,
    ];

    /// The route of an API path (relative, without query).
    pub fn from_api_path(path: &str) -> Route {
        use ilink_proto::consts::paths;
        match path.trim_start_matches('/') {
            paths::GET_BOT_QRCODE => Route::GetBotQrcode,
            paths::GET_QRCODE_STATUS => Route::GetQrcodeStatus,
            paths::GET_UPDATES => Route::GetUpdates,
            paths::SEND_MESSAGE => Route::SendMessage,
            paths::GET_UPLOAD_URL => Route::GetUploadUrl,
            paths::GET_CONFIG => Route::GetConfig,
            paths::SEND_TYPING => Route::SendTyping,
            paths::NOTIFY_START => Route::NotifyStart,
            paths::NOTIFY_STOP => Route::NotifyStop,
            _ => Route::Unknown,
        }
    }

    /// Whether this is one of the CDN routes.
    pub fn is_cdn(self) -> bool {
        matches!(self, Route::CdnUpload | Route::CdnDownload)
    }
}

/// What goes wrong.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum FaultKind {
    /// HTTP 500 with a short text body.
    Status500,
    /// HTTP 502 with an HTML body, as a proxy would send.
    BadGatewayHtml,
    /// HTTP 524 (a gateway's origin timeout) with an HTML body.
    Gateway524,
    /// The connection is closed without an answer.
    ConnectionReset,
    /// No answer for this long (default: until the simulator stops), then the
    /// connection is closed.
    Hang {
        /// How long; `None` holds until the simulator shuts down.
        #[serde(default, with = "opt_millis")]
        duration: Option<Duration>,
    },
    /// HTTP 200 with a body that is not JSON.
    MalformedJson,
    /// HTTP 200 announcing a `Content-Length` and closing half-way.
    TruncatedBody,
    /// HTTP 200 with `ret -2` ("rate limited").
    Throttled,
    /// HTTP 200 with `ret -14`/`errcode -14`.
    SessionExpired,
    /// The request takes effect, then the answer comes this much later (past
    /// a client's timeout, typically): a retry must not duplicate the effect.
    SlowAfterEffect {
        /// The delay before the answer.
        #[serde(with = "millis")]
        delay: Duration,
    },
}

/// A fault armed for the next `count` calls of a route.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Fault {
    /// The route it applies to.
    pub route: Route,
    /// What happens.
    pub kind: FaultKind,
    /// How many calls it affects.
    pub count: u32,
}

impl Fault {
    /// `kind` on the next `count` calls of `route`.
    pub fn new(route: Route, kind: FaultKind, count: u32) -> Self {
        Self { route, kind, count }
    }
}

mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis().try_into().unwrap_or(u64::MAX))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

mod opt_millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_u64(d.as_millis().try_into().unwrap_or(u64::MAX)),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        Option::<u64>::deserialize(d).map(|v| v.map(Duration::from_millis))
    }
}
