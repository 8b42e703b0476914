//! `sanp-gateway probe`: checks one EC station the way the gateway calls it, check by check.
//!
//! Everything on the wire goes through the gateway's own code: the TLS profile and connector
//! of `upstream::client`, the request builders and answer judges of `upstream::pa_demand` and
//! `upstream::pa_chiedi`, the fault mapping of `respond::fault`. The probe only watches
//! (a verifier and a client-certificate resolver wrapped around the gateway's own) and reports.

mod certs;
pub mod cli;
pub mod connect;
pub mod functional;
pub mod report;
pub mod target;
mod watch;

pub use functional::{Ids, Primitive, ServiceCall};
pub use report::{Check, Report, Verdict};
pub use target::{Inputs, Plan};

use crate::observe::Metrics;
use crate::registry::Proxy;
use crate::soap::Limits;
use crate::upstream::exchange::{CallContext, Target};
use crate::xsd::Contract;

/// Why the probe could not run at all (not a verdict on the station).
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// Bad or missing arguments, unreadable input files.
    #[error("{0}")]
    Usage(String),
    /// Settings, registry, TLS files or schemas that cannot be used.
    #[error("{0}")]
    Setup(String),
}

/// What to run.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunOptions {
    /// Valid requests per service (latency percentiles when above 1).
    pub repeat: usize,
    pub connectivity_only: bool,
}

const G: &str = "connectivity";

/// How many SOAP requests a run sends, and how many of them ask for a debt position.
pub fn planned_requests(plan: &Plan, opts: &RunOptions) -> (usize, usize) {
    if opts.connectivity_only {
        return (0, 0);
    }
    let valid = plan.calls.len() * opts.repeat.max(1);
    let invalid = plan.calls.iter().filter(|c| c.invalid.is_some()).count();
    (valid + invalid, valid)
}

/// The requests a run would send, for `--dry-run`.
pub fn dry_run(plan: &Plan) -> String {
    let mut out = String::new();
    for c in &plan.calls {
        let url = plan
            .url_for(c.primitive)
            .map(|u| u.to_string())
            .unwrap_or_else(|| "(no endpoint)".into());
        out.push_str(&format!(
            "# {}: POST {url}\n# SOAPAction: {}\n# datiSpecificiServizio ({}):\n# {}\n{}\n\n",
            c.label,
            c.primitive.soap_action(),
            c.data_source,
            c.data,
            c.request(&c.data)
        ));
        if let Some(bad) = &c.invalid {
            out.push_str(&format!(
                "# {}: the same with data invalid for the schema:\n# {bad}\n{}\n\n",
                c.label,
                c.request(bad)
            ));
        }
    }
    out
}

/// Runs the checks against the plan's station.
pub async fn run(plan: &Plan, opts: &RunOptions) -> Result<Report, ProbeError> {
    let mut report = Report {
        target: plan.target.clone(),
        checks: Vec::new(),
    };
    let checks = &mut report.checks;
    // The endpoint of the primitive the station is called with first.
    let first = plan
        .calls
        .first()
        .map(|c| c.primitive)
        .unwrap_or(Primitive::PaDemand);
    let mut endpoint = None;
    for (p, url) in &plan.endpoints {
        let name = format!("endpoint.{}", p.soap_action());
        match url {
            Ok((u, setting)) => {
                checks.push(Check::pass(G, name, format!("{setting}: {u}")));
                if *p == first || endpoint.is_none() {
                    endpoint = Some(u.clone());
                }
            }
            Err(why) => {
                let used = plan.calls.iter().any(|c| c.primitive == *p) || (*p == first);
                let check = if used {
                    Check::fail(G, name, why.clone(), "set that path (and the connection) in the registry's station entry, or choose another with ec.station_service / ec.legacy_station_service")
                } else {
                    Check::new(G, name, Verdict::Skip).msg(format!("not used: {why}"))
                };
                checks.push(check);
            }
        }
    }
    let Some(url) = endpoint else {
        return Ok(report);
    };
    let profile = plan.ec.tls_profile_for(&plan.station_code);
    let tls = plan
        .ec
        .station_tls
        .get(profile)
        .unwrap_or(&plan.ec.tls)
        .clone();
    let timeout = plan.ec.timeout_for(&plan.station_code);
    let proxy: Option<&Proxy> = plan.proxy.as_ref();
    let ep = connect::Endpoint {
        url: &url,
        proxy,
        profile,
        tls: &tls,
        timeout,
    };
    let reachable = connect::run(&plan.clients, &ep, checks).await;
    if opts.connectivity_only || !reachable {
        let why = if opts.connectivity_only {
            "--connectivity-only"
        } else {
            "the station is not reachable"
        };
        for c in &plan.calls {
            checks.push(
                Check::new("functional", format!("{}.answer", c.label), Verdict::Skip)
                    .msg(format!("not sent: {why}")),
            );
        }
        return Ok(report);
    }
    let contract = Contract::load().map_err(|e| ProbeError::Setup(e.to_string()))?;
    let limits = Limits::default();
    let metrics = Metrics::new();
    let ctx = CallContext {
        clients: &plan.clients,
        settings: &plan.ec,
        contract: &contract,
        limits: &limits,
        metrics: &metrics,
        request_id: "sanp-probe",
    };
    for c in &plan.calls {
        let Some(url) = plan.url_for(c.primitive) else {
            continue;
        };
        let target = Target {
            url: url.clone(),
            profile,
            proxy,
            timeout,
        };
        functional::run(
            &ctx,
            &target,
            &plan.station_code,
            c,
            opts.repeat.max(1),
            checks,
        )
        .await;
    }
    Ok(report)
}
