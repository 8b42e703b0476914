//! BENCHMARKS.md: the machine, the method and every figure.

use std::fmt::Write as _;
use std::process::Command;
use std::time::Duration;

use crate::large::Large;
use crate::measure::{AllocRow, Idle};
use crate::oha::{oha, Run};
use crate::scenarios::Baseline;
use crate::Options;

/// One scenario and transport: gateway, baseline and nginx in closed loop; the fixed rate; the
/// three at that rate.
pub struct Row {
    pub name: &'static str,
    pub tls: bool,
    pub baseline: Baseline,
    pub gateway: Run,
    pub base: Run,
    pub nginx: Run,
    pub rate: f64,
    pub gateway_at_rate: Run,
    pub base_at_rate: Run,
    pub nginx_at_rate: Run,
}

pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map(|k| format!("{:.0} GiB", k / 1048576.0))
        .unwrap_or_default();
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let rustc = Command::new("rustc")
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .unwrap_or_default();
    let oha = Command::new(oha())
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .unwrap_or_default();
    format!(
        "{cpu}, {cores} cores, {mem}, Linux {}, {}, {}",
        kernel.trim(),
        rustc.trim(),
        oha.trim()
    )
}

pub fn write_report(
    opts: &Options,
    md: &mut String,
    rows: &[Row],
    allocs: &[AllocRow],
    idle: &Idle,
    large: &Large,
    took: Duration,
) {
    let _ = writeln!(md, "# Benchmarks\n");
    let _ = writeln!(
        md,
        "Written by `scripts/bench.sh` (the load harness `benches/load/`) in {:.0} s. Do not edit by hand: run it again.\n",
        took.as_secs_f64()
    );
    let _ = writeln!(md, "- Machine: {}", machine());
    let _ = writeln!(
        md,
        "- Every server is its own process on loopback: the release gateway (`sanp-gateway serve`, log level info to /dev/null), the sample EC (`sanp-gateway sample-ec`), and per scenario one baseline (`benches/load/ --role forwarder|static`) and nginx (see \"Against nginx\"). oha runs on the same 2 cores. The EC behind the gateway, the forwarder and nginx is the sample EC, which validates every request and mints a notice: it caps every relay at what it serves (issue #14 measured with an nginx EC answering fixed bytes, so its ratios are not these)."
    );
    let _ = writeln!(
        md,
        "- Closed loop: `oha --no-tui --output-format json -m POST -z {}s -c {} -T 'text/xml; charset=UTF-8' -H 'SOAPAction: \"<op>\"' -D <body> <url>` (mTLS adds `--cacert --cert --key`), {} rounds alternating gateway and baseline, the median round reported. Fixed rate: one run each, twice as long, with `-q <half the gateway's closed-loop req/s> --latency-correction` (the TLS handshakes of a run's first connections still weigh on the mTLS p99 of both sides). Each target gets a 1 s warm-up first.",
        opts.duration, opts.concurrency, opts.rounds
    );
    let _ = writeln!(
        md,
        "- Baselines: **forwarder** = a minimal hyper server that relays the request bytes to the same sample EC and the answer back, parsing nothing; it is sent the exact `paDemandPaymentNotice` bytes the gateway sends the EC (captured through a tap), so the EC does the same work. **static** = a hyper server that reads the request and answers the gateway's own response bytes. For mTLS the baselines use the gateway's certificate and require the same client certificate.\n"
    );
    let _ = writeln!(md, "## Throughput and latency\n");
    let _ = writeln!(
        md,
        "| scenario | transport | gateway req/s | baseline | baseline req/s | ratio | gateway p50 / p99 / p99.9 ms | baseline p50 / p99 / p99.9 ms | gateway CPU µs/req | baseline CPU µs/req | gateway peak RSS MiB | requests (gateway + baseline) | non-200 + errors | gateway answers as expected |"
    );
    let _ = writeln!(
        md,
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    );
    for Row {
        name,
        tls,
        baseline: base,
        gateway: g,
        base: b,
        ..
    } in rows
    {
        let _ = writeln!(
            md,
            "| {name} | {} | {:.0} | {} | {:.0} | **{:.2}** | {:.2} / {:.2} / {:.2} | {:.2} / {:.2} / {:.2} | {:.0} | {:.0} | {:.1} | {:.0} | {:.0} | {:.2}% |",
            if *tls { "mTLS" } else { "HTTP" },
            g.rps,
            base.label(),
            b.rps,
            g.rps / b.rps,
            g.p50,
            g.p99,
            g.p999,
            b.p50,
            b.p99,
            b.p999,
            g.cpu_us_per_req,
            b.cpu_us_per_req,
            g.peak_rss,
            g.requests + b.requests,
            g.non_200 + g.errors + b.non_200 + b.errors,
            g.expected * 100.0,
        );
    }
    let _ = writeln!(
        md,
        "\n## Added latency at half the gateway's maximum throughput\n"
    );
    let _ = writeln!(
        md,
        "| scenario | transport | rate req/s | gateway p50 / p99 ms | baseline p50 / p99 ms | added p99 ms |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|");
    for Row {
        name,
        tls,
        rate,
        gateway_at_rate: gr,
        base_at_rate: br,
        ..
    } in rows
    {
        let _ = writeln!(
            md,
            "| {name} | {} | {:.0} | {:.2} / {:.2} | {:.2} / {:.2} | **{:.2}** |",
            if *tls { "mTLS" } else { "HTTP" },
            rate,
            gr.p50,
            gr.p99,
            br.p50,
            br.p99,
            gr.p99 - br.p99
        );
    }
    let _ = writeln!(md, "\n## Against nginx\n");
    let _ = writeln!(
        md,
        "nginx (`nginx-light` from Debian, master and 2 workers, `access_log off`, keep-alive to the EC) is the highest reference on this machine: for the demand scenarios it relays the gateway's own `paDemandPaymentNotice` bytes to the same sample EC (`proxy_pass`), for the others it serves the gateway's own response bytes from a file (a POST's 405 turned into the file's 200). Same oha runs, rounds alternating with the gateway; its CPU is the sum over its processes. Issue #14's targets: demand OK and EC KO ≥ 0.45, syntax KO ≥ 0.5, catalog V2 ≥ 0.9, CPU per demand ≤ 40 µs, added p99 at half the gateway's maximum ≤ 1 ms.\n"
    );
    let _ = writeln!(
        md,
        "| scenario | transport | nginx | nginx req/s | gateway req/s | ratio | nginx CPU µs/req | gateway CPU µs/req | at half the gateway's max: nginx p99 / gateway p99 ms | added p99 ms |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|---|---|---|---|");
    for r in rows {
        let mode = match r.baseline {
            Baseline::Forwarder => "proxy",
            Baseline::Static => "static",
        };
        let _ = writeln!(
            md,
            "| {} | {} | {mode} | {:.0} | {:.0} | **{:.2}** | {:.0} | {:.0} | {:.2} / {:.2} | **{:.2}** |",
            r.name,
            if r.tls { "mTLS" } else { "HTTP" },
            r.nginx.rps,
            r.gateway.rps,
            r.gateway.rps / r.nginx.rps,
            r.nginx.cpu_us_per_req,
            r.gateway.cpu_us_per_req,
            r.nginx_at_rate.p99,
            r.gateway_at_rate.p99,
            r.gateway_at_rate.p99 - r.nginx_at_rate.p99
        );
    }
    let _ = writeln!(
        md,
        "\n## Allocations per request (gateway side, HTTP server included)\n"
    );
    let _ = writeln!(
        md,
        "Counted on the thread that runs an in-process gateway (current-thread runtime, real sockets; the client and the EC are elsewhere), over 2,000 requests after 200 of warm-up: Rust allocations through the global allocator, libxml2's through `xmlMemSetup` hooks.\n"
    );
    let _ = writeln!(
        md,
        "| scenario | Rust allocations | Rust bytes | libxml2 allocations | libxml2 bytes |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|");
    for a in allocs {
        let _ = writeln!(
            md,
            "| {} | {:.0} | {:.0} | {:.0} | {:.0} |",
            a.name, a.allocs, a.bytes, a.c_allocs, a.c_bytes
        );
    }
    let _ = writeln!(md, "\n## Memory with idle keep-alive connections\n");
    let _ = writeln!(
        md,
        "Plain-HTTP gateway after the load runs: RSS {:.1} MiB before, **{:.1} MiB** with {} keep-alive connections open, each served one catalog request and then idle.",
        idle.before, idle.after, idle.connections
    );
    let _ = writeln!(md, "\n## Large registry\n");
    let _ = writeln!(
        md,
        "Generated ConfigDataV1: {} services, {} subject-services, {} ECs, {:.1} MiB of JSON.\n",
        large.services,
        large.subjects,
        large.subjects / 10,
        large.json_mib
    );
    let _ = writeln!(md, "| measure | median |");
    let _ = writeln!(md, "|---|---|");
    let _ = writeln!(
        md,
        "| load: file → validated snapshot + service schemas | **{:.0} ms** |",
        large.load_ms
    );
    let _ = writeln!(
        md,
        "| full catalog render ({:.1} MiB document) | **{:.1} ms** |",
        large.document_mib, large.render_ms
    );
    let _ = writeln!(
        md,
        "| catalog render filtered to one EC | {:.2} ms |",
        large.render_one_ec_ms
    );
    let _ = writeln!(
        md,
        "| full catalog response (base64 + envelope) | {:.1} ms |",
        large.response_ms
    );
}
