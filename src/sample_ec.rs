//! A sample EC station answering `paDemandPaymentNotice` and the legacy `paaChiediNumeroAvviso`,
//! for the demo and for trying the gateway end to end.
//!
//! It validates each request against its schema, creates a debt position with a fresh notice
//! number (aux digit 3, check digit mod 93), and answers KO when the service data contain the
//! plate `XX000XX`, so both outcomes can be tried.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use base64::Engine as _;
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

use crate::message::{PA_FOR_NODE_NS, PPTHEAD_NS, PPT_NS};
use crate::soap::write::XmlOut;
use crate::soap::{self, Element, Envelope, Limits};
use crate::transport::http::xml;
use crate::xsd::Contract;

/// The service data that make the sample EC refuse the demand.
pub const KO_MARKER: &str = "XX000XX";

/// The account the sample EC credits in legacy answers.
pub const SAMPLE_IBAN: &str = "IT60X0542811101000000123456";

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

struct State {
    config: SampleEc,
    contract: Contract,
    counter: AtomicU64,
}

/// Binds `listen` and serves until the task is dropped.
pub async fn run(listen: SocketAddr, config: SampleEc) -> std::io::Result<()> {
    let listener = TcpListener::bind(listen).await?;
    serve(listener, config).await
}

/// Serves on an already bound listener.
pub async fn serve(listener: TcpListener, config: SampleEc) -> std::io::Result<()> {
    let contract = Contract::load().map_err(std::io::Error::other)?;
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() % 1_000_000)
        .unwrap_or(0);
    let state = Arc::new(State {
        config,
        contract,
        counter: AtomicU64::new(seed * 1_000_000),
    });
    loop {
        let (tcp, _) = listener.accept().await?;
        let state = state.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let state = state.clone();
                async move { Ok::<_, std::convert::Infallible>(answer(&state, req).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .serve_connection(TokioIo::new(tcp), service)
                .await;
        });
    }
}

async fn answer(state: &State, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let body = match Limited::new(req.into_body(), 1024 * 1024).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return xml(StatusCode::PAYLOAD_TOO_LARGE, String::new()),
    };
    let env = match soap::tree::parse(&body, &Limits::default()) {
        Ok(root) => Envelope::new(root),
        Err(e) => {
            return xml(
                StatusCode::OK,
                syntax_ko(Primitive::Sanp3, "-", &e.to_string()),
            )
        }
    };
    let answer = match env.first_payload_name() {
        Some("paaChiediNumeroAvviso") => legacy(state, &env, &body),
        _ => demand(state, &env, &body),
    };
    xml(StatusCode::OK, answer)
}

#[derive(Debug, Clone, Copy)]
enum Primitive {
    Sanp3,
    Legacy,
}

/// Decodes the base64 service data (for the KO marker and the amount).
fn service_data(payload: &Element, field: &str) -> String {
    payload
        .child_text(field)
        .map(|b| {
            b.chars()
                .filter(|c| !c.is_ascii_whitespace())
                .collect::<String>()
        })
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .map(|d| String::from_utf8_lossy(&d).into_owned())
        .unwrap_or_default()
}

/// A deterministic amount per request content, in cents, kept as decimal text.
fn amount(data: &str) -> String {
    let cents = 5_000 + data.bytes().map(u64::from).sum::<u64>() % 20_000;
    format!("{}.{:02}", cents / 100, cents % 100)
}

fn refused(p: Primitive, id_pa: &str) -> String {
    ko(
        p,
        "PAA_SEMANTICA",
        "Errore semantico",
        id_pa,
        "Posizione debitoria non creabile per i dati indicati",
    )
}

fn demand(state: &State, env: &Envelope, body: &[u8]) -> String {
    let p = Primitive::Sanp3;
    let payload = match env.payload(PA_FOR_NODE_NS, "paDemandPaymentNoticeRequest") {
        Ok(payload) => payload,
        Err(e) => return syntax_ko(p, "-", &e.to_string()),
    };
    let id_pa = payload.child_text("idPA").unwrap_or("-").to_owned();
    if let Err(e) = state.contract.pa_for_node.validate(body) {
        return syntax_ko(p, &id_pa, &e.to_string());
    }
    let data = service_data(payload, "datiSpecificiServizioRequest");
    if data.contains(KO_MARKER) {
        return refused(p, &id_pa);
    }
    let service = payload.child_text("idServizio").unwrap_or("").to_owned();
    let notice = notice_number(
        state.config.segregation_code,
        state.counter.fetch_add(1, Ordering::Relaxed),
    );
    let description = match service.as_str() {
        // The demo registry's services (fixtures/demo/registry.json), one per official schema.
        "00001" => "Tassa automobilistica".to_owned(),
        "A0001" => "Passaporto".to_owned(),
        "D0847" => "Licenza di pesca".to_owned(),
        "C0001" => "Carta d'identità elettronica".to_owned(),
        "C0002" => "Prestazioni sanitarie (CUP)".to_owned(),
        other => format!("Pagamento servizio {other}"),
    };
    let mut w = XmlOut::with_capacity(1024);
    w.raw("<pafn:paDemandPaymentNoticeResponse xmlns:pafn=\"")
        .raw(PA_FOR_NODE_NS)
        .raw("\">")
        .leaf("outcome", "OK")
        .open("qrCode")
        .leaf("fiscalCode", &id_pa)
        .leaf("noticeNumber", &notice)
        .close("qrCode")
        .open("paymentList")
        .open("paymentOptionDescription")
        .leaf("amount", &amount(&data))
        .leaf("options", "EQ")
        .leaf("detailDescription", &description)
        .leaf("allCCP", "false")
        .close("paymentOptionDescription")
        .close("paymentList")
        .leaf("paymentDescription", &description)
        .leaf("fiscalCodePA", &id_pa)
        .leaf("companyName", &state.config.company_name)
        .raw("</pafn:paDemandPaymentNoticeResponse>");
    soap::envelope::wrap(&w.finish())
}

fn legacy(state: &State, env: &Envelope, body: &[u8]) -> String {
    let p = Primitive::Legacy;
    let id_pa = env
        .header()
        .and_then(|h| {
            h.children
                .iter()
                .find(|c| c.is(PPTHEAD_NS, "intestazionePPT"))
        })
        .and_then(|h| h.child_text("identificativoDominio"))
        .unwrap_or("-")
        .to_owned();
    let payload = match env.payload(PPT_NS, "paaChiediNumeroAvviso") {
        Ok(payload) => payload,
        Err(e) => return syntax_ko(p, &id_pa, &e.to_string()),
    };
    if let Err(e) = state.contract.legacy_pa.validate(body) {
        return syntax_ko(p, &id_pa, &e.to_string());
    }
    let data = service_data(payload, "datiSpecificiServizio");
    if data.contains(KO_MARKER) {
        return refused(p, &id_pa);
    }
    let notice = notice_number(
        state.config.segregation_code,
        state.counter.fetch_add(1, Ordering::Relaxed),
    );
    let mut w = XmlOut::with_capacity(1024);
    w.raw("<ppt:paaChiediNumeroAvvisoRisposta xmlns:ppt=\"")
        .raw(PPT_NS)
        .raw("\"><paaChiediNumeroAvvisoRisposta>")
        .leaf("esito", "OK")
        .open("numeroAvviso")
        .leaf("auxDigit", &notice[..1])
        .leaf("IUV", &notice[1..])
        .close("numeroAvviso")
        .open("datiPagamentoPA")
        .leaf("importoSingoloVersamento", &amount(&data))
        .leaf("ibanAccredito", SAMPLE_IBAN)
        .leaf("causaleVersamento", "Pagamento servizio (richiesta avvisi)")
        .close("datiPagamentoPA")
        .raw("</paaChiediNumeroAvvisoRisposta></ppt:paaChiediNumeroAvvisoRisposta>");
    soap::envelope::wrap(&w.finish())
}

/// The EC's syntax KO (PAA_SINTASSI_XSD) with `detail` as its description.
fn syntax_ko(p: Primitive, id: &str, detail: &str) -> String {
    ko(p, "PAA_SINTASSI_XSD", "Errore di sintassi XSD.", id, detail)
}

fn ko(p: Primitive, code: &str, string: &str, id: &str, description: &str) -> String {
    let mut fault = XmlOut::with_capacity(256);
    fault
        .open("fault")
        .leaf("faultCode", code)
        .leaf("faultString", string)
        .leaf("id", id)
        .leaf("description", description)
        .close("fault");
    let fault = fault.finish();
    let mut w = XmlOut::with_capacity(512);
    match p {
        Primitive::Sanp3 => w
            .raw("<pafn:paDemandPaymentNoticeResponse xmlns:pafn=\"")
            .raw(PA_FOR_NODE_NS)
            .raw("\">")
            .leaf("outcome", "KO")
            .raw(&fault)
            .raw("</pafn:paDemandPaymentNoticeResponse>"),
        // Legacy answers carry the fault before `esito`.
        Primitive::Legacy => w
            .raw("<ppt:paaChiediNumeroAvvisoRisposta xmlns:ppt=\"")
            .raw(PPT_NS)
            .raw("\"><paaChiediNumeroAvvisoRisposta>")
            .raw(&fault)
            .leaf("esito", "KO")
            .raw("</paaChiediNumeroAvvisoRisposta></ppt:paaChiediNumeroAvvisoRisposta>"),
    };
    soap::envelope::wrap(&w.finish())
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
