//! The few SILK SDK functions and structs this crate calls, declared by hand
//! from `silk/interface/SKP_Silk_SDK_API.h` and `SKP_Silk_control.h` (no
//! bindgen). `SKP_int` and `SKP_int32` are C `int`, `SKP_int16` is `short`,
//! `SKP_uint8` is `unsigned char` (`SKP_Silk_typedef.h`).
//!
//! The struct layouts are checked against the C compiler's in a unit test
//! (`csrc/ilink_sizes.c`).

use std::ffi::{c_int, c_short, c_void};

/// `SKP_SILK_SDK_EncControlStruct`: the encoder's settings.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
#[allow(non_snake_case)]
pub(crate) struct EncControl {
    /// Input sampling rate in Hz: 8000, 12000, 16000, 24000 (and up to 48000, resampled).
    pub(crate) API_sampleRate: c_int,
    /// Maximum internal sampling rate in Hz.
    pub(crate) maxInternalSampleRate: c_int,
    /// Samples per packet (20 to 100 ms).
    pub(crate) packetSize: c_int,
    /// Bit rate during active speech, bits per second.
    pub(crate) bitRate: c_int,
    /// Uplink packet loss in percent.
    pub(crate) packetLossPercentage: c_int,
    /// Complexity: 0, 1 or 2.
    pub(crate) complexity: c_int,
    /// In-band forward error correction: 0 or 1.
    pub(crate) useInBandFEC: c_int,
    /// Discontinuous transmission: 0 or 1.
    pub(crate) useDTX: c_int,
}

/// `SKP_SILK_SDK_DecControlStruct`: the decoder's output rate and status.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
#[allow(non_snake_case)]
pub(crate) struct DecControl {
    /// Output sampling rate in Hz.
    pub(crate) API_sampleRate: c_int,
    /// Samples per frame (out).
    pub(crate) frameSize: c_int,
    /// Frames in the packet (out).
    pub(crate) framesPerPacket: c_int,
    /// Whether the packet holds more frames to decode (out).
    pub(crate) moreInternalDecoderFrames: c_int,
    /// Distance to the redundant payload, in packets (out).
    pub(crate) inBandFECOffset: c_int,
}

unsafe extern "C" {
    fn SKP_Silk_SDK_Get_Decoder_Size(dec_size_bytes: *mut c_int) -> c_int;
    fn SKP_Silk_SDK_InitDecoder(dec_state: *mut c_void) -> c_int;
    fn SKP_Silk_SDK_Decode(
        dec_state: *mut c_void,
        dec_control: *mut DecControl,
        lost_flag: c_int,
        in_data: *const u8,
        n_bytes_in: c_int,
        samples_out: *mut c_short,
        n_samples_out: *mut c_short,
    ) -> c_int;

    fn SKP_Silk_SDK_Get_Encoder_Size(enc_size_bytes: *mut c_int) -> c_int;
    fn SKP_Silk_SDK_InitEncoder(enc_state: *mut c_void, enc_status: *mut EncControl) -> c_int;
    fn SKP_Silk_SDK_Encode(
        enc_state: *mut c_void,
        enc_control: *const EncControl,
        samples_in: *const c_short,
        n_samples_in: c_int,
        out_data: *mut u8,
        n_bytes_out: *mut c_short,
    ) -> c_int;
}

/// The largest frame the decoder writes: 20 ms at 48 kHz
/// (`MAX_API_FS_KHZ * FRAME_LENGTH_MS`).
pub(crate) const MAX_FRAME_SAMPLES: usize = 960;

/// A zeroed, 8-byte aligned buffer of at least `bytes` bytes for an SDK
/// state (the SDK reports only a size; its state structs hold fields of 64
/// bits at most).
struct State {
    words: Box<[u64]>,
}

impl State {
    fn zeroed(bytes: c_int) -> Option<Self> {
        let bytes = usize::try_from(bytes).ok().filter(|b| *b > 0)?;
        Some(Self {
            words: vec![0u64; bytes.div_ceil(8)].into_boxed_slice(),
        })
    }

    fn as_mut_ptr(&mut self) -> *mut c_void {
        self.words.as_mut_ptr().cast()
    }
}

/// A decoder state (`SKP_Silk_decoder_state`, opaque), owned.
pub(crate) struct RawDecoder {
    state: State,
}

impl RawDecoder {
    /// A decoder, initialised; or the SDK's error code.
    pub(crate) fn new() -> Result<Self, c_int> {
        let mut size: c_int = 0;
        // SAFETY: the function writes one int through a valid pointer.
        let code = unsafe { SKP_Silk_SDK_Get_Decoder_Size(&mut size) };
        if code != 0 {
            return Err(code);
        }
        let state = State::zeroed(size).ok_or(-1)?;
        let mut decoder = Self { state };
        match decoder.reset() {
            0 => Ok(decoder),
            code => Err(code),
        }
    }

    /// Resets the state as a new decoder's; the SDK's code (0 is success).
    pub(crate) fn reset(&mut self) -> c_int {
        // SAFETY: the state buffer has the size the SDK asked for, aligned
        // for any of its fields, and is ours alone (`&mut self`).
        unsafe { SKP_Silk_SDK_InitDecoder(self.state.as_mut_ptr()) }
    }

    /// Decodes one frame of `packet` (or the next frame of the packet the
    /// decoder is inside of) into `out`: the SDK's code and the samples
    /// written.
    pub(crate) fn decode(
        &mut self,
        control: &mut DecControl,
        packet: &[u8],
        out: &mut [i16; MAX_FRAME_SAMPLES],
    ) -> (c_int, usize) {
        let Ok(len) = c_int::try_from(packet.len()) else {
            return (-11, 0); // SKP_SILK_DEC_PAYLOAD_TOO_LARGE
        };
        // 960 fits an i16; the SDK reads it as the room in `out` (a check
        // of ours: the reference ignored it) and writes the samples made.
        let mut samples = MAX_FRAME_SAMPLES as c_short;
        // SAFETY: the state is the SDK's size and ours alone; `control` is a
        // valid DecControlStruct (layout checked in the tests); the SDK reads
        // at most `len` bytes from `packet` (the vendored range decoder
        // never reads past the length it is given) and writes at most
        // `samples` (960) samples to `out`, which holds 960.
        let code = unsafe {
            SKP_Silk_SDK_Decode(
                self.state.as_mut_ptr(),
                control,
                0,
                packet.as_ptr(),
                len,
                out.as_mut_ptr(),
                &mut samples,
            )
        };
        let written = usize::try_from(samples).unwrap_or(0).min(MAX_FRAME_SAMPLES);
        (code, written)
    }
}

/// An encoder state (`SKP_Silk_encoder_state_FIX`, opaque), owned.
pub(crate) struct RawEncoder {
    state: State,
}

impl RawEncoder {
    /// An encoder, initialised; or the SDK's error code.
    pub(crate) fn new() -> Result<Self, c_int> {
        let mut size: c_int = 0;
        // SAFETY: the function writes one int through a valid pointer.
        let code = unsafe { SKP_Silk_SDK_Get_Encoder_Size(&mut size) };
        if code != 0 {
            return Err(code);
        }
        let state = State::zeroed(size).ok_or(-1)?;
        let mut encoder = Self { state };
        match encoder.reset() {
            0 => Ok(encoder),
            code => Err(code),
        }
    }

    /// Resets the state as a new encoder's; the SDK's code (0 is success).
    pub(crate) fn reset(&mut self) -> c_int {
        let mut status = EncControl::default();
        // SAFETY: the state buffer has the size the SDK asked for, aligned
        // for any of its fields, and is ours alone; `status` is a valid
        // EncControlStruct the SDK writes to.
        unsafe { SKP_Silk_SDK_InitEncoder(self.state.as_mut_ptr(), &mut status) }
    }

    /// Encodes `pcm` (one packet's worth of samples) into `out`: the SDK's
    /// code and the bytes written.
    pub(crate) fn encode(
        &mut self,
        control: &EncControl,
        pcm: &[i16],
        out: &mut [u8],
    ) -> (c_int, usize) {
        let (Ok(samples), Ok(mut room)) =
            (c_int::try_from(pcm.len()), c_short::try_from(out.len()))
        else {
            return (-1, 0); // SKP_SILK_ENC_INPUT_INVALID_NO_OF_SAMPLES
        };
        // SAFETY: the state is the SDK's size and ours alone; `control` is a
        // valid EncControlStruct; the SDK reads `samples` samples from `pcm`
        // (its length) and writes at most `room` bytes (the length of `out`)
        // to `out`, then the count through `room`.
        let code = unsafe {
            SKP_Silk_SDK_Encode(
                self.state.as_mut_ptr(),
                control,
                pcm.as_ptr(),
                samples,
                out.as_mut_ptr(),
                &mut room,
            )
        };
        let written = usize::try_from(room).unwrap_or(0).min(out.len());
        (code, written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{offset_of, size_of};

    unsafe extern "C" {
        fn ilink_silk_sizeof_enc_control() -> usize;
        fn ilink_silk_sizeof_dec_control() -> usize;
        fn ilink_silk_offsetof_enc_use_dtx() -> usize;
        fn ilink_silk_offsetof_dec_in_band_fec_offset() -> usize;
    }

    #[test]
    fn struct_layouts_match_the_c_compiler() {
        // SAFETY: the functions take nothing and return a size_t constant.
        let (enc, dec, dtx, fec) = unsafe {
            (
                ilink_silk_sizeof_enc_control(),
                ilink_silk_sizeof_dec_control(),
                ilink_silk_offsetof_enc_use_dtx(),
                ilink_silk_offsetof_dec_in_band_fec_offset(),
            )
        };
        assert_eq!(size_of::<EncControl>(), enc);
        assert_eq!(size_of::<DecControl>(), dec);
        assert_eq!(offset_of!(EncControl, useDTX), dtx);
        assert_eq!(offset_of!(DecControl, inBandFECOffset), fec);
    }
}
