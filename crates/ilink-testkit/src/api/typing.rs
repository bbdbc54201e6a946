//! `getconfig`, `sendtyping`, and `notifystart`/`notifystop`.

use hyper::Response;
use serde_json::{Value, json};

use crate::fault::Route;
use crate::http::{ApiCall, Body, json_response, session_expired};
use crate::record::{NotifyCall, TypingCall};
use crate::shared::Shared;

use super::{invalid, str_field};

pub(super) fn get_config(shared: &Shared, call: &ApiCall) -> Response<Body> {
    let Some(bot_id) = call.bot_id.clone() else {
        return session_expired();
    };
    let Some(user) = str_field(&call.body, "ilink_user_id").filter(|u| !u.is_empty()) else {
        return invalid(shared, call.route, "ilink_user_id missing");
    };
    let ticket = shared.with_accounts(|s| {
        let acct = s.accounts.get_mut(&bot_id)?;
        if acct.fresh_bindings.contains(user) {
            return Some(None);
        }
        Some(Some(
            acct.typing_tickets
                .entry(user.to_owned())
                .or_insert_with(crate::random::random_base64::<18>)
                .clone(),
        ))
    });
    match ticket {
        Some(Some(t)) => json_response(&json!({"ret": 0, "errmsg": "", "typing_ticket": t})),
        // What the real server answers for a binding made moments ago
        // (Tencent/openclaw-weixin#268): a bare -4, no ticket.
        Some(None) => json_response(&json!({"ret": -4})),
        None => session_expired(),
    }
}

pub(super) fn send_typing(shared: &Shared, call: &ApiCall) -> Response<Body> {
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
    let ok = shared.with_accounts(|s| {
        s.accounts
            .get(&bot_id)
            .and_then(|a| a.typing_tickets.get(user))
            .is_some_and(|t| t == ticket)
    });
    if ok {
        shared.with_records(|s| {
            s.typing.push(TypingCall {
                bot_id: bot_id.clone(),
                user_id: user.to_owned(),
                status,
                at,
            });
        });
    }
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

pub(super) fn notify(shared: &Shared, call: &ApiCall) -> Response<Body> {
    let Some(bot_id) = call.bot_id.clone() else {
        return session_expired();
    };
    let at = shared.elapsed();
    shared.with_records(|s| {
        s.notify.push(NotifyCall {
            bot_id,
            start: call.route == Route::NotifyStart,
            at,
        });
    });
    json_response(&json!({"ret": 0, "errmsg": ""}))
}
