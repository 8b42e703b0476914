//! What the sample EC answers: the answer a tester asks for (JSON in the control API), checked,
//! and rendered into bytes for `paDemandPaymentNotice` or `paaChiediNumeroAvviso`.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::message::{PA_FOR_NODE_NS, PPT_NS};
use crate::soap;
use crate::soap::write::XmlOut;

/// The account the sample EC credits in legacy answers.
pub const SAMPLE_IBAN: &str = "IT60X0542811101000000123456";

/// The longest delay or hold a tester may ask for.
pub const MAX_DELAY_MS: u64 = 120_000;

/// How long `no_answer` holds the connection when no `delay_ms` is given.
pub const DEFAULT_HOLD_MS: u64 = 30_000;

/// The largest raw body an `http_status` answer may carry.
pub const MAX_RAW_BODY: usize = 64 * 1024;

/// The kinds of answer, as named in the control API's `kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A debt position: `outcome` OK (legacy: `esito` OK).
    Ok,
    /// The EC's own KO with a fault bean.
    Ko,
    /// This HTTP status, with `body` (default: empty) as `text/xml`.
    HttpStatus,
    /// HTTP 500 with a SOAP 1.1 Fault.
    SoapFault,
    /// HTTP 200 with a body that is not well-formed XML.
    Malformed,
    /// HTTP 200 with the first half of an OK answer.
    Truncated,
    /// HTTP 200 with an OK answer whose payload is in a foreign namespace.
    WrongNamespace,
    /// Reads the request and resets the TCP connection (RST), no answer.
    Reset,
    /// Holds the connection `delay_ms` (default 30 s), then closes it without answering.
    NoAnswer,
}

/// One answer: its kind, an optional delay before it, and the fields its kind uses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    pub kind: Option<Kind>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub delay_ms: u64,
    /// `ok`: the 18-digit notice number (default: a fresh one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice_number: Option<String>,
    /// `ok`: the amount as decimal text, e.g. `12.50` (default: derived from the service data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<String>,
    /// `ok`: the payment description; `ko`: the fault's description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `ok`: the due date, `YYYY-MM-DD` (SANP 3 only; the legacy answer has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_date: Option<String>,
    /// `ko`: the fault code (default `PAA_SEMANTICA`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault_code: Option<String>,
    /// `ko`: the fault string (default `Errore semantico`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault_string: Option<String>,
    /// `http_status`: the status (100–599).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// `http_status`: the body sent with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Answer {
    pub fn of(kind: Kind) -> Self {
        Self {
            kind: Some(kind),
            ..Self::default()
        }
    }

    pub fn kind(&self) -> Kind {
        self.kind.unwrap_or(Kind::Ok)
    }

    /// Refuses what the sample EC could not send as asked, with the reason.
    pub fn check(&self) -> Result<(), String> {
        let kind = self.kind.ok_or("`kind` is required")?;
        if self.delay_ms > MAX_DELAY_MS {
            return Err(format!("delay_ms {} is over {MAX_DELAY_MS}", self.delay_ms));
        }
        let text_fields = [
            ("description", &self.description, 140),
            ("fault_code", &self.fault_code, 35),
            ("fault_string", &self.fault_string, 140),
        ];
        for (name, value, max) in text_fields {
            if value.as_ref().is_some_and(|v| v.chars().count() > max) {
                return Err(format!("{name} is longer than {max} characters"));
            }
        }
        if let Some(n) = &self.notice_number {
            if n.len() != 18 || !n.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("notice_number {n:?} is not 18 digits"));
            }
        }
        if let Some(a) = &self.amount {
            if !is_amount(a) {
                return Err(format!("amount {a:?} is not a decimal like 12.50"));
            }
        }
        if let Some(d) = &self.due_date {
            if jiff::civil::Date::strptime("%Y-%m-%d", d).is_err() {
                return Err(format!("due_date {d:?} is not a date YYYY-MM-DD"));
            }
        }
        if self.body.as_ref().is_some_and(|b| b.len() > MAX_RAW_BODY) {
            return Err(format!("body is over {MAX_RAW_BODY} bytes"));
        }
        match (kind, self.status) {
            (Kind::HttpStatus, None) => Err("`http_status` needs `status`".into()),
            (Kind::HttpStatus, Some(s)) if !(100..=599).contains(&s) => {
                Err(format!("status {s} is not an HTTP status"))
            }
            (Kind::HttpStatus, Some(_)) => Ok(()),
            (_, Some(_)) => Err("`status` is only for `http_status`".into()),
            _ => Ok(()),
        }
    }
}

/// 1–9 integer digits, `.`, 2 digits (paForNode's amount, `stAmount`).
fn is_amount(a: &str) -> bool {
    let Some((int, frac)) = a.split_once('.') else {
        return false;
    };
    (1..=9).contains(&int.len())
        && frac.len() == 2
        && int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
}

/// Which primitive a request is, and so the shape of its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Primitive {
    Sanp3,
    Legacy,
}

/// What the answer is computed from.
#[derive(Debug, Clone)]
pub struct Context {
    pub primitive: Primitive,
    pub id_pa: String,
    pub service: String,
    /// The decoded service data.
    pub data: String,
    pub company_name: String,
    /// A fresh notice number, used when the answer names none.
    pub fresh_notice: String,
}

/// Bytes and behaviour on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Respond { status: u16, body: String },
    Reset,
    Hold(Duration),
}

/// A deterministic amount per request content, in cents, kept as decimal text.
pub fn default_amount(data: &str) -> String {
    let cents = 5_000 + data.bytes().map(u64::from).sum::<u64>() % 20_000;
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// What the sample EC calls the demo registry's services.
pub fn service_description(service: &str) -> String {
    match service {
        // The demo registry's services (fixtures/demo/registry.json), one per official schema.
        "00001" => "Tassa automobilistica".to_owned(),
        "A0001" => "Passaporto".to_owned(),
        "D0847" => "Licenza di pesca".to_owned(),
        "C0001" => "Carta d'identità elettronica".to_owned(),
        "C0002" => "Prestazioni sanitarie (CUP)".to_owned(),
        other => format!("Pagamento servizio {other}"),
    }
}

/// The bytes of `answer` for the request described by `cx`.
pub fn render(answer: &Answer, cx: &Context) -> Reply {
    let ok = |a: &Answer| Reply::Respond {
        status: 200,
        body: ok_document(a, cx, None),
    };
    match answer.kind() {
        Kind::Ok => ok(answer),
        Kind::Ko => Reply::Respond {
            status: 200,
            body: ko(
                cx.primitive,
                answer.fault_code.as_deref().unwrap_or("PAA_SEMANTICA"),
                answer.fault_string.as_deref().unwrap_or("Errore semantico"),
                &cx.id_pa,
                answer
                    .description
                    .as_deref()
                    .unwrap_or("Posizione debitoria non creabile per i dati indicati"),
            ),
        },
        Kind::HttpStatus => Reply::Respond {
            status: answer.status.unwrap_or(500),
            body: answer.body.clone().unwrap_or_default(),
        },
        Kind::SoapFault => Reply::Respond {
            status: 500,
            body: soap::envelope::wrap(
                "<soapenv:Fault><faultcode>soapenv:Server</faultcode>\
                 <faultstring>Errore interno della stazione</faultstring></soapenv:Fault>",
            ),
        },
        Kind::Malformed => Reply::Respond {
            status: 200,
            body: "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\">\
                   <soapenv:Body><outcome>OK</soapenv:Body>"
                .to_owned(),
        },
        Kind::Truncated => {
            let full = ok_document(answer, cx, None);
            let mut cut = full.len() / 2;
            while !full.is_char_boundary(cut) {
                cut -= 1;
            }
            Reply::Respond {
                status: 200,
                body: full[..cut].to_owned(),
            }
        }
        Kind::WrongNamespace => Reply::Respond {
            status: 200,
            body: ok_document(answer, cx, Some("http://example.org/not-pagopa")),
        },
        Kind::Reset => Reply::Reset,
        Kind::NoAnswer => Reply::Hold(Duration::from_millis(if answer.delay_ms == 0 {
            DEFAULT_HOLD_MS
        } else {
            answer.delay_ms
        })),
    }
}

/// The OK answer of `cx.primitive`, its payload in `ns` when given (else the right namespace).
fn ok_document(a: &Answer, cx: &Context, ns: Option<&str>) -> String {
    let notice = a.notice_number.as_deref().unwrap_or(&cx.fresh_notice);
    let amount = a.amount.clone().unwrap_or_else(|| default_amount(&cx.data));
    let mut w = XmlOut::with_capacity(1024);
    match cx.primitive {
        Primitive::Sanp3 => {
            let description = a
                .description
                .clone()
                .unwrap_or_else(|| service_description(&cx.service));
            w.raw("<pafn:paDemandPaymentNoticeResponse xmlns:pafn=\"")
                .raw(ns.unwrap_or(PA_FOR_NODE_NS))
                .raw("\">")
                .leaf("outcome", "OK")
                .open("qrCode")
                .leaf("fiscalCode", &cx.id_pa)
                .leaf("noticeNumber", notice)
                .close("qrCode")
                .open("paymentList")
                .open("paymentOptionDescription")
                .leaf("amount", &amount)
                .leaf("options", "EQ");
            if let Some(due) = &a.due_date {
                w.leaf("dueDate", due);
            }
            w.leaf("detailDescription", &description)
                .leaf("allCCP", "false")
                .close("paymentOptionDescription")
                .close("paymentList")
                .leaf("paymentDescription", &description)
                .leaf("fiscalCodePA", &cx.id_pa)
                .leaf("companyName", &cx.company_name)
                .raw("</pafn:paDemandPaymentNoticeResponse>");
        }
        Primitive::Legacy => {
            let reason = a
                .description
                .as_deref()
                .unwrap_or("Pagamento servizio (richiesta avvisi)");
            w.raw("<ppt:paaChiediNumeroAvvisoRisposta xmlns:ppt=\"")
                .raw(ns.unwrap_or(PPT_NS))
                .raw("\"><paaChiediNumeroAvvisoRisposta>")
                .leaf("esito", "OK")
                .open("numeroAvviso")
                .leaf("auxDigit", &notice[..1])
                .leaf("IUV", &notice[1..])
                .close("numeroAvviso")
                .open("datiPagamentoPA")
                .leaf("importoSingoloVersamento", &amount)
                .leaf("ibanAccredito", SAMPLE_IBAN)
                .leaf("causaleVersamento", reason)
                .close("datiPagamentoPA")
                .raw("</paaChiediNumeroAvvisoRisposta></ppt:paaChiediNumeroAvvisoRisposta>");
        }
    }
    soap::envelope::wrap(&w.finish())
}

/// The EC's syntax KO (PAA_SINTASSI_XSD) with `detail` as its description.
pub fn syntax_ko(p: Primitive, id: &str, detail: &str) -> String {
    let detail: String = detail.chars().take(210).collect();
    ko(
        p,
        "PAA_SINTASSI_XSD",
        "Errore di sintassi XSD.",
        id,
        &detail,
    )
}

/// The EC's KO answer of primitive `p`.
pub fn ko(p: Primitive, code: &str, string: &str, id: &str, description: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Answer, String> {
        let a: Answer = serde_json::from_str(json).map_err(|e| e.to_string())?;
        a.check().map(|()| a)
    }

    #[test]
    fn control_answers_are_checked_with_a_reason() {
        assert!(parse(r#"{"kind":"ok","amount":"12.50","due_date":"2030-01-31"}"#).is_ok());
        let refused = [
            (r#"{"amount":"1"}"#, "`kind` is required"),
            (r#"{"kind":"ok","amount":"1.234"}"#, "amount"),
            (r#"{"kind":"ok","notice_number":"12"}"#, "notice_number"),
            (r#"{"kind":"ok","due_date":"2030-02-30"}"#, "due_date"),
            (r#"{"kind":"http_status"}"#, "needs `status`"),
            (
                r#"{"kind":"http_status","status":42}"#,
                "not an HTTP status",
            ),
            (r#"{"kind":"ko","status":500}"#, "only for"),
            (r#"{"kind":"reset","delay_ms":999999999}"#, "delay_ms"),
            (r#"{"kind":"nope"}"#, "unknown variant"),
            (r#"{"kind":"ok","colour":"red"}"#, "unknown field"),
        ];
        for (json, reason) in refused {
            let e = parse(json).expect_err(json);
            assert!(e.contains(reason), "{json}: {e}");
        }
    }
}
