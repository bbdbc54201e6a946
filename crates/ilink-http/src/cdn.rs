//! CDN media transfers: where an upload goes and where a download comes from.
//!
//! The transfers themselves are [`Transport::upload`](crate::Transport::upload)
//! and [`Transport::download_to`](crate::Transport::download_to). CDN requests
//! carry no iLink or auth headers.

mod download;
mod upload;

use ilink_proto::{CdnMedia, GetUploadUrlResponse};

/// Where a CDN upload goes.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum UploadTarget {
    /// The complete URL getuploadurl returned (`upload_full_url`).
    FullUrl(String),
    /// `<cdn>/upload?encrypted_query_param=<upload_param>&filekey=<filekey>`.
    Slot {
        /// getuploadurl's `upload_param`.
        upload_param: String,
        /// The upload's file key (32 hex characters).
        filekey: String,
        /// The CDN base URL; `None` for the transport's.
        cdn_base_url: Option<String>,
    },
}

impl UploadTarget {
    /// A complete upload URL.
    pub fn full_url(url: impl Into<String>) -> Self {
        Self::FullUrl(url.into())
    }

    /// An upload slot on the transport's CDN.
    pub fn slot(upload_param: impl Into<String>, filekey: impl Into<String>) -> Self {
        Self::Slot {
            upload_param: upload_param.into(),
            filekey: filekey.into(),
            cdn_base_url: None,
        }
    }

    /// Sets the CDN base URL of a [`Slot`](Self::Slot); no effect on a
    /// full URL.
    #[must_use]
    pub fn with_cdn_base_url(mut self, url: impl Into<String>) -> Self {
        if let Self::Slot { cdn_base_url, .. } = &mut self {
            *cdn_base_url = Some(url.into());
        }
        self
    }

    /// The target a getuploadurl response names: its non-empty
    /// `upload_full_url`, else its `upload_param` with `filekey`; `None`
    /// when it has neither.
    ///
    /// ```
    /// use ilink_http::UploadTarget;
    /// use ilink_proto::GetUploadUrlResponse;
    ///
    /// let mut resp = GetUploadUrlResponse::default();
    /// resp.upload_param = Some("p".into());
    /// assert_eq!(UploadTarget::from_response(&resp, "00ff"), Some(UploadTarget::slot("p", "00ff")));
    /// resp.upload_full_url = Some(" https://cdn/up?x=1 ".into());
    /// assert_eq!(UploadTarget::from_response(&resp, "00ff"), Some(UploadTarget::full_url("https://cdn/up?x=1")));
    /// ```
    pub fn from_response(resp: &GetUploadUrlResponse, filekey: &str) -> Option<Self> {
        if let Some(url) = non_empty(resp.upload_full_url.as_deref()) {
            return Some(Self::full_url(url));
        }
        non_empty(resp.upload_param.as_deref()).map(|param| Self::slot(param, filekey))
    }

    /// The URL to POST to, given the transport's CDN base URL.
    pub fn url(&self, default_cdn_base_url: &str) -> String {
        match self {
            Self::FullUrl(url) => url.trim().to_owned(),
            Self::Slot {
                upload_param,
                filekey,
                cdn_base_url,
            } => ilink_proto::cdn_upload_url(
                cdn_base_url.as_deref().unwrap_or(default_cdn_base_url),
                upload_param,
                filekey,
            ),
        }
    }
}

/// Where a CDN download comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DownloadSource {
    /// The complete URL (`CdnMedia.full_url`), preferred when present.
    FullUrl(String),
    /// `<cdn>/download?encrypted_query_param=<encrypt_query_param>`.
    Param {
        /// `CdnMedia.encrypt_query_param`.
        encrypt_query_param: String,
        /// The CDN base URL; `None` for the transport's.
        cdn_base_url: Option<String>,
    },
}

impl DownloadSource {
    /// A complete download URL.
    pub fn full_url(url: impl Into<String>) -> Self {
        Self::FullUrl(url.into())
    }

    /// A download parameter on the transport's CDN.
    pub fn param(encrypt_query_param: impl Into<String>) -> Self {
        Self::Param {
            encrypt_query_param: encrypt_query_param.into(),
            cdn_base_url: None,
        }
    }

    /// Sets the CDN base URL of a [`Param`](Self::Param); no effect on a
    /// full URL.
    #[must_use]
    pub fn with_cdn_base_url(mut self, url: impl Into<String>) -> Self {
        if let Self::Param { cdn_base_url, .. } = &mut self {
            *cdn_base_url = Some(url.into());
        }
        self
    }

    /// The source a media reference names: its non-empty `full_url`, else
    /// its `encrypt_query_param`; `None` when it has neither.
    ///
    /// ```
    /// use ilink_http::DownloadSource;
    /// use ilink_proto::CdnMedia;
    ///
    /// let mut media = CdnMedia::default();
    /// assert_eq!(DownloadSource::from_media(&media), None);
    /// media.encrypt_query_param = Some("p".into());
    /// assert_eq!(DownloadSource::from_media(&media), Some(DownloadSource::param("p")));
    /// media.full_url = Some("https://cdn/f".into());
    /// assert_eq!(DownloadSource::from_media(&media), Some(DownloadSource::full_url("https://cdn/f")));
    /// ```
    pub fn from_media(media: &CdnMedia) -> Option<Self> {
        if let Some(url) = non_empty(media.full_url.as_deref()) {
            return Some(Self::full_url(url));
        }
        non_empty(media.encrypt_query_param.as_deref()).map(Self::param)
    }

    /// The URL to GET, given the transport's CDN base URL.
    pub fn url(&self, default_cdn_base_url: &str) -> String {
        match self {
            Self::FullUrl(url) => url.trim().to_owned(),
            Self::Param {
                encrypt_query_param,
                cdn_base_url,
            } => ilink_proto::cdn_download_url(
                cdn_base_url.as_deref().unwrap_or(default_cdn_base_url),
                encrypt_query_param,
            ),
        }
    }
}

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_urls() {
        let slot = UploadTarget::slot("a/b+c=", "00ff");
        assert_eq!(
            slot.url("http://cdn/c2c/"),
            "http://cdn/c2c/upload?encrypted_query_param=a%2Fb%2Bc%3D&filekey=00ff"
        );
        assert_eq!(
            slot.with_cdn_base_url("http://other").url("http://cdn/c2c"),
            "http://other/upload?encrypted_query_param=a%2Fb%2Bc%3D&filekey=00ff"
        );
        let full = UploadTarget::full_url(" http://x/up?k=v ").with_cdn_base_url("http://ignored");
        assert_eq!(full.url("http://cdn"), "http://x/up?k=v");

        let mut resp = GetUploadUrlResponse::default();
        assert_eq!(UploadTarget::from_response(&resp, "k"), None);
        resp.upload_full_url = Some("  ".into());
        resp.upload_param = Some("p".into());
        assert_eq!(
            UploadTarget::from_response(&resp, "k"),
            Some(UploadTarget::slot("p", "k"))
        );
    }

    #[test]
    fn download_urls() {
        let source = DownloadSource::param("x y");
        assert_eq!(
            source.url("http://cdn/c2c"),
            "http://cdn/c2c/download?encrypted_query_param=x%20y"
        );
        assert_eq!(
            source.with_cdn_base_url("http://o/").url("http://cdn"),
            "http://o/download?encrypted_query_param=x%20y"
        );
        let mut media = CdnMedia::default();
        media.full_url = Some("".into());
        media.encrypt_query_param = Some("q".into());
        assert_eq!(
            DownloadSource::from_media(&media),
            Some(DownloadSource::param("q"))
        );
    }
}
