use std::time::{Duration, Instant};

use ilink_testkit::{Inbound, PartialQuote, Quote, Simulator};
use serde_json::{Value, json};

use crate::raw::Raw;

async fn poll(raw: &Raw, token: &str, cursor: &str) -> Value {
    raw.post(
        "ilink/bot/getupdates",
        Some(token),
        json!({"get_updates_buf": cursor}),
    )
    .await
    .json()
}

#[tokio::test]
async fn a_held_poll_wakes_on_push_and_times_out_empty() {
    let sim = Simulator::builder()
        .hold(Duration::from_millis(300))
        .start()
        .await
        .unwrap();
    let bot = sim.create_account();
    let raw = Raw::new(sim.api_url());
    // Nothing queued: held for the hold time, then an empty batch.
    let t = Instant::now();
    let empty = poll(&raw, &bot.token, "").await;
    assert!(t.elapsed() >= Duration::from_millis(250));
    assert_eq!(empty["msgs"], json!([]));
    assert_eq!(empty["longpolling_timeout_ms"], 300);

    // A push wakes the held poll at once.
    let sim = Simulator::builder()
        .hold(Duration::from_secs(30))
        .start()
        .await
        .unwrap();
    let bot = sim.create_account();
    let raw = Raw::new(sim.api_url());
    let token = bot.token.clone();
    let held = tokio::spawn(async move { poll(&raw, &token, "").await });
    sim.wait_until("a held poll", Duration::from_secs(5), |s| {
        s.held_polls() == 1
    })
    .await
    .unwrap();
    let pushed = sim.push(&bot.bot_id, Inbound::text("alice@im.wechat", "hi"));
    let batch = tokio::time::timeout(Duration::from_secs(5), held)
        .await
        .unwrap()
        .unwrap();
    let msg = &batch["msgs"][0];
    assert_eq!(msg["item_list"][0]["text_item"]["text"], "hi");
    assert_eq!(msg["context_token"], json!(pushed.context_token));
    assert!(pushed.message_id.get() > 1 << 53);
    // The id is a bare JSON number above 2^53.
    assert_eq!(msg["message_id"].as_u64(), Some(pushed.message_id.get()));
    assert!(!batch["get_updates_buf"].as_str().unwrap().is_empty());
}

#[tokio::test]
async fn no_replay_by_default_and_replay_when_asked() {
    for replay in [false, true] {
        let sim = Simulator::builder()
            .hold(Duration::from_millis(100))
            .replay_on_old_cursor(replay)
            .start()
            .await
            .unwrap();
        let bot = sim.create_account();
        let raw = Raw::new(sim.api_url());
        sim.push(&bot.bot_id, Inbound::text("a@im.wechat", "one"));
        let first = poll(&raw, &bot.token, "").await;
        assert_eq!(first["msgs"].as_array().unwrap().len(), 1);
        // Poll again with the old (empty) cursor.
        let again = poll(&raw, &bot.token, "").await;
        let n = again["msgs"].as_array().unwrap().len();
        assert_eq!(n, usize::from(replay), "replay={replay}");
    }
}

#[tokio::test]
async fn every_kind_of_inbound_message_decodes() {
    let sim = Simulator::builder()
        .hold(Duration::from_millis(100))
        .start()
        .await
        .unwrap();
    let bot = sim.create_account();
    let raw = Raw::new(sim.api_url());
    let from = "alice@im.wechat";
    sim.push(&bot.bot_id, Inbound::text(from, "t"));
    sim.push(&bot.bot_id, Inbound::image(from, vec![7; 100]));
    sim.push(
        &bot.bot_id,
        Inbound::voice(from, vec![1; 50], Some("transcript")),
    );
    sim.push(
        &bot.bot_id,
        Inbound::file(from, "../../etc/passwd", vec![2; 20]).len_as_number(),
    );
    sim.push(&bot.bot_id, Inbound::video(from, vec![3; 40]));
    sim.push(
        &bot.bot_id,
        Inbound::text(from, "quoting").quote(
            Quote::of(u64::MAX - 1)
                .with_text("earlier")
                .with_title("t")
                .with_partial(PartialQuote::new("ear", 0, "ier", 0).with_md5_of("earlier")),
        ),
    );
    sim.push(
        &bot.bot_id,
        Inbound::unknown_item(from, 99, "future_item", json!({"x": 1})),
    );
    sim.push(&bot.bot_id, Inbound::text(from, "twice").duplicated());
    let batch = poll(&raw, &bot.token, "").await;
    let resp: ilink_proto::GetUpdatesResponse = serde_json::from_value(batch).unwrap();
    assert_eq!(resp.malformed().count(), 0);
    let msgs: Vec<_> = resp.messages().collect();
    assert_eq!(msgs.len(), 9);
    let kinds: Vec<i32> = msgs.iter().map(|m| m.item_list[0].kind().0).collect();
    assert_eq!(kinds, [1, 2, 3, 4, 5, 1, 99, 1, 1]);
    assert_eq!(
        msgs[7].message_id, msgs[8].message_id,
        "a duplicate delivery"
    );
    let quote = msgs[5].item_list[0].ref_msg.as_ref().unwrap();
    assert_eq!(
        quote.svr_id.as_ref().unwrap().as_str(),
        (u64::MAX - 1).to_string()
    );
    let partial = serde_json::to_value(quote.partial_text.as_ref().unwrap()).unwrap();
    assert_eq!(
        partial,
        json!({"start": "ear", "startindex": 0, "end": "ier", "endindex": 0,
               "quotemd5": ilink_crypto::md5(b"earlier").to_hex()})
    );
}

#[tokio::test]
async fn expiring_a_session_ends_a_held_poll_with_minus_14() {
    let sim = Simulator::builder()
        .hold(Duration::from_secs(30))
        .start()
        .await
        .unwrap();
    let bot = sim.create_account();
    let raw = Raw::new(sim.api_url());
    let token = bot.token.clone();
    let held = tokio::spawn(async move { poll(&raw, &token, "").await });
    sim.wait_until("a held poll", Duration::from_secs(5), |s| {
        s.held_polls() == 1
    })
    .await
    .unwrap();
    sim.expire_session(&bot.bot_id);
    let answer = tokio::time::timeout(Duration::from_secs(5), held)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(answer["errcode"], -14);
    let raw = Raw::new(sim.api_url());
    assert_eq!(poll(&raw, "unknown-token", "").await["ret"], -14);
}

#[tokio::test]
async fn many_held_polls_at_once() {
    let sim = Simulator::builder()
        .hold(Duration::from_secs(30))
        .start()
        .await
        .unwrap();
    let raw = std::sync::Arc::new(Raw::new(sim.api_url()));
    let mut tasks = Vec::new();
    let mut bots = Vec::new();
    for _ in 0..200 {
        let bot = sim.create_account();
        let raw = raw.clone();
        let token = bot.token.clone();
        tasks.push(tokio::spawn(async move { poll(&raw, &token, "").await }));
        bots.push(bot);
    }
    sim.wait_until("200 held polls", Duration::from_secs(10), |s| {
        s.held_polls() == 200
    })
    .await
    .unwrap();
    for bot in &bots {
        sim.push(&bot.bot_id, Inbound::text("a@im.wechat", "x"));
    }
    for t in tasks {
        let batch = tokio::time::timeout(Duration::from_secs(10), t)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(batch["msgs"].as_array().unwrap().len(), 1);
    }
}
