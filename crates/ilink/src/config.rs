//! Client-wide behaviour, set on the [`ClientBuilder`](crate::ClientBuilder)
//! and read by every feature of every account.

use std::time::Duration;

use ilink_http::Retry;

use crate::pacing::Pacing;
use crate::store::ReplyLimits;

/// How long a poller's lease holds by default.
pub(crate) const LEASE_TTL: Duration = Duration::from_secs(90);

/// The default reply budget: bot messages per user message (an official
/// WeChat notice: after 10 bot messages the user must write again).
pub const DEFAULT_REPLY_BUDGET: u32 = 10;

/// The default reply window: a user must have written within 24 hours.
pub const DEFAULT_REPLY_WINDOW: Duration = Duration::from_secs(24 * 60 * 60);

/// Client-wide behaviour.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) poll_retry: Retry,
    pub(crate) send_retry: Retry,
    pub(crate) qr_poll_interval: Duration,
    pub(crate) login_deadline: Duration,
    pub(crate) client_id_prefix: String,
    pub(crate) throttle_cooldown: Duration,
    pub(crate) pacing: Pacing,
    pub(crate) lease_ttl: Duration,
    pub(crate) reply_limits: ReplyLimits,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            poll_retry: Retry::new(Duration::from_secs(2), Duration::from_secs(30)),
            send_retry: Retry::new(Duration::from_millis(500), Duration::from_secs(4))
                .with_attempts(3),
            qr_poll_interval: ilink_proto::consts::timeouts::QR_POLL_INTERVAL,
            login_deadline: ilink_proto::consts::timeouts::LOGIN,
            client_id_prefix: "ilink".to_owned(),
            throttle_cooldown: Duration::from_secs(10 * 60),
            pacing: Pacing::default(),
            lease_ttl: LEASE_TTL,
            reply_limits: ReplyLimits::new(Some(DEFAULT_REPLY_BUDGET), Some(DEFAULT_REPLY_WINDOW)),
        }
    }
}
