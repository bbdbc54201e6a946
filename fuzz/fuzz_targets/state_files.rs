//! Any bytes where the store keeps state: as the whole database file, or in
//! a row of it (credentials, an inbox message, a cursor, a context token, a
//! typing ticket). Every call returns data or a typed error, never a panic.
#![no_main]

use ilink::Store;
use ilink::proto::{AccountId, UserId};
use libfuzzer_sys::fuzz_target;

const ACCOUNT: &str = "fuzz@im.bot";

fn read_everything(store: &ilink::SqliteStore, rt: &tokio::runtime::Runtime) {
    let account = AccountId::from(ACCOUNT);
    let user = UserId::from("u");
    rt.block_on(async {
        let _ = store.load_credentials(&account).await;
        let _ = store.accounts().await;
        let _ = store.load_cursor(&account).await;
        let _ = store.pending(&account).await;
        let _ = store.seen(&account, "m:1").await;
        let _ = store.context_tokens(&account).await;
        let _ = store.load_typing_ticket(&account, &user).await;
        if let Ok(lease) = store
            .acquire(&account, "fuzz", std::time::Duration::from_secs(60))
            .await
        {
            let _ = store.ack(&lease, "m:1").await;
        }
    });
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, content)) = data.split_first() else { return };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = std::env::temp_dir().join(format!("ilink-fuzz-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).expect("mode");
    }
    if which % 7 == 0 {
        // The whole file.
        std::fs::write(dir.join("ilink.db"), content).expect("write");
        if let Ok(store) = ilink::SqliteStore::open(&dir) {
            read_everything(&store, &rt);
        }
    } else {
        let store = ilink::SqliteStore::open(&dir).expect("open");
        drop(store);
        let text = String::from_utf8_lossy(content);
        let conn = rusqlite::Connection::open(dir.join("ilink.db")).expect("sqlite");
        let sql = match which % 7 {
            1 => "INSERT INTO accounts (account_id, credentials, saved_seq) VALUES (?1, ?2, 1)",
            2 => "INSERT INTO inbox (account_id, key, message, received_at_ms) VALUES (?1, 'm:1', ?2, 0)",
            3 => "INSERT INTO cursors (account_id, cursor) VALUES (?1, ?2)",
            4 => "INSERT INTO context_tokens (account_id, user_id, token) VALUES (?1, 'u', ?2)",
            5 => "INSERT INTO typing_tickets (account_id, user_id, ticket, refresh_at_ms, backoff_ms) VALUES (?1, 'u', ?2, -1, -1)",
            _ => "INSERT INTO leases (account_id, holder, epoch, expires_at_ms) VALUES (?1, ?2, -5, -5)",
        };
        conn.execute(sql, rusqlite::params![ACCOUNT, text.as_ref()])
            .expect("insert");
        drop(conn);
        let store = ilink::SqliteStore::open(&dir).expect("reopen");
        read_everything(&store, &rt);
    }
    let _ = std::fs::remove_dir_all(&dir);
});
