//! The simulator's state, by owner, each part behind a lock of its own in
//! [`Shared`](crate::shared::Shared): [`Accounts`] (accounts, tokens, QR
//! sessions and their update queues), [`Cdn`] (upload slots and stored
//! objects), [`Records`] (what clients did, for tests to read) and
//! [`Faults`] (what to inject next).

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ilink_crypto::MediaKey;
use ilink_proto::UploadMediaType;
use serde_json::Value;
use tokio::sync::Notify;

use crate::fault::{Fault, FaultKind, Route};
use crate::login::QrScript;
use crate::record::{
    DroppedDuplicate, NotifyCall, RequestRecord, SentMessage, TypingCall, Violation,
};

/// Message ids start above 2^53 so that clients that go through `f64` break.
pub(crate) const FIRST_MESSAGE_ID: u64 = (1 << 53) + 1;

/// Accounts and sessions: each bot's account with its update queue, the
/// tokens, the QR logins and their scripts, the message id counter.
pub(crate) struct Accounts {
    pub(crate) accounts: HashMap<String, Account>,
    /// token → (bot id, live)
    pub(crate) tokens: HashMap<String, TokenEntry>,
    pub(crate) qr: HashMap<String, QrSession>,
    pub(crate) scripts: VecDeque<QrScript>,
    pub(crate) next_message_id: u64,
    pub(crate) next_account: u64,
}

/// The CDN: upload slots handed out by getuploadurl, and stored objects by
/// their download parameter.
#[derive(Default)]
pub(crate) struct Cdn {
    pub(crate) uploads: HashMap<String, UploadSlot>,
    pub(crate) objects: HashMap<String, CdnObject>,
}

/// What clients did, for tests to read.
#[derive(Default)]
pub(crate) struct Records {
    pub(crate) requests: VecDeque<RequestRecord>,
    pub(crate) request_seq: u64,
    pub(crate) sent: Vec<SentMessage>,
    pub(crate) duplicates: Vec<DroppedDuplicate>,
    pub(crate) typing: Vec<TypingCall>,
    pub(crate) notify: Vec<NotifyCall>,
    pub(crate) violations: Vec<Violation>,
}

/// Faults to inject, in the order given.
#[derive(Default)]
pub(crate) struct Faults {
    pub(crate) faults: Vec<Fault>,
}

pub(crate) struct TokenEntry {
    pub(crate) bot_id: String,
    pub(crate) live: bool,
}

pub(crate) struct Account {
    pub(crate) owner_user_id: String,
    pub(crate) token: String,
    pub(crate) queue: VecDeque<Value>,
    /// Batches answered, by the cursor sequence they produced (for replay).
    pub(crate) history: Vec<(u64, Vec<Value>)>,
    pub(crate) cursor_seq: u64,
    pub(crate) wake: Arc<Notify>,
    /// context token → conversation it was issued for
    pub(crate) contexts: HashMap<String, ContextEntry>,
    /// user → their conversation: when they last wrote, replies since
    pub(crate) conversations: HashMap<String, Conversation>,
    pub(crate) typing_tickets: HashMap<String, String>,
    /// Users whose binding is fresh: getconfig answers them `ret -4`.
    pub(crate) fresh_bindings: std::collections::HashSet<String>,
    pub(crate) client_ids: HashMap<String, ilink_proto::MessageId>,
    pub(crate) send_times: VecDeque<Instant>,
    pub(crate) penalty_until: Option<Instant>,
    pub(crate) sends_during_penalty: u32,
    /// Sends refused for the reply window, and for the reply budget.
    pub(crate) window_refusals: u32,
    pub(crate) quota_refusals: u32,
    pub(crate) polls_in_flight: u32,
}

pub(crate) struct ContextEntry {
    pub(crate) user_id: String,
}

/// One user's conversation with a bot, as the server limits it: the bot may
/// answer within a window after the user's last message, so many times.
pub(crate) struct Conversation {
    pub(crate) last_inbound: Instant,
    pub(crate) replies: u32,
}

impl Account {
    /// Queues an inbound message from `from`, written `age` ago, for the
    /// bot (twice when `duplicate`): its context token, if it carries one,
    /// is the sender's, the sender's conversation opens again, and a held
    /// poll wakes.
    pub(crate) fn deliver(
        &mut self,
        from: &str,
        age: Duration,
        duplicate: bool,
        context_token: Option<&str>,
        message: Value,
    ) {
        if let Some(ctx) = context_token {
            self.contexts.insert(
                ctx.to_owned(),
                ContextEntry {
                    user_id: from.to_owned(),
                },
            );
        }
        self.user_wrote(from, age);
        if duplicate {
            self.queue.push_back(message.clone());
        }
        self.queue.push_back(message);
        self.wake.notify_one();
    }

    /// The user wrote (`age` ago): the conversation opens again.
    pub(crate) fn user_wrote(&mut self, user: &str, age: std::time::Duration) {
        let now = Instant::now();
        let at = now.checked_sub(age).unwrap_or(now);
        let conv = self
            .conversations
            .entry(user.to_owned())
            .or_insert(Conversation {
                last_inbound: at,
                replies: 0,
            });
        if at >= conv.last_inbound {
            conv.last_inbound = at;
            conv.replies = 0;
        }
    }
}

pub(crate) struct QrSession {
    pub(crate) script: QrScript,
    pub(crate) next_step: usize,
    pub(crate) local_tokens: Vec<String>,
    pub(crate) dead: bool,
    pub(crate) redirected: bool,
    pub(crate) pending_code: Option<PendingCode>,
    pub(crate) done: bool,
}

pub(crate) struct PendingCode {
    pub(crate) code: String,
    pub(crate) wrong: u32,
    pub(crate) max_wrong: u32,
}

pub(crate) struct UploadSlot {
    pub(crate) bot_id: String,
    pub(crate) filekey: String,
    pub(crate) media_type: UploadMediaType,
    pub(crate) rawsize: u64,
    pub(crate) md5: String,
    pub(crate) filesize: u64,
    pub(crate) key: MediaKey,
    pub(crate) is_thumb: bool,
    /// The download parameter, once the upload succeeded (retries reuse it).
    pub(crate) done: Option<String>,
}

pub(crate) struct CdnObject {
    /// The plaintext, when kept.
    pub(crate) plaintext: Option<Arc<Vec<u8>>>,
    pub(crate) size: u64,
    pub(crate) md5: String,
    /// `None`: served unencrypted.
    pub(crate) key: Option<MediaKey>,
    pub(crate) kind: String,
    /// The bot that uploaded it (`None` for inbound media).
    pub(crate) owner: Option<String>,
}

impl Account {
    pub(crate) fn new(owner_user_id: String, token: String) -> Self {
        Self {
            owner_user_id,
            token,
            queue: VecDeque::new(),
            history: Vec::new(),
            cursor_seq: 0,
            wake: Arc::new(Notify::new()),
            contexts: HashMap::new(),
            conversations: HashMap::new(),
            typing_tickets: HashMap::new(),
            fresh_bindings: std::collections::HashSet::new(),
            client_ids: HashMap::new(),
            send_times: VecDeque::new(),
            penalty_until: None,
            sends_during_penalty: 0,
            window_refusals: 0,
            quota_refusals: 0,
            polls_in_flight: 0,
        }
    }
}

impl Faults {
    /// The next fault for `route`, if one is left.
    pub(crate) fn take(&mut self, route: Route) -> Option<FaultKind> {
        let idx = self
            .faults
            .iter()
            .position(|f| f.route == route && f.count > 0)?;
        let fault = &mut self.faults[idx];
        fault.count -= 1;
        let kind = fault.kind.clone();
        if fault.count == 0 {
            self.faults.remove(idx);
        }
        Some(kind)
    }
}

impl Records {
    /// Records a request, keeping at most `limit`.
    pub(crate) fn record(&mut self, mut record: RequestRecord, limit: usize) -> u64 {
        record.seq = self.request_seq;
        self.request_seq += 1;
        if limit == 0 {
            return record.seq;
        }
        while self.requests.len() >= limit {
            self.requests.pop_front();
        }
        let seq = record.seq;
        self.requests.push_back(record);
        seq
    }

    pub(crate) fn violation(&mut self, route: Route, message: impl Into<String>) {
        let message = message.into();
        tracing::warn!(?route, %message, "protocol violation");
        self.violations.push(Violation { route, message });
    }
}

impl Default for Accounts {
    fn default() -> Self {
        Self {
            accounts: HashMap::new(),
            tokens: HashMap::new(),
            qr: HashMap::new(),
            scripts: VecDeque::new(),
            next_message_id: FIRST_MESSAGE_ID,
            next_account: 0,
        }
    }
}

impl Accounts {
    pub(crate) fn bot_for_token(&self, token: &str) -> Option<&str> {
        self.tokens
            .get(token)
            .filter(|t| t.live)
            .map(|t| t.bot_id.as_str())
    }

    pub(crate) fn next_message_id(&mut self) -> u64 {
        let id = self.next_message_id;
        self.next_message_id += 1;
        id
    }

    /// Creates a bot account with a fresh token.
    pub(crate) fn create_account(&mut self) -> (String, String, String) {
        self.next_account += 1;
        let n = self.next_account;
        let tag = crate::random::random_hex::<6>();
        let bot_id = format!("{tag}{n:04}@im.bot");
        let user_id = format!("o9sim_owner_{tag}{n}@im.wechat");
        let token = new_token(&bot_id);
        self.tokens.insert(
            token.clone(),
            TokenEntry {
                bot_id: bot_id.clone(),
                live: true,
            },
        );
        self.accounts
            .insert(bot_id.clone(), Account::new(user_id.clone(), token.clone()));
        (bot_id, user_id, token)
    }

    /// Issues a new token for a bot, revoking the old one.
    pub(crate) fn rebind(&mut self, bot_id: &str) -> Option<String> {
        let token = new_token(bot_id);
        let account = self.accounts.get_mut(bot_id)?;
        let old = std::mem::replace(&mut account.token, token.clone());
        // Waiters now, and a stored permit for a poll between its token check
        // and its wait.
        account.wake.notify_waiters();
        account.wake.notify_one();
        if let Some(entry) = self.tokens.get_mut(&old) {
            entry.live = false;
        }
        self.tokens.insert(
            token.clone(),
            TokenEntry {
                bot_id: bot_id.to_owned(),
                live: true,
            },
        );
        Some(token)
    }

    /// Revokes a bot's token: every call with it answers -14.
    pub(crate) fn expire(&mut self, bot_id: &str) -> bool {
        let Some(account) = self.accounts.get(bot_id) else {
            return false;
        };
        account.wake.notify_waiters();
        account.wake.notify_one();
        let token = account.token.clone();
        if let Some(entry) = self.tokens.get_mut(&token) {
            entry.live = false;
        }
        true
    }
}

fn new_token(bot_id: &str) -> String {
    format!("{bot_id}:{}", crate::random::random_hex::<16>())
}

/// Reply pacing the simulated server enforces per account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimit {
    /// Sends allowed within `window`.
    pub burst: u32,
    /// The window.
    pub window: Duration,
    /// The penalty once tripped.
    pub penalty: Duration,
    /// How much each send attempted during the penalty extends it.
    pub extend_per_attempt: Duration,
    /// Answer a bare `{"ret":-2}` (as the real server mostly does) instead
    /// of `errmsg: "rate limited"`.
    pub bare: bool,
}

impl RateLimit {
    /// What users report of the real service (about 3 sends within a second
    /// trip it), with a penalty scaled down from an hour for tests.
    pub fn reported(penalty: Duration) -> Self {
        Self {
            burst: 3,
            window: Duration::from_secs(1),
            penalty,
            extend_per_attempt: penalty / 2,
            bare: false,
        }
    }

    /// Refusals as a bare `{"ret":-2}`, with nothing saying that the limit
    /// is the account's.
    #[must_use]
    pub fn bare(mut self) -> Self {
        self.bare = true;
        self
    }
}
