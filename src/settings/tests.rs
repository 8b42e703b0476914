//! Settings from TOML text: defaults, paths, per-station overrides and the errors that name a key.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;
use crate::pki::parse_fingerprint;

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
    let tls = "[tls]\ncert_file = \"s.pem\"\nkey_file = \"s.key\"\nclient_ca_file = \"ca.pem\"\n";
    let base = "registry = \"r.json\"\n";
    let e =
        Settings::from_toml(&format!("{base}{tls}"), Path::new("/"), "t").expect_err("no binding");
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
