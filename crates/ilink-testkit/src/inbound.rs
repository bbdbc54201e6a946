//! Inbound messages a test pushes to a bot, as a WeChat user would send them.

use ilink_proto::{MessageId, VoiceEncodeType};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How an inbound media file is encrypted and how its key is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum KeyForm {
    /// `media.aes_key` as base64 of the 16 raw bytes (format A, usual for images).
    Base64Raw,
    /// `media.aes_key` as base64 of the 32-char hex string (format B, usual
    /// for voice, file and video).
    #[default]
    Base64Hex,
    /// Images only: `image_item.aeskey` as hex, and `media.aes_key` as base64
    /// of the same hex, as real images sometimes carry both.
    HexAndBase64Hex,
    /// Images only: only `image_item.aeskey` (hex), no `media.aes_key`.
    HexOnly,
    /// Not encrypted at all, no key (some images come this way).
    Unencrypted,
}

/// A quote attached to an inbound message.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Quote {
    /// The quoted message's server id (written as a bare JSON number).
    pub svr_id: Option<u64>,
    /// The quoted text, sent as the quote's `message_item` when set.
    pub text: Option<String>,
    /// The quote's summary title.
    pub title: Option<String>,
    /// The selected part of the quoted text (`partial_text`).
    pub partial: Option<PartialQuote>,
    /// Quoted media (an image, voice note, file or video), sent as the
    /// quote's `message_item` with its own CDN reference; it takes the place
    /// of [`text`](Self::text).
    #[serde(default)]
    pub media: Option<Box<InboundContent>>,
}

/// A quote of part of a text (`ref_msg.partial_text`), in the official
/// client's form: the selection runs from the `startindex`-th occurrence (from
/// 0) of the fragment `start` to the `endindex`-th occurrence of the fragment
/// `end` in the quoted text.
///
/// ```
/// use ilink_testkit::{PartialQuote, Quote};
///
/// // Quotes "quick brown" of "the quick brown fox".
/// let quote = Quote::of(42)
///     .with_text("the quick brown fox")
///     .with_partial(PartialQuote::new("quick", 0, "brown", 0));
/// # let _ = quote;
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PartialQuote {
    /// The fragment the selection starts with.
    pub start: String,
    /// Which occurrence of `start`, from 0.
    pub startindex: u32,
    /// The fragment the selection ends with.
    pub end: String,
    /// Which occurrence of `end`, from 0.
    pub endindex: u32,
    /// Hex MD5 of the selected text, when the quote carries one.
    #[serde(default)]
    pub quotemd5: Option<String>,
}

impl PartialQuote {
    /// A selection from the `startindex`-th `start` to the `endindex`-th `end`.
    pub fn new(
        start: impl Into<String>,
        startindex: u32,
        end: impl Into<String>,
        endindex: u32,
    ) -> Self {
        Self {
            start: start.into(),
            startindex,
            end: end.into(),
            endindex,
            quotemd5: None,
        }
    }

    /// Adds `quotemd5`, the MD5 of the selected text.
    #[must_use]
    pub fn with_md5_of(mut self, selected: &str) -> Self {
        self.quotemd5 = Some(ilink_crypto::md5(selected.as_bytes()).to_hex());
        self
    }
}

impl Quote {
    /// A quote of the message with this server id.
    pub fn of(svr_id: u64) -> Self {
        Self {
            svr_id: Some(svr_id),
            ..Self::default()
        }
    }

    /// A quote carrying only the quoted text (no id).
    pub fn text_only(text: impl Into<String>) -> Self {
        Self {
            text: Some(text.into()),
            ..Self::default()
        }
    }

    /// Adds the quoted text as the quote's `message_item`.
    #[must_use]
    pub fn with_text(mut self, text: impl Into<String>) -> Self {
        self.text = Some(text.into());
        self
    }

    /// Embeds quoted media as the quote's `message_item`: the `content` of
    /// an inbound message such as [`Inbound::image`] (a raw message cannot
    /// be quoted this way and is left out).
    ///
    /// ```
    /// use ilink_testkit::{Inbound, Quote};
    ///
    /// let photo = Inbound::image("alice@im.wechat", b"\xff\xd8 jpeg".to_vec());
    /// let reply = Inbound::text("alice@im.wechat", "what is this?")
    ///     .quote(Quote::of(7).with_media(photo.content));
    /// # let _ = reply;
    /// ```
    #[must_use]
    pub fn with_media(mut self, content: InboundContent) -> Self {
        self.media = Some(Box::new(content));
        self
    }

    /// Adds a title.
    #[must_use]
    pub fn with_title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Selects part of the quoted text.
    #[must_use]
    pub fn with_partial(mut self, partial: PartialQuote) -> Self {
        self.partial = Some(partial);
        self
    }
}

/// What an inbound message carries.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum InboundContent {
    /// A text message.
    Text {
        /// The text.
        text: String,
    },
    /// An image.
    Image {
        /// The image bytes.
        #[serde(with = "b64")]
        bytes: Vec<u8>,
        /// How it is encrypted.
        #[serde(default)]
        key: KeyForm,
    },
    /// A voice note.
    Voice {
        /// The audio bytes.
        #[serde(with = "b64")]
        bytes: Vec<u8>,
        /// The speech-to-text transcript.
        transcript: Option<String>,
        /// The codec (`encode_type`).
        encode_type: Option<i32>,
        /// Duration in milliseconds.
        playtime_ms: Option<u64>,
        /// The sample rate declared (`sample_rate`; 16000 when unset).
        #[serde(default)]
        sample_rate: Option<u32>,
    },
    /// A file.
    File {
        /// The sender's file name (untrusted by design: tests may put `../`).
        name: String,
        /// The file bytes.
        #[serde(with = "b64")]
        bytes: Vec<u8>,
        /// Write `len` as a JSON number instead of a string, as some servers do.
        #[serde(default)]
        len_as_number: bool,
    },
    /// A video.
    Video {
        /// The video bytes.
        #[serde(with = "b64")]
        bytes: Vec<u8>,
    },
    /// An item of a type clients do not know.
    UnknownItem {
        /// The item type number.
        item_type: i32,
        /// The item's sub-object, under the key `<name>`.
        name: String,
        /// Its content.
        content: Value,
    },
    /// A whole message given as raw JSON (sent as it is, even if malformed).
    Raw {
        /// The message object.
        message: Value,
    },
}

/// An inbound message to push to a bot.
///
/// ```
/// use ilink_testkit::{Inbound, KeyForm};
///
/// let text = Inbound::text("alice@im.wechat", "hello");
/// let image = Inbound::image("alice@im.wechat", vec![1, 2, 3]).key(KeyForm::Base64Raw).full_url();
/// # let _ = (text, image);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Inbound {
    /// The sender (`...@im.wechat`).
    pub from: String,
    /// The content.
    pub content: InboundContent,
    /// A quote.
    #[serde(default)]
    pub quote: Option<Quote>,
    /// Put a `full_url` on the media reference (served from a different path,
    /// so a client that ignores it fails).
    #[serde(default)]
    pub full_url: bool,
    /// Deliver the message twice, as the real server sometimes does.
    #[serde(default)]
    pub duplicate: bool,
    /// How long ago the user wrote it, milliseconds (its `create_time_ms`,
    /// and the start of the user's reply window, lie that far back).
    #[serde(default)]
    pub age_ms: u64,
}

impl Inbound {
    fn new(from: impl Into<String>, content: InboundContent) -> Self {
        Self {
            from: from.into(),
            content,
            quote: None,
            full_url: false,
            duplicate: false,
            age_ms: 0,
        }
    }

    /// A text message.
    pub fn text(from: impl Into<String>, text: impl Into<String>) -> Self {
        Self::new(from, InboundContent::Text { text: text.into() })
    }

    /// An image (key format A, as real images usually come).
    pub fn image(from: impl Into<String>, bytes: Vec<u8>) -> Self {
        Self::new(
            from,
            InboundContent::Image {
                bytes,
                key: KeyForm::Base64Raw,
            },
        )
    }

    /// A SILK voice note with an optional transcript.
    pub fn voice(from: impl Into<String>, bytes: Vec<u8>, transcript: Option<&str>) -> Self {
        Self::new(
            from,
            InboundContent::Voice {
                bytes,
                transcript: transcript.map(str::to_owned),
                encode_type: Some(VoiceEncodeType::SILK.0),
                playtime_ms: Some(2000),
                sample_rate: None,
            },
        )
    }

    /// A real SILK v3 voice note (Tencent's prefix included) of a pure tone
    /// at `hz`, lasting `duration` (whole 20 ms frames), at 24 kHz, encoded
    /// with the reference SDK (feature `voice`). Its `playtime` is the
    /// duration; its transcript none.
    ///
    /// # Panics
    ///
    /// When the encoder fails (a bug: the settings are fixed).
    #[cfg(feature = "voice")]
    pub fn voice_tone(from: impl Into<String>, hz: f64, duration: std::time::Duration) -> Self {
        const RATE: u32 = 24_000;
        let frames = duration.as_millis() / 20;
        let samples = usize::try_from(frames).unwrap_or(0) * (RATE as usize / 50);
        let pcm: Vec<i16> = (0..samples)
            .map(|n| {
                let t = n as f64 / f64::from(RATE);
                (0.4 * f64::from(i16::MAX) * (2.0 * std::f64::consts::PI * hz * t).sin()) as i16
            })
            .collect();
        let bytes = ilink_silk::Encoder::new(RATE, 24_000)
            .and_then(|mut e| e.encode(&pcm))
            .expect("the SILK encoder takes 24 kHz mono");
        Self::new(
            from,
            InboundContent::Voice {
                bytes,
                transcript: None,
                encode_type: Some(VoiceEncodeType::SILK.0),
                playtime_ms: Some(u64::try_from(frames * 20).unwrap_or(u64::MAX)),
                sample_rate: Some(RATE),
            },
        )
    }

    /// A file.
    pub fn file(from: impl Into<String>, name: impl Into<String>, bytes: Vec<u8>) -> Self {
        Self::new(
            from,
            InboundContent::File {
                name: name.into(),
                bytes,
                len_as_number: false,
            },
        )
    }

    /// A video.
    pub fn video(from: impl Into<String>, bytes: Vec<u8>) -> Self {
        Self::new(from, InboundContent::Video { bytes })
    }

    /// An item of an unknown type.
    pub fn unknown_item(
        from: impl Into<String>,
        item_type: i32,
        name: &str,
        content: Value,
    ) -> Self {
        Self::new(
            from,
            InboundContent::UnknownItem {
                item_type,
                name: name.to_owned(),
                content,
            },
        )
    }

    /// A raw message object, delivered as it is (it may be malformed). Its
    /// `from_user_id` is used as the sender when present.
    pub fn raw(message: Value) -> Self {
        let from = message
            .get("from_user_id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        Self::new(from, InboundContent::Raw { message })
    }

    /// Sets how the media is encrypted.
    #[must_use]
    pub fn key(mut self, form: KeyForm) -> Self {
        if let InboundContent::Image { key, .. } = &mut self.content {
            *key = form;
        } else if form == KeyForm::Unencrypted {
            // Only images come unencrypted in practice, but a test may want it.
            self.content = match self.content {
                InboundContent::Voice { bytes, .. }
                | InboundContent::File { bytes, .. }
                | InboundContent::Video { bytes } => InboundContent::Image {
                    bytes,
                    key: KeyForm::Unencrypted,
                },
                other => other,
            };
        }
        self
    }

    /// Adds a `full_url` to the media reference.
    #[must_use]
    pub fn full_url(mut self) -> Self {
        self.full_url = true;
        self
    }

    /// Quotes an earlier message.
    #[must_use]
    pub fn quote(mut self, quote: Quote) -> Self {
        self.quote = Some(quote);
        self
    }

    /// Dates the message `age` back: the user wrote it then, and the
    /// reply window after it started then.
    #[must_use]
    pub fn written_ago(mut self, age: std::time::Duration) -> Self {
        self.age_ms = u64::try_from(age.as_millis()).unwrap_or(u64::MAX);
        self
    }

    /// Delivers the message twice.
    #[must_use]
    pub fn duplicated(mut self) -> Self {
        self.duplicate = true;
        self
    }

    /// Writes a file's `len` as a JSON number.
    #[must_use]
    pub fn len_as_number(mut self) -> Self {
        if let InboundContent::File { len_as_number, .. } = &mut self.content {
            *len_as_number = true;
        }
        self
    }
}

/// What a push produced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Pushed {
    /// The message id the bot will see.
    pub message_id: MessageId,
    /// The context token issued with it (a reply to the sender must carry a
    /// token issued to that sender).
    pub context_token: String,
    /// Hex MD5 of the media plaintext, for media messages.
    pub media_md5: Option<String>,
    /// The media plaintext size.
    pub media_size: Option<u64>,
    /// When it was queued for the bot, milliseconds since the simulator
    /// started (the clock of `SentMessage::at_ms`: a reply's latency is the
    /// difference).
    pub at_ms: u64,
}

mod b64 {
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|_| serde::de::Error::custom("invalid base64"))
    }
}
