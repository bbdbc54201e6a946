//! [`SqliteStore`]: every account of a state directory in one SQLite
//! database (`ilink.db`), each call one transaction in WAL mode with
//! `synchronous=FULL`.

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use ilink_proto::{AccountId, ContextToken, Cursor, UserId};
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};

use super::rows::{
    admit, check_account, check_fence, conversation, corrupt, counted_since_ms, latest_inbound,
    listed, ms, next_epoch, ttl_ms, unsigned,
};
use super::{
    Admission, Conversation, Credentials, DEDUP_WINDOW, InboxEntry, Lease, OutboxEntry,
    ReceivedBatch, ReplyLimits, StoreError, StoreFuture, TypingTicket, dir, now_ms,
};
use super::{CredentialStore, InboxStore, LeaseStore, OutboxStore, TokenStore};

mod schema;

/// How long a call waits for another connection's write lock (another
/// process on the same file) before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// A [`Store`](super::Store) in one SQLite database file: the default.
///
/// [`open`](Self::open) takes a state directory (created 0700 if missing,
/// refused with [`StoreError::Unsafe`] when another user could change it)
/// and keeps `ilink.db` in it (0600). Several processes may open the same
/// directory: the leases table keeps one poller per account among them.
/// The bundled SQLite is compiled in (no system library needed); see the
/// crate's README for what that needs at build time (a C compiler).
///
/// Cheap to clone; clones share one connection, which lives on a thread
/// of its own: calls queue for it in the order they are made, and a store
/// that 10,000 accounts share costs one thread, not one blocking thread
/// per waiting call. The thread ends (and the database closes) when the
/// last clone drops.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

/// A call, run on the connection's thread.
enum Job {
    /// A read: runs on the connection, or inside the transaction of the
    /// group it joins (its answer then waits for the group's commit, so
    /// that nothing is answered from writes that could still roll back).
    Read(Box<dyn FnOnce(&Connection) -> Done + Send>),
    /// A write: runs inside the transaction of its group (see [`serve`]),
    /// within a savepoint of its own. Says whether it succeeded (else its
    /// savepoint is rolled back), and gives what tells its caller once the
    /// group's commit is known.
    Write(WriteJob),
}

/// A write: given its group's transaction (`None`: there is none, it fails
/// unrun), runs and says whether it succeeded, with what tells its caller.
type WriteJob = Box<dyn FnOnce(Option<&rusqlite::Transaction<'_>>) -> (bool, Done) + Send>;

/// Tells a write's caller its outcome, given how its group went.
type Done = Box<dyn FnOnce(Result<(), &rusqlite::Error>) + Send>;

/// The most writes one transaction takes: a bound on how long the first
/// of a group waits for the last.
const MAX_GROUP: usize = 256;

struct Inner {
    /// To the connection's thread (`None` once dropping).
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
    path: Option<PathBuf>,
}

impl Inner {
    /// Queues a call for the connection's thread.
    fn submit(&self, job: Job) -> Result<(), StoreError> {
        let ended = || StoreError::Database(Box::new(ThreadError::Ended));
        self.jobs
            .as_ref()
            .ok_or_else(ended)?
            .send(job)
            .map_err(|_| ended())
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Closing the channel ends the thread once the calls queued before
        // are done; waiting for it closes the database before the drop
        // returns, as a connection dropped in place would.
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take()
            && thread.thread().id() != std::thread::current().id()
        {
            let _ = thread.join();
        }
    }
}

/// The connection's thread: runs calls in the order they came until every
/// clone of the store dropped.
///
/// Calls that are queued together while a write runs are committed
/// together (a group commit): the first write opens a transaction, and
/// every call queued behind it joins it in order, each write in a savepoint
/// of its own (so one that fails is rolled back alone), until the queue is
/// empty or [`MAX_GROUP`] calls joined; then one commit, one fsync, and
/// only then does each caller learn its outcome. "Accepted" still means
/// "durable": nothing is answered before the commit that holds it, and the
/// calls take effect in the order they came, as if one by one. A quiet
/// store commits each write at once, as before; a busy one many in one.
///
/// `max_group` is [`MAX_GROUP`] on a file; in memory, where a commit costs
/// no fsync to share, 1: each write its own transaction.
fn serve(mut conn: Connection, jobs: &mpsc::Receiver<Job>, max_group: usize) {
    while let Ok(job) = jobs.recv() {
        match job {
            Job::Read(f) => f(&conn)(Ok(())),
            Job::Write(first) => write_group(&mut conn, first, jobs, max_group),
        }
    }
}

/// Runs `first` and the calls queued behind it in one transaction.
fn write_group(
    conn: &mut Connection,
    first: WriteJob,
    jobs: &mpsc::Receiver<Job>,
    max_group: usize,
) {
    let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => {
            // No transaction (another process holds the write lock past the
            // busy timeout): this write fails unrun; the next ones try
            // again.
            let (_, tell) = first(None);
            tell(Err(&e));
            return;
        }
    };
    let mut told: Vec<Done> = Vec::new();
    let mut write = Some(first);
    let fail_all = |told: Vec<Done>, e: &rusqlite::Error| {
        for tell in told {
            tell(Err(e));
        }
    };
    while let Some(w) = write.take() {
        if let Err(e) = tx.execute_batch("SAVEPOINT ilink_call") {
            // The transaction is unusable: this write and the group fail.
            let (_, tell) = w(None);
            tell(Err(&e));
            fail_all(told, &e);
            return;
        }
        let (ok, tell) = w(Some(&tx));
        let end = if ok {
            "RELEASE ilink_call"
        } else {
            "ROLLBACK TO ilink_call; RELEASE ilink_call"
        };
        if let Err(e) = tx.execute_batch(end) {
            tell(Err(&e));
            fail_all(told, &e);
            return;
        }
        told.push(tell);
        if told.len() >= max_group {
            break;
        }
        // Reads queued behind it join the group; the next write goes on
        // in it.
        loop {
            match jobs.try_recv() {
                Ok(Job::Write(w)) => write = Some(w),
                Ok(Job::Read(r)) => {
                    told.push(r(&tx));
                    if told.len() < max_group {
                        continue;
                    }
                }
                Err(_) => {}
            }
            break;
        }
    }
    match tx.commit() {
        Ok(()) => {
            for tell in told {
                tell(Ok(()));
            }
        }
        Err(e) => fail_all(told, &e),
    }
}

/// A copy of a SQLite error for one of the callers it failed (rusqlite's
/// errors do not clone): the code is kept, so that a busy database is
/// still seen as a passing failure and waited out.
fn copied(e: &rusqlite::Error) -> StoreError {
    match e {
        rusqlite::Error::SqliteFailure(code, msg) => {
            db_error(rusqlite::Error::SqliteFailure(*code, msg.clone()))
        }
        other => StoreError::Database(Box::new(ThreadError::CommitFailed(other.to_string()))),
    }
}

/// A state directory that is itself a link, resolved to its target: an
/// existing directory (whose owner and mode [`dir::prepare`] then checks),
/// else [`StoreError::Unsafe`] before anything is created. Anything else is
/// returned as given.
fn follow_link(dir: &Path) -> Result<PathBuf, StoreError> {
    let is_link = std::fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink());
    if !is_link {
        return Ok(dir.to_path_buf());
    }
    let refuse = |reason| StoreError::Unsafe {
        path: dir.to_path_buf(),
        reason,
    };
    let target = match std::fs::canonicalize(dir) {
        Ok(target) => target,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(refuse(
                "it is a link to nothing (its target does not exist)",
            ));
        }
        Err(e) => return Err(dir::io_error(dir)(e)),
    };
    let meta = std::fs::metadata(&target).map_err(dir::io_error(&target))?;
    if !meta.is_dir() {
        return Err(refuse("it is a link to something that is not a directory"));
    }
    Ok(target)
}

/// The database file's path with no link in it: SQLite, told not to follow
/// links (`SQLITE_OPEN_NOFOLLOW`), refuses a path with a link anywhere in
/// it (error 1550), a directory above the state directory included.
fn real_path(db: &Path) -> Result<PathBuf, StoreError> {
    let parent = db
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let real = std::fs::canonicalize(parent).map_err(dir::io_error(parent))?;
    Ok(real.join(dir::DB_FILE))
}

/// Removes a database file this open created when the open failed, unless
/// something uses it meanwhile (it has contents or a write-ahead log: a
/// second process that opened the same new directory at the same moment).
fn remove_unused(db: &Path) {
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    let empty = std::fs::symlink_metadata(db).is_ok_and(|m| m.is_file() && m.len() == 0);
    if empty && std::fs::symlink_metadata(Path::new(&wal)).is_err() {
        let _ = std::fs::remove_file(db);
    }
}

/// What the connection's thread could not do.
#[derive(Debug, thiserror::Error)]
enum ThreadError {
    #[error("the SQLite connection's thread has ended")]
    Ended,
    #[error("a SQLite call panicked")]
    Panicked,
    #[error("the transaction did not commit: {0}")]
    CommitFailed(String),
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .finish()
    }
}

fn db_error(e: rusqlite::Error) -> StoreError {
    StoreError::Database(Box::new(e))
}

impl SqliteStore {
    /// Opens (or creates) the store of the state directory `dir`, migrating
    /// its schema to this version's.
    ///
    /// A state directory that is a link (`/var/lib/bot -> /data/bot`) is
    /// followed: resolved once, here, and its target checked like any
    /// state directory (an existing directory of this user that its group
    /// and others cannot write) before anything is created in it. The
    /// database is then opened by its real path, with no link in it.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unsafe`] for a directory others could change, a link
    /// that leads nowhere or to something other than a directory, or a
    /// database file that is a link; [`StoreError::Io`] when the directory
    /// cannot be made, [`StoreError::NewerSchema`] for a database of a newer
    /// version, [`StoreError::Database`] when SQLite fails. A refused or
    /// failed open leaves no database file it created behind.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, StoreError> {
        let dir = follow_link(dir.as_ref())?;
        let existed = std::fs::symlink_metadata(dir.join(dir::DB_FILE)).is_ok();
        let path = dir::prepare(&dir)?;
        let opened = real_path(&path).and_then(|real| {
            let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_NOFOLLOW;
            let conn = Connection::open_with_flags(&real, flags).map_err(db_error)?;
            Self::setup(conn, Some(real))
        });
        if opened.is_err() && !existed {
            remove_unused(&path);
        }
        opened
    }

    /// A store in memory: everything is lost when the last clone drops.
    pub fn in_memory() -> Self {
        // Opening an in-memory database fails only when SQLite cannot
        // allocate; the schema is ours.
        match Connection::open_in_memory()
            .map_err(db_error)
            .and_then(|conn| Self::setup(conn, None))
        {
            Ok(store) => store,
            Err(e) => panic!("an in-memory SQLite database could not be made: {e}"),
        }
    }

    fn setup(mut conn: Connection, path: Option<PathBuf>) -> Result<Self, StoreError> {
        conn.busy_timeout(BUSY_TIMEOUT).map_err(db_error)?;
        if path.is_some() {
            conn.pragma_update(None, "journal_mode", "WAL")
                .map_err(db_error)?;
        }
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(db_error)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(db_error)?;
        schema::migrate(&mut conn)?;
        let max_group = if path.is_some() { MAX_GROUP } else { 1 };
        let (jobs, queue) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("ilink-sqlite".to_owned())
            .spawn(move || serve(conn, &queue, max_group))
            .map_err(|source| StoreError::Io {
                path: path.clone().unwrap_or_default(),
                source,
            })?;
        Ok(Self {
            inner: Arc::new(Inner {
                jobs: Some(jobs),
                thread: Some(thread),
                path,
            }),
        })
    }

    /// The database file (`None` in memory).
    pub fn path(&self) -> Option<&Path> {
        self.inner.path.as_deref()
    }

    /// Runs `f`, a read, with the connection on its thread once the calls
    /// queued before it are done: alone, or in the transaction of the
    /// group it joins, answered once that commits (see [`serve`]). A call
    /// whose future is dropped still runs.
    fn run<T, F>(&self, f: F) -> StoreFuture<'static, T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = self.inner.clone();
        Box::pin(async move {
            let (done, result) = tokio::sync::oneshot::channel();
            let job = Job::Read(Box::new(move |conn| {
                // A panicking call fails alone; the thread goes on with the
                // next.
                let r = std::panic::catch_unwind(AssertUnwindSafe(|| f(conn)));
                Box::new(move |group: Result<(), &rusqlite::Error>| {
                    let r = match (r, group) {
                        (r, Ok(())) => r,
                        // It read writes of its group that did not commit.
                        (_, Err(e)) => Ok(Err(copied(e))),
                    };
                    let _ = done.send(r);
                })
            }));
            inner.submit(job)?;
            drop(inner);
            Self::outcome(result.await)
        })
    }

    /// What a call's caller gets from its channel.
    fn outcome<T>(
        got: Result<
            std::thread::Result<Result<T, StoreError>>,
            tokio::sync::oneshot::error::RecvError,
        >,
    ) -> Result<T, StoreError> {
        match got {
            Ok(Ok(r)) => r,
            Ok(Err(_)) => Err(StoreError::Database(Box::new(ThreadError::Panicked))),
            Err(_) => Err(StoreError::Database(Box::new(ThreadError::Ended))),
        }
    }

    /// Runs `f` in a write transaction, committed when it returns `Ok`:
    /// its own, or its group's (see [`serve`]), in a savepoint that is
    /// rolled back when it fails. Its future completes once the commit is
    /// durable.
    fn write<T, F>(&self, f: F) -> StoreFuture<'static, T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = self.inner.clone();
        Box::pin(async move {
            let (done, result) = tokio::sync::oneshot::channel();
            let job = Job::Write(Box::new(move |tx| {
                // A panicking call fails alone (its savepoint is rolled
                // back); the group goes on.
                let r = tx.map(|tx| std::panic::catch_unwind(AssertUnwindSafe(|| f(tx))));
                let ok = matches!(r, Some(Ok(Ok(_))));
                let tell: Done = Box::new(move |group| {
                    let r = match (r, group) {
                        // Its own failure is its answer, whatever the group did.
                        (Some(r @ (Err(_) | Ok(Err(_)))), _) => r,
                        (Some(Ok(Ok(v))), Ok(())) => Ok(Ok(v)),
                        (_, Err(e)) => Ok(Err(copied(e))),
                        (None, Ok(())) => Ok(Err(StoreError::Database(Box::new(
                            ThreadError::CommitFailed("the write did not run".to_owned()),
                        )))),
                    };
                    let _ = done.send(r);
                });
                (ok, tell)
            }));
            inner.submit(job)?;
            drop(inner);
            Self::outcome(result.await)
        })
    }
}

/// Outbox entries of `account` that `sql` selects (client id, recipient,
/// message, queued at).
fn read_outbox(
    conn: &Connection,
    account: &AccountId,
    sql: &str,
    args: impl rusqlite::Params,
) -> Result<Vec<OutboxEntry>, StoreError> {
    let mut stmt = conn.prepare_cached(sql).map_err(db_error)?;
    let rows = stmt
        .query_map(args, |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })
        .map_err(db_error)?;
    let mut out = Vec::new();
    for row in rows {
        let (client_id, user, message, at) = row.map_err(db_error)?;
        let message = serde_json::from_str(&message)
            .map_err(|e| corrupt(format!("an outbox entry of {account}"), e))?;
        out.push(OutboxEntry::new(client_id, user, message, unsigned(at)));
    }
    Ok(out)
}

/// A user's conversation row.
fn read_conversation(
    conn: &Connection,
    account: &AccountId,
    user: &UserId,
) -> Result<Option<Conversation>, StoreError> {
    conn.prepare_cached(
        "SELECT last_inbound_ms, replies, closed FROM conversations
         WHERE account_id = ?1 AND user_id = ?2",
    )
    .and_then(|mut s| {
        s.query_row(params![account.as_str(), user.as_str()], |r| {
            Ok(conversation(user, r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()
    })
    .map_err(db_error)
}

/// Fails with [`StoreError::LeaseLost`] unless `lease` is the account's
/// current one.
fn fence(tx: &rusqlite::Transaction<'_>, lease: &Lease) -> Result<(), StoreError> {
    let current: Option<(String, i64)> = tx
        .query_row(
            "SELECT holder, epoch FROM leases WHERE account_id = ?1",
            params![lease.account.as_str()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(db_error)?;
    match current {
        Some((holder, epoch)) if holder == lease.holder && unsigned(epoch) == lease.epoch => Ok(()),
        _ => Err(StoreError::LeaseLost {
            account: lease.account.clone(),
        }),
    }
}

fn read_entry(
    account: &str,
    key: String,
    message: &str,
    at: i64,
) -> Result<InboxEntry, StoreError> {
    let message = serde_json::from_str(message)
        .map_err(|e| corrupt(format!("an inbox entry of {account}"), e))?;
    Ok(InboxEntry::new(key, message, unsigned(at)))
}

/// Acknowledges keys under a lease in the transaction: each leaves the
/// inbox and joins the deduplication window, which is trimmed once.
fn ack_keys(
    tx: &rusqlite::Transaction<'_>,
    lease: &Lease,
    keys: &[String],
) -> Result<(), StoreError> {
    fence(tx, lease)?;
    let account = lease.account.as_str();
    let mut added = 0;
    for key in keys {
        tx.prepare_cached("DELETE FROM inbox WHERE account_id = ?1 AND key = ?2")
            .and_then(|mut s| s.execute(params![account, key]))
            .map_err(db_error)?;
        added += tx
            .prepare_cached(
                "INSERT INTO acked (account_id, key) VALUES (?1, ?2)
                 ON CONFLICT (account_id, key) DO NOTHING",
            )
            .and_then(|mut s| s.execute(params![account, key]))
            .map_err(db_error)?;
    }
    if added > 0 {
        // The window keeps the newest DEDUP_WINDOW keys.
        tx.prepare_cached(
            "DELETE FROM acked WHERE account_id = ?1 AND id <= (
               SELECT id FROM acked WHERE account_id = ?1
               ORDER BY id DESC LIMIT 1 OFFSET ?2)",
        )
        .and_then(|mut s| s.execute(params![account, DEDUP_WINDOW as i64]))
        .map_err(db_error)?;
    }
    Ok(())
}

impl CredentialStore for SqliteStore {
    fn save_credentials<'a>(&'a self, credentials: &'a Credentials) -> StoreFuture<'a, ()> {
        let credentials = credentials.clone();
        self.write(move |tx| {
            check_account(&credentials.account_id)?;
            let json =
                serde_json::to_string(&credentials).map_err(|e| corrupt("credentials", e))?;
            tx.execute(
                "INSERT INTO accounts (account_id, credentials, saved_seq)
                 VALUES (?1, ?2, (SELECT COALESCE(MAX(saved_seq), 0) + 1 FROM accounts))
                 ON CONFLICT (account_id) DO UPDATE SET
                   credentials = excluded.credentials, saved_seq = excluded.saved_seq",
                params![credentials.account_id.as_str(), json],
            )
            .map_err(db_error)?;
            Ok(())
        })
    }

    fn load_credentials<'a>(
        &'a self,
        account: &'a AccountId,
    ) -> StoreFuture<'a, Option<Credentials>> {
        let account = account.clone();
        self.run(move |conn| {
            let json: Option<String> = conn
                .query_row(
                    "SELECT credentials FROM accounts WHERE account_id = ?1",
                    params![account.as_str()],
                    |r| r.get(0),
                )
                .optional()
                .map_err(db_error)?;
            json.map(|j| {
                serde_json::from_str(&j)
                    .map_err(|e| corrupt(format!("the credentials of {account}"), e))
            })
            .transpose()
        })
    }

    fn accounts(&self) -> StoreFuture<'_, Vec<Credentials>> {
        self.run(|conn| {
            let mut stmt = conn
                .prepare("SELECT account_id, credentials FROM accounts ORDER BY saved_seq DESC")
                .map_err(db_error)?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
                .map_err(db_error)?;
            let mut all = Vec::new();
            for row in rows {
                let (id, json) = row.map_err(db_error)?;
                all.extend(listed(&id, &json));
            }
            Ok(all)
        })
    }

    fn remove_account<'a>(&'a self, account: &'a AccountId) -> StoreFuture<'a, ()> {
        let account = account.clone();
        self.write(move |tx| {
            let live: Option<String> = tx
                .query_row(
                    "SELECT holder FROM leases
                     WHERE account_id = ?1 AND holder <> '' AND expires_at_ms > ?2",
                    params![account.as_str(), ms(now_ms())],
                    |r| r.get(0),
                )
                .optional()
                .map_err(db_error)?;
            if let Some(holder) = live {
                return Err(StoreError::Leased { account, holder });
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
                    &format!("DELETE FROM {table} WHERE account_id = ?1"),
                    params![account.as_str()],
                )
                .map_err(db_error)?;
            }
            // The lease row stays: its epoch keeps growing if the account
            // comes back.
            Ok(())
        })
    }
}

impl LeaseStore for SqliteStore {
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
        let account = account.clone();
        let holder = holder.to_owned();
        let from = from.to_owned();
        self.write(move |tx| {
            check_account(&account)?;
            let now = now_ms();
            let current: Option<(String, i64, i64)> = tx
                .query_row(
                    "SELECT holder, epoch, expires_at_ms FROM leases WHERE account_id = ?1",
                    params![account.as_str()],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()
                .map_err(db_error)?;
            let epoch = next_epoch(
                &account,
                current
                    .as_ref()
                    .map(|(h, e, x)| (h.as_str(), unsigned(*e), unsigned(*x))),
                &holder,
                &from,
                now,
            )?;
            let expires_at_ms = now.saturating_add(ttl_ms(ttl));
            tx.execute(
                "INSERT INTO leases (account_id, holder, epoch, expires_at_ms) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (account_id) DO UPDATE SET
                   holder = excluded.holder, epoch = excluded.epoch,
                   expires_at_ms = excluded.expires_at_ms",
                params![account.as_str(), holder, ms(epoch), ms(expires_at_ms)],
            )
            .map_err(db_error)?;
            Ok(Lease {
                account,
                holder,
                epoch,
                expires_at_ms,
            })
        })
    }

    fn renew<'a>(&'a self, lease: &'a Lease, ttl: Duration) -> StoreFuture<'a, Lease> {
        let lease = lease.clone();
        self.write(move |tx| {
            fence(tx, &lease)?;
            let expires_at_ms = now_ms().saturating_add(ttl_ms(ttl));
            tx.execute(
                "UPDATE leases SET expires_at_ms = ?2 WHERE account_id = ?1",
                params![lease.account.as_str(), ms(expires_at_ms)],
            )
            .map_err(db_error)?;
            Ok(Lease {
                expires_at_ms,
                ..lease
            })
        })
    }

    fn release<'a>(&'a self, lease: &'a Lease) -> StoreFuture<'a, ()> {
        let lease = lease.clone();
        self.write(move |tx| {
            tx.execute(
                "UPDATE leases SET holder = '', expires_at_ms = 0
                 WHERE account_id = ?1 AND holder = ?2 AND epoch = ?3",
                params![lease.account.as_str(), lease.holder, ms(lease.epoch)],
            )
            .map_err(db_error)?;
            Ok(())
        })
    }

    fn heartbeat<'a>(&'a self, member: &'a str, ttl: Duration) -> StoreFuture<'a, usize> {
        let member = member.to_owned();
        self.write(move |tx| {
            let now = now_ms();
            let expires = now.saturating_add(ttl_ms(ttl));
            tx.execute(
                "INSERT INTO members (name, expires_at_ms) VALUES (?1, ?2)
                 ON CONFLICT (name) DO UPDATE SET expires_at_ms = excluded.expires_at_ms",
                params![member, ms(expires)],
            )
            .map_err(db_error)?;
            // The dead are forgotten, so the table stays the live members.
            tx.execute(
                "DELETE FROM members WHERE expires_at_ms <= ?1",
                params![ms(now)],
            )
            .map_err(db_error)?;
            let alive: i64 = tx
                .query_row("SELECT COUNT(*) FROM members", [], |r| r.get(0))
                .map_err(db_error)?;
            Ok(usize::try_from(alive).unwrap_or(1).max(1))
        })
    }

    fn leave<'a>(&'a self, member: &'a str) -> StoreFuture<'a, ()> {
        let member = member.to_owned();
        self.write(move |tx| {
            tx.execute("DELETE FROM members WHERE name = ?1", params![member])
                .map_err(db_error)?;
            Ok(())
        })
    }
}

impl InboxStore for SqliteStore {
    fn load_cursor<'a>(&'a self, account: &'a AccountId) -> StoreFuture<'a, Option<Cursor>> {
        let account = account.clone();
        self.run(move |conn| {
            conn.query_row(
                "SELECT cursor FROM cursors WHERE account_id = ?1",
                params![account.as_str()],
                |r| r.get::<_, String>(0),
            )
            .optional()
            .map(|c| c.map(Cursor::new))
            .map_err(db_error)
        })
    }

    fn commit_batch<'a>(
        &'a self,
        lease: &'a Lease,
        batch: ReceivedBatch,
    ) -> StoreFuture<'a, Vec<InboxEntry>> {
        let lease = lease.clone();
        self.write(move |tx| {
            fence(tx, &lease)?;
            let account = lease.account.as_str();
            let mut fresh = Vec::new();
            {
                let mut insert = tx
                    .prepare_cached(
                        "INSERT INTO inbox (account_id, key, message, received_at_ms)
                         SELECT ?1, ?2, ?3, ?4
                         WHERE NOT EXISTS (SELECT 1 FROM acked WHERE account_id = ?1 AND key = ?2)
                         ON CONFLICT (account_id, key) DO NOTHING",
                    )
                    .map_err(db_error)?;
                for entry in batch.entries {
                    let json = serde_json::to_string(&entry.message)
                        .map_err(|e| corrupt("a received message", e))?;
                    let added = insert
                        .execute(params![account, entry.key, json, ms(entry.received_at_ms)])
                        .map_err(db_error)?;
                    if added == 1 {
                        fresh.push(entry);
                    }
                }
                let mut token = tx
                    .prepare_cached(
                        "INSERT INTO context_tokens (account_id, user_id, token) VALUES (?1, ?2, ?3)
                         ON CONFLICT (account_id, user_id) DO UPDATE SET token = excluded.token",
                    )
                    .map_err(db_error)?;
                for (user, t) in &batch.context_tokens {
                    token
                        .execute(params![account, user.as_str(), t.expose()])
                        .map_err(db_error)?;
                }
                // A newer message opens the conversation again; a replayed
                // older one changes nothing.
                let mut opened = tx
                    .prepare_cached(
                        "INSERT INTO conversations (account_id, user_id, last_inbound_ms, replies, closed)
                         VALUES (?1, ?2, ?3, 0, 0)
                         ON CONFLICT (account_id, user_id) DO UPDATE SET
                           last_inbound_ms = excluded.last_inbound_ms, replies = 0, closed = 0
                         WHERE excluded.last_inbound_ms > conversations.last_inbound_ms",
                    )
                    .map_err(db_error)?;
                for (user, at) in latest_inbound(&batch.inbound) {
                    opened
                        .execute(params![account, user, ms(at)])
                        .map_err(db_error)?;
                }
            }
            tx.execute(
                "INSERT INTO cursors (account_id, cursor) VALUES (?1, ?2)
                 ON CONFLICT (account_id) DO UPDATE SET cursor = excluded.cursor",
                params![account, batch.cursor.as_str()],
            )
            .map_err(db_error)?;
            Ok(fresh)
        })
    }

    fn pending<'a>(&'a self, account: &'a AccountId) -> StoreFuture<'a, Vec<InboxEntry>> {
        let account = account.clone();
        self.run(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT key, message, received_at_ms FROM inbox
                     WHERE account_id = ?1 ORDER BY id",
                )
                .map_err(db_error)?;
            let rows = stmt
                .query_map(params![account.as_str()], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                    ))
                })
                .map_err(db_error)?;
            let mut out = Vec::new();
            for row in rows {
                let (key, message, at) = row.map_err(db_error)?;
                out.push(read_entry(account.as_str(), key, &message, at)?);
            }
            Ok(out)
        })
    }

    fn ack<'a>(&'a self, lease: &'a Lease, key: &'a str) -> StoreFuture<'a, ()> {
        let lease = lease.clone();
        let keys = vec![key.to_owned()];
        self.write(move |tx| ack_keys(tx, &lease, &keys))
    }

    fn ack_many<'a>(&'a self, lease: &'a Lease, keys: &'a [String]) -> StoreFuture<'a, ()> {
        let lease = lease.clone();
        let keys = keys.to_vec();
        self.write(move |tx| ack_keys(tx, &lease, &keys))
    }

    fn seen<'a>(&'a self, account: &'a AccountId, key: &'a str) -> StoreFuture<'a, bool> {
        let account = account.clone();
        let key = key.to_owned();
        self.run(move |conn| {
            conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM inbox WHERE account_id = ?1 AND key = ?2)
                     OR EXISTS (SELECT 1 FROM acked WHERE account_id = ?1 AND key = ?2)",
                params![account.as_str(), key],
                |r| r.get(0),
            )
            .map_err(db_error)
        })
    }
}

impl OutboxStore for SqliteStore {
    fn enqueue<'a>(
        &'a self,
        fence: Option<&'a Lease>,
        account: &'a AccountId,
        user: &'a UserId,
        entries: Vec<OutboxEntry>,
        limits: ReplyLimits,
    ) -> StoreFuture<'a, Admission> {
        let (account, user) = (account.clone(), user.clone());
        let fence = fence.cloned();
        self.write(move |tx| {
            check_fence(fence.as_ref(), &account)?;
            if let Some(lease) = &fence {
                self::fence(tx, lease)?;
            }
            let (a, u) = (account.as_str(), user.as_str());
            let now = now_ms();
            let mut new = Vec::with_capacity(entries.len());
            {
                // Queued now, or counted by an earlier enqueue.
                let mut queued = tx
                    .prepare_cached(
                        "SELECT EXISTS (SELECT 1 FROM outbox WHERE account_id = ?1 AND client_id = ?2)
                             OR EXISTS (SELECT 1 FROM counted WHERE account_id = ?1 AND client_id = ?2
                                        AND counted_at_ms >= ?3)",
                    )
                    .map_err(db_error)?;
                let since = ms(counted_since_ms(now));
                for entry in entries {
                    let there: bool = queued
                        .query_row(params![a, entry.client_id, since], |r| r.get(0))
                        .map_err(db_error)?;
                    if !there
                        && !new
                            .iter()
                            .any(|e: &OutboxEntry| e.client_id == entry.client_id)
                    {
                        new.push(entry);
                    }
                }
            }
            let conversation = read_conversation(tx, &account, &user)?;
            let needed = u32::try_from(new.len()).unwrap_or(u32::MAX);
            if let Err(refusal) = admit(conversation.as_ref(), needed, limits, now) {
                return Ok(Admission::Refused(refusal));
            }
            if conversation.is_some() && needed > 0 {
                tx.prepare_cached(
                    "UPDATE conversations SET replies = replies + ?3
                     WHERE account_id = ?1 AND user_id = ?2",
                )
                .and_then(|mut s| s.execute(params![a, u, i64::from(needed)]))
                .map_err(db_error)?;
            }
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO outbox (account_id, client_id, user_id, message, queued_at_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(db_error)?;
            let mut count = tx
                .prepare_cached(
                    "INSERT INTO counted (account_id, client_id, counted_at_ms) VALUES (?1, ?2, ?3)
                     ON CONFLICT (account_id, client_id) DO UPDATE SET counted_at_ms = excluded.counted_at_ms",
                )
                .map_err(db_error)?;
            for entry in &new {
                let json = serde_json::to_string(&entry.message)
                    .map_err(|e| corrupt("an outbound message", e))?;
                insert
                    .execute(params![a, entry.client_id, u, json, ms(entry.queued_at_ms)])
                    .map_err(db_error)?;
                count
                    .execute(params![a, entry.client_id, ms(now)])
                    .map_err(db_error)?;
            }
            if !new.is_empty() {
                tx.prepare_cached("DELETE FROM counted WHERE account_id = ?1 AND counted_at_ms < ?2")
                    .and_then(|mut s| s.execute(params![a, ms(counted_since_ms(now))]))
                    .map_err(db_error)?;
            }
            Ok(Admission::Queued { new: new.len() })
        })
    }

    fn outbox<'a>(&'a self, account: &'a AccountId) -> StoreFuture<'a, Vec<OutboxEntry>> {
        let account = account.clone();
        self.run(move |conn| {
            read_outbox(
                conn,
                &account,
                "SELECT client_id, user_id, message, queued_at_ms FROM outbox
                 WHERE account_id = ?1 ORDER BY seq",
                params![account.as_str()],
            )
        })
    }

    fn outbox_to<'a>(
        &'a self,
        account: &'a AccountId,
        user: &'a UserId,
    ) -> StoreFuture<'a, Vec<OutboxEntry>> {
        let (account, user) = (account.clone(), user.clone());
        self.run(move |conn| {
            read_outbox(
                conn,
                &account,
                "SELECT client_id, user_id, message, queued_at_ms FROM outbox
                 WHERE account_id = ?1 AND user_id = ?2 ORDER BY seq",
                params![account.as_str(), user.as_str()],
            )
        })
    }

    fn outbox_users<'a>(&'a self, account: &'a AccountId) -> StoreFuture<'a, Vec<UserId>> {
        let account = account.clone();
        self.run(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT user_id FROM outbox WHERE account_id = ?1
                     GROUP BY user_id ORDER BY MIN(seq)",
                )
                .map_err(db_error)?;
            let rows = stmt
                .query_map(params![account.as_str()], |r| r.get::<_, String>(0))
                .map_err(db_error)?;
            rows.map(|r| r.map(UserId::from).map_err(db_error))
                .collect()
        })
    }

    fn dequeue<'a>(
        &'a self,
        fence: Option<&'a Lease>,
        account: &'a AccountId,
        client_id: &'a str,
    ) -> StoreFuture<'a, ()> {
        let (account, client_id) = (account.clone(), client_id.to_owned());
        let fence = fence.cloned();
        self.write(move |tx| {
            check_fence(fence.as_ref(), &account)?;
            if let Some(lease) = &fence {
                self::fence(tx, lease)?;
            }
            tx.prepare_cached("DELETE FROM outbox WHERE account_id = ?1 AND client_id = ?2")
                .and_then(|mut s| s.execute(params![account.as_str(), client_id]))
                .map_err(db_error)?;
            Ok(())
        })
    }

    fn conversation<'a>(
        &'a self,
        account: &'a AccountId,
        user: &'a UserId,
    ) -> StoreFuture<'a, Option<Conversation>> {
        let (account, user) = (account.clone(), user.clone());
        self.run(move |conn| read_conversation(conn, &account, &user))
    }

    fn set_closed<'a>(
        &'a self,
        account: &'a AccountId,
        user: &'a UserId,
        closed: bool,
        as_of_inbound_ms: u64,
    ) -> StoreFuture<'a, bool> {
        let (account, user) = (account.clone(), user.clone());
        self.write(move |tx| {
            let changed = tx
                .prepare_cached(
                    "UPDATE conversations SET closed = ?3
                     WHERE account_id = ?1 AND user_id = ?2 AND closed <> ?3
                       AND last_inbound_ms <= ?4",
                )
                .and_then(|mut s| {
                    s.execute(params![
                        account.as_str(),
                        user.as_str(),
                        closed,
                        ms(as_of_inbound_ms)
                    ])
                })
                .map_err(db_error)?;
            Ok(changed == 1)
        })
    }
}

impl TokenStore for SqliteStore {
    fn save_context_token<'a>(
        &'a self,
        fence: Option<&'a Lease>,
        account: &'a AccountId,
        user: &'a UserId,
        token: &'a ContextToken,
    ) -> StoreFuture<'a, ()> {
        let (account, user, token) = (account.clone(), user.clone(), token.clone());
        let fence = fence.cloned();
        self.write(move |tx| {
            check_fence(fence.as_ref(), &account)?;
            if let Some(lease) = &fence {
                self::fence(tx, lease)?;
            }
            tx.execute(
                "INSERT INTO context_tokens (account_id, user_id, token) VALUES (?1, ?2, ?3)
                 ON CONFLICT (account_id, user_id) DO UPDATE SET token = excluded.token",
                params![account.as_str(), user.as_str(), token.expose()],
            )
            .map_err(db_error)?;
            Ok(())
        })
    }

    fn load_context_token<'a>(
        &'a self,
        account: &'a AccountId,
        user: &'a UserId,
    ) -> StoreFuture<'a, Option<ContextToken>> {
        let (account, user) = (account.clone(), user.clone());
        self.run(move |conn| {
            conn.query_row(
                "SELECT token FROM context_tokens WHERE account_id = ?1 AND user_id = ?2",
                params![account.as_str(), user.as_str()],
                |r| r.get::<_, String>(0),
            )
            .optional()
            .map(|t| t.map(ContextToken::new))
            .map_err(db_error)
        })
    }

    fn find_context_token<'a>(
        &'a self,
        account: &'a AccountId,
        user: &'a UserId,
    ) -> StoreFuture<'a, Option<(UserId, ContextToken)>> {
        let (account, user) = (account.clone(), user.clone());
        self.run(move |conn| {
            // NOCASE folds ASCII only, as the comparison is meant; the exact
            // id sorts first.
            conn.prepare_cached(
                "SELECT user_id, token FROM context_tokens
                 WHERE account_id = ?1 AND user_id = ?2 COLLATE NOCASE
                 ORDER BY user_id = ?2 DESC LIMIT 1",
            )
            .and_then(|mut stmt| {
                stmt.query_row(params![account.as_str(), user.as_str()], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                })
                .optional()
            })
            .map(|row| row.map(|(u, t)| (UserId::new(u), ContextToken::new(t))))
            .map_err(db_error)
        })
    }

    fn context_tokens<'a>(
        &'a self,
        account: &'a AccountId,
    ) -> StoreFuture<'a, BTreeMap<UserId, ContextToken>> {
        let account = account.clone();
        self.run(move |conn| {
            let mut stmt = conn
                .prepare_cached("SELECT user_id, token FROM context_tokens WHERE account_id = ?1")
                .map_err(db_error)?;
            let rows = stmt
                .query_map(params![account.as_str()], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                })
                .map_err(db_error)?;
            let mut out = BTreeMap::new();
            for row in rows {
                let (user, token) = row.map_err(db_error)?;
                out.insert(UserId::new(user), ContextToken::new(token));
            }
            Ok(out)
        })
    }

    fn clear_context_tokens<'a>(&'a self, account: &'a AccountId) -> StoreFuture<'a, ()> {
        let account = account.clone();
        self.write(move |tx| {
            tx.execute(
                "DELETE FROM context_tokens WHERE account_id = ?1",
                params![account.as_str()],
            )
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
        let (account, user, ticket) = (account.clone(), user.clone(), ticket.clone());
        let fence = fence.cloned();
        self.write(move |tx| {
            check_fence(fence.as_ref(), &account)?;
            if let Some(lease) = &fence {
                self::fence(tx, lease)?;
            }
            tx.execute(
                "INSERT INTO typing_tickets (account_id, user_id, ticket, refresh_at_ms, backoff_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (account_id, user_id) DO UPDATE SET ticket = excluded.ticket,
                   refresh_at_ms = excluded.refresh_at_ms, backoff_ms = excluded.backoff_ms",
                params![
                    account.as_str(),
                    user.as_str(),
                    ticket.ticket,
                    ms(ticket.refresh_at_ms),
                    ms(ticket.backoff_ms)
                ],
            )
            .map_err(db_error)?;
            Ok(())
        })
    }

    fn load_typing_ticket<'a>(
        &'a self,
        account: &'a AccountId,
        user: &'a UserId,
    ) -> StoreFuture<'a, Option<TypingTicket>> {
        let (account, user) = (account.clone(), user.clone());
        self.run(move |conn| {
            conn.query_row(
                "SELECT ticket, refresh_at_ms, backoff_ms FROM typing_tickets
                 WHERE account_id = ?1 AND user_id = ?2",
                params![account.as_str(), user.as_str()],
                |r| {
                    Ok(TypingTicket::new(
                        r.get::<_, String>(0)?,
                        unsigned(r.get(1)?),
                        unsigned(r.get(2)?),
                    ))
                },
            )
            .optional()
            .map_err(db_error)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A write inserting `key` into the acked table, failing after the
    /// insert when `fail`, and reporting whether a second connection to the
    /// file saw `seen` committed at the time.
    fn insert(
        store: &SqliteStore,
        key: &'static str,
        fail: bool,
        seen: Option<&'static str>,
    ) -> StoreFuture<'static, bool> {
        let path = store.path().map(Path::to_path_buf);
        store.write(move |tx| {
            tx.execute(
                "INSERT INTO acked (account_id, key) VALUES ('a', ?1)",
                params![key],
            )
            .map_err(db_error)?;
            if fail {
                return Err(corrupt("a test write", "failed on purpose"));
            }
            let Some(seen) = seen else {
                return Ok(false);
            };
            let other = Connection::open(path.expect("a file")).map_err(db_error)?;
            let n: i64 = other
                .query_row(
                    "SELECT COUNT(*) FROM acked WHERE key = ?1",
                    params![seen],
                    |r| r.get(0),
                )
                .map_err(db_error)?;
            Ok(n > 0)
        })
    }

    /// A store on a file in a fresh directory, and a runtime to drive it.
    fn file_store() -> (tempfile::TempDir, SqliteStore, tokio::runtime::Runtime) {
        let dir = tempfile::TempDir::new().unwrap();
        let store = SqliteStore::open(dir.path().join("state")).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        (dir, store, rt)
    }

    /// A call that holds the connection's thread until the sender is used
    /// (or dropped): what is submitted meanwhile queues behind it.
    fn held(store: &SqliteStore) -> (StoreFuture<'static, ()>, mpsc::Sender<()>) {
        let (release, held) = mpsc::channel::<()>();
        let hold = store.run(move |_| {
            held.recv().ok();
            Ok(())
        });
        (hold, release)
    }

    /// Polls `calls` once (each call is then queued), releases the held
    /// thread, and waits for them all.
    fn queued_then_released<F: std::future::Future>(
        rt: &tokio::runtime::Runtime,
        release: mpsc::Sender<()>,
        calls: F,
    ) -> F::Output {
        rt.block_on(async {
            tokio::pin!(calls);
            assert!(futures_util::FutureExt::now_or_never(calls.as_mut()).is_none());
            release.send(()).unwrap();
            calls.await
        })
    }

    fn count(store: &SqliteStore, rt: &tokio::runtime::Runtime, key: &'static str) -> i64 {
        rt.block_on(store.run(move |conn| {
            conn.query_row(
                "SELECT COUNT(*) FROM acked WHERE key = ?1",
                params![key],
                |r| r.get(0),
            )
            .map_err(db_error)
        }))
        .unwrap()
    }

    #[test]
    fn writes_queued_together_commit_together_and_fail_alone() {
        let (_dir, store, rt) = file_store();
        // Hold the connection's thread so that the writes queue behind it.
        let (hold, release) = held(&store);
        let first = insert(&store, "w1", false, None);
        let bad = insert(&store, "w2", true, None);
        // Sees whether w1 was committed when it ran: it was not, if they
        // share a transaction.
        let third = insert(&store, "w3", false, Some("w1"));
        let (hold, first, bad, third) = queued_then_released(&rt, release, async {
            tokio::join!(hold, first, bad, third)
        });
        hold.unwrap();
        assert!(!first.unwrap());
        assert!(matches!(bad, Err(StoreError::Corrupt { .. })));
        assert!(!third.unwrap(), "w1 was committed alone, before w3 ran");
        // The failed write was rolled back alone; the others committed.
        assert_eq!(count(&store, &rt, "w1"), 1);
        assert_eq!(count(&store, &rt, "w2"), 0);
        assert_eq!(count(&store, &rt, "w3"), 1);
        // A write alone (nothing queued behind it) commits at once: the
        // next sees it from another connection.
        rt.block_on(insert(&store, "w4", false, None)).unwrap();
        assert!(
            rt.block_on(insert(&store, "w5", false, Some("w4")))
                .unwrap()
        );
    }

    #[test]
    fn reads_join_a_group_and_answer_after_its_commit() {
        let (_dir, store, rt) = file_store();
        let (hold, release) = held(&store);
        let first = insert(&store, "r1", false, None);
        let read = store.run(|conn| {
            conn.query_row("SELECT COUNT(*) FROM acked", [], |r| r.get::<_, i64>(0))
                .map_err(db_error)
        });
        let after = insert(&store, "r2", false, Some("r1"));
        let (hold, first, read, after) = queued_then_released(&rt, release, async {
            tokio::join!(hold, first, read, after)
        });
        hold.unwrap();
        first.unwrap();
        // The read came after r1 and saw it; r2 after the read is still in
        // the group (r1 not yet committed when it ran); all of them were
        // answered after the one commit, which holds both writes.
        assert_eq!(read.unwrap(), 1);
        assert!(!after.unwrap(), "r2 ran in the group, before its commit");
        assert_eq!(count(&store, &rt, "r1"), 1);
        assert_eq!(count(&store, &rt, "r2"), 1);
    }

    #[test]
    fn the_bundled_sqlite_has_the_wal_reset_fix() {
        // SQLite before 3.51.3 can corrupt a WAL database when a checkpoint
        // resets the log while another connection writes.
        let version = rusqlite::version_number();
        assert!(
            version >= 3_051_003,
            "bundled SQLite {}",
            rusqlite::version()
        );
    }
}
