use ilink_proto::consts::{headers, paths, timeouts};
use ilink_proto::{
    BaseInfo, BotToken, CallClass, Endpoint, GetBotQrcodeRequest, GetConfigRequest,
    GetQrcodeStatusRequest, GetUpdatesRequest, GetUploadUrlRequest, HeaderSet, Method,
    NotifyStartRequest, NotifyStopRequest, SendMessageRequest, SendTypingRequest,
};

fn describe<E: Endpoint>() -> (Method, &'static str, CallClass, HeaderSet) {
    (E::METHOD, E::PATH, E::CLASS, E::HEADERS)
}

#[test]
fn every_endpoint_is_described() {
    use CallClass::*;
    use HeaderSet::*;
    use Method::*;
    assert_eq!(
        describe::<GetBotQrcodeRequest>(),
        (Post, paths::GET_BOT_QRCODE, Login, PostWithoutToken)
    );
    assert_eq!(
        describe::<GetQrcodeStatusRequest>(),
        (Get, paths::GET_QRCODE_STATUS, LongPoll, AppOnly)
    );
    assert_eq!(
        describe::<GetUpdatesRequest>(),
        (Post, "ilink/bot/getupdates", LongPoll, PostWithToken)
    );
    assert_eq!(
        describe::<SendMessageRequest>(),
        (Post, "ilink/bot/sendmessage", Api, PostWithToken)
    );
    assert_eq!(
        describe::<GetUploadUrlRequest>(),
        (Post, "ilink/bot/getuploadurl", Api, PostWithToken)
    );
    assert_eq!(
        describe::<GetConfigRequest>(),
        (Post, "ilink/bot/getconfig", Config, PostWithToken)
    );
    assert_eq!(
        describe::<SendTypingRequest>(),
        (Post, "ilink/bot/sendtyping", Config, PostWithToken)
    );
    assert_eq!(
        describe::<NotifyStartRequest>(),
        (Post, "ilink/bot/msg/notifystart", Config, PostWithToken)
    );
    assert_eq!(
        describe::<NotifyStopRequest>(),
        (Post, "ilink/bot/msg/notifystop", Config, PostWithToken)
    );
    assert_eq!(LongPoll.default_timeout(), Some(timeouts::LONG_POLL));
    assert_eq!(Api.default_timeout().unwrap().as_secs(), 15);
    assert_eq!(Config.default_timeout().unwrap().as_secs(), 10);
    assert_eq!(Login.default_timeout(), None);
    assert_eq!(headers::WECHAT_UIN, "X-WECHAT-UIN");
}

#[test]
fn queries() {
    let req = GetBotQrcodeRequest::new((0..12).map(|i| BotToken::new(format!("t{i}"))).collect());
    assert_eq!(req.local_token_list.len(), 10, "at most 10 local tokens");
    assert_eq!(req.query(), [("bot_type", "3")]);
    let poll = GetQrcodeStatusRequest::new("q r").with_verify_code("1234");
    assert_eq!(poll.query(), [("qrcode", "q r"), ("verify_code", "1234")]);
    let url = ilink_proto::with_query(
        ilink_proto::join_url("http://127.0.0.1:1/", GetQrcodeStatusRequest::PATH),
        &poll.query(),
    );
    assert_eq!(
        url,
        "http://127.0.0.1:1/ilink/bot/get_qrcode_status?qrcode=q%20r&verify_code=1234"
    );
}

#[test]
fn base_info_only_where_it_belongs() {
    let info = BaseInfo::new("1.0.0", "x/1");
    let mut qr = GetBotQrcodeRequest::default();
    qr.set_base_info(info.clone());
    assert_eq!(
        serde_json::to_value(&qr).unwrap(),
        serde_json::json!({"local_token_list": []})
    );
    let mut start = NotifyStartRequest::new();
    start.set_base_info(info);
    assert_eq!(
        serde_json::to_value(&start).unwrap(),
        serde_json::json!({"base_info": {"channel_version": "1.0.0", "bot_agent": "x/1"}})
    );
}
