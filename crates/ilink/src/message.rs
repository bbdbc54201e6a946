//! Inbound messages as handlers see them.

use std::ops::Deref;

use ilink_proto::{ContextToken, WeixinMessage};

/// An inbound message of one account, with its deduplication key.
///
/// Dereferences to the wire [`WeixinMessage`], so every field and helper
/// (`text()`, `item_list`, `context_token`, …) is at hand.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    account_id: String,
    key: String,
    inner: WeixinMessage,
}

impl Message {
    pub(crate) fn new(account_id: &str, key: String, inner: WeixinMessage) -> Self {
        Self {
            account_id: account_id.to_owned(),
            key,
            inner,
        }
    }

    /// The bot account that received it.
    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    /// The deduplication key (see [`message_key`]).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The context token a reply must carry.
    pub fn context_token(&self) -> Option<&ContextToken> {
        self.inner.context_token.as_ref()
    }

    /// The conversation it belongs to: the group when there is one, else the
    /// sender. Handlers of one conversation run in order.
    pub fn conversation(&self) -> &str {
        match self.inner.group_id.as_deref() {
            Some(g) if !g.is_empty() => g,
            _ => self.inner.sender(),
        }
    }

    /// The wire message.
    pub fn into_inner(self) -> WeixinMessage {
        self.inner
    }
}

impl Deref for Message {
    type Target = WeixinMessage;

    fn deref(&self) -> &WeixinMessage {
        &self.inner
    }
}

/// The key that identifies a message for deduplication: its `message_id`,
/// else its `client_id`, else its `seq` with the sender, else a hash of its
/// JSON (so exact repeats still collapse).
///
/// ```
/// use ilink::message_key;
/// use ilink::proto::WeixinMessage;
///
/// let msg: WeixinMessage = serde_json::from_str(r#"{"message_id": 42}"#).unwrap();
/// assert_eq!(message_key(&msg), "m:42");
/// ```
pub fn message_key(msg: &WeixinMessage) -> String {
    if let Some(id) = msg.message_id {
        return format!("m:{}", id.get());
    }
    if let Some(c) = msg.client_id.as_deref().filter(|c| !c.is_empty()) {
        return format!("c:{c}");
    }
    if let Some(seq) = msg.seq {
        return format!("s:{}:{seq}", msg.sender());
    }
    let json = serde_json::to_string(msg).unwrap_or_default();
    format!("h:{:016x}", fnv1a(json.as_bytes()))
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(json: &str) -> WeixinMessage {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn keys() {
        assert_eq!(
            message_key(&msg(r#"{"message_id":18446744073709551615}"#)),
            "m:18446744073709551615"
        );
        assert_eq!(message_key(&msg(r#"{"client_id":"x"}"#)), "c:x");
        assert_eq!(
            message_key(&msg(r#"{"client_id":"","seq":3,"from_user_id":"a"}"#)),
            "s:a:3"
        );
        let a = message_key(&msg(r#"{"item_list":[{"type":1}]}"#));
        assert_eq!(a, message_key(&msg(r#"{"item_list":[{"type":1}]}"#)));
        assert_ne!(a, message_key(&msg(r#"{"item_list":[{"type":2}]}"#)));
    }

    #[test]
    fn conversation_prefers_group() {
        let m = Message::new(
            "b",
            "k".into(),
            msg(r#"{"from_user_id":"u","group_id":"g"}"#),
        );
        assert_eq!(m.conversation(), "g");
        let m = Message::new(
            "b",
            "k".into(),
            msg(r#"{"from_user_id":"u","group_id":""}"#),
        );
        assert_eq!(m.conversation(), "u");
    }
}
