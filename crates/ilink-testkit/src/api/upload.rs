//! `getuploadurl`: upload slots for the CDN.

use hyper::Response;
use ilink_crypto::MediaKey;
use ilink_proto::UploadMediaType;
use serde_json::{Value, json};

use crate::http::{ApiCall, Body, json_response, refused, session_expired};
use crate::shared::Shared;
use crate::state::UploadSlot;

use super::{invalid, str_field};

pub(super) fn get_upload_url(shared: &Shared, call: &ApiCall) -> Response<Body> {
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
    let param = crate::random::random_base64::<24>();
    let thumb_param = thumb.as_ref().map(|_| crate::random::random_base64::<24>());
    shared.with_cdn(|s| {
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

/// Whether `s` is exactly 32 hex digits.
fn is_hex32(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
}
