//! Dispatch: which operation a request is, from its SOAPAction or, without one, its Body.

use std::borrow::Cow;

use crate::error::RouterError;
use crate::message::Operation;
use crate::soap::Envelope;

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

/// Whether the SOAPAction names nodoChiediCatalogoServiziV2 (as `dispatch` reads it).
pub fn is_catalog_v2(soap_action: Option<&str>) -> bool {
    normalize_soap_action(soap_action).as_deref()
        == Some(Operation::NodoChiediCatalogoServiziV2.soap_action())
}

/// The operation is the SOAPAction; without one, the first Body child decides (interfaces.md §7.2):
/// its local name is the operation's request element (`demandPaymentNoticeRequest`) or the
/// primitive's own name (the legacy elements are both), and a body named like a primitive but not
/// like its request then fails that operation's schema: a syntax KO rather than a 400.
pub fn dispatch(soap_action: Option<&str>, env: &Envelope) -> Result<Operation, RouterError> {
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
