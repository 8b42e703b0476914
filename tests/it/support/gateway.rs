//! A real gateway on an ephemeral port and the HTTP(S) client that talks to it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use sanp_gateway::app::Gateway;
use sanp_gateway::transport::Server;
use serde_json::Value;
use tokio::net::TcpListener;

use super::{business, official, pki, repo, LegacyResponse, Response};

/// A running gateway and what it was started with.
pub struct TestGateway {
    pub url: String,
    /// The in-process gateway; `None` for a client of a gateway running elsewhere.
    pub gateway: Option<Arc<Gateway>>,
    pub dir: Option<tempfile::TempDir>,
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

/// An HTTP(S) client; `tls` is the rustls configuration used for `https://` URLs.
pub fn http_client(
    tls: rustls::ClientConfig,
) -> Client<HttpsConnector<HttpConnector>, Full<Bytes>> {
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .build();
    Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(0)
        .build(connector)
}

/// A rustls client trusting `ca` and presenting `identity` (certificate and key PEM files), if any.
pub fn tls_client_config(ca: Option<&Path>, identity: Option<&pki::Pair>) -> rustls::ClientConfig {
    tls_client_config_versions(ca, identity, rustls::DEFAULT_VERSIONS)
}

/// Like [`tls_client_config`], limited to `versions`.
pub fn tls_client_config_versions(
    ca: Option<&Path>,
    identity: Option<&pki::Pair>,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> rustls::ClientConfig {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    if let Some(ca) = ca {
        for c in CertificateDer::pem_file_iter(ca).expect("CA file") {
            roots.add(c.expect("CA cert")).expect("add root");
        }
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .expect("versions")
        .with_root_certificates(roots);
    match identity {
        Some(p) => {
            let chain = CertificateDer::pem_file_iter(&p.cert)
                .expect("cert file")
                .collect::<Result<Vec<_>, _>>()
                .expect("certs");
            let key = PrivateKeyDer::from_pem_file(&p.key).expect("key");
            builder
                .with_client_auth_cert(chain, key)
                .expect("client identity")
        }
        None => builder.with_no_client_auth(),
    }
}

/// An HTTP answer as received.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: StatusCode,
    pub content_type: String,
    pub body: String,
    pub headers: http::HeaderMap,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl TestGateway {
    /// Starts a plain-HTTP gateway over `registry`, with extra TOML appended to the settings.
    pub async fn start(registry: &Value, extra_settings: &str) -> Self {
        let no_tls = tls_client_config(None, None);
        Self::start_with(
            registry,
            &format!("plain_http = true\n{extra_settings}"),
            "http",
            no_tls,
        )
        .await
    }

    /// Starts a plain-HTTP gateway over a registry document given as bytes (for what a `Value`
    /// cannot carry, such as the order of a map's keys).
    pub async fn start_document(document: &[u8], extra_settings: &str) -> Self {
        Self::start_with_document(
            document,
            &format!("plain_http = true\n{extra_settings}"),
            "http",
            tls_client_config(None, None),
        )
        .await
    }

    /// Starts a gateway with `settings` (TOML without `listen`, `registry` and
    /// `service_schema_dir`), reached at `scheme://localhost:<port>` with `client_tls`.
    pub async fn start_with(
        registry: &Value,
        settings: &str,
        scheme: &str,
        client_tls: rustls::ClientConfig,
    ) -> Self {
        let document = serde_json::to_vec(registry).expect("json");
        Self::start_with_document(&document, settings, scheme, client_tls).await
    }

    async fn start_with_document(
        document: &[u8],
        settings: &str,
        scheme: &str,
        client_tls: rustls::ClientConfig,
    ) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let registry_path = dir.path().join("registry.json");
        std::fs::write(&registry_path, document).expect("write registry");
        let settings_text = format!(
            "listen = \"127.0.0.1:0\"\nregistry = {:?}\nservice_schema_dir = {:?}\n{settings}\n",
            registry_path.display().to_string(),
            repo().join("xsd/catalogo-servizi").display().to_string()
        );
        // Written to a file, as `serve` reads it, so settings reloads work in tests too.
        let settings_path = dir.path().join("gateway.toml");
        std::fs::write(&settings_path, &settings_text).expect("write settings");
        let gateway = Arc::new(Gateway::from_file(&settings_path).expect("gateway builds"));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(Server::new(listener, gateway.clone()).run(std::future::pending()));
        // The same background reloads as `sanp-gateway serve` (registry file, TLS files, URL).
        for task in sanp_gateway::reload::spawn_all(&gateway) {
            drop(task);
        }
        let host = if scheme == "https" {
            format!("localhost:{}", addr.port())
        } else {
            addr.to_string()
        };
        Self {
            url: format!("{scheme}://{host}"),
            gateway: Some(gateway),
            dir: Some(dir),
            client: http_client(client_tls),
        }
    }

    /// The same gateway seen through another client (another TLS identity).
    pub fn with_client(&self, tls: rustls::ClientConfig) -> Self {
        Self {
            url: self.url.clone(),
            gateway: self.gateway.clone(),
            dir: None,
            client: http_client(tls),
        }
    }

    /// Sends and returns the transport error instead of panicking (TLS refusals).
    pub async fn try_post(
        &self,
        path: &str,
        soap_action: &str,
        body: &str,
    ) -> Result<Answer, String> {
        let req = Request::builder()
            .method(Method::POST)
            .uri(format!("{}{path}", self.url))
            .header("Content-Type", "text/xml; charset=UTF-8")
            .header("SOAPAction", soap_action)
            .body(Full::new(Bytes::from(body.to_owned())))
            .expect("request");
        let resp = self
            .client
            .request(req)
            .await
            .map_err(|e| format!("{e:?}"))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        Ok(Answer {
            status,
            content_type: String::new(),
            body: String::from_utf8_lossy(&body).into_owned(),
            headers,
        })
    }

    pub fn metrics(&self) -> &sanp_gateway::observe::Metrics {
        &self.gateway.as_ref().expect("in-process gateway").metrics
    }

    /// A client for a gateway started by other means (the demo binary).
    pub fn client_for(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            gateway: None,
            dir: None,
            client: http_client(tls_client_config(None, None)),
        }
    }

    /// POSTs a SOAP body to `path` with an optional SOAPAction header.
    pub async fn post(&self, path: &str, soap_action: Option<&str>, body: &str) -> Answer {
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(format!("{}{path}", self.url))
            .header("Content-Type", "text/xml; charset=UTF-8");
        if let Some(a) = soap_action {
            req = req.header("SOAPAction", a);
        }
        self.send(
            req.body(Full::new(Bytes::from(body.to_owned())))
                .expect("request"),
        )
        .await
    }

    pub async fn get(&self, path_and_query: &str) -> Answer {
        let req = Request::builder()
            .uri(format!("{}{path_and_query}", self.url))
            .body(Full::new(Bytes::new()))
            .expect("request");
        self.send(req).await
    }

    pub async fn send(&self, req: Request<Full<Bytes>>) -> Answer {
        let resp = self.client.request(req).await.expect("gateway answers");
        let status = resp.status();
        let headers = resp.headers().clone();
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let body = resp.into_body().collect().await.expect("body").to_bytes();
        Answer {
            status,
            content_type,
            body: String::from_utf8(body.to_vec()).expect("UTF-8 answer"),
            headers,
        }
    }

    /// Sends a demandPaymentNotice and checks the transport contract of a business answer.
    pub async fn demand(&self, body: &str) -> Response {
        let a = self
            .post("/node-for-psp/v1", Some("demandPaymentNotice"), body)
            .await;
        business(a, "demandPaymentNoticeResponse")
    }

    pub async fn catalog(&self, body: &str) -> Response {
        let a = self
            .post(
                "/node-for-psp/v1",
                Some("nodoChiediCatalogoServiziV2"),
                body,
            )
            .await;
        business(a, "nodoChiediCatalogoServiziV2Response")
    }
}

impl TestGateway {
    /// A legacy request: HTTP 200, SOAP content type, valid against the official legacy schema.
    pub async fn legacy(&self, soap_action: &str, body: &str) -> LegacyResponse {
        let a = self
            .post("/nodo-per-psp-richiesta-avvisi/v1", Some(soap_action), body)
            .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        assert_eq!(a.content_type, "text/xml; charset=UTF-8");
        official::assert_valid_legacy_psp(&a.body);
        LegacyResponse::parse(&a.body)
    }

    pub async fn numero_avviso(&self, body: &str) -> LegacyResponse {
        let r = self.legacy("nodoChiediNumeroAvviso", body).await;
        assert_eq!(
            (r.outer.as_str(), r.inner.as_str()),
            (
                "nodoChiediNumeroAvvisoRisposta",
                "nodoChiediNumeroAvvisoRisposta"
            )
        );
        r
    }
}

impl TestGateway {
    /// Starts the admin listener (metrics, health, refresh) on an ephemeral port; returns its URL.
    pub async fn start_admin(&self) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind admin");
        let addr = listener.local_addr().expect("admin addr");
        let gw = self.gateway.clone().expect("in-process gateway");
        tokio::spawn(sanp_gateway::observe::admin::serve(listener, gw));
        format!("http://{addr}")
    }

    /// The registry file the gateway was started with.
    pub fn registry_path(&self) -> PathBuf {
        self.dir
            .as_ref()
            .expect("in-process gateway")
            .path()
            .join("registry.json")
    }

    /// The settings file the gateway was started with.
    pub fn settings_path(&self) -> PathBuf {
        self.dir
            .as_ref()
            .expect("in-process gateway")
            .path()
            .join("gateway.toml")
    }

    /// Replaces the registry file by rename, as deployment tools do.
    pub fn replace_registry(&self, registry: &Value) {
        let tmp = self.registry_path().with_extension("tmp");
        std::fs::write(&tmp, serde_json::to_vec(registry).expect("json")).expect("write");
        std::fs::rename(&tmp, self.registry_path()).expect("rename");
    }

    /// A plain GET on any URL (the admin listener).
    pub async fn get_url(&self, url: &str) -> Answer {
        let req = Request::builder()
            .uri(url)
            .body(Full::new(Bytes::new()))
            .expect("request");
        self.send(req).await
    }

    pub async fn post_url(&self, url: &str) -> Answer {
        let req = Request::builder()
            .method(Method::POST)
            .uri(url)
            .body(Full::new(Bytes::new()))
            .expect("request");
        self.send(req).await
    }
}
