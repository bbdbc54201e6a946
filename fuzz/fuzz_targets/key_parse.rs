//! Any text as a media key: never a panic; a parsed key re-encodes to every
//! wire form and parses back to itself; errors never echo the input.
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
            let trimmed = text.trim();
            if trimmed.len() >= 8 {
                assert!(!shown.contains(trimmed), "error echoes the key");
            }
        }
    }
});
