//! Criterion micro-benchmarks of the hot path's stages: envelope parsing, schema validation (and
//! the tree proofs that replace it for valid documents, service data included),
//! catalog rendering (demo and 10k/100k registries), response building, a whole catalog request
//! in process, and registry loading.

mod common;

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sanp_gateway::app::Gateway;
use sanp_gateway::catalog::{document_v2, ok_v2, CatalogFilter};
use sanp_gateway::registry;
use sanp_gateway::settings::Settings;
use sanp_gateway::soap::{self, Envelope, Limits};
use sanp_gateway::upstream::pa_demand::Notice;
use sanp_gateway::xsd::fast::ServiceProof;
use sanp_gateway::xsd::{example, model, Bundle, Contract, Schema};

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn full(now: i64) -> CatalogFilter<'static> {
    CatalogFilter {
        version: 2,
        domain: None,
        category: None,
        fee: None,
        now,
    }
}

fn parsing(c: &mut Criterion) {
    let demand = common::fixture("demand.xml");
    let catalog = common::fixture("catalog.xml");
    let limits = Limits::default();
    let mut g = c.benchmark_group("envelope");
    g.throughput(Throughput::Bytes(demand.len() as u64));
    g.bench_function("parse demandPaymentNotice", |b| {
        b.iter(|| {
            let root = soap::tree::parse(black_box(&demand), &limits).expect("parses");
            Envelope::new(root)
        })
    });
    g.bench_function("parse nodoChiediCatalogoServiziV2", |b| {
        b.iter(|| soap::tree::parse(black_box(&catalog), &limits).expect("parses"))
    });
    g.finish();

    let contract = Contract::load().expect("contract");
    let mut g = c.benchmark_group("validation");
    g.bench_function("nodeForPsp envelope, demandPaymentNotice", |b| {
        b.iter(|| {
            contract
                .node_for_psp
                .validate(black_box(&demand))
                .expect("valid")
        })
    });
    let tree = soap::tree::parse(&demand, &limits).expect("parses");
    g.bench_function("tree proof (xsd::fast), demandPaymentNotice", |b| {
        b.iter(|| assert!(sanp_gateway::xsd::fast::demand_request(black_box(&tree))))
    });
    g.bench_function("nodeForPsp envelope, nodoChiediCatalogoServiziV2", |b| {
        b.iter(|| {
            contract
                .node_for_psp
                .validate(black_box(&catalog))
                .expect("valid")
        })
    });
    // A demand's service data: libxml2 against the service schema, or the schema's tree proof.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("xsd/catalogo-servizi");
    let bundle = Arc::new(Bundle::service_schemas(&dir).expect("service schemas"));
    let car_tax = "TassaAutomobilistica_1_1_0.xsd";
    let data = example::example(&bundle, car_tax).expect("example").xml;
    let schema = Schema::compile(bundle.clone(), car_tax).expect("schema");
    let proof =
        ServiceProof::compile(&model::read(&bundle, car_tax).expect("model")).expect("proof");
    let tree = soap::tree::parse(data.as_bytes(), &limits).expect("parses");
    g.bench_function("service data (car tax), libxml2", |b| {
        b.iter(|| schema.validate(black_box(data.as_bytes())).expect("valid"))
    });
    g.bench_function("tree proof (ServiceProof), service data (car tax)", |b| {
        b.iter(|| assert!(proof.proves(black_box(&tree))))
    });
    g.finish();
}

fn responses(c: &mut Criterion) {
    let notice = Notice {
        fiscal_code: "80000000001".into(),
        notice_number: "301000000000000042".into(),
        amount: "150.00".into(),
        options: "EQ".into(),
        due_date: Some("2026-12-31".into()),
        detail_description: Some("Tassa automobilistica AB345CD".into()),
        payment_description: "Bollo auto 2026".into(),
        fiscal_code_pa: "80000000001".into(),
        company_name: "Regione Demo".into(),
        office_name: None,
    };
    let mut g = c.benchmark_group("response");
    g.bench_function("demandPaymentNoticeResponse OK", |b| {
        b.iter(|| sanp_gateway::respond::demand::ok(black_box(&notice)))
    });
    let demo = registry::load_bytes(&common::fixture("registry.json")).expect("demo registry");
    let doc = document_v2(&demo, &full(now()));
    g.bench_function(
        "nodoChiediCatalogoServiziV2Response OK (demo catalog)",
        |b| b.iter(|| ok_v2(black_box(&doc))),
    );
    g.finish();
}

fn catalogs(c: &mut Criterion) {
    let t = now();
    let demo = registry::load_bytes(&common::fixture("registry.json")).expect("demo registry");
    let mut g = c.benchmark_group("catalog render");
    g.bench_function("demo registry, full", |b| {
        b.iter(|| document_v2(black_box(&demo), &full(t)))
    });
    for (services, subjects) in [(1_000, 10_000), (10_000, 100_000)] {
        let bytes = serde_json::to_vec(&common::large_registry(services, subjects)).expect("json");
        let snap = registry::load_bytes(&bytes).expect("large registry");
        g.throughput(Throughput::Elements(subjects as u64));
        g.sample_size(20);
        g.bench_function(
            format!("{services} services / {subjects} associations, full"),
            |b| b.iter(|| document_v2(black_box(&snap), &full(t))),
        );
        g.bench_function(
            format!("{services} services / {subjects} associations, one EC"),
            |b| {
                let f = CatalogFilter {
                    domain: Some("90000000042"),
                    ..full(t)
                };
                b.iter(|| document_v2(black_box(&snap), &f))
            },
        );
    }
    g.finish();

    let mut g = c.benchmark_group("registry load");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    let bytes = serde_json::to_vec(&common::large_registry(10_000, 100_000)).expect("json");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function(
        "10k services / 100k associations (JSON → snapshot)",
        |b| b.iter(|| registry::load_bytes(black_box(&bytes)).expect("loads")),
    );
    g.finish();
}

/// A whole nodoChiediCatalogoServiziV2 through `handle_soap`, without sockets.
fn whole_request(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("registry.json"),
        serde_json::to_vec(&common::demo_registry(8090)).expect("json"),
    )
    .expect("registry");
    let text = format!(
        "plain_http = true\nregistry = \"registry.json\"\nservice_schema_dir = {:?}\n[admin]\ndisabled = true\n",
        common::repo().join("xsd/catalogo-servizi").display().to_string()
    );
    let settings = Settings::from_toml(&text, dir.path(), "bench").expect("settings");
    let gw = Arc::new(Gateway::build(settings).expect("gateway"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let catalog = common::fixture("catalog.xml");
    let syntax_ko = String::from_utf8(common::fixture("demand.xml"))
        .expect("UTF-8")
        .replace("<idPSP>PSPDEMOXXXX</idPSP>", "<idPSP></idPSP>");
    let mut g = c.benchmark_group("handle_soap");
    g.bench_function("nodoChiediCatalogoServiziV2 OK", |b| {
        b.iter(|| {
            rt.block_on(sanp_gateway::pipeline::handle_soap(
                &gw,
                Some("nodoChiediCatalogoServiziV2"),
                black_box(&catalog),
                None,
                "bench",
            ))
            .expect("served")
        })
    });
    g.bench_function("demandPaymentNotice syntax KO", |b| {
        b.iter(|| {
            rt.block_on(sanp_gateway::pipeline::handle_soap(
                &gw,
                Some("demandPaymentNotice"),
                black_box(syntax_ko.as_bytes()),
                None,
                "bench",
            ))
            .expect("served")
        })
    });
    g.finish();
}

criterion_group!(benches, parsing, responses, catalogs, whole_request);
criterion_main!(benches);
