//! The `Store` contract, checked against every store the project ships by
//! the public conformance suite (`ilink::store::testing`, feature
//! `testing`): `memory::*`, `sqlite::*`, `postgres::*`. Then what only the
//! SQLite store on disk promises (`sqlite_file::*`: reopening, permissions,
//! unsafe directories and links, corrupt rows, schema versions, two
//! connections on one file) and what only PostgreSQL does.

use std::path::Path;
use std::time::Duration;

use ilink::proto::{AccountId, ContextToken, Cursor, UserId};
use ilink::store::prelude::*;
use ilink::store::testing::{
    ACCOUNT, Fixture, Harness, OTHER, credentials, entries, ids, keys_of, outbox,
};
use ilink::store::{
    Admission, MemoryStore, ReceivedBatch, ReplyLimits, SqliteStore, StoreError, TypingTicket,
};
use tempfile::TempDir;

mod memory {
    async fn fixture() -> super::Fixture {
        super::Fixture::new(super::MemoryStore::new())
    }
    ilink::store::testing::conformance!(fixture);
}

mod sqlite {
    async fn fixture() -> super::Fixture {
        let dir = super::TempDir::new().unwrap();
        let store = super::SqliteStore::open(dir.path().join("state")).unwrap();
        super::Fixture::new(store).keeping(dir)
    }
    ilink::store::testing::conformance!(fixture);
}

#[cfg(feature = "postgres")]
mod postgres {
    use super::Fixture;

    /// A PostgreSQL store in a fresh schema of the server at
    /// `ILINK_TEST_PG_URL`; `None` (after a SKIP line) without one, unless
    /// `ILINK_TEST_PG_REQUIRED` is set (CI), where a missing server fails.
    #[cfg(feature = "postgres")]
    async fn postgres_fixture() -> Option<Fixture> {
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
        let store = ilink::store::PgStore::connect_in_schema(&url, &schema)
            .await
            .expect("connect");
        Some(Fixture::new(store))
    }

    ilink::store::testing::conformance!(postgres_fixture);
}

// ---------------------------------------------------------------------------
// What only the SQLite store on disk promises.

// ---------------------------------------------------------------------------
// What only the SQLite store on disk promises.

mod sqlite_file {
    use super::*;

    fn reopen(dir: &Path) -> Harness {
        Harness::new(SqliteStore::open(dir).unwrap())
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
        let lease = one.on(one.store().acquire(&a, "process-1", ttl)).unwrap();
        assert!(matches!(
            two.on(two.store().acquire(&a, "process-2", ttl)),
            Err(StoreError::Leased { .. })
        ));
        one.on(one.store().commit_batch(
            &lease,
            ReceivedBatch::new(entries(&["1"]), Cursor::from("c")),
        ))
        .unwrap();
        assert_eq!(keys_of(&two.pending(ACCOUNT).unwrap()), ["1"]);
        one.on(one.store().release(&lease)).unwrap();
        let taken = two.on(two.store().acquire(&a, "process-2", ttl)).unwrap();
        assert!(taken.epoch > lease.epoch);
        assert!(matches!(
            one.on(one.store().ack(&lease, "1")),
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
            .on(s.store().enqueue(
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
