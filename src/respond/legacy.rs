//! The legacy answers: `nodoChiediNumeroAvvisoRisposta` and `nodoChiediCatalogoServiziRisposta`
//! (with the inner element the Node really emits, misnamed `nodoChiediNumeroAvvisoRisposta`),
//! and the version-1 catalog document in the Node's exact byte form.

use base64::Engine as _;

use super::{close_payload, open_payload, FaultBean};
use crate::message::{CATALOG_V1_NS, PPT_NS};
use crate::registry::Snapshot;
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

const V1_DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\" ?>";

/// The version-1 catalog exactly as the Node writes it (interfaces.md §5.2): default namespace,
/// unused `xsi` and `cs` declarations, version-1 services only in the configuration's order,
/// `identificativoDominio` as a filter, expired associations left out, and an empty result as the
/// empty root.
pub fn catalog_v1_document(snap: &Snapshot, domain: Option<&str>, now: i64) -> String {
    let root_open = format!(
        "<listaCatalogoServizi xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:cs=\"{CATALOG_V1_NS}\" xmlns=\"{CATALOG_V1_NS}\""
    );
    let mut w = XmlOut::with_capacity(256 + snap.catalog_v1.len() * 384);
    w.raw(V1_DECLARATION).raw(&root_open);
    let mut any = false;
    for s in &snap.catalog_v1 {
        let mut subjects = s
            .subjects
            .iter()
            .filter(|x| {
                domain.is_none_or(|d| x.domain == d) && x.end.is_none_or(|e| e.epoch >= now)
            })
            .peekable();
        if subjects.peek().is_none() {
            continue;
        }
        if !any {
            w.raw(">");
            any = true;
        }
        w.open("catalogoServizi")
            .leaf("idServizio", &s.id)
            .leaf("descrizioneServizio", &s.description)
            .open("elencoSoggettiEroganti");
        for x in subjects {
            w.open("soggettoErogante")
                .leaf("idDominio", &x.domain)
                .leaf("denominazioneEnteCreditore", &x.denomination)
                .leaf("dataInizioValidita", &x.start_text)
                .close("soggettoErogante");
        }
        w.close("elencoSoggettiEroganti")
            .leaf("xsdRiferimento", &s.reference_xsd)
            .close("catalogoServizi");
    }
    if any {
        w.raw("</listaCatalogoServizi>");
    } else {
        w.raw("/>");
    }
    w.finish()
}
