//! The pipeline, in order: envelope → dispatch → admission → XSD → typed message → checks →
//! upstream → response.
//!
//! This is the only place that calls the stages in sequence. Business failures come back as the
//! operation's own KO document (HTTP 200); only router failures become SOAP Faults.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;

use crate::app::{Gateway, Live};
use crate::checks::{self, NoticePermit, Primitive};
use crate::message::{
    Caller, CatalogV1Request, CatalogV2Request, DemandRequest, NumeroAvvisoRequest, Operation,
};
use crate::pki::ClientIdentity;
use crate::respond::{self, fault_bean, Failure, FaultBean, FaultCode, RouterError, SyntaxError};
use crate::settings::{ServiceDataMode, Settings};
use crate::soap::{self, Element, Envelope};
use crate::upstream::{
    bridge, pa_chiedi, pa_demand, CallContext, EcAnswer, LegacyAnswer, LegacyNotice, Notice,
    UpstreamError,
};
use crate::xsd::Schema;

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

/// The SOAPAction header as the Node reads it: every double quote removed, blanks trimmed;
/// empty means absent. Borrowed unless quotes had to be removed.
pub fn normalize_soap_action(raw: Option<&str>) -> Option<Cow<'_, str>> {
    let raw = raw?;
    let v = if raw.contains('"') {
        Cow::Owned(
            raw.chars()
                .filter(|c| *c != '"')
                .collect::<String>()
                .trim()
                .to_owned(),
        )
    } else {
        Cow::Borrowed(raw.trim())
    };
    (!v.is_empty()).then_some(v)
}

/// Serves one SOAP request body (already decoded to UTF-8).
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
    if is_catalog_v2(soap_action) {
        if let Some(reply) = recall_catalog(gw, &settings, generation, body, identity) {
            return Ok(reply);
        }
    }
    let root = soap::tree::parse(body, &settings.limits.xml).map_err(RouterError::Unreadable)?;
    let env = Envelope::new(root);
    let operation = dispatch(soap_action, &env)?;
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
    let slot = match gw.admission.enter(settings.limits.max_in_flight) {
        Ok(slot) => slot,
        Err(e) => {
            gw.metrics.shed(e.reason());
            return Ok(request.finish(operation, Err(Failure::Overload(e)), Facts::default()));
        }
    };
    gw.metrics.set_in_flight(gw.admission.in_flight());
    let reply = match operation {
        Operation::DemandPaymentNotice => demand(&request).await,
        Operation::NodoChiediCatalogoServiziV2 => catalog_v2(&request),
        Operation::NodoChiediNumeroAvviso => numero_avviso(&request).await,
        Operation::NodoChiediCatalogoServizi => catalog_v1(&request),
    };
    drop(slot);
    gw.metrics.set_in_flight(gw.admission.in_flight());
    Ok(reply)
}

/// Whether the SOAPAction names nodoChiediCatalogoServiziV2 (as `dispatch` reads it).
fn is_catalog_v2(soap_action: Option<&str>) -> bool {
    normalize_soap_action(soap_action).as_deref()
        == Some(Operation::NodoChiediCatalogoServiziV2.soap_action())
}

/// The answer the whole pipeline gave to exactly these bytes, from this certificate, under these
/// settings and this snapshot, while still exact. Admission still applies: when a limit refuses,
/// the full pipeline runs and answers the refusal in the usual way.
fn recall_catalog(
    gw: &Gateway,
    settings: &Settings,
    generation: u64,
    body: &[u8],
    identity: Option<&ClientIdentity>,
) -> Option<Reply> {
    let live = gw.live();
    let memo = live
        .catalog
        .recall(generation, identity.map(|i| &i.sha256), body, now())?;
    let slot = gw.admission.enter(settings.limits.max_in_flight).ok()?;
    if let Some((rate, burst)) = settings.limits.psp_rate {
        gw.admission
            .psp_allows(&memo.caller.psp, rate, burst)
            .ok()?;
    }
    drop(slot);
    Some(Reply {
        body: memo.response.clone(),
        operation: Operation::NodoChiediCatalogoServiziV2,
        caller: Some(memo.caller.clone()),
        station: None,
        registry_version: live.snapshot.version.clone(),
        fault: None,
        failure: None,
    })
}

/// The operation is the SOAPAction; without one, the first Body child decides (interfaces.md §7.2):
/// its local name is the operation's request element (`demandPaymentNoticeRequest`) or the
/// primitive's own name (the legacy elements are both), and a body named like a primitive but not
/// like its request then fails that operation's schema: a syntax KO rather than a 400.
fn dispatch(soap_action: Option<&str>, env: &Envelope) -> Result<Operation, RouterError> {
    match normalize_soap_action(soap_action) {
        Some(action) => Operation::ALL
            .into_iter()
            .find(|op| op.soap_action() == action)
            .ok_or_else(|| RouterError::UnknownAction(action.into_owned())),
        None => {
            let name = env.first_payload_name().ok_or(RouterError::NoOperation)?;
            Operation::ALL
                .into_iter()
                .find(|op| op.request_element() == name || op.soap_action() == name)
                .ok_or_else(|| RouterError::UnknownAction(name.to_owned()))
        }
    }
}

/// One request on its way through the stages.
struct Request<'a> {
    gw: &'a Gateway,
    settings: &'a Arc<Settings>,
    live: &'a Arc<Live>,
    env: &'a Envelope,
    raw: &'a [u8],
    identity: Option<&'a ClientIdentity>,
    request_id: &'a str,
    /// The settings generation read with `settings`.
    generation: u64,
}

/// What an operation learned along the way, for its response and the log.
#[derive(Default)]
struct Facts {
    caller: Option<Caller>,
    station: Option<String>,
    extended_fault_bean: bool,
}

/// An operation's successful result, ready to render.
enum Success {
    Notice(Notice),
    LegacyNotice {
        domain: String,
        notice: LegacyNotice,
    },
    /// The whole OK response, from the snapshot's cache.
    CatalogV2(Bytes),
    CatalogV1(String),
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
        // The common valid demand is proven from the tree; anything else goes to libxml2.
        let proven = op == Operation::DemandPaymentNotice && {
            let proven = crate::xsd::fast::demand_request(&self.env.root);
            self.gw.metrics.schema_checked("demand_request", proven);
            proven
        };
        if !proven {
            schema
                .validate(self.raw)
                .map_err(|e| Failure::Syntax(SyntaxError::Schema(e)))?;
        }
        // The Node's validator refuses an empty base64Binary (SIN_DPNR_25); libxml2 does not.
        if let Some(field) = op.base64_field() {
            if payload.child_text(field).is_some_and(soap::tree::is_blank) {
                return Err(Failure::Syntax(SyntaxError::EmptyBase64(field)));
            }
        }
        Ok(payload)
    }

    /// The certificate binding comes before the Node's own checks, so a caller cannot learn
    /// which PSPs, brokers or channels exist by trying identifiers its certificate does not cover.
    /// The PSP's rate limit comes after them, so only PSPs of the registry get a bucket.
    fn caller(&self, caller: &Caller) -> Result<checks::CallerPermit, Failure> {
        let s = self.settings;
        checks::check_certificate(&s.bindings, s.client_auth(), self.identity, caller)
            .map_err(Failure::Check)?;
        let permit = checks::check_caller(&self.live.snapshot, caller).map_err(Failure::Check)?;
        if let Some((rate, burst)) = s.limits.psp_rate {
            self.gw
                .admission
                .psp_allows(&caller.psp, rate, burst)
                .map_err(|e| self.shed(e))?;
        }
        Ok(permit)
    }

    fn shed(&self, e: checks::OverloadError) -> Failure {
        self.gw.metrics.shed(e.reason());
        Failure::Overload(e)
    }

    /// What both notice operations do once the checks have issued a permit: the service data
    /// against the service's schema (the Node's step 14), then the station.
    async fn fulfil(
        &self,
        permit: &NoticePermit,
        psp: &str,
        b64: &str,
    ) -> Result<StationNotice, Failure> {
        self.service_data(permit, b64)?;
        self.call(permit, psp, b64).await
    }

    fn service_data(&self, permit: &NoticePermit, b64: &str) -> Result<(), Failure> {
        if self.settings.service_data == ServiceDataMode::PassThrough {
            return Ok(());
        }
        checks::check_service_data(
            &self.live.service_schemas,
            &permit.service().reference_xsd,
            b64,
            &self.settings.limits.xml,
        )
        .map_err(Failure::ServiceData)
    }

    fn call_context(&self) -> CallContext<'_> {
        CallContext {
            clients: &self.gw.ec,
            settings: &self.settings.ec,
            contract: &self.gw.contract,
            limits: &self.settings.limits.xml,
            metrics: &self.gw.metrics,
            request_id: self.request_id,
        }
    }

    /// Calls the station with the permit's primitive, within the station's concurrency limit.
    /// An EC KO becomes the EC's failure.
    async fn call(
        &self,
        permit: &NoticePermit,
        psp: &str,
        b64: &str,
    ) -> Result<StationNotice, Failure> {
        let station = permit.station();
        let limit = self.settings.ec.concurrency_for(&station.code);
        let _slot = self
            .gw
            .admission
            .enter_station(&station.code, limit, self.settings.ec.station_wait)
            .await
            .map_err(|e| self.shed(e))?;
        let ctx = self.call_context();
        let upstream = |error: UpstreamError| Failure::Upstream {
            station: station.code.clone(),
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

    /// Renders an operation's outcome as its OK or KO document and records what the log needs.
    /// Legacy answers cannot carry the extended fault bean (no `original*` in their schema), and
    /// the catalogs never reach an EC, so it only applies to demandPaymentNotice.
    fn finish(&self, operation: Operation, result: Result<Success, Failure>, o: Facts) -> Reply {
        let (body, fault, failure) = match result {
            Ok(success) => {
                let body = match success {
                    Success::Notice(n) => Bytes::from(respond::demand::ok(&n)),
                    Success::LegacyNotice { domain, notice } => {
                        Bytes::from(respond::legacy::numero_avviso_ok(&domain, &notice))
                    }
                    Success::CatalogV2(response) => response,
                    Success::CatalogV1(doc) => Bytes::from(respond::legacy::catalog_v1_ok(&doc)),
                };
                (body, None, None)
            }
            Err(failure) => {
                let extended = o.extended_fault_bean && operation == Operation::DemandPaymentNotice;
                let bean: FaultBean = fault_bean(&failure, extended);
                let body = match operation {
                    Operation::DemandPaymentNotice => respond::demand::ko(&bean),
                    Operation::NodoChiediCatalogoServiziV2 => respond::catalog::ko_v2(&bean),
                    Operation::NodoChiediNumeroAvviso => respond::legacy::numero_avviso_ko(&bean),
                    Operation::NodoChiediCatalogoServizi => respond::legacy::catalog_v1_ko(&bean),
                };
                (Bytes::from(body), Some(bean.code), Some(failure))
            }
        };
        Reply {
            body,
            operation,
            caller: o.caller,
            station: o.station,
            registry_version: self.live.snapshot.version.clone(),
            fault,
            failure,
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
        Ok(Success::CatalogV1(respond::legacy::catalog_v1_document(
            &r.live.snapshot,
            req.domain.as_deref(),
            now(),
        )))
    })();
    r.finish(op, result, o)
}
