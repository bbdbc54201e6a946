//! Media encryption for the WeChat iLink Bot API's CDN.
//!
//! Media travels through the CDN encrypted with AES-128-ECB and PKCS#7
//! padding under a random per-file key. This crate holds that cryptography
//! and nothing else: no network, no async runtime, no protocol types.
//!
//! - Keys: [`MediaKey`] (the secret AES key, parsed from any of its three
//!   wire forms, see [`KeyFormat`]) and [`FileKey`] (the upload's public
//!   name).
//! - One-shot: [`encrypt`], [`decrypt`], [`encrypt_in_place`],
//!   [`decrypt_in_place`], and [`MediaCipher`] to reuse a key schedule.
//! - Streaming in bounded memory: [`Encryptor`] and [`Decryptor`] (push),
//!   [`EncryptingReader`] (pull, for uploads) and [`DecryptingWriter`] (for
//!   downloads).
//! - Upload preparation: [`scan`] computes a file's size and MD5 in one
//!   pass ([`PlainInfo`]); [`ciphertext_size`] gives the encrypted size.
//!
//! # Uploading a file in two passes
//!
//! ```no_run
//! use std::fs::File;
//! use std::io::Read;
//! use ilink_crypto::{EncryptingReader, FileKey, MediaKey, scan};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let path = "video.mp4";
//! let info = scan(File::open(path)?)?; // pass 1: rawsize and rawfilemd5
//! let key = MediaKey::generate()?;
//! let filekey = FileKey::generate()?;
//! // getuploadurl { filekey, rawsize: info.size, rawfilemd5: info.md5.to_hex(),
//! //   filesize: info.ciphertext_size(), aeskey: key.to_hex(), .. }
//! let mut body = EncryptingReader::new(&key, File::open(path)?); // pass 2
//! # let mut sink = std::io::sink();
//! std::io::copy(&mut body, &mut sink)?; // stands in for the POST body
//! // The message then carries media.aes_key = key.to_base64_hex().
//! # let _ = filekey;
//! # Ok(())
//! # }
//! ```
//!
//! # Downloading
//!
//! ```
//! use std::io::Write;
//! use ilink_crypto::{DecryptingWriter, MediaKey, encrypt};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let original = MediaKey::from_bytes(*b"0123456789abcdef");
//! # let aes_key = original.to_base64_hex();
//! # let ciphertext = encrypt(&original, b"picture");
//! // `aes_key` comes from the message's CDNMedia, in whichever form.
//! let key: MediaKey = aes_key.parse()?;
//! let mut writer = DecryptingWriter::new(&key, Vec::new());
//! for chunk in ciphertext.chunks(4096) {
//!     // chunks as they arrive from the CDN
//!     writer.write_all(chunk)?;
//! }
//! let picture = writer.finish()?;
//! # assert_eq!(picture, b"picture");
//! # Ok(())
//! # }
//! ```

mod ecb;
mod file_key;
mod hex;
mod key;
mod md5;
pub mod random;
mod reader;
mod stream;
mod upload;
mod writer;

/// The ciphertext size of a plaintext size (defined in `ilink-proto`, whose
/// wire fields carry it).
pub use ilink_proto::ciphertext_size;

pub use crate::ecb::{
    DecryptError, MediaCipher, decrypt, decrypt_in_place, encrypt, encrypt_in_place,
};
pub use crate::file_key::FileKey;
pub use crate::hex::{CharKind, HexError};
pub use crate::key::{Base64Problem, KeyError, KeyFormat, MediaKey};
pub use crate::md5::{Md5, Md5Digest, md5};
pub use crate::random::RandomError;
pub use crate::reader::EncryptingReader;
pub use crate::stream::{Decryptor, Encryptor};
pub use crate::upload::{PlainInfo, scan};
pub use crate::writer::DecryptingWriter;

/// Compiles and runs the README's example with the doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
