//! The simulator handle, its builder, and the typed scripting API.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::fault::{Fault, Route};
use crate::inbound::{Inbound, Pushed};
use crate::login::QrScript;
use crate::record::{
    DroppedDuplicate, Host, NotifyCall, RequestRecord, SentMessage, TypingCall, Violation,
};
use crate::shared::{Config, Shared, TestAccount, Urls};
use crate::state::RateLimit;

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

    /// How many bot messages a user's message allows (a bare `ret -2`
    /// after that, until the user writes again; the real server allows 10).
    pub fn reply_quota(mut self, quota: u32) -> Self {
        self.config.reply_quota = Some(quota);
        self
    }

    /// How long after a user's last message the bot may write (a bare
    /// `ret -2` after that, until the user writes again; the real server
    /// allows 24 hours). Date messages back with
    /// [`Inbound::written_ago`](crate::Inbound::written_ago).
    pub fn reply_window(mut self, window: Duration) -> Self {
        self.config.reply_window = Some(window);
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

    /// Answer confirmed logins with no `baseurl` at all, as some servers
    /// do: the client must store the host the login was made at.
    pub fn confirmed_without_base_url(mut self) -> Self {
        self.config.omit_confirmed_base_url = true;
        self
    }

    /// The `ilink_bot_id` a confirmed login answers, in place of the new
    /// account's own id (a hostile server's, with terminal escapes, say).
    /// The token answered is still the account's: calls with it work.
    pub fn confirmed_bot_id(mut self, id: impl Into<String>) -> Self {
        self.config.confirmed_bot_id = Some(id.into());
        self
    }

    /// The `ilink_user_id` a confirmed login answers, in place of the
    /// owner's id.
    pub fn confirmed_user_id(mut self, id: impl Into<String>) -> Self {
        self.config.confirmed_user_id = Some(id.into());
        self
    }

    /// The `qrcode_img_content` get_bot_qrcode answers (default: a liteapp
    /// URL naming the QR code).
    pub fn qr_content(mut self, content: impl Into<String>) -> Self {
        self.config.qr_content = Some(content.into());
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
        let shared = Arc::new(Shared::new(self.config, urls, redirect_host, rx));
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
        crate::api::push(&self.shared, bot_id, inbound)
            .unwrap_or_else(|| panic!("no account {bot_id} in the simulator"))
    }

    /// Sends refused for the reply window and for the reply budget, in
    /// that order (0 for an unknown bot).
    pub fn conversation_refusals(&self, bot_id: &str) -> (u32, u32) {
        self.shared.with_accounts(|s| {
            s.accounts
                .get(bot_id)
                .map_or((0, 0), |a| (a.window_refusals, a.quota_refusals))
        })
    }

    /// Marks a user's binding to a bot as fresh (or no longer): while it
    /// is, getconfig for that user answers a bare `ret -4` and gives no
    /// typing ticket, as the real server does just after a binding
    /// (Tencent/openclaw-weixin#268). Returns whether the bot exists.
    pub fn set_fresh_binding(&self, bot_id: &str, user: &str, fresh: bool) -> bool {
        self.shared.with_accounts(|s| {
            let Some(acct) = s.accounts.get_mut(bot_id) else {
                return false;
            };
            if fresh {
                acct.fresh_bindings.insert(user.to_owned());
            } else {
                acct.fresh_bindings.remove(user);
            }
            true
        })
    }

    /// Expires a bot's session: every call with its token answers `-14`
    /// from now on (a held poll ends at once).
    pub fn expire_session(&self, bot_id: &str) -> bool {
        self.shared.expire_session(bot_id)
    }

    /// The current token of a bot.
    pub fn token_of(&self, bot_id: &str) -> Option<String> {
        self.shared
            .with_accounts(|s| s.accounts.get(bot_id).map(|a| a.token.clone()))
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
            .with_records(|s| s.requests.iter().filter(|r| r.route == route).count())
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
            .with_accounts(|s| s.accounts.get(bot_id).map_or(0, |a| a.sends_during_penalty))
    }

    /// Messages queued for a bot and not yet delivered.
    pub fn queued(&self, bot_id: &str) -> usize {
        self.shared
            .with_accounts(|s| s.accounts.get(bot_id).map_or(0, |a| a.queue.len()))
    }

    /// getupdates requests currently held open.
    pub fn held_polls(&self) -> u32 {
        self.shared
            .with_accounts(|s| s.accounts.values().map(|a| a.polls_in_flight).sum())
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
            s.shared.with_records(|st| st.typing.len()) >= n
        })
        .await?;
        Ok(self.typing_calls())
    }
}
