//! The one table of settings keys: each key's default (as typed constants the code reads), whether a reload applies it, and the documented form.

use super::{LogFormat, ServiceDataMode, StationService};

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_TLS_RELOAD_INTERVAL_MS: u64 = 5_000;
pub const DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS: u64 = 10_000;
pub const DEFAULT_EC_TIMEOUT_MS: u64 = 7_000;
pub const DEFAULT_EC_CONNECT_TIMEOUT_MS: u64 = 3_000;
pub const DEFAULT_STATION_SERVICE: StationService = StationService::ServicePof;
pub const DEFAULT_LEGACY_STATION_SERVICE: StationService = StationService::ServiceMod4;
pub const DEFAULT_EC_MAX_RESPONSE_BYTES: usize = 1024 * 1024;
/// Calls in flight to one station: an EC answering in 300 ms still serves ~850 demands a second,
/// while a hung one holds at most a quarter of the default `limits.max_in_flight`.
pub const DEFAULT_MAX_CONCURRENT_PER_STATION: usize = 256;
pub const DEFAULT_STATION_WAIT_MS: u64 = 1_000;
pub const DEFAULT_SERVICE_DATA: ServiceDataMode = ServiceDataMode::Validate;
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;
pub const DEFAULT_MAX_XML_DEPTH: usize = 64;
pub const DEFAULT_MAX_XML_ELEMENTS: usize = 20_000;
pub const DEFAULT_MAX_XML_ATTRIBUTES: usize = 64;
pub const DEFAULT_MAX_XML_NAME_BYTES: usize = 512;
/// What the settings have always defaulted to; `soap::Limits::default()` (the sample EC, fuzz
/// targets, tests) said 4 MiB before it read this table.
pub const DEFAULT_MAX_XML_TEXT_BYTES: usize = 512 * 1024;
pub const DEFAULT_HEADER_READ_TIMEOUT_MS: u64 = 10_000;
pub const DEFAULT_BODY_READ_TIMEOUT_MS: u64 = 10_000;
pub const DEFAULT_MAX_CONNECTIONS: usize = 4_096;
pub const DEFAULT_MAX_IN_FLIGHT: usize = 1_024;
pub const DEFAULT_SHUTDOWN_TIMEOUT_MS: u64 = 30_000;
pub const DEFAULT_LOG_LEVEL: &str = "info";
pub const DEFAULT_LOG_FORMAT: LogFormat = LogFormat::Text;
pub const DEFAULT_ADMIN_LISTEN: &str = "127.0.0.1:9090";
pub const DEFAULT_REGISTRY_POLL_INTERVAL_MS: u64 = 1_000;
pub const DEFAULT_REGISTRY_URL_POLL_INTERVAL_MS: u64 = 60_000;
pub const DEFAULT_REGISTRY_URL_TIMEOUT_MS: u64 = 10_000;

/// The names a settings reload reports for changed keys it cannot apply (the old value stays).
/// Several keys share a name when they feed one piece of state built at start.
pub mod restart {
    pub const LISTEN: &str = "listen";
    pub const TLS: &str = "tls / plain_http";
    pub const REGISTRY: &str = "registry";
    pub const REGISTRY_URL: &str = "registry_url";
    pub const REGISTRY_POLL_INTERVAL: &str = "registry_poll_interval_ms";
    pub const SERVICE_SCHEMA_DIR: &str = "service_schema_dir";
    pub const SERVICE_DATA: &str = "validation.dati_specifici_servizio";
    pub const EC_TLS: &str = "ec TLS (ca_file, cert_file, key_file, crl_files, system_roots)";
    pub const EC_CONNECT_TIMEOUT: &str = "ec.connect_timeout_ms";
    pub const MAX_CONNECTIONS: &str = "limits.max_connections";
    pub const ADMIN_LISTEN: &str = "admin.listen";
    pub const LOG: &str = "log";
    pub const TLS_RELOAD_INTERVAL: &str = "tls_reload_interval_ms";
}

/// A key's default as the documentation shows it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DefaultValue {
    /// A number, shown as `` `5000` ``.
    Int(u64),
    /// A string, shown quoted: `` `"info"` ``.
    Str(&'static str),
    Bool(bool),
    /// Prose, shown verbatim (`none`, `required`, another key's name…).
    Text(&'static str),
}

impl DefaultValue {
    /// The documented form (a cell of the settings table).
    pub fn documented(self) -> String {
        match self {
            Self::Int(n) => format!("`{n}`"),
            Self::Str(s) => format!("`\"{s}\"`"),
            Self::Bool(b) => format!("`{b}`"),
            Self::Text(t) => t.to_owned(),
        }
    }
}

/// Whether a settings reload applies a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reload {
    Live,
    /// Needs a restart; a reload keeps the old value and reports this name.
    Restart(&'static str),
}

/// One settings key.
#[derive(Debug, Clone, Copy)]
pub struct KeyDoc {
    /// Dotted name; `ec.stations."<code>".x` for per-station keys, `psp_bindings.x` for the
    /// fields of each `[[psp_bindings]]` entry.
    pub key: &'static str,
    pub default: DefaultValue,
    pub reload: Reload,
    /// One line for the reader of the code; the documentation says more.
    pub doc: &'static str,
}

const fn int(n: usize) -> DefaultValue {
    DefaultValue::Int(n as u64)
}

const NONE: DefaultValue = DefaultValue::Text("none");
const NO_FILES: DefaultValue = DefaultValue::Text("`[]`");

const fn key(
    key: &'static str,
    default: DefaultValue,
    reload: Reload,
    doc: &'static str,
) -> KeyDoc {
    KeyDoc {
        key,
        default,
        reload,
        doc,
    }
}

use restart as r;
use DefaultValue::{Bool, Int, Str, Text};
use Reload::{Live, Restart};

/// Every settings key, in the order of the documented table.
#[rustfmt::skip]
pub const KEYS: &[KeyDoc] = &[
    key("listen", Str(DEFAULT_LISTEN), Restart(r::LISTEN), "address of the SOAP listener"),
    key("plain_http", Bool(false), Restart(r::TLS), "plain HTTP instead of TLS; excludes [tls]"),
    key("public_url", NONE, Live, "external base URL of the published WSDL's addresses"),
    key("registry", Text("required"), Restart(r::REGISTRY), "ConfigDataV1 file"),
    key("service_schema_dir", NONE, Restart(r::SERVICE_SCHEMA_DIR), "folder of the per-service XSDs"),
    key("tls_reload_interval_ms", Int(DEFAULT_TLS_RELOAD_INTERVAL_MS), Restart(r::TLS_RELOAD_INTERVAL), "how often PEM files are checked"),
    key("tls.cert_file", Text("required with `[tls]`"), Restart(r::TLS), "listener certificate chain"),
    key("tls.key_file", Text("required with `[tls]`"), Restart(r::TLS), "listener private key"),
    key("tls.client_ca_file", NONE, Restart(r::TLS), "CAs of PSP client certificates"),
    key("tls.crl_files", NO_FILES, Restart(r::TLS), "CRLs for client certificates"),
    key("tls.handshake_timeout_ms", Int(DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS), Restart(r::TLS), "TLS handshake deadline"),
    key("psp_bindings.broker", NONE, Live, "PSP broker bound to certificates"),
    key("psp_bindings.psps", NONE, Live, "PSPs the binding is restricted to"),
    key("psp_bindings.channels", NONE, Live, "channels the binding is restricted to"),
    key("psp_bindings.sha256", NONE, Live, "certificate fingerprints"),
    key("psp_bindings.issuer_serial", NONE, Live, "certificate issuer DN and serial"),
    key("ec.timeout_ms", Int(DEFAULT_EC_TIMEOUT_MS), Live, "deadline of a whole station exchange"),
    key("ec.connect_timeout_ms", Int(DEFAULT_EC_CONNECT_TIMEOUT_MS), Restart(r::EC_CONNECT_TIMEOUT), "TCP connect deadline"),
    key("ec.station_service", Str(DEFAULT_STATION_SERVICE.name()), Live, "station path of paDemandPaymentNotice"),
    key("ec.legacy_station_service", Str(DEFAULT_LEGACY_STATION_SERVICE.name()), Live, "station path of paaChiediNumeroAvviso"),
    key("ec.stations.\"<code>\".bridging", Bool(false), Live, "translate the other version for this station"),
    key("ec.max_response_bytes", int(DEFAULT_EC_MAX_RESPONSE_BYTES), Live, "cap of a station's answer"),
    key("ec.ca_file", NONE, Restart(r::EC_TLS), "private CA bundle for stations"),
    key("ec.system_roots", Text("`true` without `ca_file`, else `false`"), Restart(r::EC_TLS), "trust the system bundle too"),
    key("ec.crl_files", NO_FILES, Restart(r::EC_TLS), "CRLs for station certificates"),
    key("ec.cert_file", NONE, Restart(r::EC_TLS), "client certificate toward stations"),
    key("ec.key_file", NONE, Restart(r::EC_TLS), "client key toward stations"),
    key("ec.stations.\"<code>\".timeout_ms", Text("`ec.timeout_ms`"), Live, "per-station deadline"),
    key("ec.stations.\"<code>\".ca_file", Text("the `ec.*` ones"), Restart(r::EC_TLS), "per-station CA bundle"),
    key("ec.stations.\"<code>\".cert_file", Text("the `ec.*` ones"), Restart(r::EC_TLS), "per-station client certificate"),
    key("ec.stations.\"<code>\".key_file", Text("the `ec.*` ones"), Restart(r::EC_TLS), "per-station client key"),
    key("validation.dati_specifici_servizio", Str(DEFAULT_SERVICE_DATA.name()), Restart(r::SERVICE_DATA), "validate or pass through service data"),
    key("limits.max_body_bytes", int(DEFAULT_MAX_BODY_BYTES), Live, "request body cap"),
    key("limits.max_xml_depth", int(DEFAULT_MAX_XML_DEPTH), Live, "element nesting"),
    key("limits.max_xml_elements", int(DEFAULT_MAX_XML_ELEMENTS), Live, "elements per document"),
    key("limits.max_xml_attributes", int(DEFAULT_MAX_XML_ATTRIBUTES), Live, "attributes per element"),
    key("limits.max_xml_name_bytes", int(DEFAULT_MAX_XML_NAME_BYTES), Live, "length of a name"),
    key("limits.max_xml_text_bytes", int(DEFAULT_MAX_XML_TEXT_BYTES), Live, "length of a text or attribute value"),
    key("limits.header_read_timeout_ms", Int(DEFAULT_HEADER_READ_TIMEOUT_MS), Live, "time to send the headers"),
    key("limits.body_read_timeout_ms", Int(DEFAULT_BODY_READ_TIMEOUT_MS), Live, "time to send the body"),
    key("limits.max_connections", int(DEFAULT_MAX_CONNECTIONS), Restart(r::MAX_CONNECTIONS), "connections served at once"),
    key("limits.max_in_flight", int(DEFAULT_MAX_IN_FLIGHT), Live, "SOAP requests processed at once"),
    key("limits.psp_rate_per_second", Text("none (no limit)"), Live, "token-bucket rate per PSP"),
    key("limits.psp_burst", Text("`max(rate, 1)`"), Live, "token-bucket size per PSP"),
    key("limits.shutdown_timeout_ms", Int(DEFAULT_SHUTDOWN_TIMEOUT_MS), Live, "drain time on SIGTERM/SIGINT"),
    key("ec.max_concurrent_per_station", int(DEFAULT_MAX_CONCURRENT_PER_STATION), Live, "calls in flight to one station"),
    key("ec.stations.\"<code>\".max_concurrent", Text("`ec.max_concurrent_per_station`"), Live, "calls in flight to this station"),
    key("ec.station_wait_ms", Int(DEFAULT_STATION_WAIT_MS), Live, "wait for a busy station's slot"),
    key("log.level", Str(DEFAULT_LOG_LEVEL), Restart(r::LOG), "tracing filter"),
    key("log.format", Str(DEFAULT_LOG_FORMAT.name()), Restart(r::LOG), "text or json"),
    key("admin.listen", Str(DEFAULT_ADMIN_LISTEN), Restart(r::ADMIN_LISTEN), "admin listener address"),
    key("admin.disabled", Bool(false), Restart(r::ADMIN_LISTEN), "no admin listener"),
    key("registry_poll_interval_ms", Int(DEFAULT_REGISTRY_POLL_INTERVAL_MS), Restart(r::REGISTRY_POLL_INTERVAL), "registry file check period; 0 off"),
    key("registry_url.url", NONE, Restart(r::REGISTRY_URL), "api-config-cache style source"),
    key("registry_url.poll_interval_ms", Int(DEFAULT_REGISTRY_URL_POLL_INTERVAL_MS), Restart(r::REGISTRY_URL), "version check period"),
    key("registry_url.subscription_key", NONE, Restart(r::REGISTRY_URL), "Ocp-Apim-Subscription-Key"),
    key("registry_url.timeout_ms", Int(DEFAULT_REGISTRY_URL_TIMEOUT_MS), Restart(r::REGISTRY_URL), "deadline of each request"),
];
