//! Retry delays: exponential with jitter and a cap.

use std::time::Duration;

/// How long to wait after consecutive failures.
///
/// The defaults follow the official client's pace (2 s after a failure,
/// 30 s once failures persist): 2 s, 4 s, 8 s, 16 s, then 30 s, each with
/// ±20 % jitter so that many bots do not retry in lockstep. A success resets
/// it.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct Backoff {
    /// The first delay.
    pub initial: Duration,
    /// The longest delay.
    pub max: Duration,
    /// Jitter as a fraction of the delay (0.2 = ±20 %).
    pub jitter: f64,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(2),
            max: Duration::from_secs(30),
            jitter: 0.2,
        }
    }
}

impl Backoff {
    /// A backoff from `initial` doubling up to `max`.
    pub fn new(initial: Duration, max: Duration) -> Self {
        Self {
            initial,
            max,
            ..Self::default()
        }
    }

    /// Sets the jitter fraction (clamped to 0..=1).
    #[must_use]
    pub fn with_jitter(mut self, jitter: f64) -> Self {
        self.jitter = jitter.clamp(0.0, 1.0);
        self
    }

    /// The delay after `failures` consecutive failures (1 = the first), with
    /// `unit` in `0.0..1.0` choosing where in the jitter range it falls.
    /// Pure, for tests; [`delay`](Self::delay) draws `unit` at random.
    pub fn delay_with(&self, failures: u32, unit: f64) -> Duration {
        if failures == 0 {
            return Duration::ZERO;
        }
        let exp = failures.saturating_sub(1).min(30);
        let base = self
            .initial
            .saturating_mul(1u32 << exp.min(31))
            .min(self.max);
        let factor = 1.0 + self.jitter * (unit.clamp(0.0, 1.0) * 2.0 - 1.0);
        base.mul_f64(factor.max(0.0))
            .min(self.max.mul_f64(1.0 + self.jitter))
    }

    /// The delay after `failures` consecutive failures, with random jitter.
    pub fn delay(&self, failures: u32) -> Duration {
        self.delay_with(failures, ilink_crypto::random::unit())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_to_the_cap() {
        let b = Backoff::default();
        let mid: Vec<u64> = (1..=7).map(|n| b.delay_with(n, 0.5).as_secs()).collect();
        assert_eq!(mid, [2, 4, 8, 16, 30, 30, 30]);
        assert_eq!(b.delay_with(0, 0.5), Duration::ZERO);
        assert_eq!(b.delay_with(1, 0.0), Duration::from_millis(1600));
        assert_eq!(b.delay_with(1, 1.0), Duration::from_millis(2400));
        assert!(b.delay_with(u32::MAX, 1.0) <= Duration::from_secs(36));
    }

    #[test]
    fn no_jitter() {
        let b = Backoff::new(Duration::from_millis(10), Duration::from_millis(50)).with_jitter(0.0);
        let d: Vec<u128> = (1..=4).map(|n| b.delay_with(n, 0.9).as_millis()).collect();
        assert_eq!(d, [10, 20, 40, 50]);
    }
}
