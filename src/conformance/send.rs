//! Sending a fixture as written (method, path, headers, bytes) and talking to the sample EC's
//! control API, over plain HTTP or HTTPS with an optional client identity.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request};
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use super::manifest::Fixture;
use crate::pki;

/// How long one exchange may take (the longest EC scenario is held 30 s).
pub const EXCHANGE_DEADLINE: Duration = Duration::from_secs(45);

/// TLS material for an `https://` target.
#[derive(Debug, Clone, Default)]
pub struct ClientTls {
    /// CAs trusted for the target's certificate (PEM).
    pub ca_file: Option<PathBuf>,
    /// The client certificate and key presented to the target (PEM).
    pub identity: Option<(PathBuf, PathBuf)>,
}

/// An HTTP(S) client without connection reuse (each fixture on a fresh connection).
pub struct Sender {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl Sender {
    pub fn new(tls: &ClientTls) -> Result<Self, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let roots = pki::read_roots(tls.ca_file.as_deref(), tls.ca_file.is_none())
            .map_err(|e| format!("CA: {e}"))?;
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots);
        let config = match &tls.identity {
            Some((cert, key)) => {
                let chain =
                    pki::read_certs(cert).map_err(|e| format!("client certificate: {e}"))?;
                let key = pki::read_key(key).map_err(|e| format!("client key: {e}"))?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(|e| format!("client identity: {e}"))?
            }
            None => builder.with_no_client_auth(),
        };
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(config)
            .https_or_http()
            .enable_http1()
            .build();
        Ok(Self {
            client: Client::builder(TokioExecutor::new())
                .pool_max_idle_per_host(0)
                .build(connector),
        })
    }

    /// One request; the status and the whole body, or why there was none.
    pub async fn exchange(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<(u16, Bytes), String> {
        let mut req = Request::builder().method(method).uri(url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| format!("request to {url}: {e}"))?;
        let exchange = async {
            let resp = self
                .client
                .request(req)
                .await
                .map_err(|e| format!("{url}: {}", error_chain(&e)))?;
            let status = resp.status().as_u16();
            let body = resp
                .into_body()
                .collect()
                .await
                .map_err(|e| format!("{url}: body: {e}"))?
                .to_bytes();
            Ok((status, body))
        };
        tokio::time::timeout(EXCHANGE_DEADLINE, exchange)
            .await
            .map_err(|_| format!("{url}: no answer within {EXCHANGE_DEADLINE:?}"))?
    }

    /// Sends `fixture` with the bytes of its file to `base` (the target's scheme and authority).
    pub async fn fixture(
        &self,
        base: &str,
        fixture: &Fixture,
        mut body: Vec<u8>,
    ) -> Result<(u16, Bytes), String> {
        if let Some(n) = fixture.pad_to_bytes {
            if body.len() < n {
                body.resize(n, b' ');
            }
        }
        let method = Method::from_bytes(fixture.method.as_bytes())
            .map_err(|e| format!("method {:?}: {e}", fixture.method))?;
        let mut headers = Vec::new();
        if !fixture.content_type.is_empty() {
            headers.push(("Content-Type", fixture.content_type.as_str()));
        }
        if let Some(a) = &fixture.soap_action {
            headers.push(("SOAPAction", a.as_str()));
        }
        let url = format!("{}{}", base.trim_end_matches('/'), fixture.path);
        self.exchange(method, &url, &headers, body).await
    }

    /// A control-API call to the sample EC; a non-2xx answer is an error with its body.
    pub async fn control(
        &self,
        control: &str,
        method: Method,
        path: &str,
        json: Option<&serde_json::Value>,
    ) -> Result<(), String> {
        let url = format!("{}{path}", control.trim_end_matches('/'));
        let body = json.map(|j| j.to_string().into_bytes()).unwrap_or_default();
        let (status, answer) = self
            .exchange(method, &url, &[("Content-Type", "application/json")], body)
            .await?;
        if (200..300).contains(&status) {
            Ok(())
        } else {
            Err(format!(
                "{url}: HTTP {status}: {}",
                String::from_utf8_lossy(&answer)
            ))
        }
    }
}

impl Sender {
    /// A control-API GET; the body as text.
    pub async fn control_get(&self, control: &str, path: &str) -> Result<String, String> {
        let url = format!("{}{path}", control.trim_end_matches('/'));
        let (status, body) = self.exchange(Method::GET, &url, &[], Vec::new()).await?;
        let text = String::from_utf8_lossy(&body).into_owned();
        if (200..300).contains(&status) {
            Ok(text)
        } else {
            Err(format!("{url}: HTTP {status}: {text}"))
        }
    }
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}
