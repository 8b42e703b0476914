//! Configuration through the real binary: `check-config` on the demo, on compressed registries,
//! on documents with bad entries (listed by map, key and field, not refused), and on documents
//! that are not ConfigDataV1 at all.

use std::io::Write as _;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::support;
use crate::support::conformance_registry;

/// A change made to the conformance registry.
type Edit = Box<dyn Fn(&mut Value)>;

const BIN: &str = env!("CARGO_BIN_EXE_sanp-gateway");

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn check_config(settings: &Path) -> Run {
    check_config_with(settings, &[])
}

/// `check-config --strict`: findings fail it too.
fn check_config_strict(settings: &Path) -> Run {
    check_config_with(settings, &["--strict"])
}

fn check_config_with(settings: &Path, flags: &[&str]) -> Run {
    let out = Command::new(BIN)
        .arg("check-config")
        .args(flags)
        .arg("--config")
        .arg(settings)
        .output()
        .expect("run sanp-gateway");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Writes `registry` (already encoded) and settings pointing at it; returns the settings path.
fn setup(dir: &Path, registry: &[u8], extra: &str) -> std::path::PathBuf {
    std::fs::write(dir.join("registry.bin"), registry).expect("write registry");
    let settings = dir.join("gateway.toml");
    std::fs::write(
        &settings,
        format!(
            "plain_http = true\nregistry = \"registry.bin\"\nservice_schema_dir = {:?}\n{extra}",
            support::repo()
                .join("xsd/catalogo-servizi")
                .display()
                .to_string()
        ),
    )
    .expect("write settings");
    settings
}

#[test]
fn the_demo_configuration_checks_out() {
    let r = check_config(&support::repo().join("fixtures/demo/gateway.toml"));
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(
        r.stdout
            .contains("registry version \"1764140000000000001\""),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("11 services, 22 subject services; 5 service schemas"),
        "{}",
        r.stdout
    );
}

/// The Node's cache is stored gzip (api-config-cache) or zlib (node-cfg-sync): both load.
#[test]
fn plain_gzip_and_zlib_registries_load() {
    let json = serde_json::to_vec(&conformance_registry()).expect("json");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&json).expect("gzip");
    let mut zl = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    zl.write_all(&json).expect("zlib");
    for (name, bytes) in [
        ("plain", json.clone()),
        ("gzip", gz.finish().expect("gzip")),
        ("zlib", zl.finish().expect("zlib")),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let r = check_config(&setup(dir.path(), &bytes, ""));
        assert_eq!(r.code, Some(0), "{name}: {}", r.stderr);
        assert!(
            r.stdout
                .contains("registry version \"1700000000000000042\""),
            "{name}: {}",
            r.stdout
        );
    }
}

/// Real documents carry rows the cache model calls impossible (issue #9): each is left out or kept
/// with its bad part unusable, named by map, key and field, and the gateway still starts.
#[test]
fn bad_entries_are_listed_and_do_not_stop_the_gateway() {
    let station = "77777777777_01";
    let edits: Vec<(&str, Edit, &str)> = vec![
        (
            "missing enabled",
            Box::new(|r| {
                r["psps"]["PSP_OK"]
                    .as_object_mut()
                    .map(|o| o.remove("enabled"));
            }),
            "psps[\"PSP_OK\"].enabled: required, missing or null; kept, taken as disabled",
        ),
        (
            "null enabled",
            Box::new(|r| r["channels"]["CH_OK"]["enabled"] = Value::Null),
            "channels[\"CH_OK\"].enabled: required, missing or null; kept, taken as disabled",
        ),
        (
            "null password",
            Box::new(|r| r["channels"]["CH_OK"]["password"] = Value::Null),
            "channels[\"CH_OK\"].password: required, missing or null; kept, no caller can authenticate (PPT_AUTENTICAZIONE)",
        ),
        (
            "port as text",
            Box::new(move |r| r["stations"][station]["connection"]["port"] = Value::from("eighty")),
            "stations[\"77777777777_01\"].connection.port: expected an integer, found \"eighty\"",
        ),
        (
            "bad protocol",
            Box::new(move |r| r["stations"][station]["connection"]["protocol"] = Value::from("FTP")),
            "stations[\"77777777777_01\"].connection.protocol: \"FTP\" is neither HTTP nor HTTPS; kept, unreachable (PPT_STAZIONE_INT_PA_IRRAGGIUNGIBILE)",
        ),
        (
            "null ip",
            Box::new(move |r| r["stations"][station]["connection"]["ip"] = Value::Null),
            "stations[\"77777777777_01\"].connection.ip: required, missing or null; kept, unreachable",
        ),
        (
            "proxy without port",
            Box::new(move |r| {
                r["stations"][station]["proxy"] =
                    serde_json::json!({"proxy_host": "10.1.1.1", "proxy_port": null})
            }),
            "stations[\"77777777777_01\"].proxy.proxy_port: required, missing or null; kept, unreachable",
        ),
        (
            "partial connection_mod4",
            Box::new(move |r| {
                r["stations"][station]["connection_mod4"] =
                    serde_json::json!({"protocol": "HTTPS", "ip": null, "port": null})
            }),
            "stations[\"77777777777_01\"].connection_mod4.ip: required, missing or null; kept, connection_mod4 ignored",
        ),
        (
            "bad date",
            Box::new(|r| {
                r["cdsSubjectServices"]["00042"]["start_date"] = Value::from("31/12/2024")
            }),
            "cdsSubjectServices[\"00042\"].start_date: not a date-time: 31/12/2024; kept, never active (PPT_SERVIZIO_NONATTIVO)",
        ),
        (
            "null fee",
            Box::new(|r| r["cdsSubjectServices"]["00042"]["fee"] = Value::Null),
            "cdsSubjectServices[\"00042\"].fee: required, missing or null; kept, not listed in the catalog",
        ),
        (
            "service id of 6",
            Box::new(|r| {
                r["cdsServices"]["00001"]["id"] = Value::from("000001");
            }),
            "cdsServices[\"00001\"].id: \"000001\" differs from the map key \"00001\"; entry left out",
        ),
        (
            "description of 71",
            Box::new(|r| r["cdsServices"]["00001"]["description"] = Value::from("d".repeat(71))),
            "cdsServices[\"00001\"].description: 71 characters, expected 1 to 70; kept, not listed in the catalog",
        ),
        (
            "null description",
            Box::new(|r| r["cdsServices"]["00002"]["description"] = Value::Null),
            "cdsServices[\"00002\"].description: required, missing or null; kept, not listed",
        ),
        (
            "EC description of 71",
            Box::new(|r| {
                r["cdsSubjects"]["77777777777"]["creditor_institution_description"] =
                    Value::from("e".repeat(71))
            }),
            "cdsSubjects[\"77777777777\"].creditor_institution_description: 71 characters, expected 1 to 70; kept, cut to 70",
        ),
        (
            "key and code differ",
            Box::new(|r| r["psps"]["PSP_OK"]["psp_code"] = Value::from("OTHER")),
            "psps[\"PSP_OK\"].psp_code: \"OTHER\" differs from the map key \"PSP_OK\"; entry left out",
        ),
        (
            "boolean as maybe",
            Box::new(|r| r["psps"]["PSP_OK"]["enabled"] = Value::from("maybe")),
            "psps[\"PSP_OK\"].enabled: expected a boolean or Y/N, found \"maybe\"",
        ),
    ];
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, edit, needle) in &edits {
        let mut registry = conformance_registry();
        edit(&mut registry);
        let r = check_config(&setup(
            dir.path(),
            &serde_json::to_vec(&registry).expect("json"),
            "",
        ));
        assert_eq!(r.code, Some(0), "{name}: {}", r.stderr);
        let line = r
            .stdout
            .lines()
            .find(|l| l.starts_with("finding: "))
            .unwrap_or_default();
        assert!(line.contains(needle), "{name}: {line:?} lacks {needle:?}");
        assert!(r.stdout.contains("1 registry entries left out"), "{name}");
    }
    // All at once: every one is listed, not only the first, and --strict refuses.
    let mut registry = conformance_registry();
    for name in [
        "null password",
        "null ip",
        "null fee",
        "EC description of 71",
        "null description",
    ] {
        let (_, edit, _) = edits.iter().find(|(n, _, _)| *n == name).expect("edit");
        edit(&mut registry);
    }
    let settings = setup(
        dir.path(),
        &serde_json::to_vec(&registry).expect("json"),
        "",
    );
    let r = check_config(&settings);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.stdout.matches("finding: ").count(), 5, "{}", r.stdout);
    let r = check_config_strict(&settings);
    assert_eq!(r.code, Some(78), "{}", r.stdout);
}

/// Only a document that is not one is refused: not JSON, or a map that is not an object.
#[test]
fn a_document_that_is_not_one_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut registry = conformance_registry();
    registry["channels"] = Value::from(5);
    let r = check_config(&setup(
        dir.path(),
        &serde_json::to_vec(&registry).expect("json"),
        "",
    ));
    assert_eq!(r.code, Some(78), "{}", r.stdout);
    assert!(r.stderr.contains("map \"channels\""), "{}", r.stderr);
    let r = check_config(&setup(dir.path(), b"{\"psps\": {", ""));
    assert_eq!(r.code, Some(78), "{}", r.stdout);
    assert!(r.stderr.contains("invalid JSON"), "{}", r.stderr);
}

/// Tolerance: unknown fields, nulls for optional data, Y/N booleans and epoch dates are accepted.
#[test]
fn unknown_fields_nulls_and_both_date_encodings_are_tolerated() {
    let mut registry = conformance_registry();
    registry["someFutureMap"] = serde_json::json!({"x": {"y": 1}});
    registry["psps"]["PSP_OK"]["brand_new_field"] = Value::from(42);
    registry["psps"]["PSP_OK"]["enabled"] = Value::from("Y");
    registry["cdsSubjectServices"]["00042"]["start_date"] = Value::from(1_704_063_600.0);
    registry["cdsSubjectServices"]["00042"]["end_date"] = Value::Null;
    registry["creditorInstitutions"]["77777777777"]["business_name"] = Value::Null;
    registry["ibans"] = Value::Null;
    let dir = tempfile::tempdir().expect("tempdir");
    let r = check_config(&setup(
        dir.path(),
        &serde_json::to_vec(&registry).expect("json"),
        "",
    ));
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(!r.stdout.contains("finding: "), "{}", r.stdout);
}

/// Real catalogs name more service schemas than any folder holds: a service whose schema is not
/// there (or does not compile) costs its own validation, not the registry. It is a finding, and
/// its data are forwarded unchecked; `--strict` refuses it.
#[test]
fn a_service_without_its_schema_is_a_finding_not_a_refusal() {
    let mut registry = conformance_registry();
    registry["cdsServices"]["00002"]["reference_xsd"] = Value::from("Missing_1_0_0.xsd");
    let dir = tempfile::tempdir().expect("tempdir");
    let settings = setup(
        dir.path(),
        &serde_json::to_vec(&registry).expect("json"),
        "",
    );
    let r = check_config(&settings);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(
        r.stdout
            .contains("finding: cdsServices[\"00002\"].reference_xsd: Missing_1_0_0.xsd is not in")
            && r.stdout
                .contains("kept, its service data are forwarded unchecked"),
        "{}",
        r.stdout
    );
    assert_eq!(check_config_strict(&settings).code, Some(78));
    // In pass-through mode service schemas are not needed: no finding.
    let r = check_config(&setup(
        dir.path(),
        &serde_json::to_vec(&registry).expect("json"),
        "[validation]\ndati_specifici_servizio = \"pass_through\"\n",
    ));
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(!r.stdout.contains("finding: "), "{}", r.stdout);
}

#[test]
fn settings_errors_name_the_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let settings = setup(dir.path(), b"{}", "[ec]\ntimeout = 5\n");
    let r = check_config(&settings);
    assert_eq!(r.code, Some(78));
    assert!(r.stderr.contains("unknown field `timeout`"), "{}", r.stderr);
    let r = check_config(&dir.path().join("absent.toml"));
    assert_eq!(r.code, Some(78));
    assert!(r.stderr.contains("cannot read settings"), "{}", r.stderr);
}

/// Passwords never appear in what check-config prints.
#[test]
fn check_config_output_carries_no_password() {
    let r = check_config(&support::repo().join("fixtures/demo/gateway.toml"));
    assert!(!r.stdout.contains("DemoPwd001") && !r.stderr.contains("DemoPwd001"));
}
