//! The `Store` contract, checked the same way against every implementation
//! (`memory::*`, `file::*`), and what only `FileStore` promises
//! (`file_store::*`: restarts, permissions, corrupt files, hostile account
//! ids, locks across stores and processes).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ilink::proto::{BotToken, ContextToken};
use ilink::store::{
    Credentials, DEDUP_WINDOW, FileStore, InboxEntry, MemoryStore, Store, StoreError, TypingTicket,
};
use serde_json::json;
use tempfile::TempDir;

/// The account most checks use (plain characters: its directory has the
/// same name).
const ACCOUNT: &str = "bot-1";
const OTHER: &str = "bot-2";

/// A store to check, and what it needs to stay alive.
struct Fixture {
    store: Box<dyn Store>,
    /// Puts keys in an account's window faster than one `ack` each (the
    /// file store writes its log directly: ten thousand fsyncs would take
    /// most of a minute).
    prefill: fn(&Fixture, &str, &[String]),
    dir: Option<TempDir>,
}

fn memory_fixture() -> Fixture {
    Fixture {
        store: Box::new(MemoryStore::new()),
        prefill: |fixture, account, keys| {
            for key in keys {
                fixture.store.ack(account, key).unwrap();
            }
        },
        dir: None,
    }
}

fn file_fixture() -> Fixture {
    let dir = TempDir::new().unwrap();
    let store = FileStore::open(dir.path().join("store")).unwrap();
    Fixture {
        store: Box::new(store),
        prefill: |fixture, account, keys| {
            assert!(
                account
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            );
            let dir = fixture.root().join("accounts").join(account);
            std::fs::create_dir_all(&dir).unwrap();
            // Keys of lowercase letters and digits are written as they are.
            let mut log = String::new();
            for key in keys {
                assert!(
                    key.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                );
                log.push_str(key);
                log.push('\n');
            }
            std::fs::write(dir.join("dedup.log"), log).unwrap();
        },
        dir: Some(dir),
    }
}

impl Fixture {
    fn root(&self) -> PathBuf {
        self.dir
            .as_ref()
            .expect("a file store")
            .path()
            .join("store")
    }
}

fn credentials(account: &str, token: &str, saved_at_ms: u64) -> Credentials {
    let mut c = Credentials::new(account, BotToken::new(token));
    c.user_id = Some(format!("owner-of-{account}@im.wechat").into());
    c.base_url = Some("https://example.invalid".to_owned());
    c.saved_at_ms = saved_at_ms;
    c
}

fn entry(key: &str) -> InboxEntry {
    InboxEntry::new(
        key,
        json!({"message_id": 1, "from_user_id": "u@im.wechat", "text": format!("hello {key}")}),
        1_700_000_000_000,
    )
}

fn entries(keys: &[&str]) -> Vec<InboxEntry> {
    keys.iter().map(|key| entry(key)).collect()
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
    let s = &*f.store;
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
    let s = &*f.store;
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
    let s = &*f.store;
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
    let s = &*f.store;
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

fn duplicates_are_skipped(f: Fixture) {
    let s = &*f.store;
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
    let s = &*f.store;
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
    let s = &*f.store;
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
    let s = &*f.store;
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
    let s = &*f.store;
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

fn poller_lock_is_exclusive(f: Fixture) {
    let s = &*f.store;
    let lock = s.lock_poller(ACCOUNT).unwrap();
    match s.lock_poller(ACCOUNT) {
        Err(StoreError::Locked { account }) => assert_eq!(account, ACCOUNT),
        other => panic!("expected Locked, got {other:?}"),
    }
    // Other accounts are independent.
    let other = s.lock_poller(OTHER).unwrap();
    drop(lock);
    let again = s.lock_poller(ACCOUNT).unwrap();
    assert!(matches!(
        s.lock_poller(OTHER),
        Err(StoreError::Locked { .. })
    ));
    drop((again, other));
    drop(s.lock_poller(ACCOUNT).unwrap());
    drop(s.lock_poller(OTHER).unwrap());
}

fn hostile_account_ids_stay_apart(f: Fixture) {
    let s = &*f.store;
    let hostile = hostile_ids();
    for (i, id) in hostile.iter().enumerate() {
        s.save_credentials(&credentials(id, &format!("token-{i}"), i as u64))
            .unwrap();
        s.commit_batch(id, entries(&[&format!("{i}")]), &format!("cursor-{i}"))
            .unwrap();
    }
    for (i, id) in hostile.iter().enumerate() {
        let c = s.load_credentials(id).unwrap().unwrap();
        assert_eq!(c.account_id, *id);
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

/// Runs each check against each store, as `memory::<check>` and
/// `file::<check>`.
macro_rules! conformance {
    ($($check:ident),* $(,)?) => {
        mod memory {
            $(#[test] fn $check() { super::$check(super::memory_fixture()); })*
        }
        mod file {
            $(#[test] fn $check() { super::$check(super::file_fixture()); })*
        }
    };
}

conformance!(
    credentials_round_trip_in_save_order,
    remove_account_forgets_everything,
    cursor_follows_commits,
    inbox_commit_pending_ack,
    duplicates_are_skipped,
    odd_keys_work,
    dedup_window_is_bounded,
    context_tokens_per_user,
    typing_tickets_per_user,
    poller_lock_is_exclusive,
    hostile_account_ids_stay_apart,
);

// ---------------------------------------------------------------------------
// What only the file store promises.

mod file_store {
    use std::fs;
    use std::process::Command;

    use super::*;

    /// Every path under `dir`, depth first.
    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut all = Vec::new();
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            all.push(path.clone());
            if path.is_dir() {
                all.extend(walk(&path));
            }
        }
        all.sort();
        all
    }

    fn account_dir(f: &Fixture, dir_name: &str) -> PathBuf {
        f.root().join("accounts").join(dir_name)
    }

    fn reopen(f: &Fixture) -> FileStore {
        FileStore::open(f.root()).unwrap()
    }

    fn assert_corrupt(result: Result<impl std::fmt::Debug, StoreError>, file: &Path) {
        match result {
            Err(StoreError::Corrupt { path, reason }) => {
                assert_eq!(path, file);
                assert!(!reason.contains("TOPSECRET"), "{reason}");
                let shown = StoreError::Corrupt { path, reason }.to_string();
                assert!(!shown.contains("TOPSECRET"), "{shown}");
            }
            other => panic!("expected Corrupt for {}, got {other:?}", file.display()),
        }
    }

    #[test]
    fn open_creates_a_private_root() {
        let dir = TempDir::new().unwrap();
        let root = dir.path().join("a").join("b");
        let store = FileStore::open(&root).unwrap();
        assert_eq!(store.root(), root);
        assert!(root.join("accounts").is_dir());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for path in [&root, &root.join("accounts")] {
                let mode = fs::metadata(path).unwrap().permissions().mode() & 0o777;
                assert_eq!(mode, 0o700, "{}", path.display());
            }
        }
        // Opening again is fine, and clones share the store.
        let again = FileStore::open(&root).unwrap();
        again
            .save_credentials(&credentials(ACCOUNT, "TOPSECRET", 1))
            .unwrap();
        let clone = store.clone();
        assert_eq!(ids(&clone.accounts().unwrap()), [ACCOUNT]);
        let shown = format!("{store:?}");
        assert!(shown.contains("FileStore"), "{shown}");
        assert!(!shown.contains("TOPSECRET"), "{shown}");
        fn send_sync<T: Send + Sync + Clone + 'static>() {}
        send_sync::<FileStore>();
    }

    #[test]
    fn a_reopened_store_sees_everything() {
        let f = file_fixture();
        {
            let s = &*f.store;
            s.save_credentials(&credentials(OTHER, "t2", 1)).unwrap();
            s.save_credentials(&credentials(ACCOUNT, "t1", 1)).unwrap();
            s.commit_batch(ACCOUNT, entries(&["1", "2", "3"]), "c1")
                .unwrap();
            s.ack(ACCOUNT, "2").unwrap();
            s.save_context_token(ACCOUNT, "u", &ContextToken::new("ctx"))
                .unwrap();
            s.save_typing_ticket(ACCOUNT, "u", &TypingTicket::new("tt", 9, 1))
                .unwrap();
        }
        // A restart: the first store is gone.
        let root = f.root();
        let Fixture {
            store, dir: _dir, ..
        } = f;
        drop(store);
        let s = FileStore::open(root).unwrap();
        assert_eq!(ids(&s.accounts().unwrap()), [ACCOUNT, OTHER]);
        assert_eq!(
            s.load_credentials(ACCOUNT).unwrap(),
            Some(credentials(ACCOUNT, "t1", 1))
        );
        assert_eq!(s.load_cursor(ACCOUNT).unwrap().as_deref(), Some("c1"));
        assert_eq!(s.pending(ACCOUNT).unwrap(), entries(&["1", "3"]));
        assert!(s.seen(ACCOUNT, "2").unwrap());
        assert!(
            s.commit_batch(ACCOUNT, entries(&["1", "2"]), "c2")
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            s.load_context_token(ACCOUNT, "u").unwrap(),
            Some(ContextToken::new("ctx"))
        );
        assert_eq!(
            s.load_typing_ticket(ACCOUNT, "u").unwrap(),
            Some(TypingTicket::new("tt", 9, 1))
        );
        // The order survives too, and goes on from where it was.
        s.save_credentials(&credentials(OTHER, "t2", 1)).unwrap();
        assert_eq!(ids(&s.accounts().unwrap()), [OTHER, ACCOUNT]);
    }

    #[test]
    fn two_stores_on_one_root_see_each_others_writes() {
        let f = file_fixture();
        let a = &*f.store;
        let b = reopen(&f);
        a.commit_batch(ACCOUNT, entries(&["1", "2"]), "c1").unwrap();
        assert!(!b.seen(ACCOUNT, "9").unwrap());
        b.ack(ACCOUNT, "1").unwrap();
        assert!(a.seen(ACCOUNT, "1").unwrap());
        assert_eq!(keys_of(&a.pending(ACCOUNT).unwrap()), ["2"]);
        a.ack(ACCOUNT, "2").unwrap();
        assert!(b.seen(ACCOUNT, "2").unwrap());
        assert!(b.pending(ACCOUNT).unwrap().is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn files_are_0600_and_directories_0700() {
        use std::os::unix::fs::PermissionsExt;
        let f = file_fixture();
        let s = &*f.store;
        s.save_credentials(&credentials(ACCOUNT, "t", 1)).unwrap();
        s.commit_batch(ACCOUNT, entries(&["1", "2"]), "c").unwrap();
        s.ack(ACCOUNT, "1").unwrap();
        s.save_context_token(ACCOUNT, "u", &ContextToken::new("x"))
            .unwrap();
        s.save_typing_ticket(ACCOUNT, "u", &TypingTicket::new("t", 1, 0))
            .unwrap();
        let _lock = s.lock_poller(ACCOUNT).unwrap();
        let all = walk(&f.root());
        let names: Vec<String> = all
            .iter()
            .map(|p| p.strip_prefix(f.root()).unwrap().display().to_string())
            .collect();
        for expected in [
            "accounts",
            "accounts.lock",
            "accounts/bot-1",
            "accounts/bot-1/credentials.json",
            "accounts/bot-1/cursor.json",
            "accounts/bot-1/context_tokens.json",
            "accounts/bot-1/typing.json",
            "accounts/bot-1/dedup.log",
            "accounts/bot-1/poller.lock",
            "accounts/bot-1/inbox",
            "accounts/bot-1/inbox/00000000000000000000.batch.json",
        ] {
            assert!(
                names.iter().any(|n| n == expected),
                "{expected} in {names:?}"
            );
        }
        assert_eq!(names.len(), 11, "{names:?}");
        for path in all.iter().chain([&f.root()]) {
            let meta = fs::metadata(path).unwrap();
            let mode = meta.permissions().mode() & 0o777;
            let want = if meta.is_dir() { 0o700 } else { 0o600 };
            assert_eq!(mode, want, "{}", path.display());
        }
    }

    #[test]
    fn corrupt_files_are_reported_by_name_and_left_alone() {
        let f = file_fixture();
        let s = &*f.store;
        s.save_credentials(&credentials(ACCOUNT, "t", 1)).unwrap();
        s.save_credentials(&credentials(OTHER, "t", 1)).unwrap();
        s.commit_batch(ACCOUNT, entries(&["1"]), "c").unwrap();
        s.save_context_token(ACCOUNT, "u", &ContextToken::new("x"))
            .unwrap();
        s.save_typing_ticket(ACCOUNT, "u", &TypingTicket::new("t", 1, 0))
            .unwrap();
        let dir = account_dir(&f, ACCOUNT);

        let creds = dir.join("credentials.json");
        let bad = r#"{"order":1,"credentials":{"account_id":"bot-1","bot_token":TOPSECRET}}"#;
        fs::write(&creds, bad).unwrap();
        assert_corrupt(s.load_credentials(ACCOUNT), &creds);
        // One unreadable account does not hide the others.
        assert_eq!(ids(&s.accounts().unwrap()), [OTHER]);
        // A save with a corrupt sibling cannot tell the order: it refuses.
        assert_corrupt(s.save_credentials(&credentials(OTHER, "t", 1)), &creds);
        assert_eq!(fs::read_to_string(&creds).unwrap(), bad);
        // The wrong shape (serde would quote the value).
        fs::write(&creds, r#"{"order":"TOPSECRET","credentials":{}}"#).unwrap();
        assert_corrupt(s.load_credentials(ACCOUNT), &creds);
        fs::write(&creds, b"\xff\xfe TOPSECRET").unwrap();
        assert_corrupt(s.load_credentials(ACCOUNT), &creds);
        // Valid, but another account's.
        let mut theirs = serde_json::to_value(credentials(OTHER, "t", 1)).unwrap();
        theirs = json!({"order": 1, "credentials": theirs});
        fs::write(&creds, theirs.to_string()).unwrap();
        assert_corrupt(s.load_credentials(ACCOUNT), &creds);

        let cursor = dir.join("cursor.json");
        fs::write(&cursor, r#"{"cursor": TOPSECRET"#).unwrap();
        assert_corrupt(s.load_cursor(ACCOUNT), &cursor);
        assert_corrupt(s.commit_batch(ACCOUNT, entries(&["2"]), "c2"), &cursor);
        fs::write(&cursor, "[1, 2]").unwrap();
        assert_corrupt(s.load_cursor(ACCOUNT), &cursor);

        let batch_file = dir.join("inbox").join("00000000000000000000.batch.json");
        assert!(batch_file.is_file());
        fs::write(&batch_file, r#"[{"key":"1","message":{"t":"TOPSECRET"}"#).unwrap();
        assert_corrupt(s.pending(ACCOUNT), &batch_file);
        assert_corrupt(reopen(&f).seen(ACCOUNT, "1"), &batch_file);
        fs::write(
            &batch_file,
            r#"[{"key":"1","message":{},"received_at_ms":"TOPSECRET"}]"#,
        )
        .unwrap();
        assert_corrupt(s.pending(ACCOUNT), &batch_file);
        fs::remove_file(&batch_file).unwrap();

        // A legacy one-entry file whose name and content disagree.
        let entry_file = dir.join("inbox").join("00000000000000000001_1.json");
        fs::write(&entry_file, r#"{"key":"1","message":{"t":"TOPSECRET"}"#).unwrap();
        assert_corrupt(s.pending(ACCOUNT), &entry_file);
        fs::write(
            &entry_file,
            r#"{"key":"1","message":{},"received_at_ms":"TOPSECRET"}"#,
        )
        .unwrap();
        assert_corrupt(s.pending(ACCOUNT), &entry_file);
        fs::write(
            &entry_file,
            r#"{"key":"7","message":{},"received_at_ms":1}"#,
        )
        .unwrap();
        assert_corrupt(s.pending(ACCOUNT), &entry_file);

        let tokens = dir.join("context_tokens.json");
        fs::write(&tokens, r#"{"u": TOPSECRET}"#).unwrap();
        assert_corrupt(s.context_tokens(ACCOUNT), &tokens);
        assert_corrupt(s.load_context_token(ACCOUNT, "u"), &tokens);
        assert_corrupt(
            s.save_context_token(ACCOUNT, "v", &ContextToken::new("y")),
            &tokens,
        );

        let typing = dir.join("typing.json");
        fs::write(&typing, r#"{"u": {"ticket": 5}}"#).unwrap();
        assert_corrupt(s.load_typing_ticket(ACCOUNT, "u"), &typing);

        let log = dir.join("dedup.log");
        fs::write(&log, b"1\n\xffTOPSECRET\n").unwrap();
        assert_corrupt(s.seen(ACCOUNT, "1"), &log);
        assert_corrupt(s.ack(ACCOUNT, "1"), &log);
        fs::write(&log, "1\n%zzTOPSECRET\n").unwrap();
        assert_corrupt(s.seen(ACCOUNT, "1"), &log);
        assert_eq!(fs::read_to_string(&log).unwrap(), "1\n%zzTOPSECRET\n");

        // A fresh store (a restart) says the same.
        assert_corrupt(reopen(&f).seen(ACCOUNT, "1"), &log);
    }

    #[test]
    fn a_torn_last_line_of_the_log_is_not_an_ack() {
        let f = file_fixture();
        let s = &*f.store;
        s.commit_batch(ACCOUNT, entries(&["1", "2", "345"]), "c")
            .unwrap();
        s.ack(ACCOUNT, "1").unwrap();
        s.ack(ACCOUNT, "2").unwrap();
        // A crash in the middle of acking "345": its line is incomplete and
        // its entry is still there.
        let log = account_dir(&f, ACCOUNT).join("dedup.log");
        let mut torn = fs::read(&log).unwrap();
        torn.extend_from_slice(b"34");
        fs::write(&log, &torn).unwrap();

        let s = reopen(&f);
        assert!(s.seen(ACCOUNT, "1").unwrap());
        assert!(!s.seen(ACCOUNT, "34").unwrap());
        assert_eq!(keys_of(&s.pending(ACCOUNT).unwrap()), ["345"]);
        // The next append cuts the fragment off instead of extending it.
        s.ack(ACCOUNT, "4").unwrap();
        assert_eq!(fs::read_to_string(&log).unwrap(), "1\n2\n4\n");
        s.ack(ACCOUNT, "345").unwrap();
        assert_eq!(fs::read_to_string(&log).unwrap(), "1\n2\n4\n345\n");
        assert!(s.pending(ACCOUNT).unwrap().is_empty());
        // A torn fragment alone, even one that is not UTF-8, is ignored.
        fs::write(&log, b"\xe2\x82").unwrap();
        let s = reopen(&f);
        assert!(!s.seen(ACCOUNT, "1").unwrap());
        s.ack(ACCOUNT, "1").unwrap();
        assert_eq!(fs::read_to_string(&log).unwrap(), "1\n");
    }

    #[test]
    fn crashes_between_steps_lose_nothing() {
        let f = file_fixture();
        let s = &*f.store;
        s.commit_batch(ACCOUNT, entries(&["1"]), "c1").unwrap();
        let dir = account_dir(&f, ACCOUNT);
        let old_cursor = fs::read(dir.join("cursor.json")).unwrap();

        // Crash after the entries of a batch, before its cursor.
        s.commit_batch(ACCOUNT, entries(&["2", "3"]), "c2").unwrap();
        fs::write(dir.join("cursor.json"), &old_cursor).unwrap();
        let s = reopen(&f);
        assert_eq!(s.load_cursor(ACCOUNT).unwrap().as_deref(), Some("c1"));
        assert_eq!(keys_of(&s.pending(ACCOUNT).unwrap()), ["1", "2", "3"]);
        // Polling from the old cursor again brings duplicates: skipped.
        let fresh = s
            .commit_batch(ACCOUNT, entries(&["2", "3", "4"]), "c2")
            .unwrap();
        assert_eq!(keys_of(&fresh), ["4"]);

        // Crash after the ack's log append, before the entry's removal.
        let log = dir.join("dedup.log");
        fs::write(&log, "2\n").unwrap();
        let s = reopen(&f);
        assert_eq!(keys_of(&s.pending(ACCOUNT).unwrap()), ["1", "3", "4"]);
        let inbox: Vec<String> = fs::read_dir(dir.join("inbox"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(inbox.len(), 3, "{inbox:?}");

        // Leftover temporary files are never read as entries.
        fs::write(
            dir.join("inbox")
                .join(".tmp.1.2.00000000000000000009_9.json"),
            "{",
        )
        .unwrap();
        assert_eq!(keys_of(&s.pending(ACCOUNT).unwrap()), ["1", "3", "4"]);
    }

    #[test]
    fn the_log_is_compacted() {
        let f = file_fixture();
        let s = &*f.store;
        let dir = account_dir(&f, ACCOUNT);
        fs::create_dir_all(&dir).unwrap();
        let log = dir.join("dedup.log");
        // Twice the window, as many acks would have left it.
        let keys: Vec<String> = (0..2 * DEDUP_WINDOW).map(|i| format!("{i}")).collect();
        fs::write(
            &log,
            keys.iter().map(|k| format!("{k}\n")).collect::<String>(),
        )
        .unwrap();
        assert!(!s.seen(ACCOUNT, &keys[DEDUP_WINDOW - 1]).unwrap());
        assert!(s.seen(ACCOUNT, &keys[DEDUP_WINDOW]).unwrap());

        // One more line passes the limit: the log keeps the window only.
        s.ack(ACCOUNT, "new").unwrap();
        let text = fs::read_to_string(&log).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), DEDUP_WINDOW);
        assert_eq!(lines[0], keys[DEDUP_WINDOW + 1]);
        assert_eq!(lines[DEDUP_WINDOW - 2], keys[2 * DEDUP_WINDOW - 1]);
        assert_eq!(lines[DEDUP_WINDOW - 1], "new");
        for s in [&*f.store as &dyn Store, &reopen(&f)] {
            assert!(!s.seen(ACCOUNT, &keys[DEDUP_WINDOW]).unwrap());
            assert!(s.seen(ACCOUNT, &keys[DEDUP_WINDOW + 1]).unwrap());
            assert!(s.seen(ACCOUNT, "new").unwrap());
        }
        // And appends go on after it.
        s.ack(ACCOUNT, "next").unwrap();
        assert!(fs::read_to_string(&log).unwrap().ends_with("new\nnext\n"));
        assert!(reopen(&f).seen(ACCOUNT, "next").unwrap());
    }

    #[test]
    fn hostile_account_ids_stay_inside_the_root() {
        let dir = TempDir::new().unwrap();
        let root = dir.path().join("store");
        let s = FileStore::open(&root).unwrap();
        let hostile = hostile_ids();
        for id in &hostile {
            s.save_credentials(&credentials(id, "t", 1)).unwrap();
            s.commit_batch(id, entries(&["1"]), "c").unwrap();
            s.ack(id, "1").unwrap();
            s.save_context_token(id, "../u", &ContextToken::new("x"))
                .unwrap();
            drop(s.lock_poller(id).unwrap());
        }
        // Nothing was written beside the root.
        let beside: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(beside.len(), 1);
        // One directory per id, each a single plain name.
        let accounts = root.join("accounts");
        let mut names = Vec::new();
        for entry in fs::read_dir(&accounts).unwrap() {
            let entry = entry.unwrap();
            assert!(entry.file_type().unwrap().is_dir());
            let name = entry.file_name().into_string().unwrap();
            assert!(!name.starts_with('.'), "{name}");
            assert!(
                name.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"%-_".contains(&b)),
                "{name}"
            );
            names.push(name);
        }
        assert_eq!(names.len(), hostile.len(), "{names:?}");
        let folded: std::collections::HashSet<String> =
            names.iter().map(|n| n.to_ascii_lowercase()).collect();
        assert_eq!(folded.len(), names.len(), "case-insensitive collision");
        for path in walk(&root) {
            let canonical = fs::canonicalize(&path).unwrap();
            assert!(canonical.starts_with(fs::canonicalize(&root).unwrap()));
        }
        // Removing them removes their directories, and nothing else.
        for id in &hostile {
            s.remove_account(id).unwrap();
        }
        assert_eq!(fs::read_dir(&accounts).unwrap().count(), 0);
        assert!(root.join("accounts.lock").is_file());
    }

    #[test]
    fn empty_account_ids_are_refused() {
        let f = file_fixture();
        let s = &*f.store;
        let invalid = |r: Result<(), StoreError>| {
            assert!(matches!(r, Err(StoreError::InvalidAccount)), "{r:?}");
        };
        invalid(s.save_credentials(&credentials("", "t", 1)));
        invalid(s.load_credentials("").map(drop));
        invalid(s.load_cursor("").map(drop));
        invalid(s.commit_batch("", entries(&["1"]), "c").map(drop));
        invalid(s.pending("").map(drop));
        invalid(s.ack("", "1"));
        invalid(s.seen("", "1").map(drop));
        invalid(s.remove_account(""));
        invalid(s.lock_poller("").map(drop));
        invalid(s.context_tokens("").map(drop));
        invalid(s.load_typing_ticket("", "u").map(drop));
        invalid(s.save_credentials(&credentials(&"x".repeat(300), "t", 1)));
    }

    #[test]
    fn a_second_store_cannot_take_a_held_poller_lock() {
        let f = file_fixture();
        let first = reopen(&f);
        // Through another spelling of the same directory, too.
        let second = FileStore::open(f.root().join("accounts").join("..")).unwrap();
        let lock = first.lock_poller(ACCOUNT).unwrap();
        for store in [&*f.store, &second as &dyn Store] {
            assert!(matches!(
                store.lock_poller(ACCOUNT),
                Err(StoreError::Locked { .. })
            ));
        }
        // A removal would pull the account from under the poller.
        assert!(matches!(
            second.remove_account(ACCOUNT),
            Err(StoreError::Locked { .. })
        ));
        drop(lock);
        let lock = second.lock_poller(ACCOUNT).unwrap();
        assert!(matches!(
            first.lock_poller(ACCOUNT),
            Err(StoreError::Locked { .. })
        ));
        drop(lock);
        first.remove_account(ACCOUNT).unwrap();
    }

    /// What the operating system itself does when one process locks a file
    /// twice through two handles: on Linux (flock) the second attempt fails.
    /// The store does not rely on it (it keeps its own set), but a platform
    /// where it succeeded would show here.
    #[test]
    fn the_os_lock_conflicts_within_one_process() {
        let f = file_fixture();
        let lock = f.store.lock_poller(ACCOUNT).unwrap();
        let file = fs::File::open(account_dir(&f, ACCOUNT).join("poller.lock")).unwrap();
        let result = file.try_lock();
        if cfg!(any(target_os = "linux", target_os = "macos", windows)) {
            assert!(
                matches!(result, Err(fs::TryLockError::WouldBlock)),
                "{result:?}"
            );
        }
        drop(lock);
        drop(file);
        let file = fs::File::open(account_dir(&f, ACCOUNT).join("poller.lock")).unwrap();
        file.try_lock().unwrap();
    }

    const CHILD_ROOT: &str = "ILINK_STORE_LOCK_CHILD_ROOT";
    const CHILD_EXPECT: &str = "ILINK_STORE_LOCK_CHILD_EXPECT";

    /// The other process of `another_process_cannot_take_a_held_lock`; does
    /// nothing when run by itself.
    #[test]
    fn lock_child_process() {
        let (Ok(root), Ok(expect)) = (std::env::var(CHILD_ROOT), std::env::var(CHILD_EXPECT))
        else {
            return;
        };
        let store = FileStore::open(root).unwrap();
        match (store.lock_poller(ACCOUNT), expect.as_str()) {
            (Err(StoreError::Locked { .. }), "locked") | (Ok(_), "acquired") => {}
            (other, expect) => panic!("expected {expect}, got {other:?}"),
        }
    }

    #[test]
    fn another_process_cannot_take_a_held_lock() {
        let f = file_fixture();
        let run_child = |expect: &str| {
            let output = Command::new(std::env::current_exe().unwrap())
                .args(["--exact", "store::file_store::lock_child_process"])
                .args(["--test-threads", "1"])
                .env(CHILD_ROOT, f.root())
                .env(CHILD_EXPECT, expect)
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&output.stdout);
            assert!(
                output.status.success() && stdout.contains("1 passed"),
                "child expecting {expect}: {stdout}{}",
                String::from_utf8_lossy(&output.stderr)
            );
        };
        let lock = f.store.lock_poller(ACCOUNT).unwrap();
        run_child("locked");
        drop(lock);
        run_child("acquired");
    }

    /// The names in an account's inbox directory, sorted.
    /// The pid of a process that has ended.
    #[cfg(target_os = "linux")]
    fn ended_pid() -> u32 {
        let mut child = Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        pid
    }

    #[cfg(target_os = "linux")]
    fn touch(path: &Path) {
        fs::write(path, b"partial").unwrap();
    }

    // Linux: only there can the store tell that a process has ended.
    #[cfg(target_os = "linux")]
    #[test]
    fn leftovers_of_interrupted_writes_are_removed_by_the_next_poller() {
        let f = file_fixture();
        let s = &*f.store;
        s.save_credentials(&credentials(ACCOUNT, "tok", 1)).unwrap();
        s.commit_batch(ACCOUNT, entries(&["k1"]), "c1").unwrap();
        let dir = account_dir(&f, ACCOUNT);
        let inbox = dir.join("inbox");
        let live = std::os::unix::process::parent_id();
        let ended = ended_pid();
        let me = std::process::id();

        let gone = [
            // Only the poller lock's holder writes these: gone whoever wrote them.
            inbox.join(format!(".tmp.{live}.1.00000000000000000009.batch.json")),
            dir.join(format!(".tmp.{live}.2.cursor.json")),
            dir.join(format!(".tmp.{live}.3.dedup.log")),
            // Their writer has ended.
            dir.join(format!(".tmp.{ended}.4.context_tokens.json")),
            // Older than a write can take.
            dir.join(format!(".tmp.{live}.5.typing.json")),
        ];
        let kept = [
            // Its writer may still be writing it.
            dir.join(format!(".tmp.{live}.6.credentials.json")),
            // This process's own.
            dir.join(format!(".tmp.{me}.7.typing.json")),
            // Not a temporary file's name.
            dir.join(".tmp.x.typing.json"),
        ];
        for path in gone.iter().chain(&kept) {
            touch(path);
        }
        let an_hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        fs::File::options()
            .write(true)
            .open(&gone[4])
            .unwrap()
            .set_modified(an_hour_ago)
            .unwrap();

        let lock = s.lock_poller(ACCOUNT).unwrap();
        for path in &gone {
            assert!(!path.exists(), "{} left", path.display());
        }
        for path in &kept {
            assert!(path.exists(), "{} removed", path.display());
        }
        // The data is untouched.
        assert_eq!(keys_of(&s.pending(ACCOUNT).unwrap()), ["k1"]);
        assert_eq!(s.load_cursor(ACCOUNT).unwrap().as_deref(), Some("c1"));
        assert!(s.load_credentials(ACCOUNT).unwrap().is_some());
        drop(lock);

        // A removed account whose deletion was interrupted goes when a
        // store opens the root, once its remover has ended.
        let accounts = f.root().join("accounts");
        let trash = accounts.join(format!(".tmp.{ended}.8.removed.bot-3"));
        let busy = accounts.join(format!(".tmp.{live}.9.removed.bot-4"));
        for t in [&trash, &busy] {
            fs::create_dir_all(t.join("inbox")).unwrap();
            touch(&t.join("credentials.json"));
        }
        reopen(&f);
        assert!(!trash.exists());
        assert!(busy.exists());
        assert_eq!(ids(&s.accounts().unwrap()), [ACCOUNT]);
    }

    fn inbox_files(f: &Fixture) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(account_dir(f, ACCOUNT).join("inbox"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_batch_is_one_inbox_file() {
        let f = file_fixture();
        let s = &*f.store;
        let keys: Vec<String> = (0..100).map(|i| format!("m{i}")).collect();
        let batch: Vec<InboxEntry> = keys.iter().map(|k| entry(k)).collect();
        let fresh = s.commit_batch(ACCOUNT, batch.clone(), "c1").unwrap();
        assert_eq!(fresh, batch);
        assert_eq!(inbox_files(&f), ["00000000000000000000.batch.json"]);
        for s in [s, &reopen(&f) as &dyn Store] {
            assert_eq!(s.pending(ACCOUNT).unwrap(), batch);
            assert!(keys.iter().all(|k| s.seen(ACCOUNT, k).unwrap()));
            assert!(!s.seen(ACCOUNT, "m100").unwrap());
            // Polled again: every one is a duplicate, no file is written.
            assert!(
                s.commit_batch(ACCOUNT, batch.clone(), "c1")
                    .unwrap()
                    .is_empty()
            );
        }
        assert_eq!(inbox_files(&f).len(), 1);
    }

    #[test]
    fn pending_keeps_the_order_across_batches() {
        let f = file_fixture();
        let s = &*f.store;
        s.commit_batch(ACCOUNT, entries(&["3", "1"]), "c1").unwrap();
        s.commit_batch(ACCOUNT, entries(&["1", "9", "2"]), "c2")
            .unwrap();
        s.commit_batch(ACCOUNT, entries(&["0"]), "c3").unwrap();
        assert_eq!(
            inbox_files(&f),
            [
                "00000000000000000000.batch.json",
                "00000000000000000001.batch.json",
                "00000000000000000002.batch.json",
            ]
        );
        let want = ["3", "1", "9", "2", "0"];
        assert_eq!(keys_of(&s.pending(ACCOUNT).unwrap()), want);
        assert_eq!(keys_of(&reopen(&f).pending(ACCOUNT).unwrap()), want);
        s.ack(ACCOUNT, "9").unwrap();
        assert_eq!(keys_of(&s.pending(ACCOUNT).unwrap()), ["3", "1", "2", "0"]);
    }

    #[test]
    fn a_batch_file_goes_once_every_entry_is_acknowledged() {
        let f = file_fixture();
        let s = &*f.store;
        s.commit_batch(ACCOUNT, entries(&["1", "2", "3"]), "c1")
            .unwrap();
        s.commit_batch(ACCOUNT, entries(&["4"]), "c2").unwrap();
        s.ack(ACCOUNT, "1").unwrap();
        s.ack(ACCOUNT, "3").unwrap();
        // Partly acknowledged: the file stays, only "2" is pending.
        assert_eq!(inbox_files(&f).len(), 2);
        assert_eq!(keys_of(&s.pending(ACCOUNT).unwrap()), ["2", "4"]);
        assert_eq!(keys_of(&reopen(&f).pending(ACCOUNT).unwrap()), ["2", "4"]);
        assert!(s.seen(ACCOUNT, "2").unwrap());
        s.ack(ACCOUNT, "2").unwrap();
        assert_eq!(inbox_files(&f), ["00000000000000000001.batch.json"]);
        assert_eq!(keys_of(&s.pending(ACCOUNT).unwrap()), ["4"]);
        // Every key stays seen (now through the window).
        for key in ["1", "2", "3", "4"] {
            assert!(s.seen(ACCOUNT, key).unwrap(), "{key}");
        }

        // A crash between the last ack's log append and the removal: the
        // file is skipped and removed by `pending`.
        let dir = account_dir(&f, ACCOUNT);
        let log = dir.join("dedup.log");
        fs::write(&log, format!("{}4\n", fs::read_to_string(&log).unwrap())).unwrap();
        let s = reopen(&f);
        assert!(s.pending(ACCOUNT).unwrap().is_empty());
        assert!(inbox_files(&f).is_empty());
    }

    #[test]
    fn an_acknowledged_key_leaving_the_window_does_not_come_back() {
        let f = file_fixture();
        let s = &*f.store;
        s.commit_batch(ACCOUNT, entries(&["x", "y"]), "c1").unwrap();
        // "x" acknowledged, then a whole window of other acks while "y" is
        // still being handled.
        let mut log = String::from("x\n");
        for i in 1..DEDUP_WINDOW {
            log.push_str(&format!("k{i}\n"));
        }
        fs::write(account_dir(&f, ACCOUNT).join("dedup.log"), log).unwrap();
        let s2 = reopen(&f);
        assert!(s2.seen(ACCOUNT, "x").unwrap());
        // This ack pushes "x" out of the window.
        s2.ack(ACCOUNT, "new").unwrap();
        assert_eq!(keys_of(&s2.pending(ACCOUNT).unwrap()), ["y"]);
        assert_eq!(keys_of(&reopen(&f).pending(ACCOUNT).unwrap()), ["y"]);
        assert_eq!(keys_of(&s.pending(ACCOUNT).unwrap()), ["y"]);
        assert_eq!(inbox_files(&f).len(), 1);
    }

    #[test]
    fn legacy_one_entry_files_are_still_read() {
        let f = file_fixture();
        let dir = account_dir(&f, ACCOUNT).join("inbox");
        fs::create_dir_all(&dir).unwrap();
        let long = "l".repeat(200);
        for (name, key) in [
            ("00000000000000000000_1.json", "1"),
            ("00000000000000000001.json", long.as_str()),
            ("00000000000000000002_a%3Ab.json", "a:b"),
        ] {
            fs::write(dir.join(name), serde_json::to_vec(&entry(key)).unwrap()).unwrap();
        }
        let s = reopen(&f);
        assert_eq!(
            keys_of(&s.pending(ACCOUNT).unwrap()),
            ["1", long.as_str(), "a:b"]
        );
        assert!(s.seen(ACCOUNT, &long).unwrap());
        assert!(s.seen(ACCOUNT, "a:b").unwrap());
        // New entries go into a batch after them; duplicates are skipped.
        let fresh = s
            .commit_batch(ACCOUNT, entries(&["1", "a:b", "5"]), "c")
            .unwrap();
        assert_eq!(keys_of(&fresh), ["5"]);
        assert_eq!(
            keys_of(&s.pending(ACCOUNT).unwrap()),
            ["1", long.as_str(), "a:b", "5"]
        );
        assert!(inbox_files(&f).contains(&"00000000000000000003.batch.json".to_owned()));
        // Acknowledging a legacy entry removes its file.
        s.ack(ACCOUNT, "1").unwrap();
        s.ack(ACCOUNT, &long).unwrap();
        assert_eq!(
            inbox_files(&f),
            [
                "00000000000000000002_a%3Ab.json",
                "00000000000000000003.batch.json"
            ]
        );
        assert_eq!(keys_of(&s.pending(ACCOUNT).unwrap()), ["a:b", "5"]);
    }

    #[test]
    fn a_corrupt_batch_file_is_reported_by_name_and_left_alone() {
        let f = file_fixture();
        let s = &*f.store;
        s.commit_batch(ACCOUNT, entries(&["1", "2"]), "c").unwrap();
        let file = account_dir(&f, ACCOUNT)
            .join("inbox")
            .join("00000000000000000000.batch.json");
        let bad = r#"[{"key":"1","message":{"t":"TOPSECRET"},"received_at_ms":1},"#;
        fs::write(&file, bad).unwrap();
        assert_corrupt(s.pending(ACCOUNT), &file);
        let s = reopen(&f);
        assert_corrupt(s.pending(ACCOUNT), &file);
        assert_corrupt(s.seen(ACCOUNT, "3"), &file);
        assert_corrupt(s.commit_batch(ACCOUNT, entries(&["3"]), "c2"), &file);
        assert_corrupt(reopen(&f).ack(ACCOUNT, "1"), &file);
        // A key twice in one batch, and an object instead of an array.
        for bad in [
            r#"[{"key":"1","message":{},"received_at_ms":1},{"key":"1","message":{},"received_at_ms":2}]"#,
            r#"{"key":"1","message":{},"received_at_ms":1}"#,
        ] {
            fs::write(&file, bad).unwrap();
            assert_corrupt(reopen(&f).pending(ACCOUNT), &file);
            assert_eq!(fs::read_to_string(&file).unwrap(), bad);
        }
    }

    #[test]
    fn a_file_in_the_way_is_an_io_error() {
        let f = file_fixture();
        let s = &*f.store;
        let dir = account_dir(&f, ACCOUNT);
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("inbox"), "not a directory").unwrap();
        match s.commit_batch(ACCOUNT, entries(&["1"]), "c") {
            Err(StoreError::Io { path, .. }) => assert_eq!(path, dir.join("inbox")),
            other => panic!("expected Io, got {other:?}"),
        }
        // Nothing moved: the cursor was not written past the entries.
        assert_eq!(s.load_cursor(ACCOUNT).unwrap(), None);
    }

    #[cfg(unix)]
    #[test]
    fn a_read_only_directory_is_an_io_error() {
        use std::os::unix::fs::PermissionsExt;
        let f = file_fixture();
        let s = &*f.store;
        s.save_credentials(&credentials(ACCOUNT, "t", 1)).unwrap();
        let dir = account_dir(&f, ACCOUNT);
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o500)).unwrap();
        let restore = || fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).unwrap();
        // Root (and CAP_DAC_OVERRIDE) writes anyway: nothing to check then.
        let probe = dir.join("probe");
        if fs::write(&probe, "x").is_ok() {
            let _ = fs::remove_file(&probe);
            restore();
            eprintln!("skipped: permissions are not enforced for this user");
            return;
        }
        let result = s.save_credentials(&credentials(ACCOUNT, "t2", 2));
        let cursor = s.commit_batch(ACCOUNT, entries(&["1"]), "c");
        restore();
        match result {
            Err(StoreError::Io { path, source }) => {
                assert_eq!(path, dir.join("credentials.json"));
                assert_eq!(source.kind(), std::io::ErrorKind::PermissionDenied);
            }
            other => panic!("expected Io, got {other:?}"),
        }
        assert!(matches!(cursor, Err(StoreError::Io { .. })), "{cursor:?}");
        // The old credentials are intact.
        assert_eq!(
            s.load_credentials(ACCOUNT).unwrap(),
            Some(credentials(ACCOUNT, "t", 1))
        );
        assert_eq!(s.load_cursor(ACCOUNT).unwrap(), None);
    }

    /// A symlink planted where a state file goes is refused, never
    /// followed: its target is neither written, truncated nor read.
    #[cfg(unix)]
    #[test]
    fn planted_symlinks_are_refused_not_followed() {
        let f = file_fixture();
        let s = &*f.store;
        s.save_credentials(&credentials(ACCOUNT, "t", 1)).unwrap();
        let dir = account_dir(&f, ACCOUNT);
        let outside = TempDir::new().unwrap();
        let victim = outside.path().join("victim");
        fs::write(&victim, "KEEP").unwrap();
        for name in ["dedup.log", "poller.lock"] {
            let link = dir.join(name);
            let _ = fs::remove_file(&link);
            std::os::unix::fs::symlink(&victim, &link).unwrap();
        }
        assert!(s.commit_batch(ACCOUNT, entries(&["1"]), "c").is_err());
        assert!(s.lock_poller(ACCOUNT).is_err());
        assert_eq!(fs::read_to_string(&victim).unwrap(), "KEEP");
        // Reading through a planted link is refused too.
        let secret = outside.path().join("secret.json");
        fs::write(&secret, r#"{"cursor":"stolen"}"#).unwrap();
        let cursor = dir.join("cursor.json");
        let _ = fs::remove_file(&cursor);
        std::os::unix::fs::symlink(&secret, &cursor).unwrap();
        assert!(s.load_cursor(ACCOUNT).is_err());
    }

    /// A state directory another user could change is refused, and left
    /// as it is: writable by group or others, or owned by someone else.
    #[cfg(unix)]
    #[test]
    fn a_state_directory_others_could_change_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = TempDir::new().unwrap();
        let root = dir.path().join("state");
        fs::create_dir(&root).unwrap();
        fs::set_permissions(&root, fs::Permissions::from_mode(0o777)).unwrap();
        match FileStore::open(&root) {
            Err(StoreError::Unsafe { path, .. }) => assert!(path.ends_with("state")),
            other => panic!("expected Unsafe, got {other:?}"),
        }
        assert_eq!(
            fs::metadata(&root).unwrap().permissions().mode() & 0o777,
            0o777,
            "left as it is"
        );
        fs::set_permissions(&root, fs::Permissions::from_mode(0o755)).unwrap();
        FileStore::open(&root).unwrap();
        // Owned by another user (only root can arrange that).
        if std::os::unix::fs::chown(&root, Some(65534), None).is_ok() {
            assert!(matches!(
                FileStore::open(&root),
                Err(StoreError::Unsafe { .. })
            ));
        }
    }
}
