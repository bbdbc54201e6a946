use std::time::Duration;

use ilink_crypto::MediaKey;
use ilink_testkit::{Inbound, KeyForm, Simulator};
use serde_json::{Value, json};

use crate::raw::{Raw, outbound};

struct Upload {
    param: String,
    filekey: String,
    key: MediaKey,
    thumb_param: Option<String>,
}

async fn upload_slot(
    raw: &Raw,
    token: &str,
    media_type: i32,
    plain: &[u8],
    thumb: Option<&[u8]>,
) -> (Upload, Value) {
    let key = MediaKey::generate().unwrap();
    let filekey = ilink_crypto::FileKey::generate().unwrap().to_string();
    let mut body = json!({
        "filekey": filekey, "media_type": media_type, "to_user_id": "alice@im.wechat",
        "rawsize": plain.len(), "rawfilemd5": ilink_crypto::md5(plain).to_hex(),
        "filesize": ilink_proto::ciphertext_size(plain.len() as u64),
        "no_need_thumb": thumb.is_none(), "aeskey": key.to_hex(),
    });
    if let Some(t) = thumb {
        body["thumb_rawsize"] = json!(t.len());
        body["thumb_rawfilemd5"] = json!(ilink_crypto::md5(t).to_hex());
        body["thumb_filesize"] = json!(ilink_proto::ciphertext_size(t.len() as u64));
    }
    let resp = raw
        .post("ilink/bot/getuploadurl", Some(token), body)
        .await
        .json();
    let upload = Upload {
        param: resp["upload_param"].as_str().unwrap_or_default().to_owned(),
        thumb_param: resp["thumb_upload_param"].as_str().map(str::to_owned),
        filekey,
        key,
    };
    (upload, resp)
}

#[tokio::test]
async fn upload_then_send_an_image_and_a_file() {
    let sim = Simulator::builder()
        .upload_full_url(true)
        .start()
        .await
        .unwrap();
    let bot = sim.create_account();
    let raw = Raw::new(sim.api_url());
    let cdn = Raw::new(sim.cdn_url());
    let plain: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let thumb = vec![9u8; 17];
    let (up, resp) = upload_slot(&raw, &bot.token, 1, &plain, Some(&thumb)).await;
    let full = resp["upload_full_url"].as_str().unwrap();
    assert_eq!(
        full,
        ilink_proto::cdn_upload_url(sim.cdn_url(), &up.param, &up.filekey)
    );
    let a = cdn
        .post_bytes(full, ilink_crypto::encrypt(&up.key, &plain))
        .await
        .unwrap();
    assert_eq!(a.status, 200, "{}", a.text);
    let download_param = a.headers["x-encrypted-param"].to_str().unwrap().to_owned();
    let thumb_url = ilink_proto::cdn_upload_url(
        sim.cdn_url(),
        up.thumb_param.as_deref().unwrap(),
        &up.filekey,
    );
    let t = cdn
        .post_bytes(&thumb_url, ilink_crypto::encrypt(&up.key, &thumb))
        .await
        .unwrap();
    let thumb_param = t.headers["x-encrypted-param"].to_str().unwrap().to_owned();

    let media = json!({"encrypt_query_param": download_param, "aes_key": up.key.to_base64_hex(), "encrypt_type": 1});
    let thumb_media = json!({"encrypt_query_param": thumb_param, "aes_key": up.key.to_base64_hex(), "encrypt_type": 1});
    let item = json!({"type": 2, "image_item": {"media": media, "thumb_media": thumb_media, "mid_size": 100_016}});
    let ok = raw
        .post(
            "ilink/bot/sendmessage",
            Some(&bot.token),
            outbound("alice@im.wechat", "i1", None, item),
        )
        .await
        .json();
    assert_eq!(ok["ret"], 0);
    let sent = sim.wait_for_sent(1, Duration::from_secs(5)).await.unwrap();
    let m = &sent[0];
    assert_eq!(m.media.len(), 2);
    assert_eq!(m.media[0].md5, ilink_crypto::md5(&plain).to_hex());
    assert_eq!(
        m.media[0].bytes.as_deref().map(Vec::as_slice),
        Some(plain.as_slice())
    );
    assert_eq!(m.media[1].kind, "thumb");
    assert_eq!(
        m.rendering_problems,
        ["no context_token: the message may not reach the chat window"]
    );

    // A grey image: base64 of the raw key.
    let grey = json!({"type": 2, "image_item": {"media": {"encrypt_query_param": m.msg.item_list[0].image_item.as_ref().unwrap().media.as_ref().unwrap().encrypt_query_param, "aes_key": up.key.to_base64_raw()}}});
    raw.post(
        "ilink/bot/sendmessage",
        Some(&bot.token),
        outbound("alice@im.wechat", "i2", None, grey),
    )
    .await;
    let sent = sim.wait_for_sent(2, Duration::from_secs(5)).await.unwrap();
    assert!(
        sent[1]
            .rendering_problems
            .iter()
            .any(|p| p.contains("grey"))
    );

    // A file without md5 arrives as 0 bytes.
    let (up, _) = upload_slot(&raw, &bot.token, 3, b"abc", None).await;
    let url = ilink_proto::cdn_upload_url(sim.cdn_url(), &up.param, &up.filekey);
    let a = cdn
        .post_bytes(&url, ilink_crypto::encrypt(&up.key, b"abc"))
        .await
        .unwrap();
    let param = a.headers["x-encrypted-param"].to_str().unwrap();
    let file = json!({"type": 4, "file_item": {"media": {"encrypt_query_param": param, "aes_key": up.key.to_base64_hex()}, "file_name": "a.txt", "len": "3"}});
    raw.post(
        "ilink/bot/sendmessage",
        Some(&bot.token),
        outbound("alice@im.wechat", "f1", None, file),
    )
    .await;
    let sent = sim.wait_for_sent(3, Duration::from_secs(5)).await.unwrap();
    assert!(
        sent[2]
            .rendering_problems
            .iter()
            .any(|p| p.contains("0 bytes"))
    );
}

#[tokio::test]
async fn bad_uploads_get_4xx_with_a_reason() {
    let sim = Simulator::start().await.unwrap();
    let bot = sim.create_account();
    let raw = Raw::new(sim.api_url());
    let cdn = Raw::new(sim.cdn_url());
    let plain = vec![5u8; 33];
    let (up, _) = upload_slot(&raw, &bot.token, 3, &plain, None).await;
    let url = ilink_proto::cdn_upload_url(sim.cdn_url(), &up.param, &up.filekey);
    let wrong_key = MediaKey::generate().unwrap();
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (ilink_crypto::encrypt(&wrong_key, &plain), "decrypt"),
        (ilink_crypto::encrypt(&up.key, &[5u8; 10]), "declared"),
        (ilink_crypto::encrypt(&up.key, &[5u8; 32]), "rawsize"),
        (ilink_crypto::encrypt(&up.key, &[6u8; 33]), "MD5"),
        (ilink_crypto::encrypt(&up.key, &[5u8; 60]), "larger"),
    ];
    for (body, reason) in cases {
        let a = cdn.post_bytes(&url, body).await.unwrap();
        assert_eq!(a.status, 400);
        let msg = a.headers["x-error-message"].to_str().unwrap();
        assert!(msg.contains(reason), "{msg} should mention {reason}");
    }
    let unknown = ilink_proto::cdn_upload_url(sim.cdn_url(), "nope", &up.filekey);
    assert_eq!(
        cdn.post_bytes(&unknown, vec![0; 16]).await.unwrap().status,
        400
    );
    // getuploadurl validation: filesize must be the padded size.
    let bad = raw
        .post("ilink/bot/getuploadurl", Some(&bot.token), json!({"filekey": up.filekey, "media_type": 3, "to_user_id": "a@im.wechat", "rawsize": 16, "rawfilemd5": ilink_crypto::md5(b"").to_hex(), "filesize": 16, "aeskey": up.key.to_hex()}))
        .await
        .json();
    assert_eq!(bad["ret"], -1);
    // An image without no_need_thumb needs the thumb fields.
    let bad = raw
        .post("ilink/bot/getuploadurl", Some(&bot.token), json!({"filekey": up.filekey, "media_type": 1, "to_user_id": "a@im.wechat", "rawsize": 1, "rawfilemd5": ilink_crypto::md5(b"").to_hex(), "filesize": 16, "aeskey": up.key.to_hex()}))
        .await
        .json();
    assert_eq!(bad["ret"], -1);
}

#[tokio::test]
async fn inbound_media_downloads_in_every_key_form() {
    let sim = Simulator::builder()
        .hold(Duration::from_millis(50))
        .start()
        .await
        .unwrap();
    let bot = sim.create_account();
    let raw = Raw::new(sim.api_url());
    let forms = [
        KeyForm::Base64Raw,
        KeyForm::Base64Hex,
        KeyForm::HexAndBase64Hex,
        KeyForm::HexOnly,
        KeyForm::Unencrypted,
    ];
    let plain: Vec<u8> = (0..70_000u32).map(|i| (i * 7) as u8).collect();
    for (i, form) in forms.iter().enumerate() {
        let mut inbound = Inbound::image("a@im.wechat", plain.clone()).key(*form);
        if i % 2 == 0 {
            inbound = inbound.full_url();
        }
        sim.push(&bot.bot_id, inbound);
    }
    let batch = raw
        .post(
            "ilink/bot/getupdates",
            Some(&bot.token),
            json!({"get_updates_buf": ""}),
        )
        .await
        .json();
    let cdn = Raw::new(sim.cdn_url());
    for (i, msg) in batch["msgs"].as_array().unwrap().iter().enumerate() {
        let image = &msg["item_list"][0]["image_item"];
        let media = &image["media"];
        let url = match media["full_url"].as_str() {
            Some(u) => u.to_owned(),
            None => ilink_proto::cdn_download_url(
                sim.cdn_url(),
                media["encrypt_query_param"].as_str().unwrap(),
            ),
        };
        let got = cdn.get_url(&url).await.unwrap();
        assert_eq!(got.status, 200);
        let body = got.text.into_bytes();
        let key_text = image["aeskey"].as_str().or(media["aes_key"].as_str());
        let decoded = match key_text {
            None => body,
            Some(k) => {
                let (key, _) = MediaKey::parse(k).unwrap();
                // Bytes went through a lossy String: re-fetch raw instead.
                let again = fetch_bytes(&url).await;
                ilink_crypto::decrypt(&key, &again).unwrap()
            }
        };
        if key_text.is_none() {
            assert_eq!(forms[i], KeyForm::Unencrypted);
            let again = fetch_bytes(&url).await;
            assert_eq!(again, plain);
        } else {
            assert_eq!(decoded, plain, "form {:?}", forms[i]);
        }
    }
}

async fn fetch_bytes(url: &str) -> Vec<u8> {
    use http_body_util::BodyExt;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<bytes::Bytes>>();
    let resp = client.get(url.parse().unwrap()).await.unwrap();
    resp.into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec()
}
