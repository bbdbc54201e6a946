//! The 16-byte AES media key and its three wire forms.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};

use crate::hex::{self, CharKind, HexError};
use crate::random::{self, RandomError};

/// Decoding accepts padded and unpadded input, and ignores stray low bits in
/// the last symbol the way lenient decoders (Node's `Buffer`) do.
const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);
const STANDARD_LENIENT: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, LENIENT);
const URL_SAFE_LENIENT: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, LENIENT);

/// The AES-128 key of one media file on the CDN.
///
/// A fresh key is made for every upload ([`MediaKey::generate`]); a download
/// gets its key from the message ([`MediaKey::parse`]). The key is a secret:
/// `Debug` prints `MediaKey(<redacted>)`, there is no `Display`, and parse
/// errors never repeat the text they were given. Encoding it for the wire is
/// explicit: [`to_hex`](Self::to_hex) for `getuploadurl`'s `aeskey`,
/// [`to_base64_hex`](Self::to_base64_hex) for an outbound `CDNMedia.aes_key`.
///
/// ```
/// use ilink_crypto::{KeyFormat, MediaKey};
///
/// let (key, format) = MediaKey::parse("ABEiM0RVZneImaq7zN3u/w==")?;
/// assert_eq!(format, KeyFormat::Base64Raw);
/// assert_eq!(key.to_hex(), "00112233445566778899aabbccddeeff");
/// assert_eq!(key.to_base64_hex(), "MDAxMTIyMzM0NDU1NjY3Nzg4OTlhYWJiY2NkZGVlZmY=");
/// assert_eq!(format!("{key:?}"), "MediaKey(<redacted>)");
/// # Ok::<(), ilink_crypto::KeyError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct MediaKey([u8; 16]);

/// How a [`MediaKey`] was written on the wire.
///
/// The format says what the text means, not which base64 alphabet spelled
/// it: [`MediaKey::parse`] also accepts the URL-safe alphabet (`-`, `_`) and
/// missing `=` padding, and reports those as the same two base64 formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyFormat {
    /// The 32-character hex string itself, as in `image_item.aeskey` and
    /// `getuploadurl`'s `aeskey`.
    Hex,
    /// Base64 of the 16 raw key bytes (format A of `CDNMedia.aes_key`, usual
    /// for inbound images).
    Base64Raw,
    /// Base64 of the 32-character hex string (format B of `CDNMedia.aes_key`,
    /// usual for voice, file and video, and the form to send).
    Base64Hex,
}

/// A media key could not be parsed.
///
/// The message names lengths, positions and kinds of characters, never the
/// key text or any part of it, so it is safe to log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The text is empty or only whitespace.
    #[error("media key is empty")]
    Empty,
    /// A hex key does not have 32 characters.
    #[error("hex media key must have 32 characters, got {len}")]
    HexLength {
        /// Length of the trimmed text in bytes.
        len: usize,
    },
    /// A hex key has a character that is not a hex digit.
    #[error("hex media key has {kind} at position {position}")]
    HexChar {
        /// Zero-based byte offset in the trimmed text.
        position: usize,
        /// What kind of character it is.
        kind: CharKind,
    },
    /// The text is not valid base64 (standard or URL-safe alphabet).
    #[error("media key is not valid base64 ({problem})")]
    Base64 {
        /// What is wrong with it.
        problem: Base64Problem,
    },
    /// Base64 decoded to a length that is neither 16 (raw key) nor 32 (hex
    /// key) bytes.
    #[error(
        "base64 media key of {encoded} characters decodes to {decoded} bytes; \
         expected 16 (raw key) or 32 (hex key)"
    )]
    DecodedLength {
        /// Length of the trimmed base64 text.
        encoded: usize,
        /// Number of bytes it decodes to.
        decoded: usize,
    },
    /// Base64 decoded to 32 bytes that are not all hex digits.
    #[error(
        "base64 media key decodes to 32 bytes with {kind} at position {position}; expected hex digits"
    )]
    DecodedHexChar {
        /// Zero-based offset in the decoded bytes.
        position: usize,
        /// What kind of byte it is.
        kind: CharKind,
    },
}

/// What is wrong with base64 text, for [`KeyError::Base64`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Base64Problem {
    /// A character outside the alphabet, or `=` before the end.
    Symbol {
        /// Zero-based byte offset in the trimmed text.
        position: usize,
    },
    /// The number of symbols cannot be base64 (one symbol too many for a
    /// group of four).
    Length,
    /// The `=` padding is malformed.
    Padding,
}

impl fmt::Display for Base64Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Symbol { position } => write!(f, "bad symbol at position {position}"),
            Self::Length => f.write_str("impossible length"),
            Self::Padding => f.write_str("bad padding"),
        }
    }
}

impl From<base64::DecodeError> for Base64Problem {
    fn from(err: base64::DecodeError) -> Self {
        match err {
            base64::DecodeError::InvalidByte(position, _) => Self::Symbol { position },
            base64::DecodeError::InvalidLastSymbol { offset, .. } => {
                Self::Symbol { position: offset }
            }
            base64::DecodeError::InvalidLength(_) => Self::Length,
            base64::DecodeError::InvalidPadding => Self::Padding,
        }
    }
}

impl MediaKey {
    /// Length of a key in bytes.
    pub const LEN: usize = 16;

    /// Makes a fresh random key from the operating system's generator.
    ///
    /// # Errors
    ///
    /// [`RandomError`] when the operating system cannot supply random bytes.
    pub fn generate() -> Result<Self, RandomError> {
        random::bytes().map(Self)
    }

    /// Wraps 16 raw key bytes.
    #[must_use]
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// The 16 raw key bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// The key as 32 lowercase hex digits: `getuploadurl`'s `aeskey` and
    /// `image_item.aeskey` ([`KeyFormat::Hex`]).
    #[must_use]
    pub fn to_hex(&self) -> String {
        hex::encode(&self.0)
    }

    /// Standard padded base64 of the 32-character hex string
    /// ([`KeyFormat::Base64Hex`]): the form an outbound `CDNMedia.aes_key`
    /// must use, or the phone shows images grey.
    #[must_use]
    pub fn to_base64_hex(&self) -> String {
        STANDARD.encode(self.to_hex())
    }

    /// Standard padded base64 of the 16 raw bytes ([`KeyFormat::Base64Raw`]).
    #[must_use]
    pub fn to_base64_raw(&self) -> String {
        STANDARD.encode(self.0)
    }

    /// Writes the key in the given wire format (base64 forms use the standard
    /// padded alphabet).
    #[must_use]
    pub fn encode(&self, format: KeyFormat) -> String {
        match format {
            KeyFormat::Hex => self.to_hex(),
            KeyFormat::Base64Raw => self.to_base64_raw(),
            KeyFormat::Base64Hex => self.to_base64_hex(),
        }
    }

    /// Parses a key in any wire form and tells which form it was.
    ///
    /// Surrounding whitespace is ignored. Exactly 32 characters are read as
    /// hex digits (either case); anything else as base64, standard or
    /// URL-safe, padded or not, which must decode to 16 bytes (the raw key)
    /// or to 32 hex digits (the hex key). No valid base64 key has 32
    /// characters, so the two readings never compete. Text of hex digits
    /// only that is no valid key either way is reported as a hex key of the
    /// wrong length.
    ///
    /// ```
    /// use ilink_crypto::{KeyFormat, MediaKey};
    ///
    /// let forms = [
    ///     ("00112233445566778899aabbccddeeff", KeyFormat::Hex),
    ///     ("ABEiM0RVZneImaq7zN3u/w==", KeyFormat::Base64Raw),
    ///     ("ABEiM0RVZneImaq7zN3u_w", KeyFormat::Base64Raw),
    ///     ("MDAxMTIyMzM0NDU1NjY3Nzg4OTlhYWJiY2NkZGVlZmY=", KeyFormat::Base64Hex),
    /// ];
    /// for (text, expected) in forms {
    ///     let (key, format) = MediaKey::parse(text)?;
    ///     assert_eq!(format, expected);
    ///     assert_eq!(key.to_hex(), "00112233445566778899aabbccddeeff");
    /// }
    /// # Ok::<(), ilink_crypto::KeyError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// A [`KeyError`] naming what is wrong, without repeating the text.
    pub fn parse(text: &str) -> Result<(Self, KeyFormat), KeyError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(KeyError::Empty);
        }
        if text.len() == 2 * Self::LEN {
            return Self::from_hex(text).map(|key| (key, KeyFormat::Hex));
        }
        Self::from_base64(text).map_err(|err| {
            // Only hex digits, but not 32 of them: a cut or padded hex key
            // is likelier than base64 that happens to use only hex digits.
            if text.bytes().all(|b| b.is_ascii_hexdigit()) {
                KeyError::HexLength { len: text.len() }
            } else {
                err
            }
        })
    }

    /// Parses exactly 32 hex digits (either case), ignoring surrounding
    /// whitespace.
    ///
    /// # Errors
    ///
    /// [`KeyError::Empty`], [`KeyError::HexLength`] or [`KeyError::HexChar`].
    pub fn from_hex(text: &str) -> Result<Self, KeyError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(KeyError::Empty);
        }
        hex::decode(text.as_bytes())
            .map(Self)
            .map_err(|err| match err {
                HexError::Length { found, .. } => KeyError::HexLength { len: found },
                HexError::Char { position, kind } => KeyError::HexChar { position, kind },
            })
    }

    /// Parses a base64 `CDNMedia.aes_key`, following the protocol's rule:
    /// 16 decoded bytes are the raw key ([`KeyFormat::Base64Raw`]); 32
    /// decoded bytes that are all hex digits are the hex key
    /// ([`KeyFormat::Base64Hex`]); anything else is an error naming the
    /// lengths. Standard and URL-safe alphabets, padded or not, are accepted;
    /// surrounding whitespace is ignored.
    ///
    /// # Errors
    ///
    /// [`KeyError::Empty`], [`KeyError::Base64`],
    /// [`KeyError::DecodedLength`] or [`KeyError::DecodedHexChar`].
    pub fn from_base64(text: &str) -> Result<(Self, KeyFormat), KeyError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(KeyError::Empty);
        }
        let url_safe = text.bytes().any(|b| b == b'-' || b == b'_');
        let engine = if url_safe {
            &URL_SAFE_LENIENT
        } else {
            &STANDARD_LENIENT
        };
        let decoded = engine.decode(text).map_err(|err| KeyError::Base64 {
            problem: err.into(),
        })?;
        match decoded.len() {
            16 => {
                let mut raw = [0u8; 16];
                raw.copy_from_slice(&decoded);
                Ok((Self(raw), KeyFormat::Base64Raw))
            }
            32 => hex::decode(&decoded)
                .map(|raw| (Self(raw), KeyFormat::Base64Hex))
                .map_err(|err| match err {
                    HexError::Char { position, kind } => {
                        KeyError::DecodedHexChar { position, kind }
                    }
                    HexError::Length { found, .. } => KeyError::DecodedLength {
                        encoded: text.len(),
                        decoded: found,
                    },
                }),
            decoded => Err(KeyError::DecodedLength {
                encoded: text.len(),
                decoded,
            }),
        }
    }
}

impl fmt::Debug for MediaKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MediaKey(<redacted>)")
    }
}

impl FromStr for MediaKey {
    type Err = KeyError;

    /// Same as [`MediaKey::parse`], dropping the format.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text).map(|(key, _)| key)
    }
}

impl From<[u8; 16]> for MediaKey {
    fn from(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 16] = [
        0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee,
        0xff,
    ];

    #[test]
    fn encodings_round_trip() {
        let key = MediaKey::from_bytes(KEY);
        for format in [KeyFormat::Hex, KeyFormat::Base64Raw, KeyFormat::Base64Hex] {
            assert_eq!(MediaKey::parse(&key.encode(format)), Ok((key, format)));
        }
    }

    #[test]
    fn uppercase_hex_is_accepted() {
        let (key, format) = MediaKey::parse("00112233445566778899AABBCCDDEEFF").unwrap();
        assert_eq!((key.as_bytes(), format), (&KEY, KeyFormat::Hex));
    }

    #[test]
    fn decoded_length_names_both_lengths() {
        // base64 of 12 bytes: 16 characters.
        let err = MediaKey::from_base64("AAECAwQFBgcICQoL").unwrap_err();
        assert_eq!(
            err,
            KeyError::DecodedLength {
                encoded: 16,
                decoded: 12
            }
        );
        let text = err.to_string();
        assert!(
            text.contains("16 characters") && text.contains("12 bytes"),
            "{text}"
        );
    }

    #[test]
    fn mixed_alphabets_are_rejected() {
        // '+' is not in the URL-safe alphabet chosen because of '_'.
        let err = MediaKey::from_base64("ABEiM0RVZneImaq7zN3+_w==").unwrap_err();
        assert_eq!(
            err,
            KeyError::Base64 {
                problem: Base64Problem::Symbol { position: 19 }
            }
        );
    }
}
