//! `paDemandPaymentNotice` toward the EC station: the request we build, and the answer judged by the Node's rules.

use super::exchange::{exchange, CallContext};
use super::{ec_fault, AnswerDefect, EcFault, UpstreamError};
use crate::checks::NoticePermit;
use crate::message::PA_FOR_NODE_NS;
use crate::soap::write::XmlOut;
use crate::soap::{Element, Envelope, SOAP11_NS};
use crate::xsd::{Invalid, Proof};

pub const SOAP_ACTION: &str = "paDemandPaymentNotice";

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

/// The identifiers a `paDemandPaymentNoticeRequest` carries.
#[derive(Debug, Clone, Copy)]
pub struct DemandIds<'a> {
    pub id_pa: &'a str,
    pub id_broker_pa: &'a str,
    pub id_station: &'a str,
    pub id_servizio: &'a str,
    pub id_soggetto_servizio: &'a str,
}

/// Builds the request the Node sends (interfaces.md §8.1).
pub fn request_xml(permit: &NoticePermit, service_data_b64: &str) -> String {
    let station = permit.station();
    let ids = DemandIds {
        id_pa: permit.ec_domain(),
        id_broker_pa: &station.broker,
        id_station: &station.code,
        id_servizio: &permit.service().id,
        // Always set here: this primitive is only chosen through an association (a demand, or
        // a bridged legacy request, which needs one).
        id_soggetto_servizio: permit.subject_service_id().unwrap_or_default(),
    };
    request_xml_for(&ids, service_data_b64)
}

/// The request for explicit identifiers (the probe addresses a station without a PSP demand).
pub fn request_xml_for(ids: &DemandIds<'_>, service_data_b64: &str) -> String {
    let mut w = XmlOut::with_capacity(512 + service_data_b64.len());
    w.raw("<soapenv:Envelope xmlns:soapenv=\"")
        .raw(SOAP11_NS)
        .raw("\" xmlns:pafn=\"")
        .raw(PA_FOR_NODE_NS)
        .raw("\"><soapenv:Header/><soapenv:Body><pafn:paDemandPaymentNoticeRequest>")
        .leaf("idPA", ids.id_pa)
        .leaf("idBrokerPA", ids.id_broker_pa)
        .leaf("idStation", ids.id_station)
        .leaf("idServizio", ids.id_servizio)
        .leaf("idSoggettoServizio", ids.id_soggetto_servizio)
        .leaf("datiSpecificiServizioRequest", service_data_b64)
        .raw("</pafn:paDemandPaymentNoticeRequest></soapenv:Body></soapenv:Envelope>");
    w.finish()
}

/// Calls the station with `paDemandPaymentNotice` and judges the answer.
pub async fn call(
    ctx: &CallContext<'_>,
    permit: &NoticePermit,
    service_data_b64: &str,
) -> Result<EcAnswer, UpstreamError> {
    let body = request_xml(permit, service_data_b64);
    let delivered = exchange(
        ctx,
        permit.station(),
        ctx.settings.station_service,
        SOAP_ACTION,
        body,
    )
    .await?;
    judge(&delivered.envelope, || {
        ctx.contract.pa_for_node.validate_read(
            &delivered.raw,
            &delivered.envelope.root,
            Some(Proof::PaDemandAnswer),
            ctx.metrics,
        )
    })
    .map_err(UpstreamError::BadAnswer)
}

/// Applies the Node's rules to a delivered answer: its shape, then the schema (`validate`), then
/// the fields the Node requires.
pub fn judge(
    env: &Envelope,
    validate: impl FnOnce() -> Result<(), Invalid>,
) -> Result<EcAnswer, AnswerDefect> {
    let payload = env
        .payload(PA_FOR_NODE_NS, "paDemandPaymentNoticeResponse")
        .map_err(AnswerDefect::Shape)?;
    validate().map_err(AnswerDefect::Schema)?;
    let outcome = payload.child_text("outcome").map(str::trim);
    let fault = payload.child("fault");
    match (outcome, fault) {
        (Some("OK"), Some(_)) => Err(AnswerDefect::OkWithFault),
        (Some("OK"), None) => notice(payload).map(EcAnswer::Ok),
        (Some("KO"), Some(f)) => Ok(EcAnswer::Ko(ec_fault(f))),
        (Some("KO"), None) => Err(AnswerDefect::KoWithoutFault),
        // The schema admits only OK and KO.
        (other, _) => Err(AnswerDefect::UnknownOutcome(
            other.unwrap_or_default().to_owned(),
        )),
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
