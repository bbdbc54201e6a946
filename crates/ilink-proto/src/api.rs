//! Requests and responses of the nine endpoints, and the [`Endpoint`] trait
//! that ties each request to its method, path and response.

use std::fmt;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::codes::{ErrorCode, TypingStatus, UploadMediaType};
use crate::consts::{BOT_TYPE, paths, timeouts};
use crate::message::{Extra, WeixinMessage};
use crate::secret::{AesKeyText, BotToken, ContextToken};

/// The HTTP method of an endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Method {
    /// GET, no body.
    Get,
    /// POST with a JSON body.
    Post,
}

/// Which client-side deadline applies to an endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CallClass {
    /// No client deadline of its own; the server bounds it (get_bot_qrcode).
    Login,
    /// A long-poll: a client timeout is the normal empty outcome.
    LongPoll,
    /// An ordinary API call (15 s).
    Api,
    /// Config, typing and notify calls (10 s).
    Config,
}

impl CallClass {
    /// The default client timeout of this class (`None`: server-bounded).
    pub const fn default_timeout(self) -> Option<Duration> {
        match self {
            Self::Login => None,
            Self::LongPoll => Some(timeouts::LONG_POLL),
            Self::Api => Some(timeouts::API),
            Self::Config => Some(timeouts::CONFIG),
        }
    }
}

/// Which headers a request carries beyond the app headers
/// (`iLink-App-Id`, `iLink-App-ClientVersion`, `SKRouteTag`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HeaderSet {
    /// Only the app headers (get_qrcode_status).
    AppOnly,
    /// The POST headers without `Authorization` (get_bot_qrcode).
    PostWithoutToken,
    /// The POST headers with `Authorization: Bearer <token>`.
    PostWithToken,
}

/// An API request: its method, path, deadline class, headers and response type.
///
/// A custom transport can drive any endpoint generically: build the URL from
/// [`PATH`](Self::PATH) and [`query`](Self::query), put the headers that
/// [`HEADERS`](Self::HEADERS) names, serialize `self` as the JSON body for a
/// POST (after [`set_base_info`](Self::set_base_info)), and decode
/// [`Response`](Self::Response).
///
/// ```
/// use ilink_proto::{Endpoint, GetUpdatesRequest, Method};
///
/// fn describe<E: Endpoint>(_: &E) -> (Method, &'static str) {
///     (E::METHOD, E::PATH)
/// }
/// let req = GetUpdatesRequest::new("");
/// assert_eq!(describe(&req), (Method::Post, "ilink/bot/getupdates"));
/// ```
pub trait Endpoint: Serialize {
    /// The decoded response.
    type Response: DeserializeOwned + ApiResponse;
    /// The HTTP method.
    const METHOD: Method;
    /// The path, relative to the API base URL.
    const PATH: &'static str;
    /// The deadline class.
    const CLASS: CallClass;
    /// The headers it carries.
    const HEADERS: HeaderSet;

    /// Query parameters, unencoded (the transport percent-encodes values).
    fn query(&self) -> Vec<(&'static str, &str)> {
        Vec::new()
    }

    /// Fills `base_info` for endpoints whose body carries it; a no-op for the
    /// others.
    fn set_base_info(&mut self, _info: BaseInfo) {}

    /// The top-level key of the response's batch array, for endpoints whose
    /// answers carry other people's messages (getupdates): a transport reads
    /// such an answer through a [`BatchFilter`](crate::BatchFilter), so that
    /// one oversized element is set aside instead of failing the answer.
    const BATCH: Option<&'static str> = None;
}

/// `base_info`, carried by every POST body except get_bot_qrcode's.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BaseInfo {
    /// The client's version string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_version: Option<String>,
    /// A user-agent style string, for observability (see
    /// [`sanitize_bot_agent`](crate::sanitize_bot_agent)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bot_agent: Option<String>,
}

impl BaseInfo {
    /// A `base_info` with both fields set.
    pub fn new(channel_version: impl Into<String>, bot_agent: impl Into<String>) -> Self {
        Self {
            channel_version: Some(channel_version.into()),
            bot_agent: Some(bot_agent.into()),
        }
    }
}

/// How a response's `ret` and `errcode` classify it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// `ret` and `errcode` are 0 or absent.
    Success,
    /// `-14` in either: the token is stale; a new QR login is needed.
    SessionExpired,
    /// `-2` in either: throttled on a send (or a refused parameter).
    Throttled,
    /// Any other non-zero code (the first non-zero of `ret`, `errcode`).
    Failed(ErrorCode),
}

impl Outcome {
    /// Classifies a `ret`/`errcode` pair. `-14` wins over any other code, then
    /// `-2`, then the first non-zero one.
    ///
    /// ```
    /// use ilink_proto::{ErrorCode, Outcome};
    ///
    /// assert_eq!(Outcome::classify(None, None), Outcome::Success);
    /// assert_eq!(Outcome::classify(Some(0), Some(-14)), Outcome::SessionExpired);
    /// assert_eq!(Outcome::classify(Some(-2), None), Outcome::Throttled);
    /// assert_eq!(Outcome::classify(Some(-1), Some(7)), Outcome::Failed(ErrorCode(-1)));
    /// ```
    pub fn classify(ret: Option<i64>, errcode: Option<i64>) -> Self {
        let codes = [ret.unwrap_or(0), errcode.unwrap_or(0)];
        if codes.contains(&ErrorCode::SESSION_EXPIRED.0) {
            Self::SessionExpired
        } else if codes.contains(&ErrorCode::THROTTLED.0) {
            Self::Throttled
        } else if let Some(&code) = codes.iter().find(|&&c| c != 0) {
            Self::Failed(ErrorCode(code))
        } else {
            Self::Success
        }
    }

    /// Whether this is [`Outcome::Success`].
    pub const fn is_success(self) -> bool {
        matches!(self, Self::Success)
    }
}

/// The in-band result every response carries.
pub trait ApiResponse {
    /// `ret`.
    fn ret(&self) -> Option<i64>;
    /// `errcode`.
    fn errcode(&self) -> Option<i64>;
    /// `errmsg`.
    fn errmsg(&self) -> Option<&str>;

    /// The classification of `ret` and `errcode` together.
    fn outcome(&self) -> Outcome {
        Outcome::classify(self.ret(), self.errcode())
    }
}

macro_rules! api_response {
    ($($ty:ty),* $(,)?) => {$(
        impl ApiResponse for $ty {
            fn ret(&self) -> Option<i64> {
                self.ret
            }
            fn errcode(&self) -> Option<i64> {
                self.errcode
            }
            fn errmsg(&self) -> Option<&str> {
                self.errmsg.as_deref()
            }
        }
    )*};
}

macro_rules! endpoint {
    ($req:ty => $resp:ty, $method:ident, $path:expr, $class:ident, $headers:ident, base_info) => {
        endpoint!(@impl $req => $resp, $method, $path, $class, $headers, {
            fn set_base_info(&mut self, info: BaseInfo) {
                self.base_info = Some(info);
            }
        });
    };
    (@impl $req:ty => $resp:ty, $method:ident, $path:expr, $class:ident, $headers:ident, { $($body:tt)* }) => {
        impl Endpoint for $req {
            type Response = $resp;
            const METHOD: Method = Method::$method;
            const PATH: &'static str = $path;
            const CLASS: CallClass = CallClass::$class;
            const HEADERS: HeaderSet = HeaderSet::$headers;
            $($body)*
        }
    };
}

// ---------------------------------------------------------------- login

/// get_bot_qrcode: start a QR login.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GetBotQrcodeRequest {
    /// Bot tokens this machine already holds (newest first, at most
    /// [`MAX_LOCAL_TOKENS`](crate::consts::MAX_LOCAL_TOKENS)), so the server
    /// can recognise an already-bound bot.
    #[serde(default)]
    pub local_token_list: Vec<BotToken>,
}

impl GetBotQrcodeRequest {
    /// A request carrying the given local tokens (truncated to the first 10).
    pub fn new(mut local_token_list: Vec<BotToken>) -> Self {
        local_token_list.truncate(crate::consts::MAX_LOCAL_TOKENS);
        Self { local_token_list }
    }
}

/// The response of get_bot_qrcode.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GetBotQrcodeResponse {
    /// In-band result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ret: Option<i64>,
    /// In-band error code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errcode: Option<i64>,
    /// In-band error message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errmsg: Option<String>,
    /// The opaque QR code id, polled with get_qrcode_status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qrcode: Option<String>,
    /// What to show: a URL to open or to encode as a QR code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qrcode_img_content: Option<String>,
    /// Fields this version does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Endpoint for GetBotQrcodeRequest {
    type Response = GetBotQrcodeResponse;
    const METHOD: Method = Method::Post;
    const PATH: &'static str = paths::GET_BOT_QRCODE;
    const CLASS: CallClass = CallClass::Login;
    const HEADERS: HeaderSet = HeaderSet::PostWithoutToken;

    fn query(&self) -> Vec<(&'static str, &str)> {
        vec![("bot_type", BOT_TYPE)]
    }
}

/// get_qrcode_status: poll a QR login (a GET; the fields go in the query).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GetQrcodeStatusRequest {
    /// The `qrcode` from get_bot_qrcode.
    pub qrcode: String,
    /// The number the phone shows, after `need_verifycode`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify_code: Option<String>,
}

impl GetQrcodeStatusRequest {
    /// A poll for the given QR code.
    pub fn new(qrcode: impl Into<String>) -> Self {
        Self {
            qrcode: qrcode.into(),
            verify_code: None,
        }
    }

    /// Adds the verify code the user typed.
    #[must_use]
    pub fn with_verify_code(mut self, code: impl Into<String>) -> Self {
        self.verify_code = Some(code.into());
        self
    }
}

impl Endpoint for GetQrcodeStatusRequest {
    type Response = GetQrcodeStatusResponse;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = paths::GET_QRCODE_STATUS;
    const CLASS: CallClass = CallClass::LongPoll;
    const HEADERS: HeaderSet = HeaderSet::AppOnly;

    fn query(&self) -> Vec<(&'static str, &str)> {
        let mut q = vec![("qrcode", self.qrcode.as_str())];
        if let Some(code) = &self.verify_code {
            q.push(("verify_code", code.as_str()));
        }
        q
    }
}

/// The status of a QR login. Unknown strings are kept in
/// [`Other`](Self::Other) (treat them as `Wait`, but show them).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum QrStatus {
    /// `wait`: keep polling.
    #[default]
    Wait,
    /// `scaned` (sic): scanned, waiting for confirmation on the phone.
    Scanned,
    /// `confirmed`: the credentials are in the response.
    Confirmed,
    /// `expired`: fetch a new QR code.
    Expired,
    /// `scaned_but_redirect`: poll `https://<redirect_host>` from now on.
    ScannedButRedirect,
    /// `need_verifycode`: ask the user for the number the phone shows.
    NeedVerifyCode,
    /// `verify_code_blocked`: too many wrong numbers; counts as an expiry.
    VerifyCodeBlocked,
    /// `binded_redirect`: already bound to this client; existing credentials
    /// stay valid.
    BindedRedirect,
    /// A status this version does not know, kept as sent.
    Other(String),
}

impl QrStatus {
    /// The wire string.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Wait => "wait",
            Self::Scanned => "scaned",
            Self::Confirmed => "confirmed",
            Self::Expired => "expired",
            Self::ScannedButRedirect => "scaned_but_redirect",
            Self::NeedVerifyCode => "need_verifycode",
            Self::VerifyCodeBlocked => "verify_code_blocked",
            Self::BindedRedirect => "binded_redirect",
            Self::Other(s) => s,
        }
    }
}

impl From<&str> for QrStatus {
    fn from(s: &str) -> Self {
        match s {
            "wait" => Self::Wait,
            "scaned" => Self::Scanned,
            "confirmed" => Self::Confirmed,
            "expired" => Self::Expired,
            "scaned_but_redirect" => Self::ScannedButRedirect,
            "need_verifycode" => Self::NeedVerifyCode,
            "verify_code_blocked" => Self::VerifyCodeBlocked,
            "binded_redirect" => Self::BindedRedirect,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for QrStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

crate::serde_util::string_enum_serde!(QrStatus);

/// The response of get_qrcode_status.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GetQrcodeStatusResponse {
    /// In-band result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ret: Option<i64>,
    /// In-band error code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errcode: Option<i64>,
    /// In-band error message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errmsg: Option<String>,
    /// The login's status (absent counts as `wait`).
    #[serde(default)]
    pub status: QrStatus,
    /// On `confirmed`: the bot token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bot_token: Option<BotToken>,
    /// On `confirmed`: the account id (`...@im.bot`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ilink_bot_id: Option<String>,
    /// On `confirmed`: the user who scanned (`...@im.wechat`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ilink_user_id: Option<String>,
    /// On `confirmed`: the API base URL for this account (empty: the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseurl: Option<String>,
    /// On `scaned_but_redirect`: the host to poll from now on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_host: Option<String>,
    /// Fields this version does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

// ---------------------------------------------------------------- updates

/// getupdates: long-poll for inbound messages.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GetUpdatesRequest {
    /// The cursor: `""` on first start or after a reset.
    pub get_updates_buf: String,
    /// Filled by the transport.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_info: Option<BaseInfo>,
}

impl GetUpdatesRequest {
    /// A poll from the given cursor.
    pub fn new(cursor: impl Into<String>) -> Self {
        Self {
            get_updates_buf: cursor.into(),
            base_info: None,
        }
    }
}

impl Endpoint for GetUpdatesRequest {
    type Response = GetUpdatesResponse;
    const METHOD: Method = Method::Post;
    const PATH: &'static str = paths::GET_UPDATES;
    const CLASS: CallClass = CallClass::LongPoll;
    const HEADERS: HeaderSet = HeaderSet::PostWithToken;
    const BATCH: Option<&'static str> = Some("msgs");

    fn set_base_info(&mut self, info: BaseInfo) {
        self.base_info = Some(info);
    }
}

/// One element of a getupdates batch: a message, or what could not be decoded
/// as one (kept, so it can be reported, and so that one bad message never
/// stops the cursor from advancing).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Update {
    /// A decoded message.
    Message(Box<WeixinMessage>),
    /// A batch element that is not a valid message.
    Malformed(MalformedUpdate),
}

/// A batch element that failed to decode as a [`WeixinMessage`], or that
/// was set aside for its size (see [`BatchFilter`](crate::BatchFilter)).
///
/// `Debug` leaves out the raw element (it may hold a context token or a
/// key); read [`raw`](Self::raw) to see it.
#[derive(Clone)]
#[non_exhaustive]
pub struct MalformedUpdate {
    /// The element's bytes as received (for an element set aside, the
    /// placeholder that stands for it). Held as text, undecoded: an element
    /// nested too deep to decode is kept as well.
    pub raw: Box<RawValue>,
    /// Why it did not decode.
    pub error: String,
    /// The element's size in bytes when it was set aside for its size
    /// rather than decoded.
    pub set_aside: Option<u64>,
}

impl PartialEq for MalformedUpdate {
    fn eq(&self, other: &Self) -> bool {
        self.raw.get() == other.raw.get()
            && self.error == other.error
            && self.set_aside == other.set_aside
    }
}

impl std::fmt::Debug for MalformedUpdate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MalformedUpdate")
            .field("raw", &"<not shown>")
            .field("bytes", &self.raw.get().len())
            .field("error", &self.error)
            .field("set_aside", &self.set_aside)
            .finish()
    }
}

impl MalformedUpdate {
    /// A malformed element and why it did not decode.
    pub fn new(raw: Value, error: impl Into<String>) -> Self {
        let raw = serde_json::value::to_raw_value(&raw)
            .unwrap_or_else(|_| RawValue::from_string("null".to_owned()).expect("valid JSON"));
        Self::from_raw(raw, error)
    }

    /// A malformed element from its bytes as received.
    pub fn from_raw(raw: Box<RawValue>, error: impl Into<String>) -> Self {
        Self {
            raw,
            error: error.into(),
            set_aside: None,
        }
    }

    /// The element as a JSON value, when it can be decoded as one (an
    /// element nested deeper than `serde_json`'s limit cannot).
    pub fn value(&self) -> Option<Value> {
        serde_json::from_str(self.raw.get()).ok()
    }

    /// Decodes one batch element from its bytes: a message, or why not
    /// (including a placeholder of [`BatchFilter`](crate::BatchFilter) for
    /// an element set aside).
    pub fn decode(raw: Box<RawValue>) -> Update {
        if raw.get().starts_with(PLACEHOLDER_PREFIX) {
            #[derive(Deserialize)]
            struct Placeholder {
                ilink_set_aside: SetAside,
            }
            #[derive(Deserialize)]
            struct SetAside {
                bytes: u64,
                reason: String,
            }
            if let Ok(p) = serde_json::from_str::<Placeholder>(raw.get()) {
                let error = format!(
                    "a message of {} bytes, {}: set aside undecoded",
                    p.ilink_set_aside.bytes, p.ilink_set_aside.reason
                );
                let mut m = Self::from_raw(raw, error);
                m.set_aside = Some(p.ilink_set_aside.bytes);
                return Update::Malformed(m);
            }
        }
        match serde_json::from_str::<WeixinMessage>(raw.get()) {
            Ok(msg) => Update::Message(Box::new(msg)),
            Err(e) => Update::Malformed(Self::from_raw(raw, e.to_string())),
        }
    }
}

/// How a [`BatchFilter`](crate::BatchFilter) placeholder begins.
const PLACEHOLDER_PREFIX: &str = concat!("{\"", "ilink_set_aside", "\":");

impl Serialize for Update {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Message(m) => m.serialize(serializer),
            Self::Malformed(m) => m.raw.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Update {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // The element's bytes first, scanned without recursion: an element
        // nested too deep, or of the wrong type, is one malformed update,
        // never a failed batch.
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        Ok(MalformedUpdate::decode(raw))
    }
}

/// The response of getupdates.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GetUpdatesResponse {
    /// In-band result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ret: Option<i64>,
    /// In-band error code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errcode: Option<i64>,
    /// In-band error message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errmsg: Option<String>,
    /// The batch, each element decoded on its own.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_empty"
    )]
    pub msgs: Vec<Update>,
    /// The new cursor; replace the old one only when this is non-empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_updates_buf: Option<String>,
    /// The timeout to use for the next poll, when positive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub longpolling_timeout_ms: Option<i64>,
    /// Fields this version does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

fn null_as_empty<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Update>, D::Error> {
    Ok(Option::<Vec<Update>>::deserialize(d)?.unwrap_or_default())
}

impl GetUpdatesResponse {
    /// The decoded messages of the batch.
    pub fn messages(&self) -> impl Iterator<Item = &WeixinMessage> {
        self.msgs.iter().filter_map(|u| match u {
            Update::Message(m) => Some(&**m),
            Update::Malformed(_) => None,
        })
    }

    /// The elements that failed to decode.
    pub fn malformed(&self) -> impl Iterator<Item = &MalformedUpdate> {
        self.msgs.iter().filter_map(|u| match u {
            Update::Malformed(m) => Some(m),
            Update::Message(_) => None,
        })
    }

    /// The cursor to continue from: the new one when non-empty, else `current`.
    pub fn next_cursor<'a>(&'a self, current: &'a str) -> &'a str {
        match self.get_updates_buf.as_deref() {
            Some(next) if !next.is_empty() => next,
            _ => current,
        }
    }

    /// The server's timeout hint for the next poll, when positive.
    pub fn poll_timeout_hint(&self) -> Option<Duration> {
        self.longpolling_timeout_ms
            .filter(|&ms| ms > 0)
            .map(|ms| Duration::from_millis(ms.unsigned_abs()))
    }
}

// ---------------------------------------------------------------- sending

/// sendmessage: send one message.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SendMessageRequest {
    /// The message (see [`WeixinMessage::outbound`]).
    pub msg: WeixinMessage,
    /// Filled by the transport.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_info: Option<BaseInfo>,
}

impl SendMessageRequest {
    /// A request sending `msg`.
    pub fn new(msg: WeixinMessage) -> Self {
        Self {
            msg,
            base_info: None,
        }
    }
}

endpoint!(SendMessageRequest => SendMessageResponse, Post, paths::SEND_MESSAGE, Api, PostWithToken, base_info);

/// The response of sendmessage.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SendMessageResponse {
    /// In-band result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ret: Option<i64>,
    /// In-band error code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errcode: Option<i64>,
    /// In-band error message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errmsg: Option<String>,
    /// The server's id of the sent message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<crate::MessageId>,
    /// Fields this version does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

/// getuploadurl: get a CDN upload slot.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GetUploadUrlRequest {
    /// A random 16-byte key as 32 hex characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filekey: Option<String>,
    /// What is uploaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<UploadMediaType>,
    /// The recipient.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_user_id: Option<String>,
    /// Plaintext size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rawsize: Option<u64>,
    /// Hex MD5 of the plaintext.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rawfilemd5: Option<String>,
    /// Ciphertext size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filesize: Option<u64>,
    /// Thumbnail plaintext size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumb_rawsize: Option<u64>,
    /// Hex MD5 of the thumbnail plaintext.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumb_rawfilemd5: Option<String>,
    /// Thumbnail ciphertext size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumb_filesize: Option<u64>,
    /// No thumbnail will be uploaded (images and videos need one otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_need_thumb: Option<bool>,
    /// The AES key as 32 hex characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aeskey: Option<AesKeyText>,
    /// The recipient's context token; some accounts need it here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_token: Option<ContextToken>,
    /// Filled by the transport.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_info: Option<BaseInfo>,
}

impl GetUploadUrlRequest {
    /// An upload slot request without a thumbnail (`no_need_thumb: true`).
    pub fn new(
        filekey: impl Into<String>,
        media_type: UploadMediaType,
        to_user_id: impl Into<String>,
        rawsize: u64,
        rawfilemd5: impl Into<String>,
        aeskey_hex: AesKeyText,
    ) -> Self {
        Self {
            filekey: Some(filekey.into()),
            media_type: Some(media_type),
            to_user_id: Some(to_user_id.into()),
            rawsize: Some(rawsize),
            rawfilemd5: Some(rawfilemd5.into()),
            filesize: Some(crate::ciphertext_size(rawsize)),
            no_need_thumb: Some(true),
            aeskey: Some(aeskey_hex),
            ..Self::default()
        }
    }

    /// Declares a thumbnail of the given plaintext size and MD5
    /// (`no_need_thumb` becomes `false`).
    #[must_use]
    pub fn with_thumb(mut self, thumb_rawsize: u64, thumb_rawfilemd5: impl Into<String>) -> Self {
        self.thumb_rawsize = Some(thumb_rawsize);
        self.thumb_rawfilemd5 = Some(thumb_rawfilemd5.into());
        self.thumb_filesize = Some(crate::ciphertext_size(thumb_rawsize));
        self.no_need_thumb = Some(false);
        self
    }

    /// Adds the recipient's context token.
    #[must_use]
    pub fn with_context_token(mut self, token: Option<ContextToken>) -> Self {
        self.context_token = token;
        self
    }
}

endpoint!(GetUploadUrlRequest => GetUploadUrlResponse, Post, paths::GET_UPLOAD_URL, Api, PostWithToken, base_info);

/// The response of getuploadurl.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GetUploadUrlResponse {
    /// In-band result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ret: Option<i64>,
    /// In-band error code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errcode: Option<i64>,
    /// In-band error message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errmsg: Option<String>,
    /// The upload parameter for the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_param: Option<String>,
    /// The upload parameter for the thumbnail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumb_upload_param: Option<String>,
    /// The complete upload URL; preferred over building one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_full_url: Option<String>,
    /// Fields this version does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

// ---------------------------------------------------------------- config, typing, notify

/// getconfig: per-user config, mainly the typing ticket.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GetConfigRequest {
    /// The user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ilink_user_id: Option<String>,
    /// The user's context token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_token: Option<ContextToken>,
    /// Filled by the transport.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_info: Option<BaseInfo>,
}

impl GetConfigRequest {
    /// Config for a user.
    pub fn new(ilink_user_id: impl Into<String>, context_token: Option<ContextToken>) -> Self {
        Self {
            ilink_user_id: Some(ilink_user_id.into()),
            context_token,
            base_info: None,
        }
    }
}

endpoint!(GetConfigRequest => GetConfigResponse, Post, paths::GET_CONFIG, Config, PostWithToken, base_info);

/// The response of getconfig.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GetConfigResponse {
    /// In-band result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ret: Option<i64>,
    /// In-band error code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errcode: Option<i64>,
    /// In-band error message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errmsg: Option<String>,
    /// The ticket sendtyping needs for this user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typing_ticket: Option<String>,
    /// Fields this version does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

/// sendtyping: show or cancel "typing…".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SendTypingRequest {
    /// The user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ilink_user_id: Option<String>,
    /// The ticket from getconfig.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typing_ticket: Option<String>,
    /// Typing or cancel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<TypingStatus>,
    /// Filled by the transport.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_info: Option<BaseInfo>,
}

impl SendTypingRequest {
    /// A typing request.
    pub fn new(
        ilink_user_id: impl Into<String>,
        typing_ticket: impl Into<String>,
        status: TypingStatus,
    ) -> Self {
        Self {
            ilink_user_id: Some(ilink_user_id.into()),
            typing_ticket: Some(typing_ticket.into()),
            status: Some(status),
            base_info: None,
        }
    }
}

endpoint!(SendTypingRequest => AckResponse, Post, paths::SEND_TYPING, Config, PostWithToken, base_info);

/// notifystart: a bot client started polling.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NotifyStartRequest {
    /// Filled by the transport.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_info: Option<BaseInfo>,
}

impl NotifyStartRequest {
    /// The request.
    pub fn new() -> Self {
        Self::default()
    }
}

endpoint!(NotifyStartRequest => AckResponse, Post, paths::NOTIFY_START, Config, PostWithToken, base_info);

/// notifystop: a bot client stops.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NotifyStopRequest {
    /// Filled by the transport.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_info: Option<BaseInfo>,
}

impl NotifyStopRequest {
    /// The request.
    pub fn new() -> Self {
        Self::default()
    }
}

endpoint!(NotifyStopRequest => AckResponse, Post, paths::NOTIFY_STOP, Config, PostWithToken, base_info);

/// The response of sendtyping, notifystart and notifystop: only the result.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AckResponse {
    /// In-band result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ret: Option<i64>,
    /// In-band error code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errcode: Option<i64>,
    /// In-band error message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errmsg: Option<String>,
    /// Fields this version does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

api_response!(
    GetBotQrcodeResponse,
    GetQrcodeStatusResponse,
    GetUpdatesResponse,
    SendMessageResponse,
    GetUploadUrlResponse,
    GetConfigResponse,
    AckResponse,
);
