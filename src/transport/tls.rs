//! The listener's TLS: server certificate, required client certificates with optional CRLs, a
//! bounded handshake, classified failures, and reload when the PEM files change.

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use rustls::server::WebPkiClientVerifier;
use rustls::{CertificateError, ServerConfig};
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

use crate::pki::{self, ClientIdentity, FileStamps, PemError};
use crate::settings::ServerTls;

/// Why the listener's TLS material cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error("{0}")]
    Pem(#[from] PemError),
    #[error("TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    #[error("client certificate verifier: {0}")]
    Verifier(String),
}

/// Why a TLS handshake failed, as logged and counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HandshakeFailure {
    Timeout,
    NoCertificate,
    UnknownCa,
    Revoked,
    Expired,
    NotYetValid,
    BadCertificate,
    Protocol,
    /// The peer closed before a ClientHello: TCP health checks and port probes.
    Closed,
    Io,
}

impl HandshakeFailure {
    pub fn as_str(self) -> &'static str {
        match self {
            HandshakeFailure::Timeout => "timeout",
            HandshakeFailure::NoCertificate => "no_certificate",
            HandshakeFailure::UnknownCa => "unknown_ca",
            HandshakeFailure::Revoked => "revoked",
            HandshakeFailure::Expired => "expired",
            HandshakeFailure::NotYetValid => "not_yet_valid",
            HandshakeFailure::BadCertificate => "bad_certificate",
            HandshakeFailure::Protocol => "protocol",
            HandshakeFailure::Closed => "closed",
            HandshakeFailure::Io => "io",
        }
    }

    /// Probes closing at once are routine (load balancers' TCP checks): not worth a warning.
    pub fn is_routine(self) -> bool {
        match self {
            HandshakeFailure::Closed => true,
            HandshakeFailure::Timeout
            | HandshakeFailure::NoCertificate
            | HandshakeFailure::UnknownCa
            | HandshakeFailure::Revoked
            | HandshakeFailure::Expired
            | HandshakeFailure::NotYetValid
            | HandshakeFailure::BadCertificate
            | HandshakeFailure::Protocol
            | HandshakeFailure::Io => false,
        }
    }

    fn classify(e: &std::io::Error) -> Self {
        let Some(tls) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) else {
            return match e.kind() {
                std::io::ErrorKind::UnexpectedEof => HandshakeFailure::Closed,
                _ => HandshakeFailure::Io,
            };
        };
        match tls {
            rustls::Error::NoCertificatesPresented => HandshakeFailure::NoCertificate,
            rustls::Error::InvalidCertificate(c) => match c {
                CertificateError::UnknownIssuer => HandshakeFailure::UnknownCa,
                CertificateError::Revoked => HandshakeFailure::Revoked,
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                    HandshakeFailure::Expired
                }
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                    HandshakeFailure::NotYetValid
                }
                // rustls' list is non-exhaustive: anything else is a certificate we refuse.
                _ => HandshakeFailure::BadCertificate,
            },
            _ => HandshakeFailure::Protocol,
        }
    }
}

/// The listener's current TLS configuration.
pub struct TlsServer {
    settings: ServerTls,
    config: ArcSwap<ServerConfig>,
    stamps: ArcSwap<FileStamps>,
}

impl TlsServer {
    pub fn load(settings: &ServerTls) -> Result<Self, TlsSetupError> {
        let config = server_config(settings)?;
        Ok(Self {
            stamps: ArcSwap::from_pointee(stamps(settings)),
            settings: settings.clone(),
            config: ArcSwap::from_pointee(config),
        })
    }

    /// Re-reads the files when one changed; on error the current configuration stays.
    pub fn reload_if_changed(&self) -> Result<bool, TlsSetupError> {
        let old = self.stamps.load();
        let new = old.refreshed();
        if new == **old {
            return Ok(false);
        }
        let config = server_config(&self.settings)?;
        self.config.store(Arc::new(config));
        self.stamps.store(Arc::new(new));
        Ok(true)
    }

    /// Completes the handshake within the configured time and returns the client's identity
    /// (when client certificates are required, it is always there).
    pub async fn handshake(
        &self,
        tcp: TcpStream,
    ) -> Result<(TlsStream<TcpStream>, Option<ClientIdentity>), HandshakeFailure> {
        let acceptor = TlsAcceptor::from(self.config.load_full());
        let timeout: Duration = self.settings.handshake_timeout;
        let stream = match tokio::time::timeout(timeout, acceptor.accept(tcp)).await {
            Err(_) => return Err(HandshakeFailure::Timeout),
            Ok(Err(e)) => return Err(HandshakeFailure::classify(&e)),
            Ok(Ok(s)) => s,
        };
        let identity = stream
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|c| c.first())
            .map(|der| ClientIdentity::from_der(der.as_ref()));
        Ok((stream, identity))
    }
}

fn stamps(s: &ServerTls) -> FileStamps {
    let mut files = vec![s.cert_file.as_path(), s.key_file.as_path()];
    files.extend(s.client_ca_file.as_deref());
    files.extend(s.crl_files.iter().map(|p| p.as_path()));
    FileStamps::of(files)
}

/// TLS 1.2 and 1.3 with ring; client certificates required when a client CA is configured,
/// checked against the CRLs given (whole chain).
fn server_config(s: &ServerTls) -> Result<ServerConfig, TlsSetupError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain = pki::read_certs(&s.cert_file)?;
    let key = pki::read_key(&s.key_file)?;
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?;
    let mut config = match &s.client_ca_file {
        Some(ca) => {
            let roots = pki::read_roots(Some(ca), false)?;
            let crls = pki::read_crls(&s.crl_files)?;
            // CRLs are often given for some issuers only (e.g. the root but not an intermediate):
            // a certificate is refused when a CRL lists it, not because no CRL covers its issuer.
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .with_crls(crls)
                .allow_unknown_revocation_status()
                .build()
                .map_err(|e| TlsSetupError::Verifier(e.to_string()))?;
            builder
                .with_client_cert_verifier(verifier)
                .with_single_cert(chain, key)?
        }
        None => builder.with_no_client_auth().with_single_cert(chain, key)?,
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}
