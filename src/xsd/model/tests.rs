//! The model against the bundled service schemas, and a construct it refuses by name.

use super::*;
use std::path::Path;

fn bundle() -> Bundle {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("xsd/catalogo-servizi");
    Bundle::service_schemas(&dir).expect("service schemas")
}

#[test]
fn every_bundled_service_schema_reads_into_a_model() {
    let b = bundle();
    let mut files: Vec<&str> = b
        .names()
        .filter(|n| *n != "sac-common-types-1.0.xsd")
        .collect();
    files.sort();
    assert_eq!(files.len(), 5, "{files:?}");
    for f in files {
        let m = read(&b, f).unwrap_or_else(|e| panic!("{e}"));
        assert!(!m.namespace.is_empty(), "{f}");
    }
}

#[test]
fn the_car_tax_model_has_its_choice_enumeration_and_lengths() {
    let m = read(&bundle(), "TassaAutomobilistica_1_1_0.xsd").expect("model");
    assert_eq!(m.root.name, "tassaAuto");
    let Content::Complex(seq) = &m.root.content else {
        panic!("complex root")
    };
    let Particle::Group(choice) = &seq.particles[0] else {
        panic!("a choice")
    };
    assert_eq!(choice.kind, GroupKind::Choice);
    let Particle::Element(vehicle) = &choice.particles[0] else {
        panic!("veicoloConTarga")
    };
    let Content::Complex(inner) = &vehicle.content else {
        panic!("complex vehicle")
    };
    let simple = |i: usize| match &inner.particles[i] {
        Particle::Element(ElementDecl {
            content: Content::Simple(s),
            ..
        }) => (**s).clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(simple(0).enumeration, ["1", "2", "4"]);
    assert_eq!(
        (simple(1).min_length, simple(1).max_length),
        (Some(7), Some(8))
    );
}

#[test]
fn cup_reads_the_imported_common_types_and_cie_its_pattern() {
    let b = bundle();
    let cup = format!("{:?}", read(&b, "Cup_1_0_0.xsd").expect("cup"));
    assert!(
        cup.contains("\\\\d+\\\\.\\\\d{2}"),
        "stAmount's pattern: {cup}"
    );
    let cie = format!("{:?}", read(&b, "Cie_1_0_0.xsd").expect("cie"));
    assert!(cie.contains("[0-9]{11}"), "{cie}");
}

#[test]
fn an_unsupported_construct_is_refused_naming_schema_and_construct() {
    let mut b = Bundle::default();
    b.insert(
        "X.xsd",
        br#"<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:x" elementFormDefault="qualified"><xsd:element name="r"><xsd:complexType><xsd:all><xsd:element name="a" type="xsd:string"/></xsd:all></xsd:complexType></xsd:element></xsd:schema>"#.to_vec(),
    );
    let e = read(&b, "X.xsd").expect_err("xsd:all");
    assert_eq!(e.schema, "X.xsd");
    assert!(e.problem.contains("xsd:all"), "{e}");
}
