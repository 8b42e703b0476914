//! The five official service schemas end to end: the demo registry's service for each, its demo
//! demand fixture, the sample EC behind the gateway, over real sockets.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use base64::Engine as _;
use sanp_gateway::sample_ec::{self, SampleEc};
use sanp_gateway::xsd::{Bundle, Schema};
use serde_json::Value;
use tokio::net::TcpListener;

use crate::support;
use crate::support::TestGateway;

/// One demo service and how to break its service data.
struct Service {
    fixture: &'static str,
    subject_service: &'static str,
    reference_xsd: &'static str,
    /// The EC the association belongs to (`qrCode/fiscalCode` of the answer).
    ec: &'static str,
    /// What the sample EC calls the service (`paymentDescription`).
    description: &'static str,
    /// A replacement in the decoded instance that breaks the schema, and the element the
    /// validator's message names.
    invalid: (&'static str, &'static str),
    invalid_element: &'static str,
}

const SERVICES: &[Service] = &[
    Service {
        fixture: "fixtures/demo/demand.xml",
        subject_service: "00101",
        reference_xsd: "TassaAutomobilistica_1_1_0.xsd",
        ec: "80000000001",
        description: "Tassa automobilistica",
        // stTarga is 7 or 8 characters.
        invalid: ("AB345CD<", "AB3<"),
        invalid_element: "veicoloTarga",
    },
    Service {
        fixture: "fixtures/demo/demand-passaporto.xml",
        subject_service: "00102",
        reference_xsd: "A001_Passaporto_1_0_0.xsd",
        ec: "80000000001",
        description: "Passaporto",
        // codicePratica is fixed to A001.
        invalid: (">A001<", ">A002<"),
        invalid_element: "codicePratica",
    },
    Service {
        fixture: "fixtures/demo/demand-pesca.xml",
        subject_service: "00103",
        reference_xsd: "D847_Pesca_1_0_0.xsd",
        ec: "80000000002",
        description: "Licenza di pesca",
        // The note is at most 40 characters.
        invalid: (
            ">Licenza di tipo B<",
            ">Licenza di tipo B, rilasciata per la pesca in acque interne<",
        ),
        invalid_element: "note",
    },
    Service {
        fixture: "fixtures/demo/demand-cie.xml",
        subject_service: "00104",
        reference_xsd: "Cie_1_0_0.xsd",
        ec: "80000000002",
        description: "Carta d'identità elettronica",
        // Reason codes are an enumeration without 3.
        invalid: ("<ta:codiceCausale>9<", "<ta:codiceCausale>3<"),
        invalid_element: "codiceCausale",
    },
    Service {
        fixture: "fixtures/demo/demand-cup.xml",
        subject_service: "00105",
        reference_xsd: "Cup_1_0_0.xsd",
        ec: "80000000001",
        description: "Prestazioni sanitarie (CUP)",
        // debtorFiscalCode is common:stText20, from the imported common types.
        invalid: (">RSSMRA80A01H501U<", ">RSSMRA80A01H501U12345<"),
        invalid_element: "debtorFiscalCode",
    },
];

/// The text of `datiSpecificiServizio` in a demand envelope.
fn data_of(demand: &str) -> &str {
    demand
        .split("<datiSpecificiServizio>")
        .nth(1)
        .and_then(|s| s.split("</datiSpecificiServizio>").next())
        .expect("the demand carries service data")
}

fn decode(b64: &str) -> String {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("service data are base64");
    String::from_utf8(bytes).expect("service data are UTF-8")
}

/// The decoded service data of `s`'s fixture, and the same with the schema-breaking change.
fn instances(s: &Service) -> (String, String) {
    let valid = decode(data_of(&support::read(s.fixture)));
    let (from, to) = s.invalid;
    assert_eq!(valid.matches(from).count(), 1, "{}: `{from}`", s.fixture);
    let invalid = valid.replace(from, to);
    (valid, invalid)
}

fn demo_registry() -> Value {
    serde_json::from_str(&support::read("fixtures/demo/registry.json")).expect("demo registry")
}

/// The sample EC on an ephemeral port and a gateway over the demo registry pointed at it.
async fn demo_behind_gateway() -> TestGateway {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(sample_ec::serve(listener, SampleEc::default()));
    let mut registry = demo_registry();
    support::point_stations_at(&mut registry, port);
    TestGateway::start(&registry, "").await
}

/// Every bundled service schema has a demo service, and each listed service is the demo's.
#[test]
fn the_demo_has_a_service_and_a_fixture_for_every_bundled_schema() {
    let registry = demo_registry();
    let bundled: BTreeSet<String> = std::fs::read_dir(support::repo().join("xsd/catalogo-servizi"))
        .expect("xsd/catalogo-servizi")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".xsd"))
        .collect();
    let listed: BTreeSet<String> = SERVICES
        .iter()
        .map(|s| s.reference_xsd.to_owned())
        .collect();
    assert_eq!(listed, bundled, "one entry of SERVICES per bundled schema");
    for s in SERVICES {
        let demand = support::read(s.fixture);
        let tag = format!(
            "<idSoggettoServizio>{}</idSoggettoServizio>",
            s.subject_service
        );
        assert!(demand.contains(&tag), "{}: {tag}", s.fixture);
        let association = &registry["cdsSubjectServices"][s.subject_service];
        assert_eq!(association["subject"], s.ec, "{}", s.subject_service);
        let service = &registry["cdsServices"][association["service"].as_str().expect("service")];
        assert_eq!(service["reference_xsd"], s.reference_xsd);
        assert_eq!(service["version"], 2, "{}", s.reference_xsd);
    }
}

/// Each fixture's service data are valid against the official schema (with its official import
/// of the common types), and each invalid variant is invalid there too.
#[test]
fn the_fixtures_service_data_are_valid_against_the_official_schemas() {
    let Some(api) = support::official::pagopa_api_dir() else {
        assert!(
            !support::official::shared_required(),
            "SANP_REQUIRE_SHARED=1 but ../shared/pagopa-api is missing"
        );
        eprintln!("NOTE: ../shared/pagopa-api not found; fixtures not checked against it");
        return;
    };
    let mut bundle = Bundle::from_dir(&api.join("catalogo-servizi")).expect("official schemas");
    let common = std::fs::read(api.join("xsd-common/sac-common-types-1.0.xsd")).expect("common");
    bundle.insert("sac-common-types-1.0.xsd", common);
    let bundle = Arc::new(bundle);
    for s in SERVICES {
        let official = api.join("catalogo-servizi").join(s.reference_xsd);
        assert!(Path::new(&official).is_file(), "{}", official.display());
        let schema = Schema::compile(bundle.clone(), s.reference_xsd)
            .unwrap_or_else(|e| panic!("official {}: {e}", s.reference_xsd));
        let (valid, invalid) = instances(s);
        if let Err(e) = schema.validate(valid.as_bytes()) {
            panic!("{}: {e}\n{valid}", s.fixture);
        }
        assert!(
            schema.validate(invalid.as_bytes()).is_err(),
            "{}: the invalid variant passes the official schema\n{invalid}",
            s.fixture
        );
    }
}

/// Each fixture, as a PSP would curl it, gets an OK notice from the sample EC through the gateway.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_demo_fixture_gets_a_notice_end_to_end() {
    let gw = demo_behind_gateway().await;
    let mut notices = BTreeSet::new();
    for s in SERVICES {
        let r = gw.demand(&support::read(s.fixture)).await;
        assert_eq!(r.outcome, "OK", "{}: {}", s.fixture, r.raw);
        assert_eq!(r.get("qrCode/fiscalCode"), Some(s.ec), "{}", s.fixture);
        assert_eq!(r.get("fiscalCodePA"), Some(s.ec), "{}", s.fixture);
        // The EC named the service it was asked for.
        assert_eq!(
            r.get("paymentDescription"),
            Some(s.description),
            "{}",
            s.fixture
        );
        let notice = r.get("qrCode/noticeNumber").expect("notice number");
        assert!(notice.len() == 18 && notice.starts_with('3'), "{notice}");
        notices.insert(notice.to_owned());
    }
    assert_eq!(notices.len(), SERVICES.len(), "one position per demand");
    // Every fixture's service data were proven valid from the tree, libxml2 not run for them.
    let metrics = gw.metrics().render();
    let proven = format!(
        "sanp_schema_checks_total{{document=\"service_data\",by=\"proof\"}} {}",
        SERVICES.len()
    );
    assert!(metrics.lines().any(|l| l == proven), "{proven}\n{metrics}");
    assert!(!metrics.contains("document=\"service_data\",by=\"libxml2\""));
}

/// A schema-invalid instance of each service is the gateway's PPT_SINTASSI_XSD (step 14).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_instance_of_each_service_is_a_syntax_ko() {
    let gw = demo_behind_gateway().await;
    for s in SERVICES {
        let demand = support::read(s.fixture);
        let (_, invalid) = instances(s);
        let b64 = base64::engine::general_purpose::STANDARD.encode(&invalid);
        let r = gw.demand(&demand.replace(data_of(&demand), &b64)).await;
        assert_eq!(r.outcome, "KO", "{}: {}", s.fixture, r.raw);
        let f = r.fault();
        assert_eq!(f.code, "PPT_SINTASSI_XSD", "{}: {}", s.fixture, r.raw);
        assert_eq!(f.string, "Errore di sintassi XSD.", "{}", s.fixture);
        let description = f.description.clone().unwrap_or_default();
        assert!(
            description.contains(s.reference_xsd) && description.contains(s.invalid_element),
            "{}: {description}",
            s.fixture
        );
    }
    // Each invalid instance was judged by libxml2 (the source of the message), none proven.
    let metrics = gw.metrics().render();
    let judged = format!(
        "sanp_schema_checks_total{{document=\"service_data\",by=\"libxml2\"}} {}",
        SERVICES.len()
    );
    assert!(metrics.lines().any(|l| l == judged), "{judged}\n{metrics}");
    assert!(!metrics.contains("document=\"service_data\",by=\"proof\""));
}

/// The demo catalog lists every demo service with its schema.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_catalog_lists_every_service_schema() {
    let gw = demo_behind_gateway().await;
    let r = gw
        .catalog(&support::read("fixtures/demo/catalog.xml"))
        .await;
    assert_eq!(r.outcome, "OK", "{}", r.raw);
    let catalog = decode(r.get("xmlCatalogoServizi").expect("xmlCatalogoServizi"));
    support::official::assert_valid_catalog(&catalog);
    for s in SERVICES {
        let reference = format!("<xsdRiferimento>{}</xsdRiferimento>", s.reference_xsd);
        assert!(catalog.contains(&reference), "{reference} in {catalog}");
    }
}
