//! Identifiers whose wire form varies: numbers that exceed 2^53, digit strings,
//! and opaque ids that are sometimes numbers.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// A server message id (`message_id`): a `u64`, never passed through `f64`.
///
/// Accepted as a JSON number or as a string of decimal digits; always written
/// as a bare number, as the server writes it.
///
/// ```
/// use ilink_proto::MessageId;
///
/// let id: MessageId = serde_json::from_str("18446744073709551615").unwrap();
/// assert_eq!(id.get(), u64::MAX);
/// let id: MessageId = serde_json::from_str("\"9007199254740993\"").unwrap();
/// assert_eq!(serde_json::to_string(&id).unwrap(), "9007199254740993");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MessageId(pub u64);

impl MessageId {
    /// The numeric value.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Debug for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MessageId({})", self.0)
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl From<u64> for MessageId {
    fn from(value: u64) -> Self {
        Self(value)
    }
}

impl Serialize for MessageId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(self.0)
    }
}

impl<'de> Deserialize<'de> for MessageId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(U64Visitor("a message id"))
            .map(MessageId)
    }
}

/// Accepts a non-negative integer or a string of decimal digits.
pub(crate) struct U64Visitor(pub(crate) &'static str);

impl Visitor<'_> for U64Visitor {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} as an unsigned integer or a string of digits", self.0)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
        Ok(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
        u64::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<u64, E> {
        // serde_json only produces a float for integers beyond u64 or for
        // fractions: neither is a valid id, and rounding would be silent loss.
        Err(E::invalid_value(de::Unexpected::Float(v), &self))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
        let digits = v.trim();
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(E::invalid_value(de::Unexpected::Str(v), &self));
        }
        digits
            .parse()
            .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
    }
}

/// An id the protocol types as a string but that arrives as a bare number too
/// (`msg_id` of an item, `svr_id` of a quote).
///
/// The text is kept exactly: a number keeps its digits (no `f64` rounding, even
/// above 2^53), a string such as `"v1:123"` is kept as it is. It is written back
/// in the form it arrived in.
///
/// ```
/// use ilink_proto::OpaqueId;
///
/// let id: OpaqueId = serde_json::from_str("9007199254740993").unwrap();
/// assert_eq!(id.as_str(), "9007199254740993");
/// assert_eq!(serde_json::to_string(&id).unwrap(), "9007199254740993");
/// let id: OpaqueId = serde_json::from_str("\"v1:123\"").unwrap();
/// assert_eq!(id.as_str(), "v1:123");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct OpaqueId {
    text: String,
    numeric: bool,
}

impl OpaqueId {
    /// An id that is written as a JSON string.
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            numeric: false,
        }
    }

    /// An id that is written as a bare JSON number.
    pub fn from_u64(value: u64) -> Self {
        Self {
            text: value.to_string(),
            numeric: true,
        }
    }

    /// The id's text (digits, if it arrived as a number).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether it arrived (and will be written) as a JSON number.
    pub fn is_numeric(&self) -> bool {
        self.numeric
    }

    /// The id as a `u64`, when it is a plain decimal number.
    pub fn as_u64(&self) -> Option<u64> {
        self.text.parse().ok()
    }
}

impl fmt::Debug for OpaqueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.numeric {
            write!(f, "OpaqueId({})", self.text)
        } else {
            write!(f, "OpaqueId({:?})", self.text)
        }
    }
}

impl fmt::Display for OpaqueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl From<&str> for OpaqueId {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

impl From<String> for OpaqueId {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl From<u64> for OpaqueId {
    fn from(value: u64) -> Self {
        Self::from_u64(value)
    }
}

impl Serialize for OpaqueId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.numeric {
            if let Ok(v) = self.text.parse::<u64>() {
                return serializer.serialize_u64(v);
            }
            if let Ok(v) = self.text.parse::<i64>() {
                return serializer.serialize_i64(v);
            }
        }
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for OpaqueId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IdVisitor;

        impl Visitor<'_> for IdVisitor {
            type Value = OpaqueId;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an id as a string or an integer")
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<OpaqueId, E> {
                Ok(OpaqueId::from_u64(v))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<OpaqueId, E> {
                Ok(OpaqueId {
                    text: v.to_string(),
                    numeric: true,
                })
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<OpaqueId, E> {
                // Only integers beyond 64 bits (or fractions) get here. Keeping
                // the message matters more than an id we cannot represent
                // exactly, so keep the best text we have and write it as a
                // string from now on.
                Ok(OpaqueId::new(v.to_string()))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<OpaqueId, E> {
                Ok(OpaqueId::new(v))
            }

            fn visit_string<E: de::Error>(self, v: String) -> Result<OpaqueId, E> {
                Ok(OpaqueId::new(v))
            }
        }

        deserializer.deserialize_any(IdVisitor)
    }
}

/// A `u64` that arrives as a decimal string or a number and is written as a
/// decimal string (`file_item.len`).
pub(crate) mod decimal_string {
    use serde::{Deserializer, Serializer};

    use super::U64Visitor;

    pub(crate) fn serialize<S: Serializer>(value: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(v) => s.collect_str(v),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        struct OptVisitor;

        impl<'de> serde::de::Visitor<'de> for OptVisitor {
            type Value = Option<u64>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a length as a decimal string or an integer")
            }

            fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }

            fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }

            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(U64Visitor("a length")).map(Some)
            }
        }

        d.deserialize_option(OptVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_id_forms() {
        let max: MessageId = serde_json::from_str("18446744073709551615").unwrap();
        assert_eq!(max.get(), u64::MAX);
        assert_eq!(serde_json::to_string(&max).unwrap(), "18446744073709551615");
        let s: MessageId = serde_json::from_str("\"18446744073709551615\"").unwrap();
        assert_eq!(s, max);
        assert!(serde_json::from_str::<MessageId>("-1").is_err());
        assert!(serde_json::from_str::<MessageId>("1.5").is_err());
        assert!(serde_json::from_str::<MessageId>("\"12a\"").is_err());
        assert!(serde_json::from_str::<MessageId>("\"\"").is_err());
        assert!(serde_json::from_str::<MessageId>("18446744073709551616").is_err());
    }

    #[test]
    fn opaque_id_keeps_form() {
        for text in ["9007199254740993", "\"v1:123\"", "\"42\"", "-7"] {
            let id: OpaqueId = serde_json::from_str(text).unwrap();
            assert_eq!(serde_json::to_string(&id).unwrap(), text);
        }
        let id: OpaqueId = serde_json::from_str("18446744073709551615").unwrap();
        assert_eq!(id.as_u64(), Some(u64::MAX));
    }
}
