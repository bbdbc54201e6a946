//! [`FileStore`]: a [`Store`] in a directory.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use ilink_proto::ContextToken;
use serde::{Deserialize, Serialize};

use super::{Credentials, InboxEntry, PollerLock, Store, StoreError, TypingTicket};

mod dedup;
mod durable;
mod inbox;
mod lock;
mod name;

use dedup::Window;
use durable::{
    child, corrupt, ensure_dir, ensure_dir_all, io_error, private_file, read_json, remove_file,
    replace_file, sweep_temps, sync_dir, temp_name, to_json, write_file,
};
use inbox::Index;

const ACCOUNTS_DIR: &str = "accounts";
const ACCOUNTS_LOCK: &str = "accounts.lock";
const CREDENTIALS: &str = "credentials.json";
const CURSOR: &str = "cursor.json";
const CONTEXT_TOKENS: &str = "context_tokens.json";
const TYPING: &str = "typing.json";
const POLLER_LOCK: &str = "poller.lock";

/// A [`Store`] in a directory: one subdirectory per account, every write
/// atomic and durable, files readable by their owner only, and a lock file
/// so that only one poller runs per account.
///
/// Cheap to clone; clones share their caches.
///
/// # Layout
///
/// ```text
/// <root>/                              0700
///   accounts.lock                      orders credential saves across stores
///   accounts/                          0700
///     <account dir>/                   0700, the escaped account id
///       credentials.json               0600 {"order": n, "credentials": {..}}
///       cursor.json                    0600 {"cursor": "<get_updates_buf>"}
///       context_tokens.json            0600 {"<user id>": "<token>", ..}
///       typing.json                    0600 {"<user id>": {ticket}, ..}
///       dedup.log                      0600 one escaped key per line, oldest first
///       poller.lock                    0600 locked while a poller runs
///       inbox/                         0700
///         <20-digit seq>.batch.json    0600 [InboxEntry, ..]: one committed batch
///         <20-digit seq>_<key>.json    0600 one InboxEntry (legacy, still read)
/// ```
///
/// A batch file stays until every entry in it is acknowledged; which ones are
/// is what `dedup.log` says. Files written by older versions, one entry each,
/// are read the same way and share the sequence numbers.
///
/// Account directory names escape every byte outside `[a-z0-9_-]` as `%XX`
/// (`1a2b@im.bot` → `1a2b%40im%2Ebot`): no separator, no `.`, no control
/// character, and two ids never share a directory, not even on a
/// case-insensitive file system. Names starting with `.` are temporary files
/// or removed accounts and are never read as data.
///
/// A crash in the middle of a write leaves such a temporary file behind
/// (`.tmp.<pid>.<n>.<name>`). They are removed when a poller takes the
/// account ([`lock_poller`](Store::lock_poller)): those of the inbox, the
/// cursor and the deduplication log at once (only the lock's holder writes
/// them), others once the process that wrote them has ended (known on Linux)
/// or after a minute. Removed accounts whose deletion a crash interrupted go
/// when the store is opened, on the same terms.
///
/// # Durability
///
/// Every file is replaced atomically (a temporary file in the same directory,
/// fsync, rename, fsync of the directory), except `dedup.log`, which grows by
/// single-line appends, each followed by an fsync, and is rewritten
/// atomically once it holds twice [`DEDUP_WINDOW`](super::DEDUP_WINDOW)
/// lines. The fsyncs each operation costs (the first write of an account adds
/// one or two, for new directories):
///
/// | operation | fsyncs |
/// |---|---|
/// | [`commit_batch`](Store::commit_batch) with `k > 0` new entries | `4` whatever `k` (the batch file, the inbox directory, `cursor.json` and its directory); `2` when the cursor is unchanged; `0` when nothing is new and the cursor is unchanged |
/// | [`ack`](Store::ack) | `1` (the log append; removing a fully acknowledged batch file needs none); `0` for a key already in the window; `2` more, rarely, to rewrite a batch file whose acknowledged key leaves the window while another entry of it is still unacknowledged |
/// | [`save_credentials`](Store::save_credentials) | `2` |
/// | [`save_context_token`](Store::save_context_token), [`save_context_tokens`](Store::save_context_tokens) (any number of users), [`save_typing_ticket`](Store::save_typing_ticket) | `2`; `0` when nothing changed |
/// | [`clear_context_tokens`](Store::clear_context_tokens) | `1`; `0` when there were none |
/// | [`remove_account`](Store::remove_account) | `1` |
///
/// `commit_batch` makes every new entry durable before it replaces the
/// cursor: a crash in between leaves the entries pending and the old cursor
/// in place; messages polled again from there are skipped as already pending.
/// `ack`
/// appends the key to the log before it removes a batch file: a crash in
/// between leaves a file whose keys are all in the window, which
/// [`pending`](Store::pending) skips and removes.
///
/// [`remove_account`](Store::remove_account) moves the account directory
/// aside atomically before deleting it, and refuses with
/// [`StoreError::Locked`] while a poller holds the account.
///
/// # Sharing
///
/// Clones share one in-memory cache of each account's deduplication window,
/// checked against the log's size and modification time on every use, and
/// one index of which inbox file holds which key, checked against a listing
/// of the inbox directory on every use (only files not seen before are
/// read), so
/// several stores (or processes) on one directory see each other's writes.
/// Writes to one account from several processes at once are not supported
/// beyond that: that is what [`lock_poller`](Store::lock_poller) is for.
///
/// ```no_run
/// # fn main() -> Result<(), ilink::store::StoreError> {
/// use ilink::store::{FileStore, Store};
///
/// let store = FileStore::open("/var/lib/my-bot")?;
/// for account in store.accounts()? {
///    println!("{}", account.account_id);
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct FileStore {
    inner: Arc<Inner>,
}

struct Inner {
    /// The root as given.
    root: PathBuf,
    /// `<canonical root>/accounts`.
    accounts: PathBuf,
    /// `<canonical root>/accounts.lock`.
    accounts_lock: PathBuf,
    /// Per account directory name: serializes this store's operations on the
    /// account and caches its window.
    states: Mutex<HashMap<String, Arc<Mutex<AccountState>>>>,
}

#[derive(Default)]
struct AccountState {
    window: Option<Window>,
    /// Which inbox file holds which key.
    inbox: Option<inbox::Index>,
}

impl fmt::Debug for FileStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileStore")
            .field("root", &self.inner.root)
            .finish_non_exhaustive()
    }
}

/// `credentials.json`.
#[derive(Serialize, Deserialize)]
struct CredentialsFile {
    /// Save order across the store: higher is more recent.
    order: u64,
    credentials: Credentials,
}

/// `cursor.json`.
#[derive(Serialize, Deserialize)]
struct CursorFile {
    cursor: String,
}

/// An account's directory, resolved.
struct Account {
    dir: PathBuf,
    state: Arc<Mutex<AccountState>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl FileStore {
    /// Opens the store in `root`, creating it (mode 0700 on unix) and its
    /// `accounts` directory if they are missing. An existing root keeps its
    /// permissions, but on unix it must be ours and not writable by group
    /// or others (else [`StoreError::Unsafe`]): another user could plant
    /// files in it.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let root = root.into();
        ensure_dir_all(&root)?;
        let canonical = fs::canonicalize(&root).map_err(io_error(&root))?;
        let accounts = canonical.join(ACCOUNTS_DIR);
        ensure_dir(&canonical, &accounts)?;
        #[cfg(unix)]
        for dir in [&canonical, &accounts] {
            check_private(dir)?;
        }
        // Removed accounts whose deletion a crash interrupted.
        sweep_temps(&accounts, |_| false);
        Ok(Self {
            inner: Arc::new(Inner {
                root,
                accounts_lock: canonical.join(ACCOUNTS_LOCK),
                accounts,
                states: Mutex::default(),
            }),
        })
    }

    /// The directory the store was opened on.
    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    fn account(&self, account_id: &str) -> Result<Account, StoreError> {
        let name = name::account_dir_name(account_id)?;
        let dir = child(&self.inner.accounts, &name)?;
        let state = Arc::clone(lock(&self.inner.states).entry(name).or_default());
        Ok(Account { dir, state })
    }

    /// Creates the account's directory if needed (syncing `accounts/`).
    fn create(&self, account: &Account) -> Result<(), StoreError> {
        ensure_dir(&self.inner.accounts, &account.dir).map(drop)
    }

    /// The highest save order among the stored credentials.
    fn last_order(&self) -> Result<u64, StoreError> {
        Ok(self
            .all_credentials(false)?
            .iter()
            .map(|file| file.order)
            .max()
            .unwrap_or(0))
    }

    /// Every account's credentials. `lenient`: an account whose file cannot
    /// be read is left out with a warning naming its file, so one bad file
    /// does not stop the others (listing); otherwise it is an error (a save
    /// needs them all to order the accounts).
    fn all_credentials(&self, lenient: bool) -> Result<Vec<CredentialsFile>, StoreError> {
        let accounts = &self.inner.accounts;
        let mut all = Vec::new();
        for entry in fs::read_dir(accounts).map_err(io_error(accounts))? {
            let entry = entry.map_err(io_error(accounts))?;
            let dir_name = entry.file_name();
            let Some(dir_name) = dir_name.to_str() else {
                continue;
            };
            if dir_name.starts_with('.') || !entry.path().is_dir() {
                continue;
            }
            let path = entry.path().join(CREDENTIALS);
            let read = read_json::<CredentialsFile>(&path).and_then(|file| match file {
                Some(file)
                    if name::account_dir_name(file.credentials.account_id.as_str())
                        .ok()
                        .as_deref()
                        != Some(dir_name) =>
                {
                    Err(corrupt(&path, "belongs to another account directory"))
                }
                other => Ok(other),
            });
            match read {
                Ok(Some(file)) => all.push(file),
                Ok(None) => {}
                Err(e) if lenient => {
                    tracing::warn!(error = %e, "an account's credentials cannot be read; it is left out");
                }
                Err(e) => return Err(e),
            }
        }
        Ok(all)
    }
}

/// Refuses a directory another user could change: not owned by the user
/// this process runs as, or writable by group or others. The user is read
/// off a file made for the purpose (no `unsafe` call to `geteuid`).
#[cfg(unix)]
fn check_private(dir: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::MetadataExt;
    let meta = fs::symlink_metadata(dir).map_err(io_error(dir))?;
    let unsafe_dir = |reason| StoreError::Unsafe {
        path: dir.to_path_buf(),
        reason,
    };
    if meta.mode() & 0o022 != 0 {
        return Err(unsafe_dir("it is writable by its group or by others"));
    }
    let probe = dir.join(temp_name(".owner-probe"));
    let ours = private_file()
        .create_new(true)
        .open(&probe)
        .and_then(|f| f.metadata())
        .map(|m| m.uid());
    let _ = fs::remove_file(&probe);
    let ours = ours.map_err(io_error(dir))?;
    if meta.uid() != ours {
        return Err(unsafe_dir("it belongs to another user"));
    }
    Ok(())
}

/// Reads a JSON map file, empty when missing.
fn read_map<V: for<'de> Deserialize<'de>>(path: &Path) -> Result<BTreeMap<String, V>, StoreError> {
    Ok(read_json(path)?.unwrap_or_default())
}

impl Store for FileStore {
    fn save_credentials(&self, credentials: &Credentials) -> Result<(), StoreError> {
        let account = self.account(credentials.account_id.as_str())?;
        let _state = lock(&account.state);
        // One save at a time in this process and across processes, so that
        // orders are unique and increase.
        static SAVES: Mutex<()> = Mutex::new(());
        let _saves = lock(&SAVES);
        let _file = lock::wait_lock(&self.inner.accounts_lock)?;
        let file = CredentialsFile {
            order: self.last_order()? + 1,
            credentials: credentials.clone(),
        };
        let path = account.dir.join(CREDENTIALS);
        let bytes = to_json(&path, &file)?;
        self.create(&account)?;
        replace_file(&account.dir, CREDENTIALS, &bytes)
    }

    fn load_credentials(&self, account_id: &str) -> Result<Option<Credentials>, StoreError> {
        let account = self.account(account_id)?;
        let path = account.dir.join(CREDENTIALS);
        let Some(file) = read_json::<CredentialsFile>(&path)? else {
            return Ok(None);
        };
        if file.credentials.account_id != account_id {
            return Err(corrupt(&path, "belongs to another account"));
        }
        Ok(Some(file.credentials))
    }

    fn accounts(&self) -> Result<Vec<Credentials>, StoreError> {
        let mut all = self.all_credentials(true)?;
        all.sort_by(|a, b| {
            b.order
                .cmp(&a.order)
                .then(b.credentials.saved_at_ms.cmp(&a.credentials.saved_at_ms))
                .then_with(|| a.credentials.account_id.cmp(&b.credentials.account_id))
        });
        Ok(all.into_iter().map(|file| file.credentials).collect())
    }

    fn remove_account(&self, account_id: &str) -> Result<(), StoreError> {
        let account = self.account(account_id)?;
        let mut state = lock(&account.state);
        if !account.dir.is_dir() {
            state.window = None;
            state.inbox = None;
            return Ok(());
        }
        // Refuse while a poller runs: it would recreate what is removed.
        let poller = lock::try_lock(account.dir.join(POLLER_LOCK), account_id)?;
        // Windows cannot move or delete a file it holds open.
        #[cfg(not(unix))]
        drop(poller);
        // Move the directory aside first (atomic), so a crash or an error
        // while deleting never leaves half an account behind.
        let accounts = &self.inner.accounts;
        let dir_name = account.dir.file_name().map(|n| n.to_string_lossy());
        let trash = accounts.join(temp_name(&format!(
            "removed.{}",
            dir_name.unwrap_or_default()
        )));
        fs::rename(&account.dir, &trash).map_err(io_error(&account.dir))?;
        state.window = None;
        state.inbox = None;
        sync_dir(accounts)?;
        if let Err(error) = fs::remove_dir_all(&trash) {
            tracing::warn!(
                path = %trash.display(),
                %error,
                "could not delete a removed account's files"
            );
        }
        #[cfg(unix)]
        drop(poller);
        Ok(())
    }

    fn load_cursor(&self, account_id: &str) -> Result<Option<String>, StoreError> {
        let account = self.account(account_id)?;
        let file: Option<CursorFile> = read_json(&account.dir.join(CURSOR))?;
        Ok(file.map(|file| file.cursor))
    }

    fn commit_batch(
        &self,
        account_id: &str,
        entries: Vec<InboxEntry>,
        cursor: &str,
    ) -> Result<Vec<InboxEntry>, StoreError> {
        let account = self.account(account_id)?;
        let mut state = lock(&account.state);
        let AccountState { window, inbox } = &mut *state;
        let inbox_dir = account.dir.join(inbox::DIR);
        let cursor_path = account.dir.join(CURSOR);

        let window = Window::fresh(window, &account.dir.join(dedup::FILE))?;
        let mut fresh = Vec::new();
        // An empty poll needs no listing.
        if !entries.is_empty() {
            let index = Index::fresh(inbox, &inbox_dir)?;
            let mut known = HashSet::new();
            for entry in entries {
                if !window.contains(&entry.key)
                    && !index.contains(&entry.key)
                    && known.insert(entry.key.clone())
                {
                    fresh.push(entry);
                }
            }
        }

        let old: Option<CursorFile> = read_json(&cursor_path)?;
        let cursor_changed = old.is_none_or(|old| old.cursor != cursor);
        if fresh.is_empty() && !cursor_changed {
            return Ok(fresh);
        }
        self.create(&account)?;
        if !fresh.is_empty() {
            ensure_dir(&account.dir, &inbox_dir)?;
            let index = Index::fresh(inbox, &inbox_dir)?;
            let seq = index.next_seq();
            let name = inbox::batch_name(seq);
            let bytes = to_json(&inbox_dir.join(&name), &fresh)?;
            // The whole batch in one file: one write, one fsync.
            write_file(&inbox_dir, &name, &bytes)?;
            // The entries are durable before the cursor moves.
            sync_dir(&inbox_dir)?;
            index.add_batch(seq, fresh.iter().map(|e| e.key.clone()).collect());
        }
        if cursor_changed {
            let file = CursorFile {
                cursor: cursor.to_owned(),
            };
            replace_file(&account.dir, CURSOR, &to_json(&cursor_path, &file)?)?;
        }
        Ok(fresh)
    }

    fn pending(&self, account_id: &str) -> Result<Vec<InboxEntry>, StoreError> {
        let account = self.account(account_id)?;
        let mut state = lock(&account.state);
        let AccountState { window, inbox } = &mut *state;
        let inbox_dir = account.dir.join(inbox::DIR);
        let window = Window::fresh(window, &account.dir.join(dedup::FILE))?;
        let index = Index::fresh(inbox, &inbox_dir)?;
        let mut pending = Vec::new();
        let mut keys = HashSet::new();
        for slot in index.slots() {
            let Some(entries) = inbox::read(&inbox_dir, &slot)? else {
                continue;
            };
            let before = pending.len();
            for entry in entries {
                if !window.contains(&entry.key) && keys.insert(entry.key.clone()) {
                    pending.push(entry);
                }
            }
            if pending.len() == before {
                // Every entry acknowledged (the removal did not happen yet,
                // or did not survive a crash).
                index.remove(&inbox_dir, &slot)?;
            }
        }
        Ok(pending)
    }

    fn ack(&self, account_id: &str, key: &str) -> Result<(), StoreError> {
        let account = self.account(account_id)?;
        let mut state = lock(&account.state);
        let AccountState { window, inbox } = &mut *state;
        let log = account.dir.join(dedup::FILE);
        let window = Window::fresh(window, &log)?;
        self.create(&account)?;
        // The key is durable in the window before its file may go: a crash
        // in between leaves a file whose keys `pending` skips.
        let evicted = window.append(&account.dir, &log, key)?;
        let inbox_dir = account.dir.join(inbox::DIR);
        let index = Index::fresh(inbox, &inbox_dir)?;
        if let Some((slot, keys)) = index.file_of(key)
            && keys.iter().all(|k| window.contains(k))
        {
            let slot = slot.clone();
            index.remove(&inbox_dir, &slot)?;
        }
        // A key that falls out of the window while its file still holds
        // unacknowledged entries would come back as pending: rewrite such a
        // file without its acknowledged entries first (rare: it takes a
        // whole window of acks while one entry of the batch is unhandled).
        for old in evicted {
            let Some((slot, _)) = index.file_of(&old) else {
                continue;
            };
            let slot = slot.clone();
            let Some(entries) = inbox::read(&inbox_dir, &slot)? else {
                continue;
            };
            let left: Vec<InboxEntry> = entries
                .into_iter()
                .filter(|e| e.key != old && !window.contains(&e.key))
                .collect();
            if left.is_empty() {
                index.remove(&inbox_dir, &slot)?;
                continue;
            }
            let path = inbox_dir.join(&slot.name);
            let new_slot = inbox::Slot::batch(slot.seq);
            replace_file(&inbox_dir, &new_slot.name, &to_json(&path, &left)?)?;
            if new_slot.name != slot.name {
                index.remove(&inbox_dir, &slot)?;
            }
            index.replace(&new_slot, left.into_iter().map(|e| e.key).collect());
        }
        Ok(())
    }

    fn seen(&self, account_id: &str, key: &str) -> Result<bool, StoreError> {
        let account = self.account(account_id)?;
        let mut state = lock(&account.state);
        let AccountState { window, inbox } = &mut *state;
        let window = Window::fresh(window, &account.dir.join(dedup::FILE))?;
        if window.contains(key) {
            return Ok(true);
        }
        let index = Index::fresh(inbox, &account.dir.join(inbox::DIR))?;
        Ok(index.contains(key))
    }

    fn save_context_token(
        &self,
        account_id: &str,
        user_id: &str,
        token: &ContextToken,
    ) -> Result<(), StoreError> {
        let account = self.account(account_id)?;
        let _state = lock(&account.state);
        let path = account.dir.join(CONTEXT_TOKENS);
        let mut tokens: BTreeMap<String, ContextToken> = read_map(&path)?;
        if tokens.get(user_id) == Some(token) {
            return Ok(());
        }
        tokens.insert(user_id.to_owned(), token.clone());
        let bytes = to_json(&path, &tokens)?;
        self.create(&account)?;
        replace_file(&account.dir, CONTEXT_TOKENS, &bytes)
    }

    fn save_context_tokens(
        &self,
        account_id: &str,
        tokens: &[(String, ContextToken)],
    ) -> Result<(), StoreError> {
        if tokens.is_empty() {
            return Ok(());
        }
        let account = self.account(account_id)?;
        let _state = lock(&account.state);
        let path = account.dir.join(CONTEXT_TOKENS);
        let mut stored: BTreeMap<String, ContextToken> = read_map(&path)?;
        let mut changed = false;
        for (user_id, token) in tokens {
            if stored.get(user_id) != Some(token) {
                stored.insert(user_id.clone(), token.clone());
                changed = true;
            }
        }
        if !changed {
            return Ok(());
        }
        let bytes = to_json(&path, &stored)?;
        self.create(&account)?;
        replace_file(&account.dir, CONTEXT_TOKENS, &bytes)
    }

    fn load_context_token(
        &self,
        account_id: &str,
        user_id: &str,
    ) -> Result<Option<ContextToken>, StoreError> {
        Ok(self.context_tokens(account_id)?.remove(user_id))
    }

    fn context_tokens(
        &self,
        account_id: &str,
    ) -> Result<BTreeMap<String, ContextToken>, StoreError> {
        let account = self.account(account_id)?;
        read_map(&account.dir.join(CONTEXT_TOKENS))
    }

    fn clear_context_tokens(&self, account_id: &str) -> Result<(), StoreError> {
        let account = self.account(account_id)?;
        let _state = lock(&account.state);
        remove_file(&account.dir, CONTEXT_TOKENS)
    }

    fn save_typing_ticket(
        &self,
        account_id: &str,
        user_id: &str,
        ticket: &TypingTicket,
    ) -> Result<(), StoreError> {
        let account = self.account(account_id)?;
        let _state = lock(&account.state);
        let path = account.dir.join(TYPING);
        let mut tickets: BTreeMap<String, TypingTicket> = read_map(&path)?;
        if tickets.get(user_id) == Some(ticket) {
            return Ok(());
        }
        tickets.insert(user_id.to_owned(), ticket.clone());
        let bytes = to_json(&path, &tickets)?;
        self.create(&account)?;
        replace_file(&account.dir, TYPING, &bytes)
    }

    fn load_typing_ticket(
        &self,
        account_id: &str,
        user_id: &str,
    ) -> Result<Option<TypingTicket>, StoreError> {
        let account = self.account(account_id)?;
        let mut tickets: BTreeMap<String, TypingTicket> = read_map(&account.dir.join(TYPING))?;
        Ok(tickets.remove(user_id))
    }

    fn lock_poller(&self, account_id: &str) -> Result<PollerLock, StoreError> {
        let account = self.account(account_id)?;
        let _state = lock(&account.state);
        self.create(&account)?;
        let held = lock::try_lock(account.dir.join(POLLER_LOCK), account_id)?;
        // Leftovers of writes a crash interrupted. The lock's holder is the
        // only writer of the cursor, the deduplication log and the inbox, so
        // their temporary files go whoever wrote them; others only once
        // their writer is gone.
        sweep_temps(&account.dir, |target| {
            target == CURSOR || target == dedup::FILE
        });
        sweep_temps(&account.dir.join(inbox::DIR), |_| true);
        Ok(held)
    }
}
