//! The comparer behind `contract_equivalence`: reads the project's `wsdl/` and `xsd/` and the
//! official pagoPA files, and reports every difference that matters on the wire.

mod canon;
mod schema;
mod wsdl;

use std::path::{Path, PathBuf};

use roxmltree::Document;

use super::{repo, NFP_NS, PPT_NS};

pub use canon::*;
pub use schema::*;
pub use wsdl::*;

pub const XSD_NS: &str = "http://www.w3.org/2001/XMLSchema";
pub const WSDL_NS: &str = "http://schemas.xmlsoap.org/wsdl/";
pub const SOAP_NS: &str = "http://schemas.xmlsoap.org/wsdl/soap/";
pub const PAFN_NS: &str = "http://pagopa-api.pagopa.gov.it/pa/paForNode.xsd";
pub const PPTHEAD_NS: &str = "http://ws.pagamenti.telematici.gov/ppthead";

/// How much of an official schema the project keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extent {
    /// Only the definitions the served operations reach.
    Trimmed,
    /// The whole file, so the sets of definitions must be identical.
    Whole,
}

/// Project schema → official counterpart (relative to `pagopa-api/`).
pub const SCHEMA_PAIRS: &[(&str, &str, Extent)] = &[
    (
        "xsd/nodeForPsp.xsd",
        "wsdl/xsd/nodeForPsp.xsd",
        Extent::Trimmed,
    ),
    (
        "xsd/paForNode.xsd",
        "wsdl/xsd/paForNode.xsd",
        Extent::Trimmed,
    ),
    (
        "xsd/sac-common-types-1.0.xsd",
        "xsd-common/sac-common-types-1.0.xsd",
        Extent::Trimmed,
    ),
    ("xsd/envelope.xsd", "xsd-common/envelope.xsd", Extent::Whole),
    (
        "xsd/CatalogoServizi_2_0_0.xsd",
        "xsd-common/CatalogoServizi_2_0_0.xsd",
        Extent::Whole,
    ),
    (
        "xsd/PagInf_RPT_RT_6_2_0.xsd",
        "gad/xsd/PagInf_RPT_RT_6_2_0.xsd",
        Extent::Whole,
    ),
];

/// Project schema → (official WSDL, 0-based position of the `xsd:schema` in its `wsdl:types`).
/// The legacy WSDLs define their payloads inline; the project keeps each schema whole.
pub const INLINE_PAIRS: &[(&str, &str, usize)] = &[
    (
        "xsd/NodoPerPspRichiestaAvvisi.xsd",
        "gad/wsdl/NodoPerPspRichiestaAvvisi.wsdl",
        0,
    ),
    (
        "xsd/PaPerNodoRichiestaAvvisi_intestazione.xsd",
        "gad/wsdl/PaPerNodoRichiestaAvvisi.wsdl",
        0,
    ),
    (
        "xsd/PaPerNodoRichiestaAvvisi.xsd",
        "gad/wsdl/PaPerNodoRichiestaAvvisi.wsdl",
        1,
    ),
];

/// Where the official counterpart of a project schema lives, relative to `pagopa-api/`.
#[derive(Debug, Clone)]
pub enum Origin {
    /// A schema file.
    File(String),
    /// The `index`-th (0-based) `xsd:schema` inside the `wsdl:types` of a WSDL.
    Inline { wsdl: String, index: usize },
}

/// Project WSDL → official counterpart.
pub const WSDL_PAIRS: &[(&str, &str)] = &[
    ("wsdl/nodeForPsp.wsdl", "wsdl/nodeForPsp.wsdl"),
    ("wsdl/paForNode.wsdl", "wsdl/paForNode.wsdl"),
    (
        "wsdl/NodoPerPspRichiestaAvvisi.wsdl",
        "gad/wsdl/NodoPerPspRichiestaAvvisi.wsdl",
    ),
    (
        "wsdl/PaPerNodoRichiestaAvvisi.wsdl",
        "gad/wsdl/PaPerNodoRichiestaAvvisi.wsdl",
    ),
];

/// The WS-Addressing metadata namespace of the legacy WSDLs' `wsam:Action` attributes.
pub const WSAM_NS: &str = "http://www.w3.org/2007/05/addressing/metadata";

/// The payload elements that travel in SOAP bodies, per project schema.
pub const WIRE_ROOTS: &[(&str, &str, &[&str])] = &[
    (
        "xsd/nodeForPsp.xsd",
        NFP_NS,
        &[
            "demandPaymentNoticeRequest",
            "demandPaymentNoticeResponse",
            "nodoChiediCatalogoServiziV2Request",
            "nodoChiediCatalogoServiziV2Response",
        ],
    ),
    (
        "xsd/paForNode.xsd",
        PAFN_NS,
        &[
            "paDemandPaymentNoticeRequest",
            "paDemandPaymentNoticeResponse",
        ],
    ),
    (
        "xsd/NodoPerPspRichiestaAvvisi.xsd",
        PPT_NS,
        &[
            "nodoChiediNumeroAvviso",
            "nodoChiediNumeroAvvisoRisposta",
            "nodoChiediCatalogoServizi",
            "nodoChiediCatalogoServiziRisposta",
        ],
    ),
    (
        "xsd/PaPerNodoRichiestaAvvisi.xsd",
        PPT_NS,
        &["paaChiediNumeroAvviso", "paaChiediNumeroAvvisoRisposta"],
    ),
    (
        "xsd/PaPerNodoRichiestaAvvisi_intestazione.xsd",
        PPTHEAD_NS,
        &["intestazionePPT"],
    ),
];

/// The official `pagopa-api` dir, or `None` after saying why nothing is checked.
pub fn official_dir() -> Option<PathBuf> {
    let dir = super::official::pagopa_api_dir();
    if dir.is_none() {
        assert!(
            !super::official::shared_required(),
            "SANP_REQUIRE_SHARED=1 but the official pagoPA files are missing: expected \
             $SANP_SHARED_DIR/pagopa-api or <repo>/../shared/pagopa-api with wsdl/nodeForPsp.wsdl"
        );
        eprintln!("NOTE: ../shared/pagopa-api not found; contract equivalence not checked");
    }
    dir
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

pub fn parse<'i>(label: &str, text: &'i str) -> Document<'i> {
    Document::parse(text).unwrap_or_else(|e| panic!("{label} is not well-formed XML: {e}"))
}

/// Every schema pair, including the legacy inline schemas and one per service schema in
/// `xsd/catalogo-servizi/`.
pub fn schema_pairs() -> Vec<(String, Origin, Extent)> {
    let mut pairs: Vec<(String, Origin, Extent)> = SCHEMA_PAIRS
        .iter()
        .map(|(p, o, e)| ((*p).to_owned(), Origin::File((*o).to_owned()), *e))
        .collect();
    for (project, wsdl, index) in INLINE_PAIRS {
        let wsdl = (*wsdl).to_owned();
        let origin = Origin::Inline {
            wsdl,
            index: *index,
        };
        pairs.push(((*project).to_owned(), origin, Extent::Whole));
    }
    let dir = repo().join("xsd/catalogo-servizi");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| {
            entry
                .expect("directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| n.ends_with(".xsd"))
        .collect();
    names.sort();
    for n in names {
        pairs.push((
            format!("xsd/catalogo-servizi/{n}"),
            Origin::File(format!("catalogo-servizi/{n}")),
            Extent::Whole,
        ));
    }
    pairs
}

/// Paths (relative to `root`) of every file under `root/sub` ending in `ext`, recursively.
pub fn files_with_ext(root: &Path, sub: &str, ext: &str) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, ext: &str, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                walk(root, &path, ext, out);
            } else if path.extension().is_some_and(|e| e == ext) {
                let rel = path.strip_prefix(root).expect("path under root");
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let mut out = Vec::new();
    walk(root, &root.join(sub), ext, &mut out);
    out.sort();
    out
}
