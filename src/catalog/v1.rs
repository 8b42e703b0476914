//! The version-1 catalog document, byte for byte as the Node writes it (interfaces.md §5.2).

use crate::message::CATALOG_V1_NS;
use crate::registry::Snapshot;
use crate::soap::write::XmlOut;

const V1_DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\" ?>";

/// The version-1 catalog exactly as the Node writes it (interfaces.md §5.2): default namespace,
/// unused `xsi` and `cs` declarations, version-1 services only in the configuration's order,
/// `identificativoDominio` as a filter, expired associations left out, and an empty result as the
/// empty root.
pub fn catalog_v1_document(snap: &Snapshot, domain: Option<&str>, now: i64) -> String {
    let root_open = format!(
        "<listaCatalogoServizi xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:cs=\"{CATALOG_V1_NS}\" xmlns=\"{CATALOG_V1_NS}\""
    );
    let mut w = XmlOut::with_capacity(256 + snap.catalog.v1.len() * 384);
    w.raw(V1_DECLARATION).raw(&root_open);
    let mut any = false;
    for s in &snap.catalog.v1 {
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
