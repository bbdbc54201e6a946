//! A per-account handle: the transport plus one bot's token and API host.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use ilink_proto::{
    AckResponse, BotToken, Endpoint, GetConfigRequest, GetConfigResponse, GetUpdatesRequest,
    GetUpdatesResponse, GetUploadUrlRequest, GetUploadUrlResponse, NotifyStartRequest,
    NotifyStopRequest, SendMessageRequest, SendMessageResponse, SendTypingRequest,
};

use crate::error::Error;
use crate::options::CallOptions;
use crate::transport::Transport;

/// A long-poll with less time than this before its deadline is not sent.
const MIN_POLL: Duration = Duration::from_millis(50);

/// The HTTP status some gateways answer a long-poll with after about 17 s.
const GATEWAY_TIMEOUT_524: u16 = 524;

/// The longest long-poll deadline a server hint can ask for, so that a
/// nonsensical hint cannot park a poller for hours.
const MAX_LONG_POLL: Duration = Duration::from_secs(5 * 60);

/// One bot account on a shared [`Transport`]: its token and, after login,
/// its own API base URL. Cheap to clone; thousands can share one transport.
///
/// Every call is a single attempt: retry decisions belong to the caller (see
/// [`Error::is_retryable`]).
///
/// # Cancel safety
///
/// Dropping any future of this type is safe: the request is abandoned and
/// its connection closed or returned to the pool. A dropped call may still
/// have reached the server (a `sendmessage` may have been delivered; a
/// `getupdates` batch the server answered is lost, as the server does not
/// replay).
#[derive(Clone)]
pub struct Account {
    transport: Transport,
    inner: Arc<AccountInner>,
}

struct AccountInner {
    token: BotToken,
    base_url: Option<String>,
}

const _: () = {
    const fn assert_send_sync<T: Send + Sync + Clone + 'static>() {}
    assert_send_sync::<Account>();
};

impl Transport {
    /// A handle for the bot with this token, on the transport's API base URL
    /// (see [`Account::with_base_url`]).
    pub fn account(&self, token: BotToken) -> Account {
        Account {
            transport: self.clone(),
            inner: Arc::new(AccountInner {
                token,
                base_url: None,
            }),
        }
    }
}

impl Account {
    /// Uses this API base URL for the account: the `baseurl` its login
    /// returned. An empty string means the transport's default.
    #[must_use]
    pub fn with_base_url(self, url: impl Into<String>) -> Self {
        let url = url.into();
        let base_url = Some(url.trim().to_owned()).filter(|u| !u.is_empty());
        Self {
            inner: Arc::new(AccountInner {
                token: self.inner.token.clone(),
                base_url,
            }),
            transport: self.transport,
        }
    }

    /// The bot token.
    pub fn token(&self) -> &BotToken {
        &self.inner.token
    }

    /// The API base URL this account's calls go to.
    pub fn base_url(&self) -> &str {
        self.inner
            .base_url
            .as_deref()
            .unwrap_or_else(|| self.transport.api_base_url())
    }

    /// The shared transport (for the CDN and login calls).
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// Calls any endpoint with this account's token, with the deadline of
    /// the endpoint's class. A non-zero `ret`/`errcode` is an
    /// [`ErrorKind::Api`](crate::ErrorKind::Api) error.
    pub async fn call<E: Endpoint>(&self, req: E) -> Result<E::Response, Error> {
        self.call_with(req, CallOptions::new()).await
    }

    /// [`call`](Self::call) with overrides.
    pub async fn call_with<E: Endpoint>(
        &self,
        req: E,
        opts: CallOptions,
    ) -> Result<E::Response, Error> {
        let timeout = opts
            .timeout
            .unwrap_or_else(|| self.transport.class_timeout(E::CLASS));
        let base = opts.base_url.as_deref().unwrap_or_else(|| self.base_url());
        self.transport
            .call_endpoint(base, Some(&self.inner.token), req, timeout)
            .await
    }

    /// Long-polls for messages after `cursor` (`""` at first start).
    ///
    /// The deadline is `timeout_hint` (the previous response's
    /// [`poll_timeout_hint`](GetUpdatesResponse::poll_timeout_hint)) plus the
    /// long-poll margin (at most 5 minutes), or without a hint the long-poll
    /// timeout plus the margin, so that a batch the server answers right at
    /// its hold time still arrives (the server does not replay it). A client
    /// timeout or an HTTP 524 is the normal "nothing new" outcome: an empty
    /// batch whose `get_updates_buf` is `cursor`. `-14` comes back as an
    /// error with [`is_session_expired`](Error::is_session_expired).
    pub async fn get_updates(
        &self,
        cursor: &str,
        timeout_hint: Option<Duration>,
    ) -> Result<GetUpdatesResponse, Error> {
        self.get_updates_until(cursor, timeout_hint, None).await
    }

    /// How long a long-poll may take with this hint (the server's, or the
    /// configured default when none), the margin included.
    pub fn long_poll_timeout(&self, timeout_hint: Option<Duration>) -> Duration {
        let config = &self.transport.shared.config;
        match timeout_hint {
            Some(hint) if !hint.is_zero() => hint
                .saturating_add(config.long_poll_margin)
                .min(MAX_LONG_POLL),
            _ => config
                .timeouts
                .long_poll
                .saturating_add(config.long_poll_margin),
        }
    }

    /// [`get_updates`](Self::get_updates) that also ends, as an empty
    /// batch, by `deadline` (a poller whose lease on the account ends then
    /// must not have a poll in flight after it).
    pub async fn get_updates_until(
        &self,
        cursor: &str,
        timeout_hint: Option<Duration>,
        deadline: Option<tokio::time::Instant>,
    ) -> Result<GetUpdatesResponse, Error> {
        let mut timeout = self.long_poll_timeout(timeout_hint);
        if let Some(deadline) = deadline {
            timeout = timeout.min(deadline.saturating_duration_since(tokio::time::Instant::now()));
            if timeout < MIN_POLL {
                // The deadline passed (a process stopped between taking its
                // lease and polling, say): no poll is sent that the server
                // could still hold after it.
                return Ok(empty_batch(cursor));
            }
        }
        match self
            .call_within(GetUpdatesRequest::new(cursor), timeout)
            .await
        {
            Err(err) if err.is_timeout() || err.status() == Some(GATEWAY_TIMEOUT_524) => {
                tracing::debug!(
                    timed_out = err.is_timeout(),
                    "long-poll ended without a batch"
                );
                Ok(empty_batch(cursor))
            }
            other => other,
        }
    }

    /// Sends one message (15 s). `ret: -2` comes back as an error with
    /// [`is_throttled`](Error::is_throttled): do not retry into it.
    pub async fn send_message(
        &self,
        req: SendMessageRequest,
    ) -> Result<SendMessageResponse, Error> {
        self.call(req).await
    }

    /// Asks for a CDN upload slot (15 s).
    pub async fn get_upload_url(
        &self,
        req: GetUploadUrlRequest,
    ) -> Result<GetUploadUrlResponse, Error> {
        self.call(req).await
    }

    /// Fetches a user's config, mainly the typing ticket (10 s).
    pub async fn get_config(&self, req: GetConfigRequest) -> Result<GetConfigResponse, Error> {
        self.call(req).await
    }

    /// Shows or cancels "typing…" (10 s).
    pub async fn send_typing(&self, req: SendTypingRequest) -> Result<AckResponse, Error> {
        self.call(req).await
    }

    /// Tells the server this bot client started (10 s).
    pub async fn notify_start(&self) -> Result<AckResponse, Error> {
        self.call(NotifyStartRequest::new()).await
    }

    /// Tells the server this bot client stops (10 s; use
    /// [`call_with`](Self::call_with) for a shutdown budget of your own).
    pub async fn notify_stop(&self) -> Result<AckResponse, Error> {
        self.call(NotifyStopRequest::new()).await
    }

    /// A call with this deadline, on the account's base URL.
    async fn call_within<E: Endpoint>(
        &self,
        req: E,
        timeout: Duration,
    ) -> Result<E::Response, Error> {
        self.transport
            .call_endpoint(self.base_url(), Some(&self.inner.token), req, timeout)
            .await
    }
}

/// What a long-poll that ended without a response means: no messages, same
/// cursor.
fn empty_batch(cursor: &str) -> GetUpdatesResponse {
    let mut batch = GetUpdatesResponse::default();
    batch.ret = Some(0);
    batch.get_updates_buf = Some(cursor.to_owned());
    batch
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account")
            .field("token", &self.inner.token)
            .field("base_url", &self.base_url())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_override() {
        let transport = Transport::builder()
            .api_base_url("https://default/")
            .build()
            .unwrap();
        let account = transport.account(BotToken::new("secret"));
        assert_eq!(account.base_url(), "https://default/");
        assert_eq!(account.token().expose(), "secret");
        let moved = account.with_base_url(" https://regional ");
        assert_eq!(moved.base_url(), "https://regional");
        assert_eq!(
            moved.clone().with_base_url("").base_url(),
            "https://default/"
        );
        assert_eq!(moved.token().expose(), "secret");
        assert!(!format!("{moved:?}").contains("secret"));
    }

    #[test]
    fn empty_batch_keeps_cursor() {
        let batch = empty_batch("c1");
        assert!(batch.msgs.is_empty());
        assert_eq!(batch.next_cursor("other"), "c1");
        assert!(ilink_proto::ApiResponse::outcome(&batch).is_success());
    }
}
