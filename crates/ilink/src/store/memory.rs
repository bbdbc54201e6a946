//! [`MemoryStore`]: the SQLite store on an in-memory database.

use super::SqliteStore;

/// A store in memory, for tests and bots that need nothing to survive a
/// restart: a constructor of the [`SqliteStore`] on an in-memory database
/// (the very same code and semantics as on disk), not a type of its own.
///
/// ```
/// let store: ilink::SqliteStore = ilink::MemoryStore::new();
/// # let _ = store;
/// ```
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct MemoryStore;

impl MemoryStore {
    /// An empty store: [`SqliteStore::in_memory`]. Cheap to clone; clones
    /// share the data, and it is gone when the last one drops.
    #[allow(clippy::new_ret_no_self)]
    #[must_use]
    pub fn new() -> SqliteStore {
        SqliteStore::in_memory()
    }
}
