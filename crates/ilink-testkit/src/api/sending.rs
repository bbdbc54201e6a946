//! `sendmessage`: every rule the protocol sets for an outbound message,
//! checked and recorded.

use std::time::Instant;

use hyper::Response;
use ilink_crypto::{KeyFormat, MediaKey};
use ilink_proto::{ItemContent, MessageId, MessageItem, MessageType, WeixinMessage};
use serde_json::json;

use crate::http::{ApiCall, Body, json_response, refused, session_expired};
use crate::record::{ReceivedMedia, SentMessage};
use crate::shared::Shared;
use crate::state::Cdn;

use super::invalid;

pub(super) fn send_message(shared: &Shared, call: &ApiCall) -> Response<Body> {
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
    let window = shared.config.reply_window;
    let limit = shared.config.rate_limit;
    let elapsed_ms = u64::try_from(shared.elapsed().as_millis()).unwrap_or(u64::MAX);
    // Accounts, then the CDN (the media it names), then the records.
    let result = shared.with_accounts(|a| {
        shared.with_cdn(|c| {
            shared.with_records(|r| {
                if msg.item_list.len() > 1 {
                    r.violation(
                        route,
                        "more than one item in a sendmessage (the official client sends one)",
                    );
                }
                let acct = a.accounts.get_mut(&bot_id)?;
                if let Some(id) = acct.client_ids.get(&client_id).copied() {
                    r.duplicates.push(crate::record::DroppedDuplicate {
                        bot_id: bot_id.clone(),
                        client_id: client_id.clone(),
                    });
                    return Some(Ok(id));
                }
                let now = Instant::now();
                if let Some(limit) = limit {
                    let why = if limit.bare { "" } else { "rate limited" };
                    if let Some(until) = acct.penalty_until
                        && now < until
                    {
                        acct.sends_during_penalty += 1;
                        acct.penalty_until = Some(until + limit.extend_per_attempt);
                        return Some(Err((-2, why.to_owned())));
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
                        return Some(Err((-2, why.to_owned())));
                    }
                }
                let mut in_conversation = false;
                if let Some(ctx) = &msg.context_token {
                    // A token issued to another user, or never issued: the real
                    // server answers a bare -2 (and a client should never send one).
                    if acct
                        .contexts
                        .get(ctx.expose())
                        .is_none_or(|entry| entry.user_id != to)
                    {
                        r.violation(route, "context_token was not issued for this user");
                        return Some(Err((-2, String::new())));
                    }
                    in_conversation = true;
                }
                if let Some(conv) = acct.conversations.get_mut(&to) {
                    // The window after the user's last message, then the budget:
                    // both answered with a bare -2, as the real server does.
                    if window.is_some_and(|w| now.duration_since(conv.last_inbound) > w) {
                        acct.window_refusals += 1;
                        return Some(Err((-2, String::new())));
                    }
                    if quota.is_some_and(|q| conv.replies >= q) {
                        acct.quota_refusals += 1;
                        return Some(Err((-2, String::new())));
                    }
                    conv.replies += 1;
                }
                let mut media = Vec::new();
                let mut problems = Vec::new();
                for item in &msg.item_list {
                    verify_item(c, &bot_id, item, &mut media, &mut problems);
                }
                if !in_conversation {
                    problems.push(
                        "no context_token: the message may not reach the chat window".to_owned(),
                    );
                }
                let id = MessageId(a.next_message_id());
                let acct = a.accounts.get_mut(&bot_id)?;
                acct.client_ids.insert(client_id.clone(), id);
                r.sent.push(SentMessage {
                    bot_id: bot_id.clone(),
                    message_id: id,
                    msg: msg.clone(),
                    media,
                    in_conversation,
                    rendering_problems: problems,
                    at_ms: elapsed_ms,
                });
                Some(Ok(id))
            })
        })
    });
    match result {
        None => session_expired(),
        Some(Ok(id)) => json_response(&json!({"ret": 0, "errmsg": "", "message_id": id.get()})),
        Some(Err((ret, why))) => {
            if ret == -1 {
                shared.with_records(|s| s.violation(route, why.clone()));
            }
            if why.is_empty() {
                bare_refusal(ret)
            } else {
                refused(ret, &why)
            }
        }
    }
}

fn verify_item(
    s: &Cdn,
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
    s: &Cdn,
    bot_id: &str,
    kind: &str,
    media: &ilink_proto::CdnMedia,
    problems: &mut Vec<String>,
) -> Option<ReceivedMedia> {
    let Some(param) = media.encrypt_query_param.as_deref() else {
        problems.push(format!("{kind} media without encrypt_query_param"));
        return None;
    };
    let Some(obj) = s.objects.get(param) else {
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

/// `{"ret": N}` and nothing else, as the real server refuses most sends.
fn bare_refusal(ret: i64) -> Response<Body> {
    crate::http::json_response(&json!({ "ret": ret }))
}
