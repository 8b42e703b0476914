//! Proves the project's trimmed contract (wsdl/, xsd/) wire-equivalent to the official pagoPA files.
//! The comparer itself is `support::contract`; here are the checks, its self-checks and the
//! differential validation corpus.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use roxmltree::{Document, Node};
use sanp_gateway::xsd::{
    Bundle, Contract, Schema, ENVELOPE_LEGACY_PA, ENVELOPE_LEGACY_PSP, ENVELOPE_NODE_FOR_PSP,
};

use crate::support;
use crate::support::contract::{
    analyse, closure_problems, compare_schemas, compare_wsdls, files_with_ext, inline_schema, kids,
    load_inline_schema, load_official, load_schema, official_dir, pair_of, parse, read,
    schema_pairs, space_of, split_expanded, Extent, Ref, SchemaFile, INLINE_PAIRS, PAFN_NS,
    PPTHEAD_NS, SCHEMA_PAIRS, SOAP_NS, WIRE_ROOTS, WSAM_NS, WSDL_NS, WSDL_PAIRS, XSD_NS,
};
use crate::support::{repo, NFP_NS, PAY_I_NS, PPT_NS};

// ---------------------------------------------------------------------------------------------
// In-memory alterations, for the self-checks
// ---------------------------------------------------------------------------------------------

fn top_level<'a, 'i>(doc: &'a Document<'i>, kind: &str, name: &str) -> Node<'a, 'i> {
    doc.root_element()
        .children()
        .find(|c| c.has_tag_name((XSD_NS, kind)) && c.attribute("name") == Some(name))
        .unwrap_or_else(|| panic!("no top-level {kind} {name}"))
}

/// Sets (or with `None` removes) `attr` on the first `xsd:<local>` inside top-level `kind name`
/// for which `pick` holds, editing the source text so the whole pipeline sees the change.
fn alter_attr(
    text: &str,
    (kind, name): (&str, &str),
    local: &str,
    pick: impl Fn(Node<'_, '_>) -> bool,
    attr: &str,
    value: Option<&str>,
) -> String {
    let doc = parse("text to alter", text);
    let target = top_level(&doc, kind, name)
        .descendants()
        .find(|d| d.has_tag_name((XSD_NS, local)) && pick(*d))
        .unwrap_or_else(|| panic!("no xsd:{local} to alter in {kind} {name}"));
    splice_attr(text, target, attr, value)
}

/// Sets (or with `None` removes) `attr` on the first element anywhere for which `pick` holds.
fn alter_any_attr(
    text: &str,
    pick: impl Fn(Node<'_, '_>) -> bool,
    attr: &str,
    value: Option<&str>,
) -> String {
    let doc = parse("text to alter", text);
    let target = doc
        .descendants()
        .find(|d| d.is_element() && pick(*d))
        .unwrap_or_else(|| panic!("no element to alter {attr} on"));
    splice_attr(text, target, attr, value)
}

/// `text` with `attr` of `target` (a node parsed from `text`) set to `value`, or removed.
fn splice_attr(text: &str, target: Node<'_, '_>, attr: &str, value: Option<&str>) -> String {
    let a = target
        .attributes()
        .find(|a| a.name() == attr)
        .unwrap_or_else(|| panic!("no {attr} to alter on {}", target.tag_name().name()));
    let range = if value.is_some() {
        a.range_value()
    } else {
        a.range()
    };
    let mut out = text.to_owned();
    out.replace_range(range, value.unwrap_or(""));
    out
}

/// Swaps two local `xsd:element`s (by name) inside top-level `kind name`.
fn swap_elements(text: &str, (kind, name): (&str, &str), first: &str, second: &str) -> String {
    let doc = parse("text to alter", text);
    let def = top_level(&doc, kind, name);
    let range = |n: &str| {
        def.descendants()
            .find(|d| d.has_tag_name((XSD_NS, "element")) && d.attribute("name") == Some(n))
            .unwrap_or_else(|| panic!("no element {n} in {kind} {name}"))
            .range()
    };
    let (a, b) = (range(first), range(second));
    assert!(a.end <= b.start, "{first} must come before {second}");
    format!(
        "{}{}{}{}{}",
        &text[..a.start],
        &text[b.clone()],
        &text[a.end..b.start],
        &text[a.clone()],
        &text[b.end..]
    )
}

/// Removes top-level `kind name` from the text.
fn remove_definition(text: &str, (kind, name): (&str, &str)) -> String {
    let doc = parse("text to alter", text);
    let mut out = text.to_owned();
    out.replace_range(top_level(&doc, kind, name).range(), "");
    out
}

/// Adds an attribute to the root element.
fn add_root_attr(text: &str, attr: &str) -> String {
    let doc = parse("text to alter", text);
    let start = doc.root_element().range().start;
    let name_end = text[start..]
        .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
        .map(|i| start + i)
        .expect("root start tag ends");
    let mut out = text.to_owned();
    out.insert_str(name_end, &format!(" {attr}"));
    out
}

/// Picks a local element by name.
fn named(n: &'static str) -> impl Fn(Node<'_, '_>) -> bool {
    move |d| d.attribute("name") == Some(n)
}

fn analysed(label: &str, text: &str) -> SchemaFile {
    analyse(label, text).unwrap_or_else(|e| panic!("{e}"))
}

// ---------------------------------------------------------------------------------------------
// Tests: structure
// ---------------------------------------------------------------------------------------------

/// Every definition the project keeps is the official one, prefix-insensitively, file by file.
#[test]
fn every_project_schema_definition_equals_its_official_counterpart() {
    let Some(api) = official_dir() else { return };
    let pairs = schema_pairs();
    // A schema file nobody compares would escape the check.
    let covered: BTreeSet<&str> = pairs.iter().map(|(p, _, _)| p.as_str()).collect();
    for file in files_with_ext(&repo(), "xsd", "xsd") {
        assert!(
            covered.contains(file.as_str()),
            "{file} has no official counterpart in this test"
        );
    }
    let mut problems = Vec::new();
    let mut total = 0;
    for (project, origin, extent) in &pairs {
        let (p, c) = compare_schemas(
            &load_schema(&repo().join(project)),
            &load_official(&api, origin),
            *extent,
        );
        eprintln!("{project}: {c} definitions compared ({extent:?})");
        assert!(c > 0, "{project}: nothing compared");
        total += c;
        problems.extend(p);
    }
    eprintln!(
        "schemas: {total} definitions compared across {} files",
        pairs.len()
    );
    assert!(
        problems.is_empty(),
        "{} difference(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// The service schemas the project keeps (`xsd/catalogo-servizi/`): the official set, SANP 3.13.0.
const SERVICE_SCHEMAS: &[&str] = &[
    "A001_Passaporto_1_0_0.xsd",
    "Cie_1_0_0.xsd",
    "Cup_1_0_0.xsd",
    "D847_Pesca_1_0_0.xsd",
    "TassaAutomobilistica_1_1_0.xsd",
];

/// The project keeps a copy of every official service schema and no other, so a service schema
/// added or dropped on either side is noticed (the copies themselves are compared above).
#[test]
fn the_project_keeps_every_official_service_schema() {
    let names = |root: &Path, sub: &str| -> Vec<String> {
        files_with_ext(root, sub, "xsd")
            .iter()
            .map(|p| p.rsplit('/').next().unwrap_or(p).to_owned())
            .collect()
    };
    assert_eq!(names(&repo(), "xsd/catalogo-servizi"), SERVICE_SCHEMAS);
    let Some(api) = official_dir() else { return };
    assert_eq!(
        names(&api, "catalogo-servizi"),
        SERVICE_SCHEMAS,
        "the official catalogo-servizi/ changed: copy the new schema into xsd/catalogo-servizi/"
    );
}

/// Every reference resolves within the project's own files, so the trimming dropped nothing needed.
#[test]
fn every_reference_in_the_project_schemas_resolves_inside_the_project() {
    let problems: Vec<String> = schema_pairs()
        .iter()
        .flat_map(|(project, _, _)| closure_problems(&repo().join(project)))
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The payload elements of the served operations are global elements in both sets of schemas.
#[test]
fn the_wire_root_elements_exist_in_the_project_and_the_official_schemas() {
    let api = official_dir();
    for (project, ns, roots) in WIRE_ROOTS {
        let (origin, _) = pair_of(project);
        let mut files = vec![load_schema(&repo().join(project))];
        if let Some(api) = &api {
            files.push(load_official(api, &origin));
        }
        for file in &files {
            assert_eq!(file.tns.as_deref(), Some(*ns), "{}", file.label);
            for root in *roots {
                assert!(
                    file.defs
                        .contains_key(&("element".to_owned(), (*root).to_owned())),
                    "{}: no global element {root}",
                    file.label
                );
            }
        }
    }
}

/// The trimmed files hold exactly what the served operations reach from their payload elements,
/// and the service schemas (whose data `demandPaymentNotice` validates) from their global elements.
#[test]
fn the_trimmed_schemas_hold_only_what_the_served_operations_reach() {
    let trimmed: Vec<SchemaFile> = SCHEMA_PAIRS
        .iter()
        .filter(|(_, _, e)| *e == Extent::Trimmed)
        .map(|(p, _, _)| load_schema(&repo().join(p)))
        .collect();
    // Whole copies; walked through only to find the common types they use (Cup_1_0_0.xsd).
    let services: Vec<SchemaFile> = files_with_ext(&repo(), "xsd/catalogo-servizi", "xsd")
        .iter()
        .map(|p| load_schema(&repo().join(p)))
        .collect();
    let mut reached: BTreeSet<(String, Ref)> = BTreeSet::new();
    let service_roots = services.iter().flat_map(|f| {
        f.defs
            .keys()
            .filter(|(kind, _)| kind == "element")
            .map(|(_, name)| Ref {
                space: "element",
                ns: f.tns.clone().unwrap_or_default(),
                local: name.clone(),
            })
    });
    let mut todo: Vec<Ref> = WIRE_ROOTS
        .iter()
        .flat_map(|(_, ns, roots)| {
            roots.iter().map(|r| Ref {
                space: "element",
                ns: (*ns).to_owned(),
                local: (*r).to_owned(),
            })
        })
        .chain(service_roots)
        .collect();
    while let Some(r) = todo.pop() {
        // XSD built-ins are in no file; a dangling reference is the closure test's to report.
        let Some((file, def)) = trimmed
            .iter()
            .chain(&services)
            .filter(|f| f.tns.as_deref().unwrap_or("") == r.ns)
            .find_map(|f| f.def_in_space(r.space, &r.local).map(|(_, d)| (f, d)))
        else {
            continue;
        };
        if reached.insert((file.label.clone(), r)) {
            todo.extend(def.refs.iter().cloned());
        }
    }
    // Whole copies keep everything by design; their wire roots are checked to exist instead.
    let whole: Vec<&str> = WIRE_ROOTS
        .iter()
        .map(|(p, _, _)| *p)
        .filter(|p| pair_of(p).1 == Extent::Whole)
        .collect();
    eprintln!("wire schemas copied whole (not trimmed): {whole:?}");
    let mut unreached = Vec::new();
    for file in &trimmed {
        for (kind, name) in file.defs.keys() {
            let space = space_of(kind).expect("definition kind");
            let hit = reached
                .iter()
                .any(|(l, r)| l == &file.label && r.space == space && &r.local == name);
            if !hit {
                unreached.push(format!("{}: {kind} {name}", file.label));
            }
        }
    }
    eprintln!(
        "trimmed schemas: {} definitions reached from the wire roots",
        reached.len()
    );
    assert!(
        unreached.is_empty(),
        "not reached from any served operation:\n{}",
        unreached.join("\n")
    );
}

/// Every operation of the project WSDLs is the official one: messages, SOAPAction, style, use, names.
#[test]
fn every_project_wsdl_operation_matches_the_official_operation() {
    let Some(api) = official_dir() else { return };
    let covered: BTreeSet<&str> = WSDL_PAIRS.iter().map(|(p, _)| *p).collect();
    for file in files_with_ext(&repo(), "wsdl", "wsdl") {
        assert!(
            covered.contains(file.as_str()),
            "{file} has no official counterpart in this test"
        );
    }
    let mut problems = Vec::new();
    let mut operations = 0;
    let (mut actions, mut headers) = (Vec::new(), Vec::new());
    for (project, official) in WSDL_PAIRS {
        let project_path = repo().join(project);
        let report = compare_wsdls(project, &read(&project_path), &read(&api.join(official)));
        eprintln!("{project}: operations compared: {:?}", report.operations);
        assert!(
            !report.operations.is_empty(),
            "{project}: no operation compared"
        );
        operations += report.operations.len();
        problems.extend(report.problems);
        actions.extend(report.actions);
        headers.extend(report.headers);
        // Each part element must be a global element of a schema the project WSDL imports.
        let text = read(&project_path);
        let doc = parse(project, &text);
        let schemas: Vec<SchemaFile> = doc
            .descendants()
            .filter(|n| n.has_tag_name((XSD_NS, "import")))
            .filter_map(|i| i.attribute("schemaLocation"))
            .map(|loc| load_schema(&project_path.parent().expect("wsdl dir").join(loc)))
            .collect();
        for element in &report.part_elements {
            let (ns, local) = split_expanded(element);
            let found = schemas
                .iter()
                .any(|s| s.tns.as_deref() == Some(ns) && s.has("element", local));
            assert!(
                found,
                "{project}: part element {element} is not in the imported project schemas"
            );
        }
    }
    eprintln!(
        "wsdl: {operations} operations, {} wsam:Action, {} soap:header compared",
        actions.len(),
        headers.len()
    );
    assert!(
        problems.is_empty(),
        "{} difference(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
    // Not vacuous: the three legacy operations carry an action each way, and the EC operation
    // its intestazionePPT header.
    assert_eq!(actions.len(), 6, "{actions:#?}");
    assert_eq!(
        headers,
        ["paaChiediNumeroAvviso input \
          {http://NodoPagamentiSPC.spcoop.gov.it/servizi/RichiestaAvvisi}paaChiediNumeroAvviso#header (literal)"]
    );
}

// ---------------------------------------------------------------------------------------------
// Tests: the comparison itself
// ---------------------------------------------------------------------------------------------

/// The comparison is not vacuous: each small alteration of a project file is reported, against
/// the official file when present (else against the unaltered project file).
#[test]
fn the_canonical_comparison_reports_every_deliberate_alteration() {
    let api = official_dir();
    let common = read(&repo().join("xsd/sac-common-types-1.0.xsd"));
    let nfp = read(&repo().join("xsd/nodeForPsp.xsd"));
    let catalog = read(&repo().join("xsd/CatalogoServizi_2_0_0.xsd"));
    let nfp_request = ("complexType", "demandPaymentNoticeRequest");
    let (common, nfp, catalog) = (common.as_str(), nfp.as_str(), catalog.as_str());
    let legacy_psp = read(&repo().join("xsd/NodoPerPspRichiestaAvvisi.xsd"));
    let legacy_pa = read(&repo().join("xsd/PaPerNodoRichiestaAvvisi.xsd"));
    let header = read(&repo().join("xsd/PaPerNodoRichiestaAvvisi_intestazione.xsd"));
    let pag_inf = read(&repo().join("xsd/PagInf_RPT_RT_6_2_0.xsd"));
    let pag_inf_import = "<xsd:import schemaLocation=\"PagInf_RPT_RT_6_2_0.xsd\" \
                          namespace=\"http://www.digitpa.gov.it/schemas/2011/Pagamenti/\" />";
    let cie = read(&repo().join("xsd/catalogo-servizi/Cie_1_0_0.xsd"));
    let cup = read(&repo().join("xsd/catalogo-servizi/Cup_1_0_0.xsd"));
    let cup_import =
        "<xs:import namespace=\"http://pagopa-api.pagopa.gov.it/xsd/common-types/v1.0.0/\" \
                      schemaLocation=\"../sac-common-types-1.0.xsd\"\n               \
                      xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" />";
    let cases: Vec<(&str, &str, String, Extent, &str)> = vec![
        (
            "stText35 maxLength 35 → 36",
            "xsd/sac-common-types-1.0.xsd",
            alter_attr(
                common,
                ("simpleType", "stText35"),
                "maxLength",
                |_| true,
                "value",
                Some("36"),
            ),
            Extent::Trimmed,
            "simpleType stText35 differs",
        ),
        (
            "stText20 maxLength 20 → 21 (Cup's debtorFiscalCode)",
            "xsd/sac-common-types-1.0.xsd",
            alter_attr(
                common,
                ("simpleType", "stText20"),
                "maxLength",
                |_| true,
                "value",
                Some("21"),
            ),
            Extent::Trimmed,
            "simpleType stText20 differs",
        ),
        (
            "CIE municipality code of 12",
            "xsd/catalogo-servizi/Cie_1_0_0.xsd",
            alter_attr(
                &cie,
                ("simpleType", "stCFEnte"),
                "length",
                |_| true,
                "value",
                Some("12"),
            ),
            Extent::Whole,
            "simpleType stCFEnte differs",
        ),
        (
            "Cup debtorEmail made mandatory",
            "xsd/catalogo-servizi/Cup_1_0_0.xsd",
            alter_attr(
                &cup,
                ("complexType", "ctPagamentoCup"),
                "element",
                named("debtorEmail"),
                "minOccurs",
                None,
            ),
            Extent::Whole,
            "complexType ctPagamentoCup differs",
        ),
        (
            "Cup without its common-types import",
            "xsd/catalogo-servizi/Cup_1_0_0.xsd",
            vary(&cup, cup_import, ""),
            Extent::Whole,
            "imports namespace Some(\"http://pagopa-api.pagopa.gov.it/xsd/common-types/v1.0.0/\"), \
             which this whole copy does not",
        ),
        (
            "idPSP and idBrokerPSP swapped",
            "xsd/nodeForPsp.xsd",
            swap_elements(nfp, nfp_request, "idPSP", "idBrokerPSP"),
            Extent::Trimmed,
            "complexType demandPaymentNoticeRequest differs",
        ),
        (
            "idPSP typed in another namespace",
            "xsd/nodeForPsp.xsd",
            alter_attr(
                nfp,
                nfp_request,
                "element",
                named("idPSP"),
                "type",
                Some("common:stIdPSP"),
            ),
            Extent::Trimmed,
            "complexType demandPaymentNoticeRequest differs",
        ),
        (
            "dueDate made mandatory",
            "xsd/nodeForPsp.xsd",
            alter_attr(
                nfp,
                ("complexType", "ctPaymentOptionDescription"),
                "element",
                named("dueDate"),
                "minOccurs",
                None,
            ),
            Extent::Trimmed,
            "complexType ctPaymentOptionDescription differs",
        ),
        (
            "children made qualified",
            "xsd/nodeForPsp.xsd",
            add_root_attr(nfp, "elementFormDefault=\"qualified\""),
            Extent::Trimmed,
            "elementFormDefault",
        ),
        (
            "a definition dropped from a whole copy",
            "xsd/CatalogoServizi_2_0_0.xsd",
            remove_definition(catalog, ("simpleType", "stCommissione")),
            Extent::Whole,
            "simpleType stCommissione, which this whole copy lacks",
        ),
        (
            // Both legacy sides use namespace ppt with different IUV patterns: a mix-up shows.
            "the EC-side stCodIUV pattern in the PSP-side schema",
            "xsd/NodoPerPspRichiestaAvvisi.xsd",
            alter_attr(
                &legacy_psp,
                ("simpleType", "stCodIUV"),
                "pattern",
                |_| true,
                "value",
                Some("[0-9]{5,15}|[0-9]{17}"),
            ),
            Extent::Whole,
            "simpleType stCodIUV differs",
        ),
        (
            "a legacy definition dropped",
            "xsd/PaPerNodoRichiestaAvvisi.xsd",
            remove_definition(&legacy_pa, ("complexType", "ctRisposta")),
            Extent::Whole,
            "complexType ctRisposta, which this whole copy lacks",
        ),
        (
            "the PagInf import dropped",
            "xsd/PaPerNodoRichiestaAvvisi.xsd",
            vary(&legacy_pa, pag_inf_import, ""),
            Extent::Whole,
            "imports namespace Some(\"http://www.digitpa.gov.it/schemas/2011/Pagamenti/\"), \
             which this whole copy does not",
        ),
        (
            "an intestazionePPT child renamed",
            "xsd/PaPerNodoRichiestaAvvisi_intestazione.xsd",
            alter_attr(
                &header,
                ("element", "intestazionePPT"),
                "element",
                named("identificativoDominio"),
                "name",
                Some("idDominio"),
            ),
            Extent::Whole,
            "element intestazionePPT differs",
        ),
        (
            "stImporto maxInclusive raised",
            "xsd/PagInf_RPT_RT_6_2_0.xsd",
            alter_attr(
                &pag_inf,
                ("simpleType", "stImporto"),
                "maxInclusive",
                |_| true,
                "value",
                Some("9999999999.99"),
            ),
            Extent::Whole,
            "simpleType stImporto differs",
        ),
    ];
    for (what, project, altered, extent, expected) in &cases {
        let (origin, paired_extent) = pair_of(project);
        assert_eq!(*extent, paired_extent, "{what}: extent of {project}");
        let reference = match &api {
            Some(api) => load_official(api, &origin),
            None => load_schema(&repo().join(project)),
        };
        let unaltered = load_schema(&repo().join(project));
        let (clean, _) = compare_schemas(&unaltered, &reference, *extent);
        assert!(
            clean.is_empty(),
            "{what}: the unaltered file must compare equal: {clean:?}"
        );
        let (problems, _) = compare_schemas(&analysed("altered", altered), &reference, *extent);
        assert!(
            problems.iter().any(|p| p.contains(expected)),
            "{what}: expected a difference mentioning `{expected}`, got {problems:#?}"
        );
    }
}

/// Prefixes, a default XSD namespace, attribute order, comments and annotations do not matter;
/// what an unprefixed QName resolves to does.
#[test]
fn the_canonical_comparison_ignores_prefixes_and_comments_but_not_namespaces() {
    let official = r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:t="urn:t" targetNamespace="urn:t">
        <xs:simpleType name="s"><xs:annotation><xs:documentation>doc</xs:documentation></xs:annotation>
          <xs:restriction base="xs:string"><xs:maxLength value="3"/></xs:restriction></xs:simpleType>
        <xs:complexType name="c"><xs:sequence><xs:element name="e" type="t:s" minOccurs="0"/></xs:sequence></xs:complexType>
        </xs:schema>"#;
    let renamed = r#"<!-- copy --><schema xmlns="http://www.w3.org/2001/XMLSchema" xmlns:p="urn:t" targetNamespace="urn:t">
        <simpleType name="s">
          <restriction base="string"> <!-- why --> <maxLength value="3"/> </restriction>
        </simpleType>
        <complexType name="c"><sequence><element minOccurs="0" type="p:s" name="e"/></sequence></complexType>
        </schema>"#;
    // Same text, but `s` now means {XSD}s because the default namespace is XSD's.
    let rebound = renamed.replace("type=\"p:s\"", "type=\"s\"");
    let reference = analysed("official", official);
    let (problems, compared) =
        compare_schemas(&analysed("renamed", renamed), &reference, Extent::Whole);
    assert_eq!(compared, 2);
    assert!(problems.is_empty(), "{problems:#?}");
    let (problems, _) = compare_schemas(&analysed("rebound", &rebound), &reference, Extent::Whole);
    assert!(
        problems.iter().any(|p| p.contains("complexType c differs")),
        "{problems:#?}"
    );
}

/// The WSDL comparison is not vacuous either, and ignores only the placeholder address.
#[test]
fn the_wsdl_comparison_reports_every_deliberate_alteration() {
    let original = read(&repo().join("wsdl/nodeForPsp.wsdl"));
    let original = original.as_str();
    let soap = |local: &'static str| move |n: Node<'_, '_>| n.has_tag_name((SOAP_NS, local));
    let demand_part = |n: Node<'_, '_>| {
        n.has_tag_name((WSDL_NS, "part"))
            && n.parent().and_then(|m| m.attribute("name")) == Some("demandPaymentNotice")
    };
    let action = |n: Node<'_, '_>| n.attribute("soapAction") == Some("demandPaymentNotice");
    let binding = |n: Node<'_, '_>| n.has_tag_name((WSDL_NS, "binding"));
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "another SOAPAction",
            alter_any_attr(
                original,
                action,
                "soapAction",
                Some("demandPaymentNoticeV2"),
            ),
            "demandPaymentNotice soapAction",
        ),
        (
            "request part typed with the response element",
            alter_any_attr(
                original,
                demand_part,
                "element",
                Some("nfp:demandPaymentNoticeResponse"),
            ),
            "demandPaymentNotice input parts",
        ),
        (
            "request part renamed",
            alter_any_attr(original, demand_part, "name", Some("body")),
            "demandPaymentNotice input parts",
        ),
        (
            "encoded body",
            alter_any_attr(original, soap("body"), "use", Some("encoded")),
            "soap:body use",
        ),
        (
            "rpc style",
            alter_any_attr(original, soap("binding"), "style", Some("rpc")),
            "style rpc",
        ),
        (
            "binding renamed",
            alter_any_attr(original, binding, "name", Some("otherBinding")),
            "binding otherBinding is not in the official WSDL",
        ),
    ];
    for (what, altered, expected) in &cases {
        let report = compare_wsdls("altered", altered, original);
        assert!(
            report.problems.iter().any(|p| p.contains(expected)),
            "{what}: expected a difference mentioning `{expected}`, got {:#?}",
            report.problems
        );
    }
    let moved = alter_any_attr(
        original,
        soap("address"),
        "location",
        Some("https://example.org/x"),
    );
    let report = compare_wsdls("moved", &moved, original);
    assert!(report.problems.is_empty(), "{:#?}", report.problems);
    assert_eq!(report.operations.len(), 2);
}

/// The legacy-only parts of the WSDL comparison (wsam:Action, soap:header, inline schemas) are
/// not vacuous either.
#[test]
fn the_wsdl_comparison_reports_legacy_action_and_header_alterations() {
    let project = "wsdl/PaPerNodoRichiestaAvvisi.wsdl";
    let original = read(&repo().join(project));
    let original = original.as_str();
    // Against the official WSDL when present, so its inline schemas are in play too.
    let reference = match official_dir() {
        Some(api) => read(&api.join("gad/wsdl/PaPerNodoRichiestaAvvisi.wsdl")),
        None => original.to_owned(),
    };
    let clean = compare_wsdls(project, original, &reference);
    assert!(clean.problems.is_empty(), "{:#?}", clean.problems);
    let request_action = |n: Node<'_, '_>| {
        n.attribute((WSAM_NS, "Action"))
            .is_some_and(|a| a.ends_with("/paaChiediNumeroAvvisoRichiesta"))
    };
    let header = |n: Node<'_, '_>| n.has_tag_name((SOAP_NS, "header"));
    let header_element =
        "<soap:header message=\"tns:paaChiediNumeroAvviso\" part=\"header\" use=\"literal\" />";
    let mut cases: Vec<(&str, String, &str)> = vec![
        (
            "another wsam:Action",
            alter_any_attr(
                original,
                request_action,
                "Action",
                Some("http://ws.pagamenti.telematici.gov/PPT/paaChiediNumeroAvvisoRisposta"),
            ),
            "paaChiediNumeroAvviso input attributes (wsam:Action…)",
        ),
        (
            "wsam:Action dropped",
            alter_any_attr(original, request_action, "Action", None),
            "paaChiediNumeroAvviso input attributes (wsam:Action…)",
        ),
        (
            "header part renamed",
            alter_any_attr(original, header, "part", Some("bodyrichiesta")),
            "paaChiediNumeroAvviso input soap:header",
        ),
        (
            "header part that does not exist",
            alter_any_attr(original, header, "part", Some("intestazione")),
            "has no part intestazione",
        ),
        (
            "encoded header",
            alter_any_attr(original, header, "use", Some("encoded")),
            "paaChiediNumeroAvviso input soap:header",
        ),
        (
            "header dropped",
            vary(original, header_element, ""),
            "paaChiediNumeroAvviso input soap:header [] differs",
        ),
    ];
    if reference != original {
        let import =
            "<xsd:import schemaLocation=\"../xsd/PaPerNodoRichiestaAvvisi_intestazione.xsd\" \
                      namespace=\"http://ws.pagamenti.telematici.gov/ppthead\" />";
        cases.push((
            "the intestazionePPT schema not brought in",
            vary(original, import, ""),
            "defines http://ws.pagamenti.telematici.gov/ppthead inline, which wsdl:types does not bring in",
        ));
    }
    for (what, altered, expected) in &cases {
        let report = compare_wsdls("altered", altered, &reference);
        assert!(
            report.problems.iter().any(|p| p.contains(expected)),
            "{what}: expected a difference mentioning `{expected}`, got {:#?}",
            report.problems
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Tests: differential validation
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    NodeForPsp,
    PaForNode,
    /// NodoPerPspRichiestaAvvisi (PSP ↔ gateway, legacy).
    LegacyPsp,
    /// PaPerNodoRichiestaAvvisi (gateway ↔ EC, legacy).
    LegacyPa,
}

struct Case {
    name: String,
    side: Side,
    xml: String,
    valid: bool,
}

fn envelope(prefix: &str, ns: &str, payload: &str) -> String {
    format!(
        "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:{prefix}=\"{ns}\">\
         <soapenv:Header/><soapenv:Body>{payload}</soapenv:Body></soapenv:Envelope>"
    )
}

/// A SOAP envelope for the legacy operations, with `header` as the SOAP header's content.
fn legacy_envelope(header: &str, payload: &str) -> String {
    format!(
        "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" \
         xmlns:ppt=\"{PPT_NS}\" xmlns:ppthead=\"{PPTHEAD_NS}\" xmlns:pay_i=\"{PAY_I_NS}\">\
         <soapenv:Header>{header}</soapenv:Header><soapenv:Body>{payload}</soapenv:Body></soapenv:Envelope>"
    )
}

/// `base` with the first `from` replaced; the variation must actually apply.
fn vary(base: &str, from: &str, to: &str) -> String {
    assert!(base.contains(from), "`{from}` not in {base}");
    base.replacen(from, to, 1)
}

const DEMAND_REQ: &str = "<nfp:demandPaymentNoticeRequest><idPSP>PSP_OK</idPSP><idBrokerPSP>BROKER_OK</idBrokerPSP>\
<idChannel>CH_OK</idChannel><password>Password01</password><idSoggettoServizio>00042</idSoggettoServizio>\
<datiSpecificiServizio>PGEvPg==</datiSpecificiServizio></nfp:demandPaymentNoticeRequest>";

const CATALOG_REQ: &str = "<nfp:nodoChiediCatalogoServiziV2Request><identificativoPSP>PSP_OK</identificativoPSP>\
<identificativoIntermediarioPSP>BROKER_OK</identificativoIntermediarioPSP><identificativoCanale>CH_OK</identificativoCanale>\
<password>Password01</password></nfp:nodoChiediCatalogoServiziV2Request>";

const OPTION: &str = "<paymentOptionDescription><amount>120.50</amount><options>EQ</options><dueDate>2030-06-30</dueDate>\
<paymentNote>Bollo auto 2030</paymentNote></paymentOptionDescription>";

const QR: &str = "<qrCode><fiscalCode>77777777777</fiscalCode><noticeNumber>311111111111111111</noticeNumber></qrCode>";

const FAULT: &str =
    "<fault><faultCode>PPT_SYSTEM_ERROR</faultCode><faultString>Errore di sistema</faultString>\
<id>NodoDeiPagamentiSPC</id><description>dettaglio</description><serial>1</serial></fault>";

fn demand_response(list: &str) -> String {
    format!(
        "<nfp:demandPaymentNoticeResponse><outcome>OK</outcome>{QR}<paymentList>{list}</paymentList>\
         <paymentDescription>Tassa automobilistica</paymentDescription><fiscalCodePA>77777777777</fiscalCodePA>\
         <companyName>Ente</companyName><officeName>Ufficio tributi</officeName></nfp:demandPaymentNoticeResponse>"
    )
}

const PA_REQ: &str = "<pafn:paDemandPaymentNoticeRequest><idPA>77777777777</idPA><idBrokerPA>77777777777</idBrokerPA>\
<idStation>77777777777_01</idStation><idServizio>00001</idServizio><idSoggettoServizio>00042</idSoggettoServizio>\
<datiSpecificiServizioRequest>PGEvPg==</datiSpecificiServizioRequest></pafn:paDemandPaymentNoticeRequest>";

const PA_OPTION: &str = "<paymentOptionDescription><amount>120.50</amount><options>EQ</options><dueDate>2030-06-30</dueDate>\
<detailDescription>Bollo auto 2030</detailDescription><allCCP>false</allCCP></paymentOptionDescription>";

fn pa_response(list: &str) -> String {
    format!(
        "<pafn:paDemandPaymentNoticeResponse><outcome>OK</outcome>{QR}<paymentList>{list}</paymentList>\
         <paymentDescription>Tassa automobilistica</paymentDescription><fiscalCodePA>77777777777</fiscalCodePA>\
         <companyName>Ente</companyName><officeName>Ufficio tributi</officeName></pafn:paDemandPaymentNoticeResponse>"
    )
}

/// One variation of a base document: (what, text to replace, replacement, valid?).
type Variation<'a> = (&'a str, &'a str, &'a str, bool);

/// Valid documents and near misses for every payload the gateway receives or sends.
fn corpus() -> Vec<Case> {
    let a = |n: usize| "A".repeat(n);
    let (a35, a36, a15, a16) = (a(35), a(36), a(15), a(16));
    let (a140, a141, a210, a211) = (a(140), a(141), a(210), a(211));
    let pwd = "</password>";
    let cat_all = "</password><identificativoDominio>77777777777</identificativoDominio>\
                   <categoria>Tributi</categoria><commissione>Y</commissione>";
    let cat35 = format!("</password><categoria>{a35}</categoria>");
    let cat36 = format!("</password><categoria>{a36}</categoria>");
    let cat_misordered =
        "</password><categoria>T</categoria><identificativoDominio>77777777777</identificativoDominio>";
    let ok = demand_response(OPTION);
    let ko = format!(
        "<nfp:demandPaymentNoticeResponse><outcome>KO</outcome>{FAULT}</nfp:demandPaymentNoticeResponse>"
    );
    let qr_last = format!("</paymentList>{QR}");
    let company141 = format!(">{a141}<");
    let cat_ok = "<nfp:nodoChiediCatalogoServiziV2Response><outcome>OK</outcome>\
                  <xmlCatalogoServizi>PGEvPg==</xmlCatalogoServizi></nfp:nodoChiediCatalogoServiziV2Response>";
    let cat_ko = format!(
        "<nfp:nodoChiediCatalogoServiziV2Response><outcome>KO</outcome>{FAULT}</nfp:nodoChiediCatalogoServiziV2Response>"
    );
    let pa_ok = pa_response(PA_OPTION);
    let id_pa36 = format!("<idPA>{a36}</idPA>");
    let pa_data = "<datiSpecificiServizioRequest>PGEvPg==</datiSpecificiServizioRequest>";
    let swapped = "<idBrokerPSP>BROKER_OK</idBrokerPSP><idPSP>PSP_OK</idPSP>";

    // Each base document is valid as is; each variation changes one thing.
    let bases: Vec<(Side, &str, String, Vec<Variation<'_>>)> = vec![
        (
            Side::NodeForPsp,
            "demand request",
            DEMAND_REQ.to_owned(),
            vec![
                ("idPSP of 35", "PSP_OK", &a35, true),
                ("idPSP of 36", "PSP_OK", &a36, false),
                ("empty idPSP", "PSP_OK", "", false),
                ("password of 7", "Password01", "Passw01", false),
                ("password of 15", "Password01", &a15, true),
                ("password of 16", "Password01", &a16, false),
                ("idSoggettoServizio of 4", ">00042<", ">0004<", false),
                ("idSoggettoServizio of 6", ">00042<", ">000420<", false),
                ("no idChannel", "<idChannel>CH_OK</idChannel>", "", false),
                (
                    "idBrokerPSP before idPSP",
                    "<idPSP>PSP_OK</idPSP><idBrokerPSP>BROKER_OK</idBrokerPSP>",
                    swapped,
                    false,
                ),
                ("data not base64", "PGEvPg==", "@@not base64@@", false),
                ("empty data", "PGEvPg==", "", true),
                (
                    "unknown trailing element",
                    "</nfp:demandPaymentNoticeRequest>",
                    "<x/></nfp:demandPaymentNoticeRequest>",
                    false,
                ),
                (
                    "qualified child",
                    "<idPSP>PSP_OK</idPSP>",
                    "<nfp:idPSP>PSP_OK</nfp:idPSP>",
                    false,
                ),
            ],
        ),
        (
            Side::NodeForPsp,
            "catalog request",
            CATALOG_REQ.to_owned(),
            vec![
                ("every optional", pwd, cat_all, true),
                (
                    "commissione X",
                    pwd,
                    "</password><commissione>X</commissione>",
                    false,
                ),
                ("categoria of 35", pwd, &cat35, true),
                ("categoria of 36", pwd, &cat36, false),
                ("no password", "<password>Password01</password>", "", false),
                (
                    "categoria before identificativoDominio",
                    pwd,
                    cat_misordered,
                    false,
                ),
                (
                    "empty identificativoDominio",
                    pwd,
                    "</password><identificativoDominio/>",
                    false,
                ),
            ],
        ),
        (
            Side::NodeForPsp,
            "demand response OK",
            ok.clone(),
            vec![
                ("amount 120.5", "120.50", "120.5", false),
                ("amount 0.00", "120.50", "0.00", false),
                ("amount 999999999.99", "120.50", "999999999.99", true),
                ("amount 1000000000.00", "120.50", "1000000000.00", false),
                (
                    "options XX",
                    "<options>EQ</options>",
                    "<options>XX</options>",
                    false,
                ),
                (
                    "options ANY",
                    "<options>EQ</options>",
                    "<options>ANY</options>",
                    true,
                ),
                (
                    "noticeNumber of 17",
                    "311111111111111111",
                    "31111111111111111",
                    false,
                ),
                (
                    "fiscalCode with a letter",
                    "77777777777",
                    "7777777777X",
                    false,
                ),
                ("dueDate in month 13", "2030-06-30", "2030-13-30", false),
                ("paymentNote of 210", "Bollo auto 2030", &a210, true),
                ("paymentNote of 211", "Bollo auto 2030", &a211, false),
                ("companyName of 141", ">Ente<", &company141, false),
                ("outcome MAYBE", ">OK<", ">MAYBE<", false),
                ("no outcome", "<outcome>OK</outcome>", "", false),
                ("no qrCode", QR, "", true),
            ],
        ),
        (
            Side::NodeForPsp,
            "demand response, five options",
            demand_response(&OPTION.repeat(5)),
            vec![],
        ),
        (
            Side::NodeForPsp,
            "demand response KO",
            ko,
            vec![
                (
                    "fault without id",
                    "<id>NodoDeiPagamentiSPC</id>",
                    "",
                    false,
                ),
                (
                    "serial not an int",
                    "<serial>1</serial>",
                    "<serial>x</serial>",
                    false,
                ),
                ("no fault", FAULT, "", true),
            ],
        ),
        (
            Side::NodeForPsp,
            "catalog response OK",
            cat_ok.to_owned(),
            vec![
                ("catalog not base64", "PGEvPg==", "P!Ev", false),
                ("catalog of odd length", "PGEvPg==", "PGEvPg=", false),
            ],
        ),
        (Side::NodeForPsp, "catalog response KO", cat_ko, vec![]),
        (
            Side::PaForNode,
            "pa request",
            PA_REQ.to_owned(),
            vec![
                ("idServizio of 4", ">00001<", ">0001<", false),
                ("idPA of 36", "<idPA>77777777777</idPA>", &id_pa36, false),
                ("no data", pa_data, "", false),
            ],
        ),
        (
            Side::PaForNode,
            "pa response OK",
            pa_ok,
            vec![
                ("allCCP yes", ">false<", ">yes<", false),
                ("no allCCP", "<allCCP>false</allCCP>", "", false),
                ("detailDescription of 140", "Bollo auto 2030", &a140, true),
                (
                    "paymentDescription of 141",
                    "Tassa automobilistica",
                    &a141,
                    false,
                ),
                (
                    "paymentNote instead of detailDescription",
                    "<detailDescription>Bollo auto 2030</detailDescription>",
                    "<paymentNote>Bollo auto 2030</paymentNote>",
                    false,
                ),
            ],
        ),
    ];
    let mut cases = Vec::new();
    let mut add = |side: Side, name: String, payload: &str, valid: bool| {
        let xml = match side {
            Side::NodeForPsp => envelope("nfp", NFP_NS, payload),
            Side::PaForNode => envelope("pafn", PAFN_NS, payload),
            Side::LegacyPsp | Side::LegacyPa => legacy_envelope("", payload),
        };
        cases.push(Case {
            name,
            side,
            xml,
            valid,
        });
    };
    for (side, base_name, base, variations) in &bases {
        add(*side, (*base_name).to_owned(), base, true);
        for (what, from, to, valid) in variations {
            add(
                *side,
                format!("{base_name}, {what}"),
                &vary(base, from, to),
                *valid,
            );
        }
    }
    // Moves and cardinalities, which a single replacement cannot express.
    add(
        Side::NodeForPsp,
        "demand response, qrCode after paymentList".into(),
        &vary(&ok, QR, "").replace("</paymentList>", &qr_last),
        false,
    );
    add(
        Side::NodeForPsp,
        "demand response, six options".into(),
        &demand_response(&OPTION.repeat(6)),
        false,
    );
    add(
        Side::PaForNode,
        "pa response, two options".into(),
        &pa_response(&PA_OPTION.repeat(2)),
        false,
    );
    cases
}

const NCNA_REQ: &str = "<ppt:nodoChiediNumeroAvviso><identificativoPSP>PSP_OK</identificativoPSP>\
<identificativoIntermediarioPSP>BROKER_OK</identificativoIntermediarioPSP><identificativoCanale>CH_OK</identificativoCanale>\
<password>Password01</password><idServizio>00001</idServizio>\
<idDominioErogatoreServizio>77777777777</idDominioErogatoreServizio>\
<datiSpecificiServizio>PGEvPg==</datiSpecificiServizio></ppt:nodoChiediNumeroAvviso>";

const NCCS_REQ: &str = "<ppt:nodoChiediCatalogoServizi><identificativoPSP>PSP_OK</identificativoPSP>\
<identificativoIntermediarioPSP>BROKER_OK</identificativoIntermediarioPSP><identificativoCanale>CH_OK</identificativoCanale>\
<password>Password01</password></ppt:nodoChiediCatalogoServizi>";

const INTESTAZIONE: &str = "<ppthead:intestazionePPT>\
<identificativoIntermediarioPA>77777777777</identificativoIntermediarioPA>\
<identificativoStazioneIntermediarioPA>77777777777_01</identificativoStazioneIntermediarioPA>\
<identificativoDominio>77777777777</identificativoDominio></ppthead:intestazionePPT>";

const PAA_REQ: &str = "<ppt:paaChiediNumeroAvviso><identificativoPSP>PSP_OK</identificativoPSP>\
<datiSpecificiServizio>PGEvPg==</datiSpecificiServizio></ppt:paaChiediNumeroAvviso>";

/// Its type is PagInf's, whose elementFormDefault is qualified: children are pay_i-qualified.
const ENTE: &str = "<enteBeneficiario><pay_i:identificativoUnivocoBeneficiario>\
<pay_i:tipoIdentificativoUnivoco>G</pay_i:tipoIdentificativoUnivoco>\
<pay_i:codiceIdentificativoUnivoco>77777777777</pay_i:codiceIdentificativoUnivoco>\
</pay_i:identificativoUnivocoBeneficiario>\
<pay_i:denominazioneBeneficiario>Ente</pay_i:denominazioneBeneficiario></enteBeneficiario>";

const IBAN: &str = "IT60X0542811101000000123456";

/// A positive esito with a 15-digit IUV; `dominio` is what goes between esito and numeroAvviso.
fn esito_ok(dominio: &str) -> String {
    format!(
        "<esito>OK</esito>{dominio}<numeroAvviso><auxDigit>3</auxDigit><IUV>{}</IUV></numeroAvviso>\
         <datiPagamentoPA><importoSingoloVersamento>120.50</importoSingoloVersamento>\
         <ibanAccredito>{IBAN}</ibanAccredito><causaleVersamento>Bollo auto 2030</causaleVersamento>\
         </datiPagamentoPA>",
        "1".repeat(15)
    )
}

/// A legacy answer: global element `root` holding the unqualified `field` with `inner`.
fn legacy_answer(root: &str, field: &str, inner: &str) -> String {
    format!("<ppt:{root}><{field}>{inner}</{field}></ppt:{root}>")
}

/// Valid documents and near misses for the legacy operations, as whole envelopes.
fn legacy_corpus() -> Vec<Case> {
    let a = |n: usize| "A".repeat(n);
    let (a16, a36, a140, a141) = (a(16), a(36), a(140), a(141));
    let iuv = |n: usize| format!("<IUV>{}</IUV>", "1".repeat(n));
    let (iuv5, iuv15, iuv16, iuv17) = (iuv(5), iuv(15), iuv(16), iuv(17));
    let dominio = "<identificativoDominio>77777777777</identificativoDominio>";
    let causale = "<causaleVersamento>Bollo auto 2030</causaleVersamento>";
    let causale140 = format!("<causaleVersamento>{a140}</causaleVersamento>");
    let causale141 = format!("<causaleVersamento>{a141}</causaleVersamento>");
    let spezzoni = "<spezzoniCausaleVersamento><spezzoneCausaleVersamento>Bollo auto</spezzoneCausaleVersamento>\
                    <spezzoneStrutturatoCausaleVersamento><causaleSpezzone>Quota 2030</causaleSpezzone>\
                    <importoSpezzone>120.50</importoSpezzone></spezzoneStrutturatoCausaleVersamento>\
                    </spezzoniCausaleVersamento>";
    let iban_end = "</ibanAccredito>";
    let bic_ente = format!("{iban_end}<bicAccredito>UNCRITMMXXX</bicAccredito>{ENTE}");
    let ente_unqualified = format!("{iban_end}{}", ENTE.replace("pay_i:", ""));
    let ok_then_dominio = format!("<esito>OK</esito>{dominio}");
    let (fault_first, fault_last) = (
        format!("{FAULT}<esito>KO</esito>"),
        format!("<esito>KO</esito>{FAULT}"),
    );
    let header36 = format!("<identificativoDominio>{a36}</identificativoDominio>");
    let (ncna, nccs, paa) = (
        "nodoChiediNumeroAvvisoRisposta",
        "nodoChiediCatalogoServiziRisposta",
        "paaChiediNumeroAvvisoRisposta",
    );
    // The official catalog answer names its inner element nodoChiediNumeroAvvisoRisposta too.
    let catalog = "<xmlCatalogoServizi>PGEvPg==</xmlCatalogoServizi>";
    let cat_ok = legacy_answer(nccs, ncna, catalog);
    let cat_misnamed = legacy_answer(nccs, nccs, catalog);

    // Each base envelope is valid as is; each variation changes one thing in it.
    let bases: Vec<(Side, &str, String, Vec<Variation<'_>>)> = vec![
        (
            Side::LegacyPsp,
            "nodoChiediNumeroAvviso request",
            legacy_envelope("", NCNA_REQ),
            vec![
                ("password of 7", "Password01", "Passw01", false),
                ("idServizio of 4", ">00001<", ">0001<", false),
                ("identificativoPSP of 36", "PSP_OK", &a36, false),
                (
                    "no idDominioErogatoreServizio",
                    "<idDominioErogatoreServizio>77777777777</idDominioErogatoreServizio>",
                    "",
                    false,
                ),
                (
                    "qualified child",
                    "<identificativoPSP>PSP_OK</identificativoPSP>",
                    "<ppt:identificativoPSP>PSP_OK</ppt:identificativoPSP>",
                    false,
                ),
            ],
        ),
        (
            Side::LegacyPsp,
            "nodoChiediCatalogoServizi request",
            legacy_envelope("", NCCS_REQ),
            vec![
                (
                    "identificativoDominio",
                    "</password>",
                    "</password><identificativoDominio>77777777777</identificativoDominio>",
                    true,
                ),
                ("password of 16", "Password01", &a16, false),
            ],
        ),
        (
            Side::LegacyPsp,
            "nodoChiediNumeroAvviso answer OK",
            legacy_envelope("", &legacy_answer(ncna, ncna, &esito_ok(dominio))),
            vec![
                ("IUV of 16", &iuv15, &iuv16, false),
                ("IUV of 17", &iuv15, &iuv17, true),
                ("IUV of 5", &iuv15, &iuv5, false),
                (
                    "applicationCode",
                    "</auxDigit>",
                    "</auxDigit><applicationCode>01</applicationCode>",
                    true,
                ),
                ("auxDigit of 2", ">3</auxDigit>", ">33</auxDigit>", false),
                ("esito missing", "<esito>OK</esito>", "", false),
                ("causale of 140", causale, &causale140, true),
                ("causale of 141", causale, &causale141, false),
                ("spezzoni instead of causale", causale, spezzoni, true),
                (
                    "IBAN pattern broken",
                    IBAN,
                    "I760X0542811101000000123456",
                    false,
                ),
                ("importo 120.5", "120.50", "120.5", false),
                (
                    "bicAccredito and pay_i-qualified enteBeneficiario",
                    iban_end,
                    &bic_ente,
                    true,
                ),
                (
                    "enteBeneficiario with unqualified children",
                    iban_end,
                    &ente_unqualified,
                    false,
                ),
            ],
        ),
        (
            Side::LegacyPsp,
            "nodoChiediNumeroAvviso answer KO",
            legacy_envelope("", &legacy_answer(ncna, ncna, &fault_first)),
            vec![("fault after esito", &fault_first, &fault_last, false)],
        ),
        (
            Side::LegacyPsp,
            "nodoChiediCatalogoServizi answer OK",
            legacy_envelope("", &cat_ok),
            vec![
                ("catalog not base64", "PGEvPg==", "P!Ev", false),
                // The element's real (odd) name is part of the contract.
                (
                    "inner element named after the operation",
                    &cat_ok,
                    &cat_misnamed,
                    false,
                ),
            ],
        ),
        (
            Side::LegacyPsp,
            "nodoChiediCatalogoServizi answer KO",
            legacy_envelope("", &legacy_answer(nccs, ncna, FAULT)),
            // ctEsitoChiediCatalogoServizi has no esito.
            vec![("with esito", "</fault>", "</fault><esito>KO</esito>", false)],
        ),
        (
            Side::LegacyPa,
            "paaChiediNumeroAvviso request with intestazionePPT",
            legacy_envelope(INTESTAZIONE, PAA_REQ),
            vec![
                (
                    "header identificativoDominio of 36",
                    dominio,
                    &header36,
                    false,
                ),
                ("header without identificativoDominio", dominio, "", false),
                // soapenv:Header is lax: no schema can require intestazionePPT.
                ("no header", INTESTAZIONE, "", true),
                ("data not base64", "PGEvPg==", "@@not base64@@", false),
            ],
        ),
        (
            Side::LegacyPa,
            "paaChiediNumeroAvviso answer OK",
            legacy_envelope("", &legacy_answer(paa, paa, &esito_ok(""))),
            vec![
                // The EC side accepts 5 to 15 digits, the PSP side only 15.
                ("IUV of 5", &iuv15, &iuv5, true),
                ("IUV of 16", &iuv15, &iuv16, false),
                (
                    "identificativoDominio, which only the PSP side has",
                    "<esito>OK</esito>",
                    &ok_then_dominio,
                    false,
                ),
                ("causale of 141", causale, &causale141, false),
                (
                    "enteBeneficiario with unqualified children",
                    iban_end,
                    &ente_unqualified,
                    false,
                ),
            ],
        ),
        (
            Side::LegacyPa,
            "paaChiediNumeroAvviso answer KO",
            legacy_envelope("", &legacy_answer(paa, paa, &fault_first)),
            vec![],
        ),
    ];
    let mut cases = Vec::new();
    for (side, base_name, base, variations) in &bases {
        cases.push(Case {
            name: (*base_name).to_owned(),
            side: *side,
            xml: base.clone(),
            valid: true,
        });
        for (what, from, to, valid) in variations {
            cases.push(Case {
                name: format!("{base_name}, {what}"),
                side: *side,
                xml: vary(base, from, to),
                valid: *valid,
            });
        }
    }
    cases
}

/// The `index`-th inline schema of a WSDL as a document of its own: the namespace declarations it
/// inherits from `wsdl:definitions` move onto it, and each import points at a sibling file.
fn standalone_inline_schema(wsdl: &str, index: usize) -> String {
    let doc = parse("official WSDL", wsdl);
    let schema = inline_schema(&doc, index).unwrap_or_else(|| panic!("no inline schema #{index}"));
    let start = schema.range().start;
    let mut out = wsdl[schema.range()].to_owned();
    // Edits from the end backwards, so the offsets still to use stay valid.
    let locations: Vec<_> = kids(schema, XSD_NS, "import")
        .into_iter()
        .filter_map(|i| i.attribute_node("schemaLocation"))
        .collect();
    for loc in locations.iter().rev() {
        let file = loc.value().rsplit('/').next().unwrap_or(loc.value());
        let r = loc.range_value();
        out.replace_range(r.start - start..r.end - start, file);
    }
    let start_tag = &out[..out.find('>').expect("schema start tag ends")];
    let parent = schema.parent_element().expect("schema inside wsdl:types");
    let declarations: String = parent
        .namespaces()
        .filter(|ns| ns.name() != Some("xml"))
        .filter_map(|ns| {
            let attr = ns
                .name()
                .map_or("xmlns".to_owned(), |p| format!("xmlns:{p}"));
            // A prefix the schema declares itself keeps its own binding.
            let own = start_tag.contains(&format!("{attr}="));
            (!own).then(|| format!(" {attr}=\"{}\"", ns.uri()))
        })
        .collect();
    let name_end = out
        .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
        .expect("schema start tag has a name");
    out.insert_str(name_end, &declarations);
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{out}")
}

/// The official legacy entry points: each inline schema of the legacy WSDLs stands alone under
/// the project file's name, so `Bundle::add_wrappers` builds the same wrappers over them.
fn official_legacy(api: &Path) -> (Schema, Schema) {
    let mut bundle = Bundle::default();
    for (name, rel) in [
        ("envelope.xsd", "xsd-common/envelope.xsd"),
        ("PagInf_RPT_RT_6_2_0.xsd", "gad/xsd/PagInf_RPT_RT_6_2_0.xsd"),
    ] {
        bundle.insert(name, read(&api.join(rel)).into_bytes());
    }
    for (project, wsdl, index) in INLINE_PAIRS {
        let path = api.join(wsdl);
        let text = standalone_inline_schema(&read(&path), *index);
        // Standing alone must not change what the schema says, nor leave an import dangling.
        let alone = analysed(&format!("standalone {wsdl} #{index}"), &text);
        let (problems, _) =
            compare_schemas(&alone, &load_inline_schema(&path, *index), Extent::Whole);
        assert!(problems.is_empty(), "{problems:#?}");
        for (_, location) in &alone.imports {
            let location = location.as_deref().expect("import has a schemaLocation");
            assert!(
                bundle.get(location).is_some(),
                "{wsdl} #{index}: import of {location} is not in the bundle"
            );
        }
        let name = project.rsplit('/').next().expect("project file name");
        bundle.insert(name, text.into_bytes());
    }
    bundle.add_wrappers();
    let bundle = Arc::new(bundle);
    let compile = |entry: &str| {
        Schema::compile(bundle.clone(), entry)
            .unwrap_or_else(|e| panic!("official legacy {entry}: {e}"))
    };
    (compile(ENVELOPE_LEGACY_PSP), compile(ENVELOPE_LEGACY_PA))
}

fn verdict(schema: &Schema, xml: &str) -> Result<(), String> {
    schema.validate(xml.as_bytes()).map_err(|e| e.to_string())
}

/// The project schemas and the official ones accept and reject exactly the same documents.
#[test]
fn project_and_official_schemas_give_the_same_verdict_on_every_corpus_document() {
    let Some(api) = official_dir() else { return };
    let official = support::official::official().expect("official schemas compile");
    let (legacy_psp, legacy_pa) = official_legacy(&api);
    let project = Contract::load().expect("project contract compiles");
    let legacy = legacy_corpus();
    eprintln!("legacy corpus: {} documents", legacy.len());
    let cases: Vec<Case> = corpus().into_iter().chain(legacy).collect();
    let mut problems = Vec::new();
    for case in &cases {
        let (o, p) = match case.side {
            Side::NodeForPsp => (&official.node_for_psp, &project.node_for_psp),
            Side::PaForNode => (&official.pa_for_node, &project.pa_for_node),
            Side::LegacyPsp => (&legacy_psp, &project.legacy_psp),
            Side::LegacyPa => (&legacy_pa, &project.legacy_pa),
        };
        let (ov, pv) = (verdict(o, &case.xml), verdict(p, &case.xml));
        if ov.is_ok() != pv.is_ok() {
            problems.push(format!("{}: official {ov:?}, project {pv:?}", case.name));
        } else if ov.is_ok() != case.valid {
            // Both agree but not with the intent: the case does not test what its name says.
            problems.push(format!(
                "{}: expected valid={}, both say {ov:?}",
                case.name, case.valid
            ));
        }
    }
    let valid = cases.iter().filter(|c| c.valid).count();
    eprintln!(
        "corpus: {} documents ({valid} valid, {} invalid)",
        cases.len(),
        cases.len() - valid
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The corpus is sharp enough to notice a one-character change in a project schema.
#[test]
fn the_corpus_notices_a_one_character_change_in_a_project_schema() {
    let common = read(&repo().join("xsd/sac-common-types-1.0.xsd"));
    let altered = alter_attr(
        &common,
        ("simpleType", "stText35"),
        "maxLength",
        |_| true,
        "value",
        Some("36"),
    );
    let mut bundle = Bundle::contract();
    bundle.insert("sac-common-types-1.0.xsd", altered.into_bytes());
    let schema =
        Schema::compile(Arc::new(bundle), ENVELOPE_NODE_FOR_PSP).expect("altered schema compiles");
    let changed: Vec<String> = corpus()
        .into_iter()
        .filter(|c| c.side == Side::NodeForPsp && verdict(&schema, &c.xml).is_ok() != c.valid)
        .map(|c| c.name)
        .collect();
    assert_eq!(changed, ["catalog request, categoria of 36"]);
}

/// Each legacy side's corpus notices the other side's IUV pattern (they share a namespace but
/// not `stCodIUV`), so a mix-up of the two files would not go unseen.
#[test]
fn the_legacy_corpus_notices_the_other_sides_iuv_pattern() {
    let swaps = [
        (
            "NodoPerPspRichiestaAvvisi.xsd",
            ENVELOPE_LEGACY_PSP,
            Side::LegacyPsp,
            "[0-9]{5,15}|[0-9]{17}",
            "nodoChiediNumeroAvviso answer OK, IUV of 5",
        ),
        (
            "PaPerNodoRichiestaAvvisi.xsd",
            ENVELOPE_LEGACY_PA,
            Side::LegacyPa,
            "[0-9]{15}|[0-9]{17}",
            "paaChiediNumeroAvviso answer OK, IUV of 5",
        ),
    ];
    for (file, entry, side, pattern, expected) in swaps {
        let text = read(&repo().join("xsd").join(file));
        let altered = alter_attr(
            &text,
            ("simpleType", "stCodIUV"),
            "pattern",
            |_| true,
            "value",
            Some(pattern),
        );
        let mut bundle = Bundle::contract();
        bundle.insert(file, altered.into_bytes());
        let schema = Schema::compile(Arc::new(bundle), entry).expect("altered schema compiles");
        let changed: Vec<String> = legacy_corpus()
            .into_iter()
            .filter(|c| c.side == side && verdict(&schema, &c.xml).is_ok() != c.valid)
            .map(|c| c.name)
            .collect();
        assert_eq!(changed, [expected], "{file} with the other side's stCodIUV");
    }
}

// ---------------------------------------------------------------------------------------------
// Tests: service data (datiSpecificiServizio)
// ---------------------------------------------------------------------------------------------

const CIE: &str = "<ta:pagamentoCIE xmlns:ta=\"http://PuntoAccessoPSP.spcoop.gov.it/pagamentoCIE\">\
<ta:codiceCausale>9</ta:codiceCausale><ta:codiceFiscaleComune>80000000002</ta:codiceFiscaleComune>\
<ta:intestatario><ta:codiceFiscaleIntestatario>RSSMRA80A01H501U</ta:codiceFiscaleIntestatario>\
<ta:denominazioneIntestatario>Mario Rossi</ta:denominazioneIntestatario></ta:intestatario></ta:pagamentoCIE>";

const CUP: &str = "<cup:pagamentoCup xmlns:cup=\"http://PuntoAccessoPSP.spcoop.gov.it/Cup\">\
<cup:organizationFiscalCode>80000000001</cup:organizationFiscalCode><cup:companyName>Regione Demo</cup:companyName>\
<cup:debtorFiscalCode>RSSMRA80A01H501U</cup:debtorFiscalCode><cup:debtorFullName>Mario Rossi</cup:debtorFullName>\
<cup:debtorEmail>mario.rossi@example.it</cup:debtorEmail><cup:amount>36.15</cup:amount></cup:pagamentoCup>";

/// One variation of a service document: (what, text to replace, replacement, valid?).
type ServiceVariation = (String, &'static str, String, bool);

/// Service data of the SANP 3.13.0 schemas and near misses: (schema, case, document, valid?).
/// Cup's verdicts hinge on the common types, which the project keeps trimmed.
fn service_corpus() -> Vec<(&'static str, String, String, bool)> {
    let org = "<cup:organizationFiscalCode>80000000001</cup:organizationFiscalCode>";
    let debtor = ">RSSMRA80A01H501U</cup:debtorFiscalCode>";
    let full_name = ">Mario Rossi</cup:debtorFullName>";
    let company = ">Regione Demo</cup:companyName>";
    let email = "<cup:debtorEmail>mario.rossi@example.it</cup:debtorEmail>";
    let text = |n: usize, end: &str| format!(">{}{end}", "a".repeat(n));
    let holder = ">Mario Rossi</ta:denominazioneIntestatario>";
    let bases: Vec<(&str, &str, Vec<ServiceVariation>)> = vec![
        (
            "Cie_1_0_0.xsd",
            CIE,
            vec![
                ("reason 10".into(), ">9<", ">10<".into(), true),
                ("reason 3".into(), ">9<", ">3<".into(), false),
                (
                    "municipality code with a letter".into(),
                    "80000000002",
                    "8000000000A".into(),
                    false,
                ),
                (
                    "holder code in lower case".into(),
                    ">RSSMRA80A01H501U<",
                    ">rssmra80a01h501u<".into(),
                    false,
                ),
                (
                    "holder name of 50".into(),
                    holder,
                    text(50, "</ta:denominazioneIntestatario>"),
                    true,
                ),
                (
                    "holder name of 51".into(),
                    holder,
                    text(51, "</ta:denominazioneIntestatario>"),
                    false,
                ),
            ],
        ),
        (
            "Cup_1_0_0.xsd",
            CUP,
            vec![
                (
                    "ISTAT code instead".into(),
                    org,
                    "<cup:istatCode>058091</cup:istatCode>".into(),
                    true,
                ),
                (
                    "ISTAT code of 7".into(),
                    org,
                    "<cup:istatCode>0580910</cup:istatCode>".into(),
                    false,
                ),
                (
                    "cadastral code instead".into(),
                    org,
                    "<cup:catastaleCode>H501</cup:catastaleCode>".into(),
                    true,
                ),
                (
                    "cadastral code of 3".into(),
                    org,
                    "<cup:catastaleCode>H50</cup:catastaleCode>".into(),
                    false,
                ),
                (
                    "EC code and ISTAT code".into(),
                    org,
                    format!("{org}<cup:istatCode>058091</cup:istatCode>"),
                    false,
                ),
                (
                    "EC code of 10 digits".into(),
                    ">80000000001<",
                    ">8000000000<".into(),
                    false,
                ),
                (
                    "company name of 140".into(),
                    company,
                    text(140, "</cup:companyName>"),
                    true,
                ),
                (
                    "company name of 141".into(),
                    company,
                    text(141, "</cup:companyName>"),
                    false,
                ),
                (
                    "debtor code of 20".into(),
                    debtor,
                    text(20, "</cup:debtorFiscalCode>"),
                    true,
                ),
                (
                    "debtor code of 21".into(),
                    debtor,
                    text(21, "</cup:debtorFiscalCode>"),
                    false,
                ),
                (
                    "debtor code empty".into(),
                    debtor,
                    "></cup:debtorFiscalCode>".into(),
                    false,
                ),
                (
                    "debtor name of 70".into(),
                    full_name,
                    text(70, "</cup:debtorFullName>"),
                    true,
                ),
                (
                    "debtor name of 71".into(),
                    full_name,
                    text(71, "</cup:debtorFullName>"),
                    false,
                ),
                ("no e-mail".into(), email, String::new(), true),
                (
                    "e-mail without a domain".into(),
                    "@example.it<",
                    "<".into(),
                    false,
                ),
                ("amount 0.00".into(), ">36.15<", ">0.00<".into(), true),
                ("amount 36.1".into(), ">36.15<", ">36.1<".into(), false),
                (
                    "amount over 999999999.99".into(),
                    ">36.15<",
                    ">1000000000.00<".into(),
                    false,
                ),
                (
                    "unqualified amount".into(),
                    "<cup:amount>36.15</cup:amount>",
                    "<amount>36.15</amount>".into(),
                    false,
                ),
            ],
        ),
    ];
    let mut cases = Vec::new();
    for (xsd, base, variations) in bases {
        cases.push((xsd, format!("{xsd}, valid"), base.to_owned(), true));
        for (what, from, to, valid) in variations {
            cases.push((xsd, format!("{xsd}, {what}"), vary(base, from, &to), valid));
        }
    }
    cases
}

/// Compiles each service schema of the corpus from `bundle`.
fn service_schemas(bundle: Bundle, label: &str) -> BTreeMap<&'static str, Schema> {
    let bundle = Arc::new(bundle);
    ["Cie_1_0_0.xsd", "Cup_1_0_0.xsd"]
        .into_iter()
        .map(|xsd| {
            let schema = Schema::compile(bundle.clone(), xsd)
                .unwrap_or_else(|e| panic!("{label} {xsd}: {e}"));
            (xsd, schema)
        })
        .collect()
}

/// The gateway's service-schema bundle (the project's `xsd/catalogo-servizi/` with the compiled-in
/// common types) and the official files give the same verdict on every service-data document.
#[test]
fn project_and_official_service_schemas_give_the_same_verdict() {
    let project_dir = repo().join("xsd/catalogo-servizi");
    let project = service_schemas(
        Bundle::service_schemas(&project_dir).expect("project service schemas"),
        "project",
    );
    let cases = service_corpus();
    let mut problems = Vec::new();
    if let Some(api) = official_dir() {
        let mut bundle = Bundle::from_dir(&api.join("catalogo-servizi")).expect("official dir");
        let common = read(&api.join("xsd-common/sac-common-types-1.0.xsd"));
        bundle.insert("sac-common-types-1.0.xsd", common.into_bytes());
        let official = service_schemas(bundle, "official");
        for (xsd, name, xml, _) in &cases {
            let (o, p) = (verdict(&official[xsd], xml), verdict(&project[xsd], xml));
            if o.is_ok() != p.is_ok() {
                problems.push(format!("{name}: official {o:?}, project {p:?}"));
            }
        }
    }
    for (xsd, name, xml, valid) in &cases {
        let p = verdict(&project[xsd], xml);
        if p.is_ok() != *valid {
            problems.push(format!(
                "{name}: expected valid={valid}, project says {p:?}"
            ));
        }
    }
    eprintln!("service corpus: {} documents", cases.len());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // Sharp enough: stText20 one character longer changes exactly the case at the limit.
    let common = read(&repo().join("xsd/sac-common-types-1.0.xsd"));
    let altered = alter_attr(
        &common,
        ("simpleType", "stText20"),
        "maxLength",
        |_| true,
        "value",
        Some("21"),
    );
    let mut bundle = Bundle::service_schemas(&project_dir).expect("project service schemas");
    bundle.insert("sac-common-types-1.0.xsd", altered.into_bytes());
    let altered = service_schemas(bundle, "altered");
    let changed: Vec<&str> = cases
        .iter()
        .filter(|(xsd, _, xml, valid)| verdict(&altered[xsd], xml).is_ok() != *valid)
        .map(|(_, name, _, _)| name.as_str())
        .collect();
    assert_eq!(changed, ["Cup_1_0_0.xsd, debtor code of 21"]);
}
