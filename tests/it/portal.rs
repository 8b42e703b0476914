//! The PSP portal in a real browser (Debian's chromium through chromedriver): the catalog, a form
//! generated from the car-tax XSD, the notice with its pagoPA QR code decoded back, the browser's
//! own refusal of a pattern, the server's refusal of a schema-invalid document, and the EC's KO.
//! Screenshots of each page are kept under `target/portal-screenshots/`.

use std::path::PathBuf;
use std::sync::Arc;

use crate::support::webdriver::{self, Browser};
use crate::support::{self, TestGateway};
use bytes::Bytes;
use http::{Method, Request};
use http_body_util::{BodyExt, Full};
use sanp_gateway::portal::{self, Portal, PortalSettings};
use sanp_gateway::sample_ec::{self, SampleEc};
use serde_json::Value;
use tokio::net::TcpListener;

/// The demo: sample EC, gateway over the demo registry, and the portal as the demo PSP.
async fn demo_with_portal() -> (TestGateway, String) {
    let ec = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = ec.local_addr().expect("addr").port();
    tokio::spawn(sample_ec::serve(ec, SampleEc::default()));
    let mut registry: Value =
        serde_json::from_str(&support::read("fixtures/demo/registry.json")).expect("registry");
    support::point_stations_at(&mut registry, port);
    let gw = TestGateway::start(&registry, "").await;
    let text = support::read("fixtures/demo/portal.toml").replace("http://127.0.0.1:8080", &gw.url);
    let settings =
        PortalSettings::from_toml(&text, &support::repo().join("fixtures/demo")).expect("settings");
    let p = Arc::new(Portal::new(&settings).expect("portal"));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(portal::serve(listener, p));
    (gw, url)
}

fn screenshots() -> PathBuf {
    support::repo().join("target/portal-screenshots")
}

/// Decodes the QR code in a `data:image/png;base64,…` URL.
fn decode_qr(src: &str) -> String {
    use base64::Engine as _;
    let b64 = src
        .strip_prefix("data:image/png;base64,")
        .expect("a PNG data URL");
    let png = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("base64");
    let decoder = png::Decoder::new(std::io::Cursor::new(png));
    let mut reader = decoder.read_info().expect("PNG header");
    let mut pixels = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut pixels).expect("PNG frame");
    assert_eq!(info.color_type, png::ColorType::Grayscale);
    let (w, h) = (info.width as usize, info.height as usize);
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| pixels[y * w + x]);
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code");
    let (_, content) = grids[0].decode().expect("decodable QR code");
    content
}

fn skip() -> bool {
    if webdriver::available() {
        return false;
    }
    assert!(
        std::env::var_os("SANP_REQUIRE_CHROMIUM").is_none(),
        "chromium and chromedriver are required (scripts/deps.sh installs them)"
    );
    eprintln!("NOTE: chromium/chromedriver missing; skipping the portal's browser tests");
    true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_gets_a_notice_and_its_qr_code_in_a_real_browser() {
    if skip() {
        return;
    }
    let (_gw, url) = demo_with_portal().await;
    let b = Browser::start().await;
    let shots = screenshots();

    // The catalog, grouped by category, with the car tax of the demo region.
    b.goto(&format!("{url}/")).await;
    assert!(b.exists("section[data-category='Tributi']").await);
    let link = b.find("a[href='/servizio/00101']").await;
    assert_eq!(b.text(&link).await, "Tassa automobilistica");
    b.screenshot(&shots.join("catalog.png")).await;
    b.click_to_next_page(&link).await;

    // The form generated from TassaAutomobilistica_1_1_0.xsd.
    let label = b
        .find("label[for='f-veicoloConTarga-tipoVeicoloTarga']")
        .await;
    assert!(b.text(&label).await.starts_with("Tipo veicolo targa"));
    b.click(
        &b.find("select#f-veicoloConTarga-tipoVeicoloTarga option[value='1']")
            .await,
    )
    .await;
    let plate = b.find("input#f-veicoloConTarga-veicoloTarga").await;
    assert_eq!(b.attribute(&plate, "maxlength").await.as_deref(), Some("8"));
    b.type_into(&plate, "AB345CD").await;
    b.screenshot(&shots.join("form.png")).await;
    b.click_to_next_page(&b.find("button[type=submit]").await)
        .await;

    // The notice: number as printed, EC, amount, and a QR code that decodes to them.
    let result = b.find("#esito[data-outcome='OK']").await;
    let number = b.find("#codice-avviso").await;
    let notice = b.attribute(&number, "data-notice").await.expect("notice");
    assert_eq!(notice.len(), 18);
    assert_eq!(
        b.text(&number).await,
        portal::qr::notice_number_printed(&notice)
    );
    let ec = b.text(&b.find("#codice-ente").await).await;
    assert_eq!(ec, "80000000001");
    let amount = b
        .attribute(&b.find("#importo").await, "data-amount")
        .await
        .expect("amount");
    let cents = portal::qr::cents(&amount).expect("an amount");
    let src = b
        .attribute(&b.find("img#qr").await, "src")
        .await
        .expect("src");
    assert_eq!(
        decode_qr(&src),
        format!("PAGOPA|002|{notice}|{ec}|{cents:010}")
    );
    assert!(b.text(&result).await.contains("€"));
    b.screenshot(&shots.join("notice.png")).await;

    // A plate that breaks the pattern of the CIE's fiscal code is refused by the browser itself.
    b.goto(&format!("{url}/servizio/00104")).await;
    let cf = b
        .find("input#f-intestatario-codiceFiscaleIntestatario")
        .await;
    b.type_into(&cf, "not-a-code-12345").await;
    // A marker on this page's window: a submission would load a new page without it.
    b.script("window.sanpStay = 1; return null").await;
    b.click(&b.find("button[type=submit]").await).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        b.script("return window.sanpStay === 1").await,
        Value::Bool(true),
        "the browser did not submit"
    );
    let mismatch = b
        .script("return document.getElementById('f-intestatario-codiceFiscaleIntestatario').validity.patternMismatch")
        .await;
    assert_eq!(mismatch, Value::Bool(true));
    b.screenshot(&shots.join("pattern-refused.png")).await;

    // The sample EC refuses the plate XX000XX: the KO in plain words and its code.
    b.goto(&format!("{url}/servizio/00101")).await;
    b.click(
        &b.find("select#f-veicoloConTarga-tipoVeicoloTarga option[value='2']")
            .await,
    )
    .await;
    b.type_into(
        &b.find("input#f-veicoloConTarga-veicoloTarga").await,
        "XX000XX",
    )
    .await;
    b.click_to_next_page(&b.find("button[type=submit]").await)
        .await;
    let ko = b.find("#esito[data-outcome='KO']").await;
    assert_eq!(
        b.attribute(&ko, "data-fault").await.as_deref(),
        Some("PPT_ERRORE_EMESSO_DA_PAA")
    );
    assert!(b
        .text(&ko)
        .await
        .contains("L'ente creditore non ha potuto creare l'avviso"));
    b.screenshot(&shots.join("ko.png")).await;
}

/// A schema-invalid document posted straight to the server (no browser checks) is refused with
/// the field named, by the same service-data validation the gateway applies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_refuses_schema_invalid_data_next_to_the_field() {
    let (gw, url) = demo_with_portal().await;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Full<Bytes>>();
    let post = |body: &'static str| {
        Request::builder()
            .method(Method::POST)
            .uri(format!("{url}/servizio/00101"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::from(body)))
            .expect("request")
    };
    let resp = client
        .request(post(
            "veicoloConTarga.tipoVeicoloTarga=1&veicoloConTarga.veicoloTarga=AB3",
        ))
        .await
        .expect("portal");
    assert_eq!(resp.status(), 422);
    let html = String::from_utf8(
        resp.into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .to_vec(),
    )
    .expect("UTF-8");
    assert!(
        html.contains("id=\"f-veicoloConTarga-veicoloTarga-errore\""),
        "{html}"
    );
    assert!(html.contains("aria-invalid=\"true\""));
    assert!(
        html.contains("veicoloTarga"),
        "libxml2's detail names the element"
    );
    // Nothing reached the gateway's demand: only the catalog was asked.
    let metrics = gw.metrics().render();
    assert!(
        !metrics.contains("operation=\"demandPaymentNotice\""),
        "{metrics}"
    );
}
