//! Exclusive locks on files: the poller lock of an account (held while a
//! poller runs) and the short store-wide lock that orders credential saves.
//!
//! The operating system's lock (`flock` on unix, `LockFileEx` on Windows)
//! keeps other processes out. A process-wide set of held paths keeps other
//! stores of this process out too, whatever the platform does with two locks
//! taken by one process.

use std::collections::HashSet;
use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

use super::durable::{io_error, private_file};
use crate::store::{PollerLock, StoreError};

fn held() -> MutexGuard<'static, HashSet<PathBuf>> {
    static HELD: OnceLock<Mutex<HashSet<PathBuf>>> = OnceLock::new();
    HELD.get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
}

fn open(path: &Path) -> Result<File, StoreError> {
    private_file()
        .read(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(io_error(path))
}

/// A held lock: the locked file and its entry in the process-wide set.
#[derive(Debug)]
struct Held {
    file: File,
    path: PathBuf,
}

impl Drop for Held {
    fn drop(&mut self) {
        // Closing the file would release it too; unlocking first makes the
        // order explicit: the OS lock goes before the in-process entry.
        let _ = self.file.unlock();
        held().remove(&self.path);
    }
}

/// Takes the lock on `path` (created if missing, 0600), or
/// [`StoreError::Locked`] naming `account` when a poller anywhere holds it.
///
/// `path` must be absolute and canonical, so that two stores opened on the
/// same directory through different paths agree.
pub(super) fn try_lock(path: PathBuf, account: &str) -> Result<PollerLock, StoreError> {
    let locked = || StoreError::Locked {
        account: account.to_owned(),
    };
    let mut held = held();
    if held.contains(&path) {
        return Err(locked());
    }
    let file = open(&path)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => return Err(locked()),
        Err(TryLockError::Error(e)) => return Err(io_error(&path)(e)),
    }
    held.insert(path.clone());
    Ok(PollerLock::new(Held { file, path }))
}

/// Waits for the lock on `path`; released when the file is dropped. For
/// short critical sections shared by every store on a directory.
pub(super) fn wait_lock(path: &Path) -> Result<File, StoreError> {
    let file = open(path)?;
    file.lock().map_err(io_error(path))?;
    Ok(file)
}
