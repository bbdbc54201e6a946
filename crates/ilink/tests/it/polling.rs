use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ilink::{
    Bot, Context, Error, LoginOutcome, Message, OnSessionExpired, RunEvent, SessionState, Store,
    StoreError, handler_fn,
};
use ilink_testkit::{Fault, FaultKind, Inbound, LoginTarget, QrScript, QrStep, Route};
use tokio::sync::Notify;

use crate::common::{WAIT, builder, client, client_as, credentials, id, memory, sim, transport};

/// Records each handled message's text, per key.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<(String, String)>>>);

impl Seen {
    /// A handler that records every message it gets.
    fn handler(&self) -> impl ilink::Handler {
        let seen = self.clone();
        handler_fn(move |_c: Context, m: Message| {
            let seen = seen.clone();
            async move {
                seen.0
                    .lock()
                    .unwrap()
                    .push((m.key().to_owned(), m.text().into_owned()));
                Ok(())
            }
        })
    }

    fn texts(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|(_, t)| t.clone())
            .collect()
    }
    fn count(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}

async fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    // Only used where no signal exists: bounded, fine-grained.
    let deadline = tokio::time::Instant::now() + WAIT;
    while !f() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn echo_bot_replies_and_notifies_start_and_stop() {
    let sim = sim().await;
    let bot = sim.create_account();
    let client = client(&sim, &bot, memory());
    let pushed = sim.push(&bot.bot_id, Inbound::text("alice@im.wechat", "ping"));
    let stop = Arc::new(Notify::new());
    let stopper = stop.clone();
    let run = tokio::spawn({
        let client = client.clone();
        async move {
            let echo = handler_fn(|ctx: Context, msg: Message| async move {
                ctx.reply(format!("echo: {}", msg.text())).await?;
                Ok(())
            });
            client.run_until(echo, stopper.notified()).await
        }
    });
    let sent = sim.wait_for_sent(1, WAIT).await.unwrap();
    assert_eq!(sent[0].text(), "echo: ping");
    assert_eq!(
        sent[0].msg.context_token.as_ref().unwrap().expose(),
        pushed.context_token
    );
    assert!(sent[0].rendering_problems.is_empty());
    stop.notify_one();
    let cursor = run.await.unwrap().unwrap();
    assert!(!cursor.is_empty());
    let notes: Vec<bool> = sim.notify_calls().iter().map(|n| n.start).collect();
    assert_eq!(notes, [true, false]);
    assert_eq!(
        client
            .context_token("alice@im.wechat")
            .await
            .unwrap()
            .unwrap()
            .expose(),
        pushed.context_token
    );
    let health = client.health();
    assert_eq!(health.messages_received, 1);
    assert_eq!(health.messages_handled, 1);
    assert!(!health.polling);
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());
}

#[tokio::test]
async fn duplicates_are_handled_once_and_order_is_kept_per_conversation() {
    let sim = sim().await;
    let bot = sim.create_account();
    let client = client(&sim, &bot, memory());
    sim.push(&bot.bot_id, Inbound::text("a@im.wechat", "a1").duplicated());
    for i in 2..=5 {
        sim.push(&bot.bot_id, Inbound::text("a@im.wechat", format!("a{i}")));
        sim.push(&bot.bot_id, Inbound::text("b@im.wechat", format!("b{i}")));
    }
    let seen = Seen::default();
    let s = seen.clone();
    let handler = handler_fn(move |_ctx: Context, msg: Message| {
        let s = s.clone();
        async move {
            // Make later messages of a conversation overtake earlier ones if
            // ordering were not enforced.
            let delay = if msg.text().ends_with('2') { 30 } else { 1 };
            tokio::time::sleep(Duration::from_millis(delay)).await;
            s.0.lock()
                .unwrap()
                .push((msg.key().to_owned(), msg.text().into_owned()));
            Ok(())
        }
    });
    let stop = Arc::new(Notify::new());
    let run = tokio::spawn({
        let client = client.clone();
        let stop = stop.clone();
        async move { client.run_until(handler, stop.notified()).await }
    });
    wait_for("9 handled", || seen.count() >= 9).await;
    stop.notify_one();
    run.await.unwrap().unwrap();
    let texts = seen.texts();
    assert_eq!(texts.len(), 9, "the duplicate was handled once: {texts:?}");
    let a: Vec<_> = texts
        .iter()
        .filter(|t| t.starts_with('a'))
        .cloned()
        .collect();
    let b: Vec<_> = texts
        .iter()
        .filter(|t| t.starts_with('b'))
        .cloned()
        .collect();
    assert_eq!(a, ["a1", "a2", "a3", "a4", "a5"]);
    assert_eq!(b, ["b2", "b3", "b4", "b5"]);
}

#[tokio::test]
async fn a_crash_mid_batch_loses_nothing_and_repeats_nothing_acknowledged() {
    let store = memory();
    crash_mid_batch(store.clone(), move || store.clone()).await;
}

#[tokio::test]
async fn a_crash_mid_batch_on_the_sqlite_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    let store: Arc<dyn Store> = Arc::new(ilink::SqliteStore::open(&path).unwrap());
    // The restart is a new process: a fresh store over the same directory.
    crash_mid_batch(store, move || {
        Arc::new(ilink::SqliteStore::open(&path).unwrap())
    })
    .await;
}

async fn crash_mid_batch(store: Arc<dyn Store>, restart: impl FnOnce() -> Arc<dyn Store>) {
    let sim = sim().await;
    let bot = sim.create_account();
    for i in 0..6 {
        sim.push(
            &bot.bot_id,
            Inbound::text(format!("u{i}@im.wechat"), format!("m{i}")),
        );
    }
    // First run: messages from u3 hang forever; the rest finish. Then the
    // process "crashes" (the runner future is dropped, no graceful stop).
    let first = Seen::default();
    {
        // The same holder name after the "restart", as a service would
        // have: the lease is taken back at once.
        let client = client_as(&sim, &bot, store.clone(), "crash-test");
        let s = first.clone();
        let handler = handler_fn(move |_ctx: Context, msg: Message| {
            let s = s.clone();
            async move {
                if msg.sender() == "u3@im.wechat" {
                    std::future::pending::<()>().await;
                }
                s.0.lock()
                    .unwrap()
                    .push((msg.key().to_owned(), msg.text().into_owned()));
                Ok(())
            }
        });
        let run = tokio::spawn(async move {
            client
                .run_until(handler, std::future::pending::<()>())
                .await
        });
        wait_for("5 handled", || first.count() >= 5).await;
        // Acks are written right after the handler returns; wait for them.
        let account = id(&bot.bot_id);
        let deadline = tokio::time::Instant::now() + WAIT;
        while store.pending(&account).await.unwrap().len() != 1 {
            assert!(tokio::time::Instant::now() < deadline, "5 acks");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        run.abort();
        let _ = run.await;
    }
    assert_eq!(
        store.pending(&id(&bot.bot_id)).await.unwrap().len(),
        1,
        "only the hung message is unacknowledged"
    );
    drop(store);

    // Restart on the same state: only the unacknowledged message comes back.
    let store = restart();
    let second = Seen::default();
    let client = client_as(&sim, &bot, store.clone(), "crash-test");
    let handler = second.handler();
    let stop = Arc::new(Notify::new());
    let run = tokio::spawn({
        let stop = stop.clone();
        async move { client.run_until(handler, stop.notified()).await }
    });
    wait_for("redelivery", || second.count() >= 1).await;
    stop.notify_one();
    run.await.unwrap().unwrap();
    assert_eq!(second.texts(), ["m3"]);
    let mut all: Vec<String> = first.texts();
    all.extend(second.texts());
    all.sort();
    assert_eq!(all, ["m0", "m1", "m2", "m3", "m4", "m5"]);
    assert!(store.pending(&id(&bot.bot_id)).await.unwrap().is_empty());
}

#[tokio::test]
async fn session_expiry_stops_with_a_typed_event_and_relogin_resumes() {
    let sim = sim().await;
    let bot = sim.create_account();
    let store = memory();
    let mut creds = ilink::Credentials::new(bot.bot_id.clone(), bot.token.clone().into());
    creds.saved_at_ms = 1;
    creds.base_url = Some(sim.api_url().to_owned());
    store.save_credentials(&creds).await.unwrap();
    let client = builder(&sim)
        .shared_store(store.clone())
        .build()
        .unwrap()
        .bot(bot.bot_id.as_str())
        .await
        .unwrap();
    assert_eq!(client.id(), bot.bot_id.as_str());
    sim.push(&bot.bot_id, Inbound::text("alice@im.wechat", "hi"));
    let events = Arc::new(Mutex::new(Vec::new()));
    let ev = events.clone();
    let seen = Seen::default();
    let s = seen.clone();
    let run = tokio::spawn({
        let client = client.clone();
        async move {
            client
                .runner()
                .on_event(move |e| ev.lock().unwrap().push(format!("{e:?}")))
                .run_until(s.handler(), std::future::pending::<()>())
                .await
        }
    });
    wait_for("first message", || seen.count() == 1).await;
    assert!(
        client
            .context_token("alice@im.wechat")
            .await
            .unwrap()
            .is_some()
    );
    sim.expire_session(&bot.bot_id);
    let err = tokio::time::timeout(WAIT, run)
        .await
        .unwrap()
        .unwrap()
        .unwrap_err();
    assert!(err.is_session_expired(), "{err:?}");
    assert!(
        events
            .lock()
            .unwrap()
            .iter()
            .any(|e| e.starts_with("SessionExpired"))
    );
    assert_eq!(client.health().session, SessionState::Expired);
    // Sends on the dead token fail typed, without a silent pause.
    let send_err = client.send_text("alice@im.wechat", "x").await.unwrap_err();
    assert!(send_err.is_session_expired(), "{send_err:?}");

    // Re-login binds the bot anew (the old token is dead), clears its context
    // tokens, and a new run sends notifystart again.
    sim.script_login(QrScript::new(vec![QrStep::Confirm {
        target: LoginTarget::Existing {
            bot_id: bot.bot_id.clone(),
        },
    }]));
    let LoginOutcome::LoggedIn { bot: fresh, .. } = client.client().login().await.unwrap() else {
        panic!("expected a new login");
    };
    assert!(
        fresh
            .context_token("alice@im.wechat")
            .await
            .unwrap()
            .is_none()
    );
    sim.push(&bot.bot_id, Inbound::text("alice@im.wechat", "again"));
    let stop = Arc::new(Notify::new());
    let run = tokio::spawn({
        let stop = stop.clone();
        let fresh = fresh.clone();
        let s = seen.clone();
        async move { fresh.run_until(s.handler(), stop.notified()).await }
    });
    wait_for("second message", || seen.count() == 2).await;
    stop.notify_one();
    run.await.unwrap().unwrap();
    let starts = sim.notify_calls().iter().filter(|n| n.start).count();
    assert_eq!(starts, 2);
}

#[tokio::test]
async fn waiting_for_login_resumes_after_expiry() {
    let sim = sim().await;
    let bot = sim.create_account();
    let store = memory();
    let mut creds = ilink::Credentials::new(bot.bot_id.clone(), bot.token.clone().into());
    creds.saved_at_ms = 1;
    creds.base_url = Some(sim.api_url().to_owned());
    store.save_credentials(&creds).await.unwrap();
    let client = builder(&sim)
        .shared_store(store.clone())
        .build()
        .unwrap()
        .bot(bot.bot_id.as_str())
        .await
        .unwrap();
    let seen = Seen::default();
    let s = seen.clone();
    let stop = Arc::new(Notify::new());
    let run = tokio::spawn({
        let client = client.clone();
        let stop = stop.clone();
        async move {
            client
                .runner()
                .on_session_expired(OnSessionExpired::WaitForLogin(Duration::from_millis(20)))
                .run_until(s.handler(), stop.notified())
                .await
        }
    });
    sim.wait_for_requests(Route::GetUpdates, 1, WAIT)
        .await
        .unwrap();
    sim.expire_session(&bot.bot_id);
    wait_for("expiry noticed", || {
        client.health().session == SessionState::Expired
    })
    .await;
    // A login elsewhere (e.g. the CLI) stores new credentials.
    sim.script_login(QrScript::new(vec![QrStep::Confirm {
        target: LoginTarget::Existing {
            bot_id: bot.bot_id.clone(),
        },
    }]));
    client.client().login().await.unwrap();
    sim.push(&bot.bot_id, Inbound::text("alice@im.wechat", "after"));
    wait_for("message after re-login", || seen.count() == 1).await;
    stop.notify_one();
    run.await.unwrap().unwrap();
    assert_eq!(sim.notify_calls().iter().filter(|n| n.start).count(), 2);
}

#[tokio::test]
async fn a_fault_storm_is_ridden_out_at_a_bounded_rate() {
    let sim = sim().await;
    let bot = sim.create_account();
    let client = builder(&sim)
        .transport(
            transport(&sim)
                .long_poll_timeout(Duration::from_millis(300))
                .long_poll_margin(Duration::from_millis(200)),
        )
        .build()
        .unwrap()
        .bot_with(&credentials(&bot));
    for kind in [
        FaultKind::Status500,
        FaultKind::ConnectionReset,
        FaultKind::BadGatewayHtml,
        FaultKind::MalformedJson,
        FaultKind::TruncatedBody,
        FaultKind::Hang {
            duration: Some(Duration::from_secs(5)),
        },
    ] {
        sim.inject(Fault::new(Route::GetUpdates, kind, 2));
    }
    sim.push(
        &bot.bot_id,
        Inbound::text("alice@im.wechat", "through the storm"),
    );
    let events = Arc::new(Mutex::new(Vec::new()));
    let ev = events.clone();
    let got = Arc::new(AtomicUsize::new(0));
    let g = got.clone();
    let stop = Arc::new(Notify::new());
    let run = tokio::spawn({
        let client = client.clone();
        let stop = stop.clone();
        async move {
            client
                .runner()
                .on_event(move |e| {
                    if let RunEvent::Backoff { delay, .. } = e {
                        ev.lock().unwrap().push(*delay);
                    }
                })
                .run_until(
                    handler_fn(move |_c: Context, _m: Message| {
                        let g = g.clone();
                        async move {
                            g.fetch_add(1, Ordering::SeqCst);
                            Ok(())
                        }
                    }),
                    stop.notified(),
                )
                .await
        }
    });
    wait_for("the message", || got.load(Ordering::SeqCst) == 1).await;
    stop.notify_one();
    run.await.unwrap().unwrap();
    let delays = events.lock().unwrap().clone();
    // A hung long-poll that times out is an ordinary empty poll, not a
    // failure: 10 failures (5 kinds x 2), each followed by one backoff.
    assert_eq!(delays.len(), 10, "one backoff per failed poll: {delays:?}");
    // Bounded rate: one poll per failure, the 2 hung ones, the good ones.
    let polls = sim.count(Route::GetUpdates);
    assert!(polls <= 10 + 2 + 3, "{polls} polls");
    assert!(delays.iter().all(|d| *d <= Duration::from_millis(120)));
    assert_eq!(client.health().consecutive_failures, 0, "recovered");
}

#[tokio::test]
async fn a_second_poller_on_the_same_account_is_refused() {
    let sim = sim().await;
    let bot = sim.create_account();
    let store = memory();
    let a = client(&sim, &bot, store.clone());
    let b = client(&sim, &bot, store.clone());
    let first = a.poller().await.unwrap();
    let err = b.poller().await.unwrap_err();
    assert!(
        matches!(err, Error::Store(StoreError::Leased { .. })),
        "{err:?}"
    );
    // A poller of the same client for the same account: refused too.
    assert!(a.poller().await.is_err());
    first.release().await.unwrap();
    b.poller().await.unwrap();
}

#[tokio::test]
async fn a_malformed_update_never_stalls_the_cursor() {
    let sim = sim().await;
    let bot = sim.create_account();
    let client = client(&sim, &bot, memory());
    sim.push(
        &bot.bot_id,
        Inbound::raw(serde_json::json!({"message_id": "oops", "from_user_id": "x@im.wechat"})),
    );
    sim.push(&bot.bot_id, Inbound::text("alice@im.wechat", "fine"));
    let mut poller = client.poller().await.unwrap();
    let mut batch = poller.next_batch().await.unwrap();
    if batch.messages.is_empty() && batch.malformed.is_empty() {
        batch = poller.next_batch().await.unwrap();
    }
    assert_eq!(batch.malformed.len(), 1);
    assert_eq!(batch.messages.len(), 1);
    assert_eq!(batch.messages[0].text(), "fine");
    assert!(!poller.cursor().is_empty());
    poller.ack(&batch.messages[0]).await.unwrap();
}

#[tokio::test]
async fn a_thousand_accounts_poll_in_one_process() {
    let sim = ilink_testkit::Simulator::builder()
        .hold(Duration::from_secs(2))
        .record_limit(0)
        .start()
        .await
        .unwrap();
    let base = builder(&sim).build().unwrap();
    let store = base.store().clone();
    let mut ids = Vec::new();
    for _ in 0..1000 {
        let bot = sim.create_account();
        let mut c = ilink::Credentials::new(bot.bot_id.clone(), bot.token.clone().into());
        c.saved_at_ms = 1;
        c.base_url = Some(sim.api_url().to_owned());
        store.save_credentials(&c).await.unwrap();
        ids.push(bot.bot_id);
    }
    let handled: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let stop = Arc::new(Notify::new());
    let mut runs = Vec::new();
    for id in &ids {
        let client: Bot = base.bot(id.as_str()).await.unwrap();
        let h = handled.clone();
        let stop = stop.clone();
        runs.push(tokio::spawn(async move {
            client
                .run_until(
                    handler_fn(move |_c: Context, m: Message| {
                        let h = h.clone();
                        async move {
                            *h.lock()
                                .unwrap()
                                .entry(m.account_id().to_string())
                                .or_default() += 1;
                            Ok(())
                        }
                    }),
                    stop.notified(),
                )
                .await
        }));
    }
    sim.wait_until("1000 held polls", WAIT, |s| s.held_polls() >= 1000)
        .await
        .unwrap();
    for id in &ids {
        sim.push(id, Inbound::text("alice@im.wechat", "hi"));
    }
    wait_for("1000 handled", || handled.lock().unwrap().len() == 1000).await;
    stop.notify_waiters();
    for r in runs {
        r.await.unwrap().unwrap();
    }
    assert!(handled.lock().unwrap().values().all(|&n| n == 1));
    assert_eq!(
        base.all_health().len(),
        0,
        "handles are released when clients drop"
    );
}

#[tokio::test]
async fn a_batch_answered_as_the_stop_comes_is_still_handled() {
    // The server answers a held poll at the moment the application stops:
    // the answer must be received and handled, not dropped with the
    // connection (the server would not send it again).
    let sim = sim().await;
    let bot = sim.create_account();
    let client = client(&sim, &bot, memory());
    let seen = Seen::default();
    let s = seen.clone();
    let stop = Arc::new(Notify::new());
    let run = tokio::spawn({
        let client = client.clone();
        let stop = stop.clone();
        async move { client.run_until(s.handler(), stop.notified()).await }
    });
    sim.wait_until("a held poll", WAIT, |s| s.held_polls() == 1)
        .await
        .unwrap();
    // Stop and deliver at the same instant.
    stop.notify_one();
    sim.push(
        &bot.bot_id,
        Inbound::text("alice@im.wechat", "just in time"),
    );
    run.await.unwrap().unwrap();
    // The grace period let the answer arrive: delivered, stored, handled.
    assert_eq!(sim.queued(&bot.bot_id), 0, "the server delivered it");
    assert_eq!(seen.texts(), ["just in time"], "and it was handled");
}

#[tokio::test]
async fn instant_empty_answers_do_not_become_a_busy_loop() {
    // A gateway answering 524 at once: each is an empty poll, but the
    // runner must back off instead of polling thousands of times a second.
    let sim = sim().await;
    let bot = sim.create_account();
    let client = client(&sim, &bot, memory());
    sim.inject(Fault::new(Route::GetUpdates, FaultKind::Gateway524, 10_000));
    let stop = Arc::new(Notify::new());
    let run = tokio::spawn({
        let client = client.clone();
        let stop = stop.clone();
        async move {
            client
                .run_until(
                    handler_fn(|_c: Context, _m: Message| async { Ok(()) }),
                    stop.notified(),
                )
                .await
        }
    });
    // Measure the request rate over one second of the fault.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let polls = sim.count(Route::GetUpdates);
    stop.notify_one();
    run.await.unwrap().unwrap();
    // The test backoff is 20 ms doubling to 100 ms: about 3 + 10 polls.
    assert!(polls <= 25, "{polls} polls in one second");
    assert!(polls >= 3);
    // When the gateway recovers, messages flow again.
    sim.clear_faults();
    sim.push(&bot.bot_id, Inbound::text("alice@im.wechat", "back"));
    let mut poller = client.poller().await.unwrap();
    let batch = poller.next_batch().await.unwrap();
    assert_eq!(batch.messages.len(), 1);
}

/// A tmpfs of its own, mounted for one test and unmounted when dropped.
struct SmallFs {
    path: std::path::PathBuf,
}

impl SmallFs {
    /// `None` where mounting is not allowed (not root): the caller skips.
    fn mount(bytes: u64) -> Option<Self> {
        let path = std::env::temp_dir().join(format!(
            "ilink-full-disk-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&path).ok()?;
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={bytes}"), "tmpfs"])
            .arg(&path)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            let _ = std::fs::remove_dir(&path);
            return None;
        }
        Some(Self { path })
    }
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(&self.path)
            .status();
        let _ = std::fs::remove_dir(&self.path);
    }
}

/// A full disk delays messages, never loses them: the batch that could not
/// be stored is kept, nothing is polled until it is, and it reaches the
/// caller once there is room. On a real file store on a real, full tmpfs.
#[tokio::test]
async fn a_full_disk_loses_no_batch() {
    let Some(fs) = SmallFs::mount(512 * 1024) else {
        eprintln!("SKIP a_full_disk_loses_no_batch: cannot mount a tmpfs (needs root)");
        return;
    };
    let sim = sim().await;
    let bot = sim.create_account();
    let store: Arc<dyn Store> = Arc::new(ilink::SqliteStore::open(fs.path.join("state")).unwrap());
    let client = client(&sim, &bot, store.clone());
    let mut poller = client.poller().await.unwrap();
    // Fill the filesystem to the last byte.
    let filler = fs.path.join("filler");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&filler).unwrap();
        let chunk = vec![0u8; 4096];
        while f.write_all(&chunk).is_ok() {}
        let one = [0u8; 1];
        while f.write_all(&one).is_ok() {}
    }
    let pushed = sim.push(
        &bot.bot_id,
        Inbound::text("alice@im.wechat", "kept through a full disk"),
    );
    let err = poller.next_batch().await.unwrap_err();
    assert!(matches!(err, ilink::Error::Store(_)), "{err:?}");
    let polls = sim.count(Route::GetUpdates);
    // Still full: the same error, and no poll in between.
    assert!(poller.next_batch().await.is_err());
    assert_eq!(
        sim.count(Route::GetUpdates),
        polls,
        "polled again with a batch unstored"
    );
    // Room again: the batch arrives, stored.
    std::fs::remove_file(&filler).unwrap();
    let batch = poller.next_batch().await.unwrap();
    assert_eq!(sim.count(Route::GetUpdates), polls);
    assert_eq!(batch.messages.len(), 1);
    assert_eq!(batch.messages[0].message_id(), Some(pushed.message_id));
    assert_eq!(store.pending(&id(&bot.bot_id)).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_slow_handler_holds_back_polling_not_memory() {
    // Five messages of one conversation in one batch, a queue of 2, and a
    // handler that runs only when the test lets it: the runner may not poll
    // again until the third message is done (the fifth then has a place).
    let sim = Arc::new(sim().await);
    let bot = sim.create_account();
    let client = client(&sim, &bot, memory());
    for i in 1..=5 {
        sim.push(
            &bot.bot_id,
            Inbound::text("alice@im.wechat", format!("m{i}")),
        );
    }
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let polls_at_start = Arc::new(Mutex::new(Vec::new()));
    let started = Arc::new(Notify::new());
    let handler = {
        let (gate, polls, started, sim) = (
            gate.clone(),
            polls_at_start.clone(),
            started.clone(),
            sim.clone(),
        );
        handler_fn(move |_c: Context, m: Message| {
            let (gate, polls, started, sim) =
                (gate.clone(), polls.clone(), started.clone(), sim.clone());
            async move {
                polls
                    .lock()
                    .unwrap()
                    .push((m.text().into_owned(), sim.count(Route::GetUpdates)));
                started.notify_one();
                gate.acquire().await?.forget();
                Ok(())
            }
        })
    };
    let stop = Arc::new(Notify::new());
    let run = tokio::spawn({
        let (client, stop) = (client.clone(), stop.clone());
        async move {
            client
                .runner()
                .queue_capacity(2)
                .concurrency(1)
                .run_until(handler, stop.notified())
                .await
        }
    });
    for _ in 0..5 {
        tokio::time::timeout(WAIT, started.notified())
            .await
            .unwrap();
        gate.add_permits(1);
    }
    sim.wait_until("the next poll, held", WAIT, |s| s.held_polls() == 1)
        .await
        .unwrap();
    stop.notify_one();
    run.await.unwrap().unwrap();
    let polls = polls_at_start.lock().unwrap().clone();
    let texts: Vec<&str> = polls.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(texts, ["m1", "m2", "m3", "m4", "m5"], "in order");
    // Until the third message was done, the first poll was the only one.
    assert!(
        polls[..3].iter().all(|(_, n)| *n == 1),
        "polled while the queue was full: {polls:?}"
    );
}

#[tokio::test]
async fn an_idle_run_stays_small() {
    // Each account's task holds its run's state while its poll is held: at
    // 10,000 idle accounts every byte here is ten kilobytes.
    let sim = sim().await;
    let bot = sim.create_account();
    let client = client(&sim, &bot, memory());
    let run = client.run_until(Seen::default().handler(), std::future::pending::<()>());
    let size = std::mem::size_of_val(&run);
    assert!(size <= 4_600, "the run's state is {size} bytes");
}

#[tokio::test]
async fn a_handler_can_leave_its_message_pending() {
    let sim = sim().await;
    let bot = sim.create_account();
    let store = memory();
    let client = client(&sim, &bot, store.clone());
    sim.push(&bot.bot_id, Inbound::text("alice@im.wechat", "keep me"));
    sim.push(&bot.bot_id, Inbound::text("bob@im.wechat", "done"));
    let failures = Arc::new(Mutex::new(Vec::new()));
    let handled = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(Notify::new());
    let handler = {
        let (handled, stop) = (handled.clone(), stop.clone());
        handler_fn(move |_ctx: Context, msg: Message| {
            let (handled, stop) = (handled.clone(), stop.clone());
            async move {
                if handled.fetch_add(1, Ordering::SeqCst) == 1 {
                    stop.notify_one();
                }
                if msg.text() == "keep me" {
                    return Err(ilink::KeepPending::because("the disk is full").into());
                }
                Ok(())
            }
        })
    };
    let seen = failures.clone();
    client
        .runner()
        .concurrency(1)
        .on_event(move |e| {
            if let RunEvent::HandlerFailed { failure, .. } = e {
                seen.lock().unwrap().push(failure.to_string());
            }
        })
        .run_until(handler, stop.notified())
        .await
        .unwrap();
    let failures = failures.lock().unwrap().clone();
    assert_eq!(failures.len(), 1);
    assert!(failures[0].contains("the disk is full"), "{failures:?}");
    // Only the kept message is pending; the next run gets it again.
    let pending = store.pending(client.id()).await.unwrap();
    assert_eq!(pending.len(), 1, "{pending:?}");
    let seen = Seen::default();
    let again = Arc::new(Notify::new());
    let run = {
        let (client, again, handler) = (client.clone(), again.clone(), seen.handler());
        tokio::spawn(async move { client.run_until(handler, again.notified()).await })
    };
    wait_for("the pending message", || seen.count() == 1).await;
    again.notify_one();
    run.await.unwrap().unwrap();
    assert_eq!(seen.texts(), ["keep me"]);
    assert!(store.pending(client.id()).await.unwrap().is_empty());
}

#[tokio::test]
async fn handlers_ending_together_have_every_acknowledgement_written() {
    let store = memory();
    acknowledgements_of_handlers_ending_together(store).await;
}

#[tokio::test]
async fn handlers_ending_together_on_the_sqlite_store() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(ilink::SqliteStore::open(dir.path()).unwrap());
    acknowledgements_of_handlers_ending_together(store).await;
}

/// 48 conversations, 16 handlers at once that end together (a barrier):
/// their acknowledgements are committed in groups, and every one is
/// written before the run returns.
async fn acknowledgements_of_handlers_ending_together(store: Arc<dyn Store>) {
    const AT_ONCE: usize = 16;
    const MESSAGES: usize = 3 * AT_ONCE;
    let sim = sim().await;
    let bot = sim.create_account();
    let client = client(&sim, &bot, store.clone());
    for i in 0..MESSAGES {
        sim.push(
            &bot.bot_id,
            Inbound::text(format!("u{i}@im.wechat"), format!("m{i}")),
        );
    }
    let barrier = Arc::new(tokio::sync::Barrier::new(AT_ONCE));
    let handled = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(Notify::new());
    let handler = {
        let (barrier, handled, stop) = (barrier.clone(), handled.clone(), stop.clone());
        handler_fn(move |_ctx: Context, _msg: Message| {
            let (barrier, handled, stop) = (barrier.clone(), handled.clone(), stop.clone());
            async move {
                barrier.wait().await;
                if handled.fetch_add(1, Ordering::SeqCst) + 1 == MESSAGES {
                    stop.notify_one();
                }
                Ok(())
            }
        })
    };
    tokio::time::timeout(
        WAIT,
        client
            .runner()
            .concurrency(AT_ONCE)
            .run_until(handler, stop.notified()),
    )
    .await
    .expect("every message handled in time")
    .unwrap();
    assert_eq!(handled.load(Ordering::SeqCst), MESSAGES);
    let pending = store.pending(client.id()).await.unwrap();
    assert!(pending.is_empty(), "{} left pending", pending.len());
    assert_eq!(client.health().messages_handled, MESSAGES as u64);
}

/// A quote nested 200 deep as `serde_json::Value` (built bottom-up: parsing
/// it from text would hit the recursion limit the client must survive).
fn deep_quote(levels: usize) -> serde_json::Value {
    let mut item = serde_json::json!({"type": 1, "text_item": {"text": "bottom"}});
    for _ in 0..levels {
        item = serde_json::json!({"type": 1, "ref_msg": {"title": "q", "message_item": item}});
    }
    item
}

/// One hostile sender's messages between seven other users' ordinary ones,
/// all in one batch: a 200-deep quote, a 6 MB text (over the 4 MiB answer
/// limit by itself) and a type-confused item. Every ordinary message is
/// handled once, each hostile one is reported, and the cursor moves on, on
/// a server that does not replay a batch it answered and on one that does.
async fn hostile_batch(replay: bool) {
    let sim = ilink_testkit::Simulator::builder()
        .replay_on_old_cursor(replay)
        .max_batch(100)
        .start()
        .await
        .unwrap();
    let bot = sim.create_account();
    let client = client(&sim, &bot, memory());
    let evil = "evil@im.wechat";
    let push_ordinary = |i: usize| {
        sim.push(
            &bot.bot_id,
            Inbound::text(format!("user{i}@im.wechat"), format!("ordinary {i}")),
        );
    };
    push_ordinary(0);
    push_ordinary(1);
    sim.push(
        &bot.bot_id,
        Inbound::raw(serde_json::json!({
            "from_user_id": evil, "message_type": 1, "item_list": [deep_quote(200)]
        })),
    );
    push_ordinary(2);
    push_ordinary(3);
    sim.push(&bot.bot_id, Inbound::text(evil, "x".repeat(6_000_000)));
    push_ordinary(4);
    sim.push(
        &bot.bot_id,
        Inbound::raw(serde_json::json!({
            "from_user_id": evil, "message_type": 1, "item_list": {"type": "text"}, "seq": "three"
        })),
    );
    push_ordinary(5);
    push_ordinary(6);

    let mut poller = client.poller().await.unwrap();
    let mut texts = Vec::new();
    let mut malformed = Vec::new();
    for _ in 0..5 {
        let batch = poller.next_batch().await.unwrap();
        for m in &batch.messages {
            texts.push(m.text().into_owned());
        }
        poller.ack_all(&batch.messages).await.unwrap();
        malformed.extend(batch.malformed);
        if texts.len() >= 7 && malformed.len() >= 3 {
            break;
        }
    }
    let want: Vec<String> = (0..7).map(|i| format!("ordinary {i}")).collect();
    assert_eq!(texts, want, "every ordinary message once, in order");
    assert_eq!(malformed.len(), 3, "{malformed:?}");
    assert!(
        malformed[0].error.contains("recursion"),
        "{:?}",
        malformed[0]
    );
    assert!(
        malformed[0].raw.get().contains(evil),
        "the deep element's bytes are kept"
    );
    assert!(
        malformed[1].set_aside.is_some_and(|n| n > 6_000_000),
        "{:?}",
        malformed[1]
    );
    assert!(
        malformed[2].error.contains("invalid type"),
        "{:?}",
        malformed[2]
    );
    assert!(!poller.cursor().is_empty());
    // Nothing more: the next poll is empty (held until the sim's hold ends
    // is not waited for: a message pushed now comes alone).
    push_ordinary(7);
    let next = poller.next_batch().await.unwrap();
    let next: Vec<_> = next
        .messages
        .iter()
        .map(|m| m.text().into_owned())
        .collect();
    assert_eq!(next, ["ordinary 7"]);
}

#[tokio::test]
async fn hostile_messages_cost_only_themselves_on_a_server_that_does_not_replay() {
    hostile_batch(false).await;
}

#[tokio::test]
async fn hostile_messages_cost_only_themselves_on_a_server_that_replays() {
    hostile_batch(true).await;
}

#[tokio::test]
async fn a_poll_retry_with_attempts_stops_the_run_after_that_many_failures_in_a_row() {
    let sim = sim().await;
    let bot = sim.create_account();
    let client = builder(&sim)
        .poll_retry(
            ilink::Retry::new(Duration::from_millis(1), Duration::from_millis(5)).with_attempts(4),
        )
        .build()
        .unwrap()
        .bot_with(&credentials(&bot));
    // Two failures, a good poll (the count starts again), then failures
    // for ever.
    sim.inject(Fault::new(Route::GetUpdates, FaultKind::Status500, 2));
    sim.push(&bot.bot_id, Inbound::text("alice@im.wechat", "between"));
    let got = Arc::new(AtomicUsize::new(0));
    let g = got.clone();
    let run = tokio::spawn({
        let client = client.clone();
        async move {
            client
                .run_until(
                    handler_fn(move |_c: Context, _m: Message| {
                        let g = g.clone();
                        async move {
                            g.fetch_add(1, Ordering::SeqCst);
                            Ok(())
                        }
                    }),
                    std::future::pending::<()>(),
                )
                .await
        }
    });
    wait_for("the message", || got.load(Ordering::SeqCst) == 1).await;
    sim.inject(Fault::new(
        Route::GetUpdates,
        FaultKind::Status500,
        u32::MAX,
    ));
    let err = tokio::time::timeout(Duration::from_secs(10), run)
        .await
        .expect("the run stops by itself")
        .unwrap()
        .unwrap_err();
    assert!(
        err.report().to_string().contains("HTTP 500"),
        "{}",
        err.report()
    );
    // 2 failed, at least 1 good, then 4 failed in a row: the 4th ended it.
    let polls = sim.count(Route::GetUpdates);
    assert!((7..=9).contains(&polls), "{polls} polls");
}
