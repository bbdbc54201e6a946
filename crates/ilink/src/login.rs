//! QR login as a named future that reports its progress.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use ilink_proto::consts::{MAX_LOCAL_TOKENS, MAX_QR_CODES};
use ilink_proto::{
    AccountId, BotToken, GetBotQrcodeRequest, GetQrcodeStatusRequest, QrStatus, UserId,
};
use tokio::time::Instant;

use crate::Error;
use crate::client::{Bot, Client};
use crate::error::LoginFailure;
use crate::store::Credentials;

/// Progress of a QR login.
///
/// `Debug` leaves out the QR code's URL: whoever has it can poll the
/// login's status and receive the bot token. Show it only to the person
/// logging in (the field itself is public).
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoginEvent {
    /// Show this QR code (encode `url` as a QR code, or show it as a link).
    QrCode {
        /// What to encode or show.
        url: String,
        /// 1 for the first code, 2 and 3 after expiries.
        attempt: u32,
    },
    /// Scanned; waiting for confirmation on the phone.
    Scanned,
    /// The server moved the login to another host.
    Redirected {
        /// The new API base URL.
        base_url: String,
    },
    /// The phone shows a number the user must type; the prompt is asked.
    NeedVerifyCode {
        /// Whether the previous number was wrong.
        retry: bool,
    },
    /// Too many wrong numbers; a new QR code follows.
    VerifyCodeBlocked,
    /// The QR code expired; a new one follows (if any is left).
    Expired {
        /// How many codes have expired.
        count: u32,
    },
    /// A status this version does not know (treated as `wait`).
    UnknownStatus(String),
    /// Done.
    Confirmed {
        /// The account id.
        account_id: AccountId,
    },
}

impl std::fmt::Debug for LoginEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::QrCode { attempt, .. } => f
                .debug_struct("QrCode")
                .field("url", &ilink_http::REDACTED)
                .field("attempt", attempt)
                .finish(),
            Self::Scanned => f.write_str("Scanned"),
            Self::Redirected { base_url } => f
                .debug_struct("Redirected")
                .field("base_url", base_url)
                .finish(),
            Self::NeedVerifyCode { retry } => f
                .debug_struct("NeedVerifyCode")
                .field("retry", retry)
                .finish(),
            Self::VerifyCodeBlocked => f.write_str("VerifyCodeBlocked"),
            Self::Expired { count } => f.debug_struct("Expired").field("count", count).finish(),
            Self::UnknownStatus(s) => f.debug_tuple("UnknownStatus").field(s).finish(),
            Self::Confirmed { account_id } => f
                .debug_struct("Confirmed")
                .field("account_id", account_id)
                .finish(),
        }
    }
}

/// How a login ended.
#[derive(Debug)]
#[non_exhaustive]
pub enum LoginOutcome {
    /// New credentials, saved to the store.
    LoggedIn {
        /// The new account's bot.
        bot: Bot,
        /// The credentials (also in the store).
        credentials: Credentials,
    },
    /// The bot is already bound to one of this store's logins (the server
    /// said `binded_redirect`): those credentials stay valid and nothing
    /// changed.
    AlreadyBound,
}

type Prompt =
    Arc<dyn Fn(bool) -> Pin<Box<dyn Future<Output = Option<String>> + Send>> + Send + Sync>;
type Listener = Arc<dyn Fn(&LoginEvent) + Send + Sync>;

/// A QR login, built by [`Client::login`]; `.await` it.
///
/// It shows up to 3 QR codes (a new one after each expiry), follows IDC
/// redirects, asks for the verify code through the prompt (again after a
/// wrong one), and gives up at the deadline (8 minutes by default). The
/// tokens of the store's accounts logged in at this login's origin go in
/// `local_token_list` so the server recognises a bot already bound here
/// (no other token: not those of other hosts, nor those whose origin is
/// unknown). On success the credentials are saved with their origin (the
/// `baseurl` the server names, else the base URL the login was made at,
/// the default host included) and the account's cached context tokens are
/// cleared.
#[must_use = "a login does nothing until awaited"]
pub struct Login {
    client: Client,
    base_url: String,
    deadline: Duration,
    max_codes: u32,
    prompt: Option<Prompt>,
    listener: Option<Listener>,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login")
            .field("base_url", &self.base_url)
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

impl Login {
    /// Calls `f` with every progress event.
    pub fn on_event(mut self, f: impl Fn(&LoginEvent) + Send + Sync + 'static) -> Self {
        self.listener = Some(Arc::new(f));
        self
    }

    /// The prompt for the verify code: called with `true` when the previous
    /// number was wrong; `None` gives up.
    pub fn verify_code<F, Fut>(mut self, prompt: F) -> Self
    where
        F: Fn(bool) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Option<String>> + Send + 'static,
    {
        self.prompt = Some(Arc::new(move |retry| Box::pin(prompt(retry))));
        self
    }

    /// The overall deadline (default 8 minutes).
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// Where to start (default: the client's login base URL).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    fn emit(&self, event: LoginEvent) {
        tracing::info!(?event, "login");
        if let Some(l) = &self.listener {
            l(&event);
        }
    }

    async fn run(self) -> Result<LoginOutcome, Error> {
        let start = Instant::now();
        let deadline = start + self.deadline;
        let interval = self.client.shared.config.qr_poll_interval;
        let transport = self.client.shared.transport.clone();
        let local: Vec<BotToken> = {
            let accounts = self.client.shared.store.accounts().await?;
            // Only the tokens of accounts whose login stored this host's
            // origin: a login at another host learns none of them, and a
            // token whose origin is unknown (an older version's login with
            // no stored base URL) goes nowhere.
            let login_origin = ilink_http::origin_of(&self.base_url);
            accounts
                .into_iter()
                .filter(|c| {
                    let stored = c
                        .base_url
                        .as_deref()
                        .map(str::trim)
                        .filter(|u| !u.is_empty() && ilink_http::is_trusted_base_url(u));
                    login_origin.is_some()
                        && stored.is_some_and(|u| ilink_http::origin_of(u) == login_origin)
                })
                .map(|c| c.bot_token)
                .take(MAX_LOCAL_TOKENS)
                .collect()
        };
        let mut expired = 0u32;
        let mut unknown_seen: Vec<String> = Vec::new();
        for attempt in 1..=self.max_codes {
            let qr = within(
                deadline,
                transport.get_bot_qrcode(
                    GetBotQrcodeRequest::new(local.clone()),
                    Some(&self.base_url),
                ),
            )
            .await?
            .map_err(Error::from_transport)?;
            let (Some(qrcode), Some(url)) = (qr.qrcode, qr.qrcode_img_content) else {
                return Err(Error::Login(LoginFailure::NoQrCode));
            };
            self.emit(LoginEvent::QrCode { url, attempt });
            let mut poll_base = self.base_url.clone();
            let mut code: Option<String> = None;
            let mut asked = false;
            let mut scanned = false;
            loop {
                let mut req = GetQrcodeStatusRequest::new(qrcode.clone());
                if let Some(c) = code.take() {
                    req = req.with_verify_code(c);
                }
                let sent_code = req.verify_code.is_some();
                let resp = match within(
                    deadline,
                    transport.get_qrcode_status(req, Some(&poll_base)),
                )
                .await?
                {
                    Ok(r) => r,
                    Err(e) if e.is_retryable() => {
                        tracing::warn!(error = %crate::Report::new(&e), "QR status poll failed; polling again");
                        sleep_within(deadline, interval).await?;
                        continue;
                    }
                    Err(e) => return Err(Error::from_transport(e)),
                };
                match resp.status {
                    QrStatus::Wait => {}
                    QrStatus::Scanned if !scanned => {
                        scanned = true;
                        self.emit(LoginEvent::Scanned);
                    }
                    QrStatus::ScannedButRedirect => {
                        match resp
                            .redirect_host
                            .as_deref()
                            .and_then(|h| redirect_url(&poll_base, h))
                        {
                            Some(url) => {
                                poll_base = url.clone();
                                self.emit(LoginEvent::Redirected { base_url: url });
                            }
                            None => tracing::warn!("redirect without a usable host; staying"),
                        }
                    }
                    QrStatus::NeedVerifyCode => {
                        let retry = asked && sent_code;
                        asked = true;
                        self.emit(LoginEvent::NeedVerifyCode { retry });
                        let Some(prompt) = &self.prompt else {
                            return Err(Error::Login(LoginFailure::NoVerifyCode));
                        };
                        let remaining = deadline.saturating_duration_since(Instant::now());
                        match tokio::time::timeout(remaining, prompt(retry)).await {
                            Ok(Some(c)) if !c.trim().is_empty() => {
                                code = Some(c.trim().to_owned());
                                continue;
                            }
                            Ok(_) => return Err(Error::Login(LoginFailure::NoVerifyCode)),
                            Err(_) => return Err(Error::Login(LoginFailure::Deadline)),
                        }
                    }
                    QrStatus::VerifyCodeBlocked => {
                        self.emit(LoginEvent::VerifyCodeBlocked);
                        expired += 1;
                        break;
                    }
                    QrStatus::Expired => {
                        expired += 1;
                        self.emit(LoginEvent::Expired { count: expired });
                        break;
                    }
                    QrStatus::BindedRedirect => return Ok(LoginOutcome::AlreadyBound),
                    QrStatus::Confirmed => {
                        return self.confirmed(resp, &poll_base).await;
                    }
                    QrStatus::Other(s) if !unknown_seen.contains(&s) => {
                        unknown_seen.push(s.clone());
                        self.emit(LoginEvent::UnknownStatus(s));
                    }
                    _ => {}
                }
                sleep_within(deadline, interval).await?;
            }
        }
        Err(Error::Login(LoginFailure::Expired(expired)))
    }

    async fn confirmed(
        &self,
        resp: ilink_proto::GetQrcodeStatusResponse,
        poll_base: &str,
    ) -> Result<LoginOutcome, Error> {
        let (Some(account_id), Some(token)) = (
            resp.ilink_bot_id
                .filter(|s| !s.is_empty())
                .map(AccountId::new),
            resp.bot_token.filter(|t| !t.is_empty()),
        ) else {
            return Err(Error::Login(LoginFailure::MissingCredentials));
        };
        // The token's origin, stored with it always: the host the server
        // names, else the one the login was made at (after redirects). A
        // stored token only ever goes there (see `Client::stored_bot`).
        let base_url = resp
            .baseurl
            .map(|u| u.trim().to_owned())
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| poll_base.to_owned());
        // The token would go wherever this says: never in clear text past
        // this machine.
        if !ilink_http::is_trusted_base_url(&base_url) {
            return Err(Error::Login(LoginFailure::UntrustedBaseUrl));
        }
        let mut credentials = Credentials::new(account_id.clone(), token);
        credentials.user_id = resp.ilink_user_id.map(UserId::new);
        credentials.base_url = Some(base_url);
        credentials.saved_at_ms = crate::store::now_ms();
        let store = &self.client.shared.store;
        store.save_credentials(&credentials).await?;
        // A token minted for the previous session is worth nothing now.
        store.clear_context_tokens(&account_id).await?;
        self.emit(LoginEvent::Confirmed { account_id });
        let bot = self.client.bot_with(&credentials);
        Ok(LoginOutcome::LoggedIn { bot, credentials })
    }
}

/// The base URL to poll after `scaned_but_redirect`: `https://<host>`, or
/// `http://<host>` when the current base is plain HTTP and the host is a
/// loopback address (the simulator); never plain HTTP past this machine.
fn redirect_url(current: &str, host: &str) -> Option<String> {
    let https = ilink_http::redirect_base_url(host)?;
    let http = https.replacen("https://", "http://", 1);
    if current.starts_with("http://") && ilink_http::is_trusted_base_url(&http) {
        Some(http)
    } else {
        Some(https)
    }
}

async fn within<T>(deadline: Instant, fut: impl Future<Output = T>) -> Result<T, Error> {
    tokio::time::timeout_at(deadline, fut)
        .await
        .map_err(|_| Error::Login(LoginFailure::Deadline))
}

async fn sleep_within(deadline: Instant, d: Duration) -> Result<(), Error> {
    if Instant::now() + d >= deadline {
        tokio::time::sleep_until(deadline).await;
        return Err(Error::Login(LoginFailure::Deadline));
    }
    tokio::time::sleep(d).await;
    Ok(())
}

impl IntoFuture for Login {
    type Output = Result<LoginOutcome, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

impl Client {
    /// Starts a QR login.
    ///
    /// ```no_run
    /// # async fn demo(client: ilink::Client) -> Result<(), ilink::Error> {
    /// use ilink::{LoginEvent, LoginOutcome};
    ///
    /// let outcome = client
    ///     .login()
    ///     .on_event(|e| if let LoginEvent::QrCode { url, .. } = e { println!("scan {url}") })
    ///     .verify_code(|_retry| async { Some("1234".to_owned()) })
    ///     .await?;
    /// if let LoginOutcome::LoggedIn { bot, .. } = outcome {
    ///     println!("logged in as {}", bot.id());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn login(&self) -> Login {
        Login {
            client: self.clone(),
            base_url: self.shared.login_base_url.clone(),
            deadline: self.shared.config.login_deadline,
            max_codes: MAX_QR_CODES,
            prompt: None,
            listener: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_keeps_plain_http_for_loopback() {
        assert_eq!(
            redirect_url("https://a", "b.example").as_deref(),
            Some("https://b.example")
        );
        assert_eq!(
            redirect_url("http://127.0.0.1:1", "127.0.0.1:2").as_deref(),
            Some("http://127.0.0.1:2")
        );
        assert_eq!(redirect_url("https://a", "bad/host"), None);
    }
}
