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
    registry: PathBuf,
    service_schema_dir: Option<PathBuf>,
    #[serde(default)]
    ec: RawEc,
    #[serde(default)]
    validation: RawValidation,
    #[serde(default)]
    limits: RawLimits,
    #[serde(default)]
    log: RawLog,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEc {
    timeout_ms: Option<u64>,
    station_service: Option<StationService>,
    max_response_bytes: Option<usize>,
    ca_file: Option<PathBuf>,
    cert_file: Option<PathBuf>,
    key_file: Option<PathBuf>,
    #[serde(default)]
    stations: BTreeMap<String, RawStationOverride>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStationOverride {
    timeout_ms: Option<u64>,
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
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLog {
    level: Option<String>,
}

/// Validated settings. Paths are absolute (relative ones are taken from the settings file's folder).
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub registry: PathBuf,
    pub service_schema_dir: Option<PathBuf>,
    pub ec: EcSettings,
    pub service_data: ServiceDataMode,
    pub limits: LimitSettings,
    pub log_level: String,
}

#[derive(Debug, Clone)]
pub struct EcSettings {
    /// Whole-exchange deadline toward a station (connect, send, read the answer).
    pub timeout: Duration,
    pub station_service: StationService,
    /// Answers larger than this are cut off and reported as a bad answer.
    pub max_response_bytes: usize,
    pub ca_file: Option<PathBuf>,
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    pub station_timeouts: BTreeMap<String, Duration>,
}

impl EcSettings {
    pub fn timeout_for(&self, station: &str) -> Duration {
        self.station_timeouts
            .get(station)
            .copied()
            .unwrap_or(self.timeout)
    }
}

#[derive(Debug, Clone)]
pub struct LimitSettings {
    pub max_body_bytes: usize,
    pub xml: crate::soap::Limits,
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
pub const DEFAULT_EC_TIMEOUT_MS: u64 = 7_000;
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

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
        let mut station_timeouts = BTreeMap::new();
        for (code, o) in raw.ec.stations {
            if let Some(t) = o.timeout_ms {
                station_timeouts.insert(code, ms("ec.stations.<code>.timeout_ms", t)?);
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
            max_text_bytes: max_body_bytes,
        };
        if xml.max_depth < 8 {
            return Err(invalid(
                "limits.max_xml_depth",
                "a SOAP request needs at least 8 levels".into(),
            ));
        }
        let ec = EcSettings {
            timeout: ms(
                "ec.timeout_ms",
                raw.ec.timeout_ms.unwrap_or(DEFAULT_EC_TIMEOUT_MS),
            )?,
            station_service: raw.ec.station_service.unwrap_or_default(),
            max_response_bytes: raw.ec.max_response_bytes.unwrap_or(DEFAULT_MAX_BODY_BYTES),
            ca_file: raw.ec.ca_file.map(resolve),
            cert_file: raw.ec.cert_file.map(resolve),
            key_file: raw.ec.key_file.map(resolve),
            station_timeouts,
        };
        if ec.cert_file.is_some() != ec.key_file.is_some() {
            return Err(invalid(
                "ec.cert_file",
                "cert_file and key_file go together".into(),
            ));
        }
        Ok(Settings {
            listen,
            registry: resolve(raw.registry),
            service_schema_dir: raw.service_schema_dir.map(resolve),
            ec,
            service_data: raw.validation.dati_specifici_servizio.unwrap_or_default(),
            limits: LimitSettings {
                max_body_bytes,
                xml,
            },
            log_level: raw.log.level.unwrap_or_else(|| "info".into()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applies_defaults_and_resolves_paths() {
        let s = Settings::from_toml("registry = \"r.json\"", Path::new("/etc/sanp"), "t")
            .expect("valid");
        assert_eq!(s.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(s.registry, PathBuf::from("/etc/sanp/r.json"));
        assert_eq!(s.ec.timeout, Duration::from_secs(7));
        assert_eq!(s.ec.station_service, StationService::ServicePof);
        assert_eq!(s.service_data, ServiceDataMode::Validate);
        assert_eq!(s.limits.max_body_bytes, 1024 * 1024);
    }

    #[test]
    fn per_station_timeouts_override_the_default() {
        let s = Settings::from_toml(
            "registry = \"/r\"\n[ec]\ntimeout_ms = 5000\n[ec.stations.\"X_01\"]\ntimeout_ms = 1500\n",
            Path::new("/"),
            "t",
        )
        .expect("valid");
        assert_eq!(s.ec.timeout_for("X_01"), Duration::from_millis(1500));
        assert_eq!(s.ec.timeout_for("Y_01"), Duration::from_millis(5000));
    }

    #[test]
    fn refuses_typos_and_bad_values_naming_the_key() {
        let e = Settings::from_toml("registry = \"/r\"\nlisen = \"x\"", Path::new("/"), "t")
            .expect_err("unknown key");
        assert!(e.to_string().contains("lisen"), "{e}");
        let e = Settings::from_toml(
            "registry = \"/r\"\n[ec]\ntimeout_ms = 0",
            Path::new("/"),
            "t",
        )
        .expect_err("zero timeout");
        assert!(e.to_string().contains("ec.timeout_ms"), "{e}");
        let e = Settings::from_toml("listen = \"nope\"\nregistry = \"/r\"", Path::new("/"), "t")
            .expect_err("bad address");
        assert!(e.to_string().contains("listen"), "{e}");
    }
}
