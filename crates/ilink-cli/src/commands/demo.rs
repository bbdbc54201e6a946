//! `ilink demo`: the whole SDK against the in-process simulator, with no
//! WeChat account and no network.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ilink::http::Transport;
use ilink::pacing::Pacing;
use ilink::proto::ItemContent;
use ilink::{
    Client, Context, LoginOutcome, MediaKind, MediaSource, Message, SqliteStore, handler_fn,
};
use ilink_testkit::{Inbound, LoginTarget, QrScript, QrStep, Quote, Simulator};
use serde_json::json;
use tokio::sync::Notify;

use crate::app::{CliError, Out, Result};

/// What the bot did, for the summary.
#[derive(Default)]
struct Stats {
    handled: usize,
    bytes_down: u64,
    md5_checked: usize,
    md5_ok: usize,
}

/// Deterministic bytes standing in for a photo, a voice note, a report.
fn synthetic(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn long_answer() -> String {
    let paragraphs = [
        "ilink-rs is the Rust SDK for the WeChat iLink Bot API: QR login, long-polling that never loses or repeats a message, replies, media over the encrypted CDN, and \"typing…\".",
        "Every batch the server sends is written to a durable inbox before the cursor moves, each message is acknowledged after its handler finished, and duplicates are dropped by message id. A crash loses nothing; a restart repeats nothing that was acknowledged.",
        "Media is encrypted with AES-128-ECB while it streams: a first pass computes the size and MD5, a second pass uploads the ciphertext, so a 1 GiB file never sits in memory.",
        "Long answers like this one are split on paragraph, line, sentence or word boundaries, never inside a character or an emoji, and sent in order with a fresh client id each, paced so the server's rate limit is never tripped.",
    ];
    let mut text = String::new();
    while text.chars().count() < 4200 {
        for p in paragraphs {
            text.push_str(p);
            text.push_str("\n\n");
        }
    }
    text.trim_end().to_owned()
}

fn narrate(out: Out, text: impl std::fmt::Display, event: serde_json::Value) {
    out.emit(text, event);
}

pub(crate) async fn run(out: Out, no_qr: bool) -> Result<()> {
    let started = Instant::now();
    let sim = Simulator::builder()
        .hold(Duration::from_millis(800))
        .start()
        .await?;
    narrate(
        out,
        format!(
            "== ilink demo: a simulated iLink server at {} (CDN {})",
            sim.api_url(),
            sim.cdn_url()
        ),
        json!({"event": "simulator", "api_url": sim.api_url(), "cdn_url": sim.cdn_url()}),
    );

    // State in a throwaway directory: the same file store a real bot uses.
    let state = std::env::temp_dir().join(format!("ilink-demo-{}", std::process::id()));
    let result = demo(out, no_qr, &sim, &state).await;
    let _ = std::fs::remove_dir_all(&state);
    let elapsed = started.elapsed();
    match result {
        Ok(()) => {
            narrate(
                out,
                format!("== demo finished in {:.1} s", elapsed.as_secs_f64()),
                json!({"event": "done", "seconds": elapsed.as_secs_f64()}),
            );
            Ok(())
        }
        Err(e) => Err(e),
    }
}

async fn demo(out: Out, no_qr: bool, sim: &Simulator, state: &std::path::Path) -> Result<()> {
    // 1. QR login, as a user scanning the code with WeChat would.
    sim.script_login(QrScript::new(vec![
        QrStep::Wait,
        QrStep::Scanned,
        QrStep::Confirm {
            target: LoginTarget::NewBot,
        },
    ]));
    let client = Client::builder()
        .transport(
            Transport::builder()
                .api_base_url(sim.api_url())
                .cdn_base_url(sim.cdn_url())
                .bot_agent("ilink-demo/1.0"),
        )
        .store(SqliteStore::open(state)?)
        .qr_poll_interval(Duration::from_millis(150))
        .pacing(Pacing::new(Duration::from_millis(120), 3))
        .build()?;
    narrate(
        out,
        "\n-- 1. QR login",
        json!({"event": "step", "step": "login"}),
    );
    let outcome = client
        .login()
        .on_event(move |e| super::print_login_event(out, no_qr, false, e))
        .await?;
    let LoginOutcome::LoggedIn {
        bot: me,
        credentials,
    } = outcome
    else {
        return Err(CliError::Other(
            "the simulated login did not log in".to_owned(),
        ));
    };
    let bot = credentials.account_id.to_string();

    // 2. Users write to the bot.
    narrate(
        out,
        "\n-- 2. Users write to the bot",
        json!({"event": "step", "step": "inbound"}),
    );
    let mut expected_md5: HashMap<String, String> = HashMap::new();
    let first = sim.push(
        &bot,
        Inbound::text("alice@im.wechat", "Hi bot! What is ilink-rs?"),
    );
    let photo = synthetic(1, 96 * 1024);
    let p = sim.push(&bot, Inbound::image("bob@im.wechat", photo).full_url());
    expected_md5.insert(
        p.message_id.to_string(),
        p.media_md5.clone().unwrap_or_default(),
    );
    // Real SILK v3, as phones send it: a 2.4 s tone with the server's
    // transcript.
    let mut voice = Inbound::voice_tone("carol@im.wechat", 440.0, Duration::from_millis(2_400));
    if let ilink_testkit::InboundContent::Voice { transcript, .. } = &mut voice.content {
        *transcript = Some("Can you hear me?".to_owned());
    }
    let p = sim.push(&bot, voice);
    expected_md5.insert(
        p.message_id.to_string(),
        p.media_md5.clone().unwrap_or_default(),
    );
    let report = synthetic(3, 300 * 1024);
    let p = sim.push(
        &bot,
        Inbound::file("dave@im.wechat", "quarterly-report.pdf", report),
    );
    expected_md5.insert(
        p.message_id.to_string(),
        p.media_md5.clone().unwrap_or_default(),
    );
    sim.push(
        &bot,
        Inbound::text("alice@im.wechat", "…and in one sentence?").quote(
            Quote::of(first.message_id.get())
                .with_text("Hi bot! What is ilink-rs?")
                .with_title("alice"),
        ),
    );
    let inbound_total = 5;

    // 3. The bot answers each, as any bot built on ilink would.
    narrate(
        out,
        "\n-- 3. The bot answers",
        json!({"event": "step", "step": "replies"}),
    );
    let stats = Arc::new(Mutex::new(Stats::default()));
    let done = Arc::new(Notify::new());
    let expected_md5 = Arc::new(expected_md5);
    let handler = {
        let stats = stats.clone();
        let done = done.clone();
        handler_fn(move |ctx: Context, msg: Message| {
            let stats = stats.clone();
            let done = done.clone();
            let expected_md5 = expected_md5.clone();
            async move {
                narrate(
                    out,
                    format!("<- {}", super::message_line(&msg)),
                    super::message_json(&msg),
                );
                let typing = ctx.typing().await;
                answer(&ctx, &msg, &stats, &expected_md5, out).await?;
                typing.finish().await;
                let mut s = stats.lock().unwrap_or_else(|p| p.into_inner());
                s.handled += 1;
                if s.handled == inbound_total {
                    done.notify_one();
                }
                Ok(())
            }
        })
    };
    let all_done = async {
        tokio::select! {
            _ = done.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(60)) => {}
        }
    };
    // One conversation at a time keeps the transcript readable.
    me.runner()
        .concurrency(1)
        .run_until(handler, all_done)
        .await?;

    // 4. What the simulated server received and checked.
    narrate(
        out,
        "\n-- 4. What the server received",
        json!({"event": "step", "step": "verify"}),
    );
    let sent = sim.sent();
    let mut bytes_up = 0u64;
    let mut server_md5 = 0usize;
    let mut problems = Vec::new();
    for m in &sent {
        let media: Vec<String> = m
            .media
            .iter()
            .map(|r| format!("{} {} B md5 {}", r.kind, r.size, &r.md5[..8]))
            .collect();
        bytes_up += m.media.iter().map(|r| r.size).sum::<u64>();
        server_md5 += m.media.len();
        let text = m.text();
        let shown = if text.chars().count() > 60 {
            format!(
                "{}… ({} chars)",
                text.chars().take(60).collect::<String>(),
                text.chars().count()
            )
        } else {
            text.clone()
        };
        narrate(
            out,
            format!(
                "-> {}: {}{}",
                m.to(),
                shown,
                if media.is_empty() {
                    String::new()
                } else {
                    format!("[{}]", media.join(", "))
                }
            ),
            json!({"event": "sent", "to": m.to(), "message_id": m.message_id.to_string(),
                   "chars": text.chars().count(), "media": m.media}),
        );
        problems.extend(m.rendering_problems.iter().cloned());
    }
    let violations = sim.violations();
    let s = stats.lock().unwrap_or_else(|p| p.into_inner());
    narrate(
        out,
        format!(
            "\n== summary: {} messages in, {} out; {} KiB down, {} KiB up; MD5 verified {}/{} downloads, {} uploads checked by the server; {} protocol violations, {} rendering problems",
            s.handled,
            sent.len(),
            s.bytes_down / 1024,
            bytes_up / 1024,
            s.md5_ok,
            s.md5_checked,
            server_md5,
            violations.len(),
            problems.len()
        ),
        json!({"event": "summary", "messages_in": s.handled, "messages_out": sent.len(),
               "bytes_down": s.bytes_down, "bytes_up": bytes_up, "md5_checked": s.md5_checked,
               "md5_ok": s.md5_ok, "uploads_verified": server_md5,
               "violations": violations.len(), "rendering_problems": problems}),
    );
    if s.handled != inbound_total
        || s.md5_ok != s.md5_checked
        || !violations.is_empty()
        || !problems.is_empty()
    {
        return Err(CliError::Other(format!(
            "demo checks failed: handled {}/{inbound_total}, md5 {}/{}, violations {violations:?}, problems {problems:?}",
            s.handled, s.md5_ok, s.md5_checked
        )));
    }
    Ok(())
}

async fn answer(
    ctx: &Context,
    msg: &Message,
    stats: &Mutex<Stats>,
    expected_md5: &HashMap<String, String>,
    out: Out,
) -> std::result::Result<(), ilink::BoxError> {
    let Some(item) = msg.items().first() else {
        return Ok(());
    };
    let id = msg.message_id().map(|m| m.to_string()).unwrap_or_default();
    match item.content() {
        ItemContent::Text(_) => {
            if let Some(quoted) = ctx.bot().quoted(msg) {
                let was = quoted.text().unwrap_or("(a message)").to_owned();
                ctx.reply(format!("You quoted \"{was}\". In one sentence: ilink-rs lets a Rust bot talk WeChat iLink safely and fast."))
                    .await?;
            } else {
                let sent = ctx.reply(long_answer()).await?;
                narrate(
                    out,
                    format!(
                        "   (a {}-character answer went out as {} messages)",
                        long_answer().chars().count(),
                        sent.len()
                    ),
                    json!({"event": "chunked", "messages": sent.len()}),
                );
            }
        }
        ItemContent::Image(_)
        | ItemContent::Voice(_)
        | ItemContent::File(_)
        | ItemContent::Video(_) => {
            let bytes = ctx.download(item).bytes().await?;
            let md5 = ilink::crypto::md5(&bytes).to_hex();
            let ok = expected_md5.get(&id).is_some_and(|e| *e == md5);
            {
                let mut s = stats.lock().unwrap_or_else(|p| p.into_inner());
                s.bytes_down += bytes.len() as u64;
                s.md5_checked += 1;
                s.md5_ok += usize::from(ok);
            }
            narrate(
                out,
                format!(
                    "   downloaded and decrypted {} bytes, md5 {} {}",
                    bytes.len(),
                    &md5[..8],
                    if ok { "matches" } else { "DIFFERS" }
                ),
                json!({"event": "downloaded", "bytes": bytes.len(), "md5": md5, "md5_ok": ok}),
            );
            match item.content() {
                ItemContent::Image(_) => {
                    ctx.reply("Nice picture! Here is one back.").await?;
                    ctx.send_media(MediaSource::bytes(synthetic(4, 48 * 1024)))
                        .kind(MediaKind::Image)
                        .await?;
                }
                ItemContent::Voice(v) => {
                    let heard = v
                        .text
                        .clone()
                        .unwrap_or_else(|| "(no transcript)".to_owned());
                    let pcm = ilink::voice::decode(&bytes, ilink::voice::sample_rate_of(v))?;
                    let wav = pcm.to_wav();
                    narrate(
                        out,
                        format!(
                            "   decoded the SILK voice note to a {:.1} s WAV at {} Hz ({} bytes)",
                            pcm.duration().as_secs_f64(),
                            pcm.sample_rate,
                            wav.len()
                        ),
                        json!({"event": "voice_decoded", "duration_ms": pcm.duration().as_millis() as u64,
                               "sample_rate": pcm.sample_rate, "wav_bytes": wav.len()}),
                    );
                    ctx.reply(format!(
                        "I heard: \"{heard}\" ({:.1} s of audio).",
                        pcm.duration().as_secs_f64()
                    ))
                    .await?;
                }
                ItemContent::File(f) => {
                    ctx.reply(format!(
                        "Got {} ({} bytes, md5 {}).",
                        f.file_name.as_deref().unwrap_or("your file"),
                        bytes.len(),
                        &md5[..8]
                    ))
                    .await?;
                }
                _ => {}
            }
        }
        _ => {}
    }
    Ok(())
}
