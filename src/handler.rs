//! The pipeline, in order: envelope → dispatch → XSD → typed message → checks → upstream → response.
//!
//! This is the only place that calls the stages in sequence. Business failures come back as the
//! operation's own KO document (HTTP 200); only router failures become SOAP Faults.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::app::{Gateway, Live};
use crate::checks::{self, NoticePermit, Primitive};
use crate::message::{
    Caller, CatalogV1Request, CatalogV2Request, DemandRequest, NumeroAvvisoRequest, Operation,
};
use crate::pki::ClientIdentity;
use crate::respond::{self, fault_bean, Failure, FaultBean, FaultCode, RouterError, SyntaxError};
use crate::settings::ServiceDataMode;
use crate::soap::{self, Element, Envelope};
use crate::upstream::{
    bridge, pa_chiedi, pa_demand, CallContext, EcAnswer, LegacyAnswer, LegacyNotice, Notice,
    UpstreamError,
};
use crate::xsd::Schema;

/// What a served request produced, for the response and the request log.
#[derive(Debug)]
pub struct Reply {
    pub body: String,
    pub operation: Operation,
    pub psp: Option<String>,
    /// `None` for OK.
    pub fault: Option<FaultCode>,
    /// The failure behind a KO, for the log only.
    pub failure: Option<Failure>,
}

/// The SOAPAction header as the Node reads it: every double quote removed, blanks trimmed;
/// empty means absent.
pub fn normalize_soap_action(raw: Option<&str>) -> Option<String> {
    let v: String = raw?.chars().filter(|c| *c != '"').collect();
    let v = v.trim();
    (!v.is_empty()).then(|| v.to_owned())
}

/// Serves one SOAP request body (already decoded to UTF-8).
pub async fn handle_soap(
    gw: &Gateway,
    soap_action: Option<&str>,
    body: &[u8],
    identity: Option<&ClientIdentity>,
) -> Result<Reply, RouterError> {
    let root = soap::tree::parse(body, &gw.settings.limits.xml).map_err(RouterError::Unreadable)?;
    let env = Envelope::new(root);
    let operation = dispatch(soap_action, &env)?;
    // One snapshot for the whole request, however long the station takes.
    let live = gw.live();
    let request = Request {
        gw,
        live: &live,
        env: &env,
        raw: body,
        identity,
    };
    Ok(match operation {
        Operation::DemandPaymentNotice => demand(&request).await,
        Operation::NodoChiediCatalogoServiziV2 => catalog_v2(&request),
        Operation::NodoChiediNumeroAvviso => numero_avviso(&request).await,
        Operation::NodoChiediCatalogoServizi => catalog_v1(&request),
    })
}

fn dispatch(soap_action: Option<&str>, env: &Envelope) -> Result<Operation, RouterError> {
    match normalize_soap_action(soap_action) {
        Some(action) => Operation::ALL
            .into_iter()
            .find(|op| op.soap_action() == action)
            .ok_or(RouterError::UnknownAction(action)),
        None => {
            let name = env.first_payload_name().ok_or(RouterError::NoOperation)?;
            Operation::ALL
                .into_iter()
                .find(|op| op.request_element() == name)
                .ok_or_else(|| RouterError::UnknownAction(name.to_owned()))
        }
    }
}

/// One request on its way through the stages.
struct Request<'a> {
    gw: &'a Gateway,
    live: &'a Arc<Live>,
    env: &'a Envelope,
    raw: &'a [u8],
    identity: Option<&'a ClientIdentity>,
}

impl Request<'_> {
    /// Envelope shape, then the schema of the whole envelope: the Node's syntax check.
    fn syntax(&self, op: Operation) -> Result<&Element, Failure> {
        let payload = self
            .env
            .payload(op.namespace(), op.request_element())
            .map_err(|e| Failure::Syntax(SyntaxError::Shape(e)))?;
        let schema: &Schema = if op.is_legacy() {
            &self.gw.contract.legacy_psp
        } else {
            &self.gw.contract.node_for_psp
        };
        schema
            .validate(self.raw)
            .map_err(|e| Failure::Syntax(SyntaxError::Schema(e)))?;
        Ok(payload)
    }

    /// The certificate binding comes before the Node's own checks, so a caller cannot learn
    /// which PSPs, brokers or channels exist by trying identifiers its certificate does not cover.
    fn caller(&self, caller: &Caller) -> Result<checks::CallerPermit, Failure> {
        let s = &self.gw.settings;
        checks::check_certificate(&s.bindings, s.client_auth(), self.identity, caller)
            .map_err(Failure::Check)?;
        checks::check_caller(&self.live.snapshot, caller).map_err(Failure::Check)
    }

    fn service_data(&self, permit: &NoticePermit, b64: &str) -> Result<(), Failure> {
        if self.gw.settings.service_data == ServiceDataMode::PassThrough {
            return Ok(());
        }
        checks::check_service_data(
            &self.live.service_schemas,
            &permit.service().reference_xsd,
            b64,
            &self.gw.settings.limits.xml,
        )
        .map_err(Failure::ServiceData)
    }

    fn call_context(&self) -> CallContext<'_> {
        CallContext {
            clients: &self.gw.ec,
            settings: &self.gw.settings.ec,
            contract: &self.gw.contract,
            limits: &self.gw.settings.limits.xml,
        }
    }

    /// Calls the station with the permit's primitive. An EC KO becomes the EC's failure.
    async fn call(
        &self,
        permit: &NoticePermit,
        psp: &str,
        b64: &str,
    ) -> Result<StationNotice, Failure> {
        let ctx = self.call_context();
        let upstream = |error: UpstreamError| Failure::Upstream {
            station: permit.station().code.clone(),
            error,
        };
        let ec = |fault| Failure::Ec {
            ec_domain: permit.ec_domain().to_owned(),
            fault,
        };
        match permit.primitive() {
            Primitive::PaDemandPaymentNotice => {
                match pa_demand::call(&ctx, permit, b64).await.map_err(upstream)? {
                    EcAnswer::Ok(n) => Ok(StationNotice::Sanp3(n)),
                    EcAnswer::Ko(f) => Err(ec(f)),
                }
            }
            Primitive::PaaChiediNumeroAvviso => {
                match pa_chiedi::call(&ctx, permit, psp, b64)
                    .await
                    .map_err(upstream)?
                {
                    LegacyAnswer::Ok(n) => Ok(StationNotice::Legacy(n)),
                    LegacyAnswer::Ko(f) => Err(ec(f)),
                }
            }
        }
    }

    /// A station's notice in SANP 3 terms (bridged from the legacy form when needed).
    fn as_notice(&self, permit: &NoticePermit, n: StationNotice) -> Result<Notice, Failure> {
        match n {
            StationNotice::Sanp3(n) => Ok(n),
            StationNotice::Legacy(l) => bridge::legacy_to_notice(&l, permit, &self.live.snapshot)
                .map_err(|why| untranslatable(permit, why)),
        }
    }

    /// A station's notice in legacy terms (bridged from the SANP 3 form when needed).
    fn as_legacy(&self, permit: &NoticePermit, n: StationNotice) -> Result<LegacyNotice, Failure> {
        match n {
            StationNotice::Legacy(l) => Ok(l),
            StationNotice::Sanp3(n) => bridge::notice_to_legacy(&n, &self.live.snapshot, now())
                .map_err(|why| untranslatable(permit, why)),
        }
    }
}

/// What the station answered OK, in its own primitive's terms.
enum StationNotice {
    Sanp3(Notice),
    Legacy(LegacyNotice),
}

fn untranslatable(permit: &NoticePermit, why: bridge::Untranslatable) -> Failure {
    Failure::Upstream {
        station: permit.station().code.clone(),
        error: UpstreamError::Untranslatable(why),
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn missing(e: crate::message::MissingField) -> Failure {
    Failure::Syntax(SyntaxError::Missing(e))
}

async fn demand(r: &Request<'_>) -> Reply {
    let op = Operation::DemandPaymentNotice;
    let mut psp = None;
    let mut extended = false;
    let outcome = async {
        let req = DemandRequest::from_payload(r.syntax(op)?).map_err(missing)?;
        psp = Some(req.caller.psp.clone());
        extended = r.caller(&req.caller)?.extended_fault_bean();
        let permit = checks::check_demand(
            &r.live.snapshot,
            &req.subject_service_id,
            now(),
            &r.gw.settings.ec.bridging,
        )
        .map_err(Failure::Check)?;
        r.service_data(&permit, &req.service_data_b64)?;
        let answer = r
            .call(&permit, &req.caller.psp, &req.service_data_b64)
            .await?;
        r.as_notice(&permit, answer)
    }
    .await;
    finish(
        op,
        psp,
        outcome,
        extended,
        respond::demand::ok,
        respond::demand::ko,
    )
}

fn catalog_v2(r: &Request<'_>) -> Reply {
    let op = Operation::NodoChiediCatalogoServiziV2;
    let mut psp = None;
    let outcome = (|| {
        let req = CatalogV2Request::from_payload(r.syntax(op)?).map_err(missing)?;
        psp = Some(req.caller.psp.clone());
        r.caller(&req.caller)?;
        checks::check_domain(&r.live.snapshot, req.domain.as_deref()).map_err(Failure::Check)?;
        let filter = respond::catalog::CatalogFilter::v2(&req, now());
        Ok(respond::catalog::document_v2(&r.live.snapshot, &filter))
    })();
    // The catalog never reaches an EC, so the extended fault bean never applies.
    finish(
        op,
        psp,
        outcome,
        false,
        |d: &String| respond::catalog::ok_v2(d),
        respond::catalog::ko_v2,
    )
}

async fn numero_avviso(r: &Request<'_>) -> Reply {
    let op = Operation::NodoChiediNumeroAvviso;
    let mut psp = None;
    let mut domain = String::new();
    let outcome = async {
        let req = NumeroAvvisoRequest::from_payload(r.syntax(op)?).map_err(missing)?;
        psp = Some(req.caller.psp.clone());
        domain = req.domain.clone();
        r.caller(&req.caller)?;
        let permit = checks::check_numero_avviso(
            &r.live.snapshot,
            &req.service_id,
            &req.domain,
            now(),
            &r.gw.settings.ec.bridging,
        )
        .map_err(Failure::Check)?;
        r.service_data(&permit, &req.service_data_b64)?;
        let answer = r
            .call(&permit, &req.caller.psp, &req.service_data_b64)
            .await?;
        r.as_legacy(&permit, answer)
    }
    .await;
    // Legacy answers cannot carry the extended fault bean (no original* in their schema).
    finish(
        op,
        psp,
        outcome,
        false,
        |n: &LegacyNotice| respond::legacy::numero_avviso_ok(&domain, n),
        respond::legacy::numero_avviso_ko,
    )
}

fn catalog_v1(r: &Request<'_>) -> Reply {
    let op = Operation::NodoChiediCatalogoServizi;
    let mut psp = None;
    let outcome = (|| {
        let req = CatalogV1Request::from_payload(r.syntax(op)?).map_err(missing)?;
        psp = Some(req.caller.psp.clone());
        r.caller(&req.caller)?;
        checks::check_domain(&r.live.snapshot, req.domain.as_deref()).map_err(Failure::Check)?;
        Ok(respond::legacy::catalog_v1_document(
            &r.live.snapshot,
            req.domain.as_deref(),
            now(),
        ))
    })();
    finish(
        op,
        psp,
        outcome,
        false,
        |d: &String| respond::legacy::catalog_v1_ok(d),
        respond::legacy::catalog_v1_ko,
    )
}

/// Renders an operation's outcome as its OK or KO document and records what the log needs.
fn finish<T>(
    operation: Operation,
    psp: Option<String>,
    outcome: Result<T, Failure>,
    extended_fault_bean: bool,
    ok: impl FnOnce(&T) -> String,
    ko: impl FnOnce(&FaultBean) -> String,
) -> Reply {
    match outcome {
        Ok(value) => Reply {
            body: ok(&value),
            operation,
            psp,
            fault: None,
            failure: None,
        },
        Err(failure) => {
            let bean = fault_bean(&failure, extended_fault_bean);
            Reply {
                body: ko(&bean),
                operation,
                psp,
                fault: Some(bean.code),
                failure: Some(failure),
            }
        }
    }
}
