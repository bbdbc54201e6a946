//! Streaming, encrypting CDN upload with retries.

use std::future::Future;
use std::io;
use std::path::Path;

use hyper::header::{self, HeaderValue};
use hyper::{Request, StatusCode, Uri};
use ilink_crypto::{MediaKey, ciphertext_size};
use ilink_proto::consts::headers as names;
use tokio::io::AsyncRead;

use crate::body::{FailureSlot, Progress, ReqBody, SourceFailure, UploadBody};
use crate::cdn::UploadTarget;
use crate::error::{Error, ErrorKind};
use crate::transport::{Transport, status_error};

const CONTEXT: &str = "cdn upload";

impl Transport {
    /// Uploads a plaintext source to the CDN, encrypted with `key`, and
    /// returns the download parameter (`x-encrypted-param`).
    ///
    /// `open` gives a fresh reader of the plaintext for each attempt; it must
    /// yield exactly `plaintext_len` bytes, or the upload fails with
    /// [`ErrorKind::InvalidInput`] rather than sending a wrong file. The
    /// body is read, encrypted and sent one chunk at a time (see
    /// [`upload_chunk_size`](crate::TransportBuilder::upload_chunk_size)),
    /// with an exact `Content-Length` of the ciphertext size.
    ///
    /// A 4xx answer fails at once ([`Error::reason`] carries the CDN's
    /// `x-error-message`); 5xx and other non-200 answers, a 200 without
    /// `x-encrypted-param`, network errors and timeouts are retried per the
    /// [`Retry`](crate::Retry). Each attempt has the upload
    /// timeout as its deadline. `progress` gets `(plaintext sent, total)`.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future is safe: the reader is dropped and the request
    /// abandoned. The CDN may or may not have stored a partial upload; it is
    /// never referenced, since the parameter was not returned.
    #[tracing::instrument(level = "debug", skip_all, fields(plaintext_len = plaintext_len))]
    pub async fn upload<F, Fut, R>(
        &self,
        target: &UploadTarget,
        key: &MediaKey,
        plaintext_len: u64,
        open: F,
        progress: Option<Progress>,
    ) -> Result<String, Error>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = io::Result<R>>,
        R: AsyncRead + Send + Unpin + 'static,
    {
        let uri = self
            .cdn_uri(&target.url(self.cdn_base_url()))
            .map_err(|e| e.with_context(CONTEXT))?;
        let policy = self.shared.config.upload_retry;
        let mut failed = 0;
        let started = std::time::Instant::now();
        loop {
            let reader = open()
                .await
                .map_err(|e| Error::io("opening the upload source", e).with_context(CONTEXT))?;
            let err = match self
                .upload_once(uri.clone(), key, plaintext_len, reader, progress.clone())
                .await
            {
                Ok(param) => return Ok(param),
                Err(err) => err.with_context(CONTEXT),
            };
            failed += 1;
            match policy.next(failed, started.elapsed()) {
                Some(delay) if should_retry(&err) => {
                    tracing::warn!(
                        attempt = failed,
                        delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                        error = %err,
                        "CDN upload failed; retrying"
                    );
                    tokio::time::sleep(delay).await;
                }
                _ => return Err(err),
            }
        }
    }

    /// [`upload`](Self::upload) of a file: its length is read from the file
    /// system and the file is opened afresh for each attempt.
    ///
    /// # Cancel safety
    ///
    /// As for [`upload`](Self::upload).
    pub async fn upload_file(
        &self,
        target: &UploadTarget,
        key: &MediaKey,
        path: impl AsRef<Path>,
        progress: Option<Progress>,
    ) -> Result<String, Error> {
        let path = path.as_ref();
        let len = tokio::fs::metadata(path)
            .await
            .map_err(|e| Error::io("reading the upload file's metadata", e).with_context(CONTEXT))?
            .len();
        self.upload(target, key, len, || tokio::fs::File::open(path), progress)
            .await
    }

    async fn upload_once<R>(
        &self,
        uri: Uri,
        key: &MediaKey,
        plaintext_len: u64,
        reader: R,
        progress: Option<Progress>,
    ) -> Result<String, Error>
    where
        R: AsyncRead + Send + Unpin + 'static,
    {
        let config = &self.shared.config;
        let failure = FailureSlot::default();
        let body = UploadBody::new(
            reader,
            key,
            plaintext_len,
            config.upload_chunk_size,
            progress,
            failure.clone(),
        );
        let mut request = Request::new(ReqBody::Upload(Box::new(body)));
        *request.method_mut() = hyper::Method::POST;
        *request.uri_mut() = uri;
        let headers = request.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        );
        headers.insert(
            header::CONTENT_LENGTH,
            HeaderValue::from(ciphertext_size(plaintext_len)),
        );

        let result = self
            .exchange(request, None, config.timeouts.upload, config.response_limit)
            .await;
        // A failing source shows up as an opaque body error; say what it was.
        if let Some(failure) = failure.lock().ok().and_then(|mut slot| slot.take()) {
            return Err(source_error(failure));
        }
        let (status, headers, body) = result?;
        if status != StatusCode::OK {
            return Err(status_error(status, &headers, body));
        }
        match headers
            .get(names::ENCRYPTED_PARAM)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
        {
            Some(param) if !param.is_empty() => Ok(param.to_owned()),
            _ => Err(Error::new(ErrorKind::Decode)
                .with_reason("the CDN answered 200 without x-encrypted-param")
                .with_body(body)),
        }
    }
}

fn source_error(failure: SourceFailure) -> Error {
    match failure {
        SourceFailure::Io(err) => Error::io("reading the upload source", err),
        SourceFailure::Length { expected, actual } if actual > expected => Error::invalid_input(
            format!("the upload source yielded more than the declared {expected} bytes"),
        ),
        SourceFailure::Length { expected, actual } => Error::invalid_input(format!(
            "the upload source yielded {actual} bytes, not the declared {expected}"
        )),
    }
}

/// The official client's rule: everything but a 4xx answer and a local
/// problem is tried again (a missing `x-encrypted-param`, the only decode
/// error an upload has, included).
fn should_retry(err: &Error) -> bool {
    match err.kind() {
        ErrorKind::Status { status } => !(400..500).contains(status),
        ErrorKind::Connect | ErrorKind::Timeout | ErrorKind::Body | ErrorKind::Decode => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_rule() {
        for status in [500, 502, 503, 201, 204, 302] {
            assert!(
                should_retry(&Error::new(ErrorKind::Status { status })),
                "{status}"
            );
        }
        for status in [400, 403, 404, 413, 429] {
            assert!(
                !should_retry(&Error::new(ErrorKind::Status { status })),
                "{status}"
            );
        }
        for kind in [
            ErrorKind::Connect,
            ErrorKind::Timeout,
            ErrorKind::Body,
            ErrorKind::Decode,
        ] {
            assert!(should_retry(&Error::new(kind)));
        }
        for kind in [ErrorKind::Io, ErrorKind::InvalidInput, ErrorKind::Tls] {
            assert!(!should_retry(&Error::new(kind)));
        }
    }

    #[test]
    fn source_errors() {
        let more = source_error(SourceFailure::Length {
            expected: 3,
            actual: 4,
        });
        assert_eq!(more.kind(), &ErrorKind::InvalidInput);
        assert_eq!(
            more.to_string(),
            "invalid input: the upload source yielded more than the declared 3 bytes"
        );
        let less = source_error(SourceFailure::Length {
            expected: 3,
            actual: 1,
        });
        assert!(
            less.to_string()
                .contains("yielded 1 bytes, not the declared 3")
        );
        let io = source_error(SourceFailure::Io(io::Error::other("disk")));
        assert_eq!(io.kind(), &ErrorKind::Io);
        assert_eq!(io.to_string(), "I/O error reading the upload source");
    }
}
