//! A named set of schema files held in memory, from which compilation resolves every import.

use std::collections::BTreeMap;
use std::path::Path;

/// Schema files by file name. Imports are matched on the last path segment of their
/// `schemaLocation`, so a bundle must not hold two different files with the same name.
#[derive(Debug, Default, Clone)]
pub struct Bundle {
    files: BTreeMap<String, Vec<u8>>,
}

/// The project's own contract files (`xsd/`), compiled into the binary so the gateway never reads
/// schemas from disk at run time.
const EMBEDDED: &[(&str, &[u8])] = &[
    ("envelope.xsd", include_bytes!("../../xsd/envelope.xsd")),
    (
        "sac-common-types-1.0.xsd",
        include_bytes!("../../xsd/sac-common-types-1.0.xsd"),
    ),
    ("nodeForPsp.xsd", include_bytes!("../../xsd/nodeForPsp.xsd")),
    ("paForNode.xsd", include_bytes!("../../xsd/paForNode.xsd")),
    (
        "CatalogoServizi_2_0_0.xsd",
        include_bytes!("../../xsd/CatalogoServizi_2_0_0.xsd"),
    ),
    (
        "PagInf_RPT_RT_6_2_0.xsd",
        include_bytes!("../../xsd/PagInf_RPT_RT_6_2_0.xsd"),
    ),
    (
        "NodoPerPspRichiestaAvvisi.xsd",
        include_bytes!("../../xsd/NodoPerPspRichiestaAvvisi.xsd"),
    ),
    (
        "PaPerNodoRichiestaAvvisi.xsd",
        include_bytes!("../../xsd/PaPerNodoRichiestaAvvisi.xsd"),
    ),
    (
        "PaPerNodoRichiestaAvvisi_intestazione.xsd",
        include_bytes!("../../xsd/PaPerNodoRichiestaAvvisi_intestazione.xsd"),
    ),
];

/// The embedded files that service schemas import (not service schemas themselves).
pub const SERVICE_IMPORTS: &[&str] = &["sac-common-types-1.0.xsd"];

impl Bundle {
    /// The project's contract schemas plus the wrapper entry points used to validate envelopes.
    pub fn contract() -> Self {
        let mut b = Self::default();
        for (name, bytes) in EMBEDDED {
            b.insert(name, bytes.to_vec());
        }
        b.add_wrappers();
        b
    }

    /// Adds the synthetic entry points that validate a whole SOAP envelope with its payload.
    /// Wrappers whose payload schemas are not in the bundle are skipped.
    pub fn add_wrappers(&mut self) {
        for (name, imports) in WRAPPERS {
            if imports
                .iter()
                .any(|(_, location)| self.get(location).is_none())
            {
                continue;
            }
            let mut text = String::from(
                "<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\">\
                 <xs:import namespace=\"http://schemas.xmlsoap.org/soap/envelope/\" schemaLocation=\"envelope.xsd\"/>",
            );
            for (ns, location) in *imports {
                text.push_str(&format!(
                    "<xs:import namespace=\"{ns}\" schemaLocation=\"{location}\"/>"
                ));
            }
            text.push_str("</xs:schema>");
            self.insert(name, text.into_bytes());
        }
    }

    /// The service schemas in `dir` (`service_schema_dir`), plus the compiled-in common types they
    /// may import (`Cup_1_0_0.xsd` imports `sac-common-types-1.0.xsd`), so a folder holding only
    /// service schemas compiles without touching disk or network. A file of the same name in
    /// `dir` wins: the folder is the operator's.
    pub fn service_schemas(dir: &Path) -> std::io::Result<Self> {
        let mut b = Self::from_dir(dir)?;
        for (name, bytes) in EMBEDDED {
            if SERVICE_IMPORTS.contains(name) && b.get(name).is_none() {
                b.insert(name, bytes.to_vec());
            }
        }
        Ok(b)
    }

    /// Reads every `*.xsd` file directly inside `dir` (not recursive).
    pub fn from_dir(dir: &Path) -> std::io::Result<Self> {
        let mut b = Self::default();
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let path = entry.path();
            let is_xsd = path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("xsd"));
            if !is_xsd || !entry.file_type()?.is_file() {
                continue;
            }
            if let Some(name) = path.file_name().and_then(|n| n.to_str()) {
                b.insert(name, std::fs::read(&path)?);
            }
        }
        Ok(b)
    }

    pub fn insert(&mut self, name: &str, bytes: Vec<u8>) {
        self.files.insert(name.to_owned(), bytes);
    }

    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.files.get(name).map(Vec::as_slice)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    /// Looks a `schemaLocation` (possibly relative, possibly resolved by libxml2) up by file name.
    pub fn get_by_location(&self, location: &str) -> Option<&[u8]> {
        let name = location.rsplit(['/', '\\']).next().unwrap_or(location);
        self.get(name)
    }
}

/// Wrapper entry points: (entry name, [(namespace, schema file)] carried in the envelope).
type Wrapper = (&'static str, &'static [(&'static str, &'static str)]);

const WRAPPERS: &[Wrapper] = &[
    (
        ENVELOPE_NODE_FOR_PSP,
        &[(
            "http://pagopa-api.pagopa.gov.it/node/nodeForPsp.xsd",
            "nodeForPsp.xsd",
        )],
    ),
    (
        ENVELOPE_PA_FOR_NODE,
        &[(
            "http://pagopa-api.pagopa.gov.it/pa/paForNode.xsd",
            "paForNode.xsd",
        )],
    ),
    (
        ENVELOPE_LEGACY_PSP,
        &[(
            "http://ws.pagamenti.telematici.gov/",
            "NodoPerPspRichiestaAvvisi.xsd",
        )],
    ),
    (
        ENVELOPE_LEGACY_PA,
        &[
            (
                "http://ws.pagamenti.telematici.gov/",
                "PaPerNodoRichiestaAvvisi.xsd",
            ),
            (
                "http://ws.pagamenti.telematici.gov/ppthead",
                "PaPerNodoRichiestaAvvisi_intestazione.xsd",
            ),
        ],
    ),
];

/// Entry that validates a SOAP 1.1 envelope carrying a nodeForPsp payload.
pub const ENVELOPE_NODE_FOR_PSP: &str = "sanp-envelope-nodeForPsp.xsd";
/// Entry that validates a SOAP 1.1 envelope carrying a paForNode payload.
pub const ENVELOPE_PA_FOR_NODE: &str = "sanp-envelope-paForNode.xsd";
/// Entry for the legacy PSP operations (NodoPerPsp "richiesta avvisi").
pub const ENVELOPE_LEGACY_PSP: &str = "sanp-envelope-NodoPerPspRichiestaAvvisi.xsd";
/// Entry for the legacy EC operation (paaChiediNumeroAvviso, with its intestazionePPT header).
pub const ENVELOPE_LEGACY_PA: &str = "sanp-envelope-PaPerNodoRichiestaAvvisi.xsd";

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::xsd::Schema;

    fn cup(debtor: &str) -> String {
        format!(
            "<cup:pagamentoCup xmlns:cup=\"http://PuntoAccessoPSP.spcoop.gov.it/Cup\">\
             <cup:istatCode>058091</cup:istatCode><cup:companyName>Roma Capitale</cup:companyName>\
             <cup:debtorFiscalCode>{debtor}</cup:debtorFiscalCode><cup:debtorFullName>Mario Rossi</cup:debtorFullName>\
             <cup:amount>36.15</cup:amount></cup:pagamentoCup>"
        )
    }

    /// A folder with only Cup_1_0_0.xsd, importing the common types from where the official
    /// repository keeps them: the import resolves to the compiled-in copy, stText20 included.
    #[test]
    fn a_service_schema_importing_the_common_types_compiles_from_a_folder_without_them() {
        let dir = tempfile::tempdir().expect("tempdir");
        let official = include_str!("../../xsd/catalogo-servizi/Cup_1_0_0.xsd").replace(
            "schemaLocation=\"../sac-common-types-1.0.xsd\"",
            "schemaLocation=\"../xsd-common/sac-common-types-1.0.xsd\"",
        );
        std::fs::write(dir.path().join("Cup_1_0_0.xsd"), official).expect("write");
        let alone = Bundle::from_dir(dir.path()).expect("read dir");
        assert!(
            Schema::compile(Arc::new(alone), "Cup_1_0_0.xsd").is_err(),
            "without the common types the import cannot resolve"
        );
        let bundle = Bundle::service_schemas(dir.path()).expect("read dir");
        let schema = Schema::compile(Arc::new(bundle), "Cup_1_0_0.xsd").expect("compiles");
        assert!(schema.validate(cup("RSSMRA80A01H501U").as_bytes()).is_ok());
        // debtorFiscalCode is common:stText20: 20 characters pass, 21 do not.
        assert!(schema.validate(cup(&"A".repeat(20)).as_bytes()).is_ok());
        assert!(schema.validate(cup(&"A".repeat(21)).as_bytes()).is_err());
    }

    /// The folder's own copy of the common types is the one used.
    #[test]
    fn a_common_types_file_in_the_folder_wins_over_the_compiled_in_copy() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("sac-common-types-1.0.xsd"), "<mine/>").expect("write");
        let bundle = Bundle::service_schemas(dir.path()).expect("read dir");
        assert_eq!(
            bundle.get("sac-common-types-1.0.xsd"),
            Some(&b"<mine/>"[..])
        );
    }
}
