//! Many processes sharing the accounts of one store: each member polls a
//! fair share, gives up what is beyond it, and takes over the accounts of a
//! member that died once their leases ran out.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use ilink_proto::{AccountId, Cursor};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::client::Client;
use crate::runner::{Handler, Runner};
use crate::{Bot, Error};

/// What a cluster member wants the application to know.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum ClusterEvent {
    /// The member's view after a heartbeat: how many members are alive and
    /// how many accounts each should poll.
    Membership {
        /// Live members, this one included.
        members: usize,
        /// Accounts in the store.
        accounts: usize,
        /// This member's fair share.
        share: usize,
        /// Accounts this member polls now.
        polling: usize,
    },
    /// This member took an account's lease and polls it.
    Took {
        /// The account.
        account_id: AccountId,
    },
    /// This member gave an account up (beyond its share, or stopping).
    Gave {
        /// The account.
        account_id: AccountId,
    },
    /// An account's run ended by itself (its lease taken over, its session
    /// expired, its store failing); the account is free to take again.
    Ended {
        /// The account.
        account_id: AccountId,
        /// Why, unless it stopped cleanly.
        error: Option<Arc<Error>>,
    },
}

type Listener = Arc<dyn Fn(&ClusterEvent) + Send + Sync>;
type Configure = Arc<dyn Fn(Runner) -> Runner + Send + Sync>;

/// Runs the accounts of a shared store as one member of a cluster, built by
/// [`Client::cluster`].
///
/// Any number of processes, on one machine or many, given one store (a
/// [`PgStore`](crate::store::PgStore) for many machines, a
/// [`SqliteStore`](crate::SqliteStore) for one), share its accounts: each
/// member announces itself with a heartbeat ([`LeaseStore::heartbeat`](crate::store::LeaseStore::heartbeat)),
/// takes free or expired leases up to its fair share (the accounts divided
/// by the live members, rounded up), gives up leases beyond it when members
/// join, and on shutdown releases its leases and leaves. The accounts of a
/// member that died are taken once their leases run out. An account is
/// never polled from two places at once: that is the leases' guarantee,
/// whatever the members' views.
#[must_use]
pub struct Cluster {
    client: Client,
    tick: Duration,
    listener: Option<Listener>,
    configure: Option<Configure>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("member", &self.client.shared.holder)
            .field("tick", &self.tick)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// This client as a member of a cluster sharing the store's accounts.
    pub fn cluster(&self) -> Cluster {
        Cluster {
            client: self.clone(),
            tick: Duration::from_secs(5),
            listener: None,
            configure: None,
        }
    }
}

struct Running {
    stop: watch::Sender<bool>,
    task: JoinHandle<Result<Cursor, Error>>,
}

impl Cluster {
    /// How often the member sends its heartbeat and rebalances (default
    /// 5 s). Its heartbeat lives three ticks.
    pub fn tick(mut self, tick: Duration) -> Self {
        self.tick = tick.max(Duration::from_millis(10));
        self
    }

    /// Calls `f` with every [`ClusterEvent`].
    pub fn on_event(mut self, f: impl Fn(&ClusterEvent) + Send + Sync + 'static) -> Self {
        self.listener = Some(Arc::new(f));
        self
    }

    /// Configures the runner of each account (concurrency, events, …).
    pub fn runner(mut self, f: impl Fn(Runner) -> Runner + Send + Sync + 'static) -> Self {
        self.configure = Some(Arc::new(f));
        self
    }

    fn emit(&self, event: ClusterEvent) {
        if let Some(l) = &self.listener {
            l(&event);
        }
    }

    /// Runs as a member until `shutdown` completes, then stops every run
    /// gracefully (their leases released) and leaves the cluster.
    ///
    /// # Errors
    ///
    /// Store errors of the heartbeat or of listing the accounts, several
    /// ticks in a row are only logged; nothing here ends the run but
    /// `shutdown`.
    pub async fn run_until<H, S>(self, handler: H, shutdown: S) -> Result<(), Error>
    where
        H: Handler,
        S: Future + Send,
    {
        let handler = Arc::new(handler);
        let store = self.client.shared.store.clone();
        let member = self.client.shared.holder.clone();
        let mut running: HashMap<AccountId, Running> = HashMap::new();
        tokio::pin!(shutdown);
        loop {
            if let Err(e) = Box::pin(self.rebalance(&handler, &mut running)).await {
                tracing::warn!(error = %e.report(), "cluster: could not rebalance; trying again");
            }
            tokio::select! {
                biased;
                _ = &mut shutdown => break,
                _ = tokio::time::sleep(self.tick) => {}
            }
        }
        let ids: Vec<AccountId> = running.keys().cloned().collect();
        self.give_up(&mut running, &ids).await;
        if let Err(e) = store.leave(&member).await {
            tracing::warn!(error = %crate::Report::new(&e), "cluster: could not leave");
        }
        Ok(())
    }

    async fn rebalance<H: Handler>(
        &self,
        handler: &Arc<H>,
        running: &mut HashMap<AccountId, Running>,
    ) -> Result<(), Error> {
        let store = &self.client.shared.store;
        let member = &self.client.shared.holder;
        // Runs that ended by themselves free their accounts.
        let ended: Vec<AccountId> = running
            .iter()
            .filter(|(_, r)| r.task.is_finished())
            .map(|(id, _)| id.clone())
            .collect();
        for id in ended {
            if let Some(r) = running.remove(&id) {
                let error = match r.task.await {
                    Ok(Ok(_)) => None,
                    Ok(Err(e)) => Some(Arc::new(e)),
                    Err(join) => Some(Arc::new(Error::Task(join))),
                };
                self.emit(ClusterEvent::Ended {
                    account_id: id,
                    error,
                });
            }
        }
        let members = store.heartbeat(member, self.tick * 3).await?;
        let bots = self.client.bots().await?;
        let share = bots.len().div_ceil(members.max(1));
        self.emit(ClusterEvent::Membership {
            members,
            accounts: bots.len(),
            share,
            polling: running.len(),
        });
        if running.len() > share {
            // Beyond the share: give the most recently taken back first
            // would need an order; any will do, the others take them.
            let extra: Vec<AccountId> = running
                .keys()
                .take(running.len() - share)
                .cloned()
                .collect();
            self.give_up(running, &extra).await;
            return Ok(());
        }
        // Start at a place of this member's own, so that members starting
        // together do not all reach for the same accounts first.
        let offset =
            usize::try_from(crate::message::fnv1a(member.as_bytes()) % (bots.len().max(1) as u64))
                .unwrap_or_default();
        for bot in bots.iter().cycle().skip(offset).take(bots.len()) {
            if running.len() >= share {
                break;
            }
            if running.contains_key(bot.id()) {
                continue;
            }
            match bot.poller().await {
                Ok(poller) => self.start(handler, running, bot, poller),
                Err(Error::Store(crate::StoreError::Leased { .. })) => {}
                Err(e) => {
                    tracing::warn!(account = %ilink_proto::display_safe(bot.id().as_str()), error = %e.report(), "cluster: could not take an account");
                }
            }
        }
        Ok(())
    }

    fn start<H: Handler>(
        &self,
        handler: &Arc<H>,
        running: &mut HashMap<AccountId, Running>,
        bot: &Bot,
        poller: crate::Poller,
    ) {
        let (stop, mut stopped) = watch::channel(false);
        // Giving an account up waits for its poll to end, so that its lease
        // is released (and taken by another member) only once the server
        // holds no poll of it: a cut poll would leave the lease to run out.
        let mut runner = bot
            .runner()
            .shutdown_grace(self.client.shared.config.lease_ttl / 2);
        if let Some(configure) = &self.configure {
            runner = configure(runner);
        }
        let handler = handler.clone();
        let shutdown = async move {
            let _ = stopped.wait_for(|s| *s).await;
        };
        let task = tokio::spawn(runner.run_from(Some(Box::new(poller)), handler, shutdown));
        running.insert(bot.id().clone(), Running { stop, task });
        self.emit(ClusterEvent::Took {
            account_id: bot.id().clone(),
        });
    }

    /// Stops these runs, all at once (each waits for its poll in flight),
    /// and waits until every one released its lease.
    async fn give_up(&self, running: &mut HashMap<AccountId, Running>, ids: &[AccountId]) {
        let stopping: Vec<(AccountId, Running)> = ids
            .iter()
            .filter_map(|id| running.remove(id).map(|r| (id.clone(), r)))
            .collect();
        for (_, r) in &stopping {
            let _ = r.stop.send(true);
        }
        for (id, r) in stopping {
            match r.task.await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    tracing::warn!(account = %ilink_proto::display_safe(id.as_str()), error = %e.report(), "cluster: a run ended with an error")
                }
                Err(e) => {
                    tracing::warn!(account = %ilink_proto::display_safe(id.as_str()), error = %e, "cluster: a run failed")
                }
            }
            self.emit(ClusterEvent::Gave { account_id: id });
        }
    }
}
