//! Voice notes: real SILK from the simulator, decoded to PCM and WAV.

use std::time::Duration;

use ilink::voice::VoiceError;
use ilink_testkit::Inbound;

use crate::common::{client, memory, receive, sim};

const ALICE: &str = "alice@im.wechat";

/// The tone's frequency, from the zero crossings of the middle of the audio
/// (the codec's onset and tail left out).
fn dominant_hz(samples: &[i16], rate: u32) -> f64 {
    let middle = &samples[samples.len() / 4..samples.len() * 3 / 4];
    let crossings = middle
        .windows(2)
        .filter(|w| (w[0] < 0) != (w[1] < 0))
        .count();
    crossings as f64 / 2.0 / (middle.len() as f64 / f64::from(rate))
}

#[tokio::test]
async fn a_voice_note_decodes_to_its_duration_and_its_tone() {
    let sim = sim().await;
    let bot = sim.create_account();
    let client = client(&sim, &bot, memory());
    sim.push(
        &bot.bot_id,
        Inbound::voice_tone(ALICE, 440.0, Duration::from_millis(2_000)),
    );
    sim.push(
        &bot.bot_id,
        Inbound::voice_tone(ALICE, 1_000.0, Duration::from_millis(1_200)),
    );
    let messages = receive(&client, 2).await;
    for (msg, hz, ms) in [(&messages[0], 440.0, 2_000), (&messages[1], 1_000.0, 1_200)] {
        let item = &msg.items()[0];
        let voice = item.voice_item.as_deref().unwrap();
        assert_eq!(voice.playtime, Some(ms));
        assert_eq!(msg.transcript(), None);
        let pcm = client.download(item).voice().await.unwrap();
        assert_eq!(pcm.sample_rate, 24_000, "the rate the message declares");
        let lasted = pcm.duration().as_millis() as i64;
        assert!((lasted - ms as i64).abs() <= 20, "{lasted} ms for {ms} ms");
        let found = dominant_hz(&pcm.samples, pcm.sample_rate);
        assert!((found - hz).abs() / hz < 0.03, "{found:.1} Hz for {hz} Hz");
        let wav = pcm.to_wav();
        assert_eq!(&wav[..4], b"RIFF");
        assert_eq!(wav.len(), 44 + pcm.samples.len() * 2);
    }
}

#[tokio::test]
async fn audio_that_is_not_silk_is_a_typed_error_and_the_transcript_is_kept() {
    let sim = sim().await;
    let bot = sim.create_account();
    let client = client(&sim, &bot, memory());
    sim.push(
        &bot.bot_id,
        Inbound::voice(ALICE, b"ID3\x04 an mp3".to_vec(), Some("hello there")),
    );
    sim.push(&bot.bot_id, Inbound::text(ALICE, "not voice"));
    let messages = receive(&client, 2).await;
    assert_eq!(messages[0].transcript(), Some("hello there"));
    let err = client
        .download(&messages[0].items()[0])
        .voice()
        .await
        .unwrap_err();
    assert!(
        matches!(err, ilink::Error::Voice(VoiceError::NotSilk)),
        "{err:?}"
    );
    let err = client
        .download(&messages[1].items()[0])
        .voice()
        .await
        .unwrap_err();
    assert!(matches!(err, ilink::Error::Media(_)), "{err:?}");
}
