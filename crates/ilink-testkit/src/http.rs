//! HTTP plumbing below every handler: response bodies and helpers, the
//! API call as read from a request (headers checked), injected faults.

use std::convert::Infallible;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body as HttpBody, Frame};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Request, Response, StatusCode};
use ilink_proto::consts::headers;
use serde_json::{Value, json};

use crate::fault::{FaultKind, Route};
use crate::record::{Host, RequestRecord};
use crate::shared::Shared;

/// Response bodies: full, streamed or deliberately broken.
pub(crate) type Body = BoxBody<Bytes, io::Error>;

/// Largest API request body the simulator reads.
const MAX_API_BODY: usize = 4 * 1024 * 1024;

pub(crate) fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never: Infallible| match never {})
        .boxed()
}

pub(crate) fn json_response(value: &Value) -> Response<Body> {
    let mut resp = Response::new(full(value.to_string()));
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

pub(crate) fn status_response(
    status: StatusCode,
    content_type: &'static str,
    body: &str,
) -> Response<Body> {
    let mut resp = Response::new(full(body.to_owned()));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

/// `{"ret": -14, ...}`: what the server answers to an unknown, revoked or
/// expired token (HTTP 200).
pub(crate) fn session_expired() -> Response<Body> {
    json_response(&json!({"ret": -14, "errcode": -14, "errmsg": "session timeout"}))
}

/// An in-band refusal with a code.
pub(crate) fn refused(ret: i64, errmsg: &str) -> Response<Body> {
    json_response(&json!({"ret": ret, "errmsg": errmsg}))
}

/// Aborts the connection without an answer (hyper drops it when the service
/// fails).
#[derive(Debug)]
pub(crate) struct Abort;

impl std::fmt::Display for Abort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection aborted by fault injection")
    }
}

impl std::error::Error for Abort {}

/// Answers with the fault instead of the real response.
pub(crate) async fn apply_fault(shared: &Shared, kind: FaultKind) -> Result<Response<Body>, Abort> {
    Ok(match kind {
        FaultKind::Status500 => status_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            "text/plain",
            "internal server error",
        ),
        FaultKind::BadGatewayHtml => status_response(
            StatusCode::BAD_GATEWAY,
            "text/html",
            "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>",
        ),
        FaultKind::Gateway524 => status_response(
            StatusCode::from_u16(524).unwrap_or(StatusCode::GATEWAY_TIMEOUT),
            "text/html",
            "<html><body><h1>524: A timeout occurred</h1></body></html>",
        ),
        FaultKind::ConnectionReset => return Err(Abort),
        FaultKind::Hang { duration } => {
            match duration {
                Some(d) => shared.sleep_or_shutdown(d).await,
                None => shared.until_shutdown().await,
            }
            return Err(Abort);
        }
        FaultKind::MalformedJson => status_response(
            StatusCode::OK,
            "application/json",
            "{\"ret\":0,\"msgs\":[{\"mess",
        ),
        FaultKind::TruncatedBody => {
            let mut resp = Response::new(
                Truncated::new(Bytes::from_static(
                    b"{\"ret\":0,\"errmsg\":\"\",\"msgs\":[],\"get_updates_buf\":\"x\"}",
                ))
                .boxed(),
            );
            resp.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            resp
        }
        FaultKind::Throttled => refused(-2, "rate limited"),
        FaultKind::SessionExpired => session_expired(),
        FaultKind::SlowAfterEffect { .. } => status_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            "text/plain",
            "unreachable",
        ),
    })
}

/// A body that announces its full length, sends half and then fails, so the
/// connection closes mid-body.
pub(crate) struct Truncated {
    full_len: u64,
    half: Option<Bytes>,
    failed: bool,
}

impl Truncated {
    pub(crate) fn new(all: Bytes) -> Self {
        let full_len = all.len() as u64;
        let half = all.slice(..all.len() / 2);
        Self {
            full_len,
            half: Some(half),
            failed: false,
        }
    }
}

impl HttpBody for Truncated {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        if let Some(half) = self.half.take() {
            return Poll::Ready(Some(Ok(Frame::data(half))));
        }
        if !self.failed {
            self.failed = true;
            return Poll::Ready(Some(Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "truncated by fault injection",
            ))));
        }
        Poll::Ready(None)
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.full_len)
    }
}

/// A decoded API request.
pub(crate) struct ApiCall {
    pub(crate) host: Host,
    pub(crate) route: Route,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) body: Value,
    /// The bot of a valid token, if the request carried one.
    pub(crate) bot_id: Option<String>,
    /// The bearer token it carried, if any.
    pub(crate) token: Option<String>,
}

impl ApiCall {
    pub(crate) fn query_value(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Reads, records and checks a request; `Err` is the answer to give
    /// instead of handling it.
    pub(crate) async fn read(
        host: Host,
        route: Route,
        req: Request<Incoming>,
        shared: &Shared,
    ) -> Result<ApiCall, Response<Body>> {
        let (parts, body) = req.into_parts();
        let method = parts.method.as_str().to_owned();
        let query = crate::http::parse_query(parts.uri.query().unwrap_or_default());
        let header_list: Vec<(String, String)> = parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let bytes = match Limited::new(body, MAX_API_BODY).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(_) => {
                return Err(status_response(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "text/plain",
                    "request body too large or unreadable",
                ));
            }
        };
        let is_post = parts.method == hyper::Method::POST;
        let parsed: Option<Value> = if bytes.is_empty() {
            None
        } else {
            serde_json::from_slice(&bytes).ok()
        };
        let find = |name: &str| {
            header_list
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        let bearer = find(headers::AUTHORIZATION)
            .map(|v| v.trim().trim_start_matches("Bearer ").trim().to_owned());
        let mut problems = Vec::new();
        check_headers(route, is_post, &find, &mut problems);
        if is_post && !bytes.is_empty() && parsed.is_none() {
            problems.push("request body is not valid JSON".to_owned());
        }
        if let Some(body) = &parsed {
            let has_base_info = body.get("base_info").is_some_and(Value::is_object);
            if route == Route::GetBotQrcode {
                if has_base_info {
                    problems.push("get_bot_qrcode must not carry base_info".to_owned());
                }
            } else if is_post && !has_base_info {
                problems.push("POST body lacks base_info".to_owned());
            }
        }
        let bot_id = bearer
            .as_deref()
            .and_then(|t| shared.with_accounts(|s| s.bot_for_token(t).map(str::to_owned)));
        let record_seq = shared.with_records(|s| {
            for p in &problems {
                s.violation(route, p.clone());
            }
            let record = RequestRecord {
                seq: 0,
                at: shared.elapsed(),
                host,
                route,
                method: method.clone(),
                path: parts.uri.path().to_owned(),
                query: query.clone(),
                headers: header_list.clone(),
                body: parsed.clone(),
                bot_id: bot_id.clone(),
            };
            s.record(record, shared.config.record_limit)
        });
        shared.changed();
        tracing::debug!(?route, seq = record_seq, "request");
        if shared.config.strict && !problems.is_empty() {
            return Err(status_response(
                StatusCode::BAD_REQUEST,
                "text/plain",
                &problems.join("; "),
            ));
        }
        Ok(ApiCall {
            host,
            route,
            query,
            body: parsed.unwrap_or(Value::Null),
            bot_id,
            token: bearer,
        })
    }
}

fn check_headers<'a>(
    route: Route,
    is_post: bool,
    find: &dyn Fn(&str) -> Option<&'a str>,
    problems: &mut Vec<String>,
) {
    match find(headers::APP_ID) {
        Some(v) if !v.is_empty() => {}
        _ => problems.push(format!("missing {}", headers::APP_ID)),
    }
    match find(headers::CLIENT_VERSION) {
        Some(v) if v.parse::<u32>().is_ok() => {}
        Some(_) => problems.push(format!(
            "{} is not a decimal uint32",
            headers::CLIENT_VERSION
        )),
        None => problems.push(format!("missing {}", headers::CLIENT_VERSION)),
    }
    if route == Route::GetQrcodeStatus {
        if is_post {
            problems.push("get_qrcode_status must be a GET".to_owned());
        }
        for name in [
            headers::AUTHORIZATION,
            headers::AUTHORIZATION_TYPE,
            headers::WECHAT_UIN,
        ] {
            if find(name).is_some() {
                problems.push(format!(
                    "get_qrcode_status must carry only the app headers, not {name}"
                ));
            }
        }
        return;
    }
    if !is_post {
        if route != Route::GetBotQrcode {
            problems.push("API calls other than the QR ones must be POSTs".to_owned());
        }
        return;
    }
    match find(CONTENT_TYPE.as_str()) {
        Some(v) if v.starts_with("application/json") => {}
        _ => problems.push("POST without Content-Type: application/json".to_owned()),
    }
    if find(headers::AUTHORIZATION_TYPE) != Some(headers::AUTHORIZATION_TYPE_VALUE) {
        problems.push(format!(
            "POST without {}: {}",
            headers::AUTHORIZATION_TYPE,
            headers::AUTHORIZATION_TYPE_VALUE
        ));
    }
    match find(headers::WECHAT_UIN) {
        Some(v) => {
            use base64::Engine as _;
            let ok = base64::engine::general_purpose::STANDARD
                .decode(v.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .is_some_and(|s| s.parse::<u32>().is_ok());
            if !ok {
                problems.push(format!(
                    "{} is not base64 of a decimal uint32",
                    headers::WECHAT_UIN
                ));
            }
        }
        None => problems.push(format!("POST without {}", headers::WECHAT_UIN)),
    }
    let auth = find(headers::AUTHORIZATION);
    if route == Route::GetBotQrcode {
        if auth.is_some() {
            problems.push("get_bot_qrcode must not carry Authorization".to_owned());
        }
    } else if let Some(v) = auth
        && !v.starts_with("Bearer ")
    {
        problems.push("Authorization is not 'Bearer <token>'".to_owned());
    }
}

/// Decodes a query string into pairs (percent-decoding, `+` as space).
pub(crate) fn parse_query(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::parse_query;

    #[test]
    fn query_decoding() {
        assert_eq!(
            parse_query("a=1&b=x%2By%3D&c=%zz&d=%4"),
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "x+y=".into()),
                ("c".into(), "%zz".into()),
                ("d".into(), "%4".into()),
            ]
        );
        assert_eq!(parse_query("q=a%20b+c"), vec![("q".into(), "a b c".into())]);
    }
}
