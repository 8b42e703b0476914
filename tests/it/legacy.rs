//! The legacy "richiesta avvisi" operations over real sockets: nodoChiediCatalogoServizi in the
//! Node's exact v1 bytes, nodoChiediNumeroAvviso with every fault class, every EC-answer defect
//! of interfaces.md §6.7, the Node's two known deviations, and version bridging both ways.

use base64::Engine as _;
use serde_json::Value;

use crate::support;
use crate::support::ec::{
    self, legacy_answer, legacy_ko, legacy_ok, Behaviour, TestEc, DATI, NUMERO,
};
use crate::support::{conformance_registry, point_stations_at, Demand, Legacy, TestGateway};

async fn setup(
    behaviour: Behaviour,
    registry_edit: impl FnOnce(&mut Value),
    extra: &str,
) -> (TestEc, TestGateway) {
    let ec = TestEc::start(behaviour).await;
    let mut registry = conformance_registry();
    point_stations_at(&mut registry, ec.port());
    registry_edit(&mut registry);
    let gw = TestGateway::start(&registry, extra).await;
    (ec, gw)
}

fn catalog_v1(psp_password: &str, domain: Option<&str>) -> String {
    support::ppt_envelope(&format!(
        "<ppt:nodoChiediCatalogoServizi><identificativoPSP>PSP_OK</identificativoPSP><identificativoIntermediarioPSP>BROKER_OK</identificativoIntermediarioPSP>\
         <identificativoCanale>CH_OK</identificativoCanale><password>{psp_password}</password>{}</ppt:nodoChiediCatalogoServizi>",
        domain.map(|d| format!("<identificativoDominio>{d}</identificativoDominio>")).unwrap_or_default()
    ))
}

const V1_HEAD: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\" ?><listaCatalogoServizi xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:cs=\"http://PuntoAccessoPSP.spcoop.gov.it/CatalogoServizi\" xmlns=\"http://PuntoAccessoPSP.spcoop.gov.it/CatalogoServizi\"";

fn decode(b64: &str) -> String {
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .expect("base64"),
    )
    .expect("UTF-8")
}

/// The v1 catalog, byte for byte as the Node writes it (SEM_NCCS_11/12): version-1 services only,
/// inside the misnamed inner element, without `esito`; an empty result is the empty root.
#[tokio::test]
async fn the_v1_catalog_has_the_nodes_exact_bytes() {
    let (_ec, gw) = setup(ec::reply(legacy_ok()), |_| {}, "").await;
    let r = gw
        .legacy("nodoChiediCatalogoServizi", &catalog_v1("Password01", None))
        .await;
    assert_eq!(
        (r.outer.as_str(), r.inner.as_str()),
        (
            "nodoChiediCatalogoServiziRisposta",
            "nodoChiediNumeroAvvisoRisposta"
        )
    );
    assert_eq!(r.paths(), ["xmlCatalogoServizi"], "no esito, no fault");
    let expected = format!(
        "{V1_HEAD}><catalogoServizi><idServizio>60001</idServizio><descrizioneServizio>Servizio versione 1</descrizioneServizio>\
         <elencoSoggettiEroganti><soggettoErogante><idDominio>77777777777</idDominio><denominazioneEnteCreditore>Ente Conformita</denominazioneEnteCreditore>\
         <dataInizioValidita>2024-01-01</dataInizioValidita></soggettoErogante></elencoSoggettiEroganti><xsdRiferimento>TassaAutomobilistica_1_1_0.xsd</xsdRiferimento></catalogoServizi>\
         <catalogoServizi><idServizio>60003</idServizio><descrizioneServizio>Servizio legacy intermediario disabilitato</descrizioneServizio>\
         <elencoSoggettiEroganti><soggettoErogante><idDominio>77777777777</idDominio><denominazioneEnteCreditore>Ente Conformita</denominazioneEnteCreditore>\
         <dataInizioValidita>2024-01-01</dataInizioValidita></soggettoErogante></elencoSoggettiEroganti><xsdRiferimento>TassaAutomobilistica_1_1_0.xsd</xsdRiferimento></catalogoServizi>\
         <catalogoServizi><idServizio>60004</idServizio><descrizioneServizio>Servizio legacy ente disabilitato</descrizioneServizio>\
         <elencoSoggettiEroganti><soggettoErogante><idDominio>77777777778</idDominio><denominazioneEnteCreditore>Ente Disabilitato</denominazioneEnteCreditore>\
         <dataInizioValidita>2024-01-01</dataInizioValidita></soggettoErogante></elencoSoggettiEroganti><xsdRiferimento>TassaAutomobilistica_1_1_0.xsd</xsdRiferimento></catalogoServizi>\
         </listaCatalogoServizi>"
    );
    assert_eq!(
        decode(r.get("xmlCatalogoServizi").expect("catalog")),
        expected,
        "60002 expired, v2 services absent"
    );
    // SEM_NCCS_12: a domain without version-1 services gets the empty root (which the v1 schema,
    // wanting at least one entry, would not accept: the first of the Node's two deviations).
    let r = gw
        .legacy(
            "nodoChiediCatalogoServizi",
            &catalog_v1("Password01", Some("66666666666")),
        )
        .await;
    assert_eq!(
        decode(r.get("xmlCatalogoServizi").expect("catalog")),
        format!("{V1_HEAD}/>")
    );
    // Faults: legacy fault bean inside the inner element, nothing else.
    let r = gw
        .legacy("nodoChiediCatalogoServizi", &catalog_v1("Password02", None))
        .await;
    assert_eq!(
        r.paths(),
        [
            "fault/faultCode",
            "fault/faultString",
            "fault/id",
            "fault/description"
        ]
    );
    assert_eq!(r.fault_code(), "PPT_AUTENTICAZIONE");
    let r = gw
        .legacy(
            "nodoChiediCatalogoServizi",
            &catalog_v1("Password01", Some("12345678901")),
        )
        .await;
    assert_eq!(r.fault_code(), "PPT_DOMINIO_SCONOSCIUTO");
    let r = gw
        .legacy("nodoChiediCatalogoServizi", &catalog_v1("Pwd", None))
        .await;
    assert_eq!(r.fault_code(), "PPT_SINTASSI_EXTRAXSD");
}

/// OK: the EC's numeroAvviso and datiPagamentoPA reach the PSP unchanged (qualified RPT/RT
/// children included); the EC got the Node's paaChiediNumeroAvviso with its intestazionePPT.
#[tokio::test]
async fn numero_avviso_maps_the_ec_answer_and_sends_the_nodes_request() {
    let (ec, gw) = setup(ec::reply(legacy_ok()), |_| {}, "").await;
    let req = Legacy::default();
    let r = gw.numero_avviso(&req.xml()).await;
    let got: Vec<(&str, &str)> = support::pairs(&r.leaves);
    assert_eq!(
        got,
        [
            ("esito", "OK"),
            ("identificativoDominio", "77777777777"),
            ("numeroAvviso/auxDigit", "3"),
            ("numeroAvviso/IUV", "01000000000000042"),
            ("datiPagamentoPA/importoSingoloVersamento", "120.50"),
            ("datiPagamentoPA/ibanAccredito", "IT60X0542811101000000123456"),
            ("datiPagamentoPA/bicAccredito", "BPPIITRRXXX"),
            ("datiPagamentoPA/enteBeneficiario/identificativoUnivocoBeneficiario/tipoIdentificativoUnivoco", "G"),
            ("datiPagamentoPA/enteBeneficiario/identificativoUnivocoBeneficiario/codiceIdentificativoUnivoco", "77777777777"),
            ("datiPagamentoPA/enteBeneficiario/denominazioneBeneficiario", "Ente Beneficiario"),
            ("datiPagamentoPA/causaleVersamento", "Bollo auto AB345CD"),
        ]
    );
    let received = ec.received();
    let sent = &received[0];
    assert_eq!(
        sent.header("SOAPAction").as_deref(),
        Some("paaChiediNumeroAvviso")
    );
    assert!(
        sent.head.starts_with("POST /mod4 "),
        "the station's modello-4 endpoint: {}",
        sent.head
    );
    support::official::assert_valid_legacy_pa(&sent.body);
    let doc = roxmltree::Document::parse(&sent.body).expect("request XML");
    let text = |name: &str| {
        doc.descendants()
            .find(|n| n.has_tag_name(name))
            .and_then(|n| n.text())
            .map(str::to_owned)
    };
    assert!(doc.descendants().any(|n| n.has_tag_name((
        "http://ws.pagamenti.telematici.gov/ppthead",
        "intestazionePPT"
    ))));
    assert_eq!(
        text("identificativoIntermediarioPA").as_deref(),
        Some("77777777777")
    );
    assert_eq!(
        text("identificativoStazioneIntermediarioPA").as_deref(),
        Some("77777777777_01")
    );
    assert_eq!(
        text("identificativoDominio").as_deref(),
        Some("77777777777")
    );
    assert_eq!(text("identificativoPSP").as_deref(), Some("PSP_OK"));
    assert_eq!(
        text("datiSpecificiServizio").as_deref(),
        Some(req.data.as_str())
    );
}

/// Every fault class of the legacy chain (interfaces.md §6.5), in its legacy shape: fault before
/// `esito` KO, no `original*`.
#[tokio::test]
async fn numero_avviso_faults_follow_the_nodes_order() {
    let (ec, gw) = setup(ec::reply(legacy_ok()), |_| {}, "").await;
    let cases: Vec<(&str, Legacy, &str)> = vec![
        (
            "wrong password length",
            Legacy {
                password: "Pwd1234".into(),
                ..Legacy::default()
            },
            "PPT_SINTASSI_EXTRAXSD",
        ),
        (
            "idServizio of 4",
            Legacy {
                service: "6000".into(),
                ..Legacy::default()
            },
            "PPT_SINTASSI_EXTRAXSD",
        ),
        (
            "idDominioErogatoreServizio of 36",
            Legacy {
                domain: "7".repeat(36),
                ..Legacy::default()
            },
            "PPT_SINTASSI_EXTRAXSD",
        ),
        (
            "empty service data, before the caller checks",
            Legacy {
                psp: "NOPE".into(),
                data: String::new(),
                ..Legacy::default()
            },
            "PPT_SINTASSI_EXTRAXSD",
        ),
        (
            "unknown PSP",
            Legacy {
                psp: "NOPE".into(),
                ..Legacy::default()
            },
            "PPT_PSP_SCONOSCIUTO",
        ),
        (
            "wrong password",
            Legacy {
                password: "Password02".into(),
                ..Legacy::default()
            },
            "PPT_AUTENTICAZIONE",
        ),
        (
            "channel of another broker",
            Legacy {
                channel: "CH_NOEXT".into(),
                ..Legacy::default()
            },
            "PPT_AUTORIZZAZIONE",
        ),
        (
            "unknown service",
            Legacy {
                service: "99999".into(),
                ..Legacy::default()
            },
            "PPT_SERVIZIO_SCONOSCIUTO",
        ),
        (
            "service of version 2 without bridging",
            Legacy {
                service: "00001".into(),
                ..Legacy::default()
            },
            "PPT_VERSIONE_SERVIZIO",
        ),
        (
            "unknown domain",
            Legacy {
                domain: "12345678901".into(),
                ..Legacy::default()
            },
            "PPT_DOMINIO_SCONOSCIUTO",
        ),
        (
            "disabled domain",
            Legacy {
                service: "60004".into(),
                domain: "77777777778".into(),
                ..Legacy::default()
            },
            "PPT_DOMINIO_DISABILITATO",
        ),
        (
            "station's broker disabled",
            Legacy {
                service: "60003".into(),
                ..Legacy::default()
            },
            "PPT_INTERMEDIARIO_PA_DISABILITATO",
        ),
        (
            "service data not matching the schema",
            Legacy {
                data: support::tassa_auto("AB3"),
                ..Legacy::default()
            },
            "PPT_SINTASSI_XSD",
        ),
    ];
    for (name, req, code) in cases {
        let r = gw.numero_avviso(&req.xml()).await;
        assert_eq!(r.fault_code(), code, "{name}: {}", r.raw);
        assert_eq!(r.get("esito"), Some("KO"), "{name}");
        assert_eq!(r.get("fault/id"), Some("NodoDeiPagamentiSPC"), "{name}");
        assert_eq!(
            r.paths(),
            [
                "fault/faultCode",
                "fault/faultString",
                "fault/id",
                "fault/description",
                "esito"
            ],
            "{name}"
        );
    }
    assert!(ec.received().is_empty());
}

/// What the station received: (identificativoDominio, identificativoStazioneIntermediarioPA).
fn routed(body: &str) -> (String, String) {
    let doc = roxmltree::Document::parse(body).expect("request XML");
    let text = |name: &str| {
        doc.descendants()
            .find(|n| n.has_tag_name(name))
            .and_then(|n| n.text())
            .unwrap_or_default()
            .to_owned()
    };
    (
        text("identificativoDominio"),
        text("identificativoStazioneIntermediarioPA"),
    )
}

/// No (EC, service) association is needed (the Node's paaChiediNumeroAvviso.feature sends `00010`
/// to an EC offering no version-1 service): the EC's model-4 station is called; an association
/// naming a station, even an expired one, chooses that station; an EC without a model-4 station
/// is PPT_STAZIONE_INT_PA_SCONOSCIUTA.
#[tokio::test]
async fn numero_avviso_reaches_the_ecs_model4_station_without_an_association() {
    let (ec, gw) = setup(
        ec::reply(legacy_ok()),
        |r| {
            r["creditorInstitutions"]["55555555555"] = serde_json::json!({
                "creditor_institution_code": "55555555555", "enabled": true,
                "business_name": "Ente senza stazione"
            });
        },
        "",
    )
    .await;
    let ask = |service: &str, domain: &str| Legacy {
        service: service.into(),
        domain: domain.into(),
        ..Legacy::default()
    };
    // 66666666666 offers no version-1 service: its model-4 station (77777777777_01) is called.
    let r = gw.numero_avviso(&ask("60001", "66666666666").xml()).await;
    assert_eq!(r.get("esito"), Some("OK"), "{}", r.raw);
    assert_eq!(r.get("identificativoDominio"), Some("66666666666"));
    // An expired association still names its station; validity is the catalog's business.
    let r = gw.numero_avviso(&ask("60002", "77777777777").xml()).await;
    assert_eq!(r.get("esito"), Some("OK"), "{}", r.raw);
    let received: Vec<(String, String)> = ec.received().iter().map(|x| routed(&x.body)).collect();
    assert_eq!(
        received,
        [
            ("66666666666".to_owned(), "77777777777_01".to_owned()),
            ("77777777777".to_owned(), "77777777777_01".to_owned()),
        ]
    );
    // No model-4 station at all.
    let r = gw.numero_avviso(&ask("60001", "55555555555").xml()).await;
    assert_eq!(
        r.fault_code(),
        "PPT_STAZIONE_INT_PA_SCONOSCIUTA",
        "{}",
        r.raw
    );
    assert_eq!(
        r.get("fault/description"),
        Some("idStation not enabled to 4 model")
    );
    assert_eq!(ec.received().len(), 2, "nothing sent for the refusal");
}

/// Several model-4 stations and no association to choose: the first by `station_code` that is
/// known and enabled (the same on every replica). Here 77777777777_01 is not model 4 for the EC,
/// _02 is disabled, so _03 is taken — and its disabled broker answers.
#[tokio::test]
async fn several_model4_stations_follow_one_documented_rule() {
    // 01 is not model 4 for the EC; _03's broker enabled or not.
    let start = |broker_enabled: bool| {
        setup(
            ec::reply(legacy_ok()),
            move |r: &mut Value| {
                r["creditorInstitutionStations"]["77777777777_01_77777777777_3_null_0"]["mod4"] =
                    Value::from(false);
                r["creditorInstitutionBrokers"]["88888888888"]["enabled"] =
                    Value::from(broker_enabled);
            },
            "",
        )
    };
    let ask = Legacy {
        service: "60004".into(),
        ..Legacy::default()
    }
    .xml();
    let (ec, gw) = start(false).await;
    let r = gw.numero_avviso(&ask).await;
    assert_eq!(
        r.fault_code(),
        "PPT_INTERMEDIARIO_PA_DISABILITATO",
        "{}",
        r.raw
    );
    assert!(ec.received().is_empty());
    // With _03's broker enabled, _03 is called.
    let (ec, gw) = start(true).await;
    let r = gw.numero_avviso(&ask).await;
    assert_eq!(r.get("esito"), Some("OK"), "{}", r.raw);
    let received: Vec<(String, String)> = ec.received().iter().map(|x| routed(&x.body)).collect();
    assert_eq!(
        received,
        [("77777777777".to_owned(), "77777777777_03".to_owned())]
    );
}

/// The v1 catalog lists services in the configuration's order, then associations in theirs, not
/// by id: the Node's own expected bytes list `00010` before `00001` (interfaces.md §5.2).
#[tokio::test]
async fn the_v1_catalog_keeps_the_documents_order() {
    let ec = TestEc::start(ec::reply(legacy_ok())).await;
    let mut registry = conformance_registry();
    point_stations_at(&mut registry, ec.port());
    registry["cdsSubjectServices"]["60009"] = serde_json::json!({
        "subject": "66666666666", "service": "60001", "subject_service_id": "60009",
        "start_date": "2024-01-01T00:00:00+01:00", "end_date": null, "fee": false,
        "station_code": "77777777777_01", "service_description": "Bollo"
    });
    // A `Value` keeps keys sorted: the two maps are written by hand in the order wanted.
    let ordered = |map: &str, first: &[&str]| -> String {
        let m = registry[map].as_object().expect("map");
        let mut keys: Vec<&String> = m.keys().filter(|k| first.contains(&k.as_str())).collect();
        keys.sort_by_key(|k| first.iter().position(|f| f == k));
        keys.extend(m.keys().filter(|k| !first.contains(&k.as_str())));
        let entries: Vec<String> = keys
            .iter()
            .map(|k| format!("{}:{}", Value::from(k.as_str()), m[k.as_str()]))
            .collect();
        format!("{{{}}}", entries.join(","))
    };
    let services = ordered("cdsServices", &["60004", "60003"]);
    let associations = ordered("cdsSubjectServices", &["60009"]);
    registry["cdsServices"] = Value::from("@SERVICES@");
    registry["cdsSubjectServices"] = Value::from("@ASSOCIATIONS@");
    let document = registry
        .to_string()
        .replace("\"@SERVICES@\"", &services)
        .replace("\"@ASSOCIATIONS@\"", &associations);
    let gw = TestGateway::start_document(document.as_bytes(), "").await;
    let r = gw
        .legacy("nodoChiediCatalogoServizi", &catalog_v1("Password01", None))
        .await;
    let catalog = decode(r.get("xmlCatalogoServizi").expect("catalog"));
    let doc = roxmltree::Document::parse(&catalog).expect("catalog XML");
    let listed: Vec<(&str, Vec<&str>)> = doc
        .descendants()
        .filter(|n| n.has_tag_name("catalogoServizi"))
        .map(|s| {
            let id = s
                .children()
                .find(|c| c.has_tag_name("idServizio"))
                .and_then(|c| c.text())
                .unwrap_or_default();
            let domains = s
                .descendants()
                .filter(|c| c.has_tag_name("idDominio"))
                .filter_map(|c| c.text())
                .collect();
            (id, domains)
        })
        .collect();
    assert_eq!(
        listed,
        [
            ("60004", vec!["77777777778"]),
            ("60003", vec!["77777777777"]),
            ("60001", vec!["66666666666", "77777777777"]),
        ]
    );
}

/// Every EC-answer defect of §6.7 (CNARES1..19) is PPT_STAZIONE_INT_PA_ERRORE_RESPONSE; an EC KO
/// with any fault code is PPT_ERRORE_EMESSO_DA_PAA with the EC as `id` (CNARES8, T116_A).
#[tokio::test]
async fn legacy_ec_answer_defects_and_kos_are_classified() {
    let (ec, gw) = setup(ec::reply(legacy_ok()), |_| {}, "").await;
    let ok = legacy_ok();
    let fault = "<fault><faultCode>PAA_X</faultCode><faultString>x</faultString><id>77777777777</id></fault>";
    let defects: Vec<(&str, String)> = vec![
        ("CNARES1 wrong envelope namespace", ok.replace("http://schemas.xmlsoap.org/soap/envelope/", "http://schemas.xmlsoap.org/ciao/envelope/")),
        ("CNARES3 inner element empty", legacy_answer("")),
        ("CNARES4 Body missing", "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"/>".to_owned()),
        ("CNARES5 outer element empty", ok.replace(&ok[ok.find("<paaChiediNumeroAvvisoRisposta>").expect("inner")..ok.find("</ppt:").expect("outer end")], "")),
        ("CNARES6 fault empty", legacy_answer("<fault/><esito>KO</esito>")),
        ("CNARES7 faultCode missing", legacy_answer("<fault><faultString>x</faultString><id>1</id></fault><esito>KO</esito>")),
        ("CNARES9 faultString missing", legacy_answer("<fault><faultCode>X</faultCode><id>1</id></fault><esito>KO</esito>")),
        ("CNARES10 id missing", legacy_answer("<fault><faultCode>X</faultCode><faultString>x</faultString></fault><esito>KO</esito>")),
        ("CNARES11 esito missing", legacy_answer(&format!("{NUMERO}{DATI}"))),
        ("CNARES12 KO without fault", legacy_answer("<esito>KO</esito>")),
        ("CNARES13 OK with fault", legacy_answer(&format!("{fault}<esito>OK</esito>{NUMERO}{DATI}"))),
        ("CNARES14 esito CIAO", legacy_answer(&format!("<esito>CIAO</esito>{NUMERO}{DATI}"))),
        ("CNARES15 auxDigit missing", ok.replace("<auxDigit>3</auxDigit>", "")),
        ("CNARES16 IUV missing", ok.replace("<IUV>01000000000000042</IUV>", "")),
        ("CNARES17 importoSingoloVersamento missing", ok.replace("<importoSingoloVersamento>120.50</importoSingoloVersamento>", "")),
        ("CNARES18 ibanAccredito missing", ok.replace("<ibanAccredito>IT60X0542811101000000123456</ibanAccredito>", "")),
        ("CNARES19 causaleVersamento missing", ok.replace("<causaleVersamento>Bollo auto AB345CD</causaleVersamento>", "")),
        ("numeroAvviso missing on OK", legacy_answer(&format!("<esito>OK</esito>{DATI}"))),
        ("datiPagamentoPA missing on OK", legacy_answer(&format!("<esito>OK</esito>{NUMERO}"))),
        ("fault after esito", legacy_answer(&format!("<esito>KO</esito>{fault}"))),
        ("IUV of 4 digits", ok.replace("01000000000000042", "0100")),
        ("amount with a comma", ok.replace("120.50", "120,50")),
    ];
    for (name, body) in defects {
        ec.set(ec::reply(body));
        let r = gw.numero_avviso(&Legacy::default().xml()).await;
        assert_eq!(
            r.fault_code(),
            "PPT_STAZIONE_INT_PA_ERRORE_RESPONSE",
            "{name}: {}",
            r.raw
        );
        assert_eq!(r.get("esito"), Some("KO"));
    }
    for code in ["PAA_TARGA_SCONOSCIUTA", "ciao"] {
        ec.set(ec::reply(
            legacy_ko().replace("PAA_TARGA_SCONOSCIUTA", code),
        ));
        let r = gw.numero_avviso(&Legacy::default().xml()).await;
        assert_eq!(r.fault_code(), "PPT_ERRORE_EMESSO_DA_PAA", "{}", r.raw);
        assert_eq!(
            r.get("fault/faultString"),
            Some("Errore restituito dalla PAA.")
        );
        assert_eq!(r.get("fault/id"), Some("77777777777"));
        assert_eq!(
            r.get("fault/description"),
            Some(format!("originalFaultCode: {code}, originalFaultString: Targa sconosciuta, originalDescription: Nessun veicolo AB345CD").as_str())
        );
    }
    ec.set(Behaviour::Reply {
        status: 500,
        body: "boom".into(),
    });
    assert_eq!(
        gw.numero_avviso(&Legacy::default().xml())
            .await
            .fault_code(),
        "PPT_STAZIONE_INT_PA_IRRAGGIUNGIBILE"
    );
}

/// The second of the Node's deviations: an IUV the EC-side schema allows (5 to 15 digits) but the
/// PSP-side schema does not ([0-9]{15}|[0-9]{17}) is passed through, so that answer does not
/// validate against the PSP WSDL.
#[tokio::test]
async fn an_ec_side_only_iuv_is_passed_through_as_the_node_does() {
    let (_ec, gw) = setup(
        ec::reply(legacy_ok().replace("01000000000000042", "0100000042")),
        |_| {},
        "",
    )
    .await;
    let a = gw
        .post(
            "/nodo-per-psp-richiesta-avvisi/v1",
            Some("nodoChiediNumeroAvviso"),
            &Legacy::default().xml(),
        )
        .await;
    let r = support::LegacyResponse::parse(&a.body);
    assert_eq!(r.get("esito"), Some("OK"));
    assert_eq!(r.get("numeroAvviso/IUV"), Some("0100000042"));
    if let Some(o) = support::official::official() {
        let err = o
            .legacy_psp
            .validate(a.body.as_bytes())
            .expect_err("PSP schema refuses a 10-digit IUV");
        assert!(err.to_string().contains("IUV"), "{err}");
    }
}

/// demandPaymentNotice for a version-1 service behind a bridged station: the station gets
/// paaChiediNumeroAvviso and its answer is mapped to SANP 3 (aux digit + IUV → notice number,
/// one fixed amount, reason → description). Without bridging: PPT_VERSIONE_SERVIZIO.
#[tokio::test]
async fn demand_to_a_legacy_station_is_bridged_when_enabled() {
    let bridging = "[ec.stations.\"77777777777_01\"]\nbridging = true\n";
    let (ec, gw) = setup(ec::reply(legacy_ok()), |_| {}, bridging).await;
    let r = gw
        .demand(
            &Demand {
                subject_service: "60001".into(),
                ..Demand::default()
            }
            .xml(),
        )
        .await;
    let got: Vec<(&str, &str)> = support::pairs(&r.leaves);
    assert_eq!(
        got,
        [
            ("outcome", "OK"),
            ("qrCode/fiscalCode", "77777777777"),
            ("qrCode/noticeNumber", "301000000000000042"),
            ("paymentList/paymentOptionDescription/amount", "120.50"),
            ("paymentList/paymentOptionDescription/options", "EQ"),
            ("paymentDescription", "Bollo auto AB345CD"),
            ("fiscalCodePA", "77777777777"),
            ("companyName", "Ente Beneficiario"),
        ]
    );
    let sent = ec.received();
    assert_eq!(
        sent[0].header("SOAPAction").as_deref(),
        Some("paaChiediNumeroAvviso")
    );
    support::official::assert_valid_legacy_pa(&sent[0].body);
    // Aux digit 0 with its application code.
    ec.set(ec::reply(legacy_ok().replace(NUMERO, "<numeroAvviso><auxDigit>0</auxDigit><applicationCode>12</applicationCode><IUV>123456789012345</IUV></numeroAvviso>")));
    let r = gw
        .demand(
            &Demand {
                subject_service: "60001".into(),
                ..Demand::default()
            }
            .xml(),
        )
        .await;
    assert_eq!(r.get("qrCode/noticeNumber"), Some("012123456789012345"));
    // What SANP 3 cannot carry is refused.
    for (name, answer, why) in [
        (
            "IUV not forming a notice number",
            legacy_ok().replace("01000000000000042", "0100000042"),
            "do not form an 18-digit notice number",
        ),
        (
            "zero amount",
            legacy_ok().replace("120.50", "0.00"),
            "is zero",
        ),
    ] {
        ec.set(ec::reply(answer));
        let r = gw
            .demand(
                &Demand {
                    subject_service: "60001".into(),
                    ..Demand::default()
                }
                .xml(),
            )
            .await;
        let f = r.fault();
        assert_eq!(f.code, "PPT_STAZIONE_INT_PA_ERRORE_RESPONSE", "{name}");
        assert!(
            f.description
                .as_deref()
                .is_some_and(|d| d.contains("non traducibile") && d.contains(why)),
            "{name}: {f:?}"
        );
    }
    // The legacy EC's KO reaches the SANP 3 PSP with the extended fault bean.
    ec.set(ec::reply(legacy_ko()));
    let r = gw
        .demand(
            &Demand {
                subject_service: "60001".into(),
                ..Demand::default()
            }
            .xml(),
        )
        .await;
    assert_eq!(r.fault().code, "PPT_ERRORE_EMESSO_DA_PAA");
    assert_eq!(
        r.fault().original_code.as_deref(),
        Some("PAA_TARGA_SCONOSCIUTA")
    );
    // Without bridging the Node's behaviour is unchanged.
    let (_ec, plain) = setup(ec::reply(legacy_ok()), |_| {}, "").await;
    let r = plain
        .demand(
            &Demand {
                subject_service: "60001".into(),
                ..Demand::default()
            }
            .xml(),
        )
        .await;
    assert_eq!(r.fault().code, "PPT_VERSIONE_SERVIZIO");
}

/// nodoChiediNumeroAvviso for a version-2 service behind a bridged station: the station gets
/// paDemandPaymentNotice and its answer is mapped to the legacy form (notice number → aux digit
/// + IUV, amount → importoSingoloVersamento, the EC's registry IBAN, description → reason).
#[tokio::test]
async fn legacy_request_to_a_sanp3_station_is_bridged_when_enabled() {
    let bridging = "[ec.stations.\"77777777777_01\"]\nbridging = true\n";
    let (ec, gw) = setup(ec::reply(ec::ok_answer()), |_| {}, bridging).await;
    // 00004 is offered by 77777777777 through one association (00046), on the bridged station.
    let req = Legacy {
        service: "00004".into(),
        ..Legacy::default()
    };
    let r = gw.numero_avviso(&req.xml()).await;
    let got: Vec<(&str, &str)> = support::pairs(&r.leaves);
    assert_eq!(
        got,
        [
            ("esito", "OK"),
            ("identificativoDominio", "77777777777"),
            ("numeroAvviso/auxDigit", "3"),
            ("numeroAvviso/IUV", "11111111111111111"),
            ("datiPagamentoPA/importoSingoloVersamento", "120.50"),
            ("datiPagamentoPA/ibanAccredito", "IT60X0542811101000000123456"),
            ("datiPagamentoPA/enteBeneficiario/identificativoUnivocoBeneficiario/tipoIdentificativoUnivoco", "G"),
            ("datiPagamentoPA/enteBeneficiario/identificativoUnivocoBeneficiario/codiceIdentificativoUnivoco", "77777777777"),
            ("datiPagamentoPA/enteBeneficiario/denominazioneBeneficiario", "Ente Conformita"),
            ("datiPagamentoPA/enteBeneficiario/denomUnitOperBeneficiario", "Ufficio tributi"),
            ("datiPagamentoPA/causaleVersamento", "Tassa automobilistica AB345CD"),
        ]
    );
    let sent = support::Response::parse(&ec.received()[0].body);
    assert_eq!(sent.element, "paDemandPaymentNoticeRequest");
    assert_eq!(sent.get("idServizio"), Some("00004"));
    assert_eq!(sent.get("idSoggettoServizio"), Some("00046"));
    assert_eq!(
        sent.get("datiSpecificiServizioRequest"),
        Some(req.data.as_str())
    );
    // What the legacy form cannot carry is refused.
    ec.set(ec::reply(
        ec::ok_answer().replace("<options>EQ</options>", "<options>GT</options>"),
    ));
    let r = gw.numero_avviso(&req.xml()).await;
    assert_eq!(r.fault_code(), "PPT_STAZIONE_INT_PA_ERRORE_RESPONSE");
    assert!(
        r.get("fault/description")
            .is_some_and(|d| d.contains("amount option GT")),
        "{}",
        r.raw
    );
    // The IBAN is the beneficiary's (fiscalCodePA): 66666666666 has none in the registry.
    ec.set(ec::reply(
        ec::ok_answer().replace("77777777777", "66666666666"),
    ));
    let no_iban = Legacy {
        service: "00001".into(),
        domain: "66666666666".into(),
        ..Legacy::default()
    };
    let r = gw.numero_avviso(&no_iban.xml()).await;
    assert_eq!(
        r.fault_code(),
        "PPT_STAZIONE_INT_PA_ERRORE_RESPONSE",
        "{}",
        r.raw
    );
    assert!(
        r.get("fault/description")
            .is_some_and(|d| d.contains("no valid IBAN")),
        "{}",
        r.raw
    );
    // The SANP 3 EC's KO reaches the legacy PSP in the legacy shape.
    ec.set(ec::reply(ec::ko_answer()));
    let r = gw.numero_avviso(&req.xml()).await;
    assert_eq!(r.fault_code(), "PPT_ERRORE_EMESSO_DA_PAA");
    assert_eq!(r.get("fault/id"), Some("77777777777"));
}
