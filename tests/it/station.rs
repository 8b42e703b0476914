//! What the station answers and how it is classified: every EC-answer defect class of
//! interfaces.md §6.6, EC KOs with and without the extended fault bean, unreachable stations,
//! SOAP Faults, resets, garbage, floods, stalls and the timeout (paused time).

use std::time::Duration;

use crate::support;
use crate::support::ec::{self, Behaviour, TestEc};
use crate::support::{conformance_registry, point_stations_at, Demand, TestGateway};

async fn setup(behaviour: Behaviour, extra: &str) -> (TestEc, TestGateway) {
    let ec = TestEc::start(behaviour).await;
    let mut registry = conformance_registry();
    point_stations_at(&mut registry, ec.port());
    let gw = TestGateway::start(&registry, extra).await;
    (ec, gw)
}

fn remove(s: &str, what: &str) -> String {
    assert!(s.contains(what), "fixture lacks {what}");
    s.replace(what, "")
}

fn swap(s: &str, from: &str, to: &str) -> String {
    assert!(s.contains(from), "fixture lacks {from}");
    s.replacen(from, to, 1)
}

/// Unwraps an element: `<a><b/></a>` → `<b/>` (the Node suite's "RemoveParent").
fn unwrap(s: &str, tag: &str) -> String {
    swap(&swap(s, &format!("<{tag}>"), ""), &format!("</{tag}>"), "")
}

/// Every defect class of §6.6 (TRES_PDPN_03..60) ⇒ PPT_STAZIONE_INT_PA_ERRORE_RESPONSE.
#[tokio::test]
async fn defective_ec_answers_are_errore_response() {
    let (ec, gw) = setup(ec::reply(ec::ok_answer()), "").await;
    let ok = ec::ok_answer();
    let soap_body_open = "<soapenv:Body>";
    let qr = "<qrCode><fiscalCode>77777777777</fiscalCode><noticeNumber>311111111111111111</noticeNumber></qrCode>";
    let option_open = "<paymentOptionDescription>";
    let list = {
        let start = ok.find("<paymentList>").expect("list");
        let end = ok.find("</paymentList>").expect("list end") + "</paymentList>".len();
        ok[start..end].to_owned()
    };
    let option = {
        let start = ok.find(option_open).expect("option");
        let end = ok.find("</paymentOptionDescription>").expect("option end")
            + "</paymentOptionDescription>".len();
        ok[start..end].to_owned()
    };
    let long141 = "x".repeat(141);
    let cases: Vec<(&str, String)> = vec![
        ("03 Body missing", "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Header/></soapenv:Envelope>".to_owned()),
        ("04 Body empty", swap(&ok, &ok[ok.find(soap_body_open).expect("body")..ok.find("</soapenv:Body>").expect("end")], soap_body_open)),
        ("05 response element missing", ok.replace("pafn:paDemandPaymentNoticeResponse", "pafn:somethingElse")),
        ("06 response element unwrapped", unwrap(&ok.replace("<pafn:paDemandPaymentNoticeResponse>", "<w>").replace("</pafn:paDemandPaymentNoticeResponse>", "</w>"), "w")),
        ("07 response element empty", ec::envelope("")),
        ("08 outcome missing", remove(&ok, "<outcome>OK</outcome>")),
        ("09 outcome empty", swap(&ok, "<outcome>OK</outcome>", "<outcome></outcome>")),
        ("10 outcome not OK/KO", swap(&ok, "<outcome>OK</outcome>", "<outcome>OK_</outcome>")),
        ("11 KO without fault", swap(&ok, "<outcome>OK</outcome>", "<outcome>KO</outcome>")),
        ("12 qrCode missing", remove(&ok, qr)),
        ("13 qrCode unwrapped", unwrap(&ok, "qrCode")),
        ("14 qrCode empty", swap(&ok, qr, "<qrCode/>")),
        ("15 fiscalCode missing", remove(&ok, "<fiscalCode>77777777777</fiscalCode>")),
        ("16 fiscalCode of 10 digits", swap(&ok, "<fiscalCode>77777777777</fiscalCode>", "<fiscalCode>7777777777</fiscalCode>")),
        ("17 fiscalCode of 12 digits", swap(&ok, "<fiscalCode>77777777777</fiscalCode>", "<fiscalCode>777777777777</fiscalCode>")),
        ("18 fiscalCode with a letter", swap(&ok, "<fiscalCode>77777777777</fiscalCode>", "<fiscalCode>7777777777à</fiscalCode>")),
        ("19 noticeNumber missing", remove(&ok, "<noticeNumber>311111111111111111</noticeNumber>")),
        ("20 noticeNumber of 17 digits", swap(&ok, "311111111111111111", "31111111111111111")),
        ("21 noticeNumber of 19 digits", swap(&ok, "311111111111111111", "3111111111111111111")),
        ("22 noticeNumber not numeric", swap(&ok, "311111111111111111", "31111111111111111A")),
        ("23 paymentList missing", remove(&ok, &list)),
        ("24 paymentList unwrapped", unwrap(&ok, "paymentList")),
        ("25 paymentList empty", swap(&ok, &list, "<paymentList/>")),
        ("26 two paymentList", swap(&ok, &list, &format!("{list}{list}"))),
        ("27 paymentOptionDescription missing", swap(&ok, &option, "")),
        ("28 paymentOptionDescription empty", swap(&ok, &option, "<paymentOptionDescription/>")),
        ("29 two paymentOptionDescription", swap(&ok, &option, &format!("{option}{option}"))),
        ("30 amount missing", remove(&ok, "<amount>120.50</amount>")),
        ("31 amount empty", swap(&ok, "<amount>120.50</amount>", "<amount></amount>")),
        ("32 amount with a comma", swap(&ok, "120.50", "11,34")),
        ("33 amount with three decimals", swap(&ok, "120.50", "11.342")),
        ("34 amount over the maximum", swap(&ok, "120.50", "1219087657.34")),
        ("35 amount not a number", swap(&ok, "120.50", "ciao")),
        ("amount zero", swap(&ok, "120.50", "0.00")),
        ("36 options missing", remove(&ok, "<options>EQ</options>")),
        ("37 options empty", swap(&ok, "<options>EQ</options>", "<options></options>")),
        ("38 options KK", swap(&ok, "<options>EQ</options>", "<options>KK</options>")),
        ("40 dueDate empty", swap(&ok, "<dueDate>2030-06-30</dueDate>", "<dueDate></dueDate>")),
        ("41a dueDate 20220613", swap(&ok, "2030-06-30", "20220613")),
        ("41b dueDate 12-09-22", swap(&ok, "2030-06-30", "12-09-22")),
        ("41c dueDate with time", swap(&ok, "2030-06-30", "12-08-2022T12:00:678")),
        ("43 detailDescription empty", swap(&ok, "<detailDescription>Bollo auto 2030</detailDescription>", "<detailDescription></detailDescription>")),
        ("44 detailDescription of 141", swap(&ok, "Bollo auto 2030", &long141)),
        ("45 allCCP missing", remove(&ok, "<allCCP>true</allCCP>")),
        ("46 allCCP empty", swap(&ok, "<allCCP>true</allCCP>", "<allCCP></allCCP>")),
        ("47 allCCP 3", swap(&ok, "<allCCP>true</allCCP>", "<allCCP>3</allCCP>")),
        ("48 paymentDescription missing", remove(&ok, "<paymentDescription>Tassa automobilistica AB345CD</paymentDescription>")),
        ("49 paymentDescription empty", swap(&ok, "<paymentDescription>Tassa automobilistica AB345CD</paymentDescription>", "<paymentDescription></paymentDescription>")),
        ("50 paymentDescription of 141", swap(&ok, "Tassa automobilistica AB345CD", &long141)),
        ("51 fiscalCodePA missing", remove(&ok, "<fiscalCodePA>77777777777</fiscalCodePA>")),
        ("52 fiscalCodePA empty", swap(&ok, "<fiscalCodePA>77777777777</fiscalCodePA>", "<fiscalCodePA></fiscalCodePA>")),
        ("53 fiscalCodePA of 12 digits", swap(&ok, "<fiscalCodePA>77777777777</fiscalCodePA>", "<fiscalCodePA>777777777777</fiscalCodePA>")),
        ("54 fiscalCodePA 12345jh%lk9", swap(&ok, "<fiscalCodePA>77777777777</fiscalCodePA>", "<fiscalCodePA>12345jh%lk9</fiscalCodePA>")),
        ("55 companyName missing", remove(&ok, "<companyName>Ente Conformita</companyName>")),
        ("56 companyName empty", swap(&ok, "<companyName>Ente Conformita</companyName>", "<companyName></companyName>")),
        ("57 companyName of 141", swap(&ok, "Ente Conformita", &long141)),
        ("59 officeName empty", swap(&ok, "<officeName>Ufficio tributi</officeName>", "<officeName></officeName>")),
        ("60 officeName of 141", swap(&ok, "Ufficio tributi", &long141)),
        ("OK with a fault", swap(&ok, "<outcome>OK</outcome>", "<outcome>OK</outcome><fault><faultCode>X</faultCode><faultString>x</faultString><id>77777777777</id></fault>")),
        ("KO fault without faultCode", remove(&ec::ko_answer(), "<faultCode>PAA_SEMANTICA</faultCode>")),
        ("KO fault without id", remove(&ec::ko_answer(), "<id>77777777777</id>")),
        ("children qualified", ok.replace("<outcome>", "<pafn:outcome>").replace("</outcome>", "</pafn:outcome>")),
        ("not XML", "this is not XML".to_owned()),
        ("truncated XML", ok[..ok.len() / 2].to_owned()),
        ("DOCTYPE in the answer", format!("<!DOCTYPE x [<!ENTITY a 'b'>]>{ok}")),
        ("wrong envelope namespace", ok.replace("http://schemas.xmlsoap.org/soap/envelope/", "http://www.w3.org/2003/05/soap-envelope")),
        ("empty 200 answer", String::new()),
    ];
    for (name, body) in cases {
        ec.set(ec::reply(body));
        let r = gw.demand(&Demand::default().xml()).await;
        assert_eq!(r.outcome, "KO", "{name}: {}", r.raw);
        let f = r.fault();
        assert_eq!(
            (f.code.as_str(), f.string.as_str(), f.id.as_str()),
            (
                "PPT_STAZIONE_INT_PA_ERRORE_RESPONSE",
                "Errore di risposta dalla stazione.",
                "NodoDeiPagamentiSPC"
            ),
            "{name}: {f:?}"
        );
        assert!(
            f.description
                .as_deref()
                .is_some_and(|d| d.starts_with("Stazione 77777777777_01: risposta non valida")),
            "{name}: {f:?}"
        );
    }
}

/// An EC writing Latin-1 is read as it declares it (Content-Type, else the XML declaration);
/// answers that do not decode in that charset are defective.
#[tokio::test]
async fn ec_answers_are_decoded_per_their_declared_charset() {
    let (ec, gw) = setup(ec::reply(ec::ok_answer()), "").await;
    let latin1 = |s: &str| -> Vec<u8> {
        s.chars()
            .map(|c| u8::try_from(u32::from(c)).expect("Latin-1 text"))
            .collect()
    };
    let answer = ec::ok_answer().replace("Ente Conformita", "Città di Forlì");
    let declared = format!("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>{answer}");
    let readable = [
        ("text/xml; charset=ISO-8859-1", latin1(&answer)),
        ("text/xml", latin1(&declared)),
        ("text/xml; charset=latin1", latin1(&declared)),
        ("text/xml", answer.clone().into_bytes()),
    ];
    for (content_type, body) in readable {
        ec.set(Behaviour::Bytes {
            content_type: content_type.into(),
            body,
        });
        let r = gw.demand(&Demand::default().xml()).await;
        assert_eq!(r.outcome, "OK", "{content_type}: {}", r.raw);
        assert_eq!(
            r.get("companyName"),
            Some("Città di Forlì"),
            "{content_type}"
        );
    }
    let defective = [
        ("text/xml; charset=UTF-8", latin1(&answer), "UTF-8"),
        ("text/xml", latin1(&answer), "UTF-8"),
        // The Content-Type wins over the declaration: these bytes are not UTF-8.
        ("text/xml; charset=UTF-8", latin1(&declared), "UTF-8"),
        (
            "text/xml; charset=utf-16",
            answer.clone().into_bytes(),
            "utf-16",
        ),
    ];
    for (content_type, body, needle) in defective {
        ec.set(Behaviour::Bytes {
            content_type: content_type.into(),
            body,
        });
        let r = gw.demand(&Demand::default().xml()).await;
        let f = r.fault();
        assert_eq!(
            f.code, "PPT_STAZIONE_INT_PA_ERRORE_RESPONSE",
            "{content_type}"
        );
        let d = f.description.clone().unwrap_or_default();
        assert!(
            d.starts_with("Stazione 77777777777_01: risposta non valida") && d.contains(needle),
            "{content_type}: {d}"
        );
    }
}

/// Writes what the gateway logs while this (current-thread) test runs.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("lock")).into_owned()
    }
}

/// An EC whose XML declaration contradicts its Content-Type charset is read with the
/// Content-Type's (RFC 7303), with a warning; only bytes that do not decode in it are defective.
/// libxml2 (which would honour the declaration) must read the same text as the tree.
#[tokio::test]
async fn ec_answers_contradicting_their_content_type_are_read_with_the_content_type() {
    let captured = Captured::default();
    let writer = captured.clone();
    // Thread-local, and the runtime is single-threaded: only this test's events are captured.
    let _logs = tracing::subscriber::set_default(
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::WARN)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish(),
    );
    let (ec, gw) = setup(ec::reply(ec::ok_answer()), "").await;
    let iso = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>";

    // pagoPA's mock EC: pure ASCII, declared ISO-8859-1, served as text/html; charset=utf-8.
    ec.set(Behaviour::Bytes {
        content_type: "text/html; charset=utf-8".into(),
        body: format!("{iso}{}", ec::ok_answer()).into_bytes(),
    });
    let r = gw.demand(&Demand::default().xml()).await;
    assert_eq!(r.outcome, "OK", "{}", r.raw);
    assert_eq!(r.get("companyName"), Some("Ente Conformita"));
    let logs = captured.text();
    assert!(
        logs.contains("WARN")
            && logs.contains("XML declaration contradicts the Content-Type charset")
            && logs.contains("station=\"77777777777_01\"")
            && logs.contains("declared=\"iso-8859-1\"")
            && logs.contains("transport=\"utf-8\"")
            && logs.contains("same_text=true"),
        "{logs}"
    );

    // UTF-8 text under the same contradiction is read as UTF-8, not as Latin-1 mojibake.
    let city = ec::ok_answer().replace("Ente Conformita", "Città di Forlì");
    ec.set(Behaviour::Bytes {
        content_type: "text/xml; charset=UTF-8".into(),
        body: format!("{iso}{city}").into_bytes(),
    });
    let r = gw.demand(&Demand::default().xml()).await;
    assert_eq!(r.outcome, "OK", "{}", r.raw);
    assert_eq!(r.get("companyName"), Some("Città di Forlì"));
    assert!(captured.text().contains("same_text=false"));

    // The same through libxml2 (a prolog comment keeps the tree proof out): 140 two-byte
    // characters fit stText140 only when read as UTF-8; read as declared they would be 280.
    let name = "à".repeat(140);
    let long = ec::ok_answer().replace("Ente Conformita", &name);
    ec.set(Behaviour::Bytes {
        content_type: "text/xml; charset=utf-8".into(),
        body: format!("{iso}<!-- EC -->{long}").into_bytes(),
    });
    let r = gw.demand(&Demand::default().xml()).await;
    assert_eq!(r.outcome, "OK", "{}", r.raw);
    assert_eq!(r.get("companyName"), Some(name.as_str()));
    let metrics = gw.metrics().render();
    assert!(
        metrics
            .lines()
            .any(|l| l == "sanp_schema_checks_total{document=\"ec_answer\",by=\"libxml2\"} 1"),
        "{metrics}"
    );

    // Bytes that are not UTF-8 stay defective, whatever the declaration says.
    let latin1: Vec<u8> = format!("{iso}{city}")
        .chars()
        .map(|c| u8::try_from(u32::from(c)).expect("Latin-1 text"))
        .collect();
    ec.set(Behaviour::Bytes {
        content_type: "text/html; charset=utf-8".into(),
        body: latin1,
    });
    let r = gw.demand(&Demand::default().xml()).await;
    let f = r.fault();
    assert_eq!(f.code, "PPT_STAZIONE_INT_PA_ERRORE_RESPONSE");
    assert_eq!(
        f.description.as_deref(),
        Some("Stazione 77777777777_01: risposta non valida: not readable text: body is not valid UTF-8")
    );
}

/// TRES_PDPN_61: an EC KO becomes PPT_ERRORE_EMESSO_DA_PAA with the EC as `id`; brokers with the
/// extended fault bean get the EC's own fault in `original*`, others get it in `description`.
#[tokio::test]
async fn ec_ko_is_errore_emesso_da_paa_with_the_extended_fault_bean_per_broker() {
    let (_ec, gw) = setup(ec::reply(ec::ko_answer()), "").await;
    let r = gw.demand(&Demand::default().xml()).await;
    assert_eq!(r.outcome, "KO");
    assert_eq!(
        r.fault(),
        &support::Fault {
            code: "PPT_ERRORE_EMESSO_DA_PAA".into(),
            string: "Errore restituito dalla PAA.".into(),
            id: "77777777777".into(),
            description: Some("Targa non trovata".into()),
            original_code: Some("PAA_SEMANTICA".into()),
            original_string: Some("Errore semantico".into()),
            original_description: Some("Targa non trovata".into()),
        }
    );
    let r = gw
        .demand(
            &Demand {
                broker: "BROKER_NOEXT".into(),
                channel: "CH_NOEXT".into(),
                ..Demand::default()
            }
            .xml(),
        )
        .await;
    assert_eq!(
        r.fault(),
        &support::Fault {
            code: "PPT_ERRORE_EMESSO_DA_PAA".into(),
            string: "Errore restituito dalla PAA.".into(),
            id: "77777777777".into(),
            description: Some("originalFaultCode: PAA_SEMANTICA, originalFaultString: Errore semantico, originalDescription: Targa non trovata".into()),
            original_code: None,
            original_string: None,
            original_description: None,
        }
    );
}

/// A KO whose faultCode is not a PAA_ code is still the EC's error (CNARES8: codes are not checked).
#[tokio::test]
async fn any_ec_fault_code_is_accepted() {
    let (_ec, gw) = setup(
        ec::reply(ec::ko_answer().replace("PAA_SEMANTICA", "ciao")),
        "",
    )
    .await;
    let r = gw.demand(&Demand::default().xml()).await;
    assert_eq!(r.fault().code, "PPT_ERRORE_EMESSO_DA_PAA");
    assert_eq!(r.fault().original_code.as_deref(), Some("ciao"));
}

/// Non-2xx, SOAP Faults (with 200 or 500), resets and closed ports ⇒ IRRAGGIUNGIBILE.
#[tokio::test]
async fn unreachable_stations_are_irraggiungibile() {
    let (ec, gw) = setup(ec::reply(ec::ok_answer()), "").await;
    let fault = "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Body><soapenv:Fault><faultcode>soapenv:Server</faultcode><faultstring>boom</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>";
    let cases: Vec<(&str, Behaviour, &str)> = vec![
        (
            "HTTP 500 with a SOAP Fault",
            Behaviour::Reply {
                status: 500,
                body: fault.into(),
            },
            "SOAP Fault soapenv:Server",
        ),
        (
            "HTTP 200 with a SOAP Fault",
            Behaviour::Reply {
                status: 200,
                body: fault.into(),
            },
            "SOAP Fault soapenv:Server",
        ),
        (
            "HTTP 404 (wrong path, PG-108)",
            Behaviour::Reply {
                status: 404,
                body: "not found".into(),
            },
            "risposta HTTP 404",
        ),
        (
            "HTTP 503 with a valid body",
            Behaviour::Reply {
                status: 503,
                body: ec::ok_answer(),
            },
            "risposta HTTP 503",
        ),
        (
            "connection reset",
            Behaviour::Reset,
            "connessione non riuscita",
        ),
    ];
    for (name, b, needle) in cases {
        ec.set(b);
        let r = gw.demand(&Demand::default().xml()).await;
        let f = r.fault();
        assert_eq!(
            f.code, "PPT_STAZIONE_INT_PA_IRRAGGIUNGIBILE",
            "{name}: {f:?}"
        );
        assert_eq!(f.string, "Errore di connessione verso la Stazione.");
        assert!(
            f.description.as_deref().is_some_and(|d| d.contains(needle)),
            "{name}: {f:?}"
        );
    }
    // A station whose port has nothing listening.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let mut registry = conformance_registry();
    point_stations_at(&mut registry, port);
    let gw = TestGateway::start(&registry, "").await;
    let r = gw.demand(&Demand::default().xml()).await;
    assert_eq!(r.fault().code, "PPT_STAZIONE_INT_PA_IRRAGGIUNGIBILE");
    // A station without the configured service path.
    let r = gw
        .demand(
            &Demand {
                subject_service: "00010".into(),
                ..Demand::default()
            }
            .xml(),
        )
        .await;
    assert_eq!(r.fault().code, "PPT_STAZIONE_INT_PA_IRRAGGIUNGIBILE");
    assert_eq!(
        r.fault().description.as_deref(),
        Some("Stazione 77777777777_06: endpoint non configurato")
    );
}

/// An EC that floods is cut off at `ec.max_response_bytes` ⇒ ERRORE_RESPONSE, and the gateway
/// keeps serving.
#[tokio::test]
async fn a_flooding_ec_gets_a_bounded_read() {
    let (ec, gw) = setup(
        Behaviour::Huge {
            len: 64 * 1024 * 1024,
        },
        "[ec]\nmax_response_bytes = 65536\n",
    )
    .await;
    let r = gw.demand(&Demand::default().xml()).await;
    assert_eq!(r.fault().code, "PPT_STAZIONE_INT_PA_ERRORE_RESPONSE");
    assert_eq!(
        r.fault().description.as_deref(),
        Some("Stazione 77777777777_01: risposta oltre 65536 byte")
    );
    ec.set(ec::reply(ec::ok_answer()));
    assert_eq!(gw.demand(&Demand::default().xml()).await.outcome, "OK");
}

/// No answer within 7 s (the default) ⇒ PPT_STAZIONE_INT_PA_TIMEOUT; time is paused, so the test
/// takes milliseconds.
#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_slow_ec_times_out_after_seven_seconds() {
    let (ec, gw) = setup(
        Behaviour::Delay(
            Duration::from_secs(10),
            Box::new(ec::reply(ec::ok_answer())),
        ),
        "",
    )
    .await;
    let started = tokio::time::Instant::now();
    let r = gw.demand(&Demand::default().xml()).await;
    let f = r.fault();
    assert_eq!(f.code, "PPT_STAZIONE_INT_PA_TIMEOUT", "{f:?}");
    assert_eq!(f.string, "Timeout risposta dalla Stazione.");
    assert_eq!(
        f.description.as_deref(),
        Some("Stazione 77777777777_01: nessuna risposta entro 7000 ms")
    );
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(7) && waited < Duration::from_secs(8),
        "{waited:?}"
    );
    // Just under the deadline is still an answer.
    ec.set(Behaviour::Delay(
        Duration::from_millis(6_900),
        Box::new(ec::reply(ec::ok_answer())),
    ));
    assert_eq!(gw.demand(&Demand::default().xml()).await.outcome, "OK");
    // A body that never ends is a timeout too.
    ec.set(Behaviour::Stall { len: 10_000 });
    assert_eq!(
        gw.demand(&Demand::default().xml()).await.fault().code,
        "PPT_STAZIONE_INT_PA_TIMEOUT"
    );
}

/// `ec.stations.<code>.timeout_ms` overrides the default for that station only.
#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn per_station_timeout_overrides_the_default() {
    let (_ec, gw) = setup(
        Behaviour::Delay(Duration::from_secs(3), Box::new(ec::reply(ec::ok_answer()))),
        "[ec.stations.\"77777777777_01\"]\ntimeout_ms = 2000\n",
    )
    .await;
    let started = tokio::time::Instant::now();
    let r = gw.demand(&Demand::default().xml()).await;
    assert_eq!(r.fault().code, "PPT_STAZIONE_INT_PA_TIMEOUT");
    assert_eq!(
        r.fault().description.as_deref(),
        Some("Stazione 77777777777_01: nessuna risposta entro 2000 ms")
    );
    assert!(started.elapsed() < Duration::from_secs(3));
}
