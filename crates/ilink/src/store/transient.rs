//! Store errors told apart: passing ones (a database another process holds
//! locked, a dropped connection, a serialization failure) are retried inside
//! the SDK for a bounded time; the rest are reported at once.

use std::future::Future;
use std::time::Duration;

use super::StoreError;

/// How long the SDK retries a store call that fails for a passing reason
/// before it gives up: well past what a stalled process (paused, frozen,
/// starved) can hold a lock for in practice, and past SQLite's own 10 s
/// wait for a lock.
pub const STORE_RETRY_FOR: Duration = Duration::from_secs(5 * 60);

/// The first wait between attempts; it doubles up to [`MAX_WAIT`].
const FIRST_WAIT: Duration = Duration::from_millis(50);
const MAX_WAIT: Duration = Duration::from_secs(2);

impl StoreError {
    /// Whether the failure may pass by itself, so the same call can be made
    /// again: SQLite's `SQLITE_BUSY` and `SQLITE_LOCKED` (another process
    /// holds the write lock), a PostgreSQL connection that failed or was
    /// closed, a serialization failure or a deadlock, a pool that timed
    /// out. A lost lease, corrupt data, a newer schema or an unsafe
    /// directory are not.
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::Database(source) => database_is_transient(&**source),
            _ => false,
        }
    }
}

fn database_is_transient(source: &(dyn std::error::Error + Send + Sync + 'static)) -> bool {
    if let Some(e) = source.downcast_ref::<rusqlite::Error>() {
        return matches!(
            e.sqlite_error_code(),
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
        );
    }
    #[cfg(feature = "postgres")]
    {
        if let Some(e) = source.downcast_ref::<tokio_postgres::Error>() {
            return postgres_is_transient(e);
        }
        if let Some(e) = source.downcast_ref::<deadpool_postgres::PoolError>() {
            return match e {
                deadpool_postgres::PoolError::Backend(e) => postgres_is_transient(e),
                deadpool_postgres::PoolError::Closed => false,
                _ => true,
            };
        }
    }
    false
}

#[cfg(feature = "postgres")]
fn postgres_is_transient(e: &tokio_postgres::Error) -> bool {
    use tokio_postgres::error::SqlState;
    match e.code() {
        Some(code) => {
            *code == SqlState::T_R_SERIALIZATION_FAILURE
                || *code == SqlState::T_R_DEADLOCK_DETECTED
                || *code == SqlState::LOCK_NOT_AVAILABLE
                || *code == SqlState::ADMIN_SHUTDOWN
                || *code == SqlState::CRASH_SHUTDOWN
                || *code == SqlState::CANNOT_CONNECT_NOW
                || code.code().starts_with("08")
        }
        // No SQL state: the connection itself failed (closed, reset, an
        // I/O error).
        None => true,
    }
}

/// Runs `call` until it succeeds, fails for a reason that does not pass, or
/// [`STORE_RETRY_FOR`] has gone by, waiting between attempts (50 ms
/// doubling to 2 s). Only this caller waits: other conversations' calls go
/// on.
pub(crate) async fn retry_transient<T, F, Fut>(what: &str, mut call: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, StoreError>>,
{
    let started = tokio::time::Instant::now();
    let mut wait = FIRST_WAIT;
    let mut attempts = 0u32;
    loop {
        match call().await {
            Ok(v) => {
                if attempts > 0 {
                    tracing::info!(what, attempts, "the store answered again");
                }
                return Ok(v);
            }
            Err(e) if e.is_transient() && started.elapsed() + wait < STORE_RETRY_FOR => {
                attempts += 1;
                if attempts == 1 || attempts.is_power_of_two() {
                    tracing::warn!(
                        what,
                        attempts,
                        error = %crate::Report::new(&e),
                        "the store failed for a passing reason; trying again"
                    );
                }
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(MAX_WAIT);
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn busy() -> StoreError {
        StoreError::Database(Box::new(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
            Some("database is locked".into()),
        )))
    }

    #[test]
    fn busy_and_locked_pass_the_rest_do_not() {
        assert!(busy().is_transient());
        let locked = StoreError::Database(Box::new(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_LOCKED),
            None,
        )));
        assert!(locked.is_transient());
        let full = StoreError::Database(Box::new(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
            None,
        )));
        assert!(!full.is_transient());
        assert!(
            !StoreError::LeaseLost {
                account: "a".into()
            }
            .is_transient()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn retries_until_the_store_answers() {
        let mut left = 5;
        let got = retry_transient("test", || {
            left -= 1;
            let r = if left > 0 { Err(busy()) } else { Ok(7) };
            async move { r }
        })
        .await
        .unwrap();
        assert_eq!(got, 7);
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_after_the_bound_and_at_once_on_the_rest() {
        let started = tokio::time::Instant::now();
        let e = retry_transient("test", || async { Err::<(), _>(busy()) })
            .await
            .unwrap_err();
        assert!(e.is_transient());
        assert!(started.elapsed() <= STORE_RETRY_FOR);
        assert!(started.elapsed() >= STORE_RETRY_FOR - MAX_WAIT * 2);
        let mut calls = 0;
        let e = retry_transient("test", || {
            calls += 1;
            async {
                Err::<(), _>(StoreError::LeaseLost {
                    account: "a".into(),
                })
            }
        })
        .await
        .unwrap_err();
        assert!(matches!(e, StoreError::LeaseLost { .. }));
        assert_eq!(calls, 1);
    }
}
