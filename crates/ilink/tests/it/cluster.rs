//! Cluster members sharing one store's accounts: fair shares, handing
//! accounts over when a member joins or leaves, never one account in two.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ilink::{AccountId, ClusterEvent, Context, Message, Store, handler_fn};
use ilink_testkit::Inbound;
use tokio::sync::Notify;

use crate::common::{WAIT, builder, credentials, memory, sim};

/// Which member polls which account, from the members' events.
#[derive(Clone, Default)]
struct Owners(Arc<Mutex<HashMap<AccountId, String>>>);

impl Owners {
    fn listener(&self, member: &'static str) -> impl Fn(&ClusterEvent) + Send + Sync + 'static {
        let owners = self.0.clone();
        move |e| {
            let mut owners = owners.lock().unwrap();
            match e {
                ClusterEvent::Took { account_id } => {
                    if let Some(other) = owners.insert(account_id.clone(), member.to_owned()) {
                        panic!("{member} took {account_id} while {other} held it");
                    }
                }
                ClusterEvent::Gave { account_id } | ClusterEvent::Ended { account_id, .. } => {
                    owners.remove(account_id);
                }
                _ => {}
            }
        }
    }

    fn count(&self, member: &str) -> usize {
        self.0
            .lock()
            .unwrap()
            .values()
            .filter(|m| *m == member)
            .count()
    }
}

async fn until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !f() {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_share_the_accounts_and_hand_them_over() {
    let sim = sim().await;
    let store: Arc<dyn Store> = memory();
    let mut ids = Vec::new();
    for _ in 0..6 {
        let bot = sim.create_account();
        let mut stored = credentials(&bot);
        stored.base_url = Some(sim.api_url().to_owned());
        store.save_credentials(&stored).await.unwrap();
        ids.push(bot.bot_id.clone());
    }
    let handled: Arc<Mutex<Vec<String>>> = Arc::default();
    let handler = {
        let handled = handled.clone();
        handler_fn(move |_c: Context, m: Message| {
            let handled = handled.clone();
            async move {
                handled.lock().unwrap().push(m.text().into_owned());
                Ok(())
            }
        })
    };
    let owners = Owners::default();
    let member = |name: &'static str, stop: Arc<Notify>| {
        let client = builder(&sim)
            .shared_store(store.clone())
            .lease_holder(name)
            .build()
            .unwrap();
        let cluster = client
            .cluster()
            .tick(Duration::from_millis(50))
            .on_event(owners.listener(name));
        let handler = handler.clone();
        tokio::spawn(async move { cluster.run_until(handler, stop.notified()).await })
    };

    // Alone, the first member polls every account.
    let stop_a = Arc::new(Notify::new());
    let a = member("member-a", stop_a.clone());
    until("a polls all 6", || owners.count("member-a") == 6).await;
    // A second member joins: three each, none in two places (the listener
    // panics on a double take).
    let stop_b = Arc::new(Notify::new());
    let b = member("member-b", stop_b.clone());
    until("3 and 3", || {
        owners.count("member-a") == 3 && owners.count("member-b") == 3
    })
    .await;
    // Every account's messages are handled once, by whoever polls it.
    for (i, id) in ids.iter().enumerate() {
        sim.push(id, Inbound::text("alice@im.wechat", format!("m{i}")));
    }
    until("6 handled", || handled.lock().unwrap().len() == 6).await;
    // The second member stops: it releases its leases and the first takes
    // them back.
    stop_b.notify_one();
    b.await.unwrap().unwrap();
    until("a polls all 6 again", || owners.count("member-a") == 6).await;
    for (i, id) in ids.iter().enumerate() {
        sim.push(id, Inbound::text("alice@im.wechat", format!("n{i}")));
    }
    until("12 handled", || handled.lock().unwrap().len() == 12).await;
    stop_a.notify_one();
    a.await.unwrap().unwrap();
    let all = handled.lock().unwrap().clone();
    let unique: HashSet<&String> = all.iter().collect();
    assert_eq!(unique.len(), 12, "each message once: {all:?}");
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());
}
