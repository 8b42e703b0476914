//! The pipeline, in order: envelope → dispatch → XSD → typed message → checks → upstream → response.
//!
//! This is the only place that calls the stages in sequence. Business failures come back as the
//! operation's own KO document (HTTP 200); only router failures become SOAP Faults.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::app::{Gateway, Live};
use crate::checks;
use crate::message::{Caller, CatalogV2Request, DemandRequest, Operation};
use crate::pki::ClientIdentity;
use crate::respond::{self, fault_bean, Failure, FaultCode, RouterError, SyntaxError};
use crate::settings::ServiceDataMode;
use crate::soap::{self, Envelope};
use crate::upstream::{pa_demand, EcAnswer};

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
    Ok(match operation {
        Operation::DemandPaymentNotice => demand(gw, &live, &env, body, identity).await,
        Operation::NodoChiediCatalogoServiziV2 => catalog_v2(gw, &live, &env, body, identity),
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

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Envelope shape, then the schema of the whole envelope: the Node's syntax check.
fn syntax<'e>(
    gw: &Gateway,
    env: &'e Envelope,
    raw: &[u8],
    op: Operation,
) -> Result<&'e soap::Element, Failure> {
    let payload = env
        .payload(op.namespace(), op.request_element())
        .map_err(|e| Failure::Syntax(SyntaxError::Shape(e)))?;
    gw.contract
        .node_for_psp
        .validate(raw)
        .map_err(|e| Failure::Syntax(SyntaxError::Schema(e)))?;
    Ok(payload)
}

/// The certificate binding comes before the Node's own checks, so a caller cannot learn which
/// PSPs, brokers or channels exist by trying identifiers its certificate does not cover.
fn bound(gw: &Gateway, identity: Option<&ClientIdentity>, caller: &Caller) -> Result<(), Failure> {
    checks::check_certificate(
        &gw.settings.bindings,
        gw.settings.client_auth(),
        identity,
        caller,
    )
    .map_err(Failure::Check)
}

async fn demand(
    gw: &Gateway,
    live: &Arc<Live>,
    env: &Envelope,
    raw: &[u8],
    identity: Option<&ClientIdentity>,
) -> Reply {
    let op = Operation::DemandPaymentNotice;
    let mut psp = None;
    let mut extended = false;
    let outcome = async {
        let payload = syntax(gw, env, raw, op)?;
        let req = DemandRequest::from_payload(payload)
            .map_err(|e| Failure::Syntax(SyntaxError::Missing(e)))?;
        psp = Some(req.caller.psp.clone());
        bound(gw, identity, &req.caller)?;
        let caller = checks::check_caller(&live.snapshot, &req.caller).map_err(Failure::Check)?;
        extended = caller.extended_fault_bean();
        let permit = checks::check_demand(&live.snapshot, &req.subject_service_id, now())
            .map_err(Failure::Check)?;
        if gw.settings.service_data == ServiceDataMode::Validate {
            checks::check_service_data(
                &live.service_schemas,
                &permit.service().reference_xsd,
                &req.service_data_b64,
                &gw.settings.limits.xml,
            )
            .map_err(Failure::ServiceData)?;
        }
        let ctx = pa_demand::CallContext {
            clients: &gw.ec,
            settings: &gw.settings.ec,
            answer_schema: &gw.contract.pa_for_node,
            limits: &gw.settings.limits.xml,
        };
        match pa_demand::call(&ctx, &permit, &req.service_data_b64).await {
            Ok(EcAnswer::Ok(notice)) => Ok(notice),
            Ok(EcAnswer::Ko(fault)) => Err(Failure::Ec {
                ec_domain: permit.ec_domain().to_owned(),
                fault,
            }),
            Err(error) => Err(Failure::Upstream {
                station: permit.station().code.clone(),
                error,
            }),
        }
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

fn catalog_v2(
    gw: &Gateway,
    live: &Arc<Live>,
    env: &Envelope,
    raw: &[u8],
    identity: Option<&ClientIdentity>,
) -> Reply {
    let op = Operation::NodoChiediCatalogoServiziV2;
    let mut psp = None;
    let outcome = (|| {
        let payload = syntax(gw, env, raw, op)?;
        let req = CatalogV2Request::from_payload(payload)
            .map_err(|e| Failure::Syntax(SyntaxError::Missing(e)))?;
        psp = Some(req.caller.psp.clone());
        bound(gw, identity, &req.caller)?;
        checks::check_caller(&live.snapshot, &req.caller).map_err(Failure::Check)?;
        checks::check_domain(&live.snapshot, req.domain.as_deref()).map_err(Failure::Check)?;
        let filter = respond::catalog::CatalogFilter::v2(&req, now());
        Ok(respond::catalog::document_v2(&live.snapshot, &filter))
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

/// Renders an operation's outcome as its OK or KO document and records what the log needs.
fn finish<T>(
    operation: Operation,
    psp: Option<String>,
    outcome: Result<T, Failure>,
    extended_fault_bean: bool,
    ok: impl FnOnce(&T) -> String,
    ko: impl FnOnce(&respond::FaultBean) -> String,
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
