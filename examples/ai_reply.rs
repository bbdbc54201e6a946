//! The shape of an AI agent's reply: "typing…" while the model thinks, the
//! progress of a tool call, and a long answer split into several messages,
//! within the conversation's reply budget (WeChat lets a bot send about 10
//! messages per user message, within 24 hours of it): when the answer does
//! not fit, the agent sends what fits and asks the user to write "more".
//!
//! The model and the tool are simulated (a pause and canned text), so the
//! example runs without any AI service; put your own calls in `search` and
//! `think`.
//!
//! ```sh
//! ILINK_TOKEN=... cargo run --example ai_reply
//! # or after `cargo run --example qr_login`:
//! cargo run --example ai_reply
//! ```
//!
//! Environment: `ILINK_TOKEN`, `ILINK_STATE_DIR` (default `./ilink-state`),
//! `ILINK_BASE_URL`, `ILINK_CDN_BASE_URL`, `RUST_LOG`.

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Duration;

use ilink::proto::ToolCallStatus;
use ilink::{BoxError, Context, Error, Handler, Message, UserId};

/// The agent. Implementing [`Handler`] on a type (instead of `handler_fn`)
/// gives the handler a place for its configuration and clients.
struct Agent {
    /// The most characters per message; longer answers are split on
    /// paragraph, line, sentence or word boundaries.
    chunk_chars: usize,
    /// What is left of each user's last answer, for when they write "more".
    /// (A real bot keeps this where it keeps its conversations.)
    rest: Mutex<HashMap<UserId, Vec<String>>>,
}

impl Handler for Agent {
    async fn handle(&self, ctx: Context, msg: Message) -> Result<(), BoxError> {
        let question = msg.text().into_owned();
        if question.trim().is_empty() {
            return Ok(()); // media, tool calls, …: not for this agent
        }
        println!("{} asks: {question}", ctx.user_id());
        if question.trim().eq_ignore_ascii_case("more") {
            let rest = self.rest.lock().unwrap().remove(ctx.user_id());
            return match rest {
                Some(parts) => self.answer(&ctx, parts).await,
                None => {
                    ctx.reply("That was all.").await?;
                    Ok(())
                }
            };
        }

        // "typing…" for as long as the guard lives (renewed every 5 s, for
        // at most two minutes). Best-effort: it never fails the reply.
        let typing = ctx.typing().await;

        // A tool call, shown to the user as "started" then "finished".
        // Each item is its own message, paced like any other send.
        let call_id = format!("search-{}", msg.key());
        ctx.tool_call_start("web_search", &call_id).await?;
        let (status, found) = match search(&question).await {
            Ok(found) => (ToolCallStatus::Completed, found),
            Err(e) => (ToolCallStatus::Failed, format!("(search failed: {e})")),
        };
        ctx.tool_call_result("web_search", &call_id, status).await?;

        // The model "thinks"; typing is still shown.
        let answer = think(&question, &found).await;

        // Cancel "typing…" now rather than when the guard is dropped.
        typing.finish().await;
        let parts = ilink::chunk::chunk_text(&answer, self.chunk_chars)
            .into_iter()
            .map(str::to_owned)
            .collect();
        self.answer(&ctx, parts).await
    }
}

impl Agent {
    /// Sends the parts of an answer that the conversation can take now,
    /// keeping one message to ask for "more" when they do not all fit.
    async fn answer(&self, ctx: &Context, mut parts: Vec<String>) -> Result<(), BoxError> {
        // How many messages the conversation takes before the user must
        // write again (None: no limit applies).
        let left = ctx.reply_budget().await?.left.map(|l| l as usize);
        if left == Some(0) {
            // Not even the question fits; keep it all for the next message.
            self.rest
                .lock()
                .unwrap()
                .insert(ctx.user_id().clone(), parts);
            return Ok(());
        }
        let fits = match left {
            Some(left) if left < parts.len() => left.saturating_sub(1),
            _ => parts.len(),
        };
        let rest = parts.split_off(fits);
        // Each part is one message with its own client_id, in order, paced
        // so the server's rate limit is not hit. A send that would go beyond
        // the budget fails before it reaches the server
        // (Error::ConversationClosed), so nothing is sent for nothing.
        for part in &parts {
            ctx.reply(part.as_str()).await?;
        }
        println!("  answered in {} messages", parts.len());
        if !rest.is_empty() {
            ctx.reply(format!(
                "({} more parts: write \"more\" to read on.)",
                rest.len()
            ))
            .await?;
            self.rest
                .lock()
                .unwrap()
                .insert(ctx.user_id().clone(), rest);
        }
        Ok(())
    }
}

/// A stand-in for a tool.
async fn search(question: &str) -> Result<String, BoxError> {
    tokio::time::sleep(Duration::from_millis(800)).await;
    Ok(format!("3 pages mention \"{question}\""))
}

/// A stand-in for a language model: a pause, then a long answer.
async fn think(question: &str, found: &str) -> String {
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut answer = format!("You asked: \"{question}\". The search found: {found}.\n\n");
    for i in 1..=12 {
        answer.push_str(&format!(
            "Point {i}. A real agent would stream tokens from its model here and \
             send the finished answer. WeChat shows bot messages only once they are \
             complete, so partial text is not sent; a long answer is split into \
             messages of a readable size instead, each cut at a paragraph, a line, \
             a sentence or at least a word.\n\n"
        ));
    }
    answer.push_str("That is all.");
    answer
}

mod setup;

#[tokio::main]
async fn main() -> ExitCode {
    setup::init_logging("warn");
    setup::exit("ai_reply", run().await)
}

async fn run() -> Result<ExitCode, Error> {
    let Some(bot) = setup::bot("ai_reply", "AiReplyExample/1.0").await? else {
        return Ok(ExitCode::from(setup::NOT_CONFIGURED));
    };
    let account = bot.id();
    println!("Agent {account} is listening; press Ctrl-C to stop.");

    let agent = Agent {
        chunk_chars: 1500,
        rest: Mutex::default(),
    };
    bot.runner()
        // Slow handlers of different users run side by side, at most 8 at
        // once; the messages of one user are always handled in order.
        .concurrency(8)
        .run_until(agent, ilink::shutdown_signal())
        .await?;
    Ok(ExitCode::SUCCESS)
}
