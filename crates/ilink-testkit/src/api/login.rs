//! QR login: `get_bot_qrcode` and `get_qrcode_status`, driven by the scripted
//! steps of a [`QrScript`].

use hyper::Response;
use serde_json::{Value, json};

use crate::http::{ApiCall, Body, json_response};
use crate::login::{LoginTarget, QrScript, QrStep};
use crate::random::random_hex;
use crate::record::Host;
use crate::shared::Shared;
use crate::state::{Accounts, PendingCode, QrSession};

use super::invalid;

pub(super) fn get_bot_qrcode(shared: &Shared, call: &ApiCall) -> Response<Body> {
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
        shared
            .with_records(|s| s.violation(call.route, "local_token_list has more than 10 tokens"));
    }
    let qrcode = random_hex::<16>();
    shared.with_accounts(|s| {
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
        "qrcode_img_content": shared.config.qr_content.clone().unwrap_or_else(|| {
            format!("https://liteapp.weixin.qq.com/q/sim?qrcode={qrcode}&bot_type=3")
        }),
    }))
}

pub(super) fn get_qrcode_status(shared: &Shared, call: &ApiCall) -> Response<Body> {
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
    let answer = shared.with_accounts(|s| {
        let Accounts {
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
                let config = &shared.config;
                let mut answer = json!({
                    "ret": 0,
                    "status": "confirmed",
                    "bot_token": token,
                    "ilink_bot_id": config.confirmed_bot_id.clone().unwrap_or(bot_id),
                    "ilink_user_id": config.confirmed_user_id.clone().unwrap_or(owner),
                    "baseurl": api_base,
                });
                if config.omit_confirmed_base_url {
                    answer.as_object_mut().map(|o| o.remove("baseurl"));
                }
                answer
            }
        }
    });
    json_response(&answer)
}
