use ilink_proto::{
    AesKeyText, BaseInfo, ContextToken, Endpoint, GetUploadUrlRequest, MessageItem,
    SendMessageRequest, UploadMediaType, UploadedMedia, UploadedThumb, VoiceEncodeType,
    WeixinMessage,
};
use serde_json::Value;

use crate::fixture;

fn as_value<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap()
}

fn expected(name: &str) -> Value {
    serde_json::from_str(&fixture(name)).unwrap()
}

fn media(plaintext_size: u64, md5: &str) -> UploadedMedia {
    UploadedMedia::new(
        "dl-param",
        AesKeyText::new("00112233445566778899aabbccddeeff"),
        plaintext_size,
        md5,
    )
}

fn send(to: &str, client_id: &str, item: MessageItem) -> SendMessageRequest {
    SendMessageRequest::new(WeixinMessage::outbound(to, client_id, item))
}

#[test]
fn text_message_as_the_protocol_expects() {
    let mut req = send(
        "o9cq80_user@im.wechat",
        "ilink:1767225600123-0a1b2c3d",
        MessageItem::text("hello"),
    );
    req.msg = req
        .msg
        .with_context_token(Some(ContextToken::new("AARzJWAFAAABAAAAAAB")));
    req.set_base_info(BaseInfo::new("0.1.0", "ilink-rs/0.1.0"));
    assert_eq!(as_value(&req), expected("sendmessage.text.request.json"));
}

#[test]
fn image_with_thumb() {
    // 48672 bytes of plaintext pad to 48688; a 5300-byte thumb to 5312.
    let m = media(48672, "900150983cd24fb0d6963f7d28e17f72")
        .with_thumb(UploadedThumb::new("thumb-param", 5300).with_size(90, 120));
    let req = send(
        "o9cq80_user@im.wechat",
        "ilink:1-img",
        MessageItem::image(&m),
    );
    assert_eq!(as_value(&req), expected("sendmessage.image.request.json"));
}

#[test]
fn video_file_voice() {
    let m = media(2097152, "900150983cd24fb0d6963f7d28e17f72");
    let req = send(
        "o9cq80_user@im.wechat",
        "ilink:1-vid",
        MessageItem::video(&m),
    );
    assert_eq!(as_value(&req), expected("sendmessage.video.request.json"));

    let m = media(3, "900150983cd24fb0d6963f7d28e17f72");
    let req = send(
        "o9cq80_user@im.wechat",
        "ilink:1-file",
        MessageItem::file(&m, "report.pdf"),
    );
    assert_eq!(as_value(&req), expected("sendmessage.file.request.json"));

    let m = media(5000, "x");
    let item = MessageItem::voice(&m, Some(VoiceEncodeType::SILK), Some(3200));
    let req = send("o9cq80_user@im.wechat", "ilink:1-voice", item);
    assert_eq!(as_value(&req), expected("sendmessage.voice.request.json"));
}

#[test]
fn upload_url_request_with_thumb_and_context() {
    let mut req = GetUploadUrlRequest::new(
        "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        UploadMediaType::IMAGE,
        "o9cq80_user@im.wechat",
        48672,
        "900150983cd24fb0d6963f7d28e17f72",
        AesKeyText::new("00112233445566778899aabbccddeeff"),
    )
    .with_thumb(5300, "d41d8cd98f00b204e9800998ecf8427e")
    .with_context_token(Some(ContextToken::new("AARzJWAFAAABAAAAAAB")));
    req.set_base_info(BaseInfo::new("0.1.0", "ilink-rs/0.1.0"));
    assert_eq!(as_value(&req), expected("getuploadurl.request.json"));

    let plain = GetUploadUrlRequest::new(
        "k",
        UploadMediaType::FILE,
        "u",
        16,
        "m",
        AesKeyText::new("h"),
    );
    let v = as_value(&plain);
    assert_eq!(v["no_need_thumb"], Value::Bool(true));
    assert_eq!(v["filesize"], 32);
    assert!(v.get("thumb_rawsize").is_none());
}

#[test]
fn tool_call_items() {
    let start = MessageItem::tool_call_start("search", "call_1");
    assert_eq!(
        as_value(&start),
        serde_json::json!({"type": 11, "tool_call_start_item": {"tool_name": "search", "tool_call_id": "call_1"}})
    );
    let done =
        MessageItem::tool_call_result("search", "call_1", ilink_proto::ToolCallStatus::Failed);
    assert_eq!(as_value(&done)["tool_call_result_item"]["status"], "failed");
}
