//! The commands.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use ilink::proto::{ItemContent, TypingStatus};
use ilink::{Context, LoginEvent, LoginOutcome, Message, handler_fn};
use serde_json::json;
use tokio::io::AsyncBufReadExt;
use tokio::sync::Notify;

use crate::app::{self, CliError, Out, Result};
use crate::cli::{Cli, Command};

mod demo;
mod media;

pub(crate) async fn run(cli: Cli) -> Result<()> {
    let out = Out {
        json: cli.global.json,
    };
    let g = &cli.global;
    match cli.command {
        Command::Login {
            no_qr,
            timeout,
            light,
        } => login(g, out, no_qr, light, timeout).await,
        Command::Accounts => accounts(g, out).await,
        Command::Logout { id } => logout(g, out, id).await,
        Command::Users => users(g, out).await,
        Command::Listen {
            count,
            timeout,
            download,
            max_failures,
            voice,
        } => listen(g, out, count, timeout, download, max_failures, voice).await,
        Command::Voice(crate::cli::VoiceCommand::Decode {
            input,
            output,
            sample_rate,
            force,
        }) => media::voice_decode(out, &input, output, sample_rate, force).await,
        Command::Echo { max_failures } => echo(g, out, max_failures).await,
        Command::Send(args) => media::send(g, out, args).await,
        Command::Download {
            param,
            url,
            key,
            out: path,
            force,
        } => media::download(g, out, param, url, media::read_key(&key)?, path, force).await,
        Command::Decrypt {
            key,
            input,
            out: path,
            force,
        } => {
            let key = media::read_key(&key)?.ok_or_else(|| {
                CliError::Other(
                    "decrypt needs a key: --key-file, --key-stdin, ILINK_AES_KEY or --key"
                        .to_owned(),
                )
            })?;
            media::decrypt(out, &key, &input, &path, force).await
        }
        Command::Encrypt {
            key,
            input,
            out: path,
            force,
        } => media::encrypt(out, media::read_key(&key)?.as_deref(), &input, &path, force).await,
        Command::Typing { to, cancel } => typing(g, out, &to, cancel).await,
        Command::Simulate(args) => Ok(args.serve().await?),
        Command::Demo { no_qr } => demo::run(out, no_qr).await,
        Command::Completions { shell } => {
            use clap::CommandFactory as _;
            let mut cmd = crate::cli::Cli::command();
            clap_complete::generate(shell, &mut cmd, "ilink", &mut std::io::stdout());
            Ok(())
        }
    }
}

/// Reads one line from stdin (`None` at end of input). One reader lives for
/// the whole process, so buffered lines are never lost between prompts.
async fn read_line() -> Option<String> {
    type Lines = tokio::sync::Mutex<tokio::io::Lines<tokio::io::BufReader<tokio::io::Stdin>>>;
    static STDIN: std::sync::OnceLock<Lines> = std::sync::OnceLock::new();
    let lines = STDIN.get_or_init(|| {
        tokio::sync::Mutex::new(tokio::io::BufReader::new(tokio::io::stdin()).lines())
    });
    let mut lines = lines.lock().await;
    match lines.next_line().await {
        Ok(Some(line)) => Some(line.trim().to_owned()),
        Ok(None) | Err(_) => None,
    }
}

/// Prints login progress (and draws the QR code).
pub(crate) fn print_login_event(out: Out, no_qr: bool, light: bool, event: &LoginEvent) {
    match event {
        LoginEvent::QrCode { url, attempt } => {
            if !out.json
                && !no_qr
                && let Some(art) = crate::qr::render(url, light)
            {
                println!("{art}");
            }
            out.emit(
                format!(
                    "Scan with WeChat (code {attempt} of 3): {}",
                    app::visible(url)
                ),
                json!({"event": "qr_code", "url": url, "attempt": attempt}),
            );
        }
        LoginEvent::Scanned => out.emit(
            "Scanned; confirm on the phone.",
            json!({"event": "scanned"}),
        ),
        LoginEvent::Redirected { base_url } => out.emit(
            format!("Redirected to {}.", app::visible(base_url)),
            json!({"event": "redirected", "base_url": base_url}),
        ),
        LoginEvent::NeedVerifyCode { retry } => out.emit(
            if *retry {
                "Wrong number. Type the number shown on the phone again:"
            } else {
                "Type the number shown on the phone:"
            },
            json!({"event": "need_verify_code", "retry": retry}),
        ),
        LoginEvent::VerifyCodeBlocked => out.emit(
            "Too many wrong numbers; a new QR code follows.",
            json!({"event": "verify_code_blocked"}),
        ),
        LoginEvent::Expired { count } => out.emit(
            format!("The QR code expired ({count})."),
            json!({"event": "expired", "count": count}),
        ),
        LoginEvent::UnknownStatus(s) => out.emit(
            format!("Unknown status from the server: {}", app::visible(s)),
            json!({"event": "unknown_status", "status": s}),
        ),
        LoginEvent::Confirmed { account_id } => out.emit(
            format!("Confirmed: {}", app::visible(account_id.as_str())),
            json!({"event": "confirmed", "account": account_id}),
        ),
        _ => {}
    }
}

async fn login(
    g: &crate::cli::Global,
    out: Out,
    no_qr: bool,
    light: bool,
    timeout: u64,
) -> Result<()> {
    let client = app::client(g).await?;
    let outcome = client
        .login()
        .deadline(Duration::from_secs(timeout))
        .on_event(move |e| print_login_event(out, no_qr, light, e))
        .verify_code(|_retry| read_line())
        .await?;
    match outcome {
        LoginOutcome::LoggedIn { credentials, .. } => {
            let dir = app::state_dir(g)?;
            out.emit(
                format!(
                    "Logged in as {} (credentials stored in {}).",
                    app::visible(credentials.account_id.as_str()),
                    app::visible(&dir.display().to_string())
                ),
                json!({"event": "logged_in", "account": credentials.account_id,
                       "user_id": credentials.user_id, "base_url": credentials.base_url}),
            );
        }
        LoginOutcome::AlreadyBound => out.emit(
            "This bot is already bound to this machine; the stored credentials stay valid.",
            json!({"event": "already_bound"}),
        ),
        _ => {}
    }
    Ok(())
}

async fn accounts(g: &crate::cli::Global, out: Out) -> Result<()> {
    let client = app::client(g).await?;
    let store = client.store().clone();
    let all = store.accounts().await?;
    if all.is_empty() {
        out.emit(
            "No accounts; run `ilink login`.",
            json!({"event": "accounts", "count": 0}),
        );
        return Ok(());
    }
    for creds in all {
        let pending = store.pending(&creds.account_id).await?.len();
        let has_cursor = store.load_cursor(&creds.account_id).await?.is_some();
        // A cheap authenticated call tells whether the token still works,
        // made only at the host the account was logged in at.
        let health = match client.stored_bot(&creds) {
            Ok(bot) => {
                let user = creds.user_id.clone().unwrap_or_default().into_string();
                match bot
                    .raw()
                    .get_config(ilink::proto::GetConfigRequest::new(user, None))
                    .await
                {
                    Ok(_) => "ok".to_owned(),
                    Err(e) if e.is_session_expired() => "expired".to_owned(),
                    Err(e) => format!("unreachable ({})", ilink::Report::new(&e)),
                }
            }
            Err(ilink::Error::TokenOrigin { problem, .. }) => {
                format!("not checked (the token is not sent: {problem})")
            }
            Err(e) => return Err(e.into()),
        };
        out.emit(
            format!(
                "{}  user {}  session {}  pending {}{}",
                app::visible(creds.account_id.as_str()),
                app::visible(creds.user_id.as_ref().map_or("?", |u| u.as_str())),
                app::visible(&health),
                pending,
                if has_cursor { "" } else { "  (never polled)" }
            ),
            json!({"event": "account", "account": creds.account_id, "user_id": creds.user_id,
                   "base_url": creds.base_url, "saved_at_ms": creds.saved_at_ms,
                   "session": health, "pending": pending, "polled": has_cursor}),
        );
    }
    Ok(())
}

async fn logout(g: &crate::cli::Global, out: Out, account: Option<String>) -> Result<()> {
    if g.token.is_some() {
        return Err(CliError::Usage(
            "logout forgets a stored login; a --token is not stored".to_owned(),
        ));
    }
    let store = app::store(g).await?;
    let id = match account.or_else(|| g.account.clone()) {
        Some(id) => ilink::AccountId::from(id),
        None => store
            .accounts()
            .await?
            .into_iter()
            .next()
            .map(|c| c.account_id)
            .ok_or_else(|| CliError::Other("no stored account".to_owned()))?,
    };
    if store.load_credentials(&id).await?.is_none() {
        return Err(CliError::Other(format!(
            "no stored account {}",
            app::visible(id.as_str())
        )));
    }
    store.remove_account(&id).await?;
    out.emit(
        format!("Forgot {}.", app::visible(id.as_str())),
        json!({"event": "logged_out", "account": id}),
    );
    Ok(())
}

/// A message as one JSON line: ids as strings (lossless for any reader),
/// and the full wire message.
pub(crate) fn message_json(msg: &Message) -> serde_json::Value {
    let kinds: Vec<String> = msg
        .items()
        .iter()
        .map(|i| match i.content() {
            ItemContent::Text(_) => "text".to_owned(),
            ItemContent::Image(_) => "image".to_owned(),
            ItemContent::Voice(_) => "voice".to_owned(),
            ItemContent::File(_) => "file".to_owned(),
            ItemContent::Video(_) => "video".to_owned(),
            ItemContent::ToolCallStart(_) => "tool_call_start".to_owned(),
            ItemContent::ToolCallResult(_) => "tool_call_result".to_owned(),
            _ => format!("unknown_{}", i.kind().0),
        })
        .collect();
    json!({
        "event": "message",
        "account": msg.account_id(),
        "from": msg.sender(),
        "message_id": msg.message_id().map(|id| id.to_string()),
        "text": msg.text(),
        "kinds": kinds,
        "message": serde_json::to_value(msg.wire()).unwrap_or_default(),
    })
}

pub(crate) fn message_line(msg: &Message) -> String {
    let mut parts = Vec::new();
    for item in msg.items() {
        parts.push(match item.content() {
            ItemContent::Text(t) => t.text.clone().unwrap_or_default(),
            ItemContent::Image(_) => "[image]".to_owned(),
            ItemContent::Voice(v) => match &v.text {
                Some(t) => format!("[voice: {t}]"),
                None => "[voice]".to_owned(),
            },
            ItemContent::File(f) => format!("[file {}]", f.file_name.as_deref().unwrap_or("?")),
            ItemContent::Video(_) => "[video]".to_owned(),
            ItemContent::ToolCallStart(t) => {
                format!("[tool {} started]", t.tool_name.as_deref().unwrap_or("?"))
            }
            ItemContent::ToolCallResult(t) => {
                format!("[tool {} ended]", t.tool_name.as_deref().unwrap_or("?"))
            }
            _ => format!("[an item of unknown type {}]", item.kind().0),
        });
    }
    format!(
        "{}: {}",
        app::visible(msg.sender().as_str()),
        app::visible(&parts.join(" "))
    )
}

/// Counts polls in a row that could not reach the server, and gives up
/// after `max` of them: a wrong `--base-url` surfaces instead of retrying
/// forever.
#[derive(Clone)]
struct GiveUp {
    max: u32,
    why: Arc<std::sync::Mutex<Option<String>>>,
    now: Arc<Notify>,
}

impl GiveUp {
    fn new(max: u32) -> Self {
        Self {
            max: max.max(1),
            why: Arc::default(),
            now: Arc::new(Notify::new()),
        }
    }

    fn watch(&self, event: &ilink::RunEvent) {
        if let ilink::RunEvent::Backoff {
            failures,
            reason: ilink::BackoffReason::PollFailed(e),
            ..
        } = event
            && app::sdk_unreachable(e)
            && *failures >= self.max
        {
            let mut why = self.why.lock().unwrap_or_else(|p| p.into_inner());
            if why.is_none() {
                *why = Some(format!(
                    "the server could not be reached ({failures} polls in a row failed; the last: {}); check --base-url",
                    app::visible(&e.report().to_string())
                ));
                self.now.notify_one();
            }
        }
    }

    fn outcome(&self) -> Result<()> {
        match self.why.lock().unwrap_or_else(|p| p.into_inner()).take() {
            Some(why) => Err(CliError::Unreachable(why)),
            None => Ok(()),
        }
    }
}

async fn listen(
    g: &crate::cli::Global,
    out: Out,
    count: Option<u64>,
    timeout: Option<u64>,
    download: Option<std::path::PathBuf>,
    max_failures: u32,
    voice: crate::cli::VoiceSave,
) -> Result<()> {
    let bot = app::bot(g).await?;
    let seen = Arc::new(AtomicU64::new(0));
    let done = Arc::new(Notify::new());
    let unsaved: Arc<std::sync::Mutex<Option<String>>> = Arc::default();
    let handler = {
        let seen = seen.clone();
        let done = done.clone();
        let download = download.clone();
        let unsaved = unsaved.clone();
        handler_fn(move |ctx: Context, msg: Message| {
            let seen = seen.clone();
            let done = done.clone();
            let download = download.clone();
            let unsaved = unsaved.clone();
            async move {
                out.emit(message_line(&msg), message_json(&msg));
                if let Some(dir) = &download
                    && let Err(reason) = media::save_media(ctx.bot(), out, &msg, dir, voice).await
                {
                    // Not acknowledged: the next `listen` offers it again.
                    *unsaved.lock().unwrap_or_else(|p| p.into_inner()) = Some(format!(
                        "the media of message {} could not be saved ({reason}); the message stays pending and the next `ilink listen` offers it again",
                        msg.message_id().map(|m| m.to_string()).unwrap_or_default()
                    ));
                    done.notify_one();
                    return Err(ilink::KeepPending::because(reason).into());
                }
                let n = seen.fetch_add(1, Ordering::SeqCst) + 1;
                if count.is_some_and(|c| n >= c) {
                    done.notify_one();
                }
                Ok(())
            }
        })
    };
    let give_up = GiveUp::new(max_failures);
    let shutdown = {
        let give_up = give_up.clone();
        async move {
            let limit = async {
                match timeout {
                    Some(s) => tokio::time::sleep(Duration::from_secs(s)).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = done.notified() => {}
                _ = limit => {}
                _ = give_up.now.notified() => {}
                _ = ilink::shutdown_signal() => {}
            }
        }
    };
    // One handler at a time keeps the printed order the arrival order.
    let watcher = give_up.clone();
    bot.runner()
        .concurrency(1)
        .on_event(move |e| watcher.watch(e))
        .run_until(handler, shutdown)
        .await?;
    if let Some(why) = unsaved.lock().unwrap_or_else(|p| p.into_inner()).take() {
        return Err(CliError::Other(why));
    }
    give_up.outcome()
}

async fn echo(g: &crate::cli::Global, out: Out, max_failures: u32) -> Result<()> {
    let bot = app::bot(g).await?;
    out.emit(
        format!(
            "Echo bot running as {}; Ctrl-C stops.",
            app::visible(bot.id().as_str())
        ),
        json!({"event": "echo_started", "account": bot.id()}),
    );
    let handler = handler_fn(move |ctx: Context, msg: Message| async move {
        out.emit(message_line(&msg), message_json(&msg));
        let typing = ctx.typing().await;
        let text = msg.text();
        if !text.is_empty() {
            ctx.reply(text.into_owned()).await?;
        }
        media::echo_media(&ctx, &msg).await?;
        typing.finish().await;
        Ok(())
    });
    let give_up = GiveUp::new(max_failures);
    let watcher = give_up.clone();
    let now = give_up.now.clone();
    bot.runner()
        .on_event(move |e| watcher.watch(e))
        .run_until(handler, async move {
            tokio::select! {
                _ = ilink::shutdown_signal() => {}
                _ = now.notified() => {}
            }
        })
        .await?;
    give_up.outcome()?;
    out.emit("Stopped.", json!({"event": "echo_stopped"}));
    Ok(())
}

/// `ilink users`: who the bot can reach now.
async fn users(g: &crate::cli::Global, out: Out) -> Result<()> {
    let bot = app::bot(g).await?;
    let store = bot.client().store().clone();
    let tokens = store.context_tokens(bot.id()).await?;
    if tokens.is_empty() {
        out.emit(
            "Nobody yet: a user must write to the bot before it can answer.",
            json!({"event": "users", "count": 0}),
        );
        return Ok(());
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    for user in tokens.keys() {
        let conv = store.conversation(bot.id(), user).await?;
        let budget = bot.reply_budget(user).await?;
        let wrote = conv
            .as_ref()
            .map(|c| now.saturating_sub(c.last_inbound_ms) / 1000);
        let state = match (&budget.closed, budget.left) {
            (Some(refusal), _) => format!("closed: {refusal}"),
            (None, Some(left)) => format!("{left} replies left"),
            (None, None) => "open".to_owned(),
        };
        out.emit(
            format!(
                "{}  {}  {}",
                app::visible(user.as_str()),
                wrote.map_or("never wrote here".to_owned(), |s| format!(
                    "wrote {s} s ago"
                )),
                state
            ),
            json!({"event": "user", "user": user, "wrote_s_ago": wrote,
                   "replies_left": budget.left, "open_until_ms": budget.open_until_ms,
                   "closed": budget.closed.as_ref().map(ToString::to_string)}),
        );
    }
    Ok(())
}

async fn typing(g: &crate::cli::Global, out: Out, to: &str, cancel: bool) -> Result<()> {
    if to.trim().is_empty() {
        return Err(CliError::Usage(
            "--to is empty: name the user (…@im.wechat)".to_owned(),
        ));
    }
    let bot = app::bot(g).await?;
    let status = if cancel {
        TypingStatus::CANCEL
    } else {
        TypingStatus::TYPING
    };
    if let Err(e) = bot.send_typing(to, status).await {
        return Err(match e {
            // Typing hides why getconfig gave no ticket (it is
            // best-effort); a command must say why.
            ilink::Error::NoTypingTicket { .. } => why_no_ticket(&bot, to).await,
            other => other.into(),
        });
    }
    out.emit(
        if cancel {
            "Typing cancelled."
        } else {
            "Typing shown."
        },
        json!({"event": "typing", "to": to, "status": status.0}),
    );
    Ok(())
}

/// Why getconfig gave no typing ticket: asked once more, raw.
async fn why_no_ticket(bot: &ilink::Bot, to: &str) -> CliError {
    let token = bot.context_token(to).await.ok().flatten();
    match bot
        .raw()
        .get_config(ilink::proto::GetConfigRequest::new(to, token))
        .await
    {
        Err(e) if e.is_session_expired() => ilink::Error::SessionExpired {
            account: bot.id().clone(),
        }
        .into(),
        Err(e) if app::unreachable(&e) => CliError::Unreachable(format!(
            "the server could not be reached: {}",
            app::visible(&ilink::Report::new(&e).to_string())
        )),
        Err(e) => CliError::Refused(format!(
            "the server gave no typing ticket for {}: {}",
            app::visible(to),
            app::visible(&ilink::Report::new(&e).to_string())
        )),
        Ok(_) => CliError::Refused(format!(
            "the server gave no typing ticket for {}",
            app::visible(to)
        )),
    }
}
