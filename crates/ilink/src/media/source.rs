//! Where the bytes of an outbound file come from: a path, memory, or a
//! reader opened afresh for every pass.

use std::fmt;
use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use ilink_crypto::{Md5, PlainInfo};
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::Error;

/// A boxed plaintext reader.
pub(crate) type BoxReader = Box<dyn AsyncRead + Send + Unpin>;
type BoxOpen<'a> = Pin<Box<dyn Future<Output = io::Result<BoxReader>> + Send + 'a>>;
type Opener = Arc<dyn Fn() -> BoxOpen<'static> + Send + Sync>;

/// Above this size, in-memory plaintext is hashed off the async workers.
const INLINE_HASH_LIMIT: usize = 1024 * 1024;
/// The buffer of the hashing pass over a reader.
const READ_BUFFER: usize = 64 * 1024;

/// The plaintext of a file to send.
///
/// A send reads its source more than once: a first pass computes the size
/// and MD5 that getuploadurl declares, a second streams the ciphertext to
/// the CDN (again on every retry). Neither pass holds a file in memory.
///
/// ```no_run
/// use ilink::MediaSource;
///
/// let from_disk = MediaSource::path("report.pdf");
/// let from_memory = MediaSource::from(vec![0x89, b'P', b'N', b'G']);
/// let from_reader = MediaSource::reader(|| async {
///     tokio::fs::File::open("big.mp4").await
/// });
/// # let _ = (from_disk, from_memory, from_reader);
/// ```
#[derive(Clone)]
pub struct MediaSource {
    inner: Inner,
}

#[derive(Clone)]
enum Inner {
    Path(PathBuf),
    Bytes(Bytes),
    Reader(Opener),
}

impl fmt::Debug for MediaSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner {
            Inner::Path(p) => f.debug_tuple("MediaSource::Path").field(p).finish(),
            Inner::Bytes(b) => write!(f, "MediaSource::Bytes({} bytes)", b.len()),
            Inner::Reader(_) => f.write_str("MediaSource::Reader"),
        }
    }
}

impl MediaSource {
    /// A file on disk. It is opened once per pass; its name is the default
    /// file name of the message.
    pub fn path(path: impl Into<PathBuf>) -> Self {
        Self {
            inner: Inner::Path(path.into()),
        }
    }

    /// Bytes in memory (cheap to clone, never copied).
    pub fn bytes(bytes: impl Into<Bytes>) -> Self {
        Self {
            inner: Inner::Bytes(bytes.into()),
        }
    }

    /// A reader factory: `open` is called for each pass over the plaintext
    /// (the hashing pass and every upload attempt) and must yield the same
    /// bytes each time.
    pub fn reader<F, Fut, R>(open: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = io::Result<R>> + Send + 'static,
        R: AsyncRead + Send + Unpin + 'static,
    {
        let opener: Opener = Arc::new(move || {
            let fut = open();
            Box::pin(async move { fut.await.map(|r| Box::new(r) as BoxReader) })
        });
        Self {
            inner: Inner::Reader(opener),
        }
    }

    /// The file name of a path source.
    pub fn file_name(&self) -> Option<&str> {
        match &self.inner {
            Inner::Path(p) => p.file_name().and_then(|n| n.to_str()),
            _ => None,
        }
    }

    /// The path of a path source.
    pub fn as_path(&self) -> Option<&Path> {
        match &self.inner {
            Inner::Path(p) => Some(p),
            _ => None,
        }
    }

    /// The first pass: plaintext size and MD5, in bounded memory.
    ///
    /// `progress(hashed, total)` is called as the pass proceeds (`total` is
    /// 0 when a reader's length is unknown).
    pub(crate) async fn scan(
        &self,
        progress: Option<ilink_http::Progress>,
    ) -> Result<PlainInfo, Error> {
        let report = |done: u64, total: u64| {
            if let Some(p) = &progress {
                p(done, total);
            }
        };
        match &self.inner {
            Inner::Path(path) => {
                let path = path.clone();
                let progress = progress.clone();
                let scanned = tokio::task::spawn_blocking(move || {
                    let file = std::fs::File::open(&path)?;
                    let total = file.metadata()?.len();
                    ilink_crypto::scan(Counting {
                        inner: file,
                        done: 0,
                        total,
                        progress,
                    })
                })
                .await
                .map_err(|e| Error::Io(io::Error::other(format!("hashing task failed: {e}"))))?;
                Ok(scanned?)
            }
            Inner::Bytes(bytes) if bytes.len() <= INLINE_HASH_LIMIT => {
                let info = PlainInfo::of(bytes);
                report(info.size, info.size);
                Ok(info)
            }
            Inner::Bytes(bytes) => {
                let bytes = bytes.clone();
                let info = tokio::task::spawn_blocking(move || PlainInfo::of(&bytes))
                    .await
                    .map_err(|e| {
                        Error::Io(io::Error::other(format!("hashing task failed: {e}")))
                    })?;
                report(info.size, info.size);
                Ok(info)
            }
            Inner::Reader(open) => {
                let mut reader = open().await?;
                let mut md5 = Md5::new();
                let mut size = 0u64;
                let mut buf = vec![0u8; READ_BUFFER];
                loop {
                    let n = reader.read(&mut buf).await?;
                    if n == 0 {
                        break;
                    }
                    md5.update(&buf[..n]);
                    size += n as u64;
                    report(size, 0);
                }
                Ok(PlainInfo::new(size, md5.finalize()))
            }
        }
    }

    /// A fresh reader of the plaintext, for one upload attempt.
    pub(crate) fn open(&self) -> BoxOpen<'_> {
        match &self.inner {
            Inner::Path(path) => Box::pin(async move {
                let file = tokio::fs::File::open(path).await?;
                Ok(Box::new(file) as BoxReader)
            }),
            Inner::Bytes(bytes) => {
                let cursor = io::Cursor::new(bytes.clone());
                Box::pin(async move { Ok(Box::new(cursor) as BoxReader) })
            }
            Inner::Reader(open) => open(),
        }
    }
}

impl From<PathBuf> for MediaSource {
    fn from(path: PathBuf) -> Self {
        Self::path(path)
    }
}

impl From<&Path> for MediaSource {
    fn from(path: &Path) -> Self {
        Self::path(path)
    }
}

impl From<&PathBuf> for MediaSource {
    fn from(path: &PathBuf) -> Self {
        Self::path(path.clone())
    }
}

impl From<Vec<u8>> for MediaSource {
    fn from(bytes: Vec<u8>) -> Self {
        Self::bytes(bytes)
    }
}

impl From<Bytes> for MediaSource {
    fn from(bytes: Bytes) -> Self {
        Self::bytes(bytes)
    }
}

impl From<&'static [u8]> for MediaSource {
    fn from(bytes: &'static [u8]) -> Self {
        Self::bytes(Bytes::from_static(bytes))
    }
}

/// A reader that reports how much of it was read.
struct Counting<R> {
    inner: R,
    done: u64,
    total: u64,
    progress: Option<ilink_http::Progress>,
}

impl<R: std::io::Read> std::io::Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.done += n as u64;
        if let Some(p) = &self.progress {
            p(self.done, self.total);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_source_scans_and_reopens_alike() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.bin");
        std::fs::write(&path, &data).unwrap();
        let shared = Bytes::from(data.clone());
        let sources = [
            MediaSource::path(&path),
            MediaSource::from(data.clone()),
            MediaSource::reader(move || {
                let b = shared.clone();
                async move { Ok(io::Cursor::new(b)) }
            }),
        ];
        let expected = PlainInfo::of(&data);
        for source in sources {
            assert_eq!(source.scan(None).await.unwrap(), expected, "{source:?}");
            for _ in 0..2 {
                let mut out = Vec::new();
                source
                    .open()
                    .await
                    .unwrap()
                    .read_to_end(&mut out)
                    .await
                    .unwrap();
                assert_eq!(out, data);
            }
        }
        assert_eq!(MediaSource::path(&path).file_name(), Some("data.bin"));
        assert_eq!(MediaSource::from(vec![1]).file_name(), None);
    }

    #[tokio::test]
    async fn a_missing_file_is_an_io_error() {
        let err = MediaSource::path("/nonexistent/ilink-test")
            .scan(None)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Io(_)), "{err:?}");
    }
}
