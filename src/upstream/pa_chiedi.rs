//! `paaChiediNumeroAvviso` toward a legacy EC station: the request with its `intestazionePPT`
//! header, and the answer judged by the Node's rules (interfaces.md §6.7, §8.3).

use super::exchange::{exchange, CallContext};
use super::{ec_fault, AnswerDefect, EcFault, UpstreamError};
use crate::checks::NoticePermit;
use crate::message::{PPTHEAD_NS, PPT_NS};
use crate::soap::write::XmlOut;
use crate::soap::{Element, Envelope, SOAP11_NS};
use crate::xsd::Schema;

pub const SOAP_ACTION: &str = "paaChiediNumeroAvviso";

/// The notice a legacy EC created: `numeroAvviso` and `datiPagamentoPA` as sent (validated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyNotice {
    pub aux_digit: String,
    pub application_code: Option<String>,
    pub iuv: String,
    /// The `datiPagamentoPA` subtree, copied to the PSP as it is.
    pub payment_data: Element,
}

/// A valid legacy answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LegacyAnswer {
    Ok(LegacyNotice),
    Ko(EcFault),
}

/// Builds the request the Node sends: header with the station's broker, the station and the EC;
/// body with the PSP and its service data unchanged.
pub fn request_xml(permit: &NoticePermit, psp: &str, service_data_b64: &str) -> String {
    let station = permit.station();
    let ids = LegacyIds {
        broker: &station.broker,
        station: &station.code,
        domain: permit.ec_domain(),
        psp,
    };
    request_xml_for(&ids, service_data_b64)
}

/// The identifiers a `paaChiediNumeroAvviso` carries (header and body).
#[derive(Debug, Clone, Copy)]
pub struct LegacyIds<'a> {
    pub broker: &'a str,
    pub station: &'a str,
    pub domain: &'a str,
    pub psp: &'a str,
}

/// The request for explicit identifiers (the probe addresses a station without a PSP request).
pub fn request_xml_for(ids: &LegacyIds<'_>, service_data_b64: &str) -> String {
    let mut w = XmlOut::with_capacity(640 + service_data_b64.len());
    w.raw("<soapenv:Envelope xmlns:soapenv=\"")
        .raw(SOAP11_NS)
        .raw("\" xmlns:ppt=\"")
        .raw(PPT_NS)
        .raw("\" xmlns:ppthead=\"")
        .raw(PPTHEAD_NS)
        .raw("\"><soapenv:Header><ppthead:intestazionePPT>")
        .leaf("identificativoIntermediarioPA", ids.broker)
        .leaf("identificativoStazioneIntermediarioPA", ids.station)
        .leaf("identificativoDominio", ids.domain)
        .raw("</ppthead:intestazionePPT></soapenv:Header><soapenv:Body><ppt:paaChiediNumeroAvviso>")
        .leaf("identificativoPSP", ids.psp)
        .leaf("datiSpecificiServizio", service_data_b64)
        .raw("</ppt:paaChiediNumeroAvviso></soapenv:Body></soapenv:Envelope>");
    w.finish()
}

/// Calls the station with `paaChiediNumeroAvviso` and judges the answer.
pub async fn call(
    ctx: &CallContext<'_>,
    permit: &NoticePermit,
    psp: &str,
    service_data_b64: &str,
) -> Result<LegacyAnswer, UpstreamError> {
    let body = request_xml(permit, psp, service_data_b64);
    let delivered = exchange(
        ctx,
        permit.station(),
        ctx.settings.legacy_station_service,
        SOAP_ACTION,
        body,
    )
    .await?;
    judge(&delivered.envelope, &delivered.raw, &ctx.contract.legacy_pa)
        .map_err(UpstreamError::BadAnswer)
}

/// The Node's rules: schema, then `fault` iff `esito` is KO, `esito` OK or KO only, and on OK
/// the notice number and the payment data the PSP needs (auxDigit, IUV, amount, IBAN, reason).
pub fn judge(env: &Envelope, raw: &[u8], schema: &Schema) -> Result<LegacyAnswer, AnswerDefect> {
    let payload = env
        .payload(PPT_NS, "paaChiediNumeroAvvisoRisposta")
        .map_err(AnswerDefect::Shape)?;
    schema.validate(raw).map_err(AnswerDefect::Schema)?;
    let inner = payload
        .child("paaChiediNumeroAvvisoRisposta")
        .ok_or(AnswerDefect::OkMissing("paaChiediNumeroAvvisoRisposta"))?;
    let esito = inner.child_text("esito");
    match (esito, inner.child("fault")) {
        (Some("OK"), Some(_)) => Err(AnswerDefect::OkWithFault),
        (Some("OK"), None) => notice(inner).map(LegacyAnswer::Ok),
        (Some("KO"), Some(f)) => Ok(LegacyAnswer::Ko(ec_fault(f))),
        (Some("KO"), None) => Err(AnswerDefect::KoWithoutFault),
        // `esito` is a plain xsd:string: the Node checks its value itself (CNARES14).
        (other, _) => Err(AnswerDefect::UnknownOutcome(
            other.unwrap_or_default().to_owned(),
        )),
    }
}

fn notice(inner: &Element) -> Result<LegacyNotice, AnswerDefect> {
    let numero = inner
        .child("numeroAvviso")
        .ok_or(AnswerDefect::OkMissing("numeroAvviso"))?;
    let data = inner
        .child("datiPagamentoPA")
        .ok_or(AnswerDefect::OkMissing("datiPagamentoPA"))?;
    // The schema makes these required inside their parents; checked again so that a change of
    // schema cannot turn a missing field into an empty one.
    let aux_digit = numero
        .child_text("auxDigit")
        .ok_or(AnswerDefect::OkMissing("auxDigit"))?;
    let iuv = numero
        .child_text("IUV")
        .ok_or(AnswerDefect::OkMissing("IUV"))?;
    for field in ["importoSingoloVersamento", "ibanAccredito"] {
        data.child(field).ok_or(AnswerDefect::OkMissing(field))?;
    }
    if data.child("causaleVersamento").is_none()
        && data.child("spezzoniCausaleVersamento").is_none()
    {
        return Err(AnswerDefect::OkMissing("causaleVersamento"));
    }
    Ok(LegacyNotice {
        aux_digit: aux_digit.to_owned(),
        application_code: numero.child_text("applicationCode").map(str::to_owned),
        iuv: iuv.to_owned(),
        payment_data: data.clone(),
    })
}
