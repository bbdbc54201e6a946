//! The client: one connection pool and one store for any number of bot
//! accounts, and a handle bound to one account.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use ilink_http::Transport;
use ilink_proto::{BotToken, ContextToken};

use crate::Error;
use crate::backoff::Backoff;
use crate::health::{Health, HealthCell};
use crate::store::{Credentials, MemoryStore, Store};

/// Builds a [`Client`].
///
/// ```no_run
/// # fn build() -> Result<(), ilink::Error> {
/// use ilink::{Client, FileStore};
///
/// // A bot with a token you already have:
/// let bot = Client::builder().token("your-bot-token").build()?;
///
/// // Or every account a file store knows, the most recent one bound:
/// let client = Client::builder().store(FileStore::open("state")?).build()?;
/// # let _ = (bot, client); Ok(()) }
/// ```
#[must_use]
#[derive(Default)]
pub struct ClientBuilder {
    token: Option<BotToken>,
    account_id: Option<String>,
    base_url: Option<String>,
    cdn_base_url: Option<String>,
    login_base_url: Option<String>,
    app_id: Option<String>,
    bot_agent: Option<String>,
    route_tag: Option<String>,
    client_version: Option<String>,
    long_poll_timeout: Option<Duration>,
    long_poll_margin: Option<Duration>,
    api_timeout: Option<Duration>,
    config_timeout: Option<Duration>,
    store: Option<Arc<dyn Store>>,
    transport: Option<Transport>,
    config: Config,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("token", &self.token)
            .field("account_id", &self.account_id)
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

/// Client-wide behaviour.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) poll_backoff: Backoff,
    pub(crate) send_attempts: u32,
    pub(crate) send_backoff: Backoff,
    pub(crate) qr_poll_interval: Duration,
    pub(crate) login_deadline: Duration,
    pub(crate) client_id_prefix: String,
    pub(crate) throttle_cooldown: Duration,
    pub(crate) pacing: crate::pacing::Pacing,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            poll_backoff: Backoff::default(),
            send_attempts: 3,
            send_backoff: Backoff::new(Duration::from_millis(500), Duration::from_secs(4)),
            qr_poll_interval: ilink_proto::consts::timeouts::QR_POLL_INTERVAL,
            login_deadline: ilink_proto::consts::timeouts::LOGIN,
            client_id_prefix: "ilink".to_owned(),
            throttle_cooldown: Duration::from_secs(10 * 60),
            pacing: crate::pacing::Pacing::default(),
        }
    }
}

impl ClientBuilder {
    /// Acts as the bot with this token (no stored login needed).
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(BotToken::new(token));
        self
    }

    /// The account id: with [`token`](Self::token), names the store namespace
    /// (default: the id part of the token, else `"default"`); without, the
    /// stored login to use (default: the most recent one).
    pub fn account(mut self, account_id: impl Into<String>) -> Self {
        self.account_id = Some(account_id.into());
        self
    }

    /// The API base URL (default: the official host, or the one the stored
    /// login returned).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The CDN base URL.
    pub fn cdn_base_url(mut self, url: impl Into<String>) -> Self {
        self.cdn_base_url = Some(url.into());
        self
    }

    /// Where QR logins start (default: the API base URL).
    pub fn login_base_url(mut self, url: impl Into<String>) -> Self {
        self.login_base_url = Some(url.into());
        self
    }

    /// The app id (`iLink-App-Id`, default `bot`).
    pub fn app_id(mut self, app_id: impl Into<String>) -> Self {
        self.app_id = Some(app_id.into());
        self
    }

    /// The `bot_agent` sent in `base_info` (sanitized to the protocol's grammar).
    pub fn bot_agent(mut self, agent: impl Into<String>) -> Self {
        self.bot_agent = Some(agent.into());
        self
    }

    /// A route tag (`SKRouteTag`).
    pub fn route_tag(mut self, tag: impl Into<String>) -> Self {
        self.route_tag = Some(tag.into());
        self
    }

    /// The client version reported in headers and `base_info`.
    pub fn client_version(mut self, version: impl Into<String>) -> Self {
        self.client_version = Some(version.into());
        self
    }

    /// The long-poll timeout when the server gives no hint (default 35 s).
    pub fn long_poll_timeout(mut self, timeout: Duration) -> Self {
        self.long_poll_timeout = Some(timeout);
        self
    }

    /// What a long-poll waits beyond the server's hold time before giving up
    /// (default 5 s).
    pub fn long_poll_margin(mut self, margin: Duration) -> Self {
        self.long_poll_margin = Some(margin);
        self
    }

    /// The timeout of sendmessage and getuploadurl (default 15 s).
    pub fn api_timeout(mut self, timeout: Duration) -> Self {
        self.api_timeout = Some(timeout);
        self
    }

    /// The timeout of getconfig, sendtyping and notify calls (default 10 s).
    pub fn config_timeout(mut self, timeout: Duration) -> Self {
        self.config_timeout = Some(timeout);
        self
    }

    /// Where state is kept (default: in memory).
    pub fn store(mut self, store: impl Store) -> Self {
        self.store = Some(Arc::new(store));
        self
    }

    /// A shared store.
    pub fn shared_store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = Some(store);
        self
    }

    /// Uses an existing transport (its URLs and timeouts win over the
    /// builder's).
    pub fn transport(mut self, transport: Transport) -> Self {
        self.transport = Some(transport);
        self
    }

    /// The backoff between failed polls (default 2 s doubling to 30 s).
    pub fn poll_backoff(mut self, backoff: Backoff) -> Self {
        self.config.poll_backoff = backoff;
        self
    }

    /// Attempts per send on retryable failures, with the same `client_id`
    /// (default 3).
    pub fn send_attempts(mut self, attempts: u32) -> Self {
        self.config.send_attempts = attempts.max(1);
        self
    }

    /// The backoff between send attempts (default 0.5 s doubling to 4 s).
    pub fn send_backoff(mut self, backoff: Backoff) -> Self {
        self.config.send_backoff = backoff;
        self
    }

    /// How long sends are held after the server throttled one (`ret -2`;
    /// default 10 minutes; the real penalty lasts up to an hour and every
    /// attempt during it prolongs it).
    pub fn throttle_cooldown(mut self, cooldown: Duration) -> Self {
        self.config.throttle_cooldown = cooldown;
        self
    }

    /// Per-account send pacing (default: a burst of 2, then one send every
    /// 700 ms).
    pub fn pacing(mut self, pacing: crate::pacing::Pacing) -> Self {
        self.config.pacing = pacing;
        self
    }

    /// The prefix of generated `client_id`s (default `ilink`).
    pub fn client_id_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.config.client_id_prefix = prefix.into();
        self
    }

    /// The pause between QR status polls (default 1 s).
    pub fn qr_poll_interval(mut self, interval: Duration) -> Self {
        self.config.qr_poll_interval = interval;
        self
    }

    /// The overall QR login deadline (default 8 minutes).
    pub fn login_deadline(mut self, deadline: Duration) -> Self {
        self.config.login_deadline = deadline;
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    ///
    /// [`Error::Http`] when the transport cannot be built,
    /// [`Error::NotLoggedIn`] when [`account`](Self::account) names no stored
    /// login, [`Error::Store`] when the store fails.
    pub fn build(self) -> Result<Client, Error> {
        let transport = match self.transport {
            Some(t) => t,
            None => {
                let mut b = Transport::builder();
                if let Some(u) = &self.base_url {
                    b = b.api_base_url(u.clone());
                }
                if let Some(u) = &self.cdn_base_url {
                    b = b.cdn_base_url(u.clone());
                }
                if let Some(v) = &self.app_id {
                    b = b.app_id(v.clone());
                }
                if let Some(v) = &self.bot_agent {
                    b = b.bot_agent(v.clone());
                }
                if let Some(v) = &self.route_tag {
                    b = b.route_tag(v.clone());
                }
                if let Some(v) = &self.client_version {
                    b = b.client_version(v.clone());
                }
                if let Some(t) = self.long_poll_timeout {
                    b = b.long_poll_timeout(t);
                }
                if let Some(t) = self.long_poll_margin {
                    b = b.long_poll_margin(t);
                }
                if let Some(t) = self.api_timeout {
                    b = b.api_timeout(t);
                }
                if let Some(t) = self.config_timeout {
                    b = b.config_timeout(t);
                }
                b.build().map_err(Error::Http)?
            }
        };
        let store = self.store.unwrap_or_else(|| Arc::new(MemoryStore::new()));
        let login_base_url = self
            .login_base_url
            .unwrap_or_else(|| transport.api_base_url().to_owned());
        let shared = Arc::new(Shared {
            transport,
            store,
            config: self.config,
            login_base_url,
            explicit_base_url: self.base_url.is_some(),
            accounts: Mutex::new(HashMap::new()),
        });
        let client = Client {
            shared,
            account: None,
        };
        let credentials = match (self.token, self.account_id) {
            (Some(token), account) => {
                let id = account.unwrap_or_else(|| account_from_token(token.expose()));
                Some(Credentials::new(id, token))
            }
            (None, Some(id)) => Some(
                client
                    .shared
                    .store
                    .load_credentials(&id)?
                    .ok_or(Error::NotLoggedIn(id))?,
            ),
            (None, None) => client.shared.store.accounts()?.into_iter().next(),
        };
        Ok(match credentials {
            Some(c) => client.with_credentials(&c),
            None => client,
        })
    }
}

/// The id part of a token that looks like `<id>@im.bot:<secret>`.
fn account_from_token(token: &str) -> String {
    match token.split_once(':') {
        Some((id, _)) if id.ends_with("@im.bot") => id.to_owned(),
        _ => "default".to_owned(),
    }
}

pub(crate) struct Shared {
    pub(crate) transport: Transport,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) config: Config,
    pub(crate) login_base_url: String,
    explicit_base_url: bool,
    accounts: Mutex<HashMap<String, Weak<AccountHandle>>>,
}

/// One account's connection to the API, its health and its caches.
pub(crate) struct AccountHandle {
    pub(crate) id: String,
    pub(crate) http: ilink_http::Account,
    pub(crate) health: HealthCell,
    pub(crate) typing: crate::typing::TypingCache,
    pub(crate) pacer: crate::pacing::Pacer,
    /// Recent inbound messages, for resolving quotes by `svr_id`.
    pub(crate) recent: crate::quote::RecentMessages,
}

/// A client of the iLink Bot API, bound to one bot account (or to none yet,
/// before a login).
///
/// Cheap to clone: clones share the connection pool, the store and the
/// account state. One process can drive many accounts over one pool with
/// [`for_account`](Self::for_account); over HTTP/2 the held long-polls of
/// every account on one host share a few connections, over HTTP/1.1 each
/// holds one (see [`TransportBuilder::http2`](crate::http::TransportBuilder::http2)).
#[derive(Clone)]
pub struct Client {
    pub(crate) shared: Arc<Shared>,
    pub(crate) account: Option<Arc<AccountHandle>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("account", &self.account_id())
            .field("base_url", &self.shared.transport.api_base_url())
            .finish_non_exhaustive()
    }
}

const _: () = {
    const fn assert_send_sync<T: Send + Sync + Clone + 'static>() {}
    assert_send_sync::<Client>();
};

impl Client {
    /// A builder.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The bound account's id.
    pub fn account_id(&self) -> Option<&str> {
        self.account.as_deref().map(|a| a.id.as_str())
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.shared.store
    }

    /// The transport, for raw access to every endpoint.
    pub fn transport(&self) -> &Transport {
        &self.shared.transport
    }

    /// The bound account's raw endpoint handle (every endpoint, no retries,
    /// no bookkeeping).
    ///
    /// # Errors
    ///
    /// [`Error::NotLoggedIn`] when no account is bound.
    pub fn raw(&self) -> Result<&ilink_http::Account, Error> {
        Ok(&self.handle()?.http)
    }

    /// The same client bound to another stored account (sharing the pool).
    ///
    /// # Errors
    ///
    /// [`Error::NotLoggedIn`] when the store has no login for it.
    pub fn for_account(&self, account_id: &str) -> Result<Client, Error> {
        let creds = self
            .shared
            .store
            .load_credentials(account_id)?
            .ok_or_else(|| Error::NotLoggedIn(account_id.to_owned()))?;
        Ok(self.with_credentials(&creds))
    }

    /// The same client bound to the account of these credentials (not
    /// saved; see [`Store::save_credentials`]).
    pub fn with_credentials(&self, credentials: &Credentials) -> Client {
        let mut registry = self
            .shared
            .accounts
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(existing) = registry
            .get(&credentials.account_id)
            .and_then(Weak::upgrade)
            .filter(|h| h.http.token() == &credentials.bot_token)
        {
            return Client {
                shared: self.shared.clone(),
                account: Some(existing),
            };
        }
        let mut http = self.shared.transport.account(credentials.bot_token.clone());
        if !self.shared.explicit_base_url
            && let Some(url) = credentials.base_url.as_deref().filter(|u| !u.is_empty())
        {
            if ilink_http::is_trusted_base_url(url) {
                http = http.with_base_url(url);
            } else {
                // A saved file that names such a URL was not written by
                // us: the token stays on the default host.
                tracing::warn!(
                    account = %credentials.account_id,
                    "the saved API base URL is neither https nor loopback; using the default"
                );
            }
        }
        let handle = Arc::new(AccountHandle {
            id: credentials.account_id.clone(),
            http,
            health: HealthCell::default(),
            typing: crate::typing::TypingCache::default(),
            pacer: crate::pacing::Pacer::default(),
            recent: crate::quote::RecentMessages::default(),
        });
        handle.pacer.set(self.shared.config.pacing);
        registry.retain(|_, w| w.strong_count() > 0);
        registry.insert(credentials.account_id.clone(), Arc::downgrade(&handle));
        Client {
            shared: self.shared.clone(),
            account: Some(handle),
        }
    }

    /// The health of the bound account.
    pub fn health(&self) -> Option<Health> {
        self.account.as_deref().map(|a| a.health.snapshot())
    }

    /// The health of every account with a live handle in this process.
    pub fn all_health(&self) -> Vec<(String, Health)> {
        let registry = self
            .shared
            .accounts
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let mut all: Vec<(String, Health)> = registry
            .iter()
            .filter_map(|(id, w)| w.upgrade().map(|h| (id.clone(), h.health.snapshot())))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    /// The cached context token for a user of the bound account.
    ///
    /// # Errors
    ///
    /// [`Error::NotLoggedIn`] or a store failure.
    pub async fn context_token(&self, user_id: &str) -> Result<Option<ContextToken>, Error> {
        let handle = self.handle()?;
        let id = handle.id.clone();
        let user = user_id.to_owned();
        self.blocking(move |s| s.load_context_token(&id, &user))
            .await
    }

    pub(crate) fn handle(&self) -> Result<&Arc<AccountHandle>, Error> {
        self.account
            .as_ref()
            .ok_or_else(|| Error::NotLoggedIn("(no account bound)".to_owned()))
    }

    /// Runs a store call off the async workers (file stores block on fsync).
    pub(crate) async fn blocking<T, F>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Store) -> Result<T, crate::store::StoreError> + Send + 'static,
    {
        let store = self.shared.store.clone();
        match tokio::task::spawn_blocking(move || f(store.as_ref())).await {
            Ok(result) => result.map_err(Error::Store),
            Err(join) => Err(Error::Io(std::io::Error::other(format!(
                "store task failed: {join}"
            )))),
        }
    }

    /// Maps a transport error, marking the account's session expired on -14.
    pub(crate) fn map_err(&self, handle: &AccountHandle, err: ilink_http::Error) -> Error {
        let mapped = Error::from_http(&handle.id, err);
        if mapped.is_session_expired() {
            handle.health.session_expired();
        }
        mapped
    }
}
