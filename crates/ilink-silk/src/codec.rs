//! The safe decoder and encoder over the SDK (src/ffi.rs).

use crate::ffi::{DecControl, EncControl, MAX_FRAME_SAMPLES, RawDecoder, RawEncoder};

/// The SILK v3 file magic, after the optional [`TENCENT_PREFIX`].
pub const MAGIC: &[u8] = b"#!SILK_V3";

/// The byte WeChat (Tencent) puts before [`MAGIC`].
pub const TENCENT_PREFIX: u8 = 0x02;

/// The longest packet the SDK decodes (`MAX_ARITHM_BYTES`).
pub const MAX_PACKET_BYTES: usize = 1024;

/// The most 20 ms frames one packet holds (100 ms).
pub const MAX_FRAMES_PER_PACKET: usize = 5;

/// The sample rates the decoder can produce and the encoder can take, in Hz.
pub const SAMPLE_RATES: [u32; 7] = [8_000, 12_000, 16_000, 24_000, 32_000, 44_100, 48_000];

/// The bit rates the encoder takes, in bits per second.
const BIT_RATES: std::ops::RangeInclusive<u32> = 5_000..=100_000;

/// Why SILK audio could not be decoded or encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SilkError {
    /// The sample rate is not one of [`SAMPLE_RATES`].
    #[error("unsupported sample rate: {0} Hz")]
    SampleRate(u32),
    /// The bit rate is outside 5,000 to 100,000 bits per second.
    #[error("unsupported bit rate: {0} bit/s")]
    BitRate(u32),
    /// A packet is empty or longer than [`MAX_PACKET_BYTES`].
    #[error("a SILK packet of {0} bytes (1 to 1024 are decoded)")]
    PacketLength(usize),
    /// A packet claims more than [`MAX_FRAMES_PER_PACKET`] frames.
    #[error("a SILK packet with more than 5 frames")]
    TooManyFrames,
    /// A PCM frame given to [`Encoder::encode_frame`] is not 20 ms long.
    #[error("a PCM frame of {got} samples, not {expected}")]
    FrameLength {
        /// The samples given.
        got: usize,
        /// The samples in 20 ms at the encoder's rate.
        expected: usize,
    },
    /// The decoder refused a packet (its code, `SKP_SILK_DEC_*`, or
    /// `SKP_SILK_ILINK_*` for a check this crate added to the SDK). The
    /// decoder is reset.
    #[error("the SILK decoder refused a packet: {} (code {code})", describe(*.code))]
    Decode {
        /// The SDK's error code.
        code: i32,
    },
    /// The encoder failed (its code, `SKP_SILK_ENC_*`, or
    /// `SKP_SILK_ILINK_CHECK_FAILED`).
    #[error("the SILK encoder failed: {} (code {code})", describe(*.code))]
    Encode {
        /// The SDK's error code.
        code: i32,
    },
}

fn describe(code: i32) -> &'static str {
    match code {
        -1 => "invalid number of input samples",
        -2 => "unsupported sample rate",
        -3 => "unsupported packet size",
        -4 => "payload buffer too short",
        -9 => "internal encoder error",
        -10 => "invalid output sample rate",
        -11 => "payload too large",
        -12 => "payload has bit errors",
        -13 => {
            "a bounds check failed (the input would have made the decoder read or write out of bounds)"
        }
        -14 => "the output buffer is shorter than the frame",
        _ => "error",
    }
}

fn check_rate(sample_rate: u32) -> Result<i32, SilkError> {
    if SAMPLE_RATES.contains(&sample_rate) {
        i32::try_from(sample_rate).map_err(|_| SilkError::SampleRate(sample_rate))
    } else {
        Err(SilkError::SampleRate(sample_rate))
    }
}

/// A SILK decoder producing 16-bit mono PCM at one sample rate.
///
/// Packets are decoded in order ([`decode_packet`](Self::decode_packet));
/// the decoder keeps state between them, as the codec needs.
pub struct Decoder {
    raw: RawDecoder,
    control: DecControl,
    frame: Box<[i16; MAX_FRAME_SAMPLES]>,
}

impl std::fmt::Debug for Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decoder")
            .field("sample_rate", &self.control.API_sampleRate)
            .finish_non_exhaustive()
    }
}

impl Decoder {
    /// A decoder producing audio at `sample_rate` Hz (one of
    /// [`SAMPLE_RATES`]).
    ///
    /// # Errors
    ///
    /// [`SilkError::SampleRate`]; [`SilkError::Decode`] if the SDK cannot
    /// start.
    pub fn new(sample_rate: u32) -> Result<Self, SilkError> {
        let rate = check_rate(sample_rate)?;
        let raw = RawDecoder::new().map_err(|code| SilkError::Decode { code })?;
        Ok(Self {
            raw,
            control: DecControl {
                API_sampleRate: rate,
                framesPerPacket: 1,
                ..DecControl::default()
            },
            frame: Box::new([0; MAX_FRAME_SAMPLES]),
        })
    }

    /// The output sample rate, in Hz.
    pub fn sample_rate(&self) -> u32 {
        u32::try_from(self.control.API_sampleRate).unwrap_or(0)
    }

    /// Decodes one packet (the bytes after its 16-bit length in a SILK
    /// file) and appends its frames to `out`: 20 ms of audio per frame, at
    /// most [`MAX_FRAMES_PER_PACKET`].
    ///
    /// # Errors
    ///
    /// [`SilkError::PacketLength`] (before the SDK sees it),
    /// [`SilkError::TooManyFrames`], or [`SilkError::Decode`] when the SDK
    /// refuses the packet. After an error the decoder is reset (as a new
    /// one), and `out` may hold the frames decoded before it.
    pub fn decode_packet(&mut self, packet: &[u8], out: &mut Vec<i16>) -> Result<(), SilkError> {
        if packet.is_empty() || packet.len() > MAX_PACKET_BYTES {
            return Err(SilkError::PacketLength(packet.len()));
        }
        for _ in 0..MAX_FRAMES_PER_PACKET {
            let (code, samples) = self.raw.decode(&mut self.control, packet, &mut self.frame);
            if code != 0 {
                self.reset();
                return Err(SilkError::Decode { code });
            }
            out.extend_from_slice(&self.frame[..samples]);
            if self.control.moreInternalDecoderFrames == 0 {
                return Ok(());
            }
        }
        self.reset();
        Err(SilkError::TooManyFrames)
    }

    /// Resets the decoder as a new one (before an unrelated stream).
    pub fn reset(&mut self) {
        // Init only clears memory and sets constants: it cannot fail.
        let _ = self.raw.reset();
        self.control.moreInternalDecoderFrames = 0;
    }
}

/// A SILK encoder of 16-bit mono PCM, 20 ms per packet, as WeChat's voice
/// notes are (complexity 2, no FEC, no DTX).
pub struct Encoder {
    raw: RawEncoder,
    control: EncControl,
    payload: Box<[u8; MAX_PACKET_BYTES]>,
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoder")
            .field("sample_rate", &self.control.API_sampleRate)
            .field("bit_rate", &self.control.bitRate)
            .finish_non_exhaustive()
    }
}

impl Encoder {
    /// An encoder of audio at `sample_rate` Hz (one of [`SAMPLE_RATES`]) to
    /// `bit_rate` bits per second (5,000 to 100,000). The codec works at
    /// most at 24 kHz inside; higher rates are resampled.
    ///
    /// # Errors
    ///
    /// [`SilkError::SampleRate`], [`SilkError::BitRate`];
    /// [`SilkError::Encode`] if the SDK cannot start.
    pub fn new(sample_rate: u32, bit_rate: u32) -> Result<Self, SilkError> {
        let rate = check_rate(sample_rate)?;
        if !BIT_RATES.contains(&bit_rate) {
            return Err(SilkError::BitRate(bit_rate));
        }
        let raw = RawEncoder::new().map_err(|code| SilkError::Encode { code })?;
        Ok(Self {
            raw,
            control: EncControl {
                API_sampleRate: rate,
                maxInternalSampleRate: 24_000,
                packetSize: rate / 50,
                bitRate: i32::try_from(bit_rate).map_err(|_| SilkError::BitRate(bit_rate))?,
                packetLossPercentage: 0,
                complexity: 2,
                useInBandFEC: 0,
                useDTX: 0,
            },
            payload: Box::new([0; MAX_PACKET_BYTES]),
        })
    }

    /// The samples in one frame (20 ms at the encoder's rate).
    pub fn frame_samples(&self) -> usize {
        usize::try_from(self.control.packetSize).unwrap_or(0)
    }

    /// Encodes one frame of [`frame_samples`](Self::frame_samples) samples
    /// to one packet.
    ///
    /// # Errors
    ///
    /// [`SilkError::FrameLength`], or [`SilkError::Encode`].
    pub fn encode_frame(&mut self, pcm: &[i16]) -> Result<Vec<u8>, SilkError> {
        let expected = self.frame_samples();
        if pcm.len() != expected {
            return Err(SilkError::FrameLength {
                got: pcm.len(),
                expected,
            });
        }
        let (code, bytes) = self.raw.encode(&self.control, pcm, &mut self.payload[..]);
        if code != 0 {
            return Err(SilkError::Encode { code });
        }
        Ok(self.payload[..bytes].to_vec())
    }

    /// Encodes `pcm` as a whole voice note, as WeChat sends them:
    /// [`TENCENT_PREFIX`], [`MAGIC`], then each packet after its length
    /// (16-bit little-endian), no end marker. A last partial frame is
    /// padded with silence. The encoder is reset first, so each note
    /// stands alone.
    ///
    /// # Errors
    ///
    /// [`SilkError::Encode`].
    pub fn encode(&mut self, pcm: &[i16]) -> Result<Vec<u8>, SilkError> {
        let code = self.raw.reset();
        if code != 0 {
            return Err(SilkError::Encode { code });
        }
        let frame = self.frame_samples();
        let mut out = Vec::with_capacity(1 + MAGIC.len() + pcm.len() / 4);
        out.push(TENCENT_PREFIX);
        out.extend_from_slice(MAGIC);
        let mut padded = Vec::new();
        for chunk in pcm.chunks(frame) {
            let chunk = if chunk.len() == frame {
                chunk
            } else {
                padded.clear();
                padded.extend_from_slice(chunk);
                padded.resize(frame, 0);
                &padded[..]
            };
            let packet = self.encode_frame(chunk)?;
            let len = u16::try_from(packet.len()).map_err(|_| SilkError::Encode { code: -4 })?;
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(&packet);
        }
        Ok(out)
    }
}
