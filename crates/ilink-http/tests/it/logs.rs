//! What the transport logs: one span per request with the path only, and
//! bodies at trace level with every secret redacted.

use std::fmt::{self, Write as _};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use ilink_proto::{
    BotToken, ContextToken, GetQrcodeStatusRequest, MessageItem, SendMessageRequest, WeixinMessage,
};
use serde_json::json;
use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber};

use crate::server::{Action, TestServer};
use crate::{TOKEN, transport};

/// Writes every span and event, with all its fields, into one string.
#[derive(Clone, Default)]
struct Capture {
    out: Arc<Mutex<String>>,
    next_id: Arc<AtomicU64>,
}

struct Fields<'a>(&'a mut String);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let _ = write!(self.0, " {}={:?}", field.name(), value);
    }
}

impl Subscriber for Capture {
    fn register_callsite(&self, _: &'static Metadata<'static>) -> Interest {
        Interest::always()
    }
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(LevelFilter::TRACE)
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut out = self.out.lock().unwrap();
        let _ = write!(
            out,
            "\nspan {} {}",
            span.metadata().level(),
            span.metadata().name()
        );
        span.record(&mut Fields(&mut out));
        Id::from_u64(self.next_id.fetch_add(1, Ordering::Relaxed) + 1)
    }
    fn record(&self, _: &Id, values: &Record<'_>) {
        let mut out = self.out.lock().unwrap();
        out.push_str("\nrecord");
        values.record(&mut Fields(&mut out));
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut out = self.out.lock().unwrap();
        let _ = write!(out, "\nevent {}", event.metadata().level());
        event.record(&mut Fields(&mut out));
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[tokio::test]
async fn spans_show_paths_and_trace_bodies_are_redacted() {
    let server = TestServer::start(|req| {
        if req.path.ends_with("get_qrcode_status") {
            Action::json(json!({"status": "confirmed", "bot_token": "NEWTOKEN-1",
                                "ilink_bot_id": "b@im.bot"}))
        } else {
            Action::json(json!({"ret": 0, "message_id": 1}))
        }
    })
    .await;
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());

    let transport = transport(server.url());
    transport
        .get_qrcode_status(GetQrcodeStatusRequest::new("QRSECRET-9"), None)
        .await
        .unwrap();
    let msg = WeixinMessage::outbound("u@im.wechat", "cid", MessageItem::text("visible text"))
        .with_context_token(Some(ContextToken::new("CTXSECRET-5")));
    transport
        .account(BotToken::new(TOKEN))
        .send_message(SendMessageRequest::new(msg))
        .await
        .unwrap();

    let log = capture.out.lock().unwrap().clone();
    assert!(
        log.contains("span DEBUG request method=GET path=\"/ilink/bot/get_qrcode_status\""),
        "{log}"
    );
    assert!(
        log.contains("span DEBUG request method=POST path=\"/ilink/bot/sendmessage\""),
        "{log}"
    );
    assert!(log.contains("status=200"), "{log}");
    assert!(log.contains("elapsed_ms="), "{log}");
    assert!(
        log.contains("visible text"),
        "trace bodies are logged: {log}"
    );
    assert!(log.contains("<redacted>"), "{log}");
    for secret in ["QRSECRET", "NEWTOKEN", "CTXSECRET", TOKEN, "qrcode="] {
        assert!(
            !log.contains(secret),
            "{secret} leaked into the logs: {log}"
        );
    }
}
