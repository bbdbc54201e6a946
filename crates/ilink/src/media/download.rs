//! Receiving media: the key per the protocol's rules, a streaming decrypting
//! download, and files that appear whole or not at all.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use ilink_crypto::MediaKey;
use ilink_http::DownloadSource;
use ilink_proto::{ItemContent, MessageItem};
use tempfile::NamedTempFile;
use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt, BufWriter};

use super::name::{is_single_component, local_name, numbered};
use super::{MediaError, MediaKind};
use crate::Error;

/// How many numbered alternatives [`Download::to_dir`] tries.
const MAX_ALTERNATIVES: u32 = 10_000;
/// The write buffer in front of a file being downloaded.
const FILE_BUFFER: usize = 256 * 1024;

/// A download of a received image, voice note, file or video, built by
/// [`Bot::download`](crate::Bot::download); finish it with [`bytes`](Self::bytes),
/// [`to_writer`](Self::to_writer), [`to_path`](Self::to_path) or
/// [`to_dir`](Self::to_dir).
///
/// The key follows the protocol's rules: for images `image_item.aeskey`
/// (hex) first, else `media.aes_key` in any of its forms; an image without
/// any key is taken as it is (some come unencrypted); other kinds without a
/// key fail with [`MediaError::MissingKey`]. `full_url` is preferred over
/// the download parameter. The body is streamed and decrypted frame by
/// frame, and limited by [`cap`](Self::cap).
///
/// ```no_run
/// # async fn demo(bot: ilink::Bot, msg: ilink::Message) -> Result<(), ilink::Error> {
/// for item in msg.items() {
///     if item.media().is_some() {
///         let saved = bot.download(item).to_dir("inbox").await?;
///         println!("saved {}", saved.display());
///     }
/// }
/// # Ok(()) }
/// ```
#[must_use = "a download does nothing until one of its methods is awaited"]
pub struct Download {
    transport: ilink_http::Transport,
    item: MessageItem,
    cap: Option<u64>,
}

impl fmt::Debug for Download {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Download")
            .field("item_type", &self.item.kind())
            .field("msg_id", &self.item.msg_id)
            .field("cap", &self.cap)
            .finish_non_exhaustive()
    }
}

/// Where and how to fetch one item.
struct Plan {
    kind: MediaKind,
    source: DownloadSource,
    key: Option<MediaKey>,
    /// What the message declares of the plaintext, to check it against.
    declared: Declared,
}

/// The plaintext size and MD5 a message declares (`file_item.len` and
/// `file_item.md5`; other kinds declare none that is the plaintext's).
#[derive(Default)]
struct Declared {
    len: Option<u64>,
    md5: Option<String>,
}

impl Declared {
    fn of(item: &MessageItem) -> Self {
        match &item.file_item {
            Some(file) => Self {
                len: file.len,
                md5: file
                    .md5
                    .as_deref()
                    .map(str::trim)
                    .filter(|m| m.len() == 32 && m.bytes().all(|b| b.is_ascii_hexdigit()))
                    .map(str::to_ascii_lowercase),
            },
            None => Self::default(),
        }
    }

    fn is_empty(&self) -> bool {
        self.len.is_none() && self.md5.is_none()
    }
}

/// A writer that counts and hashes what passes through it.
struct Checked<'a, W: ?Sized> {
    inner: &'a mut W,
    md5: ilink_crypto::Md5,
    len: u64,
}

impl<W: AsyncWrite + Unpin + ?Sized> AsyncWrite for Checked<'_, W> {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = std::pin::Pin::new(&mut *this.inner).poll_write(cx, buf);
        if let std::task::Poll::Ready(Ok(n)) = &polled {
            this.md5.update(&buf[..*n]);
            this.len += *n as u64;
        }
        polled
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        std::pin::Pin::new(&mut *self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        std::pin::Pin::new(&mut *self.get_mut().inner).poll_shutdown(cx)
    }
}

impl Download {
    pub(crate) fn new(transport: ilink_http::Transport, item: &MessageItem) -> Self {
        Self {
            transport,
            item: item.clone(),
            cap: None,
        }
    }

    /// The most bytes to receive (default: the transport's download cap,
    /// 100 MiB). A larger download fails with a
    /// [`TooLarge`](ilink_http::ErrorKind::TooLarge) transport error.
    pub fn cap(mut self, bytes: u64) -> Self {
        self.cap = Some(bytes);
        self
    }

    /// Downloads a voice note and decodes it to PCM, at the sample rate the
    /// message declares (24 kHz when it declares none); write it out with
    /// [`Pcm::to_wav`](crate::voice::Pcm::to_wav) or
    /// [`write_wav`](crate::voice::Pcm::write_wav). At most
    /// [`MAX_SILK_BYTES`](crate::voice::MAX_SILK_BYTES) are downloaded; see
    /// [`crate::voice`] for the other limits.
    ///
    /// # Errors
    ///
    /// As [`bytes`](Self::bytes); [`MediaError::NotMedia`] for an item that
    /// is no voice note; [`Error::Voice`] when the audio is not SILK or is
    /// corrupt.
    #[cfg(feature = "voice")]
    pub async fn voice(self) -> Result<crate::voice::Pcm, Error> {
        let Some(voice) = self.item.voice_item.as_deref() else {
            return Err(MediaError::NotMedia {
                item_type: self.item.kind().0,
            }
            .into());
        };
        let rate = crate::voice::sample_rate_of(voice);
        let cap = self
            .cap
            .unwrap_or(u64::MAX)
            .min(crate::voice::MAX_SILK_BYTES as u64);
        let silk = self.cap(cap).bytes().await?;
        tokio::task::spawn_blocking(move || crate::voice::decode(&silk, rate))
            .await
            .map_err(Error::Task)?
            .map_err(Error::Voice)
    }

    /// The kind of media the item holds, `None` when it is not media.
    pub fn kind(&self) -> Option<MediaKind> {
        media_kind(&self.item)
    }

    /// Downloads into memory.
    ///
    /// # Errors
    ///
    /// [`Error::Media`] when the item cannot be downloaded (not media, no
    /// reference, no usable key); [`Error::Http`] when the transfer fails
    /// (status, timeout, [`TooLarge`](ilink_http::ErrorKind::TooLarge),
    /// [`Decrypt`](ilink_http::ErrorKind::Decrypt));
    /// [`MediaError::SizeMismatch`] or [`MediaError::Md5Mismatch`] when the
    /// plaintext is not what a file message declares (`file_item.len`,
    /// `file_item.md5`), as with a wrong key whose padding checked out.
    pub async fn bytes(self) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        self.to_writer(&mut out).await?;
        Ok(out)
    }

    /// Downloads into a writer and returns the plaintext bytes written.
    ///
    /// # Errors
    ///
    /// As [`bytes`](Self::bytes). On error the writer may hold part of the
    /// media: discard it.
    pub async fn to_writer<W>(self, writer: &mut W) -> Result<u64, Error>
    where
        W: AsyncWrite + Unpin + ?Sized,
    {
        let plan = plan(&self.item)?;
        self.fetch(&plan, writer).await
    }

    /// Downloads to a file at `path` (replacing it if it exists) and returns
    /// the bytes written. The media goes to a temporary file beside it,
    /// flushed to disk and then renamed, so `path` never holds a partial
    /// download.
    ///
    /// # Errors
    ///
    /// As [`bytes`](Self::bytes), and [`Error::Io`] for the file system.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future removes the temporary file.
    pub async fn to_path(self, path: impl AsRef<Path>) -> Result<u64, Error> {
        let path = path.as_ref();
        let plan = plan(&self.item)?;
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let (temp, written) = self.fetch_to_temp(&plan, &dir).await?;
        let path = path.to_path_buf();
        blocking(move || temp.persist(path).map(drop).map_err(|e| e.error)).await?;
        Ok(written)
    }

    /// Downloads into directory `dir` (created if missing) under a safe name
    /// and returns the file's path.
    ///
    /// The name is derived from the sender's file name, which is untrusted:
    /// path separators, control and bidi-override characters and characters
    /// Windows forbids become `_`, leading dots and trailing dots and spaces
    /// go, reserved device names (`CON`, `NUL`, …) get a leading `_`, long
    /// names are cut. Items without a usable name are saved as
    /// `<kind>-<msg_id>.<ext>` (`image-123.jpg`, the extension from the
    /// content when it tells). The file is always created inside `dir` and
    /// never replaces one: ` (1)`, ` (2)`, … are added as needed. As with
    /// [`to_path`](Self::to_path), the file appears only once complete.
    ///
    /// # Errors
    ///
    /// As [`to_path`](Self::to_path).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future removes the temporary file.
    pub async fn to_dir(self, dir: impl AsRef<Path>) -> Result<PathBuf, Error> {
        let dir = dir.as_ref();
        let plan = plan(&self.item)?;
        tokio::fs::create_dir_all(dir).await?;
        let (mut temp, _) = self.fetch_to_temp(&plan, dir).await?;
        let head = read_head(temp.path()).await?;
        let name = local_name(&self.item, plan.kind, &head);
        for n in 0..MAX_ALTERNATIVES {
            let candidate = if n == 0 {
                name.clone()
            } else {
                numbered(&name, n)
            };
            if !is_single_component(&candidate) {
                return Err(MediaError::NoLocalName.into());
            }
            let target = dir.join(&candidate);
            // Never over a file that is there, even one that appeared a
            // moment ago (an atomic no-replace rename, or a link).
            let to = target.clone();
            let kept = blocking(move || Ok(temp.persist_noclobber(to))).await?;
            match kept {
                Ok(_) => return Ok(target),
                Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => temp = e.file,
                Err(e) => return Err(Error::Io(e.error)),
            }
        }
        Err(Error::Io(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "every numbered alternative of the file name is taken",
        )))
    }

    /// Downloads into `writer` and checks the plaintext against what the
    /// message declares (size, MD5): a mismatch is an error, so a wrong key
    /// whose padding happened to check out never passes as success.
    async fn fetch<W>(&self, plan: &Plan, writer: &mut W) -> Result<u64, Error>
    where
        W: AsyncWrite + Unpin + ?Sized,
    {
        tracing::debug!(kind = %plan.kind, encrypted = plan.key.is_some(), "downloading media");
        let declared = &plan.declared;
        let mut checked = Checked {
            inner: writer,
            md5: ilink_crypto::Md5::new(),
            len: 0,
        };
        let written = if declared.is_empty() {
            self.transfer(plan, checked.inner).await?
        } else {
            self.transfer(plan, &mut checked).await?
        };
        if let Some(len) = declared.len
            && len != written
        {
            return Err(MediaError::SizeMismatch {
                kind: plan.kind,
                declared: len,
                got: written,
            }
            .into());
        }
        if let Some(md5) = &declared.md5
            && checked.md5.finalize().to_hex() != *md5
        {
            return Err(MediaError::Md5Mismatch { kind: plan.kind }.into());
        }
        Ok(written)
    }

    async fn transfer<W>(&self, plan: &Plan, writer: &mut W) -> Result<u64, Error>
    where
        W: AsyncWrite + Unpin + ?Sized,
    {
        self.transport
            .download_to(&plan.source, plan.key.as_ref(), writer, self.cap)
            .await
            .map_err(Error::from_transport)
    }

    /// Downloads into a fresh temporary file in `dir` (removed when
    /// dropped unless persisted), flushed to disk.
    async fn fetch_to_temp(&self, plan: &Plan, dir: &Path) -> Result<(NamedTempFile, u64), Error> {
        let dir = dir.to_path_buf();
        let (temp, file) = blocking(move || {
            let temp = tempfile::Builder::new()
                .prefix(".ilink-")
                .suffix(".part")
                .tempfile_in(dir)?;
            let file = temp.as_file().try_clone()?;
            Ok((temp, file))
        })
        .await?;
        let mut out = BufWriter::with_capacity(FILE_BUFFER, tokio::fs::File::from_std(file));
        let written = self.fetch(plan, &mut out).await?;
        out.flush().await?;
        out.into_inner().sync_all().await?;
        Ok((temp, written))
    }
}

/// What kind of media an item holds.
fn media_kind(item: &MessageItem) -> Option<MediaKind> {
    match item.content() {
        ItemContent::Image(_) => Some(MediaKind::Image),
        ItemContent::Voice(_) => Some(MediaKind::Voice),
        ItemContent::File(_) => Some(MediaKind::File),
        ItemContent::Video(_) => Some(MediaKind::Video),
        _ => None,
    }
}

/// Chooses the source and key of an item, per the protocol's rules.
fn plan(item: &MessageItem) -> Result<Plan, MediaError> {
    let kind = media_kind(item).ok_or(MediaError::NotMedia {
        item_type: item.kind().0,
    })?;
    let media = item.media().ok_or(MediaError::NoReference { kind })?;
    let source = DownloadSource::from_media(media).ok_or(MediaError::NoReference { kind })?;
    let hex = item
        .image_item
        .as_ref()
        .and_then(|i| i.aeskey.as_ref())
        .filter(|k| !k.expose().trim().is_empty());
    let encoded = media
        .aes_key
        .as_ref()
        .filter(|k| !k.expose().trim().is_empty());
    let parse = |text: &ilink_proto::AesKeyText| {
        MediaKey::parse(text.expose())
            .map(|(key, _)| key)
            .map_err(|source| MediaError::BadKey { kind, source })
    };
    let key = match (kind, hex, encoded) {
        (MediaKind::Image, Some(hex), encoded) => match (parse(hex), encoded) {
            (Ok(key), _) => Some(key),
            (Err(e), None) => return Err(e),
            (Err(_), Some(encoded)) => {
                tracing::warn!("image_item.aeskey does not parse; using media.aes_key");
                Some(parse(encoded)?)
            }
        },
        (_, _, Some(encoded)) => Some(parse(encoded)?),
        (MediaKind::Image, None, None) => None,
        (kind, _, None) => return Err(MediaError::MissingKey { kind }),
    };
    Ok(Plan {
        kind,
        source,
        key,
        declared: Declared::of(item),
    })
}

/// The first bytes of a file, to tell its type.
async fn read_head(path: &Path) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(16);
    tokio::fs::File::open(path)
        .await?
        .take(16)
        .read_to_end(&mut head)
        .await?;
    Ok(head)
}

/// Runs file-system work on a blocking thread.
async fn blocking<T, F>(f: F) -> io::Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> io::Result<T> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(io::Error::other)?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(json: &str) -> MessageItem {
        serde_json::from_str(json).unwrap()
    }

    const HEX: &str = "00112233445566778899aabbccddeeff";
    const B64_RAW: &str = "ABEiM0RVZneImaq7zN3u/w==";
    const OTHER_B64_HEX: &str = "ZmZlZWRkY2NiYmFhOTk4ODc3NjY1NTQ0MzMyMjExMDA=";

    #[test]
    fn image_keys_prefer_the_hex_field() {
        let both = item(&format!(
            r#"{{"type":2,"image_item":{{"aeskey":"{HEX}","media":{{"encrypt_query_param":"p","aes_key":"{OTHER_B64_HEX}"}}}}}}"#
        ));
        let p = plan(&both).unwrap();
        assert_eq!(p.key.unwrap().to_hex(), HEX);
        assert_eq!(p.source, DownloadSource::param("p"));

        let raw = item(&format!(
            r#"{{"type":2,"image_item":{{"media":{{"full_url":"http://x/f","encrypt_query_param":"p","aes_key":"{B64_RAW}"}}}}}}"#
        ));
        let p = plan(&raw).unwrap();
        assert_eq!(p.key.unwrap().to_hex(), HEX);
        assert_eq!(p.source, DownloadSource::full_url("http://x/f"));

        let bad_hex = item(&format!(
            r#"{{"type":2,"image_item":{{"aeskey":"zz","media":{{"encrypt_query_param":"p","aes_key":"{B64_RAW}"}}}}}}"#
        ));
        assert_eq!(plan(&bad_hex).unwrap().key.unwrap().to_hex(), HEX);

        let plain = item(r#"{"type":2,"image_item":{"media":{"encrypt_query_param":"p"}}}"#);
        assert!(plan(&plain).unwrap().key.is_none());
    }

    #[test]
    fn other_kinds_need_a_key() {
        let file = item(r#"{"type":4,"file_item":{"media":{"encrypt_query_param":"p"}}}"#);
        assert!(matches!(
            plan(&file),
            Err(MediaError::MissingKey {
                kind: MediaKind::File
            })
        ));
        let bad =
            item(r#"{"type":5,"video_item":{"media":{"encrypt_query_param":"p","aes_key":"!!"}}}"#);
        assert!(matches!(
            plan(&bad),
            Err(MediaError::BadKey {
                kind: MediaKind::Video,
                ..
            })
        ));
        let text = item(r#"{"type":1,"text_item":{"text":"hi"}}"#);
        assert!(matches!(
            plan(&text),
            Err(MediaError::NotMedia { item_type: 1 })
        ));
        let bare = item(r#"{"type":3,"voice_item":{}}"#);
        assert!(matches!(
            plan(&bare),
            Err(MediaError::NoReference {
                kind: MediaKind::Voice
            })
        ));
    }
}
