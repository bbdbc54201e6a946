//! Any bytes as a SILK voice note: the decoder is the SILK reference SDK in
//! C (instrumented too when fuzz.sh builds it), fed with what any WeChat
//! user can send. Never a crash, a hang or a read out of bounds; decoded
//! audio stays within the duration limit and writes a well-formed WAV.
//!
//! Inputs that do not start as SILK get the header put in front, so that
//! mutations explore the packets rather than the magic (whose refusal the
//! unit tests cover).
#![no_main]

use ilink::voice::{MAX_DURATION, SAMPLE_RATES, decode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let framed;
    let input = if ilink::voice::is_silk(data) {
        data
    } else {
        framed = [b"\x02#!SILK_V3".as_slice(), data].concat();
        &framed[..]
    };
    let rate = SAMPLE_RATES[data.len() % SAMPLE_RATES.len()];
    if let Ok(pcm) = decode(input, rate) {
        assert_eq!(pcm.sample_rate, rate);
        let most = MAX_DURATION.as_secs() as usize * rate as usize;
        assert!(pcm.samples.len() <= most, "{} samples", pcm.samples.len());
        let wav = pcm.to_wav();
        assert_eq!(wav.len(), 44 + 2 * pcm.samples.len());
    }
});
