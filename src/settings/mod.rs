//! Gateway settings: one TOML file, every key optional but `registry`, validated before any port is bound.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

pub mod defaults;
#[cfg(test)]
mod doc_check;
mod raw;
mod restart;
#[cfg(test)]
mod tests;
mod validate;

pub use defaults::{DEFAULT_LISTEN, DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_CONCURRENT_PER_STATION};
pub use restart::keep_restart_only;

/// Which station endpoint carries `paDemandPaymentNotice`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StationService {
    /// `connection` + `service_pof.path` (what the Node does since fix PG-108).
    ServicePof,
    /// `connection` + `service.path`.
    Service,
    /// `connection_mod4` (else `connection`) + `service_mod4.path`.
    ServiceMod4,
}

/// What to do with `datiSpecificiServizio`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceDataMode {
    /// Decode it and validate it against the service's `reference_xsd`.
    Validate,
    /// Forward it untouched (the behaviour pagoPA announced with PG-106).
    PassThrough,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

impl StationService {
    /// The name the settings file uses.
    pub const fn name(self) -> &'static str {
        match self {
            Self::ServicePof => "service_pof",
            Self::Service => "service",
            Self::ServiceMod4 => "service_mod4",
        }
    }
}

impl Default for StationService {
    fn default() -> Self {
        defaults::DEFAULT_STATION_SERVICE
    }
}

impl ServiceDataMode {
    /// The name the settings file uses.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Validate => "validate",
            Self::PassThrough => "pass_through",
        }
    }
}

impl Default for ServiceDataMode {
    fn default() -> Self {
        defaults::DEFAULT_SERVICE_DATA
    }
}

impl LogFormat {
    /// The name the settings file uses.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Json => "json",
        }
    }
}

impl Default for LogFormat {
    fn default() -> Self {
        defaults::DEFAULT_LOG_FORMAT
    }
}

/// Validated settings. Paths are absolute (relative ones are taken from the settings file's folder).
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    /// TLS on the listener; `None` only with `plain_http = true`.
    pub tls: Option<ServerTls>,
    /// Certificate → caller bindings, enforced when client certificates are required.
    pub bindings: Vec<Binding>,
    /// How often certificate, key, CA and CRL files (inbound and outbound) are checked for changes.
    pub tls_reload_interval: Duration,
    pub registry: PathBuf,
    pub service_schema_dir: Option<PathBuf>,
    pub ec: EcSettings,
    pub service_data: ServiceDataMode,
    pub limits: LimitSettings,
    pub log_level: String,
    pub log_format: LogFormat,
    /// The admin listener (metrics, health, refresh); `None` when disabled.
    pub admin_listen: Option<SocketAddr>,
    /// How often the registry file is checked for changes (`None`: only on signal or request).
    pub registry_poll_interval: Option<Duration>,
    /// An api-config-cache style source polled for new registry versions.
    pub registry_url: Option<RegistryUrl>,
    /// Scheme and authority (and optional path prefix) the gateway is reached at from outside,
    /// used in the published WSDL when a proxy or balancer sits in front; `None`: taken from the
    /// request (`Host` and the listener's own scheme).
    pub public_url: Option<String>,
}

/// `GET {url}/id` gives `{"version": …}`; `GET {url}` the document when the version changed.
#[derive(Clone)]
pub struct RegistryUrl {
    pub url: String,
    pub poll_interval: Duration,
    /// Sent as `Ocp-Apim-Subscription-Key`.
    pub subscription_key: Option<crate::secret::Secret>,
    pub timeout: Duration,
}

impl std::fmt::Debug for RegistryUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryUrl")
            .field("url", &self.url)
            .field("poll_interval", &self.poll_interval)
            .field("subscription_key", &self.subscription_key)
            .finish()
    }
}

/// The listener's TLS material and client-certificate policy.
#[derive(Debug, Clone)]
pub struct ServerTls {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    /// When set, every client must present a certificate issued by one of these CAs.
    pub client_ca_file: Option<PathBuf>,
    pub crl_files: Vec<PathBuf>,
    pub handshake_timeout: Duration,
}

/// One PSP broker bound to the certificates allowed to speak for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub broker: String,
    /// Allowed `idPSP`s; empty means any PSP of the broker.
    pub psps: Vec<String>,
    /// Allowed channels; empty means any.
    pub channels: Vec<String>,
    /// SHA-256 fingerprints of the DER certificate.
    pub sha256: Vec<[u8; 32]>,
    /// (issuer DN, serial in lower-case hex without leading zeros).
    pub issuer_serial: Vec<(String, String)>,
}

/// Trust and identity toward one station (or the default for all of them).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TlsProfile {
    pub ca_file: Option<PathBuf>,
    pub system_roots: bool,
    pub crl_files: Vec<PathBuf>,
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct EcSettings {
    /// Whole-exchange deadline toward a station (connect, send, read the answer).
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub station_service: StationService,
    /// Which station endpoint carries the legacy `paaChiediNumeroAvviso`.
    pub legacy_station_service: StationService,
    /// Stations for which requests of the other version are translated (SANP 3 ↔ legacy).
    pub bridging: std::collections::BTreeSet<String>,
    /// Answers larger than this are cut off and reported as a bad answer.
    pub max_response_bytes: usize,
    pub tls: TlsProfile,
    pub station_timeouts: BTreeMap<String, Duration>,
    /// Stations with their own trust or identity.
    pub station_tls: BTreeMap<String, TlsProfile>,
    /// Calls in flight allowed per station, where set for that station.
    pub station_concurrency: BTreeMap<String, usize>,
    /// Calls in flight allowed to any other station: high enough for normal traffic, bounded
    /// so that one hung station cannot hold every in-flight slot. The registry's
    /// `thread_number` is not used: nothing public says the Node caps synchronous calls with it.
    pub max_concurrent_per_station: usize,
    /// How long a call waits for one of a busy station's slots before it is refused.
    pub station_wait: Duration,
}

impl EcSettings {
    pub fn concurrency_for(&self, station: &str) -> usize {
        self.station_concurrency
            .get(station)
            .copied()
            .unwrap_or(self.max_concurrent_per_station)
    }

    pub fn timeout_for(&self, station: &str) -> Duration {
        self.station_timeouts
            .get(station)
            .copied()
            .unwrap_or(self.timeout)
    }

    /// The TLS profile name used for `station` (`""` is the default profile).
    pub fn tls_profile_for<'a>(&self, station: &'a str) -> &'a str {
        if self.station_tls.contains_key(station) {
            station
        } else {
            ""
        }
    }
}

#[derive(Debug, Clone)]
pub struct LimitSettings {
    pub max_body_bytes: usize,
    pub xml: crate::soap::Limits,
    /// Time allowed to send the request headers.
    pub header_read_timeout: Duration,
    /// Time allowed to send the whole body once the headers are in.
    pub body_read_timeout: Duration,
    /// Connections served at once; further clients wait in the listen backlog.
    pub max_connections: usize,
    /// Requests processed at once; beyond, requests get PPT_SUPERAMENTOSOGLIA at once.
    pub max_in_flight: usize,
    /// Per-PSP token bucket: (requests per second, burst); `None` = no rate limit.
    pub psp_rate: Option<(f64, f64)>,
    /// How long a graceful shutdown waits for requests in flight.
    pub shutdown_timeout: Duration,
}

/// Why settings were refused.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read settings {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("settings {path}: {source}")]
    Parse {
        path: String,
        #[source]
        source: toml::de::Error,
    },
    #[error("settings {path}: {key}: {problem}")]
    Invalid {
        path: String,
        key: &'static str,
        problem: String,
    },
}

impl Settings {
    pub fn load(path: &Path) -> Result<Self, SettingsError> {
        let text = std::fs::read_to_string(path).map_err(|source| SettingsError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let base = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        Self::from_toml(&text, &base, &path.display().to_string())
    }

    /// Parses settings text; relative paths are resolved against `base`.
    pub fn from_toml(text: &str, base: &Path, name: &str) -> Result<Self, SettingsError> {
        let raw: raw::RawSettings =
            toml::from_str(text).map_err(|source| SettingsError::Parse {
                path: name.to_owned(),
                source,
            })?;
        validate::settings(raw, base, name)
    }

    /// Whether callers must present a certificate bound to their broker.
    pub fn client_auth(&self) -> bool {
        self.tls
            .as_ref()
            .is_some_and(|t| t.client_ca_file.is_some())
    }
}
