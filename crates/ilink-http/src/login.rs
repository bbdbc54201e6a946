//! Calls that need no bot token: the QR login.

use ilink_proto::{
    Endpoint, GetBotQrcodeRequest, GetBotQrcodeResponse, GetQrcodeStatusRequest,
    GetQrcodeStatusResponse, QrStatus,
};

use crate::error::Error;
use crate::options::CallOptions;
use crate::transport::Transport;

impl Transport {
    /// Calls any endpoint without a bot token (login calls, or a custom
    /// endpoint), on `opts.base_url` or the transport's API base URL.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future is safe; the request is abandoned.
    pub async fn call<E: Endpoint>(&self, req: E, opts: CallOptions) -> Result<E::Response, Error> {
        let timeout = opts.timeout.unwrap_or_else(|| self.class_timeout(E::CLASS));
        let base = opts
            .base_url
            .as_deref()
            .unwrap_or_else(|| self.api_base_url());
        self.call_endpoint(base, None, req, timeout).await
    }

    /// Starts a QR login: POST with no `Authorization` and no `base_info`,
    /// on `base_url` or the transport's API base URL. Bounded by the login
    /// timeout.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future is safe; the request is abandoned.
    pub async fn get_bot_qrcode(
        &self,
        req: GetBotQrcodeRequest,
        base_url: Option<&str>,
    ) -> Result<GetBotQrcodeResponse, Error> {
        let base = base_url.unwrap_or_else(|| self.api_base_url());
        let timeout = self.class_timeout(GetBotQrcodeRequest::CLASS);
        self.call_endpoint(base, None, req, timeout).await
    }

    /// Polls a QR login: a GET with only the app headers, on `base_url` (for
    /// example [`redirect_base_url`] after `scaned_but_redirect`) or the
    /// transport's API base URL. Bounded by the long-poll timeout plus the
    /// long-poll margin.
    ///
    /// A client timeout or a gateway error (HTTP 502, 503, 504, 524) is
    /// reported as status `wait`, as the official client does; other
    /// failures are errors.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future is safe; the request is abandoned.
    pub async fn get_qrcode_status(
        &self,
        req: GetQrcodeStatusRequest,
        base_url: Option<&str>,
    ) -> Result<GetQrcodeStatusResponse, Error> {
        let base = base_url.unwrap_or_else(|| self.api_base_url());
        // The margin matters here as on getupdates: a `confirmed` answered
        // right at the server's hold time must not be dropped, since the QR
        // code is used up once confirmed.
        let timeout =
            self.class_timeout(GetQrcodeStatusRequest::CLASS) + self.shared.config.long_poll_margin;
        match self.call_endpoint(base, None, req, timeout).await {
            Err(err) if err.is_timeout() || matches!(err.status(), Some(502..=504 | 524)) => {
                tracing::debug!(
                    timed_out = err.is_timeout(),
                    status = err.status(),
                    "QR status poll ended without an answer; counting it as wait"
                );
                let mut wait = GetQrcodeStatusResponse::default();
                wait.status = QrStatus::Wait;
                Ok(wait)
            }
            other => other,
        }
    }
}

/// The API base URL to poll after `scaned_but_redirect`:
/// `https://<redirect_host>`. `None` when the host is empty or is not a bare
/// host (keep polling the current host then).
///
/// ```
/// assert_eq!(
///     ilink_http::redirect_base_url(" sz.example.com "),
///     Some("https://sz.example.com".to_owned())
/// );
/// assert_eq!(ilink_http::redirect_base_url(""), None);
/// assert_eq!(ilink_http::redirect_base_url("evil.com/path?x"), None);
/// ```
pub fn redirect_base_url(redirect_host: &str) -> Option<String> {
    let host = redirect_host.trim();
    let bare = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    bare.then(|| format!("https://{host}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_hosts() {
        assert_eq!(
            redirect_base_url("h:8443").as_deref(),
            Some("https://h:8443")
        );
        for bad in ["", "  ", "a b", "user@h", "h/p", "h#f", "https://h"] {
            assert_eq!(redirect_base_url(bad), None, "{bad}");
        }
    }
}
