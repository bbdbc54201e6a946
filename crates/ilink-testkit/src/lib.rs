//! A faithful simulator of Tencent's WeChat iLink Bot API and its CDN, for
//! testing bots without WeChat.
//!
//! It serves every endpoint of the protocol over real HTTP on loopback, with
//! the real validation: headers and `base_info` on every call, tokens (`-14`
//! for unknown, revoked or expired ones), `from_user_id == ""`, unique
//! `client_id`s (a repeat is dropped silently), context tokens issued to the
//! user, uploads that must decrypt to the declared size and MD5, media
//! references that must decrypt with the key the message carries. It never
//! uses the client crates: a simulator built from the client would agree with
//! the client's bugs.
//!
//! Tests script it with a typed API: create accounts, push inbound messages of
//! every kind, script QR logins, expire sessions, rate-limit sends, inject
//! faults on the next calls of any route, and read back everything received.
//! Expectations are awaited ([`Simulator::wait_for_sent`]), never slept for.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use ilink_testkit::{Fault, FaultKind, Inbound, Route, Simulator};
//!
//! let sim = Simulator::builder().hold(Duration::from_secs(2)).start().await?;
//! let bot = sim.create_account();
//! sim.push(&bot.bot_id, Inbound::text("alice@im.wechat", "ping"));
//! sim.inject(Fault::new(Route::SendMessage, FaultKind::Status500, 1));
//! // ... run your bot against sim.api_url() / sim.cdn_url() with bot.token ...
//! let sent = sim.wait_for_sent(1, Duration::from_secs(10)).await?;
//! assert_eq!(sent[0].text(), "pong");
//! assert!(sim.violations().is_empty());
//! # Ok(()) }
//! ```
//!
//! # Standalone mode
//!
//! The `ilink-simulator` binary runs a simulator for bots written in other
//! languages. It prints one JSON line with its URLs
//! (`{"api_url", "cdn_url", "redirect_url", "control_url"}`) and serves until
//! Ctrl-C or SIGTERM; `ilink-simulator --help` lists its flags. The same
//! scripting API is then served as JSON on `control_url`
//! ([`SimulatorBuilder::control`]):
//!
//! | request | does |
//! |---|---|
//! | `POST /accounts` | creates an account: `{bot_id, owner_user_id, token}` |
//! | `POST /accounts/{bot_id}/push` | pushes the serde form of an [`Inbound`] (media bytes in base64); answers [`Pushed`] |
//! | `POST /accounts/{bot_id}/expire` | expires the bot's session |
//! | `POST /login-scripts` | queues a [`QrScript`] |
//! | `POST /faults`, `DELETE /faults` | arms a [`Fault`], disarms all |
//! | `POST /reset-records` | forgets every record |
//! | `GET /sent` | the [`SentMessage`]s (media with `md5`, without bytes) |
//! | `GET /requests?route=get_updates` | the [`RequestRecord`]s, all or of one [`Route`] |
//! | `GET /typing`, `/notify`, `/violations`, `/duplicates` | the other records |
//! | `GET /wait/sent?n=N&timeout_ms=T` | waits for `N` sent messages (default 1, 10 s); 408 on timeout |
//!
//! Control requests are neither recorded nor subject to faults. Refusals are
//! 4xx with `{"error": "..."}`.

mod api;
mod cdn;
#[cfg(feature = "cli")]
pub mod cli;
mod control;
mod fault;
mod http;
mod inbound;
mod login;
mod random;
mod record;
mod server;
mod shared;
mod sim;
mod state;
mod tls;

pub use fault::{Fault, FaultKind, Route};
pub use inbound::{Inbound, InboundContent, KeyForm, PartialQuote, Pushed, Quote};
pub use login::{LoginTarget, QrScript, QrStep};
pub use record::{
    DroppedDuplicate, Host, NotifyCall, ReceivedMedia, RequestRecord, SentMessage, TypingCall,
    Violation,
};
pub use shared::{TestAccount, Urls};
pub use sim::{Simulator, SimulatorBuilder, WaitTimeout};
pub use state::RateLimit;
pub use tls::TestCa;
