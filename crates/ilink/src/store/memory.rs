//! An in-memory [`Store`]: everything is lost when the process ends.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use ilink_proto::ContextToken;

use super::{Credentials, DEDUP_WINDOW, InboxEntry, PollerLock, Store, StoreError, TypingTicket};

/// A [`Store`] in memory, for tests and bots that need nothing to survive a
/// restart. Cheap to clone; clones share the data.
#[derive(Clone, Default)]
pub struct MemoryStore {
    inner: Arc<Mutex<Inner>>,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MemoryStore")
    }
}

#[derive(Default)]
struct Inner {
    accounts: HashMap<String, AccountData>,
    /// Save order, for "most recent first".
    clock: u64,
    locked: HashSet<String>,
}

#[derive(Default)]
struct AccountData {
    credentials: Option<(u64, Credentials)>,
    cursor: Option<String>,
    inbox: Vec<InboxEntry>,
    dedup: VecDeque<String>,
    dedup_set: HashSet<String>,
    contexts: BTreeMap<String, ContextToken>,
    typing: HashMap<String, TypingTicket>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

struct MemoryLock {
    store: MemoryStore,
    account: String,
}

impl Drop for MemoryLock {
    fn drop(&mut self) {
        self.store.lock().locked.remove(&self.account);
    }
}

impl Store for MemoryStore {
    fn save_credentials(&self, credentials: &Credentials) -> Result<(), StoreError> {
        let mut inner = self.lock();
        inner.clock += 1;
        let order = inner.clock;
        inner
            .accounts
            .entry(credentials.account_id.to_string())
            .or_default()
            .credentials = Some((order, credentials.clone()));
        Ok(())
    }

    fn load_credentials(&self, account_id: &str) -> Result<Option<Credentials>, StoreError> {
        Ok(self
            .lock()
            .accounts
            .get(account_id)
            .and_then(|a| a.credentials.as_ref().map(|(_, c)| c.clone())))
    }

    fn accounts(&self) -> Result<Vec<Credentials>, StoreError> {
        let inner = self.lock();
        let mut all: Vec<(u64, Credentials)> = inner
            .accounts
            .values()
            .filter_map(|a| a.credentials.clone())
            .collect();
        all.sort_by_key(|a| std::cmp::Reverse(a.0));
        Ok(all.into_iter().map(|(_, c)| c).collect())
    }

    fn remove_account(&self, account_id: &str) -> Result<(), StoreError> {
        let mut inner = self.lock();
        // Like the file store: a running poller would write the account back.
        if inner.locked.contains(account_id) {
            return Err(StoreError::Locked {
                account: account_id.to_owned(),
            });
        }
        inner.accounts.remove(account_id);
        Ok(())
    }

    fn load_cursor(&self, account_id: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .lock()
            .accounts
            .get(account_id)
            .and_then(|a| a.cursor.clone()))
    }

    fn commit_batch(
        &self,
        account_id: &str,
        entries: Vec<InboxEntry>,
        cursor: &str,
    ) -> Result<Vec<InboxEntry>, StoreError> {
        let mut inner = self.lock();
        let account = inner.accounts.entry(account_id.to_owned()).or_default();
        let mut fresh = Vec::new();
        for entry in entries {
            let known = account.dedup_set.contains(&entry.key)
                || account.inbox.iter().any(|e| e.key == entry.key)
                || fresh.iter().any(|e: &InboxEntry| e.key == entry.key);
            if !known {
                fresh.push(entry);
            }
        }
        account.inbox.extend(fresh.iter().cloned());
        account.cursor = Some(cursor.to_owned());
        Ok(fresh)
    }

    fn pending(&self, account_id: &str) -> Result<Vec<InboxEntry>, StoreError> {
        Ok(self
            .lock()
            .accounts
            .get(account_id)
            .map(|a| a.inbox.clone())
            .unwrap_or_default())
    }

    fn ack(&self, account_id: &str, key: &str) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let account = inner.accounts.entry(account_id.to_owned()).or_default();
        account.inbox.retain(|e| e.key != key);
        if account.dedup_set.insert(key.to_owned()) {
            account.dedup.push_back(key.to_owned());
            while account.dedup.len() > DEDUP_WINDOW {
                if let Some(old) = account.dedup.pop_front() {
                    account.dedup_set.remove(&old);
                }
            }
        }
        Ok(())
    }

    fn seen(&self, account_id: &str, key: &str) -> Result<bool, StoreError> {
        Ok(self
            .lock()
            .accounts
            .get(account_id)
            .is_some_and(|a| a.dedup_set.contains(key) || a.inbox.iter().any(|e| e.key == key)))
    }

    fn save_context_token(
        &self,
        account_id: &str,
        user_id: &str,
        token: &ContextToken,
    ) -> Result<(), StoreError> {
        self.lock()
            .accounts
            .entry(account_id.to_owned())
            .or_default()
            .contexts
            .insert(user_id.to_owned(), token.clone());
        Ok(())
    }

    fn load_context_token(
        &self,
        account_id: &str,
        user_id: &str,
    ) -> Result<Option<ContextToken>, StoreError> {
        Ok(self
            .lock()
            .accounts
            .get(account_id)
            .and_then(|a| a.contexts.get(user_id).cloned()))
    }

    fn context_tokens(
        &self,
        account_id: &str,
    ) -> Result<BTreeMap<String, ContextToken>, StoreError> {
        Ok(self
            .lock()
            .accounts
            .get(account_id)
            .map(|a| a.contexts.clone())
            .unwrap_or_default())
    }

    fn clear_context_tokens(&self, account_id: &str) -> Result<(), StoreError> {
        if let Some(a) = self.lock().accounts.get_mut(account_id) {
            a.contexts.clear();
        }
        Ok(())
    }

    fn save_typing_ticket(
        &self,
        account_id: &str,
        user_id: &str,
        ticket: &TypingTicket,
    ) -> Result<(), StoreError> {
        self.lock()
            .accounts
            .entry(account_id.to_owned())
            .or_default()
            .typing
            .insert(user_id.to_owned(), ticket.clone());
        Ok(())
    }

    fn load_typing_ticket(
        &self,
        account_id: &str,
        user_id: &str,
    ) -> Result<Option<TypingTicket>, StoreError> {
        Ok(self
            .lock()
            .accounts
            .get(account_id)
            .and_then(|a| a.typing.get(user_id).cloned()))
    }

    fn lock_poller(&self, account_id: &str) -> Result<PollerLock, StoreError> {
        if !self.lock().locked.insert(account_id.to_owned()) {
            return Err(StoreError::Locked {
                account: account_id.to_owned(),
            });
        }
        Ok(PollerLock::new(MemoryLock {
            store: self.clone(),
            account: account_id.to_owned(),
        }))
    }
}
