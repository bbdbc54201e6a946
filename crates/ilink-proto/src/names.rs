//! Names of accounts, users and poll positions: strings on the wire, distinct
//! types in an API so that one cannot be passed where another is meant.

use std::borrow::Borrow;
use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! name {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps a name.
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// The name as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Unwraps the text.
            pub fn into_string(self) -> String {
                self.0
            }

            /// Whether the name is the empty string.
            pub fn is_empty(&self) -> bool {
                self.0.is_empty()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({:?})"), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
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

        impl From<&String> for $name {
            fn from(value: &String) -> Self {
                Self(value.clone())
            }
        }

        impl From<&$name> for $name {
            fn from(value: &$name) -> Self {
                value.clone()
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

name! {
    /// A bot account (`ilink_bot_id`, such as `abc@im.bot`): the namespace of
    /// its credentials and state.
    ///
    /// ```
    /// use ilink_proto::AccountId;
    ///
    /// let id = AccountId::from("abc@im.bot");
    /// assert_eq!(id.as_str(), "abc@im.bot");
    /// assert_eq!(id.to_string(), "abc@im.bot");
    /// ```
    AccountId
}

name! {
    /// A WeChat user (`from_user_id`, `to_user_id`, such as `alice@im.wechat`).
    UserId
}

/// The position of an account's message stream (`get_updates_buf`): opaque,
/// handed back to the server on the next poll.
///
/// `Debug` prints its length only: it is server state, not for logs.
#[derive(Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Cursor(String);

impl Cursor {
    /// Wraps a cursor.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The cursor as text, for the wire.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Unwraps the text.
    pub fn into_string(self) -> String {
        self.0
    }

    /// Whether this is the empty cursor of a first poll.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cursor(<{} bytes>)", self.0.len())
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Cursor {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<String> for Cursor {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Cursor {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_transparent_text() {
        let id: UserId = serde_json::from_str(r#""alice@im.wechat""#).unwrap();
        assert_eq!(id, "alice@im.wechat");
        assert_eq!(serde_json::to_string(&id).unwrap(), r#""alice@im.wechat""#);
        assert_eq!(format!("{id:?}"), r#"UserId("alice@im.wechat")"#);
        let c = Cursor::from("opaque-server-state");
        assert_eq!(format!("{c:?}"), "Cursor(<19 bytes>)");
        assert_eq!(c.to_string(), "opaque-server-state");
    }
}
