//! One account's reply governance: the per-conversation lanes that keep
//! sends in order, the evidence that a refusal is the account's rather than
//! one conversation's, and the cooldown level.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use ilink_proto::UserId;
use tokio::time::Instant;

use super::drain::DrainSlot;
use super::{ACCOUNT_EVIDENCE, EVIDENCE_WINDOW, Undeliverable};
use crate::sync::lock;

/// Words in an `errmsg` that say a refusal is about the account's rate, not
/// one conversation.
const ACCOUNT_WORDS: &[&str] = &["rate", "limit", "frequen", "too many", "频繁", "限制"];

/// See the module docs.
#[derive(Default)]
pub(crate) struct Governor {
    /// One lock per conversation with a send in progress.
    lanes: Mutex<HashMap<UserId, Arc<tokio::sync::Mutex<()>>>>,
    /// Recent bare refusals: when, and whose conversation.
    evidence: Mutex<VecDeque<(Instant, UserId)>>,
    /// Cooldowns in a row.
    level: AtomicU32,
    /// The runner's outbox drain, while a runner runs.
    pub(super) drain: DrainSlot,
}

impl Governor {
    /// The lane of `user`'s conversation: one delivery run at a time in it.
    pub(super) fn lane(&self, user: &UserId) -> Arc<tokio::sync::Mutex<()>> {
        let mut lanes = lock(&self.lanes);
        // Lanes nobody holds are forgotten, so the map stays the
        // conversations being sent to.
        if lanes.len() > 64 {
            lanes.retain(|_, l| Arc::strong_count(l) > 1);
        }
        lanes.entry(user.clone()).or_default().clone()
    }

    /// Records a bare refusal in `user`'s conversation; returns the other
    /// conversations refused within the window when there is now evidence
    /// that the limit is the account's.
    pub(super) fn refused(&self, user: &UserId) -> Option<Vec<UserId>> {
        let now = Instant::now();
        let mut evidence = lock(&self.evidence);
        while evidence
            .front()
            .is_some_and(|(at, _)| now.duration_since(*at) > EVIDENCE_WINDOW)
        {
            evidence.pop_front();
        }
        evidence.push_back((now, user.clone()));
        let users: HashSet<&UserId> = evidence.iter().map(|(_, u)| u).collect();
        if users.len() < ACCOUNT_EVIDENCE {
            return None;
        }
        let others = users.into_iter().filter(|u| *u != user).cloned().collect();
        evidence.clear();
        Some(others)
    }

    /// A send went through: the next cooldown is the first again.
    pub(super) fn sent(&self) {
        self.level.store(0, Ordering::Relaxed);
    }

    /// How many cooldowns came in a row before this one (and counts it).
    pub(super) fn next_cooldown_level(&self) -> u32 {
        self.level.fetch_add(1, Ordering::Relaxed)
    }

    /// Reports a message that can never go: the log, and the runner's
    /// listener while a runner runs.
    pub(super) fn report(&self, lost: &Undeliverable) {
        tracing::warn!(
            user = %lost.user,
            client_id = %lost.client_id,
            error = %lost.error.report(),
            "a queued message can never be delivered; it left the outbox"
        );
        if let Some(l) = self.drain.listener() {
            l(lost);
        }
    }
}

/// Whether an `errmsg` says the refusal is about the account's rate.
pub(super) fn is_account_wide(errmsg: Option<&str>) -> bool {
    let Some(msg) = errmsg else {
        return false;
    };
    let msg = msg.to_lowercase();
    ACCOUNT_WORDS.iter().any(|w| msg.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_words() {
        assert!(is_account_wide(Some("rate limited")));
        assert!(is_account_wide(Some("操作过于频繁")));
        assert!(!is_account_wide(Some("")));
        assert!(!is_account_wide(None));
    }

    #[test]
    fn evidence_needs_several_conversations() {
        let g = Governor::default();
        assert!(g.refused(&UserId::from("a")).is_none());
        assert!(g.refused(&UserId::from("a")).is_none());
        assert!(g.refused(&UserId::from("b")).is_none());
        let others = g.refused(&UserId::from("c")).expect("three conversations");
        let mut others: Vec<String> = others.iter().map(ToString::to_string).collect();
        others.sort();
        assert_eq!(others, ["a", "b"]);
        // The evidence was used up.
        assert!(g.refused(&UserId::from("d")).is_none());
    }
}
