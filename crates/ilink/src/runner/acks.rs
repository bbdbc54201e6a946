//! Acknowledgement grouping: the acknowledgements of handlers that end
//! close together are committed together, one `ack_many` per lease.

use std::future::Future;
use std::sync::{Arc, Mutex};

use crate::Error;
use crate::store::Lease;
use crate::sync::lock;

/// Writes a group of acknowledgements (the store's `ack_many`, fenced by the
/// lease).
pub(crate) trait Commit: Send + Sync {
    /// Acknowledges `keys` under `lease`, in one transaction.
    fn commit<'a>(
        &'a self,
        lease: &'a Lease,
        keys: &'a [String],
    ) -> impl Future<Output = Result<(), Error>> + Send + 'a;
}

/// The acknowledgements of handlers that ended, committed in groups: the
/// first to arrive commits at once, and whatever arrives while its
/// transaction runs goes together in the next one (a group commit: no wait
/// when the runner is quiet, one transaction and one fsync for many
/// messages when it is busy). Each handler's task waits until its own
/// acknowledgement was written (or failed), as if it had written it alone.
#[derive(Default)]
pub(crate) struct Acks {
    queue: Mutex<AckQueue>,
}

#[derive(Default)]
struct AckQueue {
    waiting: Vec<PendingAck>,
    /// A task is committing: new acknowledgements wait for it.
    committing: bool,
}

struct PendingAck {
    lease: Arc<Lease>,
    key: String,
    /// Tells the waiting task its acknowledgement is done (`Done`) or that
    /// it commits the next group itself (`Commit`). `None` for the task
    /// that commits.
    turn: Option<tokio::sync::oneshot::Sender<AckTurn>>,
}

enum AckTurn {
    Done,
    Commit,
}

/// While a task commits, or waits with the turn to commit perhaps handed to
/// it: if it is dropped there (its runner aborted), the turn goes to a task
/// that waits, or the commit ends so that the next acknowledgement commits
/// at once. (The group it was committing stays pending and comes again
/// after a restart.)
struct Turn<'a> {
    acks: &'a Acks,
    /// Committing now.
    committing: bool,
    /// Waiting for this.
    waiting: Option<tokio::sync::oneshot::Receiver<AckTurn>>,
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        // Closed first: a turn handed from now on is refused (and goes to
        // another task), one handed before is in the channel.
        let handed = self.waiting.as_mut().is_some_and(|w| {
            w.close();
            matches!(w.try_recv(), Ok(AckTurn::Commit))
        });
        if self.committing || handed {
            lock(&self.acks.queue).hand_over();
        }
    }
}

impl AckQueue {
    /// The committing task is done: the turn goes to the first task that
    /// waits and can still take it, else the commit ends. Acknowledgements
    /// left by tasks that are gone stay in the queue for the next commit.
    fn hand_over(&mut self) {
        for p in &mut self.waiting {
            if let Some(t) = p.turn.take()
                && t.send(AckTurn::Commit).is_ok()
            {
                return;
            }
        }
        self.committing = false;
    }
}

impl Acks {
    /// Acknowledges `key` under `lease`, with whatever else waits; a group
    /// is written with `committer`.
    pub(crate) async fn ack<C: Commit>(&self, committer: &C, lease: &Arc<Lease>, key: String) {
        let (tell, told) = tokio::sync::oneshot::channel();
        let mut turn = Turn {
            acks: self,
            committing: false,
            waiting: None,
        };
        {
            let mut q = lock(&self.queue);
            turn.committing = !q.committing;
            q.committing = true;
            q.waiting.push(PendingAck {
                lease: lease.clone(),
                key,
                turn: (!turn.committing).then_some(tell),
            });
        }
        if !turn.committing {
            let told = turn.waiting.insert(told);
            let t = told.await;
            turn.waiting = None;
            match t {
                Ok(AckTurn::Commit) => turn.committing = true,
                Ok(AckTurn::Done) => return,
                Err(_) => {
                    // The task committing it was dropped or panicked.
                    tracing::error!(
                        "an acknowledgement was abandoned; the message will be delivered again after a restart"
                    );
                    return;
                }
            }
        }
        let mut group = std::mem::take(&mut lock(&self.queue).waiting);
        // One transaction per lease (a runner's messages share one).
        while !group.is_empty() {
            let lease = group[0].lease.clone();
            let (same, rest): (Vec<_>, Vec<_>) = group
                .into_iter()
                .partition(|p| p.lease.epoch == lease.epoch && p.lease.holder == lease.holder);
            group = rest;
            let keys: Vec<String> = same.iter().map(|p| p.key.clone()).collect();
            if let Err(e) = Box::pin(committer.commit(&lease, &keys)).await {
                tracing::error!(
                    messages = keys.len(),
                    error = %e.report(),
                    "ack failed; the messages will be delivered again after a restart"
                );
            }
            for p in same {
                if let Some(t) = p.turn {
                    let _ = t.send(AckTurn::Done);
                }
            }
        }
        // The next group is another task's to commit (this one's handler
        // ended: it goes back to its conversation).
        turn.committing = false;
        lock(&self.queue).hand_over();
    }
}

#[cfg(test)]
mod tests {
    use tokio::sync::oneshot;

    use super::*;
    use crate::StoreError;

    /// Records each group it is asked to write; the first write waits for
    /// `gate` when one is set; writes fail while `fail` is set.
    #[derive(Default)]
    struct Recorder {
        groups: Mutex<Vec<(u64, Vec<String>)>>,
        gate: Mutex<Option<oneshot::Receiver<()>>>,
        fail: std::sync::atomic::AtomicBool,
    }

    impl Commit for Recorder {
        async fn commit(&self, lease: &Lease, keys: &[String]) -> Result<(), Error> {
            lock(&self.groups).push((lease.epoch, keys.to_vec()));
            let gate = lock(&self.gate).take();
            if let Some(g) = gate {
                let _ = g.await;
            }
            if self.fail.load(std::sync::atomic::Ordering::SeqCst) {
                return Err(Error::Store(StoreError::LeaseLost {
                    account: lease.account.clone(),
                }));
            }
            Ok(())
        }
    }

    fn lease(epoch: u64) -> Arc<Lease> {
        Arc::new(Lease {
            account: ilink_proto::AccountId::from("acct@im.bot"),
            holder: "me".into(),
            epoch,
            expires_at_ms: 0,
        })
    }

    fn groups(r: &Recorder) -> Vec<(u64, Vec<String>)> {
        lock(&r.groups).clone()
    }

    async fn settle() {
        for _ in 0..64 {
            tokio::task::yield_now().await;
        }
    }

    fn waiting(acks: &Acks) -> usize {
        lock(&acks.queue).waiting.len()
    }

    /// Acknowledges `key` in a task of its own.
    fn spawn_ack(
        acks: &Arc<Acks>,
        rec: &Arc<Recorder>,
        lease: &Arc<Lease>,
        key: &str,
    ) -> tokio::task::JoinHandle<()> {
        let (acks, rec, lease, key) = (acks.clone(), rec.clone(), lease.clone(), key.to_owned());
        tokio::spawn(async move { acks.ack(&*rec, &lease, key).await })
    }

    #[tokio::test]
    async fn a_quiet_runner_commits_each_acknowledgement_at_once() {
        let acks = Acks::default();
        let rec = Recorder::default();
        let l = lease(1);
        acks.ack(&rec, &l, "k1".into()).await;
        acks.ack(&rec, &l, "k2".into()).await;
        assert_eq!(
            groups(&rec),
            [(1, vec!["k1".into()]), (1, vec!["k2".into()])]
        );
    }

    #[tokio::test]
    async fn acknowledgements_arriving_during_a_commit_go_together_in_the_next() {
        let acks = Arc::new(Acks::default());
        let rec = Arc::new(Recorder::default());
        let (open, gate) = oneshot::channel();
        *lock(&rec.gate) = Some(gate);
        let l = lease(1);
        let first = spawn_ack(&acks, &rec, &l, "k1");
        settle().await;
        let rest: Vec<_> = ["k2", "k3", "k4"]
            .iter()
            .map(|k| spawn_ack(&acks, &rec, &l, k))
            .collect();
        settle().await;
        assert_eq!(waiting(&acks), 3);
        // None of them is done while its group is not written.
        assert!(rest.iter().all(|t| !t.is_finished()));
        open.send(()).unwrap();
        first.await.unwrap();
        for t in rest {
            t.await.unwrap();
        }
        assert_eq!(
            groups(&rec),
            [
                (1, vec!["k1".into()]),
                (1, vec!["k2".into(), "k3".into(), "k4".into()])
            ]
        );
        // The commit ended: the next one goes at once again.
        acks.ack(&*rec, &l, "k5".into()).await;
        assert_eq!(groups(&rec).len(), 3);
    }

    #[tokio::test]
    async fn each_lease_gets_its_own_transaction() {
        let acks = Arc::new(Acks::default());
        let rec = Arc::new(Recorder::default());
        let (open, gate) = oneshot::channel();
        *lock(&rec.gate) = Some(gate);
        let (old, new) = (lease(1), lease(2));
        let first = spawn_ack(&acks, &rec, &old, "k0");
        settle().await;
        let tasks = [
            spawn_ack(&acks, &rec, &old, "a"),
            spawn_ack(&acks, &rec, &new, "b"),
            spawn_ack(&acks, &rec, &old, "c"),
        ];
        settle().await;
        open.send(()).unwrap();
        first.await.unwrap();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(
            groups(&rec),
            [
                (1, vec!["k0".into()]),
                (1, vec!["a".into(), "c".into()]),
                (2, vec!["b".into()])
            ]
        );
    }

    #[tokio::test]
    async fn a_failed_commit_releases_its_waiters_and_the_next_goes_on() {
        let acks = Arc::new(Acks::default());
        let rec = Arc::new(Recorder::default());
        rec.fail.store(true, std::sync::atomic::Ordering::SeqCst);
        let (open, gate) = oneshot::channel();
        *lock(&rec.gate) = Some(gate);
        let l = lease(1);
        let first = spawn_ack(&acks, &rec, &l, "k1");
        settle().await;
        let second = spawn_ack(&acks, &rec, &l, "k2");
        settle().await;
        open.send(()).unwrap();
        first.await.unwrap();
        second.await.unwrap();
        rec.fail.store(false, std::sync::atomic::Ordering::SeqCst);
        acks.ack(&*rec, &l, "k3".into()).await;
        assert_eq!(
            groups(&rec),
            [
                (1, vec!["k1".into()]),
                (1, vec!["k2".into()]),
                (1, vec!["k3".into()])
            ]
        );
    }

    #[tokio::test]
    async fn a_committer_aborted_mid_commit_hands_the_turn_to_a_waiter() {
        let acks = Arc::new(Acks::default());
        let rec = Arc::new(Recorder::default());
        let (_never, gate) = oneshot::channel::<()>();
        *lock(&rec.gate) = Some(gate);
        let l = lease(1);
        let first = spawn_ack(&acks, &rec, &l, "k1");
        settle().await;
        let second = spawn_ack(&acks, &rec, &l, "k2");
        settle().await;
        first.abort();
        let _ = first.await;
        // The waiter got the turn and wrote its own group.
        second.await.unwrap();
        assert_eq!(
            groups(&rec),
            [(1, vec!["k1".into()]), (1, vec!["k2".into()])]
        );
        // Nobody commits any more: the next goes at once.
        acks.ack(&*rec, &l, "k3".into()).await;
        assert_eq!(groups(&rec).len(), 3);
    }
}
