//! `demandPaymentNoticeRequest`, read from a validated payload.

use super::{required, Caller, MissingField};
use crate::secret::Secret;
use crate::soap::Element;

#[derive(Debug, Clone)]
pub struct DemandRequest {
    pub caller: Caller,
    pub subject_service_id: String,
    /// `datiSpecificiServizio` exactly as received (base64 text), forwarded as is.
    pub service_data_b64: String,
}

impl DemandRequest {
    pub fn from_payload(p: &Element) -> Result<Self, MissingField> {
        Ok(Self {
            caller: Caller {
                psp: required(p, "idPSP")?,
                broker: required(p, "idBrokerPSP")?,
                channel: required(p, "idChannel")?,
                password: Secret::new(required(p, "password")?),
            },
            subject_service_id: required(p, "idSoggettoServizio")?,
            service_data_b64: required(p, "datiSpecificiServizio")?,
        })
    }
}
