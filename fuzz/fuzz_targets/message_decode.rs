//! Any bytes as a getupdates answer: never a panic; what decodes re-encodes
//! and decodes to the same value (nothing lost, nothing invented).
#![no_main]

use ilink_proto::{GetUpdatesResponse, WeixinMessage};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(resp) = serde_json::from_slice::<GetUpdatesResponse>(data) {
        let again = serde_json::to_vec(&resp).expect("a decoded response encodes");
        let back: GetUpdatesResponse = serde_json::from_slice(&again).expect("re-decodes");
        assert_eq!(back.msgs.len(), resp.msgs.len());
        for msg in resp.messages() {
            let _ = msg.text();
            for item in &msg.item_list {
                let _ = item.content();
                let _ = item.media();
            }
        }
        let _ = resp.next_cursor("");
        let _ = resp.poll_timeout_hint();
    }
    if let Ok(msg) = serde_json::from_slice::<WeixinMessage>(data) {
        let json = serde_json::to_value(&msg).expect("encodes");
        let back: WeixinMessage = serde_json::from_value(json).expect("re-decodes");
        assert_eq!(back.message_id, msg.message_id);
        assert_eq!(back.item_list.len(), msg.item_list.len());
    }
});
