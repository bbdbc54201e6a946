//! HTTPS for the simulator: a certificate authority made fresh for each
//! simulator, a server certificate it signs for the loopback names, and the
//! rustls server configuration that offers `h2` and `http/1.1`.
//!
//! Clients trust the authority explicitly (its certificate from
//! [`Simulator::ca_certificate_der`](crate::Simulator::ca_certificate_der)
//! or [`ca_certificate_pem`](crate::Simulator::ca_certificate_pem)); nothing
//! turns verification off.

use std::io;
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// The names the server certificate is valid for.
const LOOPBACK_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// A test certificate authority made fresh, and a server certificate it
/// signed for the loopback names. The simulator uses one per run; a test
/// that writes its own hostile TLS server can too.
///
/// ```
/// let ca = ilink_testkit::TestCa::new(None).unwrap();
/// let server = ca.server_config(true).unwrap();
/// assert_eq!(server.alpn_protocols, [b"h2".to_vec(), b"http/1.1".to_vec()]);
/// assert!(ca.certificate_pem().starts_with("-----BEGIN CERTIFICATE-----"));
/// ```
pub struct TestCa {
    pub(crate) ca_der: CertificateDer<'static>,
    pub(crate) ca_pem: String,
    cert: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
}

impl TestCa {
    /// A new authority and a server certificate for `localhost`,
    /// `127.0.0.1`, `::1` and `extra` (the address the simulator binds).
    ///
    /// # Errors
    ///
    /// When a key or certificate cannot be made.
    pub fn new(extra: Option<std::net::IpAddr>) -> io::Result<Self> {
        let ca_key = KeyPair::generate().map_err(other)?;
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(other)?;
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "ilink-testkit test authority");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca_params.self_signed(&ca_key).map_err(other)?;
        let issuer = Issuer::new(ca_params, ca_key);

        let mut names: Vec<String> = LOOPBACK_NAMES.iter().map(|n| (*n).to_owned()).collect();
        if let Some(ip) = extra
            && !ip.is_unspecified()
        {
            names.push(ip.to_string());
        }
        let key = KeyPair::generate().map_err(other)?;
        let mut params = CertificateParams::new(names).map_err(other)?;
        params
            .distinguished_name
            .push(DnType::CommonName, "ilink-testkit simulator");
        let cert = params.signed_by(&key, &issuer).map_err(other)?;
        Ok(Self {
            ca_der: ca_cert.der().clone(),
            ca_pem: ca_cert.pem(),
            cert: cert.der().clone(),
            key: PrivatePkcs8KeyDer::from(key.serialize_der()),
        })
    }

    /// The authority's certificate (DER): the root a client trusts.
    pub fn certificate_der(&self) -> &[u8] {
        &self.ca_der
    }

    /// The authority's certificate as PEM.
    pub fn certificate_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The server configuration: `h2` then `http/1.1` by ALPN, or only
    /// `http/1.1` when `http2` is off.
    ///
    /// # Errors
    ///
    /// When rustls refuses the certificate or key.
    pub fn server_config(&self, http2: bool) -> io::Result<Arc<rustls::ServerConfig>> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(other)?
            .with_no_client_auth()
            .with_single_cert(
                vec![self.cert.clone()],
                PrivateKeyDer::Pkcs8(self.key.clone_key()),
            )
            .map_err(other)?;
        config.alpn_protocols = if http2 {
            vec![b"h2".to_vec(), b"http/1.1".to_vec()]
        } else {
            vec![b"http/1.1".to_vec()]
        };
        Ok(Arc::new(config))
    }
}

fn other(err: impl std::error::Error + Send + Sync + 'static) -> io::Error {
    io::Error::other(err)
}
