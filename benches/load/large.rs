//! The large-registry measurement: load and catalog render times for 10k services and 100k
//! associations, in process.

use std::time::Instant;

use crate::common;
use crate::procs::Bench;

pub struct Large {
    pub services: usize,
    pub subjects: usize,
    pub json_mib: f64,
    pub load_ms: f64,
    pub render_ms: f64,
    pub render_one_ec_ms: f64,
    pub response_ms: f64,
    pub document_mib: f64,
}

pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Generates a 10k-service / 100k-association registry and times its load (file → snapshot,
/// schemas included) and its full catalog render.
pub fn large_registry(bench: &Bench) -> Large {
    let (services, subjects) = (10_000, 100_000);
    let bytes = serde_json::to_vec(&common::large_registry(services, subjects)).expect("json");
    let path = bench.path("large.json");
    std::fs::write(&path, &bytes).expect("write");
    let text = format!(
        "plain_http = true\nregistry = {:?}\nservice_schema_dir = {:?}\n",
        path.display().to_string(),
        common::repo()
            .join("xsd/catalogo-servizi")
            .display()
            .to_string(),
    );
    let settings = sanp_gateway::settings::Settings::from_toml(&text, bench.dir.path(), "large")
        .expect("settings");
    let mut loads = Vec::new();
    let mut live = None;
    for _ in 0..3 {
        let t = Instant::now();
        live = Some(sanp_gateway::app::load_live(&settings, None).expect("loads"));
        loads.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let live = live.expect("loaded");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let full = sanp_gateway::catalog::CatalogFilter {
        version: 2,
        domain: None,
        category: None,
        fee: None,
        now,
    };
    let mut renders = Vec::new();
    let mut doc = String::new();
    for _ in 0..5 {
        let t = Instant::now();
        doc = sanp_gateway::catalog::document_v2(&live.snapshot, &full);
        renders.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let one = sanp_gateway::catalog::CatalogFilter {
        domain: Some("90000000042"),
        ..full
    };
    let mut ones = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let _ = sanp_gateway::catalog::document_v2(&live.snapshot, &one);
        ones.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let mut responses = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let _ = sanp_gateway::catalog::ok_v2(&doc);
        responses.push(t.elapsed().as_secs_f64() * 1e3);
    }
    Large {
        services,
        subjects,
        json_mib: bytes.len() as f64 / 1048576.0,
        load_ms: median(loads),
        render_ms: median(renders),
        render_one_ec_ms: median(ones),
        response_ms: median(responses),
        document_mib: doc.len() as f64 / 1048576.0,
    }
}
