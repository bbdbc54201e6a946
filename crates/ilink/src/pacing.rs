//! Per-account send pacing: a minimum gap between sends and a burst limit,
//! so chunked and media sends never trip the server's rate limit themselves.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// How fast one account may send.
///
/// The server penalises about 3 sends within a second (`ret -2`, and every
/// attempt during the penalty prolongs it). The default allows a burst of 2
/// and then one send every 700 ms, staying under that.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Pacing {
    /// The minimum gap between two sends once the burst is used.
    pub min_gap: Duration,
    /// Sends allowed back to back before the gap applies.
    pub burst: u32,
}

impl Default for Pacing {
    fn default() -> Self {
        Self {
            min_gap: Duration::from_millis(700),
            burst: 2,
        }
    }
}

impl Pacing {
    /// Pacing with a gap and a burst.
    pub fn new(min_gap: Duration, burst: u32) -> Self {
        Self {
            min_gap,
            burst: burst.max(1),
        }
    }

    /// No pacing at all (tests, benchmarks, servers without the limit).
    pub fn unlimited() -> Self {
        Self {
            min_gap: Duration::ZERO,
            burst: u32::MAX,
        }
    }
}

/// A token bucket (`burst` tokens, one more every `min_gap`) and the
/// server's penalty, behind one lock.
pub(crate) struct Pacer {
    pacing: Pacing,
    state: Mutex<PacerState>,
}

#[derive(Default)]
struct PacerState {
    /// Tokens left and when they were counted (possibly in the future: a
    /// slot an earlier caller reserved).
    bucket: Option<(f64, Instant)>,
    /// While the server's penalty runs, no send goes out.
    penalty_until: Option<Instant>,
}

impl Pacer {
    pub(crate) fn new(pacing: Pacing) -> Self {
        Self {
            pacing,
            state: Mutex::new(PacerState::default()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, PacerState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The server throttled: hold every send until `until`.
    pub(crate) fn penalise(&self, until: Instant) {
        let mut state = self.state();
        state.penalty_until = Some(state.penalty_until.map_or(until, |old| old.max(until)));
    }

    /// When the current penalty ends, if one runs.
    pub(crate) fn penalty_until(&self) -> Option<Instant> {
        self.state().penalty_until.filter(|t| *t > Instant::now())
    }

    /// Reserves a send slot and returns when to send.
    pub(crate) fn reserve(&self) -> Instant {
        let pacing = self.pacing;
        let now = Instant::now();
        if pacing.min_gap.is_zero() {
            return now;
        }
        let burst = f64::from(pacing.burst);
        let gap = pacing.min_gap.as_secs_f64();
        let mut state = self.state();
        let (mut tokens, last) = state.bucket.unwrap_or((burst, now));
        tokens = (tokens + now.saturating_duration_since(last).as_secs_f64() / gap).min(burst);
        if tokens >= 1.0 && last <= now {
            tokens -= 1.0;
            state.bucket = Some((tokens, now));
            now
        } else {
            // `last` may lie in the future: the slot reserved by an earlier
            // caller still waiting. Queue behind it.
            let at = last.max(now) + Duration::from_secs_f64((1.0 - tokens.min(1.0)) * gap);
            state.bucket = Some((0.0, at));
            at
        }
    }

    /// Waits for a send slot.
    pub(crate) async fn acquire(&self) {
        let at = self.reserve();
        // Sleeping until "now" still waits for the timer's next 1 ms tick:
        // only sleep when there is something to wait for.
        if at > Instant::now() {
            tokio::time::sleep_until(at).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn burst_then_gap() {
        let pacer = Pacer::new(Pacing::new(Duration::from_millis(100), 2));
        let start = Instant::now();
        let mut at = Vec::new();
        for _ in 0..5 {
            pacer.acquire().await;
            at.push(start.elapsed().as_millis());
        }
        assert_eq!(at, [0, 0, 100, 200, 300]);
        // After a rest the burst refills.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let t = Instant::now();
        pacer.acquire().await;
        pacer.acquire().await;
        assert_eq!(t.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_reservations_queue_up() {
        let pacer = Pacer::new(Pacing::new(Duration::from_millis(100), 1));
        let start = Instant::now();
        let slots: Vec<u128> = (0..4)
            .map(|_| pacer.reserve().duration_since(start).as_millis())
            .collect();
        assert_eq!(slots, [0, 100, 200, 300]);
    }

    #[tokio::test(start_paused = true)]
    async fn unlimited_never_waits() {
        let pacer = Pacer::new(Pacing::unlimited());
        let t = Instant::now();
        for _ in 0..100 {
            pacer.acquire().await;
        }
        assert_eq!(t.elapsed(), Duration::ZERO);
    }
}
