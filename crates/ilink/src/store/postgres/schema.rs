//! The PostgreSQL schema and its history: the `schema_version` table says
//! which migrations ran; they run under an advisory lock, so that processes
//! starting together migrate once.

use deadpool_postgres::Object;

use super::db_error;
use crate::store::StoreError;

/// Every schema change, oldest first (the SQLite store's history, in
/// PostgreSQL's types). Never edit one that shipped: add the next.
const MIGRATIONS: &[&str] = &[
    "CREATE SEQUENCE save_order;
     CREATE TABLE accounts (
         account_id bytea PRIMARY KEY,
         credentials text NOT NULL,
         saved_seq bigint NOT NULL
     );
     CREATE TABLE cursors (
         account_id bytea PRIMARY KEY,
         cursor bytea NOT NULL
     );
     CREATE TABLE inbox (
         id bigserial PRIMARY KEY,
         account_id bytea NOT NULL,
         key bytea NOT NULL,
         message text NOT NULL,
         received_at_ms bigint NOT NULL,
         UNIQUE (account_id, key)
     );
     CREATE INDEX inbox_by_account ON inbox (account_id, id);
     CREATE TABLE acked (
         id bigserial PRIMARY KEY,
         account_id bytea NOT NULL,
         key bytea NOT NULL,
         UNIQUE (account_id, key)
     );
     CREATE INDEX acked_by_account ON acked (account_id, id);
     CREATE TABLE context_tokens (
         account_id bytea NOT NULL,
         user_id bytea NOT NULL,
         token bytea NOT NULL,
         PRIMARY KEY (account_id, user_id)
     );
     CREATE TABLE typing_tickets (
         account_id bytea NOT NULL,
         user_id bytea NOT NULL,
         ticket bytea NOT NULL,
         refresh_at_ms bigint NOT NULL,
         backoff_ms bigint NOT NULL,
         PRIMARY KEY (account_id, user_id)
     );",
    "CREATE TABLE leases (
         account_id bytea PRIMARY KEY,
         holder bytea NOT NULL,
         epoch bigint NOT NULL,
         expires_at_ms bigint NOT NULL
     );",
    "CREATE TABLE members (
         name bytea PRIMARY KEY,
         expires_at_ms bigint NOT NULL
     );",
    "CREATE TABLE conversations (
         account_id bytea NOT NULL,
         user_id bytea NOT NULL,
         last_inbound_ms bigint NOT NULL,
         replies bigint NOT NULL,
         closed boolean NOT NULL,
         PRIMARY KEY (account_id, user_id)
     );
     CREATE TABLE outbox (
         seq bigserial PRIMARY KEY,
         account_id bytea NOT NULL,
         client_id bytea NOT NULL,
         user_id bytea NOT NULL,
         message text NOT NULL,
         queued_at_ms bigint NOT NULL,
         UNIQUE (account_id, client_id)
     );
     CREATE INDEX outbox_by_account ON outbox (account_id, seq);",
    "CREATE TABLE counted (
         account_id bytea NOT NULL,
         client_id bytea NOT NULL,
         counted_at_ms bigint NOT NULL,
         PRIMARY KEY (account_id, client_id)
     );
     CREATE INDEX counted_by_age ON counted (account_id, counted_at_ms);
     CREATE INDEX outbox_by_user ON outbox (account_id, user_id, seq);",
];

fn current() -> i64 {
    MIGRATIONS.len() as i64
}

/// Creates `schema` if needed and runs the migrations it has not seen.
pub(super) async fn migrate(client: &mut Object, schema: &str) -> Result<(), StoreError> {
    let tx = client.transaction().await.map_err(db_error)?;
    // One migrating process at a time, whatever the schema's state.
    tx.execute("SELECT pg_advisory_xact_lock(7318005116)", &[])
        .await
        .map_err(db_error)?;
    tx.batch_execute(&format!(
        "CREATE SCHEMA IF NOT EXISTS {schema};
         CREATE TABLE IF NOT EXISTS {schema}.schema_version (version bigint NOT NULL);"
    ))
    .await
    .map_err(db_error)?;
    let version: i64 = match tx
        .query_opt(&format!("SELECT version FROM {schema}.schema_version"), &[])
        .await
        .map_err(db_error)?
    {
        Some(row) => row.get(0),
        None => {
            tx.execute(
                &format!("INSERT INTO {schema}.schema_version (version) VALUES (0)"),
                &[],
            )
            .await
            .map_err(db_error)?;
            0
        }
    };
    if version > current() {
        return Err(StoreError::NewerSchema {
            found: version,
            known: current(),
        });
    }
    for (index, migration) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(version).unwrap_or_default())
    {
        tx.batch_execute(&format!("SET LOCAL search_path = {schema}; {migration}"))
            .await
            .map_err(db_error)?;
        tx.execute(
            &format!("UPDATE {schema}.schema_version SET version = $1"),
            &[&(index as i64 + 1)],
        )
        .await
        .map_err(db_error)?;
    }
    tx.commit().await.map_err(db_error)
}
