//! Why a media step fails, in media's own terms.

use ilink_crypto::KeyError;

use super::kind::MediaKind;

/// Why a received item cannot be downloaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MediaError {
    /// The item is not an image, voice note, file or video.
    #[error("item type {item_type} is not media")]
    NotMedia {
        /// The item's `type`.
        item_type: i32,
    },
    /// The item has neither a `full_url` nor an `encrypt_query_param`.
    #[error("the {kind} item references nothing on the CDN")]
    NoReference {
        /// The kind of media.
        kind: MediaKind,
    },
    /// A voice note, file or video came without an AES key (only images
    /// come unencrypted).
    #[error("the {kind} item carries no AES key")]
    MissingKey {
        /// The kind of media.
        kind: MediaKind,
    },
    /// The item's AES key is in none of the protocol's forms.
    #[error("the {kind} item's AES key cannot be parsed")]
    BadKey {
        /// The kind of media.
        kind: MediaKind,
        /// What is wrong with it (never the key itself).
        #[source]
        source: KeyError,
    },
    /// The downloaded plaintext is not as long as the message declared
    /// (`file_item.len`): a wrong key, or altered or truncated media.
    #[error("the {kind} has {got} bytes, but the message declared {declared}")]
    SizeMismatch {
        /// The kind of media.
        kind: MediaKind,
        /// What the message declared.
        declared: u64,
        /// What the download gave.
        got: u64,
    },
    /// The downloaded plaintext's MD5 is not the one the message declared
    /// (`file_item.md5`): a wrong key whose padding happened to check out
    /// (about 1 in 256), or altered media.
    #[error("the {kind}'s MD5 is not the one the message declared")]
    Md5Mismatch {
        /// The kind of media.
        kind: MediaKind,
    },
    /// getuploadurl answered without saying where to upload.
    #[error("the server gave no upload slot (no {missing})")]
    NoUploadSlot {
        /// The field that was missing.
        missing: &'static str,
    },
    /// No safe local name could be made for a received file in the target
    /// directory (every numbered alternative is taken or unsafe).
    #[error("no safe local name for the received file")]
    NoLocalName,
}
