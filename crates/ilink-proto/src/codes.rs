//! Integer codes of the protocol as open newtypes: unknown values round-trip,
//! the named constants work in `match`.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! code {
    (
        $(#[$meta:meta])*
        $name:ident($repr:ty) {
            $( $(#[$cmeta:meta])* $konst:ident = $value:literal, )*
        }
    ) => {
        $(#[$meta])*
        ///
        /// An open set: values without a name are kept as they are, so a newer
        /// server cannot break decoding.
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub $repr);

        impl $name {
            $( $(#[$cmeta])* pub const $konst: Self = Self($value); )*

            /// The name of this value's constant, or `None` for a value this
            /// version does not know.
            pub const fn name(self) -> Option<&'static str> {
                match self.0 {
                    $( $value => Some(stringify!($konst)), )*
                    _ => None,
                }
            }

            /// Whether this value has a named constant.
            pub const fn is_known(self) -> bool {
                self.name().is_some()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.name() {
                    Some(name) => write!(f, concat!(stringify!($name), "::{}"), name),
                    None => write!(f, concat!(stringify!($name), "({})"), self.0),
                }
            }
        }

        impl From<$repr> for $name {
            fn from(value: $repr) -> Self {
                Self(value)
            }
        }

        impl From<$name> for $repr {
            fn from(value: $name) -> Self {
                value.0
            }
        }
    };
}

code! {
    /// `message_type` of a [`WeixinMessage`](crate::WeixinMessage).
    MessageType(i32) {
        /// Not set.
        NONE = 0,
        /// Sent by a WeChat user.
        USER = 1,
        /// Sent by a bot; every outbound message carries this.
        BOT = 2,
    }
}

code! {
    /// `message_state` of a [`WeixinMessage`](crate::WeixinMessage).
    MessageState(i32) {
        /// A new message.
        NEW = 0,
        /// A reply still being generated (not rendered as streaming in bot chats).
        GENERATING = 1,
        /// A finished message.
        FINISH = 2,
    }
}

code! {
    /// `type` of a [`MessageItem`](crate::MessageItem).
    ItemType(i32) {
        /// Not set.
        NONE = 0,
        /// `text_item`.
        TEXT = 1,
        /// `image_item`.
        IMAGE = 2,
        /// `voice_item`.
        VOICE = 3,
        /// `file_item`.
        FILE = 4,
        /// `video_item`.
        VIDEO = 5,
        /// `tool_call_start_item`.
        TOOL_CALL_START = 11,
        /// `tool_call_result_item`.
        TOOL_CALL_RESULT = 12,
    }
}

code! {
    /// `media_type` of a getuploadurl request.
    UploadMediaType(i32) {
        /// An image.
        IMAGE = 1,
        /// A video.
        VIDEO = 2,
        /// A file.
        FILE = 3,
        /// A voice note.
        VOICE = 4,
    }
}

code! {
    /// `status` of a sendtyping request.
    TypingStatus(i32) {
        /// Show "typing…".
        TYPING = 1,
        /// Stop showing it.
        CANCEL = 2,
    }
}

code! {
    /// `encode_type` of a voice item.
    VoiceEncodeType(i32) {
        /// Raw PCM.
        PCM = 1,
        /// ADPCM.
        ADPCM = 2,
        /// Feature data.
        FEATURE = 3,
        /// Speex.
        SPEEX = 4,
        /// AMR.
        AMR = 5,
        /// SILK, the usual WeChat voice codec.
        SILK = 6,
        /// MP3.
        MP3 = 7,
        /// Speex in Ogg.
        OGG_SPEEX = 8,
    }
}

code! {
    /// `encrypt_type` of a [`CdnMedia`](crate::CdnMedia).
    EncryptType(i32) {
        /// Only the file id is encrypted.
        FILE_ID_ONLY = 0,
        /// Packed with thumbnail and mid-size information; what clients send.
        PACKED = 1,
    }
}

code! {
    /// An in-band result code (`ret` or `errcode`).
    ErrorCode(i64) {
        /// Success.
        OK = 0,
        /// `ret -2`: on a send, the account's send budget is exhausted
        /// ("rate limited", "prepare failed"); elsewhere a refused parameter.
        THROTTLED = -2,
        /// `-14`: the bot token is unknown, revoked or expired; a new QR login
        /// is the remedy.
        SESSION_EXPIRED = -14,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_unknowns() {
        assert_eq!(format!("{:?}", ItemType::TEXT), "ItemType::TEXT");
        assert_eq!(format!("{:?}", ItemType(99)), "ItemType(99)");
        assert_eq!(ErrorCode(-14), ErrorCode::SESSION_EXPIRED);
        let t: ItemType = serde_json::from_str("99").unwrap();
        assert!(!t.is_known());
        assert_eq!(serde_json::to_string(&t).unwrap(), "99");
        match ItemType(5) {
            ItemType::VIDEO => {}
            other => panic!("{other:?}"),
        }
    }
}
