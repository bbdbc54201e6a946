//! Locking helpers shared by every module.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks a mutex, taking it over from a panicked holder (every value kept
/// behind these locks stays consistent between statements).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
