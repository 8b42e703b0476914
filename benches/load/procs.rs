//! The processes under load (the release gateway, the sample EC, the baselines) and the
//! bench's working directory, PKI and gateway settings.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::net::TcpStream;

use crate::{common, pki};

pub struct Proc {
    pub child: Child,
    pub name: String,
    /// The gateway's admin listener (`host:port`), to read its request counters.
    pub admin: Option<String>,
}

impl Proc {
    pub fn pid(&self) -> u32 {
        self.child.id()
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

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port()
}

pub async fn until_listening(port: u16, what: &str) {
    for _ in 0..400 {
        if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{what} never listened on {port}");
}

pub fn gateway_bin() -> &'static str {
    env!("CARGO_BIN_EXE_sanp-gateway")
}

pub fn spawn(name: &str, cmd: &mut Command) -> Proc {
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

pub fn spawn_role(name: &str, role: &str, listen: u16, extra: &[String]) -> Proc {
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

pub struct Bench {
    pub dir: tempfile::TempDir,
    pub pki: pki::TestPki,
    pub ec_port: u16,
}

impl Bench {
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes the demo registry, its stations on `ec_port`, as `name`.
    pub fn demo_registry(&self, name: &str, ec_port: u16) -> PathBuf {
        let path = self.path(name);
        std::fs::write(
            &path,
            serde_json::to_vec(&common::demo_registry(ec_port)).expect("json"),
        )
        .expect("registry");
        path
    }

    /// Gateway settings on `port`: plain HTTP, or mutual TLS with the PSP certificate bound to
    /// the demo broker. Stations keep the default concurrency (`thread_number` is no cap).
    pub fn gateway(&self, name: &str, port: u16, tls: bool, registry: &Path) -> Proc {
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
             [admin]\nlisten = \"127.0.0.1:{admin}\"\n[ec]\nstation_service = \"service_pof\"\n",
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

    /// nginx, the highest reference on this machine, in its own process (master and two
    /// workers, like the gateway's two runtime threads): relaying to the EC on `upstream`, or
    /// answering `body` statically; plain HTTP or mutual TLS with the gateway's certificate.
    pub fn nginx(&self, name: &str, port: u16, tls: bool, side: &NginxSide<'_>) -> Proc {
        let dir = self.path(name);
        std::fs::create_dir_all(&dir).expect("nginx dir");
        let listen = if tls {
            format!(
                "listen 127.0.0.1:{port} ssl;\n    ssl_certificate {};\n    ssl_certificate_key {};\n    \
                 ssl_client_certificate {};\n    ssl_verify_client on;",
                self.pki.server.cert.display(),
                self.pki.server.key.display(),
                self.pki.ca.display()
            )
        } else {
            format!("listen 127.0.0.1:{port};")
        };
        let (upstream, location) = match side {
            NginxSide::Proxy(ec) => (
                format!("upstream ec {{ server 127.0.0.1:{ec}; keepalive 64; }}"),
                "proxy_pass http://ec; proxy_http_version 1.1; proxy_set_header Connection \"\";"
                    .to_owned(),
            ),
            NginxSide::Static(body) => {
                // Served from a file (a config string is limited to 4 KiB); a POST to a static
                // file is a 405 in nginx, turned into the file's 200.
                std::fs::write(dir.join("answer.xml"), body).expect("answer");
                (
                    String::new(),
                    format!(
                        "default_type \"text/xml; charset=UTF-8\"; root {}; try_files /answer.xml =404; error_page 405 =200 /answer.xml;",
                        dir.display()
                    ),
                )
            }
        };
        let d = dir.display();
        let conf = format!(
            "worker_processes 2;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
             events {{ worker_connections 4096; }}\n\
             http {{\n  access_log off;\n  keepalive_requests 1000000;\n  \
             client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  \
             client_body_buffer_size 1m;\n  {upstream}\n  \
             server {{\n    {listen}\n    location / {{ {location} }}\n  }}\n}}\n"
        );
        let path = dir.join("nginx.conf");
        std::fs::write(&path, conf).expect("nginx.conf");
        spawn(
            name,
            Command::new("nginx")
                .args(["-e", &format!("{d}/error.log"), "-g", "daemon off;", "-c"])
                .arg(&path),
        )
    }

    pub fn tls_args(&self) -> Vec<String> {
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

/// What nginx does in a scenario: relay to the EC, or answer fixed bytes.
pub enum NginxSide<'a> {
    Proxy(u16),
    Static(&'a [u8]),
}
