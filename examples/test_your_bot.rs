//! How to test a bot's handler without WeChat: against `ilink-testkit`, a
//! simulator of the iLink server and CDN on loopback. Runs by itself, with
//! no network and no account, in a second or two:
//!
//! ```sh
//! cargo run --example test_your_bot
//! ```
//!
//! In your own crate, add the dev-dependencies
//!
//! ```toml
//! [dev-dependencies]
//! ilink-testkit = "0.1"
//! tokio = { version = "1", features = ["macros", "rt-multi-thread"] }
//! ```
//!
//! and put `the_bot_answers_like_it_should` in `tests/bot.rs` under
//! `#[tokio::test]`: the body stays the same.

use std::process::ExitCode;
use std::time::Duration;

use ilink::http::Transport;
use ilink::pacing::Pacing;
use ilink::proto::ItemContent;
use ilink::{BoxError, Client, Context, Credentials, Handler, Message};
use ilink_testkit::{Inbound, Simulator};

// ---------------------------------------------------------------- the bot
//
// This part is your bot, as it runs in production. Nothing in it knows about
// the simulator.

/// A small bot: answers `ping`, greets, confirms pictures, explains at length.
struct MyBot;

impl Handler for MyBot {
    async fn handle(&self, ctx: Context, msg: Message) -> Result<(), BoxError> {
        let Some(item) = msg.items().first() else {
            return Ok(());
        };
        match item.content() {
            ItemContent::Text(_) => {
                let text = msg.text();
                let reply = match text.trim() {
                    "ping" => "pong".to_owned(),
                    "/help" => help_text(),
                    other => format!("Hello! You said: {other}"),
                };
                let typing = ctx.typing().await;
                ctx.reply(reply).await?;
                typing.finish().await;
            }
            ItemContent::Image(_) => {
                // Downloaded from the CDN and decrypted.
                let bytes = ctx.download(item).bytes().await?;
                ctx.reply(format!("Got your picture ({} bytes).", bytes.len()))
                    .await?;
            }
            _ => {}
        }
        Ok(())
    }
}

/// Long enough to be split into several messages (2000 characters each).
fn help_text() -> String {
    "This bot answers ping, greets you, and looks at your pictures. ".repeat(60)
}

// ---------------------------------------------------------------- the test

/// The test: a simulated server, one bot account, messages in, replies
/// checked. Put it under `#[tokio::test]` in `tests/`.
async fn the_bot_answers_like_it_should() -> Result<(), BoxError> {
    // 1. A simulator on free loopback ports. `hold` is how long an empty
    //    long-poll is held (35 s on the real server): short, so that the
    //    runner stops promptly at the end.
    let sim = Simulator::builder()
        .hold(Duration::from_millis(200))
        .start()
        .await?;

    // 2. A bot account with a live token, as after a QR login.
    let bot = sim.create_account();

    // 3. A client pointed at the simulator, and that account's bot. The
    //    default store is in memory; pacing is off so the test does not wait
    //    between sends (the real default is a burst of 2, then one every
    //    700 ms).
    let client = Client::builder()
        .transport(
            Transport::builder()
                .api_base_url(sim.api_url())
                .cdn_base_url(sim.cdn_url()),
        )
        .pacing(Pacing::unlimited())
        .build()?;
    let me = client.bot_with(&Credentials::new(
        bot.bot_id.as_str(),
        bot.token.as_str().into(),
    ));

    // 4. Users write to the bot. The simulator queues the messages until the
    //    bot polls; `duplicated()` delivers one twice, as the real server
    //    sometimes does.
    let alice = "alice@im.wechat";
    let bob = "bob@im.wechat";
    let ping = sim.push(&bot.bot_id, Inbound::text(alice, "ping").duplicated());
    sim.push(&bot.bot_id, Inbound::text(alice, "/help"));
    sim.push(&bot.bot_id, Inbound::image(bob, vec![7; 5000]));
    sim.push(&bot.bot_id, Inbound::text(bob, "good morning"));

    // 5. Run the handler exactly as in production, with a shutdown signal.
    //    Expectations are awaited, never slept for: the simulator wakes
    //    `wait_for_sent` on every message it accepts. 1 + 2 (the long help,
    //    chunked) + 1 + 1 = 5 replies; the stop comes once they are all in,
    //    or after 10 s at most.
    let shutdown = async {
        let _ = sim.wait_for_sent(5, Duration::from_secs(10)).await;
    };
    let cursor = me.run_until(MyBot, shutdown).await?;
    // `run_until` returned: every handler finished, notifystop was sent.
    assert!(!cursor.is_empty(), "the cursor advanced");

    // 6. Assert on what the server received.
    let sent = sim.sent();
    let to = |user: &str| -> Vec<String> {
        sent.iter()
            .filter(|m| m.to() == user)
            .map(|m| m.text())
            .collect()
    };

    // Alice: `pong` once (the duplicate delivery was handled once), then the
    // help text in order, in two messages.
    let alice_got = to(alice);
    assert_eq!(alice_got.len(), 3, "alice got {alice_got:?}");
    assert_eq!(alice_got[0], "pong");
    assert_eq!(alice_got[1..].concat(), help_text(), "chunks reassemble");
    assert!(alice_got[1..].iter().all(|c| c.chars().count() <= 2000));

    // Bob: his picture was downloaded and decrypted whole, then his text.
    assert_eq!(
        to(bob),
        [
            "Got your picture (5000 bytes).",
            "Hello! You said: good morning"
        ]
    );

    // Every reply carried a context token issued to its user (without one
    // it may not reach the chat), and nothing would render wrongly.
    for m in &sent {
        assert!(m.in_conversation, "{} lacked its context token", m.text());
        assert!(
            m.rendering_problems.is_empty(),
            "{:?}",
            m.rendering_problems
        );
    }
    // The reply to `ping` carried the very token the push issued.
    let pong = sent.iter().find(|m| m.text() == "pong").expect("a pong");
    assert_eq!(
        pong.msg.context_token.as_ref().map(|t| t.expose()),
        Some(ping.context_token.as_str())
    );

    // "typing…" was shown (status 1) and cancelled (status 2).
    let typing: Vec<i32> = sim.typing_calls().iter().map(|t| t.status).collect();
    assert!(typing.contains(&1) && typing.contains(&2), "{typing:?}");

    // The runner said hello and goodbye: notifystart, then notifystop.
    let notify: Vec<bool> = sim.notify_calls().iter().map(|n| n.start).collect();
    assert_eq!(notify, [true, false]);

    // And the client broke none of the protocol's rules (headers,
    // base_info, empty from_user_id, unique client_ids, …).
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());

    sim.shutdown().await;
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let started = std::time::Instant::now();
    // A task of its own, so that a failed assertion (a panic) is reported as
    // a failure too, as the test harness would.
    match tokio::spawn(the_bot_answers_like_it_should()).await {
        Ok(Ok(())) => {
            println!(
                "PASS: the_bot_answers_like_it_should ({:.2} s)",
                started.elapsed().as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        Ok(Err(e)) => {
            println!("FAIL: the_bot_answers_like_it_should: {e}");
            ExitCode::FAILURE
        }
        Err(_panicked) => {
            println!("FAIL: the_bot_answers_like_it_should (see the assertion above)");
            ExitCode::FAILURE
        }
    }
}
