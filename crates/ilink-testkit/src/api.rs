//! The API endpoints: login, updates, sending, upload slots, config, typing,
//! notify; and pushing inbound messages.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use hyper::Response;
use ilink_crypto::{KeyFormat, MediaKey};
use ilink_proto::{
    ItemContent, MessageId, MessageItem, MessageType, UploadMediaType, WeixinMessage,
};
use serde_json::{Value, json};

use crate::fault::Route;
use crate::inbound::{Inbound, InboundContent, KeyForm, Pushed};
use crate::login::{LoginTarget, QrScript, QrStep};
use crate::record::{Host, NotifyCall, ReceivedMedia, SentMessage, TypingCall};
use crate::server::{ApiCall, Body, json_response, refused, session_expired};
use crate::sim::Shared;
use crate::state::{CdnObject, ContextEntry, PendingCode, QrSession, State, UploadSlot};
use crate::util::{is_hex32, random_hex};

pub(crate) async fn dispatch(shared: &Shared, call: ApiCall) -> Response<Body> {
    let resp = match call.route {
        Route::GetBotQrcode => get_bot_qrcode(shared, &call),
        Route::GetQrcodeStatus => get_qrcode_status(shared, &call),
        Route::GetUpdates => return get_updates(shared, &call).await,
        Route::SendMessage => send_message(shared, &call),
        Route::GetUploadUrl => get_upload_url(shared, &call),
        Route::GetConfig => get_config(shared, &call),
        Route::SendTyping => send_typing(shared, &call),
        Route::NotifyStart | Route::NotifyStop => notify(shared, &call),
        Route::CdnUpload | Route::CdnDownload | Route::Unknown => refused(-1, "not an API route"),
    };
    shared.changed();
    resp
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

fn invalid(shared: &Shared, route: Route, what: &str) -> Response<Body> {
    shared.with_state(|s| s.violation(route, what));
    refused(-1, &format!("invalid parameter: {what}"))
}

fn str_field<'a>(body: &'a Value, name: &str) -> Option<&'a str> {
    body.get(name).and_then(Value::as_str)
}

// ------------------------------------------------------------------ login

fn get_bot_qrcode(shared: &Shared, call: &ApiCall) -> Response<Body> {
    let local_tokens: Vec<String> = call
        .body
        .get("local_token_list")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if local_tokens.len() > ilink_proto::consts::MAX_LOCAL_TOKENS {
        shared.with_state(|s| s.violation(call.route, "local_token_list has more than 10 tokens"));
    }
    let qrcode = random_hex::<16>();
    shared.with_state(|s| {
        let script = s.scripts.pop_front().unwrap_or_else(QrScript::quick);
        s.qr.insert(
            qrcode.clone(),
            QrSession {
                script,
                next_step: 0,
                local_tokens,
                dead: false,
                redirected: false,
                pending_code: None,
                done: false,
            },
        );
    });
    json_response(&json!({
        "ret": 0,
        "qrcode": qrcode,
        "qrcode_img_content": format!("https://liteapp.weixin.qq.com/q/sim?qrcode={qrcode}&bot_type=3"),
    }))
}

fn get_qrcode_status(shared: &Shared, call: &ApiCall) -> Response<Body> {
    let Some(qrcode) = call.query_value("qrcode").map(str::to_owned) else {
        return invalid(shared, call.route, "qrcode query parameter missing");
    };
    let verify = call.query_value("verify_code").map(str::to_owned);
    let api_base = shared
        .config
        .confirmed_base_url
        .clone()
        .unwrap_or_else(|| shared.urls.api.clone());
    let redirect_host = shared.redirect_host.clone();
    let answer = shared.with_state(|s| {
        let State {
            qr, accounts, tokens, ..
        } = s;
        let Some(session) = qr.get_mut(&qrcode) else {
            return json!({"ret": 0, "status": "expired"});
        };
        if session.dead || session.done {
            return json!({"ret": 0, "status": "expired"});
        }
        if session.redirected && call.host == Host::Api {
            // Only the redirected host serves this QR code now.
            return json!({"ret": 0, "status": "scaned_but_redirect", "redirect_host": redirect_host});
        }
        if let Some(pending) = &mut session.pending_code {
            match verify.as_deref() {
                Some(code) if code == pending.code => session.pending_code = None,
                Some(_) => {
                    pending.wrong += 1;
                    if pending.wrong >= pending.max_wrong {
                        session.dead = true;
                        return json!({"ret": 0, "status": "verify_code_blocked"});
                    }
                    return json!({"ret": 0, "status": "need_verifycode"});
                }
                None => return json!({"ret": 0, "status": "need_verifycode"}),
            }
        }
        let steps = &session.script.steps;
        let step = if steps.is_empty() {
            QrStep::Wait
        } else {
            let idx = session.next_step.min(steps.len() - 1);
            session.next_step += 1;
            steps[idx].clone()
        };
        match step {
            QrStep::Wait => json!({"ret": 0, "status": "wait"}),
            QrStep::Scanned => json!({"ret": 0, "status": "scaned"}),
            QrStep::Expired => {
                session.dead = true;
                json!({"ret": 0, "status": "expired"})
            }
            QrStep::Redirect => {
                if call.host == Host::Redirect {
                    json!({"ret": 0, "status": "scaned"})
                } else {
                    session.redirected = true;
                    json!({"ret": 0, "status": "scaned_but_redirect", "redirect_host": redirect_host})
                }
            }
            QrStep::VerifyCode { code, max_wrong } => {
                session.pending_code = Some(PendingCode {
                    code,
                    wrong: 0,
                    max_wrong: max_wrong.max(1),
                });
                json!({"ret": 0, "status": "need_verifycode"})
            }
            QrStep::VerifyBlocked => {
                session.dead = true;
                json!({"ret": 0, "status": "verify_code_blocked"})
            }
            QrStep::Unknown { status } => json!({"ret": 0, "status": status}),
            QrStep::Confirm { target } => {
                let local = session.local_tokens.clone();
                session.done = true;
                let bot_id = match target {
                    LoginTarget::Existing { bot_id } if accounts.contains_key(&bot_id) => bot_id,
                    LoginTarget::Existing { .. } | LoginTarget::NewBot => String::new(),
                };
                let already_bound = !bot_id.is_empty()
                    && local.iter().any(|t| {
                        tokens
                            .get(t)
                            .is_some_and(|e| e.live && e.bot_id == bot_id)
                    });
                if already_bound {
                    return json!({"ret": 0, "status": "binded_redirect"});
                }
                let (bot_id, token) = if bot_id.is_empty() {
                    let (bot_id, _, token) = s.create_account();
                    (bot_id, token)
                } else {
                    let token = s.rebind(&bot_id).unwrap_or_default();
                    (bot_id, token)
                };
                let owner = s
                    .accounts
                    .get(&bot_id)
                    .map(|a| a.owner_user_id.clone())
                    .unwrap_or_default();
                json!({
                    "ret": 0,
                    "status": "confirmed",
                    "bot_token": token,
                    "ilink_bot_id": bot_id,
                    "ilink_user_id": owner,
                    "baseurl": api_base,
                })
            }
        }
    });
    json_response(&answer)
}

// ------------------------------------------------------------------ updates

/// Decrements the held-poll count when the poll ends, however it ends.
struct HeldPoll<'a> {
    shared: &'a Shared,
    bot_id: String,
}

impl Drop for HeldPoll<'_> {
    fn drop(&mut self) {
        self.shared.with_state(|s| {
            if let Some(a) = s.accounts.get_mut(&self.bot_id) {
                a.polls_in_flight = a.polls_in_flight.saturating_sub(1);
            }
        });
    }
}

enum PollStep {
    Expired,
    Batch(Vec<Value>, String),
    Wait(std::sync::Arc<tokio::sync::Notify>, String),
}

fn cursor_text(seq: u64) -> String {
    format!("sim{seq:x}.{}", random_hex::<4>())
}

fn cursor_seq(cursor: &str) -> Option<u64> {
    if cursor.is_empty() {
        return Some(0);
    }
    let rest = cursor.strip_prefix("sim")?;
    let hex = rest.split('.').next()?;
    u64::from_str_radix(hex, 16).ok()
}

async fn get_updates(shared: &Shared, call: &ApiCall) -> Response<Body> {
    let (Some(bot_id), Some(token)) = (call.bot_id.clone(), call.token.clone()) else {
        return session_expired();
    };
    let cursor_in = str_field(&call.body, "get_updates_buf")
        .unwrap_or_default()
        .to_owned();
    let hold = shared.config.hold;
    let hold_ms = u64::try_from(hold.as_millis()).unwrap_or(u64::MAX);
    let deadline = tokio::time::Instant::now() + hold;
    shared.with_state(|s| {
        if let Some(a) = s.accounts.get_mut(&bot_id) {
            a.polls_in_flight += 1;
        }
    });
    let _held = HeldPoll {
        shared,
        bot_id: bot_id.clone(),
    };
    shared.changed();
    loop {
        let step = shared.with_state(|s| {
            if s.bot_for_token(&token) != Some(bot_id.as_str()) {
                return PollStep::Expired;
            }
            let max_batch = shared.config.max_batch;
            let replay = shared.config.replay_on_old_cursor;
            let Some(acct) = s.accounts.get_mut(&bot_id) else {
                return PollStep::Expired;
            };
            if replay
                && let Some(seq) = cursor_seq(&cursor_in)
                && seq < acct.cursor_seq
            {
                let again: Vec<Value> = acct
                    .history
                    .iter()
                    .filter(|(s, _)| *s > seq)
                    .flat_map(|(_, batch)| batch.iter().cloned())
                    .collect();
                if !again.is_empty() {
                    return PollStep::Batch(again, cursor_text(acct.cursor_seq));
                }
            }
            if acct.queue.is_empty() {
                let current = if cursor_in.is_empty() {
                    String::new()
                } else {
                    cursor_in.clone()
                };
                return PollStep::Wait(acct.wake.clone(), current);
            }
            let n = acct.queue.len().min(max_batch);
            let batch: Vec<Value> = acct.queue.drain(..n).collect();
            acct.cursor_seq += 1;
            if replay {
                acct.history.push((acct.cursor_seq, batch.clone()));
            }
            PollStep::Batch(batch, cursor_text(acct.cursor_seq))
        });
        match step {
            PollStep::Expired => return session_expired(),
            PollStep::Batch(msgs, cursor) => {
                shared.changed();
                return json_response(&json!({
                    "ret": 0,
                    "errcode": 0,
                    "errmsg": "",
                    "msgs": msgs,
                    "get_updates_buf": cursor,
                    "longpolling_timeout_ms": hold_ms,
                }));
            }
            PollStep::Wait(wake, current) => {
                tokio::select! {
                    _ = wake.notified() => continue,
                    _ = tokio::time::sleep_until(deadline) => {}
                    _ = shared.until_shutdown() => {}
                }
                if shared.with_state(|s| s.bot_for_token(&token) != Some(bot_id.as_str())) {
                    return session_expired();
                }
                return json_response(&json!({
                    "ret": 0,
                    "errcode": 0,
                    "errmsg": "",
                    "msgs": [],
                    "get_updates_buf": current,
                    "longpolling_timeout_ms": hold_ms,
                }));
            }
        }
    }
}

// ------------------------------------------------------------------ pushing

pub(crate) fn push(shared: &Shared, bot_id: &str, inbound: Inbound) -> Option<Pushed> {
    let cdn = shared.urls.cdn.clone();
    let keep = shared.config.keep_media_bytes;
    shared.with_state(|s| {
        if !s.accounts.contains_key(bot_id) {
            return None;
        }
        let message_id = s.next_message_id();
        let context_token = format!("AARz{}", random_hex::<12>());
        let now = now_ms();
        let mut media_md5 = None;
        let mut media_size = None;
        let mut item = match inbound.content {
            InboundContent::Text { text } => json!({"type": 1, "text_item": {"text": text}}),
            InboundContent::Raw { mut message } => {
                if let Some(obj) = message.as_object_mut() {
                    obj.entry("message_id").or_insert(json!(message_id));
                }
                let ctx = message
                    .get("context_token")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                let acct = s.accounts.get_mut(bot_id)?;
                if let Some(ctx) = &ctx {
                    acct.contexts.insert(
                        ctx.clone(),
                        ContextEntry {
                            user_id: inbound.from.clone(),
                            replies: 0,
                        },
                    );
                }
                if inbound.duplicate {
                    acct.queue.push_back(message.clone());
                }
                acct.queue.push_back(message);
                acct.wake.notify_one();
                return Some(Pushed {
                    message_id: MessageId(message_id),
                    context_token: ctx.unwrap_or_default(),
                    media_md5: None,
                    media_size: None,
                });
            }
            InboundContent::UnknownItem {
                item_type,
                name,
                content,
            } => {
                let mut item = json!({"type": item_type, "button_item_list": []});
                item[name] = content;
                item
            }
            InboundContent::Image { bytes, key } => {
                let (media, obj) =
                    store_media(s, &cdn, "image", bytes, key, inbound.full_url, keep);
                media_md5 = Some(obj.0.clone());
                media_size = Some(obj.1);
                let mut image = json!({
                    "media": media.0,
                    "mid_size": ilink_proto::ciphertext_size(obj.1),
                });
                if let Some(hex) = media.1 {
                    image["aeskey"] = json!(hex);
                }
                json!({"type": 2, "image_item": image})
            }
            InboundContent::Voice {
                bytes,
                transcript,
                encode_type,
                playtime_ms,
            } => {
                let size = bytes.len();
                let (media, obj) = store_media(
                    s,
                    &cdn,
                    "voice",
                    bytes,
                    KeyForm::Base64Hex,
                    inbound.full_url,
                    keep,
                );
                media_md5 = Some(obj.0);
                media_size = Some(obj.1);
                let mut voice = json!({
                    "media": media.0,
                    "encode_type": encode_type.unwrap_or(6),
                    "bits_per_sample": 16,
                    "sample_rate": 16000,
                    "playtime": playtime_ms.unwrap_or(1000),
                    "size": size,
                });
                if let Some(t) = transcript {
                    voice["text"] = json!(t);
                }
                json!({"type": 3, "voice_item": voice, "button_item_list": []})
            }
            InboundContent::File {
                name,
                bytes,
                len_as_number,
            } => {
                let (media, obj) = store_media(
                    s,
                    &cdn,
                    "file",
                    bytes,
                    KeyForm::Base64Hex,
                    inbound.full_url,
                    keep,
                );
                let len = if len_as_number {
                    json!(obj.1)
                } else {
                    json!(obj.1.to_string())
                };
                let item = json!({"type": 4, "file_item": {
                    "media": media.0, "file_name": name, "md5": obj.0, "len": len,
                }});
                media_md5 = Some(obj.0);
                media_size = Some(obj.1);
                item
            }
            InboundContent::Video { bytes } => {
                let (media, obj) = store_media(
                    s,
                    &cdn,
                    "video",
                    bytes,
                    KeyForm::Base64Hex,
                    inbound.full_url,
                    keep,
                );
                let item = json!({"type": 5, "video_item": {
                    "media": media.0,
                    "video_size": ilink_proto::ciphertext_size(obj.1),
                    "play_length": 3,
                    "video_md5": obj.0,
                }});
                media_md5 = Some(obj.0);
                media_size = Some(obj.1);
                item
            }
        };
        if let Some(quote) = inbound.quote {
            let mut ref_msg = json!({});
            if let Some(id) = quote.svr_id {
                ref_msg["svr_id"] = json!(id);
            }
            if let Some(title) = quote.title {
                ref_msg["title"] = json!(title);
            }
            if let Some(text) = quote.text {
                ref_msg["message_item"] = json!({"type": 1, "text_item": {"text": text}});
            }
            if let Some(p) = quote.partial {
                // Fragments as strings, occurrence indexes as numbers, as the
                // official client reads them.
                ref_msg["partial_text"] = json!({
                    "start": p.start, "end": p.end,
                    "startindex": p.startindex, "endindex": p.endindex,
                });
                if let Some(md5) = p.quotemd5 {
                    ref_msg["partial_text"]["quotemd5"] = json!(md5);
                }
            }
            item["ref_msg"] = ref_msg;
        }
        item["create_time_ms"] = json!(now);
        item["msg_id"] = json!(message_id);
        let msg = json!({
            "seq": message_id - crate::state::FIRST_MESSAGE_ID + 1,
            "message_id": message_id,
            "from_user_id": inbound.from,
            "to_user_id": bot_id,
            "client_id": "",
            "create_time_ms": now,
            "update_time_ms": now,
            "message_type": 1,
            "message_state": 2,
            "context_token": context_token,
            "item_list": [item],
        });
        let acct = s.accounts.get_mut(bot_id)?;
        acct.contexts.insert(
            context_token.clone(),
            ContextEntry {
                user_id: inbound.from.clone(),
                replies: 0,
            },
        );
        if inbound.duplicate {
            acct.queue.push_back(msg.clone());
        }
        acct.queue.push_back(msg);
        acct.wake.notify_one();
        Some(Pushed {
            message_id: MessageId(message_id),
            context_token,
            media_md5,
            media_size,
        })
    })
}

/// Stores inbound media on the CDN; returns the `media` object (and the hex
/// key for `image_item.aeskey`) plus the plaintext MD5 and size.
#[allow(clippy::type_complexity)]
fn store_media(
    s: &mut State,
    cdn: &str,
    kind: &str,
    bytes: Vec<u8>,
    form: KeyForm,
    full_url: bool,
    _keep: u64,
) -> ((Value, Option<String>), (String, u64)) {
    let md5 = ilink_crypto::md5(&bytes).to_hex();
    let size = bytes.len() as u64;
    let key = match form {
        KeyForm::Unencrypted => None,
        _ => Some(MediaKey::from_bytes(crate::util::random_bytes::<16>())),
    };
    let param = crate::util::base64_encode(&crate::util::random_bytes::<24>());
    let mut media = json!({"encrypt_query_param": param, "encrypt_type": 1});
    let mut hex = None;
    if let Some(key) = &key {
        match form {
            KeyForm::Base64Raw => media["aes_key"] = json!(key.to_base64_raw()),
            KeyForm::Base64Hex => media["aes_key"] = json!(key.to_base64_hex()),
            KeyForm::HexAndBase64Hex => {
                media["aes_key"] = json!(key.to_base64_hex());
                hex = Some(key.to_hex());
            }
            KeyForm::HexOnly => hex = Some(key.to_hex()),
            _ => {}
        }
    }
    if full_url {
        media["full_url"] = json!(format!(
            "{cdn}/full/{}",
            ilink_proto::percent_encode(&param)
        ));
    }
    s.cdn.insert(
        param,
        CdnObject {
            plaintext: Some(std::sync::Arc::new(bytes)),
            size,
            md5: md5.clone(),
            key,
            kind: kind.to_owned(),
            owner: None,
        },
    );
    ((media, hex), (md5, size))
}

// ------------------------------------------------------------------ sending

fn send_message(shared: &Shared, call: &ApiCall) -> Response<Body> {
    let Some(bot_id) = call.bot_id.clone() else {
        return session_expired();
    };
    let route = call.route;
    let Some(raw) = call.body.get("msg") else {
        return invalid(shared, route, "msg missing");
    };
    let msg: WeixinMessage = match serde_json::from_value(raw.clone()) {
        Ok(m) => m,
        Err(e) => return invalid(shared, route, &format!("msg does not decode: {e}")),
    };
    if msg.from_user_id.as_deref() != Some("") {
        return invalid(
            shared,
            route,
            "from_user_id must be \"\" on outbound messages",
        );
    }
    let Some(client_id) = msg.client_id.clone().filter(|c| !c.is_empty()) else {
        return invalid(shared, route, "client_id must be set and non-empty");
    };
    if msg.message_type != Some(MessageType::BOT) {
        return invalid(shared, route, "message_type must be 2 (bot)");
    }
    let Some(to) = msg.to_user_id.clone().filter(|t| !t.is_empty()) else {
        return invalid(shared, route, "to_user_id missing");
    };
    if msg.item_list.is_empty() {
        return invalid(shared, route, "item_list is empty");
    }
    let quota = shared.config.reply_quota;
    let limit = shared.config.rate_limit;
    let result = shared.with_state(|s| {
        if msg.item_list.len() > 1 {
            s.violation(
                route,
                "more than one item in a sendmessage (the official client sends one)",
            );
        }
        let acct = s.accounts.get_mut(&bot_id)?;
        if let Some(id) = acct.client_ids.get(&client_id).copied() {
            s.duplicates.push(crate::record::DroppedDuplicate {
                bot_id: bot_id.clone(),
                client_id: client_id.clone(),
            });
            return Some(Ok(id));
        }
        let now = Instant::now();
        if let Some(limit) = limit {
            if let Some(until) = acct.penalty_until
                && now < until
            {
                acct.sends_during_penalty += 1;
                acct.penalty_until = Some(until + limit.extend_per_attempt);
                return Some(Err((-2, "rate limited".to_owned())));
            }
            while acct
                .send_times
                .front()
                .is_some_and(|t| now.duration_since(*t) > limit.window)
            {
                acct.send_times.pop_front();
            }
            acct.send_times.push_back(now);
            if acct.send_times.len() > limit.burst as usize {
                acct.penalty_until = Some(now + limit.penalty);
                acct.send_times.clear();
                return Some(Err((-2, "rate limited".to_owned())));
            }
        }
        let mut in_conversation = false;
        if let Some(ctx) = &msg.context_token {
            match acct.contexts.get_mut(ctx.expose()) {
                Some(entry) if entry.user_id == to => {
                    if quota.is_some_and(|q| entry.replies >= q) {
                        return Some(Err((-2, "reply quota exceeded".to_owned())));
                    }
                    entry.replies += 1;
                    in_conversation = true;
                }
                _ => {
                    return Some(Err((
                        -1,
                        "context_token was not issued for this user".to_owned(),
                    )));
                }
            }
        }
        let mut media = Vec::new();
        let mut problems = Vec::new();
        for item in &msg.item_list {
            verify_item(s, &bot_id, item, &mut media, &mut problems);
        }
        if !in_conversation {
            problems.push("no context_token: the message may not reach the chat window".to_owned());
        }
        let id = MessageId(s.next_message_id());
        let acct = s.accounts.get_mut(&bot_id)?;
        acct.client_ids.insert(client_id.clone(), id);
        s.sent.push(SentMessage {
            bot_id: bot_id.clone(),
            message_id: id,
            msg: msg.clone(),
            media,
            in_conversation,
            rendering_problems: problems,
        });
        Some(Ok(id))
    });
    match result {
        None => session_expired(),
        Some(Ok(id)) => json_response(&json!({"ret": 0, "errmsg": "", "message_id": id.get()})),
        Some(Err((ret, why))) => {
            if ret == -1 {
                shared.with_state(|s| s.violation(route, why.clone()));
            }
            refused(ret, &why)
        }
    }
}

fn verify_item(
    s: &State,
    bot_id: &str,
    item: &MessageItem,
    media_out: &mut Vec<ReceivedMedia>,
    problems: &mut Vec<String>,
) {
    let (kind, media, thumb) = match item.content() {
        ItemContent::Image(i) => ("image", i.media.as_ref(), i.thumb_media.as_ref()),
        ItemContent::Video(v) => ("video", v.media.as_ref(), v.thumb_media.as_ref()),
        ItemContent::File(f) => ("file", f.media.as_ref(), None),
        ItemContent::Voice(v) => ("voice", v.media.as_ref(), None),
        _ => return,
    };
    let Some(media) = media else {
        problems.push(format!("{kind} item without media"));
        return;
    };
    let Some(received) = verify_media(s, bot_id, kind, media, problems) else {
        return;
    };
    match item.content() {
        ItemContent::Image(_) if received.key_format == KeyFormat::Base64Raw => problems.push(
            "image aes_key is base64 of the raw key: phones show a grey image (send base64 of the hex key)"
                .to_owned(),
        ),
        ItemContent::File(f) => {
            match &f.md5 {
                None => problems.push("file_item.md5 missing: the file arrives as 0 bytes".to_owned()),
                Some(md5) if !md5.eq_ignore_ascii_case(&received.md5) => {
                    problems.push("file_item.md5 does not match the uploaded file".to_owned());
                }
                Some(_) => {}
            }
            if f.len != Some(received.size) {
                problems.push("file_item.len is not the plaintext size".to_owned());
            }
        }
        _ => {}
    }
    let mut received = received;
    if let ItemContent::File(f) = item.content() {
        received.file_name = f.file_name.clone();
    }
    media_out.push(received);
    if let Some(thumb) = thumb
        && let Some(t) = verify_media(s, bot_id, "thumb", thumb, problems)
    {
        media_out.push(t);
    }
}

fn verify_media(
    s: &State,
    bot_id: &str,
    kind: &str,
    media: &ilink_proto::CdnMedia,
    problems: &mut Vec<String>,
) -> Option<ReceivedMedia> {
    let Some(param) = media.encrypt_query_param.as_deref() else {
        problems.push(format!("{kind} media without encrypt_query_param"));
        return None;
    };
    let Some(obj) = s.cdn.get(param) else {
        problems.push(format!("{kind} media not found on the CDN"));
        return None;
    };
    if obj.owner.as_deref().is_some_and(|o| o != bot_id) {
        problems.push(format!("{kind} media was uploaded by another bot"));
    }
    if obj.owner.is_some() && obj.kind != kind {
        problems.push(format!(
            "{kind} item references media uploaded as {}",
            obj.kind
        ));
    }
    let Some(key_text) = media.aes_key.as_ref() else {
        problems.push(format!("{kind} media without aes_key"));
        return None;
    };
    let (key, format) = match MediaKey::parse(key_text.expose()) {
        Ok(parsed) => parsed,
        Err(e) => {
            problems.push(format!("{kind} aes_key does not parse: {e}"));
            return None;
        }
    };
    if obj.key.as_ref() != Some(&key) {
        problems.push(format!("{kind} aes_key does not decrypt the uploaded file"));
        return None;
    }
    Some(ReceivedMedia {
        kind: kind.to_owned(),
        size: obj.size,
        md5: obj.md5.clone(),
        key_format: format,
        bytes: obj.plaintext.clone(),
        file_name: None,
    })
}

fn get_upload_url(shared: &Shared, call: &ApiCall) -> Response<Body> {
    let Some(bot_id) = call.bot_id.clone() else {
        return session_expired();
    };
    let route = call.route;
    let b = &call.body;
    let u64_field = |name: &str| b.get(name).and_then(Value::as_u64);
    let Some(filekey) = str_field(b, "filekey").filter(|k| is_hex32(k)) else {
        return invalid(shared, route, "filekey must be 32 hex characters");
    };
    let media_type = match b.get("media_type").and_then(Value::as_i64) {
        Some(t @ 1..=4) => UploadMediaType(t as i32),
        _ => return invalid(shared, route, "media_type must be 1, 2, 3 or 4"),
    };
    if str_field(b, "to_user_id").is_none_or(str::is_empty) {
        return invalid(shared, route, "to_user_id missing");
    }
    let Some(rawsize) = u64_field("rawsize") else {
        return invalid(shared, route, "rawsize missing");
    };
    let Some(md5) = str_field(b, "rawfilemd5").filter(|m| is_hex32(m)) else {
        return invalid(shared, route, "rawfilemd5 must be 32 hex characters");
    };
    if u64_field("filesize") != Some(ilink_proto::ciphertext_size(rawsize)) {
        return invalid(
            shared,
            route,
            "filesize is not the padded ciphertext size of rawsize",
        );
    }
    let key = match str_field(b, "aeskey").map(MediaKey::from_hex) {
        Some(Ok(key)) => key,
        _ => return invalid(shared, route, "aeskey must be the key as 32 hex characters"),
    };
    let needs_thumb = matches!(media_type, UploadMediaType::IMAGE | UploadMediaType::VIDEO)
        && b.get("no_need_thumb").and_then(Value::as_bool) != Some(true);
    let thumb = if needs_thumb {
        let (Some(t_raw), Some(t_md5)) = (
            u64_field("thumb_rawsize"),
            str_field(b, "thumb_rawfilemd5").filter(|m| is_hex32(m)),
        ) else {
            return invalid(
                shared,
                route,
                "image/video without no_need_thumb needs thumb_rawsize and thumb_rawfilemd5",
            );
        };
        if u64_field("thumb_filesize") != Some(ilink_proto::ciphertext_size(t_raw)) {
            return invalid(
                shared,
                route,
                "thumb_filesize is not the padded size of thumb_rawsize",
            );
        }
        Some((t_raw, t_md5.to_owned()))
    } else {
        None
    };
    if shared.config.require_context_on_upload && str_field(b, "context_token").is_none() {
        return refused(-2, "prepare failed");
    }
    let param = crate::util::base64_encode(&crate::util::random_bytes::<24>());
    let thumb_param = thumb
        .as_ref()
        .map(|_| crate::util::base64_encode(&crate::util::random_bytes::<24>()));
    shared.with_state(|s| {
        s.uploads.insert(
            param.clone(),
            UploadSlot {
                bot_id: bot_id.clone(),
                filekey: filekey.to_owned(),
                media_type,
                rawsize,
                md5: md5.to_ascii_lowercase(),
                filesize: ilink_proto::ciphertext_size(rawsize),
                key,
                is_thumb: false,
                done: None,
            },
        );
        if let (Some(tp), Some((t_raw, t_md5))) = (&thumb_param, &thumb) {
            s.uploads.insert(
                tp.clone(),
                UploadSlot {
                    bot_id: bot_id.clone(),
                    filekey: filekey.to_owned(),
                    media_type,
                    rawsize: *t_raw,
                    md5: t_md5.to_ascii_lowercase(),
                    filesize: ilink_proto::ciphertext_size(*t_raw),
                    key,
                    is_thumb: true,
                    done: None,
                },
            );
        }
    });
    let mut resp = json!({"ret": 0, "errmsg": "", "upload_param": param});
    if let Some(tp) = thumb_param {
        resp["thumb_upload_param"] = json!(tp);
    }
    if shared.config.upload_full_url {
        resp["upload_full_url"] = json!(ilink_proto::cdn_upload_url(
            &shared.urls.cdn,
            &param,
            filekey
        ));
    }
    json_response(&resp)
}

// ------------------------------------------------------------------ config, typing, notify

fn get_config(shared: &Shared, call: &ApiCall) -> Response<Body> {
    let Some(bot_id) = call.bot_id.clone() else {
        return session_expired();
    };
    let Some(user) = str_field(&call.body, "ilink_user_id").filter(|u| !u.is_empty()) else {
        return invalid(shared, call.route, "ilink_user_id missing");
    };
    let ticket = shared.with_state(|s| {
        let acct = s.accounts.get_mut(&bot_id)?;
        Some(
            acct.typing_tickets
                .entry(user.to_owned())
                .or_insert_with(|| crate::util::base64_encode(&crate::util::random_bytes::<18>()))
                .clone(),
        )
    });
    match ticket {
        Some(t) => json_response(&json!({"ret": 0, "errmsg": "", "typing_ticket": t})),
        None => session_expired(),
    }
}

fn send_typing(shared: &Shared, call: &ApiCall) -> Response<Body> {
    let Some(bot_id) = call.bot_id.clone() else {
        return session_expired();
    };
    let b = &call.body;
    let Some(user) = str_field(b, "ilink_user_id").filter(|u| !u.is_empty()) else {
        return invalid(shared, call.route, "ilink_user_id missing");
    };
    let status = match b.get("status").and_then(Value::as_i64) {
        Some(s @ (1 | 2)) => s as i32,
        _ => return invalid(shared, call.route, "status must be 1 or 2"),
    };
    let ticket = str_field(b, "typing_ticket").unwrap_or_default();
    let at = shared.elapsed();
    let ok = shared.with_state(|s| {
        let valid = s
            .accounts
            .get(&bot_id)
            .and_then(|a| a.typing_tickets.get(user))
            .is_some_and(|t| t == ticket);
        if valid {
            s.typing.push(TypingCall {
                bot_id: bot_id.clone(),
                user_id: user.to_owned(),
                status,
                at,
            });
        }
        valid
    });
    if ok {
        json_response(&json!({"ret": 0, "errmsg": ""}))
    } else {
        invalid(
            shared,
            call.route,
            "typing_ticket was not issued for this user",
        )
    }
}

fn notify(shared: &Shared, call: &ApiCall) -> Response<Body> {
    let Some(bot_id) = call.bot_id.clone() else {
        return session_expired();
    };
    let at = shared.elapsed();
    shared.with_state(|s| {
        s.notify.push(NotifyCall {
            bot_id,
            start: call.route == Route::NotifyStart,
            at,
        });
    });
    json_response(&json!({"ret": 0, "errmsg": ""}))
}
