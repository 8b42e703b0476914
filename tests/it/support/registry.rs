//! The conformance registry fixture and the edits tests make to it.

use serde_json::Value;

use super::repo;

/// The conformance registry (fixtures/registry/conformance.json) as JSON, to edit per test.
pub fn conformance_registry() -> Value {
    let text = std::fs::read_to_string(repo().join("fixtures/registry/conformance.json"))
        .expect("fixture");
    serde_json::from_str(&text).expect("fixture JSON")
}

/// Points every station of `registry` at `port` on 127.0.0.1.
pub fn point_stations_at(registry: &mut Value, port: u16) {
    if let Some(stations) = registry["stations"].as_object_mut() {
        for s in stations.values_mut() {
            s["connection"]["port"] = Value::from(port);
        }
    }
}
