//! The simulator handle, its builder, and the typed scripting API.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::fault::{Fault, Route};
use crate::inbound::{Inbound, Pushed};
use crate::login::QrScript;
use crate::record::{
    DroppedDuplicate, Host, NotifyCall, RequestRecord, SentMessage, TypingCall, Violation,
};
use crate::state::{RateLimit, State};

/// How the simulated server behaves.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) hold: Duration,
    pub(crate) replay_on_old_cursor: bool,
    pub(crate) reply_quota: Option<u32>,
    pub(crate) rate_limit: Option<RateLimit>,
    pub(crate) upload_full_url: bool,
    pub(crate) keep_media_bytes: u64,
    pub(crate) max_batch: usize,
    pub(crate) record_limit: usize,
    pub(crate) strict: bool,
    pub(crate) require_context_on_upload: bool,
    pub(crate) confirmed_base_url: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            hold: ilink_proto::consts::timeouts::LONG_POLL,
            replay_on_old_cursor: false,
            reply_quota: None,
            rate_limit: None,
            upload_full_url: false,
            keep_media_bytes: 256 * 1024 * 1024,
            max_batch: 100,
            record_limit: 100_000,
            strict: true,
            require_context_on_upload: false,
            confirmed_base_url: None,
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
    /// [`SimulatorBuilder::control`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub control: Option<String>,
}

pub(crate) struct Shared {
    state: Mutex<State>,
    changed: Notify,
    pub(crate) config: Config,
    started: Instant,
    shutdown: watch::Receiver<bool>,
    pub(crate) urls: Urls,
    /// `host:port` of the redirect listener, as `redirect_host` carries it.
    pub(crate) redirect_host: String,
}

impl Shared {
    /// Runs `f` on the locked state. Never held across an await.
    pub(crate) fn with_state<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let mut guard = self.lock();
        f(&mut guard)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock would be a simulator bug; keep
        // serving rather than poisoning every later request.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
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
        let (bot_id, owner_user_id, token) = self.with_state(|s| s.create_account());
        self.changed();
        TestAccount {
            bot_id,
            owner_user_id,
            token,
        }
    }

    /// `None` when `bot_id` is not an account of this simulator.
    pub(crate) fn push(&self, bot_id: &str, inbound: Inbound) -> Option<Pushed> {
        let pushed = crate::api::push(self, bot_id, inbound);
        self.changed();
        pushed
    }

    pub(crate) fn expire_session(&self, bot_id: &str) -> bool {
        let found = self.with_state(|s| s.expire(bot_id));
        self.changed();
        found
    }

    pub(crate) fn script_login(&self, script: QrScript) {
        self.with_state(|s| s.scripts.push_back(script));
    }

    pub(crate) fn inject(&self, fault: Fault) {
        self.with_state(|s| s.faults.push(fault));
    }

    pub(crate) fn clear_faults(&self) {
        self.with_state(|s| s.faults.clear());
    }

    pub(crate) fn reset_records(&self) {
        self.with_state(|s| {
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
        self.with_state(|s| {
            s.requests
                .iter()
                .filter(|r| route.is_none_or(|route| r.route == route))
                .cloned()
                .collect()
        })
    }

    pub(crate) fn sent(&self) -> Vec<SentMessage> {
        self.with_state(|s| s.sent.clone())
    }

    pub(crate) fn sent_count(&self) -> usize {
        self.with_state(|s| s.sent.len())
    }

    pub(crate) fn dropped_duplicates(&self) -> Vec<DroppedDuplicate> {
        self.with_state(|s| s.duplicates.clone())
    }

    pub(crate) fn typing_calls(&self) -> Vec<TypingCall> {
        self.with_state(|s| s.typing.clone())
    }

    pub(crate) fn notify_calls(&self) -> Vec<NotifyCall> {
        self.with_state(|s| s.notify.clone())
    }

    pub(crate) fn violations(&self) -> Vec<Violation> {
        self.with_state(|s| s.violations.clone())
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

/// An expectation that did not come true in time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WaitTimeout {
    /// What was awaited.
    pub what: String,
    /// How long.
    pub waited: Duration,
}

impl std::fmt::Display for WaitTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "timed out after {:?} waiting for {}",
            self.waited, self.what
        )
    }
}

impl std::error::Error for WaitTimeout {}

/// Builds a [`Simulator`].
#[derive(Debug, Default)]
#[must_use]
pub struct SimulatorBuilder {
    config: Config,
    api_port: u16,
    redirect_port: u16,
    cdn_port: u16,
    control: bool,
    control_port: u16,
    bind: Option<std::net::IpAddr>,
    tls: bool,
    refuse_http2: bool,
    max_streams: Option<u32>,
}

impl SimulatorBuilder {
    /// Serves the API and CDN hosts over HTTPS (default: plain HTTP), with a
    /// certificate from a test authority made for this simulator, valid for
    /// `localhost`, `127.0.0.1`, `::1` and the bound address. Clients trust
    /// it through [`Simulator::ca_certificate_der`] or
    /// [`Simulator::ca_certificate_pem`]. The control API stays plain HTTP.
    pub fn tls(mut self, on: bool) -> Self {
        self.tls = on;
        self
    }

    /// Refuses HTTP/2: over TLS only `http/1.1` is offered by ALPN, and
    /// plain connections are read as HTTP/1.1 only. By default both are
    /// served and the client's choice is taken.
    pub fn refuse_http2(mut self, on: bool) -> Self {
        self.refuse_http2 = on;
        self
    }

    /// The `SETTINGS_MAX_CONCURRENT_STREAMS` each HTTP/2 connection
    /// announces (default 200, hyper's server default).
    pub fn max_concurrent_streams(mut self, max: u32) -> Self {
        self.max_streams = Some(max);
        self
    }

    /// How long getupdates holds a poll when nothing is queued (default 35 s,
    /// as the real server). Also answered as `longpolling_timeout_ms`.
    pub fn hold(mut self, hold: Duration) -> Self {
        self.config.hold = hold;
        self
    }

    /// Re-deliver the batches answered after an older cursor when a client
    /// sends it again (the real server does not, by default).
    pub fn replay_on_old_cursor(mut self, on: bool) -> Self {
        self.config.replay_on_old_cursor = on;
        self
    }

    /// How many sends one context token allows (`ret -2` after that).
    pub fn reply_quota(mut self, quota: u32) -> Self {
        self.config.reply_quota = Some(quota);
        self
    }

    /// Enforce a send rate per account (`ret -2` when tripped).
    pub fn rate_limit(mut self, limit: RateLimit) -> Self {
        self.config.rate_limit = Some(limit);
        self
    }

    /// Answer getuploadurl with an `upload_full_url`.
    pub fn upload_full_url(mut self, on: bool) -> Self {
        self.config.upload_full_url = on;
        self
    }

    /// Keep the plaintext of uploads up to this size (default 256 MiB); larger
    /// uploads are checked (size, MD5) but only their digest is kept.
    pub fn keep_media_bytes(mut self, limit: u64) -> Self {
        self.config.keep_media_bytes = limit;
        self
    }

    /// At most this many messages per getupdates answer (default 100).
    pub fn max_batch(mut self, n: usize) -> Self {
        self.config.max_batch = n.max(1);
        self
    }

    /// Keep at most this many request records (default 100,000; 0 keeps none).
    pub fn record_limit(mut self, n: usize) -> Self {
        self.config.record_limit = n;
        self
    }

    /// Answer header and `base_info` violations with HTTP 400 (default on).
    /// They are recorded either way.
    pub fn strict(mut self, on: bool) -> Self {
        self.config.strict = on;
        self
    }

    /// Refuse getuploadurl without the user's `context_token` (`ret -2`), as
    /// some real accounts do.
    pub fn require_context_token_on_upload(mut self, on: bool) -> Self {
        self.config.require_context_on_upload = on;
        self
    }

    /// The `baseurl` a confirmed login answers (default: the API URL).
    pub fn confirmed_base_url(mut self, url: impl Into<String>) -> Self {
        self.config.confirmed_base_url = Some(url.into());
        self
    }

    /// Fixed ports (0, the default, picks free ones).
    pub fn ports(mut self, api: u16, cdn: u16, redirect: u16) -> Self {
        self.api_port = api;
        self.cdn_port = cdn;
        self.redirect_port = redirect;
        self
    }

    /// Serve the JSON control API on a fourth listener (default off), for
    /// driving a standalone simulator from another process. Its URL is
    /// [`Urls::control`].
    pub fn control(mut self, on: bool) -> Self {
        self.control = on;
        self
    }

    /// A fixed port for the control API (0, the default, picks a free one).
    pub fn control_port(mut self, port: u16) -> Self {
        self.control_port = port;
        self
    }

    /// The address to bind (default 127.0.0.1).
    pub fn bind(mut self, addr: std::net::IpAddr) -> Self {
        self.bind = Some(addr);
        self
    }

    /// Starts the simulator on loopback.
    ///
    /// # Errors
    ///
    /// When a listener cannot be bound.
    pub async fn start(self) -> io::Result<Simulator> {
        let ip = self.bind.unwrap_or(Ipv4Addr::LOCALHOST.into());
        let api = TcpListener::bind(SocketAddr::new(ip, self.api_port)).await?;
        let redirect = TcpListener::bind(SocketAddr::new(ip, self.redirect_port)).await?;
        let cdn = TcpListener::bind(SocketAddr::new(ip, self.cdn_port)).await?;
        let control = match self.control {
            true => Some(TcpListener::bind(SocketAddr::new(ip, self.control_port)).await?),
            false => None,
        };
        let ca = match self.tls {
            true => Some(crate::tls::TestCa::new(self.bind)?),
            false => None,
        };
        let wire = crate::server::Wire {
            tls: ca
                .as_ref()
                .map(|ca| ca.server_config(!self.refuse_http2))
                .transpose()?
                .map(tokio_rustls::TlsAcceptor::from),
            http2: !self.refuse_http2,
            max_streams: self.max_streams,
        };
        let scheme = if ca.is_some() { "https" } else { "http" };
        let url = |l: &TcpListener| -> io::Result<String> {
            let addr = l.local_addr()?;
            Ok(format!("{scheme}://{addr}"))
        };
        let redirect_host = redirect.local_addr()?.to_string();
        let urls = Urls {
            api: url(&api)?,
            redirect: url(&redirect)?,
            cdn: format!("{}/c2c", url(&cdn)?),
            control: control
                .as_ref()
                .map(|l| l.local_addr().map(|addr| format!("http://{addr}")))
                .transpose()?,
        };
        let (tx, rx) = watch::channel(false);
        let shared = Arc::new(Shared {
            state: Mutex::new(State::new()),
            changed: Notify::new(),
            config: self.config,
            started: Instant::now(),
            shutdown: rx,
            urls,
            redirect_host,
        });
        let mut tasks = vec![
            crate::server::serve(api, Host::Api, shared.clone(), wire.clone()),
            crate::server::serve(redirect, Host::Redirect, shared.clone(), wire.clone()),
            crate::server::serve(cdn, Host::Cdn, shared.clone(), wire),
        ];
        if let Some(control) = control {
            tasks.push(crate::control::serve(control, shared.clone()));
        }
        tracing::info!(api = %shared.urls.api, cdn = %shared.urls.cdn, "simulator started");
        Ok(Simulator {
            shared,
            shutdown: tx,
            tasks,
            ca: ca.map(|ca| (ca.ca_der.to_vec(), ca.ca_pem)),
        })
    }
}

/// A running simulator of the iLink API and CDN.
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// use ilink_testkit::{Inbound, Simulator};
///
/// let sim = Simulator::start().await?;
/// let bot = sim.create_account();
/// sim.push(&bot.bot_id, Inbound::text("alice@im.wechat", "hi"));
/// // ... point a client at sim.urls().api with bot.token, then:
/// let sent = sim.wait_for_sent(1, std::time::Duration::from_secs(5)).await;
/// # let _ = sent;
/// # Ok(()) }
/// ```
pub struct Simulator {
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    /// The test authority's certificate (DER, PEM), when serving TLS.
    ca: Option<(Vec<u8>, String)>,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator")
            .field("urls", &self.shared.urls)
            .finish_non_exhaustive()
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl Simulator {
    /// A builder for a simulator with non-default behaviour.
    pub fn builder() -> SimulatorBuilder {
        SimulatorBuilder::default()
    }

    /// Starts a simulator with the default behaviour on free loopback ports.
    ///
    /// # Errors
    ///
    /// When a listener cannot be bound.
    pub async fn start() -> io::Result<Simulator> {
        Self::builder().start().await
    }

    /// The test authority's certificate (DER) when the simulator serves
    /// TLS ([`SimulatorBuilder::tls`]): the one root a client must trust.
    pub fn ca_certificate_der(&self) -> Option<&[u8]> {
        self.ca.as_ref().map(|(der, _)| der.as_slice())
    }

    /// The test authority's certificate as PEM, for tools that read files
    /// (`NODE_EXTRA_CA_CERTS`, `curl --cacert`).
    pub fn ca_certificate_pem(&self) -> Option<&str> {
        self.ca.as_ref().map(|(_, pem)| pem.as_str())
    }

    /// The base URLs.
    pub fn urls(&self) -> &Urls {
        &self.shared.urls
    }

    /// The API base URL.
    pub fn api_url(&self) -> &str {
        &self.shared.urls.api
    }

    /// The CDN base URL.
    pub fn cdn_url(&self) -> &str {
        &self.shared.urls.cdn
    }

    /// The control API's base URL, when enabled.
    pub fn control_url(&self) -> Option<&str> {
        self.shared.urls.control.as_deref()
    }

    /// Stops serving: listeners close and held requests end. The listeners
    /// are closed when this returns.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        for task in std::mem::take(&mut self.tasks) {
            task.abort();
            let _ = task.await;
        }
    }

    // ------------------------------------------------------------ scripting

    /// Creates a bot account with a live token, as a completed login would.
    pub fn create_account(&self) -> TestAccount {
        self.shared.create_account()
    }

    /// Queues an inbound message for a bot (and wakes its held poll).
    ///
    /// # Panics
    ///
    /// When `bot_id` is not an account of this simulator (a test bug).
    pub fn push(&self, bot_id: &str, inbound: Inbound) -> Pushed {
        self.shared
            .push(bot_id, inbound)
            .unwrap_or_else(|| panic!("no account {bot_id} in the simulator"))
    }

    /// Expires a bot's session: every call with its token answers `-14`
    /// from now on (a held poll ends at once).
    pub fn expire_session(&self, bot_id: &str) -> bool {
        self.shared.expire_session(bot_id)
    }

    /// The current token of a bot.
    pub fn token_of(&self, bot_id: &str) -> Option<String> {
        self.shared
            .with_state(|s| s.accounts.get(bot_id).map(|a| a.token.clone()))
    }

    /// The script the next QR code (from get_bot_qrcode) plays. Without a
    /// script, a QR code plays [`QrScript::quick`].
    pub fn script_login(&self, script: QrScript) {
        self.shared.script_login(script);
    }

    /// Arms a fault.
    pub fn inject(&self, fault: Fault) {
        self.shared.inject(fault);
    }

    /// Disarms every fault.
    pub fn clear_faults(&self) {
        self.shared.clear_faults();
    }

    /// Forgets every record (requests, sends, typing, notify, violations);
    /// accounts, queues and CDN objects stay.
    pub fn reset_records(&self) {
        self.shared.reset_records();
    }

    // ------------------------------------------------------------ reading back

    /// Every request received (up to the record limit), oldest first.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared.requests(None)
    }

    /// The requests of one route.
    pub fn requests_to(&self, route: Route) -> Vec<RequestRecord> {
        self.shared.requests(Some(route))
    }

    /// How many requests of a route arrived.
    pub fn count(&self, route: Route) -> usize {
        self.shared
            .with_state(|s| s.requests.iter().filter(|r| r.route == route).count())
    }

    /// Messages accepted by sendmessage, in order.
    pub fn sent(&self) -> Vec<SentMessage> {
        self.shared.sent()
    }

    /// Sends dropped because their `client_id` repeated.
    pub fn dropped_duplicates(&self) -> Vec<DroppedDuplicate> {
        self.shared.dropped_duplicates()
    }

    /// sendtyping calls.
    pub fn typing_calls(&self) -> Vec<TypingCall> {
        self.shared.typing_calls()
    }

    /// notifystart/notifystop calls.
    pub fn notify_calls(&self) -> Vec<NotifyCall> {
        self.shared.notify_calls()
    }

    /// Protocol violations seen.
    pub fn violations(&self) -> Vec<Violation> {
        self.shared.violations()
    }

    /// Sends a bot attempted while its rate-limit penalty was running.
    pub fn sends_during_penalty(&self, bot_id: &str) -> u32 {
        self.shared
            .with_state(|s| s.accounts.get(bot_id).map_or(0, |a| a.sends_during_penalty))
    }

    /// Messages queued for a bot and not yet delivered.
    pub fn queued(&self, bot_id: &str) -> usize {
        self.shared
            .with_state(|s| s.accounts.get(bot_id).map_or(0, |a| a.queue.len()))
    }

    /// getupdates requests currently held open.
    pub fn held_polls(&self) -> u32 {
        self.shared
            .with_state(|s| s.accounts.values().map(|a| a.polls_in_flight).sum())
    }

    // ------------------------------------------------------------ waiting

    /// Waits until `condition` holds, re-checking after every change the
    /// simulator sees (no polling loop with sleeps).
    ///
    /// # Errors
    ///
    /// [`WaitTimeout`] when it does not hold within `timeout`.
    pub async fn wait_until(
        &self,
        what: &str,
        timeout: Duration,
        mut condition: impl FnMut(&Simulator) -> bool,
    ) -> Result<(), WaitTimeout> {
        if self.shared.wait_until(timeout, || condition(self)).await {
            Ok(())
        } else {
            Err(WaitTimeout {
                what: what.to_owned(),
                waited: timeout,
            })
        }
    }

    /// Waits until at least `n` messages were sent, and returns them all.
    ///
    /// # Errors
    ///
    /// [`WaitTimeout`] when fewer arrive within `timeout`.
    pub async fn wait_for_sent(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<SentMessage>, WaitTimeout> {
        self.wait_until(&format!("{n} sent messages"), timeout, |s| {
            s.shared.sent_count() >= n
        })
        .await?;
        Ok(self.sent())
    }

    /// Waits until at least `n` requests of `route` arrived.
    ///
    /// # Errors
    ///
    /// [`WaitTimeout`] when fewer arrive within `timeout`.
    pub async fn wait_for_requests(
        &self,
        route: Route,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<RequestRecord>, WaitTimeout> {
        self.wait_until(&format!("{n} {route:?} requests"), timeout, |s| {
            s.count(route) >= n
        })
        .await?;
        Ok(self.requests_to(route))
    }

    /// Waits until at least `n` typing calls arrived.
    ///
    /// # Errors
    ///
    /// [`WaitTimeout`] when fewer arrive within `timeout`.
    pub async fn wait_for_typing(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<TypingCall>, WaitTimeout> {
        self.wait_until(&format!("{n} typing calls"), timeout, |s| {
            s.shared.with_state(|st| st.typing.len()) >= n
        })
        .await?;
        Ok(self.typing_calls())
    }
}
