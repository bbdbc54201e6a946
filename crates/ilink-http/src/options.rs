//! Per-call overrides.

use std::time::Duration;

/// Overrides for one call: its deadline and its API base URL.
///
/// ```
/// use std::time::Duration;
/// use ilink_http::CallOptions;
///
/// let opts = CallOptions::new().timeout(Duration::from_secs(3));
/// assert_eq!(opts.timeout, Some(Duration::from_secs(3)));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallOptions {
    /// The deadline for the whole exchange (sending and reading the body),
    /// instead of the endpoint class's.
    pub timeout: Option<Duration>,
    /// The API base URL, instead of the account's (or the transport's).
    pub base_url: Option<String>,
}

impl CallOptions {
    /// No overrides.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the deadline.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sets the API base URL.
    #[must_use]
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }
}
