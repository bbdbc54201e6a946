//! Media over the CDN: sending images, videos, files (and voice) from a path,
//! memory or a reader, and downloading received media to memory, a writer,
//! a path or a directory under a safe name.
//!
//! Sending ([`Bot::send_media`](crate::Bot::send_media), [`SendMedia`]) streams: a first pass
//! hashes the plaintext, a second encrypts and uploads it chunk by chunk, so
//! memory stays bounded whatever the file's size. Downloading
//! ([`Bot::download`](crate::Bot::download), [`Download`]) streams and decrypts likewise.

mod download;
mod error;
mod kind;
mod name;
mod source;
mod upload;

pub use download::Download;
pub use error::MediaError;
pub use kind::{MediaKind, mime_type};
pub use source::MediaSource;
pub use upload::SendMedia;
