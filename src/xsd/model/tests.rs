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

fn one(schema: &str) -> Result<ServiceModel, ModelError> {
    let mut b = Bundle::default();
    b.insert("X.xsd", schema.as_bytes().to_vec());
    b.insert(
        "O.xsd",
        br#"<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:o"><xsd:element name="o" type="xsd:token"/></xsd:schema>"#.to_vec(),
    );
    read(&b, "X.xsd")
}

fn schema(form_default: &str, body: &str) -> String {
    format!(
        r#"<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:x="urn:x" xmlns:o="urn:o" targetNamespace="urn:x"{form_default}><xsd:import namespace="urn:o" schemaLocation="O.xsd"/>{body}</xsd:schema>"#
    )
}

#[test]
fn each_element_knows_the_namespace_of_its_instances() {
    let body = r#"<xsd:element name="r"><xsd:complexType><xsd:sequence><xsd:element name="a" type="xsd:string"/><xsd:element name="b" type="xsd:int" form="qualified"/><xsd:element ref="o:o"/></xsd:sequence></xsd:complexType></xsd:element>"#;
    let namespaces = |m: &ServiceModel| -> Vec<(String, Option<String>, &'static str)> {
        let Content::Complex(g) = &m.root.content else {
            panic!("complex root")
        };
        g.particles
            .iter()
            .map(|p| match p {
                Particle::Element(e) => match &e.content {
                    Content::Simple(s) => (e.name.clone(), e.namespace.clone(), s.builtin),
                    Content::Complex(_) => panic!("simple children"),
                },
                Particle::Group(_) => panic!("elements"),
            })
            .collect()
    };
    let unqualified = one(&schema("", body)).expect("model");
    assert_eq!(unqualified.root.namespace.as_deref(), Some("urn:x"));
    let x = || Some("urn:x".to_owned());
    let o = Some("urn:o".to_owned());
    assert_eq!(
        namespaces(&unqualified),
        [
            ("a".to_owned(), None, "string"),
            ("b".to_owned(), x(), "int"),
            ("o".to_owned(), o.clone(), "token")
        ]
    );
    let qualified = one(&schema(r#" elementFormDefault="qualified""#, body)).expect("model");
    assert_eq!(namespaces(&qualified)[0].1, x());
}

#[test]
fn a_restriction_step_s_enumeration_replaces_its_base_s() {
    let m = one(&schema(
        "",
        r#"<xsd:simpleType name="ab"><xsd:restriction base="xsd:string"><xsd:enumeration value="a"/><xsd:enumeration value="b"/></xsd:restriction></xsd:simpleType><xsd:element name="r"><xsd:simpleType><xsd:restriction base="x:ab"><xsd:enumeration value="a"/></xsd:restriction></xsd:simpleType></xsd:element>"#,
    ))
    .expect("model");
    let Content::Simple(s) = &m.root.content else {
        panic!("simple root")
    };
    assert_eq!(s.enumeration, ["a"]);
}

#[test]
fn constructs_that_change_validity_are_refused() {
    let key = r#"<xsd:element name="r" type="xsd:string"><xsd:unique name="u"><xsd:selector xpath="."/><xsd:field xpath="."/></xsd:unique></xsd:element>"#;
    let e = one(&schema("", key)).expect_err("identity constraint");
    assert!(e.problem.contains("xsd:unique"), "{e}");
    let abstract_type = r#"<xsd:complexType name="t" abstract="true"><xsd:sequence><xsd:element name="a" type="xsd:string"/></xsd:sequence></xsd:complexType><xsd:element name="r" type="x:t"/>"#;
    let e = one(&schema(r#" elementFormDefault="qualified""#, abstract_type))
        .expect_err("abstract type");
    assert!(e.problem.contains("abstract"), "{e}");
}
