//! Any bytes in any state file of the file store: every read returns data or
//! a typed error (Corrupt, Io), never a panic, and the file is left as it is.
#![no_main]

use ilink::Store;
use libfuzzer_sys::fuzz_target;

const FILES: [&str; 6] = [
    "credentials.json",
    "cursor.json",
    "context_tokens.json",
    "typing.json",
    "dedup.log",
    "inbox/00000000000000000001_m%3A1.json",
];

fuzz_target!(|data: &[u8]| {
    let Some((&which, content)) = data.split_first() else { return };
    let dir = std::env::temp_dir().join(format!("ilink-fuzz-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store = ilink::FileStore::open(&dir).expect("open");
    let account = "fuzz@im.bot";
    // Create the account's directory through the store itself.
    store
        .save_context_token(account, "u", &ilink::proto::ContextToken::new("t"))
        .expect("seed");
    let account_dir = std::fs::read_dir(dir.join("accounts"))
        .expect("accounts dir")
        .flatten()
        .next()
        .expect("account dir")
        .path();
    let file = account_dir.join(FILES[usize::from(which) % FILES.len()]);
    if let Some(parent) = file.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(&file, content).expect("write");
    let _ = store.load_credentials(account);
    let _ = store.accounts();
    let _ = store.load_cursor(account);
    let _ = store.pending(account);
    let _ = store.seen(account, "m:1");
    let _ = store.context_tokens(account);
    let _ = store.load_typing_ticket(account, "u");
    let _ = store.ack(account, "m:2");
    let reopened = ilink::FileStore::open(&dir).expect("reopen");
    let _ = reopened.pending(account);
    let _ = std::fs::remove_dir_all(&dir);
});
