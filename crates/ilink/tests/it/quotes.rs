//! Quotes: embedded items, items resolved from recently received messages,
//! and quotes that stay unresolved.

use ilink::QuoteSource;
use ilink::proto::ItemType;
use ilink_testkit::{Inbound, PartialQuote, Quote};

use crate::common::{client, memory, receive, sim};

const ALICE: &str = "alice@im.wechat";

#[tokio::test]
async fn an_embedded_quote_with_a_partial_selection() {
    let sim = sim().await;
    let bot = sim.create_account();
    let client = client(&sim, &bot, memory());
    let quote = Quote::of(4242)
        .with_text("the quick brown fox jumps over the quick brown dog")
        .with_title("Bob: the quick brown fox")
        .with_partial(PartialQuote::new("quick", 1, "dog", 0).with_md5_of("quick brown dog"));
    sim.push(&bot.bot_id, Inbound::text(ALICE, "which dog?").quote(quote));
    sim.push(&bot.bot_id, Inbound::text(ALICE, "no quote here"));
    let messages = receive(&client, 2).await;
    let quoted = client.quoted(&messages[0]).expect("a quote");
    assert_eq!(quoted.resolved_from, QuoteSource::Embedded);
    assert_eq!(quoted.svr_id.as_ref().map(|id| id.as_str()), Some("4242"));
    assert_eq!(quoted.title.as_deref(), Some("Bob: the quick brown fox"));
    assert_eq!(
        quoted.text(),
        Some("the quick brown fox jumps over the quick brown dog")
    );
    let part = quoted.partial.as_ref().unwrap();
    assert_eq!(part.start.as_deref(), Some("quick"));
    assert_eq!(part.start_index, Some(1));
    assert_eq!(part.end.as_deref(), Some("dog"));
    assert_eq!(part.end_index, Some(0));
    assert!(part.quote_md5.is_some());
    assert_eq!(quoted.selected_text(), Some("quick brown dog"));
    assert_eq!(client.quoted(&messages[1]), None);
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());
}

#[tokio::test]
async fn a_quote_by_id_resolves_from_a_message_seen_earlier() {
    let sim = sim().await;
    let bot = sim.create_account();
    let client = client(&sim, &bot, memory());
    let first = sim.push(&bot.bot_id, Inbound::text(ALICE, "remember me"));
    let picture = b"\xff\xd8\xff picture".to_vec();
    let image = sim.push(&bot.bot_id, Inbound::image(ALICE, picture.clone()));
    let earlier = receive(&client, 2).await;
    assert_eq!(earlier.len(), 2);

    sim.push(
        &bot.bot_id,
        Inbound::text(ALICE, "about that").quote(Quote::of(first.message_id.get())),
    );
    sim.push(
        &bot.bot_id,
        Inbound::text(ALICE, "and this").quote(Quote::of(image.message_id.get())),
    );
    sim.push(
        &bot.bot_id,
        Inbound::text(ALICE, "and what?").quote(Quote::of(987_654_321).with_title("gone")),
    );
    let later = receive(&client, 3).await;

    let text = client.quoted(&later[0]).unwrap();
    assert_eq!(text.resolved_from, QuoteSource::RecentCache);
    assert_eq!(text.text(), Some("remember me"));
    assert_eq!(text.selected_text(), Some("remember me"));

    // A quoted image can be downloaded like any other.
    let quoted_image = client.quoted(&later[1]).unwrap();
    assert_eq!(quoted_image.resolved_from, QuoteSource::RecentCache);
    let item = quoted_image.item.as_ref().unwrap();
    assert_eq!(item.kind(), ItemType::IMAGE);
    assert_eq!(client.download(item).bytes().await.unwrap(), picture);

    let unknown = client.quoted(&later[2]).unwrap();
    assert_eq!(unknown.resolved_from, QuoteSource::Unresolved);
    assert_eq!(unknown.item, None);
    assert_eq!(unknown.title.as_deref(), Some("gone"));
    assert_eq!(
        unknown.svr_id.as_ref().map(|id| id.as_str()),
        Some("987654321")
    );
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());
}

#[tokio::test]
async fn a_quote_seen_by_another_client_of_the_account_is_unresolved_here() {
    // The cache lives with the account's handle in this process: a client of
    // a different account does not resolve it.
    let sim = sim().await;
    let bot = sim.create_account();
    let other = sim.create_account();
    let client = client(&sim, &bot, memory());
    let stranger = crate::common::client(&sim, &other, memory());
    let first = sim.push(&bot.bot_id, Inbound::text(ALICE, "hello"));
    sim.push(
        &bot.bot_id,
        Inbound::text(ALICE, "re").quote(Quote::of(first.message_id.get())),
    );
    let messages = receive(&client, 2).await;
    assert_eq!(
        client.quoted(&messages[1]).unwrap().resolved_from,
        QuoteSource::RecentCache
    );
    assert_eq!(
        stranger.quoted(&messages[1]).unwrap().resolved_from,
        QuoteSource::Unresolved
    );
}

#[tokio::test]
async fn quoted_media_is_the_media_of_a_message_without_its_own() {
    let sim = sim().await;
    let bot = sim.create_account();
    let client = client(&sim, &bot, memory());
    let photo = b"\xff\xd8\xff the photo".to_vec();
    let clip = b"\x00\x00\x00\x18ftypmp42 the clip".to_vec();
    let own = b"\x89PNG own picture".to_vec();
    // Quoted by a phone that embeds the item (the official client's case).
    sim.push(
        &bot.bot_id,
        Inbound::text(ALICE, "what is this?")
            .quote(Quote::of(31).with_media(Inbound::image(ALICE, photo.clone()).content)),
    );
    sim.push(
        &bot.bot_id,
        Inbound::text(ALICE, "and this clip?")
            .quote(Quote::of(32).with_media(Inbound::video(ALICE, clip.clone()).content)),
    );
    // A message with media of its own that also quotes media: its own wins.
    sim.push(
        &bot.bot_id,
        Inbound::image(ALICE, own.clone())
            .quote(Quote::of(33).with_media(Inbound::image(ALICE, photo.clone()).content)),
    );
    // A quote of text brings no media.
    sim.push(
        &bot.bot_id,
        Inbound::text(ALICE, "re").quote(Quote::of(34).with_text("words")),
    );
    let messages = receive(&client, 4).await;

    let quoted_photo = client.media_of(&messages[0]);
    assert_eq!(quoted_photo.len(), 1);
    assert_eq!(quoted_photo[0].quoted, Some(QuoteSource::Embedded));
    assert_eq!(quoted_photo[0].item.kind(), ItemType::IMAGE);
    let got = client.download(&quoted_photo[0].item).bytes().await;
    assert_eq!(got.unwrap(), photo);

    let quoted_clip = client.media_of(&messages[1]);
    assert_eq!(quoted_clip[0].item.kind(), ItemType::VIDEO);
    let got = client.download(&quoted_clip[0].item).bytes().await;
    assert_eq!(got.unwrap(), clip);

    let mine = client.media_of(&messages[2]);
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].quoted, None);
    assert_eq!(client.download(&mine[0].item).bytes().await.unwrap(), own);

    assert!(client.media_of(&messages[3]).is_empty());
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());
}

#[tokio::test]
async fn quoted_media_by_id_comes_from_the_recent_messages() {
    let sim = sim().await;
    let bot = sim.create_account();
    let client = client(&sim, &bot, memory());
    let doc = b"%PDF-1.7 quoted".to_vec();
    let file = sim.push(&bot.bot_id, Inbound::file(ALICE, "report.pdf", doc.clone()));
    receive(&client, 1).await;
    sim.push(
        &bot.bot_id,
        Inbound::text(ALICE, "summarise it").quote(Quote::of(file.message_id.get())),
    );
    let later = receive(&client, 1).await;
    let media = client.media_of(&later[0]);
    assert_eq!(media.len(), 1);
    assert_eq!(media[0].quoted, Some(QuoteSource::RecentCache));
    assert_eq!(client.download(&media[0].item).bytes().await.unwrap(), doc);
}
