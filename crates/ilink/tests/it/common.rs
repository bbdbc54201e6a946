//! Shared set-up: a simulator and clients pointed at it.

use std::sync::Arc;
use std::time::Duration;

use ilink::Retry;
use ilink::http::{Transport, TransportBuilder};
use ilink::pacing::Pacing;
use ilink::{Bot, Client, ClientBuilder, Credentials, MemoryStore, Message, Store};
use ilink_testkit::{Simulator, TestAccount};

/// A simulator whose long-polls are held briefly, so tests stay fast.
pub(crate) async fn sim() -> Simulator {
    Simulator::builder()
        .hold(Duration::from_millis(400))
        .start()
        .await
        .expect("simulator")
}

/// Transport settings pointed at the simulator.
pub(crate) fn transport(sim: &Simulator) -> TransportBuilder {
    Transport::builder()
        .api_base_url(sim.api_url())
        .cdn_base_url(sim.cdn_url())
}

/// A builder pointed at the simulator, with fast retries and no pacing.
pub(crate) fn builder(sim: &Simulator) -> ClientBuilder {
    Client::builder()
        .transport(transport(sim))
        .poll_retry(Retry::new(
            Duration::from_millis(20),
            Duration::from_millis(100),
        ))
        .send_retry(
            Retry::new(Duration::from_millis(20), Duration::from_millis(100)).with_attempts(3),
        )
        .qr_poll_interval(Duration::from_millis(5))
        .pacing(Pacing::unlimited())
}

/// The bot of an existing simulator account.
pub(crate) fn client(sim: &Simulator, bot: &TestAccount, store: Arc<dyn Store>) -> Bot {
    builder(sim)
        .shared_store(store)
        .build()
        .expect("client")
        .bot_with(&credentials(bot))
}

/// The bot of an existing simulator account on a client that holds leases
/// as `holder` (a restarted process of the same name takes them back).
pub(crate) fn client_as(
    sim: &Simulator,
    bot: &TestAccount,
    store: Arc<dyn Store>,
    holder: &str,
) -> Bot {
    builder(sim)
        .shared_store(store)
        .lease_holder(holder)
        .build()
        .expect("client")
        .bot_with(&credentials(bot))
}

/// The credentials of a simulator account.
pub(crate) fn credentials(bot: &TestAccount) -> Credentials {
    Credentials::new(bot.bot_id.as_str(), bot.token.as_str().into())
}

/// An account id for the store's calls.
pub(crate) fn id(account: &str) -> ilink::AccountId {
    ilink::AccountId::from(account)
}

pub(crate) fn memory() -> Arc<dyn Store> {
    Arc::new(MemoryStore::new())
}

pub(crate) const WAIT: Duration = Duration::from_secs(10);

/// Polls until `n` messages came, acknowledging them.
pub(crate) async fn receive(client: &Bot, n: usize) -> Vec<Message> {
    let mut poller = client.poller().await.unwrap();
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + WAIT;
    while out.len() < n {
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} of {n} messages came",
            out.len()
        );
        let batch = poller.next_batch().await.unwrap();
        for m in batch.messages {
            poller.ack(&m).await.unwrap();
            out.push(m);
        }
    }
    out
}
