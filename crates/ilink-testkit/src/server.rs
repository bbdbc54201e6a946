//! The listeners and the routing of each request to the API, the CDN or
//! an injected fault (the helpers they share are in `http`, below them).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::fault::{FaultKind, Route};
use crate::http::{Abort, ApiCall, Body, apply_fault, status_response};
use crate::record::Host;
use crate::shared::Shared;

/// How a listener speaks: plain HTTP, or TLS with the simulator's test
/// authority; HTTP/2 offered or refused; the h2 stream limit it announces.
#[derive(Clone)]
pub(crate) struct Wire {
    pub(crate) tls: Option<tokio_rustls::TlsAcceptor>,
    pub(crate) http2: bool,
    pub(crate) max_streams: Option<u32>,
}

/// Serves one listener until the simulator stops.
pub(crate) fn serve(
    listener: TcpListener,
    host: Host,
    shared: Arc<Shared>,
    wire: Wire,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut shutdown = shared.shutdown_signal();
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder.http1().keep_alive(true);
        if let Some(max) = wire.max_streams {
            builder.http2().max_concurrent_streams(max);
        }
        let builder = if wire.http2 {
            builder
        } else {
            builder.http1_only()
        };
        let builder = Arc::new(builder);
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                _ = shutdown.changed() => break,
            };
            let (stream, peer) = match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Too many open files and the like: back off briefly.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let shared = shared.clone();
            let builder = builder.clone();
            let tls = wire.tls.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req| {
                    let shared = shared.clone();
                    async move { handle(shared, host, peer, req).await }
                });
                let served = match tls {
                    None => {
                        builder
                            .serve_connection(TokioIo::new(stream), service)
                            .await
                    }
                    Some(acceptor) => match acceptor.accept(stream).await {
                        Ok(tls) => builder.serve_connection(TokioIo::new(tls), service).await,
                        Err(e) => {
                            tracing::debug!(error = %e, "TLS handshake failed");
                            return;
                        }
                    },
                };
                if let Err(e) = served {
                    tracing::debug!(error = %e, "connection ended");
                }
            });
        }
    })
}

async fn handle(
    shared: Arc<Shared>,
    host: Host,
    _peer: SocketAddr,
    req: Request<Incoming>,
) -> Result<Response<Body>, Abort> {
    let path = req.uri().path().to_owned();
    let route = match host {
        Host::Cdn => {
            if path.ends_with("/upload") {
                Route::CdnUpload
            } else if path.ends_with("/download") || path.contains("/full/") {
                Route::CdnDownload
            } else {
                Route::Unknown
            }
        }
        Host::Api | Host::Redirect => Route::from_api_path(&path),
    };
    let fault = shared.with_faults(|s| s.take(route));
    if route.is_cdn() {
        return crate::cdn::handle(shared, route, req, fault).await;
    }
    if route == Route::Unknown {
        return Ok(status_response(
            StatusCode::NOT_FOUND,
            "text/plain",
            "not found",
        ));
    }
    let call = match ApiCall::read(host, route, req, &shared).await {
        Ok(call) => call,
        Err(resp) => return Ok(resp),
    };
    let pre = fault
        .clone()
        .filter(|f| !matches!(f, FaultKind::SlowAfterEffect { .. }));
    if let Some(kind) = pre {
        return apply_fault(&shared, kind).await;
    }
    let resp = crate::api::dispatch(&shared, call).await;
    if let Some(FaultKind::SlowAfterEffect { delay }) = fault {
        shared.sleep_or_shutdown(delay).await;
    }
    Ok(resp)
}
