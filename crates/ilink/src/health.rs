//! Per-account health an application can read.

use std::sync::Mutex;

/// Whether an account's session is usable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SessionState {
    /// Nothing says otherwise.
    #[default]
    Active,
    /// The server answered `-14`: a new QR login is needed.
    Expired,
}

/// A snapshot of an account's health.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Health {
    /// When the last poll succeeded, milliseconds since the Unix epoch.
    pub last_poll_ok_ms: Option<u64>,
    /// The last error, described without secrets.
    pub last_error: Option<String>,
    /// When it happened, milliseconds since the Unix epoch.
    pub last_error_ms: Option<u64>,
    /// Failed polls in a row.
    pub consecutive_failures: u32,
    /// The session.
    pub session: SessionState,
    /// Messages received (after deduplication).
    pub messages_received: u64,
    /// Messages handed to handlers and acknowledged.
    pub messages_handled: u64,
    /// Messages sent.
    pub messages_sent: u64,
    /// Whether a poller is running.
    pub polling: bool,
}

#[derive(Default)]
pub(crate) struct HealthCell(Mutex<Health>);

impl HealthCell {
    pub(crate) fn snapshot(&self) -> Health {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub(crate) fn update(&self, f: impl FnOnce(&mut Health)) {
        f(&mut self.0.lock().unwrap_or_else(|p| p.into_inner()));
    }

    pub(crate) fn poll_ok(&self, received: usize) {
        self.update(|h| {
            h.last_poll_ok_ms = Some(crate::store::now_ms());
            h.consecutive_failures = 0;
            h.session = SessionState::Active;
            h.messages_received += received as u64;
        });
    }

    pub(crate) fn poll_failed(&self, err: &crate::Error) {
        self.update(|h| {
            h.consecutive_failures = h.consecutive_failures.saturating_add(1);
            h.last_error = Some(crate::Report::new(err).to_string());
            h.last_error_ms = Some(crate::store::now_ms());
        });
    }

    pub(crate) fn session_expired(&self) {
        self.update(|h| {
            h.session = SessionState::Expired;
            h.last_error = Some("session expired (-14)".to_owned());
            h.last_error_ms = Some(crate::store::now_ms());
        });
    }
}
