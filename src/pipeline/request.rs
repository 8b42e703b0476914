//! One request on its way through the stages: what each stage does with it, and how its outcome
//! becomes the operation's OK or KO document.

use std::sync::Arc;

use bytes::Bytes;

use super::{now, OverloadError, Reply};
use crate::app::{Gateway, Live};
use crate::checks::{self, NoticePermit, Primitive};
use crate::error::{Failure, SyntaxError};
use crate::message::{Caller, Operation};
use crate::pki::ClientIdentity;
use crate::respond::{self, fault_bean, FaultBean};
use crate::settings::{ServiceDataMode, Settings};
use crate::soap::{self, Element, Envelope};
use crate::upstream::{
    bridge, pa_chiedi, pa_demand, CallContext, EcAnswer, LegacyAnswer, LegacyNotice, Notice,
    UpstreamError,
};
use crate::xsd::Proof;

/// One request on its way through the stages.
pub(super) struct Request<'a> {
    pub(super) gw: &'a Gateway,
    pub(super) settings: &'a Arc<Settings>,
    pub(super) live: &'a Arc<Live>,
    pub(super) env: &'a Envelope,
    pub(super) raw: &'a [u8],
    pub(super) identity: Option<&'a ClientIdentity>,
    pub(super) request_id: &'a str,
    /// The settings generation read with `settings`.
    pub(super) generation: u64,
}

/// What an operation learned along the way, for its response and the log.
#[derive(Default)]
pub(super) struct Facts {
    pub(super) caller: Option<Caller>,
    pub(super) station: Option<String>,
    pub(super) extended_fault_bean: bool,
}

/// An operation's successful result, ready to render.
pub(super) enum Success {
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
    pub(super) fn syntax(&self, op: Operation) -> Result<&Element, Failure> {
        let payload = self
            .env
            .payload(op.namespace(), op.request_element())
            .map_err(|e| Failure::Syntax(SyntaxError::Shape(e)))?;
        let schema = if op.is_legacy() {
            &self.gw.contract.legacy_psp
        } else {
            &self.gw.contract.node_for_psp
        };
        let proof = (op == Operation::DemandPaymentNotice).then_some(Proof::DemandRequest);
        schema
            .validate_read(self.raw, &self.env.root, proof, &self.gw.metrics)
            .map_err(|e| Failure::Syntax(SyntaxError::Schema(e)))?;
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
    pub(super) fn caller(&self, caller: &Caller) -> Result<checks::CallerPermit, Failure> {
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

    pub(super) fn shed(&self, e: OverloadError) -> Failure {
        self.gw.metrics.shed(crate::observe::labels::overload(&e));
        Failure::Overload(e)
    }

    /// What both notice operations do once the checks have issued a permit: the service data
    /// against the service's schema (the Node's step 14), then the station.
    pub(super) async fn fulfil(
        &self,
        permit: &NoticePermit,
        psp: &str,
        b64: &str,
    ) -> Result<StationNotice, Failure> {
        self.service_data(permit, b64)?;
        self.call(permit, psp, b64).await
    }

    fn service_data(&self, permit: &NoticePermit, b64: &str) -> Result<(), Failure> {
        let xsd = &permit.service().reference_xsd;
        // A schema the gateway could not have (a registry finding) leaves its data unchecked.
        if self.settings.service_data == ServiceDataMode::PassThrough
            || self.live.service_schemas.is_unchecked(xsd)
        {
            return Ok(());
        }
        checks::check_service_data(
            &self.live.service_schemas,
            xsd,
            b64,
            &self.settings.limits.xml,
            Some(&self.gw.metrics),
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
    pub(super) fn as_notice(
        &self,
        permit: &NoticePermit,
        n: StationNotice,
    ) -> Result<Notice, Failure> {
        match n {
            StationNotice::Sanp3(n) => Ok(n),
            StationNotice::Legacy(l) => bridge::legacy_to_notice(&l, permit, &self.live.snapshot)
                .map_err(|why| untranslatable(permit, why)),
        }
    }

    /// A station's notice in legacy terms (bridged from the SANP 3 form when needed).
    pub(super) fn as_legacy(
        &self,
        permit: &NoticePermit,
        n: StationNotice,
    ) -> Result<LegacyNotice, Failure> {
        match n {
            StationNotice::Legacy(l) => Ok(l),
            StationNotice::Sanp3(n) => bridge::notice_to_legacy(&n, &self.live.snapshot, now())
                .map_err(|why| untranslatable(permit, why)),
        }
    }

    /// Renders an operation's outcome as its OK or KO document and records what the log needs.
    /// Legacy answers cannot carry the extended fault bean (no `original*` in their schema), and
    /// the catalogs never reach an EC, so it only applies to demandPaymentNotice.
    pub(super) fn finish(
        &self,
        operation: Operation,
        result: Result<Success, Failure>,
        o: Facts,
    ) -> Reply {
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
pub(super) enum StationNotice {
    Sanp3(Notice),
    Legacy(LegacyNotice),
}

fn untranslatable(permit: &NoticePermit, why: bridge::Untranslatable) -> Failure {
    Failure::Upstream {
        station: permit.station().code.clone(),
        error: UpstreamError::Untranslatable(why),
    }
}
