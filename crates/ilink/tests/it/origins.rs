//! A stored token goes only to the origin its login was made at: never to
//! another login host, never to the default host, and nowhere at all when
//! the origin is unknown (issue 33, item A).

use std::time::Duration;

use ilink::http::Transport;
use ilink::{Client, Credentials, Error, LoginOutcome, OriginProblem};
use ilink_testkit::{RequestRecord, Route, Simulator};

use crate::common::{builder, id, memory, sim};

/// Whether a recorded request carries `token` anywhere: a header, the
/// query or the body.
fn carries(r: &RequestRecord, token: &str) -> bool {
    r.headers.iter().any(|(_, v)| v.contains(token))
        || r.query.iter().any(|(_, v)| v.contains(token))
        || r.body
            .as_ref()
            .is_some_and(|b| b.to_string().contains(token))
}

fn assert_never_received(sim: &Simulator, token: &str, what: &str) {
    let leaked: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| carries(r, token))
        .map(|r| r.path)
        .collect();
    assert!(leaked.is_empty(), "{what} received the token in {leaked:?}");
}

/// Repro 1: a login whose `confirmed` answer has no `baseurl`, then a login
/// at another host. The other host learns nothing of the first token (not
/// in `local_token_list`, not in any call), and the account's bot goes to
/// its own host whatever the client's default is.
#[tokio::test]
async fn a_login_without_baseurl_keeps_its_token_at_its_own_host() {
    let first = Simulator::builder()
        .hold(Duration::from_millis(400))
        .confirmed_without_base_url()
        .start()
        .await
        .unwrap();
    let other = sim().await;
    let store = memory();

    let LoginOutcome::LoggedIn { credentials, .. } = builder(&first)
        .shared_store(store.clone())
        .build()
        .unwrap()
        .login()
        .await
        .unwrap()
    else {
        panic!("not logged in")
    };
    // The answer named no host: the one the login was made at is stored.
    assert_eq!(credentials.base_url.as_deref(), Some(first.api_url()));
    let stored = store
        .load_credentials(&credentials.account_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.base_url.as_deref(), Some(first.api_url()));
    let token = credentials.bot_token.expose().to_owned();

    // `--base-url OTHER login`: OTHER gets an empty local_token_list.
    let at_other = builder(&other).shared_store(store.clone()).build().unwrap();
    at_other.login().await.unwrap();
    let qr = &other.requests_to(Route::GetBotQrcode)[0];
    assert_eq!(
        qr.body.as_ref().unwrap()["local_token_list"],
        serde_json::json!([])
    );
    // The first account's bot is refused on a client pointed at OTHER,
    // and left out of its bots.
    let err = at_other
        .bot(credentials.account_id.clone())
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::TokenOrigin {
                problem: OriginProblem::Elsewhere { .. },
                ..
            }
        ),
        "{err:?}"
    );
    let ids: Vec<_> = at_other
        .bots()
        .await
        .unwrap()
        .iter()
        .map(|b| b.id().clone())
        .collect();
    assert!(!ids.contains(&credentials.account_id), "{ids:?}");
    assert_never_received(&other, &token, "the other login host");

    // A client with the default (official) host: the bot goes to the
    // account's own host, not the default.
    let default = Client::builder()
        .shared_store(store.clone())
        .transport(Transport::builder().cdn_base_url(first.cdn_url()))
        .build()
        .unwrap();
    let bot = default.bot(credentials.account_id.clone()).await.unwrap();
    assert_eq!(bot.raw().base_url(), first.api_url());
    bot.raw().notify_start().await.unwrap();
    assert!(
        first
            .requests_to(Route::NotifyStart)
            .iter()
            .any(|r| carries(r, &token)),
        "the account's own host got the call"
    );
    assert_never_received(&other, &token, "the other login host");
}

/// Repro 2: an account stored by an older version, with no base URL. Its
/// token is sent nowhere: not in a login's `local_token_list`, and no bot is
/// built for it (a typed error says to log in again), on a client with an
/// explicit host or with the default one.
#[tokio::test]
async fn an_account_whose_origin_is_unknown_never_sends_its_token() {
    let sim = sim().await;
    let account = sim.create_account();
    let store = memory();
    let old = Credentials::new(account.bot_id.as_str(), account.token.as_str().into());
    assert_eq!(old.base_url, None);
    store.save_credentials(&old).await.unwrap();

    let client = builder(&sim).shared_store(store.clone()).build().unwrap();
    client.login().await.unwrap();
    let qr = &sim.requests_to(Route::GetBotQrcode)[0];
    assert_eq!(
        qr.body.as_ref().unwrap()["local_token_list"],
        serde_json::json!([])
    );

    let default = Client::builder()
        .shared_store(store.clone())
        .build()
        .unwrap();
    for client in [&client, &default] {
        let err = client.bot(account.bot_id.as_str()).await.unwrap_err();
        assert!(
            matches!(
                &err,
                Error::TokenOrigin { account: a, problem: OriginProblem::Unknown }
                    if *a == id(&account.bot_id)
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("log in again"), "{err}");
        assert!(
            !client
                .bots()
                .await
                .unwrap()
                .iter()
                .any(|b| b.id().as_str() == account.bot_id),
            "left out of bots()"
        );
        assert!(client.stored_bot(&old).is_err());
    }
    assert_never_received(&sim, &account.token, "the simulator");
}

/// A stored base URL that may not carry a token (clear text off this
/// machine) is never replaced by the default host: the bot is refused, and
/// a bot built from such credentials anyway fails every call before
/// sending.
#[tokio::test]
async fn an_untrusted_stored_base_url_sends_nothing() {
    let sim = sim().await;
    let account = sim.create_account();
    let store = memory();
    let mut creds = Credentials::new(account.bot_id.as_str(), account.token.as_str().into());
    creds.base_url = Some("http://bot.invalid:8080".to_owned());
    store.save_credentials(&creds).await.unwrap();
    let default = Client::builder()
        .shared_store(store.clone())
        .build()
        .unwrap();
    let err = default.bot(account.bot_id.as_str()).await.unwrap_err();
    assert!(
        matches!(
            &err,
            Error::TokenOrigin {
                problem: OriginProblem::Untrusted,
                ..
            }
        ),
        "{err:?}"
    );
    let bot = default.bot_with(&creds);
    assert!(bot.raw().notify_start().await.is_err());
    assert_never_received(&sim, &account.token, "the simulator");
}
