//! TLS for the hostile servers: the simulator's test authority, made fresh
//! per server.

use std::sync::Arc;

use ilink_testkit::TestCa;

/// A server configuration offering `h2` and `http/1.1` by ALPN (`http2`), or
/// only `http/1.1`, and the root certificate (DER) that signed it.
pub(crate) fn server(http2: bool) -> (Arc<rustls::ServerConfig>, Vec<u8>) {
    let ca = TestCa::new(None).unwrap();
    (
        ca.server_config(http2).unwrap(),
        ca.certificate_der().to_vec(),
    )
}
