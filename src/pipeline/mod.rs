//! The pipeline, in order: (catalog replay) → envelope → dispatch → admission → XSD → typed
//! message → checks → upstream → response.
//!
//! This is the only place that calls the stages in sequence. Business failures come back as the
//! operation's own KO document (HTTP 200); only router failures become SOAP Faults.

mod admission;
mod request;

use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;

pub use admission::{Admission, OverloadError, Slot};

use crate::app::Gateway;
use crate::catalog;
use crate::checks;
use crate::error::{Failure, RouterError, SyntaxError};
use crate::message::{
    Caller, CatalogV1Request, CatalogV2Request, DemandRequest, NumeroAvvisoRequest, Operation,
};
use crate::pki::ClientIdentity;
use crate::respond::FaultCode;
use crate::soap::{self, Envelope};
use crate::transport::router;
use request::{Facts, Request, Success};

/// What a served request produced, for the response and the request log.
#[derive(Debug)]
pub struct Reply {
    pub body: Bytes,
    pub operation: Operation,
    /// The caller as declared (known once the request passed the syntax check).
    pub caller: Option<Caller>,
    /// The station called (or that would have been).
    pub station: Option<String>,
    /// The registry version the request was served with.
    pub registry_version: String,
    /// `None` for OK.
    pub fault: Option<FaultCode>,
    /// The failure behind a KO, for the log only.
    pub failure: Option<Failure>,
}

/// Serves one SOAP request body (already decoded to UTF-8): the order of the stages.
pub async fn handle_soap(
    gw: &Gateway,
    soap_action: Option<&str>,
    body: &[u8],
    identity: Option<&ClientIdentity>,
    request_id: &str,
) -> Result<Reply, RouterError> {
    // One settings and one registry snapshot for the whole request, however long it takes.
    let generation = gw.settings_generation();
    let settings = gw.settings();
    if router::is_catalog_v2(soap_action) {
        if let Some((memo, live)) = catalog::replay(gw, &settings, generation, body, identity) {
            return Ok(Reply {
                body: memo.response.clone(),
                operation: Operation::NodoChiediCatalogoServiziV2,
                caller: Some(memo.caller.clone()),
                station: None,
                registry_version: live.snapshot.version.clone(),
                fault: None,
                failure: None,
            });
        }
    }
    let root = soap::tree::parse(body, &settings.limits.xml).map_err(RouterError::Unreadable)?;
    let env = Envelope::new(root);
    let operation = router::dispatch(soap_action, &env)?;
    let live = gw.live();
    let request = Request {
        gw,
        settings: &settings,
        live: &live,
        env: &env,
        raw: body,
        identity,
        request_id,
        generation,
    };
    // Beyond the in-flight cap, answer at once in the operation's own shape.
    let _in_flight = match admission::admit(gw, settings.limits.max_in_flight) {
        Ok(guard) => guard,
        Err(e) => {
            let refused = Err(request.shed(e));
            return Ok(request.finish(operation, refused, Facts::default()));
        }
    };
    Ok(match operation {
        Operation::DemandPaymentNotice => demand(&request).await,
        Operation::NodoChiediCatalogoServiziV2 => catalog_v2(&request),
        Operation::NodoChiediNumeroAvviso => numero_avviso(&request).await,
        Operation::NodoChiediCatalogoServizi => catalog_v1(&request),
    })
}

async fn demand(r: &Request<'_>) -> Reply {
    let op = Operation::DemandPaymentNotice;
    let mut o = Facts::default();
    let result = async {
        let req = DemandRequest::from_payload(r.syntax(op)?).map_err(missing)?;
        o.caller = Some(req.caller.clone());
        o.extended_fault_bean = r.caller(&req.caller)?.extended_fault_bean();
        let permit = checks::check_demand(
            &r.live.snapshot,
            &req.subject_service_id,
            now(),
            &r.settings.ec.bridging,
        )
        .map_err(Failure::Check)?;
        o.station = Some(permit.station().code.clone());
        let answer = r
            .fulfil(&permit, &req.caller.psp, &req.service_data_b64)
            .await?;
        r.as_notice(&permit, answer).map(Success::Notice)
    }
    .await;
    r.finish(op, result, o)
}

fn catalog_v2(r: &Request<'_>) -> Reply {
    let op = Operation::NodoChiediCatalogoServiziV2;
    let mut o = Facts::default();
    let mut valid_until = None;
    let result = (|| {
        let req = CatalogV2Request::from_payload(r.syntax(op)?).map_err(missing)?;
        o.caller = Some(req.caller.clone());
        r.caller(&req.caller)?;
        checks::check_domain(&r.live.snapshot, req.domain.as_deref()).map_err(Failure::Check)?;
        let (response, until) = r.live.catalog.response_v2(&r.live.snapshot, &req, now());
        valid_until = Some(until);
        Ok(Success::CatalogV2(response))
    })();
    let reply = r.finish(op, result, o);
    // The next identical request gets this answer without parsing or validating again.
    if let (Some(until), None, Some(caller)) = (valid_until, reply.fault, &reply.caller) {
        r.live.catalog.remember(
            r.generation,
            r.identity.map(|i| &i.sha256),
            r.raw,
            reply.body.clone(),
            caller.clone(),
            until,
        );
    }
    reply
}

async fn numero_avviso(r: &Request<'_>) -> Reply {
    let op = Operation::NodoChiediNumeroAvviso;
    let mut o = Facts::default();
    let result = async {
        let req = NumeroAvvisoRequest::from_payload(r.syntax(op)?).map_err(missing)?;
        o.caller = Some(req.caller.clone());
        r.caller(&req.caller)?;
        let permit = checks::check_numero_avviso(
            &r.live.snapshot,
            &req.service_id,
            &req.domain,
            now(),
            &r.settings.ec.bridging,
        )
        .map_err(Failure::Check)?;
        o.station = Some(permit.station().code.clone());
        let answer = r
            .fulfil(&permit, &req.caller.psp, &req.service_data_b64)
            .await?;
        let notice = r.as_legacy(&permit, answer)?;
        Ok(Success::LegacyNotice {
            domain: req.domain,
            notice,
        })
    }
    .await;
    r.finish(op, result, o)
}

fn catalog_v1(r: &Request<'_>) -> Reply {
    let op = Operation::NodoChiediCatalogoServizi;
    let mut o = Facts::default();
    let result = (|| {
        let req = CatalogV1Request::from_payload(r.syntax(op)?).map_err(missing)?;
        o.caller = Some(req.caller.clone());
        r.caller(&req.caller)?;
        checks::check_domain(&r.live.snapshot, req.domain.as_deref()).map_err(Failure::Check)?;
        Ok(Success::CatalogV1(catalog::catalog_v1_document(
            &r.live.snapshot,
            req.domain.as_deref(),
            now(),
        )))
    })();
    r.finish(op, result, o)
}

pub(crate) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn missing(e: crate::message::MissingField) -> Failure {
    Failure::Syntax(SyntaxError::Missing(e))
}
