//! MD5 of the plaintext, as `rawfilemd5` and `file_item.md5` want it.
//!
//! The compression function comes from the `fast-md5` crate, whose x86_64
//! and aarch64 cores are hand-scheduled assembly (about 1.05× OpenSSL's
//! speed here, where the portable Rust implementations reach 0.8×); other
//! targets get its portable Rust fallback.

use std::fmt;
use std::io;
use std::str::FromStr;

use crate::hex::{self, HexError};

/// An MD5 digest: 16 bytes, shown as 32 lowercase hex digits.
///
/// ```
/// use ilink_crypto::{Md5Digest, md5};
///
/// let digest = md5(b"abc");
/// assert_eq!(digest.to_string(), "900150983cd24fb0d6963f7d28e17f72");
/// assert_eq!("900150983CD24FB0D6963F7D28E17F72".parse::<Md5Digest>()?, digest);
/// # Ok::<(), ilink_crypto::HexError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Md5Digest([u8; 16]);

impl Md5Digest {
    /// Wraps 16 digest bytes.
    #[must_use]
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// The 16 digest bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// The 32 lowercase hex digits.
    #[must_use]
    pub fn to_hex(&self) -> String {
        hex::encode(&self.0)
    }
}

impl fmt::Display for Md5Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        hex::fmt(&self.0, f)
    }
}

impl fmt::Debug for Md5Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Md5Digest(")?;
        hex::fmt(&self.0, f)?;
        f.write_str(")")
    }
}

impl FromStr for Md5Digest {
    type Err = HexError;

    /// Parses 32 hex digits, either case.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        hex::decode(text.as_bytes()).map(Self)
    }
}

/// A streaming MD5 hasher.
///
/// It also implements [`io::Write`], so [`io::copy`] can feed it.
///
/// ```
/// use ilink_crypto::{Md5, md5};
///
/// let mut hasher = Md5::new();
/// hasher.update(b"a");
/// hasher.update(b"bc");
/// assert_eq!(hasher.finalize(), md5(b"abc"));
/// ```
pub struct Md5(fast_md5::Md5);

impl Md5 {
    /// A hasher that has seen nothing.
    #[must_use]
    pub fn new() -> Self {
        Self(fast_md5::Md5::new())
    }

    /// Feeds more data.
    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    /// The digest of everything fed.
    #[must_use]
    pub fn finalize(self) -> Md5Digest {
        Md5Digest(self.0.finalize())
    }
}

impl Default for Md5 {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Md5 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Md5").finish_non_exhaustive()
    }
}

impl io::Write for Md5 {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.update(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The MD5 digest of `data`.
#[must_use]
pub fn md5(data: &[u8]) -> Md5Digest {
    Md5Digest(fast_md5::digest(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 1321, appendix A.5.
    #[test]
    fn rfc_1321_suite() {
        let suite: [(&[u8], &str); 7] = [
            (b"", "d41d8cd98f00b204e9800998ecf8427e"),
            (b"a", "0cc175b9c0f1b6a831c399e269772661"),
            (b"abc", "900150983cd24fb0d6963f7d28e17f72"),
            (b"message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
            (
                b"abcdefghijklmnopqrstuvwxyz",
                "c3fcd3d76192e4007dfb496cca67e13b",
            ),
            (
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
                "d174ab98d277d9f5a5611c2c9f419d9f",
            ),
            (
                b"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
                "57edf4a22be3c955ac49da2e2107b67a",
            ),
        ];
        for (input, expected) in suite {
            assert_eq!(md5(input).to_hex(), expected);
            // Byte by byte exercises every buffering path.
            let mut hasher = Md5::new();
            for byte in input {
                hasher.update(std::slice::from_ref(byte));
            }
            assert_eq!(hasher.finalize().to_string(), expected);
        }
    }

    #[test]
    fn debug_shows_hex() {
        assert_eq!(
            format!("{:?}", md5(b"")),
            "Md5Digest(d41d8cd98f00b204e9800998ecf8427e)"
        );
    }
}
