//! Replies that are never lost, never doubled, and never held up by another
//! user's conversation.
//!
//! Every outbound message is written to the store's outbox, with its
//! `client_id`, before it is sent, and leaves it once the server accepted it
//! (or it can never go). The store queues a message only if its
//! conversation can take it ([`ReplyLimits`](crate::store::ReplyLimits)): the reply budget since the
//! user's last message, and the window after it. A send that cannot go
//! fails here, before the server, with [`Error::ConversationClosed`].
//!
//! The server answers several refusals with the same bare `ret -2`. One
//! about a conversation (a stale context token, the budget, the window)
//! closes that conversation until the user writes again and delays no one
//! else. Only evidence that the limit is the account's (an `errmsg` that
//! says so, or bare refusals from [`ACCOUNT_EVIDENCE`] conversations within
//! [`EVIDENCE_WINDOW`]) holds the account's sends, for a cooldown that
//! doubles from [`FIRST_COOLDOWN`] while refusals go on and resets after a
//! send goes through.
//!
//! Sends that fail for a passing reason (the network, a 5xx, the account's
//! cooldown) stay queued and
//! go out later in order per conversation, with the same `client_id`s: the
//! runner retries them, and [`Bot::flush_outbox`](crate::Bot::flush_outbox) does on demand. The rule
//! for a caller: a message still in the outbox comes back as a [`Sent`]
//! with [`waiting`](Sent::waiting) set (do not send it again: it will go);
//! a message that left it without being delivered comes back as an error.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use ilink_proto::{
    AccountId, ContextToken, MessageId, MessageItem, SendMessageRequest, UserId, WeixinMessage,
};
use tokio::time::Instant;

use crate::Error;
use crate::account::AccountCore;
use crate::pacing::Pacer;
use crate::store::{Admission, OutboxEntry, Refusal, now_ms, rows};
use crate::sync::lock;

/// The first account-wide cooldown; each further one in a row doubles, up
/// to [`ClientBuilder::throttle_cooldown`](crate::ClientBuilder::throttle_cooldown).
pub const FIRST_COOLDOWN: Duration = Duration::from_secs(30);

/// Bare `ret -2` refusals from this many conversations (that had budget
/// left) within [`EVIDENCE_WINDOW`] mean the limit is the account's.
pub const ACCOUNT_EVIDENCE: usize = 3;

/// See [`ACCOUNT_EVIDENCE`].
pub const EVIDENCE_WINDOW: Duration = Duration::from_secs(60);

pub use crate::config::{DEFAULT_REPLY_BUDGET, DEFAULT_REPLY_WINDOW};

/// Words in an `errmsg` that say a refusal is about the account's rate, not
/// one conversation.
const ACCOUNT_WORDS: &[&str] = &["rate", "limit", "frequen", "too many", "频繁", "限制"];

/// One message of a send: delivered, or waiting in the outbox.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Sent {
    /// The `client_id` it carries (the same on every attempt).
    pub client_id: String,
    /// The server's id for it, once delivered (when the server gave one).
    pub message_id: Option<MessageId>,
    /// Why it waits, when it could not go yet for a passing reason (the
    /// network, a 5xx, the account's send cooldown): it stays in the
    /// outbox and goes out later with the same `client_id`, in order after
    /// the conversation's earlier messages (the runner sends it, or
    /// [`Bot::flush_outbox`](crate::Bot::flush_outbox)).
    pub waiting: Option<Arc<Error>>,
}

impl Sent {
    /// Whether the server accepted it.
    pub fn is_delivered(&self) -> bool {
        self.waiting.is_none()
    }
}

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
    fn note_failure(&self, e: &Error) {
        let ours = match e {
            Error::Partial { source, .. } => is_sdk_failure(source),
            e => is_sdk_failure(e),
        };
        if let (Ids::Reply(r), true) = (self, ours) {
            r.sdk_failed.store(true, Ordering::Release);
        }
    }

    fn next(&self, core: &AccountCore, to: &UserId) -> String {
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

/// A queued message that can never go: it left the outbox.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Undeliverable {
    /// The recipient.
    pub user: UserId,
    /// Its `client_id`.
    pub client_id: String,
    /// Why.
    pub error: Arc<Error>,
}

/// What [`Bot::flush_outbox`](crate::Bot::flush_outbox) did.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct FlushReport {
    /// Messages the server accepted.
    pub delivered: usize,
    /// Messages still waiting (a passing failure, or the account's
    /// cooldown).
    pub waiting: usize,
    /// Messages that can never go; they left the outbox.
    pub undeliverable: Vec<Undeliverable>,
    /// Why the first waiting message waits, if one does.
    pub waiting_because: Option<Arc<Error>>,
}

/// How many more messages a conversation can take now.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReplyBudget {
    /// Messages left until the user writes again (`None`: no budget applies,
    /// or the user never wrote to this store).
    pub left: Option<u32>,
    /// When the window after the user's last message closes, milliseconds
    /// since the Unix epoch (`None`: no window applies, or the user never
    /// wrote).
    pub open_until_ms: Option<u64>,
    /// Why no message can go now, if none can. Every reason ends when the
    /// user writes again.
    pub closed: Option<Refusal>,
}

/// Where undeliverable messages are reported.
pub(crate) type LostListener = Arc<dyn Fn(&Undeliverable) + Send + Sync>;

/// One account's outbox: what it sends, through its pacing and its reply
/// governance, on the account's core.
pub(crate) struct Outbox {
    pub(crate) core: Arc<AccountCore>,
    governor: Governor,
    pacer: Pacer,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox")
            .field("account", &self.core.id)
            .finish_non_exhaustive()
    }
}

/// One account's reply governance: the per-conversation lanes that keep
/// sends in order, the evidence of account-wide refusals, and the cooldown
/// level.
#[derive(Default)]
pub(crate) struct Governor {
    /// One lock per conversation with a send in progress.
    lanes: Mutex<HashMap<UserId, Arc<tokio::sync::Mutex<()>>>>,
    /// Recent bare refusals: when, and whose conversation.
    evidence: Mutex<VecDeque<(Instant, UserId)>>,
    /// Cooldowns in a row.
    level: AtomicU32,
    /// Wakes the runner's outbox task while it waits for a retry.
    retry_now: tokio::sync::Notify,
    /// The runner's outbox drain, while a runner runs.
    drain: Mutex<Option<Drain>>,
    /// Tells one runner's drain from the next.
    drains: AtomicU32,
}

/// The runner's outbox drain. Its task runs only while the outbox has
/// work: an idle account holds no task, 10,000 accounts over.
struct Drain {
    /// Which drain this is (see [`Governor::drains`]).
    id: u32,
    /// The outbox it drains (weak: the outbox owns this drain, and a
    /// strong reference would keep it alive in a cycle).
    outbox: Weak<Outbox>,
    /// Where the runner wants undeliverable messages reported.
    report: LostListener,
    /// The task, while one runs.
    task: Option<tokio::task::AbortHandle>,
    /// Something was left queued since the task last read the outbox.
    again: bool,
}

impl Governor {
    fn lane(&self, user: &UserId) -> Arc<tokio::sync::Mutex<()>> {
        let mut lanes = lock(&self.lanes);
        // Lanes nobody holds are forgotten, so the map stays the
        // conversations being sent to.
        if lanes.len() > 64 {
            lanes.retain(|_, l| Arc::strong_count(l) > 1);
        }
        lanes.entry(user.clone()).or_default().clone()
    }

    /// Records a bare refusal in `user`'s conversation; returns the other
    /// conversations refused within the window when there is now evidence
    /// that the limit is the account's.
    fn refused(&self, user: &UserId) -> Option<Vec<UserId>> {
        let now = Instant::now();
        let mut evidence = lock(&self.evidence);
        while evidence
            .front()
            .is_some_and(|(at, _)| now.duration_since(*at) > EVIDENCE_WINDOW)
        {
            evidence.pop_front();
        }
        evidence.push_back((now, user.clone()));
        let users: HashSet<&UserId> = evidence.iter().map(|(_, u)| u).collect();
        if users.len() < ACCOUNT_EVIDENCE {
            return None;
        }
        let others = users.into_iter().filter(|u| *u != user).cloned().collect();
        evidence.clear();
        Some(others)
    }

    fn report(&self, lost: &Undeliverable) {
        tracing::warn!(
            user = %lost.user,
            client_id = %lost.client_id,
            error = %lost.error.report(),
            "a queued message can never be delivered; it left the outbox"
        );
        let listener = lock(&self.drain).as_ref().map(|d| d.report.clone());
        if let Some(l) = listener {
            l(lost);
        }
    }

    /// Something was left queued: the runner's drain (if a runner runs)
    /// sends it, starting its task if none runs.
    fn wake(&self) {
        let mut drain = lock(&self.drain);
        let Some(d) = drain.as_mut() else {
            return;
        };
        d.again = true;
        // (A task that panicked is finished too: another starts.)
        if d.task.as_ref().is_some_and(|t| !t.is_finished()) {
            self.retry_now.notify_one();
            return;
        }
        // (Outside a runtime, as when a send is dropped with its runtime,
        // there is nothing to start: the next run's drain sends it.)
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let Some(outbox) = d.outbox.upgrade() else {
            return;
        };
        let task = runtime.spawn(drain_outbox(outbox, d.id));
        d.task = Some(task.abort_handle());
    }

    /// Before the drain `id` reads the outbox: what was queued until now
    /// it will see. `false` if the drain is no longer the runner's.
    fn reading(&self, id: u32) -> bool {
        match lock(&self.drain).as_mut() {
            Some(d) if d.id == id => {
                d.again = false;
                true
            }
            _ => false,
        }
    }

    /// The drain `id` found nothing waiting: it ends, unless something was
    /// queued since it read (then it reads again: `false`).
    fn idle(&self, id: u32) -> bool {
        match lock(&self.drain).as_mut() {
            Some(d) if d.id == id => {
                if d.again {
                    return false;
                }
                d.task = None;
                true
            }
            _ => true,
        }
    }
}

/// Wakes the runner's outbox drain when dropped, unless disarmed.
struct Nudge<'a>(Option<&'a Governor>);

impl Nudge<'_> {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for Nudge<'_> {
    fn drop(&mut self) {
        if let Some(governor) = self.0 {
            governor.wake();
        }
    }
}

/// What became of one queued message in a delivery run.
enum Outcome {
    Delivered(Option<MessageId>),
    Waiting(Arc<Error>),
    Failed(Error),
}

/// Why a delivery run stopped before the end of a conversation's queue.
enum Stop {
    /// A passing failure: the rest wait.
    Wait(Arc<Error>),
    /// The conversation closed: the rest can never go.
    Closed(Refusal),
}

fn is_account_wide(errmsg: Option<&str>) -> bool {
    let Some(msg) = errmsg else {
        return false;
    };
    let msg = msg.to_lowercase();
    ACCOUNT_WORDS.iter().any(|w| msg.contains(w))
}

impl Outbox {
    /// The outbox of an account.
    pub(crate) fn new(core: Arc<AccountCore>) -> Self {
        Self {
            pacer: Pacer::new(core.config.pacing),
            governor: Governor::default(),
            core,
        }
    }

    fn id(&self) -> &AccountId {
        &self.core.id
    }

    fn store(&self) -> &dyn crate::store::Store {
        self.core.store()
    }

    async fn fenced(&self) -> Result<Option<Arc<crate::store::Lease>>, Error> {
        self.core.fenced().await
    }

    fn map_err(&self, err: ilink_http::Error) -> Error {
        self.core.map_err(err)
    }
}

impl Outbox {
    /// Removes a message from the outbox under `lease`, waiting out a store
    /// that fails for a passing reason.
    async fn dequeue(
        &self,
        lease: Option<&crate::store::Lease>,
        client_id: &str,
    ) -> Result<(), Error> {
        crate::store::retry_transient("removing a sent message from the outbox", || {
            self.store().dequeue(lease, self.id(), client_id)
        })
        .await
        .map_err(|e| match self.core.fence.get() {
            Some(fence) => fence.note(e),
            None => e,
        })?;
        Ok(())
    }

    /// Sends items to a target, one message each: its recipient resolved
    /// (see [`AccountCore::recipient`]), then queued and delivered.
    pub(crate) async fn send(
        &self,
        target: Target,
        items: Vec<MessageItem>,
    ) -> Result<Vec<Sent>, Error> {
        let (to, token) = self.resolve(&target).await?;
        self.send_items(&to, token, items, &target.ids).await
    }

    /// A target's recipient as the server knows it and its context token
    /// (see [`AccountCore::recipient`]); a store failure here is the SDK's
    /// (see [`Ids::sdk_failed`]).
    pub(crate) async fn resolve(
        &self,
        target: &Target,
    ) -> Result<(UserId, Option<ContextToken>), Error> {
        self.core
            .recipient(&target.to, target.context_token.clone())
            .await
            .inspect_err(|e| target.ids.note_failure(e))
    }

    /// Queues items to `to`, one message each, then delivers what is queued
    /// to `to`, in order.
    pub(crate) async fn send_items(
        &self,
        to: &UserId,
        token: Option<ContextToken>,
        items: Vec<MessageItem>,
        ids: &Ids,
    ) -> Result<Vec<Sent>, Error> {
        let sent = Box::pin(self.queue_and_deliver(to, token, items, ids)).await;
        if let Err(e) = &sent {
            ids.note_failure(e);
        }
        sent
    }

    async fn queue_and_deliver(
        &self,
        to: &UserId,
        token: Option<ContextToken>,
        items: Vec<MessageItem>,
        ids: &Ids,
    ) -> Result<Vec<Sent>, Error> {
        if to.is_empty() {
            return Err(Error::NoRecipient);
        }
        if token.is_none() {
            tracing::warn!("sending without a context token: the message may not reach the chat");
        }
        let now = now_ms();
        let mut entries = Vec::with_capacity(items.len());
        for item in items {
            let client_id = ids.next(&self.core, to);
            let msg = WeixinMessage::outbound(to.as_str(), client_id.clone(), item)
                .with_context_token(token.clone());
            let value = serde_json::to_value(&msg).map_err(|e| {
                Error::Io(std::io::Error::other(format!(
                    "an outbound message did not encode: {e}"
                )))
            })?;
            entries.push(OutboxEntry::new(client_id, to.clone(), value, now));
        }
        let ours: Vec<String> = entries.iter().map(|e| e.client_id.clone()).collect();
        let limits = self.core.config.reply_limits;
        // While a poller of this client holds the account, its lease fences
        // the queueing: a process that lost it queues nothing.
        let lease = self.fenced().await?;
        // A store that fails for a passing reason (another process holds
        // SQLite's write lock) is waited for: the reply is not lost to it.
        let admission = crate::store::retry_transient("queueing a message", || {
            self.store()
                .enqueue(lease.as_deref(), self.id(), to, entries.clone(), limits)
        })
        .await?;
        match admission {
            Admission::Refused(refusal) => {
                return Err(Error::ConversationClosed {
                    user: to.clone(),
                    refusal,
                });
            }
            Admission::Queued { .. } => {}
        }
        // From here on something may be left queued however this ends (an
        // error, a drop half-way): the runner's drain is woken then, unless
        // everything of ours went.
        let nudge = Nudge(Some(&self.governor));
        let mut outcomes = self.deliver(to).await?;
        let total = ours.len();
        let mine: Vec<(String, Option<Outcome>)> = ours
            .into_iter()
            .map(|id| {
                let outcome = outcomes.remove(&id);
                (id, outcome)
            })
            .collect();
        // Earlier messages of the conversation that this run found unable
        // to go are reported too: never silently.
        for (client_id, outcome) in outcomes {
            if let Outcome::Failed(e) = outcome {
                self.governor.report(&Undeliverable {
                    user: to.clone(),
                    client_id,
                    error: Arc::new(e),
                });
            }
        }
        let mut sent = Vec::with_capacity(total);
        let mut waiting = false;
        for (client_id, outcome) in mine {
            match outcome {
                Some(Outcome::Delivered(message_id)) => sent.push(Sent {
                    client_id,
                    message_id,
                    waiting: None,
                }),
                Some(Outcome::Waiting(cause)) => {
                    waiting = true;
                    sent.push(Sent {
                        client_id,
                        message_id: None,
                        waiting: Some(cause),
                    });
                }
                Some(Outcome::Failed(e)) if sent.is_empty() => return Err(e),
                Some(Outcome::Failed(e)) => {
                    return Err(Error::Partial {
                        sent: sent.len(),
                        total,
                        source: Box::new(e),
                    });
                }
                // Another delivery run (the runner's, a concurrent send)
                // took it and accepted it.
                None => sent.push(Sent {
                    client_id,
                    message_id: None,
                    waiting: None,
                }),
            }
        }
        if !waiting {
            nudge.disarm();
        }
        Ok(sent)
    }

    /// Delivers the messages queued to `user`, oldest first, until one
    /// fails for a passing reason (it and the rest wait) or the
    /// conversation closes (they can never go).
    async fn deliver(&self, user: &UserId) -> Result<HashMap<String, Outcome>, Error> {
        let governor = &self.governor;
        let lane = governor.lane(user);
        let _turn = lane.lock().await;
        let queued: Vec<OutboxEntry> =
            crate::store::retry_transient("reading the outbox", || self.store().outbox(self.id()))
                .await?
                .into_iter()
                .filter(|e| &e.user == user)
                .collect();
        let mut outcomes = HashMap::with_capacity(queued.len());
        if queued.is_empty() {
            return Ok(outcomes);
        }
        let mut lease = self.fenced().await?;
        let as_of = crate::store::retry_transient("reading a conversation", || {
            self.store().conversation(self.id(), user)
        })
        .await?
        .map_or(0, |c| c.last_inbound_ms);
        let mut stop: Option<Stop> = None;
        for entry in queued {
            let client_id = entry.client_id.clone();
            match &stop {
                Some(Stop::Wait(cause)) => {
                    outcomes.insert(client_id, Outcome::Waiting(cause.clone()));
                    continue;
                }
                Some(Stop::Closed(refusal)) => {
                    self.dequeue(lease.as_deref(), &client_id).await?;
                    outcomes.insert(
                        client_id,
                        Outcome::Failed(Error::ConversationClosed {
                            user: user.clone(),
                            refusal: *refusal,
                        }),
                    );
                    continue;
                }
                None => {}
            }
            if self.throttled_for().is_some() {
                let cause = Arc::new(Error::Throttled {
                    errmsg: Some("waiting out the account's send cooldown".to_owned()),
                });
                stop = Some(Stop::Wait(cause.clone()));
                outcomes.insert(client_id, Outcome::Waiting(cause));
                continue;
            }
            let msg: WeixinMessage = match serde_json::from_value(entry.message) {
                Ok(m) => m,
                Err(e) => {
                    self.dequeue(lease.as_deref(), &client_id).await?;
                    outcomes.insert(
                        client_id,
                        Outcome::Failed(Error::Store(rows::corrupt("an outbox entry", e))),
                    );
                    continue;
                }
            };
            // The lease checked again before the message leaves (and by
            // `send_message` after its pacing): a process stopped past its
            // lease learns it lost it here.
            lease = self.fenced().await?;
            match self.send_message(msg).await {
                Ok(message_id) => {
                    self.dequeue(lease.as_deref(), &client_id).await?;
                    governor.level.store(0, Ordering::Relaxed);
                    outcomes.insert(client_id, Outcome::Delivered(message_id));
                }
                Err(e) if e.is_retryable() => {
                    // Passing: the network, a 5xx.
                    let cause = Arc::new(e);
                    stop = Some(Stop::Wait(cause.clone()));
                    outcomes.insert(client_id, Outcome::Waiting(cause));
                }
                Err(e) if e.is_session_expired() => {
                    // This message fails loudly (its sender must know the
                    // bot is logged out); the rest wait for a new login.
                    self.dequeue(lease.as_deref(), &client_id).await?;
                    stop = Some(Stop::Wait(Arc::new(Error::SessionExpired {
                        account: self.id().clone(),
                    })));
                    outcomes.insert(client_id, Outcome::Failed(e));
                }
                Err(Error::Throttled { errmsg }) => {
                    let account_wide = is_account_wide(errmsg.as_deref()) || {
                        match governor.refused(user) {
                            Some(others) => {
                                // They were refused for the account's rate,
                                // not for their conversations.
                                for other in others {
                                    self.store()
                                        .set_closed(self.id(), &other, false, u64::MAX)
                                        .await?;
                                }
                                true
                            }
                            None => false,
                        }
                    };
                    if account_wide {
                        self.start_cooldown();
                        let cause = Arc::new(Error::Throttled { errmsg });
                        stop = Some(Stop::Wait(cause.clone()));
                        outcomes.insert(client_id, Outcome::Waiting(cause));
                    } else {
                        tracing::warn!(
                            %user,
                            "the server refused a message in this conversation (ret -2); \
                             closed until the user writes again"
                        );
                        self.store()
                            .set_closed(self.id(), user, true, as_of)
                            .await?;
                        self.dequeue(lease.as_deref(), &client_id).await?;
                        stop = Some(Stop::Closed(Refusal::Closed));
                        outcomes.insert(
                            client_id,
                            Outcome::Failed(Error::ConversationClosed {
                                user: user.clone(),
                                refusal: Refusal::Closed,
                            }),
                        );
                    }
                }
                Err(e) => {
                    // It can never go as it is (a refusal, an answer that
                    // does not decode).
                    self.dequeue(lease.as_deref(), &client_id).await?;
                    outcomes.insert(client_id, Outcome::Failed(e));
                }
            }
        }
        Ok(outcomes)
    }

    /// Holds every send of the account for the next cooldown: each in a row
    /// twice as long as the last, up to the configured longest.
    fn start_cooldown(&self) {
        let level = self.governor.level.fetch_add(1, Ordering::Relaxed);
        let longest = self.core.config.throttle_cooldown;
        let cooldown = FIRST_COOLDOWN
            .checked_mul(1u32 << level.min(16))
            .unwrap_or(longest)
            .min(longest);
        tracing::warn!(
            ?cooldown,
            "the account's sends are rate limited (ret -2); holding them for a cooldown"
        );
        self.pacer.penalise(Instant::now() + cooldown);
    }

    /// Sends what waits in the account's outbox, in order per conversation
    /// (the runner does this by itself while it runs).
    ///
    /// # Errors
    ///
    /// [`Error::Store`].
    pub(crate) async fn flush_outbox(&self) -> Result<FlushReport, Error> {
        let queued = self.store().outbox(self.id()).await?;
        let mut users: Vec<UserId> = Vec::new();
        for entry in &queued {
            if !users.contains(&entry.user) {
                users.push(entry.user.clone());
            }
        }
        let mut report = FlushReport::default();
        for user in users {
            for (client_id, outcome) in self.deliver(&user).await? {
                match outcome {
                    Outcome::Delivered(_) => report.delivered += 1,
                    Outcome::Waiting(cause) => {
                        report.waiting += 1;
                        report.waiting_because.get_or_insert(cause);
                    }
                    Outcome::Failed(e) => {
                        let lost = Undeliverable {
                            user: user.clone(),
                            client_id,
                            error: Arc::new(e),
                        };
                        self.governor.report(&lost);
                        report.undeliverable.push(lost);
                    }
                }
            }
        }
        Ok(report)
    }

    /// Takes the messages of a send that still wait in the outbox back out
    /// (a one-shot caller, a command line, gives up on them rather than
    /// leave them for a later run), and returns why the first one waited.
    ///
    /// # Errors
    ///
    /// [`Error::Store`].
    pub(crate) async fn withdraw_waiting(
        &self,
        sent: &[Sent],
    ) -> Result<Option<Arc<Error>>, Error> {
        let mut why = None;
        for s in sent {
            if let Some(w) = &s.waiting {
                let lease = self.fenced().await?;
                self.store()
                    .dequeue(lease.as_deref(), self.id(), &s.client_id)
                    .await?;
                why.get_or_insert_with(|| w.clone());
            }
        }
        Ok(why)
    }

    /// How many more messages `user`'s conversation can take now.
    ///
    /// # Errors
    ///
    /// [`Error::Store`].
    pub(crate) async fn reply_budget(&self, user: impl Into<UserId>) -> Result<ReplyBudget, Error> {
        let user = user.into();
        let limits = self.core.config.reply_limits;
        let conversation = self.store().conversation(self.id(), &user).await?;
        let Some(c) = conversation else {
            return Ok(ReplyBudget {
                left: None,
                open_until_ms: None,
                closed: None,
            });
        };
        let closed = rows::admit(Some(&c), 1, limits, now_ms()).err();
        Ok(ReplyBudget {
            left: limits.budget.map(|b| b.saturating_sub(c.replies)),
            open_until_ms: limits
                .window_ms
                .map(|w| c.last_inbound_ms.saturating_add(w)),
            closed,
        })
    }

    /// Fails with [`Error::ConversationClosed`] when `user`'s conversation
    /// cannot take `needed` messages now (checked before work that would be
    /// wasted, an upload; the queueing itself checks again).
    pub(crate) async fn check_budget(&self, user: &UserId, needed: u32) -> Result<(), Error> {
        let limits = self.core.config.reply_limits;
        let conversation = self.store().conversation(self.id(), user).await?;
        rows::admit(conversation.as_ref(), needed, limits, now_ms()).map_err(|refusal| {
            Error::ConversationClosed {
                user: user.clone(),
                refusal,
            }
        })
    }

    /// Sends one prepared message: paced, retried with the same `client_id`
    /// on retryable failures. It does not pass through the outbox; use
    /// [`Bot::send_text`](crate::Bot::send_text) and the other sends for that.
    ///
    /// # Errors
    ///
    /// [`Error::Throttled`] on `ret -2`, [`Error::SessionExpired`], or the
    /// last failure.
    pub(crate) async fn send_message(
        &self,
        msg: WeixinMessage,
    ) -> Result<Option<MessageId>, Error> {
        let handle = &self.core;
        let retry = self.core.config.send_retry;
        let started = Instant::now();
        let mut attempt = 1;
        loop {
            self.pacer.acquire().await;
            // The lease last, after any wait of the pacer or a retry: as
            // close to the request leaving as this layer gets.
            self.fenced().await?;
            let err = match handle
                .http
                .send_message(SendMessageRequest::new(msg.clone()))
                .await
            {
                Ok(resp) => {
                    handle.health.update(|h| h.messages_sent += 1);
                    return Ok(resp.message_id);
                }
                Err(e) => self.map_err(e),
            };
            let delay = match retry.next(attempt, started.elapsed()) {
                Some(delay) if err.is_retryable() => delay,
                _ => return Err(err),
            };
            tracing::warn!(
                attempt,
                ?delay,
                "send failed; retrying with the same client_id"
            );
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    /// How long the account's send cooldown lasts, if one runs: until then
    /// sends wait in the outbox instead of prolonging the server's penalty.
    pub(crate) fn throttled_for(&self) -> Option<Duration> {
        let until = self.pacer.penalty_until()?;
        let left = until.saturating_duration_since(Instant::now());
        (!left.is_zero()).then_some(left)
    }
}

/// How long the runner's outbox task waits before it tries a waiting
/// message again: the cooldown's rest, else a backoff on failures in a row.
fn retry_delay(outbox: &Outbox, failures: u32) -> Duration {
    if let Some(left) = outbox.throttled_for() {
        return left + Duration::from_millis(50);
    }
    outbox.core.config.send_retry.delay(failures.max(1))
}

/// Starts the runner's outbox drain: it sends what waits (what a crash
/// left, what a passing failure holds back), retrying until nothing does,
/// and starts again whenever a send leaves something waiting. Reports
/// undeliverable messages to `report`. Ends when the returned guard drops.
pub(crate) fn keep_sending(outbox: &Arc<Outbox>, report: LostListener) -> OutboxTask {
    let governor = &outbox.governor;
    let id = governor.drains.fetch_add(1, Ordering::Relaxed);
    let old = lock(&governor.drain).replace(Drain {
        id,
        outbox: Arc::downgrade(outbox),
        report,
        task: None,
        again: false,
    });
    if let Some(task) = old.and_then(|d| d.task) {
        task.abort();
    }
    governor.wake();
    OutboxTask {
        outbox: outbox.clone(),
        id,
    }
}

/// The drain's task: flushes until nothing waits, then ends.
async fn drain_outbox(outbox: Arc<Outbox>, id: u32) {
    let governor = &outbox.governor;
    let mut failures = 0u32;
    loop {
        if !governor.reading(id) {
            return;
        }
        // Boxed: the flush (sends, retries, the HTTP exchange) is large,
        // and the task's state would keep room for it while it waits.
        let delay = match Box::pin(outbox.flush_outbox()).await {
            Ok(r) if r.waiting == 0 => {
                if governor.idle(id) {
                    return;
                }
                failures = 0;
                continue;
            }
            Ok(r) => {
                failures = failures.saturating_add(1);
                if let Some(why) = &r.waiting_because {
                    tracing::debug!(waiting = r.waiting, error = %why.report(), "outbox messages wait");
                }
                retry_delay(&outbox, failures)
            }
            Err(e) if e.is_lease_lost() => {
                // Another process has the account: it sends what is queued.
                tracing::info!("the outbox drain stops: the account's lease was lost");
                return;
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                tracing::warn!(error = %e.report(), "could not read the outbox; trying again");
                retry_delay(&outbox, failures)
            }
        };
        tokio::select! {
            () = governor.retry_now.notified() => {}
            () = tokio::time::sleep(delay) => {}
        }
    }
}

/// Stops the runner's outbox drain when dropped.
pub(crate) struct OutboxTask {
    outbox: Arc<Outbox>,
    id: u32,
}

impl Drop for OutboxTask {
    fn drop(&mut self) {
        let mut drain = lock(&self.outbox.governor.drain);
        if drain.as_ref().is_some_and(|d| d.id == self.id) {
            let ours = drain.take();
            drop(drain);
            if let Some(task) = ours.as_ref().and_then(|d| d.task.as_ref()) {
                task.abort();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ReplyLimits;

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
        let u = ilink_crypto::random::unit();
        assert!((0.0..1.0).contains(&u));
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

    #[test]
    fn account_words() {
        assert!(is_account_wide(Some("rate limited")));
        assert!(is_account_wide(Some("操作过于频繁")));
        assert!(!is_account_wide(Some("")));
        assert!(!is_account_wide(None));
    }

    #[test]
    fn evidence_needs_several_conversations() {
        let g = Governor::default();
        assert!(g.refused(&UserId::from("a")).is_none());
        assert!(g.refused(&UserId::from("a")).is_none());
        assert!(g.refused(&UserId::from("b")).is_none());
        let others = g.refused(&UserId::from("c")).expect("three conversations");
        let mut others: Vec<String> = others.iter().map(ToString::to_string).collect();
        others.sort();
        assert_eq!(others, ["a", "b"]);
        // The evidence was used up.
        assert!(g.refused(&UserId::from("d")).is_none());
    }

    #[test]
    fn the_budget_rule() {
        let c = |at: u64, replies: u32, closed: bool| crate::store::Conversation {
            user: UserId::from("u"),
            last_inbound_ms: at,
            replies,
            closed,
        };
        let limits = ReplyLimits::new(Some(10), Some(Duration::from_secs(100)));
        let now = 1_000_000;
        assert!(rows::admit(None, 50, limits, now).is_ok());
        assert!(rows::admit(Some(&c(now, 9, false)), 1, limits, now).is_ok());
        assert_eq!(
            rows::admit(Some(&c(now, 9, false)), 2, limits, now),
            Err(Refusal::BudgetExhausted { left: 1, needed: 2 })
        );
        assert_eq!(
            rows::admit(Some(&c(now, 0, true)), 1, limits, now),
            Err(Refusal::Closed)
        );
        assert_eq!(
            rows::admit(Some(&c(now - 100_001, 0, false)), 1, limits, now),
            Err(Refusal::WindowPassed {
                last_inbound_ms: now - 100_001
            })
        );
        assert!(rows::admit(Some(&c(now, 99, false)), 1, ReplyLimits::none(), now).is_ok());
    }
}
