//! Running it in production, over real sockets: metrics and health on the admin listener,
//! request ids, registry and settings reloads (keep-last-good, change picked up, in-flight
//! untouched, URL polling), shedding, per-station isolation and graceful shutdown.

use std::io::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;

use crate::support;
use crate::support::ec::{self, Behaviour, TestEc};
use crate::support::{
    conformance_registry, eventually, point_stations_at, CatalogReq, Demand, TestGateway,
};

async fn setup(behaviour: Behaviour, extra: &str) -> (TestEc, TestGateway, Value) {
    let ec = TestEc::start(behaviour).await;
    let mut registry = conformance_registry();
    point_stations_at(&mut registry, ec.port());
    let gw = TestGateway::start(&registry, extra).await;
    (ec, gw, registry)
}

/// Installs `registry` as `version` with PSP_OK disabled, by file, and waits until it is in use.
async fn disable_psp_ok(gw: &TestGateway, registry: &Value, version: &str) {
    let mut next = registry.clone();
    next["version"] = Value::from(version);
    next["psps"]["PSP_OK"]["enabled"] = Value::from(false);
    gw.replace_registry(&next);
    eventually("the new registry is in use", || {
        gw.gateway
            .as_ref()
            .is_some_and(|g| g.registry_version() == version)
    })
    .await;
}

/// An EC that answers OK after `ms` milliseconds.
fn slow_ok(ms: u64) -> Behaviour {
    Behaviour::Delay(
        Duration::from_millis(ms),
        Box::new(ec::reply(ec::ok_answer())),
    )
}

/// A folder holding the conformance registry, its stations on `ec_port`, as `registry.json`.
fn registry_dir(ec_port: u16) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut registry = conformance_registry();
    point_stations_at(&mut registry, ec_port);
    std::fs::write(
        dir.path().join("registry.json"),
        serde_json::to_vec(&registry).expect("json"),
    )
    .expect("write");
    dir
}

/// Sends the default demand to `gw` from another task, on its own client.
fn demand_in_background(gw: &TestGateway) -> tokio::task::JoinHandle<support::Response> {
    let client = TestGateway::client_for(&gw.url);
    tokio::spawn(async move { client.demand(&Demand::default().xml()).await })
}

fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// `/metrics`, `/health/live` and `/health/ready` on the admin listener, with bounded labels.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_and_health_are_served_on_the_admin_listener() {
    let (_ec, gw, _) = setup(ec::reply(ec::ok_answer()), "").await;
    let admin = gw.start_admin().await;
    assert_eq!(gw.demand(&Demand::default().xml()).await.outcome, "OK");
    assert_eq!(
        gw.demand(
            &Demand {
                password: "Password02".into(),
                ..Demand::default()
            }
            .xml()
        )
        .await
        .outcome,
        "KO"
    );
    let too_long = Demand {
        psp: "P".repeat(36),
        ..Demand::default()
    };
    assert_eq!(gw.demand(&too_long.xml()).await.outcome, "KO");
    // Two faults are left to libxml2 (the proof words one length fault only).
    let two_faults = Demand {
        psp: "P".repeat(36),
        password: "P".repeat(16),
        ..Demand::default()
    };
    assert_eq!(gw.demand(&two_faults.xml()).await.outcome, "KO");
    gw.post("/node-for-psp/v1", Some("demandPaymentNotice"), "not xml")
        .await;
    let m = gw.get_url(&format!("{admin}/metrics")).await;
    assert_eq!(m.status, StatusCode::OK);
    let text = m.body;
    assert_eq!(
        metric(
            &text,
            "sanp_requests_total{operation=\"demandPaymentNotice\",outcome=\"OK\",fault_code=\"\"}"
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(metric(&text, "sanp_requests_total{operation=\"demandPaymentNotice\",outcome=\"KO\",fault_code=\"PPT_AUTENTICAZIONE\"}"), Some(1.0));
    assert_eq!(
        metric(
            &text,
            "sanp_request_duration_seconds_count{operation=\"demandPaymentNotice\"}"
        ),
        Some(4.0)
    );
    assert_eq!(metric(&text, "sanp_upstream_duration_seconds_count{station=\"77777777777_01\",primitive=\"paDemandPaymentNotice\"}"), Some(1.0));
    assert_eq!(
        metric(&text, "sanp_router_refusals_total{reason=\"malformed\"}"),
        Some(1.0)
    );
    assert_eq!(
        metric(&text, "sanp_registry_info{version=\"1700000000000000042\"}"),
        Some(1.0)
    );
    assert!(metric(&text, "sanp_registry_loaded_timestamp_seconds").is_some_and(|t| t > 1.7e9));
    assert_eq!(metric(&text, "sanp_in_flight_requests"), Some(0.0));
    // Two valid requests and the one too long settled from the tree, the one with two faults
    // judged by libxml2; the EC's answer and the service data proven.
    let checks = |document: &str, by: &str| {
        metric(
            &text,
            &format!("sanp_schema_checks_total{{document=\"{document}\",by=\"{by}\"}}"),
        )
    };
    assert_eq!(checks("demand_request", "proof"), Some(3.0));
    assert_eq!(checks("demand_request", "libxml2"), Some(1.0));
    assert_eq!(checks("ec_answer", "proof"), Some(1.0));
    assert_eq!(checks("ec_answer", "libxml2"), None);
    // The OK demand's service data proven too; the others stopped before them.
    assert_eq!(checks("service_data", "proof"), Some(1.0));
    assert_eq!(checks("service_data", "libxml2"), None);
    // No per-request values in labels.
    assert!(!text.contains("311111111111111111") && !text.contains("PSP_OK"));
    assert_eq!(
        gw.get_url(&format!("{admin}/health/live")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        gw.get_url(&format!("{admin}/health/ready")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        gw.get_url(&format!("{admin}/nope")).await.status,
        StatusCode::NOT_FOUND
    );
}

/// `X-Request-Id` is taken from the caller (or made), returned, and sent on to the EC.
#[tokio::test]
async fn request_ids_travel_from_psp_to_ec_and_back() {
    let (ec, gw, _) = setup(ec::reply(ec::ok_answer()), "").await;
    let req = http::Request::builder()
        .method(http::Method::POST)
        .uri(format!("{}/node-for-psp/v1", gw.url))
        .header("SOAPAction", "demandPaymentNotice")
        .header("X-Request-Id", "psp-req-42")
        .body(Full::new(Bytes::from(Demand::default().xml())))
        .expect("request");
    let a = gw.send(req).await;
    assert_eq!(a.header("x-request-id"), Some("psp-req-42"));
    assert_eq!(
        ec.received()[0].header("X-Request-Id").as_deref(),
        Some("psp-req-42")
    );
    let a = gw
        .post(
            "/node-for-psp/v1",
            Some("demandPaymentNotice"),
            &Demand::default().xml(),
        )
        .await;
    let made = a.header("x-request-id").expect("generated id").to_owned();
    assert!(
        made.len() == 32 && made.bytes().all(|b| b.is_ascii_hexdigit()),
        "{made}"
    );
    assert_eq!(ec.received()[1].header("X-Request-Id"), Some(made));
    assert_eq!(a.header("x-registry-version"), Some("1700000000000000042"));
}

/// A changed registry file is picked up; a broken one is refused and counted while the last good
/// snapshot keeps serving; the Node-shaped refresh endpoint reloads on demand.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_reloads_keep_the_last_good_snapshot() {
    let (_ec, gw, registry) = setup(
        ec::reply(ec::ok_answer()),
        "registry_poll_interval_ms = 50\n",
    )
    .await;
    let admin = gw.start_admin().await;
    let metrics = || gw.metrics();
    // Broken document: refused, counted, old version still serving.
    std::fs::write(gw.registry_path().with_extension("tmp"), b"{\"psps\": 3}").expect("write");
    std::fs::rename(gw.registry_path().with_extension("tmp"), gw.registry_path()).expect("rename");
    eventually("a failed file reload is counted", || {
        metrics().reloads("registry", "file", false) >= 1
    })
    .await;
    let a = gw
        .post(
            "/node-for-psp/v1",
            Some("demandPaymentNotice"),
            &Demand::default().xml(),
        )
        .await;
    assert_eq!(a.header("x-registry-version"), Some("1700000000000000042"));
    assert!(a.body.contains("<outcome>OK</outcome>"));
    let refresh = gw.post_url(&format!("{admin}/config/refresh/CONFIG")).await;
    assert_eq!(
        refresh.status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{}",
        refresh.body
    );
    assert!(
        refresh.body.contains("\"version\":\"1700000000000000042\""),
        "{}",
        refresh.body
    );
    let report: Value = serde_json::from_str(&refresh.body).expect("JSON report");
    assert!(
        report["registry"]
            .as_str()
            .is_some_and(|r| r.starts_with("failed: ")),
        "{report}"
    );
    // A good new version: PSP_OK disabled. Picked up without restart.
    disable_psp_ok(&gw, &registry, "1700000000000000043").await;
    let r = gw.demand(&Demand::default().xml()).await;
    assert_eq!(r.fault().code, "PPT_PSP_DISABILITATO");
    assert!(metrics().reloads("registry", "file", true) >= 1);
    let text = gw.get_url(&format!("{admin}/metrics")).await.body;
    assert!(
        text.contains("sanp_registry_info{version=\"1700000000000000043\"} 1"),
        "{text}"
    );
    assert!(
        !text.contains("sanp_registry_info{version=\"1700000000000000042\"}"),
        "the old version's series is gone"
    );
    let refresh = gw.get_url(&format!("{admin}/config/refresh/CONFIG")).await;
    assert_eq!(refresh.status, StatusCode::OK, "{}", refresh.body);
    let report: Value = serde_json::from_str(&refresh.body).expect("JSON report");
    assert_eq!(
        report,
        serde_json::json!({"registry": "reloaded", "version": "1700000000000000043"})
    );
    // ALL reloads the settings too: unchanged, so applied with nothing needing a restart.
    let refresh = gw.get_url(&format!("{admin}/config/refresh/ALL")).await;
    assert_eq!(refresh.status, StatusCode::OK, "{}", refresh.body);
    let report: Value = serde_json::from_str(&refresh.body).expect("JSON report");
    assert_eq!(
        report["settings"],
        serde_json::json!({"applied": true, "needs_restart": []})
    );
}

/// A registry file replaced while the gateway was starting (after its load, before the watcher's
/// first look) is still picked up: the watcher starts from the file as loaded, not as found.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_replaced_during_start_up_is_picked_up() {
    let dir = registry_dir(1);
    std::fs::write(
        dir.path().join("gateway.toml"),
        "listen = \"127.0.0.1:0\"\nplain_http = true\nregistry = \"registry.json\"\nregistry_poll_interval_ms = 50\n[validation]\ndati_specifici_servizio = \"pass_through\"\n",
    )
    .expect("settings");
    let gw = Arc::new(
        sanp_gateway::app::Gateway::from_file(&dir.path().join("gateway.toml")).expect("builds"),
    );
    assert_eq!(gw.live().snapshot.version, "1700000000000000042");
    let mut registry = conformance_registry();
    registry["version"] = Value::from("1700000000000000099");
    let path = dir.path().join("registry.json");
    std::fs::write(
        path.with_extension("tmp"),
        serde_json::to_vec(&registry).expect("json"),
    )
    .expect("write");
    std::fs::rename(path.with_extension("tmp"), &path).expect("rename");
    let tasks = sanp_gateway::reload::spawn_all(&gw);
    eventually("the replaced registry is loaded", || {
        gw.live().snapshot.version == "1700000000000000099"
    })
    .await;
    for t in tasks {
        t.abort();
    }
}

/// A request in flight keeps the snapshot it started with: it completes under the old registry
/// while a reload disables its PSP.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_in_flight_are_not_disturbed_by_a_reload() {
    let (ec, gw, registry) = setup(slow_ok(600), "registry_poll_interval_ms = 50\n").await;
    let slow = {
        let gw_url = gw.url.clone();
        tokio::spawn(async move {
            let client = TestGateway::client_for(&gw_url);
            client
                .post(
                    "/node-for-psp/v1",
                    Some("demandPaymentNotice"),
                    &Demand::default().xml(),
                )
                .await
        })
    };
    eventually("the slow request reached the EC", || {
        !ec.received().is_empty()
    })
    .await;
    disable_psp_ok(&gw, &registry, "1700000000000000099").await;
    let a = slow.await.expect("join");
    assert!(a.body.contains("<outcome>OK</outcome>"), "{}", a.body);
    assert_eq!(a.header("x-registry-version"), Some("1700000000000000042"));
    ec.set(ec::reply(ec::ok_answer()));
    assert_eq!(
        gw.demand(&Demand::default().xml()).await.fault().code,
        "PPT_PSP_DISABILITATO"
    );
}

/// An api-config-cache style source: the version is asked first and the document (here gzip) is
/// downloaded only when it changed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_configuration_service_is_polled_by_version() {
    let ec = TestEc::start(ec::reply(ec::ok_answer())).await;
    let mut registry = conformance_registry();
    point_stations_at(&mut registry, ec.port());
    let document = Arc::new(std::sync::Mutex::new(registry.clone()));
    let downloads = Arc::new(AtomicUsize::new(0));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    {
        let document = document.clone();
        let downloads = downloads.clone();
        tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let document = document.clone();
                let downloads = downloads.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                        let doc = document.lock().expect("lock").clone();
                        let downloads = downloads.clone();
                        async move {
                            assert_eq!(
                                req.headers()
                                    .get("ocp-apim-subscription-key")
                                    .and_then(|v| v.to_str().ok()),
                                Some("sub-key")
                            );
                            let body = if req.uri().path().ends_with("/id") {
                                Bytes::from(format!("{{\"version\":{}}}", doc["version"]))
                            } else {
                                // The document is asked for compressed (issue #9).
                                assert_eq!(
                                    req.headers()
                                        .get("accept-encoding")
                                        .and_then(|v| v.to_str().ok()),
                                    Some("gzip")
                                );
                                downloads.fetch_add(1, Ordering::SeqCst);
                                let mut gz = flate2::write::GzEncoder::new(
                                    Vec::new(),
                                    flate2::Compression::default(),
                                );
                                gz.write_all(&serde_json::to_vec(&doc).expect("json"))
                                    .expect("gzip");
                                Bytes::from(gz.finish().expect("gzip"))
                            };
                            Ok::<_, std::convert::Infallible>(http::Response::new(Full::new(body)))
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tcp), service)
                        .await;
                });
            }
        });
    }
    let extra = format!(
        "[registry_url]\nurl = \"http://{addr}/stakeholders/node/cache/schemas/v1\"\npoll_interval_ms = 50\nsubscription_key = \"sub-key\"\n"
    );
    let gw = TestGateway::start(&registry, &extra).await;
    // Same version as the file: nothing is downloaded.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        downloads.load(Ordering::SeqCst),
        0,
        "no download while the version is unchanged"
    );
    let mut next = registry.clone();
    next["version"] = Value::from("1700000000000000777");
    next["psps"]["PSP_OK"]["enabled"] = Value::from(false);
    *document.lock().expect("lock") = next;
    eventually("the new version is in use", || {
        gw.gateway
            .as_ref()
            .is_some_and(|g| g.registry_version() == "1700000000000000777")
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(downloads.load(Ordering::SeqCst), 1, "downloaded once");
    assert_eq!(
        gw.demand(&Demand::default().xml()).await.fault().code,
        "PPT_PSP_DISABILITATO"
    );
    // A broken document at the source (a map that is not an object) is refused: the last good
    // one stays. A bad entry alone would only be left out.
    let mut broken = registry.clone();
    broken["version"] = Value::from("1700000000000000778");
    broken["channels"] = Value::from(5);
    *document.lock().expect("lock") = broken;
    eventually("the failed download is counted", || {
        gw.metrics().reloads("registry", "url", false) >= 1
    })
    .await;
    assert_eq!(
        gw.gateway.as_ref().map(|g| g.registry_version()).as_deref(),
        Some("1700000000000000777")
    );
}

/// `/config/refresh/ALL` reloads the settings too: live keys apply, the others are reported.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_reload_applies_live_keys_and_reports_the_rest() {
    let ec = TestEc::start(slow_ok(300)).await;
    let dir = registry_dir(ec.port());
    let base = format!(
        "listen = \"127.0.0.1:0\"\nplain_http = true\nregistry = \"registry.json\"\nservice_schema_dir = {:?}\n",
        support::repo().join("xsd/catalogo-servizi").display().to_string()
    );
    let path = dir.path().join("gateway.toml");
    std::fs::write(&path, &base).expect("settings");
    let gateway = Arc::new(sanp_gateway::app::Gateway::from_file(&path).expect("gateway"));
    assert_eq!(gateway.settings().ec.timeout, Duration::from_secs(7));
    std::fs::write(
        &path,
        format!(
            "{}\n[ec]\ntimeout_ms = 100\n",
            base.replace("127.0.0.1:0", "127.0.0.1:1")
        ),
    )
    .expect("settings");
    let r = gateway.reload_settings("test").expect("reloads");
    assert!(r.applied);
    assert_eq!(r.needs_restart, vec!["listen"]);
    assert_eq!(
        gateway.settings().ec.timeout,
        Duration::from_millis(100),
        "live key applied"
    );
    assert_eq!(gateway.settings().listen.port(), 0, "restart-only key kept");
    std::fs::write(&path, "this is = = not toml").expect("settings");
    assert!(gateway.reload_settings("test").is_err());
    assert_eq!(
        gateway.settings().ec.timeout,
        Duration::from_millis(100),
        "last good settings kept"
    );
    assert_eq!(gateway.metrics.reloads("settings", "test", false), 1);
}

/// Beyond `limits.max_in_flight` and the PSP rate limit, requests get PPT_SUPERAMENTOSOGLIA at
/// once, in the operation's own response, and are counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overload_is_answered_at_once_with_superamentosoglia() {
    let _machine = support::serial::machine().await;
    let (_ec, gw, _) = setup(slow_ok(500), "[limits]\nmax_in_flight = 1\n").await;
    let first = demand_in_background(&gw);
    eventually("the first request is in flight", || {
        gw.gateway
            .as_ref()
            .is_some_and(|g| g.admission.in_flight() == 1)
    })
    .await;
    let started = std::time::Instant::now();
    let shed = gw.demand(&Demand::default().xml()).await;
    assert!(
        started.elapsed() < Duration::from_millis(300),
        "answered at once"
    );
    let f = shed.fault();
    assert_eq!(f.code, "PPT_SUPERAMENTOSOGLIA");
    assert_eq!(f.string, "Una qualche soglia fissata per PPT e' temporaneamente superata e la richiesta e' quindi rifiutata.");
    let shed = gw.catalog(&CatalogReq::default().xml()).await;
    assert_eq!(
        shed.fault().code,
        "PPT_SUPERAMENTOSOGLIA",
        "in the catalog's own response"
    );
    assert_eq!(first.await.expect("join").outcome, "OK");
    assert_eq!(gw.metrics().shed_count("in_flight"), 2);

    let (_ec, limited, _) = setup(
        ec::reply(ec::ok_answer()),
        "[limits]\npsp_rate_per_second = 1.0\npsp_burst = 2.0\n",
    )
    .await;
    let codes: Vec<String> = futures_lite(&limited, 3).await;
    assert_eq!(
        codes,
        ["OK", "OK", "PPT_SUPERAMENTOSOGLIA"],
        "burst of 2, then limited"
    );
    assert_eq!(limited.metrics().shed_count("psp_rate"), 1);
}

async fn futures_lite(gw: &TestGateway, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    for _ in 0..n {
        let r = gw.catalog(&CatalogReq::default().xml()).await;
        out.push(r.fault.map(|f| f.code).unwrap_or_else(|| "OK".into()));
    }
    out
}

/// One hanging EC cannot exhaust the gateway: its station's concurrency is capped (here 1) and
/// requests for other stations are served as usual.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_station_does_not_starve_the_others() {
    let hanging = TestEc::start(Behaviour::Delay(
        Duration::from_secs(30),
        Box::new(ec::reply(ec::ok_answer())),
    ))
    .await;
    let healthy = TestEc::start(ec::reply(ec::ok_answer())).await;
    let mut registry = conformance_registry();
    point_stations_at(&mut registry, hanging.port());
    // A second station for 66666666666's car tax (00044), on the healthy EC.
    let mut other = registry["stations"]["77777777777_01"].clone();
    other["station_code"] = Value::from("77777777777_07");
    other["connection"]["port"] = Value::from(healthy.port());
    registry["stations"]["77777777777_07"] = other;
    registry["creditorInstitutionStations"]["x"] = serde_json::json!({
        "creditor_institution_code": "66666666666", "station_code": "77777777777_07", "mod4": true
    });
    registry["cdsSubjectServices"]["00044"]["station_code"] = Value::from("77777777777_07");
    let gw = TestGateway::start(
        &registry,
        "[ec]\ntimeout_ms = 20000\n[ec.stations.\"77777777777_01\"]\nmax_concurrent = 1\n",
    )
    .await;
    let stuck = demand_in_background(&gw);
    eventually("the hanging EC holds a call", || {
        hanging.received().len() == 1
    })
    .await;
    let busy = gw.demand(&Demand::default().xml()).await;
    assert_eq!(busy.fault().code, "PPT_SUPERAMENTOSOGLIA");
    assert_eq!(
        busy.fault().description.as_deref(),
        Some("Stazione 77777777777_01: oltre 1 chiamate in corso")
    );
    for _ in 0..5 {
        let r = gw
            .demand(
                &Demand {
                    subject_service: "00044".into(),
                    ..Demand::default()
                }
                .xml(),
            )
            .await;
        assert_eq!(r.outcome, "OK", "{}", r.raw);
    }
    assert_eq!(gw.metrics().shed_count("station_busy"), 1);
    stuck.abort();
}

/// A station allowed one call at a time (`max_concurrent` 1) serves a short burst in turn: a call
/// waits for the busy slot within `ec.station_wait_ms`, and only beyond is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_to_a_busy_station_wait_for_a_slot_within_a_bound() {
    let ec = TestEc::start(slow_ok(300)).await;
    let mut registry = conformance_registry();
    point_stations_at(&mut registry, ec.port());
    let gw = TestGateway::start(
        &registry,
        "[ec]\nstation_wait_ms = 2000\n[ec.stations.\"77777777777_01\"]\nmax_concurrent = 1\n",
    )
    .await;
    let started = std::time::Instant::now();
    let calls: Vec<_> = (0..3).map(|_| demand_in_background(&gw)).collect();
    for c in calls {
        let r = c.await.expect("join");
        assert_eq!(r.outcome, "OK", "{}", r.raw);
    }
    // One at a time: the EC never saw two calls at once, so three took three EC delays.
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(ec.received().len(), 3);
    assert_eq!(gw.metrics().shed_count("station_busy"), 0);
}

/// The registry's `thread_number` (1 in most real registries) is not a concurrency cap (issue #9):
/// twelve citizens asking one station whose EC answers in 300 ms all get OK in about 300 ms.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thread_number_does_not_cap_calls_to_a_station() {
    let _machine = support::serial::machine().await;
    let ec = TestEc::start(slow_ok(300)).await;
    let mut registry = conformance_registry();
    point_stations_at(&mut registry, ec.port());
    registry["stations"]["77777777777_01"]["thread_number"] = Value::from(1);
    let gw = TestGateway::start(&registry, "").await;
    let started = std::time::Instant::now();
    let calls: Vec<_> = (0..12).map(|_| demand_in_background(&gw)).collect();
    for c in calls {
        let r = c.await.expect("join");
        assert_eq!(r.outcome, "OK", "{}", r.raw);
    }
    // In parallel: well under two EC delays (one at a time would take 3.6 s).
    assert!(
        started.elapsed() < Duration::from_millis(1_000),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(ec.received().len(), 12);
    assert_eq!(gw.metrics().shed_count("station_busy"), 0);
}

/// SIGTERM on the real binary: it stops accepting, the slow request in flight completes, and the
/// process exits 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_requests_in_flight_and_exits_zero() {
    let _machine = support::serial::machine().await;
    let ec = TestEc::start(slow_ok(1500)).await;
    let dir = registry_dir(ec.port());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let settings = format!(
        "listen = \"127.0.0.1:{port}\"\nplain_http = true\nregistry = \"registry.json\"\nservice_schema_dir = {:?}\n[admin]\ndisabled = true\n",
        support::repo().join("xsd/catalogo-servizi").display().to_string()
    );
    std::fs::write(dir.path().join("gateway.toml"), settings).expect("settings");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_sanp-gateway"))
        .args(["serve", "--config"])
        .arg(dir.path().join("gateway.toml"))
        .env("RUST_LOG", "info")
        .env_remove("SANP_LOG_FORMAT")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start");
    let url = format!("http://127.0.0.1:{port}");
    eventually("listening", || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    })
    .await;
    let client = TestGateway::client_for(&url);
    let slow = tokio::spawn(async move { client.demand(&Demand::default().xml()).await });
    eventually("the request reached the EC", || !ec.received().is_empty()).await;
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "no longer accepting"
    );
    let r = slow.await.expect("join");
    assert_eq!(
        r.outcome, "OK",
        "the request in flight completed: {}",
        r.raw
    );
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .expect("join")
        .expect("wait");
    assert_eq!(out.status.code(), Some(0));
    // The batched log writer lost nothing: the request's line, then the very last line, written
    // on the way out.
    let log = String::from_utf8_lossy(&out.stdout);
    let served = log
        .lines()
        .find(|l| l.contains(" INFO request served "))
        .unwrap_or_else(|| panic!("no request line in {log}"));
    for field in [
        "operation=demandPaymentNotice",
        "psp=PSP_OK",
        "station=77777777777_01",
        "outcome=OK",
        "fault_code=\"\"",
    ] {
        assert!(served.contains(field), "{field} in {served}");
    }
    assert!(!log.contains("Password01"), "no password in the log");
    assert!(
        log.lines()
            .last()
            .is_some_and(|l| l.contains("gateway stopped drained=true")),
        "{log}"
    );
}
