//! The database schema and its history: `PRAGMA user_version` says which
//! migrations ran; each runs once, in its own transaction.

use rusqlite::{Connection, TransactionBehavior};

use super::db_error;
use crate::store::StoreError;

/// Every schema change, oldest first. Version N is the state after the
/// first N. Never edit one that shipped: add the next.
pub(super) const MIGRATIONS: &[&str] = &[
    // 1: accounts, cursors, the inbox, the deduplication window, context
    //    tokens and typing tickets.
    "CREATE TABLE accounts (
         account_id TEXT PRIMARY KEY,
         credentials TEXT NOT NULL,
         saved_seq INTEGER NOT NULL
     );
     CREATE TABLE cursors (
         account_id TEXT PRIMARY KEY,
         cursor TEXT NOT NULL
     );
     CREATE TABLE inbox (
         id INTEGER PRIMARY KEY,
         account_id TEXT NOT NULL,
         key TEXT NOT NULL,
         message TEXT NOT NULL,
         received_at_ms INTEGER NOT NULL,
         UNIQUE (account_id, key)
     );
     CREATE INDEX inbox_by_account ON inbox (account_id, id);
     CREATE TABLE acked (
         id INTEGER PRIMARY KEY,
         account_id TEXT NOT NULL,
         key TEXT NOT NULL,
         UNIQUE (account_id, key)
     );
     CREATE INDEX acked_by_account ON acked (account_id, id);
     CREATE TABLE context_tokens (
         account_id TEXT NOT NULL,
         user_id TEXT NOT NULL,
         token TEXT NOT NULL,
         PRIMARY KEY (account_id, user_id)
     );
     CREATE TABLE typing_tickets (
         account_id TEXT NOT NULL,
         user_id TEXT NOT NULL,
         ticket TEXT NOT NULL,
         refresh_at_ms INTEGER NOT NULL,
         backoff_ms INTEGER NOT NULL,
         PRIMARY KEY (account_id, user_id)
     );",
    // 2: leases, one row per account that was ever polled (the epoch only
    //    grows).
    "CREATE TABLE leases (
         account_id TEXT PRIMARY KEY,
         holder TEXT NOT NULL,
         epoch INTEGER NOT NULL,
         expires_at_ms INTEGER NOT NULL
     );",
    // 3: the live members of a cluster.
    "CREATE TABLE members (
         name TEXT PRIMARY KEY,
         expires_at_ms INTEGER NOT NULL
     );",
    // 4: conversations (when each user last wrote, the bot messages since,
    //    whether the server refused one) and the outbox.
    "CREATE TABLE conversations (
         account_id TEXT NOT NULL,
         user_id TEXT NOT NULL,
         last_inbound_ms INTEGER NOT NULL,
         replies INTEGER NOT NULL,
         closed INTEGER NOT NULL,
         PRIMARY KEY (account_id, user_id)
     );
     CREATE TABLE outbox (
         seq INTEGER PRIMARY KEY,
         account_id TEXT NOT NULL,
         client_id TEXT NOT NULL,
         user_id TEXT NOT NULL,
         message TEXT NOT NULL,
         queued_at_ms INTEGER NOT NULL,
         UNIQUE (account_id, client_id)
     );
     CREATE INDEX outbox_by_account ON outbox (account_id, seq);",
    // 5: the client ids counted against a conversation's budget, so that a
    //    reply queued again (a handler run again) is not counted twice; the
    //    outbox by conversation.
    "CREATE TABLE counted (
         account_id TEXT NOT NULL,
         client_id TEXT NOT NULL,
         counted_at_ms INTEGER NOT NULL,
         PRIMARY KEY (account_id, client_id)
     );
     CREATE INDEX counted_by_age ON counted (account_id, counted_at_ms);
     CREATE INDEX outbox_by_user ON outbox (account_id, user_id, seq);",
];

/// The version this build writes.
pub(super) fn current() -> i64 {
    MIGRATIONS.len() as i64
}

/// Brings the database to [`current`]: runs the migrations it has not seen.
pub(super) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    migrate_to(conn, current())
}

/// Brings the database to `target` (tests open older schemas this way).
pub(super) fn migrate_to(conn: &mut Connection, target: i64) -> Result<(), StoreError> {
    loop {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db_error)?;
        let version: i64 = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(db_error)?;
        if version > current() {
            return Err(StoreError::NewerSchema {
                found: version,
                known: current(),
            });
        }
        if version >= target {
            return Ok(());
        }
        let index = usize::try_from(version).unwrap_or_default();
        tx.execute_batch(MIGRATIONS[index]).map_err(db_error)?;
        tx.pragma_update(None, "user_version", version + 1)
            .map_err(db_error)?;
        tx.commit().map_err(db_error)?;
    }
}
