//! The generator against the bundled service schemas, each instance judged by libxml2.

use super::*;
use crate::xsd::Schema;
use std::path::Path;
use std::sync::Arc;

fn bundle() -> Arc<Bundle> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("xsd/catalogo-servizi");
    Arc::new(Bundle::service_schemas(&dir).expect("service schemas"))
}

#[test]
fn every_bundled_service_schema_yields_a_valid_example_and_an_invalid_variant() {
    let b = bundle();
    let mut names: Vec<String> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("xsd/catalogo-servizi"))
            .expect("dir")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.ends_with(".xsd"))
            .collect();
    names.sort();
    assert_eq!(names.len(), 5, "{names:?}");
    for name in names {
        let ex = example(&b, &name).unwrap_or_else(|e| panic!("{name}: {e}"));
        let schema = Schema::compile(b.clone(), &name).expect("compiles");
        schema
            .validate(ex.xml.as_bytes())
            .unwrap_or_else(|e| panic!("{name}: {e}\n{}", ex.xml));
        let bad = ex.invalid_variant();
        assert!(schema.validate(bad.as_bytes()).is_err(), "{name}: {bad}");
    }
}

#[test]
fn patterns_and_choices_give_the_expected_values() {
    let b = bundle();
    let cup = example(&b, "Cup_1_0_0.xsd").expect("cup");
    assert!(
        cup.xml.contains("<organizationFiscalCode>11111111111<"),
        "{}",
        cup.xml
    );
    assert!(cup.xml.contains(">1.11</amount>"), "{}", cup.xml);
    assert!(cup.xml.contains(">a@a</debtorEmail>"), "{}", cup.xml);
    let cie = example(&b, "Cie_1_0_0.xsd").expect("cie");
    assert!(cie.xml.contains(">AAAAAA11A11A111A<"), "{}", cie.xml);
    let pesca = example(&b, "D847_Pesca_1_0_0.xsd").expect("pesca");
    assert!(pesca.xml.contains("<codicePratica>D847</codicePratica>"));
    assert_eq!(sample_pattern("[A-Z]{2}(x|y)?\\d+").as_deref(), Ok("AA1"));
}

#[test]
fn unsupported_constructs_are_named_with_their_schema() {
    let mut b = Bundle::default();
    b.insert(
        "a.xsd",
        br#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:a" elementFormDefault="qualified">
            <xs:element name="r"><xs:complexType><xs:attribute name="x" type="xs:string"/></xs:complexType></xs:element>
          </xs:schema>"#
            .to_vec(),
    );
    let e = example(&b, "a.xsd").expect_err("attributes are not supported");
    assert_eq!(e.schema, "a.xsd");
    assert!(e.construct.contains("xsd:attribute"), "{e}");
    assert_eq!(
        sample_pattern("[^a]").map_err(|e| e.contains("negated")),
        Err(true)
    );
}
