//! `nodoChiediCatalogoServiziV2Request`, read from a validated payload.

use super::{optional, required, Caller, MissingField};
use crate::secret::Secret;
use crate::soap::Element;

#[derive(Debug, Clone)]
pub struct CatalogV2Request {
    pub caller: Caller,
    pub domain: Option<String>,
    pub category: Option<String>,
    /// `commissione`: `Y` → true, `N` → false.
    pub fee: Option<bool>,
}

impl CatalogV2Request {
    pub fn from_payload(p: &Element) -> Result<Self, MissingField> {
        Ok(Self {
            caller: Caller {
                psp: required(p, "identificativoPSP")?,
                broker: required(p, "identificativoIntermediarioPSP")?,
                channel: required(p, "identificativoCanale")?,
                password: Secret::new(required(p, "password")?),
            },
            domain: optional(p, "identificativoDominio"),
            category: optional(p, "categoria"),
            // xsd:string enumeration: whitespace is preserved, so only exact Y/N got here.
            fee: optional(p, "commissione").map(|c| c == "Y"),
        })
    }
}
