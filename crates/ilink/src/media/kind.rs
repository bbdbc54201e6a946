//! What kind of message a file goes out as, chosen by its MIME type.

use ilink_proto::{ItemType, UploadMediaType, VoiceEncodeType};

/// The kind of media message: how a file is uploaded (`media_type`) and which
/// item references it.
///
/// [`Bot::send_media`](crate::Bot::send_media) chooses the kind from
/// the file name's MIME type ([`MediaKind::from_file_name`]), as the official
/// client does: `image/*` is an image, `video/*` a video, everything else —
/// audio included — a file. Force another kind with
/// [`SendMedia::kind`](crate::SendMedia::kind).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MediaKind {
    /// An image (`image_item`, uploaded as media type 1).
    Image,
    /// A video (`video_item`, media type 2).
    Video,
    /// A file (`file_item`, media type 3): shown with its name and size.
    File,
    /// A voice note (`voice_item`, media type 4).
    ///
    /// The server accepts voice items from bots, but phones do not show them
    /// as voice bubbles; audio is sent as a [`File`](Self::File) unless this
    /// kind is forced.
    Voice,
}

impl MediaKind {
    /// The kind for a MIME type: `image/*` → image, `video/*` → video,
    /// anything else (audio included) → file.
    ///
    /// ```
    /// use ilink::MediaKind;
    ///
    /// assert_eq!(MediaKind::from_mime("image/png"), MediaKind::Image);
    /// assert_eq!(MediaKind::from_mime("Video/MP4"), MediaKind::Video);
    /// assert_eq!(MediaKind::from_mime("audio/mpeg"), MediaKind::File);
    /// ```
    pub fn from_mime(mime: &str) -> Self {
        let top = mime.split('/').next().unwrap_or_default().trim();
        if top.eq_ignore_ascii_case("image") {
            Self::Image
        } else if top.eq_ignore_ascii_case("video") {
            Self::Video
        } else {
            Self::File
        }
    }

    /// The kind for a file name, by the MIME type of its extension
    /// ([`mime_type`]); a name without a known extension is a file.
    ///
    /// ```
    /// use ilink::MediaKind;
    ///
    /// assert_eq!(MediaKind::from_file_name("cat.JPG"), MediaKind::Image);
    /// assert_eq!(MediaKind::from_file_name("clip.mov"), MediaKind::Video);
    /// assert_eq!(MediaKind::from_file_name("song.mp3"), MediaKind::File);
    /// assert_eq!(MediaKind::from_file_name("README"), MediaKind::File);
    /// ```
    pub fn from_file_name(name: &str) -> Self {
        mime_type(name).map_or(Self::File, Self::from_mime)
    }

    /// The kind of a received item, `None` for items that are not media.
    pub fn of_item(item_type: ItemType) -> Option<Self> {
        match item_type {
            ItemType::IMAGE => Some(Self::Image),
            ItemType::VIDEO => Some(Self::Video),
            ItemType::FILE => Some(Self::File),
            ItemType::VOICE => Some(Self::Voice),
            _ => None,
        }
    }

    /// getuploadurl's `media_type` for this kind.
    pub fn upload_media_type(self) -> UploadMediaType {
        match self {
            Self::Image => UploadMediaType::IMAGE,
            Self::Video => UploadMediaType::VIDEO,
            Self::File => UploadMediaType::FILE,
            Self::Voice => UploadMediaType::VOICE,
        }
    }

    /// Lowercase name: `image`, `video`, `file` or `voice`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::Video => "video",
            Self::File => "file",
            Self::Voice => "voice",
        }
    }
}

impl std::fmt::Display for MediaKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The extension table: lowercase extension → MIME type. Small on purpose:
/// only the kind (image, video, other) matters for sending.
const MIME_TYPES: &[(&str, &str)] = &[
    // images
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("jpe", "image/jpeg"),
    ("jfif", "image/jpeg"),
    ("png", "image/png"),
    ("apng", "image/apng"),
    ("gif", "image/gif"),
    ("webp", "image/webp"),
    ("bmp", "image/bmp"),
    ("tif", "image/tiff"),
    ("tiff", "image/tiff"),
    ("heic", "image/heic"),
    ("heif", "image/heif"),
    ("avif", "image/avif"),
    ("ico", "image/x-icon"),
    ("svg", "image/svg+xml"),
    // videos
    ("mp4", "video/mp4"),
    ("m4v", "video/x-m4v"),
    ("mov", "video/quicktime"),
    ("webm", "video/webm"),
    ("mkv", "video/x-matroska"),
    ("avi", "video/x-msvideo"),
    ("wmv", "video/x-ms-wmv"),
    ("flv", "video/x-flv"),
    ("3gp", "video/3gpp"),
    ("mpeg", "video/mpeg"),
    ("mpg", "video/mpeg"),
    ("ts", "video/mp2t"),
    // audio (sent as files)
    ("mp3", "audio/mpeg"),
    ("m4a", "audio/mp4"),
    ("aac", "audio/aac"),
    ("wav", "audio/wav"),
    ("ogg", "audio/ogg"),
    ("oga", "audio/ogg"),
    ("opus", "audio/opus"),
    ("flac", "audio/flac"),
    ("amr", "audio/amr"),
    ("silk", "audio/silk"),
    ("spx", "audio/ogg"),
    // documents and archives
    ("pdf", "application/pdf"),
    ("txt", "text/plain"),
    ("md", "text/markdown"),
    ("csv", "text/csv"),
    ("json", "application/json"),
    ("html", "text/html"),
    ("htm", "text/html"),
    ("zip", "application/zip"),
    ("gz", "application/gzip"),
    ("tar", "application/x-tar"),
    ("7z", "application/x-7z-compressed"),
    ("rar", "application/vnd.rar"),
    ("doc", "application/msword"),
    (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    ("xls", "application/vnd.ms-excel"),
    (
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    ("ppt", "application/vnd.ms-powerpoint"),
    (
        "pptx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
];

/// The MIME type of a file name's extension, from a small built-in table;
/// `None` when the name has no extension or an unknown one.
///
/// ```
/// assert_eq!(ilink::media::mime_type("photo.PNG"), Some("image/png"));
/// assert_eq!(ilink::media::mime_type("dir/movie.mp4"), Some("video/mp4"));
/// assert_eq!(ilink::media::mime_type("archive.unknown"), None);
/// assert_eq!(ilink::media::mime_type(".bashrc"), None);
/// ```
pub fn mime_type(file_name: &str) -> Option<&'static str> {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    let (stem, ext) = base.rsplit_once('.')?;
    if stem.is_empty() {
        return None;
    }
    MIME_TYPES
        .iter()
        .find(|(e, _)| e.eq_ignore_ascii_case(ext))
        .map(|(_, mime)| *mime)
}

/// The voice codec a file name suggests, for a forced voice item.
pub(crate) fn voice_encode_type(file_name: &str) -> Option<VoiceEncodeType> {
    let ext = file_name.rsplit_once('.')?.1.to_ascii_lowercase();
    match ext.as_str() {
        "silk" | "slk" => Some(VoiceEncodeType::SILK),
        "amr" => Some(VoiceEncodeType::AMR),
        "mp3" => Some(VoiceEncodeType::MP3),
        "spx" => Some(VoiceEncodeType::OGG_SPEEX),
        "speex" => Some(VoiceEncodeType::SPEEX),
        "pcm" => Some(VoiceEncodeType::PCM),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_name() {
        for (name, kind) in [
            ("a.jpeg", MediaKind::Image),
            ("a.webp", MediaKind::Image),
            ("a.MP4", MediaKind::Video),
            ("a.webm", MediaKind::Video),
            ("a.mp3", MediaKind::File),
            ("a.amr", MediaKind::File),
            ("a.pdf", MediaKind::File),
            ("a", MediaKind::File),
            ("", MediaKind::File),
            (".png", MediaKind::File),
            ("dir.png/file", MediaKind::File),
        ] {
            assert_eq!(MediaKind::from_file_name(name), kind, "{name}");
        }
    }

    #[test]
    fn voice_codecs() {
        assert_eq!(voice_encode_type("v.silk"), Some(VoiceEncodeType::SILK));
        assert_eq!(voice_encode_type("v.AMR"), Some(VoiceEncodeType::AMR));
        assert_eq!(voice_encode_type("v.wav"), None);
        assert_eq!(voice_encode_type("v"), None);
    }

    #[test]
    fn kinds_of_items() {
        assert_eq!(MediaKind::of_item(ItemType::VOICE), Some(MediaKind::Voice));
        assert_eq!(MediaKind::of_item(ItemType::TEXT), None);
        assert_eq!(MediaKind::Voice.upload_media_type(), UploadMediaType::VOICE);
    }
}
