//! "Typing…": tickets cached per user, and a guard that keeps the indicator
//! alive while a reply is produced and cancels it when dropped.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ilink_proto::{ContextToken, GetConfigRequest, SendTypingRequest, TypingStatus, UserId};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::account::AccountCore;
use crate::store::TypingTicket;
use crate::store::now_ms;
use crate::sync::lock;

const DAY_MS: u64 = 24 * 60 * 60 * 1000;
const FIRST_BACKOFF_MS: u64 = 2_000;
const MAX_BACKOFF_MS: u64 = 60 * 60 * 1000;
/// How often the indicator is renewed while a guard lives.
const KEEPALIVE: Duration = Duration::from_secs(5);
/// The longest a guard keeps typing alive.
const MAX_TYPING: Duration = Duration::from_secs(120);

/// How long typing stays off for a user whose getconfig answered `ret -4`
/// (a binding made moments ago: Tencent/openclaw-weixin#268) before it is
/// asked again.
const FRESH_BINDING_OFF_MS: u64 = MAX_BACKOFF_MS;

#[derive(Default)]
pub(crate) struct TypingCache {
    tickets: Mutex<HashMap<UserId, TypingTicket>>,
    /// Users for whom "typing is off" was logged, so it is logged once.
    off_logged: Mutex<std::collections::HashSet<UserId>>,
}

/// Whether getconfig refused because the user's binding is fresh (`ret -4`).
fn is_fresh_binding(err: &ilink_http::Error) -> bool {
    matches!(
        err.kind(),
        ilink_http::ErrorKind::Api { ret: Some(-4), .. }
            | ilink_http::ErrorKind::Api {
                errcode: Some(-4),
                ..
            }
    )
}

/// The next cache entry after a getconfig attempt: a success refreshes at a
/// random moment within 24 h; a failure keeps the old ticket and backs off
/// from 2 s doubling to 1 h. Pure, for tests.
pub(crate) fn next_entry(
    previous: Option<&TypingTicket>,
    fetched: Option<String>,
    now: u64,
    unit: f64,
) -> TypingTicket {
    match fetched {
        Some(ticket) => {
            let jitter = (unit.clamp(0.0, 1.0) * DAY_MS as f64) as u64;
            TypingTicket::new(ticket, now + jitter.max(1), 0)
        }
        None => {
            let backoff = match previous.map(|p| p.backoff_ms) {
                Some(b) if b > 0 => (b * 2).min(MAX_BACKOFF_MS),
                _ => FIRST_BACKOFF_MS,
            };
            let ticket = previous.map(|p| p.ticket.clone()).unwrap_or_default();
            TypingTicket::new(ticket, now + backoff, backoff)
        }
    }
}

impl TypingCache {
    /// The typing ticket for a user, from the cache or getconfig (asked with
    /// the user's context token `token`). Never fails: `None` when no ticket
    /// could be had (typing is best-effort).
    pub(crate) async fn ticket(
        &self,
        handle: &AccountCore,
        user_id: &UserId,
        token: Option<ContextToken>,
    ) -> Option<String> {
        let now = now_ms();
        let cached = {
            let map = lock(&self.tickets);
            map.get(user_id).cloned()
        };
        let cached = match cached {
            Some(c) => Some(c),
            None => handle
                .store()
                .load_typing_ticket(&handle.id, user_id)
                .await
                .ok()
                .flatten(),
        };
        if let Some(c) = &cached
            && now < c.refresh_at_ms
        {
            return (!c.ticket.is_empty()).then(|| c.ticket.clone());
        }
        let entry = match handle
            .http
            .get_config(GetConfigRequest::new(user_id.as_str(), token))
            .await
        {
            Ok(resp) => next_entry(
                cached.as_ref(),
                resp.typing_ticket.filter(|t| !t.is_empty()),
                now,
                ilink_crypto::random::unit(),
            ),
            Err(e) if is_fresh_binding(&e) => {
                let first = lock(&self.off_logged).insert(user_id.clone());
                if first {
                    tracing::info!(
                        account = %ilink_proto::display_safe(handle.id.as_str()),
                        "typing is off for a user whose binding is new (getconfig ret -4); asked again in an hour"
                    );
                }
                TypingTicket::new(String::new(), now + FRESH_BINDING_OFF_MS, MAX_BACKOFF_MS)
            }
            Err(e) => {
                tracing::debug!(error = %crate::Report::new(&e), "getconfig failed; typing stays best-effort");
                next_entry(cached.as_ref(), None, now, ilink_crypto::random::unit())
            }
        };
        lock(&self.tickets).insert(user_id.clone(), entry.clone());
        let saved = match handle.fenced().await {
            Ok(lease) => {
                handle
                    .store()
                    .save_typing_ticket(lease.as_deref(), &handle.id, user_id, &entry)
                    .await
            }
            Err(e) => Err(match e {
                crate::Error::Store(e) => e,
                other => {
                    crate::StoreError::Database(Box::new(std::io::Error::other(other.to_string())))
                }
            }),
        };
        if let Err(e) = saved {
            tracing::debug!(error = %crate::Report::new(&e), "could not cache the typing ticket");
        }
        (!entry.ticket.is_empty()).then_some(entry.ticket)
    }

    /// The user's id as the server gave it (see [`Bot::context_token`](crate::Bot::context_token)),
    /// or the id as given when none is known, with the user's context token.
    async fn target(handle: &AccountCore, user_id: UserId) -> (UserId, Option<ContextToken>) {
        match handle.recipient(&user_id, None).await {
            Ok(found) => found,
            Err(_) => (user_id, None),
        }
    }

    /// Shows "typing…" to a user until the returned guard is dropped or
    /// [finished](Typing::finish), renewing it every 5 seconds (for at most
    /// two minutes). Best-effort: without a ticket, or when the server
    /// refuses, nothing is shown and nothing fails.
    pub(crate) async fn start(&self, handle: &Arc<AccountCore>, user_id: UserId) -> Typing {
        if handle.fenced().await.is_err() {
            // This process lost the account's lease: it shows nothing.
            return Typing::inert();
        }
        let (user_id, token) = Self::target(handle, user_id).await;
        let Some(ticket) = self.ticket(handle, &user_id, token).await else {
            return Typing::inert();
        };
        let (stop_tx, stop_rx) = oneshot::channel();
        let core = handle.clone();
        let task = tokio::spawn(async move { keep_typing(core, user_id, ticket, stop_rx).await });
        Typing {
            stop: Some(stop_tx),
            task: Some(task),
        }
    }

    /// Sends one typing status (1 typing, 2 cancel) to a user.
    ///
    /// # Errors
    ///
    /// [`Error::NoTypingTicket`](crate::Error::NoTypingTicket) when getconfig
    /// gave none, else the server's or the transport's error; typing is
    /// best-effort, so most callers ignore it.
    pub(crate) async fn send(
        &self,
        handle: &AccountCore,
        user_id: UserId,
        status: TypingStatus,
    ) -> Result<(), crate::Error> {
        handle.fenced().await?;
        let (user_id, token) = Self::target(handle, user_id).await;
        let Some(ticket) = self.ticket(handle, &user_id, token).await else {
            return Err(crate::Error::NoTypingTicket { user: user_id });
        };
        handle
            .http
            .send_typing(SendTypingRequest::new(user_id.as_str(), ticket, status))
            .await
            .map(|_| ())
            .map_err(|e| handle.map_err(e))
    }
}

async fn keep_typing(
    core: Arc<AccountCore>,
    user: UserId,
    ticket: String,
    mut stop: oneshot::Receiver<()>,
) {
    let send = |status| {
        core.http.send_typing(SendTypingRequest::new(
            user.as_str(),
            ticket.clone(),
            status,
        ))
    };
    let deadline = tokio::time::Instant::now() + MAX_TYPING;
    let mut failures = 0;
    loop {
        if core.fence.get().is_some_and(|f| f.is_lost()) {
            break;
        }
        match send(TypingStatus::TYPING).await {
            Ok(_) => failures = 0,
            Err(e) => {
                failures += 1;
                tracing::debug!(error = %crate::Report::new(&e), "typing failed");
                if failures >= 2 {
                    // Like the official client: give up after 2 failed starts.
                    break;
                }
            }
        }
        tokio::select! {
            _ = &mut stop => break,
            _ = tokio::time::sleep(KEEPALIVE) => {}
            _ = tokio::time::sleep_until(deadline) => break,
        }
    }
    if let Err(e) = send(TypingStatus::CANCEL).await {
        tracing::debug!(error = %crate::Report::new(&e), "typing cancel failed");
    }
}

/// Keeps "typing…" alive; dropping it cancels the indicator (in the
/// background), [`finish`](Self::finish) cancels it and waits until the
/// cancel was sent.
#[derive(Debug)]
#[must_use = "typing stops when the guard is dropped"]
pub struct Typing {
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Typing {
    fn inert() -> Self {
        Self {
            stop: None,
            task: None,
        }
    }

    /// Whether an indicator is being shown (false when no ticket was had).
    pub fn is_active(&self) -> bool {
        self.task.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Cancels the indicator and waits until the cancel went out.
    pub async fn finish(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Typing {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_and_backoff() {
        let ok = next_entry(None, Some("t".into()), 1000, 0.5);
        assert_eq!(ok.ticket, "t");
        assert_eq!(ok.refresh_at_ms, 1000 + DAY_MS / 2);
        assert_eq!(ok.backoff_ms, 0);
        let f1 = next_entry(Some(&ok), None, 2000, 0.5);
        assert_eq!(
            (f1.ticket.as_str(), f1.backoff_ms, f1.refresh_at_ms),
            ("t", 2000, 4000)
        );
        let f2 = next_entry(Some(&f1), None, 4000, 0.5);
        assert_eq!(f2.backoff_ms, 4000);
        let mut e = f2;
        for _ in 0..20 {
            e = next_entry(Some(&e), None, 0, 0.5);
        }
        assert_eq!(e.backoff_ms, MAX_BACKOFF_MS);
        let none = next_entry(None, None, 0, 0.5);
        assert_eq!(
            (none.ticket.as_str(), none.backoff_ms),
            ("", FIRST_BACKOFF_MS)
        );
    }
}
