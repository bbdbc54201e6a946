//! Dispatch per conversation: in order within a conversation, concurrently
//! across conversations, at most `concurrency` at once, with at most
//! `queue_capacity` items queued or running.
//!
//! One task runs a conversation's queue until it is empty; an item joins the
//! queue of its conversation's running task, or starts one. What is done
//! with an item is the [`Work`]'s business: the dispatcher knows nothing of
//! messages, handlers or stores.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

use crate::sync::lock;

/// What the dispatcher does with each item, in the item's conversation's
/// turn.
///
/// The item's type is a parameter, not an associated type: a projection
/// such as `W::Item` in the dispatcher's fields would make every caller's
/// `Send` check prove `W: Work` again, with the handler's higher-ranked
/// types, which rustc cannot always do.
pub(crate) trait Work<T>: Send + Sync + 'static {
    /// Does it.
    fn run(&self, item: T) -> impl Future<Output = ()> + Send;
}

/// See the module docs.
pub(crate) struct Dispatcher<W, T> {
    shared: Arc<Shared<W, T>>,
    queued: Arc<Semaphore>,
    tasks: JoinSet<()>,
}

struct Shared<W, T> {
    work: W,
    running: Arc<Semaphore>,
    queues: Mutex<HashMap<String, VecDeque<Queued<T>>>>,
}

/// An item with its place in the queue bound.
struct Queued<T> {
    item: T,
    _slot: OwnedSemaphorePermit,
}

impl<W: Work<T>, T: Send + 'static> Dispatcher<W, T> {
    pub(crate) fn new(work: W, concurrency: usize, queue_capacity: usize) -> Self {
        Self {
            shared: Arc::new(Shared {
                work,
                running: Arc::new(Semaphore::new(concurrency.max(1))),
                queues: Mutex::new(HashMap::new()),
            }),
            queued: Arc::new(Semaphore::new(
                queue_capacity.clamp(1, Semaphore::MAX_PERMITS),
            )),
            tasks: JoinSet::new(),
        }
    }

    /// Queues an item in its conversation, waiting while the queue is full.
    pub(crate) async fn dispatch(&mut self, conversation: &str, item: T) {
        let Ok(slot) = self.queued.clone().acquire_owned().await else {
            return;
        };
        let item = Queued { item, _slot: slot };
        {
            let mut queues = lock(&self.shared.queues);
            if let Some(queue) = queues.get_mut(conversation) {
                // A task is running this conversation; it will get to it.
                queue.push_back(item);
                return;
            }
            queues.insert(conversation.to_owned(), VecDeque::from([item]));
        }
        let shared = self.shared.clone();
        self.tasks
            .spawn(shared.run_conversation(conversation.to_owned()));
    }

    /// Queues every item in order; `false` when `shutdown` came first (the
    /// rest are not queued).
    pub(crate) async fn dispatch_all<S: Future>(
        &mut self,
        items: impl IntoIterator<Item = (String, T)>,
        mut shutdown: Option<std::pin::Pin<&mut S>>,
    ) -> bool {
        for (conversation, item) in items {
            match shutdown.as_mut() {
                None => self.dispatch(&conversation, item).await,
                Some(stop) => {
                    tokio::select! {
                        biased;
                        _ = stop => return false,
                        () = self.dispatch(&conversation, item) => {}
                    }
                }
            }
        }
        true
    }

    /// Forgets the conversation tasks that ended.
    pub(crate) fn reap(&mut self) {
        while self.tasks.try_join_next().is_some() {}
    }

    /// Waits until every queued item was run.
    pub(crate) async fn drain(&mut self) {
        while self.tasks.join_next().await.is_some() {}
    }
}

impl<W: Work<T>, T: Send + 'static> Shared<W, T> {
    async fn run_conversation(self: Arc<Self>, conversation: String) {
        loop {
            let next = {
                let mut queues = lock(&self.queues);
                let Some(queue) = queues.get_mut(&conversation) else {
                    return;
                };
                match queue.pop_front() {
                    Some(m) => m,
                    None => {
                        // Removing the entry under the lock means the next
                        // item of this conversation starts a new task.
                        queues.remove(&conversation);
                        return;
                    }
                }
            };
            let Ok(permit) = self.running.clone().acquire_owned().await else {
                return;
            };
            self.work.run(next.item).await;
            drop(permit);
            // `next._slot` goes here: a place in the queue frees up.
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use futures_util::FutureExt;
    use tokio::sync::oneshot;

    use super::*;

    /// Records when each item starts and ends; an item with a gate waits
    /// for it.
    #[derive(Default)]
    struct Recorder {
        log: Mutex<Vec<String>>,
        running: AtomicUsize,
        most_running: AtomicUsize,
    }

    struct Item {
        name: String,
        gate: Option<oneshot::Receiver<()>>,
    }

    impl Work<Item> for Arc<Recorder> {
        fn run(&self, item: Item) -> impl Future<Output = ()> + Send {
            self.record(item)
        }
    }

    impl Recorder {
        async fn record(&self, item: Item) {
            let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
            self.most_running.fetch_max(now, Ordering::SeqCst);
            lock(&self.log).push(format!("start {}", item.name));
            if let Some(g) = item.gate {
                let _ = g.await;
            }
            lock(&self.log).push(format!("end {}", item.name));
            self.running.fetch_sub(1, Ordering::SeqCst);
        }
    }

    fn item(name: &str) -> Item {
        Item {
            name: name.into(),
            gate: None,
        }
    }

    fn gated(name: &str) -> (Item, oneshot::Sender<()>) {
        let (tx, rx) = oneshot::channel();
        (
            Item {
                name: name.into(),
                gate: Some(rx),
            },
            tx,
        )
    }

    /// Lets every spawned task run until it waits.
    async fn settle() {
        for _ in 0..64 {
            tokio::task::yield_now().await;
        }
    }

    fn log(r: &Recorder) -> Vec<String> {
        lock(&r.log).clone()
    }

    #[tokio::test]
    async fn a_conversation_runs_in_order_one_at_a_time() {
        let rec = Arc::new(Recorder::default());
        let mut d = Dispatcher::new(rec.clone(), 8, 64);
        let (first, open) = gated("a1");
        d.dispatch("a", first).await;
        for i in 2..=5 {
            d.dispatch("a", item(&format!("a{i}"))).await;
        }
        settle().await;
        // The first holds the conversation: nothing after it started.
        assert_eq!(log(&rec), ["start a1"]);
        open.send(()).unwrap();
        d.drain().await;
        let want: Vec<String> = (1..=5)
            .flat_map(|i| [format!("start a{i}"), format!("end a{i}")])
            .collect();
        assert_eq!(log(&rec), want);
        assert_eq!(rec.most_running.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn conversations_run_concurrently_up_to_the_limit() {
        let rec = Arc::new(Recorder::default());
        let mut d = Dispatcher::new(rec.clone(), 2, 64);
        let mut gates = Vec::new();
        for c in ["a", "b", "c"] {
            let (it, g) = gated(c);
            d.dispatch(c, it).await;
            gates.push(g);
        }
        settle().await;
        // Two started, neither ended: they run together; the third waits
        // for a place.
        assert_eq!(log(&rec), ["start a", "start b"]);
        gates.remove(0).send(()).unwrap();
        settle().await;
        assert_eq!(log(&rec), ["start a", "start b", "end a", "start c"]);
        for g in gates {
            g.send(()).unwrap();
        }
        d.drain().await;
        assert_eq!(rec.most_running.load(Ordering::SeqCst), 2);
        assert_eq!(log(&rec).len(), 6);
    }

    #[tokio::test]
    async fn a_slow_conversation_holds_up_only_itself() {
        let rec = Arc::new(Recorder::default());
        let mut d = Dispatcher::new(rec.clone(), 4, 64);
        let (slow, open) = gated("slow1");
        d.dispatch("slow", slow).await;
        d.dispatch("slow", item("slow2")).await;
        for i in 0..3 {
            d.dispatch("fast", item(&format!("fast{i}"))).await;
        }
        settle().await;
        let seen = log(&rec);
        assert!(seen.contains(&"end fast2".to_owned()), "{seen:?}");
        assert!(!seen.contains(&"start slow2".to_owned()), "{seen:?}");
        open.send(()).unwrap();
        d.drain().await;
        assert!(log(&rec).ends_with(&["start slow2".into(), "end slow2".into()]));
    }

    #[tokio::test]
    async fn a_full_queue_holds_the_next_dispatch_until_a_place_frees() {
        let rec = Arc::new(Recorder::default());
        let mut d = Dispatcher::new(rec.clone(), 4, 2);
        let (a, open_a) = gated("a");
        let (b, _open_b) = gated("b");
        d.dispatch("a", a).await;
        d.dispatch("b", b).await;
        settle().await;
        {
            // Two queued or running: the third waits.
            let third = d.dispatch("c", item("c"));
            tokio::pin!(third);
            assert!((&mut third).now_or_never().is_none());
        }
        open_a.send(()).unwrap();
        settle().await;
        // A place is free: it goes at once.
        assert!(d.dispatch("c", item("c")).now_or_never().is_some());
        settle().await;
        assert!(log(&rec).contains(&"end c".to_owned()));
    }

    #[tokio::test]
    async fn a_stop_leaves_the_rest_unqueued() {
        let rec = Arc::new(Recorder::default());
        let mut d = Dispatcher::new(rec.clone(), 4, 1);
        let (a, open) = gated("a");
        let items = vec![("a".to_owned(), a), ("b".to_owned(), item("b"))];
        // Pending when first asked, done the next time: the stop comes
        // after the first item was queued.
        let stop = tokio::task::yield_now();
        tokio::pin!(stop);
        assert!(!d.dispatch_all(items, Some(stop.as_mut())).await);
        open.send(()).unwrap();
        d.drain().await;
        assert_eq!(log(&rec), ["start a", "end a"]);
    }

    #[tokio::test]
    async fn drain_waits_for_everything_queued() {
        let rec = Arc::new(Recorder::default());
        let mut d = Dispatcher::new(rec.clone(), 3, 100);
        let items: Vec<_> = (0..50)
            .map(|i| (format!("c{}", i % 7), item(&i.to_string())))
            .collect();
        assert!(
            d.dispatch_all(items, None::<std::pin::Pin<&mut std::future::Pending<()>>>)
                .await
        );
        d.drain().await;
        let ends = log(&rec).iter().filter(|l| l.starts_with("end")).count();
        assert_eq!(ends, 50);
        assert!(rec.most_running.load(Ordering::SeqCst) <= 3);
    }
}
