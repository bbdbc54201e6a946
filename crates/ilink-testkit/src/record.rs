//! What the simulator saw: requests, sent messages with their decrypted media,
//! typing and notify calls, and protocol violations.

use std::sync::Arc;
use std::time::Duration;

use ilink_crypto::KeyFormat;
use ilink_proto::{MessageId, WeixinMessage};
use serde::Serialize;

use crate::fault::Route;

/// Which listener a request arrived on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Host {
    /// The main API host.
    Api,
    /// The second API host that `scaned_but_redirect` points to.
    Redirect,
    /// The CDN.
    Cdn,
}

/// One HTTP request as received.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct RequestRecord {
    /// Arrival order, from 0.
    pub seq: u64,
    /// Time since the simulator started.
    #[serde(serialize_with = "ser_millis")]
    pub at: Duration,
    /// Listener.
    pub host: Host,
    /// Route.
    pub route: Route,
    /// `GET`, `POST`, …
    pub method: String,
    /// Path without the query.
    pub path: String,
    /// Decoded query pairs.
    pub query: Vec<(String, String)>,
    /// Headers in arrival order, names lowercased.
    pub headers: Vec<(String, String)>,
    /// The JSON body, for API calls that had one.
    pub body: Option<serde_json::Value>,
    /// The bot the token belonged to, when it was valid.
    pub bot_id: Option<String>,
}

impl RequestRecord {
    /// The first header of that (case-insensitive) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first query value of that name.
    pub fn query_value(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A message a bot sent, accepted by sendmessage.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct SentMessage {
    /// The bot that sent it.
    pub bot_id: String,
    /// The id the simulator answered with.
    pub message_id: MessageId,
    /// The message as received.
    pub msg: WeixinMessage,
    /// Media the message references, fetched from the simulated CDN and
    /// decrypted with the key the message carries.
    pub media: Vec<ReceivedMedia>,
    /// Whether it carried a context token issued to that user (without one a
    /// message may not reach the chat window).
    pub in_conversation: bool,
    /// How a phone would show it wrongly, if at all (grey image, 0-byte file).
    pub rendering_problems: Vec<String>,
    /// When it was accepted, milliseconds since the simulator started (the
    /// clock of [`Pushed::at_ms`](crate::Pushed::at_ms)).
    pub at_ms: u64,
}

impl SentMessage {
    /// The message's text (all text items).
    pub fn text(&self) -> String {
        self.msg.text().into_owned()
    }

    /// The recipient.
    pub fn to(&self) -> &str {
        self.msg.to_user_id.as_deref().unwrap_or_default()
    }
}

/// A media file referenced by a sent message.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct ReceivedMedia {
    /// `image`, `video`, `file`, `voice` (or `thumb`).
    pub kind: String,
    /// The plaintext size.
    pub size: u64,
    /// Hex MD5 of the plaintext.
    pub md5: String,
    /// The form the message's `aes_key` came in.
    #[serde(serialize_with = "ser_format")]
    pub key_format: KeyFormat,
    /// The plaintext, when small enough to keep (see
    /// [`SimulatorBuilder::keep_media_bytes`](crate::SimulatorBuilder::keep_media_bytes)).
    #[serde(skip)]
    pub bytes: Option<Arc<Vec<u8>>>,
    /// The file name, for files.
    pub file_name: Option<String>,
}

/// A sendtyping call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct TypingCall {
    /// The bot.
    pub bot_id: String,
    /// The user.
    pub user_id: String,
    /// 1 typing, 2 cancel.
    pub status: i32,
    /// Time since the simulator started.
    #[serde(serialize_with = "ser_millis")]
    pub at: Duration,
}

/// A notifystart or notifystop call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct NotifyCall {
    /// The bot.
    pub bot_id: String,
    /// `true` for notifystart, `false` for notifystop.
    pub start: bool,
    /// Time since the simulator started.
    #[serde(serialize_with = "ser_millis")]
    pub at: Duration,
}

/// Something a client did that the protocol forbids.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Violation {
    /// Where.
    pub route: Route,
    /// What.
    pub message: String,
}

/// A sendmessage the simulator dropped silently because its `client_id`
/// repeated an earlier one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct DroppedDuplicate {
    /// The bot.
    pub bot_id: String,
    /// The repeated id.
    pub client_id: String,
}

fn ser_millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis().try_into().unwrap_or(u64::MAX))
}

fn ser_format<S: serde::Serializer>(f: &KeyFormat, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(match f {
        KeyFormat::Hex => "hex",
        KeyFormat::Base64Raw => "base64_raw",
        KeyFormat::Base64Hex => "base64_hex",
        _ => "other",
    })
}
