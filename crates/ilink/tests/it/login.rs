use std::sync::{Arc, Mutex};
use std::time::Duration;

use ilink::{Credentials, Error, LoginEvent, LoginFailure, LoginOutcome};
use ilink_testkit::{Host, LoginTarget, QrScript, QrStep, Route};

use crate::common::{builder, id, memory, sim};

fn recorder() -> (
    Arc<Mutex<Vec<LoginEvent>>>,
    impl Fn(&LoginEvent) + Send + Sync + 'static,
) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    (events, move |e: &LoginEvent| {
        sink.lock().unwrap().push(e.clone())
    })
}

#[tokio::test]
async fn quick_login_saves_credentials_and_binds_the_client() {
    let sim = sim().await;
    let store = memory();
    let client = builder(&sim).shared_store(store.clone()).build().unwrap();
    let (events, listener) = recorder();
    let outcome = client.login().on_event(listener).await.unwrap();
    let LoginOutcome::LoggedIn { bot, credentials } = outcome else {
        panic!("not logged in")
    };
    assert_eq!(bot.id(), &credentials.account_id);
    assert!(credentials.account_id.as_str().ends_with("@im.bot"));
    assert_eq!(credentials.base_url.as_deref(), Some(sim.api_url()));
    assert_eq!(
        store
            .load_credentials(&credentials.account_id)
            .await
            .unwrap(),
        Some(credentials.clone())
    );
    let events = events.lock().unwrap().clone();
    assert!(
        matches!(&events[0], LoginEvent::QrCode { attempt: 1, url } if url.starts_with("https://"))
    );
    assert!(events.contains(&LoginEvent::Scanned));
    assert!(matches!(events.last(), Some(LoginEvent::Confirmed { .. })));
    // The new token works.
    bot.raw().notify_start().await.unwrap();
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());
}

#[tokio::test]
async fn redirect_and_a_wrong_then_right_verify_code() {
    let sim = sim().await;
    sim.script_login(QrScript::new(vec![
        QrStep::Scanned,
        QrStep::Redirect,
        QrStep::VerifyCode {
            code: "4711".into(),
            max_wrong: 3,
        },
        QrStep::Confirm {
            target: LoginTarget::NewBot,
        },
    ]));
    let client = builder(&sim).build().unwrap();
    let (events, listener) = recorder();
    let asked = Arc::new(Mutex::new(0));
    let asked2 = asked.clone();
    let outcome = client
        .login()
        .on_event(listener)
        .verify_code(move |retry| {
            let asked = asked2.clone();
            async move {
                let mut n = asked.lock().unwrap();
                *n += 1;
                Some(if retry { "4711" } else { "0000" }.to_owned())
            }
        })
        .await
        .unwrap();
    assert!(matches!(outcome, LoginOutcome::LoggedIn { .. }));
    assert_eq!(*asked.lock().unwrap(), 2);
    let events = events.lock().unwrap().clone();
    assert!(events.contains(&LoginEvent::Redirected {
        base_url: sim.urls().redirect.clone()
    }));
    assert!(events.contains(&LoginEvent::NeedVerifyCode { retry: false }));
    assert!(events.contains(&LoginEvent::NeedVerifyCode { retry: true }));
    let polls = sim.requests_to(Route::GetQrcodeStatus);
    let on_redirect: Vec<_> = polls.iter().filter(|r| r.host == Host::Redirect).collect();
    assert!(on_redirect.len() >= 3, "polling moved to the redirect host");
    assert_eq!(
        on_redirect.last().unwrap().query_value("verify_code"),
        Some("4711")
    );
}

#[tokio::test]
async fn three_expired_codes_fail_and_blocked_codes_count_as_expiry() {
    let sim = sim().await;
    for _ in 0..3 {
        sim.script_login(QrScript::expires());
    }
    let client = builder(&sim).build().unwrap();
    let err = client.login().await.unwrap_err();
    assert!(
        matches!(err, Error::Login(LoginFailure::Expired(3))),
        "{err:?}"
    );
    assert_eq!(sim.count(Route::GetBotQrcode), 3);

    // A blocked verify code, then a fresh QR code that succeeds.
    sim.script_login(QrScript::new(vec![QrStep::VerifyCode {
        code: "1".into(),
        max_wrong: 1,
    }]));
    let (events, listener) = recorder();
    let outcome = client
        .login()
        .on_event(listener)
        .verify_code(|_| async { Some("2".to_owned()) })
        .await
        .unwrap();
    assert!(matches!(outcome, LoginOutcome::LoggedIn { .. }));
    assert!(
        events
            .lock()
            .unwrap()
            .contains(&LoginEvent::VerifyCodeBlocked)
    );
}

#[tokio::test]
async fn already_bound_keeps_existing_credentials() {
    let sim = sim().await;
    let store = memory();
    let bot = sim.create_account();
    let mut creds = Credentials::new(bot.bot_id.clone(), bot.token.clone().into());
    creds.saved_at_ms = 1;
    creds.base_url = Some(sim.api_url().to_owned());
    store.save_credentials(&creds).await.unwrap();
    sim.script_login(QrScript::new(vec![QrStep::Confirm {
        target: LoginTarget::Existing {
            bot_id: bot.bot_id.clone(),
        },
    }]));
    let client = builder(&sim).shared_store(store.clone()).build().unwrap();
    let outcome = client.login().await.unwrap();
    assert!(matches!(outcome, LoginOutcome::AlreadyBound));
    // The stored token went out in local_token_list.
    let qr = &sim.requests_to(Route::GetBotQrcode)[0];
    let list = qr.body.as_ref().unwrap()["local_token_list"].clone();
    assert_eq!(list, serde_json::json!([bot.token]));
    assert_eq!(
        store.load_credentials(&id(&bot.bot_id)).await.unwrap(),
        Some(creds)
    );
}

#[tokio::test]
async fn unknown_status_is_surfaced_and_the_deadline_holds() {
    let sim = sim().await;
    sim.script_login(QrScript::new(vec![
        QrStep::Unknown {
            status: "future_status".into(),
        },
        QrStep::Confirm {
            target: LoginTarget::NewBot,
        },
    ]));
    let client = builder(&sim).build().unwrap();
    let (events, listener) = recorder();
    client.login().on_event(listener).await.unwrap();
    assert!(
        events
            .lock()
            .unwrap()
            .contains(&LoginEvent::UnknownStatus("future_status".into()))
    );

    sim.script_login(QrScript::new(vec![QrStep::Wait]));
    let err = client
        .login()
        .deadline(Duration::from_millis(300))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Login(LoginFailure::Deadline)),
        "{err:?}"
    );
    let err = {
        sim.script_login(QrScript::new(vec![QrStep::VerifyCode {
            code: "1".into(),
            max_wrong: 3,
        }]));
        client.login().await.unwrap_err()
    };
    assert!(
        matches!(err, Error::Login(LoginFailure::NoVerifyCode)),
        "no prompt given: {err:?}"
    );
}

/// A `confirmed` answer that names a plain-HTTP API host off this machine
/// is refused, and nothing is saved: the token never goes there.
#[tokio::test]
async fn a_clear_text_base_url_off_loopback_is_refused_and_not_saved() {
    let sim = ilink_testkit::Simulator::builder()
        .confirmed_base_url("http://bot.invalid:8080")
        .start()
        .await
        .unwrap();
    let store = memory();
    let client = builder(&sim).shared_store(store.clone()).build().unwrap();
    let err = client.login().await.unwrap_err();
    assert!(
        matches!(err, Error::Login(LoginFailure::UntrustedBaseUrl)),
        "{err:?}"
    );
    assert!(store.accounts().await.unwrap().is_empty());
}

/// `local_token_list` carries only the tokens of accounts logged in at the
/// host the login asks; a login elsewhere learns none of the others, and a
/// token whose origin is unknown (an older version's login, no base URL
/// stored) goes nowhere.
#[tokio::test]
async fn local_token_list_carries_only_the_login_hosts_tokens() {
    let sim = sim().await;
    let store = memory();
    let mut here = Credentials::new("here@im.bot".to_owned(), "tok-here".to_owned().into());
    here.base_url = Some(sim.api_url().to_owned());
    let mut elsewhere = Credentials::new("far@im.bot".to_owned(), "tok-far".to_owned().into());
    elsewhere.base_url = Some("https://elsewhere.invalid".to_owned());
    let old = Credentials::new("old@im.bot".to_owned(), "tok-old".to_owned().into());
    store.save_credentials(&here).await.unwrap();
    store.save_credentials(&elsewhere).await.unwrap();
    store.save_credentials(&old).await.unwrap();
    let client = builder(&sim).shared_store(store.clone()).build().unwrap();
    let _ = client.login().await;
    let qr = &sim.requests_to(Route::GetBotQrcode)[0];
    let list = qr.body.as_ref().unwrap()["local_token_list"].clone();
    assert_eq!(list, serde_json::json!(["tok-here"]));
}

/// The QR code's URL is for the person logging in, not for logs: `Debug`
/// (what `tracing` prints) leaves it out.
#[test]
fn the_qr_url_is_not_in_debug() {
    let event = LoginEvent::QrCode {
        url: "https://liteapp.weixin.qq.com/q/7GiQu1?qrcode=SECRETQR&bot_type=3".to_owned(),
        attempt: 1,
    };
    let shown = format!("{event:?}");
    assert!(!shown.contains("SECRETQR"), "{shown}");
    assert!(shown.contains("attempt: 1"), "{shown}");
}
