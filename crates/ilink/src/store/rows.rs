//! What the database stores keep in common: the row conventions and the
//! lease rule, so that SQLite and PostgreSQL cannot drift apart.

use std::time::Duration;

use ilink_proto::AccountId;

use super::{Credentials, StoreError};

pub(crate) fn corrupt(what: impl Into<String>, reason: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        what: what.into(),
        reason: reason.to_string(),
    }
}

/// A `u64` as a database integer (saturating).
pub(crate) fn ms(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// A database integer as a `u64` (negative reads as 0).
pub(crate) fn unsigned(value: i64) -> u64 {
    u64::try_from(value).unwrap_or_default()
}

/// A time to live in milliseconds (saturating).
pub(crate) fn ttl_ms(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX)
}

pub(crate) fn check_account(account: &AccountId) -> Result<(), StoreError> {
    if account.is_empty() {
        return Err(StoreError::InvalidAccount);
    }
    Ok(())
}

/// A fence for a write to `account` must be a lease on that account.
pub(crate) fn check_fence(
    fence: Option<&super::Lease>,
    account: &AccountId,
) -> Result<(), StoreError> {
    check_account(account)?;
    match fence {
        Some(lease) if &lease.account != account => Err(StoreError::LeaseLost {
            account: account.clone(),
        }),
        _ => Ok(()),
    }
}

/// How long ago an enqueue was counted for it to count as new again
/// ([`COUNTED_FOR`](super::COUNTED_FOR)), in milliseconds.
pub(crate) fn counted_since_ms(now_ms: u64) -> u64 {
    now_ms.saturating_sub(ttl_ms(super::COUNTED_FOR))
}

/// The epoch a new holder gets, from the account's lease row (`holder`,
/// `epoch`, `expires_at_ms`): the lease is free, expired, already
/// `holder`'s or held by `from` (a holder known to be gone); otherwise
/// [`StoreError::Leased`].
pub(crate) fn next_epoch(
    account: &AccountId,
    current: Option<(&str, u64, u64)>,
    holder: &str,
    from: &str,
    now_ms: u64,
) -> Result<u64, StoreError> {
    match current {
        Some((other, _, expires))
            if !other.is_empty() && other != holder && other != from && expires > now_ms =>
        {
            Err(StoreError::Leased {
                account: account.clone(),
                holder: other.to_owned(),
            })
        }
        Some((_, epoch, _)) => Ok(epoch + 1),
        None => Ok(1),
    }
}

/// Whether a conversation can take `needed` more messages now under
/// `limits` (the rule every store applies in
/// [`OutboxStore::enqueue`](super::OutboxStore::enqueue); `None`: the user never
/// wrote, and nothing limits it).
pub(crate) fn admit(
    conversation: Option<&super::Conversation>,
    needed: u32,
    limits: super::ReplyLimits,
    now_ms: u64,
) -> Result<(), super::Refusal> {
    let Some(&super::Conversation {
        last_inbound_ms,
        replies,
        closed,
        ..
    }) = conversation
    else {
        return Ok(());
    };
    if needed == 0 {
        return Ok(());
    }
    if closed {
        return Err(super::Refusal::Closed);
    }
    if let Some(window) = limits.window_ms
        && now_ms > last_inbound_ms.saturating_add(window)
    {
        return Err(super::Refusal::WindowPassed { last_inbound_ms });
    }
    if let Some(budget) = limits.budget {
        let left = budget.saturating_sub(replies);
        if needed > left {
            return Err(super::Refusal::BudgetExhausted { left, needed });
        }
    }
    Ok(())
}

/// A conversation row (`last_inbound_ms`, `replies`, `closed`) as read
/// from a database.
pub(crate) fn conversation(
    user: &ilink_proto::UserId,
    last_inbound_ms: i64,
    replies: i64,
    closed: bool,
) -> super::Conversation {
    super::Conversation {
        user: user.clone(),
        last_inbound_ms: unsigned(last_inbound_ms),
        replies: u32::try_from(replies).unwrap_or(u32::MAX),
        closed,
    }
}

/// The newest time each user wrote in a batch (a user listed twice
/// keeps the later time).
pub(crate) fn latest_inbound(inbound: &[(ilink_proto::UserId, u64)]) -> Vec<(&str, u64)> {
    let mut latest: std::collections::BTreeMap<&str, u64> = std::collections::BTreeMap::new();
    for (user, at) in inbound {
        let slot = latest.entry(user.as_str()).or_default();
        *slot = (*slot).max(*at);
    }
    latest.into_iter().collect()
}

/// A row of `accounts` for a listing: `None` (with a warning naming the
/// account) when it cannot be read or names another account, so one
/// bad row does not hide the others.
pub(crate) fn listed(id: &str, json: &str) -> Option<Credentials> {
    match serde_json::from_str::<Credentials>(json) {
        Ok(c) if c.account_id == id => Some(c),
        Ok(_) => {
            tracing::warn!(account = %ilink_proto::display_safe(id), "stored credentials name another account; left out");
            None
        }
        Err(error) => {
            tracing::warn!(account = %ilink_proto::display_safe(id), %error, "stored credentials cannot be read; left out");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use ilink_proto::UserId;

    use super::admit;
    use crate::store::{Refusal, ReplyLimits};

    #[test]
    fn the_budget_rule() {
        let c = |at: u64, replies: u32, closed: bool| crate::store::Conversation {
            user: UserId::from("u"),
            last_inbound_ms: at,
            replies,
            closed,
        };
        let limits = ReplyLimits::new(Some(10), Some(Duration::from_secs(100)));
        let now = 1_000_000;
        assert!(admit(None, 50, limits, now).is_ok());
        assert!(admit(Some(&c(now, 9, false)), 1, limits, now).is_ok());
        assert_eq!(
            admit(Some(&c(now, 9, false)), 2, limits, now),
            Err(Refusal::BudgetExhausted { left: 1, needed: 2 })
        );
        assert_eq!(
            admit(Some(&c(now, 0, true)), 1, limits, now),
            Err(Refusal::Closed)
        );
        assert_eq!(
            admit(Some(&c(now - 100_001, 0, false)), 1, limits, now),
            Err(Refusal::WindowPassed {
                last_inbound_ms: now - 100_001
            })
        );
        assert!(admit(Some(&c(now, 99, false)), 1, ReplyLimits::none(), now).is_ok());
    }
}
