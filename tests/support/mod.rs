//! Test harness: a real gateway on an ephemeral port, a programmable EC, an HTTP client, and
//! the official pagoPA schemas (from `../shared`) to judge every response.
#![allow(dead_code)]

pub mod ec;
pub mod official;
pub mod pki;
pub mod webdriver;

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

pub const NFP_NS: &str = "http://pagopa-api.pagopa.gov.it/node/nodeForPsp.xsd";
pub const PPT_NS: &str = "http://ws.pagamenti.telematici.gov/";
pub const PAY_I_NS: &str = "http://www.digitpa.gov.it/schemas/2011/Pagamenti/";

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The conformance registry (fixtures/registry/conformance.json) as JSON, to edit per test.
pub fn conformance_registry() -> Value {
    let text = std::fs::read_to_string(repo().join("fixtures/registry/conformance.json"))
        .expect("fixture");
    serde_json::from_str(&text).expect("fixture JSON")
}

/// Points every station of `registry` at `port` on 127.0.0.1.
pub fn point_stations_at(registry: &mut Value, port: u16) {
    if let Some(stations) = registry["stations"].as_object_mut() {
        for s in stations.values_mut() {
            s["connection"]["port"] = Value::from(port);
        }
    }
}

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

/// `leaves` as `(path, text)` string slices, for comparing with a literal table.
pub fn pairs(leaves: &[(String, String)]) -> Vec<(&str, &str)> {
    leaves
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

/// Asserts HTTP 200, the SOAP content type, validity against the official schemas and the
/// operation's own response element, and returns the parsed response.
pub fn business(a: Answer, element: &str) -> Response {
    assert_eq!(
        a.status,
        StatusCode::OK,
        "business answers are HTTP 200: {}",
        a.body
    );
    assert_eq!(a.content_type, "text/xml; charset=UTF-8");
    official::assert_valid_node_for_psp(&a.body);
    let r = Response::parse(&a.body);
    assert_eq!(r.element, element, "{}", a.body);
    r
}

/// The fields of a SANP 3 response, read with an independent parser (roxmltree).
#[derive(Debug, Clone, Default)]
pub struct Response {
    pub raw: String,
    pub element: String,
    pub element_ns: String,
    pub outcome: String,
    pub fault: Option<Fault>,
    /// Every leaf under the payload as `path/of/local/names` → text, in document order.
    pub leaves: Vec<(String, String)>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fault {
    pub code: String,
    pub string: String,
    pub id: String,
    pub description: Option<String>,
    pub original_code: Option<String>,
    pub original_string: Option<String>,
    pub original_description: Option<String>,
}

impl Response {
    pub fn parse(xml: &str) -> Self {
        let doc = roxmltree::Document::parse(xml).expect("well-formed answer");
        let body = doc
            .root_element()
            .children()
            .find(|n| n.has_tag_name(("http://schemas.xmlsoap.org/soap/envelope/", "Body")))
            .expect("Body");
        let payload = body.children().find(|n| n.is_element()).expect("payload");
        let mut leaves = Vec::new();
        collect(payload, "", &mut leaves);
        let get = |p: &str| leaves.iter().find(|(k, _)| k == p).map(|(_, v)| v.clone());
        let fault = get("fault/faultCode").map(|code| Fault {
            code,
            string: get("fault/faultString").unwrap_or_default(),
            id: get("fault/id").unwrap_or_default(),
            description: get("fault/description"),
            original_code: get("fault/originalFaultCode"),
            original_string: get("fault/originalFaultString"),
            original_description: get("fault/originalDescription"),
        });
        // Children must be unqualified, as in the official schemas (the RPT/RT types inside
        // legacy payment data are the one qualified exception).
        for n in payload
            .descendants()
            .skip(1)
            .filter(|n| n.is_element() && n.tag_name().namespace() != Some(PAY_I_NS))
        {
            assert_eq!(
                n.tag_name().namespace(),
                None,
                "child {} is qualified",
                n.tag_name().name()
            );
        }
        Self {
            raw: xml.to_owned(),
            element: payload.tag_name().name().to_owned(),
            element_ns: payload.tag_name().namespace().unwrap_or("").to_owned(),
            outcome: get("outcome").unwrap_or_default(),
            fault,
            leaves,
        }
    }

    pub fn get(&self, path: &str) -> Option<&str> {
        self.leaves
            .iter()
            .find(|(k, _)| k == path)
            .map(|(_, v)| v.as_str())
    }

    pub fn fault(&self) -> &Fault {
        self.fault
            .as_ref()
            .unwrap_or_else(|| panic!("no fault in {}", self.raw))
    }

    pub fn paths(&self) -> Vec<&str> {
        self.leaves.iter().map(|(k, _)| k.as_str()).collect()
    }
}

fn collect(node: roxmltree::Node<'_, '_>, prefix: &str, out: &mut Vec<(String, String)>) {
    for c in node.children().filter(|n| n.is_element()) {
        let path = if prefix.is_empty() {
            c.tag_name().name().to_owned()
        } else {
            format!("{prefix}/{}", c.tag_name().name())
        };
        if c.children().any(|n| n.is_element()) {
            collect(c, &path, out);
        } else {
            out.push((path, c.text().unwrap_or("").to_owned()));
        }
    }
}

/// A SOAP 1.1 envelope around a nodeForPsp payload, the way SoapUI writes it.
pub fn nfp_envelope(payload: &str) -> String {
    format!(
        "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:nod=\"{NFP_NS}\"><soapenv:Header/><soapenv:Body>{payload}</soapenv:Body></soapenv:Envelope>"
    )
}

pub const PASSWORD: &str = "Password01";

/// base64 of a valid TassaAutomobilistica_1_1_0 document for `plate`.
pub fn tassa_auto(plate: &str) -> String {
    use base64::Engine as _;
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ta:tassaAuto xmlns:ta=\"http://PuntoAccessoPSP.spcoop.gov.it/TassaAuto\"><ta:veicoloConTarga><ta:tipoVeicoloTarga>1</ta:tipoVeicoloTarga><ta:veicoloTarga>{plate}</ta:veicoloTarga></ta:veicoloConTarga></ta:tassaAuto>"
    );
    base64::engine::general_purpose::STANDARD.encode(xml)
}

/// Fields of a demandPaymentNoticeRequest, to vary one at a time.
#[derive(Debug, Clone)]
pub struct Demand {
    pub psp: String,
    pub broker: String,
    pub channel: String,
    pub password: String,
    pub subject_service: String,
    pub data: String,
}

impl Default for Demand {
    fn default() -> Self {
        Self {
            psp: "PSP_OK".into(),
            broker: "BROKER_OK".into(),
            channel: "CH_OK".into(),
            password: PASSWORD.into(),
            subject_service: "00042".into(),
            data: tassa_auto("AB345CD"),
        }
    }
}

impl Demand {
    pub fn payload(&self) -> String {
        format!(
            "<nod:demandPaymentNoticeRequest><idPSP>{}</idPSP><idBrokerPSP>{}</idBrokerPSP><idChannel>{}</idChannel><password>{}</password><idSoggettoServizio>{}</idSoggettoServizio><datiSpecificiServizio>{}</datiSpecificiServizio></nod:demandPaymentNoticeRequest>",
            self.psp, self.broker, self.channel, self.password, self.subject_service, self.data
        )
    }

    pub fn xml(&self) -> String {
        nfp_envelope(&self.payload())
    }
}

/// Fields of a nodoChiediCatalogoServiziV2Request.
#[derive(Debug, Clone)]
pub struct CatalogReq {
    pub psp: String,
    pub broker: String,
    pub channel: String,
    pub password: String,
    pub domain: Option<String>,
    pub category: Option<String>,
    pub fee: Option<String>,
}

impl Default for CatalogReq {
    fn default() -> Self {
        Self {
            psp: "PSP_OK".into(),
            broker: "BROKER_OK".into(),
            channel: "CH_OK".into(),
            password: PASSWORD.into(),
            domain: None,
            category: None,
            fee: None,
        }
    }
}

impl CatalogReq {
    pub fn xml(&self) -> String {
        let opt = |name: &str, v: &Option<String>| {
            v.as_ref()
                .map(|v| format!("<{name}>{v}</{name}>"))
                .unwrap_or_default()
        };
        nfp_envelope(&format!(
            "<nod:nodoChiediCatalogoServiziV2Request><identificativoPSP>{}</identificativoPSP><identificativoIntermediarioPSP>{}</identificativoIntermediarioPSP><identificativoCanale>{}</identificativoCanale><password>{}</password>{}{}{}</nod:nodoChiediCatalogoServiziV2Request>",
            self.psp,
            self.broker,
            self.channel,
            self.password,
            opt("identificativoDominio", &self.domain),
            opt("categoria", &self.category),
            opt("commissione", &self.fee)
        ))
    }
}

/// Reads a file of the repository.
pub fn read(path: impl AsRef<Path>) -> String {
    std::fs::read_to_string(repo().join(path)).expect("file")
}

/// Fields of a legacy nodoChiediNumeroAvviso, to vary one at a time.
#[derive(Debug, Clone)]
pub struct Legacy {
    pub psp: String,
    pub broker: String,
    pub channel: String,
    pub password: String,
    pub service: String,
    pub domain: String,
    pub data: String,
}

impl Default for Legacy {
    fn default() -> Self {
        Self {
            psp: "PSP_OK".into(),
            broker: "BROKER_OK".into(),
            channel: "CH_OK".into(),
            password: PASSWORD.into(),
            service: "60001".into(),
            domain: "77777777777".into(),
            data: tassa_auto("AB345CD"),
        }
    }
}

/// A SOAP 1.1 envelope around a legacy `ppt` payload.
pub fn ppt_envelope(payload: &str) -> String {
    format!(
        "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:ppt=\"{PPT_NS}\"><soapenv:Header/><soapenv:Body>{payload}</soapenv:Body></soapenv:Envelope>"
    )
}

impl Legacy {
    pub fn payload(&self) -> String {
        format!(
            "<ppt:nodoChiediNumeroAvviso><identificativoPSP>{}</identificativoPSP><identificativoIntermediarioPSP>{}</identificativoIntermediarioPSP><identificativoCanale>{}</identificativoCanale><password>{}</password><idServizio>{}</idServizio><idDominioErogatoreServizio>{}</idDominioErogatoreServizio><datiSpecificiServizio>{}</datiSpecificiServizio></ppt:nodoChiediNumeroAvviso>",
            self.psp, self.broker, self.channel, self.password, self.service, self.domain, self.data
        )
    }

    pub fn xml(&self) -> String {
        ppt_envelope(&self.payload())
    }
}

/// A legacy answer, read with roxmltree: the inner element's leaves by path.
#[derive(Debug, Clone)]
pub struct LegacyResponse {
    pub raw: String,
    pub outer: String,
    pub inner: String,
    pub leaves: Vec<(String, String)>,
}

impl LegacyResponse {
    pub fn parse(xml: &str) -> Self {
        let r = Response::parse(xml);
        assert_eq!(r.element_ns, PPT_NS, "{xml}");
        let doc = roxmltree::Document::parse(xml).expect("well-formed");
        let inner = doc
            .descendants()
            .find(|n| n.tag_name().namespace() == Some(PPT_NS))
            .and_then(|outer| outer.children().find(|n| n.is_element()))
            .map(|n| n.tag_name().name().to_owned())
            .unwrap_or_default();
        let prefix = format!("{inner}/");
        let leaves = r
            .leaves
            .iter()
            .filter_map(|(k, v)| k.strip_prefix(&prefix).map(|k| (k.to_owned(), v.clone())))
            .collect();
        Self {
            raw: xml.to_owned(),
            outer: r.element,
            inner,
            leaves,
        }
    }

    pub fn get(&self, path: &str) -> Option<&str> {
        self.leaves
            .iter()
            .find(|(k, _)| k == path)
            .map(|(_, v)| v.as_str())
    }

    pub fn paths(&self) -> Vec<&str> {
        self.leaves.iter().map(|(k, _)| k.as_str()).collect()
    }

    pub fn fault_code(&self) -> &str {
        self.get("fault/faultCode")
            .unwrap_or_else(|| panic!("no fault in {}", self.raw))
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

/// Waits (real time) until `f` holds.
pub async fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    for _ in 0..200 {
        if f() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("never happened: {what}");
}
