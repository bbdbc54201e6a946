//! The CDN: encrypted uploads checked against their upload slot, and
//! downloads served as ciphertext (or plaintext for unencrypted media).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body as HttpBody, Frame};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Request, Response, StatusCode};
use ilink_crypto::{Decryptor, Encryptor, Md5, MediaKey};
use ilink_proto::UploadMediaType;
use ilink_proto::consts::headers;

use crate::fault::{FaultKind, Route};
use crate::http::{Abort, Body, apply_fault, status_response};
use crate::record::{Host, RequestRecord};
use crate::shared::Shared;
use crate::state::CdnObject;

const CHUNK: usize = 256 * 1024;

pub(crate) async fn handle(
    shared: Arc<Shared>,
    route: Route,
    req: Request<Incoming>,
    fault: Option<FaultKind>,
) -> Result<Response<Body>, Abort> {
    let query = crate::http::parse_query(req.uri().query().unwrap_or_default());
    let header_list: Vec<(String, String)> = req
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let path = req.uri().path().to_owned();
    shared.with_records(|s| {
        let record = RequestRecord {
            seq: 0,
            at: shared.elapsed(),
            host: Host::Cdn,
            route,
            method: req.method().as_str().to_owned(),
            path: path.clone(),
            query: query.clone(),
            headers: header_list,
            body: None,
            bot_id: None,
        };
        s.record(record, shared.config.record_limit);
    });
    shared.changed();
    let body = req.into_body();
    let slow = match fault {
        Some(FaultKind::SlowAfterEffect { delay }) => Some(delay),
        Some(kind @ (FaultKind::ConnectionReset | FaultKind::Hang { .. })) => {
            return apply_fault(&shared, kind).await;
        }
        Some(kind) => {
            drain(body).await;
            return apply_fault(&shared, kind).await;
        }
        None => None,
    };
    let find = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let resp = if route == Route::CdnUpload {
        upload(
            &shared,
            find("encrypted_query_param"),
            find("filekey"),
            body,
        )
        .await
    } else {
        let param = match path.split_once("/full/") {
            Some((_, rest)) => Some(crate::http::parse_query(&format!("p={rest}")).remove(0).1),
            None => find("encrypted_query_param"),
        };
        download(&shared, param)
    };
    shared.changed();
    if let Some(delay) = slow {
        shared.sleep_or_shutdown(delay).await;
    }
    Ok(resp)
}

fn cdn_error(status: StatusCode, reason: &str) -> Response<Body> {
    let mut resp = status_response(status, "text/plain", reason);
    if let Ok(v) = HeaderValue::from_str(reason) {
        resp.headers_mut().insert(headers::ERROR_MESSAGE, v);
    }
    resp
}

/// Reads and discards a request body (bounded), so an early answer reaches
/// the client instead of a broken pipe.
async fn drain(mut body: Incoming) {
    let mut seen: u64 = 0;
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(f) => {
                if let Some(d) = f.data_ref() {
                    seen += d.len() as u64;
                }
                if seen > 2 * 1024 * 1024 * 1024 {
                    return;
                }
            }
            Err(_) => return,
        }
    }
}

async fn upload(
    shared: &Shared,
    param: Option<String>,
    filekey: Option<String>,
    mut body: Incoming,
) -> Response<Body> {
    let Some(param) = param else {
        drain(body).await;
        return cdn_error(StatusCode::BAD_REQUEST, "encrypted_query_param missing");
    };
    let slot = shared.with_cdn(|s| {
        s.uploads.get(&param).map(|u| {
            (
                u.bot_id.clone(),
                u.filekey.clone(),
                u.rawsize,
                u.md5.clone(),
                u.filesize,
                u.key,
                u.is_thumb,
                u.media_type,
                u.done.clone(),
            )
        })
    });
    let Some((owner, slot_filekey, rawsize, md5, filesize, key, is_thumb, media_type, done)) = slot
    else {
        drain(body).await;
        return cdn_error(StatusCode::BAD_REQUEST, "unknown upload parameter");
    };
    if filekey.as_deref() != Some(slot_filekey.as_str()) {
        drain(body).await;
        return cdn_error(
            StatusCode::BAD_REQUEST,
            "filekey does not match the upload slot",
        );
    }
    let keep = rawsize <= shared.config.keep_media_bytes;
    let mut plain = if keep {
        Vec::with_capacity(usize::try_from(rawsize).unwrap_or(0))
    } else {
        Vec::new()
    };
    let mut decryptor = Decryptor::new(&key);
    let mut hasher = Md5::new();
    let mut received: u64 = 0;
    let mut plain_len: u64 = 0;
    let mut out = Vec::with_capacity(CHUNK + 32);
    let mut bad_cipher = false;
    while let Some(frame) = body.frame().await {
        let frame = match frame {
            Ok(f) => f,
            Err(_) => return cdn_error(StatusCode::BAD_REQUEST, "upload body ended abruptly"),
        };
        let Some(data) = frame.data_ref() else {
            continue;
        };
        received += data.len() as u64;
        if received > filesize {
            drain(body).await;
            return cdn_error(
                StatusCode::BAD_REQUEST,
                "body is larger than the declared filesize",
            );
        }
        out.clear();
        if decryptor.update(data, &mut out).is_err() {
            bad_cipher = true;
        }
        hasher.update(&out);
        plain_len += out.len() as u64;
        if keep {
            plain.extend_from_slice(&out);
        }
    }
    if received != filesize {
        return cdn_error(
            StatusCode::BAD_REQUEST,
            &format!("ciphertext is {received} bytes, the slot declared {filesize}"),
        );
    }
    out.clear();
    if bad_cipher || decryptor.finish(&mut out).is_err() {
        return cdn_error(
            StatusCode::BAD_REQUEST,
            "ciphertext does not decrypt with the declared aeskey",
        );
    }
    hasher.update(&out);
    plain_len += out.len() as u64;
    if keep {
        plain.extend_from_slice(&out);
    }
    if plain_len != rawsize {
        return cdn_error(
            StatusCode::BAD_REQUEST,
            "plaintext size differs from rawsize",
        );
    }
    let got_md5 = hasher.finalize().to_hex();
    if got_md5 != md5 {
        return cdn_error(
            StatusCode::BAD_REQUEST,
            "plaintext MD5 differs from rawfilemd5",
        );
    }
    let kind = if is_thumb {
        "thumb"
    } else {
        match media_type {
            UploadMediaType::IMAGE => "image",
            UploadMediaType::VIDEO => "video",
            UploadMediaType::VOICE => "voice",
            _ => "file",
        }
    };
    let download_param = shared.with_cdn(|s| {
        let download_param = done.unwrap_or_else(crate::random::random_base64::<24>);
        if let Some(slot) = s.uploads.get_mut(&param) {
            slot.done = Some(download_param.clone());
        }
        s.objects.insert(
            download_param.clone(),
            CdnObject {
                plaintext: keep.then(|| Arc::new(std::mem::take(&mut plain))),
                size: rawsize,
                md5: got_md5,
                key: Some(key),
                kind: kind.to_owned(),
                owner: Some(owner),
            },
        );
        download_param
    });
    let mut resp = status_response(StatusCode::OK, "text/plain", "");
    if let Ok(v) = HeaderValue::from_str(&download_param) {
        resp.headers_mut().insert(headers::ENCRYPTED_PARAM, v);
    }
    resp
}

fn download(shared: &Shared, param: Option<String>) -> Response<Body> {
    let Some(param) = param else {
        return cdn_error(StatusCode::BAD_REQUEST, "encrypted_query_param missing");
    };
    let found = shared.with_cdn(|s| s.objects.get(&param).map(|o| (o.plaintext.clone(), o.key)));
    let Some((plaintext, key)) = found else {
        return cdn_error(StatusCode::NOT_FOUND, "no such media");
    };
    let Some(plaintext) = plaintext else {
        return cdn_error(StatusCode::GONE, "media too large to keep in the simulator");
    };
    let body = EncryptingBody::new(plaintext, key);
    let mut resp = Response::new(body.boxed());
    resp.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    resp
}

/// Serves a stored plaintext, encrypting it chunk by chunk on the way out.
struct EncryptingBody {
    data: Arc<Vec<u8>>,
    pos: usize,
    encryptor: Option<Encryptor>,
    finished: bool,
    total: u64,
}

impl EncryptingBody {
    fn new(data: Arc<Vec<u8>>, key: Option<MediaKey>) -> Self {
        let total = match key {
            Some(_) => ilink_proto::ciphertext_size(data.len() as u64),
            None => data.len() as u64,
        };
        Self {
            data,
            pos: 0,
            encryptor: key.as_ref().map(Encryptor::new),
            finished: false,
            total,
        }
    }
}

impl HttpBody for EncryptingBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = &mut *self;
        if this.finished {
            return Poll::Ready(None);
        }
        let end = (this.pos + CHUNK).min(this.data.len());
        let chunk = &this.data[this.pos..end];
        this.pos = end;
        let last = end == this.data.len();
        let out = match &mut this.encryptor {
            None => {
                this.finished = last;
                Bytes::copy_from_slice(chunk)
            }
            Some(enc) => {
                let mut out = Vec::with_capacity(chunk.len() + 16);
                enc.update(chunk, &mut out);
                if last {
                    if let Some(enc) = this.encryptor.take() {
                        enc.finish(&mut out);
                    }
                    this.finished = true;
                }
                Bytes::from(out)
            }
        };
        if out.is_empty() && this.finished {
            return Poll::Ready(None);
        }
        Poll::Ready(Some(Ok(Frame::data(out))))
    }

    fn is_end_stream(&self) -> bool {
        self.finished
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.total)
    }
}
