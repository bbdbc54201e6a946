//! Quotes: what an inbound message quotes, from the quote itself or from the
//! messages the account received recently.

use std::collections::{HashMap, VecDeque};
use std::ops::Range;
use std::sync::Mutex;

use ilink_proto::{AccountId, ItemContent, MessageItem, OpaqueId, PartialText, WeixinMessage};
use serde_json::Value;

use crate::message::Message;

/// How many inbound messages an account remembers for resolving quotes.
pub(crate) const RECENT_MESSAGES: usize = 1_000;

/// Where a [`Quoted`] item came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum QuoteSource {
    /// The quote carried the quoted item (`ref_msg.message_item`).
    Embedded,
    /// The quote carried only `svr_id`; the item is that of a message this
    /// account received recently.
    RecentCache,
    /// The quoted item is unknown: only `svr_id` (and maybe a title) came,
    /// and no recent message has that id.
    Unresolved,
}

/// What a message quotes (`ref_msg`), resolved by [`Bot::quoted`](crate::Bot::quoted).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Quoted {
    /// The quoted message's server id, when the quote names it.
    pub svr_id: Option<OpaqueId>,
    /// The quote's summary title.
    pub title: Option<String>,
    /// The quoted item, when known.
    pub item: Option<MessageItem>,
    /// The selected part, when only part of a text was quoted.
    pub partial: Option<QuotedPart>,
    /// Where [`item`](Self::item) came from.
    pub resolved_from: QuoteSource,
}

impl Quoted {
    /// The quoted item's text, when it is a text item.
    pub fn text(&self) -> Option<&str> {
        match self.item.as_ref()?.content() {
            ItemContent::Text(t) => t.text.as_deref(),
            _ => None,
        }
    }

    /// The quoted text: the selected part when [`partial`](Self::partial)
    /// can be located in it, else the whole text.
    pub fn selected_text(&self) -> Option<&str> {
        let text = self.text()?;
        Some(
            self.partial
                .as_ref()
                .and_then(|p| p.select(text))
                .unwrap_or(text),
        )
    }
}

/// The selected part of a quoted text (`ref_msg.partial_text`), typed.
///
/// The selection runs from the [`start_index`](Self::start_index)-th
/// occurrence (from 0) of the fragment [`start`](Self::start) to the end of
/// the [`end_index`](Self::end_index)-th occurrence of [`end`](Self::end) in
/// the quoted text; [`quote_md5`](Self::quote_md5), when present, is the
/// MD5 of the selection. The wire form is kept in [`raw`](Self::raw).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct QuotedPart {
    /// The fragment the selection starts with.
    pub start: Option<String>,
    /// Which occurrence of `start`, from 0.
    pub start_index: Option<u32>,
    /// The fragment the selection ends with.
    pub end: Option<String>,
    /// Which occurrence of `end`, from 0.
    pub end_index: Option<u32>,
    /// Hex MD5 of the selected text.
    pub quote_md5: Option<String>,
    /// The wire form.
    pub raw: PartialText,
}

impl QuotedPart {
    /// Reads the wire form; fragments given as numbers are taken as their
    /// digits, indexes given as digit strings as numbers.
    pub fn from_wire(raw: &PartialText) -> Self {
        Self {
            start: raw.start.as_ref().and_then(value_text),
            start_index: raw.startindex.as_ref().and_then(value_index),
            end: raw.end.as_ref().and_then(value_text),
            end_index: raw.endindex.as_ref().and_then(value_index),
            quote_md5: raw.quotemd5.clone().filter(|m| !m.is_empty()),
            raw: raw.clone(),
        }
    }

    /// Where the selection lies in `text` (byte offsets), `None` when the
    /// fragments do not occur as described or the MD5 does not match.
    ///
    /// ```
    /// use ilink::QuotedPart;
    /// use ilink::proto::PartialText;
    ///
    /// let raw: PartialText = serde_json::from_str(
    ///     r#"{"start":"quick","startindex":0,"end":"brown","endindex":0}"#,
    /// ).unwrap();
    /// let part = QuotedPart::from_wire(&raw);
    /// assert_eq!(part.select("the quick brown fox"), Some("quick brown"));
    /// ```
    pub fn locate(&self, text: &str) -> Option<Range<usize>> {
        let from = match self.start.as_deref().filter(|s| !s.is_empty()) {
            Some(s) => nth_occurrence(text, s, self.start_index.unwrap_or(0), 0)?,
            None => 0,
        };
        let Some(end) = self.end.as_deref().filter(|e| !e.is_empty()) else {
            return self.verified(text, from..text.len());
        };
        let n = self.end_index.unwrap_or(0);
        // The occurrence counted in the whole text (the official reading);
        // when the digest disagrees, counted from the start of the selection.
        let whole = nth_occurrence(text, end, n, 0)
            .map(|at| from..at + end.len())
            .filter(|r| r.start <= r.end)
            .and_then(|r| self.verified(text, r));
        whole.or_else(|| {
            self.quote_md5.as_ref()?;
            let at = nth_occurrence(text, end, n, from)?;
            self.verified(text, from..at + end.len())
        })
    }

    /// The selected part of `text`; see [`locate`](Self::locate).
    pub fn select<'a>(&self, text: &'a str) -> Option<&'a str> {
        self.locate(text).map(|r| &text[r])
    }

    fn verified(&self, text: &str, range: Range<usize>) -> Option<Range<usize>> {
        match &self.quote_md5 {
            Some(md5) => {
                let actual = ilink_crypto::md5(text[range.clone()].as_bytes()).to_hex();
                actual.eq_ignore_ascii_case(md5.trim()).then_some(range)
            }
            None => Some(range),
        }
    }
}

/// The byte offset of the `n`-th occurrence (from 0) of `needle` in `text`
/// at or after `from`.
fn nth_occurrence(text: &str, needle: &str, n: u32, from: usize) -> Option<usize> {
    text.get(from..)?
        .match_indices(needle)
        .nth(usize::try_from(n).ok()?)
        .map(|(at, _)| from + at)
}

fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn value_index(v: &Value) -> Option<u32> {
    match v {
        Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The items of the last inbound messages of one account, by `message_id`
/// and by item `msg_id`, for quotes that carry only `svr_id`.
pub(crate) struct RecentMessages {
    inner: Mutex<Recent>,
}

struct Recent {
    capacity: usize,
    /// One entry per remembered message: its generation and its keys.
    order: VecDeque<(u64, Vec<String>)>,
    items: HashMap<String, (u64, MessageItem)>,
    generation: u64,
}

impl Default for RecentMessages {
    fn default() -> Self {
        Self::with_capacity(RECENT_MESSAGES)
    }
}

impl RecentMessages {
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            inner: Mutex::new(Recent {
                capacity: capacity.max(1),
                order: VecDeque::new(),
                items: HashMap::new(),
                generation: 0,
            }),
        }
    }

    /// Remembers a message, forgetting the oldest beyond the capacity.
    pub(crate) fn record(&self, msg: &WeixinMessage) {
        let Some(first) = msg.item_list.first() else {
            return;
        };
        let mut entries: Vec<(String, &MessageItem)> = Vec::new();
        if let Some(id) = msg.message_id {
            entries.push((id.get().to_string(), first));
        }
        for item in &msg.item_list {
            if let Some(id) = item.msg_id.as_ref().filter(|id| !id.as_str().is_empty()) {
                entries.push((id.as_str().to_owned(), item));
            }
        }
        if entries.is_empty() {
            return;
        }
        let mut recent = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        recent.generation += 1;
        let generation = recent.generation;
        let mut keys = Vec::with_capacity(entries.len());
        for (key, item) in entries {
            recent.items.insert(key.clone(), (generation, item.clone()));
            keys.push(key);
        }
        recent.order.push_back((generation, keys));
        while recent.order.len() > recent.capacity {
            let Some((old, keys)) = recent.order.pop_front() else {
                break;
            };
            for key in keys {
                // A later message may have taken the key over.
                if recent.items.get(&key).is_some_and(|(g, _)| *g == old) {
                    recent.items.remove(&key);
                }
            }
        }
    }

    /// The item a server id names, if it was seen recently.
    pub(crate) fn get(&self, id: &str) -> Option<MessageItem> {
        let recent = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        recent.items.get(id).map(|(_, item)| item.clone())
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .items
            .len()
    }
}

/// A media item to handle for an inbound message: one of its own, or, when
/// it has none, the one it quotes (see [`Bot::media_of`](crate::Bot::media_of)).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct InboundMedia {
    /// The image, voice, file or video item; download it with
    /// [`Bot::download`](crate::Bot::download).
    pub item: MessageItem,
    /// `None` for the message's own media; for quoted media, where the
    /// quoted item came from ([`QuoteSource::Embedded`] or
    /// [`QuoteSource::RecentCache`]).
    pub quoted: Option<QuoteSource>,
}

impl RecentMessages {
    /// The media a message to `account` brings (see
    /// [`Bot::media_of`](crate::Bot::media_of)).
    pub(crate) fn media_of(&self, account: &AccountId, msg: &Message) -> Vec<InboundMedia> {
        let own: Vec<InboundMedia> = msg
            .items()
            .iter()
            .filter(|i| i.media().is_some())
            .map(|i| InboundMedia {
                item: i.clone(),
                quoted: None,
            })
            .collect();
        if !own.is_empty() {
            return own;
        }
        self.quoted(account, msg)
            .and_then(|q| {
                let item = q.item.filter(|i| i.media().is_some())?;
                Some(InboundMedia {
                    item,
                    quoted: Some(q.resolved_from),
                })
            })
            .into_iter()
            .collect()
    }

    /// What a message to `account` quotes (see
    /// [`Bot::quoted`](crate::Bot::quoted)); the recent messages are those
    /// of `account`.
    pub(crate) fn quoted(&self, account: &AccountId, msg: &Message) -> Option<Quoted> {
        let quote = msg.items().iter().find_map(|i| i.ref_msg.as_deref())?;
        let svr_id = quote.svr_id.clone().filter(|id| !id.as_str().is_empty());
        let partial = quote.partial_text.as_ref().map(QuotedPart::from_wire);
        let (item, resolved_from) = match &quote.message_item {
            Some(item) => (Some(item.as_ref().clone()), QuoteSource::Embedded),
            None => {
                let cached = svr_id.as_ref().and_then(|id| {
                    if account != msg.account_id() {
                        return None;
                    }
                    self.get(id.as_str())
                });
                match cached {
                    Some(item) => (Some(item), QuoteSource::RecentCache),
                    None => (None, QuoteSource::Unresolved),
                }
            }
        };
        Some(Quoted {
            svr_id,
            title: quote.title.clone().filter(|t| !t.is_empty()),
            item,
            partial,
            resolved_from,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(json: &str) -> QuotedPart {
        QuotedPart::from_wire(&serde_json::from_str(json).unwrap())
    }

    #[test]
    fn selections() {
        let text = "one two one two three";
        let p = part(r#"{"start":"one","startindex":1,"end":"two","endindex":1}"#);
        assert_eq!(p.select(text), Some("one two"));
        let p = part(r#"{"start":"two","startindex":"0","end":"three","endindex":0}"#);
        assert_eq!(p.select(text), Some("two one two three"));
        assert_eq!(p.start_index, Some(0));
        let p = part(r#"{"start":"one","startindex":5,"end":"two","endindex":0}"#);
        assert_eq!(p.select(text), None, "no sixth occurrence");
        let p = part(r#"{"start":"three","startindex":0,"end":"one","endindex":0}"#);
        assert_eq!(p.select(text), None, "end before start");
        let p = part(r#"{"start":"two","startindex":1}"#);
        assert_eq!(p.select(text), Some("two three"));
        let p = part(r#"{"start":7,"end":8}"#);
        assert_eq!(p.start.as_deref(), Some("7"));
        assert_eq!(p.select("6 7 8 9"), Some("7 8"));
    }

    #[test]
    fn the_digest_decides() {
        let text = "a b a b";
        let md5 = ilink_crypto::md5(b"a b").to_hex();
        let p = part(&format!(
            r#"{{"start":"a","startindex":1,"end":"b","endindex":0,"quotemd5":"{md5}"}}"#
        ));
        // Counted in the whole text the first "b" lies before the start;
        // counted from the start, it is the selection the digest names.
        assert_eq!(p.locate(text), Some(4..7));
        let wrong =
            part(r#"{"start":"a","end":"b","quotemd5":"00000000000000000000000000000000"}"#);
        assert_eq!(wrong.select(text), None);
    }

    fn msg(json: &str) -> WeixinMessage {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn recent_messages_are_bounded_and_found_by_either_id() {
        let recent = RecentMessages::with_capacity(2);
        recent.record(&msg(
            r#"{"message_id":1,"item_list":[{"type":1,"msg_id":"v1:11","text_item":{"text":"a"}}]}"#,
        ));
        recent.record(&msg(
            r#"{"message_id":2,"item_list":[{"type":1,"text_item":{"text":"b"}}]}"#,
        ));
        let text = |id: &str| {
            recent
                .get(id)
                .and_then(|i| i.text_item)
                .and_then(|t| t.text)
        };
        assert_eq!(text("1").as_deref(), Some("a"));
        assert_eq!(text("v1:11").as_deref(), Some("a"));
        recent.record(&msg(
            r#"{"message_id":3,"item_list":[{"type":1,"text_item":{"text":"c"}}]}"#,
        ));
        assert_eq!(text("1"), None, "the oldest is forgotten");
        assert_eq!(text("v1:11"), None);
        assert_eq!(text("3").as_deref(), Some("c"));
        // A redelivery takes the key over; evicting the first copy keeps it.
        recent.record(&msg(
            r#"{"message_id":3,"item_list":[{"type":1,"text_item":{"text":"c"}}]}"#,
        ));
        recent.record(&msg(
            r#"{"message_id":4,"item_list":[{"type":1,"text_item":{"text":"d"}}]}"#,
        ));
        assert_eq!(text("3").as_deref(), Some("c"));
        assert_eq!(recent.len(), 2);
        recent.record(&msg(r#"{"message_id":5}"#));
        assert_eq!(recent.len(), 2, "messages without items are not remembered");
    }
}
