//! The settings file as written: the serde model, every key optional but `registry`, unknown keys refused.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use super::{LogFormat, ServiceDataMode, StationService};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSettings {
    pub(super) listen: Option<String>,
    #[serde(default)]
    pub(super) plain_http: bool,
    pub(super) tls_reload_interval_ms: Option<u64>,
    pub(super) registry: PathBuf,
    pub(super) service_schema_dir: Option<PathBuf>,
    pub(super) tls: Option<RawServerTls>,
    #[serde(default)]
    pub(super) psp_bindings: Vec<RawBinding>,
    #[serde(default)]
    pub(super) ec: RawEc,
    #[serde(default)]
    pub(super) validation: RawValidation,
    #[serde(default)]
    pub(super) limits: RawLimits,
    #[serde(default)]
    pub(super) log: RawLog,
    #[serde(default)]
    pub(super) admin: RawAdmin,
    pub(super) registry_poll_interval_ms: Option<u64>,
    pub(super) registry_url: Option<RawRegistryUrl>,
    pub(super) public_url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAdmin {
    pub(super) listen: Option<String>,
    #[serde(default)]
    pub(super) disabled: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRegistryUrl {
    pub(super) url: String,
    pub(super) poll_interval_ms: Option<u64>,
    pub(super) subscription_key: Option<String>,
    pub(super) timeout_ms: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawServerTls {
    pub(super) cert_file: PathBuf,
    pub(super) key_file: PathBuf,
    pub(super) client_ca_file: Option<PathBuf>,
    #[serde(default)]
    pub(super) crl_files: Vec<PathBuf>,
    pub(super) handshake_timeout_ms: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBinding {
    pub(super) broker: String,
    #[serde(default)]
    pub(super) psps: Vec<String>,
    #[serde(default)]
    pub(super) channels: Vec<String>,
    #[serde(default)]
    pub(super) sha256: Vec<String>,
    #[serde(default)]
    pub(super) issuer_serial: Vec<RawIssuerSerial>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawIssuerSerial {
    pub(super) issuer: String,
    pub(super) serial: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEc {
    pub(super) timeout_ms: Option<u64>,
    pub(super) connect_timeout_ms: Option<u64>,
    pub(super) station_service: Option<StationService>,
    pub(super) legacy_station_service: Option<StationService>,
    pub(super) max_response_bytes: Option<usize>,
    pub(super) station_wait_ms: Option<u64>,
    pub(super) max_concurrent_per_station: Option<usize>,
    pub(super) ca_file: Option<PathBuf>,
    pub(super) system_roots: Option<bool>,
    #[serde(default)]
    pub(super) crl_files: Vec<PathBuf>,
    pub(super) cert_file: Option<PathBuf>,
    pub(super) key_file: Option<PathBuf>,
    #[serde(default)]
    pub(super) stations: BTreeMap<String, RawStationOverride>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStationOverride {
    pub(super) timeout_ms: Option<u64>,
    pub(super) max_concurrent: Option<usize>,
    #[serde(default)]
    pub(super) bridging: bool,
    pub(super) ca_file: Option<PathBuf>,
    pub(super) cert_file: Option<PathBuf>,
    pub(super) key_file: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawValidation {
    pub(super) dati_specifici_servizio: Option<ServiceDataMode>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLimits {
    pub(super) max_body_bytes: Option<usize>,
    pub(super) max_xml_depth: Option<usize>,
    pub(super) max_xml_elements: Option<usize>,
    pub(super) max_xml_attributes: Option<usize>,
    pub(super) max_xml_name_bytes: Option<usize>,
    pub(super) max_xml_text_bytes: Option<usize>,
    pub(super) header_read_timeout_ms: Option<u64>,
    pub(super) body_read_timeout_ms: Option<u64>,
    pub(super) max_connections: Option<usize>,
    pub(super) max_in_flight: Option<usize>,
    pub(super) psp_rate_per_second: Option<f64>,
    pub(super) psp_burst: Option<f64>,
    pub(super) shutdown_timeout_ms: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLog {
    pub(super) level: Option<String>,
    pub(super) format: Option<LogFormat>,
}
