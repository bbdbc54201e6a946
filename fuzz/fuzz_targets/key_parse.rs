//! Any text as a media key: never a panic; a parsed key re-encodes to every
//! wire form and parses back to itself; an error never echoes a key-like
//! run of the input (6 or more characters of the hex/base64 alphabets that
//! include a digit or a capital, so English words of the message itself do
//! not count).
#![no_main]

use ilink_crypto::{KeyFormat, MediaKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match MediaKey::parse(text) {
        Ok((key, _format)) => {
            for form in [KeyFormat::Hex, KeyFormat::Base64Raw, KeyFormat::Base64Hex] {
                let (again, found) = MediaKey::parse(&key.encode(form)).expect("own encoding parses");
                assert_eq!(again, key);
                assert_eq!(found, form);
            }
        }
        Err(e) => {
            let shown = e.to_string();
            for run in key_like_runs(text) {
                assert!(!shown.contains(run), "the error echoes part of the key");
            }
        }
    }
});

fn key_like_runs(text: &str) -> Vec<&str> {
    let is_key_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=' | '-' | '_');
    text.split(|c: char| !is_key_char(c))
        .filter(|run| run.len() >= 12)
        .filter(|run| run.chars().any(|c| c.is_ascii_digit() || c.is_ascii_uppercase()))
        .flat_map(|run| {
            // Every 12-character window of the run.
            (0..=run.len() - 12).map(move |i| &run[i..i + 12])
        })
        .collect()
}
