//! Inbound messages as handlers see them.

use std::borrow::Cow;

use ilink_proto::{
    AccountId, ContextToken, Cursor, MessageId, MessageItem, MessageType, UserId, WeixinMessage,
};

/// An inbound message of one account, with its deduplication key.
///
/// Read it through its accessors; [`wire`](Self::wire) gives the whole wire
/// [`WeixinMessage`] for fields this type does not name.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    account_id: AccountId,
    key: String,
    sender: UserId,
    inner: WeixinMessage,
}

impl Message {
    pub(crate) fn new(account_id: &AccountId, key: String, inner: WeixinMessage) -> Self {
        Self {
            account_id: account_id.clone(),
            key,
            sender: UserId::new(inner.sender()),
            inner,
        }
    }

    /// The bot account that received it.
    pub fn account_id(&self) -> &AccountId {
        &self.account_id
    }

    /// The deduplication key (see [`Message::key_of`]).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Who sent it (empty when the server named nobody).
    pub fn sender(&self) -> &UserId {
        &self.sender
    }

    /// The group it was sent in, if any.
    pub fn group_id(&self) -> Option<&str> {
        self.inner.group_id.as_deref().filter(|g| !g.is_empty())
    }

    /// The conversation it belongs to: the group when there is one, else the
    /// sender. Handlers of one conversation run in order.
    pub fn conversation(&self) -> &str {
        self.group_id().unwrap_or(self.sender.as_str())
    }

    /// The text of its text items, joined (empty when it has none).
    pub fn text(&self) -> Cow<'_, str> {
        self.inner.text()
    }

    /// The server's transcript of its voice note, when it has one with a
    /// transcript (`voice_item.text`; often absent: decode the audio with
    /// the `voice` feature's [`Download::voice`](crate::Download)).
    pub fn transcript(&self) -> Option<&str> {
        self.inner
            .item_list
            .iter()
            .filter_map(|i| i.voice_item.as_deref())
            .find_map(|v| v.text.as_deref().filter(|t| !t.trim().is_empty()))
    }

    /// Its items, in order.
    pub fn items(&self) -> &[MessageItem] {
        &self.inner.item_list
    }

    /// The server's id for it.
    pub fn message_id(&self) -> Option<MessageId> {
        self.inner.message_id
    }

    /// Who wrote it: a user or a bot.
    pub fn message_type(&self) -> Option<MessageType> {
        self.inner.message_type
    }

    /// When it was created, milliseconds since the Unix epoch.
    pub fn create_time_ms(&self) -> Option<i64> {
        self.inner.create_time_ms
    }

    /// The context token a reply must carry.
    pub fn context_token(&self) -> Option<&ContextToken> {
        self.inner.context_token.as_ref()
    }

    /// The wire message, for fields without an accessor.
    pub fn wire(&self) -> &WeixinMessage {
        &self.inner
    }

    /// The wire message.
    pub fn into_wire(self) -> WeixinMessage {
        self.inner
    }

    /// The key that identifies a wire message for deduplication: its
    /// server-given `message_id`, as `m:<id>`.
    ///
    /// A message the server gave no id gets a key from where it arrived,
    /// never from a field its sender chose (a `client_id` or `seq` another
    /// user can copy would make the store drop someone else's message as a
    /// repeat): `p:<hash of the cursor it was polled from>:<its position in
    /// the batch>`. A server that sends the same batch again from the same
    /// cursor gets the same keys, so the repeat still collapses; the same
    /// id-less message in a later batch is delivered again.
    ///
    /// ```
    /// use ilink::Message;
    /// use ilink::proto::{Cursor, WeixinMessage};
    ///
    /// let msg: WeixinMessage = serde_json::from_str(r#"{"message_id": 42}"#).unwrap();
    /// assert_eq!(Message::key_of(&msg, &Cursor::new("c1"), 0), "m:42");
    /// let anon: WeixinMessage = serde_json::from_str(r#"{"client_id": "x"}"#).unwrap();
    /// assert!(Message::key_of(&anon, &Cursor::new("c1"), 3).ends_with(":3"));
    /// ```
    pub fn key_of(msg: &WeixinMessage, polled_from: &Cursor, position: usize) -> String {
        if let Some(id) = msg.message_id {
            return format!("m:{}", id.get());
        }
        format!(
            "p:{:016x}:{position}",
            fnv1a(polled_from.as_str().as_bytes())
        )
    }
}

/// FNV-1a: a small, stable hash (not for anything an attacker picks against).
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
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
        let c = Cursor::new("cursor-1");
        assert_eq!(
            Message::key_of(&msg(r#"{"message_id":18446744073709551615}"#), &c, 0),
            "m:18446744073709551615"
        );
        // Fields the sender chooses are not keys: two senders with the same
        // client_id or seq get different keys.
        let a = Message::key_of(&msg(r#"{"client_id":"x","from_user_id":"a"}"#), &c, 0);
        let b = Message::key_of(&msg(r#"{"client_id":"x","from_user_id":"b"}"#), &c, 1);
        assert_ne!(a, b);
        assert!(!a.contains('x'), "{a}");
        // The same position from the same cursor: the same key (a replayed
        // batch collapses); from another cursor, another.
        assert_eq!(a, Message::key_of(&msg(r#"{"seq":9}"#), &c, 0));
        assert_ne!(
            a,
            Message::key_of(&msg(r#"{"seq":9}"#), &Cursor::new("cursor-2"), 0)
        );
    }

    #[test]
    fn conversation_prefers_group() {
        let b = AccountId::from("b");
        let m = Message::new(
            &b,
            "k".into(),
            msg(r#"{"from_user_id":"u","group_id":"g"}"#),
        );
        assert_eq!(m.conversation(), "g");
        let m = Message::new(&b, "k".into(), msg(r#"{"from_user_id":"u","group_id":""}"#));
        assert_eq!(m.conversation(), "u");
        assert_eq!(m.sender(), "u");
    }
}
