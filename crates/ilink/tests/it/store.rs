//! The `Store` contract, checked the same way against every store the
//! project ships (`memory::*`, `sqlite::*`), and what only the SQLite store
//! on disk promises (`sqlite_file::*`: reopening, permissions, unsafe
//! directories and links, corrupt rows, schema versions, two connections on
//! one file).
//!
//! The checks drive the real async trait through [`Blocking`], a thin facade
//! that blocks on each call and holds one lease per account for the fenced
//! writes, so that each check reads as a sequence of store calls.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use ilink::proto::{AccountId, BotToken, ContextToken, Cursor, UserId};
use ilink::store::{
    Admission, Credentials, DEDUP_WINDOW, InboxEntry, Lease, MemoryStore, OutboxEntry,
    ReceivedBatch, Refusal, ReplyLimits, SqliteStore, Store, StoreError, TypingTicket,
};
use serde_json::json;
use tempfile::TempDir;

const ACCOUNT: &str = "bot-1";
const OTHER: &str = "bot-2";
/// The facade's lease holder.
const HOLDER: &str = "conformance";

/// A store driven synchronously, with a lease per account taken on the
/// first fenced write.
struct Blocking {
    store: Box<dyn Store>,
    rt: tokio::runtime::Runtime,
    leases: Mutex<HashMap<String, Lease>>,
}

impl Blocking {
    fn new(store: impl Store) -> Self {
        Self::with(|_| store)
    }

    /// A store made on the facade's own runtime (a pooled client's
    /// connections live there).
    fn with<S: Store>(make: impl FnOnce(&tokio::runtime::Runtime) -> S) -> Self {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        Self {
            store: Box::new(make(&rt)),
            rt,
            leases: Mutex::default(),
        }
    }

    fn on<T>(&self, f: impl std::future::Future<Output = T>) -> T {
        self.rt.block_on(f)
    }

    fn lease(&self, account: &str) -> Result<Lease, StoreError> {
        let mut leases = self.leases.lock().unwrap();
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

    fn save_credentials(&self, c: &Credentials) -> Result<(), StoreError> {
        self.on(self.store.save_credentials(c))
    }
    fn load_credentials(&self, account: &str) -> Result<Option<Credentials>, StoreError> {
        self.on(self.store.load_credentials(&AccountId::from(account)))
    }
    fn accounts(&self) -> Result<Vec<Credentials>, StoreError> {
        self.on(self.store.accounts())
    }
    fn remove_account(&self, account: &str) -> Result<(), StoreError> {
        if let Some(lease) = self.leases.lock().unwrap().remove(account) {
            self.on(self.store.release(&lease))?;
        }
        self.on(self.store.remove_account(&AccountId::from(account)))
    }
    fn load_cursor(&self, account: &str) -> Result<Option<String>, StoreError> {
        self.on(self.store.load_cursor(&AccountId::from(account)))
            .map(|c| c.map(Cursor::into_string))
    }
    fn commit_batch(
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
    fn pending(&self, account: &str) -> Result<Vec<InboxEntry>, StoreError> {
        self.on(self.store.pending(&AccountId::from(account)))
    }
    fn ack(&self, account: &str, key: &str) -> Result<(), StoreError> {
        let lease = self.lease(account)?;
        self.on(self.store.ack(&lease, key))
    }
    fn ack_many(&self, account: &str, keys: &[&str]) -> Result<(), StoreError> {
        let lease = self.lease(account)?;
        let keys: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
        self.on(self.store.ack_many(&lease, &keys))
    }
    fn seen(&self, account: &str, key: &str) -> Result<bool, StoreError> {
        self.on(self.store.seen(&AccountId::from(account), key))
    }
    fn save_context_token(
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
    /// A batch's tokens, committed with an empty batch at the current cursor.
    fn save_context_tokens(
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
    fn load_context_token(
        &self,
        account: &str,
        user: &str,
    ) -> Result<Option<ContextToken>, StoreError> {
        self.on(self
            .store
            .load_context_token(&AccountId::from(account), &UserId::from(user)))
    }
    fn find_context_token(
        &self,
        account: &str,
        user: &str,
    ) -> Result<Option<(String, ContextToken)>, StoreError> {
        self.on(self
            .store
            .find_context_token(&AccountId::from(account), &UserId::from(user)))
            .map(|found| found.map(|(u, t)| (u.into_string(), t)))
    }
    fn context_tokens(&self, account: &str) -> Result<BTreeMap<String, ContextToken>, StoreError> {
        self.on(self.store.context_tokens(&AccountId::from(account)))
            .map(|m| m.into_iter().map(|(u, t)| (u.into_string(), t)).collect())
    }
    fn clear_context_tokens(&self, account: &str) -> Result<(), StoreError> {
        self.on(self.store.clear_context_tokens(&AccountId::from(account)))
    }
    fn save_typing_ticket(
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
    fn load_typing_ticket(
        &self,
        account: &str,
        user: &str,
    ) -> Result<Option<TypingTicket>, StoreError> {
        self.on(self
            .store
            .load_typing_ticket(&AccountId::from(account), &UserId::from(user)))
    }
}

/// A store to check, and what it needs to stay alive.
struct Fixture {
    store: Blocking,
    /// Puts keys in an account's window faster than one durable `ack` each
    /// (ten thousand fsyncs would take most of a minute).
    prefill: fn(&Fixture, &str, &[String]),
    dir: Option<TempDir>,
}

fn memory_fixture() -> Fixture {
    Fixture {
        store: Blocking::new(MemoryStore::new()),
        prefill: |fixture, account, keys| {
            for key in keys {
                fixture.store.ack(account, key).unwrap();
            }
        },
        dir: None,
    }
}

fn sqlite_fixture() -> Fixture {
    let dir = TempDir::new().unwrap();
    let store = SqliteStore::open(dir.path().join("state")).unwrap();
    Fixture {
        store: Blocking::new(store),
        prefill: |fixture, account, keys| {
            // One transaction on a second connection, as a long-running bot
            // would have written them one by one.
            let path = fixture.dir.as_ref().unwrap().path().join("state/ilink.db");
            let mut conn = rusqlite::Connection::open(path).unwrap();
            conn.busy_timeout(Duration::from_secs(10)).unwrap();
            let tx = conn.transaction().unwrap();
            for key in keys {
                tx.execute(
                    "INSERT INTO acked (account_id, key) VALUES (?1, ?2)",
                    rusqlite::params![account, key],
                )
                .unwrap();
            }
            tx.commit().unwrap();
        },
        dir: Some(dir),
    }
}

/// A PostgreSQL store in a fresh schema of the server at
/// `ILINK_TEST_PG_URL`; `None` (after a SKIP line) without one, unless
/// `ILINK_TEST_PG_REQUIRED` is set (CI), where a missing server fails.
#[cfg(feature = "postgres")]
fn pg_fixture() -> Option<Fixture> {
    let Some(url) = std::env::var("ILINK_TEST_PG_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        assert!(
            std::env::var_os("ILINK_TEST_PG_REQUIRED").is_none(),
            "ILINK_TEST_PG_REQUIRED is set but ILINK_TEST_PG_URL is not"
        );
        eprintln!("SKIP PostgreSQL conformance: ILINK_TEST_PG_URL is not set");
        return None;
    };
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let schema = format!(
        "conformance_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let store = Blocking::with(|rt| {
        rt.block_on(ilink::store::PgStore::connect_in_schema(&url, &schema))
            .expect("connect")
    });
    PG_SCHEMAS
        .lock()
        .unwrap()
        .insert(std::thread::current().id(), (url, schema));
    Some(Fixture {
        store,
        prefill: |fixture, account, keys| {
            let (url, schema) = PG_SCHEMAS.lock().unwrap()[&std::thread::current().id()].clone();
            fixture.store.on(async {
                let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                    .await
                    .unwrap();
                tokio::spawn(conn);
                let keys: Vec<Vec<u8>> = keys.iter().map(|k| k.as_bytes().to_vec()).collect();
                client
                    .execute(
                        &format!(
                            "INSERT INTO {schema}.acked (account_id, key)
                             SELECT $1, k FROM unnest($2::bytea[]) WITH ORDINALITY AS t(k, n)
                             ORDER BY n"
                        ),
                        &[&account.as_bytes(), &keys],
                    )
                    .await
                    .unwrap();
            });
        },
        dir: None,
    })
}

/// The server and schema of each thread's PostgreSQL fixture.
#[cfg(feature = "postgres")]
static PG_SCHEMAS: std::sync::LazyLock<Mutex<HashMap<std::thread::ThreadId, (String, String)>>> =
    std::sync::LazyLock::new(Mutex::default);

fn credentials(account: &str, token: &str, saved_at_ms: u64) -> Credentials {
    let mut c = Credentials::new(account, BotToken::new(token));
    c.user_id = Some(format!("owner-of-{account}@im.wechat").into());
    c.base_url = Some("https://ilinkai.weixin.qq.com".to_owned());
    c.saved_at_ms = saved_at_ms;
    c
}

fn entry(key: &str) -> InboxEntry {
    InboxEntry::new(
        key,
        json!({"key": key, "text": format!("message {key}")}),
        7,
    )
}

fn entries(keys: &[&str]) -> Vec<InboxEntry> {
    keys.iter().map(|k| entry(k)).collect()
}

fn keys_of(entries: &[InboxEntry]) -> Vec<&str> {
    entries.iter().map(|e| e.key.as_str()).collect()
}

fn ids(accounts: &[Credentials]) -> Vec<&str> {
    accounts.iter().map(|c| c.account_id.as_str()).collect()
}

// ---------------------------------------------------------------------------
// The contract.

fn credentials_round_trip_in_save_order(f: Fixture) {
    let s = &f.store;
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

fn remove_account_forgets_everything(f: Fixture) {
    let s = &f.store;
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

fn cursor_follows_commits(f: Fixture) {
    let s = &f.store;
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

fn inbox_commit_pending_ack(f: Fixture) {
    let s = &f.store;
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

fn several_acks_in_one_go(f: Fixture) {
    let s = &f.store;
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

fn duplicates_are_skipped(f: Fixture) {
    let s = &f.store;
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

fn odd_keys_work(f: Fixture) {
    let s = &f.store;
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

fn dedup_window_is_bounded(f: Fixture) {
    let s = &f.store;
    let old: Vec<String> = (0..DEDUP_WINDOW).map(|i| format!("k{i}")).collect();
    (f.prefill)(&f, ACCOUNT, &old);
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

fn context_tokens_per_user(f: Fixture) {
    let s = &f.store;
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

fn typing_tickets_per_user(f: Fixture) {
    let s = &f.store;
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

fn hostile_account_ids_stay_apart(f: Fixture) {
    let s = &f.store;
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

fn leases_are_exclusive_and_fence_every_write(f: Fixture) {
    let s = &f.store;
    let store = &s.store;
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

fn no_key_is_both_pending_and_acknowledged(f: Fixture) {
    let s = &f.store;
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

fn membership_counts_the_live(f: Fixture) {
    let s = &f.store;
    let store = &s.store;
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

fn outbox(ids: &[&str], user: &str) -> Vec<OutboxEntry> {
    ids.iter()
        .map(|id| OutboxEntry::new(*id, user, json!({"client_id": id, "secret": "ctx"}), 7))
        .collect()
}

fn client_ids(entries: &[OutboxEntry]) -> Vec<&str> {
    entries.iter().map(|e| e.client_id.as_str()).collect()
}

fn outbox_keeps_order_and_each_id_once(f: Fixture) {
    let s = &f.store;
    let store = &s.store;
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

fn conversations_open_count_and_close(f: Fixture) {
    let s = &f.store;
    let store = &s.store;
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
fn outbox_tokens_and_tickets_are_fenced_by_the_lease(f: Fixture) {
    let s = &f.store;
    let store = &s.store;
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
fn a_reply_counted_once_is_not_counted_again(f: Fixture) {
    let s = &f.store;
    let store = &s.store;
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

macro_rules! conformance {
    ($($check:ident),* $(,)?) => {
        mod memory {
            $(#[test] fn $check() { super::$check(super::memory_fixture()); })*
        }
        mod sqlite {
            $(#[test] fn $check() { super::$check(super::sqlite_fixture()); })*
        }
        #[cfg(feature = "postgres")]
        mod postgres {
            $(#[test] fn $check() {
                if let Some(f) = super::pg_fixture() {
                    super::$check(f);
                }
            })*
        }
    };
}

conformance!(
    credentials_round_trip_in_save_order,
    remove_account_forgets_everything,
    cursor_follows_commits,
    inbox_commit_pending_ack,
    several_acks_in_one_go,
    duplicates_are_skipped,
    odd_keys_work,
    dedup_window_is_bounded,
    context_tokens_per_user,
    typing_tickets_per_user,
    leases_are_exclusive_and_fence_every_write,
    no_key_is_both_pending_and_acknowledged,
    membership_counts_the_live,
    hostile_account_ids_stay_apart,
    outbox_keeps_order_and_each_id_once,
    conversations_open_count_and_close,
    outbox_tokens_and_tickets_are_fenced_by_the_lease,
    a_reply_counted_once_is_not_counted_again,
);

// ---------------------------------------------------------------------------
// What only the SQLite store on disk promises.

mod sqlite_file {
    use super::*;

    fn reopen(dir: &Path) -> Blocking {
        Blocking::new(SqliteStore::open(dir).unwrap())
    }

    #[test]
    fn a_reopened_store_sees_everything() {
        let tmp = TempDir::new().unwrap();
        let dir = tmp.path().join("state");
        {
            let s = reopen(&dir);
            s.save_credentials(&credentials(ACCOUNT, "t", 1)).unwrap();
            s.commit_batch(ACCOUNT, entries(&["1", "2"]), "c1").unwrap();
            s.ack(ACCOUNT, "1").unwrap();
            s.save_context_token(ACCOUNT, "u", &ContextToken::new("ctx"))
                .unwrap();
            s.save_typing_ticket(ACCOUNT, "u", &TypingTicket::new("tt", 5, 0))
                .unwrap();
        }
        let s = reopen(&dir);
        assert_eq!(ids(&s.accounts().unwrap()), [ACCOUNT]);
        assert_eq!(s.load_cursor(ACCOUNT).unwrap().as_deref(), Some("c1"));
        assert_eq!(keys_of(&s.pending(ACCOUNT).unwrap()), ["2"]);
        assert!(s.seen(ACCOUNT, "1").unwrap());
        assert_eq!(
            s.load_context_token(ACCOUNT, "u").unwrap(),
            Some(ContextToken::new("ctx"))
        );
        assert_eq!(
            s.load_typing_ticket(ACCOUNT, "u").unwrap(),
            Some(TypingTicket::new("tt", 5, 0))
        );
    }

    #[test]
    fn two_stores_on_one_directory_share_state_and_leases() {
        // Two connections on one file, as two processes on one machine.
        let tmp = TempDir::new().unwrap();
        let dir = tmp.path().join("state");
        let one = reopen(&dir);
        let two = reopen(&dir);
        let a = AccountId::from(ACCOUNT);
        let ttl = Duration::from_secs(600);
        let lease = one.on(one.store.acquire(&a, "process-1", ttl)).unwrap();
        assert!(matches!(
            two.on(two.store.acquire(&a, "process-2", ttl)),
            Err(StoreError::Leased { .. })
        ));
        one.on(one.store.commit_batch(
            &lease,
            ReceivedBatch::new(entries(&["1"]), Cursor::from("c")),
        ))
        .unwrap();
        assert_eq!(keys_of(&two.pending(ACCOUNT).unwrap()), ["1"]);
        one.on(one.store.release(&lease)).unwrap();
        let taken = two.on(two.store.acquire(&a, "process-2", ttl)).unwrap();
        assert!(taken.epoch > lease.epoch);
        assert!(matches!(
            one.on(one.store.ack(&lease, "1")),
            Err(StoreError::LeaseLost { .. })
        ));
    }

    #[cfg(unix)]
    #[test]
    fn the_directory_is_0700_and_the_database_0600() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = TempDir::new().unwrap();
        let dir = tmp.path().join("state");
        let s = reopen(&dir);
        s.commit_batch(ACCOUNT, entries(&["1"]), "c").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        for name in ["ilink.db", "ilink.db-wal", "ilink.db-shm"] {
            let path = dir.join(name);
            if path.exists() {
                assert_eq!(mode(&path), 0o600, "{name}");
            }
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_directory_others_could_change_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = TempDir::new().unwrap();
        let dir = tmp.path().join("state");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        match SqliteStore::open(&dir) {
            Err(StoreError::Unsafe { path, .. }) => assert_eq!(path, dir),
            other => panic!("expected Unsafe, got {other:?}"),
        }
        assert!(!dir.join("ilink.db").exists(), "nothing was created");
    }

    #[cfg(unix)]
    #[test]
    fn a_database_that_is_a_link_is_refused_and_its_target_untouched() {
        let tmp = TempDir::new().unwrap();
        let dir = tmp.path().join("state");
        std::fs::create_dir(&dir).unwrap();
        let target = tmp.path().join("elsewhere.db");
        std::fs::write(&target, b"not yours").unwrap();
        std::os::unix::fs::symlink(&target, dir.join("ilink.db")).unwrap();
        assert!(matches!(
            SqliteStore::open(&dir),
            Err(StoreError::Unsafe { .. })
        ));
        assert_eq!(std::fs::read(&target).unwrap(), b"not yours");
    }

    #[test]
    fn unreadable_credentials_leave_the_others_listed() {
        let tmp = TempDir::new().unwrap();
        let dir = tmp.path().join("state");
        let s = reopen(&dir);
        s.save_credentials(&credentials(ACCOUNT, "t1", 1)).unwrap();
        s.save_credentials(&credentials(OTHER, "t2", 2)).unwrap();
        let conn = rusqlite::Connection::open(dir.join("ilink.db")).unwrap();
        conn.execute(
            "UPDATE accounts SET credentials = '{not json' WHERE account_id = ?1",
            [ACCOUNT],
        )
        .unwrap();
        assert_eq!(ids(&s.accounts().unwrap()), [OTHER]);
        // Loading it is an error that names it, and the row is left alone.
        match s.load_credentials(ACCOUNT) {
            Err(StoreError::Corrupt { what, .. }) => assert!(what.contains(ACCOUNT), "{what}"),
            other => panic!("expected Corrupt, got {other:?}"),
        }
        let raw: String = conn
            .query_row(
                "SELECT credentials FROM accounts WHERE account_id = ?1",
                [ACCOUNT],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(raw, "{not json");
    }

    #[test]
    fn a_database_of_the_previous_schema_is_migrated_with_its_data() {
        let tmp = TempDir::new().unwrap();
        let dir = tmp.path().join("state");
        std::fs::create_dir(&dir).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        // Schema 1, as the first release wrote it: no leases table.
        {
            let conn = rusqlite::Connection::open(dir.join("ilink.db")).unwrap();
            conn.execute_batch(SCHEMA_1).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
            conn.execute(
                "INSERT INTO cursors (account_id, cursor) VALUES (?1, 'old-cursor')",
                [ACCOUNT],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO inbox (account_id, key, message, received_at_ms)
                 VALUES (?1, 'k1', '{\"text\":\"kept\"}', 5)",
                [ACCOUNT],
            )
            .unwrap();
        }
        let s = reopen(&dir);
        assert_eq!(
            s.load_cursor(ACCOUNT).unwrap().as_deref(),
            Some("old-cursor")
        );
        assert_eq!(keys_of(&s.pending(ACCOUNT).unwrap()), ["k1"]);
        // And the new schema works: leases fence the old data's account.
        s.ack(ACCOUNT, "k1").unwrap();
        assert!(s.pending(ACCOUNT).unwrap().is_empty());
        let version: i64 = rusqlite::Connection::open(dir.join("ilink.db"))
            .unwrap()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, 5);
        // And the outbox of schema 4 (with schema 5's counted ids) is there.
        let a = AccountId::from(ACCOUNT);
        let queued = s
            .on(s.store.enqueue(
                None,
                &a,
                &UserId::from("u"),
                outbox(&["o1"], "u"),
                ReplyLimits::none(),
            ))
            .unwrap();
        assert_eq!(queued, Admission::Queued { new: 1 });
    }

    #[test]
    fn a_database_of_a_newer_version_is_refused() {
        let tmp = TempDir::new().unwrap();
        let dir = tmp.path().join("state");
        drop(reopen(&dir));
        let conn = rusqlite::Connection::open(dir.join("ilink.db")).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        match SqliteStore::open(&dir) {
            Err(StoreError::NewerSchema { found, .. }) => assert_eq!(found, 99),
            other => panic!("expected NewerSchema, got {other:?}"),
        }
    }

    /// Schema 1 as it shipped (a copy: the test must not follow later edits).
    const SCHEMA_1: &str = "
        CREATE TABLE accounts (account_id TEXT PRIMARY KEY, credentials TEXT NOT NULL,
            saved_seq INTEGER NOT NULL);
        CREATE TABLE cursors (account_id TEXT PRIMARY KEY, cursor TEXT NOT NULL);
        CREATE TABLE inbox (id INTEGER PRIMARY KEY, account_id TEXT NOT NULL, key TEXT NOT NULL,
            message TEXT NOT NULL, received_at_ms INTEGER NOT NULL, UNIQUE (account_id, key));
        CREATE INDEX inbox_by_account ON inbox (account_id, id);
        CREATE TABLE acked (id INTEGER PRIMARY KEY, account_id TEXT NOT NULL, key TEXT NOT NULL,
            UNIQUE (account_id, key));
        CREATE INDEX acked_by_account ON acked (account_id, id);
        CREATE TABLE context_tokens (account_id TEXT NOT NULL, user_id TEXT NOT NULL,
            token TEXT NOT NULL, PRIMARY KEY (account_id, user_id));
        CREATE TABLE typing_tickets (account_id TEXT NOT NULL, user_id TEXT NOT NULL,
            ticket TEXT NOT NULL, refresh_at_ms INTEGER NOT NULL, backoff_ms INTEGER NOT NULL,
            PRIMARY KEY (account_id, user_id));";
}

#[cfg(feature = "postgres")]
mod postgres_only {
    use super::*;

    #[test]
    fn a_database_off_this_host_without_tls_is_refused_before_connecting() {
        // Bot state (tokens, messages) would cross the network in clear
        // text. Refused before any lookup or connection is made.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        for url in [
            "postgres://bot@db.example.invalid/ilink?sslmode=disable",
            "host=db.example.invalid user=bot dbname=ilink sslmode=disable",
            "postgres://bot@127.0.0.1,db.example.invalid/ilink?sslmode=disable",
        ] {
            match rt.block_on(ilink::store::PgStore::connect(url)) {
                Err(StoreError::InsecureDatabase) => {}
                other => panic!("{url}: expected InsecureDatabase, got {other:?}"),
            }
        }
    }

    /// The test cluster's URL as the TLS-only role, and its CA; `None`
    /// (after a SKIP line) without them, unless CI requires them.
    fn tls_server() -> Option<(String, std::path::PathBuf)> {
        let url = std::env::var("ILINK_TEST_PG_URL")
            .ok()
            .filter(|u| !u.is_empty());
        let ca = std::env::var_os("ILINK_TEST_PG_CA").filter(|c| !c.is_empty());
        let (Some(url), Some(ca)) = (url, ca) else {
            assert!(
                std::env::var_os("ILINK_TEST_PG_REQUIRED").is_none(),
                "ILINK_TEST_PG_REQUIRED is set but ILINK_TEST_PG_URL or ILINK_TEST_PG_CA is not"
            );
            eprintln!("SKIP PostgreSQL over TLS: ILINK_TEST_PG_URL or ILINK_TEST_PG_CA is not set");
            return None;
        };
        // pg-test-server.sh's role that may connect over TLS only.
        Some((url.replacen("postgres@", "tlsonly@", 1), ca.into()))
    }

    fn trusting(ca: &std::path::Path) -> ilink::rustls::ClientConfig {
        use ilink::rustls;
        use rustls::pki_types::pem::PemObject;
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls::pki_types::CertificateDer::pem_file_iter(ca).unwrap() {
            roots.add(cert.unwrap()).unwrap();
        }
        rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth()
    }

    #[test]
    fn the_store_works_over_verified_tls() {
        let Some((url, ca)) = tls_server() else {
            return;
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let schema = format!("tls_{}", std::process::id());
        rt.block_on(async {
            // The role is refused without TLS: what works below went over TLS.
            let plain = ilink::store::PgStore::connect_in_schema(
                &format!("{url}?sslmode=disable"),
                &schema,
            )
            .await;
            assert!(matches!(plain, Err(StoreError::Database(_))), "{plain:?}");
            let store = ilink::store::PgStore::connect_with_tls(&url, &schema, trusting(&ca))
                .await
                .expect("TLS with the cluster's CA");
            let creds = credentials("tls-account", "token", 1);
            store.save_credentials(&creds).await.unwrap();
            let back = store
                .load_credentials(&creds.account_id)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(back.bot_token.expose(), "token");
            // Asked for TLS on loopback, connect verifies against the public
            // roots: the test CA is not among them, so it fails.
            let untrusted = ilink::store::PgStore::connect_in_schema(
                &format!("{url}?sslmode=require"),
                &schema,
            )
            .await;
            let Err(err) = untrusted else {
                panic!("an untrusted certificate was accepted")
            };
            let mut chain = err.to_string();
            let mut source = std::error::Error::source(&err);
            while let Some(s) = source {
                chain.push_str(&format!(": {s}"));
                source = s.source();
            }
            assert!(chain.contains("certificate"), "{chain}");
        });
    }
}
