//! The portal as a PSP client of a Node-compatible endpoint: `nodoChiediCatalogoServiziV2` and
//! `demandPaymentNotice` over SOAP, with the PSP identity (and client certificate) of its settings.

use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use http::{header, Method, Request, Uri};
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use super::PspIdentity;
use crate::message::NODE_FOR_PSP_NS;
use crate::soap::write::XmlOut;
use crate::soap::{self, Element, Envelope, Limits};

/// Answers larger than this are refused (a full catalog is tens of KiB in the demo).
const MAX_ANSWER_BYTES: usize = 64 * 1024 * 1024;

/// One association of the catalog, as a citizen chooses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    pub service_id: String,
    pub service: String,
    pub category: Option<String>,
    pub xsd: String,
    pub subject_service_id: String,
    pub ec_code: String,
    pub ec_name: String,
    pub valid_from: String,
    pub valid_to: Option<String>,
    pub fee: Option<bool>,
}

/// A created notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeOk {
    pub notice_number: String,
    pub fiscal_code: String,
    pub company_name: String,
    pub amount: String,
    pub description: String,
    pub due_date: Option<String>,
}

/// A KO with its fault bean.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ko {
    pub code: String,
    pub string: String,
    pub description: Option<String>,
}

/// What the gateway answered to a demand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DemandOutcome {
    Ok(NoticeOk),
    Ko(Ko),
}

/// Why the gateway could not be used at all.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("cannot reach the gateway: {0}")]
    Unreachable(String),
    #[error("the gateway answered HTTP {0}")]
    Status(u16),
    #[error("the gateway's answer is not readable: {0}")]
    Answer(String),
    #[error("the gateway refused the catalog: {} {}", .0.code, .0.description.as_deref().unwrap_or(""))]
    CatalogKo(Ko),
}

/// The SOAP client toward the gateway.
pub struct GatewayClient {
    url: Uri,
    psp: PspIdentity,
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    timeout: Duration,
}

impl GatewayClient {
    pub fn new(url: Uri, psp: PspIdentity, tls: rustls::ClientConfig) -> Self {
        let mut tcp = HttpConnector::new();
        tcp.enforce_http(false);
        tcp.set_nodelay(true);
        let client =
            Client::builder(TokioExecutor::new()).build(crate::upstream::client::https(tls, tcp));
        Self {
            url,
            psp,
            client,
            // The gateway's own deadline toward the EC is 7 s; its answer comes within that.
            timeout: Duration::from_secs(10),
        }
    }

    /// The whole V2 catalog (no filter: the portal filters on the page).
    pub async fn catalog(&self) -> Result<Vec<Offer>, GatewayError> {
        let mut w = XmlOut::with_capacity(512);
        w.raw("<nfp:nodoChiediCatalogoServiziV2Request xmlns:nfp=\"")
            .raw(NODE_FOR_PSP_NS)
            .raw("\">");
        // The catalog request names the same identity with its own (older) element names.
        w.leaf("identificativoPSP", &self.psp.id_psp)
            .leaf("identificativoIntermediarioPSP", &self.psp.id_broker_psp)
            .leaf("identificativoCanale", &self.psp.id_channel)
            .leaf("password", self.psp.password.expose())
            .raw("</nfp:nodoChiediCatalogoServiziV2Request>");
        let answer = self
            .call("nodoChiediCatalogoServiziV2", &w.finish())
            .await?;
        if let Some(ko) = ko_of(&answer) {
            return Err(GatewayError::CatalogKo(ko));
        }
        let b64 = answer
            .child_text("xmlCatalogoServizi")
            .ok_or_else(|| GatewayError::Answer("no xmlCatalogoServizi".into()))?;
        let xml = base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .map_err(|e| GatewayError::Answer(format!("catalog not base64: {e}")))?;
        let doc = soap::tree::parse(&xml, &Limits::default())
            .map_err(|e| GatewayError::Answer(format!("catalog not readable: {e}")))?;
        Ok(offers(&doc))
    }

    /// `demandPaymentNotice` for one association with the citizen's data (the instance XML).
    pub async fn demand(
        &self,
        subject_service_id: &str,
        instance: &str,
    ) -> Result<DemandOutcome, GatewayError> {
        let b64 = base64::engine::general_purpose::STANDARD.encode(instance.as_bytes());
        let mut w = XmlOut::with_capacity(768 + b64.len());
        w.raw("<nfp:demandPaymentNoticeRequest xmlns:nfp=\"")
            .raw(NODE_FOR_PSP_NS)
            .raw("\">");
        self.identity(&mut w)
            .leaf("idSoggettoServizio", subject_service_id)
            .leaf("datiSpecificiServizio", &b64)
            .raw("</nfp:demandPaymentNoticeRequest>");
        let answer = self.call("demandPaymentNotice", &w.finish()).await?;
        if let Some(ko) = ko_of(&answer) {
            return Ok(DemandOutcome::Ko(ko));
        }
        let need = |path: &[&str]| {
            answer
                .descend(path)
                .map(|e| e.text.trim().to_owned())
                .ok_or_else(|| GatewayError::Answer(format!("OK without {}", path.join("/"))))
        };
        let option = ["paymentList", "paymentOptionDescription"];
        Ok(DemandOutcome::Ok(NoticeOk {
            notice_number: need(&["qrCode", "noticeNumber"])?,
            fiscal_code: need(&["qrCode", "fiscalCode"])?,
            company_name: need(&["companyName"])?,
            amount: need(&[option[0], option[1], "amount"])?,
            description: need(&["paymentDescription"])?,
            due_date: answer
                .descend(&[option[0], option[1], "dueDate"])
                .map(|e| e.text.trim().to_owned()),
        }))
    }

    fn identity<'w>(&self, w: &'w mut XmlOut) -> &'w mut XmlOut {
        w.leaf("idPSP", &self.psp.id_psp)
            .leaf("idBrokerPSP", &self.psp.id_broker_psp)
            .leaf("idChannel", &self.psp.id_channel)
            .leaf("password", self.psp.password.expose())
    }

    /// POSTs one SOAP request and returns the response payload (the Body's child).
    async fn call(&self, action: &str, payload: &str) -> Result<Element, GatewayError> {
        let body = soap::envelope::wrap(payload);
        let req = Request::builder()
            .method(Method::POST)
            .uri(self.url.clone())
            .header(header::CONTENT_TYPE, "text/xml; charset=UTF-8")
            .header("SOAPAction", action)
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| GatewayError::Unreachable(e.to_string()))?;
        let exchange = async {
            let resp = self
                .client
                .request(req)
                .await
                .map_err(|e| GatewayError::Unreachable(e.to_string()))?;
            let status = resp.status();
            let bytes = Limited::new(resp.into_body(), MAX_ANSWER_BYTES)
                .collect()
                .await
                .map_err(|e| GatewayError::Answer(e.to_string()))?
                .to_bytes();
            Ok::<_, GatewayError>((status, bytes))
        };
        let (status, bytes) = tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| GatewayError::Unreachable("no answer in time".into()))??;
        if !status.is_success() {
            return Err(GatewayError::Status(status.as_u16()));
        }
        let root = soap::tree::parse(&bytes, &Limits::default())
            .map_err(|e| GatewayError::Answer(e.to_string()))?;
        let env = Envelope::new(root);
        env.body()
            .and_then(|b| b.children.first())
            .cloned()
            .ok_or_else(|| GatewayError::Answer("empty Body".into()))
    }
}

fn ko_of(payload: &Element) -> Option<Ko> {
    if payload.child_text("outcome").map(str::trim) != Some("KO") {
        return None;
    }
    let fault = payload.child("fault");
    let text = |name: &str| {
        fault
            .and_then(|f| f.child_text(name))
            .map(|t| t.trim().to_owned())
    };
    Some(Ko {
        code: text("faultCode").unwrap_or_default(),
        string: text("faultString").unwrap_or_default(),
        description: text("description"),
    })
}

/// Every association of a `listaCatalogoServizi` document.
fn offers(doc: &Element) -> Vec<Offer> {
    let mut out = Vec::new();
    for s in doc.children.iter().filter(|c| c.local == "catalogoServizi") {
        let text = |e: &Element, name: &str| e.child_text(name).map(|t| t.trim().to_owned());
        let Some(subjects) = s.child("elencoSoggettiEroganti") else {
            continue;
        };
        for x in subjects.children.iter() {
            out.push(Offer {
                service_id: text(s, "idServizio").unwrap_or_default(),
                service: text(s, "descrizioneServizio").unwrap_or_default(),
                category: text(s, "categoria"),
                xsd: text(s, "xsdRiferimento").unwrap_or_default(),
                subject_service_id: text(x, "idSoggettoServizio").unwrap_or_default(),
                ec_code: text(x, "idDominio").unwrap_or_default(),
                ec_name: text(x, "denominazioneEnteCreditore").unwrap_or_default(),
                valid_from: text(x, "dataInizioValidita").unwrap_or_default(),
                valid_to: text(x, "dataFineValidita"),
                fee: text(x, "commissione").map(|c| c == "Y"),
            });
        }
    }
    out
}
