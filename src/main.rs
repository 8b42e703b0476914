//! Command line: serve, check a configuration, run the sample EC, run the demo, or run the conformance fixtures.

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
    Probe(Box<ProbeArgs>),
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

#[derive(clap::Args)]
struct ProbeArgs {
    /// Gateway settings (TOML): the station's endpoint, paths, proxy and TLS profile come from
    /// them and from their registry, exactly as the gateway uses them. Needs --station.
    #[arg(
        long,
        value_name = "FILE",
        requires = "station",
        conflicts_with = "url"
    )]
    config: Option<PathBuf>,
    /// Station code in the registry.
    #[arg(long, value_name = "CODE", requires = "config")]
    station: Option<String>,
    /// An explicit endpoint instead of a registry station.
    #[arg(long, value_name = "URL", required_unless_present = "config")]
    url: Option<String>,
    /// With --url: CA bundle (PEM) that issues the station's certificate.
    #[arg(long, value_name = "FILE", requires = "url")]
    ca: Option<PathBuf>,
    /// With --url: the gateway's client certificate (PEM chain).
    #[arg(long, value_name = "FILE", requires = "url")]
    cert: Option<PathBuf>,
    /// With --url: the key of --cert (PEM).
    #[arg(long, value_name = "FILE", requires = "url")]
    key: Option<PathBuf>,
    /// With --url: the primitive to send.
    #[arg(
        long,
        value_enum,
        default_value = "pa-demand-payment-notice",
        requires = "url"
    )]
    primitive: PrimitiveArg,
    /// The service's XSD: data are generated from it (or --data checked against it).
    #[arg(long, value_name = "FILE")]
    service_xsd: Option<PathBuf>,
    /// datiSpecificiServizio to send (XML, before base64).
    #[arg(long, value_name = "FILE")]
    data: Option<PathBuf>,
    /// With --url: idPA / identificativoDominio.
    #[arg(long, value_name = "CODE", default_value = "77777777777")]
    id_pa: String,
    /// With --url: idBrokerPA.
    #[arg(long, value_name = "CODE", default_value = "77777777777")]
    id_broker_pa: String,
    /// With --url: idStation.
    #[arg(long, value_name = "CODE", default_value = "77777777777_01")]
    id_station: String,
    /// With --url: idServizio.
    #[arg(long, value_name = "ID", default_value = "00001")]
    id_servizio: String,
    /// With --url: idSoggettoServizio.
    #[arg(long, value_name = "ID", default_value = "00001")]
    id_soggetto_servizio: String,
    /// identificativoPSP of legacy requests.
    #[arg(long, value_name = "CODE", default_value = "SANP_PROBE")]
    psp: String,
    /// Valid requests per service; above 1, p50/p99 against the SLA (98% within 2 s).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    repeat: u32,
    /// Print the requests that would be sent, send nothing.
    #[arg(long)]
    dry_run: bool,
    /// Stop before any SOAP call (name, TCP, TLS only).
    #[arg(long)]
    connectivity_only: bool,
    /// Report format on standard output.
    #[arg(long, value_enum, default_value = "text")]
    format: FormatArg,
    /// Also write a JUnit XML report to FILE.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum PrimitiveArg {
    PaDemandPaymentNotice,
    PaaChiediNumeroAvviso,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum FormatArg {
    Text,
    Json,
}

/// Exit codes of `probe`: the station needs fixing / the probe could not run.
const PROBE_STATION_WRONG: u8 = 1;
const PROBE_CANNOT_RUN: u8 = 2;

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
            Command::Probe(args) => probe(*args).await,
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

async fn probe(args: ProbeArgs) -> ExitCode {
    use sanp_gateway::probe::{self, Ids, Inputs, Primitive, RunOptions};
    use std::io::IsTerminal as _;
    let cannot = |e: &dyn std::fmt::Display| {
        eprintln!("probe: {e}");
        ExitCode::from(PROBE_CANNOT_RUN)
    };
    let inputs = Inputs {
        service_xsd: args.service_xsd.clone(),
        data: args.data.clone(),
        ids: Some(Ids {
            id_pa: args.id_pa.clone(),
            id_broker_pa: args.id_broker_pa.clone(),
            id_station: args.id_station.clone(),
            id_servizio: args.id_servizio.clone(),
            id_soggetto_servizio: args.id_soggetto_servizio.clone(),
            psp: args.psp.clone(),
        }),
        primitive: Some(match args.primitive {
            PrimitiveArg::PaDemandPaymentNotice => Primitive::PaDemand,
            PrimitiveArg::PaaChiediNumeroAvviso => Primitive::Legacy,
        }),
        need_data: !args.connectivity_only,
    };
    let plan = match (&args.config, &args.station, &args.url) {
        (Some(config), Some(station), _) => probe::target::from_registry(config, station, &inputs),
        (_, _, Some(url)) => probe::target::from_url(
            url,
            args.ca.as_deref(),
            args.cert.as_deref(),
            args.key.as_deref(),
            &inputs,
        ),
        _ => Err(probe::ProbeError::Usage(
            "give --config FILE --station CODE, or --url URL".into(),
        )),
    };
    let plan = match plan {
        Ok(p) => p,
        Err(e) => return cannot(&e),
    };
    let opts = RunOptions {
        repeat: args.repeat as usize,
        connectivity_only: args.connectivity_only,
    };
    if args.dry_run {
        print!("{}", probe::dry_run(&plan));
        return ExitCode::SUCCESS;
    }
    let (requests, positions) = probe::planned_requests(&plan, &opts);
    if requests > 0 {
        eprintln!(
            "probe: sending {requests} request(s) to {}: {positions} ask(s) the EC to create a debt position (--dry-run shows them, --connectivity-only sends none)",
            plan.target
        );
    }
    let report = match probe::run(&plan, &opts).await {
        Ok(r) => r,
        Err(e) => return cannot(&e),
    };
    if let Some(path) = &args.junit {
        if let Err(e) = std::fs::write(path, report.junit()) {
            return cannot(&format!("--junit {}: {e}", path.display()));
        }
    }
    match args.format {
        FormatArg::Text => print!("{}", report.text(std::io::stdout().is_terminal())),
        FormatArg::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report.json()).unwrap_or_default()
        ),
    }
    if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(PROBE_STATION_WRONG)
    }
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
