//! Gateway settings: one TOML file, every key optional but `registry`, validated before any port is bound.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// Which station endpoint carries `paDemandPaymentNotice`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum StationService {
    /// `connection` + `service_pof.path` (what the Node does since fix PG-108).
    #[default]
    ServicePof,
    /// `connection` + `service.path`.
    Service,
    /// `connection_mod4` (else `connection`) + `service_mod4.path`.
    ServiceMod4,
}

/// What to do with `datiSpecificiServizio`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ServiceDataMode {
    /// Decode it and validate it against the service's `reference_xsd`.
    #[default]
    Validate,
    /// Forward it untouched (the behaviour pagoPA announced with PG-106).
    PassThrough,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    listen: Option<String>,
    #[serde(default)]
    plain_http: bool,
    tls_reload_interval_ms: Option<u64>,
    registry: PathBuf,
    service_schema_dir: Option<PathBuf>,
    tls: Option<RawServerTls>,
    #[serde(default)]
    psp_bindings: Vec<RawBinding>,
    #[serde(default)]
    ec: RawEc,
    #[serde(default)]
    validation: RawValidation,
    #[serde(default)]
    limits: RawLimits,
    #[serde(default)]
    log: RawLog,
    #[serde(default)]
    admin: RawAdmin,
    registry_poll_interval_ms: Option<u64>,
    registry_url: Option<RawRegistryUrl>,
    public_url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAdmin {
    listen: Option<String>,
    #[serde(default)]
    disabled: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegistryUrl {
    url: String,
    poll_interval_ms: Option<u64>,
    subscription_key: Option<String>,
    timeout_ms: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServerTls {
    cert_file: PathBuf,
    key_file: PathBuf,
    client_ca_file: Option<PathBuf>,
    #[serde(default)]
    crl_files: Vec<PathBuf>,
    handshake_timeout_ms: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBinding {
    broker: String,
    #[serde(default)]
    psps: Vec<String>,
    #[serde(default)]
    channels: Vec<String>,
    #[serde(default)]
    sha256: Vec<String>,
    #[serde(default)]
    issuer_serial: Vec<RawIssuerSerial>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIssuerSerial {
    issuer: String,
    serial: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEc {
    timeout_ms: Option<u64>,
    connect_timeout_ms: Option<u64>,
    station_service: Option<StationService>,
    legacy_station_service: Option<StationService>,
    max_response_bytes: Option<usize>,
    station_wait_ms: Option<u64>,
    max_concurrent_per_station: Option<usize>,
    ca_file: Option<PathBuf>,
    system_roots: Option<bool>,
    #[serde(default)]
    crl_files: Vec<PathBuf>,
    cert_file: Option<PathBuf>,
    key_file: Option<PathBuf>,
    #[serde(default)]
    stations: BTreeMap<String, RawStationOverride>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStationOverride {
    timeout_ms: Option<u64>,
    max_concurrent: Option<usize>,
    #[serde(default)]
    bridging: bool,
    ca_file: Option<PathBuf>,
    cert_file: Option<PathBuf>,
    key_file: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawValidation {
    dati_specifici_servizio: Option<ServiceDataMode>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    max_body_bytes: Option<usize>,
    max_xml_depth: Option<usize>,
    max_xml_elements: Option<usize>,
    max_xml_attributes: Option<usize>,
    max_xml_name_bytes: Option<usize>,
    max_xml_text_bytes: Option<usize>,
    header_read_timeout_ms: Option<u64>,
    body_read_timeout_ms: Option<u64>,
    max_connections: Option<usize>,
    max_in_flight: Option<usize>,
    psp_rate_per_second: Option<f64>,
    psp_burst: Option<f64>,
    shutdown_timeout_ms: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLog {
    level: Option<String>,
    format: Option<LogFormat>,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
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

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// Calls in flight to one station: an EC answering in 300 ms still serves ~850 demands a second,
/// while a hung one holds at most a quarter of the default `limits.max_in_flight`.
pub const DEFAULT_MAX_CONCURRENT_PER_STATION: usize = 256;
const DEFAULT_EC_TIMEOUT_MS: u64 = 7_000;
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// Checks a `public_url`: `http(s)://authority[/prefix]`, nothing that would need escaping in a
/// WSDL attribute, no query or fragment; returned without a trailing slash.
fn public_url(u: &str) -> Result<String, String> {
    let rest = u
        .strip_prefix("https://")
        .or_else(|| u.strip_prefix("http://"))
        .ok_or_else(|| format!("{u:?} is not an http(s) URL"))?;
    let authority = rest.split('/').next().unwrap_or("");
    let sane = |c: char| c.is_ascii_alphanumeric() || "-._~:[]/%".contains(c);
    if authority.is_empty() || !rest.chars().all(sane) {
        return Err(format!(
            "{u:?} must be http(s)://host[:port][/path] without query, fragment or user info"
        ));
    }
    Ok(u.trim_end_matches('/').to_owned())
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
        let raw: RawSettings = toml::from_str(text).map_err(|source| SettingsError::Parse {
            path: name.to_owned(),
            source,
        })?;
        let invalid = |key: &'static str, problem: String| SettingsError::Invalid {
            path: name.to_owned(),
            key,
            problem,
        };
        let listen = raw
            .listen
            .as_deref()
            .unwrap_or(DEFAULT_LISTEN)
            .parse::<SocketAddr>()
            .map_err(|e| invalid("listen", e.to_string()))?;
        let resolve = |p: PathBuf| if p.is_absolute() { p } else { base.join(p) };
        let ms = |key: &'static str, v: u64| {
            if v == 0 || v > 600_000 {
                Err(invalid(key, format!("{v} ms is outside 1..=600000")))
            } else {
                Ok(Duration::from_millis(v))
            }
        };

        let tls = match raw.tls {
            Some(t) => Some(ServerTls {
                cert_file: resolve(t.cert_file),
                key_file: resolve(t.key_file),
                client_ca_file: t.client_ca_file.map(resolve),
                crl_files: t.crl_files.into_iter().map(resolve).collect(),
                handshake_timeout: ms("tls.handshake_timeout_ms", t.handshake_timeout_ms.unwrap_or(10_000))?,
            }),
            None if raw.plain_http => None,
            None => {
                return Err(invalid(
                    "tls",
                    "the listener needs [tls] (cert_file, key_file); set plain_http = true to serve plain HTTP".into(),
                ))
            }
        };
        if raw.plain_http && tls.is_some() {
            return Err(invalid(
                "plain_http",
                "plain_http = true and [tls] exclude each other".into(),
            ));
        }
        let client_auth = tls.as_ref().is_some_and(|t| t.client_ca_file.is_some());
        let mut bindings = Vec::new();
        for b in raw.psp_bindings {
            let mut sha256 = Vec::new();
            for f in &b.sha256 {
                sha256.push(parse_fingerprint(f).map_err(|p| invalid("psp_bindings.sha256", p))?);
            }
            if b.broker.is_empty() || (sha256.is_empty() && b.issuer_serial.is_empty()) {
                return Err(invalid(
                    "psp_bindings",
                    format!("binding for broker {:?} needs a broker and at least one sha256 or issuer_serial", b.broker),
                ));
            }
            bindings.push(Binding {
                broker: b.broker,
                psps: b.psps,
                channels: b.channels,
                sha256,
                issuer_serial: b
                    .issuer_serial
                    .into_iter()
                    .map(|i| (normalize_dn(&i.issuer), normalize_serial(&i.serial)))
                    .collect(),
            });
        }
        if !bindings.is_empty() && !client_auth {
            return Err(invalid(
                "psp_bindings",
                "certificate bindings need client certificates: set tls.client_ca_file".into(),
            ));
        }
        if client_auth && bindings.is_empty() {
            return Err(invalid(
                "psp_bindings",
                "tls.client_ca_file requires at least one [[psp_bindings]] entry (callers are bound to certificates)".into(),
            ));
        }

        let mut station_timeouts = BTreeMap::new();
        let default_tls = TlsProfile {
            system_roots: raw.ec.system_roots.unwrap_or(raw.ec.ca_file.is_none()),
            ca_file: raw.ec.ca_file.map(resolve),
            crl_files: raw.ec.crl_files.into_iter().map(resolve).collect(),
            cert_file: raw.ec.cert_file.map(resolve),
            key_file: raw.ec.key_file.map(resolve),
        };
        check_identity(&default_tls).map_err(|p| invalid("ec.cert_file", p))?;
        let mut station_tls = BTreeMap::new();
        let mut bridging = std::collections::BTreeSet::new();
        let mut station_concurrency = BTreeMap::new();
        for (code, o) in raw.ec.stations {
            if let Some(n) = o.max_concurrent {
                if n == 0 {
                    return Err(invalid(
                        "ec.stations.<code>.max_concurrent",
                        "must be at least 1".into(),
                    ));
                }
                station_concurrency.insert(code.clone(), n);
            }
            if o.bridging {
                bridging.insert(code.clone());
            }
            if let Some(t) = o.timeout_ms {
                station_timeouts.insert(code.clone(), ms("ec.stations.<code>.timeout_ms", t)?);
            }
            if o.ca_file.is_some() || o.cert_file.is_some() || o.key_file.is_some() {
                let mut p = default_tls.clone();
                if let Some(ca) = o.ca_file {
                    p.ca_file = Some(resolve(ca));
                }
                if o.cert_file.is_some() || o.key_file.is_some() {
                    p.cert_file = o.cert_file.map(resolve);
                    p.key_file = o.key_file.map(resolve);
                }
                check_identity(&p).map_err(|e| invalid("ec.stations.<code>.cert_file", e))?;
                station_tls.insert(code, p);
            }
        }
        let defaults = crate::soap::Limits::default();
        let max_body_bytes = raw.limits.max_body_bytes.unwrap_or(DEFAULT_MAX_BODY_BYTES);
        if max_body_bytes < 1024 {
            return Err(invalid(
                "limits.max_body_bytes",
                format!("{max_body_bytes} is below 1024"),
            ));
        }
        let xml = crate::soap::Limits {
            max_depth: raw.limits.max_xml_depth.unwrap_or(defaults.max_depth),
            max_elements: raw.limits.max_xml_elements.unwrap_or(defaults.max_elements),
            max_attributes: raw
                .limits
                .max_xml_attributes
                .unwrap_or(defaults.max_attributes),
            max_name_bytes: raw
                .limits
                .max_xml_name_bytes
                .unwrap_or(defaults.max_name_bytes),
            max_text_bytes: raw.limits.max_xml_text_bytes.unwrap_or(512 * 1024),
        };
        if xml.max_depth < 8 {
            return Err(invalid(
                "limits.max_xml_depth",
                "a SOAP request needs at least 8 levels".into(),
            ));
        }
        let max_connections = raw.limits.max_connections.unwrap_or(4_096);
        if max_connections == 0 {
            return Err(invalid(
                "limits.max_connections",
                "must be at least 1".into(),
            ));
        }
        let max_in_flight = raw.limits.max_in_flight.unwrap_or(1_024);
        if max_in_flight == 0 {
            return Err(invalid("limits.max_in_flight", "must be at least 1".into()));
        }
        let psp_rate = match raw.limits.psp_rate_per_second {
            None => None,
            Some(r) if r > 0.0 && r.is_finite() => {
                let burst = raw.limits.psp_burst.unwrap_or(r.max(1.0));
                if !(burst >= 1.0 && burst.is_finite()) {
                    return Err(invalid("limits.psp_burst", format!("{burst} is below 1")));
                }
                Some((r, burst))
            }
            Some(r) => {
                return Err(invalid(
                    "limits.psp_rate_per_second",
                    format!("{r} is not a positive rate"),
                ))
            }
        };
        let admin_listen = if raw.admin.disabled {
            None
        } else {
            Some(
                raw.admin
                    .listen
                    .as_deref()
                    .unwrap_or("127.0.0.1:9090")
                    .parse::<SocketAddr>()
                    .map_err(|e| invalid("admin.listen", e.to_string()))?,
            )
        };
        let ec = EcSettings {
            timeout: ms(
                "ec.timeout_ms",
                raw.ec.timeout_ms.unwrap_or(DEFAULT_EC_TIMEOUT_MS),
            )?,
            connect_timeout: ms(
                "ec.connect_timeout_ms",
                raw.ec.connect_timeout_ms.unwrap_or(3_000),
            )?,
            station_service: raw.ec.station_service.unwrap_or_default(),
            legacy_station_service: raw
                .ec
                .legacy_station_service
                .unwrap_or(StationService::ServiceMod4),
            bridging,
            max_response_bytes: raw.ec.max_response_bytes.unwrap_or(DEFAULT_MAX_BODY_BYTES),
            tls: default_tls,
            station_timeouts,
            station_tls,
            station_concurrency,
            max_concurrent_per_station: match raw.ec.max_concurrent_per_station {
                Some(0) => {
                    return Err(invalid(
                        "ec.max_concurrent_per_station",
                        "must be at least 1".into(),
                    ))
                }
                other => other.unwrap_or(DEFAULT_MAX_CONCURRENT_PER_STATION),
            },
            station_wait: match raw.ec.station_wait_ms {
                Some(0) => Duration::ZERO,
                other => ms("ec.station_wait_ms", other.unwrap_or(1_000))?,
            },
        };
        Ok(Settings {
            listen,
            tls,
            bindings,
            tls_reload_interval: ms(
                "tls_reload_interval_ms",
                raw.tls_reload_interval_ms.unwrap_or(5_000),
            )?,
            registry: resolve(raw.registry),
            service_schema_dir: raw.service_schema_dir.map(resolve),
            ec,
            service_data: raw.validation.dati_specifici_servizio.unwrap_or_default(),
            limits: LimitSettings {
                max_body_bytes,
                xml,
                header_read_timeout: ms(
                    "limits.header_read_timeout_ms",
                    raw.limits.header_read_timeout_ms.unwrap_or(10_000),
                )?,
                body_read_timeout: ms(
                    "limits.body_read_timeout_ms",
                    raw.limits.body_read_timeout_ms.unwrap_or(10_000),
                )?,
                max_connections,
                max_in_flight,
                psp_rate,
                shutdown_timeout: ms(
                    "limits.shutdown_timeout_ms",
                    raw.limits.shutdown_timeout_ms.unwrap_or(30_000),
                )?,
            },
            log_level: raw.log.level.unwrap_or_else(|| "info".into()),
            log_format: raw.log.format.unwrap_or_default(),
            admin_listen,
            registry_poll_interval: match raw.registry_poll_interval_ms {
                Some(0) => None,
                other => Some(ms("registry_poll_interval_ms", other.unwrap_or(1_000))?),
            },
            public_url: match raw.public_url {
                None => None,
                Some(u) => Some(public_url(&u).map_err(|p| invalid("public_url", p))?),
            },
            registry_url: match raw.registry_url {
                None => None,
                Some(u) => {
                    if !(u.url.starts_with("http://") || u.url.starts_with("https://")) {
                        return Err(invalid(
                            "registry_url.url",
                            format!("{:?} is not an http(s) URL", u.url),
                        ));
                    }
                    Some(RegistryUrl {
                        url: u.url.trim_end_matches('/').to_owned(),
                        poll_interval: ms(
                            "registry_url.poll_interval_ms",
                            u.poll_interval_ms.unwrap_or(60_000),
                        )?,
                        subscription_key: u.subscription_key.map(crate::secret::Secret::new),
                        timeout: ms("registry_url.timeout_ms", u.timeout_ms.unwrap_or(10_000))?,
                    })
                }
            },
        })
    }

    /// Whether callers must present a certificate bound to their broker.
    pub fn client_auth(&self) -> bool {
        self.tls
            .as_ref()
            .is_some_and(|t| t.client_ca_file.is_some())
    }
}

fn check_identity(p: &TlsProfile) -> Result<(), String> {
    if p.cert_file.is_some() != p.key_file.is_some() {
        return Err("cert_file and key_file go together".into());
    }
    Ok(())
}

/// `AB:CD:…` or `abcd…` (64 hex digits) → 32 bytes.
pub fn parse_fingerprint(s: &str) -> Result<[u8; 32], String> {
    let hex: String = s
        .trim()
        .trim_start_matches("sha256:")
        .chars()
        .filter(|c| *c != ':')
        .collect();
    if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!(
            "{s:?} is not a SHA-256 fingerprint (64 hex digits)"
        ));
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// Serial numbers compare as lower-case hex without separators or leading zeros.
pub fn normalize_serial(s: &str) -> String {
    let hex: String = s
        .chars()
        .filter(|c| c.is_ascii_hexdigit())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let trimmed = hex.trim_start_matches('0');
    if trimmed.is_empty() {
        "0".into()
    } else {
        trimmed.into()
    }
}

/// Distinguished names compare without blanks around `,` and `=`.
pub fn normalize_dn(s: &str) -> String {
    s.split(',')
        .map(|rdn| {
            let (k, v) = rdn.split_once('=').unwrap_or((rdn, ""));
            format!("{}={}", k.trim(), v.trim())
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(extra: &str) -> Result<Settings, SettingsError> {
        Settings::from_toml(
            &format!("plain_http = true\nregistry = \"r.json\"\n{extra}"),
            Path::new("/etc/sanp"),
            "t",
        )
    }

    #[test]
    fn applies_defaults_and_resolves_paths() {
        let s = plain("").expect("valid");
        assert_eq!(s.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(s.registry, PathBuf::from("/etc/sanp/r.json"));
        assert_eq!(s.ec.timeout, Duration::from_secs(7));
        assert_eq!(s.ec.station_wait, Duration::from_secs(1));
        let no_wait = plain("[ec]\nstation_wait_ms = 0\n").expect("valid");
        assert_eq!(no_wait.ec.station_wait, Duration::ZERO);
        assert_eq!(s.ec.station_service, StationService::ServicePof);
        assert_eq!(s.service_data, ServiceDataMode::Validate);
        assert_eq!(s.limits.max_body_bytes, 1024 * 1024);
        assert!(s.ec.tls.system_roots);
        assert!(!s.client_auth());
    }

    #[test]
    fn public_url_is_an_http_base_without_query_or_user_info() {
        let s = plain("public_url = \"https://sanp.psp.example:443/gw/\"\n").expect("valid");
        assert_eq!(
            s.public_url.as_deref(),
            Some("https://sanp.psp.example:443/gw")
        );
        assert_eq!(plain("").expect("valid").public_url, None);
        for bad in [
            "ftp://x",
            "https://",
            "https://a/b?c=d",
            "https://u:p@host",
            "https://host/\\\"x",
            "https://host/#f",
        ] {
            let e = plain(&format!("public_url = {bad:?}\n")).expect_err(bad);
            assert!(e.to_string().contains("public_url"), "{bad}: {e}");
        }
    }

    #[test]
    fn per_station_settings_override_the_default() {
        let s = plain("[ec]\ntimeout_ms = 5000\ncert_file = \"gw.pem\"\nkey_file = \"gw.key\"\n[ec.stations.\"X_01\"]\ntimeout_ms = 1500\nca_file = \"x-ca.pem\"\n")
            .expect("valid");
        assert_eq!(s.ec.timeout_for("X_01"), Duration::from_millis(1500));
        assert_eq!(s.ec.timeout_for("Y_01"), Duration::from_millis(5000));
        assert_eq!(s.ec.tls_profile_for("X_01"), "X_01");
        assert_eq!(s.ec.tls_profile_for("Y_01"), "");
        let x = &s.ec.station_tls["X_01"];
        assert_eq!(x.ca_file.as_deref(), Some(Path::new("/etc/sanp/x-ca.pem")));
        assert_eq!(
            x.cert_file.as_deref(),
            Some(Path::new("/etc/sanp/gw.pem")),
            "identity inherited"
        );
    }

    #[test]
    fn refuses_typos_and_bad_values_naming_the_key() {
        let e = plain("lisen = \"x\"").expect_err("unknown key");
        assert!(e.to_string().contains("lisen"), "{e}");
        let e = plain("[ec]\ntimeout_ms = 0").expect_err("zero timeout");
        assert!(e.to_string().contains("ec.timeout_ms"), "{e}");
        let e = Settings::from_toml("registry = \"/r\"", Path::new("/"), "t")
            .expect_err("no TLS, no plain");
        assert!(e.to_string().contains("plain_http"), "{e}");
    }

    #[test]
    fn bindings_need_client_certificates_and_vice_versa() {
        let tls =
            "[tls]\ncert_file = \"s.pem\"\nkey_file = \"s.key\"\nclient_ca_file = \"ca.pem\"\n";
        let base = "registry = \"r.json\"\n";
        let e = Settings::from_toml(&format!("{base}{tls}"), Path::new("/"), "t")
            .expect_err("no binding");
        assert!(e.to_string().contains("psp_bindings"), "{e}");
        let fp = "AB:".repeat(31) + "AB";
        let ok = Settings::from_toml(
            &format!("{base}{tls}[[psp_bindings]]\nbroker = \"B\"\nsha256 = [\"{fp}\"]\nissuer_serial = [{{ issuer = \"CN = CA, O=X\", serial = \"00:0A:1b\" }}]\n"),
            Path::new("/"),
            "t",
        )
        .expect("valid");
        assert_eq!(ok.bindings[0].sha256[0], [0xab; 32]);
        assert_eq!(
            ok.bindings[0].issuer_serial[0],
            ("CN=CA,O=X".to_owned(), "a1b".to_owned())
        );
        let e = plain(&format!(
            "[[psp_bindings]]\nbroker = \"B\"\nsha256 = [\"{fp}\"]\n"
        ))
        .expect_err("plain with bindings");
        assert!(e.to_string().contains("client_ca_file"), "{e}");
        assert!(parse_fingerprint("abc").is_err());
    }
}
