//! The shape of an AI agent's reply: "typing…" while the model thinks, the
//! progress of a tool call, and a long answer split into several messages.
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

use std::process::ExitCode;
use std::time::Duration;

use ilink::proto::ToolCallStatus;
use ilink::{BoxError, Context, Error, Handler, Message};

/// The agent. Implementing [`Handler`] on a type (instead of `handler_fn`)
/// gives the handler a place for its configuration and clients.
struct Agent {
    /// The most characters per message; longer answers are split on
    /// paragraph, line, sentence or word boundaries.
    chunk_chars: usize,
}

impl Handler for Agent {
    async fn handle(&self, ctx: Context, msg: Message) -> Result<(), BoxError> {
        let question = msg.text().into_owned();
        if question.trim().is_empty() {
            return Ok(()); // media, tool calls, …: not for this agent
        }
        println!("{} asks: {question}", ctx.user_id());

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

        // One call, several messages: each chunk gets its own client_id and
        // goes out in order, paced so the server's rate limit is not hit.
        let sent = ctx.reply(answer).chunk_chars(self.chunk_chars).await?;
        println!("  answered in {} messages", sent.len());

        // Cancel "typing…" now rather than when the guard is dropped.
        typing.finish().await;
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

    let agent = Agent { chunk_chars: 1500 };
    bot.runner()
        // Slow handlers of different users run side by side, at most 8 at
        // once; the messages of one user are always handled in order.
        .concurrency(8)
        .run_until(agent, tokio::signal::ctrl_c())
        .await?;
    Ok(ExitCode::SUCCESS)
}
