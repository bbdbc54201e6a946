//! The store conformance suite (feature `testing`): the checks every store
//! the project ships passes, for a store of your own to pass too.
//!
//! Each check drives a fresh store through the public [`Store`] trait and
//! asserts what the contract promises: credentials in save order, the
//! cursor with its batch, pending and acknowledged never both, the
//! deduplication window's bound, context tokens compared as the server
//! compares ids, leases that fence every write, the outbox's order and
//! reply budget, hostile ids kept apart. The one-line way to run them all,
//! one `#[test]` each, in a test file:
//!
//! ```
//! use ilink::store::testing::{Fixture, conformance};
//!
//! async fn make() -> Fixture {
//!     // Yours here; every check gets a new, empty store.
//!     Fixture::new(ilink::MemoryStore::new())
//! }
//!
//! conformance!(make);
//! # fn main() {}
//! ```
//!
//! The factory is async and runs on the suite's runtime, so a store that
//! connects to a server can connect there; a factory whose output is
//! `Option<Fixture>` may return `None` to skip (a server that is not
//! configured). [`run`] runs one check by name and [`CHECKS`] lists them,
//! for a harness of your own; [`Harness`] is the blocking facade the checks
//! are written on, useful for store-specific tests too.

use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use ilink_proto::{AccountId, BotToken, ContextToken, Cursor, UserId};
use serde_json::json;

use super::{
    Admission, Credentials, DEDUP_WINDOW, InboxEntry, Lease, OutboxEntry, ReceivedBatch, Refusal,
    ReplyLimits, Store, StoreError, TypingTicket,
};
use crate::sync::lock;

/// A fresh store for one check, with whatever it needs kept alive.
pub struct Fixture {
    store: Box<dyn Store>,
    keep: Option<Box<dyn Any + Send>>,
}

impl Fixture {
    /// A fixture of `store`.
    pub fn new(store: impl Store) -> Self {
        Self {
            store: Box::new(store),
            keep: None,
        }
    }

    /// Keeps `guard` (a temporary directory, a server handle) until the
    /// check ends, and drops it after the store.
    #[must_use]
    pub fn keeping(mut self, guard: impl Any + Send) -> Self {
        self.keep = Some(Box::new(guard));
        self
    }
}

impl std::fmt::Debug for Fixture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fixture").finish_non_exhaustive()
    }
}

/// One check of the suite.
#[derive(Clone, Copy)]
pub struct Check {
    /// Its name (a `#[test]`'s, in [`conformance!`]).
    pub name: &'static str,
    /// Runs it (panics on a failure, as a test does).
    pub run: fn(&Harness),
}

impl std::fmt::Debug for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Check").field("name", &self.name).finish()
    }
}

/// Every check, in the order they are listed.
pub const CHECKS: &[Check] = &[
    Check {
        name: "credentials_round_trip_in_save_order",
        run: credentials_round_trip_in_save_order,
    },
    Check {
        name: "remove_account_forgets_everything",
        run: remove_account_forgets_everything,
    },
    Check {
        name: "cursor_follows_commits",
        run: cursor_follows_commits,
    },
    Check {
        name: "inbox_commit_pending_ack",
        run: inbox_commit_pending_ack,
    },
    Check {
        name: "several_acks_in_one_go",
        run: several_acks_in_one_go,
    },
    Check {
        name: "duplicates_are_skipped",
        run: duplicates_are_skipped,
    },
    Check {
        name: "odd_keys_work",
        run: odd_keys_work,
    },
    Check {
        name: "dedup_window_is_bounded",
        run: dedup_window_is_bounded,
    },
    Check {
        name: "context_tokens_per_user",
        run: context_tokens_per_user,
    },
    Check {
        name: "typing_tickets_per_user",
        run: typing_tickets_per_user,
    },
    Check {
        name: "leases_are_exclusive_and_fence_every_write",
        run: leases_are_exclusive_and_fence_every_write,
    },
    Check {
        name: "no_key_is_both_pending_and_acknowledged",
        run: no_key_is_both_pending_and_acknowledged,
    },
    Check {
        name: "membership_counts_the_live",
        run: membership_counts_the_live,
    },
    Check {
        name: "hostile_account_ids_stay_apart",
        run: hostile_account_ids_stay_apart,
    },
    Check {
        name: "outbox_keeps_order_and_each_id_once",
        run: outbox_keeps_order_and_each_id_once,
    },
    Check {
        name: "outbox_reads_by_conversation",
        run: outbox_reads_by_conversation,
    },
    Check {
        name: "conversations_open_count_and_close",
        run: conversations_open_count_and_close,
    },
    Check {
        name: "outbox_tokens_and_tickets_are_fenced_by_the_lease",
        run: outbox_tokens_and_tickets_are_fenced_by_the_lease,
    },
    Check {
        name: "a_reply_counted_once_is_not_counted_again",
        run: a_reply_counted_once_is_not_counted_again,
    },
];

/// Runs the check called `name` on a store from `make`, on a runtime of its
/// own; skips (with a SKIP line on stderr) when `make` gives `None`.
///
/// # Panics
///
/// When the check fails, or no check has that name.
pub fn run<F, Fut, O>(name: &str, make: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = O>,
    O: Into<Option<Fixture>>,
{
    let check = CHECKS
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no store check is called {name:?}"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime for the store harness");
    let Some(fixture) = rt.block_on(make()).into() else {
        eprintln!("SKIP store check {name}: the factory gave no store");
        return;
    };
    let harness = Harness {
        store: fixture.store,
        rt,
        _keep: fixture.keep,
        leases: Mutex::default(),
    };
    (check.run)(&harness);
}

/// One `#[test]` per check of the suite, each on a fresh store from the
/// async factory given (see the [module docs](self)).
pub use crate::__ilink_store_conformance as conformance;

#[doc(hidden)]
#[macro_export]
macro_rules! __ilink_store_conformance {
    ($make:expr) => {
        $crate::__ilink_store_conformance!(@each $make; credentials_round_trip_in_save_order, remove_account_forgets_everything, cursor_follows_commits, inbox_commit_pending_ack, several_acks_in_one_go, duplicates_are_skipped, odd_keys_work, dedup_window_is_bounded, context_tokens_per_user, typing_tickets_per_user, leases_are_exclusive_and_fence_every_write, no_key_is_both_pending_and_acknowledged, membership_counts_the_live, hostile_account_ids_stay_apart, outbox_keeps_order_and_each_id_once, outbox_reads_by_conversation, conversations_open_count_and_close, outbox_tokens_and_tickets_are_fenced_by_the_lease, a_reply_counted_once_is_not_counted_again);
    };
    (@each $make:expr; $($check:ident),*) => {
        $(
            #[test]
            fn $check() {
                $crate::store::testing::run(stringify!($check), $make);
            }
        )*
    };
}

/// The account most checks use.
pub const ACCOUNT: &str = "bot-1";
/// A second account, kept apart from [`ACCOUNT`].
pub const OTHER: &str = "bot-2";
/// The harness's lease holder.
const HOLDER: &str = "conformance";

/// A store driven synchronously, on a runtime of its own, with a lease per
/// account taken on the first fenced write: each check reads as a sequence
/// of store calls. The methods take ids as `&str` and fail with the store's
/// own error.
pub struct Harness {
    store: Box<dyn Store>,
    rt: tokio::runtime::Runtime,
    /// What the store needs kept alive (a temporary directory), dropped after it.
    _keep: Option<Box<dyn Any + Send>>,
    leases: Mutex<HashMap<String, Lease>>,
}

impl Harness {
    /// Drives `store`.
    #[must_use]
    pub fn new(store: impl Store) -> Self {
        Self::with(|_| store)
    }

    /// Drives a store made on the harness's own runtime (a pooled
    /// client's connections live there).
    ///
    /// # Panics
    ///
    /// When no runtime can be made.
    #[must_use]
    pub fn with<S: Store>(make: impl FnOnce(&tokio::runtime::Runtime) -> S) -> Self {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime for the store harness");
        Self {
            store: Box::new(make(&rt)),
            rt,
            _keep: None,
            leases: Mutex::default(),
        }
    }

    /// Runs `f` on the harness's runtime.
    pub fn on<T>(&self, f: impl std::future::Future<Output = T>) -> T {
        self.rt.block_on(f)
    }

    /// This harness's lease on `account`, taken on first use.
    ///
    /// # Errors
    ///
    /// The store's.
    pub fn lease(&self, account: &str) -> Result<Lease, StoreError> {
        let mut leases = lock(&self.leases);
        if let Some(l) = leases.get(account) {
            return Ok(l.clone());
        }
        let lease = self.on(self.store.acquire(
            &AccountId::from(account),
            HOLDER,
            Duration::from_secs(600),
        ))?;
        leases.insert(account.to_owned(), lease.clone());
        Ok(lease)
    }

    /// [`Store`]'s `save_credentials`, blocking (fenced by [`lease`](Self::lease) where the call is).
    ///
    /// # Errors
    ///
    /// The store's.
    pub fn save_credentials(&self, c: &Credentials) -> Result<(), StoreError> {
        self.on(self.store.save_credentials(c))
    }
    /// [`Store`]'s `load_credentials`, blocking (fenced by [`lease`](Self::lease) where the call is).
    ///
    /// # Errors
    ///
    /// The store's.
    pub fn load_credentials(&self, account: &str) -> Result<Option<Credentials>, StoreError> {
        self.on(self.store.load_credentials(&AccountId::from(account)))
    }
    /// [`Store`]'s `accounts`, blocking (fenced by [`lease`](Self::lease) where the call is).
    ///
    /// # Errors
    ///
    /// The store's.
    pub fn accounts(&self) -> Result<Vec<Credentials>, StoreError> {
        self.on(self.store.accounts())
    }
    /// [`Store`]'s `remove_account`, blocking (fenced by [`lease`](Self::lease) where the call is).
    ///
    /// # Errors
    ///
    /// The store's.
    pub fn remove_account(&self, account: &str) -> Result<(), StoreError> {
        if let Some(lease) = lock(&self.leases).remove(account) {
            self.on(self.store.release(&lease))?;
        }
        self.on(self.store.remove_account(&AccountId::from(account)))
    }
    /// [`Store`]'s `load_cursor`, blocking (fenced by [`lease`](Self::lease) where the call is).
    ///
    /// # Errors
    ///
    /// The store's.
    pub fn load_cursor(&self, account: &str) -> Result<Option<String>, StoreError> {
        self.on(self.store.load_cursor(&AccountId::from(account)))
            .map(|c| c.map(Cursor::into_string))
    }
    /// [`Store`]'s `commit_batch`, blocking (fenced by [`lease`](Self::lease) where the call is).
    ///
    /// # Errors
    ///
    /// The store's.
    pub fn commit_batch(
        &self,
        account: &str,
        entries: Vec<InboxEntry>,
        cursor: &str,
    ) -> Result<Vec<InboxEntry>, StoreError> {
        let lease = self.lease(account)?;
        self.on(self
            .store
            .commit_batch(&lease, ReceivedBatch::new(entries, Cursor::from(cursor))))
    }
    /// [`Store`]'s `pending`, blocking (fenced by [`lease`](Self::lease) where the call is).
    ///
    /// # Errors
    ///
    /// The store's.
    pub fn pending(&self, account: &str) -> Result<Vec<InboxEntry>, StoreError> {
        self.on(self.store.pending(&AccountId::from(account)))
    }
    /// [`Store`]'s `ack`, blocking (fenced by [`lease`](Self::lease) where the call is).
    ///
    /// # Errors
    ///
    /// The store's.
    pub fn ack(&self, account: &str, key: &str) -> Result<(), StoreError> {
        let lease = self.lease(account)?;
        self.on(self.store.ack(&lease, key))
    }
    /// [`Store`]'s `ack_many`, blocking (fenced by [`lease`](Self::lease) where the call is).
    ///
    /// # Errors
    ///
    /// The store's.
    pub fn ack_many(&self, account: &str, keys: &[&str]) -> Result<(), StoreError> {
        let lease = self.lease(account)?;
        let keys: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
        self.on(self.store.ack_many(&lease, &keys))
    }
    /// [`Store`]'s `seen`, blocking (fenced by [`lease`](Self::lease) where the call is).
    ///
    /// # Errors
    ///
    /// The store's.
    pub fn seen(&self, account: &str, key: &str) -> Result<bool, StoreError> {
        self.on(self.store.seen(&AccountId::from(account), key))
    }
    /// [`Store`]'s `save_context_token`, blocking (fenced by [`lease`](Self::lease) where the call is).
    ///
    /// # Errors
    ///
    /// The store's.
    pub fn save_context_token(
        &self,
        account: &str,
        user: &str,
        token: &ContextToken,
    ) -> Result<(), StoreError> {
        self.on(self.store.save_context_token(
            None,
            &AccountId::from(account),
            &UserId::from(user),
            token,
        ))
    }
    /// A batch's tokens, committed with an empty batch at the current
    /// cursor, blocking (fenced by [`lease`](Self::lease) where the call is).
    ///
    /// # Errors
    ///
    /// The store's.
    pub fn save_context_tokens(
        &self,
        account: &str,
        tokens: &[(String, ContextToken)],
    ) -> Result<(), StoreError> {
        let lease = self.lease(account)?;
        let cursor = self.load_cursor(account)?.unwrap_or_default();
        let tokens = tokens
            .iter()
            .map(|(u, t)| (UserId::from(u.as_str()), t.clone()))
            .collect();
        self.on(self.store.commit_batch(
            &lease,
            ReceivedBatch::new(Vec::new(), Cursor::from(cursor)).with_context_tokens(tokens),
        ))
        .map(drop)
    }
    /// [`Store`]'s `load_context_token`, blocking (fenced by [`lease`](Self::lease) where the call is).
    ///
    /// # Errors
    ///
    /// The store's.
    pub fn load_context_token(
        &self,
        account: &str,
        user: &str,
    ) -> Result<Option<ContextToken>, StoreError> {
        self.on(self
            .store
            .load_context_token(&AccountId::from(account), &UserId::from(user)))
    }
    /// [`Store`]'s `find_context_token`, blocking (fenced by [`lease`](Self::lease) where the call is).
    ///
    /// # Errors
    ///
    /// The store's.
    pub fn find_context_token(
        &self,
        account: &str,
        user: &str,
    ) -> Result<Option<(String, ContextToken)>, StoreError> {
        self.on(self
            .store
            .find_context_token(&AccountId::from(account), &UserId::from(user)))
            .map(|found| found.map(|(u, t)| (u.into_string(), t)))
    }
    /// [`Store`]'s `context_tokens`, blocking (fenced by [`lease`](Self::lease) where the call is).
    ///
    /// # Errors
    ///
    /// The store's.
    pub fn context_tokens(
        &self,
        account: &str,
    ) -> Result<BTreeMap<String, ContextToken>, StoreError> {
        self.on(self.store.context_tokens(&AccountId::from(account)))
            .map(|m| m.into_iter().map(|(u, t)| (u.into_string(), t)).collect())
    }
    /// [`Store`]'s `clear_context_tokens`, blocking (fenced by [`lease`](Self::lease) where the call is).
    ///
    /// # Errors
    ///
    /// The store's.
    pub fn clear_context_tokens(&self, account: &str) -> Result<(), StoreError> {
        self.on(self.store.clear_context_tokens(&AccountId::from(account)))
    }
    /// [`Store`]'s `save_typing_ticket`, blocking (fenced by [`lease`](Self::lease) where the call is).
    ///
    /// # Errors
    ///
    /// The store's.
    pub fn save_typing_ticket(
        &self,
        account: &str,
        user: &str,
        ticket: &TypingTicket,
    ) -> Result<(), StoreError> {
        self.on(self.store.save_typing_ticket(
            None,
            &AccountId::from(account),
            &UserId::from(user),
            ticket,
        ))
    }
    /// [`Store`]'s `load_typing_ticket`, blocking (fenced by [`lease`](Self::lease) where the call is).
    ///
    /// # Errors
    ///
    /// The store's.
    pub fn load_typing_ticket(
        &self,
        account: &str,
        user: &str,
    ) -> Result<Option<TypingTicket>, StoreError> {
        self.on(self
            .store
            .load_typing_ticket(&AccountId::from(account), &UserId::from(user)))
    }
}

impl Harness {
    /// The store driven.
    #[must_use]
    pub fn store(&self) -> &dyn Store {
        &*self.store
    }

    /// Puts `keys` in an account's deduplication window as acknowledged, in
    /// transactions of 500 (a window's worth one by one would take a durable
    /// store most of a minute).
    ///
    /// # Panics
    ///
    /// When the store fails.
    pub fn prefill_acked(&self, account: &str, keys: &[String]) {
        for chunk in keys.chunks(500) {
            let lease = self.lease(account).expect("lease");
            self.on(self.store.ack_many(&lease, chunk))
                .expect("ack_many");
        }
    }
}

impl std::fmt::Debug for Harness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Harness").finish_non_exhaustive()
    }
}

/// Credentials of `account` with `token`, saved at `saved_at_ms`, with an
/// owner and a base URL set.
#[must_use]
pub fn credentials(account: &str, token: &str, saved_at_ms: u64) -> Credentials {
    let mut c = Credentials::new(account, BotToken::new(token));
    c.user_id = Some(format!("owner-of-{account}@im.wechat").into());
    c.base_url = Some("https://ilinkai.weixin.qq.com".to_owned());
    c.saved_at_ms = saved_at_ms;
    c
}

/// An inbox entry of key `key`.
#[must_use]
pub fn entry(key: &str) -> InboxEntry {
    InboxEntry::new(
        key,
        json!({"key": key, "text": format!("message {key}")}),
        7,
    )
}

/// An inbox entry per key.
#[must_use]
pub fn entries(keys: &[&str]) -> Vec<InboxEntry> {
    keys.iter().map(|k| entry(k)).collect()
}

/// The keys of inbox entries.
#[must_use]
pub fn keys_of(entries: &[InboxEntry]) -> Vec<&str> {
    entries.iter().map(|e| e.key.as_str()).collect()
}

/// The account ids of credentials.
#[must_use]
pub fn ids(accounts: &[Credentials]) -> Vec<&str> {
    accounts.iter().map(|c| c.account_id.as_str()).collect()
}

// ---------------------------------------------------------------------------
// The contract.

fn credentials_round_trip_in_save_order(s: &Harness) {
    assert!(s.accounts().unwrap().is_empty());
    assert_eq!(s.load_credentials("z@im.bot").unwrap(), None);

    // Same millisecond, and ids in reverse alphabetical order: the order
    // must be the order of the saves.
    let z = credentials("z@im.bot", "token-z", 5);
    let a = credentials("a@im.bot", "token-a", 5);
    s.save_credentials(&z).unwrap();
    s.save_credentials(&a).unwrap();
    assert_eq!(s.load_credentials("z@im.bot").unwrap(), Some(z.clone()));
    assert_eq!(s.load_credentials("a@im.bot").unwrap(), Some(a.clone()));
    assert_eq!(ids(&s.accounts().unwrap()), ["a@im.bot", "z@im.bot"]);

    // Saving again replaces and makes it the most recent, even with an older
    // timestamp.
    let z2 = credentials("z@im.bot", "token-z2", 1);
    s.save_credentials(&z2).unwrap();
    assert_eq!(s.accounts().unwrap(), [z2, a]);
    let m = credentials("m@im.bot", "token-m", 0);
    s.save_credentials(&m).unwrap();
    assert_eq!(
        ids(&s.accounts().unwrap()),
        ["m@im.bot", "z@im.bot", "a@im.bot"]
    );

    s.remove_account("z@im.bot").unwrap();
    assert_eq!(s.load_credentials("z@im.bot").unwrap(), None);
    assert_eq!(ids(&s.accounts().unwrap()), ["m@im.bot", "a@im.bot"]);
    s.remove_account("never-seen@im.bot").unwrap();
    s.save_credentials(&z).unwrap();
    assert_eq!(
        ids(&s.accounts().unwrap()),
        ["z@im.bot", "m@im.bot", "a@im.bot"]
    );
}

fn remove_account_forgets_everything(s: &Harness) {
    for account in [ACCOUNT, OTHER] {
        s.save_credentials(&credentials(account, "t", 1)).unwrap();
        s.commit_batch(account, entries(&["1", "2"]), "cursor")
            .unwrap();
        s.ack(account, "1").unwrap();
        s.save_context_token(account, "u", &ContextToken::new("ctx"))
            .unwrap();
        s.save_typing_ticket(account, "u", &TypingTicket::new("tt", 1, 0))
            .unwrap();
    }
    s.remove_account(ACCOUNT).unwrap();
    assert_eq!(s.load_credentials(ACCOUNT).unwrap(), None);
    assert_eq!(s.load_cursor(ACCOUNT).unwrap(), None);
    assert!(s.pending(ACCOUNT).unwrap().is_empty());
    assert!(!s.seen(ACCOUNT, "1").unwrap());
    assert!(!s.seen(ACCOUNT, "2").unwrap());
    assert!(s.context_tokens(ACCOUNT).unwrap().is_empty());
    assert_eq!(s.load_typing_ticket(ACCOUNT, "u").unwrap(), None);
    // The other account is untouched.
    assert_eq!(ids(&s.accounts().unwrap()), [OTHER]);
    assert_eq!(s.load_cursor(OTHER).unwrap().as_deref(), Some("cursor"));
    assert_eq!(keys_of(&s.pending(OTHER).unwrap()), ["2"]);
    assert!(s.seen(OTHER, "1").unwrap());
    // And the removed one starts afresh.
    let fresh = s.commit_batch(ACCOUNT, entries(&["1"]), "c2").unwrap();
    assert_eq!(keys_of(&fresh), ["1"]);
}

fn cursor_follows_commits(s: &Harness) {
    assert_eq!(s.load_cursor(ACCOUNT).unwrap(), None);
    assert!(
        s.commit_batch(ACCOUNT, Vec::new(), "c1")
            .unwrap()
            .is_empty()
    );
    assert_eq!(s.load_cursor(ACCOUNT).unwrap().as_deref(), Some("c1"));
    s.commit_batch(ACCOUNT, entries(&["1"]), "c2").unwrap();
    assert_eq!(s.load_cursor(ACCOUNT).unwrap().as_deref(), Some("c2"));
    // An empty poll that keeps the cursor.
    s.commit_batch(ACCOUNT, Vec::new(), "c2").unwrap();
    assert_eq!(s.load_cursor(ACCOUNT).unwrap().as_deref(), Some("c2"));
    // A batch of duplicates only still moves the cursor.
    assert!(
        s.commit_batch(ACCOUNT, entries(&["1"]), "c3")
            .unwrap()
            .is_empty()
    );
    assert_eq!(s.load_cursor(ACCOUNT).unwrap().as_deref(), Some("c3"));
    // Cursors may be any text, the empty one included.
    let odd = "a\nb\"c\\d/é\u{0}";
    s.commit_batch(ACCOUNT, Vec::new(), odd).unwrap();
    assert_eq!(s.load_cursor(ACCOUNT).unwrap().as_deref(), Some(odd));
    s.commit_batch(ACCOUNT, Vec::new(), "").unwrap();
    assert_eq!(s.load_cursor(ACCOUNT).unwrap().as_deref(), Some(""));
    assert_eq!(s.load_cursor(OTHER).unwrap(), None);
}

fn inbox_commit_pending_ack(s: &Harness) {
    let batch = entries(&["30", "10", "20"]);
    let fresh = s.commit_batch(ACCOUNT, batch.clone(), "c1").unwrap();
    assert_eq!(fresh, batch);
    // Pending in the order received, content intact.
    assert_eq!(s.pending(ACCOUNT).unwrap(), batch);
    for key in ["30", "10", "20"] {
        assert!(s.seen(ACCOUNT, key).unwrap(), "{key}");
    }
    assert!(!s.seen(ACCOUNT, "40").unwrap());

    s.ack(ACCOUNT, "10").unwrap();
    assert_eq!(keys_of(&s.pending(ACCOUNT).unwrap()), ["30", "20"]);
    assert!(s.seen(ACCOUNT, "10").unwrap());

    let fresh = s
        .commit_batch(ACCOUNT, entries(&["40", "10"]), "c2")
        .unwrap();
    assert_eq!(keys_of(&fresh), ["40"]);
    assert_eq!(keys_of(&s.pending(ACCOUNT).unwrap()), ["30", "20", "40"]);

    for key in ["20", "30", "40"] {
        s.ack(ACCOUNT, key).unwrap();
    }
    assert!(s.pending(ACCOUNT).unwrap().is_empty());
    for key in ["10", "20", "30", "40"] {
        assert!(s.seen(ACCOUNT, key).unwrap(), "{key}");
    }
    // Acking again, or acking what never arrived, is harmless; the latter
    // puts the key in the window.
    s.ack(ACCOUNT, "10").unwrap();
    s.ack(ACCOUNT, "99").unwrap();
    assert!(s.seen(ACCOUNT, "99").unwrap());
    assert!(
        s.commit_batch(ACCOUNT, entries(&["99"]), "c3")
            .unwrap()
            .is_empty()
    );
    // Later entries still come after the earlier ones.
    s.commit_batch(ACCOUNT, entries(&["50", "60"]), "c4")
        .unwrap();
    s.commit_batch(ACCOUNT, entries(&["55"]), "c5").unwrap();
    assert_eq!(keys_of(&s.pending(ACCOUNT).unwrap()), ["50", "60", "55"]);
    // Accounts do not share keys.
    assert!(!s.seen(OTHER, "10").unwrap());
    assert!(s.pending(OTHER).unwrap().is_empty());
    assert_eq!(
        keys_of(&s.commit_batch(OTHER, entries(&["10"]), "x").unwrap()),
        ["10"]
    );
}

fn several_acks_in_one_go(s: &Harness) {
    s.commit_batch(ACCOUNT, entries(&["1", "2", "3", "4"]), "c1")
        .unwrap();
    // Known, repeated and never-received keys together; the rest stays.
    s.ack_many(ACCOUNT, &["3", "1", "3", "9"]).unwrap();
    assert_eq!(keys_of(&s.pending(ACCOUNT).unwrap()), ["2", "4"]);
    for key in ["1", "3", "9"] {
        assert!(s.seen(ACCOUNT, key).unwrap(), "{key}");
    }
    assert!(
        s.commit_batch(ACCOUNT, entries(&["1", "9", "5"]), "c2")
            .unwrap()
            .iter()
            .map(|e| e.key.as_str())
            .eq(["5"]),
        "acknowledged keys stay deduplicated"
    );
    s.ack_many(ACCOUNT, &[]).unwrap();
    s.ack_many(ACCOUNT, &["2", "4", "5"]).unwrap();
    assert!(s.pending(ACCOUNT).unwrap().is_empty());
    assert!(!s.seen(OTHER, "2").unwrap(), "accounts do not share keys");
}

fn duplicates_are_skipped(s: &Harness) {
    // Within one batch: the first copy wins.
    let mut second = entry("1");
    second.message = json!({"copy": 2});
    let batch = vec![entry("1"), entry("2"), second, entry("2")];
    let fresh = s.commit_batch(ACCOUNT, batch, "c1").unwrap();
    assert_eq!(fresh, entries(&["1", "2"]));
    assert_eq!(s.pending(ACCOUNT).unwrap(), entries(&["1", "2"]));
    // Across batches: still pending, then acknowledged.
    let fresh = s.commit_batch(ACCOUNT, entries(&["2", "3"]), "c2").unwrap();
    assert_eq!(keys_of(&fresh), ["3"]);
    s.ack(ACCOUNT, "1").unwrap();
    let fresh = s
        .commit_batch(ACCOUNT, entries(&["1", "3", "4", "4"]), "c3")
        .unwrap();
    assert_eq!(keys_of(&fresh), ["4"]);
    assert_eq!(keys_of(&s.pending(ACCOUNT).unwrap()), ["2", "3", "4"]);
}

fn odd_keys_work(s: &Harness) {
    let long = "k".repeat(500);
    let odd = [
        "",
        "client:17/2",
        "a\nb",
        "%0A",
        "a%",
        "..",
        "ÄÖ-ü",
        "😀",
        "Upper",
        "upper",
        &long,
    ];
    let batch: Vec<InboxEntry> = odd.iter().map(|k| entry(k)).collect();
    let fresh = s.commit_batch(ACCOUNT, batch.clone(), "c").unwrap();
    assert_eq!(fresh, batch);
    assert_eq!(s.pending(ACCOUNT).unwrap(), batch);
    for key in odd {
        assert!(s.seen(ACCOUNT, key).unwrap(), "{key:?}");
        s.ack(ACCOUNT, key).unwrap();
        assert!(s.seen(ACCOUNT, key).unwrap(), "{key:?}");
    }
    assert!(s.pending(ACCOUNT).unwrap().is_empty());
    assert!(!s.seen(ACCOUNT, "a").unwrap());
    assert!(!s.seen(ACCOUNT, "b").unwrap());
    assert!(!s.seen(ACCOUNT, "UPPER").unwrap());
    assert!(s.commit_batch(ACCOUNT, batch, "c").unwrap().is_empty());
}

fn dedup_window_is_bounded(s: &Harness) {
    let old: Vec<String> = (0..DEDUP_WINDOW).map(|i| format!("k{i}")).collect();
    s.prefill_acked(ACCOUNT, &old);
    assert!(s.seen(ACCOUNT, "k0").unwrap());
    assert!(s.seen(ACCOUNT, &old[DEDUP_WINDOW - 1]).unwrap());
    // Five more keys push the five oldest out.
    for i in 0..5 {
        s.ack(ACCOUNT, &format!("n{i}")).unwrap();
    }
    for key in &old[..5] {
        assert!(!s.seen(ACCOUNT, key).unwrap(), "{key}");
    }
    for key in &old[5..] {
        assert!(s.seen(ACCOUNT, key).unwrap(), "{key}");
    }
    for i in 0..5 {
        assert!(s.seen(ACCOUNT, &format!("n{i}")).unwrap());
    }
    // An evicted key counts as new again; a kept one does not.
    let fresh = s
        .commit_batch(ACCOUNT, entries(&["k0", "k5"]), "c")
        .unwrap();
    assert_eq!(keys_of(&fresh), ["k0"]);
}

fn context_tokens_per_user(s: &Harness) {
    assert!(s.context_tokens(ACCOUNT).unwrap().is_empty());
    assert_eq!(s.load_context_token(ACCOUNT, "u1").unwrap(), None);
    s.save_context_token(ACCOUNT, "u1", &ContextToken::new("t1"))
        .unwrap();
    s.save_context_token(ACCOUNT, "u2@im.wechat", &ContextToken::new("t2"))
        .unwrap();
    s.save_context_token(ACCOUNT, "u1", &ContextToken::new("t3"))
        .unwrap();
    s.save_context_token(ACCOUNT, "u1", &ContextToken::new("t3"))
        .unwrap();
    s.save_context_token(OTHER, "u1", &ContextToken::new("other"))
        .unwrap();
    assert_eq!(
        s.load_context_token(ACCOUNT, "u1").unwrap(),
        Some(ContextToken::new("t3"))
    );
    let expected = BTreeMap::from([
        ("u1".to_owned(), ContextToken::new("t3")),
        ("u2@im.wechat".to_owned(), ContextToken::new("t2")),
    ]);
    assert_eq!(s.context_tokens(ACCOUNT).unwrap(), expected);
    // Found as the server matches ids: ASCII case ignored, the exact id
    // first, the id given back as stored; other accounts and ids not found.
    let found = |user: &str| s.find_context_token(ACCOUNT, user).unwrap();
    let t2 = Some(("u2@im.wechat".to_owned(), ContextToken::new("t2")));
    assert_eq!(found("u2@im.wechat"), t2);
    assert_eq!(found("U2@IM.WeChat"), t2);
    assert_eq!(found("u2@im.wechatx"), None);
    assert_eq!(found("u2_im.wechat"), None, "no pattern matching");
    assert_eq!(found("u%"), None, "no pattern matching");
    s.save_context_token(ACCOUNT, "U1", &ContextToken::new("upper"))
        .unwrap();
    assert_eq!(
        found("u1"),
        Some(("u1".to_owned(), ContextToken::new("t3")))
    );
    assert_eq!(
        found("U1"),
        Some(("U1".to_owned(), ContextToken::new("upper")))
    );
    s.save_context_token(ACCOUNT, "Zé@im.wechat", &ContextToken::new("accent"))
        .unwrap();
    assert_eq!(
        found("zé@IM.wechat"),
        Some(("Zé@im.wechat".to_owned(), ContextToken::new("accent")))
    );
    assert_eq!(found("ZÉ@im.wechat"), None, "only ASCII case is folded");
    assert_eq!(
        s.find_context_token(OTHER, "U2@im.wechat").unwrap(),
        None,
        "another account's users are not found"
    );
    s.clear_context_tokens(ACCOUNT).unwrap();
    s.save_context_token(ACCOUNT, "u1", &ContextToken::new("t3"))
        .unwrap();
    s.save_context_token(ACCOUNT, "u2@im.wechat", &ContextToken::new("t2"))
        .unwrap();
    s.clear_context_tokens(ACCOUNT).unwrap();
    assert!(s.context_tokens(ACCOUNT).unwrap().is_empty());
    assert_eq!(s.load_context_token(ACCOUNT, "u1").unwrap(), None);
    s.clear_context_tokens(ACCOUNT).unwrap();
    s.clear_context_tokens("never-seen").unwrap();
    assert_eq!(
        s.load_context_token(OTHER, "u1").unwrap(),
        Some(ContextToken::new("other"))
    );
    s.save_context_token(ACCOUNT, "u9", &ContextToken::new("t9"))
        .unwrap();
    assert_eq!(s.context_tokens(ACCOUNT).unwrap().len(), 1);

    // A batch's tokens at once: a later token of a user wins.
    let batch = [
        ("u1".to_owned(), ContextToken::new("b1")),
        ("u2".to_owned(), ContextToken::new("b2")),
        ("u1".to_owned(), ContextToken::new("b3")),
    ];
    s.save_context_tokens(ACCOUNT, &batch).unwrap();
    s.save_context_tokens(ACCOUNT, &[]).unwrap();
    let expected = BTreeMap::from([
        ("u1".to_owned(), ContextToken::new("b3")),
        ("u2".to_owned(), ContextToken::new("b2")),
        ("u9".to_owned(), ContextToken::new("t9")),
    ]);
    assert_eq!(s.context_tokens(ACCOUNT).unwrap(), expected);
    assert_eq!(s.context_tokens(OTHER).unwrap().len(), 1);
}

fn typing_tickets_per_user(s: &Harness) {
    assert_eq!(s.load_typing_ticket(ACCOUNT, "u1").unwrap(), None);
    let t1 = TypingTicket::new("ticket-1", 1_000, 0);
    let t2 = TypingTicket::new("", 2_000, 500);
    s.save_typing_ticket(ACCOUNT, "u1", &t1).unwrap();
    s.save_typing_ticket(ACCOUNT, "u2", &t2).unwrap();
    assert_eq!(s.load_typing_ticket(ACCOUNT, "u1").unwrap(), Some(t1));
    assert_eq!(
        s.load_typing_ticket(ACCOUNT, "u2").unwrap(),
        Some(t2.clone())
    );
    let t3 = TypingTicket::new("ticket-3", 3_000, 0);
    s.save_typing_ticket(ACCOUNT, "u1", &t3).unwrap();
    assert_eq!(s.load_typing_ticket(ACCOUNT, "u1").unwrap(), Some(t3));
    assert_eq!(s.load_typing_ticket(ACCOUNT, "u2").unwrap(), Some(t2));
    assert_eq!(s.load_typing_ticket(OTHER, "u1").unwrap(), None);
}

fn hostile_account_ids_stay_apart(s: &Harness) {
    let hostile = hostile_ids();
    for (i, id) in hostile.iter().enumerate() {
        s.save_credentials(&credentials(id, &format!("token-{i}"), i as u64))
            .unwrap();
        s.commit_batch(id, entries(&[&format!("{i}")]), &format!("cursor-{i}"))
            .unwrap();
    }
    for (i, id) in hostile.iter().enumerate() {
        let c = s.load_credentials(id).unwrap().unwrap();
        assert_eq!(c.account_id, **id);
        assert_eq!(c.bot_token.expose(), format!("token-{i}"));
        assert_eq!(s.load_cursor(id).unwrap(), Some(format!("cursor-{i}")));
        assert_eq!(keys_of(&s.pending(id).unwrap()), [format!("{i}")]);
    }
    let listed = s.accounts().unwrap();
    let mut expected: Vec<&str> = hostile.to_vec();
    expected.reverse();
    assert_eq!(ids(&listed), expected);
}

fn hostile_ids() -> Vec<&'static str> {
    vec![
        "../../x",
        "a/b",
        "a\\b",
        ".",
        "..",
        "...",
        "/abs",
        "A",
        "a",
        "%61",
        "con",
        "CON",
        "nul.txt",
        "ünïcødé@im.bot",
        "😀",
        "line\nbreak",
        "tab\t",
        "nul\0byte",
        " ",
        "x@im.bot",
        "X@im.bot",
    ]
}

fn leases_are_exclusive_and_fence_every_write(s: &Harness) {
    let store = s.store();
    let a = AccountId::from(ACCOUNT);
    let ttl = Duration::from_secs(600);
    let first = s.on(store.acquire(&a, "h1", ttl)).unwrap();
    assert!(first.epoch >= 1);
    match s.on(store.acquire(&a, "h2", ttl)) {
        Err(StoreError::Leased { account, holder }) => {
            assert_eq!(account, a);
            assert_eq!(holder, "h1");
        }
        other => panic!("expected Leased, got {other:?}"),
    }
    // Other accounts are independent; a live lease blocks removal.
    let other = s
        .on(store.acquire(&AccountId::from(OTHER), "h2", ttl))
        .unwrap();
    assert!(matches!(
        s.on(store.remove_account(&a)),
        Err(StoreError::Leased { .. })
    ));
    let committed = s
        .on(store.commit_batch(
            &first,
            ReceivedBatch::new(entries(&["1"]), Cursor::from("c1")),
        ))
        .unwrap();
    assert_eq!(keys_of(&committed), ["1"]);
    let renewed = s.on(store.renew(&first, ttl)).unwrap();
    assert_eq!(renewed.epoch, first.epoch);

    // Released: another holder takes over with a higher epoch, and every
    // write under the old lease fails without writing anything.
    s.on(store.release(&first)).unwrap();
    let second = s.on(store.acquire(&a, "h2", ttl)).unwrap();
    assert!(second.epoch > first.epoch);
    fn lost<T>(r: Result<T, StoreError>) -> bool {
        matches!(r, Err(StoreError::LeaseLost { .. }))
    }
    assert!(lost(s.on(store.commit_batch(
        &first,
        ReceivedBatch::new(entries(&["2"]), Cursor::from("c2")),
    ))));
    assert!(lost(s.on(store.ack(&first, "1"))));
    assert!(lost(s.on(store.ack_many(&first, &["1".to_owned()]))));
    assert!(lost(s.on(store.renew(&first, ttl)).map(drop)));
    assert_eq!(s.load_cursor(ACCOUNT).unwrap().as_deref(), Some("c1"));
    assert_eq!(keys_of(&s.pending(ACCOUNT).unwrap()), ["1"]);
    assert!(!s.seen(ACCOUNT, "2").unwrap());
    // Releasing a lease that was taken over leaves the new one alone.
    s.on(store.release(&first)).unwrap();
    assert!(matches!(
        s.on(store.acquire(&a, "h3", ttl)),
        Err(StoreError::Leased { holder, .. }) if holder == "h2"
    ));

    // An expired lease is taken over without a release; the same holder
    // taking its account again also starts a new epoch, fencing its own
    // older lease.
    let short = s.on(store.renew(&second, Duration::ZERO)).unwrap();
    let third = s.on(store.acquire(&a, "h3", ttl)).unwrap();
    assert!(third.epoch > short.epoch);
    assert!(lost(s.on(store.ack(&short, "1"))));
    let fourth = s.on(store.acquire(&a, "h3", ttl)).unwrap();
    assert!(fourth.epoch > third.epoch);
    assert!(lost(s.on(store.ack(&third, "1"))));
    s.on(store.ack(&fourth, "1")).unwrap();
    assert!(s.pending(ACCOUNT).unwrap().is_empty());
    s.on(store.release(&fourth)).unwrap();
    s.on(store.release(&other)).unwrap();
    s.on(store.remove_account(&a)).unwrap();
    // A removed account's epochs keep growing.
    let fifth = s.on(store.acquire(&a, "h1", ttl)).unwrap();
    assert!(fifth.epoch > fourth.epoch);
}

fn no_key_is_both_pending_and_acknowledged(s: &Harness) {
    s.commit_batch(ACCOUNT, entries(&["1", "2", "3"]), "c1")
        .unwrap();
    s.ack(ACCOUNT, "2").unwrap();
    // A redelivery of an acknowledged key does not bring it back.
    s.commit_batch(ACCOUNT, entries(&["2", "4"]), "c2").unwrap();
    let pending = s.pending(ACCOUNT).unwrap();
    assert_eq!(keys_of(&pending), ["1", "3", "4"]);
    // An account id the store cannot name is refused, not stored.
    assert!(matches!(
        s.on(s
            .store
            .acquire(&AccountId::from(""), HOLDER, Duration::from_secs(1))),
        Err(StoreError::InvalidAccount)
    ));
}

fn membership_counts_the_live(s: &Harness) {
    let store = s.store();
    let long = Duration::from_secs(600);
    assert_eq!(s.on(store.heartbeat("m1", long)).unwrap(), 1);
    assert_eq!(s.on(store.heartbeat("m2", long)).unwrap(), 2);
    // A heartbeat again is the same member.
    assert_eq!(s.on(store.heartbeat("m1", long)).unwrap(), 2);
    // A member whose heartbeat lapsed is not counted.
    assert_eq!(s.on(store.heartbeat("m3", Duration::ZERO)).unwrap(), 2);
    assert_eq!(s.on(store.heartbeat("m1", long)).unwrap(), 2);
    // One that left is not either.
    s.on(store.leave("m2")).unwrap();
    assert_eq!(s.on(store.heartbeat("m1", long)).unwrap(), 1);
}

/// An outbox entry to `user` per client id.
#[must_use]
pub fn outbox(ids: &[&str], user: &str) -> Vec<OutboxEntry> {
    ids.iter()
        .map(|id| OutboxEntry::new(*id, user, json!({"client_id": id, "secret": "ctx"}), 7))
        .collect()
}

fn client_ids(entries: &[OutboxEntry]) -> Vec<&str> {
    entries.iter().map(|e| e.client_id.as_str()).collect()
}

fn outbox_keeps_order_and_each_id_once(s: &Harness) {
    let store = s.store();
    let a = AccountId::from(ACCOUNT);
    let (alice, bob) = (UserId::from("alice"), UserId::from("bob"));
    let none = ReplyLimits::none();
    let queued = s
        .on(store.enqueue(None, &a, &alice, outbox(&["a1", "a2"], "alice"), none))
        .unwrap();
    assert_eq!(queued, Admission::Queued { new: 2 });
    s.on(store.enqueue(None, &a, &bob, outbox(&["b1"], "bob"), none))
        .unwrap();
    // A repeated id (a handler run again) is kept once, in its first place.
    let again = s
        .on(store.enqueue(None, &a, &alice, outbox(&["a2", "a3", "a3"], "alice"), none))
        .unwrap();
    assert_eq!(again, Admission::Queued { new: 1 });
    let all = s.on(store.outbox(&a)).unwrap();
    assert_eq!(client_ids(&all), ["a1", "a2", "b1", "a3"]);
    assert_eq!(all[2].user, bob);
    assert_eq!(all[0].message["secret"], "ctx");
    assert!(
        !format!("{:?}", all[0]).contains("ctx"),
        "Debug hides the message"
    );
    s.on(store.dequeue(None, &a, "a1")).unwrap();
    s.on(store.dequeue(None, &a, "a1")).unwrap();
    assert_eq!(
        client_ids(&s.on(store.outbox(&a)).unwrap()),
        ["a2", "b1", "a3"]
    );
    // Accounts stay apart, and forgetting one forgets its outbox.
    assert!(
        s.on(store.outbox(&AccountId::from("other")))
            .unwrap()
            .is_empty()
    );
    s.remove_account(ACCOUNT).unwrap();
    assert!(s.on(store.outbox(&a)).unwrap().is_empty());
}

fn outbox_reads_by_conversation(s: &Harness) {
    let store = s.store();
    let a = AccountId::from(ACCOUNT);
    let (alice, bob, carol) = (
        UserId::from("alice"),
        UserId::from("bob"),
        UserId::from("carol"),
    );
    let none = ReplyLimits::none();
    s.on(store.enqueue(None, &a, &alice, outbox(&["a1", "a2"], "alice"), none))
        .unwrap();
    s.on(store.enqueue(None, &a, &bob, outbox(&["b1"], "bob"), none))
        .unwrap();
    s.on(store.enqueue(None, &a, &alice, outbox(&["a3"], "alice"), none))
        .unwrap();
    s.on(store.enqueue(None, &a, &carol, outbox(&["c1"], "carol"), none))
        .unwrap();
    let other = AccountId::from(OTHER);
    s.on(store.enqueue(None, &other, &alice, outbox(&["x1"], "alice"), none))
        .unwrap();
    // One conversation's queue, oldest first, nobody else's.
    let to_alice = s.on(store.outbox_to(&a, &alice)).unwrap();
    assert_eq!(client_ids(&to_alice), ["a1", "a2", "a3"]);
    assert!(to_alice.iter().all(|e| e.user == alice));
    assert_eq!(to_alice[0].message["client_id"], "a1");
    assert_eq!(
        client_ids(&s.on(store.outbox_to(&a, &bob)).unwrap()),
        ["b1"]
    );
    assert!(
        s.on(store.outbox_to(&a, &UserId::from("nobody")))
            .unwrap()
            .is_empty()
    );
    // Ids compared exactly, as the outbox stores them.
    assert!(
        s.on(store.outbox_to(&a, &UserId::from("ALICE")))
            .unwrap()
            .is_empty()
    );
    // The recipients, each once, by their oldest queued message.
    assert_eq!(
        s.on(store.outbox_users(&a)).unwrap(),
        [alice.clone(), bob.clone(), carol.clone()]
    );
    for id in ["a1", "a2"] {
        s.on(store.dequeue(None, &a, id)).unwrap();
    }
    // Alice's oldest is now a3, after bob's b1.
    assert_eq!(
        s.on(store.outbox_users(&a)).unwrap(),
        [bob, alice.clone(), carol]
    );
    s.on(store.dequeue(None, &a, "a3")).unwrap();
    assert!(s.on(store.outbox_to(&a, &alice)).unwrap().is_empty());
    assert_eq!(s.on(store.outbox_users(&other)).unwrap(), [alice]);
    s.remove_account(ACCOUNT).unwrap();
    s.remove_account(OTHER).unwrap();
    assert!(s.on(store.outbox_users(&a)).unwrap().is_empty());
}

fn conversations_open_count_and_close(s: &Harness) {
    let store = s.store();
    let a = AccountId::from(ACCOUNT);
    let alice = UserId::from("alice");
    let limits = ReplyLimits::new(Some(3), Some(Duration::from_secs(3600)));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    // A user who never wrote is not limited, and not counted.
    assert!(s.on(store.conversation(&a, &alice)).unwrap().is_none());
    let free = s
        .on(store.enqueue(
            None,
            &a,
            &alice,
            outbox(&["p1", "p2", "p3", "p4"], "alice"),
            limits,
        ))
        .unwrap();
    assert_eq!(free, Admission::Queued { new: 4 });
    for id in ["p1", "p2", "p3", "p4"] {
        s.on(store.dequeue(None, &a, id)).unwrap();
    }
    // She writes: the conversation opens, in the batch's transaction.
    let write = |at: u64| {
        let lease = s.lease(ACCOUNT).unwrap();
        let batch = ReceivedBatch::new(Vec::new(), Cursor::from("c"))
            .with_inbound(vec![(alice.clone(), at)]);
        s.on(store.commit_batch(&lease, batch)).unwrap();
    };
    write(now);
    let c = s.on(store.conversation(&a, &alice)).unwrap().unwrap();
    assert_eq!((c.last_inbound_ms, c.replies, c.closed), (now, 0, false));
    // Two fit, then two more do not (all or nothing), then one does.
    let two = s
        .on(store.enqueue(None, &a, &alice, outbox(&["r1", "r2"], "alice"), limits))
        .unwrap();
    assert_eq!(two, Admission::Queued { new: 2 });
    // A repeated id does not count again.
    s.on(store.enqueue(None, &a, &alice, outbox(&["r2"], "alice"), limits))
        .unwrap();
    let refused = s
        .on(store.enqueue(None, &a, &alice, outbox(&["r3", "r4"], "alice"), limits))
        .unwrap();
    assert_eq!(
        refused,
        Admission::Refused(Refusal::BudgetExhausted { left: 1, needed: 2 })
    );
    assert_eq!(client_ids(&s.on(store.outbox(&a)).unwrap()), ["r1", "r2"]);
    s.on(store.enqueue(None, &a, &alice, outbox(&["r3"], "alice"), limits))
        .unwrap();
    assert_eq!(
        s.on(store.conversation(&a, &alice))
            .unwrap()
            .unwrap()
            .replies,
        3
    );
    // Closing: not when she wrote after what the closer saw.
    assert!(!s.on(store.set_closed(&a, &alice, true, now - 1)).unwrap());
    assert!(s.on(store.set_closed(&a, &alice, true, now)).unwrap());
    let closed = s
        .on(store.enqueue(
            None,
            &a,
            &alice,
            outbox(&["r9"], "alice"),
            ReplyLimits::none(),
        ))
        .unwrap();
    assert_eq!(closed, Admission::Refused(Refusal::Closed));
    // A replayed older message changes nothing; a newer one opens it.
    write(now - 10);
    assert!(
        s.on(store.conversation(&a, &alice))
            .unwrap()
            .unwrap()
            .closed
    );
    write(now + 1);
    let c = s.on(store.conversation(&a, &alice)).unwrap().unwrap();
    assert_eq!(
        (c.last_inbound_ms, c.replies, c.closed),
        (now + 1, 0, false)
    );
    // The window: a message from two hours ago leaves it shut.
    let bob = UserId::from("bob");
    let lease = s.lease(ACCOUNT).unwrap();
    let batch = ReceivedBatch::new(Vec::new(), Cursor::from("c"))
        .with_inbound(vec![(bob.clone(), now - 7_200_000)]);
    s.on(store.commit_batch(&lease, batch)).unwrap();
    let late = s
        .on(store.enqueue(None, &a, &bob, outbox(&["late"], "bob"), limits))
        .unwrap();
    assert_eq!(
        late,
        Admission::Refused(Refusal::WindowPassed {
            last_inbound_ms: now - 7_200_000
        })
    );
}

/// Runs each check against each store, as `memory::<check>`,
/// `sqlite::<check>` and `postgres::<check>`.
/// The outbox, context tokens and typing tickets under a lease: written
/// while it is the account's, refused with nothing written once another
/// holder took the account.
fn outbox_tokens_and_tickets_are_fenced_by_the_lease(s: &Harness) {
    let store = s.store();
    let a = AccountId::from(ACCOUNT);
    let alice = UserId::from("alice");
    let none = ReplyLimits::none();
    let ttl = Duration::from_secs(600);
    let first = s.on(store.acquire(&a, "h1", ttl)).unwrap();
    let queued = s
        .on(store.enqueue(
            Some(&first),
            &a,
            &alice,
            outbox(&["f1", "f2"], "alice"),
            none,
        ))
        .unwrap();
    assert_eq!(queued, Admission::Queued { new: 2 });
    s.on(store.dequeue(Some(&first), &a, "f1")).unwrap();
    let token = ContextToken::new("ctx-1");
    s.on(store.save_context_token(Some(&first), &a, &alice, &token))
        .unwrap();
    let ticket = TypingTicket::new("tt-1", 1, 0);
    s.on(store.save_typing_ticket(Some(&first), &a, &alice, &ticket))
        .unwrap();
    // A lease on another account fences nothing of this one.
    let other = s
        .on(store.acquire(&AccountId::from(OTHER), "h1", ttl))
        .unwrap();
    fn lost<T: std::fmt::Debug>(r: Result<T, StoreError>) -> bool {
        matches!(r, Err(StoreError::LeaseLost { .. }))
    }
    assert!(lost(s.on(store.enqueue(
        Some(&other),
        &a,
        &alice,
        outbox(&["x"], "alice"),
        none
    ))));

    // Taken over: every write under the old lease fails, writing nothing.
    s.on(store.release(&first)).unwrap();
    let second = s.on(store.acquire(&a, "h2", ttl)).unwrap();
    assert!(lost(s.on(store.enqueue(
        Some(&first),
        &a,
        &alice,
        outbox(&["f3"], "alice"),
        none
    ))));
    assert!(lost(s.on(store.dequeue(Some(&first), &a, "f2"))));
    assert!(lost(s.on(store.save_context_token(
        Some(&first),
        &a,
        &alice,
        &ContextToken::new("ctx-stale")
    ))));
    assert!(lost(s.on(store.save_typing_ticket(
        Some(&first),
        &a,
        &alice,
        &TypingTicket::new("tt-stale", 2, 0)
    ))));
    assert_eq!(client_ids(&s.on(store.outbox(&a)).unwrap()), ["f2"]);
    assert_eq!(
        s.on(store.load_context_token(&a, &alice))
            .unwrap()
            .unwrap()
            .expose(),
        "ctx-1"
    );
    assert_eq!(
        s.on(store.load_typing_ticket(&a, &alice))
            .unwrap()
            .unwrap()
            .ticket,
        "tt-1"
    );
    // The new holder writes.
    s.on(store.dequeue(Some(&second), &a, "f2")).unwrap();
    assert!(s.on(store.outbox(&a)).unwrap().is_empty());
    s.on(store.release(&second)).unwrap();
    s.on(store.release(&other)).unwrap();
}

/// The budget counts replies, not attempts: a reply queued again under an
/// id already counted (still queued, or sent since) is neither queued nor
/// counted again; a new id is.
fn a_reply_counted_once_is_not_counted_again(s: &Harness) {
    let store = s.store();
    let a = AccountId::from(ACCOUNT);
    let alice = UserId::from("alice");
    let limits = ReplyLimits::new(Some(3), None);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let lease = s.lease(ACCOUNT).unwrap();
    let batch =
        ReceivedBatch::new(Vec::new(), Cursor::from("c")).with_inbound(vec![(alice.clone(), now)]);
    s.on(store.commit_batch(&lease, batch)).unwrap();
    let replies = || {
        s.on(store.conversation(&a, &alice))
            .unwrap()
            .unwrap()
            .replies
    };
    let q = |ids: &[&str]| {
        s.on(store.enqueue(None, &a, &alice, outbox(ids, "alice"), limits))
            .unwrap()
    };
    assert_eq!(q(&["r1", "r2"]), Admission::Queued { new: 2 });
    assert_eq!(replies(), 2);
    // Queued still: the same ids again count nothing.
    assert_eq!(q(&["r1", "r2"]), Admission::Queued { new: 0 });
    assert_eq!(replies(), 2);
    // Sent (removed from the outbox): still counted once, and not queued
    // again to go a second time.
    s.on(store.dequeue(None, &a, "r1")).unwrap();
    s.on(store.dequeue(None, &a, "r2")).unwrap();
    assert_eq!(q(&["r1", "r2"]), Admission::Queued { new: 0 });
    assert_eq!(replies(), 2);
    assert!(s.on(store.outbox(&a)).unwrap().is_empty());
    // A budget of 3 with 2 used: one new reply fits even when the two old
    // ones come along again (a handler run again that replies once more).
    assert_eq!(q(&["r1", "r2", "r3"]), Admission::Queued { new: 1 });
    assert_eq!(replies(), 3);
    assert_eq!(client_ids(&s.on(store.outbox(&a)).unwrap()), ["r3"]);
    assert!(matches!(
        q(&["r4"]),
        Admission::Refused(Refusal::BudgetExhausted { .. })
    ));
    s.remove_account(ACCOUNT).unwrap();
}
