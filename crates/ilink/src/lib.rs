//! The Rust SDK for Tencent's WeChat iLink Bot API.
//!
//! A [`Client`] logs in by QR code ([`Client::login`]), polls messages so
//! that none is lost or handled twice ([`Client::run_until`], or the pull API
//! [`Client::poller`]), replies ([`Context::reply`], [`Client::send_text`]),
//! and shows "typing…" ([`Client::typing`]). State lives in a [`Store`]:
//! [`MemoryStore`] or [`FileStore`].
//!
//! ```no_run
//! use ilink::{Client, Context, FileStore, Message, handler_fn};
//!
//! # async fn run() -> Result<(), ilink::Error> {
//! let client = Client::builder().store(FileStore::open("state")?).build()?;
//! let echo = handler_fn(|ctx: Context, msg: Message| async move {
//!     let _typing = ctx.client().typing(ctx.user_id()).await;
//!     ctx.reply(format!("you said: {}", msg.text())).await?;
//!     Ok(())
//! });
//! client.run_until(echo, tokio::signal::ctrl_c()).await?;
//! # Ok(()) }
//! ```
//!
//! # Delivery
//!
//! The server does not replay: a batch it answered counts as delivered. So
//! every batch is written to the store's inbox before the cursor advances,
//! each message is acknowledged after its handler finished, and
//! unacknowledged messages are delivered again on the next start. Messages
//! are deduplicated by `message_id` (else `client_id`) over a persisted
//! window, so the server's occasional double delivery reaches a handler once.
//!
//! The lower layers are re-exported: [`proto`] (wire types), [`crypto`]
//! (media crypto), [`http`] (the transport).

pub use ilink_crypto as crypto;
pub use ilink_http as http;
pub use ilink_proto as proto;

mod backoff;
mod chunk;
mod client;
mod error;
mod health;
mod login;
mod media;
mod message;
mod pacing;
mod poller;
mod quote;
mod runner;
mod send;
pub mod store;
mod tool_call;
mod typing;
mod util;

pub use backoff::Backoff;
pub use chunk::{DEFAULT_CHUNK_CHARS, chunk_text};
pub use client::{Client, ClientBuilder};
pub use error::{BoxError, Error, LoginFailure};
pub use health::{Health, SessionState};
pub use login::{Login, LoginEvent, LoginOutcome};
pub use media::{Download, MediaError, MediaKind, MediaSource, SendMedia, mime_type};
pub use message::{Message, message_key};
pub use pacing::Pacing;
pub use poller::{Batch, Poller};
pub use quote::{QuoteSource, Quoted, QuotedPart};
pub use runner::{Context, Handler, HandlerFn, OnSessionExpired, RunEvent, Runner, handler_fn};
pub use send::{SendText, Sent};
pub use store::{Credentials, FileStore, MemoryStore, Store, StoreError};
pub use tool_call::SendToolCall;
pub use typing::Typing;
