//! Redaction of secrets in JSON bodies before they are logged.

use serde_json::Value;

/// The placeholder that replaces a secret value.
pub const REDACTED: &str = "<redacted>";

/// Keys whose values are secrets, compared case-insensitively.
///
/// `qrcode` and `qrcode_img_content` are here because whoever holds the QR
/// code can poll it and receive the bot token once it is confirmed.
const SECRET_KEYS: &[&str] = &[
    "bot_token",
    "context_token",
    "aes_key",
    "aeskey",
    "typing_ticket",
    "local_token_list",
    "authorization",
    "qrcode",
    "qrcode_img_content",
];

/// Whether values under `key` are secrets that [`redact`] hides.
pub fn is_secret_key(key: &str) -> bool {
    SECRET_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key))
}

/// Replaces, at any depth, the value of every secret key (`bot_token`,
/// `context_token`, `aes_key`, `aeskey`, `typing_ticket`, `local_token_list`,
/// `Authorization`, `qrcode`, `qrcode_img_content`) with `"<redacted>"`.
///
/// ```
/// use serde_json::json;
///
/// let mut body = json!({"msg": {"context_token": "ctx", "item_list": [
///     {"image_item": {"aeskey": "00ff", "media": {"aes_key": "AA=="}}}]}});
/// ilink_http::redact(&mut body);
/// assert_eq!(body, json!({"msg": {"context_token": "<redacted>", "item_list": [
///     {"image_item": {"aeskey": "<redacted>", "media": {"aes_key": "<redacted>"}}}]}}));
/// ```
pub fn redact(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if is_secret_key(key) {
                    *v = Value::String(REDACTED.to_owned());
                } else {
                    redact(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

/// A redacted rendering of a JSON body for `trace` logs, or a note about its
/// size when it is not JSON (so nothing unparsed leaks).
pub(crate) fn redacted_body(body: &[u8]) -> String {
    match serde_json::from_slice::<Value>(body) {
        Ok(mut value) => {
            redact(&mut value);
            value.to_string()
        }
        Err(_) => format!("<{} bytes, not JSON>", body.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn redacts_every_secret_key_at_any_depth() {
        let mut value = json!({
            "bot_token": "t",
            "Authorization": "Bearer t",
            "local_token_list": ["a", "b"],
            "msgs": [{"context_token": "c", "item_list": [{"voice_item": {"media": {
                "aes_key": "k", "encrypt_query_param": "p"}}}]}],
            "typing_ticket": "tt",
            "nested": {"deeper": [{"AESKEY": "k2"}]},
            "qrcode": "q",
            "qrcode_img_content": "https://q",
            "ret": 0,
            "text": "hello",
        });
        redact(&mut value);
        let r = REDACTED;
        assert_eq!(
            value,
            json!({
                "bot_token": r,
                "Authorization": r,
                "local_token_list": r,
                "msgs": [{"context_token": r, "item_list": [{"voice_item": {"media": {
                    "aes_key": r, "encrypt_query_param": "p"}}}]}],
                "typing_ticket": r,
                "nested": {"deeper": [{"AESKEY": r}]},
                "qrcode": r,
                "qrcode_img_content": r,
                "ret": 0,
                "text": "hello",
            })
        );
    }

    #[test]
    fn non_json_is_not_echoed() {
        assert_eq!(redacted_body(b"bot_token=abc"), "<13 bytes, not JSON>");
        assert_eq!(
            redacted_body(br#"{"bot_token":"abc"}"#),
            r#"{"bot_token":"<redacted>"}"#
        );
    }
}
