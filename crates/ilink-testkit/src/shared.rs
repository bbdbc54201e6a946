//! What every part of the simulator shares: its configuration, its URLs,
//! its state by owner (accounts, CDN, records, faults), each behind a lock
//! of its own, and a change signal. The servers, the endpoint
//! handlers and the control API depend on this module; it depends on none of
//! them.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::{Notify, watch};

use crate::fault::{Fault, Route};
use crate::login::QrScript;
use crate::record::{
    DroppedDuplicate, NotifyCall, RequestRecord, SentMessage, TypingCall, Violation,
};
use crate::state::{Accounts, Cdn, Faults, RateLimit, Records};

/// How the simulated server behaves.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) hold: Duration,
    pub(crate) replay_on_old_cursor: bool,
    pub(crate) reply_quota: Option<u32>,
    pub(crate) reply_window: Option<std::time::Duration>,
    pub(crate) rate_limit: Option<RateLimit>,
    pub(crate) upload_full_url: bool,
    pub(crate) keep_media_bytes: u64,
    pub(crate) max_batch: usize,
    pub(crate) record_limit: usize,
    pub(crate) strict: bool,
    pub(crate) require_context_on_upload: bool,
    pub(crate) confirmed_base_url: Option<String>,
    pub(crate) omit_confirmed_base_url: bool,
    pub(crate) confirmed_bot_id: Option<String>,
    pub(crate) confirmed_user_id: Option<String>,
    pub(crate) qr_content: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            hold: ilink_proto::consts::timeouts::LONG_POLL,
            replay_on_old_cursor: false,
            reply_quota: None,
            reply_window: None,
            rate_limit: None,
            upload_full_url: false,
            keep_media_bytes: 256 * 1024 * 1024,
            max_batch: 100,
            record_limit: 100_000,
            strict: true,
            require_context_on_upload: false,
            confirmed_base_url: None,
            omit_confirmed_base_url: false,
            confirmed_bot_id: None,
            confirmed_user_id: None,
            qr_content: None,
        }
    }
}

/// The base URLs the simulator serves.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Urls {
    /// The API base URL.
    pub api: String,
    /// The second API host, the target of `scaned_but_redirect`.
    pub redirect: String,
    /// The CDN base URL.
    pub cdn: String,
    /// The JSON control API's base URL, when enabled with
    /// [`SimulatorBuilder::control`](crate::SimulatorBuilder::control).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub control: Option<String>,
}

/// See the module docs. A handler that needs two parts takes their locks
/// in the order of the fields (accounts, CDN, records, faults), and never
/// holds one across an await.
pub(crate) struct Shared {
    accounts: Mutex<Accounts>,
    cdn: Mutex<Cdn>,
    records: Mutex<Records>,
    faults: Mutex<Faults>,
    changed: Notify,
    pub(crate) config: Config,
    started: Instant,
    shutdown: watch::Receiver<bool>,
    pub(crate) urls: Urls,
    /// `host:port` of the redirect listener, as `redirect_host` carries it.
    pub(crate) redirect_host: String,
}

impl Shared {
    /// Fresh state for a simulator with this configuration and these URLs;
    /// `shutdown` turning true stops it.
    pub(crate) fn new(
        config: Config,
        urls: Urls,
        redirect_host: String,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        Self {
            accounts: Mutex::default(),
            cdn: Mutex::default(),
            records: Mutex::default(),
            faults: Mutex::default(),
            changed: Notify::new(),
            config,
            started: Instant::now(),
            shutdown,
            urls,
            redirect_host,
        }
    }

    /// Runs `f` on the locked accounts. Never held across an await.
    pub(crate) fn with_accounts<R>(&self, f: impl FnOnce(&mut Accounts) -> R) -> R {
        f(&mut lock(&self.accounts))
    }

    /// Runs `f` on the locked CDN.
    pub(crate) fn with_cdn<R>(&self, f: impl FnOnce(&mut Cdn) -> R) -> R {
        f(&mut lock(&self.cdn))
    }

    /// Runs `f` on the locked records.
    pub(crate) fn with_records<R>(&self, f: impl FnOnce(&mut Records) -> R) -> R {
        f(&mut lock(&self.records))
    }

    /// Runs `f` on the locked faults.
    pub(crate) fn with_faults<R>(&self, f: impl FnOnce(&mut Faults) -> R) -> R {
        f(&mut lock(&self.faults))
    }

    /// Wakes everyone waiting for a change.
    pub(crate) fn changed(&self) {
        self.changed.notify_waiters();
    }

    pub(crate) fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    pub(crate) fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.clone()
    }

    pub(crate) async fn until_shutdown(&self) {
        let mut rx = self.shutdown.clone();
        while !*rx.borrow() {
            if rx.changed().await.is_err() {
                return;
            }
        }
    }

    pub(crate) async fn sleep_or_shutdown(&self, d: Duration) {
        tokio::select! {
            _ = tokio::time::sleep(d) => {}
            _ = self.until_shutdown() => {}
        }
    }

    // The scripting and read-back operations, shared by [`Simulator`] and the
    // control API.

    pub(crate) fn create_account(&self) -> TestAccount {
        let (bot_id, owner_user_id, token) = self.with_accounts(|s| s.create_account());
        self.changed();
        TestAccount {
            bot_id,
            owner_user_id,
            token,
        }
    }

    pub(crate) fn expire_session(&self, bot_id: &str) -> bool {
        let found = self.with_accounts(|s| s.expire(bot_id));
        self.changed();
        found
    }

    pub(crate) fn script_login(&self, script: QrScript) {
        self.with_accounts(|s| s.scripts.push_back(script));
    }

    pub(crate) fn inject(&self, fault: Fault) {
        self.with_faults(|s| s.faults.push(fault));
    }

    pub(crate) fn clear_faults(&self) {
        self.with_faults(|s| s.faults.clear());
    }

    pub(crate) fn reset_records(&self) {
        self.with_records(|s| {
            s.requests.clear();
            s.sent.clear();
            s.duplicates.clear();
            s.typing.clear();
            s.notify.clear();
            s.violations.clear();
        });
    }

    /// The requests of one route, or all of them.
    pub(crate) fn requests(&self, route: Option<Route>) -> Vec<RequestRecord> {
        self.with_records(|s| {
            s.requests
                .iter()
                .filter(|r| route.is_none_or(|route| r.route == route))
                .cloned()
                .collect()
        })
    }

    pub(crate) fn sent(&self) -> Vec<SentMessage> {
        self.with_records(|s| s.sent.clone())
    }

    pub(crate) fn sent_count(&self) -> usize {
        self.with_records(|s| s.sent.len())
    }

    pub(crate) fn dropped_duplicates(&self) -> Vec<DroppedDuplicate> {
        self.with_records(|s| s.duplicates.clone())
    }

    pub(crate) fn typing_calls(&self) -> Vec<TypingCall> {
        self.with_records(|s| s.typing.clone())
    }

    pub(crate) fn notify_calls(&self) -> Vec<NotifyCall> {
        self.with_records(|s| s.notify.clone())
    }

    pub(crate) fn violations(&self) -> Vec<Violation> {
        self.with_records(|s| s.violations.clone())
    }

    /// Waits until `condition` holds, re-checking after every change; `false`
    /// when it still does not hold at the deadline (or at shutdown).
    pub(crate) async fn wait_until(
        &self,
        timeout: Duration,
        mut condition: impl FnMut() -> bool,
    ) -> bool {
        // A timeout too large for the clock waits without a deadline.
        let deadline = tokio::time::Instant::now().checked_add(timeout);
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if condition() {
                return true;
            }
            let expired = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = notified => {}
                _ = expired => return condition(),
                _ = self.until_shutdown() => return condition(),
            }
        }
    }
}

/// A bot account the simulator knows.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TestAccount {
    /// The account id (`...@im.bot`).
    pub bot_id: String,
    /// The user who owns it (`...@im.wechat`).
    pub owner_user_id: String,
    /// Its live bot token.
    pub token: String,
}

impl std::fmt::Debug for TestAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestAccount")
            .field("bot_id", &self.bot_id)
            .field("owner_user_id", &self.owner_user_id)
            .field("token", &"<redacted>")
            .finish()
    }
}

/// A part's lock. A panic while holding one would be a simulator bug; keep
/// serving rather than poisoning every later request.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
