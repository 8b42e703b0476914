//! `sanp-gateway conformance`: runs the fixtures of `fixtures/conformance/` against the embedded demo (gateway and sample EC in-process) or another endpoint, and reports every difference.
//!
//! Fixtures that need a sample EC scenario queue it through the EC's control API first (and
//! clear the queue after), so they run against any gateway whose stations reach a sample EC;
//! against a target without `--ec-control` they are skipped.

pub mod check;
pub mod manifest;
pub mod report;
pub mod send;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use http::Method;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use manifest::Fixture;
pub use report::{Case, Report, Verdict};
pub use send::ClientTls;

use crate::app::Gateway;
use crate::sample_ec::{self, Control, SampleEc};
use crate::transport::Server;
use crate::xsd::Contract;

/// Where the fixtures are sent.
#[derive(Debug, Clone)]
pub struct Target {
    /// Scheme and authority, e.g. `http://127.0.0.1:8080`.
    pub url: String,
    /// The sample EC's control API behind the target, if any.
    pub ec_control: Option<String>,
    pub tls: ClientTls,
}

/// Runs every fixture of `dir` (those whose name contains `only`, when given), in manifest order.
pub async fn run(dir: &Path, target: &Target, only: Option<&str>) -> Result<Report, String> {
    let fixtures = manifest::load(dir).map_err(|e| e.to_string())?;
    let contract = Contract::load().map_err(|e| e.to_string())?;
    let sender = send::Sender::new(&target.tls)?;
    let mut report = Report {
        target: target.url.clone(),
        cases: Vec::new(),
    };
    for fixture in fixtures
        .iter()
        .filter(|f| only.is_none_or(|o| f.name().contains(o)))
    {
        let started = Instant::now();
        let verdict = run_one(dir, &sender, &contract, target, fixture).await;
        report.cases.push(Case {
            name: fixture.name().to_owned(),
            operation: fixture.operation.clone(),
            verdict,
            took: started.elapsed(),
        });
    }
    Ok(report)
}

async fn run_one(
    dir: &Path,
    sender: &send::Sender,
    contract: &Contract,
    target: &Target,
    fixture: &Fixture,
) -> Verdict {
    let body = match std::fs::read(dir.join(&fixture.file)) {
        Ok(b) => b,
        Err(e) => return Verdict::Failed(vec![format!("{}: {e}", fixture.file)]),
    };
    let scenario = fixture
        .scenario
        .as_deref()
        .and_then(sample_ec::scenario::by_name);
    if let Some(s) = scenario {
        let Some(control) = &target.ec_control else {
            return Verdict::Skipped(format!(
                "needs the sample EC scenario `{}` (give --ec-control)",
                s.name
            ));
        };
        let queue = serde_json::json!({ "answers": [s.answer()] });
        let prepared = async {
            sender
                .control(control, Method::POST, "/reset", None)
                .await?;
            sender
                .control(control, Method::POST, "/answers", Some(&queue))
                .await
        };
        if let Err(e) = prepared.await {
            return Verdict::Failed(vec![format!("EC control: {e}")]);
        }
    }
    let blocker = match (fixture.busy_station, &target.ec_control) {
        (true, Some(control)) => match occupy(sender, target, control, fixture, &body).await {
            Ok(b) => Some(b),
            Err(e) => return Verdict::Failed(vec![format!("busy station: {e}")]),
        },
        _ => None,
    };
    let sent = sender.fixture(&target.url, fixture, body).await;
    if let Some(b) = blocker {
        let _ = b.await;
    }
    if let (Some(_), Some(control)) = (scenario, &target.ec_control) {
        // An answer the request did not consume must not reach the next fixture.
        let _ = sender
            .control(control, Method::DELETE, "/answers", None)
            .await;
    }
    let (status, answer) = match sent {
        Ok(a) => a,
        Err(e) => return Verdict::Failed(vec![format!("no answer: {e}")]),
    };
    let observed = check::observe(contract, fixture, status, &answer);
    let diffs = check::differences(fixture, &observed);
    if diffs.is_empty() {
        Verdict::Passed
    } else {
        Verdict::Failed(diffs)
    }
}

/// Sends `fixture` once as a blocker and returns when the sample EC has received it (and holds
/// it, as its scenario says): the station's call slot is then taken.
async fn occupy<'a>(
    sender: &'a send::Sender,
    target: &'a Target,
    control: &'a str,
    fixture: &'a Fixture,
    body: &[u8],
) -> Result<impl std::future::Future<Output = ()> + 'a, String> {
    let blocker = sender.fixture(&target.url, fixture, body.to_vec());
    let mut blocker = Box::pin(blocker);
    let deadline = Instant::now() + std::time::Duration::from_secs(5);
    loop {
        tokio::select! {
            done = &mut blocker => {
                return Err(format!("the blocking request was answered: {:?}", done.map(|(s, _)| s)));
            }
            () = tokio::time::sleep(std::time::Duration::from_millis(50)) => {}
        }
        let history = sender
            .control_get(control, "/history?last=1")
            .await
            .map_err(|e| format!("EC control: {e}"))?;
        if history.trim() != "[]" {
            return Ok(async move {
                let _ = blocker.await;
            });
        }
        if Instant::now() > deadline {
            return Err("the sample EC did not receive the blocking request within 5 s".into());
        }
    }
}

/// The demo started in-process on free loopback ports: a sample EC with its control API, and a
/// gateway over the demo settings and registry whose stations point at that EC.
pub struct Embedded {
    pub gateway_url: String,
    pub control_url: String,
    pub gateway: Arc<Gateway>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Embedded {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Embedded {
    /// Starts the demo of `settings` (`fixtures/demo/gateway.toml`), after `edit` changed its
    /// registry (tests use it to alter one outcome).
    pub async fn start(settings: &Path, edit: &dyn Fn(&mut Value)) -> Result<Self, String> {
        let bind = || TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)));
        let ec_listener = bind().await.map_err(|e| format!("sample EC: {e}"))?;
        let control_listener = bind().await.map_err(|e| format!("EC control: {e}"))?;
        let gw_listener = bind().await.map_err(|e| format!("gateway: {e}"))?;
        let port = |l: &TcpListener| l.local_addr().map(|a| a.port()).unwrap_or(0);
        let (ec_port, control_port, gw_port) = (
            port(&ec_listener),
            port(&control_listener),
            port(&gw_listener),
        );

        let gateway =
            Gateway::from_file(settings).map_err(|e| format!("{}: {e}", settings.display()))?;
        let registry_path = gateway.settings().registry.clone();
        let text = std::fs::read_to_string(&registry_path)
            .map_err(|e| format!("{}: {e}", registry_path.display()))?;
        let mut registry: Value =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", registry_path.display()))?;
        point_stations_at(&mut registry, ec_port);
        edit(&mut registry);
        // A version of its own, so the gateway takes the re-pointed document.
        let version = format!(
            "{}-conformance",
            registry["version"].as_str().unwrap_or_default()
        );
        registry["version"] = Value::from(version);
        let bytes = serde_json::to_vec(&registry).map_err(|e| e.to_string())?;
        gateway
            .install_registry_bytes(&bytes, "conformance")
            .map_err(|e| format!("demo registry: {e}"))?;
        let gateway = Arc::new(gateway);

        let control = Control::default();
        let station = sample_ec::Station::new(SampleEc::default(), control.clone(), None)
            .map_err(|e| format!("sample EC: {e}"))?;
        let tasks = vec![
            tokio::spawn(async move {
                let _ = station.serve(ec_listener).await;
            }),
            tokio::spawn(async move {
                let _ = sample_ec::control::serve(control_listener, control).await;
            }),
            {
                let gateway = gateway.clone();
                tokio::spawn(async move {
                    let _ = Server::new(gw_listener, gateway)
                        .run(std::future::pending::<()>())
                        .await;
                })
            },
        ];
        Ok(Self {
            gateway_url: format!("http://127.0.0.1:{gw_port}"),
            control_url: format!("http://127.0.0.1:{control_port}"),
            gateway,
            tasks,
        })
    }

    /// The target to run the fixtures against.
    pub fn target(&self) -> Target {
        Target {
            url: self.gateway_url.clone(),
            ec_control: Some(self.control_url.clone()),
            tls: ClientTls::default(),
        }
    }
}

/// Points every station's connections (`connection`, `connection_mod4`) at `port` on loopback.
pub fn point_stations_at(registry: &mut Value, port: u16) {
    if let Some(stations) = registry["stations"].as_object_mut() {
        for s in stations.values_mut() {
            for c in ["connection", "connection_mod4"] {
                if s[c].is_object() {
                    s[c]["ip"] = Value::from("127.0.0.1");
                    s[c]["port"] = Value::from(port);
                    s[c]["protocol"] = Value::from("HTTP");
                }
            }
        }
    }
}

/// What `sanp-gateway conformance` was asked to do.
pub struct Command {
    pub fixtures: PathBuf,
    pub demo_config: PathBuf,
    /// Another endpoint instead of the embedded demo.
    pub target: Option<String>,
    pub ec_control: Option<String>,
    pub tls: ClientTls,
    pub junit: Option<PathBuf>,
    pub only: Option<String>,
}

/// Runs the command and prints the report (and writes the JUnit file): `Ok(true)` when every
/// fixture passed, `Err` when the run could not take place.
pub async fn command(c: Command) -> Result<bool, String> {
    let embedded;
    let target = match c.target {
        Some(url) => Target {
            url,
            ec_control: c.ec_control,
            tls: c.tls,
        },
        None => {
            embedded = Embedded::start(&c.demo_config, &|_| {})
                .await
                .map_err(|e| format!("cannot start the embedded demo: {e}"))?;
            embedded.target()
        }
    };
    let report = run(&c.fixtures, &target, c.only.as_deref()).await?;
    print!("{}", report.text());
    if let Some(path) = &c.junit {
        std::fs::write(path, report.junit())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(report.all_passed())
}
