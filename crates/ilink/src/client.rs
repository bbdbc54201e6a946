//! The client (what accounts share: the connection pool, the store, login)
//! and the bot handle (one account).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use ilink_http::{Retry, Transport, TransportBuilder};
use ilink_proto::AccountId;

use crate::Error;
use crate::account::AccountCore;
use crate::config::Config;
use crate::handle::AccountHandle;
use crate::health::Health;
use crate::store::{Credentials, MemoryStore, Store};

/// Builds a [`Client`].
///
/// Transport settings (URLs, timeouts, TLS roots, HTTP/2) are the
/// [`TransportBuilder`]'s: hand one to [`transport`](Self::transport).
///
/// ```no_run
/// # fn build() -> Result<(), ilink::Error> {
/// use std::time::Duration;
/// use ilink::{Client, SqliteStore};
/// use ilink::http::Transport;
///
/// let client = Client::builder()
///     .store(SqliteStore::open("state")?)
///     .transport(Transport::builder().api_timeout(Duration::from_secs(20)))
///     .build()?;
/// # let _ = client; Ok(()) }
/// ```
#[must_use]
#[derive(Default)]
pub struct ClientBuilder {
    transport: Option<TransportBuilder>,
    shared_transport: Option<Transport>,
    login_base_url: Option<String>,
    store: Option<Arc<dyn Store>>,
    holder: Option<String>,
    config: Config,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("login_base_url", &self.login_base_url)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// The transport's settings (default: [`Transport::builder()`]).
    pub fn transport(mut self, transport: TransportBuilder) -> Self {
        self.transport = Some(transport);
        self.shared_transport = None;
        self
    }

    /// A transport already built, shared with other clients (one pool).
    pub fn shared_transport(mut self, transport: Transport) -> Self {
        self.shared_transport = Some(transport);
        self.transport = None;
        self
    }

    /// Where QR logins start (default: the transport's API base URL).
    pub fn login_base_url(mut self, url: impl Into<String>) -> Self {
        self.login_base_url = Some(url.into());
        self
    }

    /// Where state is kept (default: in memory).
    pub fn store(mut self, store: impl Store) -> Self {
        self.store = Some(Arc::new(store));
        self
    }

    /// A store shared with other clients.
    pub fn shared_store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = Some(store);
        self
    }

    /// The backoff between failed polls: default 2 s doubling to 30 s,
    /// ±20 %, as the official client paces itself. The runner retries
    /// without end unless the policy has attempts or a deadline: then a run
    /// whose polls failed that many times in a row, or for that long, stops
    /// with the last error.
    pub fn poll_retry(mut self, retry: Retry) -> Self {
        self.config.poll_retry = retry;
        self
    }

    /// How a send that failed on a retryable error is tried again, always
    /// with the same `client_id`: default 3 attempts, 0.5 s doubling to 4 s
    /// (±20 %). Its backoff also paces the runner's outbox drain.
    pub fn send_retry(mut self, retry: Retry) -> Self {
        self.config.send_retry = retry;
        self
    }

    /// The longest account-wide send cooldown (default 10 minutes). A
    /// cooldown starts only on evidence that the server limits the account
    /// rather than one conversation (see [`crate::outbox`]); the first lasts
    /// [`FIRST_COOLDOWN`](crate::outbox::FIRST_COOLDOWN), each further one
    /// in a row twice the last, up to this. Sends meanwhile wait in the
    /// outbox: the real penalty lasts up to an hour, and every attempt
    /// during it prolongs it.
    pub fn throttle_cooldown(mut self, cooldown: Duration) -> Self {
        self.config.throttle_cooldown = cooldown;
        self
    }

    /// The reply limits of every conversation (default: 10 messages per
    /// user message, within 24 hours of it, as the server applies them). A
    /// send beyond them fails at once with
    /// [`Error::ConversationClosed`](crate::Error::ConversationClosed),
    /// without reaching the server. [`ReplyLimits::none`] turns them off
    /// (the server still applies its own).
    ///
    /// [`ReplyLimits::none`]: crate::store::ReplyLimits::none
    pub fn reply_limits(mut self, limits: crate::store::ReplyLimits) -> Self {
        self.config.reply_limits = limits;
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

    /// How long a poller's lease on its account holds (default 90 s). A
    /// poller renews it when half is left, and a crashed process's accounts
    /// can be taken over once it ran out. Keep it above twice the long-poll
    /// deadline (35 s + 5 s by default): a poll never outlives the lease.
    pub fn lease_ttl(mut self, ttl: Duration) -> Self {
        self.config.lease_ttl = ttl.max(Duration::from_secs(1));
        self
    }

    /// This client's name as a lease holder (default: the host, the process
    /// id and a random part, unique to this client). Give a name that
    /// survives restarts (a service instance's, a pod's) and a restarted
    /// process takes its accounts back at once instead of after the lease
    /// ran out. Two live clients must never share one.
    pub fn lease_holder(mut self, name: impl Into<String>) -> Self {
        self.holder = Some(name.into());
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
    /// [`Error::Http`] when the transport cannot be built (a bad URL, bad
    /// TLS roots).
    pub fn build(self) -> Result<Client, Error> {
        let transport = match (self.shared_transport, self.transport) {
            (Some(t), _) => t,
            (None, Some(b)) => b.build().map_err(Error::Http)?,
            (None, None) => Transport::builder().build().map_err(Error::Http)?,
        };
        let store = self.store.unwrap_or_else(|| Arc::new(MemoryStore::new()));
        let login_base_url = self
            .login_base_url
            .unwrap_or_else(|| transport.api_base_url().to_owned());
        // A transport pointed away from the official host names where every
        // account's calls go; otherwise an account's saved host does.
        let explicit_base_url =
            transport.api_base_url() != ilink_proto::consts::DEFAULT_API_BASE_URL;
        Ok(Client {
            shared: Arc::new(Shared {
                transport,
                store,
                config: Arc::new(self.config),
                login_base_url,
                explicit_base_url,
                accounts: Mutex::new(HashMap::new()),
                holder: self.holder.unwrap_or_else(holder_name),
                polling: Mutex::new(std::collections::HashSet::new()),
            }),
        })
    }
}

pub(crate) struct Shared {
    pub(crate) transport: Transport,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) config: Arc<Config>,
    pub(crate) login_base_url: String,
    explicit_base_url: bool,
    accounts: Mutex<HashMap<AccountId, Weak<AccountHandle>>>,
    /// This client's name as a lease holder.
    pub(crate) holder: String,
    /// The accounts a poller of this client polls (one at a time each).
    pub(crate) polling: Mutex<std::collections::HashSet<AccountId>>,
}

/// A lease holder's name: the host, the process and a random part, so that
/// two clients never share one.
fn holder_name() -> String {
    format!(
        "{}/{}/{:08x}",
        host_name(),
        std::process::id(),
        ilink_crypto::random::varying_u64() as u32
    )
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".to_owned())
}

/// Whether a default holder name (`host/pid/random`) names a process of
/// this host that has ended (gone, or killed and not yet reaped by its
/// parent: a zombie runs no code): its lease can be taken at once. Only
/// where `/proc` tells (Linux); elsewhere the lease runs out.
pub(crate) fn holder_is_gone(holder: &str) -> bool {
    let mut parts = holder.split('/');
    let (Some(host), Some(pid), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let Ok(pid) = pid.parse::<u32>() else {
        return false;
    };
    host == host_name()
        && pid != std::process::id()
        && std::path::Path::new("/proc/self").exists()
        && process_ended(pid)
}

/// Whether process `pid` has ended: no `/proc/<pid>` any more, or its
/// state is zombie (`Z`) or dead (`X`). A process that cannot be read for
/// another reason counts as alive (its lease then runs out).
fn process_ended(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(e) => e.kind() == std::io::ErrorKind::NotFound,
        Ok(stat) => ended_state(&stat),
    }
}

/// The state field of a `/proc/<pid>/stat` line says zombie or dead. The
/// command name before it is in parentheses and may hold any character,
/// `)` included, so the state is read after the last `)`.
fn ended_state(stat: &str) -> bool {
    stat.rfind(')')
        .and_then(|i| stat[i + 1..].split_whitespace().next())
        .is_some_and(|state| matches!(state, "Z" | "X" | "x"))
}

/// What bot accounts share: the connection pool, the store, QR login and
/// the list of accounts. [`bot`](Self::bot) gives the handle of one account.
///
/// Cheap to clone. One process drives many accounts over one pool: over
/// HTTP/2 the held long-polls of every account on one host share a few
/// connections, over HTTP/1.1 each holds one (see
/// [`TransportBuilder::http2`]).
///
/// ```no_run
/// # async fn demo() -> Result<(), ilink::Error> {
/// use ilink::{Client, SqliteStore};
///
/// let client = Client::builder().store(SqliteStore::open("state")?).build()?;
/// for bot in client.bots().await? {
///     println!("{}: {:?}", bot.id(), bot.health());
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.shared.transport.api_base_url())
            .finish_non_exhaustive()
    }
}

/// One bot account: sends, replies, polls, runs a handler, shows typing,
/// moves media, reports health. Built by [`Client::bot`],
/// [`Client::bot_with`], a login ([`LoginOutcome`](crate::LoginOutcome)) or
/// [`Bot::from_token`].
///
/// Cheap to clone; clones share the account's state (health, caches,
/// pacing). Every handle of one account in one client shares that state.
#[derive(Clone)]
pub struct Bot {
    pub(crate) client: Client,
    pub(crate) account: Arc<AccountHandle>,
}

impl std::fmt::Debug for Bot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bot")
            .field("account", &self.account.id)
            .field("base_url", &self.account.http.base_url())
            .finish_non_exhaustive()
    }
}

const _: () = {
    const fn assert_send_sync<T: Send + Sync + Clone + 'static>() {}
    assert_send_sync::<Client>();
    assert_send_sync::<Bot>();
};

impl Client {
    /// A builder.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.shared.store
    }

    /// The transport, for raw access to every endpoint.
    pub fn transport(&self) -> &Transport {
        &self.shared.transport
    }

    /// The stored logins, the most recent first.
    ///
    /// # Errors
    ///
    /// [`Error::Store`].
    pub async fn accounts(&self) -> Result<Vec<Credentials>, Error> {
        Ok(self.shared.store.accounts().await?)
    }

    /// The bot of a stored account.
    ///
    /// Its token goes only to the origin its login stored (see
    /// [`stored_bot`](Self::stored_bot)).
    ///
    /// # Errors
    ///
    /// [`Error::UnknownAccount`] when the store has no login for it,
    /// [`Error::TokenOrigin`] when its token cannot go to its own origin,
    /// [`Error::Store`] when the store fails.
    pub async fn bot(&self, account: impl Into<AccountId>) -> Result<Bot, Error> {
        let account = account.into();
        match self.shared.store.load_credentials(&account).await? {
            Some(creds) => self.stored_bot(&creds),
            None => Err(Error::UnknownAccount { account }),
        }
    }

    /// The bot of every stored account, the most recent login first.
    ///
    /// An account whose token cannot go to its own origin (see
    /// [`stored_bot`](Self::stored_bot)) is left out, with a warning in the
    /// log; [`bot`](Self::bot) names why.
    ///
    /// # Errors
    ///
    /// [`Error::Store`].
    pub async fn bots(&self) -> Result<Vec<Bot>, Error> {
        Ok(self
            .shared
            .store
            .accounts()
            .await?
            .iter()
            .filter_map(|c| match self.stored_bot(c) {
                Ok(bot) => Some(bot),
                Err(e) => {
                    tracing::warn!(error = %crate::Report::new(&e), "account left out");
                    None
                }
            })
            .collect())
    }

    /// The bot of credentials read from a store: its token goes only to the
    /// origin (scheme, host, port) of the API base URL its login stored,
    /// never to another host.
    ///
    /// - With no API base URL set on the transport (the official host, the
    ///   default), the account's calls go to its stored base URL.
    /// - With one set ([`TransportBuilder::api_base_url`]) of the same
    ///   origin, they go there; of another origin, this refuses
    ///   ([`OriginProblem::Elsewhere`]): the token was issued by another
    ///   host.
    /// - Credentials that name no base URL (saved by an older version,
    ///   which did not store the host a login was made at when the server
    ///   named none) have an unknown origin: this refuses
    ///   ([`OriginProblem::Unknown`]), and a new login is the remedy. Their
    ///   token is never sent, not even in a login's `local_token_list`.
    ///
    /// [`OriginProblem::Elsewhere`]: crate::OriginProblem::Elsewhere
    /// [`OriginProblem::Unknown`]: crate::OriginProblem::Unknown
    ///
    /// # Errors
    ///
    /// [`Error::TokenOrigin`], with the [`OriginProblem`](crate::OriginProblem).
    pub fn stored_bot(&self, credentials: &Credentials) -> Result<Bot, Error> {
        match self.origin_problem(credentials) {
            None => Ok(self.bot_with(credentials)),
            Some(problem) => Err(Error::TokenOrigin {
                account: credentials.account_id.clone(),
                problem,
            }),
        }
    }

    /// Why a stored account's token may not be sent, if it may not.
    fn origin_problem(&self, credentials: &Credentials) -> Option<crate::OriginProblem> {
        use crate::OriginProblem;
        let Some(url) = stored_base_url(credentials) else {
            return Some(OriginProblem::Unknown);
        };
        if !ilink_http::is_trusted_base_url(url) {
            return Some(OriginProblem::Untrusted);
        }
        let configured = self.shared.transport.api_base_url();
        let (origin, configured) = (
            ilink_http::origin_of(url),
            ilink_http::origin_of(configured),
        );
        if self.shared.explicit_base_url && origin != configured {
            return Some(OriginProblem::Elsewhere {
                origin: origin.unwrap_or_else(|| url.to_owned()),
                configured: configured.unwrap_or_default(),
            });
        }
        None
    }

    /// The bot of these credentials (not saved; see
    /// [`CredentialStore::save_credentials`](crate::store::CredentialStore::save_credentials)). Handles of one account share its state.
    ///
    /// Where the token goes: with no `base_url` in the credentials (a token
    /// given to you, as [`Credentials::from_token`] makes), to the
    /// transport's API base URL; with one, to that URL (to the transport's
    /// base URL when it is set and of the same origin), never to another
    /// origin. A `base_url` that is neither https nor loopback is kept, so
    /// that every call fails before sending anything. For credentials read
    /// from a store use [`stored_bot`](Self::stored_bot), which also refuses
    /// those whose origin is unknown.
    pub fn bot_with(&self, credentials: &Credentials) -> Bot {
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
            return Bot {
                client: self.clone(),
                account: existing,
            };
        }
        let mut http = self.shared.transport.account(credentials.bot_token.clone());
        if let Some(url) = stored_base_url(credentials) {
            let same_origin = ilink_http::origin_of(url).is_some()
                && ilink_http::origin_of(url)
                    == ilink_http::origin_of(self.shared.transport.api_base_url());
            if !(self.shared.explicit_base_url && same_origin) {
                if !ilink_http::is_trusted_base_url(url) {
                    // A saved file that names such a URL was not written by
                    // us. Kept: the transport refuses every call to it, so
                    // the token goes nowhere (not to the default host).
                    tracing::warn!(
                        account = %ilink_proto::display_safe(credentials.account_id.as_str()),
                        "the saved API base URL is neither https nor loopback; every call fails"
                    );
                }
                http = http.with_base_url(url);
            }
        }
        let handle = Arc::new(AccountHandle::new(AccountCore::new(
            credentials.account_id.clone(),
            http,
            self.shared.store.clone(),
            self.shared.config.clone(),
        )));
        registry.retain(|_, w| w.strong_count() > 0);
        registry.insert(credentials.account_id.clone(), Arc::downgrade(&handle));
        Bot {
            client: self.clone(),
            account: handle,
        }
    }

    /// The health of every account with a live handle in this process.
    pub fn all_health(&self) -> Vec<(AccountId, Health)> {
        let registry = self
            .shared
            .accounts
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let mut all: Vec<(AccountId, Health)> = registry
            .iter()
            .filter_map(|(id, w)| w.upgrade().map(|h| (id.clone(), h.health.snapshot())))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }
}

impl Bot {
    /// A bot with this token, on a client of its own with the default
    /// transport and an in-memory store: the shortest way to a running bot.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), ilink::Error> {
    /// let bot = ilink::Bot::from_token("your-bot-token")?;
    /// bot.send_text("alice@im.wechat", "hello").await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Http`] when the default transport cannot be built.
    pub fn from_token(token: impl Into<String>) -> Result<Bot, Error> {
        let client = Client::builder().build()?;
        Ok(client.bot_with(&Credentials::from_token(token)))
    }

    /// The account's id.
    pub fn id(&self) -> &AccountId {
        &self.account.id
    }

    /// The client this bot belongs to.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The account's raw endpoint handle (every endpoint, no retries, no
    /// bookkeeping).
    pub fn raw(&self) -> &ilink_http::Account {
        &self.account.http
    }

    /// The account's health.
    pub fn health(&self) -> Health {
        self.account.health.snapshot()
    }

    pub(crate) fn shared(&self) -> &Shared {
        &self.client.shared
    }

    pub(crate) fn store(&self) -> &dyn Store {
        self.client.shared.store.as_ref()
    }
}

/// The API base URL stored with credentials, if any (blank counts as none).
fn stored_base_url(credentials: &Credentials) -> Option<&str> {
    credentials
        .base_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zombie_or_dead_process_has_ended() {
        assert!(ended_state("4242 (ilink) Z 1 4242 4242 0 -1"));
        assert!(ended_state("4242 (ilink) X 1"));
        assert!(!ended_state("4242 (ilink) S 1 4242"));
        assert!(!ended_state("4242 (ilink) R 1"));
        // A name with spaces and parentheses of its own.
        assert!(ended_state("4242 (a) Z (b) ) Z 1"));
        assert!(!ended_state("4242 (x) Z) S 1"));
        assert!(!ended_state("garbage"));
    }

    #[test]
    fn this_process_is_alive_and_a_free_pid_has_ended() {
        assert!(!process_ended(std::process::id()));
        if std::path::Path::new("/proc/self").exists() {
            // Above the kernel's pid limit, so no process has it.
            assert!(process_ended(u32::MAX - 1));
        }
    }
}
