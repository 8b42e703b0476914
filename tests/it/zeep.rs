//! The gateway driven by zeep, an independent Python SOAP client, built from the official pagoPA WSDL and from the published one.

use std::path::PathBuf;
use std::process::Command;

use serde_json::{json, Value};

use crate::support;
use crate::support::ec::{self, TestEc};
use crate::support::{conformance_registry, point_stations_at, TestGateway, PASSWORD};

/// A Python that imports zeep: `$SANP_PYTHON`, else `python3`. `None` (with a NOTE) when there
/// is none, unless `SANP_REQUIRE_ZEEP=1` makes that a failure.
fn python() -> Option<String> {
    let candidate = std::env::var("SANP_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let has_zeep = Command::new(&candidate)
        .args(["-c", "import zeep"])
        .output()
        .is_ok_and(|o| o.status.success());
    if has_zeep {
        return Some(candidate);
    }
    assert!(
        !std::env::var("SANP_REQUIRE_ZEEP").is_ok_and(|v| v == "1"),
        "SANP_REQUIRE_ZEEP=1 but {candidate:?} cannot import zeep (set SANP_PYTHON to a Python with zeep installed)"
    );
    eprintln!(
        "NOTE: zeep not available to {candidate:?}; skipping the zeep tests \
         (set SANP_PYTHON to a Python with zeep, SANP_REQUIRE_ZEEP=1 to make this a failure)"
    );
    None
}

/// The official `nodeForPsp.wsdl`, or `None` (with a NOTE) when `../shared` is missing and not required.
fn official_wsdl() -> Option<String> {
    let Some(dir) = support::official::pagopa_api_dir() else {
        assert!(
            !support::official::shared_required(),
            "SANP_REQUIRE_SHARED=1 but ../shared/pagopa-api is missing"
        );
        eprintln!("NOTE: ../shared/pagopa-api not found; skipping zeep over the official WSDL");
        return None;
    };
    Some(dir.join("wsdl/nodeForPsp.wsdl").display().to_string())
}

/// An EC answering OK behind a gateway over the conformance registry.
async fn setup() -> (TestEc, TestGateway) {
    let ec = TestEc::start(ec::reply(ec::ok_answer())).await;
    let mut registry = conformance_registry();
    point_stations_at(&mut registry, ec.port());
    let gw = TestGateway::start(&registry, "").await;
    (ec, gw)
}

fn endpoint(gw: &TestGateway) -> String {
    format!("{}/node-for-psp/v1", gw.url)
}

/// Runs `scripts/zeep_client.py` and returns its JSON report. The child blocks a worker thread
/// while the gateway keeps serving on the other.
async fn zeep(
    python: &str,
    wsdl: &str,
    address: Option<&str>,
    operation: &str,
    args: Value,
) -> Value {
    zeep_with(python, wsdl, address, &[], operation, args).await
}

/// Like [`zeep`], with extra options for the script (`--cacert`, `--cert`, `--key`).
async fn zeep_with(
    python: &str,
    wsdl: &str,
    address: Option<&str>,
    options: &[String],
    operation: &str,
    args: Value,
) -> Value {
    let script: PathBuf = support::repo().join("scripts/zeep_client.py");
    let mut cmd = Command::new(python);
    cmd.arg(script).arg("--wsdl").arg(wsdl).args(options);
    if let Some(a) = address {
        cmd.arg("--address").arg(a);
    }
    cmd.arg(operation).arg(args.to_string());
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("zeep thread joins")
        .expect("python starts");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "zeep {operation} failed: {stderr}");
    let report: Value = serde_json::from_slice(&out.stdout).expect("zeep_client prints JSON");
    assert_eq!(
        report["http"]["status"], 200,
        "business answers are HTTP 200: {report:#}"
    );
    report
}

fn demand_args(password: &str) -> Value {
    json!({
        "idPSP": "PSP_OK",
        "idBrokerPSP": "BROKER_OK",
        "idChannel": "CH_OK",
        "password": password,
        "idSoggettoServizio": "00042",
        // zeep takes bytes for base64Binary; the script decodes this into them.
        "datiSpecificiServizio_b64": support::tassa_auto("AB345CD"),
    })
}

fn catalog_args(fee: Option<&str>) -> Value {
    let mut args = json!({
        "identificativoPSP": "PSP_OK",
        "identificativoIntermediarioPSP": "BROKER_OK",
        "identificativoCanale": "CH_OK",
        "password": PASSWORD,
    });
    if let Some(f) = fee {
        args["commissione"] = Value::from(f);
    }
    args
}

/// A catalog as (idServizio, [(idSoggettoServizio, commissione)]) per service, in document order.
type Catalog = Vec<(String, Vec<(String, String)>)>;

/// The decoded catalog document of a zeep report, checked against the catalog schema.
fn catalog_of(report: &Value) -> (String, Catalog) {
    let result = &report["result"];
    assert_eq!(result["outcome"], "OK", "{report:#}");
    assert!(result["fault"].is_null(), "{report:#}");
    let xml = result["xmlCatalogoServizi"]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("xmlCatalogoServizi is not UTF-8 text: {report:#}"))
        .to_owned();
    support::official::assert_valid_catalog(&xml);
    let doc = roxmltree::Document::parse(&xml).expect("catalog is well-formed XML");
    let text = |n: roxmltree::Node<'_, '_>, name: &str| {
        n.children()
            .find(|c| c.has_tag_name(name))
            .and_then(|c| c.text())
            .unwrap_or_default()
            .to_owned()
    };
    let services = doc
        .descendants()
        .filter(|n| n.has_tag_name("catalogoServizi"))
        .map(|s| {
            let subjects = s
                .descendants()
                .filter(|n| n.has_tag_name("soggettoErogante"))
                .map(|x| (text(x, "idSoggettoServizio"), text(x, "commissione")))
                .collect();
            (text(s, "idServizio"), subjects)
        })
        .collect();
    (xml, services)
}

/// zeep, built from the official WSDL, sends a request the gateway accepts and parses the OK
/// answer into the EC's values.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zeep_from_the_official_wsdl_gets_the_ecs_payment_notice() {
    let (Some(py), Some(wsdl)) = (python(), official_wsdl()) else {
        return;
    };
    let (ec, gw) = setup().await;
    let report = zeep(
        &py,
        &wsdl,
        Some(&endpoint(&gw)),
        "demandPaymentNotice",
        demand_args(PASSWORD),
    )
    .await;
    assert_ok_notice(&report, &ec);
}

/// The EC's OK answer as zeep parsed it, and the EC's request carrying zeep's base64 unchanged.
fn assert_ok_notice(report: &Value, ec: &TestEc) {
    // zeep quotes the action as SOAP 1.1 says; the gateway must match it unquoted.
    assert_eq!(report["soapAction"], "\"demandPaymentNotice\"");
    let r = &report["result"];
    assert_eq!(r["outcome"], "OK", "{report:#}");
    assert!(r["fault"].is_null(), "{report:#}");
    assert_eq!(
        r["qrCode"],
        json!({"fiscalCode": "77777777777", "noticeNumber": "311111111111111111"})
    );
    // paymentOptionDescription is unbounded in the schema, so zeep always gives a list.
    let options = &r["paymentList"]["paymentOptionDescription"];
    assert_eq!(options.as_array().map(Vec::len), Some(1), "{report:#}");
    let option = &options[0];
    assert_eq!(
        option["amount"], "120.50",
        "zeep parses the decimal with its scale: {report:#}"
    );
    assert_eq!(option["options"], "EQ");
    assert_eq!(option["dueDate"], "2030-06-30");
    assert_eq!(option["paymentNote"], "Bollo auto 2030");
    assert_eq!(r["paymentDescription"], "Tassa automobilistica AB345CD");
    assert_eq!(r["fiscalCodePA"], "77777777777");
    assert_eq!(r["companyName"], "Ente Conformita");
    assert_eq!(r["officeName"], "Ufficio tributi");

    // zeep's base64 encoding of the bytes reached the EC unchanged.
    let received = ec.received();
    assert_eq!(received.len(), 1, "one request to the EC");
    let sent = support::Response::parse(&received[0].body);
    assert_eq!(
        sent.get("datiSpecificiServizioRequest"),
        Some(support::tassa_auto("AB345CD").as_str())
    );
}

/// A wrong password reaches zeep as a KO with the Node's fault bean, and never the EC.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zeep_from_the_official_wsdl_reads_an_authentication_ko() {
    let (Some(py), Some(wsdl)) = (python(), official_wsdl()) else {
        return;
    };
    let (ec, gw) = setup().await;
    let report = zeep(
        &py,
        &wsdl,
        Some(&endpoint(&gw)),
        "demandPaymentNotice",
        demand_args("Password02"),
    )
    .await;
    let r = &report["result"];
    assert_eq!(r["outcome"], "KO", "{report:#}");
    let fault = &r["fault"];
    assert_eq!(fault["faultCode"], "PPT_AUTENTICAZIONE", "{report:#}");
    assert_eq!(fault["faultString"], "Errore di autenticazione.");
    assert_eq!(fault["id"], "NodoDeiPagamentiSPC");
    assert_eq!(fault["description"], "Password sconosciuta o errata");
    assert!(
        r["qrCode"].is_null() && r["paymentList"].is_null(),
        "{report:#}"
    );
    assert!(
        ec.received().is_empty(),
        "a failed check never reaches the EC"
    );
}

/// zeep, built from the official WSDL, decodes the catalog; commissione Y keeps only associations with a fee.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zeep_from_the_official_wsdl_reads_the_catalog_and_its_fee_filter() {
    let (Some(py), Some(wsdl)) = (python(), official_wsdl()) else {
        return;
    };
    let (_ec, gw) = setup().await;
    let address = endpoint(&gw);

    let full = zeep(
        &py,
        &wsdl,
        Some(&address),
        "nodoChiediCatalogoServiziV2",
        catalog_args(None),
    )
    .await;
    assert_eq!(full["soapAction"], "\"nodoChiediCatalogoServiziV2\"");
    let (xml, services) = catalog_of(&full);
    assert!(xml.contains("<idServizio>00001</idServizio>"), "{xml}");
    let bollo = services
        .iter()
        .find(|(id, _)| id == "00001")
        .unwrap_or_else(|| panic!("service 00001 missing: {xml}"));
    assert!(
        bollo.1.contains(&("00042".to_owned(), "N".to_owned())),
        "00042 is offered without a fee: {xml}"
    );

    let with_fee = zeep(
        &py,
        &wsdl,
        Some(&address),
        "nodoChiediCatalogoServiziV2",
        catalog_args(Some("Y")),
    )
    .await;
    let (xml, services) = catalog_of(&with_fee);
    let expected = vec![
        (
            "00001".to_owned(),
            vec![("00044".to_owned(), "Y".to_owned())],
        ),
        (
            "00002".to_owned(),
            vec![("00043".to_owned(), "Y".to_owned())],
        ),
    ];
    assert_eq!(services, expected, "{xml}");
}

/// The gateway's published WSDL (and the XSDs it links as `?xsd=`) builds a working zeep client
/// whose soap:address is the gateway itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zeep_from_the_published_wsdl_reads_the_catalog() {
    let Some(py) = python() else { return };
    let (_ec, gw) = setup().await;
    let wsdl = format!("{}?wsdl", endpoint(&gw));
    // No --address: zeep must post to the address the published WSDL announces.
    let report = zeep(
        &py,
        &wsdl,
        None,
        "nodoChiediCatalogoServiziV2",
        catalog_args(Some("Y")),
    )
    .await;
    assert_eq!(report["soapAction"], "\"nodoChiediCatalogoServiziV2\"");
    let (xml, services) = catalog_of(&report);
    assert!(xml.contains("<idServizio>00001</idServizio>"), "{xml}");
    let ids: Vec<&str> = services
        .iter()
        .flat_map(|(_, subjects)| subjects.iter().map(|(id, _)| id.as_str()))
        .collect();
    assert_eq!(ids, ["00044", "00043"], "{xml}");
}

/// The published WSDL also drives demandPaymentNotice end to end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zeep_from_the_published_wsdl_gets_the_ecs_payment_notice() {
    let Some(py) = python() else { return };
    let (ec, gw) = setup().await;
    let wsdl = format!("{}?wsdl", endpoint(&gw));
    let report = zeep(
        &py,
        &wsdl,
        None,
        "demandPaymentNotice",
        demand_args(PASSWORD),
    )
    .await;
    assert_ok_notice(&report, &ec);
}

/// zeep from the official WSDL over mutual TLS: it trusts the gateway's CA, presents a PSP
/// certificate bound to BROKER_OK, and gets the EC's notice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zeep_over_mutual_tls_from_the_official_wsdl_gets_the_ecs_payment_notice() {
    let (Some(py), Some(wsdl)) = (python(), official_wsdl()) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = support::pki::TestPki::generate(dir.path());
    let ec = TestEc::start(ec::reply(ec::ok_answer())).await;
    let mut registry = conformance_registry();
    point_stations_at(&mut registry, ec.port());
    let q = |p: &std::path::Path| format!("{:?}", p.display().to_string());
    let settings = format!(
        "[tls]\ncert_file = {}\nkey_file = {}\nclient_ca_file = {}\n[[psp_bindings]]\nbroker = \"BROKER_OK\"\nsha256 = [\"{}\"]\n",
        q(&pki.server.cert),
        q(&pki.server.key),
        q(&pki.ca),
        pki.psp_good.fingerprint()
    );
    let client = support::tls_client_config(Some(&pki.ca), Some(&pki.psp_good));
    let gw = TestGateway::start_with(&registry, &settings, "https", client).await;
    let options = [
        "--cacert".to_owned(),
        pki.ca.display().to_string(),
        "--cert".to_owned(),
        pki.psp_good.cert.display().to_string(),
        "--key".to_owned(),
        pki.psp_good.key.display().to_string(),
    ];
    let args = json!({
        "idPSP": "PSP_OK", "idBrokerPSP": "BROKER_OK", "idChannel": "CH_OK", "password": PASSWORD,
        "idSoggettoServizio": "00042", "datiSpecificiServizio_b64": support::tassa_auto("AB345CD"),
    });
    let report = zeep_with(
        &py,
        &wsdl,
        Some(&endpoint(&gw)),
        &options,
        "demandPaymentNotice",
        args.clone(),
    )
    .await;
    assert!(endpoint(&gw).starts_with("https://localhost:"));
    assert_eq!(report["result"]["outcome"], "OK", "{report}");
    assert_eq!(
        report["result"]["qrCode"]["noticeNumber"],
        "311111111111111111"
    );
    // Without the client certificate zeep cannot get in at all.
    let script: PathBuf = support::repo().join("scripts/zeep_client.py");
    let mut cmd = Command::new(&py);
    cmd.arg(script)
        .args(["--wsdl", &wsdl, "--address", &endpoint(&gw), "--cacert"])
        .arg(&pki.ca)
        .arg("demandPaymentNotice")
        .arg(args.to_string());
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("join")
        .expect("python");
    assert!(
        !out.status.success(),
        "a client without certificate must be refused"
    );
}

/// The official legacy `NodoPerPspRichiestaAvvisi.wsdl`, or `None` when `../shared` is missing.
fn official_legacy_wsdl() -> Option<String> {
    official_wsdl().map(|_| {
        support::official::pagopa_api_dir()
            .expect("checked by official_wsdl")
            .join("gad/wsdl/NodoPerPspRichiestaAvvisi.wsdl")
            .display()
            .to_string()
    })
}

/// zeep drives both legacy operations from the official legacy WSDL and from the one the
/// gateway publishes on its legacy path.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zeep_drives_the_legacy_operations_from_the_official_and_the_published_wsdl() {
    let (Some(py), Some(official)) = (python(), official_legacy_wsdl()) else {
        return;
    };
    let ec = TestEc::start(ec::reply(ec::legacy_ok())).await;
    let mut registry = conformance_registry();
    point_stations_at(&mut registry, ec.port());
    let gw = TestGateway::start(&registry, "").await;
    let endpoint = format!("{}/nodo-per-psp-richiesta-avvisi/v1", gw.url);
    let published = format!("{endpoint}?wsdl");
    let caller = json!({
        "identificativoPSP": "PSP_OK", "identificativoIntermediarioPSP": "BROKER_OK",
        "identificativoCanale": "CH_OK", "password": PASSWORD,
    });
    for (wsdl, address) in [
        (official.as_str(), Some(endpoint.as_str())),
        (published.as_str(), None),
    ] {
        let mut args = caller.clone();
        args["idServizio"] = json!("60001");
        args["idDominioErogatoreServizio"] = json!("77777777777");
        args["datiSpecificiServizio_b64"] = json!(support::tassa_auto("AB345CD"));
        let report = zeep(&py, wsdl, address, "nodoChiediNumeroAvviso", args).await;
        let inner = &report["result"];
        assert_eq!(
            report["soapAction"], "\"nodoChiediNumeroAvviso\"",
            "{report}"
        );
        assert_eq!(inner["esito"], "OK", "{report}");
        assert_eq!(inner["identificativoDominio"], "77777777777");
        assert_eq!(inner["numeroAvviso"]["IUV"], "01000000000000042");
        assert_eq!(
            inner["datiPagamentoPA"]["importoSingoloVersamento"],
            "120.50"
        );
        assert_eq!(
            inner["datiPagamentoPA"]["enteBeneficiario"]["denominazioneBeneficiario"],
            "Ente Beneficiario"
        );
        let report = zeep(
            &py,
            wsdl,
            address,
            "nodoChiediCatalogoServizi",
            caller.clone(),
        )
        .await;
        let catalog = report["result"]["xmlCatalogoServizi"]["text"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(
            catalog.contains("<idServizio>60001</idServizio>"),
            "{report}"
        );
        assert!(report["result"]["fault"].is_null(), "{report}");
    }
}
