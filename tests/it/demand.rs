//! demandPaymentNotice over real sockets: the mapping to and from the EC, and every fault of the
//! Node's check chain (interfaces.md §6.3), each judged by the official schemas.

use base64::Engine as _;

use crate::support;
use crate::support::ec::{self, Behaviour, TestEc};
use crate::support::{conformance_registry, point_stations_at, Demand, TestGateway};

async fn setup(behaviour: Behaviour) -> (TestEc, TestGateway) {
    let ec = TestEc::start(behaviour).await;
    let mut registry = conformance_registry();
    point_stations_at(&mut registry, ec.port());
    let gw = TestGateway::start(&registry, "").await;
    (ec, gw)
}

/// An OK answer of the EC is mapped field by field, and the EC got exactly the Node's request.
#[tokio::test]
async fn ok_answer_is_mapped_to_the_psp_and_the_ec_gets_the_nodes_request() {
    let (ec, gw) = setup(ec::reply(ec::ok_answer())).await;
    let demand = Demand::default();
    let r = gw.demand(&demand.xml()).await;
    assert_eq!(r.outcome, "OK", "{}", r.raw);
    assert!(r.fault.is_none());
    let expected = [
        ("outcome", "OK"),
        ("qrCode/fiscalCode", "77777777777"),
        ("qrCode/noticeNumber", "311111111111111111"),
        ("paymentList/paymentOptionDescription/amount", "120.50"),
        ("paymentList/paymentOptionDescription/options", "EQ"),
        ("paymentList/paymentOptionDescription/dueDate", "2030-06-30"),
        (
            "paymentList/paymentOptionDescription/paymentNote",
            "Bollo auto 2030",
        ),
        ("paymentDescription", "Tassa automobilistica AB345CD"),
        ("fiscalCodePA", "77777777777"),
        ("companyName", "Ente Conformita"),
        ("officeName", "Ufficio tributi"),
    ];
    let got: Vec<(&str, &str)> = support::pairs(&r.leaves);
    assert_eq!(
        got, expected,
        "allCCP is dropped, detailDescription becomes paymentNote"
    );

    let received = ec.received();
    assert_eq!(received.len(), 1);
    let req = &received[0];
    assert_eq!(
        req.header("SOAPAction").as_deref(),
        Some("paDemandPaymentNotice")
    );
    assert!(
        req.head.starts_with("POST /pagopa/paForNode "),
        "service_pof path: {}",
        req.head
    );
    support::official::assert_valid_pa_for_node(&req.body);
    let sent = support::Response::parse(&req.body);
    assert_eq!(sent.element, "paDemandPaymentNoticeRequest");
    assert_eq!(
        sent.element_ns,
        "http://pagopa-api.pagopa.gov.it/pa/paForNode.xsd"
    );
    let sent: Vec<(&str, &str)> = support::pairs(&sent.leaves);
    assert_eq!(
        sent,
        [
            ("idPA", "77777777777"),
            ("idBrokerPA", "77777777777"),
            ("idStation", "77777777777_01"),
            ("idServizio", "00001"),
            ("idSoggettoServizio", "00042"),
            ("datiSpecificiServizioRequest", demand.data.as_str()),
        ]
    );
}

/// Optional EC fields may be absent (TRES_PDPN_01/39/42/58): no Header, dueDate,
/// detailDescription, officeName; a past due date is accepted too.
#[tokio::test]
async fn optional_ec_fields_may_be_missing() {
    let (ec, gw) = setup(ec::reply(ec::ok_answer())).await;
    let minimal = ec::ok_answer()
        .replace("<soapenv:Header/>", "")
        .replace(
            "<dueDate>2030-06-30</dueDate>",
            "<dueDate>2022-06-25</dueDate>",
        )
        .replace("<detailDescription>Bollo auto 2030</detailDescription>", "")
        .replace("<officeName>Ufficio tributi</officeName>", "");
    ec.set(ec::reply(minimal));
    let r = gw.demand(&Demand::default().xml()).await;
    assert_eq!(r.outcome, "OK", "{}", r.raw);
    assert_eq!(
        r.get("paymentList/paymentOptionDescription/dueDate"),
        Some("2022-06-25")
    );
    assert_eq!(
        r.get("paymentList/paymentOptionDescription/paymentNote"),
        None
    );
    assert_eq!(r.get("officeName"), None);
    let no_due_date = ec::ok_answer().replace("<dueDate>2030-06-30</dueDate>", "");
    ec.set(ec::reply(no_due_date));
    let r = gw.demand(&Demand::default().xml()).await;
    assert_eq!(r.outcome, "OK", "{}", r.raw);
    assert_eq!(r.get("paymentList/paymentOptionDescription/dueDate"), None);
}

struct Case {
    name: &'static str,
    demand: Demand,
    code: &'static str,
    string: &'static str,
    description: &'static str,
}

fn case(
    name: &'static str,
    edit: impl FnOnce(&mut Demand),
    code: &'static str,
    string: &'static str,
    description: &'static str,
) -> Case {
    let mut demand = Demand::default();
    edit(&mut demand);
    Case {
        name,
        demand,
        code,
        string,
        description,
    }
}

/// Every check of §6.3 steps 1–13, in the Node's order, with its exact code, string and description.
#[tokio::test]
async fn each_check_of_the_chain_answers_its_fault() {
    let (ec, gw) = setup(ec::reply(ec::ok_answer())).await;
    let cases = [
        case(
            "SEM_DPNR_01 unknown PSP",
            |d| d.psp = "PSP_NONE".into(),
            "PPT_PSP_SCONOSCIUTO",
            "PSP sconosciuto.",
            "PSP sconosciuto.",
        ),
        case(
            "SEM_DPNR_02 disabled PSP",
            |d| d.psp = "PSP_DISABLED".into(),
            "PPT_PSP_DISABILITATO",
            "PSP conosciuto ma disabilitato da configurazione.",
            "PSP conosciuto ma disabilitato da configurazione.",
        ),
        case(
            "SEM_DPNR_03 unknown broker",
            |d| d.broker = "BROKER_NONE".into(),
            "PPT_INTERMEDIARIO_PSP_SCONOSCIUTO",
            "Identificativo intermediario psp sconosciuto.",
            "Identificativo intermediario psp sconosciuto.",
        ),
        case(
            "SEM_DPNR_04 disabled broker",
            |d| d.broker = "BROKER_DISABLED".into(),
            "PPT_INTERMEDIARIO_PSP_DISABILITATO",
            "Intermediario psp disabilitato.",
            "Intermediario psp disabilitato.",
        ),
        case(
            "SEM_DPNR_05 unknown channel",
            |d| d.channel = "CH_NONE".into(),
            "PPT_CANALE_SCONOSCIUTO",
            "Canale sconosciuto.",
            "Canale sconosciuto.",
        ),
        case(
            "SEM_DPNR_06 disabled channel",
            |d| d.channel = "CH_DISABLED".into(),
            "PPT_CANALE_DISABILITATO",
            "Canale conosciuto ma disabilitato da configurazione.",
            "Canale conosciuto ma disabilitato da configurazione.",
        ),
        case(
            "SEM_DPNR_08 wrong password",
            |d| d.password = "Password02".into(),
            "PPT_AUTENTICAZIONE",
            "Errore di autenticazione.",
            "Password sconosciuta o errata",
        ),
        case(
            "SEM_DPNR_09 channel of another broker",
            |d| d.channel = "CH_NOEXT".into(),
            "PPT_AUTORIZZAZIONE",
            "Il richiedente non ha i diritti per l'operazione.",
            "Configurazione intermediario-canale non corretta",
        ),
        case(
            "PSP not associated with the channel",
            |d| d.channel = "CH_NOPSP".into(),
            "PPT_AUTORIZZAZIONE",
            "Il richiedente non ha i diritti per l'operazione.",
            "Configurazione psp-canale non corretta",
        ),
        case(
            "SEM_DPNR_10 unknown subject service",
            |d| d.subject_service = "00099".into(),
            "PPT_SERVIZIO_SCONOSCIUTO",
            "Servizio inesistente sul sistema pagoPA",
            "Soggetto Servizio inesistente sul sistema pagoPA",
        ),
        case(
            "SEM_DPNR_11 expired association",
            |d| d.subject_service = "00002".into(),
            "PPT_SERVIZIO_NONATTIVO",
            "Servizio non attivo",
            "Servizio non attivo",
        ),
        case(
            "association not yet valid",
            |d| d.subject_service = "00009".into(),
            "PPT_SERVIZIO_NONATTIVO",
            "Servizio non attivo",
            "Servizio non attivo",
        ),
        case(
            "SEM_DPNR_12 service of version 1",
            |d| d.subject_service = "60001".into(),
            "PPT_VERSIONE_SERVIZIO",
            "Versione servizio incompatibile con la chiamata",
            "Versione servizio incompatibile con la chiamata",
        ),
        case(
            "SEM_DPNR_13 unknown EC",
            |d| d.subject_service = "00003".into(),
            "PPT_DOMINIO_SCONOSCIUTO",
            "Identificativo Dominio sconosciuto.",
            "Identificativo Dominio sconosciuto.",
        ),
        case(
            "SEM_DPNR_14 disabled EC",
            |d| d.subject_service = "00004".into(),
            "PPT_DOMINIO_DISABILITATO",
            "Dominio disabilitato.",
            "Dominio disabilitato.",
        ),
        case(
            "SEM_DPNR_16 station not enabled to model 4",
            |d| d.subject_service = "80003".into(),
            "PPT_STAZIONE_INT_PA_SCONOSCIUTA",
            "IdentificativoStazioneRichiedente sconosciuto.",
            "idStation not enabled to 4 model",
        ),
        case(
            "station missing from the registry",
            |d| d.subject_service = "00007".into(),
            "PPT_STAZIONE_INT_PA_SCONOSCIUTA",
            "IdentificativoStazioneRichiedente sconosciuto.",
            "idStation not enabled to 4 model",
        ),
        case(
            "association without a station",
            |d| d.subject_service = "00011".into(),
            "PPT_STAZIONE_INT_PA_SCONOSCIUTA",
            "IdentificativoStazioneRichiedente sconosciuto.",
            "idStation not enabled to 4 model",
        ),
        case(
            "SEM_DPNR_17 disabled station",
            |d| d.subject_service = "00006".into(),
            "PPT_STAZIONE_INT_PA_DISABILITATA",
            "Stazione disabilitata.",
            "Stazione disabilitata.",
        ),
        case(
            "SEM_DPNR_15 disabled EC broker",
            |d| d.subject_service = "00005".into(),
            "PPT_INTERMEDIARIO_PA_DISABILITATO",
            "Intermediario dominio disabilitato.",
            "Intermediario dominio disabilitato.",
        ),
        case(
            "unknown EC broker",
            |d| d.subject_service = "00008".into(),
            "PPT_INTERMEDIARIO_PA_SCONOSCIUTO",
            "Identificativo intermediario dominio sconosciuto.",
            "Identificativo intermediario dominio sconosciuto.",
        ),
        // Order: the first failing check wins.
        case(
            "unknown PSP beats a wrong password",
            |d| {
                d.psp = "PSP_NONE".into();
                d.password = "Password02".into()
            },
            "PPT_PSP_SCONOSCIUTO",
            "PSP sconosciuto.",
            "PSP sconosciuto.",
        ),
        case(
            "password is checked before the broker/channel match",
            |d| {
                d.channel = "CH_NOEXT".into();
                d.password = "Password02".into()
            },
            "PPT_AUTENTICAZIONE",
            "Errore di autenticazione.",
            "Password sconosciuta o errata",
        ),
        case(
            "caller checks come before the subject service",
            |d| {
                d.channel = "CH_DISABLED".into();
                d.subject_service = "00099".into()
            },
            "PPT_CANALE_DISABILITATO",
            "Canale conosciuto ma disabilitato da configurazione.",
            "Canale conosciuto ma disabilitato da configurazione.",
        ),
    ];
    for c in cases {
        let r = gw.demand(&c.demand.xml()).await;
        assert_eq!(r.outcome, "KO", "{}: {}", c.name, r.raw);
        let f = r.fault();
        assert_eq!(
            (f.code.as_str(), f.string.as_str(), f.id.as_str()),
            (c.code, c.string, "NodoDeiPagamentiSPC"),
            "{}",
            c.name
        );
        assert_eq!(f.description.as_deref(), Some(c.description), "{}", c.name);
        assert_eq!(f.original_code, None, "{}", c.name);
        assert_eq!(
            r.paths(),
            [
                "outcome",
                "fault/faultCode",
                "fault/faultString",
                "fault/id",
                "fault/description"
            ],
            "{}",
            c.name
        );
    }
    assert!(ec.received().is_empty(), "no failed check may reach the EC");
}

/// Syntax errors are business KOs (HTTP 200, PPT_SINTASSI_EXTRAXSD) like the Node's SIN_DPNR_xx.
#[tokio::test]
async fn syntax_errors_are_business_kos() {
    let (ec, gw) = setup(ec::reply(ec::ok_answer())).await;
    let d = Demand::default();
    let soap = "http://schemas.xmlsoap.org/soap/envelope/";
    let payload = d.payload();
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "SIN_DPNR_01 wrong envelope namespace",
            d.xml()
                .replace(soap, "http://schemas.xmlsoap.org/ciao/envelope/"),
            "[Envelope]",
        ),
        (
            "SIN_DPNR_02 no Body",
            format!(
                "<soapenv:Envelope xmlns:soapenv=\"{soap}\"><soapenv:Header/></soapenv:Envelope>"
            ),
            "Body assente",
        ),
        (
            "SIN_DPNR_03 empty Body",
            support::nfp_envelope(""),
            "Body vuoto",
        ),
        (
            "SIN_DPNR_04 empty wrapper",
            support::nfp_envelope("<nod:demandPaymentNoticeRequest/>"),
            "demandPaymentNoticeRequest",
        ),
        (
            "idPSP of 36 characters",
            Demand {
                psp: "A".repeat(36),
                ..Demand::default()
            }
            .xml(),
            "demandPaymentNoticeRequest/idPSP",
        ),
        (
            "empty idPSP",
            Demand {
                psp: String::new(),
                ..Demand::default()
            }
            .xml(),
            "demandPaymentNoticeRequest/idPSP",
        ),
        (
            "password of 7 characters",
            Demand {
                password: "Passw01".into(),
                ..Demand::default()
            }
            .xml(),
            "demandPaymentNoticeRequest/password",
        ),
        (
            "password of 16 characters",
            Demand {
                password: "Password01234567".into(),
                ..Demand::default()
            }
            .xml(),
            "demandPaymentNoticeRequest/password",
        ),
        (
            "idSoggettoServizio of 4 characters",
            Demand {
                subject_service: "0004".into(),
                ..Demand::default()
            }
            .xml(),
            "idSoggettoServizio",
        ),
        (
            "idSoggettoServizio of 6 characters",
            Demand {
                subject_service: "000042".into(),
                ..Demand::default()
            }
            .xml(),
            "idSoggettoServizio",
        ),
        (
            "SIN_DPNR_23 datiSpecificiServizio not base64",
            Demand {
                data: "cia".into(),
                ..Demand::default()
            }
            .xml(),
            "datiSpecificiServizio",
        ),
        (
            "SIN_DPNR_24 datiSpecificiServizio with $",
            Demand {
                data: "cia$".into(),
                ..Demand::default()
            }
            .xml(),
            "datiSpecificiServizio",
        ),
        (
            "SIN_DPNR_25 empty datiSpecificiServizio",
            Demand {
                data: String::new(),
                ..Demand::default()
            }
            .xml(),
            "[datiSpecificiServizio] - valore base64Binary vuoto",
        ),
        (
            "blank datiSpecificiServizio",
            Demand {
                data: " \n\t ".into(),
                ..Demand::default()
            }
            .xml(),
            "datiSpecificiServizio",
        ),
        (
            "SIN_DPNR_26 duplicated idPSP",
            support::nfp_envelope(&payload.replace(
                "<idPSP>PSP_OK</idPSP>",
                "<idPSP>PSP_OK</idPSP><idPSP>PSP_OK</idPSP>",
            )),
            "idPSP",
        ),
        (
            "elements out of order",
            support::nfp_envelope(&payload.replace(
                "<idPSP>PSP_OK</idPSP><idBrokerPSP>BROKER_OK</idBrokerPSP>",
                "<idBrokerPSP>BROKER_OK</idBrokerPSP><idPSP>PSP_OK</idPSP>",
            )),
            "idBrokerPSP",
        ),
        (
            "missing idChannel",
            support::nfp_envelope(&payload.replace("<idChannel>CH_OK</idChannel>", "")),
            "password",
        ),
        (
            "unknown trailing element",
            support::nfp_envelope(&payload.replace(
                "</nod:demandPaymentNoticeRequest>",
                "<extra>1</extra></nod:demandPaymentNoticeRequest>",
            )),
            "extra",
        ),
        (
            "children qualified in the wrapper namespace",
            support::nfp_envelope(
                &payload.replace("<idPSP>PSP_OK</idPSP>", "<nod:idPSP>PSP_OK</nod:idPSP>"),
            ),
            "idPSP",
        ),
        (
            "body element of another operation",
            support::nfp_envelope(&payload.replace(
                "demandPaymentNoticeRequest",
                "nodoChiediCatalogoServiziV2Request",
            )),
            "atteso",
        ),
        (
            "two payloads in the Body",
            support::nfp_envelope(&format!("{payload}{payload}")),
            "piu' di un elemento",
        ),
        (
            "wrapper in no namespace",
            support::nfp_envelope(&payload.replace(
                "nod:demandPaymentNoticeRequest",
                "demandPaymentNoticeRequest",
            )),
            "atteso",
        ),
    ];
    for (name, body, needle) in cases {
        let r = gw.demand(&body).await;
        assert_eq!(r.outcome, "KO", "{name}: {}", r.raw);
        let f = r.fault();
        assert_eq!(f.code, "PPT_SINTASSI_EXTRAXSD", "{name}");
        assert_eq!(f.string, "Errore di sintassi extra XSD.", "{name}");
        assert_eq!(f.id, "NodoDeiPagamentiSPC", "{name}");
        let description = f.description.clone().unwrap_or_default();
        assert!(
            description.starts_with("Errore validazione XML"),
            "{name}: {description}"
        );
        assert!(
            description.contains(needle),
            "{name}: {description:?} lacks {needle:?}"
        );
    }
    assert!(ec.received().is_empty());
}

/// Lengths are characters: 35 accented letters fit stText35 (the Node counts characters too).
#[tokio::test]
async fn lengths_count_characters_not_bytes() {
    let (_ec, gw) = setup(ec::reply(ec::ok_answer())).await;
    let r = gw
        .demand(
            &Demand {
                psp: "è".repeat(35),
                ..Demand::default()
            }
            .xml(),
        )
        .await;
    assert_eq!(
        r.fault().code,
        "PPT_PSP_SCONOSCIUTO",
        "passed the schema, failed the lookup"
    );
}

/// The service data are validated against the service's reference_xsd (PPT_SINTASSI_XSD), for
/// three of the official service schemas (all five, through the demo: tests/it/services.rs).
#[tokio::test]
async fn service_data_are_validated_against_the_service_schema() {
    let (ec, gw) = setup(ec::reply(ec::ok_answer())).await;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let passport = "<p:pagamentoPratica xmlns:p=\"http://PuntoAccessoPSP.spcoop.gov.it/pagamentoPratica\"><p:codicePratica>A001</p:codicePratica><p:pagatore><p:codiceFiscalePagatore>RSSMRA80A01H501U</p:codiceFiscalePagatore><p:denominazionePagatore>Mario Rossi</p:denominazionePagatore></p:pagatore><p:intestatario><p:codiceFiscaleIntestatario>RSSMRA80A01H501U</p:codiceFiscaleIntestatario><p:denominazioneIntestatario>Mario Rossi</p:denominazioneIntestatario></p:intestatario></p:pagamentoPratica>";
    let fishing = "<p:praticaPagamentoCanoni xmlns:p=\"http://PuntoAccessoPSP.spcoop.gov.it/praticaPagamentoCanoni\"><p:codicePratica>D847</p:codicePratica><p:pagatore><p:codiceFiscalePagatore>RSSMRA80A01H501U</p:codiceFiscalePagatore><p:denominazionePagatore>Mario Rossi</p:denominazionePagatore></p:pagatore><p:intestatario><p:codiceFiscaleIntestatario>RSSMRA80A01H501U</p:codiceFiscaleIntestatario><p:denominazioneIntestatario>Mario Rossi</p:denominazioneIntestatario></p:intestatario></p:praticaPagamentoCanoni>";
    for (ss, data) in [
        ("00042", support::tassa_auto("AB345CD")),
        ("00043", b64(passport)),
        ("00045", b64(fishing)),
        // MIME-style line breaks inside the base64 (xs:base64Binary allows them).
        (
            "00042",
            support::tassa_auto("AB345CD")
                .as_bytes()
                .chunks(20)
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect::<Vec<_>>()
                .join("\r\n"),
        ),
    ] {
        let r = gw
            .demand(
                &Demand {
                    subject_service: ss.into(),
                    data,
                    ..Demand::default()
                }
                .xml(),
            )
            .await;
        assert_eq!(r.outcome, "OK", "{ss}: {}", r.raw);
    }
    let bad: Vec<(&str, String, &str)> = vec![
        (
            "plate too short",
            support::tassa_auto("AB3"),
            "veicoloTarga",
        ),
        (
            "passport payload for the car tax",
            b64(passport),
            "pagamentoPratica",
        ),
        ("not XML", b64("ciao caro"), "not readable"),
        (
            "DOCTYPE inside",
            b64("<!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>"),
            "DOCTYPE",
        ),
        (
            "base64 of Latin-1 bytes",
            base64::engine::general_purpose::STANDARD.encode(b"<a>\xe8</a>"),
            "UTF-8",
        ),
    ];
    let before = ec.received().len();
    for (name, data, needle) in bad {
        let r = gw
            .demand(
                &Demand {
                    data,
                    ..Demand::default()
                }
                .xml(),
            )
            .await;
        let f = r.fault();
        assert_eq!(f.code, "PPT_SINTASSI_XSD", "{name}: {}", r.raw);
        assert_eq!(f.string, "Errore di sintassi XSD.", "{name}");
        let description = f.description.clone().unwrap_or_default();
        assert!(description.contains(needle), "{name}: {description}");
    }
    assert_eq!(
        ec.received().len(),
        before,
        "refused service data never reach the EC"
    );
    // Checked after the station chain (step 14): a disabled station wins over bad data.
    let r = gw
        .demand(
            &Demand {
                subject_service: "00006".into(),
                data: b64("ciao caro"),
                ..Demand::default()
            }
            .xml(),
        )
        .await;
    assert_eq!(r.fault().code, "PPT_STAZIONE_INT_PA_DISABILITATA");
}

/// With `dati_specifici_servizio = "pass_through"` the payload goes to the EC untouched.
#[tokio::test]
async fn pass_through_mode_forwards_service_data_untouched() {
    let ec = TestEc::start(ec::reply(ec::ok_answer())).await;
    let mut registry = conformance_registry();
    point_stations_at(&mut registry, ec.port());
    let gw = TestGateway::start(
        &registry,
        "[validation]\ndati_specifici_servizio = \"pass_through\"\n",
    )
    .await;
    let data = base64::engine::general_purpose::STANDARD.encode("ciao caro");
    let r = gw
        .demand(
            &Demand {
                data: data.clone(),
                ..Demand::default()
            }
            .xml(),
        )
        .await;
    assert_eq!(r.outcome, "OK", "{}", r.raw);
    let sent = support::Response::parse(&ec.received()[0].body);
    assert_eq!(
        sent.get("datiSpecificiServizioRequest"),
        Some(data.as_str())
    );
}

/// A service whose schema the gateway does not have (real catalogs name many) is not refused:
/// its data reach the EC unchecked, as in pass-through, while the other services stay validated.
#[tokio::test]
async fn a_service_whose_schema_is_missing_forwards_its_data_unchecked() {
    let ec = TestEc::start(ec::reply(ec::ok_answer())).await;
    let mut registry = conformance_registry();
    point_stations_at(&mut registry, ec.port());
    registry["cdsServices"]["00002"]["reference_xsd"] =
        serde_json::Value::from("Missing_1_0_0.xsd");
    let gw = TestGateway::start(&registry, "").await;
    let not_a_passport = base64::engine::general_purpose::STANDARD.encode("<ciao>caro</ciao>");
    let send = |ss: &str| Demand {
        subject_service: ss.into(),
        data: not_a_passport.clone(),
        ..Demand::default()
    };
    let r = gw.demand(&send("00043").xml()).await;
    assert_eq!(r.outcome, "OK", "{}", r.raw);
    let received = ec.received();
    assert_eq!(received.len(), 1);
    assert!(received[0].body.contains(&not_a_passport), "sent untouched");
    // The car tax still has its schema: the same data are a syntax KO there.
    let r = gw.demand(&send("00042").xml()).await;
    assert_eq!(r.fault().code, "PPT_SINTASSI_XSD", "{}", r.raw);
    assert_eq!(ec.received().len(), 1);
}
