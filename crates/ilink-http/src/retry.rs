//! The workspace's one retry type: exponential backoff with jitter, a cap,
//! an optional number of attempts and an optional deadline.

use std::time::Duration;

/// How often and how fast a failed operation is tried again.
///
/// The delay after `n` failures in a row is `initial · 2ⁿ⁻¹`, capped at
/// `max`, then moved by up to ±`jitter` of itself at random so that many
/// clients do not retry in lockstep. An operation stops being retried when
/// its attempts are used up or when the next attempt would start past its
/// deadline (counted from the first attempt). Used by CDN uploads
/// ([`TransportBuilder::upload_retry`](crate::TransportBuilder::upload_retry))
/// and, in `ilink`, by polls and sends.
///
/// ```
/// use std::time::Duration;
/// use ilink_http::Retry;
///
/// let uploads = Retry::new(Duration::from_millis(200), Duration::from_secs(5))
///     .with_attempts(3)
///     .with_jitter(0.0);
/// assert_eq!(uploads.next(1, Duration::ZERO), Some(Duration::from_millis(200)));
/// assert_eq!(uploads.next(2, Duration::ZERO), Some(Duration::from_millis(400)));
/// assert_eq!(uploads.next(3, Duration::ZERO), None); // attempts used up
///
/// let within = uploads.with_deadline(Duration::from_millis(300));
/// assert_eq!(within.next(2, Duration::from_millis(250)), None); // past the deadline
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Retry {
    initial: Duration,
    max: Duration,
    jitter: f64,
    /// Attempts in all; `u32::MAX` is unbounded.
    attempts: u32,
    deadline: Option<Duration>,
}

impl Retry {
    /// Unbounded attempts, waiting `initial` after the first failure and
    /// doubling up to `max`, with ±20 % jitter and no deadline.
    #[must_use]
    pub const fn new(initial: Duration, max: Duration) -> Self {
        Self {
            initial,
            max,
            jitter: 0.2,
            attempts: u32::MAX,
            deadline: None,
        }
    }

    /// A single attempt: never retried.
    #[must_use]
    pub const fn never() -> Self {
        Self::new(Duration::ZERO, Duration::ZERO).with_attempts(1)
    }

    /// At most `attempts` attempts in all (at least 1).
    #[must_use]
    pub const fn with_attempts(mut self, attempts: u32) -> Self {
        self.attempts = if attempts == 0 { 1 } else { attempts };
        self
    }

    /// No attempt starts later than `deadline` after the first.
    #[must_use]
    pub const fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Jitter as a fraction of the delay (clamped to 0..=1; 0.2 = ±20 %).
    #[must_use]
    pub fn with_jitter(mut self, jitter: f64) -> Self {
        self.jitter = if jitter.is_nan() {
            0.0
        } else {
            jitter.clamp(0.0, 1.0)
        };
        self
    }

    /// The attempts in all, `None` when unbounded.
    #[must_use]
    pub const fn max_attempts(&self) -> Option<u32> {
        if self.attempts == u32::MAX {
            None
        } else {
            Some(self.attempts)
        }
    }

    /// The deadline, if any.
    #[must_use]
    pub const fn deadline(&self) -> Option<Duration> {
        self.deadline
    }

    /// The wait before the next attempt once `failed` attempts failed and
    /// `elapsed` passed since the first began, or `None` when no attempt is
    /// left (attempts used up, or it would start past the deadline).
    #[must_use]
    pub fn next(&self, failed: u32, elapsed: Duration) -> Option<Duration> {
        if failed == 0 || failed >= self.attempts {
            return None;
        }
        let delay = self.delay(failed);
        match self.deadline {
            Some(d) if elapsed.saturating_add(delay) > d => None,
            _ => Some(delay),
        }
    }

    /// The delay after `failures` failures in a row (1 = the first), with
    /// random jitter; zero for none. Attempts and deadline are the caller's:
    /// see [`next`](Self::next).
    #[must_use]
    pub fn delay(&self, failures: u32) -> Duration {
        self.delay_with(failures, ilink_crypto::random::unit())
    }

    /// [`delay`](Self::delay) with `unit` in `0.0..=1.0` choosing where in
    /// the jitter range it falls (0.5 is the middle): pure, for tests.
    #[must_use]
    pub fn delay_with(&self, failures: u32, unit: f64) -> Duration {
        if failures == 0 {
            return Duration::ZERO;
        }
        let exp = (failures - 1).min(31);
        let base = self.initial.saturating_mul(1u32 << exp).min(self.max);
        let unit = if unit.is_nan() {
            0.5
        } else {
            unit.clamp(0.0, 1.0)
        };
        let factor = 1.0 + self.jitter * (unit * 2.0 - 1.0);
        base.mul_f64(factor.max(0.0))
            .min(self.max.mul_f64(1.0 + self.jitter))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn doubles_to_the_cap_with_jitter_around_it() {
        let b = Retry::new(S(2), S(30));
        let mid: Vec<u64> = (1..=7).map(|n| b.delay_with(n, 0.5).as_secs()).collect();
        assert_eq!(mid, [2, 4, 8, 16, 30, 30, 30]);
        assert_eq!(b.delay_with(0, 0.5), Duration::ZERO);
        assert_eq!(b.delay_with(1, 0.0), Duration::from_millis(1600));
        assert_eq!(b.delay_with(1, 1.0), Duration::from_millis(2400));
        assert!(b.delay_with(u32::MAX, 1.0) <= S(36));
        for _ in 0..100 {
            let d = b.delay(1);
            assert!((Duration::from_millis(1600)..=Duration::from_millis(2400)).contains(&d));
        }
    }

    #[test]
    fn no_jitter_is_exact() {
        let b = Retry::new(Duration::from_millis(10), Duration::from_millis(50)).with_jitter(0.0);
        let d: Vec<u128> = (1..=4).map(|n| b.delay(n).as_millis()).collect();
        assert_eq!(d, [10, 20, 40, 50]);
    }

    #[test]
    fn attempts_bound_next() {
        let r = Retry::new(S(1), S(3)).with_attempts(6).with_jitter(0.0);
        let delays: Vec<_> = (1..=6).map(|n| r.next(n, Duration::ZERO)).collect();
        assert_eq!(
            delays,
            [
                Some(S(1)),
                Some(S(2)),
                Some(S(3)),
                Some(S(3)),
                Some(S(3)),
                None
            ]
        );
        assert_eq!(r.next(0, Duration::ZERO), None);
        assert_eq!(r.max_attempts(), Some(6));
        assert_eq!(Retry::new(S(1), S(1)).max_attempts(), None);
    }

    #[test]
    fn at_least_one_attempt() {
        assert_eq!(
            Retry::new(S(1), S(1)).with_attempts(0).max_attempts(),
            Some(1)
        );
        assert_eq!(Retry::never().next(1, Duration::ZERO), None);
        let huge = Retry::new(S(1), S(5)).with_jitter(0.0);
        assert_eq!(huge.next(100, Duration::ZERO), Some(S(5)));
    }

    #[test]
    fn the_deadline_stops_an_attempt_that_would_start_past_it() {
        let r = Retry::new(S(1), S(10)).with_jitter(0.0).with_deadline(S(5));
        assert_eq!(r.next(1, Duration::ZERO), Some(S(1)));
        // 2 s in, the next wait is 2 s: it starts at 4 s, inside.
        assert_eq!(r.next(2, S(2)), Some(S(2)));
        // 4 s in, the next wait is 4 s: 8 s is past 5 s.
        assert_eq!(r.next(3, S(4)), None);
        assert_eq!(r.deadline(), Some(S(5)));
    }

    #[test]
    fn nonsense_jitter_is_tamed() {
        let r = Retry::new(S(1), S(1)).with_jitter(f64::NAN);
        assert_eq!(r.delay_with(1, f64::NAN), S(1));
        let r = Retry::new(S(1), S(1)).with_jitter(7.0);
        assert!(r.delay_with(1, 1.0) <= S(2));
    }
}
