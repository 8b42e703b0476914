//! The tree-based validity proof (`xsd::fast`) never accepts what libxml2 refuses: every document of
//! a corpus of near-misses built from valid requests and EC answers (each value swapped for tricky
//! ones, each element dropped, doubled, attributed, commented, wrapped in CDATA…) is judged by
//! both; and the valid documents themselves are proven, so the fast path is really taken.

use sanp_gateway::soap::{tree, Element, Limits};
use sanp_gateway::xsd::{fast, Contract, Schema};

use crate::support;
use crate::support::ec;

struct Judge {
    name: &'static str,
    proves: fn(&Element) -> bool,
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
    let mut out = vec![doc.to_owned()];
    for (start, end) in leaves(doc) {
        for v in tricky_values() {
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
    let (mut judged, mut proven) = (0, 0);
    for base in docs {
        let root = tree::parse(base.as_bytes(), &Limits::default()).expect("base parses");
        assert!(
            (judge.proves)(&root),
            "{}: the valid base is proven: {base}",
            judge.name
        );
        for doc in mutants(base) {
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
        proves: fast::demand_request,
        schema: contract.node_for_psp.clone(),
    };
    let answer = Judge {
        name: "paDemandPaymentNoticeResponse",
        proves: fast::pa_demand_answer,
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
