//! The load harness behind BENCHMARKS.md (`scripts/bench.sh`): the release gateway, the sample EC
//! and two baselines (a byte-relaying hyper forwarder and a fixed-body server) on loopback, driven
//! by oha over plain HTTP and mutual TLS; plus in-process figures: allocations per request, RSS
//! with idle keep-alive connections, and a 10k/100k registry's load and catalog render times.
//!
//! The baselines are this same executable re-run with `--role forwarder|static`, so every server
//! under load is its own process with its own CPU and memory counters.
//!
//! Modules: `procs` starts and stops the processes, `servers` are the baselines' roles,
//! `scenarios` the requests measured, `oha` the load runs, `measure` CPU, RSS and allocations,
//! `large` the large registry, `report` writes BENCHMARKS.md.

#[path = "../common/mod.rs"]
mod common;
#[path = "../../tests/it/support/pki.rs"]
#[allow(dead_code)]
mod pki;

mod large;
mod measure;
mod oha;
mod procs;
mod report;
mod scenarios;
mod servers;

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use http::StatusCode;

use crate::large::large_registry;
use crate::measure::{allocations, count_libxml2_allocations, idle_connections};
use crate::oha::{load, median_run, oha, Target};
use crate::procs::{free_port, gateway_bin, spawn, spawn_role, until_listening, Bench, NginxSide};
use crate::report::{write_report, Row};
use crate::scenarios::{capture_upstream_bodies, demand_with_plate, one, Baseline, Scenario};
use crate::servers::run_role;

// ---------------------------------------------------------------------------------------------
// Options.

#[derive(Debug, Clone)]
pub struct Options {
    pub duration: u64,
    pub concurrency: usize,
    pub out: PathBuf,
    pub tls: bool,
    /// Closed-loop runs per target, alternating gateway and baseline; medians are reported.
    pub rounds: usize,
}

fn options() -> Options {
    let mut o = Options {
        duration: 8,
        concurrency: 16,
        out: common::repo().join("BENCHMARKS.md"),
        tls: true,
        rounds: 3,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = || args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--duration" => {
                o.duration = value().parse().expect("--duration seconds");
                i += 1;
            }
            "--concurrency" => {
                o.concurrency = value().parse().expect("--concurrency n");
                i += 1;
            }
            "--out" => {
                o.out = PathBuf::from(value());
                i += 1;
            }
            "--rounds" => {
                o.rounds = value().parse::<usize>().expect("--rounds n").max(1);
                i += 1;
            }
            "--quick" => {
                o.duration = 3;
                o.rounds = 1;
            }
            "--no-tls" => o.tls = false,
            // cargo bench passes --bench; anything else is cargo's business too.
            _ => {}
        }
        i += 1;
    }
    o
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(pos) = args.iter().position(|a| a == "--role") {
        let role = args.get(pos + 1).cloned().unwrap_or_default();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(run_role(&role, &args));
        return;
    }
    count_libxml2_allocations();
    let opts = options();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(orchestrate(opts));
}

async fn orchestrate(opts: Options) {
    let started = Instant::now();
    let oha = oha();
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = pki::TestPki::generate(dir.path());
    let ec_port = free_port();
    let _ec = spawn(
        "sample EC",
        Command::new(gateway_bin())
            .args(["sample-ec", "--listen", &format!("127.0.0.1:{ec_port}")])
            .env("RUST_LOG", "warn"),
    );
    until_listening(ec_port, "sample EC").await;
    let bench = Bench { dir, pki, ec_port };

    let demand = common::fixture("demand.xml");
    let ec_ko = demand_with_plate(sanp_gateway::sample_ec::KO_MARKER);
    let syntax_ko = String::from_utf8(demand.clone())
        .expect("UTF-8")
        .replace("<idPSP>PSPDEMOXXXX</idPSP>", "<idPSP></idPSP>")
        .into_bytes();
    let catalog = common::fixture("catalog.xml");
    let captured = capture_upstream_bodies(
        &bench,
        &[
            ("demandPaymentNotice", demand.clone()),
            ("demandPaymentNotice", ec_ko.clone()),
        ],
    )
    .await;

    // The gateway over the demo registry, plain and mutual TLS.
    let registry = bench.demo_registry("registry.json", ec_port);
    let gw_port = free_port();
    let gw = bench.gateway("gateway", gw_port, false, &registry);
    until_listening(gw_port, "gateway").await;
    let gw_url = format!("http://127.0.0.1:{gw_port}/node-for-psp/v1");

    // The static baselines answer exactly what the gateway answers.
    let (s, catalog_answer) = one(&gw_url, "nodoChiediCatalogoServiziV2", &catalog).await;
    assert!(s == StatusCode::OK && catalog_answer.contains("<outcome>OK</outcome>"));
    let (_, syntax_answer) = one(&gw_url, "demandPaymentNotice", &syntax_ko).await;
    assert!(
        syntax_answer.contains("PPT_SINTASSI_EXTRAXSD"),
        "{syntax_answer}"
    );

    let scenarios = vec![
        Scenario {
            name: "catalog V2",
            action: "nodoChiediCatalogoServiziV2",
            gateway_body: catalog.clone(),
            baseline: Baseline::Static,
            baseline_body: catalog_answer.clone().into_bytes(),
            expect: "<outcome>OK</outcome>",
            baseline_expect: "<outcome>OK</outcome>",
        },
        Scenario {
            name: "demand OK",
            action: "demandPaymentNotice",
            gateway_body: demand.clone(),
            baseline: Baseline::Forwarder,
            baseline_body: captured[0].clone(),
            expect: "<outcome>OK</outcome>",
            baseline_expect: "<outcome>OK</outcome>",
        },
        Scenario {
            name: "demand syntax KO",
            action: "demandPaymentNotice",
            gateway_body: syntax_ko.clone(),
            baseline: Baseline::Static,
            baseline_body: syntax_answer.clone().into_bytes(),
            expect: "PPT_SINTASSI_EXTRAXSD",
            baseline_expect: "PPT_SINTASSI_EXTRAXSD",
        },
        Scenario {
            name: "demand EC KO",
            action: "demandPaymentNotice",
            gateway_body: ec_ko.clone(),
            baseline: Baseline::Forwarder,
            baseline_body: captured[1].clone(),
            expect: "PPT_ERRORE_EMESSO_DA_PAA",
            baseline_expect: "<outcome>KO</outcome>",
        },
    ];

    let mut md = String::new();
    let mut rows = Vec::new();
    let transports: &[bool] = if opts.tls { &[false, true] } else { &[false] };
    for &tls in transports {
        let mtls = if tls {
            let port = free_port();
            let p = bench.gateway("gateway-mtls", port, true, &registry);
            until_listening(port, "gateway (mTLS)").await;
            Some((p, port))
        } else {
            None
        };
        let (gw_here, scheme_host) = match &mtls {
            Some((p, port)) => (p, format!("https://localhost:{port}")),
            None => (&gw, format!("http://127.0.0.1:{gw_port}")),
        };
        for sc in &scenarios {
            // The baseline for this scenario, in its own process.
            let port = free_port();
            let body_file = bench.path(&format!("{}-baseline.xml", sc.name.replace(' ', "_")));
            std::fs::write(&body_file, &sc.baseline_body).expect("body");
            let mut extra = match sc.baseline {
                Baseline::Forwarder => vec![
                    "--upstream".to_owned(),
                    format!("http://127.0.0.1:{ec_port}"),
                ],
                Baseline::Static => vec!["--body".to_owned(), body_file.display().to_string()],
            };
            if tls {
                extra.extend(bench.tls_args());
            }
            let base = spawn_role(sc.baseline.label(), sc.baseline.label(), port, &extra);
            until_listening(port, sc.baseline.label()).await;
            // nginx doing the baseline's job: relay to the EC, or answer the same bytes.
            let nginx_port = free_port();
            let side = match sc.baseline {
                Baseline::Forwarder => NginxSide::Proxy(ec_port),
                Baseline::Static => NginxSide::Static(&sc.baseline_body),
            };
            let nginx = bench.nginx(
                &format!("nginx-{}-{}", sc.name.replace(' ', "_"), u8::from(tls)),
                nginx_port,
                tls,
                &side,
            );
            until_listening(nginx_port, "nginx").await;
            let nginx_url = if tls {
                format!("https://localhost:{nginx_port}/pagopa/paForNode")
            } else {
                format!("http://127.0.0.1:{nginx_port}/pagopa/paForNode")
            };
            let base_url = if tls {
                format!("https://localhost:{port}/pagopa/paForNode")
            } else {
                format!("http://127.0.0.1:{port}/pagopa/paForNode")
            };
            // The baseline's request: what the PSP sends (static) or what the EC receives (forwarder).
            let base_req = bench.path(&format!(
                "{}-baseline-request.xml",
                sc.name.replace(' ', "_")
            ));
            let base_action = match sc.baseline {
                Baseline::Forwarder => "paDemandPaymentNotice",
                Baseline::Static => sc.action,
            };
            std::fs::write(
                &base_req,
                match sc.baseline {
                    Baseline::Forwarder => &sc.baseline_body,
                    Baseline::Static => &sc.gateway_body,
                },
            )
            .expect("request");
            if !tls {
                let (s, answer) = one(
                    &base_url,
                    base_action,
                    &std::fs::read(&base_req).expect("req"),
                )
                .await;
                assert!(
                    s == StatusCode::OK && answer.contains(sc.baseline_expect),
                    "baseline check {}: {answer}",
                    sc.name
                );
                let (s, answer) = one(&gw_url, sc.action, &sc.gateway_body).await;
                assert!(
                    s == StatusCode::OK && answer.contains(sc.expect),
                    "gateway check {}: {answer}",
                    sc.name
                );
            }
            let gw_body = bench.path(&format!("{}-gateway.xml", sc.name.replace(' ', "_")));
            std::fs::write(&gw_body, &sc.gateway_body).expect("body");
            let pki_ref = tls.then_some(&bench.pki);
            let (outcome, fault) = match sc.expect {
                "<outcome>OK</outcome>" => ("OK", ""),
                code => ("KO", code),
            };
            let gw_target = Target {
                url: format!("{scheme_host}/node-for-psp/v1"),
                proc: gw_here,
                tls: pki_ref,
                expect: Some(format!(
                    "sanp_requests_total{{operation=\"{}\",outcome=\"{outcome}\",fault_code=\"{fault}\"}}",
                    sc.action
                )),
            };
            let base_target = Target {
                url: base_url.clone(),
                proc: &base,
                tls: pki_ref,
                expect: None,
            };
            let nginx_target = Target {
                url: nginx_url.clone(),
                proc: &nginx,
                tls: pki_ref,
                expect: None,
            };
            if !tls {
                let (s, answer) = one(
                    &nginx_url,
                    base_action,
                    &std::fs::read(&base_req).expect("req"),
                )
                .await;
                assert!(
                    s == StatusCode::OK && answer.contains(sc.baseline_expect),
                    "nginx check {}: {answer}",
                    sc.name
                );
            }
            // Warm both (connections, per-thread schema copies), then measure.
            let warm = Options {
                duration: 1,
                ..opts.clone()
            };
            let _ = load(&gw_target, &gw_body, sc.action, &warm, None);
            let _ = load(&base_target, &base_req, base_action, &warm, None);
            let _ = load(&nginx_target, &base_req, base_action, &warm, None);
            // Alternating rounds, so a slow spell of the shared machine hits both sides.
            let mut gs = Vec::new();
            let mut bs = Vec::new();
            let mut ns = Vec::new();
            for _ in 0..opts.rounds {
                gs.push(load(&gw_target, &gw_body, sc.action, &opts, None));
                bs.push(load(&base_target, &base_req, base_action, &opts, None));
                ns.push(load(&nginx_target, &base_req, base_action, &opts, None));
            }
            let (g, b, n) = (median_run(gs), median_run(bs), median_run(ns));
            // Latency at half the gateway's maximum, for both.
            // Twice as long as a closed-loop round: the connections' TLS handshakes at the start
            // of a run queue the first requests, and with latency correction that start-up
            // would otherwise weigh on p99 (for the baselines as much as for the gateway).
            let rate = (g.rps / 2.0).max(100.0);
            let steady = Options {
                duration: opts.duration * 2,
                ..opts.clone()
            };
            let gr = load(&gw_target, &gw_body, sc.action, &steady, Some(rate));
            let br = load(&base_target, &base_req, base_action, &steady, Some(rate));
            let nr = load(&nginx_target, &base_req, base_action, &steady, Some(rate));
            eprintln!(
                "{:<18} {:<4} gateway {:>8.0} req/s  {} {:>8.0} req/s  ratio {:.2}  nginx {:>8.0} req/s  ratio {:.2}  p99 at {:.0}/s: {:.2} vs {:.2} / nginx {:.2} ms",
                sc.name,
                if tls { "mTLS" } else { "HTTP" },
                g.rps,
                sc.baseline.label(),
                b.rps,
                g.rps / b.rps,
                n.rps,
                g.rps / n.rps,
                rate,
                gr.p99,
                br.p99,
                nr.p99
            );
            for (what, r) in [("closed loop", &g), ("fixed rate", &gr)] {
                if r.expected.is_nan() || r.expected < 1.0 {
                    eprintln!(
                        "WARNING {} {what}: only {:.2}% of the gateway's answers were {}",
                        sc.name,
                        r.expected * 100.0,
                        sc.expect
                    );
                }
            }
            rows.push(Row {
                name: sc.name,
                tls,
                baseline: sc.baseline,
                gateway: g,
                base: b,
                nginx: n,
                rate,
                gateway_at_rate: gr,
                base_at_rate: br,
                nginx_at_rate: nr,
            });
            drop(base);
            drop(nginx);
        }
    }
    let _ = oha;

    // Allocations per request, in process.
    let allocs = allocations(&bench, &scenarios).await;
    // RSS with 1,000 idle keep-alive connections.
    let idle = idle_connections(&gw, gw_port, &catalog, 1_000).await;
    // The large registry.
    let large = large_registry(&bench);

    write_report(
        &opts,
        &mut md,
        &rows,
        &allocs,
        &idle,
        &large,
        started.elapsed(),
    );
    std::fs::write(&opts.out, &md).expect("BENCHMARKS.md");
    eprintln!("wrote {}", opts.out.display());
}
