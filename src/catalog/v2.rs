//! The V2 catalog: the filtered `listaCatalogoServizi` document and its OK response.

use base64::Engine as _;

use super::CatalogService;
use crate::message::{CatalogV2Request, CATALOG_V2_NS, NODE_FOR_PSP_NS};
use crate::registry::Snapshot;
use crate::respond::{close_payload, open_payload, CATALOG_V2_ELEMENT as ELEMENT};
use crate::soap::write::XmlOut;

/// Which associations a request asks for.
#[derive(Debug, Clone, Copy)]
pub struct CatalogFilter<'a> {
    pub version: i64,
    pub domain: Option<&'a str>,
    pub category: Option<&'a str>,
    pub fee: Option<bool>,
    /// Associations whose `end_date` is before this instant (epoch seconds) are left out.
    pub now: i64,
}

impl<'a> CatalogFilter<'a> {
    pub fn v2(req: &'a CatalogV2Request, now: i64) -> Self {
        Self {
            version: 2,
            domain: req.domain.as_deref(),
            category: req.category.as_deref(),
            fee: req.fee,
            now,
        }
    }
}

/// Renders the `listaCatalogoServizi` document (UTF-8, children unqualified). Services left
/// without associations are dropped; an empty result is the empty root element.
pub fn document_v2(snap: &Snapshot, f: &CatalogFilter<'_>) -> String {
    // Sized for everything, so a large catalog is written without reallocating.
    let catalog = &snap.catalog.sorted;
    let associations: usize = catalog.iter().map(|s| s.subjects.len()).sum();
    let mut w = XmlOut::with_capacity(256 + catalog.len() * 320 + associations * 320);
    w.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    let mut open = false;
    for s in catalog.iter().filter(|s| service_matches(s, f)) {
        let mut subjects = s.subjects.iter().filter(|x| {
            f.domain.is_none_or(|d| x.domain == d)
                && f.fee.is_none_or(|fee| x.fee == fee)
                && x.end.is_none_or(|e| e.epoch >= f.now)
        });
        let Some(first) = subjects.next() else {
            continue;
        };
        if !open {
            w.raw("<cs:listaCatalogoServizi xmlns:cs=\"")
                .raw(CATALOG_V2_NS)
                .raw("\">");
            open = true;
        }
        w.open("catalogoServizi")
            .leaf("idServizio", &s.id)
            .leaf("descrizioneServizio", &s.description)
            .open("elencoSoggettiEroganti");
        for x in std::iter::once(first).chain(subjects) {
            w.open("soggettoErogante")
                .leaf("idSoggettoServizio", &x.subject_service_id)
                .leaf("idDominio", &x.domain)
                .leaf("denominazioneEnteCreditore", &x.denomination)
                .leaf("dataInizioValidita", &x.start_text)
                .opt_leaf("dataFineValidita", x.end_text.as_deref())
                .leaf("commissione", if x.fee { "Y" } else { "N" })
                .close("soggettoErogante");
        }
        w.close("elencoSoggettiEroganti")
            .opt_leaf("categoria", s.category.as_deref())
            .leaf("xsdRiferimento", &s.reference_xsd)
            .close("catalogoServizi");
    }
    if open {
        w.raw("</cs:listaCatalogoServizi>");
    } else {
        w.raw("<cs:listaCatalogoServizi xmlns:cs=\"")
            .raw(CATALOG_V2_NS)
            .raw("\"/>");
    }
    w.finish()
}

fn service_matches(s: &CatalogService, f: &CatalogFilter<'_>) -> bool {
    s.version == f.version && f.category.is_none_or(|c| s.category.as_deref() == Some(c))
}

/// OK with the catalog as base64 (standard alphabet, padded, no line breaks).
pub fn ok_v2(document: &str) -> String {
    let mut w = XmlOut::with_capacity(document.len() / 3 * 4 + 512);
    // Built in place: a full catalog is tens of MiB and is not copied into an envelope.
    w.raw(crate::soap::envelope::OPEN);
    open_payload(&mut w, "nfp", NODE_FOR_PSP_NS, ELEMENT);
    w.leaf("outcome", "OK").open("xmlCatalogoServizi");
    // The base64 alphabet needs no escaping: encoded straight into the response.
    w.raw_with(|buf| {
        base64::engine::general_purpose::STANDARD.encode_string(document.as_bytes(), buf)
    });
    w.close("xmlCatalogoServizi");
    close_payload(&mut w, "nfp", ELEMENT);
    w.raw(crate::soap::envelope::CLOSE);
    w.finish()
}
