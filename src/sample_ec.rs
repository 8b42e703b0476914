//! A sample EC station answering `paDemandPaymentNotice`, for the demo and for trying the gateway end to end.
//!
//! It validates each request against paForNode, creates a debt position with a fresh notice
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

use crate::message::PA_FOR_NODE_NS;
use crate::soap::write::XmlOut;
use crate::soap::{self, Envelope, Limits};
use crate::transport::http::xml;
use crate::xsd::{Contract, Schema};

/// The service data that make the sample EC refuse the demand.
pub const KO_MARKER: &str = "XX000XX";

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
    schema: Schema,
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
        schema: contract.pa_for_node,
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
    let outcome = demand(state, &body);
    xml(StatusCode::OK, outcome)
}

fn demand(state: &State, body: &[u8]) -> String {
    let syntax_ko = |id: &str, e: &dyn std::fmt::Display| {
        ko(
            "PAA_SINTASSI_XSD",
            "Errore di sintassi XSD.",
            id,
            &e.to_string(),
        )
    };
    let env = match soap::tree::parse(body, &Limits::default()) {
        Ok(root) => Envelope::new(root),
        Err(e) => return syntax_ko("-", &e),
    };
    let payload = match env.payload(PA_FOR_NODE_NS, "paDemandPaymentNoticeRequest") {
        Ok(p) => p,
        Err(e) => return syntax_ko("-", &e),
    };
    let id_pa = payload.child_text("idPA").unwrap_or("-").to_owned();
    if let Err(e) = state.schema.validate(body) {
        return syntax_ko(&id_pa, &e);
    }
    let data = payload
        .child_text("datiSpecificiServizioRequest")
        .map(|b| {
            b.chars()
                .filter(|c| !c.is_ascii_whitespace())
                .collect::<String>()
        })
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .map(|d| String::from_utf8_lossy(&d).into_owned())
        .unwrap_or_default();
    if data.contains(KO_MARKER) {
        return ko(
            "PAA_SEMANTICA",
            "Errore semantico",
            &id_pa,
            "Posizione debitoria non creabile per i dati indicati",
        );
    }
    let service = payload.child_text("idServizio").unwrap_or("").to_owned();
    let n = state.counter.fetch_add(1, Ordering::Relaxed);
    let notice = notice_number(state.config.segregation_code, n);
    // A deterministic amount per request content, in cents, kept as decimal text.
    let cents = 5_000 + data.bytes().map(u64::from).sum::<u64>() % 20_000;
    let amount = format!("{}.{:02}", cents / 100, cents % 100);
    let description = match service.as_str() {
        "00001" => "Tassa automobilistica".to_owned(),
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
        .leaf("amount", &amount)
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

fn ko(code: &str, string: &str, id: &str, description: &str) -> String {
    let mut w = XmlOut::with_capacity(512);
    w.raw("<pafn:paDemandPaymentNoticeResponse xmlns:pafn=\"")
        .raw(PA_FOR_NODE_NS)
        .raw("\">")
        .leaf("outcome", "KO")
        .open("fault")
        .leaf("faultCode", code)
        .leaf("faultString", string)
        .leaf("id", id)
        .leaf("description", description)
        .close("fault")
        .raw("</pafn:paDemandPaymentNoticeResponse>");
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
