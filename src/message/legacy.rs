//! The legacy requests `nodoChiediNumeroAvviso` and `nodoChiediCatalogoServizi`, read from a validated payload.

use super::{optional, required, Caller, MissingField};
use crate::secret::Secret;
use crate::soap::Element;

fn caller(p: &Element) -> Result<Caller, MissingField> {
    Ok(Caller {
        psp: required(p, "identificativoPSP")?,
        broker: required(p, "identificativoIntermediarioPSP")?,
        channel: required(p, "identificativoCanale")?,
        password: Secret::new(required(p, "password")?),
    })
}

#[derive(Debug, Clone)]
pub struct NumeroAvvisoRequest {
    pub caller: Caller,
    pub service_id: String,
    /// `idDominioErogatoreServizio`: the EC offering the service.
    pub domain: String,
    /// `datiSpecificiServizio` exactly as received (base64 text).
    pub service_data_b64: String,
}

impl NumeroAvvisoRequest {
    pub fn from_payload(p: &Element) -> Result<Self, MissingField> {
        Ok(Self {
            caller: caller(p)?,
            service_id: required(p, "idServizio")?,
            domain: required(p, "idDominioErogatoreServizio")?,
            service_data_b64: required(p, "datiSpecificiServizio")?,
        })
    }
}

#[derive(Debug, Clone)]
pub struct CatalogV1Request {
    pub caller: Caller,
    pub domain: Option<String>,
}

impl CatalogV1Request {
    pub fn from_payload(p: &Element) -> Result<Self, MissingField> {
        Ok(Self {
            caller: caller(p)?,
            domain: optional(p, "identificativoDominio"),
        })
    }
}
