//! The tree-based validity proofs (`xsd::fast`) never accept what libxml2 refuses: every document
//! of a corpus of near-misses built from valid requests, EC answers and service data (each value
//! swapped for tricky ones, each element dropped, doubled, renamed, swapped, attributed,
//! commented, wrapped in CDATA…) is judged by both; and the valid documents themselves are
//! proven, so the fast path is really taken.

use std::sync::Arc;

use sanp_gateway::soap::{tree, Element, Limits};
use sanp_gateway::xsd::fast::ServiceProof;
use sanp_gateway::xsd::{example, fast, model, Bundle, Contract, Schema, SERVICE_IMPORTS};

use crate::support;
use crate::support::ec;

struct Judge<'a> {
    name: &'a str,
    proves: &'a dyn Fn(&Element) -> bool,
    schema: Schema,
}

/// Values that sit on or just past a facet, or that two parsers might read differently.
fn tricky_values() -> Vec<String> {
    let mut v: Vec<String> = [
        "",
        " ",
        "a",
        "OK",
        "KO",
        "ok",
        " OK",
        "OK ",
        "EQ",
        "ANY",
        "XX",
        "true",
        "false",
        "1",
        "0",
        "yes",
        "TRUE",
        "12345",
        "1234",
        "123456",
        "Password01",
        "Pass\r\nword1",
        "Pass\rword12",
        "PGEvPg==",
        "PGEvPg=",
        "PG EvPg==",
        "YW==",
        "YWI=",
        "cia",
        "cia$",
        "0.00",
        "0.01",
        "999999999.99",
        "1000000000.00",
        "0999999999.99",
        "12.5",
        "+1.00",
        " 1.00",
        "1.00 ",
        "1e3",
        "2024-02-29",
        "2023-02-29",
        "2030-06-30Z",
        "2030-06-30+01:00",
        " 2030-06-30",
        "0000-01-01",
        "77777777777",
        "7777777777",
        "777777777777",
        "7777777777 ",
        "311111111111111111",
        "31111111111111111",
        "-12",
        "1234567890",
        "&amp;",
        "&#233;",
        "&#13;",
        "a&#x9;b",
        "<![CDATA[x]]>",
        "<![CDATA[]]>",
        "a]]>b",
        "<!-- c -->x",
        "x<!---->",
        "\u{e8}\u{e8}",
        "a & b",
        "a &b",
        "&unknown;",
        "&#xD800;",
        "&#x10FFFF;",
        "a\u{a0}b",
        "<?xml version=\"1.0\"?>x",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for n in [34, 35, 36, 139, 140, 141] {
        v.push("x".repeat(n));
        v.push("\u{e8}".repeat(n));
    }
    v.push("Password0123456".into());
    v.push("Password01234567".into());
    v
}

/// Every `<name>text</name>` leaf of `doc` (no child elements inside), as byte ranges of its text.
fn leaves(doc: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let b = doc.as_bytes();
    let mut i = 0;
    while let Some(open) = doc[i..].find('<').map(|p| p + i) {
        let Some(close) = doc[open..].find('>').map(|p| p + open) else {
            break;
        };
        i = close + 1;
        if matches!(b.get(open + 1), Some(b'/' | b'?' | b'!')) || b[close - 1] == b'/' {
            continue;
        }
        if let Some(end) = doc[i..].find('<').map(|p| p + i) {
            if doc[end..].starts_with("</") {
                out.push((i, end));
            }
        }
    }
    out
}

/// Start tags of `doc` as `(position of '<', position of '>')`.
fn start_tags(doc: &str) -> Vec<(usize, usize)> {
    let b = doc.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(open) = doc[i..].find('<').map(|p| p + i) {
        let Some(close) = doc[open..].find('>').map(|p| p + open) else {
            break;
        };
        i = close + 1;
        if !matches!(b.get(open + 1), Some(b'/' | b'?' | b'!')) {
            out.push((open, close));
        }
    }
    out
}

/// Whole elements `<x …>…</x>` of `doc` (by matching the next end tag of the same name).
fn elements(doc: &str) -> Vec<(usize, usize)> {
    start_tags(doc)
        .into_iter()
        .filter_map(|(open, close)| {
            let name: String = doc[open + 1..close]
                .chars()
                .take_while(|c| !c.is_whitespace() && *c != '/' && *c != '>')
                .collect();
            if doc.as_bytes()[close - 1] == b'/' {
                return Some((open, close + 1));
            }
            let end_tag = format!("</{name}>");
            doc[close..]
                .find(&end_tag)
                .map(|p| (open, close + p + end_tag.len()))
        })
        .collect()
}

fn mutants(doc: &str) -> Vec<String> {
    mutants_with(doc, &tricky_values())
}

fn mutants_with(doc: &str, values: &[String]) -> Vec<String> {
    let mut out = vec![doc.to_owned()];
    for (start, end) in leaves(doc) {
        for v in values {
            out.push(format!("{}{v}{}", &doc[..start], &doc[end..]));
        }
    }
    for (start, end) in elements(doc) {
        let element = &doc[start..end];
        out.push(format!("{}{}", &doc[..start], &doc[end..]));
        out.push(format!(
            "{}{element}{element}{}",
            &doc[..start],
            &doc[end..]
        ));
        for insert in [
            "<!-- c -->",
            "<![CDATA[ ]]>",
            " x ",
            "&#32;",
            "\r\n",
            "<extra/>",
            "<soapenv:Header/>",
        ] {
            out.push(format!("{}{insert}{element}{}", &doc[..start], &doc[end..]));
        }
    }
    for (_, close) in start_tags(doc) {
        let at = if doc.as_bytes()[close - 1] == b'/' {
            close - 1
        } else {
            close
        };
        for attribute in [
            " a=\"1\"",
            " xmlns:x=\"urn:x\"",
            " xmlns:x=\"\"",
            " xmlns=\"\"",
            " xmlns=\"urn:x\"",
            " xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:nil=\"true\"",
            " soapenv:mustUnderstand=\"1\"",
            " xml:lang=\"it\"",
        ] {
            out.push(format!("{}{attribute}{}", &doc[..at], &doc[at..]));
        }
    }
    for (from, to) in [
        ("soapenv:Header", "soapenv:Head"),
        (
            "<soapenv:Header/>",
            "<soapenv:Header><x:h xmlns:x=\"urn:x\"/></soapenv:Header>",
        ),
        ("<soapenv:Header/>", ""),
        (
            "http://schemas.xmlsoap.org/soap/envelope/",
            "http://www.w3.org/2003/05/soap-envelope",
        ),
        ("nodeForPsp.xsd", "nodeForPsp.xsd/"),
        ("paForNode.xsd", "paForNode.xsd "),
        (
            "<soapenv:Envelope",
            "<?xml version=\"1.0\"?><soapenv:Envelope",
        ),
        (
            "<soapenv:Envelope",
            "<?xml version=\"1.1\"?><soapenv:Envelope",
        ),
        (
            "<soapenv:Envelope",
            "<?xml version=\"1.0\" standalone=\"maybe\"?><soapenv:Envelope",
        ),
        ("<soapenv:Envelope", "<!-- c --><soapenv:Envelope"),
        (
            "<soapenv:Envelope",
            "<?xml version=\"1.0\"encoding=\"UTF-8\"?><soapenv:Envelope",
        ),
        (
            "<soapenv:Envelope",
            "<?xml version=\"1.0\" standalone=\"no\" encoding=\"UTF-8\"?><soapenv:Envelope",
        ),
        (
            "<soapenv:Envelope",
            "<?xml version=\"1.0\" foo=\"bar\"?><soapenv:Envelope",
        ),
        (
            "<soapenv:Envelope",
            "<?xml version=\"1.0\" version=\"1.0\"?><soapenv:Envelope",
        ),
        (
            "<soapenv:Envelope",
            "<?xml version=\"1.0\" ENCODING=\"UTF-8\"?><soapenv:Envelope",
        ),
        (
            "<soapenv:Envelope",
            "<?xml version=\"1.0\" encoding=\" UTF-8\"?><soapenv:Envelope",
        ),
        (
            "<soapenv:Envelope",
            "<?xml version = '1.0'\tencoding='utf-8' standalone='yes' ?><soapenv:Envelope",
        ),
        (
            "\"http://schemas.xmlsoap.org/soap/envelope/\"",
            "\"http://schemas.xmlsoap.org/soap/envelope/\"xmlns:x=\"u\"",
        ),
        (
            "<soapenv:Header/>",
            "<soapenv:Header xmlns:x=\"u\"xmlns:y=\"v\"/>",
        ),
        (
            "<soapenv:Envelope",
            " <?xml version=\"1.0\"?><soapenv:Envelope",
        ),
        (
            "<soapenv:Envelope",
            "<?xml version=\"1.0\"?><?xml version=\"1.0\"?><soapenv:Envelope",
        ),
        ("<soapenv:Body>", "<soapenv:Body><?xml version=\"1.0\"?>"),
        ("<soapenv:Body>", "<soapenv:Body>\u{a0}"),
        ("</soapenv:Envelope>", "</soapenv:Envelope><!-- c -->"),
        ("</soapenv:Body>", "<x:t xmlns:x=\"urn:x\"/></soapenv:Body>"),
        (
            "</soapenv:Envelope>",
            "<x:t xmlns:x=\"urn:x\"/></soapenv:Envelope>",
        ),
    ] {
        if doc.contains(from) {
            out.push(doc.replacen(from, to, 1));
        }
    }
    out
}

/// Runs every mutant of `docs` past `judge`; returns (documents judged, documents proven).
fn check(judge: &Judge, docs: &[String]) -> (usize, usize) {
    judge_all(judge, docs, mutants)
}

/// [`check`] with the mutants `make` builds from each base document.
fn judge_all(judge: &Judge, docs: &[String], make: impl Fn(&str) -> Vec<String>) -> (usize, usize) {
    let (mut judged, mut proven) = (0, 0);
    for base in docs {
        let root = tree::parse(base.as_bytes(), &Limits::default()).expect("base parses");
        assert!(
            (judge.proves)(&root),
            "{}: the valid base is proven: {base}",
            judge.name
        );
        for doc in make(base) {
            let Ok(root) = tree::parse(doc.as_bytes(), &Limits::default()) else {
                continue;
            };
            judged += 1;
            if (judge.proves)(&root) {
                proven += 1;
                if let Err(e) = judge.schema.validate(doc.as_bytes()) {
                    panic!("{}: proven valid but libxml2 says {e}:\n{doc}", judge.name);
                }
            }
        }
    }
    (judged, proven)
}

#[test]
fn the_fast_proof_never_accepts_what_libxml2_refuses() {
    let contract = Contract::load().expect("contract");
    let requests = vec![
        support::Demand::default().xml(),
        support::read(support::repo().join("fixtures/demo/demand.xml")),
    ];
    let answers = vec![
        ec::ok_answer(),
        ec::ko_answer(),
        ec::envelope(
            "<outcome>KO</outcome><fault><faultCode>PAA_X</faultCode><faultString>s</faultString>\
             <id>77777777777</id><description>d</description><serial>3</serial>\
             <originalFaultCode>o</originalFaultCode><originalFaultString>os</originalFaultString>\
             <originalDescription>od</originalDescription></fault>",
        ),
        ec::envelope(
            "<outcome>OK</outcome><qrCode><fiscalCode>77777777777</fiscalCode>\
             <noticeNumber>311111111111111111</noticeNumber></qrCode><paymentList>\
             <paymentOptionDescription><amount>0.01</amount><options>ANY</options>\
             <allCCP>0</allCCP></paymentOptionDescription></paymentList>",
        ),
    ];
    let demand = Judge {
        name: "demandPaymentNoticeRequest",
        proves: &fast::demand_request,
        schema: contract.node_for_psp.clone(),
    };
    let answer = Judge {
        name: "paDemandPaymentNoticeResponse",
        proves: &fast::pa_demand_answer,
        schema: contract.pa_for_node.clone(),
    };
    let (judged_requests, proven_requests) = check(&demand, &requests);
    let (judged_answers, proven_answers) = check(&answer, &answers);
    eprintln!("judged/proven: requests {judged_requests}/{proven_requests}, answers {judged_answers}/{proven_answers}");
    // The corpus really exercises both verdicts.
    assert!(
        judged_requests > 1_000 && judged_answers > 3_000,
        "{judged_requests} {judged_answers}"
    );
    assert!(
        proven_requests > 100 && proven_answers > 300,
        "{proven_requests} {proven_answers}"
    );
    assert!(proven_requests < judged_requests / 2 && proven_answers < judged_answers / 2);
    // Documents of the other kind are never proven.
    let root = tree::parse(ec::ok_answer().as_bytes(), &Limits::default()).expect("parses");
    assert!(!fast::demand_request(&root));
    let root = tree::parse(requests[0].as_bytes(), &Limits::default()).expect("parses");
    assert!(!fast::pa_demand_answer(&root));
}

/// A demand request broken in one field's length is refused by the proof in libxml2's own words:
/// for every mutant the proof settles as invalid, libxml2 refuses it too, and its first issue is
/// the proof's (code, message, path, line); every mutant the proof calls valid, libxml2 accepts.
#[test]
fn the_demand_proof_words_a_length_fault_as_libxml2_does() {
    let contract = Contract::load().expect("contract");
    let schema = &contract.node_for_psp;
    let mut requests = vec![
        support::Demand::default().xml(),
        support::read(support::repo().join("fixtures/demo/demand.xml")),
    ];
    // The syntax KO of the benchmark: an idPSP of 36 characters, on a line of its own.
    let long = requests[1].replacen(
        "<idPSP>PSPDEMOXXXX<",
        &format!("<idPSP>{}<", "A".repeat(36)),
        1,
    );
    assert_ne!(long, requests[1]);
    requests.push(long);
    let (mut judged, mut valid, mut invalid) = (0, 0, 0);
    for base in &requests {
        for doc in std::iter::once(base.clone()).chain(mutants(base)) {
            let Ok(root) = tree::parse(doc.as_bytes(), &Limits::default()) else {
                continue;
            };
            judged += 1;
            match fast::demand_request_verdict(&root, doc.as_bytes()) {
                fast::Verdict::Valid => {
                    valid += 1;
                    if let Err(e) = schema.validate(doc.as_bytes()) {
                        panic!("proven valid but libxml2 says {e}:\n{doc}");
                    }
                }
                fast::Verdict::Invalid(issue) => {
                    invalid += 1;
                    match schema.validate(doc.as_bytes()) {
                        Ok(()) => panic!("refused by the proof ({issue:?}) but valid:\n{doc}"),
                        Err(e) => assert_eq!(e.first(), &issue, "first issue of:\n{doc}"),
                    }
                }
                fast::Verdict::NotProven => {}
            }
        }
    }
    eprintln!("demand verdicts: judged {judged}, valid {valid}, length faults {invalid}");
    assert!(
        judged > 1_000 && valid > 100 && invalid > 100,
        "{judged} {valid} {invalid}"
    );
}

/// Values on and past the service schemas' facets: enumeration neighbours, fixed codes, lengths
/// around each bound (plates of 6 to 9 characters…), fiscal codes, e-mail addresses, amounts, and
/// the lexical edges of the built-ins the proof reads (integers, decimals, tokens).
fn service_values() -> Vec<String> {
    let mut v: Vec<String> = [
        "2",
        "3",
        "4",
        "01",
        "1 ",
        "7",
        "9",
        "10",
        "11",
        "12",
        "A001",
        "A002",
        "a001",
        " A001",
        "D847",
        "D 847",
        "AB123CD",
        "AB 123CD",
        "ab123cd",
        "AB123C",
        "AB1234CD",
        "AB123CDE",
        "RSSMRA80A01H501U",
        "RSSMRA80A01H501u",
        "RSSMRA80A01H501",
        "RSSMRA80F01H501U",
        "RSSMRALPALMH5LMU",
        "H501",
        "H50",
        "H5011",
        "123456",
        "1234567",
        "a@b",
        "a@b.c",
        "mario.rossi+x@comune.forli.it",
        "@b",
        "a@",
        "a@b.",
        "a@b..c",
        "a b@c",
        "a@b_c",
        "à@b.it",
        "-1.00",
        "1.001",
        "-0.00",
        "999999999.999",
        "2147483647",
        "2147483648",
        "-2147483648",
        "-2147483649",
        "007",
        "-0",
        "+5",
        "99",
        "100",
        "9223372036854775807",
        "9223372036854775808",
        "123456789012345678",
        "1234567890123456789",
        "1.0",
        "-100",
        "-100.01",
        "999.99",
        "1000",
        "-99.999",
        "12.345",
        "0.5",
        ".5",
        "5.",
        "AB",
        "ABC",
        "A B",
        " AB",
        "AB ",
        "A  B",
        "A\tB",
        "AB&#9;",
        "2030-01-31",
        "2030-02-30",
        "true ",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for n in [
        3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 18, 19, 20, 21, 39, 40, 41, 49, 50, 51, 69, 70, 71,
    ] {
        v.push("x".repeat(n));
        v.push("\u{e8}".repeat(n));
    }
    for n in [256, 257] {
        v.push(format!("a@{}", "b".repeat(n - 2)));
    }
    v
}

/// Each element renamed to every other element name of `doc`, and each pair of adjacent sibling
/// elements swapped: a choice's other branches, a sequence out of order.
fn reshuffled(doc: &str) -> Vec<String> {
    let spans = elements(doc);
    let name = |open: usize| -> String {
        doc[open + 1..]
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '/' && *c != '>')
            .collect()
    };
    let mut names: Vec<String> = spans.iter().map(|(open, _)| name(*open)).collect();
    names.sort();
    names.dedup();
    let mut out = Vec::new();
    for &(start, end) in &spans {
        let own = name(start);
        let element = &doc[start..end];
        let end_tag = format!("</{own}>");
        for other in names.iter().filter(|n| **n != own) {
            // Only the element's own tags are renamed.
            let renamed = match element.strip_suffix(&end_tag) {
                Some(inner) => format!("<{other}{}</{other}>", &inner[own.len() + 1..]),
                None => format!("<{other}{}", &element[own.len() + 1..]),
            };
            out.push(format!("{}{renamed}{}", &doc[..start], &doc[end..]));
        }
        if let Some(&(_, next_end)) = spans.iter().find(|(s, _)| *s == end) {
            out.push(format!(
                "{}{}{element}{}",
                &doc[..start],
                &doc[end..next_end],
                &doc[next_end..]
            ));
        }
    }
    out
}

/// Each value with one character replaced by a letter, digit or sign of another class, dropped or
/// doubled, or with its end repeated: what a pattern's classes and quantifiers must tell apart.
fn retyped(doc: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (start, end) in leaves(doc) {
        let value = &doc[start..end];
        // Its tail repeated (a quantifier's bound), and the whole of it twice.
        let chars: Vec<char> = value.chars().collect();
        for k in 1..=3.min(chars.len()) {
            let tail: String = chars[chars.len() - k..].iter().collect();
            out.push(format!("{}{value}{tail}{}", &doc[..start], &doc[end..]));
        }
        out.push(format!("{}{value}{value}{}", &doc[..start], &doc[end..]));
        for (i, c) in value.char_indices() {
            let (before, after) = (&value[..i], &value[i + c.len_utf8()..]);
            let mut edits: Vec<String> = "aZz09 -.@_\u{e8}"
                .chars()
                .filter(|r| *r != c)
                .map(|r| format!("{before}{r}{after}"))
                .collect();
            edits.push(format!("{before}{after}"));
            edits.push(format!("{before}{c}{c}{after}"));
            for v in edits {
                out.push(format!("{}{v}{}", &doc[..start], &doc[end..]));
            }
        }
    }
    out
}

/// Whole-document near-misses of service data: other declarations, namespaces and prefixes.
fn service_mutants(doc: &str, namespace: &str) -> Vec<String> {
    let decl = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";
    let default = format!(" xmlns=\"{namespace}\"");
    let mut out = mutants_with(doc, &[tricky_values(), service_values()].concat());
    out.extend(reshuffled(doc));
    out.extend(retyped(doc));
    for (from, to) in [
        (decl.to_owned(), String::new()),
        (decl.to_owned(), "<?xml version=\"1.1\"?>".to_owned()),
        (
            decl.to_owned(),
            "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>".to_owned(),
        ),
        (decl.to_owned(), format!("{decl}<!-- c -->")),
        (decl.to_owned(), format!("{decl}\n")),
        (decl.to_owned(), format!(" {decl}")),
        (default.clone(), String::new()),
        (default.clone(), format!(" xmlns=\"{namespace}/\"")),
        (
            default.clone(),
            format!(" xmlns=\"{}\"", namespace.to_uppercase()),
        ),
        (default.clone(), format!(" xmlns:s=\"{namespace}\"")),
        (
            default.clone(),
            format!("{default} xmlns:s=\"{namespace}\""),
        ),
        (
            default.clone(),
            format!(" xmlns=\"urn:x\" xmlns:s=\"{namespace}\""),
        ),
    ] {
        if doc.contains(&from) {
            out.push(doc.replacen(&from, &to, 1));
        }
    }
    // The same document with prefixed names (valid, and proven like the unprefixed one), and
    // with one name left unprefixed.
    if doc.contains(&default) {
        let prefixed = prefixed(doc, &default, namespace);
        out.push(prefixed.replacen("<s:", "<", 1));
        if let Some(last) = prefixed.rfind("<s:") {
            out.push(format!("{}<{}", &prefixed[..last], &prefixed[last + 3..]));
        }
        out.push(prefixed);
    }
    out
}

/// `doc` with every element in `namespace` through the prefix `s`.
fn prefixed(doc: &str, default: &str, namespace: &str) -> String {
    let mut out = String::new();
    let body = doc.replacen(default, &format!(" xmlns:s=\"{namespace}\""), 1);
    let mut rest = body.as_str();
    while let Some(i) = rest.find('<') {
        out.push_str(&rest[..=i]);
        rest = &rest[i + 1..];
        if rest.starts_with('/') {
            out.push_str("/s:");
            rest = &rest[1..];
        } else if !rest.starts_with(['?', '!']) {
            out.push_str("s:");
        }
    }
    out.push_str(rest);
    out
}

/// A schema with what the bundled ones do not use but the proof reads: token and
/// normalizedString, integers and their ranges, decimals with digits and bounds, dates,
/// booleans, patterns on strings (alternatives, an optional group, `\d`), a restriction of a
/// restriction, a choice with a sequence branch, optional groups, repeated elements, an
/// unqualified local element and one from another namespace.
const KITCHEN: &str = r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:k="urn:sanp:test:kitchen" xmlns:o="urn:sanp:test:other" targetNamespace="urn:sanp:test:kitchen" elementFormDefault="qualified">
  <xs:import namespace="urn:sanp:test:other" schemaLocation="Other.xsd"/>
  <xs:simpleType name="stCode"><xs:restriction base="xs:token"><xs:minLength value="2"/><xs:maxLength value="5"/></xs:restriction></xs:simpleType>
  <xs:simpleType name="stKind"><xs:restriction base="k:stCode"><xs:enumeration value="AB"/><xs:enumeration value="ABC"/><xs:enumeration value="A B"/></xs:restriction></xs:simpleType>
  <xs:simpleType name="stPlate"><xs:restriction base="xs:string"><xs:pattern value="[A-Z]{2}\d{3}[A-Z]{2}"/></xs:restriction></xs:simpleType>
  <xs:element name="kitchen"><xs:complexType><xs:sequence>
    <xs:element name="code" type="k:stCode"/>
    <xs:element name="kind" type="k:stKind" minOccurs="0"/>
    <xs:element name="note" type="xs:normalizedString" minOccurs="0" maxOccurs="3"/>
    <xs:element name="count" type="xs:int"/>
    <xs:element name="small"><xs:simpleType><xs:restriction base="xs:positiveInteger"><xs:maxExclusive value="100"/><xs:totalDigits value="2"/></xs:restriction></xs:simpleType></xs:element>
    <xs:element name="big" type="xs:long"/>
    <xs:element name="natural" type="xs:nonNegativeInteger"/>
    <xs:element name="whole" type="xs:integer"/>
    <xs:element name="price"><xs:simpleType><xs:restriction base="xs:decimal"><xs:totalDigits value="5"/><xs:fractionDigits value="2"/><xs:minInclusive value="-100"/><xs:maxExclusive value="1000"/></xs:restriction></xs:simpleType></xs:element>
    <xs:element name="digits"><xs:simpleType><xs:restriction base="xs:decimal"><xs:totalDigits value="3"/></xs:restriction></xs:simpleType></xs:element>
    <xs:element name="tag" minOccurs="0"><xs:simpleType><xs:restriction base="xs:token"><xs:minLength value="4"/><xs:maxLength value="6"/></xs:restriction></xs:simpleType></xs:element>
    <xs:element name="day" type="xs:date"/>
    <xs:element name="flag" type="xs:boolean"/>
    <xs:choice>
      <xs:element name="plate" type="k:stPlate"/>
      <xs:sequence><xs:element name="frame" type="k:stCode"/><xs:element name="model" minOccurs="0"><xs:simpleType><xs:restriction base="xs:string"><xs:pattern value="(Panda|Punto)( [1-9][0-9]{0,1})?"/></xs:restriction></xs:simpleType></xs:element></xs:sequence>
    </xs:choice>
    <xs:sequence minOccurs="0"><xs:element name="from" type="xs:date"/><xs:element name="to" type="xs:date"/></xs:sequence>
    <xs:element name="local" type="xs:string" form="unqualified"/>
    <xs:element ref="o:remark"/>
  </xs:sequence></xs:complexType></xs:element>
</xs:schema>"#;

const OTHER: &str = r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:sanp:test:other"><xs:element name="remark" type="xs:string"/></xs:schema>"#;

/// Valid instances of [`KITCHEN`], written by hand (the example generator puts every element in
/// the root's namespace): the target namespace through a prefix, so `local` can be in none.
fn kitchen_documents() -> Vec<String> {
    let doc = |middle: &str, tail: &str| {
        // A token whose white space counts: collapsing "A  B" would make it too short.
        let tag = if tail.contains("plate") {
            "<k:tag>AB CD</k:tag>"
        } else {
            ""
        };
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
             <k:kitchen xmlns:k=\"urn:sanp:test:kitchen\" xmlns:o=\"urn:sanp:test:other\">\
             <k:code>A B</k:code>{middle}<k:count>-2147483648</k:count><k:small>99</k:small>\
             <k:big>123456789012345678</k:big><k:natural>0</k:natural><k:whole>-17</k:whole>\
             <k:price>-100.00</k:price><k:digits>1.23</k:digits>{tag}<k:day>2024-02-29</k:day><k:flag>false</k:flag>{tail}\
             <local>x</local><o:remark>r</o:remark></k:kitchen>"
        )
    };
    vec![
        doc("", "<k:plate>AB123CD</k:plate>"),
        doc(
            "<k:kind>ABC</k:kind><k:note> a  b </k:note><k:note/>",
            "<k:frame>ZFA31</k:frame><k:from>2030-01-01</k:from><k:to>2030-12-31</k:to>",
        ),
        doc(
            "<k:note>n</k:note><k:note>n</k:note><k:note>n</k:note>",
            "<k:frame>ZF</k:frame><k:model>Punto 55</k:model>",
        ),
    ]
}

/// Every service schema's proof, where it compiles, proves the schema's example (and a few
/// hand-made valid variants) and never one of their near-misses that libxml2 refuses.
#[test]
fn the_service_data_proof_never_accepts_what_libxml2_refuses() {
    let dir = support::repo().join("xsd/catalogo-servizi");
    let bundled = Arc::new(Bundle::service_schemas(&dir).expect("service schemas"));
    let mut names: Vec<String> = bundled
        .names()
        .filter(|n| !SERVICE_IMPORTS.contains(n))
        .map(str::to_owned)
        .collect();
    names.sort();
    assert!(names.len() >= 5, "{names:?}");
    let mut kitchen = Bundle::default();
    kitchen.insert("Kitchen.xsd", KITCHEN.as_bytes().to_vec());
    kitchen.insert("Other.xsd", OTHER.as_bytes().to_vec());
    let kitchen = Arc::new(kitchen);
    let schemas = names
        .iter()
        .map(|n| (bundled.clone(), n.as_str()))
        .chain([(kitchen.clone(), "Kitchen.xsd")]);

    // Valid variants the examples (first branch of each choice, every optional element) miss.
    let variants = |name: &str, xml: &str| -> Vec<String> {
        let swap = |from: &str, to: &str| {
            // From the first start tag to the last end tag: `note` holds a `note`.
            let (a, b) = (
                xml.find(&format!("<{from}>")),
                xml.rfind(&format!("</{from}>")),
            );
            match (a, b) {
                (Some(a), Some(b)) => format!("{}{to}{}", &xml[..a], &xml[b + from.len() + 3..]),
                _ => panic!("{name}: no {from} in {xml}"),
            }
        };
        match name {
            "Cup_1_0_0.xsd" => vec![
                swap("organizationFiscalCode", "<istatCode>058091</istatCode>"),
                swap(
                    "organizationFiscalCode",
                    "<catastaleCode>H501</catastaleCode>",
                ),
                swap("debtorEmail", ""),
            ],
            "D847_Pesca_1_0_0.xsd" => vec![swap("note", "")],
            _ => vec![],
        }
    };

    let mut report = Vec::new();
    let mut proven_schemas = Vec::new();
    for (bundle, name) in schemas {
        let schema = Schema::compile(bundle.clone(), name).expect("schema compiles");
        let service = model::read(&bundle, name).unwrap_or_else(|e| panic!("{e}"));
        let Some(proof) = ServiceProof::compile(&service) else {
            report.push(format!("{name}: no proof"));
            continue;
        };
        let bases = if name == "Kitchen.xsd" {
            kitchen_documents()
        } else {
            let example = example::example(&bundle, name).unwrap_or_else(|e| panic!("{e}"));
            let mut bases = vec![example.xml.clone()];
            bases.extend(variants(name, &example.xml));
            bases
        };
        for base in &bases {
            if let Err(e) = schema.validate(base.as_bytes()) {
                panic!("{name}: a base must be valid, libxml2 says {e}:\n{base}");
            }
        }
        let proves = |root: &Element| proof.proves(root);
        let judge = Judge {
            name,
            proves: &proves,
            schema,
        };
        let (judged, proven) = judge_all(&judge, &bases, |doc| {
            service_mutants(doc, &service.namespace)
        });
        assert!(
            proven > bases.len() && proven < judged,
            "{name}: {judged} judged, {proven} proven"
        );
        report.push(format!("{name}: {judged} judged, {proven} proven"));
        proven_schemas.push(name.to_owned());
    }
    eprintln!("service data, judged/proven: {}", report.join("; "));
    for name in [
        "A001_Passaporto_1_0_0.xsd",
        "Cie_1_0_0.xsd",
        "Cup_1_0_0.xsd",
        "D847_Pesca_1_0_0.xsd",
        "TassaAutomobilistica_1_1_0.xsd",
        "Kitchen.xsd",
    ] {
        assert!(
            proven_schemas.iter().any(|p| p == name),
            "{name} has a proof: {report:?}"
        );
    }
}

/// Every `.xml` file under `dir`, recursively.
fn xml_files(dir: &std::path::Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            xml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "xml") {
            out.push(support::read(&path));
        }
    }
}

/// Where each element of two trees was read, in document order.
fn starts(e: &Element, out: &mut Vec<usize>) {
    out.push(e.start);
    for c in &e.children {
        starts(c, out);
    }
}

/// The one-pass reader of plain documents builds exactly the tree quick-xml builds, wherever it
/// reads at all (it gives up on anything else): on every fixture, request, EC answer and service
/// example, and every mutant of them, with the default limits and with tight ones.
#[test]
fn the_plain_reader_reads_what_the_general_reader_reads() {
    let mut docs = vec![
        support::Demand::default().xml(),
        ec::ok_answer(),
        ec::ko_answer(),
    ];
    xml_files(&support::repo().join("fixtures"), &mut docs);
    let bundle =
        sanp_gateway::xsd::Bundle::service_schemas(&support::repo().join("xsd/catalogo-servizi"))
            .expect("service schemas");
    for name in bundle.names() {
        if let Ok(example) = sanp_gateway::xsd::example::example(&bundle, name) {
            docs.push(example.xml);
        }
    }
    let tight = Limits {
        max_depth: 4,
        max_elements: 12,
        max_attributes: 2,
        max_name_bytes: 20,
        max_text_bytes: 40,
    };
    let (mut judged, mut plain) = (0usize, 0usize);
    let plain_bases = docs
        .iter()
        .filter(|d| tree::read_plain(d.as_bytes(), &Limits::default()).is_some())
        .count();
    for base in &docs {
        for doc in std::iter::once(base.clone()).chain(mutants(base)) {
            for limits in [Limits::default(), tight] {
                judged += 1;
                let Some(fast) = tree::read_plain(doc.as_bytes(), &limits) else {
                    continue;
                };
                plain += 1;
                let general = tree::parse_general(doc.as_bytes(), &limits)
                    .unwrap_or_else(|e| panic!("read plain, but quick-xml says {e}:\n{doc}"));
                assert_eq!(fast, general, "{doc}");
                let (mut a, mut b) = (Vec::new(), Vec::new());
                starts(&fast, &mut a);
                starts(&general, &mut b);
                assert_eq!(a, b, "element offsets of:\n{doc}");
            }
        }
    }
    eprintln!(
        "plain reader: {plain_bases}/{} base documents, {plain}/{judged} documents with mutants",
        docs.len()
    );
    assert!(
        docs.len() > 100 && plain_bases * 10 > docs.len() * 8,
        "{plain_bases}/{}",
        docs.len()
    );
    assert!(plain > 5_000 && plain * 5 < judged * 4, "{plain}/{judged}");
}
