//! Functional checks: the gateway's own request to the station, its answer judged by the
//! gateway's own rules, the PSP response that would follow, invalid service data, and latency.

use std::time::{Duration, Instant};

use base64::Engine as _;

use super::report::{ms, Check, Verdict};
use crate::error::Failure;
use crate::respond::{self, fault_bean};
use crate::upstream::exchange::{exchange_to, CallContext, Delivered, Target};
use crate::upstream::{pa_chiedi, pa_demand, AnswerDefect, FailureKind, TlsFailure, UpstreamError};
use crate::upstream::{EcAnswer, LegacyAnswer};
use crate::xsd::Invalid;

const G: &str = "functional";

/// The SLA: 98% of the answers within this.
pub const SLA: Duration = Duration::from_secs(2);

/// Which primitive a service is called with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Primitive {
    /// `paDemandPaymentNotice` (version-2 services).
    PaDemand,
    /// `paaChiediNumeroAvviso` (version-1 services, legacy stations).
    Legacy,
}

impl Primitive {
    pub fn soap_action(self) -> &'static str {
        match self {
            Primitive::PaDemand => pa_demand::SOAP_ACTION,
            Primitive::Legacy => pa_chiedi::SOAP_ACTION,
        }
    }
}

/// The identifiers a request carries (owned, from the registry or the command line).
#[derive(Debug, Clone)]
pub struct Ids {
    pub id_pa: String,
    pub id_broker_pa: String,
    pub id_station: String,
    pub id_servizio: String,
    pub id_soggetto_servizio: String,
    /// `identificativoPSP` of legacy requests.
    pub psp: String,
}

/// One service to exercise.
#[derive(Debug, Clone)]
pub struct ServiceCall {
    /// Names the checks (`00001.answer`): the service id, or `custom`.
    pub label: String,
    pub primitive: Primitive,
    pub ids: Ids,
    /// `datiSpecificiServizio`, XML, valid for the service's schema.
    pub data: String,
    /// Where `data` came from, for the report.
    pub data_source: String,
    /// Data invalid for the schema, when a schema is known.
    pub invalid: Option<String>,
}

impl ServiceCall {
    /// The SOAP request for `data` (XML), base64-encoded into the request as the Node does.
    pub fn request(&self, data: &str) -> String {
        let b64 = base64::engine::general_purpose::STANDARD.encode(data.as_bytes());
        let i = &self.ids;
        match self.primitive {
            Primitive::PaDemand => pa_demand::request_xml_for(
                &pa_demand::DemandIds {
                    id_pa: &i.id_pa,
                    id_broker_pa: &i.id_broker_pa,
                    id_station: &i.id_station,
                    id_servizio: &i.id_servizio,
                    id_soggetto_servizio: &i.id_soggetto_servizio,
                },
                &b64,
            ),
            Primitive::Legacy => pa_chiedi::request_xml_for(
                &pa_chiedi::LegacyIds {
                    broker: &i.id_broker_pa,
                    station: &i.id_station,
                    domain: &i.id_pa,
                    psp: &i.psp,
                },
                &b64,
            ),
        }
    }
}

/// How a station call ended, judged as the gateway judges it.
enum Judged {
    Ok(String),
    Ko(crate::upstream::EcFault),
}

/// Sends one request and judges the answer; returns the elapsed time and the outcome.
async fn call(
    ctx: &CallContext<'_>,
    target: &Target<'_>,
    station: &str,
    c: &ServiceCall,
    data: &str,
) -> (Duration, Result<(Delivered, Judged), UpstreamError>) {
    let started = Instant::now();
    let delivered = exchange_to(
        ctx,
        target,
        station,
        c.primitive.soap_action(),
        c.request(data),
    )
    .await;
    let took = started.elapsed();
    let judged = delivered.and_then(|d| {
        let j = match c.primitive {
            Primitive::PaDemand => {
                pa_demand::judge(&d.envelope, || ctx.contract.pa_for_node.validate(&d.raw)).map(
                    |a| match a {
                        EcAnswer::Ok(n) => Judged::Ok(respond::demand::ok(&n)),
                        EcAnswer::Ko(f) => Judged::Ko(f),
                    },
                )
            }
            Primitive::Legacy => pa_chiedi::judge(&d.envelope, &d.raw, &ctx.contract.legacy_pa)
                .map(|a| match a {
                    LegacyAnswer::Ok(n) => {
                        Judged::Ok(respond::legacy::numero_avviso_ok(&c.ids.id_pa, &n))
                    }
                    LegacyAnswer::Ko(f) => Judged::Ko(f),
                }),
        };
        j.map(|j| (d, j)).map_err(UpstreamError::BadAnswer)
    });
    (took, judged)
}

/// The PSP response the gateway would write for a failure.
fn psp_ko(c: &ServiceCall, failure: &Failure) -> String {
    let bean = fault_bean(failure, false);
    let fault = format!("{} ({})", bean.code.code(), bean.description);
    let doc = match c.primitive {
        Primitive::PaDemand => respond::demand::ko(&bean),
        Primitive::Legacy => respond::legacy::numero_avviso_ko(&bean),
    };
    format!("{fault}\n{doc}")
}

/// Runs the functional checks of one service: a valid request (repeated `repeat` times for
/// latency), then invalid data when a schema is known.
pub async fn run(
    ctx: &CallContext<'_>,
    target: &Target<'_>,
    station: &str,
    c: &ServiceCall,
    repeat: usize,
    checks: &mut Vec<Check>,
) {
    let l = &c.label;
    let (took, outcome) = call(ctx, target, station, c, &c.data).await;
    let action = c.primitive.soap_action();
    // HTTP: status and content type.
    checks.push(http_check(l, &outcome));
    checks.push(answer_check(c, station, &outcome).took(took));
    checks.push(deadline_check(l, target.timeout, took, &outcome));
    // Latency over repeats.
    if repeat > 1 {
        let mut times = vec![took];
        for _ in 1..repeat {
            let (t, _) = call(ctx, target, station, c, &c.data).await;
            times.push(t);
        }
        checks.push(latency_check(l, target.timeout, &mut times));
    }
    if let Some(bad) = &c.invalid {
        let (took, outcome) = call(ctx, target, station, c, bad).await;
        let name = format!("{l}.invalid_data");
        let check = match outcome {
            Ok((_, Judged::Ko(f))) => Check::pass(
                G,
                name,
                format!("data invalid for the schema answered with a well-formed KO ({}: {})", f.code, f.string),
            ),
            Ok((_, Judged::Ok(_))) => Check::new(G, name, Verdict::Warn)
                .msg("data invalid for the service's schema were accepted (outcome OK): a debt position was created from them")
                .fix("validate datiSpecificiServizio against the service's XSD and answer outcome KO with a fault (e.g. PAA_SINTASSI_XSD)"),
            Err(e) => Check::fail(
                G,
                name,
                format!("data invalid for the schema answered with {e} rather than a well-formed KO"),
                format!("answer invalid service data with a {action} response, outcome KO and a fault bean, in HTTP 200"),
            ),
        };
        checks.push(check.took(took));
    }
}

fn http_check(l: &str, outcome: &Result<(Delivered, Judged), UpstreamError>) -> Check {
    let name = format!("{l}.http");
    match outcome {
        Ok((d, _)) => http_of(&name, d.status, d.content_type.as_deref()),
        Err(UpstreamError::BadAnswer(_)) => Check::pass(G, name, "HTTP 2xx"),
        Err(UpstreamError::HttpStatus(s)) => Check::fail(
            G,
            name,
            format!("HTTP status {s}"),
            "answer HTTP 200 with the response element; a refusal is outcome KO with a fault, still HTTP 200 (the Node maps any other status to PPT_STAZIONE_INT_PA_IRRAGGIUNGIBILE)",
        ),
        Err(UpstreamError::Unreachable { failure, .. }) => {
            let (m, fix) = match failure.kind {
                FailureKind::Reset => ("the station reset the connection before answering", "look at the station's logs: it drops the request instead of answering"),
                FailureKind::Closed => ("the station closed the connection before a whole answer", "send a complete HTTP response (Content-Length or chunked) and keep the connection open until then"),
                FailureKind::Tls(TlsFailure::ClientCertificateRefused) => ("the station refused the gateway's client certificate", "trust the CA of the gateway's client certificate on the station"),
                FailureKind::Tls(_) => ("the TLS handshake failed", "see the connectivity TLS checks"),
                _ => ("no HTTP answer", "check the connectivity checks"),
            };
            Check::fail(G, name, format!("{m}: {failure}"), fix)
        }
        Err(UpstreamError::Timeout(_)) => Check::new(G, name, Verdict::Skip).msg("no answer (see deadline)"),
        Err(UpstreamError::SoapFault { .. }) => {
            Check::new(G, name, Verdict::Skip).msg("a SOAP Fault came back (see answer)")
        }
        Err(e) => Check::fail(G, name, e.to_string(), "check the station's HTTP answer"),
    }
}

fn http_of(name: &str, status: u16, content_type: Option<&str>) -> Check {
    let ct = content_type.unwrap_or("(none)");
    let text_xml = content_type.is_some_and(|t| {
        t.split(';')
            .next()
            .is_some_and(|m| m.trim().eq_ignore_ascii_case("text/xml"))
    });
    if text_xml {
        Check::pass(G, name, format!("HTTP {status}, Content-Type {ct}"))
    } else {
        Check::new(G, name, Verdict::Warn)
            .msg(format!("HTTP {status}, Content-Type {ct}"))
            .fix("SOAP 1.1 answers are text/xml; charset=UTF-8")
    }
}

fn answer_check(
    c: &ServiceCall,
    station: &str,
    outcome: &Result<(Delivered, Judged), UpstreamError>,
) -> Check {
    let name = format!("{}.answer", c.label);
    let failure = |error: &UpstreamError| Failure::Upstream {
        station: station.to_owned(),
        error: error.clone(),
    };
    let sent = format!("{} ({})", c.primitive.soap_action(), c.data_source);
    match outcome {
        Ok((_, Judged::Ok(psp))) => Check::pass(G, name, format!("outcome OK to {sent}, valid by the Node's rules"))
            .with("PSP response", psp.clone()),
        Ok((_, Judged::Ko(f))) => {
            let ec = Failure::Ec {
                ec_domain: c.ids.id_pa.clone(),
                fault: f.clone(),
            };
            Check::new(G, name, Verdict::Warn)
                .msg(format!("outcome KO to schema-valid data ({sent}): no debt position"))
                .fix("if the data were acceptable, the station should create the position; send real data with --data FILE")
                .with(
                    "EC fault",
                    format!("{}: {} [{}] {}", f.code, f.string, f.id, f.description.as_deref().unwrap_or("")),
                )
                .with("PSP response", psp_ko(c, &ec))
        }
        Err(e @ UpstreamError::BadAnswer(defect)) => {
            let mut check = Check::fail(
                G,
                name,
                format!("the gateway refuses this answer: {}", defect),
                defect_fix(defect, c.primitive.soap_action()),
            );
            for (path, rule) in violations(defect, c.primitive) {
                check = check.with(format!("rule violated at {path}"), rule);
            }
            check.with("PSP response", psp_ko(c, &failure(e)))
        }
        Err(e @ UpstreamError::SoapFault { code, string }) => Check::fail(
            G,
            name,
            format!("SOAP Fault {code}: {string}"),
            format!("answer with a {}Response (or paaChiediNumeroAvvisoRisposta), outcome KO and a fault bean, not a SOAP Fault", c.primitive.soap_action()),
        )
        .with("PSP response", psp_ko(c, &failure(e))),
        Err(e @ UpstreamError::TooLarge(_)) => Check::fail(G, name, e.to_string(), "answer with one notice, not a large document")
            .with("PSP response", psp_ko(c, &failure(e))),
        Err(e) => Check::new(G, name, Verdict::Skip)
            .msg("no answer to judge")
            .with("PSP response", psp_ko(c, &failure(e))),
    }
}

/// Each violated rule as (element path, what is wrong and with which value).
fn violations(d: &AnswerDefect, p: Primitive) -> Vec<(String, String)> {
    let payload = match p {
        Primitive::PaDemand => "Envelope/Body/paDemandPaymentNoticeResponse",
        Primitive::Legacy => {
            "Envelope/Body/paaChiediNumeroAvvisoRisposta/paaChiediNumeroAvvisoRisposta"
        }
    };
    match d {
        AnswerDefect::Schema(Invalid::Violations(v)) => v
            .iter()
            .map(|i| {
                (
                    i.path.clone().unwrap_or_else(|| format!("line {}", i.line)),
                    i.message.trim().to_owned(),
                )
            })
            .collect(),
        AnswerDefect::Schema(Invalid::NotWellFormed(i)) => {
            vec![(format!("line {}", i.line), i.message.trim().to_owned())]
        }
        AnswerDefect::OkMissing(field) => vec![(
            format!("{payload}/{field}"),
            "required when outcome is OK: absent".into(),
        )],
        AnswerDefect::UnknownOutcome(o) => vec![(
            format!("{payload}/outcome"),
            format!("value {o:?}: must be OK or KO"),
        )],
        AnswerDefect::OkWithFault => vec![(
            format!("{payload}/fault"),
            "present although outcome is OK".into(),
        )],
        AnswerDefect::KoWithoutFault => vec![(
            format!("{payload}/fault"),
            "absent although outcome is KO".into(),
        )],
        AnswerDefect::Shape(s) => vec![("Envelope/Body/*".into(), s.to_string())],
        AnswerDefect::NotXml(x) => vec![("(document)".into(), x.to_string())],
        AnswerDefect::Charset(c) => vec![("(document)".into(), c.to_string())],
    }
}

fn defect_fix(d: &AnswerDefect, action: &str) -> String {
    match d {
        AnswerDefect::Shape(_) => format!("answer a {action} response element in its own namespace (paForNode.xsd / PaPerNodoRichiestaAvvisi.wsdl), the only child of the SOAP 1.1 Body"),
        AnswerDefect::Schema(_) => "make the answer valid against the Node's schema at the paths listed".into(),
        AnswerDefect::OkMissing(f) => format!("an OK answer must carry {f}"),
        _ => "answer outcome OK without a fault, or outcome KO with one".into(),
    }
}

fn deadline_check(
    l: &str,
    deadline: Duration,
    took: Duration,
    outcome: &Result<(Delivered, Judged), UpstreamError>,
) -> Check {
    let name = format!("{l}.deadline");
    match outcome {
        Err(UpstreamError::Timeout(t)) => Check::fail(
            G,
            name,
            format!("no complete answer within the {} deadline", ms(*t)),
            "answer within the deadline (the Node gives up at 7 s: PPT_STAZIONE_INT_PA_TIMEOUT)",
        )
        .took(took),
        _ if took > SLA => Check::new(G, name, Verdict::Warn)
            .msg(format!(
                "answered in {}: within the {} deadline, over the {} SLA",
                ms(took),
                ms(deadline),
                ms(SLA)
            ))
            .fix("98% of the answers must come within 2 s")
            .took(took),
        _ => Check::pass(
            G,
            name,
            format!("answered in {} (deadline {})", ms(took), ms(deadline)),
        )
        .took(took),
    }
}

fn latency_check(l: &str, deadline: Duration, times: &mut [Duration]) -> Check {
    times.sort();
    let pct = |p: f64| times[((times.len() as f64 * p).ceil() as usize).clamp(1, times.len()) - 1];
    let (p50, p99) = (pct(0.50), pct(0.99));
    let within = times.iter().filter(|t| **t <= SLA).count();
    let share = within as f64 * 100.0 / times.len() as f64;
    let late = times.iter().filter(|t| **t >= deadline).count();
    let msg = format!(
        "{} calls: p50 {}, p99 {}, {share:.1}% within {} (SLA 98%), {late} at the deadline",
        times.len(),
        ms(p50),
        ms(p99),
        ms(SLA)
    );
    let name = format!("{l}.latency_sla");
    if share >= 98.0 && late == 0 {
        Check::pass(G, name, msg)
    } else {
        Check::fail(
            G,
            name,
            msg,
            "answer 98% of the requests within 2 s and all within the deadline",
        )
    }
}
