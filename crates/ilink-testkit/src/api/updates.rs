//! The long-poll (`getupdates`) with its cursor, and users' messages pushed
//! into an account's queue (with their media stored on the CDN).

use hyper::Response;
use ilink_crypto::MediaKey;
use ilink_proto::MessageId;
use serde_json::{Value, json};

use crate::fault::Route;
use crate::http::{ApiCall, Body, json_response, session_expired};
use crate::inbound::{Inbound, InboundContent, KeyForm, Pushed};
use crate::random::random_hex;
use crate::shared::Shared;
use crate::state::{Cdn, CdnObject};

use super::{now_ms, str_field};

/// Decrements the held-poll count when the poll ends, however it ends.
struct HeldPoll<'a> {
    shared: &'a Shared,
    bot_id: String,
}

impl Drop for HeldPoll<'_> {
    fn drop(&mut self) {
        self.shared.with_accounts(|s| {
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

pub(super) async fn get_updates(shared: &Shared, call: &ApiCall) -> Response<Body> {
    let (Some(bot_id), Some(token)) = (call.bot_id.clone(), call.token.clone()) else {
        return session_expired();
    };
    let cursor_in = str_field(&call.body, "get_updates_buf")
        .unwrap_or_default()
        .to_owned();
    let hold = shared.config.hold;
    let hold_ms = u64::try_from(hold.as_millis()).unwrap_or(u64::MAX);
    let deadline = tokio::time::Instant::now() + hold;
    let second = shared.with_accounts(|s| {
        let Some(a) = s.accounts.get_mut(&bot_id) else {
            return false;
        };
        a.polls_in_flight += 1;
        a.polls_in_flight > 1
    });
    if second {
        // Two clients polling one bot: the server hands each batch to
        // one of them, and the real one answers the other with -14.
        let agent = call
            .body
            .get("base_info")
            .and_then(|b| b.get("bot_agent"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        shared.with_records(|r| {
            r.violation(
                Route::GetUpdates,
                format!(
                    "a second long-poll of {bot_id} while one is held (the second from {agent:?}, at {} ms)",
                    now_ms()
                ),
            );
        });
    }
    let _held = HeldPoll {
        shared,
        bot_id: bot_id.clone(),
    };
    shared.changed();
    loop {
        let step = shared.with_accounts(|s| {
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
                if shared.with_accounts(|s| s.bot_for_token(&token) != Some(bot_id.as_str())) {
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
    let pushed = queue_inbound(shared, bot_id, inbound);
    shared.changed();
    pushed
}

fn queue_inbound(shared: &Shared, bot_id: &str, inbound: Inbound) -> Option<Pushed> {
    let cdn = shared.urls.cdn.clone();
    let keep = shared.config.keep_media_bytes;
    let at_ms = u64::try_from(shared.elapsed().as_millis()).unwrap_or(u64::MAX);
    // Accounts, then the CDN (inbound media is stored there).
    shared.with_accounts(|s| {
        shared.with_cdn(|c| {
            if !s.accounts.contains_key(bot_id) {
                return None;
            }
            let message_id = s.next_message_id();
            let age = std::time::Duration::from_millis(inbound.age_ms);
            let context_token = format!("AARz{}", random_hex::<12>());
            let now = now_ms().saturating_sub(i64::try_from(inbound.age_ms).unwrap_or(i64::MAX));
            let content = match inbound.content {
                InboundContent::Raw { mut message } => {
                    if let Some(obj) = message.as_object_mut() {
                        obj.entry("message_id").or_insert(json!(message_id));
                    }
                    let ctx = message
                        .get("context_token")
                        .and_then(Value::as_str)
                        .map(str::to_owned);
                    s.accounts.get_mut(bot_id)?.deliver(
                        &inbound.from,
                        age,
                        inbound.duplicate,
                        ctx.as_deref(),
                        message,
                    );
                    return Some(Pushed {
                        message_id: MessageId(message_id),
                        context_token: ctx.unwrap_or_default(),
                        media_md5: None,
                        media_size: None,
                        at_ms,
                    });
                }
                other => other,
            };
            let built = build_item(c, &cdn, content, inbound.full_url, keep);
            let (media_md5, media_size) = (built.md5, built.size);
            let mut item = built.item;
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
                if let Some(media) = quote.media {
                    // Raw content cannot be quoted as an item; it is left out.
                    if !matches!(*media, InboundContent::Raw { .. }) {
                        let quoted = build_item(c, &cdn, *media, false, keep);
                        ref_msg["message_item"] = quoted.item;
                    }
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
            s.accounts.get_mut(bot_id)?.deliver(
                &inbound.from,
                age,
                inbound.duplicate,
                Some(&context_token),
                msg,
            );
            Some(Pushed {
                message_id: MessageId(message_id),
                context_token,
                media_md5,
                media_size,
                at_ms,
            })
        })
    })
}

/// An item built from inbound content, with its media's plaintext MD5 and
/// size when it has media.
struct BuiltItem {
    item: Value,
    md5: Option<String>,
    size: Option<u64>,
}

/// Builds the wire item of inbound content (storing its media on the CDN).
/// Raw content is no item: it is delivered as it is, before this.
fn build_item(
    s: &mut Cdn,
    cdn: &str,
    content: InboundContent,
    full_url: bool,
    keep: u64,
) -> BuiltItem {
    let mut media_md5 = None;
    let mut media_size = None;
    let item = match content {
        InboundContent::Text { text } => json!({"type": 1, "text_item": {"text": text}}),
        InboundContent::Raw { message } => message,
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
            let (media, obj) = store_media(s, cdn, "image", bytes, key, full_url, keep);
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
            sample_rate,
        } => {
            let size = bytes.len();
            let (media, obj) =
                store_media(s, cdn, "voice", bytes, KeyForm::Base64Hex, full_url, keep);
            media_md5 = Some(obj.0);
            media_size = Some(obj.1);
            let mut voice = json!({
                "media": media.0,
                "encode_type": encode_type.unwrap_or(6),
                "bits_per_sample": 16,
                "sample_rate": sample_rate.unwrap_or(16000),
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
            let (media, obj) =
                store_media(s, cdn, "file", bytes, KeyForm::Base64Hex, full_url, keep);
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
            let (media, obj) =
                store_media(s, cdn, "video", bytes, KeyForm::Base64Hex, full_url, keep);
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
    BuiltItem {
        item,
        md5: media_md5,
        size: media_size,
    }
}

/// Stores inbound media on the CDN; returns the `media` object (and the hex
/// key for `image_item.aeskey`) plus the plaintext MD5 and size.
#[allow(clippy::type_complexity)]
fn store_media(
    s: &mut Cdn,
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
        _ => Some(MediaKey::from_bytes(crate::random::random_bytes::<16>())),
    };
    let param = crate::random::random_base64::<24>();
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
    s.objects.insert(
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
