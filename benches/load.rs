//! The load harness behind BENCHMARKS.md (`scripts/bench.sh`): the release gateway, the sample EC
//! and two baselines (a byte-relaying hyper forwarder and a fixed-body server) on loopback, driven
//! by oha over plain HTTP and mutual TLS; plus in-process figures: allocations per request, RSS
//! with idle keep-alive connections, and a 10k/100k registry's load and catalog render times.
//!
//! The baselines are this same executable re-run with `--role forwarder|static`, so every server
//! under load is its own process with its own CPU and memory counters.

mod common;
#[path = "../tests/support/pki.rs"]
#[allow(dead_code)]
mod pki;

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

// ---------------------------------------------------------------------------------------------
// Allocation counting: only threads that opt in are counted (the in-process gateway's thread).

struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static ALLOC_BYTES: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static COUNT_HERE: Cell<bool> = const { Cell::new(false) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNT_HERE.try_with(Cell::get).unwrap_or(false) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
            ALLOC_BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        }
        // SAFETY: forwarded unchanged to mimalloc, the gateway's allocator.
        unsafe { mimalloc::MiMalloc.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to mimalloc.
        unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNT_HERE.try_with(Cell::get).unwrap_or(false) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
            ALLOC_BYTES.fetch_add(new_size as u64, Ordering::Relaxed);
        }
        // SAFETY: forwarded unchanged to mimalloc.
        unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

// libxml2 allocates through its own hooks (C malloc): counted too, on the same threads.
static C_ALLOCS: AtomicU64 = AtomicU64::new(0);
static C_ALLOC_BYTES: AtomicU64 = AtomicU64::new(0);

type MallocFn = unsafe extern "C" fn(usize) -> *mut std::ffi::c_void;
type ReallocFn = unsafe extern "C" fn(*mut std::ffi::c_void, usize) -> *mut std::ffi::c_void;
type FreeFn = unsafe extern "C" fn(*mut std::ffi::c_void);
type StrdupFn = unsafe extern "C" fn(*const std::ffi::c_char) -> *mut std::ffi::c_char;

use libmimalloc_sys::{mi_free as free, mi_malloc as malloc, mi_realloc as realloc};

extern "C" {
    fn strlen(s: *const std::ffi::c_char) -> usize;
    fn xmlMemSetup(f: FreeFn, m: MallocFn, r: ReallocFn, s: StrdupFn) -> std::ffi::c_int;
}

fn count_c(size: usize) {
    if COUNT_HERE.try_with(Cell::get).unwrap_or(false) {
        C_ALLOCS.fetch_add(1, Ordering::Relaxed);
        C_ALLOC_BYTES.fetch_add(size as u64, Ordering::Relaxed);
    }
}

unsafe extern "C" fn counted_malloc(size: usize) -> *mut std::ffi::c_void {
    count_c(size);
    // SAFETY: mimalloc's malloc, as the gateway gives libxml2.
    unsafe { malloc(size) }
}

unsafe extern "C" fn counted_realloc(
    p: *mut std::ffi::c_void,
    size: usize,
) -> *mut std::ffi::c_void {
    count_c(size);
    // SAFETY: `p` came from mimalloc (these hooks or the gateway's own).
    unsafe { realloc(p, size) }
}

unsafe extern "C" fn counted_free(p: *mut std::ffi::c_void) {
    // SAFETY: `p` came from mimalloc (these hooks or the gateway's own).
    unsafe { free(p) }
}

unsafe extern "C" fn counted_strdup(s: *const std::ffi::c_char) -> *mut std::ffi::c_char {
    // SAFETY: libxml2 passes a NUL-terminated string; the copy includes the terminator.
    unsafe {
        let len = strlen(s) + 1;
        count_c(len);
        let copy = malloc(len).cast::<std::ffi::c_char>();
        if !copy.is_null() {
            std::ptr::copy_nonoverlapping(s, copy, len);
        }
        copy
    }
}

/// Routes libxml2's allocations through the counting hooks. The gateway's own initialisation
/// (run first, by loading the contract) points libxml2 at mimalloc; these hooks count and
/// forward to the same mimalloc, so blocks allocated before the switch are still freed right.
fn count_libxml2_allocations() {
    sanp_gateway::xsd::Contract::load().expect("contract");
    // SAFETY: both hook sets allocate from mimalloc, so the switch is invisible to libxml2.
    let rc = unsafe {
        xmlMemSetup(
            counted_free,
            counted_malloc,
            counted_realloc,
            counted_strdup,
        )
    };
    assert_eq!(rc, 0, "xmlMemSetup");
}

// ---------------------------------------------------------------------------------------------
// Options.

#[derive(Debug, Clone)]
struct Options {
    duration: u64,
    concurrency: usize,
    out: PathBuf,
    tls: bool,
    /// Closed-loop runs per target, alternating gateway and baseline; medians are reported.
    rounds: usize,
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

// ---------------------------------------------------------------------------------------------
// Baseline roles.

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|p| args.get(p + 1).cloned())
}

/// TLS for the baselines: the same certificate, client CA and required client certificates as the
/// gateway's listener, so the handshake and record costs match.
fn baseline_tls(args: &[String]) -> Option<tokio_rustls::TlsAcceptor> {
    let cert = arg(args, "--cert")?;
    let key = arg(args, "--key").expect("--key");
    let ca = arg(args, "--client-ca").expect("--client-ca");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certs = sanp_gateway::pki::read_certs(Path::new(&cert)).expect("certificates");
    let key = sanp_gateway::pki::read_key(Path::new(&key)).expect("key");
    let roots = sanp_gateway::pki::read_roots(Some(Path::new(&ca)), false).expect("client CA");
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .expect("verifier");
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs, key)
        .expect("server config");
    Some(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

async fn run_role(role: &str, args: &[String]) {
    let listen: SocketAddr = arg(args, "--listen")
        .expect("--listen")
        .parse()
        .expect("addr");
    let listener = TcpListener::bind(listen).await.expect("bind");
    let tls = baseline_tls(args);
    match role {
        "forwarder" => {
            let upstream = arg(args, "--upstream").expect("--upstream");
            let mut connector = HttpConnector::new();
            connector.set_nodelay(true);
            let client: Client<HttpConnector, Full<Bytes>> =
                Client::builder(TokioExecutor::new()).build(connector);
            serve(listener, tls, move |req| {
                let client = client.clone();
                let upstream = upstream.clone();
                async move { forward(client, &upstream, req).await }
            })
            .await
        }
        "static" => {
            let body =
                Bytes::from(std::fs::read(arg(args, "--body").expect("--body")).expect("body"));
            serve(listener, tls, move |req: Request<Incoming>| {
                let body = body.clone();
                async move {
                    // Read the request like any server would, then answer the fixed bytes.
                    let _ = req.into_body().collect().await;
                    let mut r = Response::new(Full::new(body));
                    r.headers_mut().insert(
                        http::header::CONTENT_TYPE,
                        http::HeaderValue::from_static("text/xml; charset=UTF-8"),
                    );
                    r
                }
            })
            .await
        }
        other => panic!("unknown role {other}"),
    }
}

/// Relays the request bytes to the same path upstream and the answer back, parsing nothing.
async fn forward(
    client: Client<HttpConnector, Full<Bytes>>,
    upstream: &str,
    req: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let body = whole(body).await;
    let mut out = Request::post(format!("{upstream}{}", parts.uri.path()));
    for name in [
        http::header::CONTENT_TYPE,
        http::HeaderName::from_static("soapaction"),
    ] {
        if let Some(v) = parts.headers.get(&name) {
            out = out.header(name, v);
        }
    }
    match out.body(Full::new(body)) {
        Ok(r) => relay(&client, r).await,
        Err(_) => status_only(StatusCode::BAD_REQUEST),
    }
}

/// A whole message body, or nothing when reading it fails.
async fn whole(body: Incoming) -> Bytes {
    body.collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default()
}

/// Sends `req` upstream and hands back the whole answer, or 502.
async fn relay(
    client: &Client<HttpConnector, Full<Bytes>>,
    req: Request<Full<Bytes>>,
) -> Response<Full<Bytes>> {
    match client.request(req).await {
        Ok(resp) => {
            let (parts, body) = resp.into_parts();
            Response::from_parts(parts, Full::new(whole(body).await))
        }
        Err(_) => status_only(StatusCode::BAD_GATEWAY),
    }
}

fn status_only(s: StatusCode) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = s;
    r
}

async fn serve<F, Fut>(listener: TcpListener, tls: Option<tokio_rustls::TlsAcceptor>, f: F)
where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = Response<Full<Bytes>>> + Send + 'static,
{
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let f = f.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let f = f.clone();
                async move { Ok::<_, std::convert::Infallible>(f(req).await) }
            });
            let http = hyper::server::conn::http1::Builder::new();
            match tls {
                Some(acceptor) => {
                    if let Ok(stream) = acceptor.accept(tcp).await {
                        let _ = http.serve_connection(TokioIo::new(stream), service).await;
                    }
                }
                None => {
                    let _ = http.serve_connection(TokioIo::new(tcp), service).await;
                }
            }
        });
    }
}

// ---------------------------------------------------------------------------------------------
// Processes.

struct Proc {
    child: Child,
    name: String,
    /// The gateway's admin listener (`host:port`), to read its request counters.
    admin: Option<String>,
}

impl Proc {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// User + system CPU seconds so far.
    fn cpu(&self) -> f64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap_or_default();
        // Fields after the command name (which may hold spaces) start after the last ')'.
        let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
        let f: Vec<&str> = rest.split_whitespace().collect();
        let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        // utime and stime are fields 14 and 15 of /proc/pid/stat (index 11, 12 after the name).
        (ticks(11) + ticks(12)) / clock_ticks()
    }

    fn status_kib(&self, key: &str) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    fn rss_mib(&self) -> f64 {
        self.status_kib("VmRSS:") as f64 / 1024.0
    }

    fn peak_rss_mib(&self) -> f64 {
        self.status_kib("VmHWM:") as f64 / 1024.0
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!("{} did not stop; killing it", self.name);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port()
}

async fn until_listening(port: u16, what: &str) {
    for _ in 0..400 {
        if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{what} never listened on {port}");
}

fn gateway_bin() -> &'static str {
    env!("CARGO_BIN_EXE_sanp-gateway")
}

fn spawn(name: &str, cmd: &mut Command) -> Proc {
    let child = cmd
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    Proc {
        child,
        name: name.to_owned(),
        admin: None,
    }
}

fn spawn_role(name: &str, role: &str, listen: u16, extra: &[String]) -> Proc {
    let me = std::env::current_exe().expect("own path");
    spawn(
        name,
        Command::new(me)
            .args(["--role", role, "--listen", &format!("127.0.0.1:{listen}")])
            .args(extra),
    )
}

// ---------------------------------------------------------------------------------------------
// Orchestration.

struct Bench {
    dir: tempfile::TempDir,
    pki: pki::TestPki,
    ec_port: u16,
}

impl Bench {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes the demo registry, its stations on `ec_port`, as `name`.
    fn demo_registry(&self, name: &str, ec_port: u16) -> PathBuf {
        let path = self.path(name);
        std::fs::write(
            &path,
            serde_json::to_vec(&common::demo_registry(ec_port)).expect("json"),
        )
        .expect("registry");
        path
    }

    /// Gateway settings on `port`: plain HTTP, or mutual TLS with the PSP certificate bound to
    /// the demo broker.
    /// The demo station declares `thread_number` 4, which would cap calls in flight to it at 4
    /// and answer the rest PPT_SUPERAMENTOSOGLIA: the local sample EC takes far more, so the
    /// bench raises the cap, as an operator would for such an EC.
    fn gateway(&self, name: &str, port: u16, tls: bool, registry: &Path) -> Proc {
        let admin = free_port();
        let listener = if tls {
            format!(
                "[tls]\ncert_file = {:?}\nkey_file = {:?}\nclient_ca_file = {:?}\n\
                 [[psp_bindings]]\nbroker = \"11111111111\"\nsha256 = [\"{}\"]\n",
                self.pki.server.cert.display().to_string(),
                self.pki.server.key.display().to_string(),
                self.pki.ca.display().to_string(),
                self.pki.psp_good.fingerprint()
            )
        } else {
            "plain_http = true\n".to_owned()
        };
        let settings = format!(
            "listen = \"127.0.0.1:{port}\"\nregistry = {:?}\nservice_schema_dir = {:?}\n{listener}\n\
             [admin]\nlisten = \"127.0.0.1:{admin}\"\n[ec]\nstation_service = \"service_pof\"\n\
             [ec.stations.\"80000000001_01\"]\nmax_concurrent = 1024\n",
            registry.display().to_string(),
            common::repo().join("xsd/catalogo-servizi").display().to_string(),
        );
        let path = self.path(&format!("{name}.toml"));
        std::fs::write(&path, settings).expect("settings");
        let mut p = spawn(
            name,
            Command::new(gateway_bin())
                .args(["serve", "--config"])
                .arg(&path)
                .env("RUST_LOG", "info"),
        );
        p.admin = Some(format!("127.0.0.1:{admin}"));
        p
    }

    fn tls_args(&self) -> Vec<String> {
        vec![
            "--cert".into(),
            self.pki.server.cert.display().to_string(),
            "--key".into(),
            self.pki.server.key.display().to_string(),
            "--client-ca".into(),
            self.pki.ca.display().to_string(),
        ]
    }
}

/// One kind of request: the body the PSP sends to the gateway, the body the baseline receives, and
/// what a correct gateway answer contains.
struct Scenario {
    name: &'static str,
    action: &'static str,
    gateway_body: Vec<u8>,
    baseline: Baseline,
    baseline_body: Vec<u8>,
    expect: &'static str,
    baseline_expect: &'static str,
}

#[derive(Clone, Copy, PartialEq)]
enum Baseline {
    Forwarder,
    Static,
}

impl Baseline {
    fn label(self) -> &'static str {
        match self {
            Baseline::Forwarder => "forwarder",
            Baseline::Static => "static",
        }
    }
}

#[derive(Debug, Clone, Default)]
struct Run {
    rps: f64,
    p50: f64,
    p99: f64,
    p999: f64,
    requests: f64,
    non_200: f64,
    errors: f64,
    cpu_us_per_req: f64,
    peak_rss: f64,
    /// Share of the gateway's answers in the expected outcome / fault code.
    expected: f64,
}

/// oha, installed by scripts/bench.sh (`cargo install oha`).
fn oha() -> PathBuf {
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

struct Target<'a> {
    url: String,
    proc: &'a Proc,
    tls: Option<&'a pki::TestPki>,
    /// For the gateway: the `sanp_requests_total` series every answer must fall in.
    expect: Option<String>,
}

/// The gateway's `sanp_requests_total` series, read from its admin listener.
fn request_counters(admin: &str) -> Vec<(String, f64)> {
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
fn share(before: &[(String, f64)], after: &[(String, f64)], series: &str) -> f64 {
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
fn load(target: &Target<'_>, body: &Path, action: &str, opts: &Options, rate: Option<f64>) -> Run {
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

/// One request through our own client, to check the answer before loading a target.
async fn one(url: &str, action: &str, body: &[u8]) -> (StatusCode, String) {
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build(HttpConnector::new());
    let req = Request::post(url)
        .header("Content-Type", "text/xml; charset=UTF-8")
        .header("SOAPAction", action)
        .body(Full::new(Bytes::from(body.to_vec())))
        .expect("request");
    let resp = client.request(req).await.expect("answer");
    let status = resp.status();
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// A station stand-in that records what the gateway sends and relays it to the sample EC, so the
/// forwarder baseline can send the EC the very bytes the gateway sends.
async fn capture_upstream_bodies(bench: &Bench, scenarios: &[(&str, Vec<u8>)]) -> Vec<Vec<u8>> {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let tap_port = listener.local_addr().expect("addr").port();
    let seen = Arc::new(std::sync::Mutex::new(Vec::<Vec<u8>>::new()));
    let ec = format!("http://127.0.0.1:{}", bench.ec_port);
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build(HttpConnector::new());
    let tap = {
        let seen = seen.clone();
        tokio::spawn(serve(listener, None, move |req: Request<Incoming>| {
            let seen = seen.clone();
            let client = client.clone();
            let ec = ec.clone();
            async move {
                let (parts, body) = req.into_parts();
                let body = body
                    .collect()
                    .await
                    .map(|b| b.to_bytes())
                    .unwrap_or_default();
                seen.lock().expect("seen").push(body.to_vec());
                let mut out = Request::post(format!("{ec}{}", parts.uri.path()));
                for (k, v) in parts.headers.iter() {
                    if k != http::header::HOST && k != http::header::CONTENT_LENGTH {
                        out = out.header(k, v);
                    }
                }
                relay(&client, out.body(Full::new(body)).expect("request")).await
            }
        }))
    };
    let registry = bench.demo_registry("registry-tap.json", tap_port);
    let port = free_port();
    let gw = bench.gateway("gateway-capture", port, false, &registry);
    until_listening(port, "capturing gateway").await;
    let mut bodies = Vec::new();
    for (action, body) in scenarios {
        let before = seen.lock().expect("seen").len();
        let _ = one(
            &format!("http://127.0.0.1:{port}/node-for-psp/v1"),
            action,
            body,
        )
        .await;
        let got = seen
            .lock()
            .expect("seen")
            .get(before)
            .cloned()
            .expect("the gateway called the EC");
        bodies.push(got);
    }
    drop(gw);
    tap.abort();
    bodies
}

fn demand_with_plate(plate: &str) -> Vec<u8> {
    use base64::Engine as _;
    let text = String::from_utf8(common::fixture("demand.xml")).expect("UTF-8");
    let b64 = text
        .split("<datiSpecificiServizio>")
        .nth(1)
        .and_then(|r| r.split("</datiSpecificiServizio>").next())
        .expect("service data")
        .to_owned();
    let data = base64::engine::general_purpose::STANDARD
        .decode(&b64)
        .expect("base64");
    let data = String::from_utf8(data)
        .expect("UTF-8")
        .replace("AB345CD", plate);
    let new = base64::engine::general_purpose::STANDARD.encode(data);
    text.replace(&b64, &new).into_bytes()
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
            // Warm both (connections, per-thread schema copies), then measure.
            let warm = Options {
                duration: 1,
                ..opts.clone()
            };
            let _ = load(&gw_target, &gw_body, sc.action, &warm, None);
            let _ = load(&base_target, &base_req, base_action, &warm, None);
            // Alternating rounds, so a slow spell of the shared machine hits both sides.
            let mut gs = Vec::new();
            let mut bs = Vec::new();
            for _ in 0..opts.rounds {
                gs.push(load(&gw_target, &gw_body, sc.action, &opts, None));
                bs.push(load(&base_target, &base_req, base_action, &opts, None));
            }
            let (g, b) = (median_run(gs), median_run(bs));
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
            eprintln!(
                "{:<18} {:<4} gateway {:>8.0} req/s  {} {:>8.0} req/s  ratio {:.2}  p99 at {:.0}/s: {:.2} vs {:.2} ms",
                sc.name,
                if tls { "mTLS" } else { "HTTP" },
                g.rps,
                sc.baseline.label(),
                b.rps,
                g.rps / b.rps,
                rate,
                gr.p99,
                br.p99
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
            rows.push((sc.name, tls, sc.baseline, g, b, rate, gr, br));
            drop(base);
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

// ---------------------------------------------------------------------------------------------
// In-process measurements.

struct AllocRow {
    name: &'static str,
    allocs: f64,
    bytes: f64,
    c_allocs: f64,
    c_bytes: f64,
}

/// The gateway's own allocations per request: the gateway runs in this process on a
/// current-thread runtime on a thread whose allocations are counted; the client runs elsewhere
/// and the EC is the sample EC process.
async fn allocations(bench: &Bench, scenarios: &[Scenario]) -> Vec<AllocRow> {
    let registry = bench.path("registry.json");
    let text = format!(
        "listen = \"127.0.0.1:0\"\nplain_http = true\nregistry = {:?}\nservice_schema_dir = {:?}\n[admin]\ndisabled = true\n",
        registry.display().to_string(),
        common::repo().join("xsd/catalogo-servizi").display().to_string(),
    );
    let settings =
        sanp_gateway::settings::Settings::from_toml(&text, bench.dir.path(), "alloc bench")
            .expect("settings");
    let gw = Arc::new(sanp_gateway::app::Gateway::build(settings).expect("gateway"));
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    std_listener.set_nonblocking(true).expect("nonblocking");
    let port = std_listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        COUNT_HERE.with(|c| c.set(true));
        rt.block_on(async move {
            let listener = TcpListener::from_std(std_listener).expect("listener");
            sanp_gateway::transport::Server::new(listener, gw)
                .run(std::future::pending())
                .await;
        });
    });
    until_listening(port, "in-process gateway").await;
    let url = format!("http://127.0.0.1:{port}/node-for-psp/v1");
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build(HttpConnector::new());
    let mut rows = Vec::new();
    for sc in scenarios {
        let send = || {
            let req = Request::post(&url)
                .header("Content-Type", "text/xml; charset=UTF-8")
                .header("SOAPAction", sc.action)
                .body(Full::new(Bytes::from(sc.gateway_body.clone())))
                .expect("request");
            let client = client.clone();
            async move {
                let resp = client.request(req).await.expect("answer");
                let body = resp.into_body().collect().await.expect("body").to_bytes();
                assert!(String::from_utf8_lossy(&body).contains(sc.expect));
            }
        };
        for _ in 0..200 {
            send().await;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        let n = 2_000;
        let snap = || {
            [&ALLOCS, &ALLOC_BYTES, &C_ALLOCS, &C_ALLOC_BYTES].map(|c| c.load(Ordering::Relaxed))
        };
        let before = snap();
        for _ in 0..n {
            send().await;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        let after = snap();
        let per = |i: usize| (after[i] - before[i]) as f64 / n as f64;
        let row = AllocRow {
            name: sc.name,
            allocs: per(0),
            bytes: per(1),
            c_allocs: per(2),
            c_bytes: per(3),
        };
        eprintln!(
            "allocations {:<18} {:.0} Rust + {:.0} libxml2 per request",
            sc.name, row.allocs, row.c_allocs
        );
        rows.push(row);
    }
    rows
}

struct Idle {
    connections: usize,
    before: f64,
    after: f64,
}

/// Opens `n` keep-alive connections, each served one catalog request, and reads the RSS.
async fn idle_connections(gw: &Proc, port: u16, body: &[u8], n: usize) -> Idle {
    let before = gw.rss_mib();
    let request = {
        let mut r = format!(
            "POST /node-for-psp/v1 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: text/xml; charset=UTF-8\r\nSOAPAction: nodoChiediCatalogoServiziV2\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        r.extend_from_slice(body);
        r
    };
    let mut conns = Vec::with_capacity(n);
    for _ in 0..n {
        let mut s = TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect");
        s.write_all(&request).await.expect("write");
        read_response(&mut s).await;
        conns.push(s);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = gw.rss_mib();
    drop(conns);
    Idle {
        connections: n,
        before,
        after,
    }
}

async fn read_response(s: &mut TcpStream) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let n = s.read(&mut chunk).await.expect("read");
        assert!(n > 0, "closed before the response");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .expect("content-length");
            if buf.len() >= end + 4 + len {
                return;
            }
        }
    }
}

struct Large {
    services: usize,
    subjects: usize,
    json_mib: f64,
    load_ms: f64,
    render_ms: f64,
    render_one_ec_ms: f64,
    response_ms: f64,
    document_mib: f64,
}

/// The run with the median throughput.
fn median_run(mut runs: Vec<Run>) -> Run {
    runs.sort_by(|a, b| a.rps.total_cmp(&b.rps));
    let mid = runs.len() / 2;
    runs.swap_remove(mid)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Generates a 10k-service / 100k-association registry and times its load (file → snapshot,
/// schemas included) and its full catalog render.
fn large_registry(bench: &Bench) -> Large {
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

// ---------------------------------------------------------------------------------------------
// Report.

type Row = (&'static str, bool, Baseline, Run, Run, f64, Run, Run);

fn machine() -> String {
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

fn write_report(
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
        "Written by `scripts/bench.sh` (the load harness `benches/load.rs`) in {:.0} s. Do not edit by hand: run it again.\n",
        took.as_secs_f64()
    );
    let _ = writeln!(md, "- Machine: {}", machine());
    let _ = writeln!(
        md,
        "- Every server is its own process on loopback: the release gateway (`sanp-gateway serve`, log level info to /dev/null), the sample EC (`sanp-gateway sample-ec`), and per scenario one baseline (`benches/load.rs --role forwarder|static`). oha runs on the same 2 cores."
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
    for (name, tls, base, g, b, _, _, _) in rows {
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
    for (name, tls, _, _, _, rate, gr, br) in rows {
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
