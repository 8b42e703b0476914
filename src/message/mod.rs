//! Typed messages: the operations the gateway serves and the requests it reads after validation.

mod catalog;
mod demand;
mod legacy;

pub use catalog::CatalogV2Request;
pub use demand::DemandRequest;
pub use legacy::{CatalogV1Request, NumeroAvvisoRequest};

use crate::secret::Secret;
use crate::soap::Element;

/// Namespace of the nodeForPsp payloads (PSP → Node).
pub const NODE_FOR_PSP_NS: &str = "http://pagopa-api.pagopa.gov.it/node/nodeForPsp.xsd";
/// Namespace of the paForNode payloads (Node → EC).
pub const PA_FOR_NODE_NS: &str = "http://pagopa-api.pagopa.gov.it/pa/paForNode.xsd";
/// Namespace of the v2 catalog document.
pub const CATALOG_V2_NS: &str = "http://pagopa-api.pagopa.gov.it/nodeForPsp/xsd/CatalogoServizi";

/// Namespace of the legacy "richiesta avvisi" payloads (`ppt`, both PSP and EC sides).
pub const PPT_NS: &str = "http://ws.pagamenti.telematici.gov/";
/// Namespace of the legacy SOAP header `intestazionePPT`.
pub const PPTHEAD_NS: &str = "http://ws.pagamenti.telematici.gov/ppthead";
/// Namespace of the v1 catalog document (qualified, default namespace).
pub const CATALOG_V1_NS: &str = "http://PuntoAccessoPSP.spcoop.gov.it/CatalogoServizi";
/// Namespace of the RPT/RT types used inside legacy payment data (`pay_i`, qualified).
pub const PAY_I_NS: &str = "http://www.digitpa.gov.it/schemas/2011/Pagamenti/";

/// An operation a PSP can call on the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    DemandPaymentNotice,
    NodoChiediCatalogoServiziV2,
    /// Legacy (SANP 2.x) `NodoPerPsp` richiesta avvisi.
    NodoChiediNumeroAvviso,
    /// Legacy catalog (version-1 services).
    NodoChiediCatalogoServizi,
}

impl Operation {
    pub const ALL: [Operation; 4] = [
        Operation::DemandPaymentNotice,
        Operation::NodoChiediCatalogoServiziV2,
        Operation::NodoChiediNumeroAvviso,
        Operation::NodoChiediCatalogoServizi,
    ];

    pub fn soap_action(self) -> &'static str {
        match self {
            Operation::DemandPaymentNotice => "demandPaymentNotice",
            Operation::NodoChiediCatalogoServiziV2 => "nodoChiediCatalogoServiziV2",
            Operation::NodoChiediNumeroAvviso => "nodoChiediNumeroAvviso",
            Operation::NodoChiediCatalogoServizi => "nodoChiediCatalogoServizi",
        }
    }

    /// The request's `xsd:base64Binary` field, which must not be empty.
    pub fn base64_field(self) -> Option<&'static str> {
        match self {
            Operation::DemandPaymentNotice | Operation::NodoChiediNumeroAvviso => {
                Some("datiSpecificiServizio")
            }
            Operation::NodoChiediCatalogoServiziV2 | Operation::NodoChiediCatalogoServizi => None,
        }
    }

    pub fn namespace(self) -> &'static str {
        match self {
            Operation::DemandPaymentNotice | Operation::NodoChiediCatalogoServiziV2 => {
                NODE_FOR_PSP_NS
            }
            Operation::NodoChiediNumeroAvviso | Operation::NodoChiediCatalogoServizi => PPT_NS,
        }
    }

    pub fn request_element(self) -> &'static str {
        match self {
            Operation::DemandPaymentNotice => "demandPaymentNoticeRequest",
            Operation::NodoChiediCatalogoServiziV2 => "nodoChiediCatalogoServiziV2Request",
            Operation::NodoChiediNumeroAvviso => "nodoChiediNumeroAvviso",
            Operation::NodoChiediCatalogoServizi => "nodoChiediCatalogoServizi",
        }
    }

    pub fn response_element(self) -> &'static str {
        match self {
            Operation::DemandPaymentNotice => "demandPaymentNoticeResponse",
            Operation::NodoChiediCatalogoServiziV2 => "nodoChiediCatalogoServiziV2Response",
            Operation::NodoChiediNumeroAvviso => "nodoChiediNumeroAvvisoRisposta",
            Operation::NodoChiediCatalogoServizi => "nodoChiediCatalogoServiziRisposta",
        }
    }

    /// Whether this is one of the legacy "richiesta avvisi" operations.
    pub fn is_legacy(self) -> bool {
        match self {
            Operation::DemandPaymentNotice | Operation::NodoChiediCatalogoServiziV2 => false,
            Operation::NodoChiediNumeroAvviso | Operation::NodoChiediCatalogoServizi => true,
        }
    }
}

/// Who is calling: the PSP identity fields every request carries.
#[derive(Debug, Clone)]
pub struct Caller {
    pub psp: String,
    pub broker: String,
    pub channel: String,
    pub password: Secret,
}

/// A field the schema guarantees was not found: a bug between schema and reader, reported as a
/// syntax error rather than a panic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field {0} missing after schema validation")]
pub struct MissingField(pub &'static str);

fn required(e: &Element, name: &'static str) -> Result<String, MissingField> {
    e.child_text(name)
        .map(str::to_owned)
        .ok_or(MissingField(name))
}

fn optional(e: &Element, name: &str) -> Option<String> {
    e.child_text(name).map(str::to_owned)
}
