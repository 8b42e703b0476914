//! nodoChiediCatalogoServiziV2 over real sockets: the catalog document, its filters, the
//! decided edge cases (empty result, expired associations) and the caller checks.

use base64::Engine as _;

use crate::support;
use crate::support::{conformance_registry, CatalogReq, TestGateway};

const CS_NS: &str = "http://pagopa-api.pagopa.gov.it/nodeForPsp/xsd/CatalogoServizi";

async fn gateway() -> TestGateway {
    TestGateway::start(&conformance_registry(), "").await
}

/// One `catalogoServizi` entry as read back by an independent parser.
#[derive(Debug, PartialEq, Eq)]
struct Entry {
    id: String,
    category: Option<String>,
    xsd: String,
    subjects: Vec<String>,
}

/// Decodes `xmlCatalogoServizi` and reads it; checks the base64 form and the document's schema
/// unless it is the (knowingly schema-invalid) empty catalog.
fn catalog_of(r: &support::Response) -> (String, Vec<Entry>) {
    assert_eq!(r.outcome, "OK", "{}", r.raw);
    let b64 = r.get("xmlCatalogoServizi").expect("xmlCatalogoServizi");
    assert!(
        !b64.contains(['\n', '\r', ' ']),
        "base64 without line breaks"
    );
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("standard base64");
    let xml = String::from_utf8(bytes).expect("UTF-8");
    assert!(
        xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"),
        "{xml}"
    );
    let doc = roxmltree::Document::parse(&xml).expect("well-formed catalog");
    let root = doc.root_element();
    assert!(root.has_tag_name((CS_NS, "listaCatalogoServizi")), "{xml}");
    let entries: Vec<Entry> = root
        .children()
        .filter(|n| n.is_element())
        .map(|c| {
            assert_eq!(c.tag_name().namespace(), None, "children are unqualified");
            let text = |name: &str| {
                c.children()
                    .find(|n| n.has_tag_name(name))
                    .and_then(|n| n.text())
                    .map(str::to_owned)
            };
            let subjects = c
                .descendants()
                .filter(|n| n.has_tag_name("idSoggettoServizio"))
                .filter_map(|n| n.text().map(str::to_owned))
                .collect();
            Entry {
                id: text("idServizio").expect("idServizio"),
                category: text("categoria"),
                xsd: text("xsdRiferimento").expect("xsdRiferimento"),
                subjects,
            }
        })
        .collect();
    if !entries.is_empty() {
        support::official::assert_valid_catalog(&xml);
    }
    (xml, entries)
}

fn ids(entries: &[Entry]) -> Vec<(&str, Vec<&str>)> {
    entries
        .iter()
        .map(|e| {
            (
                e.id.as_str(),
                e.subjects.iter().map(String::as_str).collect(),
            )
        })
        .collect()
}

/// Without filters: every version-2 service with its associations, sorted; version-1 services and
/// expired associations are left out, associations not yet valid are announced.
#[tokio::test]
async fn full_catalog_lists_version_two_services_without_expired_associations() {
    let gw = gateway().await;
    let r = gw.catalog(&CatalogReq::default().xml()).await;
    let (xml, entries) = catalog_of(&r);
    assert_eq!(
        ids(&entries),
        vec![
            (
                "00001",
                vec![
                    "00003", "00004", "00005", "00006", "00007", "00008", "00009", "00010",
                    "00011", "00042", "00044", "80003"
                ]
            ),
            ("00002", vec!["00043"]),
            ("00003", vec!["00045"]),
            ("00004", vec!["00046"]),
        ],
        "60001 (version 1) and 00002 (expired in 2020) are absent"
    );
    assert_eq!(entries[0].category.as_deref(), Some("Tributi"));
    assert_eq!(entries[0].xsd, "TassaAutomobilistica_1_1_0.xsd");
    // One association in full, with the date taken from the registry's epoch encoding.
    let fishing = "<soggettoErogante><idSoggettoServizio>00045</idSoggettoServizio><idDominio>66666666666</idDominio>\
                   <denominazioneEnteCreditore>Comune di Prova</denominazioneEnteCreditore>\
                   <dataInizioValidita>2024-01-01</dataInizioValidita><commissione>N</commissione></soggettoErogante>";
    assert!(xml.contains(fishing), "{xml}");
    let passport = "<soggettoErogante><idSoggettoServizio>00043</idSoggettoServizio><idDominio>77777777777</idDominio>\
                    <denominazioneEnteCreditore>Ente Conformita</denominazioneEnteCreditore>\
                    <dataInizioValidita>2024-01-01</dataInizioValidita><dataFineValidita>2099-12-31</dataFineValidita>\
                    <commissione>Y</commissione></soggettoErogante>";
    assert!(xml.contains(passport), "{xml}");
    // An EC missing from cdsSubjects and creditorInstitutions is named by its code.
    assert!(xml.contains("<idDominio>77777777779</idDominio><denominazioneEnteCreditore>77777777779</denominazioneEnteCreditore>"), "{xml}");
}

/// Each filter narrows the catalog as documented.
#[tokio::test]
async fn filters_select_by_domain_category_and_fee() {
    let gw = gateway().await;
    let run = |req: CatalogReq| {
        let gw = &gw;
        async move { catalog_of(&gw.catalog(&req.xml()).await).1 }
    };
    let by_domain = run(CatalogReq {
        domain: Some("66666666666".into()),
        ..CatalogReq::default()
    })
    .await;
    assert_eq!(
        ids(&by_domain),
        vec![("00001", vec!["00044"]), ("00003", vec!["00045"])]
    );
    let by_category = run(CatalogReq {
        category: Some("Pratiche amministrative".into()),
        ..CatalogReq::default()
    })
    .await;
    assert_eq!(
        ids(&by_category),
        vec![("00002", vec!["00043"]), ("00003", vec!["00045"])]
    );
    let with_fee = run(CatalogReq {
        fee: Some("Y".into()),
        ..CatalogReq::default()
    })
    .await;
    assert_eq!(
        ids(&with_fee),
        vec![("00001", vec!["00044"]), ("00002", vec!["00043"])]
    );
    let without_fee = run(CatalogReq {
        fee: Some("N".into()),
        domain: Some("66666666666".into()),
        ..CatalogReq::default()
    })
    .await;
    assert_eq!(ids(&without_fee), vec![("00003", vec!["00045"])]);
    let combined = run(CatalogReq {
        domain: Some("77777777777".into()),
        category: Some("Tributi".into()),
        fee: Some("Y".into()),
        ..CatalogReq::default()
    })
    .await;
    assert!(
        combined.is_empty(),
        "77777777777 has no Tributi association with a fee"
    );
}

/// An empty result is OK with the empty root element (as the Node does for the v1 catalog),
/// which the v2 schema knowingly does not accept (it wants at least one catalogoServizi).
#[tokio::test]
async fn empty_result_is_ok_with_an_empty_list() {
    let gw = gateway().await;
    let r = gw
        .catalog(
            &CatalogReq {
                category: Some("Nessuna".into()),
                ..CatalogReq::default()
            }
            .xml(),
        )
        .await;
    let (xml, entries) = catalog_of(&r);
    assert!(entries.is_empty());
    assert_eq!(
        xml,
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><cs:listaCatalogoServizi xmlns:cs=\"{CS_NS}\"/>")
    );
    if let Some(o) = support::official::official() {
        assert!(
            o.catalog_v2.validate(xml.as_bytes()).is_err(),
            "documented deviation from the v2 schema"
        );
    }
}

/// `identificativoDominio` must name a known, enabled EC (SEM_NCCS_09/10); caller checks apply
/// first; malformed filters are syntax errors.
#[tokio::test]
async fn domain_and_caller_checks_answer_their_faults() {
    let gw = gateway().await;
    let cases: Vec<(&str, CatalogReq, &str, &str)> = vec![
        (
            "unknown domain",
            CatalogReq {
                domain: Some("12345678901".into()),
                ..CatalogReq::default()
            },
            "PPT_DOMINIO_SCONOSCIUTO",
            "Identificativo Dominio sconosciuto.",
        ),
        (
            "disabled domain",
            CatalogReq {
                domain: Some("77777777778".into()),
                ..CatalogReq::default()
            },
            "PPT_DOMINIO_DISABILITATO",
            "Dominio disabilitato.",
        ),
        (
            "unknown PSP",
            CatalogReq {
                psp: "PSP_NONE".into(),
                ..CatalogReq::default()
            },
            "PPT_PSP_SCONOSCIUTO",
            "PSP sconosciuto.",
        ),
        (
            "disabled broker",
            CatalogReq {
                broker: "BROKER_DISABLED".into(),
                ..CatalogReq::default()
            },
            "PPT_INTERMEDIARIO_PSP_DISABILITATO",
            "Intermediario psp disabilitato.",
        ),
        (
            "unknown channel",
            CatalogReq {
                channel: "CH_NONE".into(),
                ..CatalogReq::default()
            },
            "PPT_CANALE_SCONOSCIUTO",
            "Canale sconosciuto.",
        ),
        (
            "wrong password",
            CatalogReq {
                password: "Password02".into(),
                ..CatalogReq::default()
            },
            "PPT_AUTENTICAZIONE",
            "Errore di autenticazione.",
        ),
        (
            "channel of another broker",
            CatalogReq {
                channel: "CH_NOEXT".into(),
                ..CatalogReq::default()
            },
            "PPT_AUTORIZZAZIONE",
            "Il richiedente non ha i diritti per l'operazione.",
        ),
        (
            "caller before domain",
            CatalogReq {
                psp: "PSP_DISABLED".into(),
                domain: Some("12345678901".into()),
                ..CatalogReq::default()
            },
            "PPT_PSP_DISABILITATO",
            "PSP conosciuto ma disabilitato da configurazione.",
        ),
        (
            "commissione X",
            CatalogReq {
                fee: Some("X".into()),
                ..CatalogReq::default()
            },
            "PPT_SINTASSI_EXTRAXSD",
            "Errore di sintassi extra XSD.",
        ),
        (
            "categoria of 36",
            CatalogReq {
                category: Some("c".repeat(36)),
                ..CatalogReq::default()
            },
            "PPT_SINTASSI_EXTRAXSD",
            "Errore di sintassi extra XSD.",
        ),
        (
            "empty identificativoDominio",
            CatalogReq {
                domain: Some(String::new()),
                ..CatalogReq::default()
            },
            "PPT_SINTASSI_EXTRAXSD",
            "Errore di sintassi extra XSD.",
        ),
        (
            "password of 16",
            CatalogReq {
                password: "Password01234567".into(),
                ..CatalogReq::default()
            },
            "PPT_SINTASSI_EXTRAXSD",
            "Errore di sintassi extra XSD.",
        ),
    ];
    for (name, req, code, string) in cases {
        let r = gw.catalog(&req.xml()).await;
        assert_eq!(r.outcome, "KO", "{name}");
        let f = r.fault();
        assert_eq!(
            (f.code.as_str(), f.string.as_str(), f.id.as_str()),
            (code, string, "NodoDeiPagamentiSPC"),
            "{name}"
        );
        assert_eq!(
            r.get("xmlCatalogoServizi"),
            None,
            "{name}: a KO carries no catalog"
        );
    }
}

/// The catalog is rendered once per snapshot and repeated identical requests are answered from
/// memory; what makes an answer different still makes it different: another password, another
/// filter, a new registry, an association reaching its end, new settings.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_answers_are_exact() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let mut registry = conformance_registry();
    // 00042 ends two seconds from now (epoch seconds are accepted for dates).
    registry["cdsSubjectServices"]["00042"]["end_date"] = serde_json::Value::from(now + 2);
    let gw = TestGateway::start(&registry, "registry_poll_interval_ms = 50\n").await;
    let req = CatalogReq::default().xml();
    let first = gw.catalog(&req).await;
    let again = gw.catalog(&req).await;
    assert_eq!(first.raw, again.raw, "identical request, identical answer");
    assert!(ids(&catalog_of(&again).1)[0].1.contains(&"00042"));
    // Same filters, wrong password: the memory of the good request does not answer it.
    let wrong = CatalogReq {
        password: "Password02".into(),
        ..CatalogReq::default()
    };
    assert_eq!(
        gw.catalog(&wrong.xml()).await.fault().code,
        "PPT_AUTENTICAZIONE"
    );
    // Another filter: its own rendering.
    let one_ec = CatalogReq {
        domain: Some("66666666666".into()),
        ..CatalogReq::default()
    };
    let (_, entries) = catalog_of(&gw.catalog(&one_ec.xml()).await);
    assert_eq!(
        ids(&entries),
        vec![("00001", vec!["00044"]), ("00003", vec!["00045"])]
    );
    // Once 00042 has ended, the same request no longer lists it.
    tokio::time::sleep(std::time::Duration::from_millis(3200)).await;
    let later = gw.catalog(&req).await;
    assert!(
        !ids(&catalog_of(&later).1)[0].1.contains(&"00042"),
        "{}",
        later.raw
    );
    // A new registry: a new catalog for the same request.
    let mut next = registry.clone();
    next["version"] = serde_json::Value::from("1700000000000000050");
    next["cdsServices"]["00004"]["description"] = serde_json::Value::from("Donazione nuova");
    gw.replace_registry(&next);
    support::eventually("reloaded", || {
        gw.gateway
            .as_ref()
            .is_some_and(|g| g.registry_version() == "1700000000000000050")
    })
    .await;
    let (xml, _) = catalog_of(&gw.catalog(&req).await);
    assert!(xml.contains("Donazione nuova"), "{xml}");
    // New settings: a name-length limit the request now exceeds is enforced on the same bytes.
    let settings = gw.settings_path();
    let text = std::fs::read_to_string(&settings).expect("settings");
    std::fs::write(
        &settings,
        format!("{text}\n[limits]\nmax_xml_name_bytes = 12\n"),
    )
    .expect("write");
    gw.gateway
        .as_ref()
        .expect("in process")
        .reload_settings("test")
        .expect("settings reload");
    let refused = gw
        .post(
            "/node-for-psp/v1",
            Some("nodoChiediCatalogoServiziV2"),
            &req,
        )
        .await;
    assert_eq!(
        refused.status,
        http::StatusCode::BAD_REQUEST,
        "{}",
        refused.body
    );
}

/// Real registries carry rows the cache model calls impossible (issue #9): each bad entry fails at
/// run time the way the Node would answer, is left out of the catalog when the catalog cannot
/// carry it, and is counted; the rest of the gateway serves as usual.
#[tokio::test]
async fn degraded_registry_entries_answer_as_the_node_would() {
    use serde_json::Value;
    use support::ec::{self, TestEc};
    use support::{point_stations_at, Demand};
    let ec = TestEc::start(ec::reply(ec::ok_answer())).await;
    let start = |edit: &dyn Fn(&mut Value)| {
        let mut registry = conformance_registry();
        point_stations_at(&mut registry, ec.port());
        edit(&mut registry);
        async move { TestGateway::start(&registry, "").await }
    };
    let station = "77777777777_01";
    type Edit = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Edit, &str)> = vec![
        (
            "channel without password",
            Box::new(|r| r["channels"]["CH_OK"]["password"] = Value::Null),
            "PPT_AUTENTICAZIONE",
        ),
        (
            "channel with null enabled",
            Box::new(|r| r["channels"]["CH_OK"]["enabled"] = Value::Null),
            "PPT_CANALE_DISABILITATO",
        ),
        (
            "station without ip",
            Box::new(move |r| r["stations"][station]["connection"]["ip"] = Value::Null),
            "PPT_STAZIONE_INT_PA_IRRAGGIUNGIBILE",
        ),
        (
            "station with a proxy without port",
            Box::new(move |r| {
                r["stations"][station]["proxy"] =
                    serde_json::json!({"proxy_host": "127.0.0.1", "proxy_port": null})
            }),
            "PPT_STAZIONE_INT_PA_IRRAGGIUNGIBILE",
        ),
        (
            "association without start_date",
            Box::new(|r| r["cdsSubjectServices"]["00042"]["start_date"] = Value::Null),
            "PPT_SERVIZIO_NONATTIVO",
        ),
    ];
    for (name, edit, code) in cases {
        let gw = start(&*edit).await;
        let r = gw.demand(&Demand::default().xml()).await;
        assert_eq!(r.fault().code, code, "{name}: {}", r.raw);
        // The rest of the document serves: the catalog answers (with the caller checks passing
        // for the entries that are not the bad one).
        if code != "PPT_AUTENTICAZIONE" && code != "PPT_CANALE_DISABILITATO" {
            let (_, entries) = catalog_of(&gw.catalog(&CatalogReq::default().xml()).await);
            assert!(!entries.is_empty(), "{name}");
        }
        let metrics = gw.metrics().render();
        assert!(
            metrics.contains("sanp_registry_findings{map=\""),
            "{name}: {metrics}"
        );
    }
    assert_eq!(ec.received().len(), 0, "no bad entry reached the EC");

    // Rows the catalog cannot carry are left out of it; the demand through them still works.
    let gw = start(&|r| {
        r["cdsServices"]["00002"]["description"] = Value::Null;
        r["cdsSubjectServices"]["00042"]["fee"] = Value::Null;
    })
    .await;
    let (_, full) = catalog_of(&gw.catalog(&CatalogReq::default().xml()).await);
    let (_, before) = catalog_of(
        &TestGateway::start(&conformance_registry(), "")
            .await
            .catalog(&CatalogReq::default().xml())
            .await,
    );
    let listed = |entries: &[Entry]| -> Vec<(String, String)> {
        entries
            .iter()
            .flat_map(|e| e.subjects.iter().map(|s| (e.id.clone(), s.clone())))
            .collect()
    };
    let (now, was) = (listed(&full), listed(&before));
    assert!(was.iter().any(|(s, _)| s == "00002"), "{was:?}");
    assert!(was.iter().any(|(_, a)| a == "00042"), "{was:?}");
    let expected: Vec<(String, String)> = was
        .into_iter()
        .filter(|(s, a)| s != "00002" && a != "00042")
        .collect();
    assert_eq!(now, expected);
    let r = gw.demand(&Demand::default().xml()).await;
    assert_eq!(r.outcome, "OK", "{}", r.raw);
    assert!(gw
        .metrics()
        .render()
        .contains("sanp_registry_findings{map=\"cdsServices\",effect=\"unlisted\"} 1"));
}
