//! Any bytes as the answer to any endpoint: every response type decodes or
//! fails without a panic, what decodes re-encodes to the same outcome, and
//! the in-band outcome is classified (what the transport does with each
//! answer after hyper has framed it).
#![no_main]

use ilink_proto::{
    AckResponse, ApiResponse, GetBotQrcodeResponse, GetConfigResponse, GetQrcodeStatusResponse,
    GetUpdatesResponse, GetUploadUrlResponse, SendMessageResponse,
};
use libfuzzer_sys::fuzz_target;
use serde::Serialize;
use serde::de::DeserializeOwned;

fn check<R: ApiResponse + DeserializeOwned + Serialize>(data: &[u8]) {
    let Ok(resp) = serde_json::from_slice::<R>(data) else {
        return;
    };
    let outcome = resp.outcome();
    let again = serde_json::to_vec(&resp).expect("a decoded response encodes");
    let back: R = serde_json::from_slice(&again).expect("re-decodes");
    assert_eq!(back.outcome(), outcome);
    assert_eq!(back.ret(), resp.ret());
    assert_eq!(back.errcode(), resp.errcode());
    let _ = resp.errmsg();
}

fuzz_target!(|data: &[u8]| {
    check::<GetUpdatesResponse>(data);
    check::<SendMessageResponse>(data);
    check::<GetUploadUrlResponse>(data);
    check::<GetConfigResponse>(data);
    check::<AckResponse>(data);
    check::<GetBotQrcodeResponse>(data);
    check::<GetQrcodeStatusResponse>(data);
});
