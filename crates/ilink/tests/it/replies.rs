//! Reply governance and the outbox against the simulator: each kind of
//! refusal at its own scope, replies that survive a crash with their ids.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ilink::proto::{MessageItem, WeixinMessage};
use ilink::store::{OutboxEntry, Refusal, ReplyLimits};
use ilink::{Context, Error, RunEvent, handler_fn};
use ilink_testkit::{Fault, FaultKind, Inbound, RateLimit, Route, Simulator};

use crate::common::{WAIT, builder, client, credentials, memory, receive, sim};

fn refusal(err: &Error) -> Refusal {
    match err {
        Error::ConversationClosed { refusal, .. } => *refusal,
        other => panic!("expected ConversationClosed, got {}", other.report()),
    }
}

#[tokio::test]
async fn a_refusal_in_one_conversation_never_holds_up_another() {
    // The server allows 2 replies per user message; the client's own count
    // allows 10, so the third reply to alice reaches the server and comes
    // back as a bare ret -2, as a stale token or the real budget would.
    let sim = Simulator::builder()
        .hold(Duration::from_millis(400))
        .reply_quota(2)
        .start()
        .await
        .unwrap();
    let bot = sim.create_account();
    let client = client(&sim, &bot, memory());
    sim.push(&bot.bot_id, Inbound::text("alice@im.wechat", "hi"));
    sim.push(&bot.bot_id, Inbound::text("bob@im.wechat", "hello"));
    receive(&client, 2).await;
    for i in 0..2 {
        let sent = client
            .send_text("alice@im.wechat", format!("a{i}"))
            .await
            .unwrap();
        assert!(sent[0].is_delivered());
    }
    let err = client.send_text("alice@im.wechat", "a2").await.unwrap_err();
    assert_eq!(refusal(&err), Refusal::Closed);
    assert_eq!(sim.conversation_refusals(&bot.bot_id), (0, 1));
    // Bob is not held up: no cooldown, his reply goes at once.
    assert_eq!(client.throttled_for(), None);
    let sent = client.send_text("bob@im.wechat", "b0").await.unwrap();
    assert!(sent[0].is_delivered());
    // Alice's conversation stays closed, locally: nothing reaches the server.
    let before = sim.count(Route::SendMessage);
    let err = client.send_text("alice@im.wechat", "a3").await.unwrap_err();
    assert_eq!(refusal(&err), Refusal::Closed);
    assert_eq!(sim.count(Route::SendMessage), before);
    let budget = client.reply_budget("alice@im.wechat").await.unwrap();
    assert_eq!(budget.closed, Some(Refusal::Closed));
    // She writes again: the conversation opens.
    sim.push(
        &bot.bot_id,
        Inbound::text("alice@im.wechat", "still there?"),
    );
    receive(&client, 1).await;
    let sent = client.send_text("alice@im.wechat", "yes").await.unwrap();
    assert!(sent[0].is_delivered());
    assert!(outbox_is_empty(&client).await);
}

#[tokio::test]
async fn the_budget_is_applied_before_the_server_and_long_text_is_refused_up_front() {
    let sim = sim().await;
    let bot = sim.create_account();
    let client = builder(&sim)
        .reply_limits(ReplyLimits::new(Some(3), None))
        .shared_store(memory())
        .build()
        .unwrap()
        .bot_with(&credentials(&bot));
    sim.push(&bot.bot_id, Inbound::text("alice@im.wechat", "hi"));
    receive(&client, 1).await;
    client.send_text("alice@im.wechat", "one").await.unwrap();
    let budget = client.reply_budget("alice@im.wechat").await.unwrap();
    assert_eq!(budget.left, Some(2));
    assert_eq!(budget.closed, None);
    // Three chunks do not fit in two: none is sent.
    let long: String = (0..3)
        .map(|i| format!("Part {i}. {}\n\n", "x".repeat(150)))
        .collect();
    let err = client
        .send_text("alice@im.wechat", long)
        .chunk_chars(200)
        .await
        .unwrap_err();
    assert_eq!(
        refusal(&err),
        Refusal::BudgetExhausted { left: 2, needed: 3 }
    );
    assert_eq!(sim.sent().len(), 1);
    client.send_text("alice@im.wechat", "two").await.unwrap();
    client.send_text("alice@im.wechat", "three").await.unwrap();
    let err = client
        .send_text("alice@im.wechat", "four")
        .await
        .unwrap_err();
    assert_eq!(
        refusal(&err),
        Refusal::BudgetExhausted { left: 0, needed: 1 }
    );
    assert_eq!(sim.sent().len(), 3, "the fourth never reached the server");
    // A user who never wrote is not limited here (the server decides).
    client.send_text("carol@im.wechat", "hello").await.unwrap();
}

#[tokio::test]
async fn the_window_is_applied_before_the_server_and_by_the_server() {
    let sim = Simulator::builder()
        .hold(Duration::from_millis(400))
        .reply_window(Duration::from_secs(24 * 3600))
        .start()
        .await
        .unwrap();
    let bot = sim.create_account();
    let old = Duration::from_secs(25 * 3600);
    sim.push(
        &bot.bot_id,
        Inbound::text("alice@im.wechat", "yesterday").written_ago(old),
    );
    // The client knows the window: nothing reaches the server.
    let client = client(&sim, &bot, memory());
    receive(&client, 1).await;
    let err = client
        .send_text("alice@im.wechat", "late")
        .await
        .unwrap_err();
    assert!(matches!(refusal(&err), Refusal::WindowPassed { .. }));
    assert_eq!(sim.count(Route::SendMessage), 0);

    // A client without local limits meets the server's bare -2, which
    // closes that conversation only.
    sim.push(
        &bot.bot_id,
        Inbound::text("bob@im.wechat", "yesterday").written_ago(old),
    );
    let unlimited = builder(&sim)
        .reply_limits(ReplyLimits::none())
        .shared_store(memory())
        .build()
        .unwrap()
        .bot_with(&credentials(&bot));
    receive(&unlimited, 1).await;
    let err = unlimited
        .send_text("bob@im.wechat", "late")
        .await
        .unwrap_err();
    assert_eq!(refusal(&err), Refusal::Closed);
    assert_eq!(sim.conversation_refusals(&bot.bot_id), (1, 0));
    assert_eq!(unlimited.throttled_for(), None);
}

#[tokio::test]
async fn bare_refusals_from_several_conversations_mean_the_account_is_limited() {
    let sim = Simulator::builder()
        .hold(Duration::from_millis(400))
        .rate_limit(RateLimit::reported(Duration::from_secs(60)).bare())
        .start()
        .await
        .unwrap();
    let bot = sim.create_account();
    let client = client(&sim, &bot, memory());
    let users = [
        "u1@im.wechat",
        "u2@im.wechat",
        "u3@im.wechat",
        "u4@im.wechat",
    ];
    for u in users {
        sim.push(&bot.bot_id, Inbound::text(u, "hi"));
    }
    receive(&client, 4).await;
    // Three sends pass the simulated burst, then every send is refused.
    for i in 0..3 {
        client.send_text(users[0], format!("ok{i}")).await.unwrap();
    }
    // Two conversations refused: each looks like its own.
    for u in &users[1..3] {
        let err = client.send_text(*u, "x").await.unwrap_err();
        assert_eq!(refusal(&err), Refusal::Closed);
    }
    assert_eq!(client.throttled_for(), None);
    // The third is evidence enough: the account cools down, the message
    // waits, and the two conversations open again.
    let sent = client.send_text(users[3], "y").await.unwrap();
    assert!(sent[0].waiting.as_ref().unwrap().is_throttled());
    assert!(client.throttled_for().is_some());
    for u in &users[1..3] {
        let budget = client.reply_budget(*u).await.unwrap();
        assert_eq!(budget.closed, None, "{u} opened again");
    }
    let sends = sim.count(Route::SendMessage);
    let sent = client.send_text(users[1], "later").await.unwrap();
    assert!(!sent[0].is_delivered());
    assert_eq!(
        sim.count(Route::SendMessage),
        sends,
        "held during the cooldown"
    );
}

#[tokio::test]
async fn the_cooldown_is_adaptive_and_what_waited_goes_out_in_order() {
    let penalty = Duration::from_millis(300);
    let sim = Simulator::builder()
        .hold(Duration::from_millis(400))
        .rate_limit(RateLimit::reported(penalty))
        .start()
        .await
        .unwrap();
    let bot = sim.create_account();
    let client = builder(&sim)
        .throttle_cooldown(Duration::from_millis(400))
        .shared_store(memory())
        .build()
        .unwrap()
        .bot_with(&credentials(&bot));
    sim.push(&bot.bot_id, Inbound::text("alice@im.wechat", "hi"));
    receive(&client, 1).await;
    let mut ids = Vec::new();
    for i in 0..6 {
        let sent = client
            .send_text("alice@im.wechat", format!("m{i}"))
            .await
            .unwrap();
        ids.push(sent[0].client_id.clone());
    }
    let cooldown = client.throttled_for().expect("cooling down");
    assert!(cooldown <= Duration::from_millis(400), "{cooldown:?}");
    // Wait out the cooldown (a deadline of the protocol, not a guess), then
    // send what waited.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(left) = client.throttled_for() {
            tokio::time::sleep(left).await;
        }
        let report = client.flush_outbox().await.unwrap();
        assert!(report.undeliverable.is_empty());
        if report.waiting == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the outbox never drained"
        );
    }
    let at_sim: Vec<String> = sim
        .sent()
        .iter()
        .map(|m| m.msg.client_id.clone().unwrap())
        .collect();
    assert_eq!(at_sim, ids, "every message once, in order");
    assert_eq!(sim.sends_during_penalty(&bot.bot_id), 0);
}

#[tokio::test]
async fn a_restart_sends_what_was_queued_with_the_same_ids() {
    let sim = sim().await;
    let bot = sim.create_account();
    let store = memory();
    let first = client(&sim, &bot, store.clone());
    sim.push(&bot.bot_id, Inbound::text("alice@im.wechat", "hi"));
    receive(&first, 1).await;
    // The network fails every attempt: the reply waits in the store.
    for _ in 0..3 {
        sim.inject(Fault::new(
            Route::SendMessage,
            FaultKind::ConnectionReset,
            1,
        ));
    }
    let sent = first.send_text("alice@im.wechat", "answer").await.unwrap();
    assert!(sent[0].waiting.as_ref().unwrap().is_retryable());
    let client_id = sent[0].client_id.clone();
    drop(first);
    // Another process on the same store (a restart) sends it.
    let second = client(&sim, &bot, store);
    let report = second.flush_outbox().await.unwrap();
    assert_eq!(report.delivered, 1);
    let at_sim = sim.wait_for_sent(1, WAIT).await.unwrap();
    assert_eq!(at_sim[0].msg.client_id.as_deref(), Some(client_id.as_str()));
    assert!(outbox_is_empty(&second).await);
}

/// A handler run again on the same message (after a crash or a takeover)
/// makes the same reply ids; the store finds them counted already, so they
/// are neither sent nor counted against the conversation's budget twice.
#[tokio::test]
async fn a_handler_run_again_neither_sends_nor_counts_its_replies_twice() {
    let sim = sim().await;
    let bot = sim.create_account();
    let client = client(&sim, &bot, memory());
    sim.push(&bot.bot_id, Inbound::text("alice@im.wechat", "hi"));
    let msg = receive(&client, 1).await.remove(0);
    let run = |ctx: Context| async move {
        let a = ctx.reply("first").await.unwrap();
        let b = ctx.reply("second").await.unwrap();
        vec![a[0].client_id.clone(), b[0].client_id.clone()]
    };
    let first = run(Context::new(client.clone(), &msg)).await;
    let again = run(Context::new(client.clone(), &msg)).await;
    assert_eq!(first, again);
    assert_ne!(first[0], first[1]);
    assert_eq!(sim.sent().len(), 2);
    assert_eq!(sim.dropped_duplicates().len(), 0, "nothing sent again");
    let budget = client.reply_budget("alice@im.wechat").await.unwrap();
    assert_eq!(
        budget.left,
        Some(ilink::outbox::DEFAULT_REPLY_BUDGET - 2),
        "two replies counted, not four"
    );
}

#[tokio::test]
async fn the_runner_sends_what_a_crash_left_and_reports_what_can_never_go() {
    let sim = Simulator::builder()
        .hold(Duration::from_millis(200))
        .reply_quota(1)
        .start()
        .await
        .unwrap();
    let bot = sim.create_account();
    let store = memory();
    let client = client(&sim, &bot, store.clone());
    sim.push(&bot.bot_id, Inbound::text("alice@im.wechat", "hi"));
    receive(&client, 1).await;
    // Left in the outbox by a crash: two replies to alice, of which the
    // server takes one.
    let token = client.context_token("alice@im.wechat").await.unwrap();
    let alice = ilink::UserId::from("alice@im.wechat");
    let entries: Vec<OutboxEntry> = ["c-1", "c-2"]
        .iter()
        .map(|id| {
            let msg = WeixinMessage::outbound("alice@im.wechat", *id, MessageItem::text("left"))
                .with_context_token(token.clone());
            OutboxEntry::new(*id, alice.clone(), serde_json::to_value(msg).unwrap(), 1)
        })
        .collect();
    store
        .enqueue(None, client.id(), &alice, entries, ReplyLimits::none())
        .await
        .unwrap();
    let events: Arc<Mutex<Vec<RunEvent>>> = Arc::default();
    let seen = events.clone();
    let lost = Arc::new(tokio::sync::Notify::new());
    let reported = lost.clone();
    let run = client
        .runner()
        .on_event(move |e| {
            if matches!(e, RunEvent::Undeliverable(_)) {
                reported.notify_one();
            }
            seen.lock().unwrap().push(e.clone());
        })
        .run_until(
            handler_fn(|_ctx: Context, _msg: ilink::Message| async { Ok(()) }),
            async move { lost.notified().await },
        );
    tokio::time::timeout(WAIT, run).await.unwrap().unwrap();
    let at_sim = sim.sent();
    assert_eq!(at_sim.len(), 1);
    assert_eq!(at_sim[0].msg.client_id.as_deref(), Some("c-1"));
    let events = events.lock().unwrap().clone();
    let undeliverable: Vec<&ilink::Undeliverable> = events
        .iter()
        .filter_map(|e| match e {
            RunEvent::Undeliverable(u) => Some(u),
            _ => None,
        })
        .collect();
    assert_eq!(undeliverable.len(), 1);
    assert_eq!(undeliverable[0].client_id, "c-2");
    assert!(undeliverable[0].error.is_conversation_closed());
    assert!(outbox_is_empty(&client).await);
}

async fn outbox_is_empty(bot: &ilink::Bot) -> bool {
    bot.client()
        .store()
        .outbox(bot.id())
        .await
        .unwrap()
        .is_empty()
}

/// A runner in a task of its own, for tests that send beside it: started
/// and seen handling a first message from alice, stopped when told.
struct Running {
    stop: tokio::sync::oneshot::Sender<()>,
    run: tokio::task::JoinHandle<Result<ilink::Cursor, Error>>,
}

impl Running {
    async fn start(sim: &Simulator, bot: &ilink_testkit::TestAccount, client: &ilink::Bot) -> Self {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let received = Arc::new(tokio::sync::Notify::new());
        let handled = received.clone();
        let run = tokio::spawn(client.runner().run_until(
            handler_fn(move |_ctx: Context, _msg: ilink::Message| {
                let handled = handled.clone();
                async move {
                    handled.notify_one();
                    Ok(())
                }
            }),
            async move {
                let _ = stopped.await;
            },
        ));
        sim.push(&bot.bot_id, Inbound::text("alice@im.wechat", "hi"));
        tokio::time::timeout(WAIT, received.notified())
            .await
            .expect("the message reached the handler");
        Self { stop, run }
    }

    async fn stop(self) {
        self.stop.send(()).unwrap();
        tokio::time::timeout(WAIT, self.run)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
    }
}

/// Waits (bounded) until the bot's outbox is empty.
async fn outbox_empties(client: &ilink::Bot) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !outbox_is_empty(client).await {
        assert!(tokio::time::Instant::now() < deadline, "outbox kept it");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn the_runner_retries_what_waits_and_again_after_its_outbox_drained() {
    let sim = sim().await;
    let bot = sim.create_account();
    let client = client(&sim, &bot, memory());
    let runner = Running::start(&sim, &bot, &client).await;
    let mut ids = Vec::new();
    for round in 1..=2 {
        // Every attempt of the send fails: the reply waits, and the runner
        // (not this test) sends it. The second round finds the runner's
        // drain ended with its outbox empty: the send starts it again.
        for _ in 0..3 {
            sim.inject(Fault::new(
                Route::SendMessage,
                FaultKind::ConnectionReset,
                1,
            ));
        }
        let sent = client
            .send_text("alice@im.wechat", format!("round {round}"))
            .await
            .unwrap();
        assert!(sent[0].waiting.is_some(), "round {round}: not left waiting");
        ids.push(sent[0].client_id.clone());
        let at_sim = sim.wait_for_sent(round, WAIT).await.unwrap();
        let at_sim: Vec<String> = at_sim
            .iter()
            .map(|m| m.msg.client_id.clone().unwrap())
            .collect();
        assert_eq!(at_sim, ids, "round {round}");
        outbox_empties(&client).await;
    }
    runner.stop().await;
}

#[tokio::test]
async fn a_send_dropped_half_way_is_sent_by_the_runner() {
    // A handler that gives up on a reply (a timeout around it, say) while
    // the reply waits for a retry has left it in the outbox: the runner's
    // drain sends it, though no send returned "waiting".
    let sim = sim().await;
    let bot = sim.create_account();
    let client = builder(&sim)
        .send_retry(
            ilink::Retry::new(Duration::from_secs(30), Duration::from_secs(30)).with_attempts(3),
        )
        .shared_store(memory())
        .build()
        .unwrap()
        .bot_with(&credentials(&bot));
    let runner = Running::start(&sim, &bot, &client).await;
    // The runner's drain found its outbox empty at the start and ended.
    sim.inject(Fault::new(
        Route::SendMessage,
        FaultKind::ConnectionReset,
        1,
    ));
    let send = tokio::spawn({
        let client = client.clone();
        async move { client.send_text("alice@im.wechat", "given up on").await }
    });
    // Its first attempt failed; it waits 30 s to retry. Dropped there:
    let deadline = tokio::time::Instant::now() + WAIT;
    while sim.count(Route::SendMessage) == 0 {
        assert!(tokio::time::Instant::now() < deadline, "no attempt");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    send.abort();
    assert!(send.await.unwrap_err().is_cancelled(), "the send had ended");
    sim.wait_for_sent(1, WAIT).await.unwrap();
    outbox_empties(&client).await;
    runner.stop().await;
}

/// A handler whose runner lost the account's lease while it ran (another
/// process took the account over) sends nothing more: its reply fails with
/// `LeaseLost` before it reaches the store or the server, and the message
/// is not acknowledged, so the new holder handles it, once.
#[tokio::test]
async fn a_handler_whose_lease_was_taken_over_sends_nothing() {
    let sim = sim().await;
    let bot = sim.create_account();
    let store = memory();
    let first = crate::common::client_as(&sim, &bot, store.clone(), "first");
    let go = Arc::new(tokio::sync::Notify::new());
    let reached = Arc::new(tokio::sync::Notify::new());
    let replied: Arc<Mutex<Vec<Result<(), String>>>> = Arc::default();
    let handler = {
        let (go, reached, replied) = (go.clone(), reached.clone(), replied.clone());
        handler_fn(move |ctx: Context, msg: ilink::Message| {
            let (go, reached, replied) = (go.clone(), reached.clone(), replied.clone());
            async move {
                reached.notify_one();
                go.notified().await;
                let r = ctx.reply(format!("re: {}", msg.text())).await;
                replied.lock().unwrap().push(match r {
                    Ok(_) => Ok(()),
                    Err(e) if e.is_lease_lost() => Err("lease lost".to_owned()),
                    Err(e) => Err(e.report().to_string()),
                });
                Ok(())
            }
        })
    };
    let run = tokio::spawn(
        first
            .runner()
            .run_until(handler, std::future::pending::<()>()),
    );
    sim.push(&bot.bot_id, Inbound::text("alice@im.wechat", "hi"));
    tokio::time::timeout(WAIT, reached.notified())
        .await
        .expect("the handler runs");
    // Another process takes the account over while the handler runs.
    let lease = store
        .take_over(first.id(), "second", Duration::from_secs(60), "first")
        .await
        .unwrap();
    go.notify_one();
    // The runner stops (its next renewal or acknowledgement is refused).
    let ended = tokio::time::timeout(WAIT, run).await.unwrap().unwrap();
    assert!(ended.is_err_and(|e| e.is_lease_lost()));
    let replied = replied.lock().unwrap().clone();
    assert_eq!(replied.len(), 1);
    assert_eq!(replied, [Err("lease lost".to_owned())]);
    assert!(
        sim.sent().is_empty(),
        "no reply left after the lease was lost"
    );
    assert!(outbox_is_empty(&first).await, "nothing queued either");
    // The message was not acknowledged: it is the new holder's to handle.
    let pending = store.pending(first.id()).await.unwrap();
    assert_eq!(pending.len(), 1);
    store.release(&lease).await.unwrap();
}

/// A handler run again after a takeover (the first process replied, then
/// lost the account before acknowledging) finds its earlier replies
/// counted: the conversation's budget is spent once.
#[tokio::test]
async fn a_handler_run_again_after_a_takeover_spends_the_budget_once() {
    let sim = sim().await;
    let bot = sim.create_account();
    let store = memory();
    let first = crate::common::client_as(&sim, &bot, store.clone(), "first");
    sim.push(&bot.bot_id, Inbound::text("alice@im.wechat", "hi"));
    let reply_twice = |ctx: Context| async move {
        ctx.reply("one").await.unwrap();
        ctx.reply("two").await.unwrap();
    };
    {
        let mut poller = first.poller().await.unwrap();
        let mut batch = poller.next_batch().await.unwrap();
        while batch.messages.is_empty() {
            batch = poller.next_batch().await.unwrap();
        }
        // Replied, never acknowledged: the process is gone before that.
        reply_twice(Context::new(first.clone(), &batch.messages[0])).await;
        poller.release().await.unwrap();
    }
    drop(first);
    // Another process, the same store: the message comes again (it was
    // never acknowledged) and its handler replies again.
    let second = crate::common::client_as(&sim, &bot, store.clone(), "second");
    let mut poller = second.poller().await.unwrap();
    let again = poller.next_batch().await.unwrap();
    assert!(again.redelivered);
    assert_eq!(again.messages.len(), 1);
    reply_twice(Context::new(second.clone(), &again.messages[0])).await;
    let budget = second.reply_budget("alice@im.wechat").await.unwrap();
    assert_eq!(
        budget.left,
        Some(ilink::outbox::DEFAULT_REPLY_BUDGET - 2),
        "two replies counted, not four"
    );
    assert_eq!(sim.sent().len(), 2, "each reply reached the user once");
}

/// Another connection holds SQLite's write lock for 15 s (as a process
/// stopped mid-transaction would): a reply queued meanwhile waits for it
/// past SQLite's own 10 s wait and is sent once the lock is free.
#[tokio::test]
async fn a_reply_waits_out_a_write_lock_held_for_fifteen_seconds() {
    let sim = sim().await;
    let bot = sim.create_account();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let store: Arc<dyn ilink::Store> = Arc::new(ilink::SqliteStore::open(&state).unwrap());
    let client = client(&sim, &bot, store);
    sim.push(&bot.bot_id, Inbound::text("alice@im.wechat", "hi"));
    receive(&client, 1).await;
    let (locked_tx, locked_rx) = std::sync::mpsc::channel();
    let db = state.join("ilink.db");
    let holder = std::thread::spawn(move || {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        locked_tx.send(()).unwrap();
        std::thread::sleep(Duration::from_secs(15));
        conn.execute_batch("COMMIT").unwrap();
    });
    locked_rx.recv().unwrap();
    let started = std::time::Instant::now();
    let sent = tokio::time::timeout(
        Duration::from_secs(60),
        client.send_text("alice@im.wechat", "after the lock"),
    )
    .await
    .expect("bounded")
    .expect("the reply is not lost to the lock");
    assert!(sent[0].is_delivered());
    assert!(started.elapsed() >= Duration::from_secs(14), "it waited");
    holder.join().unwrap();
    let at_sim = sim.wait_for_sent(1, WAIT).await.unwrap();
    assert_eq!(at_sim[0].msg.text(), "after the lock");
}
