//! Scale-out over real processes: two gateway replicas behind nginx running the example configs in
//! `deploy/nginx/`, one shared registry file reloaded under load (HTTP), and mutual TLS passed
//! through nginx's stream proxy to both replicas.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support;
use crate::support::pki::TestPki;
use crate::support::{
    conformance_registry, point_stations_at, tls_client_config, CatalogReq, Demand,
};
use crate::support::{repo, TestGateway};

/// nginx from Debian's packages, or `None` (with the reason) when this machine lacks it.
/// `SANP_REQUIRE_NGINX=1` (CI) turns a missing nginx into a failure instead of a skip.
fn nginx(stream: bool) -> Option<(PathBuf, Option<PathBuf>)> {
    let bin = ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists());
    let module = Path::new("/usr/lib/nginx/modules/ngx_stream_module.so");
    let missing = match (&bin, stream && !module.exists()) {
        (None, _) => Some("nginx is not installed (scripts/deps.sh installs nginx-light)"),
        (Some(_), true) => {
            Some("nginx's stream module is missing (scripts/deps.sh installs libnginx-mod-stream)")
        }
        _ => None,
    };
    if let Some(why) = missing {
        assert!(
            std::env::var_os("SANP_REQUIRE_NGINX").is_none(),
            "SANP_REQUIRE_NGINX is set but {why}"
        );
        eprintln!("SKIPPED: {why}");
        return None;
    }
    let bin = bin?;
    Some((bin, stream.then(|| module.to_path_buf())))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// A child process killed (SIGTERM, then reaped) when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until `proc` accepts connections on `port`; fails at once, with its exit status and
/// `log` (if any), when the process has died instead.
async fn until_listening(port: u16, what: &str, proc: &mut Proc, log: Option<&Path>) {
    for _ in 0..400 {
        if let Ok(Some(status)) = proc.0.try_wait() {
            let log = log
                .and_then(|p| std::fs::read_to_string(p).ok())
                .unwrap_or_default();
            panic!("{what} exited ({status}) before listening on {port}: {log}");
        }
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{what} never listened on {port}");
}

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_sanp-gateway")
}

fn sample_ec(port: u16) -> Proc {
    Proc(
        Command::new(bin())
            .args(["sample-ec", "--listen", &format!("127.0.0.1:{port}")])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("sample EC starts"),
    )
}

struct Replica {
    _proc: Proc,
    port: u16,
    admin: String,
}

/// A `sanp-gateway serve` process reading the shared `registry` file.
async fn replica(dir: &Path, name: &str, registry: &Path, listener: &str) -> Replica {
    let port = free_port();
    let admin_port = free_port();
    let settings = format!(
        "listen = \"127.0.0.1:{port}\"\nregistry = {:?}\nservice_schema_dir = {:?}\n\
         registry_poll_interval_ms = 100\n{listener}\n[admin]\nlisten = \"127.0.0.1:{admin_port}\"\n",
        registry.display().to_string(),
        repo().join("xsd/catalogo-servizi").display().to_string(),
    );
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, settings).expect("replica settings");
    let mut proc = Proc(
        Command::new(bin())
            .args(["serve", "--config"])
            .arg(&path)
            .env("RUST_LOG", "warn")
            .spawn()
            .expect("replica starts"),
    );
    until_listening(port, name, &mut proc, None).await;
    let admin = format!("http://127.0.0.1:{admin_port}");
    until_listening(admin_port, name, &mut proc, None).await;
    Replica {
        _proc: proc,
        port,
        admin,
    }
}

/// nginx running `deploy/nginx/<file>` with the example ports rewritten to the replicas' ones.
fn start_nginx(
    dir: &Path,
    (bin, stream_module): &(PathBuf, Option<PathBuf>),
    file: &str,
    rewrites: &[(&str, String)],
) -> Proc {
    let mut site = support::read(repo().join("deploy/nginx").join(file));
    for (from, to) in rewrites {
        assert!(
            site.contains(from),
            "deploy/nginx/{file} no longer holds {from:?}"
        );
        site = site.replace(from, to);
    }
    std::fs::write(dir.join(file), site).expect("site");
    let d = dir.display();
    let (load, context) = match stream_module {
        Some(m) => (
            format!("load_module {};", m.display()),
            format!("stream {{ include {d}/{file}; }}"),
        ),
        None => (
            String::new(),
            format!(
                "http {{ access_log off; client_body_temp_path {d}/body; proxy_temp_path {d}/proxy; \
                 fastcgi_temp_path {d}/fcgi; uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi; \
                 include {d}/{file}; }}"
            ),
        ),
    };
    let conf = format!(
        "{load}\ndaemon off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
         events {{ worker_connections 1024; }}\n{context}\n"
    );
    std::fs::write(dir.join("nginx.conf"), conf).expect("nginx.conf");
    Proc(
        Command::new(bin)
            .arg("-p")
            .arg(dir)
            .arg("-e")
            .arg(dir.join("error.log"))
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .spawn()
            .expect("nginx starts"),
    )
}

/// A directory the nginx workers (another user when the tests run as root) can enter.
fn shared_dir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    dir
}

/// What both tests share: a folder the nginx workers can read, the sample EC, and the registry
/// file every replica reads.
struct Shared {
    dir: tempfile::TempDir,
    _ec: Proc,
    registry: Value,
    registry_path: PathBuf,
}

async fn shared() -> Shared {
    let dir = shared_dir();
    let ec_port = free_port();
    let mut ec = sample_ec(ec_port);
    until_listening(ec_port, "sample EC", &mut ec, None).await;
    let mut registry = conformance_registry();
    point_stations_at(&mut registry, ec_port);
    let registry_path = dir.path().join("registry.json");
    write_atomically(&registry_path, &registry);
    Shared {
        dir,
        _ec: ec,
        registry,
        registry_path,
    }
}

fn write_atomically(path: &Path, registry: &Value) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, serde_json::to_vec(registry).expect("json")).expect("write");
    std::fs::rename(&tmp, path).expect("rename");
}

async fn metric_of(client: &TestGateway, admin: &str, series: &str) -> Option<String> {
    let text = client.get_url(&format!("{admin}/metrics")).await.body;
    text.lines()
        .find(|l| l.starts_with(series))
        .map(str::to_owned)
}

struct Sample {
    sent: Instant,
    at: Instant,
    latency: Duration,
    /// `None` when the request failed (transport error, non-200, or not outcome OK).
    version: Option<String>,
    upstream: String,
    failure: Option<String>,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

/// Two replicas share one registry file behind nginx (deploy/nginx/sanp-gateway.conf). Under a
/// steady load of demands and catalogs a new registry version is written: no request fails,
/// and afterwards both replicas answer with the new snapshot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_behind_nginx_reload_under_load_without_failures() {
    let _machine = support::serial::machine().await;
    let Some(nginx_bin) = nginx(false) else {
        return;
    };
    let Shared {
        dir,
        _ec,
        registry,
        registry_path,
    } = shared().await;
    let r1 = replica(dir.path(), "replica-1", &registry_path, "plain_http = true").await;
    let r2 = replica(dir.path(), "replica-2", &registry_path, "plain_http = true").await;
    let lb_port = free_port();
    // Test-only: nginx names the replica that answered, to attribute each answer.
    let served_by =
        "proxy_pass http://sanp_gateway;\n        add_header X-Upstream $upstream_addr always;";
    let mut nginx = start_nginx(
        dir.path(),
        &nginx_bin,
        "sanp-gateway.conf",
        &[
            ("127.0.0.1:8081", format!("127.0.0.1:{}", r1.port)),
            ("127.0.0.1:8082", format!("127.0.0.1:{}", r2.port)),
            ("listen 8080;", format!("listen 127.0.0.1:{lb_port};")),
            ("proxy_pass http://sanp_gateway;", served_by.to_owned()),
        ],
    );
    until_listening(
        lb_port,
        "nginx",
        &mut nginx,
        Some(&dir.path().join("error.log")),
    )
    .await;
    let lb = format!("http://127.0.0.1:{lb_port}");
    let old = registry["version"].as_str().expect("version").to_owned();
    let new = "1700000000000009999".to_owned();

    let stop = Arc::new(AtomicBool::new(false));
    let samples = Arc::new(Mutex::new(Vec::<Sample>::new()));
    let started = Instant::now();
    let mut workers = Vec::new();
    for w in 0..8 {
        let client = TestGateway::client_for(&lb);
        let (stop, samples) = (stop.clone(), samples.clone());
        workers.push(tokio::spawn(async move {
            let demand = Demand::default().xml();
            let catalog = CatalogReq::default().xml();
            let mut i = w;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let (action, body) = if i % 2 == 0 {
                    ("demandPaymentNotice", &demand)
                } else {
                    ("nodoChiediCatalogoServiziV2", &catalog)
                };
                let t = Instant::now();
                let r = client.try_post("/node-for-psp/v1", action, body).await;
                let latency = t.elapsed();
                let sample = match r {
                    Ok(a) if a.status == 200 && a.body.contains("<outcome>OK</outcome>") => {
                        Sample {
                            sent: t,
                            at: Instant::now(),
                            latency,
                            version: a.header("x-registry-version").map(str::to_owned),
                            upstream: a.header("x-upstream").unwrap_or("").to_owned(),
                            failure: None,
                        }
                    }
                    Ok(a) => Sample {
                        sent: t,
                        at: Instant::now(),
                        latency,
                        version: None,
                        upstream: a.header("x-upstream").unwrap_or("").to_owned(),
                        failure: Some(format!("{action}: HTTP {}: {}", a.status, a.body)),
                    },
                    Err(e) => Sample {
                        sent: t,
                        at: Instant::now(),
                        latency,
                        version: None,
                        upstream: String::new(),
                        failure: Some(format!("{action}: {e}")),
                    },
                };
                samples.lock().expect("samples").push(sample);
            }
        }));
    }

    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut next = registry.clone();
    next["version"] = Value::from(new.clone());
    let written = Instant::now();
    write_atomically(&registry_path, &next);
    // Both replicas on the new version, as seen in the answers themselves.
    let a1 = format!("127.0.0.1:{}", r1.port);
    let a2 = format!("127.0.0.1:{}", r2.port);
    let served_new =
        |upstream: &str| {
            samples.lock().expect("samples").iter().any(|s| {
                s.at > written && s.upstream == upstream && s.version.as_deref() == Some(&new)
            })
        };
    let deadline = Instant::now() + Duration::from_secs(10);
    while !(served_new(&a1) && served_new(&a2)) {
        assert!(
            Instant::now() < deadline,
            "both replicas never served {new}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let converged = written.elapsed();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.expect("worker");
    }
    let elapsed = started.elapsed();

    let samples = std::mem::take(&mut *samples.lock().expect("samples"));
    let failures: Vec<&String> = samples.iter().filter_map(|s| s.failure.as_ref()).collect();
    assert!(
        failures.is_empty(),
        "{} failed, first: {:?}",
        failures.len(),
        failures.first()
    );
    let count = |upstream: &str, version: &str| {
        samples
            .iter()
            .filter(|s| s.upstream == upstream && s.version.as_deref() == Some(version))
            .count()
    };
    // Per replica the switch is atomic: a request sent after that replica's first new answer
    // was received never sees the old snapshot.
    for a in [&a1, &a2] {
        let first_new = samples
            .iter()
            .filter(|s| &s.upstream == a && s.version.as_deref() == Some(&new))
            .map(|s| s.at)
            .min()
            .expect("new answers");
        let stale = samples
            .iter()
            .filter(|s| {
                &s.upstream == a && s.sent > first_new && s.version.as_deref() == Some(&old)
            })
            .count();
        assert_eq!(
            stale, 0,
            "{a} answered with the old snapshot after switching"
        );
    }
    for a in [&a1, &a2] {
        assert!(
            count(a, &old) > 0 && count(a, &new) > 0,
            "{a} served both versions"
        );
    }
    let client = TestGateway::client_for(&lb);
    for r in [&r1, &r2] {
        let info = metric_of(&client, &r.admin, "sanp_registry_info").await;
        assert_eq!(
            info,
            Some(format!("sanp_registry_info{{version=\"{new}\"}} 1"))
        );
        let reloads = metric_of(
            &client,
            &r.admin,
            "sanp_reloads_total{what=\"registry\",source=\"file\",result=\"ok\"}",
        )
        .await;
        assert!(
            reloads.is_some_and(|l| l.ends_with(" 1")),
            "one file reload on {}",
            r.admin
        );
    }

    let mut latencies: Vec<Duration> = samples.iter().map(|s| s.latency).collect();
    latencies.sort();
    eprintln!(
        "scale: {} requests in {:.2} s ({:.0} req/s) through nginx to 2 replicas, 0 failed; \
         replica 1 {} old + {} new, replica 2 {} old + {} new; both on the new snapshot {} ms \
         after the file was written; latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        samples.len(),
        elapsed.as_secs_f64(),
        samples.len() as f64 / elapsed.as_secs_f64(),
        count(&a1, &old),
        count(&a1, &new),
        count(&a2, &old),
        count(&a2, &new),
        converged.as_millis(),
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
}

/// Mutual TLS through nginx's stream proxy (deploy/nginx/sanp-gateway-stream.conf): TLS ends at
/// the replicas, so both see the PSP's certificate and apply the binding; a PSP certificate bound
/// to another broker is refused by whichever replica takes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_passes_through_the_stream_proxy_to_both_replicas() {
    let _machine = support::serial::machine().await;
    let Some(nginx_bin) = nginx(true) else {
        return;
    };
    let Shared {
        dir,
        _ec,
        registry_path,
        ..
    } = shared().await;
    let pki = TestPki::generate(dir.path());
    let tls = format!(
        "[tls]\ncert_file = {:?}\nkey_file = {:?}\nclient_ca_file = {:?}\n\
         [[psp_bindings]]\nbroker = \"BROKER_OK\"\nsha256 = [\"{}\"]\n",
        pki.server.cert.display().to_string(),
        pki.server.key.display().to_string(),
        pki.ca.display().to_string(),
        pki.psp_good.fingerprint(),
    );
    let r1 = replica(dir.path(), "replica-1", &registry_path, &tls).await;
    let r2 = replica(dir.path(), "replica-2", &registry_path, &tls).await;
    let lb_port = free_port();
    let mut nginx = start_nginx(
        dir.path(),
        &nginx_bin,
        "sanp-gateway-stream.conf",
        &[
            ("127.0.0.1:8443", format!("127.0.0.1:{}", r1.port)),
            ("127.0.0.1:8444", format!("127.0.0.1:{}", r2.port)),
            ("listen 443;", format!("listen 127.0.0.1:{lb_port};")),
        ],
    );
    until_listening(
        lb_port,
        "nginx",
        &mut nginx,
        Some(&dir.path().join("error.log")),
    )
    .await;
    let lb = format!("https://localhost:{lb_port}");
    let good = TestGateway::client_for(&lb)
        .with_client(tls_client_config(Some(&pki.ca), Some(&pki.psp_good)));
    let other = TestGateway::client_for(&lb).with_client(tls_client_config(
        Some(&pki.ca),
        Some(&pki.psp_other_broker),
    ));
    for _ in 0..10 {
        // A fresh connection each time, so least_conn spreads them over both replicas.
        let good = good.with_client(tls_client_config(Some(&pki.ca), Some(&pki.psp_good)));
        assert_eq!(good.demand(&Demand::default().xml()).await.outcome, "OK");
        let refused = other.with_client(tls_client_config(
            Some(&pki.ca),
            Some(&pki.psp_other_broker),
        ));
        assert_eq!(
            refused.demand(&Demand::default().xml()).await.fault().code,
            "PPT_AUTORIZZAZIONE"
        );
    }
    // Both replicas took part; together they answered every demand.
    let plain = TestGateway::client_for("http://127.0.0.1:1");
    let mut served = Vec::new();
    for r in [&r1, &r2] {
        let text = plain.get_url(&format!("{}/metrics", r.admin)).await.body;
        let n: f64 = text
            .lines()
            .filter(|l| l.starts_with("sanp_requests_total{operation=\"demandPaymentNotice\""))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum();
        served.push(n);
    }
    assert!(
        served.iter().all(|&n| n > 0.0),
        "both replicas served: {served:?}"
    );
    assert_eq!(served.iter().sum::<f64>(), 20.0);
}
