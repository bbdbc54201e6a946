//! The decoder on hostile input and the codec on a round trip.

use ilink_silk::{Decoder, Encoder, MAGIC, SAMPLE_RATES, SilkError};

/// The packets of a SILK file (after the optional prefix and the magic).
fn packets(file: &[u8]) -> Vec<&[u8]> {
    let body = file.strip_prefix(&[0x02]).unwrap_or(file);
    let mut rest = body.strip_prefix(MAGIC).expect("a SILK file");
    let mut out = Vec::new();
    while let Some((len, tail)) = rest.split_first_chunk::<2>() {
        let len = i16::from_le_bytes(*len);
        if len < 0 {
            break;
        }
        let len = len as usize;
        out.push(&tail[..len]);
        rest = &tail[len..];
    }
    out
}

fn tone(rate: u32, hz: f64, samples: usize) -> Vec<i16> {
    (0..samples)
        .map(|n| {
            let t = n as f64 / f64::from(rate);
            (10_000.0 * (std::f64::consts::TAU * hz * t).sin()) as i16
        })
        .collect()
}

fn rms(pcm: &[i16]) -> f64 {
    let sum: f64 = pcm.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    (sum / pcm.len().max(1) as f64).sqrt()
}

/// Issue 33: the packet that made decode_core compute start_idx = -1 and
/// SKP_Silk_MA_Prediction write before its stack buffer (ASan:
/// stack-buffer-overflow in SKP_Silk_MA.c). Now an error (or bounded audio)
/// at every rate, with nothing out of bounds (the fuzz harness runs it
/// under AddressSanitizer and UndefinedBehaviorSanitizer).
#[test]
fn the_out_of_bounds_start_idx_packet_is_refused() {
    let file = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/silk-oob-start-idx.silk"
    ))
    .unwrap();
    assert_eq!(file.len(), 214);
    let packets = packets(&file);
    assert_eq!(packets.len(), 1);
    for rate in SAMPLE_RATES {
        let mut decoder = Decoder::new(rate).unwrap();
        let mut out = Vec::new();
        let result = decoder.decode_packet(packets[0], &mut out);
        assert!(out.len() <= 5 * rate as usize / 50, "{} samples", out.len());
        let err = result.expect_err("the lag puts start_idx below 0");
        assert!(matches!(err, SilkError::Decode { .. }), "{err:?}");
        // The decoder was reset: a good packet decodes after it.
        let good = Encoder::new(rate, 24_000)
            .unwrap()
            .encode(&tone(rate, 440.0, rate as usize / 10))
            .unwrap();
        let mut pcm = Vec::new();
        for packet in self::packets(&good) {
            decoder.decode_packet(packet, &mut pcm).unwrap();
        }
        assert_eq!(pcm.len(), rate as usize / 10);
    }
}

/// Real notes (the fuzz seeds: a 16 kHz chirp whose pitch lags pass 18 ms,
/// and a 440 Hz tone) decode whole at every rate: the checks refuse nothing
/// an encoder makes.
#[test]
fn real_notes_decode_whole_at_every_rate() {
    for (name, ms) in [
        ("seed-chirp-16k-no-prefix.silk", 740),
        ("seed-tone-440hz-1s.silk", 1000),
    ] {
        let path = format!("{}/fuzz/corpus/{name}", env!("CARGO_MANIFEST_DIR"));
        let file = std::fs::read(path).unwrap();
        for rate in SAMPLE_RATES {
            let mut decoder = Decoder::new(rate).unwrap();
            let mut out = Vec::new();
            for packet in packets(&file) {
                decoder.decode_packet(packet, &mut out).unwrap();
            }
            assert_eq!(out.len(), rate as usize * ms / 1000, "{name} at {rate} Hz");
        }
    }
}

#[test]
fn a_tone_round_trips_at_8_16_and_24_khz() {
    for rate in [8_000u32, 16_000, 24_000] {
        let input = tone(rate, 440.0, rate as usize); // 1 s
        let mut encoder = Encoder::new(rate, 24_000).unwrap();
        assert_eq!(encoder.frame_samples(), rate as usize / 50);
        let file = encoder.encode(&input).unwrap();
        assert!(file.starts_with(b"\x02#!SILK_V3"));
        let packets = packets(&file);
        assert_eq!(packets.len(), 50);
        let mut decoder = Decoder::new(rate).unwrap();
        assert_eq!(decoder.sample_rate(), rate);
        let mut output = Vec::new();
        for packet in &packets {
            decoder.decode_packet(packet, &mut output).unwrap();
        }
        assert_eq!(output.len(), input.len(), "at {rate} Hz");
        let (energy_in, energy_out) = (rms(&input), rms(&output[output.len() / 2..]));
        assert!(
            energy_out > energy_in / 4.0 && energy_out < energy_in * 4.0,
            "at {rate} Hz: rms {energy_in} in, {energy_out} out"
        );
        // Frame by frame gives the same packets as the whole note.
        let mut encoder = Encoder::new(rate, 24_000).unwrap();
        let first = encoder.encode_frame(&input[..rate as usize / 50]).unwrap();
        assert_eq!(first, packets[0]);
    }
}

#[test]
fn a_note_decodes_at_any_output_rate() {
    let file = Encoder::new(24_000, 24_000)
        .unwrap()
        .encode(&tone(24_000, 300.0, 12_000))
        .unwrap();
    for rate in SAMPLE_RATES {
        let mut decoder = Decoder::new(rate).unwrap();
        let mut out = Vec::new();
        for packet in packets(&file) {
            decoder.decode_packet(packet, &mut out).unwrap();
        }
        assert_eq!(out.len(), rate as usize / 2, "at {rate} Hz");
    }
}

#[test]
fn garbage_packets_are_errors_never_panics() {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut errors = 0;
    for round in 0..3_000 {
        let rate = SAMPLE_RATES[round % SAMPLE_RATES.len()];
        let mut decoder = Decoder::new(rate).unwrap();
        let mut out = Vec::new();
        for _ in 0..4 {
            let len = 1 + (next() % 300) as usize;
            let packet: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            let before = out.len();
            match decoder.decode_packet(&packet, &mut out) {
                Ok(()) => assert!(out.len() - before <= 5 * rate as usize / 50),
                Err(SilkError::Decode { .. } | SilkError::TooManyFrames) => errors += 1,
                Err(other) => panic!("{other:?}"),
            }
        }
    }
    assert!(errors > 0);
    let mut decoder = Decoder::new(24_000).unwrap();
    let mut out = Vec::new();
    assert_eq!(
        decoder.decode_packet(&[], &mut out),
        Err(SilkError::PacketLength(0))
    );
    assert_eq!(
        decoder.decode_packet(&[0; 1025], &mut out),
        Err(SilkError::PacketLength(1025))
    );
    // The longest packet, all ones: the range decoder reads nothing past it.
    let _ = decoder.decode_packet(&[0xff; 1024], &mut out);
    // A 1-byte packet: no read past its end either.
    let _ = decoder.decode_packet(&[0x27], &mut out);
}

#[test]
fn settings_are_checked() {
    assert_eq!(
        Decoder::new(11_025).unwrap_err(),
        SilkError::SampleRate(11_025)
    );
    assert_eq!(
        Encoder::new(0, 24_000).unwrap_err(),
        SilkError::SampleRate(0)
    );
    assert_eq!(Encoder::new(24_000, 1).unwrap_err(), SilkError::BitRate(1));
    let mut encoder = Encoder::new(16_000, 20_000).unwrap();
    assert_eq!(
        encoder.encode_frame(&[0; 100]),
        Err(SilkError::FrameLength {
            got: 100,
            expected: 320
        })
    );
    // A partial last frame is padded with silence.
    let file = encoder.encode(&[0; 330]).unwrap();
    assert_eq!(packets(&file).len(), 2);
}
