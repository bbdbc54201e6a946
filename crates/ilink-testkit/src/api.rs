//! The API endpoints, one module per area: login, updates (and pushing
//! inbound messages), sending, upload slots, config and typing.

mod login;
mod sending;
mod typing;
mod updates;
mod upload;

use login::{get_bot_qrcode, get_qrcode_status};
use sending::send_message;
use typing::{get_config, notify, send_typing};
use updates::get_updates;
pub(crate) use updates::push;
use upload::get_upload_url;

use std::time::{SystemTime, UNIX_EPOCH};

use hyper::Response;
use serde_json::Value;

use crate::fault::Route;
use crate::http::{ApiCall, Body, refused};
use crate::shared::Shared;

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
    shared.with_records(|s| s.violation(route, what));
    refused(-1, &format!("invalid parameter: {what}"))
}

fn str_field<'a>(body: &'a Value, name: &str) -> Option<&'a str> {
    body.get(name).and_then(Value::as_str)
}

// ------------------------------------------------------------------ login
