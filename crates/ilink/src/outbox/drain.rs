//! The runner's outbox drain: a task that sends what waits in the outbox
//! (what a crash left, what a passing failure holds back), retrying until
//! nothing does. It runs only while the outbox has work: an idle account
//! holds no task.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use super::{LostListener, Outbox};
use crate::sync::lock;

/// Where an account keeps its drain, while a runner runs.
#[derive(Default)]
pub(crate) struct DrainSlot {
    /// Wakes the drain's task while it waits for a retry.
    retry_now: tokio::sync::Notify,
    /// The runner's drain, while a runner runs.
    current: Mutex<Option<Drain>>,
    /// Tells one runner's drain from the next.
    drains: AtomicU32,
}

/// One runner's drain.
struct Drain {
    /// Which drain this is (see [`DrainSlot::drains`]).
    id: u32,
    /// The outbox it drains (weak: the outbox owns this drain, and a
    /// strong reference would keep it alive in a cycle).
    outbox: Weak<Outbox>,
    /// Where the runner wants undeliverable messages reported.
    report: LostListener,
    /// The task, while one runs.
    task: Option<tokio::task::AbortHandle>,
    /// Something was left queued since the task last read the outbox.
    again: bool,
}

impl DrainSlot {
    /// Where the runner wants undeliverable messages reported, while one
    /// runs.
    pub(super) fn listener(&self) -> Option<LostListener> {
        lock(&self.current).as_ref().map(|d| d.report.clone())
    }

    /// Something was left queued: the runner's drain (if a runner runs)
    /// sends it, starting its task if none runs.
    pub(super) fn wake(&self) {
        let mut current = lock(&self.current);
        let Some(d) = current.as_mut() else {
            return;
        };
        d.again = true;
        // (A task that panicked is finished too: another starts.)
        if d.task.as_ref().is_some_and(|t| !t.is_finished()) {
            self.retry_now.notify_one();
            return;
        }
        // (Outside a runtime, as when a send is dropped with its runtime,
        // there is nothing to start: the next run's drain sends it.)
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let Some(outbox) = d.outbox.upgrade() else {
            return;
        };
        let task = runtime.spawn(drain_outbox(outbox, d.id));
        d.task = Some(task.abort_handle());
    }

    /// Before the drain `id` reads the outbox: what was queued until now
    /// it will see. `false` if the drain is no longer the runner's.
    fn reading(&self, id: u32) -> bool {
        match lock(&self.current).as_mut() {
            Some(d) if d.id == id => {
                d.again = false;
                true
            }
            _ => false,
        }
    }

    /// The drain `id` found nothing waiting: it ends, unless something was
    /// queued since it read (then it reads again: `false`).
    fn idle(&self, id: u32) -> bool {
        match lock(&self.current).as_mut() {
            Some(d) if d.id == id => {
                if d.again {
                    return false;
                }
                d.task = None;
                true
            }
            _ => true,
        }
    }
}

/// Wakes the runner's outbox drain when dropped, unless disarmed: a send
/// that may leave something queued however it ends (an error, a drop
/// half-way) holds one.
pub(super) struct Nudge<'a>(Option<&'a DrainSlot>);

impl<'a> Nudge<'a> {
    pub(super) fn new(slot: &'a DrainSlot) -> Self {
        Self(Some(slot))
    }

    /// Everything went: no wake.
    pub(super) fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for Nudge<'_> {
    fn drop(&mut self) {
        if let Some(slot) = self.0 {
            slot.wake();
        }
    }
}

/// How long the drain waits before it tries a waiting message again: the
/// cooldown's rest, else a backoff on failures in a row.
fn retry_delay(outbox: &Outbox, failures: u32) -> Duration {
    if let Some(left) = outbox.throttled_for() {
        return left + Duration::from_millis(50);
    }
    outbox.core.config.send_retry.delay(failures.max(1))
}

/// Starts the runner's outbox drain: it sends what waits, retrying until
/// nothing does, and starts again whenever a send leaves something waiting.
/// Reports undeliverable messages to `report`. Ends when the returned guard
/// drops.
pub(crate) fn keep_sending(outbox: &Arc<Outbox>, report: LostListener) -> OutboxTask {
    let slot = &outbox.governor.drain;
    let id = slot.drains.fetch_add(1, Ordering::Relaxed);
    let old = lock(&slot.current).replace(Drain {
        id,
        outbox: Arc::downgrade(outbox),
        report,
        task: None,
        again: false,
    });
    if let Some(task) = old.and_then(|d| d.task) {
        task.abort();
    }
    slot.wake();
    OutboxTask {
        outbox: outbox.clone(),
        id,
    }
}

/// The drain's task: flushes until nothing waits, then ends.
async fn drain_outbox(outbox: Arc<Outbox>, id: u32) {
    let slot = &outbox.governor.drain;
    let mut failures = 0u32;
    loop {
        if !slot.reading(id) {
            return;
        }
        // Boxed: the flush (sends, retries, the HTTP exchange) is large,
        // and the task's state would keep room for it while it waits.
        let delay = match Box::pin(outbox.flush_outbox()).await {
            Ok(r) if r.waiting == 0 => {
                if slot.idle(id) {
                    return;
                }
                failures = 0;
                continue;
            }
            Ok(r) => {
                failures = failures.saturating_add(1);
                if let Some(why) = &r.waiting_because {
                    tracing::debug!(waiting = r.waiting, error = %why.report(), "outbox messages wait");
                }
                retry_delay(&outbox, failures)
            }
            Err(e) if e.is_lease_lost() => {
                // Another process has the account: it sends what is queued.
                tracing::info!("the outbox drain stops: the account's lease was lost");
                return;
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                tracing::warn!(error = %e.report(), "could not read the outbox; trying again");
                retry_delay(&outbox, failures)
            }
        };
        tokio::select! {
            () = slot.retry_now.notified() => {}
            () = tokio::time::sleep(delay) => {}
        }
    }
}

/// Stops the runner's outbox drain when dropped.
pub(crate) struct OutboxTask {
    outbox: Arc<Outbox>,
    id: u32,
}

impl Drop for OutboxTask {
    fn drop(&mut self) {
        let mut current = lock(&self.outbox.governor.drain.current);
        if current.as_ref().is_some_and(|d| d.id == self.id) {
            let ours = current.take();
            drop(current);
            if let Some(task) = ours.as_ref().and_then(|d| d.task.as_ref()) {
                task.abort();
            }
        }
    }
}
