//! Request bodies: a JSON buffer, nothing, or an upload that encrypts its
//! source chunk by chunk.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use ilink_crypto::{Encryptor, MediaKey, ciphertext_size};
use tokio::io::{AsyncRead, ReadBuf};

use crate::error::BoxError;

/// A progress callback: `(plaintext bytes sent so far, plaintext total)`.
///
/// It is called from inside the HTTP stack as each chunk is handed over, so
/// it must be quick; it restarts from 0 when an upload attempt is retried.
pub type Progress = Arc<dyn Fn(u64, u64) + Send + Sync>;

/// The body of every request this crate sends.
pub(crate) enum ReqBody {
    /// No body (GET).
    Empty,
    /// A complete buffer (JSON), taken on the first poll.
    Full(Option<Bytes>),
    /// A streaming, encrypting upload.
    Upload(Box<UploadBody>),
}

impl ReqBody {
    pub(crate) fn full(bytes: impl Into<Bytes>) -> Self {
        Self::Full(Some(bytes.into()))
    }
}

impl Body for ReqBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match self.get_mut() {
            Self::Empty => Poll::Ready(None),
            Self::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            Self::Upload(upload) => Pin::new(&mut **upload).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Self::Empty => true,
            Self::Full(bytes) => bytes.is_none(),
            Self::Upload(upload) => upload.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Self::Empty => SizeHint::with_exact(0),
            Self::Full(bytes) => SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64)),
            Self::Upload(upload) => upload.size_hint(),
        }
    }
}

/// Why an upload body stopped early. The body stores it in a slot shared
/// with the caller, because hyper only passes on an opaque error.
#[derive(Debug)]
pub(crate) enum SourceFailure {
    /// The source failed to read.
    Io(io::Error),
    /// The source yielded more or fewer bytes than declared.
    Length {
        /// Declared plaintext length.
        expected: u64,
        /// Bytes read (at least; reading stops at the first byte too many).
        actual: u64,
    },
}

/// The opaque error the upload body hands to hyper; the real cause is in the
/// shared slot.
#[derive(Debug)]
pub(crate) struct SourceAborted;

impl fmt::Display for SourceAborted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the upload source failed")
    }
}

impl std::error::Error for SourceAborted {}

pub(crate) type FailureSlot = Arc<Mutex<Option<SourceFailure>>>;

/// Reads a plaintext source in chunks, encrypts each with AES-128-ECB and
/// yields the ciphertext; memory stays bounded by the chunk size.
pub(crate) struct UploadBody {
    reader: Box<dyn AsyncRead + Send + Unpin>,
    encryptor: Option<Encryptor>,
    buf: Box<[u8]>,
    expected: u64,
    read: u64,
    remaining: u64,
    progress: Option<Progress>,
    failure: FailureSlot,
}

impl UploadBody {
    pub(crate) fn new(
        reader: impl AsyncRead + Send + Unpin + 'static,
        key: &MediaKey,
        plaintext_len: u64,
        chunk_size: usize,
        progress: Option<Progress>,
        failure: FailureSlot,
    ) -> Self {
        Self {
            reader: Box::new(reader),
            encryptor: Some(Encryptor::new(key)),
            buf: vec![0; chunk_size.max(16)].into_boxed_slice(),
            expected: plaintext_len,
            read: 0,
            remaining: ciphertext_size(plaintext_len),
            progress,
            failure,
        }
    }

    fn fail(&mut self, failure: SourceFailure) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.encryptor = None;
        if let Ok(mut slot) = self.failure.lock() {
            *slot = Some(failure);
        }
        Poll::Ready(Some(Err(Box::new(SourceAborted))))
    }

    fn emit(&mut self, out: Vec<u8>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.remaining = self.remaining.saturating_sub(out.len() as u64);
        Poll::Ready(Some(Ok(Frame::data(Bytes::from(out)))))
    }
}

impl Body for UploadBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        loop {
            let Some(encryptor) = this.encryptor.as_mut() else {
                return Poll::Ready(None);
            };
            let mut read_buf = ReadBuf::new(&mut this.buf);
            match Pin::new(&mut this.reader).poll_read(cx, &mut read_buf) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(err)) => return this.fail(SourceFailure::Io(err)),
                Poll::Ready(Ok(())) => {}
            }
            let chunk = read_buf.filled();
            if chunk.is_empty() {
                if this.read != this.expected {
                    let actual = this.read;
                    return this.fail(SourceFailure::Length {
                        expected: this.expected,
                        actual,
                    });
                }
                let mut out = Vec::with_capacity(16);
                if let Some(encryptor) = this.encryptor.take() {
                    encryptor.finish(&mut out);
                }
                return this.emit(out);
            }
            this.read += chunk.len() as u64;
            if this.read > this.expected {
                let actual = this.read;
                return this.fail(SourceFailure::Length {
                    expected: this.expected,
                    actual,
                });
            }
            let mut out = Vec::with_capacity(chunk.len() + 16);
            encryptor.update(chunk, &mut out);
            if let Some(progress) = &this.progress {
                progress(this.read, this.expected);
            }
            if !out.is_empty() {
                return this.emit(out);
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.encryptor.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    fn body(data: Vec<u8>, declared: u64, chunk: usize) -> (UploadBody, FailureSlot) {
        let slot = FailureSlot::default();
        let key = MediaKey::from_bytes([3; 16]);
        let body = UploadBody::new(
            io::Cursor::new(data),
            &key,
            declared,
            chunk,
            None,
            slot.clone(),
        );
        (body, slot)
    }

    #[tokio::test]
    async fn encrypts_in_chunks() {
        let key = MediaKey::from_bytes([3; 16]);
        for len in [0usize, 1, 15, 16, 17, 100, 1000] {
            let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let (mut body, _) = body(data.clone(), len as u64, 16);
            assert_eq!(body.size_hint().exact(), Some(ciphertext_size(len as u64)));
            let mut out = Vec::new();
            while let Some(frame) = body.frame().await {
                let frame = frame.unwrap().into_data().unwrap();
                assert!(frame.len() <= 32, "frames stay chunk-sized");
                out.extend_from_slice(&frame);
            }
            assert!(body.is_end_stream());
            assert_eq!(body.size_hint().exact(), Some(0));
            assert_eq!(out, ilink_crypto::encrypt(&key, &data), "len {len}");
        }
    }

    #[tokio::test]
    async fn length_mismatch_is_an_error() {
        for (actual, declared) in [(10usize, 11u64), (12, 11), (0, 1), (1, 0)] {
            let (body, slot) = body(vec![7; actual], declared, 4);
            let err = body.collect().await.expect_err("must fail");
            assert!(err.is::<SourceAborted>());
            match slot.lock().unwrap().take() {
                Some(SourceFailure::Length { expected, .. }) => assert_eq!(expected, declared),
                other => panic!("unexpected {other:?}"),
            }
        }
    }
}
