//! The `probe` subcommand's arguments and how they become a run, a report and an exit status.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;

use super::{Ids, Inputs, Primitive, ProbeError, RunOptions};

#[derive(clap::Args)]
pub struct ProbeArgs {
    /// Gateway settings (TOML): the station's endpoint, paths, proxy and TLS profile come from
    /// them and from their registry, exactly as the gateway uses them. Needs --station.
    #[arg(
        long,
        value_name = "FILE",
        requires = "station",
        conflicts_with = "url"
    )]
    pub config: Option<PathBuf>,
    /// Station code in the registry.
    #[arg(long, value_name = "CODE", requires = "config")]
    pub station: Option<String>,
    /// An explicit endpoint instead of a registry station.
    #[arg(long, value_name = "URL", required_unless_present = "config")]
    pub url: Option<String>,
    /// With --url: CA bundle (PEM) that issues the station's certificate.
    #[arg(long, value_name = "FILE", requires = "url")]
    pub ca: Option<PathBuf>,
    /// With --url: the gateway's client certificate (PEM chain).
    #[arg(long, value_name = "FILE", requires = "url")]
    pub cert: Option<PathBuf>,
    /// With --url: the key of --cert (PEM).
    #[arg(long, value_name = "FILE", requires = "url")]
    pub key: Option<PathBuf>,
    /// With --url: the primitive to send.
    #[arg(
        long,
        value_enum,
        default_value = "pa-demand-payment-notice",
        requires = "url"
    )]
    pub primitive: PrimitiveArg,
    /// The service's XSD: data are generated from it (or --data checked against it).
    #[arg(long, value_name = "FILE")]
    pub service_xsd: Option<PathBuf>,
    /// datiSpecificiServizio to send (XML, before base64).
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,
    /// With --url: idPA / identificativoDominio.
    #[arg(long, value_name = "CODE", default_value = "77777777777")]
    pub id_pa: String,
    /// With --url: idBrokerPA.
    #[arg(long, value_name = "CODE", default_value = "77777777777")]
    pub id_broker_pa: String,
    /// With --url: idStation.
    #[arg(long, value_name = "CODE", default_value = "77777777777_01")]
    pub id_station: String,
    /// With --url: idServizio.
    #[arg(long, value_name = "ID", default_value = "00001")]
    pub id_servizio: String,
    /// With --url: idSoggettoServizio.
    #[arg(long, value_name = "ID", default_value = "00001")]
    pub id_soggetto_servizio: String,
    /// identificativoPSP of legacy requests.
    #[arg(long, value_name = "CODE", default_value = "SANP_PROBE")]
    pub psp: String,
    /// Valid requests per service; above 1, p50/p99 against the SLA (98% within 2 s).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub repeat: u32,
    /// Print the requests that would be sent, send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Stop before any SOAP call (name, TCP, TLS only).
    #[arg(long)]
    pub connectivity_only: bool,
    /// Report format on standard output.
    #[arg(long, value_enum, default_value = "text")]
    pub format: FormatArg,
    /// Also write a JUnit XML report to FILE.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum PrimitiveArg {
    PaDemandPaymentNotice,
    PaaChiediNumeroAvviso,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    Text,
    Json,
}

/// Exit codes of `probe`: the station needs fixing / the probe could not run.
const PROBE_STATION_WRONG: u8 = 1;
const PROBE_CANNOT_RUN: u8 = 2;

/// Runs the probe as the command line asked; the exit status tells the outcome.
pub async fn run(args: ProbeArgs) -> ExitCode {
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
        (Some(config), Some(station), _) => super::target::from_registry(config, station, &inputs),
        (_, _, Some(url)) => super::target::from_url(
            url,
            args.ca.as_deref(),
            args.cert.as_deref(),
            args.key.as_deref(),
            &inputs,
        ),
        _ => Err(ProbeError::Usage(
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
        print!("{}", super::dry_run(&plan));
        return ExitCode::SUCCESS;
    }
    let (requests, positions) = super::planned_requests(&plan, &opts);
    if requests > 0 {
        eprintln!(
            "probe: sending {requests} request(s) to {}: {positions} ask(s) the EC to create a debt position (--dry-run shows them, --connectivity-only sends none)",
            plan.target
        );
    }
    let report = match super::run(&plan, &opts).await {
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
