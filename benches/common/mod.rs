//! What the benchmarks share: a generated large registry and the demo fixtures.

#![allow(dead_code)]

use std::path::PathBuf;

use serde_json::{json, Map, Value};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(name: &str) -> Vec<u8> {
    let path = repo().join("fixtures/demo").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The demo registry (`fixtures/demo/registry.json`) with its stations on `ec_port`.
pub fn demo_registry(ec_port: u16) -> Value {
    let mut registry: Value =
        serde_json::from_slice(&fixture("registry.json")).expect("demo registry is JSON");
    if let Some(stations) = registry["stations"].as_object_mut() {
        for station in stations.values_mut() {
            for c in ["connection", "connection_mod4"] {
                if station[c].is_object() {
                    station[c]["port"] = Value::from(ec_port);
                    station[c]["ip"] = Value::from("127.0.0.1");
                }
            }
        }
    }
    registry
}

/// The demo registry grown to `services` catalog services and `subject_services` associations
/// (ids are 5 characters, so at most 100,000 of each), spread over one EC per 10 associations and
/// 100 stations. Every service is version 2, so the full catalog lists every association.
pub fn large_registry(services: usize, subject_services: usize) -> Value {
    assert!(services <= 100_000 && subject_services <= 100_000);
    let mut r = demo_registry(8090);
    let xsds = [
        "TassaAutomobilistica_1_1_0.xsd",
        "A001_Passaporto_1_0_0.xsd",
        "D847_Pesca_1_0_0.xsd",
    ];
    let categories = ["Tributi", "Servizi anagrafici", "Sport", "Donazioni"];
    let template_station = r["stations"]["80000000001_01"].clone();
    let template_ci = r["creditorInstitutions"]["80000000001"].clone();
    let template_ci_station = r["creditorInstitutionStations"]
        .as_object()
        .and_then(|m| m.values().next())
        .cloned()
        .expect("a station–EC row");
    let mut stations = Map::new();
    for s in 0..100 {
        let code = format!("90000000000_{s:02}");
        let mut st = template_station.clone();
        st["station_code"] = Value::from(code.clone());
        stations.insert(code, st);
    }
    let ecs = subject_services.div_ceil(10);
    let mut cis = Map::new();
    let mut ci_stations = Map::new();
    let mut subjects = Map::new();
    for e in 0..ecs {
        let code = format!("{:011}", 90_000_000_000u64 + e as u64);
        let station = format!("90000000000_{:02}", e % 100);
        let mut ci = template_ci.clone();
        ci["creditor_institution_code"] = Value::from(code.clone());
        ci["business_name"] = Value::from(format!("Ente {e}"));
        cis.insert(code.clone(), ci);
        let mut row = template_ci_station.clone();
        row["creditor_institution_code"] = Value::from(code.clone());
        row["station_code"] = Value::from(station.clone());
        ci_stations.insert(format!("{station}_{code}"), row);
        subjects.insert(
            code.clone(),
            json!({"creditor_institution_code": code, "creditor_institution_description": format!("Ente creditore {e}")}),
        );
    }
    let mut svc = Map::new();
    for s in 0..services {
        let id = format!("{s:05}");
        svc.insert(
            id.clone(),
            json!({
                "id": id,
                "description": format!("Servizio numero {s}"),
                "reference_xsd": xsds[s % xsds.len()],
                "version": 2,
                "category": categories[s % categories.len()],
            }),
        );
    }
    let mut subject_svc = Map::new();
    for a in 0..subject_services {
        let id = format!("{a:05}");
        let ec = a / 10;
        let code = format!("{:011}", 90_000_000_000u64 + ec as u64);
        subject_svc.insert(
            id.clone(),
            json!({
                "subject": code,
                "service": format!("{:05}", a % services),
                "subject_service_id": id,
                "start_date": "2024-01-01T00:00:00+01:00",
                "end_date": null,
                "fee": a % 3 == 0,
                "station_code": format!("90000000000_{:02}", ec % 100),
                "service_description": format!("Servizio {a} dell'ente {ec}"),
            }),
        );
    }
    r["stations"] = Value::Object(stations);
    r["creditorInstitutions"] = Value::Object(cis);
    r["creditorInstitutionStations"] = Value::Object(ci_stations);
    r["cdsSubjects"] = Value::Object(subjects);
    r["cdsServices"] = Value::Object(svc);
    r["cdsSubjectServices"] = Value::Object(subject_svc);
    r["version"] = Value::from(format!("large-{services}-{subject_services}"));
    r
}
