//! Media out (getuploadurl, streaming CDN upload, the item) and media in
//! (keys, full URLs, caps, safe local names), against the simulator.

use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use ilink::http::ErrorKind;
use ilink::proto::{ItemType, ToolCallStatus};
use ilink::{Bot, Context, Error, MediaError, MediaKind, MediaSource, Message, handler_fn};
use ilink_testkit::{
    Fault, FaultKind, Inbound, KeyForm, Pushed, Route, SentMessage, Simulator, TestAccount,
};

use crate::common::{WAIT, client, memory, receive, sim};

const ALICE: &str = "alice@im.wechat";

/// Deterministic test content.
fn data(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

fn md5(bytes: &[u8]) -> String {
    ilink::crypto::md5(bytes).to_hex()
}

/// A simulator, an account, and a client that has heard from Alice (so her
/// context token is cached).
async fn conversation(sim: Simulator) -> (Simulator, TestAccount, Bot, Pushed) {
    let bot = sim.create_account();
    let client = client(&sim, &bot, memory());
    let pushed = sim.push(&bot.bot_id, Inbound::text(ALICE, "hi"));
    let messages = receive(&client, 1).await;
    assert_eq!(messages[0].text(), "hi");
    (sim, bot, client, pushed)
}

fn assert_clean(sim: &Simulator) {
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());
}

fn assert_renders(sent: &SentMessage) {
    assert!(sent.in_conversation, "sent without the context token");
    assert!(
        sent.rendering_problems.is_empty(),
        "{:?}",
        sent.rendering_problems
    );
}

fn upload_requests(sim: &Simulator) -> Vec<serde_json::Value> {
    sim.requests_to(Route::GetUploadUrl)
        .into_iter()
        .map(|r| r.body.expect("getuploadurl body"))
        .collect()
}

// ------------------------------------------------------------------ media out

#[tokio::test]
async fn an_image_goes_out_with_and_without_upload_full_url() {
    for full_url in [false, true] {
        let sim = Simulator::builder()
            .hold(std::time::Duration::from_millis(400))
            .upload_full_url(full_url)
            .start()
            .await
            .unwrap();
        let (sim, _bot, client, pushed) = conversation(sim).await;
        let image = data(40_000, 1);
        let sent = client.send_image(ALICE, image.clone()).await.unwrap();
        assert_eq!(sent.len(), 1);
        let at_sim = sim.sent();
        assert_eq!(at_sim.len(), 1);
        let msg = &at_sim[0];
        assert_eq!(msg.message_id, sent[0].message_id.unwrap());
        assert_eq!(
            msg.msg.context_token.as_ref().unwrap().expose(),
            pushed.context_token
        );
        assert_renders(msg);
        assert_eq!(msg.media.len(), 1, "no thumbnail");
        let media = &msg.media[0];
        assert_eq!(media.kind, "image");
        assert_eq!(media.size, image.len() as u64);
        assert_eq!(media.md5, md5(&image));
        assert_eq!(media.key_format, ilink::crypto::KeyFormat::Base64Hex);
        assert_eq!(media.bytes.as_deref(), Some(&image));
        let item = msg.msg.item_list[0].image_item.as_ref().unwrap();
        assert_eq!(
            item.mid_size,
            Some(ilink::crypto::ciphertext_size(image.len() as u64))
        );
        assert!(item.thumb_media.is_none());
        let req = &upload_requests(&sim)[0];
        assert_eq!(req["media_type"], 1);
        assert_eq!(req["no_need_thumb"], true);
        assert_eq!(req["rawsize"], image.len());
        assert_eq!(req["context_token"], pushed.context_token.as_str());
        assert_eq!(sim.count(Route::CdnUpload), 1);
        assert_clean(&sim);
    }
}

#[tokio::test]
async fn an_image_with_a_thumbnail() {
    let (sim, _bot, client, _) = conversation(sim().await).await;
    let image = data(70_000, 2);
    let thumb = data(3_000, 3);
    client
        .send_image(ALICE, image.clone())
        .thumbnail(thumb.clone(), 120, 90)
        .await
        .unwrap();
    let msg = &sim.sent()[0];
    assert_renders(msg);
    let kinds: Vec<&str> = msg.media.iter().map(|m| m.kind.as_str()).collect();
    assert_eq!(kinds, ["image", "thumb"]);
    assert_eq!(msg.media[0].bytes.as_deref(), Some(&image));
    assert_eq!(msg.media[1].bytes.as_deref(), Some(&thumb));
    let item = msg.msg.item_list[0].image_item.as_ref().unwrap();
    assert_eq!((item.thumb_width, item.thumb_height), (Some(120), Some(90)));
    assert_eq!(item.thumb_size, Some(ilink::crypto::ciphertext_size(3_000)));
    let req = &upload_requests(&sim)[0];
    assert_eq!(req["no_need_thumb"], false);
    assert_eq!(req["thumb_rawsize"], 3_000);
    assert_eq!(req["thumb_rawfilemd5"], md5(&thumb).as_str());
    assert_eq!(sim.count(Route::CdnUpload), 2);
    assert_clean(&sim);
}

#[tokio::test]
async fn a_video_from_a_path_with_a_thumbnail() {
    let (sim, _bot, client, _) = conversation(sim().await).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clip.MP4");
    let video = data(300_000, 4);
    std::fs::write(&path, &video).unwrap();
    let thumb = data(1_000, 5);
    let sent = client
        .send_media(ALICE, path.as_path())
        .thumbnail(thumb.clone(), 64, 36)
        .await
        .unwrap();
    assert_eq!(sent.len(), 1);
    let msg = &sim.sent()[0];
    assert_renders(msg);
    assert_eq!(msg.msg.item_list[0].kind(), ItemType::VIDEO);
    let item = msg.msg.item_list[0].video_item.as_ref().unwrap();
    assert_eq!(item.video_md5.as_deref(), Some(md5(&video).as_str()));
    assert_eq!(
        item.video_size,
        Some(ilink::crypto::ciphertext_size(300_000))
    );
    assert_eq!(msg.media[0].kind, "video");
    assert_eq!(msg.media[0].bytes.as_deref(), Some(&video));
    assert_eq!(msg.media[1].bytes.as_deref(), Some(&thumb));
    assert_eq!(upload_requests(&sim)[0]["media_type"], 2);
    assert_clean(&sim);
}

#[tokio::test]
async fn files_carry_their_name_length_and_md5() {
    let (sim, _bot, client, _) = conversation(sim().await).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.pdf");
    let pdf = data(12_345, 6);
    std::fs::write(&path, &pdf).unwrap();
    client.send_file(ALICE, path.as_path()).await.unwrap();
    // Bytes take their name from the builder.
    let notes = b"plain notes".to_vec();
    client
        .send_media(ALICE, notes.clone())
        .file_name("notes.txt")
        .await
        .unwrap();
    // An empty file is a file too.
    client
        .send_file(ALICE, Vec::new())
        .file_name("empty.bin")
        .await
        .unwrap();
    let at_sim = sim.sent();
    assert_eq!(at_sim.len(), 3);
    for (msg, (name, content)) in at_sim.iter().zip([
        ("report.pdf", &pdf),
        ("notes.txt", &notes),
        ("empty.bin", &Vec::new()),
    ]) {
        assert_renders(msg);
        let media = &msg.media[0];
        assert_eq!(media.kind, "file");
        assert_eq!(media.file_name.as_deref(), Some(name));
        assert_eq!(media.size, content.len() as u64);
        assert_eq!(media.md5, md5(content));
        assert_eq!(media.bytes.as_deref(), Some(content));
        let item = msg.msg.item_list[0].file_item.as_ref().unwrap();
        assert_eq!(item.len, Some(content.len() as u64));
        assert_eq!(item.md5.as_deref(), Some(md5(content).as_str()));
    }
    assert!(upload_requests(&sim).iter().all(|r| r["media_type"] == 3));
    assert_clean(&sim);
}

#[tokio::test]
async fn audio_goes_out_as_a_file_unless_voice_is_forced() {
    let (sim, _bot, client, _) = conversation(sim().await).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("song.mp3");
    let song = data(5_000, 7);
    std::fs::write(&path, &song).unwrap();
    client.send_media(ALICE, path.as_path()).await.unwrap();
    client
        .send_media(ALICE, path.as_path())
        .kind(MediaKind::Voice)
        .await
        .unwrap();
    let at_sim = sim.sent();
    assert_eq!(at_sim[0].msg.item_list[0].kind(), ItemType::FILE);
    assert_eq!(at_sim[0].media[0].file_name.as_deref(), Some("song.mp3"));
    assert_renders(&at_sim[0]);
    assert_eq!(at_sim[1].msg.item_list[0].kind(), ItemType::VOICE);
    assert_eq!(at_sim[1].media[0].kind, "voice");
    assert_eq!(at_sim[1].media[0].bytes.as_deref(), Some(&song));
    let media_types: Vec<_> = upload_requests(&sim)
        .iter()
        .map(|r| r["media_type"].clone())
        .collect();
    assert_eq!(media_types, [3, 4]);
    assert_clean(&sim);
}

#[tokio::test]
async fn the_caption_goes_first_as_its_own_message() {
    let (sim, _bot, client, _) = conversation(sim().await).await;
    let image = data(2_000, 8);
    let sent = client
        .send_media(ALICE, image.clone())
        .file_name("cat.png")
        .caption("look at this cat")
        .await
        .unwrap();
    assert_eq!(sent.len(), 2);
    let at_sim = sim.sent();
    assert_eq!(at_sim.len(), 2);
    assert_eq!(at_sim[0].text(), "look at this cat");
    assert_eq!(at_sim[0].message_id, sent[0].message_id.unwrap());
    assert_eq!(at_sim[1].msg.item_list[0].kind(), ItemType::IMAGE);
    assert_eq!(at_sim[1].message_id, sent[1].message_id.unwrap());
    assert_ne!(sent[0].client_id, sent[1].client_id);
    for msg in &at_sim {
        assert_renders(msg);
        assert_eq!(msg.msg.item_list.len(), 1);
    }
    assert_clean(&sim);
}

#[tokio::test]
async fn a_throttled_caption_holds_the_media_behind_it() {
    let (sim, _bot, client, _) = conversation(sim().await).await;
    sim.inject(Fault::new(Route::SendMessage, FaultKind::Throttled, 1));
    let sent = client
        .send_image(ALICE, data(100, 9))
        .caption("first")
        .await
        .unwrap();
    // The account cools down: the caption and then the image wait in the
    // outbox, in order.
    assert_eq!(sent.len(), 2);
    assert!(sent.iter().all(|s| !s.is_delivered()));
    assert!(sent[0].waiting.as_ref().unwrap().is_throttled());
    assert!(sim.sent().is_empty());
    assert_eq!(
        sim.count(Route::SendMessage),
        1,
        "the media was not attempted"
    );
    let queued = client.client().store().outbox(client.id()).await.unwrap();
    let ids: Vec<&str> = queued.iter().map(|e| e.client_id.as_str()).collect();
    assert_eq!(
        ids,
        [sent[0].client_id.as_str(), sent[1].client_id.as_str()]
    );
    assert_clean(&sim);
}

#[tokio::test]
async fn a_5xx_from_the_cdn_is_retried_with_the_source_reopened() {
    let (sim, _bot, client, _) = conversation(sim().await).await;
    sim.inject(Fault::new(Route::CdnUpload, FaultKind::Status500, 1));
    let content = bytes::Bytes::from(data(50_000, 10));
    let opened = Arc::new(AtomicUsize::new(0));
    let source = MediaSource::reader({
        let content = content.clone();
        let opened = opened.clone();
        move || {
            opened.fetch_add(1, Ordering::SeqCst);
            let content = content.clone();
            async move { Ok(std::io::Cursor::new(content)) }
        }
    });
    client
        .send_file(ALICE, source)
        .file_name("stream.bin")
        .await
        .unwrap();
    assert_eq!(sim.count(Route::CdnUpload), 2);
    assert_eq!(
        opened.load(Ordering::SeqCst),
        3,
        "hashing pass + two upload attempts"
    );
    let msg = &sim.sent()[0];
    assert_renders(msg);
    assert_eq!(
        msg.media[0].bytes.as_deref().map(|b| b.as_slice()),
        Some(&content[..])
    );
    assert_clean(&sim);
}

#[tokio::test]
async fn a_failing_getuploadurl_is_an_error_and_nothing_is_sent() {
    let (sim, _bot, client, _) = conversation(sim().await).await;
    sim.inject(Fault::new(Route::GetUploadUrl, FaultKind::Status500, 1));
    let err = client.send_image(ALICE, data(100, 11)).await.unwrap_err();
    match &err {
        Error::Http(e) => assert_eq!(e.status(), Some(500)),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(sim.count(Route::CdnUpload), 0);
    assert!(sim.sent().is_empty());
    assert_clean(&sim);
}

#[tokio::test]
async fn progress_reaches_the_total() {
    let (sim, _bot, client, _) = conversation(sim().await).await;
    let content = data(700_000, 12);
    let calls = Arc::new(Mutex::new(Vec::new()));
    client
        .send_video(ALICE, content.clone())
        .on_progress({
            let calls = calls.clone();
            move |sent, total| calls.lock().unwrap().push((sent, total))
        })
        .await
        .unwrap();
    let calls = calls.lock().unwrap().clone();
    let total = content.len() as u64;
    assert!(calls.len() > 1, "several chunks: {calls:?}");
    assert!(calls.iter().all(|&(_, t)| t == total));
    assert!(
        calls.windows(2).all(|w| w[0].0 <= w[1].0),
        "monotonic: {calls:?}"
    );
    assert_eq!(calls.last(), Some(&(total, total)));
    assert_renders(&sim.sent()[0]);
    assert_clean(&sim);
}

#[tokio::test]
async fn the_hashing_pass_reports_progress_from_a_path() {
    let (sim, _bot, client, _) = conversation(sim().await).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clip.mp4");
    let content = data(3_000_000, 13);
    std::fs::write(&path, &content).unwrap();
    let calls = Arc::new(Mutex::new(Vec::new()));
    client
        .send_media(ALICE, ilink::MediaSource::path(&path))
        .on_hash_progress({
            let calls = calls.clone();
            move |done, total| calls.lock().unwrap().push((done, total))
        })
        .await
        .unwrap();
    let calls = calls.lock().unwrap().clone();
    let total = content.len() as u64;
    assert!(calls.len() > 1, "several reads: {calls:?}");
    assert!(calls.iter().all(|&(_, t)| t == total));
    assert!(calls.windows(2).all(|w| w[0].0 <= w[1].0));
    assert_eq!(calls.last(), Some(&(total, total)));
    assert_clean(&sim);
}

#[tokio::test]
async fn tool_calls_go_out_as_items() {
    let (sim, _bot, client, pushed) = conversation(sim().await).await;
    let start = client
        .tool_call_start(ALICE, "web_search", "call-1")
        .await
        .unwrap();
    client
        .tool_call_result(ALICE, "web_search", "call-1", ToolCallStatus::Failed)
        .await
        .unwrap();
    let at_sim = sim.sent();
    assert_eq!(at_sim.len(), 2);
    assert_eq!(at_sim[0].message_id, start.message_id.unwrap());
    let item = &at_sim[0].msg.item_list[0];
    assert_eq!(item.kind(), ItemType::TOOL_CALL_START);
    assert_eq!(item.is_completed, Some(false));
    let s = item.tool_call_start_item.as_ref().unwrap();
    assert_eq!(s.tool_name.as_deref(), Some("web_search"));
    assert_eq!(s.tool_call_id.as_deref(), Some("call-1"));
    let item = &at_sim[1].msg.item_list[0];
    assert_eq!(item.kind(), ItemType::TOOL_CALL_RESULT);
    assert_eq!(item.is_completed, Some(true));
    let r = item.tool_call_result_item.as_ref().unwrap();
    assert_eq!(r.status, Some(ToolCallStatus::Failed));
    for msg in &at_sim {
        assert_eq!(
            msg.msg.context_token.as_ref().unwrap().expose(),
            pushed.context_token
        );
        assert_renders(msg);
    }
    assert_clean(&sim);
}

#[tokio::test]
async fn a_handler_downloads_and_sends_media_through_its_context() {
    let sim = sim().await;
    let bot = sim.create_account();
    let client = client(&sim, &bot, memory());
    let image = data(9_000, 13);
    let pushed = sim.push(&bot.bot_id, Inbound::image(ALICE, image.clone()));
    let handler = handler_fn(|ctx: Context, msg: Message| async move {
        let item = &msg.items()[0];
        ctx.tool_call_start("mirror", "m1").await?;
        let bytes = ctx.download(item).bytes().await?;
        ctx.send_media(bytes)
            .file_name("mirror.png")
            .caption("mirrored")
            .await?;
        ctx.tool_call_result("mirror", "m1", ToolCallStatus::Completed)
            .await?;
        Ok(())
    });
    let stop = Arc::new(tokio::sync::Notify::new());
    let run = tokio::spawn({
        let client = client.clone();
        let stop = stop.clone();
        async move { client.run_until(handler, stop.notified()).await }
    });
    let sent = sim.wait_for_sent(4, WAIT).await.unwrap();
    stop.notify_one();
    run.await.unwrap().unwrap();
    let kinds: Vec<ItemType> = sent.iter().map(|m| m.msg.item_list[0].kind()).collect();
    assert_eq!(
        kinds,
        [
            ItemType::TOOL_CALL_START,
            ItemType::TEXT,
            ItemType::IMAGE,
            ItemType::TOOL_CALL_RESULT
        ]
    );
    assert_eq!(sent[2].media[0].bytes.as_deref(), Some(&image));
    for msg in &sent {
        assert_eq!(
            msg.msg.context_token.as_ref().unwrap().expose(),
            pushed.context_token
        );
        assert_renders(msg);
    }
    assert_clean(&sim);
}

// ------------------------------------------------------------------ media in

#[tokio::test]
async fn images_download_in_every_key_form_with_and_without_full_url() {
    let sim = sim().await;
    let bot = sim.create_account();
    let client = client(&sim, &bot, memory());
    let forms = [
        KeyForm::Base64Raw,
        KeyForm::Base64Hex,
        KeyForm::HexAndBase64Hex,
        KeyForm::HexOnly,
        KeyForm::Unencrypted,
    ];
    let mut expected = Vec::new();
    for (i, form) in forms.into_iter().enumerate() {
        for full_url in [false, true] {
            let image = data(1_000 + i * 333, i as u8);
            let mut inbound = Inbound::image(ALICE, image.clone()).key(form);
            if full_url {
                inbound = inbound.full_url();
            }
            sim.push(&bot.bot_id, inbound);
            expected.push((form, full_url, image));
        }
    }
    let messages = receive(&client, expected.len()).await;
    for (msg, (form, full_url, image)) in messages.iter().zip(&expected) {
        let item = &msg.items()[0];
        assert_eq!(item.media().unwrap().full_url.is_some(), *full_url);
        let got = client.download(item).bytes().await.unwrap_or_else(|e| {
            panic!("{form:?} full_url={full_url}: {e:?}");
        });
        assert_eq!(&got, image, "{form:?} full_url={full_url}");
    }
    // A full URL, when present, is what is fetched.
    let full: Vec<_> = sim
        .requests_to(Route::CdnDownload)
        .into_iter()
        .filter(|r| r.path.contains("/full/"))
        .collect();
    assert_eq!(full.len(), 5);
    assert_clean(&sim);
}

#[tokio::test]
async fn voice_file_and_video_download() {
    let sim = sim().await;
    let bot = sim.create_account();
    let client = client(&sim, &bot, memory());
    let voice = data(3_210, 20);
    let file = data(65_537, 21);
    let video = data(123_456, 22);
    sim.push(
        &bot.bot_id,
        Inbound::voice(ALICE, voice.clone(), Some("hello")),
    );
    sim.push(
        &bot.bot_id,
        Inbound::file(ALICE, "a.zip", file.clone()).full_url(),
    );
    sim.push(&bot.bot_id, Inbound::video(ALICE, video.clone()));
    let messages = receive(&client, 3).await;
    let mut writer = Vec::new();
    let written = client
        .download(&messages[0].items()[0])
        .to_writer(&mut writer)
        .await
        .unwrap();
    assert_eq!(written, voice.len() as u64);
    assert_eq!(writer, voice);
    assert_eq!(
        client
            .download(&messages[1].items()[0])
            .bytes()
            .await
            .unwrap(),
        file
    );
    let d = client.download(&messages[2].items()[0]);
    assert_eq!(d.kind(), Some(MediaKind::Video));
    assert_eq!(d.bytes().await.unwrap(), video);
    assert_clean(&sim);
}

#[tokio::test]
async fn what_cannot_be_downloaded_is_a_typed_error() {
    let sim = sim().await;
    let bot = sim.create_account();
    let client = client(&sim, &bot, memory());
    sim.push(
        &bot.bot_id,
        Inbound::file(ALICE, "big.bin", data(10_000, 30)),
    );
    sim.push(&bot.bot_id, Inbound::text(ALICE, "not media"));
    let messages = receive(&client, 2).await;
    let err = client
        .download(&messages[0].items()[0])
        .cap(4_096)
        .bytes()
        .await
        .unwrap_err();
    match &err {
        Error::Http(e) => assert!(
            matches!(e.kind(), ErrorKind::TooLarge { limit: 4_096 }),
            "{e:?}"
        ),
        other => panic!("unexpected {other:?}"),
    }
    let err = client
        .download(&messages[1].items()[0])
        .bytes()
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Media(MediaError::NotMedia { item_type: 1 })),
        "{err:?}"
    );
    // A file without its key.
    let mut keyless = messages[0].items()[0].clone();
    keyless
        .file_item
        .as_mut()
        .unwrap()
        .media
        .as_mut()
        .unwrap()
        .aes_key = None;
    let err = client.download(&keyless).bytes().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Media(MediaError::MissingKey {
                kind: MediaKind::File
            })
        ),
        "{err:?}"
    );
    assert_clean(&sim);
}

/// Every entry of a directory, recursively, relative to it.
fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type().unwrap().is_dir() {
            out.extend(
                tree(&entry.path())
                    .into_iter()
                    .map(|n| format!("{name}/{n}")),
            );
        }
        out.push(name);
    }
    out.sort();
    out
}

#[tokio::test]
async fn hostile_file_names_are_saved_inside_the_directory_under_safe_names() {
    let sim = sim().await;
    let bot = sim.create_account();
    let client = client(&sim, &bot, memory());
    let long = format!("{}.txt", "n".repeat(400));
    let names = [
        "../../x",
        "/etc/passwd",
        "..",
        "a/b\\c",
        "CON",
        "",
        long.as_str(),
        "same.txt",
        "same.txt",
        "same.txt",
    ];
    for (i, name) in names.iter().enumerate() {
        sim.push(
            &bot.bot_id,
            Inbound::file(ALICE, *name, data(100 + i, i as u8)),
        );
    }
    sim.push(
        &bot.bot_id,
        Inbound::image(ALICE, b"\x89PNG\r\n\x1a\nrest".to_vec()),
    );
    let messages = receive(&client, names.len() + 1).await;
    let root = tempfile::tempdir().unwrap();
    let inbox = root.path().join("inbox");
    let mut saved = Vec::new();
    for (i, msg) in messages.iter().enumerate() {
        let path = client
            .download(&msg.items()[0])
            .to_dir(&inbox)
            .await
            .unwrap();
        assert_eq!(path.parent(), Some(inbox.as_path()), "{path:?}");
        let content = std::fs::read(&path).unwrap();
        if i < names.len() {
            assert_eq!(content, data(100 + i, i as u8), "{path:?}");
        }
        saved.push(path.file_name().unwrap().to_string_lossy().into_owned());
    }
    let unique: HashSet<_> = saved.iter().collect();
    assert_eq!(unique.len(), saved.len(), "nothing overwritten: {saved:?}");
    assert_eq!(saved[0], "x");
    assert_eq!(saved[1], "etc_passwd");
    assert!(
        saved[2].starts_with("file-") && saved[2].ends_with(".bin"),
        "{}",
        saved[2]
    );
    assert_eq!(saved[3], "a_b_c");
    assert_eq!(saved[4], "_CON");
    assert!(saved[5].starts_with("file-"), "{}", saved[5]);
    assert!(
        saved[6].len() <= 255 && saved[6].ends_with(".txt"),
        "{}",
        saved[6]
    );
    assert_eq!(&saved[7..10], ["same.txt", "same (1).txt", "same (2).txt"]);
    assert!(
        saved[10].starts_with("image-") && saved[10].ends_with(".png"),
        "{}",
        saved[10]
    );
    for name in &saved {
        assert!(!name.starts_with('.'), "{name}");
    }
    // Nothing outside the inbox, and no temporary file left behind.
    let mut expected: Vec<String> = saved.iter().map(|n| format!("inbox/{n}")).collect();
    expected.push("inbox".to_owned());
    expected.sort();
    assert_eq!(tree(root.path()), expected);
    assert_clean(&sim);
}

#[tokio::test]
async fn a_failed_download_to_a_path_leaves_nothing_behind() {
    let sim = sim().await;
    let bot = sim.create_account();
    let client = client(&sim, &bot, memory());
    let content = data(20_000, 40);
    sim.push(
        &bot.bot_id,
        Inbound::file(ALICE, "doc.bin", content.clone()),
    );
    let messages = receive(&client, 1).await;
    let item = &messages[0].items()[0];
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("doc.bin");
    let err = client
        .download(item)
        .cap(1_000)
        .to_path(&target)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Http(_)), "{err:?}");
    assert!(tree(dir.path()).is_empty(), "{:?}", tree(dir.path()));
    // Cut every time (a cut before any plaintext is tried again, 3
    // attempts in all): the download fails, and leaves nothing.
    sim.inject(Fault::new(Route::CdnDownload, FaultKind::TruncatedBody, 3));
    assert!(client.download(item).to_path(&target).await.is_err());
    assert_eq!(
        sim.count(Route::CdnDownload),
        4,
        "the cap's refusal, then 3 attempts"
    );
    assert!(tree(dir.path()).is_empty(), "{:?}", tree(dir.path()));
    // Cut once: the next attempt brings it.
    sim.inject(Fault::new(Route::CdnDownload, FaultKind::TruncatedBody, 1));
    let written = client.download(item).to_path(&target).await.unwrap();
    assert_eq!(written, content.len() as u64);
    assert_eq!(std::fs::read(&target).unwrap(), content);
    std::fs::remove_file(&target).unwrap();
    let written = client.download(item).to_path(&target).await.unwrap();
    assert_eq!(written, content.len() as u64);
    assert_eq!(std::fs::read(&target).unwrap(), content);
    assert_eq!(tree(dir.path()), ["doc.bin"]);
    assert_clean(&sim);
}

/// About 1 wrong key in 256 passes the PKCS7 check. The MD5 and size the
/// file message declares catch it: a typed error, and nothing is left at
/// the destination.
#[tokio::test]
async fn a_wrong_key_with_valid_padding_and_a_wrong_declared_size_are_errors() {
    use ilink::crypto::{MediaKey, decrypt};
    use ilink::http::DownloadSource;
    use ilink::proto::AesKeyText;

    let sim = sim().await;
    let bot = sim.create_account();
    let client = client(&sim, &bot, memory());
    let content = data(20_000, 50);
    sim.push(
        &bot.bot_id,
        Inbound::file(ALICE, "doc.bin", content.clone()),
    );
    let messages = receive(&client, 1).await;
    let item = messages[0].items()[0].clone();
    let media = item.media().expect("a CDN reference").clone();
    // The ciphertext as the CDN holds it.
    let mut ciphertext = Vec::new();
    client
        .client()
        .transport()
        .download_to(
            &DownloadSource::from_media(&media).unwrap(),
            None,
            &mut ciphertext,
            None,
        )
        .await
        .unwrap();
    // A wrong key whose padding checks out: expected within ~256 tries.
    let wrong = (0..100_000u32)
        .map(|i| {
            let mut bytes = [0u8; 16];
            bytes[..4].copy_from_slice(&i.to_le_bytes());
            bytes[4] = 0xa5;
            MediaKey::from_bytes(bytes)
        })
        .find(|k| decrypt(k, &ciphertext).is_ok_and(|p| p != content))
        .expect("a wrong key with valid padding");
    let mut forged = item.clone();
    let file = forged.file_item.as_mut().unwrap();
    file.media.as_mut().unwrap().aes_key = Some(AesKeyText::new(wrong.to_base64_hex()));
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("doc.bin");
    let err = client.download(&forged).to_path(&target).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Media(MediaError::Md5Mismatch { .. } | MediaError::SizeMismatch { .. })
        ),
        "{err:?}"
    );
    assert!(tree(dir.path()).is_empty(), "{:?}", tree(dir.path()));

    // The right key, but a message that declares another size.
    let mut resized = item.clone();
    resized.file_item.as_mut().unwrap().len = Some(content.len() as u64 + 1);
    let err = client.download(&resized).bytes().await.unwrap_err();
    assert!(
        matches!(err, Error::Media(MediaError::SizeMismatch { declared, got, .. })
            if declared == content.len() as u64 + 1 && got == content.len() as u64),
        "{err:?}"
    );
    // The right key and the declared MD5 and size: fine.
    assert_eq!(client.download(&item).bytes().await.unwrap(), content);
    assert_clean(&sim);
}
