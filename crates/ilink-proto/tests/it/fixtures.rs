use ilink_proto::{
    AckResponse, ApiResponse, EncryptType, ErrorCode, GetBotQrcodeRequest, GetBotQrcodeResponse,
    GetConfigRequest, GetConfigResponse, GetQrcodeStatusResponse, GetUpdatesRequest,
    GetUpdatesResponse, GetUploadUrlRequest, GetUploadUrlResponse, ItemContent, ItemType,
    MessageType, NotifyStartRequest, NotifyStopRequest, Outcome, QrStatus, SendMessageRequest,
    SendMessageResponse, SendTypingRequest, ToolCallStatus, TypingStatus, UploadMediaType,
    VoiceEncodeType, WeixinMessage,
};
use serde_json::{Value, json};

use crate::{fixture, round_trip};

#[test]
fn get_bot_qrcode() {
    let req: GetBotQrcodeRequest = round_trip(&fixture("get_bot_qrcode.request.json"));
    assert_eq!(req.local_token_list.len(), 2);
    assert_eq!(req.local_token_list[0].expose(), "tok-newest@im.bot:abc");
    let resp: GetBotQrcodeResponse = round_trip(&fixture("get_bot_qrcode.response.json"));
    assert_eq!(resp.qrcode.as_deref(), Some("a1b2c3d4e5f6"));
    assert!(resp.qrcode_img_content.unwrap().starts_with("https://"));
}

#[test]
fn get_qrcode_status_every_status() {
    let all: Vec<Value> =
        serde_json::from_str(&fixture("get_qrcode_status.responses.json")).unwrap();
    let statuses: Vec<QrStatus> = all
        .iter()
        .map(|v| round_trip::<GetQrcodeStatusResponse>(&v.to_string()).status)
        .collect();
    assert_eq!(
        statuses,
        [
            QrStatus::Wait,
            QrStatus::Scanned,
            QrStatus::Confirmed,
            QrStatus::Confirmed,
            QrStatus::Expired,
            QrStatus::ScannedButRedirect,
            QrStatus::NeedVerifyCode,
            QrStatus::VerifyCodeBlocked,
            QrStatus::BindedRedirect,
            QrStatus::Other("some_future_status".into()),
            QrStatus::Wait,
        ]
    );
    let confirmed: GetQrcodeStatusResponse = serde_json::from_value(all[2].clone()).unwrap();
    assert_eq!(
        confirmed.ilink_bot_id.as_deref(),
        Some("0123456789abcdef@im.bot")
    );
    assert_eq!(
        confirmed.ilink_user_id.as_deref(),
        Some("o9cq80_user@im.wechat")
    );
    assert!(confirmed.bot_token.is_some());
    // The token is never shown by Debug.
    assert!(!format!("{confirmed:?}").contains("060000f0e1d2c3"));
    let redirect: GetQrcodeStatusResponse = serde_json::from_value(all[5].clone()).unwrap();
    assert_eq!(
        redirect.redirect_host.as_deref(),
        Some("sz.ilinkai.weixin.qq.com")
    );
    // A missing status counts as wait.
    let empty: GetQrcodeStatusResponse = serde_json::from_str("{}").unwrap();
    assert_eq!(empty.status, QrStatus::Wait);
}

#[test]
fn getupdates_request() {
    let req: GetUpdatesRequest = round_trip(&fixture("getupdates.request.json"));
    assert_eq!(req.get_updates_buf, "Cg4IARIKCNbE9d8GEOq3");
    assert_eq!(
        req.base_info.unwrap().channel_version.as_deref(),
        Some("2.4.9")
    );
}

#[test]
fn getupdates_every_item_kind() {
    let resp: GetUpdatesResponse = round_trip(&fixture("getupdates.response.json"));
    assert_eq!(resp.outcome(), Outcome::Success);
    assert_eq!(resp.malformed().count(), 0);
    assert_eq!(resp.next_cursor("old"), "Cg4IARIKCNbE9d8GEOq4");
    assert_eq!(resp.poll_timeout_hint().unwrap().as_millis(), 35000);
    let msgs: Vec<&WeixinMessage> = resp.messages().collect();
    assert_eq!(msgs.len(), 5);

    // Text, with an unknown `button_item_list` and a non-numeric msg_id.
    let m = msgs[0];
    assert_eq!(m.message_id.unwrap().get(), 7393756283451904001);
    assert_eq!(m.message_type, Some(MessageType::USER));
    assert_eq!(m.text(), "你好 👋🏽 hello");
    assert_eq!(
        m.context_token.as_ref().unwrap().expose(),
        "AARzJWAFAAABAAAAAAB"
    );
    assert_eq!(m.item_list[0].msg_id.as_ref().unwrap().as_str(), "v1:123");
    assert!(m.item_list[0].extra.contains_key("button_item_list"));

    // Image: u64::MAX message id; key both as hex and as base64 of hex.
    let m = msgs[1];
    assert_eq!(m.message_id.unwrap().get(), u64::MAX);
    let item = &m.item_list[0];
    assert_eq!(item.msg_id.as_ref().unwrap().as_str(), "9007199254740993");
    let ItemContent::Image(image) = item.content() else {
        panic!("{item:?}")
    };
    assert_eq!(
        image.aeskey.as_ref().unwrap().expose(),
        "00112233445566778899aabbccddeeff"
    );
    let media = image.media.as_ref().unwrap();
    assert_eq!(media.encrypt_type, Some(EncryptType::PACKED));
    assert!(image.thumb_media.as_ref().unwrap().full_url.is_some());
    assert_eq!(image.mid_size, Some(48688));
    assert_eq!(
        item.media().unwrap().encrypt_query_param.as_deref(),
        Some("ZW5jcnlwdGVkX3BhcmFt")
    );

    // Voice (encode_type 4 with an unknown `size`), file, video, tool calls.
    let kinds: Vec<ItemType> = msgs[2].item_list.iter().map(|i| i.kind()).collect();
    assert_eq!(
        kinds,
        [
            ItemType::VOICE,
            ItemType::FILE,
            ItemType::VIDEO,
            ItemType::TOOL_CALL_START,
            ItemType::TOOL_CALL_RESULT,
            ItemType::TOOL_CALL_RESULT
        ]
    );
    let ItemContent::Voice(voice) = msgs[2].item_list[0].content() else {
        panic!()
    };
    assert_eq!(voice.encode_type, Some(VoiceEncodeType::SPEEX));
    assert_eq!(voice.text.as_deref(), Some("语音转文字"));
    assert_eq!(voice.extra.get("size"), Some(&json!(5120)));
    let ItemContent::File(file) = msgs[2].item_list[1].content() else {
        panic!()
    };
    assert_eq!(file.len, Some(1048576));
    assert_eq!(file.file_name.as_deref(), Some("report.pdf"));
    let ItemContent::Video(video) = msgs[2].item_list[2].content() else {
        panic!()
    };
    assert_eq!(video.video_size, Some(2097168));
    let ItemContent::ToolCallResult(result) = msgs[2].item_list[4].content() else {
        panic!()
    };
    assert_eq!(result.status, Some(ToolCallStatus::Completed));
    let ItemContent::ToolCallResult(result) = msgs[2].item_list[5].content() else {
        panic!()
    };
    assert_eq!(
        result.status,
        Some(ToolCallStatus::Other("timed_out_in_future".into()))
    );

    // Quotes: a digit-string message id, svr_id above 2^63 kept digit for
    // digit, partial_text, and a quote with only svr_id.
    let m = msgs[3];
    assert_eq!(m.message_id.unwrap().get(), 9007199254740997);
    let quote = m.item_list[0].ref_msg.as_ref().unwrap();
    assert_eq!(
        quote.svr_id.as_ref().unwrap().as_str(),
        "9223372036854775809"
    );
    assert_eq!(
        quote.partial_text.as_ref().unwrap().quotemd5.as_deref(),
        Some("5d41402abc4b2a76b9719d911017c592")
    );
    let quoted = quote.message_item.as_ref().unwrap();
    assert!(
        matches!(quoted.content(), ItemContent::Text(t) if t.text.as_deref() == Some("hello world"))
    );
    let only_id = m.item_list[1].ref_msg.as_ref().unwrap();
    assert!(only_id.message_item.is_none());
    assert!(!only_id.svr_id.as_ref().unwrap().is_numeric());

    // An unknown item type with an unknown sub-object is delivered and kept.
    let m = msgs[4];
    assert_eq!(m.item_list[0].content(), ItemContent::Unknown(ItemType(99)));
    assert!(m.item_list[0].extra.contains_key("future_item"));
    assert!(m.extra.contains_key("some_new_field"));
    assert_eq!(m.text(), "");
}

#[test]
fn getupdates_file_len_as_number_is_accepted() {
    let json =
        r#"{"msgs":[{"item_list":[{"type":4,"file_item":{"file_name":"a","len":1048576}}]}]}"#;
    let resp: GetUpdatesResponse = serde_json::from_str(json).unwrap();
    let msg = resp.messages().next().unwrap();
    let ItemContent::File(file) = msg.item_list[0].content() else {
        panic!()
    };
    assert_eq!(file.len, Some(1048576));
    // Written back the way the protocol defines it: a decimal string.
    let out = serde_json::to_value(file).unwrap();
    assert_eq!(out["len"], json!("1048576"));
}

#[test]
fn getupdates_malformed_message_keeps_batch() {
    let resp: GetUpdatesResponse = round_trip(&fixture("getupdates.malformed.json"));
    let texts: Vec<String> = resp.messages().map(|m| m.text().into_owned()).collect();
    assert_eq!(texts, ["first", "third"]);
    let bad: Vec<_> = resp.malformed().collect();
    assert_eq!(bad.len(), 2);
    assert_eq!(bad[0].value().unwrap()["message_id"], json!("not-a-number"));
    assert!(bad[0].error.contains("message id"), "{}", bad[0].error);
    assert_eq!(bad[1].value().unwrap(), json!("not even an object"));
    assert_eq!(resp.next_cursor("old"), "next-cursor");
    assert_eq!(resp.poll_timeout_hint().unwrap().as_millis(), 25000);
}

#[test]
fn getupdates_edge_shapes() {
    // Null and missing lists, empty cursor, zero or negative hint.
    let resp: GetUpdatesResponse = serde_json::from_str(
        r#"{"ret":0,"msgs":null,"get_updates_buf":"","longpolling_timeout_ms":0}"#,
    )
    .unwrap();
    assert_eq!(resp.msgs.len(), 0);
    assert_eq!(resp.next_cursor("keep"), "keep");
    assert_eq!(resp.poll_timeout_hint(), None);
    let resp: GetUpdatesResponse =
        serde_json::from_str(r#"{"longpolling_timeout_ms":-5}"#).unwrap();
    assert_eq!(resp.poll_timeout_hint(), None);
    let resp: GetUpdatesResponse = serde_json::from_str("{}").unwrap();
    assert_eq!(resp.next_cursor(""), "");
    let msg: WeixinMessage = serde_json::from_str(r#"{"item_list":null}"#).unwrap();
    assert!(msg.item_list.is_empty());
}

#[test]
fn sendmessage_fixtures() {
    for name in ["text", "image", "video", "file", "voice"] {
        let req: SendMessageRequest =
            round_trip(&fixture(&format!("sendmessage.{name}.request.json")));
        assert_eq!(req.msg.from_user_id.as_deref(), Some(""));
        assert_eq!(req.msg.item_list.len(), 1);
    }
    let resp: SendMessageResponse = round_trip(&fixture("sendmessage.response.json"));
    assert_eq!(resp.message_id.unwrap().get(), 9223372036854775899);
    assert!(resp.outcome().is_success());
    let resp: SendMessageResponse = round_trip(&fixture("sendmessage.throttled.json"));
    assert_eq!(resp.outcome(), Outcome::Throttled);
    assert_eq!(resp.errmsg(), Some("rate limited"));
}

#[test]
fn getuploadurl_fixtures() {
    let req: GetUploadUrlRequest = round_trip(&fixture("getuploadurl.request.json"));
    assert_eq!(req.media_type, Some(UploadMediaType::IMAGE));
    assert_eq!(req.no_need_thumb, Some(false));
    assert_eq!(req.thumb_filesize, Some(5312));
    assert!(!format!("{req:?}").contains("00112233445566778899aabbccddeeff"));
    let resp: GetUploadUrlResponse = round_trip(&fixture("getuploadurl.response.json"));
    assert_eq!(resp.upload_param.as_deref(), Some("dXBsb2FkX3BhcmFt"));
    assert_eq!(resp.thumb_upload_param.as_deref(), Some("dGh1bWJfcGFyYW0="));
}

#[test]
fn config_typing_notify_fixtures() {
    let req: GetConfigRequest = round_trip(&fixture("getconfig.request.json"));
    assert_eq!(req.ilink_user_id.as_deref(), Some("o9cq80_user@im.wechat"));
    let resp: GetConfigResponse = round_trip(&fixture("getconfig.response.json"));
    assert_eq!(resp.typing_ticket.as_deref(), Some("dHlwaW5nX3RpY2tldA=="));
    let req: SendTypingRequest = round_trip(&fixture("sendtyping.request.json"));
    assert_eq!(req.status, Some(TypingStatus::TYPING));
    let _: NotifyStartRequest = round_trip(&fixture("notify.request.json"));
    let _: NotifyStopRequest = round_trip(&fixture("notify.request.json"));
    let ack: AckResponse = round_trip(&fixture("ack.response.json"));
    assert!(ack.outcome().is_success());
}

#[test]
fn session_expired_classification() {
    let resp: AckResponse = round_trip(&fixture("session_expired.response.json"));
    assert_eq!(resp.outcome(), Outcome::SessionExpired);
    let resp: GetUpdatesResponse = serde_json::from_str(r#"{"errcode":-14}"#).unwrap();
    assert_eq!(resp.outcome(), Outcome::SessionExpired);
    let resp: GetUpdatesResponse = serde_json::from_str(r#"{"ret":1,"errcode":-3}"#).unwrap();
    assert_eq!(resp.outcome(), Outcome::Failed(ErrorCode(1)));
    let resp: GetUpdatesResponse = serde_json::from_str(r#"{"ret":0,"errcode":-3}"#).unwrap();
    assert_eq!(resp.outcome(), Outcome::Failed(ErrorCode(-3)));
}

#[test]
fn message_id_as_digit_string_is_written_as_number() {
    let json = r#"{"message_id":"18446744073709551615","item_list":[]}"#;
    let msg: WeixinMessage = serde_json::from_str(json).unwrap();
    assert_eq!(msg.message_id.unwrap().get(), u64::MAX);
    assert_eq!(
        serde_json::to_string(&msg).unwrap(),
        r#"{"message_id":18446744073709551615}"#
    );
}

/// A malformed batch element's `Debug` leaves the element out: it may hold
/// a context token or a key.
#[test]
fn a_malformed_update_does_not_print_its_raw_element() {
    let m = ilink_proto::MalformedUpdate::new(
        serde_json::json!({"context_token": "SECRET-CTX", "message_id": "x"}),
        "invalid type",
    );
    let shown = format!("{m:?}");
    assert!(!shown.contains("SECRET"), "{shown}");
    assert!(shown.contains("invalid type"), "{shown}");
}

/// One hostile element (a quote nested 200 deep, past `serde_json`'s
/// recursion limit; a type-confused item) costs only itself: the ordinary
/// messages around it and the cursor decode.
#[test]
fn a_deeply_nested_or_type_confused_element_is_one_malformed_update() {
    let mut deep = String::from(r#"{"type":1,"text_item":{"text":"bottom"}}"#);
    for _ in 0..200 {
        deep = format!(r#"{{"type":1,"ref_msg":{{"message_item":{deep}}}}}"#);
    }
    let body = format!(
        r#"{{"ret":0,"msgs":[
            {{"message_id":1,"from_user_id":"a@im.wechat","item_list":[{{"type":1,"text_item":{{"text":"one"}}}}]}},
            {{"message_id":2,"from_user_id":"evil@im.wechat","item_list":[{deep}]}},
            {{"message_id":3,"from_user_id":"b@im.wechat","item_list":[{{"type":1,"text_item":{{"text":"three"}}}}]}},
            {{"message_id":4,"from_user_id":"evil@im.wechat","item_list":{{"type":"text"}}}},
            {{"message_id":5,"from_user_id":"c@im.wechat","item_list":[{{"type":1,"text_item":{{"text":"five"}}}}]}}
        ],"get_updates_buf":"next"}}"#
    );
    let resp: GetUpdatesResponse = serde_json::from_str(&body).unwrap();
    let texts: Vec<String> = resp.messages().map(|m| m.text().into_owned()).collect();
    assert_eq!(texts, ["one", "three", "five"]);
    let bad: Vec<_> = resp.malformed().collect();
    assert_eq!(bad.len(), 2);
    assert!(bad[0].error.contains("recursion"), "{}", bad[0].error);
    assert!(
        bad[0].raw.get().contains("bottom"),
        "the raw bytes are kept"
    );
    assert!(bad[0].value().is_none());
    assert_eq!(resp.next_cursor("old"), "next");
}
