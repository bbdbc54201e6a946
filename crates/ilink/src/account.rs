//! The account core: one account's identity, its transport handle, its
//! health, the lease fence of its writes and sends, and its client's store
//! and configuration. Every feature of an account (typing, pacing, the
//! outbox, quotes) is built on this; it knows none of them.

use std::sync::Arc;

use ilink_proto::{AccountId, ContextToken, UserId};

use crate::Error;
use crate::config::Config;
use crate::fence::{FenceSlot, SEND_NEED};
use crate::health::HealthCell;
use crate::store::{Lease, Store};

/// One account's core.
pub(crate) struct AccountCore {
    pub(crate) id: AccountId,
    pub(crate) http: ilink_http::Account,
    pub(crate) health: HealthCell,
    /// The lease of this client's poller of the account, while one polls:
    /// the account's writes and sends are fenced by it.
    pub(crate) fence: FenceSlot,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) config: Arc<Config>,
}

impl AccountCore {
    pub(crate) fn new(
        id: AccountId,
        http: ilink_http::Account,
        store: Arc<dyn Store>,
        config: Arc<Config>,
    ) -> Self {
        Self {
            id,
            http,
            health: HealthCell::default(),
            fence: FenceSlot::default(),
            store,
            config,
        }
    }

    pub(crate) fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// Maps a transport error, marking the account's session expired on -14.
    pub(crate) fn map_err(&self, err: ilink_http::Error) -> Error {
        let mapped = Error::from_http(&self.id, err);
        if mapped.is_session_expired() {
            self.health.session_expired();
        }
        mapped
    }

    /// Whom a send goes to, and with which context token: a given token is
    /// used as it is; otherwise the cached one, found as the server matches
    /// ids, with the id as the server gave it (so an id written in another
    /// case reaches the same conversation and counts against its budget).
    pub(crate) async fn recipient(
        &self,
        to: &UserId,
        token: Option<ContextToken>,
    ) -> Result<(UserId, Option<ContextToken>), Error> {
        if token.is_some() {
            return Ok((to.clone(), token));
        }
        Ok(match self.store().find_context_token(&self.id, to).await? {
            Some((user, token)) => (user, Some(token)),
            None => (to.clone(), None),
        })
    }

    /// The lease the account's writes and sends are fenced by now: that of
    /// this client's poller of the account, while one polls (checked by this
    /// process's clock, renewed when it ends soon); `None` when none polls.
    ///
    /// # Errors
    ///
    /// [`StoreError::LeaseLost`](crate::StoreError::LeaseLost) when another
    /// holder took the account: this process sends nothing more for it.
    pub(crate) async fn fenced(&self) -> Result<Option<Arc<Lease>>, Error> {
        match self.fence.get() {
            Some(fence) => Ok(Some(fence.hold(SEND_NEED).await?)),
            None => Ok(None),
        }
    }
}
