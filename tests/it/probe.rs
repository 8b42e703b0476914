//! `sanp-gateway probe` against real stations on real sockets: the sample EC, a programmable EC
//! answering each defect, and TLS stations with certificates made here (rcgen).

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::pki::Pair;
use crate::support::{
    self,
    ec::{self, Behaviour, TestEc},
};
use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, CertifiedIssuer, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};
use sanp_gateway::probe::{self, Inputs, Plan, Report, RunOptions, Verdict};

fn tassa_xsd() -> PathBuf {
    support::repo().join("xsd/catalogo-servizi/TassaAutomobilistica_1_1_0.xsd")
}

fn inputs(need_data: bool) -> Inputs {
    Inputs {
        service_xsd: Some(tassa_xsd()),
        need_data,
        ..Inputs::default()
    }
}

fn url_plan(url: &str, ca: Option<&Path>, client: Option<&Pair>, need_data: bool) -> Plan {
    probe::target::from_url(
        url,
        ca,
        client.map(|p| p.cert.as_path()),
        client.map(|p| p.key.as_path()),
        &inputs(need_data),
    )
    .expect("plan")
}

async fn run(plan: &Plan, connectivity_only: bool) -> Report {
    probe::run(
        plan,
        &RunOptions {
            repeat: 1,
            connectivity_only,
        },
    )
    .await
    .expect("probe runs")
}

fn check<'a>(r: &'a Report, name: &str) -> &'a probe::Check {
    r.checks
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no check {name} in\n{}", r.text(false)))
}

/// Asserts `name` failed, with `needle` in its message or evidence; and that it is the only
/// failed check besides `also` (so every case fails by its own check).
fn assert_fails(r: &Report, name: &str, needle: &str, also: &[&str]) {
    let c = check(r, name);
    let all = format!("{} {:?}", c.message, c.evidence);
    assert_eq!(c.verdict, Verdict::Fail, "{}", r.text(false));
    assert!(all.contains(needle), "{name}: {needle:?} not in {all}");
    assert!(c.fix.is_some(), "{name} has no fix");
    let others: Vec<&str> = r
        .checks
        .iter()
        .filter(|c| {
            c.verdict == Verdict::Fail && c.name != name && !also.contains(&c.name.as_str())
        })
        .map(|c| c.name.as_str())
        .collect();
    assert!(
        others.is_empty(),
        "unexpected failures {others:?}\n{}",
        r.text(false)
    );
}

/// The sample EC behind the demo registry's station, probed through `--config --station`.
#[tokio::test]
async fn the_sample_ec_passes_every_check_through_the_registry_station() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(sanp_gateway::sample_ec::serve(listener, Default::default()));
    let dir = tempfile::tempdir().expect("tmp");
    let text = std::fs::read_to_string(support::repo().join("fixtures/demo/registry.json"))
        .expect("registry");
    let mut registry: serde_json::Value = serde_json::from_str(&text).expect("json");
    support::point_stations_at(&mut registry, port);
    std::fs::write(dir.path().join("registry.json"), registry.to_string()).expect("write");
    let settings = format!(
        "registry = \"registry.json\"\nplain_http = true\nservice_schema_dir = {:?}\n[ec]\ntimeout_ms = 7000\nstation_service = \"service_pof\"\n",
        support::repo().join("xsd/catalogo-servizi").display().to_string()
    );
    let config = dir.path().join("gateway.toml");
    std::fs::write(&config, settings).expect("write");
    let plan = probe::target::from_registry(
        &config,
        "80000000001_01",
        &Inputs {
            need_data: true,
            ..Inputs::default()
        },
    )
    .expect("plan");
    assert_eq!(plan.calls.len(), 5, "one call per service of the station");
    let r = run(&plan, false).await;
    assert!(r.passed(), "{}", r.text(false));
    for service in ["00001", "A0001", "D0847", "C0001", "C0002"] {
        let a = check(&r, &format!("{service}.answer"));
        assert_eq!(a.verdict, Verdict::Pass, "{}", r.text(false));
        let psp = &a
            .evidence
            .iter()
            .find(|(l, _)| l == "PSP response")
            .expect("PSP")
            .1;
        assert!(
            psp.contains("<outcome>OK</outcome>") && psp.contains("<noticeNumber>3"),
            "{psp}"
        );
        assert_eq!(check(&r, &format!("{service}.http")).verdict, Verdict::Pass);
        assert_eq!(
            check(&r, &format!("{service}.deadline")).verdict,
            Verdict::Pass
        );
    }
    assert_eq!(check(&r, "tcp_connect").verdict, Verdict::Pass);
    assert!(check(&r, "endpoint.paDemandPaymentNotice")
        .message
        .contains("service_pof"));
}

async fn probe_ec(b: Behaviour, timeout: Option<Duration>) -> Report {
    let ec = TestEc::start(b).await;
    let mut plan = url_plan(
        &format!("http://127.0.0.1:{}/pa", ec.port()),
        None,
        None,
        true,
    );
    if let Some(t) = timeout {
        plan.ec.timeout = t;
    }
    run(&plan, false).await
}

#[tokio::test]
async fn an_answer_without_qr_code_fails_the_answer_check_with_the_path() {
    let body = ec::ok_answer().replace(
        "<qrCode><fiscalCode>77777777777</fiscalCode><noticeNumber>311111111111111111</noticeNumber></qrCode>",
        "",
    );
    let r = probe_ec(ec::reply(body), None).await;
    assert_fails(&r, "custom.answer", "qrCode", &["custom.invalid_data"]);
    let a = check(&r, "custom.answer");
    let psp = &a
        .evidence
        .iter()
        .find(|(l, _)| l == "PSP response")
        .expect("PSP")
        .1;
    assert!(psp.contains("PPT_STAZIONE_INT_PA_ERRORE_RESPONSE"), "{psp}");
}

#[tokio::test]
async fn an_amount_of_zero_is_reported_with_its_element_and_value() {
    let body = ec::ok_answer().replace("<amount>120.50</amount>", "<amount>0.00</amount>");
    let r = probe_ec(ec::reply(body), None).await;
    assert_fails(&r, "custom.answer", "0.00", &["custom.invalid_data"]);
    let a = check(&r, "custom.answer");
    assert!(
        a.evidence
            .iter()
            .any(|(l, _)| l.contains("paymentOptionDescription/amount")),
        "{:?}",
        a.evidence
    );
}

#[tokio::test]
async fn a_wrong_namespace_fails_the_answer_check() {
    let body = ec::ok_answer().replace(
        "http://pagopa-api.pagopa.gov.it/pa/paForNode.xsd",
        "http://example.org/paForNode",
    );
    let r = probe_ec(ec::reply(body), None).await;
    assert_fails(
        &r,
        "custom.answer",
        "http://example.org/paForNode",
        &["custom.invalid_data"],
    );
}

#[tokio::test]
async fn a_soap_fault_fails_the_answer_check_and_maps_to_irraggiungibile() {
    let fault = "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Body><soapenv:Fault><faultcode>soapenv:Server</faultcode><faultstring>NullPointerException</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>";
    let r = probe_ec(
        Behaviour::Reply {
            status: 500,
            body: fault.into(),
        },
        None,
    )
    .await;
    assert_fails(
        &r,
        "custom.answer",
        "NullPointerException",
        &["custom.invalid_data"],
    );
    let psp = format!("{:?}", check(&r, "custom.answer").evidence);
    assert!(psp.contains("PPT_STAZIONE_INT_PA_IRRAGGIUNGIBILE"), "{psp}");
}

#[tokio::test]
async fn http_500_fails_the_http_check() {
    let r = probe_ec(
        Behaviour::Reply {
            status: 500,
            body: "Internal Server Error".into(),
        },
        None,
    )
    .await;
    assert_fails(
        &r,
        "custom.http",
        "HTTP status 500",
        &["custom.invalid_data"],
    );
}

#[tokio::test]
async fn an_answer_after_the_deadline_fails_the_deadline_check() {
    let late = Behaviour::Delay(
        Duration::from_millis(1500),
        Box::new(ec::reply(ec::ok_answer())),
    );
    let r = probe_ec(late, Some(Duration::from_millis(300))).await;
    assert_fails(&r, "custom.deadline", "deadline", &["custom.invalid_data"]);
    let psp = format!("{:?}", check(&r, "custom.answer").evidence);
    assert!(psp.contains("PPT_STAZIONE_INT_PA_TIMEOUT"), "{psp}");
}

#[tokio::test]
async fn a_connection_reset_fails_the_http_check() {
    let r = probe_ec(Behaviour::Reset, None).await;
    assert_fails(&r, "custom.http", "reset", &["custom.invalid_data"]);
}

#[tokio::test]
async fn a_well_formed_ko_to_invalid_data_passes_and_an_http_error_does_not() {
    let r = probe_ec(ec::reply(ec::ko_answer()), None).await;
    assert_eq!(check(&r, "custom.invalid_data").verdict, Verdict::Pass);
    assert_eq!(
        check(&r, "custom.answer").verdict,
        Verdict::Warn,
        "a KO to valid data"
    );
    assert!(r.passed(), "{}", r.text(false));
}

/// A PKI made for these tests: root, intermediate, and station certificates.
struct Tls {
    _dir: tempfile::TempDir,
    root: PathBuf,
    other_root: PathBuf,
    good: Pair,
    via_intermediate: Pair,
    expired: Pair,
    wrong_name: Pair,
    client: Pair,
}

fn ca(cn: &str) -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
    p.distinguished_name.push(DnType::CommonName, cn);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p.not_before = date_time_ymd(2020, 1, 1);
    p.not_after = date_time_ymd(2099, 1, 1);
    p
}

fn leaf(names: &[&str], client: bool, until: (i32, u8, u8)) -> CertificateParams {
    let mut p = CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        .expect("params");
    p.distinguished_name.push(DnType::CommonName, "EC station");
    p.not_before = date_time_ymd(2020, 1, 1);
    p.not_after = date_time_ymd(until.0, until.1, until.2);
    p.extended_key_usages = vec![if client {
        ExtendedKeyUsagePurpose::ClientAuth
    } else {
        ExtendedKeyUsagePurpose::ServerAuth
    }];
    p
}

fn issue(dir: &Path, name: &str, p: CertificateParams, by: &rcgen::Issuer<'_, KeyPair>) -> Pair {
    let key = KeyPair::generate().expect("key");
    let cert = p.signed_by(&key, by).expect("sign");
    let pem = dir.join(format!("{name}.pem"));
    let key_path = dir.join(format!("{name}.key"));
    std::fs::write(&pem, cert.pem()).expect("write");
    std::fs::write(&key_path, key.serialize_pem()).expect("write");
    Pair {
        cert: pem,
        key: key_path,
        der: cert.der().to_vec(),
    }
}

fn tls_fixtures() -> Tls {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let root = CertifiedIssuer::self_signed(ca("probe test root"), KeyPair::generate().expect("k"))
        .expect("root");
    let other =
        CertifiedIssuer::self_signed(ca("some other root"), KeyPair::generate().expect("k"))
            .expect("root");
    let inter = CertifiedIssuer::signed_by(
        ca("probe test intermediate"),
        KeyPair::generate().expect("k"),
        &root,
    )
    .expect("intermediate");
    let host = ["localhost", "127.0.0.1"];
    let root_pem = d.join("root.pem");
    std::fs::write(&root_pem, root.pem()).expect("write");
    let other_pem = d.join("other.pem");
    std::fs::write(&other_pem, other.pem()).expect("write");
    Tls {
        root: root_pem,
        other_root: other_pem,
        good: issue(d, "good", leaf(&host, false, (2099, 1, 1)), &root),
        // Served alone: the station "forgets" the intermediate.
        via_intermediate: issue(
            d,
            "via-intermediate",
            leaf(&host, false, (2099, 1, 1)),
            &inter,
        ),
        expired: issue(d, "expired", leaf(&host, false, (2021, 1, 1)), &root),
        wrong_name: issue(
            d,
            "wrong-name",
            leaf(&["ec.example.org"], false, (2099, 1, 1)),
            &root,
        ),
        client: issue(d, "client", leaf(&[], true, (2099, 1, 1)), &root),
        _dir: dir,
    }
}

async fn tls_probe(t: &Tls, server: &Pair, client_ca: Option<&Path>) -> Report {
    let ec = TestEc::start_tls(ec::reply(ec::ok_answer()), server, client_ca).await;
    let plan = url_plan(
        &format!("https://localhost:{}/pa", ec.port()),
        Some(&t.root),
        Some(&t.client),
        false,
    );
    run(&plan, true).await
}

#[tokio::test]
async fn tls_stations_fail_each_by_their_own_check() {
    let t = tls_fixtures();
    // Mutual TLS that works: every connectivity check passes, with protocol and cipher.
    let r = tls_probe(&t, &t.good, Some(&t.root)).await;
    assert!(r.passed(), "{}", r.text(false));
    assert!(
        check(&r, "tls.handshake").message.contains("TLS"),
        "{}",
        r.text(false)
    );
    assert_eq!(check(&r, "tls.client_certificate").verdict, Verdict::Pass);
    assert_eq!(check(&r, "tls.certificate_expiry").verdict, Verdict::Pass);

    let r = tls_probe(&t, &t.via_intermediate, None).await;
    assert_fails(
        &r,
        "tls.server_chain",
        "missing intermediate",
        &["tls.handshake"],
    );
    assert!(check(&r, "tls.server_chain")
        .message
        .contains("CN=probe test intermediate"));

    let r = tls_probe(&t, &t.expired, None).await;
    assert_fails(&r, "tls.certificate_expiry", "expired", &["tls.handshake"]);

    let r = tls_probe(&t, &t.wrong_name, None).await;
    assert_fails(&r, "tls.host_name", "ec.example.org", &["tls.handshake"]);

    // The station trusts another CA for its clients: it refuses the gateway's certificate.
    let r = tls_probe(&t, &t.good, Some(&t.other_root)).await;
    assert_fails(&r, "tls.client_certificate", "refused", &["tls.handshake"]);
}

/// The binary: exit codes, JSON on stdout, and a JUnit file read back by another parser.
#[tokio::test]
async fn the_command_writes_junit_and_json_and_exits_by_outcome() {
    let body = ec::ok_answer().replace(
        "<qrCode><fiscalCode>77777777777</fiscalCode><noticeNumber>311111111111111111</noticeNumber></qrCode>",
        "",
    );
    let ec = TestEc::start(ec::reply(body)).await;
    let dir = tempfile::tempdir().expect("tmp");
    let junit = dir.path().join("probe.xml");
    let url = format!("http://127.0.0.1:{}/pa", ec.port());
    let xsd = tassa_xsd();
    let xsd = xsd.display().to_string();
    let junit_arg = junit.display().to_string();
    let out = command(&[
        "probe",
        "--url",
        &url,
        "--format",
        "json",
        "--junit",
        &junit_arg,
        "--service-xsd",
        &xsd,
    ])
    .await;
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(json["passed"], false);
    let xml = std::fs::read_to_string(&junit).expect("junit");
    let doc = roxmltree::Document::parse(&xml).expect("JUnit parses");
    let case = doc
        .descendants()
        .find(|n| n.has_tag_name("testcase") && n.attribute("name") == Some("custom.answer"))
        .expect("testcase custom.answer");
    let failure = case
        .children()
        .find(|n| n.has_tag_name("failure"))
        .expect("a failure element");
    assert!(failure
        .attribute("message")
        .unwrap_or_default()
        .contains("qrCode"));
    let suites: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    assert_eq!(suites.len(), 2, "connectivity and functional");
    let failures: usize = doc
        .root_element()
        .attribute("failures")
        .and_then(|f| f.parse().ok())
        .expect("failures count");
    assert!(failures >= 1);

    // --dry-run sends nothing.
    let before = ec.received().len();
    let out = command(&["probe", "--url", &url, "--dry-run", "--service-xsd", &xsd]).await;
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("paDemandPaymentNoticeRequest"));
    assert_eq!(ec.received().len(), before, "a dry run sent a request");

    // The probe cannot run: one line, exit 2, no panic.
    let out = command(&["probe", "--url", &url, "--data", "/nonexistent/data.xml"]).await;
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("/nonexistent/data.xml") && !err.contains("panicked"),
        "{err}"
    );
}

/// Runs the binary off the runtime's threads, so the test EC keeps serving.
async fn command(args: &[&str]) -> std::process::Output {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_sanp-gateway"))
            .args(&args)
            .output()
            .expect("run the binary")
    })
    .await
    .expect("join")
}
