//! Newtypes for values that must never be printed in full.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! secret_string {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        ///
        /// `Debug` prints only the length, never the value. Use
        /// [`expose`](Self::expose) where the protocol needs the text.
        #[derive(Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps a value.
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// The value itself, for putting on the wire. Do not log it.
            pub fn expose(&self) -> &str {
                &self.0
            }

            /// Unwraps the value. Do not log it.
            pub fn into_inner(self) -> String {
                self.0
            }

            /// Whether the value is the empty string.
            pub fn is_empty(&self) -> bool {
                self.0.is_empty()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "(<redacted, {} bytes>)"), self.0.len())
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self(value)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(value.to_owned())
            }
        }
    };
}

secret_string! {
    /// A bot token (`bot_token`), sent as `Authorization: Bearer <token>`.
    BotToken
}

secret_string! {
    /// A conversation's `context_token`, which every reply to that user must echo.
    ContextToken
}

secret_string! {
    /// An AES key in one of its textual wire forms (`CdnMedia.aes_key`,
    /// `image_item.aeskey`, getuploadurl's `aeskey`).
    ///
    /// `ilink-crypto` parses it into a key; this type only carries the text.
    AesKeyText
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts() {
        let token = BotToken::new("secret-token-value");
        let shown = format!("{token:?}");
        assert!(!shown.contains("secret"), "{shown}");
        assert_eq!(shown, "BotToken(<redacted, 18 bytes>)");
        assert_eq!(token.expose(), "secret-token-value");
    }

    #[test]
    fn transparent_on_the_wire() {
        let token: ContextToken = serde_json::from_str("\"abc\"").unwrap();
        assert_eq!(token.expose(), "abc");
        assert_eq!(serde_json::to_string(&token).unwrap(), "\"abc\"");
    }
}
