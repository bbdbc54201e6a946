//! Voice notes a bot can listen to: SILK v3 decoded to PCM and WAV
//! (feature `voice`).
//!
//! WeChat voice notes are SILK v3 audio, sometimes prefixed with Tencent's
//! `\x02` byte before `#!SILK_V3`. The official client decodes them to a
//! 24 kHz WAV (through `silk-wasm`) so that a bot can run its own speech
//! recognition; [`decode`] does the same with the SILK reference SDK, in C,
//! vendored in the [`ilink-silk`](https://docs.rs/ilink-silk) crate with
//! checks of its own: every assertion of the reference decoder is an error
//! there rather than compiled out, and every index the decoder derives from
//! the bitstream is checked before use (fuzzed under AddressSanitizer and
//! UndefinedBehaviorSanitizer).
//! The server's own transcript, when it sends one, is
//! [`Message::transcript`](crate::Message::transcript).
//!
//! The decoder is C code fed with bytes from any WeChat user, so the input
//! is bounded and its framing checked before a byte reaches it: at most
//! [`MAX_SILK_BYTES`], at most [`MAX_DURATION`] of audio (counted from the
//! packets, before decoding), packets no longer than the format allows.
//! Memory is bounded by those limits (10 minutes at 48 kHz is 55 MiB of PCM;
//! a WeChat voice note lasts at most 60 s).
//!
//! **Build needs**: a C compiler (e.g. Debian's `build-essential`); no
//! libclang (ilink-silk declares the SDK's functions by hand, no bindgen).
//!
//! **Sending voice**: the server accepts voice items from bots, but phones
//! show nothing (Tencent/openclaw-weixin#215; the official client turned
//! native voice off in PR #282). Send audio as a file
//! ([`MediaKind::File`](crate::MediaKind::File)).
//!
//! ```no_run
//! # async fn demo(bot: ilink::Bot, msg: ilink::Message) -> Result<(), ilink::Error> {
//! for media in bot.media_of(&msg) {
//!     if media.item.voice_item.is_some() {
//!         let pcm = bot.download(&media.item).voice().await?;
//!         println!("{:?} of audio at {} Hz", pcm.duration(), pcm.sample_rate);
//!         std::fs::write("note.wav", pcm.to_wav())?;
//!     }
//! }
//! # Ok(()) }
//! ```

use std::io::{self, Write};
use std::time::Duration;

use ilink_proto::VoiceItem;

/// The sample rate of the decoded audio when the message declares none (or
/// one the decoder cannot produce), as the official client does.
pub const DEFAULT_SAMPLE_RATE: u32 = 24_000;

/// The sample rates the decoder can produce.
pub const SAMPLE_RATES: [u32; 7] = [8_000, 12_000, 16_000, 24_000, 32_000, 44_100, 48_000];

/// The largest SILK input decoded (a 60 s WeChat note is under 200 KiB).
pub const MAX_SILK_BYTES: usize = 4 * 1024 * 1024;

/// The most audio decoded, counted from the packets before decoding.
pub const MAX_DURATION: Duration = Duration::from_secs(10 * 60);

/// The SILK v3 magic.
const MAGIC: &[u8] = b"#!SILK_V3";
/// Tencent's prefix byte before the magic.
const TENCENT_PREFIX: u8 = 0x02;
/// A packet is at most this long (the SDK's limit is 1024 bytes: 5 frames).
const MAX_PACKET: usize = ilink_silk::MAX_PACKET_BYTES;
/// The most audio one packet can hold: 5 frames of 20 ms.
const MAX_PACKET_MS: u64 = 20 * ilink_silk::MAX_FRAMES_PER_PACKET as u64;

/// Why voice could not be decoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VoiceError {
    /// The bytes are not SILK v3 (no `#!SILK_V3` header).
    #[error("not SILK v3 audio")]
    NotSilk,
    /// The input is larger than [`MAX_SILK_BYTES`].
    #[error("the SILK input has {bytes} bytes, more than the {limit} decoded")]
    TooLarge {
        /// Its size.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// The input may hold more audio than [`MAX_DURATION`].
    #[error("the SILK input has {packets} packets, more audio than the {limit:?} decoded")]
    TooLong {
        /// Its packets.
        packets: u64,
        /// The limit.
        limit: Duration,
    },
    /// The packets are not framed as SILK frames them, or the decoder
    /// refused one.
    #[error("corrupt SILK audio: {0}")]
    Corrupt(String),
}

/// Decoded audio: 16-bit mono samples at a sample rate.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Pcm {
    /// The samples, mono.
    pub samples: Vec<i16>,
    /// Samples per second.
    pub sample_rate: u32,
}

impl std::fmt::Debug for Pcm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The audio is the user's voice: its samples are not shown.
        f.debug_struct("Pcm")
            .field("samples", &self.samples.len())
            .field("sample_rate", &self.sample_rate)
            .finish()
    }
}

impl Pcm {
    /// How long the audio lasts.
    pub fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.samples.len() as f64 / f64::from(self.sample_rate.max(1)))
    }

    /// The samples as little-endian bytes (`s16le`).
    pub fn to_s16le(&self) -> Vec<u8> {
        self.samples.iter().flat_map(|s| s.to_le_bytes()).collect()
    }

    /// A WAV file (RIFF, PCM, 16-bit mono).
    pub fn to_wav(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(44 + self.samples.len() * 2);
        self.write_wav(&mut out)
            .unwrap_or_else(|_| unreachable!("writing to a Vec does not fail"));
        out
    }

    /// Writes a WAV file (RIFF, PCM, 16-bit mono) to `w`.
    ///
    /// # Errors
    ///
    /// The writer's.
    pub fn write_wav<W: Write>(&self, mut w: W) -> io::Result<()> {
        let data = u32::try_from(self.samples.len() * 2).unwrap_or(u32::MAX);
        let rate = self.sample_rate;
        w.write_all(b"RIFF")?;
        w.write_all(&(36u32.saturating_add(data)).to_le_bytes())?;
        w.write_all(b"WAVEfmt ")?;
        w.write_all(&16u32.to_le_bytes())?; // fmt chunk size
        w.write_all(&1u16.to_le_bytes())?; // PCM
        w.write_all(&1u16.to_le_bytes())?; // mono
        w.write_all(&rate.to_le_bytes())?;
        w.write_all(&(rate * 2).to_le_bytes())?; // bytes per second
        w.write_all(&2u16.to_le_bytes())?; // block align
        w.write_all(&16u16.to_le_bytes())?; // bits per sample
        w.write_all(b"data")?;
        w.write_all(&data.to_le_bytes())?;
        let mut buf = io::BufWriter::new(w);
        for s in &self.samples {
            buf.write_all(&s.to_le_bytes())?;
        }
        buf.flush()
    }
}

/// Whether the bytes start as SILK v3 does (with or without Tencent's
/// prefix).
pub fn is_silk(bytes: &[u8]) -> bool {
    strip_header(bytes).is_some()
}

fn strip_header(bytes: &[u8]) -> Option<&[u8]> {
    let rest = bytes.strip_prefix(&[TENCENT_PREFIX]).unwrap_or(bytes);
    rest.strip_prefix(MAGIC)
}

/// The sample rate to decode a voice item at: the one it declares when the
/// decoder can produce it, else [`DEFAULT_SAMPLE_RATE`].
pub fn sample_rate_of(item: &VoiceItem) -> u32 {
    item.sample_rate
        .filter(|r| SAMPLE_RATES.contains(r))
        .unwrap_or(DEFAULT_SAMPLE_RATE)
}

/// The packets of a SILK body: a 16-bit little-endian length before each,
/// up to the end or a `-1` end marker. Stops at a length it cannot use
/// (which [`check_framing`] refuses first).
fn packets(mut rest: &[u8]) -> impl Iterator<Item = &[u8]> {
    std::iter::from_fn(move || {
        let (len, tail) = rest.split_first_chunk::<2>()?;
        let len = usize::try_from(i16::from_le_bytes(*len)).ok()?;
        let packet = tail.get(..len)?;
        rest = &tail[len..];
        Some(packet)
    })
}

/// Checks the framing (a length before each packet, an optional `-1` end
/// marker) and counts the packets, before the decoder sees anything.
fn check_framing(mut rest: &[u8]) -> Result<u64, VoiceError> {
    let limit_packets = MAX_DURATION.as_millis() as u64 / MAX_PACKET_MS;
    let mut packets = 0u64;
    while !rest.is_empty() {
        let Some((len, tail)) = rest.split_first_chunk::<2>() else {
            return Err(VoiceError::Corrupt(
                "a packet length is cut short".to_owned(),
            ));
        };
        let len = i16::from_le_bytes(*len);
        if len == -1 {
            break;
        }
        let len = usize::try_from(len)
            .ok()
            .filter(|l| (1..=MAX_PACKET).contains(l))
            .ok_or_else(|| VoiceError::Corrupt(format!("a packet of length {len}")))?;
        if tail.len() < len {
            return Err(VoiceError::Corrupt(
                "the last packet is cut short".to_owned(),
            ));
        }
        rest = &tail[len..];
        packets += 1;
        if packets > limit_packets {
            return Err(VoiceError::TooLong {
                packets,
                limit: MAX_DURATION,
            });
        }
    }
    if packets == 0 {
        return Err(VoiceError::Corrupt("no audio packets".to_owned()));
    }
    Ok(packets)
}

/// Decodes SILK v3 (with or without Tencent's prefix) to PCM at
/// `sample_rate` (one of [`SAMPLE_RATES`]; others give
/// [`DEFAULT_SAMPLE_RATE`]).
///
/// ```
/// let err = ilink::voice::decode(b"RIFF....WAVE", 24_000).unwrap_err();
/// assert!(matches!(err, ilink::voice::VoiceError::NotSilk));
/// ```
///
/// # Errors
///
/// [`VoiceError`]: not SILK, too large or too long, or corrupt.
pub fn decode(silk: &[u8], sample_rate: u32) -> Result<Pcm, VoiceError> {
    if silk.len() > MAX_SILK_BYTES {
        return Err(VoiceError::TooLarge {
            bytes: silk.len(),
            limit: MAX_SILK_BYTES,
        });
    }
    let body = strip_header(silk).ok_or(VoiceError::NotSilk)?;
    check_framing(body)?;
    let rate = if SAMPLE_RATES.contains(&sample_rate) {
        sample_rate
    } else {
        DEFAULT_SAMPLE_RATE
    };
    let mut decoder = ilink_silk::Decoder::new(rate)
        .map_err(|e| VoiceError::Corrupt(format!("the decoder could not start: {e}")))?;
    // Each packet goes to the decoder as the slice it is: ilink-silk's
    // range decoder reads no byte past a packet's length (the reference
    // read the first 4 bytes of any packet, past the end of a short last
    // one: the voice_decode fuzz target's first finding).
    let mut samples = Vec::new();
    for packet in packets(body) {
        decoder
            .decode_packet(packet, &mut samples)
            .map_err(|e| VoiceError::Corrupt(e.to_string()))?;
    }
    Ok(Pcm {
        samples,
        sample_rate: rate,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing_is_checked_before_decoding() {
        let mut silk = b"\x02#!SILK_V3".to_vec();
        assert!(is_silk(&silk));
        assert!(matches!(decode(&silk, 24_000), Err(VoiceError::Corrupt(_))));
        silk.extend_from_slice(&5i16.to_le_bytes());
        silk.extend_from_slice(b"abc");
        assert!(matches!(decode(&silk, 24_000), Err(VoiceError::Corrupt(_))));
        let huge = [
            b"#!SILK_V3".as_slice(),
            &2000i16.to_le_bytes(),
            &[0u8; 2000],
        ]
        .concat();
        assert!(matches!(decode(&huge, 24_000), Err(VoiceError::Corrupt(_))));
        let negative = [b"#!SILK_V3".as_slice(), &(-5i16).to_le_bytes()].concat();
        assert!(matches!(
            decode(&negative, 24_000),
            Err(VoiceError::Corrupt(_))
        ));
        assert!(matches!(
            decode(b"ID3...", 24_000),
            Err(VoiceError::NotSilk)
        ));
        let big = vec![0u8; MAX_SILK_BYTES + 1];
        assert!(matches!(
            decode(&big, 24_000),
            Err(VoiceError::TooLarge { .. })
        ));
        let mut long = b"#!SILK_V3".to_vec();
        for _ in 0..=(MAX_DURATION.as_millis() as u64 / MAX_PACKET_MS) {
            long.extend_from_slice(&1i16.to_le_bytes());
            long.push(0);
        }
        assert!(matches!(
            decode(&long, 24_000),
            Err(VoiceError::TooLong { .. })
        ));
    }

    #[test]
    fn a_short_last_packet_is_decoded_from_padded_bytes() {
        // The fuzzer's first crash: two 1-byte packets, the last at the end
        // of the input (ASan saw SKP_Silk_range_dec_init read 3 bytes past;
        // ilink-silk's range decoder now reads zeros past a packet's end).
        let input = b"\x02#!SILK_V3\x01\x00\x27\x01\x00\x02";
        match decode(input, 24_000) {
            Ok(pcm) => assert!(pcm.samples.len() <= 2 * 5 * 480),
            Err(VoiceError::Corrupt(_)) => {}
            Err(other) => panic!("{other:?}"),
        }
    }

    #[test]
    fn wav_header() {
        let pcm = Pcm {
            samples: vec![0, 1, -1, i16::MAX],
            sample_rate: 24_000,
        };
        let wav = pcm.to_wav();
        assert_eq!(wav.len(), 44 + 8);
        assert_eq!(&wav[..4], b"RIFF");
        assert_eq!(&wav[8..16], b"WAVEfmt ");
        assert_eq!(u32::from_le_bytes(wav[24..28].try_into().unwrap()), 24_000);
        assert_eq!(u32::from_le_bytes(wav[40..44].try_into().unwrap()), 8);
        assert_eq!(format!("{pcm:?}"), "Pcm { samples: 4, sample_rate: 24000 }");
        assert_eq!(pcm.duration(), Duration::from_secs_f64(4.0 / 24_000.0));
    }
}
