//! Lowercase hex encoding and strict hex decoding, with errors that never
//! repeat the input.

use std::fmt;

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// What kind of character stood where a hex digit was expected.
///
/// Errors report the kind and the position of an offending character, never
/// the character itself: the text being parsed may be a secret key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CharKind {
    /// A letter outside `a`–`f` / `A`–`F`.
    Letter,
    /// An ASCII punctuation or symbol character.
    Punctuation,
    /// A space, tab or line break.
    Whitespace,
    /// Another ASCII control character, including NUL.
    Control,
    /// A byte outside ASCII.
    NonAscii,
}

impl CharKind {
    /// Classifies a byte that is not a hex digit.
    pub(crate) fn of(byte: u8) -> Self {
        match byte {
            b if b.is_ascii_alphabetic() => Self::Letter,
            b if b.is_ascii_whitespace() => Self::Whitespace,
            b if b.is_ascii_punctuation() => Self::Punctuation,
            b if b.is_ascii() => Self::Control,
            _ => Self::NonAscii,
        }
    }
}

impl fmt::Display for CharKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Letter => "a letter that is not a hex digit",
            Self::Punctuation => "a punctuation character",
            Self::Whitespace => "whitespace",
            Self::Control => "a control character",
            Self::NonAscii => "a non-ASCII byte",
        })
    }
}

/// A string that should have been a fixed number of hex digits was not.
///
/// Returned when parsing an [`Md5Digest`](crate::Md5Digest) or a
/// [`FileKey`](crate::FileKey). The message names the length or the position
/// and [`CharKind`] of the first bad character, never the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HexError {
    /// The string does not have the expected number of characters (bytes).
    #[error("expected {expected} hex digits, got {found} characters")]
    Length {
        /// How many hex digits were expected.
        expected: usize,
        /// How many bytes the string has.
        found: usize,
    },
    /// A character is not a hex digit.
    #[error("expected a hex digit, found {kind} at position {position}")]
    Char {
        /// Zero-based byte offset of the first bad character.
        position: usize,
        /// What kind of character it is.
        kind: CharKind,
    },
}

/// Value of one hex digit (either case), or `None`.
const fn nibble(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// Decodes exactly `2 * N` hex digits (either case) into `N` bytes.
pub(crate) fn decode<const N: usize>(text: &[u8]) -> Result<[u8; N], HexError> {
    if text.len() != 2 * N {
        return Err(HexError::Length {
            expected: 2 * N,
            found: text.len(),
        });
    }
    let mut out = [0u8; N];
    for (i, (byte, pair)) in out.iter_mut().zip(text.chunks_exact(2)).enumerate() {
        let hi = nibble(pair[0]).ok_or(HexError::Char {
            position: 2 * i,
            kind: CharKind::of(pair[0]),
        })?;
        let lo = nibble(pair[1]).ok_or(HexError::Char {
            position: 2 * i + 1,
            kind: CharKind::of(pair[1]),
        })?;
        *byte = (hi << 4) | lo;
    }
    Ok(out)
}

/// Encodes `N` bytes as `2 * N` lowercase hex digits, written into `out`.
pub(crate) fn encode_into(bytes: &[u8], out: &mut String) {
    out.reserve(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
}

/// Encodes bytes as lowercase hex.
pub(crate) fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    encode_into(bytes, &mut out);
    out
}

/// Writes bytes as lowercase hex to a formatter without allocating.
pub(crate) fn fmt(bytes: &[u8], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    use fmt::Write as _;
    for &b in bytes {
        f.write_char(char::from(DIGITS[usize::from(b >> 4)]))?;
        f.write_char(char::from(DIGITS[usize::from(b & 0x0f)]))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_both_cases() {
        let bytes: [u8; 4] = decode(b"00aBcDff").unwrap();
        assert_eq!(bytes, [0x00, 0xab, 0xcd, 0xff]);
        assert_eq!(encode(&bytes), "00abcdff");
    }

    #[test]
    fn reports_length_and_position() {
        assert_eq!(
            decode::<2>(b"abc"),
            Err(HexError::Length {
                expected: 4,
                found: 3
            })
        );
        assert_eq!(
            decode::<2>(b"ab g"),
            Err(HexError::Char {
                position: 2,
                kind: CharKind::Whitespace
            })
        );
        assert_eq!(
            decode::<2>(b"abcz"),
            Err(HexError::Char {
                position: 3,
                kind: CharKind::Letter
            })
        );
    }

    #[test]
    fn classifies_characters() {
        assert_eq!(CharKind::of(b'g'), CharKind::Letter);
        assert_eq!(CharKind::of(b'Z'), CharKind::Letter);
        assert_eq!(CharKind::of(b'-'), CharKind::Punctuation);
        assert_eq!(CharKind::of(b'\n'), CharKind::Whitespace);
        assert_eq!(CharKind::of(0), CharKind::Control);
        assert_eq!(CharKind::of(0x7f), CharKind::Control);
        assert_eq!(CharKind::of(0xc3), CharKind::NonAscii);
    }
}
