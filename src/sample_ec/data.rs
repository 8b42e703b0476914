//! The service data a request carries: decoded from base64, and validated against the bundled
//! service schema of their root element's namespace.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;

use crate::soap::{self, Limits};
use crate::xsd::{Bundle, CompileError, Schema};

/// The bundled service schemas (`xsd/catalogo-servizi/`), compiled in, by target namespace.
const SERVICE_SCHEMAS: &[(&str, &str, &[u8])] = &[
    (
        "A001_Passaporto_1_0_0.xsd",
        "http://PuntoAccessoPSP.spcoop.gov.it/pagamentoPratica",
        include_bytes!("../../xsd/catalogo-servizi/A001_Passaporto_1_0_0.xsd"),
    ),
    (
        "Cie_1_0_0.xsd",
        "http://PuntoAccessoPSP.spcoop.gov.it/pagamentoCIE",
        include_bytes!("../../xsd/catalogo-servizi/Cie_1_0_0.xsd"),
    ),
    (
        "Cup_1_0_0.xsd",
        "http://PuntoAccessoPSP.spcoop.gov.it/Cup",
        include_bytes!("../../xsd/catalogo-servizi/Cup_1_0_0.xsd"),
    ),
    (
        "D847_Pesca_1_0_0.xsd",
        "http://PuntoAccessoPSP.spcoop.gov.it/praticaPagamentoCanoni",
        include_bytes!("../../xsd/catalogo-servizi/D847_Pesca_1_0_0.xsd"),
    ),
    (
        "TassaAutomobilistica_1_1_0.xsd",
        "http://PuntoAccessoPSP.spcoop.gov.it/TassaAuto",
        include_bytes!("../../xsd/catalogo-servizi/TassaAutomobilistica_1_1_0.xsd"),
    ),
];

/// The service data as text (empty when absent, not base64 or not UTF-8).
pub fn decode(b64: Option<&str>) -> String {
    b64.map(|b| {
        b.chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect::<String>()
    })
    .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
    .map(|d| String::from_utf8_lossy(&d).into_owned())
    .unwrap_or_default()
}

/// The service schemas by target namespace, with their file names.
pub struct ServiceSchemas {
    by_namespace: BTreeMap<&'static str, (&'static str, Schema)>,
}

impl ServiceSchemas {
    pub fn bundled() -> Result<Self, CompileError> {
        let mut bundle = Bundle::default();
        for (name, _, bytes) in SERVICE_SCHEMAS {
            bundle.insert(name, bytes.to_vec());
        }
        // Cup imports the common types: the contract bundle has them compiled in.
        let contract = Bundle::contract();
        if let Some(common) = contract.get("sac-common-types-1.0.xsd") {
            bundle.insert("sac-common-types-1.0.xsd", common.to_vec());
        }
        let bundle = Arc::new(bundle);
        let mut by_namespace = BTreeMap::new();
        for (name, ns, _) in SERVICE_SCHEMAS {
            by_namespace.insert(*ns, (*name, Schema::compile(bundle.clone(), name)?));
        }
        Ok(Self { by_namespace })
    }

    /// Validates decoded service data; the error is the EC's KO description.
    pub fn validate(&self, data: &str) -> Result<(), String> {
        let root = soap::tree::parse(data.as_bytes(), &Limits::default())
            .map_err(|e| format!("datiSpecificiServizio non leggibile: {e}"))?;
        let ns = root.ns.as_deref().unwrap_or("");
        let (name, schema) = self
            .by_namespace
            .get(ns)
            .ok_or_else(|| format!("nessuno schema di servizio per il namespace {ns:?}"))?;
        schema
            .validate(data.as_bytes())
            .map_err(|e| format!("datiSpecificiServizio non valido per {name}: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every schema of `xsd/catalogo-servizi/` is compiled in, under its own target namespace.
    #[test]
    fn every_bundled_service_schema_is_served() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("xsd/catalogo-servizi");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .expect("xsd/catalogo-servizi")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".xsd"))
            .collect();
        on_disk.sort();
        let embedded: Vec<String> = SERVICE_SCHEMAS.iter().map(|s| s.0.to_owned()).collect();
        assert_eq!(embedded, on_disk);
        for (name, ns, bytes) in SERVICE_SCHEMAS {
            let text = String::from_utf8_lossy(bytes);
            assert!(
                text.contains(&format!("targetNamespace=\"{ns}\"")),
                "{name}"
            );
        }
        let schemas = ServiceSchemas::bundled().expect("compile");
        let bad = "<ta:tassaAuto xmlns:ta=\"http://PuntoAccessoPSP.spcoop.gov.it/TassaAuto\"/>";
        let e = schemas.validate(bad).expect_err("incomplete");
        assert!(e.contains("TassaAutomobilistica_1_1_0.xsd"), "{e}");
        let e = schemas
            .validate("<x xmlns=\"urn:other\"/>")
            .expect_err("unknown");
        assert!(e.contains("urn:other"), "{e}");
    }
}
