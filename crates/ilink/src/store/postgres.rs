//! [`PgStore`]: the state of any number of processes and machines in one
//! PostgreSQL database, each call one transaction, leases judged by the
//! database's clock.

use std::collections::BTreeMap;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use ilink_proto::{AccountId, ContextToken, Cursor, UserId};
use tokio_postgres::{NoTls, Transaction};

use super::rows::{
    admit, check_account, check_fence, conversation, corrupt, counted_since_ms, latest_inbound,
    listed, ms, next_epoch, ttl_ms, unsigned,
};
use super::{
    Admission, Conversation, Credentials, DEDUP_WINDOW, InboxEntry, Lease, OutboxEntry,
    ReceivedBatch, ReplyLimits, StoreError, StoreFuture, TypingTicket, now_ms,
};
use super::{CredentialStore, InboxStore, LeaseStore, OutboxStore, TokenStore};

mod schema;

/// Connections kept open per store.
const POOL_SIZE: usize = 8;

/// A [`Store`](super::Store) in PostgreSQL (cargo feature `postgres`): one database for
/// any number of processes on any number of machines.
///
/// The same semantics as [`SqliteStore`](crate::SqliteStore), checked by
/// the same conformance suite. Leases are rows with an epoch and an expiry
/// that the database's clock judges (`clock_timestamp()`), locked
/// (`SELECT … FOR UPDATE`) in the same transaction as the state they fence.
/// Identifiers and cursors are kept as bytes (`bytea`): any text, a NUL
/// included, round-trips.
///
/// The connection carries bot state (context tokens among it), so a
/// database off this host is reached over verified TLS only (see
/// [`connect`](Self::connect)); one on this host (a Unix socket or
/// loopback) may be reached without.
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
    schema: String,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: only the schema is shown.
        f.debug_struct("PgStore")
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

fn db_error(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Database(Box::new(e))
}

/// Outbox entries of `account` from rows of (client id, recipient, message,
/// queued at).
fn outbox_rows(
    account: &AccountId,
    rows: Vec<tokio_postgres::Row>,
) -> Result<Vec<OutboxEntry>, StoreError> {
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let client_id = text(row.get(0), "an outbox client_id")?;
        let user = text(row.get(1), "an outbox recipient")?;
        let message = serde_json::from_str(&row.get::<_, String>(2))
            .map_err(|e| corrupt(format!("an outbox entry of {account}"), e))?;
        out.push(OutboxEntry::new(
            client_id,
            user,
            message,
            unsigned(row.get(3)),
        ));
    }
    Ok(out)
}

fn text(bytes: Vec<u8>, what: &str) -> Result<String, StoreError> {
    String::from_utf8(bytes).map_err(|e| corrupt(what.to_owned(), e))
}

/// The database's clock, in milliseconds since the Unix epoch.
const NOW_MS: &str = "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::bigint";

impl PgStore {
    /// Connects to the database at `url` (`postgres://user@host/db` or the
    /// `key=value` form) and brings its schema (`ilink`) to this version's.
    ///
    /// A database on this host (a Unix socket or loopback) is reached
    /// without TLS unless the URL says `sslmode=require`. "On this host" is
    /// judged by every address the client connects to: a `hostaddr`, when
    /// given, is where the connection goes (so `host=localhost
    /// hostaddr=192.0.2.1` is off this host), a remote `host` name over a
    /// loopback `hostaddr` still gets TLS for that name, and a URL with
    /// neither is not local. Any other host is
    /// reached over TLS only (rustls; a plaintext fallback is never made),
    /// its certificate verified against the Mozilla roots and its name
    /// (what libpq calls `verify-full`). For a private CA, use
    /// [`connect_with_tls`](Self::connect_with_tls).
    ///
    /// # Errors
    ///
    /// [`StoreError::InsecureDatabase`] for a host that is neither a Unix
    /// socket nor loopback with `sslmode=disable`,
    /// [`StoreError::NewerSchema`] for a schema of a newer version,
    /// [`StoreError::Database`] when the database fails (a certificate that
    /// does not verify included).
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_in_schema(url, "ilink").await
    }

    /// [`connect`](Self::connect) with the tables in `schema` (lowercase
    /// letters, digits and `_`): several deployments, or tests, side by side
    /// in one database.
    ///
    /// # Errors
    ///
    /// As [`connect`](Self::connect); [`StoreError::InvalidAccount`] is not
    /// used, an unusable schema name is [`StoreError::Database`].
    pub async fn connect_in_schema(url: &str, schema: &str) -> Result<Self, StoreError> {
        Self::open(url, schema, None).await
    }

    /// [`connect_in_schema`](Self::connect_in_schema) over TLS with this
    /// rustls configuration, whatever the host (loopback included): for a
    /// server whose certificate a private CA signed.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::sync::Arc;
    /// use ilink::rustls;
    /// use rustls::pki_types::pem::PemObject;
    ///
    /// let mut roots = rustls::RootCertStore::empty();
    /// for cert in rustls::pki_types::CertificateDer::pem_file_iter("ca.crt")? {
    ///     roots.add(cert?)?;
    /// }
    /// let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
    ///     rustls::crypto::ring::default_provider(),
    /// ))
    /// .with_safe_default_protocol_versions()?
    /// .with_root_certificates(roots)
    /// .with_no_client_auth();
    /// let store = ilink::PgStore::connect_with_tls("postgres://bot@db.internal/bots", "ilink", tls)
    ///     .await?;
    /// # let _ = store; Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`connect`](Self::connect).
    pub async fn connect_with_tls(
        url: &str,
        schema: &str,
        tls: rustls::ClientConfig,
    ) -> Result<Self, StoreError> {
        Self::open(url, schema, Some(tls)).await
    }

    async fn open(
        url: &str,
        schema: &str,
        tls: Option<rustls::ClientConfig>,
    ) -> Result<Self, StoreError> {
        use tokio_postgres::config::SslMode;
        if schema.is_empty()
            || schema.len() > 48
            || !schema
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(db_error(std::io::Error::other(
                "a schema name is lowercase letters, digits and _",
            )));
        }
        let mut config: tokio_postgres::Config = url.parse().map_err(db_error)?;
        let all_local = on_this_host(&config);
        let disabled = config.get_ssl_mode() == SslMode::Disable;
        if !all_local && disabled {
            return Err(StoreError::InsecureDatabase);
        }
        // TLS: always with a configuration given; off loopback always; on
        // loopback when the URL asks for it.
        let tls = match tls {
            Some(tls) => Some(tls),
            None if !all_local || config.get_ssl_mode() == SslMode::Require => {
                Some(mozilla_roots()?)
            }
            None => None,
        };
        if tls.is_some() {
            // No plaintext fallback (the default, `prefer`, would allow it).
            config.ssl_mode(SslMode::Require);
        }
        config.options(format!("-c search_path={schema}"));
        let manager_config = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        let manager = match tls {
            Some(tls) => Manager::from_config(
                config,
                tokio_postgres_rustls::MakeRustlsConnect::new(tls),
                manager_config,
            ),
            None => Manager::from_config(config, NoTls, manager_config),
        };
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .build()
            .map_err(db_error)?;
        let store = Self {
            pool,
            schema: schema.to_owned(),
        };
        let mut client = store.pool.get().await.map_err(db_error)?;
        schema::migrate(&mut client, schema).await?;
        Ok(store)
    }
}

/// Whether every address the client will connect to is on this host (a
/// Unix socket or loopback), so that plaintext is allowed.
///
/// tokio-postgres connects to the `hostaddr` of each entry when one is
/// given, whatever its `host` says (the host then only names the server for
/// TLS), else to the `host`; with neither it connects nowhere (an error),
/// which counts as not local. An entry is local when the address it
/// connects to is loopback (or a Unix socket, or the name `localhost`
/// with no `hostaddr` overriding it) and its `host`, if any, names this
/// host too: a remote name over a loopback `hostaddr` (a tunnel, say) is
/// reached over TLS verified for that name.
fn on_this_host(config: &tokio_postgres::Config) -> bool {
    use tokio_postgres::config::Host;
    let hosts = config.get_hosts();
    let addrs = config.get_hostaddrs();
    if hosts.is_empty() && addrs.is_empty() {
        return false;
    }
    let names_this_host = |host: &Host| match host {
        #[cfg(unix)]
        Host::Unix(_) => true,
        Host::Tcp(name) => {
            name.eq_ignore_ascii_case("localhost")
                || name.parse::<std::net::IpAddr>().is_ok_and(is_loopback)
        }
    };
    if addrs.is_empty() {
        hosts.iter().all(names_this_host)
    } else {
        addrs.iter().copied().all(is_loopback) && hosts.iter().all(names_this_host)
    }
}

/// 127.0.0.0/8, `::1`, and IPv4-mapped `::ffff:127.x.y.z`.
fn is_loopback(ip: std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(v4) => v4.is_loopback(),
        std::net::IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// TLS verified against the Mozilla roots (webpki-roots), with ring.
fn mozilla_roots() -> Result<rustls::ClientConfig, StoreError> {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    Ok(
        rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(db_error)?
        .with_root_certificates(roots)
        .with_no_client_auth(),
    )
}

/// Runs an `async` block with `$tx` (a `&Transaction`) in a transaction,
/// committed when the block returns `Ok`.
macro_rules! in_tx {
    ($self:ident, |$tx:ident| $body:expr) => {
        Box::pin(async move {
            let mut client = $self.pool.get().await.map_err(db_error)?;
            let transaction = client.transaction().await.map_err(db_error)?;
            let value = {
                let $tx = &transaction;
                $body.await?
            };
            transaction.commit().await.map_err(db_error)?;
            Ok(value)
        })
    };
}

/// Locks the account's lease row and fails with [`StoreError::LeaseLost`]
/// unless `lease` is the current one.
async fn fence(tx: &Transaction<'_>, lease: &Lease) -> Result<(), StoreError> {
    fence_with(tx, lease, "FOR UPDATE").await
}

/// [`fence`] with a shared lock: a takeover (which updates the row) waits
/// for this transaction, but writes of the same holder do not wait for
/// each other (the sends of many conversations at once).
async fn fence_shared(tx: &Transaction<'_>, fence: Option<&Lease>) -> Result<(), StoreError> {
    match fence {
        Some(lease) => fence_with(tx, lease, "FOR SHARE").await,
        None => Ok(()),
    }
}

async fn fence_with(tx: &Transaction<'_>, lease: &Lease, lock: &str) -> Result<(), StoreError> {
    let row = tx
        .query_opt(
            &format!("SELECT holder, epoch FROM leases WHERE account_id = $1 {lock}"),
            &[&lease.account.as_str().as_bytes()],
        )
        .await
        .map_err(db_error)?;
    let current = row.map(|r| (r.get::<_, Vec<u8>>(0), r.get::<_, i64>(1)));
    match current {
        Some((holder, epoch))
            if holder == lease.holder.as_bytes() && unsigned(epoch) == lease.epoch =>
        {
            Ok(())
        }
        _ => Err(StoreError::LeaseLost {
            account: lease.account.clone(),
        }),
    }
}

/// A user's conversation row, locked when `lock` is `FOR UPDATE`.
async fn read_conversation(
    tx: &Transaction<'_>,
    account: &AccountId,
    user: &UserId,
    lock: &str,
) -> Result<Option<Conversation>, StoreError> {
    let row = tx
        .query_opt(
            &format!(
                "SELECT last_inbound_ms, replies, closed FROM conversations
                 WHERE account_id = $1 AND user_id = $2 {lock}"
            ),
            &[&account.as_str().as_bytes(), &user.as_str().as_bytes()],
        )
        .await
        .map_err(db_error)?;
    Ok(row.map(|r| conversation(user, r.get(0), r.get(1), r.get(2))))
}

impl CredentialStore for PgStore {
    fn save_credentials<'a>(&'a self, credentials: &'a Credentials) -> StoreFuture<'a, ()> {
        in_tx!(self, |tx| async move {
            check_account(&credentials.account_id)?;
            let json = serde_json::to_string(credentials).map_err(|e| corrupt("credentials", e))?;
            tx.execute(
                "INSERT INTO accounts (account_id, credentials, saved_seq)
                     VALUES ($1, $2, nextval('save_order'))
                     ON CONFLICT (account_id) DO UPDATE SET
                       credentials = excluded.credentials, saved_seq = excluded.saved_seq",
                &[&credentials.account_id.as_str().as_bytes(), &json],
            )
            .await
            .map_err(db_error)?;
            Ok(())
        })
    }

    fn load_credentials<'a>(
        &'a self,
        account: &'a AccountId,
    ) -> StoreFuture<'a, Option<Credentials>> {
        in_tx!(self, |tx| async move {
            let row = tx
                .query_opt(
                    "SELECT credentials FROM accounts WHERE account_id = $1",
                    &[&account.as_str().as_bytes()],
                )
                .await
                .map_err(db_error)?;
            row.map(|r| {
                serde_json::from_str(&r.get::<_, String>(0))
                    .map_err(|e| corrupt(format!("the credentials of {account}"), e))
            })
            .transpose()
        })
    }

    fn accounts(&self) -> StoreFuture<'_, Vec<Credentials>> {
        in_tx!(self, |tx| async move {
            let rows = tx
                .query(
                    "SELECT account_id, credentials FROM accounts ORDER BY saved_seq DESC",
                    &[],
                )
                .await
                .map_err(db_error)?;
            let mut all = Vec::new();
            for row in rows {
                let id = String::from_utf8_lossy(&row.get::<_, Vec<u8>>(0)).into_owned();
                all.extend(listed(&id, &row.get::<_, String>(1)));
            }
            Ok(all)
        })
    }

    fn remove_account<'a>(&'a self, account: &'a AccountId) -> StoreFuture<'a, ()> {
        in_tx!(self, |tx| async move {
            let id = account.as_str().as_bytes();
            let live = tx
                .query_opt(
                    &format!(
                        "SELECT holder FROM leases WHERE account_id = $1
                             AND holder <> ''::bytea AND expires_at_ms > {NOW_MS} FOR UPDATE"
                    ),
                    &[&id],
                )
                .await
                .map_err(db_error)?;
            if let Some(row) = live {
                return Err(StoreError::Leased {
                    account: account.clone(),
                    holder: String::from_utf8_lossy(&row.get::<_, Vec<u8>>(0)).into_owned(),
                });
            }
            for table in [
                "accounts",
                "cursors",
                "inbox",
                "acked",
                "context_tokens",
                "typing_tickets",
                "conversations",
                "outbox",
                "counted",
            ] {
                tx.execute(
                    &format!("DELETE FROM {table} WHERE account_id = $1"),
                    &[&id],
                )
                .await
                .map_err(db_error)?;
            }
            Ok(())
        })
    }
}

impl LeaseStore for PgStore {
    fn acquire<'a>(
        &'a self,
        account: &'a AccountId,
        holder: &'a str,
        ttl: Duration,
    ) -> StoreFuture<'a, Lease> {
        self.take_over(account, holder, ttl, "")
    }

    fn take_over<'a>(
        &'a self,
        account: &'a AccountId,
        holder: &'a str,
        ttl: Duration,
        from: &'a str,
    ) -> StoreFuture<'a, Lease> {
        in_tx!(self, |tx| async move {
            check_account(account)?;
            let id = account.as_str().as_bytes();
            // The row exists (epoch 0) before it is locked, so that two
            // first takers serialize on it.
            tx.execute(
                "INSERT INTO leases (account_id, holder, epoch, expires_at_ms)
                     VALUES ($1, ''::bytea, 0, 0) ON CONFLICT (account_id) DO NOTHING",
                &[&id],
            )
            .await
            .map_err(db_error)?;
            let row = tx
                .query_one(
                    &format!(
                        "SELECT holder, epoch, expires_at_ms, {NOW_MS} FROM leases
                             WHERE account_id = $1 FOR UPDATE"
                    ),
                    &[&id],
                )
                .await
                .map_err(db_error)?;
            let current = String::from_utf8_lossy(&row.get::<_, Vec<u8>>(0)).into_owned();
            let epoch: i64 = row.get(1);
            let expires: i64 = row.get(2);
            let now: i64 = row.get(3);
            let epoch = next_epoch(
                account,
                Some((&current, unsigned(epoch), unsigned(expires))),
                holder,
                from,
                unsigned(now),
            )?;
            let ttl_db = ms(ttl_ms(ttl));
            let expires_at_ms = now.saturating_add(ttl_db);
            tx.execute(
                "UPDATE leases SET holder = $2, epoch = $3, expires_at_ms = $4
                     WHERE account_id = $1",
                &[&id, &holder.as_bytes(), &ms(epoch), &expires_at_ms],
            )
            .await
            .map_err(db_error)?;
            Ok(Lease {
                account: account.clone(),
                holder: holder.to_owned(),
                epoch,
                expires_at_ms: unsigned(expires_at_ms),
            })
        })
    }

    fn renew<'a>(&'a self, lease: &'a Lease, ttl: Duration) -> StoreFuture<'a, Lease> {
        in_tx!(self, |tx| async move {
            fence(tx, lease).await?;
            let ttl_db = ms(ttl_ms(ttl));
            let row = tx
                .query_one(
                    &format!(
                        "UPDATE leases SET expires_at_ms = {NOW_MS} + $2
                             WHERE account_id = $1 RETURNING expires_at_ms"
                    ),
                    &[&lease.account.as_str().as_bytes(), &ttl_db],
                )
                .await
                .map_err(db_error)?;
            Ok(Lease {
                expires_at_ms: unsigned(row.get(0)),
                ..lease.clone()
            })
        })
    }

    fn release<'a>(&'a self, lease: &'a Lease) -> StoreFuture<'a, ()> {
        in_tx!(self, |tx| async move {
            tx.execute(
                "UPDATE leases SET holder = ''::bytea, expires_at_ms = 0
                     WHERE account_id = $1 AND holder = $2 AND epoch = $3",
                &[
                    &lease.account.as_str().as_bytes(),
                    &lease.holder.as_bytes(),
                    &ms(lease.epoch),
                ],
            )
            .await
            .map_err(db_error)?;
            Ok(())
        })
    }

    fn heartbeat<'a>(&'a self, member: &'a str, ttl: Duration) -> StoreFuture<'a, usize> {
        in_tx!(self, |tx| async move {
            let ttl_db = ms(ttl_ms(ttl));
            tx.execute(
                &format!(
                    "INSERT INTO members (name, expires_at_ms) VALUES ($1, {NOW_MS} + $2)
                     ON CONFLICT (name) DO UPDATE SET expires_at_ms = excluded.expires_at_ms"
                ),
                &[&member.as_bytes(), &ttl_db],
            )
            .await
            .map_err(db_error)?;
            tx.execute(
                &format!("DELETE FROM members WHERE expires_at_ms <= {NOW_MS}"),
                &[],
            )
            .await
            .map_err(db_error)?;
            let row = tx
                .query_one("SELECT COUNT(*) FROM members", &[])
                .await
                .map_err(db_error)?;
            Ok(usize::try_from(row.get::<_, i64>(0)).unwrap_or(1).max(1))
        })
    }

    fn leave<'a>(&'a self, member: &'a str) -> StoreFuture<'a, ()> {
        in_tx!(self, |tx| async move {
            tx.execute("DELETE FROM members WHERE name = $1", &[&member.as_bytes()])
                .await
                .map_err(db_error)?;
            Ok(())
        })
    }
}

impl InboxStore for PgStore {
    fn load_cursor<'a>(&'a self, account: &'a AccountId) -> StoreFuture<'a, Option<Cursor>> {
        in_tx!(self, |tx| async move {
            let row = tx
                .query_opt(
                    "SELECT cursor FROM cursors WHERE account_id = $1",
                    &[&account.as_str().as_bytes()],
                )
                .await
                .map_err(db_error)?;
            row.map(|r| text(r.get(0), "a cursor").map(Cursor::new))
                .transpose()
        })
    }

    fn commit_batch<'a>(
        &'a self,
        lease: &'a Lease,
        batch: ReceivedBatch,
    ) -> StoreFuture<'a, Vec<InboxEntry>> {
        in_tx!(self, |tx| async move {
            fence(tx, lease).await?;
            let id = lease.account.as_str().as_bytes();
            // One statement for the whole batch (one round trip): the
            // entries in order, those already pending or acknowledged, and
            // later copies within the batch, skipped.
            let mut keys: Vec<Vec<u8>> = Vec::with_capacity(batch.entries.len());
            let mut messages: Vec<String> = Vec::with_capacity(batch.entries.len());
            let mut times: Vec<i64> = Vec::with_capacity(batch.entries.len());
            for entry in &batch.entries {
                keys.push(entry.key.as_bytes().to_vec());
                messages.push(
                    serde_json::to_string(&entry.message)
                        .map_err(|e| corrupt("a received message", e))?,
                );
                times.push(ms(entry.received_at_ms));
            }
            let inserted = tx
                .query(
                    "INSERT INTO inbox (account_id, key, message, received_at_ms)
                     SELECT $1, b.key, b.message, b.at
                     FROM unnest($2::bytea[], $3::text[], $4::bigint[])
                          WITH ORDINALITY AS b(key, message, at, n)
                     WHERE NOT EXISTS (SELECT 1 FROM acked a
                                       WHERE a.account_id = $1 AND a.key = b.key)
                     ORDER BY b.n
                     ON CONFLICT (account_id, key) DO NOTHING
                     RETURNING key",
                    &[&id, &keys, &messages, &times],
                )
                .await
                .map_err(db_error)?;
            let mut new_keys: std::collections::HashSet<Vec<u8>> =
                inserted.iter().map(|r| r.get::<_, Vec<u8>>(0)).collect();
            let mut fresh = Vec::new();
            for entry in batch.entries {
                // The first copy of each inserted key is the one stored.
                if new_keys.remove(entry.key.as_bytes()) {
                    fresh.push(entry);
                }
            }
            for (user, token) in &batch.context_tokens {
                tx.execute(
                    "INSERT INTO context_tokens (account_id, user_id, token) VALUES ($1, $2, $3)
                         ON CONFLICT (account_id, user_id) DO UPDATE SET token = excluded.token",
                    &[&id, &user.as_str().as_bytes(), &token.expose().as_bytes()],
                )
                .await
                .map_err(db_error)?;
            }
            for (user, at) in latest_inbound(&batch.inbound) {
                // A newer message opens the conversation again; a replayed
                // older one changes nothing.
                tx.execute(
                    "INSERT INTO conversations (account_id, user_id, last_inbound_ms, replies, closed)
                         VALUES ($1, $2, $3, 0, false)
                         ON CONFLICT (account_id, user_id) DO UPDATE SET
                           last_inbound_ms = excluded.last_inbound_ms, replies = 0, closed = false
                         WHERE excluded.last_inbound_ms > conversations.last_inbound_ms",
                    &[&id, &user.as_bytes(), &ms(at)],
                )
                .await
                .map_err(db_error)?;
            }
            tx.execute(
                "INSERT INTO cursors (account_id, cursor) VALUES ($1, $2)
                     ON CONFLICT (account_id) DO UPDATE SET cursor = excluded.cursor",
                &[&id, &batch.cursor.as_str().as_bytes()],
            )
            .await
            .map_err(db_error)?;
            Ok(fresh)
        })
    }

    fn pending<'a>(&'a self, account: &'a AccountId) -> StoreFuture<'a, Vec<InboxEntry>> {
        in_tx!(self, |tx| async move {
            let rows = tx
                .query(
                    "SELECT key, message, received_at_ms FROM inbox
                         WHERE account_id = $1 ORDER BY id",
                    &[&account.as_str().as_bytes()],
                )
                .await
                .map_err(db_error)?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let key = text(row.get(0), "an inbox key")?;
                let message = serde_json::from_str(&row.get::<_, String>(1))
                    .map_err(|e| corrupt(format!("an inbox entry of {account}"), e))?;
                out.push(InboxEntry::new(key, message, unsigned(row.get(2))));
            }
            Ok(out)
        })
    }

    fn ack<'a>(&'a self, lease: &'a Lease, key: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move { self.ack_many(lease, &[key.to_owned()]).await })
    }

    fn ack_many<'a>(&'a self, lease: &'a Lease, keys: &'a [String]) -> StoreFuture<'a, ()> {
        in_tx!(self, |tx| async move {
            fence(tx, lease).await?;
            let id = lease.account.as_str().as_bytes();
            let keys: Vec<&[u8]> = keys.iter().map(|k| k.as_bytes()).collect();
            // One statement each for all the keys (`unnest`), as a batch
            // is committed; keys in the order given.
            tx.execute(
                "DELETE FROM inbox WHERE account_id = $1 AND key = ANY($2)",
                &[&id, &keys],
            )
            .await
            .map_err(db_error)?;
            let added = tx
                .execute(
                    "INSERT INTO acked (account_id, key)
                     SELECT $1, k FROM unnest($2::bytea[]) WITH ORDINALITY AS t(k, n)
                     ORDER BY n
                     ON CONFLICT (account_id, key) DO NOTHING",
                    &[&id, &keys],
                )
                .await
                .map_err(db_error)?;
            if added > 0 {
                tx.execute(
                    "DELETE FROM acked WHERE account_id = $1 AND id <= (
                           SELECT id FROM acked WHERE account_id = $1
                           ORDER BY id DESC OFFSET $2 LIMIT 1)",
                    &[&id, &(DEDUP_WINDOW as i64)],
                )
                .await
                .map_err(db_error)?;
            }
            Ok(())
        })
    }

    fn seen<'a>(&'a self, account: &'a AccountId, key: &'a str) -> StoreFuture<'a, bool> {
        in_tx!(self, |tx| async move {
            let id = account.as_str().as_bytes();
            let row = tx
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM inbox WHERE account_id = $1 AND key = $2)
                             OR EXISTS (SELECT 1 FROM acked WHERE account_id = $1 AND key = $2)",
                    &[&id, &key.as_bytes()],
                )
                .await
                .map_err(db_error)?;
            Ok(row.get(0))
        })
    }
}

impl OutboxStore for PgStore {
    fn enqueue<'a>(
        &'a self,
        fence: Option<&'a Lease>,
        account: &'a AccountId,
        user: &'a UserId,
        entries: Vec<OutboxEntry>,
        limits: ReplyLimits,
    ) -> StoreFuture<'a, Admission> {
        in_tx!(self, |tx| async move {
            check_fence(fence, account)?;
            fence_shared(tx, fence).await?;
            let now = now_ms();
            let (a, u) = (account.as_str().as_bytes(), user.as_str().as_bytes());
            // The conversation row is locked first: two processes queueing
            // to one user count against one budget.
            let conversation = read_conversation(tx, account, user, "FOR UPDATE").await?;
            let ids: Vec<Vec<u8>> = entries
                .iter()
                .map(|e| e.client_id.as_bytes().to_vec())
                .collect();
            // Queued now, or counted by an earlier enqueue.
            let queued: std::collections::HashSet<Vec<u8>> = tx
                .query(
                    "SELECT client_id FROM outbox WHERE account_id = $1 AND client_id = ANY($2)
                     UNION SELECT client_id FROM counted
                         WHERE account_id = $1 AND client_id = ANY($2) AND counted_at_ms >= $3",
                    &[&a, &ids, &ms(counted_since_ms(now))],
                )
                .await
                .map_err(db_error)?
                .iter()
                .map(|r| r.get::<_, Vec<u8>>(0))
                .collect();
            let mut new: Vec<OutboxEntry> = Vec::with_capacity(entries.len());
            for entry in entries {
                if !queued.contains(entry.client_id.as_bytes())
                    && !new.iter().any(|e| e.client_id == entry.client_id)
                {
                    new.push(entry);
                }
            }
            let needed = u32::try_from(new.len()).unwrap_or(u32::MAX);
            if let Err(refusal) = admit(conversation.as_ref(), needed, limits, now) {
                return Ok(Admission::Refused(refusal));
            }
            if conversation.is_some() && needed > 0 {
                tx.execute(
                    "UPDATE conversations SET replies = replies + $3
                         WHERE account_id = $1 AND user_id = $2",
                    &[&a, &u, &i64::from(needed)],
                )
                .await
                .map_err(db_error)?;
            }
            for entry in &new {
                let json = serde_json::to_string(&entry.message)
                    .map_err(|e| corrupt("an outbound message", e))?;
                tx.execute(
                    "INSERT INTO outbox (account_id, client_id, user_id, message, queued_at_ms)
                         VALUES ($1, $2, $3, $4, $5)",
                    &[
                        &a,
                        &entry.client_id.as_bytes(),
                        &u,
                        &json,
                        &ms(entry.queued_at_ms),
                    ],
                )
                .await
                .map_err(db_error)?;
                tx.execute(
                    "INSERT INTO counted (account_id, client_id, counted_at_ms) VALUES ($1, $2, $3)
                     ON CONFLICT (account_id, client_id)
                         DO UPDATE SET counted_at_ms = excluded.counted_at_ms",
                    &[&a, &entry.client_id.as_bytes(), &ms(now)],
                )
                .await
                .map_err(db_error)?;
            }
            if !new.is_empty() {
                tx.execute(
                    "DELETE FROM counted WHERE account_id = $1 AND counted_at_ms < $2",
                    &[&a, &ms(counted_since_ms(now))],
                )
                .await
                .map_err(db_error)?;
            }
            Ok(Admission::Queued { new: new.len() })
        })
    }

    fn outbox<'a>(&'a self, account: &'a AccountId) -> StoreFuture<'a, Vec<OutboxEntry>> {
        in_tx!(self, |tx| async move {
            let rows = tx
                .query(
                    "SELECT client_id, user_id, message, queued_at_ms FROM outbox
                         WHERE account_id = $1 ORDER BY seq",
                    &[&account.as_str().as_bytes()],
                )
                .await
                .map_err(db_error)?;
            outbox_rows(account, rows)
        })
    }

    fn outbox_to<'a>(
        &'a self,
        account: &'a AccountId,
        user: &'a UserId,
    ) -> StoreFuture<'a, Vec<OutboxEntry>> {
        in_tx!(self, |tx| async move {
            let rows = tx
                .query(
                    "SELECT client_id, user_id, message, queued_at_ms FROM outbox
                         WHERE account_id = $1 AND user_id = $2 ORDER BY seq",
                    &[&account.as_str().as_bytes(), &user.as_str().as_bytes()],
                )
                .await
                .map_err(db_error)?;
            outbox_rows(account, rows)
        })
    }

    fn outbox_users<'a>(&'a self, account: &'a AccountId) -> StoreFuture<'a, Vec<UserId>> {
        in_tx!(self, |tx| async move {
            let rows = tx
                .query(
                    "SELECT user_id FROM outbox WHERE account_id = $1
                         GROUP BY user_id ORDER BY MIN(seq)",
                    &[&account.as_str().as_bytes()],
                )
                .await
                .map_err(db_error)?;
            rows.into_iter()
                .map(|row| text(row.get(0), "an outbox recipient").map(UserId::from))
                .collect::<Result<Vec<_>, _>>()
        })
    }

    fn dequeue<'a>(
        &'a self,
        fence: Option<&'a Lease>,
        account: &'a AccountId,
        client_id: &'a str,
    ) -> StoreFuture<'a, ()> {
        in_tx!(self, |tx| async move {
            check_fence(fence, account)?;
            fence_shared(tx, fence).await?;
            tx.execute(
                "DELETE FROM outbox WHERE account_id = $1 AND client_id = $2",
                &[&account.as_str().as_bytes(), &client_id.as_bytes()],
            )
            .await
            .map_err(db_error)?;
            Ok(())
        })
    }

    fn conversation<'a>(
        &'a self,
        account: &'a AccountId,
        user: &'a UserId,
    ) -> StoreFuture<'a, Option<Conversation>> {
        in_tx!(self, |tx| async move {
            read_conversation(tx, account, user, "").await
        })
    }

    fn set_closed<'a>(
        &'a self,
        account: &'a AccountId,
        user: &'a UserId,
        closed: bool,
        as_of_inbound_ms: u64,
    ) -> StoreFuture<'a, bool> {
        in_tx!(self, |tx| async move {
            let changed = tx
                .execute(
                    "UPDATE conversations SET closed = $3
                         WHERE account_id = $1 AND user_id = $2 AND closed <> $3
                           AND last_inbound_ms <= $4",
                    &[
                        &account.as_str().as_bytes(),
                        &user.as_str().as_bytes(),
                        &closed,
                        &ms(as_of_inbound_ms),
                    ],
                )
                .await
                .map_err(db_error)?;
            Ok(changed == 1)
        })
    }
}

impl TokenStore for PgStore {
    fn save_context_token<'a>(
        &'a self,
        fence: Option<&'a Lease>,
        account: &'a AccountId,
        user: &'a UserId,
        token: &'a ContextToken,
    ) -> StoreFuture<'a, ()> {
        in_tx!(self, |tx| async move {
            check_fence(fence, account)?;
            fence_shared(tx, fence).await?;
            tx.execute(
                "INSERT INTO context_tokens (account_id, user_id, token) VALUES ($1, $2, $3)
                     ON CONFLICT (account_id, user_id) DO UPDATE SET token = excluded.token",
                &[
                    &account.as_str().as_bytes(),
                    &user.as_str().as_bytes(),
                    &token.expose().as_bytes(),
                ],
            )
            .await
            .map_err(db_error)?;
            Ok(())
        })
    }

    fn load_context_token<'a>(
        &'a self,
        account: &'a AccountId,
        user: &'a UserId,
    ) -> StoreFuture<'a, Option<ContextToken>> {
        in_tx!(self, |tx| async move {
            let row = tx
                .query_opt(
                    "SELECT token FROM context_tokens WHERE account_id = $1 AND user_id = $2",
                    &[&account.as_str().as_bytes(), &user.as_str().as_bytes()],
                )
                .await
                .map_err(db_error)?;
            row.map(|r| text(r.get(0), "a context token").map(ContextToken::new))
                .transpose()
        })
    }

    fn find_context_token<'a>(
        &'a self,
        account: &'a AccountId,
        user: &'a UserId,
    ) -> StoreFuture<'a, Option<(UserId, ContextToken)>> {
        in_tx!(self, |tx| async move {
            // Ids are bytes here; `encode(.., 'escape')` keeps ASCII as it
            // is (other bytes become octal escapes), so lower() on both
            // sides folds ASCII case only. The exact id sorts first.
            let row = tx
                .query_opt(
                    "SELECT user_id, token FROM context_tokens
                     WHERE account_id = $1
                       AND lower(encode(user_id, 'escape')) = lower(encode($2, 'escape'))
                     ORDER BY user_id = $2 DESC LIMIT 1",
                    &[&account.as_str().as_bytes(), &user.as_str().as_bytes()],
                )
                .await
                .map_err(db_error)?;
            row.map(|r| {
                Ok((
                    UserId::new(text(r.get(0), "a user id")?),
                    ContextToken::new(text(r.get(1), "a context token")?),
                ))
            })
            .transpose()
        })
    }

    fn context_tokens<'a>(
        &'a self,
        account: &'a AccountId,
    ) -> StoreFuture<'a, BTreeMap<UserId, ContextToken>> {
        in_tx!(self, |tx| async move {
            let rows = tx
                .query(
                    "SELECT user_id, token FROM context_tokens WHERE account_id = $1",
                    &[&account.as_str().as_bytes()],
                )
                .await
                .map_err(db_error)?;
            let mut out = BTreeMap::new();
            for row in rows {
                out.insert(
                    UserId::new(text(row.get(0), "a user id")?),
                    ContextToken::new(text(row.get(1), "a context token")?),
                );
            }
            Ok(out)
        })
    }

    fn clear_context_tokens<'a>(&'a self, account: &'a AccountId) -> StoreFuture<'a, ()> {
        in_tx!(self, |tx| async move {
            tx.execute(
                "DELETE FROM context_tokens WHERE account_id = $1",
                &[&account.as_str().as_bytes()],
            )
            .await
            .map_err(db_error)?;
            Ok(())
        })
    }

    fn save_typing_ticket<'a>(
        &'a self,
        fence: Option<&'a Lease>,
        account: &'a AccountId,
        user: &'a UserId,
        ticket: &'a TypingTicket,
    ) -> StoreFuture<'a, ()> {
        in_tx!(self, |tx| async move {
            check_fence(fence, account)?;
            fence_shared(tx, fence).await?;
            tx.execute(
                "INSERT INTO typing_tickets
                       (account_id, user_id, ticket, refresh_at_ms, backoff_ms)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (account_id, user_id) DO UPDATE SET ticket = excluded.ticket,
                       refresh_at_ms = excluded.refresh_at_ms, backoff_ms = excluded.backoff_ms",
                &[
                    &account.as_str().as_bytes(),
                    &user.as_str().as_bytes(),
                    &ticket.ticket.as_bytes(),
                    &ms(ticket.refresh_at_ms),
                    &ms(ticket.backoff_ms),
                ],
            )
            .await
            .map_err(db_error)?;
            Ok(())
        })
    }

    fn load_typing_ticket<'a>(
        &'a self,
        account: &'a AccountId,
        user: &'a UserId,
    ) -> StoreFuture<'a, Option<TypingTicket>> {
        in_tx!(self, |tx| async move {
            let row = tx
                .query_opt(
                    "SELECT ticket, refresh_at_ms, backoff_ms FROM typing_tickets
                         WHERE account_id = $1 AND user_id = $2",
                    &[&account.as_str().as_bytes(), &user.as_str().as_bytes()],
                )
                .await
                .map_err(db_error)?;
            row.map(|r| {
                Ok(TypingTicket::new(
                    text(r.get(0), "a typing ticket")?,
                    unsigned(r.get(1)),
                    unsigned(r.get(2)),
                ))
            })
            .transpose()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{is_loopback, on_this_host};

    fn local(url: &str) -> bool {
        on_this_host(&url.parse().unwrap())
    }

    #[test]
    fn local_is_judged_by_every_address_the_client_connects_to() {
        // On this host: loopback names and addresses, Unix sockets, and a
        // loopback hostaddr under a local name or none.
        for url in [
            "postgres://bob@localhost/x",
            "postgres://bob@127.0.0.1/x",
            "postgres://bob@127.9.9.9/x",
            "postgres://bob@[::1]/x",
            "postgres://bob@localhost:1/x?hostaddr=127.0.0.2",
            "host=localhost hostaddr=127.0.0.2 user=bob",
            "hostaddr=127.0.0.2 user=bob",
            "hostaddr=::1 user=bob",
            "hostaddr=::ffff:127.0.0.1 user=bob",
            "host=/run/postgresql user=bob",
            "host=localhost,127.0.0.1 user=bob",
        ] {
            assert!(local(url), "{url}");
        }
        // Not: a hostaddr off loopback (it overrides a local host), a host
        // off loopback, one remote entry among local ones, a remote name
        // over a loopback hostaddr, and no address at all.
        for url in [
            "postgres://bob@localhost:1/x?hostaddr=192.0.2.1",
            "host=localhost hostaddr=192.0.2.1 user=bob",
            "hostaddr=192.0.2.1 user=bob",
            "hostaddr=::ffff:192.0.2.1 user=bob",
            "host=/run/postgresql hostaddr=192.0.2.1 user=bob",
            "host=192.0.2.1 user=bob",
            "host=db.example.com user=bob",
            "host=localhost,192.0.2.1 user=bob",
            "host=localhost,localhost hostaddr=127.0.0.1,192.0.2.1 user=bob",
            "host=db.example.com hostaddr=127.0.0.1 user=bob",
            "postgres://bob@db.example.com/x?hostaddr=127.0.0.1",
            "postgres:///x",
            "user=bob dbname=x",
        ] {
            assert!(!local(url), "{url}");
        }
    }

    #[test]
    fn loopback_is_127_8_and_v6_one_and_their_mapped_form() {
        for ip in ["127.0.0.1", "127.255.0.3", "::1", "::ffff:127.0.0.1"] {
            assert!(is_loopback(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "128.0.0.1",
            "0.0.0.0",
            "::",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
        ] {
            assert!(!is_loopback(ip.parse().unwrap()), "{ip}");
        }
    }
}
