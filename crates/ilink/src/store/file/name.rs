//! Turning account ids and inbox keys into file names, and back.
//!
//! One codec serves every name the store derives from outside data (account
//! directories, inbox file names, lines of the deduplication log): bytes in
//! `[a-z0-9_-]` stay as they are, every other byte becomes `%XX` with
//! uppercase hex. The result
//!
//! - is injective (decoding gives back the input, so two inputs never share a
//!   name), even on case-insensitive file systems: kept letters are always
//!   lowercase and escape digits always uppercase, so two names that differ
//!   only in case cannot both be produced;
//! - holds no separator, no `.` (so never `.` or `..`, and never a hidden or
//!   temporary file name, which all start with `.`), no control character and
//!   no space;
//! - is stable across platforms and releases: it is an on-disk format.

use crate::store::StoreError;

/// Longest account directory name accepted (most file systems allow 255
/// bytes; this leaves room for the temporary names of the removal path).
const MAX_ACCOUNT_NAME: usize = 200;

fn is_plain(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

fn push_escaped(out: &mut String, b: u8) {
    out.push('%');
    out.push(char::from(HEX[usize::from(b >> 4)]));
    out.push(char::from(HEX[usize::from(b & 0x0f)]));
}

/// The escaped form of `text` (see the module docs).
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        if is_plain(b) {
            out.push(char::from(b));
        } else {
            push_escaped(&mut out, b);
        }
    }
    out
}

/// Decodes what [`escape`] produced; `None` when `name` is not a valid
/// encoding (a bad escape, or bytes that are not UTF-8).
pub(super) fn unescape(name: &str) -> Option<String> {
    let bytes = name.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hi = hex_value(*bytes.get(i + 1)?)?;
            let lo = hex_value(*bytes.get(i + 2)?)?;
            out.push(hi << 4 | lo);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Device names Windows refuses as file names whatever the case.
fn is_reserved_on_windows(name: &str) -> bool {
    matches!(name, "con" | "prn" | "aux" | "nul")
        || ((name.starts_with("com") || name.starts_with("lpt"))
            && name.len() == 4
            && name.as_bytes()[3].is_ascii_digit())
}

/// The directory name of an account: [`escape`]d, with the last letter of a
/// Windows device name (`con`, `lpt1`, …) escaped too, so the layout is the
/// same on every platform. Still injective: decoding gives the id back.
///
/// [`StoreError::InvalidAccount`] for an empty id or one whose name would be
/// longer than 200 bytes.
pub(super) fn account_dir_name(account_id: &str) -> Result<String, StoreError> {
    if account_id.is_empty() {
        return Err(StoreError::InvalidAccount);
    }
    let mut name = escape(account_id);
    if is_reserved_on_windows(&name) {
        // Reserved names are plain ASCII: the last byte is the last char.
        let last = name.as_bytes()[name.len() - 1];
        name.pop();
        push_escaped(&mut name, last);
    }
    if name.len() > MAX_ACCOUNT_NAME {
        return Err(StoreError::InvalidAccount);
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::path::{Component, Path};

    use super::*;

    fn assert_safe(name: &str) {
        assert!(!name.is_empty());
        assert!(name != "." && name != "..", "{name}");
        assert!(!name.starts_with('.'), "{name}");
        assert!(
            name.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'%'),
            "{name}"
        );
        let components: Vec<_> = Path::new(name).components().collect();
        assert_eq!(components.len(), 1, "{name}");
        assert!(matches!(components[0], Component::Normal(_)), "{name}");
    }

    #[test]
    fn plain_ids_stay_readable() {
        assert_eq!(escape("abc-123_x"), "abc-123_x");
        assert_eq!(
            account_dir_name("0123abcd@im.bot").unwrap(),
            "0123abcd%40im%2Ebot"
        );
        assert_eq!(escape("1234567890"), "1234567890");
    }

    #[test]
    fn hostile_ids_become_single_safe_components() {
        for id in [
            "../../x",
            "a/b",
            ".",
            "..",
            "a\\b",
            "/etc/passwd",
            "C:\\x",
            "a\0b",
            "\n",
            " ",
            "%",
            "%2E",
            "Abc",
            "ünïcødé",
            "😀",
            "a.b",
            "CON",
            "con",
            "nul",
            "lpt1",
            "com9",
            "com",
            "lpt10",
            "x\u{202e}y",
        ] {
            let name = account_dir_name(id).unwrap();
            assert_safe(&name);
            assert_eq!(unescape(&name).as_deref(), Some(id), "{id:?} -> {name}");
        }
        assert_eq!(account_dir_name("..").unwrap(), "%2E%2E");
        assert_eq!(account_dir_name("a/b").unwrap(), "a%2Fb");
        assert_eq!(account_dir_name("con").unwrap(), "co%6E");
        assert_eq!(account_dir_name("com1").unwrap(), "com%31");
        assert_eq!(account_dir_name("com").unwrap(), "com");
    }

    #[test]
    fn empty_and_overlong_ids_are_refused() {
        assert!(matches!(
            account_dir_name(""),
            Err(StoreError::InvalidAccount)
        ));
        assert!(account_dir_name(&"a".repeat(200)).is_ok());
        assert!(matches!(
            account_dir_name(&"a".repeat(201)),
            Err(StoreError::InvalidAccount)
        ));
        assert!(matches!(
            account_dir_name(&".".repeat(67)),
            Err(StoreError::InvalidAccount)
        ));
    }

    #[test]
    fn distinct_ids_never_collide_even_ignoring_case() {
        let ids = [
            "a", "A", "%41", "%61", "a%", "a.", "a%2E", "a%2e", "A.", "_", "-", "%5F", "con",
            "co%6E", "co%6e", "coN", "com1", "com%31", "Com1", "é", "e\u{301}", "%C3%A9", "ab",
            "a b", "a\tb", "a/b", "a\\b", "a%2Fb",
        ];
        let mut exact = HashSet::new();
        let mut folded = HashSet::new();
        for id in ids {
            let name = account_dir_name(id).unwrap();
            assert!(exact.insert(name.clone()), "{id:?} collides: {name}");
            assert!(
                folded.insert(name.to_ascii_lowercase()),
                "{id:?} collides ignoring case: {name}"
            );
        }
    }

    #[test]
    fn every_byte_round_trips() {
        let all: String = (0u32..0x800).filter_map(char::from_u32).collect();
        let name = escape(&all);
        assert_eq!(unescape(&name).as_deref(), Some(all.as_str()));
        for c in all.chars() {
            let s = c.to_string();
            assert_eq!(unescape(&escape(&s)), Some(s));
        }
    }

    #[test]
    fn bad_encodings_are_rejected() {
        assert_eq!(unescape("%"), None);
        assert_eq!(unescape("%4"), None);
        assert_eq!(unescape("%zz"), None);
        assert_eq!(unescape("%4a"), None);
        assert_eq!(unescape("%FF"), None);
        assert_eq!(unescape(""), Some(String::new()));
    }
}
