use std::time::Duration;

use ilink_testkit::{Fault, FaultKind, Route, Simulator};
use serde_json::json;

use crate::raw::Raw;

#[tokio::test]
async fn every_fault_kind_on_an_api_route() {
    let sim = Simulator::start().await.unwrap();
    let bot = sim.create_account();
    let raw = Raw::new(sim.api_url());
    let body = json!({"ilink_user_id": "a@im.wechat", "base_info": {"channel_version": "1"}});
    let call = || raw.post_exact("ilink/bot/getconfig", Some(&bot.token), &body);
    let arm = |kind| sim.inject(Fault::new(Route::GetConfig, kind, 1));

    arm(FaultKind::Status500);
    assert_eq!(call().await.unwrap().status, 500);
    arm(FaultKind::BadGatewayHtml);
    let a = call().await.unwrap();
    assert_eq!(a.status, 502);
    assert!(a.text.contains("<html>"));
    arm(FaultKind::Gateway524);
    assert_eq!(call().await.unwrap().status.as_u16(), 524);
    arm(FaultKind::ConnectionReset);
    assert!(call().await.is_err());
    arm(FaultKind::MalformedJson);
    let a = call().await.unwrap();
    assert!(serde_json::from_str::<serde_json::Value>(&a.text).is_err());
    arm(FaultKind::TruncatedBody);
    assert!(call().await.is_err(), "a truncated body is a body error");
    arm(FaultKind::Throttled);
    assert_eq!(call().await.unwrap().json()["ret"], -2);
    arm(FaultKind::SessionExpired);
    assert_eq!(call().await.unwrap().json()["ret"], -14);
    arm(FaultKind::Hang {
        duration: Some(Duration::from_millis(300)),
    });
    let t = std::time::Instant::now();
    assert!(call().await.is_err());
    assert!(t.elapsed() >= Duration::from_millis(250));
    // Faults are used up: the next call is normal.
    assert_eq!(call().await.unwrap().json()["ret"], 0);
}

#[tokio::test]
async fn a_slow_answer_happens_after_the_effect() {
    let sim = Simulator::start().await.unwrap();
    let bot = sim.create_account();
    let raw = Raw::new(sim.api_url());
    sim.inject(Fault::new(
        Route::SendMessage,
        FaultKind::SlowAfterEffect {
            delay: Duration::from_millis(400),
        },
        1,
    ));
    let body = crate::raw::outbound("a@im.wechat", "slow-1", None, crate::raw::text_item("x"));
    let send = raw.post("ilink/bot/sendmessage", Some(&bot.token), body.clone());
    let (answer, sent) = tokio::join!(send, sim.wait_for_sent(1, Duration::from_secs(5)));
    // The message was stored before the (slow) answer came.
    assert_eq!(sent.unwrap().len(), 1);
    assert_eq!(answer.json()["ret"], 0);
    // A retry with the same client_id is dropped, not stored twice.
    raw.post("ilink/bot/sendmessage", Some(&bot.token), body)
        .await;
    assert_eq!(sim.sent().len(), 1);
    assert_eq!(sim.dropped_duplicates().len(), 1);
}

#[tokio::test]
async fn cdn_faults() {
    let sim = Simulator::start().await.unwrap();
    let cdn = Raw::new(sim.cdn_url());
    sim.inject(Fault::new(Route::CdnUpload, FaultKind::Status500, 2));
    let url = ilink_proto::cdn_upload_url(sim.cdn_url(), "p", "k");
    assert_eq!(
        cdn.post_bytes(&url, vec![0; 1024]).await.unwrap().status,
        500
    );
    assert_eq!(
        cdn.post_bytes(&url, vec![0; 1024]).await.unwrap().status,
        500
    );
    assert_eq!(
        cdn.post_bytes(&url, vec![0; 1024]).await.unwrap().status,
        400
    );
    sim.inject(Fault::new(
        Route::CdnDownload,
        FaultKind::ConnectionReset,
        1,
    ));
    let dl = ilink_proto::cdn_download_url(sim.cdn_url(), "p");
    assert!(cdn.get_url(&dl).await.is_err());
    assert_eq!(cdn.get_url(&dl).await.unwrap().status, 404);
    assert_eq!(sim.count(Route::CdnUpload), 3);
}
