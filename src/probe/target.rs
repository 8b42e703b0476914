//! What the probe calls and with what: a registry station with the gateway's settings, or an
//! explicit URL with its own TLS files; and the service data for each service it serves.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use http::Uri;

use super::functional::{Ids, Primitive, ServiceCall};
use super::ProbeError;
use crate::registry::{Proxy, Snapshot, Station};
use crate::settings::{EcSettings, Settings, StationService};
use crate::upstream::{station_url, EcClients};
use crate::xsd::example::example;
use crate::xsd::{Bundle, Schema};

/// A primitive's URL and the setting that chose its path, or why there is none.
pub type Endpoint = Result<(Uri, &'static str), String>;

/// Where to send and what: built from the command line before anything is sent.
pub struct Plan {
    /// `station CODE` or `URL`, for the report.
    pub target: String,
    pub station_code: String,
    pub ec: EcSettings,
    pub clients: EcClients,
    /// Endpoint per primitive, with the setting that chose its path (`service_pof`, …).
    pub endpoints: Vec<(Primitive, Endpoint)>,
    pub proxy: Option<Proxy>,
    pub calls: Vec<ServiceCall>,
}

impl Plan {
    /// The endpoint of `p`, when it resolved.
    pub fn url_for(&self, p: Primitive) -> Option<&Uri> {
        self.endpoints
            .iter()
            .find(|(q, _)| *q == p)
            .and_then(|(_, u)| u.as_ref().ok())
            .map(|(u, _)| u)
    }
}

/// Identifiers and data given on the command line.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    pub service_xsd: Option<PathBuf>,
    pub data: Option<PathBuf>,
    pub ids: Option<Ids>,
    pub primitive: Option<Primitive>,
    /// Whether service data are needed (not with `--connectivity-only`).
    pub need_data: bool,
}

fn service_name(s: StationService) -> &'static str {
    match s {
        StationService::ServicePof => "service_pof",
        StationService::Service => "service",
        StationService::ServiceMod4 => "service_mod4",
    }
}

/// A station of the registry, exactly as the gateway would call it.
pub fn from_registry(config: &Path, code: &str, inputs: &Inputs) -> Result<Plan, ProbeError> {
    let settings = Settings::load(config).map_err(|e| ProbeError::Setup(e.to_string()))?;
    let snap = crate::registry::load_file(&settings.registry)
        .map_err(|e| ProbeError::Setup(format!("registry {}: {e}", settings.registry.display())))?;
    let station = snap
        .stations
        .get(code)
        .ok_or_else(|| {
            ProbeError::Usage(format!(
                "station {code} is not in the registry {}",
                settings.registry.display()
            ))
        })?
        .clone();
    let clients = EcClients::new(&settings.ec).map_err(|e| ProbeError::Setup(e.to_string()))?;
    let mut endpoints = Vec::new();
    for (p, which) in [
        (Primitive::PaDemand, settings.ec.station_service),
        (Primitive::Legacy, settings.ec.legacy_station_service),
    ] {
        let url = station_url(&station, which)
            .map(|u| (u, service_name(which)))
            .map_err(|e| e.to_string());
        endpoints.push((p, url));
    }
    let calls = if inputs.need_data {
        registry_calls(&settings, &snap, &station, inputs)?
    } else {
        Vec::new()
    };
    Ok(Plan {
        target: format!("station {code}"),
        station_code: code.to_owned(),
        proxy: station.proxy.clone().ok().flatten(),
        ec: settings.ec,
        clients,
        endpoints,
        calls,
    })
}

/// One call per service the station serves (the first association of each, by id).
fn registry_calls(
    settings: &Settings,
    snap: &Snapshot,
    station: &Station,
    inputs: &Inputs,
) -> Result<Vec<ServiceCall>, ProbeError> {
    let mut assoc: Vec<_> = snap
        .subject_services
        .values()
        .filter(|a| a.station.as_deref() == Some(station.code.as_str()))
        .collect();
    assoc.sort_by(|a, b| a.id.cmp(&b.id));
    let mut seen = std::collections::BTreeSet::new();
    let mut calls = Vec::new();
    for a in assoc {
        let Some(service) = snap.services.get(&a.service) else {
            continue;
        };
        if !seen.insert(service.id.clone()) {
            continue;
        }
        let primitive = if service.version == 1 {
            Primitive::Legacy
        } else {
            Primitive::PaDemand
        };
        let ids = Ids {
            id_pa: a.subject.clone(),
            id_broker_pa: station.broker.clone(),
            id_station: station.code.clone(),
            id_servizio: service.id.clone(),
            id_soggetto_servizio: a.id.clone(),
            psp: inputs
                .ids
                .as_ref()
                .map(|i| i.psp.clone())
                .unwrap_or_else(|| "SANP_PROBE".into()),
        };
        let schema = match (&inputs.service_xsd, &settings.service_schema_dir) {
            (Some(file), _) => Some(schema_file(file)?),
            (None, Some(dir)) => Some((dir.clone(), service.reference_xsd.clone())),
            (None, None) => None,
        };
        calls.push(service_call(
            service.id.clone(),
            primitive,
            ids,
            schema,
            inputs.data.as_deref(),
        )?);
    }
    if calls.is_empty() {
        return Err(ProbeError::Usage(format!(
            "station {} serves no service in the registry (no cdsSubjectServices entry names it): give --url with --data or --service-xsd, or use --connectivity-only",
            station.code
        )));
    }
    Ok(calls)
}

fn schema_file(file: &Path) -> Result<(PathBuf, String), ProbeError> {
    let name = file.file_name().and_then(|n| n.to_str()).ok_or_else(|| {
        ProbeError::Usage(format!("--service-xsd {}: not a file name", file.display()))
    })?;
    let dir = file
        .parent()
        .map(Path::to_path_buf)
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("."));
    if !file.is_file() {
        return Err(ProbeError::Usage(format!(
            "--service-xsd {}: no such file",
            file.display()
        )));
    }
    Ok((dir, name.to_owned()))
}

/// The data for one service: the user's file (checked against the schema when one is known),
/// or an example generated from the schema; plus an invalid variant when a schema is known.
fn service_call(
    label: String,
    primitive: Primitive,
    ids: Ids,
    schema: Option<(PathBuf, String)>,
    data: Option<&Path>,
) -> Result<ServiceCall, ProbeError> {
    let compiled = match &schema {
        Some((dir, entry)) => {
            let bundle = Arc::new(Bundle::service_schemas(dir).map_err(|e| {
                ProbeError::Setup(format!("service schemas in {}: {e}", dir.display()))
            })?);
            if bundle.get(entry).is_none() {
                return Err(ProbeError::Setup(format!(
                    "service schema {entry} is not in {}",
                    dir.display()
                )));
            }
            let s = Schema::compile(bundle.clone(), entry)
                .map_err(|e| ProbeError::Setup(e.to_string()))?;
            Some((bundle, entry.clone(), s))
        }
        None => None,
    };
    let generated = match &compiled {
        Some((bundle, entry, _)) => Some(
            example(bundle, entry)
                .map_err(|e| ProbeError::Setup(format!("cannot make an example instance: {e}")))?,
        ),
        None => None,
    };
    let (text, source) = match (data, &generated) {
        (Some(file), _) => (
            std::fs::read_to_string(file).map_err(|e| ProbeError::Usage(format!("--data {}: {e}", file.display())))?,
            format!("data from {}", file.display()),
        ),
        (None, Some(ex)) => (ex.xml.clone(), format!("example generated from {}", schema.as_ref().map(|s| s.1.as_str()).unwrap_or_default())),
        (None, None) => {
            return Err(ProbeError::Usage(
                "no service data: give --data FILE or --service-xsd FILE (or set service_schema_dir in the settings)".into(),
            ))
        }
    };
    if let Some((_, entry, s)) = &compiled {
        s.validate(text.as_bytes()).map_err(|e| {
            ProbeError::Usage(format!("{source} is not valid against {entry}: {e}"))
        })?;
    }
    Ok(ServiceCall {
        label,
        primitive,
        ids,
        data: text,
        data_source: source,
        invalid: generated.map(|g| g.invalid_variant()),
    })
}

/// TOML basic string for a path.
fn toml_str(p: &Path) -> String {
    let s = p.display().to_string();
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// An explicit endpoint with its own TLS files, otherwise the gateway's default settings.
pub fn from_url(
    url: &str,
    ca: Option<&Path>,
    cert: Option<&Path>,
    key: Option<&Path>,
    inputs: &Inputs,
) -> Result<Plan, ProbeError> {
    let uri: Uri = url
        .parse()
        .map_err(|e| ProbeError::Usage(format!("--url {url}: {e}")))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
        return Err(ProbeError::Usage(format!(
            "--url {url}: needs http:// or https:// and a host"
        )));
    }
    if cert.is_some() != key.is_some() {
        return Err(ProbeError::Usage("--cert and --key go together".into()));
    }
    // The listener keys are irrelevant here; only [ec] is used.
    let mut toml = String::from("registry = \"(none)\"\nplain_http = true\n[ec]\n");
    for (k, v) in [("ca_file", ca), ("cert_file", cert), ("key_file", key)] {
        if let Some(p) = v {
            if !p.is_file() {
                return Err(ProbeError::Usage(format!(
                    "--{} {}: no such file",
                    k.trim_end_matches("_file"),
                    p.display()
                )));
            }
            toml.push_str(&format!("{k} = {}\n", toml_str(p)));
        }
    }
    let settings = Settings::from_toml(&toml, Path::new("."), "(command line)")
        .map_err(|e| ProbeError::Usage(e.to_string()))?;
    let clients = EcClients::new(&settings.ec).map_err(|e| ProbeError::Setup(e.to_string()))?;
    let primitive = inputs.primitive.unwrap_or(Primitive::PaDemand);
    let calls = if inputs.need_data {
        let ids = inputs.ids.clone().unwrap_or_else(|| Ids {
            id_pa: "77777777777".into(),
            id_broker_pa: "77777777777".into(),
            id_station: "77777777777_01".into(),
            id_servizio: "00001".into(),
            id_soggetto_servizio: "00001".into(),
            psp: "SANP_PROBE".into(),
        });
        let schema = inputs.service_xsd.as_deref().map(schema_file).transpose()?;
        vec![service_call(
            "custom".into(),
            primitive,
            ids,
            schema,
            inputs.data.as_deref(),
        )?]
    } else {
        Vec::new()
    };
    Ok(Plan {
        target: url.to_owned(),
        station_code: "probe".into(),
        ec: settings.ec,
        clients,
        endpoints: vec![(primitive, Ok((uri, "--url")))],
        proxy: None,
        calls,
    })
}
