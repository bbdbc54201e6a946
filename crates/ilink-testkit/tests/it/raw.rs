//! A bare HTTP client speaking the protocol by hand.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

pub(crate) struct Raw {
    client: Client<HttpConnector, Full<Bytes>>,
    pub(crate) base: String,
}

pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: hyper::HeaderMap,
    pub(crate) text: String,
}

impl Answer {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("{e}: {}", self.text))
    }
}

impl Raw {
    pub(crate) fn new(base: &str) -> Self {
        Self {
            client: Client::builder(TokioExecutor::new()).build_http(),
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    pub(crate) async fn send(&self, req: Request<Full<Bytes>>) -> Result<Answer, String> {
        let resp = tokio::time::timeout(Duration::from_secs(10), self.client.request(req))
            .await
            .map_err(|_| "timeout".to_owned())?
            .map_err(|e| format!("request: {e:?}"))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("body: {e:?}"))?
            .to_bytes();
        Ok(Answer {
            status,
            headers,
            text: String::from_utf8_lossy(&body).into_owned(),
        })
    }

    fn post_request(&self, path: &str, token: Option<&str>, body: &Value) -> Request<Full<Bytes>> {
        let mut b = Request::builder()
            .method(Method::POST)
            .uri(format!("{}/{path}", self.base))
            .header("Content-Type", "application/json")
            .header("AuthorizationType", "ilink_bot_token")
            .header("X-WECHAT-UIN", ilink_proto::wechat_uin(123456789))
            .header("iLink-App-Id", "bot")
            .header("iLink-App-ClientVersion", "65547");
        if let Some(t) = token {
            b = b.header("Authorization", format!("Bearer {t}"));
        }
        b.body(Full::new(Bytes::from(body.to_string()))).unwrap()
    }

    /// A POST with every header and `base_info`.
    pub(crate) async fn post(&self, path: &str, token: Option<&str>, mut body: Value) -> Answer {
        body["base_info"] = json!({"channel_version": "1.0.11", "bot_agent": "raw/1"});
        self.send(self.post_request(path, token, &body))
            .await
            .unwrap()
    }

    /// A POST exactly as given.
    pub(crate) async fn post_exact(
        &self,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> Result<Answer, String> {
        self.send(self.post_request(path, token, body)).await
    }

    pub(crate) async fn get(&self, path_and_query: &str) -> Answer {
        let req = Request::builder()
            .uri(format!("{}/{path_and_query}", self.base))
            .header("iLink-App-Id", "bot")
            .header("iLink-App-ClientVersion", "65547")
            .body(Full::new(Bytes::new()))
            .unwrap();
        self.send(req).await.unwrap()
    }

    pub(crate) async fn get_url(&self, url: &str) -> Result<Answer, String> {
        let req = Request::builder()
            .uri(url)
            .body(Full::new(Bytes::new()))
            .unwrap();
        self.send(req).await
    }

    pub(crate) async fn post_bytes(&self, url: &str, body: Vec<u8>) -> Result<Answer, String> {
        let req = Request::builder()
            .method(Method::POST)
            .uri(url)
            .header("Content-Type", "application/octet-stream")
            .body(Full::new(Bytes::from(body)))
            .unwrap();
        self.send(req).await
    }
}

pub(crate) fn outbound(to: &str, client_id: &str, ctx: Option<&str>, item: Value) -> Value {
    let mut msg = json!({
        "from_user_id": "", "to_user_id": to, "client_id": client_id,
        "message_type": 2, "message_state": 2, "item_list": [item],
    });
    if let Some(c) = ctx {
        msg["context_token"] = json!(c);
    }
    json!({ "msg": msg })
}

pub(crate) fn text_item(text: &str) -> Value {
    json!({"type": 1, "text_item": {"text": text}})
}
