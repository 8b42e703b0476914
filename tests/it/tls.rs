//! Mutual TLS both ways with real handshakes: PSP clients (good, none, unknown CA, expired,
//! revoked, bound to another broker), certificate bindings, handshake timeouts, reloads, and the
//! gateway as a TLS client of ECs (identity, trust, host names, proxies, reloads).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use sanp_gateway::pki::ClientIdentity;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support;
use crate::support::ec::{self, TestEc, TestProxy};
use crate::support::pki::{Pair, TestPki};
use crate::support::{
    conformance_registry, eventually, point_stations_at, tls_client_config, CatalogReq, Demand,
    TestGateway,
};

fn toml_path(p: &Path) -> String {
    format!("{:?}", p.display().to_string())
}

/// Listener settings: server certificate, required client certificates with the CRL, and two
/// bindings: BROKER_OK by fingerprint, BROKER_NOEXT by issuer and serial.
fn listener_settings(pki: &TestPki, server: &Pair) -> String {
    format!(
        "tls_reload_interval_ms = 100\n\
         [tls]\ncert_file = {}\nkey_file = {}\nclient_ca_file = {}\ncrl_files = [{}]\nhandshake_timeout_ms = 500\n\
         [[psp_bindings]]\nbroker = \"BROKER_OK\"\nsha256 = [\"{}\"]\n\
         [[psp_bindings]]\nbroker = \"BROKER_NOEXT\"\nissuer_serial = [{{ issuer = \"{}\", serial = \"15\" }}]\n",
        toml_path(&server.cert),
        toml_path(&server.key),
        toml_path(&pki.ca),
        toml_path(&pki.crl),
        pki.psp_good.fingerprint(),
        pki.ca_subject,
    )
}

async fn mtls_gateway(pki: &TestPki, ec_port: u16) -> TestGateway {
    let mut registry = conformance_registry();
    point_stations_at(&mut registry, ec_port);
    let client = tls_client_config(Some(&pki.ca), Some(&pki.psp_good));
    TestGateway::start_with(
        &registry,
        &listener_settings(pki, &pki.server),
        "https",
        client,
    )
    .await
}

/// The identity the gateway reads from a certificate matches what the bindings are written with.
#[test]
fn client_identity_reads_issuer_and_serial() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = TestPki::generate(dir.path());
    let id = ClientIdentity::from_der(&pki.psp_good.der);
    assert_eq!(id.issuer, pki.ca_subject);
    assert_eq!(id.serial, pki.psp_good_serial);
    assert_eq!(id.subject, "CN=BROKER_OK client");
    assert_eq!(
        ClientIdentity::from_der(&pki.psp_other_broker.der).serial,
        "15"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bound_client_certificate_is_served() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = TestPki::generate(dir.path());
    let ec = TestEc::start(ec::reply(ec::ok_answer())).await;
    let gw = mtls_gateway(&pki, ec.port()).await;
    assert!(gw.url.starts_with("https://localhost:"));
    assert_eq!(gw.demand(&Demand::default().xml()).await.outcome, "OK");
    assert_eq!(gw.catalog(&CatalogReq::default().xml()).await.outcome, "OK");
    // BROKER_NOEXT is bound by issuer + serial to another certificate.
    let other = gw.with_client(tls_client_config(
        Some(&pki.ca),
        Some(&pki.psp_other_broker),
    ));
    let r = other
        .demand(
            &Demand {
                broker: "BROKER_NOEXT".into(),
                channel: "CH_NOEXT".into(),
                ..Demand::default()
            }
            .xml(),
        )
        .await;
    assert_eq!(r.outcome, "OK", "{}", r.raw);
    // TLS 1.2 clients are served too.
    let tls12 = gw.with_client(support::tls_client_config_versions(
        Some(&pki.ca),
        Some(&pki.psp_good),
        &[&rustls::version::TLS12],
    ));
    assert_eq!(tls12.demand(&Demand::default().xml()).await.outcome, "OK");
}

/// A good certificate used for another broker is PPT_AUTORIZZAZIONE, before any registry lookup.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_bound_to_another_broker_is_not_authorised() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = TestPki::generate(dir.path());
    let ec = TestEc::start(ec::reply(ec::ok_answer())).await;
    let gw = mtls_gateway(&pki, ec.port()).await;
    let cases = [
        (
            "the other broker's identifiers",
            Demand {
                broker: "BROKER_NOEXT".into(),
                channel: "CH_NOEXT".into(),
                ..Demand::default()
            },
            "BROKER_NOEXT",
        ),
        (
            "a broker with no binding at all",
            Demand {
                broker: "BROKER_DISABLED".into(),
                ..Demand::default()
            },
            "BROKER_DISABLED",
        ),
        (
            "an unknown broker (no enumeration)",
            Demand {
                broker: "NOBODY".into(),
                ..Demand::default()
            },
            "NOBODY",
        ),
    ];
    for (name, d, broker) in cases {
        let r = gw.demand(&d.xml()).await;
        let f = r.fault();
        assert_eq!(
            (f.code.as_str(), f.string.as_str()),
            (
                "PPT_AUTORIZZAZIONE",
                "Il richiedente non ha i diritti per l'operazione."
            ),
            "{name}"
        );
        assert_eq!(
            f.description.as_deref(),
            Some(
                format!("Il certificato client non corrisponde all'intermediario {broker}")
                    .as_str()
            ),
            "{name}"
        );
    }
    let r = gw
        .catalog(
            &CatalogReq {
                broker: "BROKER_NOEXT".into(),
                channel: "CH_NOEXT".into(),
                ..CatalogReq::default()
            }
            .xml(),
        )
        .await;
    assert_eq!(r.fault().code, "PPT_AUTORIZZAZIONE");
    assert!(ec.received().is_empty());
}

/// Refused handshakes, each classified; the gateway keeps serving good clients afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_client_certificates_are_refused_and_classified() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = TestPki::generate(dir.path());
    let ec = TestEc::start(ec::reply(ec::ok_answer())).await;
    let gw = mtls_gateway(&pki, ec.port()).await;
    let cases: [(&str, Option<&Pair>, &'static str); 4] = [
        ("no certificate", None, "no_certificate"),
        (
            "certificate of an unknown CA",
            Some(&pki.psp_other_ca),
            "unknown_ca",
        ),
        ("expired certificate", Some(&pki.psp_expired), "expired"),
        (
            "revoked certificate (CRL)",
            Some(&pki.psp_revoked),
            "revoked",
        ),
    ];
    for (name, identity, reason) in cases {
        let before = gw.metrics().handshake_failures(reason);
        let client = gw.with_client(tls_client_config(Some(&pki.ca), identity));
        let result = client
            .try_post(
                "/node-for-psp/v1",
                "demandPaymentNotice",
                &Demand::default().xml(),
            )
            .await;
        assert!(result.is_err(), "{name}: {result:?}");
        eventually(name, || gw.metrics().handshake_failures(reason) > before).await;
    }
    // A client that does not trust the gateway's CA refuses it (server authentication).
    let untrusting = gw.with_client(tls_client_config(Some(&pki.other_ca), Some(&pki.psp_good)));
    assert!(untrusting
        .try_post(
            "/node-for-psp/v1",
            "demandPaymentNotice",
            &Demand::default().xml()
        )
        .await
        .is_err());
    assert_eq!(gw.demand(&Demand::default().xml()).await.outcome, "OK");
    assert!(gw
        .metrics()
        .render()
        .contains("sanp_tls_handshake_failures_total{reason=\"revoked\"} 1"));
}

/// Plain HTTP on the TLS port and a client that never speaks: both end, classified.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_and_silent_clients_are_cut_off() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = TestPki::generate(dir.path());
    let ec = TestEc::start(ec::reply(ec::ok_answer())).await;
    let gw = mtls_gateway(&pki, ec.port()).await;
    let port: u16 = gw
        .url
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("port");
    let mut plain = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    plain
        .write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        .await
        .expect("write");
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), plain.read_to_end(&mut buf))
        .await
        .expect("closed");
    assert!(!String::from_utf8_lossy(&buf).contains("HTTP/1.1 200"));
    eventually("protocol failure counted", || {
        gw.metrics().handshake_failures("protocol") >= 1
    })
    .await;
    let mut silent = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let started = std::time::Instant::now();
    let n = tokio::time::timeout(Duration::from_secs(5), silent.read(&mut [0u8; 16]))
        .await
        .expect("closed in time");
    assert_eq!(
        n.expect("read"),
        0,
        "the gateway closes a silent connection"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "after the 500 ms handshake deadline"
    );
    eventually("timeout counted", || {
        gw.metrics().handshake_failures("timeout") >= 1
    })
    .await;
    // A TCP probe (connect, close) is counted as `closed`, not as an error worth a warning.
    drop(
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect"),
    );
    eventually("probe counted", || {
        gw.metrics().handshake_failures("closed") >= 1
    })
    .await;
    assert_eq!(gw.metrics().handshake_failures("io"), 0);
    assert_eq!(gw.demand(&Demand::default().xml()).await.outcome, "OK");
}

/// The DER certificate the gateway presents on a fresh connection.
async fn presented_certificate(url: &str, ca: &Path, identity: &Pair) -> Vec<u8> {
    let port: u16 = url
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("port");
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let connector =
        tokio_rustls::TlsConnector::from(Arc::new(tls_client_config(Some(ca), Some(identity))));
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
    let tls = connector.connect(name, tcp).await.expect("handshake");
    tls.get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
        .map(|c| c.as_ref().to_vec())
        .expect("server certificate")
}

fn copy(from: &Pair, dir: &Path, name: &str) -> Pair {
    let cert = dir.join(format!("{name}.pem"));
    let key = dir.join(format!("{name}.key"));
    replace(&from.cert, &cert);
    replace(&from.key, &key);
    Pair {
        cert,
        key,
        der: from.der.clone(),
    }
}

/// Replaces a file by rename, as deployment tools do.
fn replace(src: &Path, dst: &Path) {
    let tmp = dst.with_extension("tmp");
    std::fs::copy(src, &tmp).expect("copy");
    std::fs::rename(&tmp, dst).expect("rename");
}

/// The listener's certificate reloads when its files change; a broken file keeps the last good one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listener_certificates_reload_and_keep_the_last_good_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = TestPki::generate(dir.path());
    let live = tempfile::tempdir().expect("tempdir");
    let server = copy(&pki.server, live.path(), "listener");
    let ec = TestEc::start(ec::reply(ec::ok_answer())).await;
    let mut registry = conformance_registry();
    point_stations_at(&mut registry, ec.port());
    let client = tls_client_config(Some(&pki.ca), Some(&pki.psp_good));
    let gw = TestGateway::start_with(
        &registry,
        &listener_settings(&pki, &server),
        "https",
        client,
    )
    .await;
    assert_eq!(
        presented_certificate(&gw.url, &pki.ca, &pki.psp_good).await,
        pki.server.der
    );
    // A new certificate (same CA, also for localhost) replaces the old one.
    copy(&pki.ec_server, live.path(), "listener");
    let mut seen = Vec::new();
    for _ in 0..100 {
        seen = presented_certificate(&gw.url, &pki.ca, &pki.psp_good).await;
        if seen == pki.ec_server.der {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(seen, pki.ec_server.der, "the new certificate is served");
    // A broken file is refused; the last good certificate stays.
    std::fs::write(
        live.path().join("broken.pem"),
        "-----BEGIN CERTIFICATE-----\nnot base64\n",
    )
    .expect("write");
    replace(&live.path().join("broken.pem"), &server.cert);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        presented_certificate(&gw.url, &pki.ca, &pki.psp_good).await,
        pki.ec_server.der
    );
    assert_eq!(gw.demand(&Demand::default().xml()).await.outcome, "OK");
}

/// Points the conformance registry's stations at an HTTPS EC on `host:port`.
fn https_registry(host: &str, port: u16) -> Value {
    let mut registry = conformance_registry();
    point_stations_at(&mut registry, port);
    for s in registry["stations"]
        .as_object_mut()
        .expect("stations")
        .values_mut()
    {
        s["connection"]["protocol"] = Value::from("HTTPS");
        s["connection"]["ip"] = Value::from(host);
    }
    registry
}

fn ec_settings(pki: &TestPki, identity: Option<&Pair>, extra: &str) -> String {
    let identity = identity
        .map(|p| {
            format!(
                "cert_file = {}\nkey_file = {}\n",
                toml_path(&p.cert),
                toml_path(&p.key)
            )
        })
        .unwrap_or_default();
    format!(
        "plain_http = true\ntls_reload_interval_ms = 100\n[ec]\nca_file = {}\n{identity}{extra}",
        toml_path(&pki.ca)
    )
}

async fn plain_gateway(registry: &Value, settings: &str) -> TestGateway {
    TestGateway::start_with(registry, settings, "http", tls_client_config(None, None)).await
}

/// Toward an EC requiring client certificates: the gateway's identity gets in, its absence and
/// untrusted or misnamed EC certificates are PPT_STAZIONE_INT_PA_IRRAGGIUNGIBILE.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_authenticates_to_ecs_and_verifies_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = TestPki::generate(dir.path());
    let ec = TestEc::start_tls(ec::reply(ec::ok_answer()), &pki.ec_server, Some(&pki.ca)).await;
    let registry = https_registry("localhost", ec.port());

    let gw = plain_gateway(&registry, &ec_settings(&pki, Some(&pki.gateway_client), "")).await;
    assert_eq!(gw.demand(&Demand::default().xml()).await.outcome, "OK");
    assert_eq!(
        ec.received().last().and_then(|r| r.client_cert.clone()),
        Some(pki.gateway_client.der.clone())
    );

    let anonymous = plain_gateway(&registry, &ec_settings(&pki, None, "")).await;
    assert_eq!(
        anonymous
            .demand(&Demand::default().xml())
            .await
            .fault()
            .code,
        "PPT_STAZIONE_INT_PA_IRRAGGIUNGIBILE"
    );

    // Per-station identity: no default identity, one for this station.
    let station = format!(
        "[ec.stations.\"77777777777_01\"]\ncert_file = {}\nkey_file = {}\n",
        toml_path(&pki.gateway_client.cert),
        toml_path(&pki.gateway_client.key)
    );
    let per_station = plain_gateway(&registry, &ec_settings(&pki, None, &station)).await;
    assert_eq!(
        per_station.demand(&Demand::default().xml()).await.outcome,
        "OK"
    );

    for (name, cert) in [
        ("untrusted EC certificate", &pki.ec_untrusted),
        ("EC certificate for another host", &pki.ec_wrong_name),
    ] {
        let rogue = TestEc::start_tls(ec::reply(ec::ok_answer()), cert, None).await;
        let gw = plain_gateway(
            &https_registry("localhost", rogue.port()),
            &ec_settings(&pki, Some(&pki.gateway_client), ""),
        )
        .await;
        let r = gw.demand(&Demand::default().xml()).await;
        assert_eq!(
            r.fault().code,
            "PPT_STAZIONE_INT_PA_IRRAGGIUNGIBILE",
            "{name}"
        );
        assert!(
            rogue.received().is_empty(),
            "{name}: nothing was sent to it"
        );
    }
}

/// The identity toward ECs reloads from its files; a broken file keeps the last good one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ec_identity_reloads_and_keeps_the_last_good_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = TestPki::generate(dir.path());
    let live = tempfile::tempdir().expect("tempdir");
    let identity = copy(&pki.gateway_client, live.path(), "identity");
    let ec = TestEc::start_tls(ec::reply(ec::ok_answer()), &pki.ec_server, Some(&pki.ca)).await;
    let gw = plain_gateway(
        &https_registry("localhost", ec.port()),
        &ec_settings(&pki, Some(&identity), ""),
    )
    .await;
    assert_eq!(gw.demand(&Demand::default().xml()).await.outcome, "OK");
    // Broken certificate file: refused, the good identity stays in use.
    std::fs::write(live.path().join("broken.pem"), "garbage").expect("write");
    replace(&live.path().join("broken.pem"), &identity.cert);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(gw.demand(&Demand::default().xml()).await.outcome, "OK");
    // A valid identity the EC does not trust is picked up: now the EC refuses us.
    copy(&pki.psp_other_ca, live.path(), "identity");
    let mut code = String::new();
    for _ in 0..40 {
        code = gw
            .demand(&Demand::default().xml())
            .await
            .fault
            .map(|f| f.code)
            .unwrap_or_default();
        if code == "PPT_STAZIONE_INT_PA_IRRAGGIUNGIBILE" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(code, "PPT_STAZIONE_INT_PA_IRRAGGIUNGIBILE");
}

/// A station's registry `proxy` is used as a CONNECT proxy, with its credentials.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stations_behind_a_proxy_are_reached_through_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = TestPki::generate(dir.path());
    let ec = TestEc::start_tls(ec::reply(ec::ok_answer()), &pki.ec_server, Some(&pki.ca)).await;
    let proxy = TestProxy::start().await;
    let mut registry = https_registry("localhost", ec.port());
    registry["stations"]["77777777777_01"]["proxy"] = serde_json::json!({
        "proxy_host": "127.0.0.1", "proxy_port": proxy.addr.port(),
        "proxy_username": "user", "proxy_password": "pass"
    });
    let gw = plain_gateway(&registry, &ec_settings(&pki, Some(&pki.gateway_client), "")).await;
    assert_eq!(gw.demand(&Demand::default().xml()).await.outcome, "OK");
    let connects = proxy.connects.lock().expect("lock").clone();
    assert_eq!(
        connects,
        vec![(
            format!("localhost:{}", ec.port()),
            Some("Basic dXNlcjpwYXNz".to_owned())
        )]
    );
    assert_eq!(ec.received().len(), 1);
}

/// Keys and passwords never reach the logs: check-config with a TLS configuration prints none.
#[test]
fn tls_settings_errors_name_files_not_key_material() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = TestPki::generate(dir.path());
    let key_text = std::fs::read_to_string(&pki.server.key).expect("key");
    let bad_key: PathBuf = dir.path().join("bad.key");
    std::fs::write(&bad_key, key_text.replace("PRIVATE KEY", "PRIVATE KEX")).expect("write");
    let mut s = listener_settings(&pki, &pki.server);
    s = s.replace(&toml_path(&pki.server.key), &toml_path(&bad_key));
    let settings = dir.path().join("gw.toml");
    std::fs::write(
        &settings,
        format!(
            "registry = {}\nservice_schema_dir = {}\n{s}",
            toml_path(&support::repo().join("fixtures/demo/registry.json")),
            toml_path(&support::repo().join("xsd/catalogo-servizi"))
        ),
    )
    .expect("write settings");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sanp-gateway"))
        .args(["check-config", "--config"])
        .arg(&settings)
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "{stderr}");
    assert!(stderr.contains("bad.key"), "{stderr}");
    let body_line = key_text.lines().nth(1).expect("key body");
    assert!(!stderr.contains(body_line), "key material leaked: {stderr}");
}
