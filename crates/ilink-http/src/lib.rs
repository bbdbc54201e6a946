//! The HTTP transport of the WeChat iLink Bot API: a thin layer over `hyper`.
//!
//! - [`Transport`]: one connection pool (HTTP/1.1, and h2 where the server
//!   offers it; `rustls`) for any number of
//!   bots, built by [`Transport::builder`]. It carries the login calls
//!   ([`get_bot_qrcode`](Transport::get_bot_qrcode),
//!   [`get_qrcode_status`](Transport::get_qrcode_status)) and the CDN
//!   transfers ([`upload`](Transport::upload),
//!   [`download_to`](Transport::download_to)).
//! - [`Account`]: one bot's token and API host on a shared transport, with
//!   the generic [`call`](Account::call) and a method per endpoint.
//! - [`Error`]: an opaque error with an [`ErrorKind`] and the predicates that
//!   decide retries ([`is_retryable`](Error::is_retryable),
//!   [`is_session_expired`](Error::is_session_expired),
//!   [`is_throttled`](Error::is_throttled)).
//!
//! Every request gets the headers the protocol wants (`iLink-App-Id`,
//! `iLink-App-ClientVersion`, `SKRouteTag`; for POSTs `AuthorizationType`, a
//! fresh `X-WECHAT-UIN` and, with a token, `Authorization`), POST bodies get
//! `base_info`, and one deadline covers sending the request and reading the
//! whole response, whose size is limited. A long-poll that times out (or hits
//! a gateway's 524) is an empty batch, not an error.
//!
//! Calls make one attempt each, except CDN uploads, which retry as the
//! official client does, and a request that was provably not processed
//! (hyper handed it back unsent, or an h2 server refused the stream), which
//! goes out once more on a new connection. Tokens never go into URLs, error messages or logs;
//! `trace`-level body logs are [redacted](redact).
//!
//! # Cancel safety
//!
//! Dropping any future of this crate is safe: the request is abandoned and
//! no state is left half-updated.
//!
//! ```no_run
//! # async fn run() -> Result<(), ilink_http::Error> {
//! use ilink_http::Transport;
//! use ilink_proto::{BotToken, SendMessageRequest, WeixinMessage};
//!
//! let transport = Transport::builder().bot_agent("EchoBot/1.0").build()?;
//! let account = transport.account(BotToken::new("token"));
//! account.notify_start().await?;
//! let mut cursor = String::new();
//! let mut hint = None;
//! loop {
//!     let batch = account.get_updates(&cursor, hint).await?;
//!     for msg in batch.messages() {
//!         println!("{}: {}", msg.from_user_id.as_deref().unwrap_or(""), msg.text());
//!     }
//!     hint = batch.poll_timeout_hint();
//!     cursor = batch.next_cursor(&cursor).to_owned();
//! }
//! # }
//! ```

mod account;
mod body;
mod cdn;
mod error;
mod login;
mod options;
mod origin;
mod pool;
mod redact;
mod retry;
mod transport;

pub use account::Account;
pub use body::Progress;
pub use cdn::{DownloadSource, UploadTarget};
pub use error::{Error, ErrorKind};
pub use login::redirect_base_url;
pub use options::CallOptions;
pub use origin::{is_trusted_base_url, origin_of};
pub use pool::Connections;
pub use redact::{REDACTED, is_secret_key, redact};
pub use retry::Retry;
pub use transport::{DEFAULT_UPDATE_LIMIT, Transport, TransportBuilder};
