//! The conformance kit (issue #12): `sanp-gateway conformance` on the embedded demo, every fault
//! code of docs/operations.md with a fixture that produces it, a changed outcome reported for
//! exactly its fixture, and the sample EC as a test double (control API, history, scenarios,
//! service schemas, resets, TLS with a required client certificate).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use crate::support::{self, TestGateway};
use base64::Engine as _;
use bytes::Bytes;
use http::{Method, Request};
use http_body_util::Full;
use sanp_gateway::conformance::{self, Embedded, Verdict};
use sanp_gateway::sample_ec::{self, Control, SampleEc};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

fn fixtures() -> PathBuf {
    support::repo().join("fixtures/conformance")
}

fn demo_settings() -> PathBuf {
    support::repo().join("fixtures/demo/gateway.toml")
}

/// CI's run: the binary on the embedded demo, from the repository root, with a JUnit report.
#[test]
fn the_binary_passes_every_fixture_on_the_embedded_demo() {
    let manifest = conformance::manifest::load(&fixtures()).expect("manifest");
    let dir = tempfile::tempdir().expect("tempdir");
    let junit = dir.path().join("junit.xml");
    let out = Command::new(env!("CARGO_BIN_EXE_sanp-gateway"))
        .arg("conformance")
        .arg("--junit")
        .arg(&junit)
        .current_dir(support::repo())
        .output()
        .expect("run sanp-gateway conformance");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = format!("{} passed, 0 failed, 0 skipped", manifest.len());
    assert_eq!(stdout.lines().last(), Some(summary.as_str()), "{stdout}");
    let xml = std::fs::read_to_string(&junit).expect("junit written");
    let doc = roxmltree::Document::parse(&xml).expect("JUnit is XML");
    let suite = doc.root_element();
    assert_eq!(
        suite.attribute("tests"),
        Some(manifest.len().to_string().as_str())
    );
    assert_eq!(suite.attribute("failures"), Some("0"));
    let cases = suite
        .children()
        .filter(|n| n.has_tag_name("testcase"))
        .count();
    assert_eq!(cases, manifest.len());
}

/// The codes of the table "Fault codes this gateway emits", with the fixtures each row links.
fn documented_codes() -> Vec<(String, Vec<String>)> {
    let doc = support::read("docs/operations.md");
    let table = doc
        .split("## Fault codes this gateway emits")
        .nth(1)
        .expect("the fault-code table");
    table
        .lines()
        .skip_while(|l| !l.starts_with("| `PPT_"))
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            let code = l.split('`').nth(1).expect("code").to_owned();
            let links = l
                .split("](../fixtures/conformance/")
                .skip(1)
                .filter_map(|s| s.split(')').next())
                .map(|s| s.trim_end_matches(".xml").to_owned())
                .collect();
            (code, links)
        })
        .collect()
}

/// Every fault code of the docs' table has a fixture, the table links it, and the fixture
/// really produces that code on the demo.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_fault_code_has_a_fixture_that_produces_it() {
    let manifest = conformance::manifest::load(&fixtures()).expect("manifest");
    let codes = documented_codes();
    assert!(codes.len() >= 26, "{codes:?}");
    let demo = Embedded::start(&demo_settings(), &|_| {})
        .await
        .expect("demo");
    let report = conformance::run(&fixtures(), &demo.target(), None)
        .await
        .expect("run");
    for (code, links) in &codes {
        let producing: BTreeSet<&str> = manifest
            .iter()
            .filter(|f| f.fault_code.as_deref() == Some(code.as_str()))
            .map(|f| f.name())
            .collect();
        assert!(!producing.is_empty(), "no fixture for {code}");
        assert!(
            !links.is_empty(),
            "the docs' row of {code} links no fixture"
        );
        for link in links {
            assert!(
                producing.contains(link.as_str()),
                "{code} links {link}, which is not a {code} fixture"
            );
        }
        for name in &producing {
            let case = report.cases.iter().find(|c| c.name == *name).expect("ran");
            assert_eq!(
                case.verdict,
                Verdict::Passed,
                "{name} ({code})\n{}",
                report.text()
            );
        }
    }
    assert!(report.all_passed(), "{}", report.text());
}

/// A registry change that alters one outcome is reported as exactly that fixture, readably.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_outcome_is_reported_for_exactly_its_fixture() {
    // The unknown association of demand/ppt-servizio-sconosciuto becomes a real one.
    let demo = Embedded::start(&demo_settings(), &|r: &mut Value| {
        let mut known = r["cdsSubjectServices"]["00101"].clone();
        known["subject_service_id"] = Value::from("99999");
        r["cdsSubjectServices"]["99999"] = known;
    })
    .await
    .expect("demo");
    let report = conformance::run(&fixtures(), &demo.target(), None)
        .await
        .expect("run");
    assert_eq!(
        report.failed_names(),
        ["demand/ppt-servizio-sconosciuto"],
        "{}",
        report.text()
    );
    let text = report.text();
    assert!(
        text.contains("FAIL  demand/ppt-servizio-sconosciuto"),
        "{text}"
    );
    assert!(
        text.contains("outcome: expected \"KO\", got \"OK\""),
        "{text}"
    );
    assert!(
        text.contains("faultCode: expected \"PPT_SERVIZIO_SCONOSCIUTO\", got nothing"),
        "{text}"
    );
    let total = report.cases.len();
    assert!(
        text.ends_with(&format!("{} passed, 1 failed, 0 skipped\n", total - 1)),
        "{text}"
    );
}

/// Against a target without the EC's control API, fixtures needing a scenario are skipped, the
/// others still run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_ec_control_scenario_fixtures_are_skipped() {
    let demo = Embedded::start(&demo_settings(), &|_| {})
        .await
        .expect("demo");
    let mut target = demo.target();
    target.ec_control = None;
    let report = conformance::run(&fixtures(), &target, Some("demand/"))
        .await
        .expect("run");
    let manifest = conformance::manifest::load(&fixtures()).expect("manifest");
    let needing: Vec<&str> = manifest
        .iter()
        .filter(|f| f.name().starts_with("demand/") && f.scenario.is_some())
        .map(|f| f.name())
        .collect();
    assert_eq!(report.skipped(), needing.len(), "{}", report.text());
    assert_eq!(report.failed(), 0, "{}", report.text());
    assert!(!report.all_passed());
}

/// The sample EC alone, with its control API, on ephemeral ports.
struct Ec {
    url: String,
    control: TestGateway,
}

async fn start_ec(tls: Option<&sanp_gateway::settings::ServerTls>) -> Ec {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let control_listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let control_url = format!("http://{}", control_listener.local_addr().expect("addr"));
    let state = Control::default();
    let station = sample_ec::Station::new(SampleEc::default(), state.clone(), tls).expect("EC");
    tokio::spawn(station.serve(listener));
    tokio::spawn(sample_ec::control::serve(control_listener, state));
    Ec {
        url: format!("http://127.0.0.1:{port}"),
        control: TestGateway::client_for(&control_url),
    }
}

impl Ec {
    async fn call(&self, method: Method, path: &str, body: &str) -> (u16, Value, String) {
        let req = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.control.url))
            .header("Content-Type", "application/json")
            .body(Full::new(Bytes::from(body.to_owned())))
            .expect("request");
        let a = self.control.send(req).await;
        let json = serde_json::from_str(&a.body).unwrap_or(Value::Null);
        (a.status.as_u16(), json, a.body)
    }
}

/// A `paDemandPaymentNoticeRequest` as the gateway sends it, for `station`, with `data`.
fn pa_demand(station: &str, data: &str) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(data);
    format!(
        "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Body>\
         <pafn:paDemandPaymentNoticeRequest xmlns:pafn=\"http://pagopa-api.pagopa.gov.it/pa/paForNode.xsd\">\
         <idPA>80000000001</idPA><idBrokerPA>80000000001</idBrokerPA><idStation>{station}</idStation>\
         <idServizio>00001</idServizio><idSoggettoServizio>00101</idSoggettoServizio>\
         <datiSpecificiServizioRequest>{b64}</datiSpecificiServizioRequest>\
         </pafn:paDemandPaymentNoticeRequest></soapenv:Body></soapenv:Envelope>"
    )
}

const PLATE_DATA: &str = "<ta:tassaAuto xmlns:ta=\"http://PuntoAccessoPSP.spcoop.gov.it/TassaAuto\"><ta:veicoloConTarga><ta:tipoVeicoloTarga>1</ta:tipoVeicoloTarga><ta:veicoloTarga>AB345CD</ta:veicoloTarga></ta:veicoloConTarga></ta:tassaAuto>";

/// Queued answers per station and for all, in order, then the default; the history with
/// headers and bodies, per station; reset.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_control_api_queues_answers_and_keeps_the_history() {
    let ec = start_ec(None).await;
    let client = TestGateway::client_for(&ec.url);
    let queue_a = r#"{"station":"ST_A","answers":[
        {"kind":"ko","fault_code":"PAA_PAGAMENTO_SCONOSCIUTO","fault_string":"Pagamento sconosciuto","description":"nessuna posizione"},
        {"kind":"ok","notice_number":"301000000000000042","amount":"12.50","description":"Bollo 2030","due_date":"2030-01-31"}]}"#;
    let (status, json, _) = ec.call(Method::POST, "/answers", queue_a).await;
    assert_eq!((status, &json["queued"]), (200, &Value::from(2)), "{json}");
    let (status, _, _) = ec
        .call(
            Method::POST,
            "/answers",
            r#"{"answers":[{"kind":"http_status","status":503}]}"#,
        )
        .await;
    assert_eq!(status, 200);

    let send = |station: &'static str| {
        let client = &client;
        async move {
            client
                .post(
                    "/pagopa/paForNode",
                    Some("paDemandPaymentNotice"),
                    &pa_demand(station, PLATE_DATA),
                )
                .await
        }
    };
    // ST_B has no queue of its own: the queue for all answers it.
    let b = send("ST_B").await;
    assert_eq!(b.status.as_u16(), 503);
    let ko = send("ST_A").await;
    support::official::assert_valid_pa_for_node(&ko.body);
    assert!(
        ko.body
            .contains("<faultCode>PAA_PAGAMENTO_SCONOSCIUTO</faultCode>"),
        "{}",
        ko.body
    );
    assert!(
        ko.body
            .contains("<description>nessuna posizione</description>"),
        "{}",
        ko.body
    );
    let ok = send("ST_A").await;
    support::official::assert_valid_pa_for_node(&ok.body);
    for part in [
        "<noticeNumber>301000000000000042</noticeNumber>",
        "<amount>12.50</amount>",
        "<dueDate>2030-01-31</dueDate>",
        "<paymentDescription>Bollo 2030</paymentDescription>",
    ] {
        assert!(ok.body.contains(part), "{part} in {}", ok.body);
    }
    // Queues empty: the default answer, a fresh notice.
    let default = send("ST_A").await;
    assert!(
        default.body.contains("<outcome>OK</outcome>")
            && !default.body.contains("301000000000000042")
    );

    let (_, history, raw) = ec
        .call(Method::GET, "/history?station=ST_A&last=2", "")
        .await;
    let records = history.as_array().expect("array");
    assert_eq!(records.len(), 2, "{raw}");
    assert_eq!(records[0]["answered"], "queue:ok", "{raw}");
    assert_eq!(records[1]["answered"], "ok", "{raw}");
    assert_eq!(records[1]["station"], "ST_A");
    assert_eq!(records[1]["operation"], "paDemandPaymentNoticeRequest");
    assert!(records[1]["body"]
        .as_str()
        .expect("body")
        .contains("<idStation>ST_A</idStation>"));
    let headers = records[1]["headers"].as_array().expect("headers");
    assert!(
        headers
            .iter()
            .any(|h| h[0] == "soapaction" && h[1] == "paDemandPaymentNotice"),
        "{raw}"
    );
    let (_, all, _) = ec.call(Method::GET, "/history", "").await;
    assert_eq!(all.as_array().map(Vec::len), Some(4));

    let (status, _, _) = ec.call(Method::POST, "/reset", "").await;
    assert_eq!(status, 200);
    let (_, empty, _) = ec.call(Method::GET, "/history", "").await;
    assert_eq!(empty, serde_json::json!([]));
}

/// Malformed, oversized and overflowing control input is a 400 (or 413/404/405) with the
/// reason; the EC keeps answering.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_control_input_is_refused_with_a_reason() {
    let ec = start_ec(None).await;
    let cases: &[(Method, &str, String, u16, &str)] = &[
        (Method::POST, "/answers", "{".into(), 400, "body: EOF"),
        (Method::POST, "/answers", "[]".into(), 400, "body:"),
        (
            Method::POST,
            "/answers",
            r#"{"answers":[{"kind":"teapot"}]}"#.into(),
            400,
            "unknown variant",
        ),
        (
            Method::POST,
            "/answers",
            r#"{"answers":[{"kind":"ok","amount":"1e9"}]}"#.into(),
            400,
            "answers[0]: amount",
        ),
        (
            Method::POST,
            "/answers",
            r#"{"answers":[{"kind":"http_status"}]}"#.into(),
            400,
            "needs `status`",
        ),
        (
            Method::POST,
            "/answers",
            r#"{"answers":[],"extra":1}"#.into(),
            400,
            "unknown field",
        ),
        (
            Method::POST,
            "/answers",
            "x".repeat(300 * 1024),
            413,
            "at most",
        ),
        (Method::GET, "/history?last=-1", String::new(), 400, "last:"),
        (Method::PUT, "/answers", String::new(), 405, "not allowed"),
        (Method::GET, "/nope", String::new(), 404, "unknown path"),
    ];
    for (method, path, body, status, reason) in cases {
        let (got, json, raw) = ec.call(method.clone(), path, body).await;
        assert_eq!(got, *status, "{method} {path}: {raw}");
        let error = json["error"].as_str().unwrap_or_default();
        assert!(error.contains(reason), "{method} {path}: {raw}");
    }
    // The queues are bounded: 100 answers, then a 400.
    let many = format!(
        r#"{{"answers":[{}]}}"#,
        vec![r#"{"kind":"ok"}"#; 100].join(",")
    );
    assert_eq!(ec.call(Method::POST, "/answers", &many).await.0, 200);
    let (status, json, _) = ec
        .call(Method::POST, "/answers", r#"{"answers":[{"kind":"ok"}]}"#)
        .await;
    assert_eq!(status, 400);
    assert!(
        json["error"]
            .as_str()
            .unwrap_or_default()
            .contains("at most 100"),
        "{json}"
    );
    let client = TestGateway::client_for(&ec.url);
    let a = client
        .post(
            "/",
            Some("paDemandPaymentNotice"),
            &pa_demand("S", PLATE_DATA),
        )
        .await;
    assert!(a.body.contains("<outcome>OK</outcome>"), "{}", a.body);
}

/// Each bundled service schema validates its service data: the demo's valid instance is an OK,
/// a broken one a well-formed KO valid against paForNode, naming the schema.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_data_are_validated_against_every_bundled_schema() {
    let ec = start_ec(None).await;
    let client = TestGateway::client_for(&ec.url);
    let files = [
        ("demand.xml", "TassaAutomobilistica_1_1_0.xsd"),
        ("demand-passaporto.xml", "A001_Passaporto_1_0_0.xsd"),
        ("demand-pesca.xml", "D847_Pesca_1_0_0.xsd"),
        ("demand-cie.xml", "Cie_1_0_0.xsd"),
        ("demand-cup.xml", "Cup_1_0_0.xsd"),
    ];
    for (file, schema) in files {
        let demand = support::read(format!("fixtures/demo/{file}"));
        let b64 = demand
            .split("<datiSpecificiServizio>")
            .nth(1)
            .and_then(|s| s.split("</datiSpecificiServizio>").next())
            .expect("data");
        let data = String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .expect("base64"),
        )
        .expect("UTF-8");
        let ok = client.post("/", None, &pa_demand("S", &data)).await;
        assert!(
            ok.body.contains("<outcome>OK</outcome>"),
            "{file}: {}",
            ok.body
        );
        // An element the schema does not know, inserted after the root's start tag.
        let close = data.find("?>").map_or(0, |i| i + 2);
        let root_end = data[close..].find('>').expect("root") + close + 1;
        let broken = format!("{}<unexpected/>{}", &data[..root_end], &data[root_end..]);
        let ko = client.post("/", None, &pa_demand("S", &broken)).await;
        support::official::assert_valid_pa_for_node(&ko.body);
        assert!(
            ko.body.contains("<faultCode>PAA_SINTASSI_XSD</faultCode>"),
            "{file}: {}",
            ko.body
        );
        assert!(ko.body.contains(schema), "{file}: {}", ko.body);
    }
}

/// The `reset` answer is a real TCP reset.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_answer_resets_the_connection() {
    let ec = start_ec(None).await;
    let (status, _, _) = ec
        .call(
            Method::POST,
            "/answers",
            r#"{"answers":[{"kind":"reset"}]}"#,
        )
        .await;
    assert_eq!(status, 200);
    let body = pa_demand("S", PLATE_DATA);
    let mut tcp = tokio::net::TcpStream::connect(ec.url.trim_start_matches("http://"))
        .await
        .expect("connect");
    let head = format!(
        "POST / HTTP/1.1\r\nHost: ec\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    tcp.write_all(head.as_bytes()).await.expect("head");
    tcp.write_all(body.as_bytes()).await.expect("body");
    let mut buf = Vec::new();
    let read = tcp.read_to_end(&mut buf).await;
    let e = read.expect_err("a reset, not an orderly close");
    assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}");
    assert!(buf.is_empty());
}

/// Over TLS the sample EC requires a client certificate from the configured CA.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_tls_the_sample_ec_requires_a_client_certificate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = support::pki::TestPki::generate(dir.path());
    let tls = sanp_gateway::settings::ServerTls {
        cert_file: pki.ec_server.cert.clone(),
        key_file: pki.ec_server.key.clone(),
        client_ca_file: Some(pki.ca.clone()),
        crl_files: Vec::new(),
        handshake_timeout: std::time::Duration::from_secs(5),
    };
    let ec = start_ec(Some(&tls)).await;
    let url = ec.url.replace("http://127.0.0.1", "https://localhost");
    let body = pa_demand("S", PLATE_DATA);
    let with = TestGateway::client_for(&url).with_client(support::tls_client_config(
        Some(&pki.ca),
        Some(&pki.gateway_client),
    ));
    let a = with
        .try_post("/", "paDemandPaymentNotice", &body)
        .await
        .expect("answer");
    assert!(a.body.contains("<outcome>OK</outcome>"), "{}", a.body);
    let without =
        TestGateway::client_for(&url).with_client(support::tls_client_config(Some(&pki.ca), None));
    let refused = without.try_post("/", "paDemandPaymentNotice", &body).await;
    assert!(refused.is_err(), "{refused:?}");
}
