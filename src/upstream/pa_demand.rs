//! `paDemandPaymentNotice` toward the EC station: the request we build, and the answer judged by the Node's rules.

use std::time::Duration;

use http::Uri;

use super::client::{EcClients, TransportError};
use super::{station_url, UpstreamError};
use crate::checks::DemandPermit;
use crate::message::PA_FOR_NODE_NS;
use crate::settings::EcSettings;
use crate::soap::write::XmlOut;
use crate::soap::{self, Element, Envelope, Limits, ShapeError, SOAP11_NS};
use crate::xsd::{self, Schema};

pub const SOAP_ACTION: &str = "paDemandPaymentNotice";

/// A defect of a well-delivered EC answer (interfaces.md §6.6).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerDefect {
    #[error("not readable XML: {0}")]
    NotXml(soap::XmlError),
    #[error("{0}")]
    Shape(ShapeError),
    #[error("schema violation {0}")]
    Schema(xsd::Invalid),
    #[error("outcome OK with a fault")]
    OkWithFault,
    #[error("outcome KO without a fault")]
    KoWithoutFault,
    #[error("outcome OK without {0}")]
    OkMissing(&'static str),
}

/// The EC's own fault bean, as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcFault {
    pub code: String,
    pub string: String,
    pub id: String,
    pub description: Option<String>,
}

/// The notice the EC created. Amounts and dates stay the EC's text (validated, trimmed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub fiscal_code: String,
    pub notice_number: String,
    pub amount: String,
    pub options: String,
    pub due_date: Option<String>,
    pub detail_description: Option<String>,
    pub payment_description: String,
    pub fiscal_code_pa: String,
    pub company_name: String,
    pub office_name: Option<String>,
}

/// A valid EC answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EcAnswer {
    Ok(Notice),
    Ko(EcFault),
}

/// Builds the request the Node sends (interfaces.md §8.1).
pub fn request_xml(permit: &DemandPermit, service_data_b64: &str) -> String {
    let station = permit.station();
    let mut w = XmlOut::with_capacity(512 + service_data_b64.len());
    w.raw("<soapenv:Envelope xmlns:soapenv=\"")
        .raw(SOAP11_NS)
        .raw("\" xmlns:pafn=\"")
        .raw(PA_FOR_NODE_NS)
        .raw("\"><soapenv:Header/><soapenv:Body><pafn:paDemandPaymentNoticeRequest>")
        .leaf("idPA", permit.ec_domain())
        .leaf("idBrokerPA", &station.broker)
        .leaf("idStation", &station.code)
        .leaf("idServizio", &permit.service().id)
        .leaf("idSoggettoServizio", permit.subject_service_id())
        .leaf("datiSpecificiServizioRequest", service_data_b64)
        .raw("</pafn:paDemandPaymentNoticeRequest></soapenv:Body></soapenv:Envelope>");
    w.finish()
}

/// Everything one call needs besides the permit.
pub struct CallContext<'a> {
    pub clients: &'a EcClients,
    pub settings: &'a EcSettings,
    pub answer_schema: &'a Schema,
    pub limits: &'a Limits,
}

/// Calls the station and classifies what comes back.
pub async fn call(
    ctx: &CallContext<'_>,
    permit: &DemandPermit,
    service_data_b64: &str,
) -> Result<EcAnswer, UpstreamError> {
    let station = permit.station();
    let url: Uri = station_url(station, ctx.settings.station_service)?;
    let timeout: Duration = ctx.settings.timeout_for(&station.code);
    let body = request_xml(permit, service_data_b64);
    let exchange = ctx.clients.post_soap(
        ctx.settings.tls_profile_for(&station.code),
        station.proxy.as_ref(),
        &url,
        SOAP_ACTION,
        body,
        ctx.settings.max_response_bytes,
    );
    let answer = match tokio::time::timeout(timeout, exchange).await {
        Err(_) => return Err(UpstreamError::Timeout(timeout)),
        Ok(Err(TransportError::Unreachable { url, reason })) => {
            return Err(UpstreamError::Unreachable { url, reason })
        }
        Ok(Err(TransportError::Body(reason))) => {
            return Err(UpstreamError::Unreachable {
                url: url.to_string(),
                reason,
            })
        }
        Ok(Err(TransportError::TooLarge(n))) => return Err(UpstreamError::TooLarge(n)),
        Ok(Ok(a)) => a,
    };
    let parsed = soap::tree::parse(&answer.body, ctx.limits).map(Envelope::new);
    // A SOAP Fault is "the station could not serve us", whatever the status code.
    if let Ok(env) = &parsed {
        if let Some(fault) = soap_fault(env) {
            return Err(fault);
        }
    }
    if !answer.status.is_success() {
        return Err(UpstreamError::HttpStatus(answer.status.as_u16()));
    }
    let env = parsed.map_err(|e| UpstreamError::BadAnswer(AnswerDefect::NotXml(e)))?;
    judge(&env, &answer.body, ctx.answer_schema).map_err(UpstreamError::BadAnswer)
}

fn soap_fault(env: &Envelope) -> Option<UpstreamError> {
    if !env.is_soap11() {
        return None;
    }
    let fault = env
        .body()?
        .children
        .first()
        .filter(|c| c.is(SOAP11_NS, "Fault"))?;
    Some(UpstreamError::SoapFault {
        code: fault
            .child_text("faultcode")
            .unwrap_or_default()
            .trim()
            .to_owned(),
        string: fault
            .child_text("faultstring")
            .unwrap_or_default()
            .to_owned(),
    })
}

/// Applies the Node's rules to a delivered answer: schema first, then the fields the Node requires.
pub fn judge(env: &Envelope, raw: &[u8], schema: &Schema) -> Result<EcAnswer, AnswerDefect> {
    let payload = env
        .payload(PA_FOR_NODE_NS, "paDemandPaymentNoticeResponse")
        .map_err(AnswerDefect::Shape)?;
    schema.validate(raw).map_err(AnswerDefect::Schema)?;
    let outcome = payload.child_text("outcome").map(str::trim);
    let fault = payload.child("fault");
    match (outcome, fault) {
        (Some("OK"), Some(_)) => Err(AnswerDefect::OkWithFault),
        (Some("OK"), None) => notice(payload).map(EcAnswer::Ok),
        (Some("KO"), Some(f)) => Ok(EcAnswer::Ko(EcFault {
            code: f.child_text("faultCode").unwrap_or_default().to_owned(),
            string: f.child_text("faultString").unwrap_or_default().to_owned(),
            id: f.child_text("id").unwrap_or_default().to_owned(),
            description: f.child_text("description").map(str::to_owned),
        })),
        // The schema admits only OK and KO; anything else is a missing outcome.
        (_, _) => Err(AnswerDefect::KoWithoutFault),
    }
}

fn notice(p: &Element) -> Result<Notice, AnswerDefect> {
    let need = |path: &[&str], name: &'static str| -> Result<String, AnswerDefect> {
        p.descend(path)
            .map(|e| e.text.clone())
            .ok_or(AnswerDefect::OkMissing(name))
    };
    let trimmed = |e: Option<&Element>| e.map(|e| e.text.trim().to_owned());
    let option = p
        .descend(&["paymentList", "paymentOptionDescription"])
        .ok_or(AnswerDefect::OkMissing("paymentList"))?;
    Ok(Notice {
        fiscal_code: need(&["qrCode", "fiscalCode"], "qrCode")?,
        notice_number: need(&["qrCode", "noticeNumber"], "qrCode")?,
        amount: trimmed(option.child("amount")).ok_or(AnswerDefect::OkMissing("amount"))?,
        options: trimmed(option.child("options")).ok_or(AnswerDefect::OkMissing("options"))?,
        due_date: trimmed(option.child("dueDate")),
        detail_description: option.child_text("detailDescription").map(str::to_owned),
        payment_description: need(&["paymentDescription"], "paymentDescription")?,
        fiscal_code_pa: need(&["fiscalCodePA"], "fiscalCodePA")?,
        company_name: need(&["companyName"], "companyName")?,
        office_name: p.child_text("officeName").map(str::to_owned),
    })
}
