//! The lease fence: a poller's lease on its account, shared with the sends
//! made while it polls, so that a process whose lease is gone stops
//! writing and sending at once.
//!
//! A [`Fence`] holds the current [`Lease`] and when it ends by this
//! process's monotonic clock (the moment it was asked for, plus its time to
//! live). Every write of a poller (the batch, the acknowledgements) and
//! every write and send of the account while a poller of this client holds
//! it (queueing a reply, removing it once sent, the context tokens and the
//! typing tickets) asks the fence first ([`Fence::hold`]):
//!
//! - a lease known lost fails with [`StoreError::LeaseLost`] without
//!   touching the store or the network;
//! - a lease that ends too soon by this clock (a process that was stopped
//!   past its lease: `SIGSTOP`, a frozen container, a paused VM) is renewed
//!   first, and the store refuses the renewal if another holder took the
//!   account meanwhile;
//! - the lease is then handed to the store, which checks holder and epoch
//!   in the same transaction as the write.
//!
//! One window is left: a process stopped between the check and the request
//! leaving it (microseconds) sends that one request when it continues. The
//! store's check then still refuses its writes (the reply's removal from
//! the outbox, the acknowledgement), so the message is delivered again by
//! the new holder, under the same reply ids.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use crate::store::{Lease, Store, StoreError};

/// How much of its lease a holder leaves unused, for the clocks of the
/// holder and the store to disagree a little.
pub(crate) const LEASE_MARGIN: Duration = Duration::from_secs(2);

/// One poller's lease, shared with the account's sends.
pub(crate) struct Fence {
    store: Arc<dyn Store>,
    ttl: Duration,
    state: std::sync::Mutex<Held>,
    /// One renewal at a time.
    renewing: tokio::sync::Mutex<()>,
    lost: AtomicBool,
}

#[derive(Clone)]
struct Held {
    lease: Arc<Lease>,
    /// When the lease ends by this process's clock.
    until: Instant,
}

impl std::fmt::Debug for Fence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fence")
            .field("lease", &self.lease())
            .field("lost", &self.is_lost())
            .finish_non_exhaustive()
    }
}

impl Fence {
    /// A fence for `lease`, asked for at `asked`, lasting `ttl`.
    pub(crate) fn new(store: Arc<dyn Store>, lease: Lease, asked: Instant, ttl: Duration) -> Self {
        Self {
            store,
            ttl,
            state: std::sync::Mutex::new(Held {
                lease: Arc::new(lease),
                until: asked + ttl,
            }),
            renewing: tokio::sync::Mutex::new(()),
            lost: AtomicBool::new(false),
        }
    }

    /// The lease as last taken or renewed.
    pub(crate) fn lease(&self) -> Arc<Lease> {
        crate::sync::lock(&self.state).lease.clone()
    }

    /// When the lease ends by this process's clock.
    pub(crate) fn until(&self) -> Instant {
        crate::sync::lock(&self.state).until
    }

    /// The time to live of each renewal.
    pub(crate) fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Whether another holder is known to have taken the account.
    pub(crate) fn is_lost(&self) -> bool {
        self.lost.load(Ordering::Acquire)
    }

    /// Records that the lease is gone: every later [`hold`](Self::hold)
    /// fails at once.
    pub(crate) fn mark_lost(&self) {
        if !self.lost.swap(true, Ordering::AcqRel) {
            tracing::warn!(
                account = %ilink_proto::display_safe(self.lease().account.as_str()),
                "the lease was taken over; this process stops polling and sending for the account"
            );
        }
    }

    fn lost_error(&self) -> StoreError {
        StoreError::LeaseLost {
            account: self.lease().account.clone(),
        }
    }

    /// The lease, good by this process's clock for at least `need` more
    /// (plus [`LEASE_MARGIN`]): renewed first when it is not.
    ///
    /// # Errors
    ///
    /// [`StoreError::LeaseLost`] when another holder took the account (now
    /// or before); the store's errors of a renewal.
    pub(crate) async fn hold(&self, need: Duration) -> Result<Arc<Lease>, StoreError> {
        if self.is_lost() {
            return Err(self.lost_error());
        }
        let held = crate::sync::lock(&self.state).clone();
        let left = held.until.saturating_duration_since(Instant::now());
        if left > need + LEASE_MARGIN {
            return Ok(held.lease);
        }
        self.renew_unless(need).await
    }

    /// Renews the lease unless, once this task's turn comes, it is good for
    /// `need` more already (another task renewed it meanwhile).
    async fn renew_unless(&self, need: Duration) -> Result<Arc<Lease>, StoreError> {
        let _turn = self.renewing.lock().await;
        if self.is_lost() {
            return Err(self.lost_error());
        }
        let held = crate::sync::lock(&self.state).clone();
        let left = held.until.saturating_duration_since(Instant::now());
        if need != Duration::MAX && left > need.saturating_add(LEASE_MARGIN) {
            return Ok(held.lease);
        }
        let asked = Instant::now();
        match self.store.renew(&held.lease, self.ttl).await {
            Ok(lease) => {
                let lease = Arc::new(lease);
                *crate::sync::lock(&self.state) = Held {
                    lease: lease.clone(),
                    until: asked + self.ttl,
                };
                Ok(lease)
            }
            Err(e) => {
                if matches!(e, StoreError::LeaseLost { .. }) {
                    self.mark_lost();
                }
                Err(e)
            }
        }
    }

    /// Passes a store error through, recording a lost lease.
    pub(crate) fn note(&self, e: StoreError) -> StoreError {
        if matches!(e, StoreError::LeaseLost { .. }) {
            self.mark_lost();
        }
        e
    }
}

/// Where an account's handle keeps the fence of the poller that polls it in
/// this client, if one does.
#[derive(Default)]
pub(crate) struct FenceSlot(std::sync::Mutex<Option<Arc<Fence>>>);

impl FenceSlot {
    /// The fence of the poller polling now, if one is.
    pub(crate) fn get(&self) -> Option<Arc<Fence>> {
        crate::sync::lock(&self.0).clone()
    }

    /// A poller starts.
    pub(crate) fn set(&self, fence: Arc<Fence>) {
        *crate::sync::lock(&self.0) = Some(fence);
    }

    /// The poller with this fence ends (a newer one is left alone).
    pub(crate) fn clear(&self, fence: &Arc<Fence>) {
        let mut slot = crate::sync::lock(&self.0);
        if slot.as_ref().is_some_and(|f| Arc::ptr_eq(f, fence)) {
            *slot = None;
        }
    }
}

/// What a send asks of the fence: the lease good for a little while more.
pub(crate) const SEND_NEED: Duration = Duration::from_millis(500);
