use std::time::Duration;

use ilink::Retry;
use ilink_testkit::{Fault, FaultKind, Inbound, RateLimit, Route, Simulator};

use crate::common::{WAIT, builder, client, credentials, memory, sim, transport};

#[tokio::test]
async fn send_text_uses_the_cached_context_token_and_returns_ids() {
    let sim = sim().await;
    let bot = sim.create_account();
    let client = client(&sim, &bot, memory());
    let pushed = sim.push(&bot.bot_id, Inbound::text("alice@im.wechat", "hi"));
    let mut poller = client.poller().await.unwrap();
    let batch = poller.next_batch().await.unwrap();
    poller.ack(&batch.messages[0]).await.unwrap();
    let sent = client.send_text("alice@im.wechat", "hello").await.unwrap();
    assert_eq!(sent.len(), 1);
    let at_sim = sim.wait_for_sent(1, WAIT).await.unwrap();
    assert_eq!(sent[0].message_id, Some(at_sim[0].message_id));
    assert_eq!(
        at_sim[0].msg.client_id.as_deref(),
        Some(sent[0].client_id.as_str())
    );
    assert_eq!(
        at_sim[0].msg.context_token.as_ref().unwrap().expose(),
        pushed.context_token
    );
    assert!(sent[0].client_id.starts_with("ilink:"));
}

#[tokio::test]
async fn long_text_goes_out_in_order_as_several_messages() {
    let sim = sim().await;
    let bot = sim.create_account();
    let client = client(&sim, &bot, memory());
    let text: String = (0..50)
        .map(|i| format!("Paragraph {i} says something.\n\n"))
        .collect();
    let sent = client
        .send_text("alice@im.wechat", text.clone())
        .chunk_chars(200)
        .await
        .unwrap();
    assert!(sent.len() > 1);
    let at_sim = sim.wait_for_sent(sent.len(), WAIT).await.unwrap();
    let joined: String = at_sim.iter().map(|m| m.text()).collect();
    assert_eq!(joined, text);
    let ids: std::collections::HashSet<_> =
        at_sim.iter().map(|m| m.msg.client_id.clone()).collect();
    assert_eq!(ids.len(), sent.len(), "each chunk its own client_id");
}

#[tokio::test]
async fn a_timeout_after_the_server_stored_the_message_is_retried_once_safely() {
    let sim = sim().await;
    let bot = sim.create_account();
    let client = builder(&sim)
        .transport(transport(&sim).api_timeout(Duration::from_millis(200)))
        .build()
        .unwrap()
        .bot_with(&credentials(&bot));
    sim.inject(Fault::new(
        Route::SendMessage,
        FaultKind::SlowAfterEffect {
            delay: Duration::from_millis(600),
        },
        1,
    ));
    let sent = client.send_text("alice@im.wechat", "once").await.unwrap();
    assert_eq!(sent.len(), 1);
    assert_eq!(sim.sent().len(), 1, "stored once");
    assert_eq!(
        sim.dropped_duplicates().len(),
        1,
        "the retry carried the same client_id"
    );
    assert_eq!(sim.count(Route::SendMessage), 2);
}

#[tokio::test]
async fn an_account_rate_limit_holds_sends_in_the_outbox_and_none_goes_out_during_it() {
    let sim = Simulator::builder()
        .rate_limit(RateLimit::reported(Duration::from_secs(30)))
        .start()
        .await
        .unwrap();
    let bot = sim.create_account();
    let client = builder(&sim)
        .throttle_cooldown(Duration::from_secs(30))
        .send_retry(Retry::new(Duration::from_millis(1), Duration::from_millis(1)).with_attempts(3))
        .build()
        .unwrap()
        .bot_with(&credentials(&bot));
    // A burst of 4 without pacing trips the simulated limit on the 4th; its
    // errmsg says the limit is the account's.
    let mut results = Vec::new();
    for i in 0..8 {
        results.push(
            client
                .send_text("alice@im.wechat", format!("m{i}"))
                .await
                .unwrap(),
        );
    }
    let delivered = results.iter().filter(|r| r[0].is_delivered()).count();
    assert_eq!(delivered, 3);
    for r in &results[3..] {
        let why = r[0].waiting.as_ref().expect("waits in the outbox");
        assert!(why.is_throttled(), "{}", why.report());
    }
    assert_eq!(
        sim.count(Route::SendMessage),
        4,
        "nothing sent after the throttle"
    );
    assert_eq!(sim.sends_during_penalty(&bot.bot_id), 0);
    assert!(client.throttled_for().unwrap() > Duration::from_secs(20));
    // Five wait, in order, for the cooldown.
    let queued = client.client().store().outbox(client.id()).await.unwrap();
    let ids: Vec<&str> = queued.iter().map(|e| e.client_id.as_str()).collect();
    let expected: Vec<&str> = results[3..]
        .iter()
        .map(|r| r[0].client_id.as_str())
        .collect();
    assert_eq!(ids, expected);
}

#[tokio::test]
async fn retryable_send_failures_are_retried_with_the_same_client_id() {
    let sim = sim().await;
    let bot = sim.create_account();
    let client = client(&sim, &bot, memory());
    sim.inject(Fault::new(Route::SendMessage, FaultKind::Status500, 1));
    sim.inject(Fault::new(
        Route::SendMessage,
        FaultKind::ConnectionReset,
        1,
    ));
    client.send_text("alice@im.wechat", "x").await.unwrap();
    let reqs = sim.requests_to(Route::SendMessage);
    assert_eq!(reqs.len(), 3);
    let ids: Vec<_> = reqs
        .iter()
        .map(|r| r.body.as_ref().unwrap()["msg"]["client_id"].clone())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "{ids:?}");
    // A refusal is not retried.
    sim.inject(Fault::new(Route::SendMessage, FaultKind::SessionExpired, 1));
    let err = client.send_text("alice@im.wechat", "y").await.unwrap_err();
    assert!(err.is_session_expired());
    assert_eq!(sim.count(Route::SendMessage), 4);
    assert!(
        client
            .client()
            .store()
            .outbox(client.id())
            .await
            .unwrap()
            .is_empty(),
        "a message that failed left the outbox"
    );
}

#[tokio::test]
async fn typing_is_kept_alive_and_cancelled() {
    let sim = sim().await;
    let bot = sim.create_account();
    let client = client(&sim, &bot, memory());
    sim.push(&bot.bot_id, Inbound::text("alice@im.wechat", "hi"));
    let typing = client.typing("alice@im.wechat").await;
    assert!(typing.is_active());
    sim.wait_for_typing(1, WAIT).await.unwrap();
    typing.finish().await;
    let calls: Vec<i32> = sim.typing_calls().iter().map(|c| c.status).collect();
    assert_eq!(calls.first(), Some(&1));
    assert_eq!(calls.last(), Some(&2));
    // The ticket is cached: a second indicator needs no getconfig.
    let typing = client.typing("alice@im.wechat").await;
    drop(typing);
    sim.wait_for_typing(calls.len() + 2, WAIT).await.unwrap();
    assert_eq!(sim.count(Route::GetConfig), 1);
}

#[tokio::test]
async fn a_user_id_in_another_case_reaches_the_same_conversation() {
    // WeChat ids come mixed-case; an application that lower-cases them must
    // still send with the user's context token, to the id the server gave,
    // and count against the same budget (Tencent/openclaw-weixin#243).
    let sim = Simulator::builder().reply_quota(2).start().await.unwrap();
    let bot = sim.create_account();
    let client = client(&sim, &bot, memory());
    let user = "o9cq80xD9Zn1jX9Ilpg1HXYSnyW4@im.wechat";
    let pushed = sim.push(&bot.bot_id, Inbound::text(user, "hi"));
    let mut poller = client.poller().await.unwrap();
    let batch = poller.next_batch().await.unwrap();
    poller.ack(&batch.messages[0]).await.unwrap();

    let lower = user.to_ascii_lowercase();
    assert_eq!(
        client
            .context_token(lower.as_str())
            .await
            .unwrap()
            .map(|t| t.expose().to_owned()),
        Some(pushed.context_token.clone())
    );
    client.send_text(lower.as_str(), "one").await.unwrap();
    client
        .send_text(user.to_ascii_uppercase(), "two")
        .await
        .unwrap();
    let at_sim = sim.wait_for_sent(2, WAIT).await.unwrap();
    for sent in &at_sim {
        assert_eq!(sent.msg.to_user_id.as_deref(), Some(user));
        assert_eq!(
            sent.msg.context_token.as_ref().unwrap().expose(),
            pushed.context_token
        );
    }
    // Typing for the id in another case asks getconfig for the server's
    // id, with the context token found for it.
    client.typing(lower.as_str()).await.finish().await;
    let asked = sim.requests_to(Route::GetConfig);
    let body = asked.last().unwrap().body.as_ref().unwrap();
    assert_eq!(body["ilink_user_id"], user);
    assert_eq!(body["context_token"], pushed.context_token.as_str());
    // The budget of 2 is the conversation's, whatever the id's case.
    let third = client.send_text(lower.as_str(), "three").await.unwrap_err();
    assert!(third.is_conversation_closed(), "{third}");
    assert_eq!(sim.sent().len(), 2);
    // An id that differs in more than case is somebody else.
    assert_eq!(
        client
            .context_token("o9cq80xD9Zn1jX9Ilpg1HXYSnyW5@im.wechat")
            .await
            .unwrap(),
        None
    );
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());
}

#[tokio::test]
async fn a_fresh_binding_turns_typing_off_for_that_user_only() {
    let sim = sim().await;
    let bot = sim.create_account();
    let client = client(&sim, &bot, memory());
    sim.push(&bot.bot_id, Inbound::text("alice@im.wechat", "hi"));
    sim.push(&bot.bot_id, Inbound::text("bob@im.wechat", "hi"));
    assert!(sim.set_fresh_binding(&bot.bot_id, "alice@im.wechat", true));

    let typing = client.typing("alice@im.wechat").await;
    assert!(!typing.is_active(), "no ticket, no indicator, no error");
    drop(typing);
    let err = client
        .send_typing("alice@im.wechat", ilink::proto::TypingStatus::TYPING)
        .await
        .unwrap_err();
    assert!(matches!(err, ilink::Error::NoTypingTicket { .. }), "{err}");
    // Asked once: typing stays off for that user without asking again.
    assert_eq!(sim.count(Route::GetConfig), 1);

    let typing = client.typing("bob@im.wechat").await;
    assert!(typing.is_active(), "another user is not affected");
    typing.finish().await;
    assert_eq!(sim.count(Route::GetConfig), 2);
    assert!(
        sim.typing_calls()
            .iter()
            .all(|c| c.user_id == "bob@im.wechat")
    );
}
