//! Parsing and printing media keys and file keys.

use ilink_crypto::{Base64Problem, CharKind, FileKey, KeyError, KeyFormat, MediaKey};

use crate::key_000102;

const KEY_A: &str = "000102030405060708090a0b0c0d0e0f";
const PROTOCOL_KEY: &str = "00112233445566778899aabbccddeeff";

fn parse_ok(text: &str) -> (String, KeyFormat) {
    let (key, format) = MediaKey::parse(text).unwrap_or_else(|err| panic!("{text:?}: {err}"));
    (key.to_hex(), format)
}

#[test]
fn one_key_in_three_wire_forms() {
    let forms = [
        (KEY_A, KeyFormat::Hex),
        ("AAECAwQFBgcICQoLDA0ODw==", KeyFormat::Base64Raw),
        (
            "MDAwMTAyMDMwNDA1MDYwNzA4MDkwYTBiMGMwZDBlMGY=",
            KeyFormat::Base64Hex,
        ),
    ];
    for (text, format) in forms {
        assert_eq!(parse_ok(text), (KEY_A.to_owned(), format), "{text}");
        let key: MediaKey = text.parse().unwrap();
        assert_eq!(key, key_000102());
    }
    let key = key_000102();
    assert_eq!(key.to_hex(), KEY_A);
    assert_eq!(key.to_base64_raw(), "AAECAwQFBgcICQoLDA0ODw==");
    assert_eq!(
        key.to_base64_hex(),
        "MDAwMTAyMDMwNDA1MDYwNzA4MDkwYTBiMGMwZDBlMGY="
    );
}

#[test]
fn protocol_example_key() {
    let forms = [
        (PROTOCOL_KEY, KeyFormat::Hex),
        ("ABEiM0RVZneImaq7zN3u/w==", KeyFormat::Base64Raw),
        (
            "MDAxMTIyMzM0NDU1NjY3Nzg4OTlhYWJiY2NkZGVlZmY=",
            KeyFormat::Base64Hex,
        ),
    ];
    for (text, format) in forms {
        assert_eq!(parse_ok(text), (PROTOCOL_KEY.to_owned(), format), "{text}");
    }
    let (key, _) = MediaKey::parse(PROTOCOL_KEY).unwrap();
    assert_eq!(key.to_base64_raw(), "ABEiM0RVZneImaq7zN3u/w==");
    assert_eq!(
        key.to_base64_hex(),
        "MDAxMTIyMzM0NDU1NjY3Nzg4OTlhYWJiY2NkZGVlZmY="
    );
    assert_eq!(key.encode(KeyFormat::Hex), PROTOCOL_KEY);
}

#[test]
fn url_safe_unpadded_uppercase_and_whitespace_variants() {
    let variants = [
        ("ABEiM0RVZneImaq7zN3u_w==", KeyFormat::Base64Raw),
        ("ABEiM0RVZneImaq7zN3u_w", KeyFormat::Base64Raw),
        ("ABEiM0RVZneImaq7zN3u/w", KeyFormat::Base64Raw),
        ("ABEiM0RVZneImaq7zN3u/w=", KeyFormat::Base64Raw),
        (
            "MDAxMTIyMzM0NDU1NjY3Nzg4OTlhYWJiY2NkZGVlZmY",
            KeyFormat::Base64Hex,
        ),
        // base64 of the hex string in upper case
        (
            "MDAxMTIyMzM0NDU1NjY3Nzg4OTlBQUJCQ0NEREVFRkY=",
            KeyFormat::Base64Hex,
        ),
        ("00112233445566778899AABBCCDDEEFF", KeyFormat::Hex),
        (" 00112233445566778899aabbccddeeff\n", KeyFormat::Hex),
        ("\tABEiM0RVZneImaq7zN3u/w==\r\n", KeyFormat::Base64Raw),
        (
            "  MDAxMTIyMzM0NDU1NjY3Nzg4OTlhYWJiY2NkZGVlZmY=  ",
            KeyFormat::Base64Hex,
        ),
    ];
    for (text, format) in variants {
        assert_eq!(
            parse_ok(text),
            (PROTOCOL_KEY.to_owned(), format),
            "{text:?}"
        );
    }
}

#[test]
fn specific_parsers_stick_to_their_form() {
    let key = MediaKey::from_hex(" 00112233445566778899aabbccddeeff ").unwrap();
    assert_eq!(key.to_hex(), PROTOCOL_KEY);
    assert_eq!(
        MediaKey::from_hex("ABEiM0RVZneImaq7zN3u/w=="),
        Err(KeyError::HexLength { len: 24 })
    );
    assert_eq!(
        MediaKey::from_base64("ABEiM0RVZneImaq7zN3u/w=="),
        Ok((key, KeyFormat::Base64Raw))
    );
    // 32 hex digits read as base64 are 24 bytes.
    assert_eq!(
        MediaKey::from_base64(PROTOCOL_KEY),
        Err(KeyError::DecodedLength {
            encoded: 32,
            decoded: 24
        })
    );
}

/// Malformed keys and the error each must give.
fn malformed() -> Vec<(String, KeyError)> {
    let mut cases = vec![
        (String::new(), KeyError::Empty),
        (" \t\n".to_owned(), KeyError::Empty),
        // hex of the wrong length (hex digits only)
        (
            PROTOCOL_KEY[..31].to_owned(),
            KeyError::HexLength { len: 31 },
        ),
        (format!("{PROTOCOL_KEY}0"), KeyError::HexLength { len: 33 }),
        (
            format!("{PROTOCOL_KEY}{PROTOCOL_KEY}"),
            KeyError::HexLength { len: 64 },
        ),
        // 32 characters, not all hex
        (
            "00112g33445566778899aabbccddeeff".to_owned(),
            KeyError::HexChar {
                position: 5,
                kind: CharKind::Letter,
            },
        ),
        (
            "0011223344556677 8899aabbccddeef".to_owned(),
            KeyError::HexChar {
                position: 16,
                kind: CharKind::Whitespace,
            },
        ),
        (
            "00112233445566778899aabbccddee\u{e9}".to_owned(),
            KeyError::HexChar {
                position: 30,
                kind: CharKind::NonAscii,
            },
        ),
        (
            "0011223344556677-899aabbccddeeff".to_owned(),
            KeyError::HexChar {
                position: 16,
                kind: CharKind::Punctuation,
            },
        ),
        (
            "00112233445566778899aabbccddee\u{1}f".to_owned(),
            KeyError::HexChar {
                position: 30,
                kind: CharKind::Control,
            },
        ),
        // not base64
        (
            "ABEiM0RVZneI*aq7zN3u/w==".to_owned(),
            KeyError::Base64 {
                problem: Base64Problem::Symbol { position: 12 },
            },
        ),
        (
            "ABEiM0RVZneImaq7zN3+_w==".to_owned(),
            KeyError::Base64 {
                problem: Base64Problem::Symbol { position: 19 },
            },
        ),
        (
            "ABEiM0RVZneImaq7zN3u/".to_owned(),
            KeyError::Base64 {
                problem: Base64Problem::Length,
            },
        ),
        (
            "ABEiM0RVZneImaq7zN3u/w=A".to_owned(),
            KeyError::Base64 {
                problem: Base64Problem::Symbol { position: 22 },
            },
        ),
        // base64 of the wrong length: 15, 17, 31 and 33 bytes
        (
            "ABEiM0RVZneImaq7zN3u".to_owned(),
            KeyError::DecodedLength {
                encoded: 20,
                decoded: 15,
            },
        ),
        (
            "ABEiM0RVZneImaq7zN3u/wA=".to_owned(),
            KeyError::DecodedLength {
                encoded: 24,
                decoded: 17,
            },
        ),
        (
            "MDAxMTIyMzM0NDU1NjY3Nzg4OTlhYWJiY2NkZGVlZm".to_owned(),
            KeyError::DecodedLength {
                encoded: 42,
                decoded: 31,
            },
        ),
        (
            "MDAxMTIyMzM0NDU1NjY3Nzg4OTlhYWJiY2NkZGVlZmZm".to_owned(),
            KeyError::DecodedLength {
                encoded: 44,
                decoded: 33,
            },
        ),
        // base64 of 32 bytes that are not all hex digits
        (
            "MDAxMTIyMzM0NDU1NjY3Nzg4OTlhYWJiY2NkZGVlZm\u{67}=".to_owned(),
            KeyError::DecodedHexChar {
                position: 31,
                kind: CharKind::Letter,
            },
        ),
        (
            // base64 of 32 zero bytes
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".to_owned(),
            KeyError::DecodedHexChar {
                position: 0,
                kind: CharKind::Control,
            },
        ),
    ];
    // A 32-byte secret-looking base64 blob with a space in the middle.
    cases.push((
        "ABEiM0RVZneI maq7zN3u/w==".to_owned(),
        KeyError::Base64 {
            problem: Base64Problem::Symbol { position: 12 },
        },
    ));
    cases
}

#[test]
fn malformed_keys_give_precise_errors() {
    for (text, expected) in malformed() {
        assert_eq!(MediaKey::parse(&text), Err(expected), "{text:?}");
        assert_eq!(text.parse::<MediaKey>(), Err(expected), "{text:?}");
    }
}

#[test]
fn error_messages_never_repeat_the_key() {
    for (text, _) in malformed() {
        let err = MediaKey::parse(&text).unwrap_err();
        let message = err.to_string();
        assert!(!message.is_empty());
        let text = text.trim();
        // No run of 6 characters from the input shows up in the message.
        let chars: Vec<char> = text.chars().collect();
        for window in chars.windows(6) {
            let piece: String = window.iter().collect();
            assert!(
                !message.contains(&piece),
                "{message:?} repeats {piece:?} of {text:?}"
            );
        }
        let debug = format!("{err:?}");
        if text.len() >= 6 {
            assert!(!debug.contains(text), "{debug}");
        }
    }
}

#[test]
fn debug_redacts_the_key() {
    let keys = [
        key_000102(),
        MediaKey::parse(PROTOCOL_KEY).unwrap().0,
        MediaKey::generate().unwrap(),
    ];
    for key in keys {
        for shown in [
            format!("{key:?}"),
            format!("{key:#?}"),
            format!("{:?}", Some(key)),
        ] {
            assert!(shown.contains("MediaKey(<redacted>)"), "{shown}");
            for secret in [key.to_hex(), key.to_base64_raw(), key.to_base64_hex()] {
                assert!(!shown.contains(&secret), "{shown}");
                assert!(!shown.contains(&secret[..8]), "{shown}");
            }
            assert!(!shown.to_lowercase().contains(&key.to_hex()[..8]));
        }
    }
    let cipher = ilink_crypto::MediaCipher::new(&key_000102());
    assert_eq!(format!("{cipher:?}"), "MediaCipher(<redacted>)");
    let enc = ilink_crypto::Encryptor::new(&key_000102());
    assert!(!format!("{enc:?}").contains("0001"));
}

#[test]
fn generated_keys_differ_and_round_trip() {
    let a = MediaKey::generate().unwrap();
    let b = MediaKey::generate().unwrap();
    assert_ne!(a, b);
    for format in [KeyFormat::Hex, KeyFormat::Base64Raw, KeyFormat::Base64Hex] {
        assert_eq!(MediaKey::parse(&a.encode(format)), Ok((a, format)));
    }
    assert_eq!(MediaKey::from_bytes(*a.as_bytes()), a);
}

#[test]
fn file_keys_are_32_lowercase_hex() {
    let a = FileKey::generate().unwrap();
    let b = FileKey::generate().unwrap();
    assert_ne!(a, b);
    for key in [&a, &b] {
        assert_eq!(key.as_str().len(), 32);
        assert!(
            key.as_str()
                .bytes()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
        );
        assert_eq!(key.to_string(), key.as_str());
        assert_eq!(format!("{key:?}"), format!("FileKey({})", key.as_str()));
    }
    let parsed: FileKey = "00112233445566778899AABBCCDDEEFF".parse().unwrap();
    assert_eq!(parsed.as_str(), PROTOCOL_KEY);
    assert_eq!(
        FileKey::from_bytes(std::array::from_fn(|i| i as u8)).as_str(),
        KEY_A
    );
    assert!("0011".parse::<FileKey>().is_err());
}
