//! The Rust SDK for Tencent's WeChat iLink Bot API.
//!
//! A [`Client`] holds what bot accounts share (the connection pool, the
//! [`Store`], QR login: [`Client::login`]); a [`Bot`] is one account. A bot
//! polls messages so that none is lost or handled twice
//! ([`Bot::run_until`], or the pull API [`Bot::poller`]), replies
//! ([`Context::reply`], [`Bot::send_text`]), sends media
//! ([`Bot::send_media`]) and shows "typing…" ([`Bot::typing`]). State lives
//! in a [`Store`]: [`SqliteStore`] (the default on disk) or [`MemoryStore`].
//!
//! ```no_run
//! use ilink::{Client, Context, Message, SqliteStore, handler_fn};
//!
//! # async fn run() -> Result<(), ilink::Error> {
//! let client = Client::builder().store(SqliteStore::open("state")?).build()?;
//! let bot = client.bot("abc@im.bot").await?;
//! let echo = handler_fn(|ctx: Context, msg: Message| async move {
//!     let _typing = ctx.typing().await;
//!     ctx.reply(format!("you said: {}", msg.text())).await?;
//!     Ok(())
//! });
//! bot.run_until(echo, ilink::shutdown_signal()).await?;
//! # Ok(()) }
//! ```
//!
//! With a token and nothing else: `ilink::Bot::from_token(token)?`.
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
//! Replies go the other way through the store's outbox ([`outbox`]): written
//! with their `client_id` before they are sent, kept until the server
//! accepted them, sent again after a crash with the same ids (a handler's
//! replies get ids derived from the message it answers, so a handler run
//! again sends the same ones). Each conversation's reply budget and window
//! are applied before the server sees a send, and a refusal in one
//! conversation never holds up another.
//!
//! The lower layers are re-exported: [`proto`] (wire types), [`crypto`]
//! (media crypto), [`http`] (the transport).

pub use ilink_crypto as crypto;
pub use ilink_http as http;
pub use ilink_proto as proto;
/// The TLS library whose configuration
/// [`PgStore::connect_with_tls`](store::PgStore::connect_with_tls) takes.
#[cfg(feature = "postgres")]
pub use rustls;

mod account;
mod bot;
pub mod chunk;
mod client;
mod cluster;
mod config;
mod context;
mod error;
mod fence;
mod handle;
mod health;
mod login;
pub mod media;
mod message;
pub mod outbox;
pub mod pacing;
mod poller;
mod quote;
mod runner;
mod send;
mod signal;
pub mod store;
mod sync;
mod tool_call;
mod typing;
#[cfg(feature = "voice")]
pub mod voice;

pub use client::{Bot, Client, ClientBuilder};
pub use cluster::{Cluster, ClusterEvent};
pub use context::Context;
pub use error::{BoxError, Error, LoginFailure, OriginProblem, Report};
pub use health::{Health, SessionState};
pub use ilink_http::Retry;
pub use ilink_proto::{AccountId, Cursor, UserId};
pub use login::{Login, LoginEvent, LoginOutcome};
pub use media::{Download, MediaError, MediaKind, MediaSource, SendMedia};
pub use message::Message;
pub use outbox::{FlushReport, ReplyBudget, Sent, Undeliverable};
pub use poller::{Batch, Poller};
pub use quote::{InboundMedia, QuoteSource, Quoted, QuotedPart};
pub use runner::{
    BackoffReason, Handler, HandlerFailure, HandlerFn, KeepPending, OnSessionExpired, RunEvent,
    Runner, handler_fn,
};
pub use send::SendText;
pub use signal::shutdown_signal;
#[cfg(feature = "postgres")]
pub use store::PgStore;
pub use store::{Credentials, MemoryStore, SqliteStore, Store, StoreError};
pub use tool_call::SendToolCall;
pub use typing::Typing;
