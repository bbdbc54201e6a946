//! The random `filekey` that names one upload.

use std::fmt;
use std::str::FromStr;

use crate::hex::{self, HexError};
use crate::random::{self, RandomError};

/// The `filekey` of one upload: 16 random bytes written as 32 lowercase hex
/// digits, sent in `getuploadurl` and in the CDN upload URL.
///
/// A file key is an identifier, not a secret, so it has `Display` and
/// [`as_str`](Self::as_str). A retried upload of the same file keeps its
/// file key.
///
/// ```
/// use ilink_crypto::FileKey;
///
/// let key = FileKey::generate()?;
/// assert_eq!(key.as_str().len(), 32);
/// assert!(key.as_str().bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
/// # Ok::<(), ilink_crypto::RandomError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct FileKey(String);

impl FileKey {
    /// Makes a fresh random file key from the operating system's generator.
    ///
    /// # Errors
    ///
    /// [`RandomError`] when the operating system cannot supply random bytes.
    pub fn generate() -> Result<Self, RandomError> {
        random::bytes().map(Self::from_bytes)
    }

    /// The file key made of these 16 bytes.
    #[must_use]
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(hex::encode(&bytes))
    }

    /// The 32 lowercase hex digits.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FileKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for FileKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FileKey({})", self.0)
    }
}

impl FromStr for FileKey {
    type Err = HexError;

    /// Parses 32 hex digits (either case), storing them in lowercase.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        hex::decode(text.as_bytes()).map(Self::from_bytes)
    }
}

impl AsRef<str> for FileKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}
