//! The legacy answers: `nodoChiediNumeroAvvisoRisposta` and `nodoChiediCatalogoServiziRisposta`
//! (with the inner element the Node really emits, misnamed `nodoChiediNumeroAvvisoRisposta`),
//! (the version-1 catalog document itself is the catalog's, in `catalog::v1`).

use base64::Engine as _;

use super::{close_payload, open_payload, FaultBean};
use crate::message::PPT_NS;
use crate::soap::write::XmlOut;
use crate::upstream::LegacyNotice;

/// The inner element of both legacy answers.
const INNER: &str = "nodoChiediNumeroAvvisoRisposta";

/// Legacy `ctFaultBean`: no `original*` fields (the schema has none), always before `esito`.
fn write_fault(w: &mut XmlOut, bean: &FaultBean) {
    w.open("fault")
        .leaf("faultCode", bean.code.code())
        .leaf("faultString", bean.code.string())
        .leaf("id", &bean.id)
        .leaf("description", &bean.description)
        .close("fault");
}

fn wrap(element: &str, inner: impl FnOnce(&mut XmlOut)) -> String {
    let mut w = XmlOut::with_capacity(1024);
    open_payload(&mut w, "ppt", PPT_NS, element);
    w.open(INNER);
    inner(&mut w);
    w.close(INNER);
    close_payload(&mut w, "ppt", element);
    crate::soap::envelope::wrap(&w.finish())
}

/// OK: `esito`, the EC, the notice number parts and the EC's payment data.
pub fn numero_avviso_ok(domain: &str, n: &LegacyNotice) -> String {
    wrap("nodoChiediNumeroAvvisoRisposta", |w| {
        w.leaf("esito", "OK")
            .leaf("identificativoDominio", domain)
            .open("numeroAvviso")
            .leaf("auxDigit", &n.aux_digit)
            .opt_leaf("applicationCode", n.application_code.as_deref())
            .leaf("IUV", &n.iuv)
            .close("numeroAvviso")
            .element(&n.payment_data);
    })
}

pub fn numero_avviso_ko(bean: &FaultBean) -> String {
    wrap("nodoChiediNumeroAvvisoRisposta", |w| {
        write_fault(w, bean);
        w.leaf("esito", "KO");
    })
}

/// OK: the catalog as base64; this answer type has no `esito`.
pub fn catalog_v1_ok(document: &str) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(document.as_bytes());
    wrap("nodoChiediCatalogoServiziRisposta", |w| {
        w.leaf("xmlCatalogoServizi", &b64);
    })
}

pub fn catalog_v1_ko(bean: &FaultBean) -> String {
    wrap("nodoChiediCatalogoServiziRisposta", |w| {
        write_fault(w, bean)
    })
}
