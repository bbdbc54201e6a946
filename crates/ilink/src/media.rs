//! Media over the CDN: sending images, videos, files (and voice) from a path,
//! memory or a reader, and downloading received media to memory, a writer,
//! a path or a directory under a safe name.
//!
//! Sending ([`Bot::send_media`](crate::Bot::send_media), [`SendMedia`]) streams: a first pass
//! hashes the plaintext, a second encrypts and uploads it chunk by chunk, so
//! memory stays bounded whatever the file's size. Downloading
//! ([`Bot::download`](crate::Bot::download), [`Download`]) streams and decrypts likewise.

mod download;
mod kind;
mod name;
mod source;
mod upload;

use ilink_crypto::KeyError;
use ilink_proto::MessageItem;

pub use download::Download;
pub use kind::{MediaKind, mime_type};
pub use source::MediaSource;
pub use upload::SendMedia;

use crate::runner::Context;

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

impl Context {
    /// Sends media to the sender of the message, carrying its context token;
    /// the kind follows the file name (see [`Bot::send_media`](crate::Bot::send_media)).
    pub fn send_media(&self, source: impl Into<MediaSource>) -> SendMedia {
        let mut send = self.bot().send_media(self.user_id(), source);
        send.ids = self.reply_ids();
        match self.context_token() {
            Some(t) => send.context_token(t.clone()),
            None => send,
        }
    }

    /// Downloads a received image, voice note, file or video; see
    /// [`Download`].
    pub fn download(&self, item: &MessageItem) -> Download {
        self.bot().download(item)
    }
}
