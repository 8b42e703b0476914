//! Command line: serve, check a configuration, run the sample EC, the portal, the probe, the demo, or the conformance fixtures.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use sanp_gateway::app::{Gateway, StartError};
use sanp_gateway::conformance;
use sanp_gateway::observe::init_logs;
use sanp_gateway::portal::{self, PortalSettings};
use sanp_gateway::sample_ec::{self, Control, SampleEc};
use sanp_gateway::settings::ServerTls;
use sanp_gateway::transport::Server;

#[derive(Parser)]
#[command(
    name = "sanp-gateway",
    version,
    about = "pagoPA SANP 3 spontaneous-payment SOAP gateway"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gateway.
    Serve {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
    /// Load the settings, the registry and the service schemas, report, and exit (non-zero on error).
    CheckConfig {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// Also fail (exit 78) when registry entries were left out or degraded.
        #[arg(long)]
        strict: bool,
    },
    /// Run the sample EC station (paDemandPaymentNotice, paaChiediNumeroAvviso), a test double
    /// with scenarios, a control API and a request history (docs/conformance-fixtures.md).
    SampleEc {
        #[arg(long, default_value = "127.0.0.1:8090")]
        listen: SocketAddr,
        /// Serve the control API (queued answers, history, reset) on this address.
        #[arg(long, value_name = "ADDR")]
        control: Option<SocketAddr>,
        /// Speak TLS with this certificate chain (PEM); needs --tls-key and --tls-client-ca.
        #[arg(long, value_name = "FILE", requires_all = ["tls_key", "tls_client_ca"])]
        tls_cert: Option<PathBuf>,
        #[arg(long, value_name = "FILE", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// CAs of the client certificates, which are required (PEM).
        #[arg(long, value_name = "FILE", requires = "tls_cert")]
        tls_client_ca: Option<PathBuf>,
    },
    /// Run the conformance fixtures against the embedded demo or another endpoint.
    Conformance {
        /// The fixtures folder (with manifest.toml).
        #[arg(long, value_name = "DIR", default_value = "fixtures/conformance")]
        fixtures: PathBuf,
        /// The demo settings used when no --target is given.
        #[arg(
            long,
            value_name = "FILE",
            default_value = "fixtures/demo/gateway.toml"
        )]
        demo_config: PathBuf,
        /// Send the fixtures to this endpoint (scheme and authority) instead of the embedded demo.
        #[arg(long, value_name = "URL")]
        target: Option<String>,
        /// The sample EC's control API behind --target (fixtures needing a scenario are skipped without it).
        #[arg(long, value_name = "URL", requires = "target")]
        ec_control: Option<String>,
        /// CAs trusted for an https target (default: the system's).
        #[arg(long, value_name = "FILE")]
        ca: Option<PathBuf>,
        /// Client certificate and key presented to an https target.
        #[arg(long, value_name = "FILE", requires = "key")]
        cert: Option<PathBuf>,
        #[arg(long, value_name = "FILE", requires = "cert")]
        key: Option<PathBuf>,
        /// Write a JUnit XML report here.
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
        /// Only the fixtures whose name contains this text.
        #[arg(long, value_name = "TEXT")]
        only: Option<String>,
    },
    /// Run the PSP portal (catalog, forms from each service's XSD, notice and QR code) in front
    /// of a gateway.
    Portal {
        #[arg(long, value_name = "FILE", default_value = "fixtures/demo/portal.toml")]
        config: PathBuf,
    },
    /// Check one EC station as the gateway calls it: connectivity, TLS, answers, latency.
    ///
    /// SIDE EFFECTS: unless --connectivity-only or --dry-run, the functional checks send real
    /// paDemandPaymentNotice / paaChiediNumeroAvviso requests: each valid one asks the EC to
    /// create a debt position (one per service, times --repeat), and one more per service sends
    /// data invalid for the service's schema, which a correct station refuses.
    ///
    /// Exit status: 0 every check passed (warnings allowed), 1 the station needs fixing, 2 the
    /// probe could not run (bad arguments, unreadable files).
    #[command(verbatim_doc_comment)]
    Probe(Box<sanp_gateway::probe::cli::ProbeArgs>),
    /// Run the sample EC, the gateway and the portal on the bundled demo configuration.
    Demo {
        #[arg(
            long,
            value_name = "FILE",
            default_value = "fixtures/demo/gateway.toml"
        )]
        config: PathBuf,
    },
}

/// The demo's sample EC and its control API.
const DEMO_EC: (SocketAddr, SocketAddr) = (
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 8090),
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 8091),
);

/// Exit code for unusable configuration (sysexits EX_CONFIG).
const EX_CONFIG: u8 = 78;

/// mimalloc: per-thread heaps for the few hundred small blocks each request allocates.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(async move {
        match cli.command {
            Command::Serve { config } => serve(&config, None).await,
            Command::Portal { config } => {
                init_logs("info", Default::default());
                match PortalSettings::load(&config) {
                    Ok(settings) => match portal::run(settings).await {
                        Ok(()) => ExitCode::SUCCESS,
                        Err(e) => {
                            eprintln!("portal: {e}");
                            ExitCode::FAILURE
                        }
                    },
                    Err(e) => {
                        eprintln!("error: {e}");
                        ExitCode::from(EX_CONFIG)
                    }
                }
            }
            Command::CheckConfig { config, strict } => check_config(&config, strict),
            Command::SampleEc {
                listen,
                control,
                tls_cert,
                tls_key,
                tls_client_ca,
            } => {
                init_logs("info", Default::default());
                let tls = match (tls_cert, tls_key) {
                    (Some(cert_file), Some(key_file)) => Some(ServerTls {
                        cert_file,
                        key_file,
                        client_ca_file: tls_client_ca,
                        crl_files: Vec::new(),
                        handshake_timeout: std::time::Duration::from_secs(10),
                    }),
                    _ => None,
                };
                sample_ec_alone(listen, control, tls.as_ref()).await
            }
            Command::Probe(args) => sanp_gateway::probe::cli::run(*args).await,
            // The demo registry's stations point at the sample EC on 127.0.0.1:8090.
            Command::Demo { config } => serve(&config, Some(DEMO_EC)).await,
            Command::Conformance {
                fixtures,
                demo_config,
                target,
                ec_control,
                ca,
                cert,
                key,
                junit,
                only,
            } => {
                let tls = conformance::ClientTls {
                    ca_file: ca,
                    identity: cert.zip(key),
                };
                run_conformance(conformance::Command {
                    fixtures,
                    demo_config,
                    target,
                    ec_control,
                    tls,
                    junit,
                    only,
                })
                .await
            }
        }
    });
    // Log lines are written in batches: the last ones go out before the process ends.
    sanp_gateway::observe::output::flush();
    code
}

fn load(config: &Path) -> Result<Gateway, String> {
    Gateway::from_file(config).map_err(|e: StartError| e.to_string())
}

fn check_config(config: &Path, strict: bool) -> ExitCode {
    match load(config) {
        Ok(gw) => {
            let live = gw.live();
            let s = &live.snapshot;
            // Every finding, not only the first: an operator fixes the document in one pass.
            for f in &s.findings {
                println!("finding: {f}");
            }
            println!(
                "ok: settings {}; registry version {:?}: {} PSPs, {} channels, {} stations, {} services, {} subject services; {} service schemas",
                config.display(),
                s.version,
                s.psps.len(),
                s.channels.len(),
                s.stations.len(),
                s.services.len(),
                s.subject_services.len(),
                live.service_schemas.len()
            );
            if s.findings.is_empty() {
                return ExitCode::SUCCESS;
            }
            println!(
                "{} registry entries left out or kept with an unusable part (listed above)",
                s.findings.len()
            );
            if strict {
                ExitCode::from(EX_CONFIG)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EX_CONFIG)
        }
    }
}

async fn sample_ec_alone(
    listen: SocketAddr,
    control: Option<SocketAddr>,
    tls: Option<&ServerTls>,
) -> ExitCode {
    let state = Control::default();
    let station = match sample_ec::Station::new(SampleEc::default(), state.clone(), tls) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("sample EC: {e}");
            return ExitCode::from(EX_CONFIG);
        }
    };
    let listener = match tokio::net::TcpListener::bind(listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("sample EC cannot listen on {listen}: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(addr) = control {
        match tokio::net::TcpListener::bind(addr).await {
            Ok(l) => {
                tokio::spawn(sample_ec::control::serve(l, state));
                tracing::info!(%addr, "sample EC control API listening");
            }
            Err(e) => {
                eprintln!("sample EC control cannot listen on {addr}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!(%listen, scheme, "sample EC listening");
    match station.serve(listener).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sample EC: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the fixtures and prints the report; exit 0 only when every fixture passed.
async fn run_conformance(c: conformance::Command) -> ExitCode {
    init_logs("warn", Default::default());
    match conformance::command(c).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EX_CONFIG)
        }
    }
}

async fn serve(config: &Path, demo_ec: Option<(SocketAddr, SocketAddr)>) -> ExitCode {
    let gateway = match load(config) {
        Ok(g) => Arc::new(g),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EX_CONFIG);
        }
    };
    let settings = gateway.settings();
    init_logs(&settings.log_level, settings.log_format);
    sanp_gateway::app::log_findings(&gateway.live().snapshot);
    if let Some((ec, control)) = demo_ec {
        let state = Control::default();
        let station = match sample_ec::Station::new(SampleEc::default(), state.clone(), None) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("sample EC: {e}");
                return ExitCode::FAILURE;
            }
        };
        for (addr, what) in [(ec, "sample EC"), (control, "sample EC control API")] {
            let listener = match tokio::net::TcpListener::bind(addr).await {
                Ok(l) => l,
                Err(e) => {
                    eprintln!("{what} cannot listen on {addr}: {e}");
                    return ExitCode::FAILURE;
                }
            };
            if addr == ec {
                tokio::spawn(station.clone().serve(listener));
            } else {
                tokio::spawn(sample_ec::control::serve(listener, state.clone()));
            }
            tracing::info!(listen = %addr, "{what} listening");
        }
        // The demo's portal sits beside the gateway's settings (fixtures/demo/portal.toml).
        let portal_config = config.with_file_name("portal.toml");
        if portal_config.exists() {
            let started = PortalSettings::load(&portal_config).and_then(|s| {
                let p = portal::Portal::new(&s)?;
                Ok((s.listen, p))
            });
            match started {
                Ok((listen, p)) => match tokio::net::TcpListener::bind(listen).await {
                    Ok(l) => {
                        tokio::spawn(portal::serve(l, Arc::new(p)));
                        tracing::info!(%listen, "portal listening");
                    }
                    Err(e) => {
                        eprintln!("portal cannot listen on {listen}: {e}");
                        return ExitCode::FAILURE;
                    }
                },
                Err(e) => {
                    eprintln!("portal: {e}");
                    return ExitCode::from(EX_CONFIG);
                }
            }
        }
    }
    let listener = match tokio::net::TcpListener::bind(settings.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("cannot listen on {}: {e}", settings.listen);
            return ExitCode::FAILURE;
        }
    };
    if let Some(admin) = settings.admin_listen {
        match tokio::net::TcpListener::bind(admin).await {
            Ok(l) => {
                tokio::spawn(sanp_gateway::observe::admin::serve(l, gateway.clone()));
                tracing::info!(%admin, "admin listener (metrics, health, refresh)");
            }
            Err(e) => {
                eprintln!("cannot listen on {admin} (admin): {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let background = sanp_gateway::reload::spawn_all(&gateway);
    tokio::spawn(reload_on_sighup(gateway.clone()));
    let addr = settings.listen;
    tracing::info!(%addr, registry = %gateway.registry_version(), "gateway listening");
    if demo_ec.is_some() {
        print_demo_hints(addr);
    }
    let drained = Server::new(listener, gateway).run(shutdown_signal()).await;
    for task in background {
        task.abort();
    }
    tracing::info!(drained, "gateway stopped");
    ExitCode::SUCCESS
}

/// SIGHUP reloads the settings (what can change live) and the registry.
async fn reload_on_sighup(gateway: Arc<Gateway>) {
    #[cfg(unix)]
    {
        let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        else {
            return;
        };
        while hup.recv().await.is_some() {
            let gw = gateway.clone();
            let _ = tokio::task::spawn_blocking(move || {
                let _ = gw.reload_settings("sighup");
                let _ = gw.reload_registry("sighup");
            })
            .await;
        }
    }
    #[cfg(not(unix))]
    let _ = gateway;
}

fn print_demo_hints(addr: SocketAddr) {
    println!(
        "\nsanp-gateway demo is up: gateway http://{addr}, sample EC behind it.\n\n\
         The PSP portal (catalog, forms, notice and QR code): open http://127.0.0.1:8081/\n\n\
         In another terminal, ask for a notice (demandPaymentNotice):\n\n  \
         curl -s -H 'Content-Type: text/xml; charset=UTF-8' -H 'SOAPAction: demandPaymentNotice' \\\n    \
         --data-binary @fixtures/demo/demand.xml http://{addr}/node-for-psp/v1\n\n\
         The same for the other service schemas: demand-passaporto.xml, demand-pesca.xml,\n\
         demand-cie.xml, demand-cup.xml (fixtures/demo/).\n\n\
         The service catalog (nodoChiediCatalogoServiziV2):\n\n  \
         curl -s -H 'Content-Type: text/xml; charset=UTF-8' -H 'SOAPAction: nodoChiediCatalogoServiziV2' \\\n    \
         --data-binary @fixtures/demo/catalog.xml http://{addr}/node-for-psp/v1\n\n\
         The legacy operations (NodoPerPsp richiesta avvisi), a version-1 service on a legacy station:\n\n  \
         curl -s -H 'SOAPAction: nodoChiediNumeroAvviso' --data-binary @fixtures/demo/numero-avviso.xml \\\n    \
         http://{addr}/nodo-per-psp-richiesta-avvisi/v1\n  \
         curl -s -H 'SOAPAction: nodoChiediCatalogoServizi' --data-binary @fixtures/demo/catalog-v1.xml \\\n    \
         http://{addr}/nodo-per-psp-richiesta-avvisi/v1\n\n\
         The sample EC's control API is on http://127.0.0.1:8091 (queued answers, history, reset):\n\n  \
         curl -s http://127.0.0.1:8091/scenarios\n  \
         curl -s 'http://127.0.0.1:8091/history?last=5'\n\n\
         Version bridging is on for both demo stations: demandPaymentNotice with idSoggettoServizio 00110\n\
         (a version-1 service) and nodoChiediNumeroAvviso with idServizio 00001 (version 2) are translated.\n\n\
         The WSDLs: curl -s 'http://{addr}/node-for-psp/v1?wsdl'  and  '…/nodo-per-psp-richiesta-avvisi/v1?wsdl'\n\
         Stop with Ctrl-C.\n"
    );
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
