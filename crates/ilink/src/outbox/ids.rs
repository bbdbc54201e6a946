//! How a send is addressed and its messages named: the [`Target`] of text,
//! media and tool-call sends alike, and the `client_id`s (fresh, or derived
//! from the message replied to, so a handler run again sends the same ids).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use ilink_proto::{ContextToken, UserId};

use crate::Error;
use crate::account::AccountCore;

/// Where a send goes: the recipient, the context token it carries (`None`:
/// the recipient's cached one) and how its messages are named. Text, media
/// and tool-call sends, of a bot or of a reply, all go through one.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    pub(crate) to: UserId,
    pub(crate) context_token: Option<ContextToken>,
    pub(crate) ids: Ids,
}

impl Target {
    /// A send of its own to `to`: the cached context token, fresh ids.
    pub(crate) fn to(to: UserId) -> Self {
        Self {
            to,
            context_token: None,
            ids: Ids::Fresh,
        }
    }

    /// A reply to the message with `key` from `to`, carrying its context
    /// token, with ids derived from the message (see [`Ids::Reply`]).
    pub(crate) fn reply(to: UserId, context_token: Option<ContextToken>, key: &str) -> Self {
        Self {
            to,
            context_token,
            ids: Ids::reply(key),
        }
    }
}

/// How a send names its messages.
#[derive(Clone, Debug, Default)]
pub(crate) enum Ids {
    /// Fresh random ids (a send of its own).
    #[default]
    Fresh,
    /// Ids derived from the account, the inbound message's key and the
    /// reply's ordinal within its handler: a handler run again after a
    /// crash sends the same ids, and the server drops what it already has.
    Reply(Arc<ReplyIds>),
}

#[derive(Debug)]
pub(crate) struct ReplyIds {
    key: String,
    next: AtomicU32,
    /// A reply failed inside the SDK (its store, its lease, its session):
    /// the runner leaves the message pending rather than count the failure
    /// as the handler's.
    sdk_failed: std::sync::atomic::AtomicBool,
}

impl Ids {
    pub(crate) fn reply(key: &str) -> Self {
        Ids::Reply(Arc::new(ReplyIds {
            key: key.to_owned(),
            next: AtomicU32::new(0),
            sdk_failed: std::sync::atomic::AtomicBool::new(false),
        }))
    }

    /// Whether a reply under these ids failed inside the SDK.
    pub(crate) fn sdk_failed(&self) -> bool {
        match self {
            Ids::Fresh => false,
            Ids::Reply(r) => r.sdk_failed.load(Ordering::Acquire),
        }
    }

    /// Records a failed send when the failure is the SDK's, not the
    /// handler's: the store (after its retries), a lost lease, an expired
    /// session, a message that could not be encoded.
    pub(super) fn note_failure(&self, e: &Error) {
        let ours = match e {
            Error::Partial { source, .. } => is_sdk_failure(source),
            e => is_sdk_failure(e),
        };
        if let (Ids::Reply(r), true) = (self, ours) {
            r.sdk_failed.store(true, Ordering::Release);
        }
    }

    pub(super) fn next(&self, core: &AccountCore, to: &UserId) -> String {
        let prefix = &core.config.client_id_prefix;
        match self {
            Ids::Fresh => client_id(prefix),
            Ids::Reply(r) => {
                let ordinal = r.next.fetch_add(1, Ordering::Relaxed);
                reply_client_id(prefix, core.id.as_str(), to.as_str(), &r.key, ordinal)
            }
        }
    }
}

/// A fresh client id like the official client's:
/// `<prefix>:<unix ms>-<8 hex>`.
pub(crate) fn client_id(prefix: &str) -> String {
    format!(
        "{prefix}:{}-{:08x}",
        crate::store::now_ms(),
        ilink_crypto::random::varying_u64() as u32
    )
}

/// Whether a send's error is the SDK's own (its store, its lease, the
/// account's session, the transport), as opposed to a refusal the handler
/// must deal with (the conversation's budget or window, a bad argument).
fn is_sdk_failure(e: &Error) -> bool {
    matches!(e, Error::Store(_) | Error::Io(_)) || e.is_session_expired() || e.is_retryable()
}

/// `<prefix>:r<32 hex>`: the MD5 of the account, the recipient, the inbound
/// key and the ordinal (each id length-prefixed, so no two inputs run
/// together; the ordinal is fixed-width). A reply to another recipient from
/// the same handler never shares an id.
pub(crate) fn reply_client_id(
    prefix: &str,
    account: &str,
    to: &str,
    key: &str,
    ordinal: u32,
) -> String {
    let mut input = Vec::with_capacity(account.len() + to.len() + key.len() + 16);
    for part in [account, to, key] {
        input.extend_from_slice(&u32::try_from(part.len()).unwrap_or(u32::MAX).to_be_bytes());
        input.extend_from_slice(part.as_bytes());
    }
    input.extend_from_slice(&ordinal.to_be_bytes());
    let digest = ilink_crypto::md5(&input);
    format!("{prefix}:r{}", digest.to_hex())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids_are_unique_and_shaped() {
        let a = client_id("ilink");
        let b = client_id("ilink");
        assert_ne!(a, b);
        let (prefix, rest) = a.split_once(':').unwrap();
        assert_eq!(prefix, "ilink");
        let (ms, hex) = rest.split_once('-').unwrap();
        assert!(ms.parse::<u64>().is_ok());
        assert_eq!(hex.len(), 8);
    }

    #[test]
    fn reply_ids_are_stable_and_distinct() {
        let a = reply_client_id("ilink", "bot@im.bot", "u@im.wechat", "k1", 0);
        assert_eq!(
            a,
            reply_client_id("ilink", "bot@im.bot", "u@im.wechat", "k1", 0)
        );
        assert_ne!(
            a,
            reply_client_id("ilink", "bot@im.bot", "u@im.wechat", "k1", 1)
        );
        assert_ne!(
            a,
            reply_client_id("ilink", "bot@im.bot", "u@im.wechat", "k2", 0)
        );
        assert_ne!(
            a,
            reply_client_id("ilink", "other@im.bot", "u@im.wechat", "k1", 0)
        );
        // The recipient is part of the id.
        assert_ne!(
            a,
            reply_client_id("ilink", "bot@im.bot", "v@im.wechat", "k1", 0)
        );
        // No two inputs run together.
        assert_ne!(
            reply_client_id("ilink", "ab", "c", "k", 0),
            reply_client_id("ilink", "a", "bc", "k", 0)
        );
        assert!(a.starts_with("ilink:r") && a.len() == "ilink:r".len() + 32);
    }
}
