//! A state directory that is itself a link (issue 33): followed once to
//! its target, which is checked like any state directory; every refusal
//! leaves no file behind.

#![cfg(unix)]

use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;

use ilink::store::prelude::*;
use ilink::store::{Credentials, SqliteStore, StoreError};
use tempfile::TempDir;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Every entry under `dir`, recursively.
fn entries(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if entry.file_type().unwrap().is_dir() {
            out.extend(entries(&path));
        }
        out.push(path);
    }
    out
}

#[test]
fn state_dir_a_link_to_a_private_directory_is_followed() {
    let tmp = TempDir::new().unwrap();
    let target = tmp.path().join("data/bot");
    std::fs::create_dir_all(&target).unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o700)).unwrap();
    let link = tmp.path().join("bot");
    symlink(&target, &link).unwrap();
    let rt = runtime();
    {
        let store = SqliteStore::open(&link).expect("a link to a private directory opens");
        assert_eq!(
            store.path().unwrap(),
            target.canonicalize().unwrap().join("ilink.db")
        );
        rt.block_on(store.save_credentials(&Credentials::from_token("a@im.bot:secret")))
            .unwrap();
    }
    // The database is in the target, the link untouched, and a second open
    // through the link sees the account.
    assert!(target.join("ilink.db").is_file());
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let store = SqliteStore::open(&link).unwrap();
    let accounts = rt.block_on(store.accounts()).unwrap();
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0].account_id.as_str(), "a@im.bot");
}

#[test]
fn state_dir_a_link_under_a_linked_parent_is_followed() {
    // A link above the state directory (`~/.config -> elsewhere`), the
    // state directory made by the open: SQLite never sees a link.
    let tmp = TempDir::new().unwrap();
    let real = tmp.path().join("real");
    std::fs::create_dir(&real).unwrap();
    symlink(&real, tmp.path().join("config")).unwrap();
    let dir = tmp.path().join("config/ilink");
    let rt = runtime();
    let store = SqliteStore::open(&dir).expect("opens under a linked parent");
    rt.block_on(store.save_credentials(&Credentials::from_token("b@im.bot:secret")))
        .unwrap();
    assert!(real.join("ilink/ilink.db").is_file());
}

#[test]
fn state_dir_a_link_to_a_world_writable_directory_is_refused_and_left_empty() {
    let tmp = TempDir::new().unwrap();
    let target = tmp.path().join("shared");
    std::fs::create_dir(&target).unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o777)).unwrap();
    let link = tmp.path().join("bot");
    symlink(&target, &link).unwrap();
    match SqliteStore::open(&link) {
        Err(StoreError::Unsafe { path, .. }) => {
            assert_eq!(path, target.canonicalize().unwrap());
        }
        other => panic!("expected Unsafe, got {other:?}"),
    }
    assert_eq!(entries(&target), Vec::<std::path::PathBuf>::new());
    assert_eq!(
        std::fs::metadata(&target).unwrap().permissions().mode() & 0o777,
        0o777,
        "the target's mode is not touched"
    );
}

#[test]
fn state_dir_a_dangling_link_is_refused_and_nothing_is_created() {
    let tmp = TempDir::new().unwrap();
    let missing = tmp.path().join("gone/bot");
    let link = tmp.path().join("bot");
    symlink(&missing, &link).unwrap();
    match SqliteStore::open(&link) {
        Err(StoreError::Unsafe { path, reason }) => {
            assert_eq!(path, link);
            assert!(reason.contains("link to nothing"), "{reason}");
        }
        other => panic!("expected Unsafe, got {other:?}"),
    }
    assert!(!tmp.path().join("gone").exists(), "no target was made");
    // Only the link itself is there.
    assert_eq!(entries(tmp.path()), vec![link]);
}

#[test]
fn state_dir_a_link_to_a_file_is_refused() {
    let tmp = TempDir::new().unwrap();
    let file = tmp.path().join("file");
    std::fs::write(&file, b"not a directory").unwrap();
    let link = tmp.path().join("bot");
    symlink(&file, &link).unwrap();
    assert!(matches!(
        SqliteStore::open(&link),
        Err(StoreError::Unsafe { .. })
    ));
    assert_eq!(std::fs::read(&file).unwrap(), b"not a directory");
    let mut names = entries(tmp.path());
    names.sort();
    assert_eq!(names, vec![link, file]);
}
