use std::time::Duration;

use ilink_testkit::{Inbound, RateLimit, Simulator};
use serde_json::json;

use crate::raw::{Raw, outbound, text_item};

#[tokio::test]
async fn a_valid_reply_is_accepted_with_a_big_bare_message_id() {
    let sim = Simulator::start().await.unwrap();
    let bot = sim.create_account();
    let pushed = sim.push(&bot.bot_id, Inbound::text("alice@im.wechat", "hi"));
    let raw = Raw::new(sim.api_url());
    let a = raw
        .post(
            "ilink/bot/sendmessage",
            Some(&bot.token),
            outbound(
                "alice@im.wechat",
                "c1",
                Some(&pushed.context_token),
                text_item("hello"),
            ),
        )
        .await;
    let id_text = a.text.split("\"message_id\":").nth(1).unwrap();
    assert!(
        id_text.starts_with(|c: char| c.is_ascii_digit()),
        "bare number: {}",
        a.text
    );
    assert!(a.json()["message_id"].as_u64().unwrap() > 1 << 53);
    let sent = sim.wait_for_sent(1, Duration::from_secs(5)).await.unwrap();
    assert_eq!(sent[0].text(), "hello");
    assert!(sent[0].in_conversation);
    assert!(
        sent[0].rendering_problems.is_empty(),
        "{:?}",
        sent[0].rendering_problems
    );
    assert!(sim.violations().is_empty());
}

#[tokio::test]
async fn validation_refuses_what_the_server_refuses() {
    let sim = Simulator::start().await.unwrap();
    let bot = sim.create_account();
    let pushed = sim.push(&bot.bot_id, Inbound::text("alice@im.wechat", "hi"));
    let raw = Raw::new(sim.api_url());
    let send = |body| raw.post("ilink/bot/sendmessage", Some(&bot.token), body);

    let mut bad_from = outbound("alice@im.wechat", "c1", None, text_item("x"));
    bad_from["msg"]["from_user_id"] = json!(bot.bot_id);
    assert_eq!(send(bad_from).await.json()["ret"], -1);
    let no_client_id = outbound("alice@im.wechat", "", None, text_item("x"));
    assert_eq!(send(no_client_id).await.json()["ret"], -1);
    let mut wrong_type = outbound("alice@im.wechat", "c2", None, text_item("x"));
    wrong_type["msg"]["message_type"] = json!(1);
    assert_eq!(send(wrong_type).await.json()["ret"], -1);
    // A context token issued to someone else.
    let other = outbound(
        "bob@im.wechat",
        "c3",
        Some(&pushed.context_token),
        text_item("x"),
    );
    // The real server answers a bare -2; the simulator records the misuse.
    let refused = send(other).await.json();
    assert_eq!(refused, serde_json::json!({"ret": -2}));
    assert_eq!(sim.violations().len(), 4);
    assert!(sim.sent().is_empty());

    // Without a context token: accepted, but flagged.
    let ok = send(outbound("alice@im.wechat", "c4", None, text_item("x")))
        .await
        .json();
    assert_eq!(ok["ret"], 0);
    assert!(!sim.sent()[0].in_conversation);

    // A repeated client_id is dropped silently, with the same message id.
    let again = send(outbound("alice@im.wechat", "c4", None, text_item("x")))
        .await
        .json();
    assert_eq!(again["message_id"], ok["message_id"]);
    assert_eq!(sim.sent().len(), 1);
    assert_eq!(sim.dropped_duplicates().len(), 1);
}

#[tokio::test]
async fn rate_limit_and_reply_quota() {
    let sim = Simulator::builder()
        .rate_limit(RateLimit::reported(Duration::from_secs(60)))
        .start()
        .await
        .unwrap();
    let bot = sim.create_account();
    let raw = Raw::new(sim.api_url());
    let mut rets = Vec::new();
    for i in 0..6 {
        let body = outbound("alice@im.wechat", &format!("r{i}"), None, text_item("x"));
        rets.push(
            raw.post("ilink/bot/sendmessage", Some(&bot.token), body)
                .await
                .json()["ret"]
                .clone(),
        );
    }
    assert_eq!(
        rets,
        [
            json!(0),
            json!(0),
            json!(0),
            json!(-2),
            json!(-2),
            json!(-2)
        ]
    );
    assert_eq!(sim.sends_during_penalty(&bot.bot_id), 2);

    let sim = Simulator::builder().reply_quota(2).start().await.unwrap();
    let bot = sim.create_account();
    let pushed = sim.push(&bot.bot_id, Inbound::text("alice@im.wechat", "hi"));
    let raw = Raw::new(sim.api_url());
    let mut rets = Vec::new();
    for i in 0..3 {
        let body = outbound(
            "alice@im.wechat",
            &format!("q{i}"),
            Some(&pushed.context_token),
            text_item("x"),
        );
        rets.push(
            raw.post("ilink/bot/sendmessage", Some(&bot.token), body)
                .await
                .json()["ret"]
                .clone(),
        );
    }
    assert_eq!(rets, [json!(0), json!(0), json!(-2)]);
}

#[tokio::test]
async fn typing_config_and_notify() {
    let sim = Simulator::start().await.unwrap();
    let bot = sim.create_account();
    let raw = Raw::new(sim.api_url());
    let config = raw
        .post(
            "ilink/bot/getconfig",
            Some(&bot.token),
            json!({"ilink_user_id": "alice@im.wechat"}),
        )
        .await
        .json();
    assert_eq!(
        config["ret"], 0,
        "the official client needs an explicit ret 0"
    );
    let ticket = config["typing_ticket"].as_str().unwrap();
    let typing = |status, ticket: &str| {
        raw.post(
            "ilink/bot/sendtyping",
            Some(&bot.token),
            json!({"ilink_user_id": "alice@im.wechat", "typing_ticket": ticket, "status": status}),
        )
    };
    assert_eq!(typing(1, ticket).await.json()["ret"], 0);
    assert_eq!(typing(2, ticket).await.json()["ret"], 0);
    assert_eq!(typing(1, "forged").await.json()["ret"], -1);
    let calls = sim.typing_calls();
    assert_eq!(calls.iter().map(|c| c.status).collect::<Vec<_>>(), [1, 2]);
    raw.post("ilink/bot/msg/notifystart", Some(&bot.token), json!({}))
        .await;
    raw.post("ilink/bot/msg/notifystop", Some(&bot.token), json!({}))
        .await;
    let notes: Vec<bool> = sim.notify_calls().iter().map(|n| n.start).collect();
    assert_eq!(notes, [true, false]);
}

#[tokio::test]
async fn header_and_base_info_violations_are_refused() {
    let sim = Simulator::start().await.unwrap();
    let bot = sim.create_account();
    let raw = Raw::new(sim.api_url());
    // No base_info.
    let a = raw
        .post_exact("ilink/bot/msg/notifystart", Some(&bot.token), &json!({}))
        .await
        .unwrap();
    assert_eq!(a.status, 400);
    // base_info on get_bot_qrcode.
    let a = raw
        .post_exact(
            "ilink/bot/get_bot_qrcode?bot_type=3",
            None,
            &json!({"base_info": {}}),
        )
        .await
        .unwrap();
    assert_eq!(a.status, 400);
    assert_eq!(sim.violations().len(), 2);
    let lenient = Simulator::builder().strict(false).start().await.unwrap();
    let bot = lenient.create_account();
    let raw = Raw::new(lenient.api_url());
    let a = raw
        .post_exact("ilink/bot/msg/notifystart", Some(&bot.token), &json!({}))
        .await
        .unwrap();
    assert_eq!(a.status, 200);
    assert_eq!(lenient.violations().len(), 1);
}
