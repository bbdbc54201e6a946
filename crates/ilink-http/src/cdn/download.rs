//! Streaming, decrypting CDN download with a size cap.

use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Limited};
use hyper::Request;
use ilink_crypto::{Decryptor, MediaKey};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tracing::Instrument;

use crate::body::ReqBody;
use crate::cdn::DownloadSource;
use crate::error::{Error, ErrorKind};
use crate::transport::{
    Transport, as_usize, content_length, finish_span, request_span, status_error,
};

const CONTEXT: &str = "cdn download";

/// How much of an error body is kept to explain a failed download.
const ERROR_BODY_LIMIT: u64 = 16 * 1024;

impl Transport {
    /// Downloads media from the CDN into `writer`, decrypting it with `key`
    /// (no key: the bytes as they are), and returns the number of plaintext
    /// bytes written.
    ///
    /// The body is streamed frame by frame; nothing is buffered beyond one
    /// frame. `cap` (default: the transport's download cap, 100 MiB) limits
    /// the bytes received: a `Content-Length` above it fails at once, a body
    /// that grows past it fails as soon as it does, both with
    /// [`ErrorKind::TooLarge`]. A body cut short is [`ErrorKind::Body`]; a
    /// ciphertext that is not whole blocks or has bad padding (truncated, or
    /// the wrong key) is [`ErrorKind::Decrypt`]; a failing writer is
    /// [`ErrorKind::Io`]. The download fails with [`ErrorKind::Timeout`]
    /// when the CDN sends nothing for the idle timeout (30 s) or the whole
    /// transfer takes longer than the download timeout (10 minutes).
    ///
    /// A failure before any byte reached `writer` is tried again
    /// ([`TransportBuilder::download_retry`](crate::TransportBuilder::download_retry):
    /// 3 attempts by default); once part of the media was written, never.
    /// On error, `writer` may hold part of the media; discard it. Plaintext
    /// is provisional until the call returns `Ok` (the padding check comes
    /// last).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future is safe: the request is abandoned, and `writer`
    /// may hold part of the media.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn download_to<W>(
        &self,
        source: &DownloadSource,
        key: Option<&MediaKey>,
        writer: &mut W,
        cap: Option<u64>,
    ) -> Result<u64, Error>
    where
        W: AsyncWrite + Unpin + ?Sized,
    {
        let policy = self.shared.config.download_retry;
        let started = Instant::now();
        let mut failed = 0;
        loop {
            let mut wrote = false;
            let err = match self
                .download_once(source, key, writer, cap, &mut wrote)
                .await
            {
                Ok(n) => return Ok(n),
                Err(e) => e,
            };
            failed += 1;
            match policy.next(failed, started.elapsed()) {
                Some(delay) if !wrote && err.is_retryable() => {
                    tracing::warn!(
                        attempt = failed,
                        delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                        error = %err,
                        "CDN download failed before any byte was written; retrying"
                    );
                    tokio::time::sleep(delay).await;
                }
                _ => return Err(err),
            }
        }
    }

    /// One attempt of [`download_to`](Self::download_to); sets `wrote` once
    /// a byte reached `writer`.
    async fn download_once<W>(
        &self,
        source: &DownloadSource,
        key: Option<&MediaKey>,
        writer: &mut W,
        cap: Option<u64>,
        wrote: &mut bool,
    ) -> Result<u64, Error>
    where
        W: AsyncWrite + Unpin + ?Sized,
    {
        let config = &self.shared.config;
        let uri = self
            .cdn_uri(&source.url(self.cdn_base_url()))
            .map_err(|e| e.with_context(CONTEXT))?;
        let cap = cap.unwrap_or(config.download_cap);
        let idle = config.timeouts.download_idle;
        let mut request = Request::new(ReqBody::Empty);
        *request.uri_mut() = uri;

        let span = request_span(&request);
        let started = Instant::now();
        let transfer = async {
            let response = within(idle, self.send(request, None, &span)).await?;
            let status = response.status();
            let (parts, mut body) = response.into_parts();
            if !status.is_success() {
                let bytes = within(idle, async {
                    Ok(Limited::new(body, as_usize(ERROR_BODY_LIMIT))
                        .collect()
                        .await
                        .map(|c| c.to_bytes())
                        .unwrap_or_default())
                })
                .await?;
                return Err(status_error(status, &parts.headers, bytes));
            }
            if let Some(len) = content_length(&parts.headers)
                && len > cap
            {
                return Err(Error::new(ErrorKind::TooLarge { limit: cap }));
            }

            let mut decryptor = key.map(Decryptor::new);
            let mut plain = Vec::new();
            let mut received = 0u64;
            let mut written = 0u64;
            while let Some(frame) = within(idle, async { Ok(body.frame().await) }).await? {
                let frame = frame.map_err(|e| Error::new(ErrorKind::Body).with_source(e))?;
                let Ok(data) = frame.into_data() else {
                    continue;
                };
                received += data.len() as u64;
                if received > cap {
                    return Err(Error::new(ErrorKind::TooLarge { limit: cap }));
                }
                let out: &[u8] = match decryptor.as_mut() {
                    Some(decryptor) => {
                        plain.clear();
                        decryptor.update(&data, &mut plain).map_err(decrypt_error)?;
                        &plain
                    }
                    None => &data,
                };
                *wrote |= !out.is_empty();
                write(writer, out).await?;
                written += out.len() as u64;
            }
            if let Some(decryptor) = decryptor {
                plain.clear();
                decryptor.finish(&mut plain).map_err(decrypt_error)?;
                *wrote |= !plain.is_empty();
                write(writer, &plain).await?;
                written += plain.len() as u64;
            }
            writer
                .flush()
                .await
                .map_err(|e| Error::io("flushing the download", e))?;
            Ok(written)
        }
        .instrument(span.clone());
        let result = tokio::time::timeout(config.timeouts.download, transfer)
            .await
            .unwrap_or_else(|_| Err(Error::timeout()));
        finish_span(&span, started, result.as_ref().err());
        result.map_err(|e| e.with_context(CONTEXT))
    }

    /// [`download_to`](Self::download_to) into memory.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future is safe.
    pub async fn download_bytes(
        &self,
        source: &DownloadSource,
        key: Option<&MediaKey>,
        cap: Option<u64>,
    ) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        self.download_to(source, key, &mut out, cap).await?;
        Ok(out)
    }
}

/// Runs `fut` with an idle deadline.
async fn within<T>(
    idle: Duration,
    fut: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    tokio::time::timeout(idle, fut)
        .await
        .unwrap_or_else(|_| Err(Error::timeout()))
}

async fn write<W: AsyncWrite + Unpin + ?Sized>(writer: &mut W, data: &[u8]) -> Result<(), Error> {
    if data.is_empty() {
        return Ok(());
    }
    writer
        .write_all(data)
        .await
        .map_err(|e| Error::io("writing the download", e))
}

fn decrypt_error(err: ilink_crypto::DecryptError) -> Error {
    Error::new(ErrorKind::Decrypt).with_source(err)
}
