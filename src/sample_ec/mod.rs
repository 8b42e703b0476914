//! A scriptable sample EC station answering `paDemandPaymentNotice` and `paaChiediNumeroAvviso`: the demo's EC and a test double for PSPs and conformance testers.
//!
//! Each request gets, in this order: the next answer queued through the control API (for its
//! station, else for all); a syntax KO when the envelope is not valid against the EC-side schema;
//! the answer of a reserved marker in the service data ([`scenario`]); a syntax KO when the
//! service data are not valid against their service schema (one of the five bundled ones, chosen
//! by the data's namespace); else a fresh debt position (aux digit 3, check digit mod 93).
//! Every request is remembered in the history ([`control`]). Plain HTTP or TLS with a required
//! client certificate, with the gateway listener's own TLS code ([`crate::transport::tls`]).

pub mod answer;
pub mod control;
mod data;
pub mod scenario;
mod wire;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use tokio::net::TcpListener;

pub use answer::SAMPLE_IBAN;
pub use control::Control;
pub use scenario::KO_MARKER;

use crate::message::{PA_FOR_NODE_NS, PPTHEAD_NS, PPT_NS};
use crate::settings::ServerTls;
use crate::soap::{self, Envelope, Limits};
use crate::transport::http::xml;
use crate::transport::tls::{TlsServer, TlsSetupError};
use crate::xsd::Contract;
use answer::{Answer, Context, Primitive, Reply};

/// The largest request the sample EC reads.
pub const MAX_REQUEST_BYTES: usize = 1024 * 1024;

/// Sample EC settings.
#[derive(Debug, Clone)]
pub struct SampleEc {
    /// Two-digit segregation code used in notice numbers (aux digit 3).
    pub segregation_code: u8,
    pub company_name: String,
}

impl Default for SampleEc {
    fn default() -> Self {
        Self {
            segregation_code: 1,
            company_name: "Regione Demo".into(),
        }
    }
}

/// Why the sample EC cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("schemas: {0}")]
    Schema(#[from] crate::xsd::CompileError),
    #[error("TLS: {0}")]
    Tls(#[from] TlsSetupError),
}

/// A sample EC ready to serve: its state and, optionally, its TLS.
#[derive(Clone)]
pub struct Station {
    state: Arc<State>,
    tls: Option<Arc<TlsServer>>,
}

struct State {
    config: SampleEc,
    contract: Contract,
    services: data::ServiceSchemas,
    counter: AtomicU64,
    control: Control,
}

impl Station {
    /// Compiles the schemas; with `tls`, loads the certificate, key and client CA (required
    /// client certificates when `client_ca_file` is set).
    pub fn new(
        config: SampleEc,
        control: Control,
        tls: Option<&ServerTls>,
    ) -> Result<Self, StartError> {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() % 1_000_000)
            .unwrap_or(0);
        Ok(Self {
            state: Arc::new(State {
                config,
                contract: Contract::load()?,
                services: data::ServiceSchemas::bundled()?,
                counter: AtomicU64::new(seed * 1_000_000),
                control,
            }),
            tls: tls.map(TlsServer::load).transpose()?.map(Arc::new),
        })
    }

    /// Serves on `listener` until the task is dropped.
    pub async fn serve(self, listener: TcpListener) -> std::io::Result<()> {
        loop {
            let (tcp, _) = listener.accept().await?;
            let me = self.clone();
            tokio::spawn(async move { wire::connection(me, tcp).await });
        }
    }
}

/// Binds `listen` and serves plain HTTP until the task is dropped.
pub async fn run(listen: SocketAddr, config: SampleEc) -> std::io::Result<()> {
    let listener = TcpListener::bind(listen).await?;
    serve(listener, config).await
}

/// Serves plain HTTP on an already bound listener, with a control state nobody reaches.
pub async fn serve(listener: TcpListener, config: SampleEc) -> std::io::Result<()> {
    Station::new(config, Control::default(), None)
        .map_err(std::io::Error::other)?
        .serve(listener)
        .await
}

/// What the request says about itself, as far as it can be read.
struct Parsed {
    primitive: Primitive,
    station: Option<String>,
    operation: Option<String>,
    id_pa: String,
    service: String,
    data: String,
    envelope: Result<Envelope, String>,
}

fn parse(body: &[u8]) -> Parsed {
    let mut p = Parsed {
        primitive: Primitive::Sanp3,
        station: None,
        operation: None,
        id_pa: "-".into(),
        service: String::new(),
        data: String::new(),
        envelope: Err(String::new()),
    };
    let env = match soap::tree::parse(body, &Limits::default()) {
        Ok(root) => Envelope::new(root),
        Err(e) => {
            p.envelope = Err(e.to_string());
            return p;
        }
    };
    p.operation = env.first_payload_name().map(str::to_owned);
    if p.operation.as_deref() == Some("paaChiediNumeroAvviso") {
        p.primitive = Primitive::Legacy;
        let head = env.header().and_then(|h| {
            h.children
                .iter()
                .find(|c| c.is(PPTHEAD_NS, "intestazionePPT"))
        });
        let text = |f: &str| head.and_then(|h| h.child_text(f)).map(str::to_owned);
        p.station = text("identificativoStazioneIntermediarioPA");
        p.id_pa = text("identificativoDominio").unwrap_or_else(|| "-".into());
        p.envelope = match env.payload(PPT_NS, "paaChiediNumeroAvviso") {
            Ok(payload) => {
                p.data = data::decode(payload.child_text("datiSpecificiServizio"));
                Ok(env)
            }
            Err(e) => Err(e.to_string()),
        };
    } else {
        p.envelope = match env.payload(PA_FOR_NODE_NS, "paDemandPaymentNoticeRequest") {
            Ok(payload) => {
                let text = |f: &str| payload.child_text(f).map(str::to_owned);
                p.station = text("idStation");
                p.id_pa = text("idPA").unwrap_or_else(|| "-".into());
                p.service = text("idServizio").unwrap_or_default();
                p.data = data::decode(payload.child_text("datiSpecificiServizioRequest"));
                Ok(env)
            }
            Err(e) => Err(e.to_string()),
        };
    }
    p
}

/// How a request is answered, and the label the history shows.
enum Decision {
    Planned(Answer, String),
    Document(String, String),
}

impl State {
    fn decide(&self, body: &[u8], p: &Parsed) -> Decision {
        if let Some(a) = self.control.next(p.station.as_deref()) {
            let label = format!("queue:{}", kind_name(&a));
            return Decision::Planned(a, label);
        }
        let ko = |detail: &str| {
            Decision::Document(
                answer::syntax_ko(p.primitive, &p.id_pa, detail),
                "validation_ko".into(),
            )
        };
        if let Err(e) = &p.envelope {
            return ko(e);
        }
        let schema = match p.primitive {
            Primitive::Sanp3 => &self.contract.pa_for_node,
            Primitive::Legacy => &self.contract.legacy_pa,
        };
        if let Err(e) = schema.validate(body) {
            return ko(&e.to_string());
        }
        if let Some(s) = scenario::find(&p.data) {
            return Decision::Planned(s.answer(), format!("scenario:{}", s.name));
        }
        if let Err(e) = self.services.validate(&p.data) {
            return ko(&e);
        }
        Decision::Planned(Answer::of(answer::Kind::Ok), "ok".into())
    }

    fn fresh_notice(&self) -> String {
        notice_number(
            self.config.segregation_code,
            self.counter.fetch_add(1, Ordering::Relaxed),
        )
    }
}

fn kind_name(a: &Answer) -> String {
    serde_json::to_value(a.kind())
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Answers one request; `Err(reset)` closes the connection without an answer, with a TCP reset
/// when `reset` is true.
async fn answer(station: &Station, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, bool> {
    let state = &station.state;
    let (head, body) = req.into_parts();
    let body = match Limited::new(body, MAX_REQUEST_BYTES).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return Ok(xml(StatusCode::PAYLOAD_TOO_LARGE, String::new())),
    };
    let parsed = parse(&body);
    let decision = state.decide(&body, &parsed);
    let label = match &decision {
        Decision::Planned(_, l) | Decision::Document(_, l) => l.clone(),
    };
    state.control.record(control::Record {
        seq: 0,
        at_ms: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0),
        method: head.method.to_string(),
        path: head.uri.path().to_owned(),
        station: parsed.station.clone(),
        operation: parsed.operation.clone(),
        headers: head
            .headers
            .iter()
            .map(|(k, v)| (k.to_string(), String::from_utf8_lossy(v.as_bytes()).into()))
            .collect(),
        body: String::from_utf8_lossy(&body[..body.len().min(control::MAX_RECORDED_BODY)])
            .into_owned(),
        body_truncated: body.len() > control::MAX_RECORDED_BODY,
        answered: label,
    });
    let planned = match decision {
        Decision::Document(doc, _) => return Ok(xml(StatusCode::OK, doc)),
        Decision::Planned(a, _) => a,
    };
    let cx = Context {
        primitive: parsed.primitive,
        id_pa: parsed.id_pa,
        service: parsed.service,
        data: parsed.data,
        company_name: state.config.company_name.clone(),
        fresh_notice: state.fresh_notice(),
    };
    let reply = answer::render(&planned, &cx);
    if planned.kind() != answer::Kind::NoAnswer && planned.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(planned.delay_ms)).await;
    }
    match reply {
        Reply::Respond { status, body } => Ok(xml(
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            body,
        )),
        Reply::Reset => Err(true),
        Reply::Hold(d) => {
            tokio::time::sleep(d).await;
            Err(false)
        }
    }
}

/// `3` + segregation code (2) + IUV base (13) + check digit (2): the pagoPA notice number for
/// aux digit 3, the check digit being `(3 · segregation · base) mod 93`.
pub fn notice_number(segregation_code: u8, sequence: u64) -> String {
    let base = sequence % 10_000_000_000_000;
    let prefix = format!("3{:02}{:013}", segregation_code % 100, base);
    let check = prefix
        .bytes()
        .fold(0u64, |acc, b| (acc * 10 + u64::from(b - b'0')) % 93);
    format!("{prefix}{check:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notice_numbers_have_eighteen_digits_and_a_mod_93_check() {
        let n = notice_number(1, 42);
        assert_eq!(n.len(), 18);
        assert!(n.starts_with("301"));
        let (prefix, check) = n.split_at(16);
        let value: u128 = prefix.parse().expect("digits");
        assert_eq!(format!("{:02}", value % 93), check);
    }
}
