//! How often and how fast a failed CDN upload is tried again.

use std::time::Duration;

/// Attempts and backoff for CDN uploads.
///
/// The default makes 3 attempts in all, waiting 200 ms and then 400 ms
/// between them (the official client makes 3 attempts back to back).
///
/// ```
/// use std::time::Duration;
/// use ilink_http::RetryPolicy;
///
/// let policy = RetryPolicy::default();
/// assert_eq!(policy.delay_after(1), Some(Duration::from_millis(200)));
/// assert_eq!(policy.delay_after(2), Some(Duration::from_millis(400)));
/// assert_eq!(policy.delay_after(3), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
}

impl RetryPolicy {
    /// `attempts` tries in all (at least 1), waiting `initial_backoff`
    /// after the first failure and doubling it after each further one, up to
    /// 5 s.
    pub const fn new(attempts: u32, initial_backoff: Duration) -> Self {
        Self {
            attempts: if attempts == 0 { 1 } else { attempts },
            initial_backoff,
            max_backoff: Duration::from_secs(5),
        }
    }

    /// A single attempt, no retry.
    pub const fn never() -> Self {
        Self::new(1, Duration::ZERO)
    }

    /// Caps the wait between two attempts.
    #[must_use]
    pub const fn with_max_backoff(mut self, max_backoff: Duration) -> Self {
        self.max_backoff = max_backoff;
        self
    }

    /// How many attempts are made in all.
    pub const fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The wait before the next attempt once `failed` attempts have failed,
    /// or `None` when no attempt is left.
    pub fn delay_after(&self, failed: u32) -> Option<Duration> {
        if failed == 0 || failed >= self.attempts {
            return None;
        }
        let factor = 1u32.checked_shl(failed - 1).unwrap_or(u32::MAX);
        Some(
            self.initial_backoff
                .saturating_mul(factor)
                .min(self.max_backoff),
        )
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self::new(3, Duration::from_millis(200))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_and_caps() {
        let policy =
            RetryPolicy::new(6, Duration::from_secs(1)).with_max_backoff(Duration::from_secs(3));
        let delays: Vec<_> = (1..=6).map(|n| policy.delay_after(n)).collect();
        assert_eq!(
            delays,
            [
                Some(Duration::from_secs(1)),
                Some(Duration::from_secs(2)),
                Some(Duration::from_secs(3)),
                Some(Duration::from_secs(3)),
                Some(Duration::from_secs(3)),
                None,
            ]
        );
        assert_eq!(policy.delay_after(0), None);
    }

    #[test]
    fn at_least_one_attempt() {
        assert_eq!(RetryPolicy::new(0, Duration::ZERO).attempts(), 1);
        assert_eq!(RetryPolicy::never().delay_after(1), None);
        let huge = RetryPolicy::new(u32::MAX, Duration::from_secs(1));
        assert_eq!(huge.delay_after(100), Some(Duration::from_secs(5)));
    }
}
