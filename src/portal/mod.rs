//! A reference PSP front end: the catalog as a citizen sees it, forms generated from each
//! service's XSD, and the notice with its pagoPA QR code. It is a PSP client of the gateway (SOAP,
//! with the PSP identity of its settings), never a reader of the registry.

mod form;
mod gateway;
mod pages;
pub mod qr;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use http::{header, Method, Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use serde::Deserialize;
use tokio::net::TcpListener;
use tokio::sync::Mutex;

pub use form::{Field, FieldKind, Form, FormError, Node};
pub use gateway::{DemandOutcome, GatewayClient, GatewayError, Ko, NoticeOk, Offer};

use crate::checks::{check_service_data, ServiceDataError, ServiceSchemas};
use crate::secret::Secret;
use crate::settings::TlsProfile;
use crate::xsd::{model, Bundle};

/// A posted form larger than this is refused.
const MAX_FORM_BYTES: usize = 64 * 1024;
/// How long a catalog read from the gateway is shown before it is asked again.
const CATALOG_TTL: Duration = Duration::from_secs(30);

/// The PSP the portal acts as.
#[derive(Debug, Clone)]
pub struct PspIdentity {
    pub id_psp: String,
    pub id_broker_psp: String,
    pub id_channel: String,
    pub password: Secret,
}

/// Portal settings (TOML).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    listen: Option<String>,
    /// The gateway's SOAP address, e.g. `http://127.0.0.1:8080/node-for-psp/v1`.
    gateway: String,
    service_schema_dir: PathBuf,
    psp: RawPsp,
    #[serde(default)]
    tls: RawTls,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPsp {
    id_psp: String,
    id_broker_psp: String,
    id_channel: String,
    password: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTls {
    ca_file: Option<PathBuf>,
    cert_file: Option<PathBuf>,
    key_file: Option<PathBuf>,
}

/// Checked portal settings.
#[derive(Debug, Clone)]
pub struct PortalSettings {
    pub listen: SocketAddr,
    pub gateway: Uri,
    pub service_schema_dir: PathBuf,
    pub psp: PspIdentity,
    /// Trust and client identity toward the gateway (mutual TLS when it requires it).
    pub tls: TlsProfile,
}

/// Why the portal cannot start.
#[derive(Debug, thiserror::Error)]
pub enum PortalError {
    #[error("cannot read portal settings {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("portal settings {path}: {message}")]
    Invalid { path: String, message: String },
    #[error("service schemas: {0}")]
    Schemas(String),
    #[error("form of {0}")]
    Form(#[from] FormError),
    #[error("TLS toward the gateway: {0}")]
    Tls(String),
}

impl PortalSettings {
    /// Reads a settings file; relative paths are relative to its folder.
    pub fn load(path: &Path) -> Result<Self, PortalError> {
        let text = std::fs::read_to_string(path).map_err(|source| PortalError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Self::from_toml(&text, base).map_err(|message| PortalError::Invalid {
            path: path.display().to_string(),
            message,
        })
    }

    pub fn from_toml(text: &str, base: &Path) -> Result<Self, String> {
        let raw: RawSettings = toml::from_str(text).map_err(|e| e.to_string())?;
        let resolve = |p: PathBuf| if p.is_absolute() { p } else { base.join(p) };
        let listen = raw
            .listen
            .as_deref()
            .unwrap_or("127.0.0.1:8081")
            .parse()
            .map_err(|e| format!("listen: {e}"))?;
        let gateway: Uri = raw.gateway.parse().map_err(|e| format!("gateway: {e}"))?;
        Ok(Self {
            listen,
            gateway,
            service_schema_dir: resolve(raw.service_schema_dir),
            psp: PspIdentity {
                id_psp: raw.psp.id_psp,
                id_broker_psp: raw.psp.id_broker_psp,
                id_channel: raw.psp.id_channel,
                password: Secret::new(raw.psp.password),
            },
            tls: TlsProfile {
                system_roots: raw.tls.ca_file.is_none(),
                ca_file: raw.tls.ca_file.map(resolve),
                crl_files: Vec::new(),
                cert_file: raw.tls.cert_file.map(resolve),
                key_file: raw.tls.key_file.map(resolve),
            },
        })
    }
}

/// The running portal's state.
pub struct Portal {
    gateway: GatewayClient,
    forms: HashMap<String, Form>,
    schemas: ServiceSchemas,
    catalog: Mutex<Option<(Instant, Arc<Vec<Offer>>)>>,
}

impl Portal {
    /// Builds every service's form at start-up: a schema the generator cannot describe stops the
    /// portal here, naming the schema and the construct, rather than showing a broken form.
    pub fn new(settings: &PortalSettings) -> Result<Self, PortalError> {
        let dir = &settings.service_schema_dir;
        let bundle = Bundle::service_schemas(dir)
            .map_err(|e| PortalError::Schemas(format!("{}: {e}", dir.display())))?;
        let schemas =
            ServiceSchemas::compile_dir(dir).map_err(|e| PortalError::Schemas(e.to_string()))?;
        let mut forms = HashMap::new();
        for name in bundle.names() {
            if crate::xsd::SERVICE_IMPORTS.contains(&name) {
                continue;
            }
            let m = model::read(&bundle, name).map_err(|e| {
                PortalError::Form(FormError {
                    schema: e.schema,
                    problem: e.problem,
                })
            })?;
            forms.insert(name.to_owned(), Form::new(m)?);
        }
        let tls = crate::upstream::client::profile_config("portal", &settings.tls)
            .map_err(|e| PortalError::Tls(e.to_string()))?;
        Ok(Self {
            gateway: GatewayClient::new(settings.gateway.clone(), settings.psp.clone(), tls),
            forms,
            schemas,
            catalog: Mutex::new(None),
        })
    }

    /// The catalog, asked of the gateway at most every [`CATALOG_TTL`].
    async fn offers(&self) -> Result<Arc<Vec<Offer>>, GatewayError> {
        let mut cached = self.catalog.lock().await;
        if let Some((at, offers)) = cached.as_ref() {
            if at.elapsed() < CATALOG_TTL {
                return Ok(offers.clone());
            }
        }
        let offers = Arc::new(self.gateway.catalog().await?);
        *cached = Some((Instant::now(), offers.clone()));
        Ok(offers)
    }
}

/// Serves the portal on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, portal: Arc<Portal>) -> std::io::Result<()> {
    loop {
        let (tcp, _) = listener.accept().await?;
        let portal = portal.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let portal = portal.clone();
                async move { Ok::<_, std::convert::Infallible>(route(&portal, req).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(10))
                .serve_connection(TokioIo::new(tcp), service)
                .await;
        });
    }
}

fn page(status: StatusCode, markup: maud::Markup) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(markup.into_string())));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/html; charset=utf-8"),
    );
    // The page loads nothing from elsewhere; its own inline style and script only.
    resp.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        http::HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; form-action 'self'",
        ),
    );
    resp
}

async fn route(portal: &Portal, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_owned();
    let query = parse_form(req.uri().query().unwrap_or("").as_bytes());
    match (req.method(), path.strip_prefix("/servizio/")) {
        (&Method::GET, None) if path == "/" => match portal.offers().await {
            Ok(offers) => page(
                StatusCode::OK,
                pages::catalog(
                    &offers,
                    query.get("q").map(String::as_str).unwrap_or(""),
                    query.get("ente").map(String::as_str).unwrap_or(""),
                ),
            ),
            Err(e) => unavailable(&e),
        },
        (method @ (&Method::GET | &Method::POST), Some(id)) => {
            let post = method == Method::POST;
            let offers = match portal.offers().await {
                Ok(o) => o,
                Err(e) => return unavailable(&e),
            };
            let Some(offer) = offers.iter().find(|o| o.subject_service_id == id) else {
                return page(
                    StatusCode::NOT_FOUND,
                    pages::problem(
                        "Servizio non trovato",
                        "Il servizio richiesto non è nel catalogo.",
                    ),
                );
            };
            let Some(form) = portal.forms.get(&offer.xsd) else {
                return page(
                    StatusCode::NOT_IMPLEMENTED,
                    pages::problem(
                        "Servizio non disponibile",
                        "Il modulo di questo servizio non è disponibile in questo portale.",
                    ),
                );
            };
            if !post {
                return page(
                    StatusCode::OK,
                    pages::form(offer, form, &HashMap::new(), &HashMap::new()),
                );
            }
            let body = match Limited::new(req.into_body(), MAX_FORM_BYTES)
                .collect()
                .await
            {
                Ok(b) => b.to_bytes(),
                Err(_) => {
                    return page(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        pages::problem("Dati troppo grandi", "Il modulo inviato è troppo grande."),
                    )
                }
            };
            submit(portal, offer, form, parse_form(&body)).await
        }
        _ => page(
            StatusCode::NOT_FOUND,
            pages::problem("Pagina non trovata", "La pagina richiesta non esiste."),
        ),
    }
}

/// Builds the instance, checks it as the gateway does, and asks for the notice.
async fn submit(
    portal: &Portal,
    offer: &Offer,
    form: &Form,
    values: HashMap<String, String>,
) -> Response<Full<Bytes>> {
    let instance = form.instance(&values);
    let b64 = base64::engine::general_purpose::STANDARD.encode(instance.as_bytes());
    let limits = crate::soap::Limits::default();
    if let Err(e) = check_service_data(&portal.schemas, &offer.xsd, &b64, &limits, None) {
        let errors = field_errors(form, &e);
        return page(
            StatusCode::UNPROCESSABLE_ENTITY,
            pages::form(offer, form, &values, &errors),
        );
    }
    match portal
        .gateway
        .demand(&offer.subject_service_id, &instance)
        .await
    {
        Ok(DemandOutcome::Ok(n)) => page(StatusCode::OK, pages::notice(offer, &n)),
        Ok(DemandOutcome::Ko(ko)) => page(StatusCode::OK, pages::refused(offer, &ko)),
        Err(e) => unavailable(&e),
    }
}

/// The validator's complaint next to the field it is about (its element path below the root),
/// else for the whole form.
fn field_errors(form: &Form, e: &ServiceDataError) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let detail = match e {
        ServiceDataError::Invalid { detail, .. } => detail.first().clone(),
        other => {
            out.insert(String::new(), format!("Dati non validi ({other})."));
            return out;
        }
    };
    let field = detail.path.as_deref().and_then(|p| {
        // `root/a/b` → `a.b`.
        let below = p.split_once('/').map(|(_, rest)| rest.replace('/', "."))?;
        form.fields()
            .into_iter()
            .find(|f| f.path == below)
            .map(|f| f.path.clone())
    });
    let message = format!(
        "Valore non valido per questo campo. Dettaglio: {}",
        detail.message.trim()
    );
    match field {
        Some(path) => {
            out.insert(path, message);
            out.insert(String::new(), "Correggi i campi segnalati.".into());
        }
        None => {
            out.insert(String::new(), message);
        }
    }
    out
}

fn unavailable(e: &GatewayError) -> Response<Full<Bytes>> {
    tracing::warn!(error = %e, "portal: gateway not usable");
    page(
        StatusCode::BAD_GATEWAY,
        pages::problem(
            "Servizio momentaneamente non disponibile",
            "Il sistema pagoPA non risponde. Riprova tra qualche minuto.",
        ),
    )
}

/// `application/x-www-form-urlencoded` (and query strings) into a map; the last value wins.
fn parse_form(bytes: &[u8]) -> HashMap<String, String> {
    let decode = |s: &[u8]| -> String {
        let mut out = Vec::with_capacity(s.len());
        let mut i = 0;
        while i < s.len() {
            match s[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < s.len() => {
                    match std::str::from_utf8(&s[i + 1..i + 3])
                        .ok()
                        .and_then(|h| u8::from_str_radix(h, 16).ok())
                    {
                        Some(b) => {
                            out.push(b);
                            i += 2;
                        }
                        None => out.push(b'%'),
                    }
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    bytes
        .split(|b| *b == b'&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let mut kv = pair.splitn(2, |b| *b == b'=');
            let k = decode(kv.next().unwrap_or_default());
            let v = decode(kv.next().unwrap_or_default());
            (k, v)
        })
        .collect()
}

/// Binds the portal's address and serves.
pub async fn run(settings: PortalSettings) -> Result<(), String> {
    let portal = Arc::new(Portal::new(&settings).map_err(|e| e.to_string())?);
    let listener = TcpListener::bind(settings.listen)
        .await
        .map_err(|e| format!("portal cannot listen on {}: {e}", settings.listen))?;
    serve(listener, portal)
        .await
        .map_err(|e| format!("portal: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_decode_percent_plus_and_broken_escapes() {
        let m = parse_form(b"a=1+2&b=%C3%A8%2F&c=%zz&d=%4&e");
        assert_eq!(m.get("a").map(String::as_str), Some("1 2"));
        assert_eq!(m.get("b").map(String::as_str), Some("è/"));
        assert_eq!(m.get("c").map(String::as_str), Some("%zz"));
        assert_eq!(m.get("d").map(String::as_str), Some("%4"));
        assert_eq!(m.get("e").map(String::as_str), Some(""));
    }
}
