use ilink_testkit::{LoginTarget, QrScript, QrStep, Route, Simulator};
use serde_json::{Value, json};

use crate::raw::Raw;

async fn start_qr(raw: &Raw, tokens: &[&str]) -> String {
    let a = raw
        .post_exact(
            "ilink/bot/get_bot_qrcode?bot_type=3",
            None,
            &json!({"local_token_list": tokens}),
        )
        .await
        .unwrap();
    let v = a.json();
    assert!(
        v["qrcode_img_content"]
            .as_str()
            .unwrap()
            .starts_with("https://")
    );
    v["qrcode"].as_str().unwrap().to_owned()
}

async fn poll(raw: &Raw, qr: &str, code: Option<&str>) -> Value {
    let mut q = format!("ilink/bot/get_qrcode_status?qrcode={qr}");
    if let Some(c) = code {
        q.push_str(&format!("&verify_code={c}"));
    }
    raw.get(&q).await.json()
}

#[tokio::test]
async fn quick_login_issues_a_working_token() {
    let sim = Simulator::start().await.unwrap();
    let raw = Raw::new(sim.api_url());
    let qr = start_qr(&raw, &[]).await;
    let mut seen = Vec::new();
    for _ in 0..3 {
        seen.push(
            poll(&raw, &qr, None).await["status"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(seen, ["wait", "scaned", "confirmed"]);
    // A confirmed QR code is used up.
    assert_eq!(poll(&raw, &qr, None).await["status"], "expired");
    let raw2 = Raw::new(sim.api_url());
    let qr2 = start_qr(&raw2, &[]).await;
    // A fresh QR again confirms a (new) bot on its third poll.
    poll(&raw2, &qr2, None).await;
    poll(&raw2, &qr2, None).await;
    let confirmed = poll(&raw2, &qr2, None).await;
    let token = confirmed["bot_token"].as_str().unwrap();
    assert!(
        confirmed["ilink_bot_id"]
            .as_str()
            .unwrap()
            .ends_with("@im.bot")
    );
    assert!(
        confirmed["ilink_user_id"]
            .as_str()
            .unwrap()
            .ends_with("@im.wechat")
    );
    assert_eq!(confirmed["baseurl"], json!(sim.api_url()));
    let ack = raw
        .post("ilink/bot/msg/notifystart", Some(token), json!({}))
        .await
        .json();
    assert_eq!(ack["ret"], 0);
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());
}

#[tokio::test]
async fn verify_code_wrong_then_right_and_blocking() {
    let sim = Simulator::start().await.unwrap();
    let raw = Raw::new(sim.api_url());
    sim.script_login(QrScript::new(vec![
        QrStep::Scanned,
        QrStep::VerifyCode {
            code: "4711".into(),
            max_wrong: 3,
        },
        QrStep::Confirm {
            target: LoginTarget::NewBot,
        },
    ]));
    let qr = start_qr(&raw, &[]).await;
    assert_eq!(poll(&raw, &qr, None).await["status"], "scaned");
    assert_eq!(poll(&raw, &qr, None).await["status"], "need_verifycode");
    assert_eq!(
        poll(&raw, &qr, Some("0000")).await["status"],
        "need_verifycode"
    );
    assert_eq!(poll(&raw, &qr, Some("4711")).await["status"], "confirmed");

    sim.script_login(QrScript::new(vec![QrStep::VerifyCode {
        code: "1".into(),
        max_wrong: 2,
    }]));
    let qr = start_qr(&raw, &[]).await;
    assert_eq!(poll(&raw, &qr, None).await["status"], "need_verifycode");
    assert_eq!(
        poll(&raw, &qr, Some("2")).await["status"],
        "need_verifycode"
    );
    assert_eq!(
        poll(&raw, &qr, Some("3")).await["status"],
        "verify_code_blocked"
    );
    assert_eq!(poll(&raw, &qr, Some("1")).await["status"], "expired");
}

#[tokio::test]
async fn redirect_moves_the_session_to_the_second_host() {
    let sim = Simulator::start().await.unwrap();
    let raw = Raw::new(sim.api_url());
    sim.script_login(QrScript::new(vec![
        QrStep::Redirect,
        QrStep::Confirm {
            target: LoginTarget::NewBot,
        },
    ]));
    let qr = start_qr(&raw, &[]).await;
    let first = poll(&raw, &qr, None).await;
    assert_eq!(first["status"], "scaned_but_redirect");
    let host = first["redirect_host"].as_str().unwrap();
    assert_eq!(format!("http://{host}"), sim.urls().redirect);
    // The first host keeps redirecting; only the second confirms.
    assert_eq!(poll(&raw, &qr, None).await["status"], "scaned_but_redirect");
    let second = Raw::new(&sim.urls().redirect);
    assert_eq!(poll(&second, &qr, None).await["status"], "confirmed");
    assert_eq!(sim.requests_to(Route::GetQrcodeStatus).len(), 3);
}

#[tokio::test]
async fn binded_redirect_and_rebinding_revokes_the_old_token() {
    let sim = Simulator::start().await.unwrap();
    let raw = Raw::new(sim.api_url());
    let bot = sim.create_account();
    // A live token of the bot in local_token_list: already bound.
    sim.script_login(QrScript::new(vec![QrStep::Confirm {
        target: LoginTarget::Existing {
            bot_id: bot.bot_id.clone(),
        },
    }]));
    let qr = start_qr(&raw, &[&bot.token]).await;
    assert_eq!(poll(&raw, &qr, None).await["status"], "binded_redirect");
    // Without it, the bot is bound anew and the old token dies.
    sim.script_login(QrScript::new(vec![QrStep::Confirm {
        target: LoginTarget::Existing {
            bot_id: bot.bot_id.clone(),
        },
    }]));
    let qr = start_qr(&raw, &[]).await;
    let confirmed = poll(&raw, &qr, None).await;
    assert_eq!(confirmed["ilink_bot_id"], json!(bot.bot_id));
    let new_token = confirmed["bot_token"].as_str().unwrap();
    assert_ne!(new_token, bot.token);
    let old = raw
        .post(
            "ilink/bot/getconfig",
            Some(&bot.token),
            json!({"ilink_user_id": "u@im.wechat"}),
        )
        .await
        .json();
    assert_eq!(old["ret"], -14);
    let new = raw
        .post(
            "ilink/bot/getconfig",
            Some(new_token),
            json!({"ilink_user_id": "u@im.wechat"}),
        )
        .await
        .json();
    assert_eq!(new["ret"], 0);
}

#[tokio::test]
async fn expired_qr_and_unknown_statuses() {
    let sim = Simulator::start().await.unwrap();
    let raw = Raw::new(sim.api_url());
    sim.script_login(QrScript::expires());
    sim.script_login(QrScript::new(vec![QrStep::Unknown {
        status: "future_status".into(),
    }]));
    let qr = start_qr(&raw, &[]).await;
    assert_eq!(poll(&raw, &qr, None).await["status"], "wait");
    assert_eq!(poll(&raw, &qr, None).await["status"], "expired");
    assert_eq!(poll(&raw, &qr, None).await["status"], "expired");
    let qr = start_qr(&raw, &[]).await;
    assert_eq!(poll(&raw, &qr, None).await["status"], "future_status");
    assert_eq!(poll(&raw, "never-issued", None).await["status"], "expired");
}
