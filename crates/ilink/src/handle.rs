//! One account's handle in a client: its core and the state of each of
//! its features, shared by every [`Bot`](crate::Bot) of the account.

use std::ops::Deref;
use std::sync::Arc;

use crate::account::AccountCore;
use crate::outbox::Outbox;
use crate::quote::RecentMessages;
use crate::typing::TypingCache;

/// One account's core and features.
pub(crate) struct AccountHandle {
    pub(crate) core: Arc<AccountCore>,
    /// Typing tickets.
    pub(crate) typing: TypingCache,
    /// Recent inbound messages, for resolving quotes by `svr_id`.
    pub(crate) recent: RecentMessages,
    /// Sends: the outbox, its pacing and reply governance.
    pub(crate) outbox: Arc<Outbox>,
}

impl AccountHandle {
    pub(crate) fn new(core: AccountCore) -> Self {
        let core = Arc::new(core);
        Self {
            outbox: Arc::new(Outbox::new(core.clone())),
            typing: TypingCache::default(),
            recent: RecentMessages::default(),
            core,
        }
    }
}

impl Deref for AccountHandle {
    type Target = AccountCore;

    fn deref(&self) -> &AccountCore {
        &self.core
    }
}
