//! Measurements: a process's CPU time and RSS from /proc, allocations per request (Rust and
//! libxml2) on an in-process gateway, and RSS with idle keep-alive connections.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::common;
use crate::procs::{until_listening, Bench, Proc};
use crate::scenarios::Scenario;

// ---------------------------------------------------------------------------------------------
// Allocation counting: only threads that opt in are counted (the in-process gateway's thread).

pub struct Counting;

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

pub type MallocFn = unsafe extern "C" fn(usize) -> *mut std::ffi::c_void;
pub type ReallocFn = unsafe extern "C" fn(*mut std::ffi::c_void, usize) -> *mut std::ffi::c_void;
pub type FreeFn = unsafe extern "C" fn(*mut std::ffi::c_void);
pub type StrdupFn = unsafe extern "C" fn(*const std::ffi::c_char) -> *mut std::ffi::c_char;

use libmimalloc_sys::{mi_free as free, mi_malloc as malloc, mi_realloc as realloc};

extern "C" {
    pub fn strlen(s: *const std::ffi::c_char) -> usize;
    pub fn xmlMemSetup(f: FreeFn, m: MallocFn, r: ReallocFn, s: StrdupFn) -> std::ffi::c_int;
}

pub fn count_c(size: usize) {
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
pub fn count_libxml2_allocations() {
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
// CPU and memory of a running process.

/// CPU seconds (user + system) and parent pid of process `pid`, from /proc/pid/stat.
fn stat_cpu(pid: &str) -> Option<(f64, String)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map(|(_, r)| r)?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // ppid is field 4 (index 1 after the name); utime and stime fields 14 and 15 (11, 12).
    Some((
        (ticks(11) + ticks(12)) / clock_ticks(),
        f.get(1)?.to_string(),
    ))
}

impl Proc {
    /// User + system CPU seconds so far, of the process and of its live children (nginx's
    /// workers do the work of its master).
    pub fn cpu(&self) -> f64 {
        let pid = self.pid().to_string();
        let mut total = stat_cpu(&pid).map(|(cpu, _)| cpu).unwrap_or(0.0);
        if let Ok(entries) = std::fs::read_dir("/proc") {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if !name.bytes().all(|b| b.is_ascii_digit()) || name == pid {
                    continue;
                }
                if let Some((cpu, ppid)) = stat_cpu(&name) {
                    if ppid == pid {
                        total += cpu;
                    }
                }
            }
        }
        total
    }

    pub fn status_kib(&self, key: &str) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    pub fn rss_mib(&self) -> f64 {
        self.status_kib("VmRSS:") as f64 / 1024.0
    }

    pub fn peak_rss_mib(&self) -> f64 {
        self.status_kib("VmHWM:") as f64 / 1024.0
    }
}

pub fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

// ---------------------------------------------------------------------------------------------
// In-process measurements.

pub struct AllocRow {
    pub name: &'static str,
    pub allocs: f64,
    pub bytes: f64,
    pub c_allocs: f64,
    pub c_bytes: f64,
}

/// The gateway's own allocations per request: the gateway runs in this process on a
/// current-thread runtime on a thread whose allocations are counted; the client runs elsewhere
/// and the EC is the sample EC process.
pub async fn allocations(bench: &Bench, scenarios: &[Scenario]) -> Vec<AllocRow> {
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

pub struct Idle {
    pub connections: usize,
    pub before: f64,
    pub after: f64,
}

/// Opens `n` keep-alive connections, each served one catalog request, and reads the RSS.
pub async fn idle_connections(gw: &Proc, port: u16, body: &[u8], n: usize) -> Idle {
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

pub async fn read_response(s: &mut TcpStream) {
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
