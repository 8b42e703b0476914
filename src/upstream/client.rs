//! The HTTP(S) client toward EC stations: pooled connections, TLS with our roots and identity.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{header, Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// System CA bundle on Debian-like systems, used when no `ec.ca_file` is configured.
const SYSTEM_CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// What came back over HTTP, before any SOAP interpretation.
#[derive(Debug)]
pub struct HttpAnswer {
    pub status: StatusCode,
    pub body: Bytes,
}

/// A failure below SOAP: nothing usable came back.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("cannot reach {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("answer larger than {0} bytes")]
    TooLarge(usize),
    #[error("answer body broken: {0}")]
    Body(String),
}

/// Why the client could not be built (bad CA bundle, key or certificate).
#[derive(Debug, thiserror::Error)]
pub enum ClientSetupError {
    #[error("{path}: {problem}")]
    Pem { path: String, problem: String },
    #[error("TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
}

/// Pooled client for every station (connections are reused per host).
#[derive(Clone)]
pub struct EcClient {
    http: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

/// TLS material toward the stations.
#[derive(Debug, Clone, Default)]
pub struct EcTls<'a> {
    pub ca_file: Option<&'a Path>,
    pub cert_file: Option<&'a Path>,
    pub key_file: Option<&'a Path>,
}

impl EcClient {
    pub fn new(tls: &EcTls<'_>) -> Result<Self, ClientSetupError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        let ca = tls.ca_file.map(Path::to_path_buf).or_else(|| {
            let p = Path::new(SYSTEM_CA_BUNDLE);
            p.exists().then(|| p.to_path_buf())
        });
        if let Some(ca) = ca {
            for cert in read_certs(&ca)? {
                roots.add(cert).map_err(|e| ClientSetupError::Pem {
                    path: ca.display().to_string(),
                    problem: e.to_string(),
                })?;
            }
        }
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots);
        let config = match (tls.cert_file, tls.key_file) {
            (Some(cert), Some(key)) => {
                let chain = read_certs(cert)?;
                let key = PrivateKeyDer::from_pem_file(key).map_err(|e| ClientSetupError::Pem {
                    path: key.display().to_string(),
                    problem: e.to_string(),
                })?;
                builder.with_client_auth_cert(chain, key)?
            }
            _ => builder.with_no_client_auth(),
        };
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(Duration::from_secs(5)));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(config)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let http = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(32)
            .build(connector);
        Ok(Self { http })
    }

    /// POSTs a SOAP 1.1 request and reads at most `max_bytes` of the answer.
    pub async fn post_soap(
        &self,
        url: &Uri,
        soap_action: &str,
        body: String,
        max_bytes: usize,
    ) -> Result<HttpAnswer, TransportError> {
        let request = Request::builder()
            .method(Method::POST)
            .uri(url.clone())
            .header(header::CONTENT_TYPE, "text/xml; charset=UTF-8")
            .header("SOAPAction", soap_action)
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| TransportError::Unreachable {
                url: url.to_string(),
                reason: e.to_string(),
            })?;
        let response =
            self.http
                .request(request)
                .await
                .map_err(|e| TransportError::Unreachable {
                    url: url.to_string(),
                    reason: error_chain(&e),
                })?;
        let status = response.status();
        let body = Limited::new(response.into_body(), max_bytes)
            .collect()
            .await
            .map_err(|e| {
                if e.downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some()
                {
                    TransportError::TooLarge(max_bytes)
                } else {
                    TransportError::Body(error_chain(e.as_ref()))
                }
            })?
            .to_bytes();
        Ok(HttpAnswer { status, body })
    }
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, ClientSetupError> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| ClientSetupError::Pem {
            path: path.display().to_string(),
            problem: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(ClientSetupError::Pem {
            path: path.display().to_string(),
            problem: "no certificate found".into(),
        });
    }
    Ok(certs)
}

/// `error: cause: cause` on one line, for logs and fault descriptions.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let m = c.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        cur = c.source();
    }
    s
}
