//! The official pagoPA schemas from `../shared/pagopa-api`, used to judge what the gateway emits.
//!
//! When `../shared` is absent (a fresh clone), tests fall back to the project's own copies and
//! say so on stderr; with `SANP_REQUIRE_SHARED=1` (set by `scripts/test.sh` and CI) its absence
//! is a failure.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use sanp_gateway::xsd::{
    Bundle, Contract, Schema, ENVELOPE_LEGACY_PA, ENVELOPE_LEGACY_PSP, ENVELOPE_NODE_FOR_PSP,
    ENVELOPE_PA_FOR_NODE,
};

pub struct Official {
    #[allow(dead_code, reason = "no test reads it yet")]
    pub root: PathBuf,
    pub node_for_psp: Schema,
    pub pa_for_node: Schema,
    pub catalog_v2: Schema,
    /// Envelope + the inline schema of the official NodoPerPspRichiestaAvvisi.wsdl.
    pub legacy_psp: Schema,
    /// Envelope + the inline schemas of the official PaPerNodoRichiestaAvvisi.wsdl.
    pub legacy_pa: Schema,
}

/// The n-th inline `<xsd:schema>` of a WSDL, made standalone: the prefixes the WSDL declares on
/// `wsdl:definitions` are declared on the schema, and the RPT/RT import points next to it.
fn inline_schema(wsdl: &str, n: usize) -> Vec<u8> {
    let start = wsdl
        .match_indices("<xsd:schema")
        .nth(n)
        .map(|(i, _)| i)
        .expect("inline schema");
    let end =
        wsdl[start..].find("</xsd:schema>").expect("schema end") + start + "</xsd:schema>".len();
    wsdl[start..end]
        .replacen(
            "<xsd:schema",
            "<xsd:schema xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" xmlns:ppt=\"http://ws.pagamenti.telematici.gov/\" \
             xmlns:ppthead=\"http://ws.pagamenti.telematici.gov/ppthead\" xmlns:pay_i=\"http://www.digitpa.gov.it/schemas/2011/Pagamenti/\"",
            1,
        )
        .replace("../xsd/PagInf_RPT_RT_6_2_0.xsd", "PagInf_RPT_RT_6_2_0.xsd")
        .into_bytes()
}

/// `$SANP_SHARED_DIR/pagopa-api`, else `<repo>/../shared/pagopa-api`, if it exists.
pub fn pagopa_api_dir() -> Option<PathBuf> {
    let shared = std::env::var_os("SANP_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| super::repo().join("../shared"));
    let dir = shared.join("pagopa-api");
    dir.join("wsdl/nodeForPsp.wsdl").exists().then_some(dir)
}

pub fn shared_required() -> bool {
    std::env::var("SANP_REQUIRE_SHARED").is_ok_and(|v| v == "1")
}

/// The official schemas, or `None` (with a notice) when `../shared` is missing.
pub fn official() -> Option<&'static Official> {
    static OFFICIAL: OnceLock<Option<Official>> = OnceLock::new();
    OFFICIAL
        .get_or_init(|| {
            let Some(root) = pagopa_api_dir() else {
                assert!(
                    !shared_required(),
                    "SANP_REQUIRE_SHARED=1 but ../shared/pagopa-api is missing"
                );
                eprintln!(
                    "NOTE: ../shared/pagopa-api not found; responses are checked against the project's own xsd/ \
                     instead of the official pagoPA schemas (set SANP_SHARED_DIR to point at a copy)"
                );
                return None;
            };
            let mut b = Bundle::default();
            for rel in [
                "xsd-common/envelope.xsd",
                "xsd-common/sac-common-types-1.0.xsd",
                "xsd-common/CatalogoServizi_2_0_0.xsd",
                "wsdl/xsd/nodeForPsp.xsd",
                "wsdl/xsd/paForNode.xsd",
            ] {
                let bytes = std::fs::read(root.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
                let name = rel.rsplit('/').next().unwrap_or(rel);
                b.insert(name, bytes);
            }
            let read = |rel: &str| std::fs::read_to_string(root.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
            let psp_wsdl = read("gad/wsdl/NodoPerPspRichiestaAvvisi.wsdl");
            let pa_wsdl = read("gad/wsdl/PaPerNodoRichiestaAvvisi.wsdl");
            b.insert("NodoPerPspRichiestaAvvisi.xsd", inline_schema(&psp_wsdl, 0));
            b.insert("PaPerNodoRichiestaAvvisi_intestazione.xsd", inline_schema(&pa_wsdl, 0));
            b.insert("PaPerNodoRichiestaAvvisi.xsd", inline_schema(&pa_wsdl, 1));
            b.insert(
                "PagInf_RPT_RT_6_2_0.xsd",
                std::fs::read(root.join("gad/xsd/PagInf_RPT_RT_6_2_0.xsd")).expect("PagInf"),
            );
            b.add_wrappers();
            let b = Arc::new(b);
            Some(Official {
                node_for_psp: Schema::compile(b.clone(), ENVELOPE_NODE_FOR_PSP).expect("official nodeForPsp"),
                pa_for_node: Schema::compile(b.clone(), ENVELOPE_PA_FOR_NODE).expect("official paForNode"),
                catalog_v2: Schema::compile(b.clone(), "CatalogoServizi_2_0_0.xsd").expect("official catalog"),
                legacy_psp: Schema::compile(b.clone(), ENVELOPE_LEGACY_PSP).expect("official legacy PSP schema"),
                legacy_pa: Schema::compile(b, ENVELOPE_LEGACY_PA).expect("official legacy EC schema"),
                root,
            })
        })
        .as_ref()
}

fn project() -> &'static Contract {
    static PROJECT: OnceLock<Contract> = OnceLock::new();
    PROJECT.get_or_init(|| Contract::load().expect("project contract"))
}

fn check(schema: &Schema, xml: &str, what: &str) {
    if let Err(e) = schema.validate(xml.as_bytes()) {
        panic!("{what} does not validate: {e}\n{xml}");
    }
}

/// A SOAP envelope carrying a nodeForPsp payload, judged by the official schemas.
pub fn assert_valid_node_for_psp(xml: &str) {
    match official() {
        Some(o) => check(&o.node_for_psp, xml, "response (official nodeForPsp.xsd)"),
        None => check(
            &project().node_for_psp,
            xml,
            "response (project nodeForPsp.xsd)",
        ),
    }
}

/// A SOAP envelope carrying a paForNode payload (what the gateway sends to ECs).
pub fn assert_valid_pa_for_node(xml: &str) {
    match official() {
        Some(o) => check(&o.pa_for_node, xml, "EC request (official paForNode.xsd)"),
        None => check(
            &project().pa_for_node,
            xml,
            "EC request (project paForNode.xsd)",
        ),
    }
}

/// A decoded `listaCatalogoServizi` document.
pub fn assert_valid_catalog(xml: &str) {
    match official() {
        Some(o) => check(
            &o.catalog_v2,
            xml,
            "catalog (official CatalogoServizi_2_0_0.xsd)",
        ),
        None => check(
            &project().catalog_v2,
            xml,
            "catalog (project CatalogoServizi_2_0_0.xsd)",
        ),
    }
}

/// A legacy PSP answer (NodoPerPsp richiesta avvisi), judged by the official WSDL's schema.
pub fn assert_valid_legacy_psp(xml: &str) {
    match official() {
        Some(o) => check(
            &o.legacy_psp,
            xml,
            "legacy answer (official NodoPerPspRichiestaAvvisi.wsdl)",
        ),
        None => check(
            &project().legacy_psp,
            xml,
            "legacy answer (project NodoPerPspRichiestaAvvisi.xsd)",
        ),
    }
}

/// A legacy EC message (paaChiediNumeroAvviso), judged by the official WSDL's schemas.
pub fn assert_valid_legacy_pa(xml: &str) {
    match official() {
        Some(o) => check(
            &o.legacy_pa,
            xml,
            "legacy EC request (official PaPerNodoRichiestaAvvisi.wsdl)",
        ),
        None => check(
            &project().legacy_pa,
            xml,
            "legacy EC request (project PaPerNodoRichiestaAvvisi.xsd)",
        ),
    }
}
