//! SILK v3 voice, the codec of WeChat voice notes: the SILK reference SDK
//! (fixed point, v1.0.9) in C, vendored and compiled with the `cc` crate,
//! behind a small safe API.
//!
//! The decoder is fed with bytes from any WeChat user, so the vendored C is
//! not the reference as published: every `SKP_assert` is a checked error
//! instead of compiled out, and every index the decoder derives from the
//! bitstream (pitch lags, LPC order, gain, NLSF and LTP indices, frames per
//! packet, the internal sample rate, the concealment and comfort-noise
//! paths) is checked before use. The changes are marked `/* ilink: ... */`
//! in the C and listed in the crate's README. The C is fuzzed under
//! AddressSanitizer and UndefinedBehaviorSanitizer (`fuzz/run.sh`).
//!
//! Building needs a C compiler only (no libclang: the few declarations the
//! crate calls are written by hand).
//!
//! ```
//! use ilink_silk::{Decoder, Encoder};
//!
//! let tone: Vec<i16> = (0..24_000)
//!     .map(|n| (8_000.0 * (n as f64 * 440.0 * std::f64::consts::TAU / 24_000.0).sin()) as i16)
//!     .collect();
//! let mut encoder = Encoder::new(24_000, 24_000)?;
//! let mut decoder = Decoder::new(24_000)?;
//! let mut pcm = Vec::new();
//! for frame in tone.chunks_exact(encoder.frame_samples()) {
//!     let packet = encoder.encode_frame(frame)?;
//!     decoder.decode_packet(&packet, &mut pcm)?;
//! }
//! assert_eq!(pcm.len(), tone.len());
//! # Ok::<(), ilink_silk::SilkError>(())
//! ```

mod codec;
#[allow(unsafe_code)]
mod ffi;

pub use codec::{
    Decoder, Encoder, MAGIC, MAX_FRAMES_PER_PACKET, MAX_PACKET_BYTES, SAMPLE_RATES, SilkError,
    TENCENT_PREFIX,
};
