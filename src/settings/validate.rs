//! Turns the raw settings into checked ones: defaults applied, paths resolved, values bounded.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::defaults::*;
use super::raw::RawSettings;
use super::{
    Binding, EcSettings, LimitSettings, RegistryUrl, ServerTls, Settings, SettingsError, TlsProfile,
};
use crate::pki::{normalize_dn, normalize_serial, parse_fingerprint};

/// The checked settings of `raw`; relative paths are resolved against `base`, errors name `name`.
pub(super) fn settings(
    raw: RawSettings,
    base: &Path,
    name: &str,
) -> Result<Settings, SettingsError> {
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
                handshake_timeout: ms("tls.handshake_timeout_ms", t.handshake_timeout_ms.unwrap_or(DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS))?,
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
    let mut bridging = BTreeSet::new();
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
    let max_body_bytes = raw.limits.max_body_bytes.unwrap_or(DEFAULT_MAX_BODY_BYTES);
    if max_body_bytes < 1024 {
        return Err(invalid(
            "limits.max_body_bytes",
            format!("{max_body_bytes} is below 1024"),
        ));
    }
    let xml = crate::soap::Limits {
        max_depth: raw.limits.max_xml_depth.unwrap_or(DEFAULT_MAX_XML_DEPTH),
        max_elements: raw
            .limits
            .max_xml_elements
            .unwrap_or(DEFAULT_MAX_XML_ELEMENTS),
        max_attributes: raw
            .limits
            .max_xml_attributes
            .unwrap_or(DEFAULT_MAX_XML_ATTRIBUTES),
        max_name_bytes: raw
            .limits
            .max_xml_name_bytes
            .unwrap_or(DEFAULT_MAX_XML_NAME_BYTES),
        max_text_bytes: raw
            .limits
            .max_xml_text_bytes
            .unwrap_or(DEFAULT_MAX_XML_TEXT_BYTES),
    };
    if xml.max_depth < 8 {
        return Err(invalid(
            "limits.max_xml_depth",
            "a SOAP request needs at least 8 levels".into(),
        ));
    }
    let max_connections = raw
        .limits
        .max_connections
        .unwrap_or(DEFAULT_MAX_CONNECTIONS);
    if max_connections == 0 {
        return Err(invalid(
            "limits.max_connections",
            "must be at least 1".into(),
        ));
    }
    let max_in_flight = raw.limits.max_in_flight.unwrap_or(DEFAULT_MAX_IN_FLIGHT);
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
                .unwrap_or(DEFAULT_ADMIN_LISTEN)
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
            raw.ec
                .connect_timeout_ms
                .unwrap_or(DEFAULT_EC_CONNECT_TIMEOUT_MS),
        )?,
        station_service: raw.ec.station_service.unwrap_or(DEFAULT_STATION_SERVICE),
        legacy_station_service: raw
            .ec
            .legacy_station_service
            .unwrap_or(DEFAULT_LEGACY_STATION_SERVICE),
        bridging,
        max_response_bytes: raw
            .ec
            .max_response_bytes
            .unwrap_or(DEFAULT_EC_MAX_RESPONSE_BYTES),
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
            other => ms(
                "ec.station_wait_ms",
                other.unwrap_or(DEFAULT_STATION_WAIT_MS),
            )?,
        },
    };
    Ok(Settings {
        listen,
        tls,
        bindings,
        tls_reload_interval: ms(
            "tls_reload_interval_ms",
            raw.tls_reload_interval_ms
                .unwrap_or(DEFAULT_TLS_RELOAD_INTERVAL_MS),
        )?,
        registry: resolve(raw.registry),
        service_schema_dir: raw.service_schema_dir.map(resolve),
        ec,
        service_data: raw
            .validation
            .dati_specifici_servizio
            .unwrap_or(DEFAULT_SERVICE_DATA),
        limits: LimitSettings {
            max_body_bytes,
            xml,
            header_read_timeout: ms(
                "limits.header_read_timeout_ms",
                raw.limits
                    .header_read_timeout_ms
                    .unwrap_or(DEFAULT_HEADER_READ_TIMEOUT_MS),
            )?,
            body_read_timeout: ms(
                "limits.body_read_timeout_ms",
                raw.limits
                    .body_read_timeout_ms
                    .unwrap_or(DEFAULT_BODY_READ_TIMEOUT_MS),
            )?,
            max_connections,
            max_in_flight,
            psp_rate,
            shutdown_timeout: ms(
                "limits.shutdown_timeout_ms",
                raw.limits
                    .shutdown_timeout_ms
                    .unwrap_or(DEFAULT_SHUTDOWN_TIMEOUT_MS),
            )?,
        },
        log_level: raw.log.level.unwrap_or_else(|| DEFAULT_LOG_LEVEL.into()),
        log_format: raw.log.format.unwrap_or(DEFAULT_LOG_FORMAT),
        admin_listen,
        registry_poll_interval: match raw.registry_poll_interval_ms {
            Some(0) => None,
            other => Some(ms(
                "registry_poll_interval_ms",
                other.unwrap_or(DEFAULT_REGISTRY_POLL_INTERVAL_MS),
            )?),
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
                        u.poll_interval_ms
                            .unwrap_or(DEFAULT_REGISTRY_URL_POLL_INTERVAL_MS),
                    )?,
                    subscription_key: u.subscription_key.map(crate::secret::Secret::new),
                    timeout: ms(
                        "registry_url.timeout_ms",
                        u.timeout_ms.unwrap_or(DEFAULT_REGISTRY_URL_TIMEOUT_MS),
                    )?,
                })
            }
        },
    })
}

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

fn check_identity(p: &TlsProfile) -> Result<(), String> {
    if p.cert_file.is_some() != p.key_file.is_some() {
        return Err("cert_file and key_file go together".into());
    }
    Ok(())
}
