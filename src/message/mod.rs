//! Typed messages: the operations the gateway serves and the requests it reads after validation.

mod catalog;
mod demand;

pub use catalog::CatalogV2Request;
pub use demand::DemandRequest;

use crate::secret::Secret;
use crate::soap::Element;

/// Namespace of the nodeForPsp payloads (PSP → Node).
pub const NODE_FOR_PSP_NS: &str = "http://pagopa-api.pagopa.gov.it/node/nodeForPsp.xsd";
/// Namespace of the paForNode payloads (Node → EC).
pub const PA_FOR_NODE_NS: &str = "http://pagopa-api.pagopa.gov.it/pa/paForNode.xsd";
/// Namespace of the v2 catalog document.
pub const CATALOG_V2_NS: &str = "http://pagopa-api.pagopa.gov.it/nodeForPsp/xsd/CatalogoServizi";

/// An operation a PSP can call on the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    DemandPaymentNotice,
    NodoChiediCatalogoServiziV2,
}

impl Operation {
    pub const ALL: [Operation; 2] = [
        Operation::DemandPaymentNotice,
        Operation::NodoChiediCatalogoServiziV2,
    ];

    /// The operation named by a SOAPAction value or a payload's local name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|op| op.soap_action() == name || op.request_element() == name)
    }

    pub fn soap_action(self) -> &'static str {
        match self {
            Operation::DemandPaymentNotice => "demandPaymentNotice",
            Operation::NodoChiediCatalogoServiziV2 => "nodoChiediCatalogoServiziV2",
        }
    }

    pub fn namespace(self) -> &'static str {
        match self {
            Operation::DemandPaymentNotice | Operation::NodoChiediCatalogoServiziV2 => {
                NODE_FOR_PSP_NS
            }
        }
    }

    pub fn request_element(self) -> &'static str {
        match self {
            Operation::DemandPaymentNotice => "demandPaymentNoticeRequest",
            Operation::NodoChiediCatalogoServiziV2 => "nodoChiediCatalogoServiziV2Request",
        }
    }

    pub fn response_element(self) -> &'static str {
        match self {
            Operation::DemandPaymentNotice => "demandPaymentNoticeResponse",
            Operation::NodoChiediCatalogoServiziV2 => "nodoChiediCatalogoServiziV2Response",
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
