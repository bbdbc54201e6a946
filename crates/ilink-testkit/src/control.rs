//! The JSON control API: the scripting and read-back operations of
//! [`Simulator`](crate::Simulator), served over HTTP on a listener of its
//! own so that a standalone simulator can be driven from another process
//! (the route table is in the crate docs).
//!
//! Control requests are not recorded and never hit injected faults. Every
//! answer is JSON; errors are 4xx (or 5xx) with `{"error": "..."}`.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{ALLOW, CONTENT_TYPE, HeaderValue};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::fault::{Fault, Route};
use crate::http::{Body, full};
use crate::inbound::Inbound;
use crate::login::QrScript;
use crate::shared::Shared;

/// Largest control request body (pushed media travels base64 in JSON).
const MAX_CONTROL_BODY: usize = 64 * 1024 * 1024;

/// `GET /wait/sent` defaults and bounds.
const DEFAULT_WAIT: Duration = Duration::from_secs(10);
const MAX_WAIT_MS: u64 = 10 * 60 * 1000;

/// Serves the control API on `listener` until the simulator stops.
pub(crate) fn serve(listener: TcpListener, shared: Arc<Shared>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut shutdown = shared.shutdown_signal();
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                _ = shutdown.changed() => break,
            };
            let stream = match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!(error = %e, "control accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let shared = shared.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req| {
                    let shared = shared.clone();
                    async move { Ok::<_, Infallible>(handle(&shared, req).await) }
                });
                let conn = hyper::server::conn::http1::Builder::new()
                    .keep_alive(true)
                    .serve_connection(TokioIo::new(stream), service);
                if let Err(e) = conn.await {
                    tracing::debug!(error = %e, "control connection ended");
                }
            });
        }
    })
}

/// A refused control request.
struct ControlError {
    status: StatusCode,
    message: String,
    /// The `Allow` header of a 405.
    allow: Option<&'static str>,
}

impl ControlError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            allow: None,
        }
    }

    fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    fn into_response(self) -> Response<Body> {
        let mut resp = reply(self.status, &json!({ "error": self.message }));
        if let Some(allow) = self.allow {
            resp.headers_mut()
                .insert(ALLOW, HeaderValue::from_static(allow));
        }
        resp
    }
}

type Answer = Result<Response<Body>, ControlError>;

fn reply(status: StatusCode, value: &Value) -> Response<Body> {
    let mut resp = Response::new(full(value.to_string()));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

/// 200 with `value` as JSON.
fn ok(value: &impl Serialize) -> Answer {
    let value = serde_json::to_value(value).map_err(|e| {
        ControlError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot serialize the answer: {e}"),
        )
    })?;
    Ok(reply(StatusCode::OK, &value))
}

fn done() -> Answer {
    Ok(reply(StatusCode::OK, &json!({ "ok": true })))
}

async fn handle(shared: &Shared, req: Request<Incoming>) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let bytes = match Limited::new(body, MAX_CONTROL_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return ControlError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "request body too large or unreadable",
            )
            .into_response();
        }
    };
    let query = crate::http::parse_query(parts.uri.query().unwrap_or_default());
    let segments: Vec<String> = parts
        .uri
        .path()
        .split('/')
        .filter(|s| !s.is_empty())
        .map(decode_segment)
        .collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let request = ControlRequest {
        query: &query,
        body: &bytes,
    };
    match route(shared, parts.method.as_str(), &segments, request).await {
        Ok(resp) => resp,
        Err(e) => e.into_response(),
    }
}

/// Percent-decodes one path segment (`%40` → `@`; a `+` stays a `+`).
fn decode_segment(segment: &str) -> String {
    let pairs = crate::http::parse_query(&format!("s={}", segment.replace('+', "%2B")));
    pairs.into_iter().next().map(|(_, v)| v).unwrap_or_default()
}

struct ControlRequest<'a> {
    query: &'a [(String, String)],
    body: &'a Bytes,
}

impl ControlRequest<'_> {
    fn query_value(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as `T`; an empty body is an error.
    fn json<T: DeserializeOwned>(&self) -> Result<T, ControlError> {
        if self.body.is_empty() {
            return Err(ControlError::bad_request("a JSON body is required"));
        }
        serde_json::from_slice(self.body)
            .map_err(|e| ControlError::bad_request(format!("invalid body: {e}")))
    }

    fn u64_param(&self, name: &str) -> Result<Option<u64>, ControlError> {
        self.query_value(name)
            .map(|v| {
                v.parse::<u64>().map_err(|_| {
                    ControlError::bad_request(format!("{name} must be a non-negative integer"))
                })
            })
            .transpose()
    }
}

async fn route(
    shared: &Shared,
    method: &str,
    segments: &[&str],
    req: ControlRequest<'_>,
) -> Answer {
    match (method, segments) {
        ("POST", ["accounts"]) => {
            let account = shared.create_account();
            ok(&json!({
                "bot_id": account.bot_id,
                "owner_user_id": account.owner_user_id,
                "token": account.token,
            }))
        }
        ("POST", ["accounts", bot_id, "push"]) => {
            let inbound: Inbound = req.json()?;
            match crate::api::push(shared, bot_id, inbound) {
                Some(pushed) => ok(&pushed),
                None => Err(no_account(bot_id)),
            }
        }
        ("POST", ["accounts", bot_id, "expire"]) => {
            if shared.expire_session(bot_id) {
                done()
            } else {
                Err(no_account(bot_id))
            }
        }
        ("POST", ["login-scripts"]) => {
            shared.script_login(req.json::<QrScript>()?);
            done()
        }
        ("POST", ["faults"]) => {
            shared.inject(req.json::<Fault>()?);
            done()
        }
        ("DELETE", ["faults"]) => {
            shared.clear_faults();
            done()
        }
        ("POST", ["reset-records"]) => {
            shared.reset_records();
            done()
        }
        ("GET", ["sent"]) => ok(&shared.sent()),
        ("GET", ["requests"]) => {
            let route = match req.query_value("route") {
                None => None,
                Some(name) => Some(parse_route(name)?),
            };
            ok(&shared.requests(route))
        }
        ("GET", ["typing"]) => ok(&shared.typing_calls()),
        ("GET", ["notify"]) => ok(&shared.notify_calls()),
        ("GET", ["violations"]) => ok(&shared.violations()),
        ("GET", ["duplicates"]) => ok(&shared.dropped_duplicates()),
        ("GET", ["wait", "sent"]) => {
            let n = req.u64_param("n")?.unwrap_or(1);
            let n = usize::try_from(n).unwrap_or(usize::MAX);
            let timeout = match req.u64_param("timeout_ms")? {
                None => DEFAULT_WAIT,
                Some(ms) if ms <= MAX_WAIT_MS => Duration::from_millis(ms),
                Some(_) => {
                    return Err(ControlError::bad_request(format!(
                        "timeout_ms must be at most {MAX_WAIT_MS}"
                    )));
                }
            };
            if shared
                .wait_until(timeout, || shared.sent_count() >= n)
                .await
            {
                ok(&shared.sent())
            } else {
                Err(ControlError::new(
                    StatusCode::REQUEST_TIMEOUT,
                    format!(
                        "timed out after {} ms waiting for {n} sent message(s) ({} so far)",
                        timeout.as_millis(),
                        shared.sent_count()
                    ),
                ))
            }
        }
        _ => Err(not_routed(method, segments)),
    }
}

fn no_account(bot_id: &str) -> ControlError {
    ControlError::new(
        StatusCode::NOT_FOUND,
        format!("no account {bot_id} in the simulator"),
    )
}

fn parse_route(name: &str) -> Result<Route, ControlError> {
    serde_json::from_value(Value::String(name.to_owned())).map_err(|_| {
        let known: Vec<String> = Route::ALL
            .iter()
            .filter_map(|r| serde_json::to_value(r).ok())
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        ControlError::bad_request(format!(
            "unknown route {name:?}; known: {}",
            known.join(", ")
        ))
    })
}

/// 405 (with `Allow`) for a known path and another method, else 404.
fn not_routed(method: &str, segments: &[&str]) -> ControlError {
    let allowed = match segments {
        ["accounts"]
        | ["accounts", _, "push" | "expire"]
        | ["login-scripts"]
        | ["reset-records"] => Some("POST"),
        ["faults"] => Some("POST, DELETE"),
        ["sent" | "requests" | "typing" | "notify" | "violations" | "duplicates"]
        | ["wait", "sent"] => Some("GET"),
        _ => None,
    };
    match allowed {
        Some(allow) => ControlError {
            allow: Some(allow),
            ..ControlError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                format!("{method} is not allowed here; use {allow}"),
            )
        },
        None => ControlError::new(
            StatusCode::NOT_FOUND,
            format!("no control route {method} /{}", segments.join("/")),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_decode() {
        assert_eq!(decode_segment("abc%40im.bot"), "abc@im.bot");
        assert_eq!(decode_segment("a+b"), "a+b");
        assert_eq!(decode_segment("%zz"), "%zz");
    }

    #[test]
    fn routes_parse_by_wire_name() {
        assert_eq!(parse_route("get_updates").ok(), Some(Route::GetUpdates));
        assert_eq!(parse_route("cdn_upload").ok(), Some(Route::CdnUpload));
        let err = parse_route("nope")
            .err()
            .map(|e| e.message)
            .unwrap_or_default();
        assert!(err.contains("send_message"), "{err}");
    }
}
