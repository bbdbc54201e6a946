//! Sending media: hash, getuploadurl, stream the ciphertext to the CDN,
//! then send the item (after an optional caption) like any other message.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;

use ilink_crypto::{FileKey, MediaKey, PlainInfo};
use ilink_http::{Progress, UploadTarget};
use ilink_proto::{
    AesKeyText, ContextToken, GetUploadUrlRequest, MessageItem, UploadedMedia, UploadedThumb,
};

use super::kind::voice_encode_type;
use super::{MediaKind, MediaSource};
use crate::Error;
use crate::account::AccountCore;
use crate::outbox::{Outbox, Sent, Target};

/// The name a file gets when neither the builder nor the source gives one.
const DEFAULT_FILE_NAME: &str = "file";

/// A media send, built by [`Bot::send_media`](crate::Bot::send_media) (or [`send_image`],
/// [`send_video`], [`send_file`]); `.await` it.
///
/// The flow, in bounded memory whatever the file's size:
///
/// 1. a first pass over the source computes its size and MD5;
/// 2. `getuploadurl` gets an upload slot for a fresh file key and AES key,
///    carrying the user's context token (some accounts refuse without it);
/// 3. the ciphertext is streamed to the CDN one chunk at a time, the source
///    re-opened for each attempt (5xx and network failures are retried by the
///    transport, 4xx are not); a thumbnail, if any, follows the same way;
/// 4. the caption, if any, goes out as its own text message, then the media
///    item, through the same paced, retried path as text
///    ([`Bot::send_text`](crate::Bot::send_text)). If the caption fails, the media is not sent.
///
/// The result holds one [`Sent`] per message: the caption's (when there is
/// one) and the media's, in that order.
///
/// [`send_image`]: crate::Bot::send_image
/// [`send_video`]: crate::Bot::send_video
/// [`send_file`]: crate::Bot::send_file
///
/// # Cancel safety
///
/// Dropping the future is safe: an upload in progress is abandoned (the CDN
/// object is never referenced), and a message is either sent or not.
#[must_use = "a send does nothing until awaited"]
pub struct SendMedia {
    outbox: Arc<Outbox>,
    target: Target,
    source: MediaSource,
    kind: Option<MediaKind>,
    caption: Option<String>,
    file_name: Option<String>,
    thumbnail: Option<Thumbnail>,
    progress: Option<Progress>,
    hash_progress: Option<Progress>,
}

struct Thumbnail {
    source: MediaSource,
    width: u32,
    height: u32,
}

impl fmt::Debug for SendMedia {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendMedia")
            .field("to", &self.target.to)
            .field("source", &self.source)
            .field("kind", &self.kind)
            .field("file_name", &self.file_name)
            .field("caption", &self.caption.as_ref().map(|c| c.chars().count()))
            .field("thumbnail", &self.thumbnail.is_some())
            .finish_non_exhaustive()
    }
}

impl SendMedia {
    pub(crate) fn new(
        outbox: Arc<Outbox>,
        target: Target,
        source: MediaSource,
        kind: Option<MediaKind>,
    ) -> Self {
        Self {
            outbox,
            target,
            source,
            kind,
            caption: None,
            file_name: None,
            thumbnail: None,
            progress: None,
            hash_progress: None,
        }
    }

    /// Sends it as this kind, whatever the file name says. Forcing
    /// [`MediaKind::Voice`] sends a voice item (accepted by the server, but
    /// not shown as a voice bubble on phones).
    pub fn kind(mut self, kind: MediaKind) -> Self {
        self.kind = Some(kind);
        self
    }

    /// A text sent first, as its own message (as the official client does).
    /// If it fails, the media is not sent. Long captions are chunked like
    /// [`Bot::send_text`](crate::Bot::send_text).
    pub fn caption(mut self, text: impl Into<String>) -> Self {
        self.caption = Some(text.into());
        self
    }

    /// The file name the recipient sees for a file, and the name whose
    /// extension chooses the kind in [`Bot::send_media`](crate::Bot::send_media) (default: the
    /// path's file name; `file` for bytes and readers).
    pub fn file_name(mut self, name: impl Into<String>) -> Self {
        self.file_name = Some(name.into());
        self
    }

    /// A thumbnail for an image or a video, with its size in pixels. It is
    /// declared in getuploadurl, uploaded to the slot's `thumb_upload_param`
    /// with the same key, and referenced by the item's `thumb_media`.
    /// Ignored for files and voice.
    pub fn thumbnail(mut self, source: impl Into<MediaSource>, width: u32, height: u32) -> Self {
        self.thumbnail = Some(Thumbnail {
            source: source.into(),
            width,
            height,
        });
        self
    }

    /// Uses this context token instead of the user's cached one (for the
    /// upload slot and the messages).
    pub fn context_token(mut self, token: ContextToken) -> Self {
        self.target.context_token = Some(token);
        self
    }

    /// Calls `f(sent, total)` with plaintext bytes as the upload proceeds;
    /// it restarts from 0 when an attempt is retried and ends at
    /// `(total, total)`. Called from inside the HTTP stack: keep it quick.
    pub fn on_progress(mut self, f: impl Fn(u64, u64) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }

    /// Calls `f(hashed, total)` with plaintext bytes during the first pass,
    /// which reads the whole media for its size and MD5 before anything is
    /// uploaded (seconds for gigabytes). `total` is 0 when the source is a
    /// reader of unknown length.
    pub fn on_hash_progress(mut self, f: impl Fn(u64, u64) + Send + Sync + 'static) -> Self {
        self.hash_progress = Some(Arc::new(f));
        self
    }

    async fn run(self) -> Result<Vec<Sent>, Error> {
        if self.target.to.is_empty() {
            return Err(Error::NoRecipient);
        }
        let outbox = self.outbox;
        let handle = outbox.core.clone();
        let (to, token) = outbox.resolve(&self.target).await?;
        // The conversation must take the caption's messages and the media's
        // before anything is uploaded for nothing.
        let captions = match self.caption.as_deref() {
            Some(c) if !c.is_empty() => {
                crate::chunk::chunk_text(c, crate::chunk::DEFAULT_CHUNK_CHARS).len()
            }
            _ => 0,
        };
        outbox
            .check_budget(&to, u32::try_from(captions + 1).unwrap_or(u32::MAX))
            .await?;
        let file_name = self
            .file_name
            .clone()
            .or_else(|| self.source.file_name().map(str::to_owned))
            .unwrap_or_else(|| DEFAULT_FILE_NAME.to_owned());
        let kind = self
            .kind
            .unwrap_or_else(|| MediaKind::from_file_name(&file_name));
        let thumbnail = self
            .thumbnail
            .filter(|_| matches!(kind, MediaKind::Image | MediaKind::Video));

        // Pass 1: sizes and digests.
        let info = self.source.scan(self.hash_progress.clone()).await?;
        let thumb_info = match &thumbnail {
            Some(t) => Some(t.source.scan(None).await?),
            None => None,
        };

        // The upload slot.
        let key = MediaKey::generate().map_err(Error::Random)?;
        let filekey = FileKey::generate().map_err(Error::Random)?;
        let key_hex = AesKeyText::new(key.to_hex());
        let mut request = GetUploadUrlRequest::new(
            filekey.as_str(),
            kind.upload_media_type(),
            to.as_str(),
            info.size,
            info.md5.to_hex(),
            key_hex.clone(),
        )
        .with_context_token(token.clone());
        if let Some(t) = &thumb_info {
            request = request.with_thumb(t.size, t.md5.to_hex());
        }
        let slot = handle
            .http
            .get_upload_url(request)
            .await
            .map_err(|e| handle.map_err(e))?;
        let Some(target) = UploadTarget::from_response(&slot, filekey.as_str()) else {
            return Err(no_slot(&slot, "upload_param"));
        };

        // Pass 2: the ciphertext, streamed.
        tracing::debug!(%kind, size = info.size, "uploading media");
        let transport = handle.http.transport();
        let source = &self.source;
        let param = transport
            .upload(
                &target,
                &key,
                info.size,
                || source.open(),
                self.progress.clone(),
            )
            .await
            .map_err(|e| handle.map_err(e))?;
        if info.size == 0
            && let Some(progress) = &self.progress
        {
            progress(0, 0);
        }
        let mut uploaded = UploadedMedia::new(param, key_hex, info.size, info.md5.to_hex());
        if let (Some(thumb), Some(thumb_info)) = (&thumbnail, thumb_info) {
            uploaded = uploaded
                .with_thumb(upload_thumb(&handle, &slot, &filekey, &key, thumb, thumb_info).await?);
        }

        let item = media_item(kind, &uploaded, &file_name);
        let mut items: Vec<MessageItem> = match self.caption.as_deref() {
            Some(caption) if !caption.is_empty() => {
                crate::chunk::chunk_text(caption, crate::chunk::DEFAULT_CHUNK_CHARS)
                    .into_iter()
                    .map(MessageItem::text)
                    .collect()
            }
            _ => Vec::new(),
        };
        items.push(item);
        outbox.send_items(&to, token, items, &self.target.ids).await
    }
}

impl IntoFuture for SendMedia {
    type Output = Result<Vec<Sent>, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

async fn upload_thumb(
    handle: &AccountCore,
    slot: &ilink_proto::GetUploadUrlResponse,
    filekey: &FileKey,
    key: &MediaKey,
    thumb: &Thumbnail,
    info: PlainInfo,
) -> Result<UploadedThumb, Error> {
    let Some(param) = slot
        .thumb_upload_param
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    else {
        return Err(no_slot(slot, "thumb_upload_param"));
    };
    let target = UploadTarget::slot(param, filekey.as_str());
    let source = &thumb.source;
    let thumb_param = handle
        .http
        .transport()
        .upload(&target, key, info.size, || source.open(), None)
        .await
        .map_err(|e| handle.map_err(e))?;
    Ok(UploadedThumb::new(thumb_param, info.size).with_size(thumb.width, thumb.height))
}

/// The item that references an upload.
fn media_item(kind: MediaKind, uploaded: &UploadedMedia, file_name: &str) -> MessageItem {
    match kind {
        MediaKind::Image => MessageItem::image(uploaded),
        MediaKind::Video => MessageItem::video(uploaded),
        MediaKind::File => MessageItem::file(uploaded, file_name),
        MediaKind::Voice => MessageItem::voice(uploaded, voice_encode_type(file_name), None),
    }
}

/// getuploadurl succeeded without naming where to upload.
fn no_slot(_slot: &ilink_proto::GetUploadUrlResponse, missing: &'static str) -> Error {
    tracing::warn!(missing, "getuploadurl answered without an upload slot");
    Error::Media(crate::media::MediaError::NoUploadSlot { missing })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_by_kind() {
        let uploaded =
            UploadedMedia::new("p", AesKeyText::new("00".repeat(16)), 20, "ab".repeat(16));
        let file = media_item(MediaKind::File, &uploaded, "a.pdf");
        let f = file.file_item.unwrap();
        assert_eq!(f.file_name.as_deref(), Some("a.pdf"));
        assert_eq!(f.len, Some(20));
        assert_eq!(f.md5.as_deref(), Some("ab".repeat(16).as_str()));
        let image = media_item(MediaKind::Image, &uploaded, "a.png");
        assert_eq!(image.image_item.unwrap().mid_size, Some(32));
        let voice = media_item(MediaKind::Voice, &uploaded, "a.silk");
        assert_eq!(
            voice.voice_item.unwrap().encode_type,
            Some(ilink_proto::VoiceEncodeType::SILK)
        );
        let video = media_item(MediaKind::Video, &uploaded, "a.mp4");
        assert_eq!(video.video_item.unwrap().video_size, Some(32));
    }
}
