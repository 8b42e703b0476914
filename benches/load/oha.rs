//! Load runs: oha against one target, with the target's CPU, peak RSS and request counters read
//! around the run.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::pki;
use crate::procs::Proc;
use crate::Options;

#[derive(Debug, Clone, Default)]
pub struct Run {
    pub rps: f64,
    pub p50: f64,
    pub p99: f64,
    pub p999: f64,
    pub requests: f64,
    pub non_200: f64,
    pub errors: f64,
    pub cpu_us_per_req: f64,
    pub peak_rss: f64,
    /// Share of the gateway's answers in the expected outcome / fault code.
    pub expected: f64,
}

/// oha, installed by scripts/bench.sh (`cargo install oha`).
pub fn oha() -> PathBuf {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    for p in [
        std::env::var_os("OHA").map(PathBuf::from),
        Some(home.join(".cargo/bin/oha")),
        Some(PathBuf::from("oha")),
    ]
    .into_iter()
    .flatten()
    {
        if Command::new(&p).arg("--version").output().is_ok() {
            return p;
        }
    }
    panic!("oha not found: run scripts/bench.sh, which installs it (cargo install oha --locked)");
}

pub struct Target<'a> {
    pub url: String,
    pub proc: &'a Proc,
    pub tls: Option<&'a pki::TestPki>,
    /// For the gateway: the `sanp_requests_total` series every answer must fall in.
    pub expect: Option<String>,
}

/// The gateway's `sanp_requests_total` series, read from its admin listener.
pub fn request_counters(admin: &str) -> Vec<(String, f64)> {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(admin) else {
        return Vec::new();
    };
    let _ = s.write_all(b"GET /metrics HTTP/1.0\r\nHost: bench\r\n\r\n");
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
    text.lines()
        .filter(|l| l.starts_with("sanp_requests_total{"))
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            Some((series.to_owned(), value.parse().ok()?))
        })
        .collect()
}

/// Of the requests counted between two readings, the share in `series`.
pub fn share(before: &[(String, f64)], after: &[(String, f64)], series: &str) -> f64 {
    let value = |set: &[(String, f64)], name: &str| {
        set.iter()
            .find(|(s, _)| s == name)
            .map(|(_, v)| *v)
            .unwrap_or(0.0)
    };
    let total = |set: &[(String, f64)]| set.iter().map(|(_, v)| v).sum::<f64>();
    let all = total(after) - total(before);
    if all <= 0.0 {
        return f64::NAN;
    }
    (value(after, series) - value(before, series)) / all
}

/// Runs oha against `target` for `duration` seconds (closed loop at `concurrency`, or at `rate`
/// requests per second) and reads the server's CPU and memory counters around it.
pub fn load(
    target: &Target<'_>,
    body: &Path,
    action: &str,
    opts: &Options,
    rate: Option<f64>,
) -> Run {
    let mut cmd = Command::new(oha());
    cmd.args(["--no-tui", "--output-format", "json", "-m", "POST"])
        .args(["-z", &format!("{}s", opts.duration)])
        .args(["-c", &opts.concurrency.to_string()])
        .args(["-T", "text/xml; charset=UTF-8"])
        .args(["-H", &format!("SOAPAction: \"{action}\"")])
        .arg("-D")
        .arg(body);
    if let Some(r) = rate {
        cmd.args(["-q", &format!("{r:.0}"), "--latency-correction"]);
    }
    if let Some(pki) = target.tls {
        cmd.arg("--cacert").arg(&pki.ca);
        cmd.arg("--cert").arg(&pki.psp_good.cert);
        cmd.arg("--key").arg(&pki.psp_good.key);
    }
    cmd.arg(&target.url);
    let counters_before = target.proc.admin.as_deref().map(request_counters);
    let cpu_before = target.proc.cpu();
    let out = cmd.output().expect("oha runs");
    let cpu = target.proc.cpu() - cpu_before;
    let expected = match (
        &target.expect,
        &counters_before,
        target.proc.admin.as_deref(),
    ) {
        (Some(series), Some(before), Some(admin)) => {
            share(before, &request_counters(admin), series)
        }
        _ => f64::NAN,
    };
    assert!(
        out.status.success(),
        "oha failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "oha JSON: {e}: {}",
            String::from_utf8_lossy(&out.stdout)
                .chars()
                .take(500)
                .collect::<String>()
        )
    });
    let ms = |p: &str| v["latencyPercentiles"][p].as_f64().unwrap_or(f64::NAN) * 1e3;
    let codes = v["statusCodeDistribution"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let ok = codes.get("200").and_then(Value::as_f64).unwrap_or(0.0);
    let all: f64 = codes.values().filter_map(Value::as_f64).sum();
    // Requests still open when the time is up are cut by oha itself: not failures.
    let errors: f64 = v["errorDistribution"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| k.as_str() != "aborted due to deadline")
                .filter_map(|(_, v)| v.as_f64())
                .sum()
        })
        .unwrap_or(0.0);
    Run {
        rps: v["summary"]["requestsPerSec"].as_f64().unwrap_or(0.0),
        p50: ms("p50"),
        p99: ms("p99"),
        p999: ms("p99.9"),
        requests: all,
        non_200: all - ok,
        errors,
        cpu_us_per_req: if all > 0.0 { cpu * 1e6 / all } else { f64::NAN },
        peak_rss: target.proc.peak_rss_mib(),
        expected,
    }
}

/// The run with the median throughput.
pub fn median_run(mut runs: Vec<Run>) -> Run {
    runs.sort_by(|a, b| a.rps.total_cmp(&b.rps));
    let mid = runs.len() / 2;
    runs.swap_remove(mid)
}
