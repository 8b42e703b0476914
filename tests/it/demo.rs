//! README command 1, end to end: `sanp-gateway demo` starts the gateway and the sample EC, and
//! the printed request gets an OK notice (and the documented KO plate gets the EC's KO).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;

use crate::support;
use crate::support::TestGateway;

struct Demo(Child);

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs the binary exactly as the README does (from the repository root, default ports).
fn start_demo() -> Demo {
    let child = Command::new(env!("CARGO_BIN_EXE_sanp-gateway"))
        .arg("demo")
        .current_dir(support::repo())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the demo");
    // Owned by the guard from here on, so every exit path kills and reaps it.
    let mut demo = Demo(child);
    let stdout = demo.0.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = String::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                seen.push_str(&line);
                seen.push('\n');
                if line.contains("fixtures/demo/demand.xml") {
                    return demo;
                }
            }
            Err(_) => {
                panic!("the demo did not print its curl line (is port 8080 or 8090 busy?):\n{seen}")
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_answers_the_printed_request_with_a_notice() {
    let _machine = support::serial::machine().await;
    let _demo = start_demo();
    // A client of our harness, pointed at the demo's fixed address.
    let gw = TestGateway::client_for("http://127.0.0.1:8080");
    let demand = support::read("fixtures/demo/demand.xml");
    let r = gw.demand(&demand).await;
    assert_eq!(r.outcome, "OK", "{}", r.raw);
    let notice = r.get("qrCode/noticeNumber").expect("notice number");
    assert!(notice.len() == 18 && notice.starts_with("301"), "{notice}");
    assert_eq!(r.get("qrCode/fiscalCode"), Some("80000000001"));
    assert_eq!(
        r.get("paymentList/paymentOptionDescription/options"),
        Some("EQ")
    );
    // Two demands create two positions.
    let again = gw.demand(&demand).await;
    assert_ne!(again.get("qrCode/noticeNumber"), Some(notice));
    // The sample EC refuses the documented plate: the EC's KO reaches the PSP.
    let ko_plate = base64::engine::general_purpose::STANDARD.encode(
        "<ta:tassaAuto xmlns:ta=\"http://PuntoAccessoPSP.spcoop.gov.it/TassaAuto\"><ta:veicoloConTarga><ta:tipoVeicoloTarga>1</ta:tipoVeicoloTarga><ta:veicoloTarga>XX000XX</ta:veicoloTarga></ta:veicoloConTarga></ta:tassaAuto>",
    );
    let data = demand
        .split("<datiSpecificiServizio>")
        .nth(1)
        .and_then(|s| s.split("</datiSpecificiServizio>").next())
        .expect("the demo request carries service data");
    let ko = demand.replace(data, &ko_plate);
    let r = gw.demand(&ko).await;
    assert_eq!(r.fault().code, "PPT_ERRORE_EMESSO_DA_PAA");
    assert_eq!(r.fault().original_code.as_deref(), Some("PAA_SEMANTICA"));
    let catalog = gw
        .catalog(&support::read("fixtures/demo/catalog.xml"))
        .await;
    assert_eq!(catalog.outcome, "OK");
    // The legacy operations printed by the demo, and bridging both ways.
    let legacy = gw
        .numero_avviso(&support::read("fixtures/demo/numero-avviso.xml"))
        .await;
    assert_eq!(legacy.get("esito"), Some("OK"), "{}", legacy.raw);
    assert_eq!(
        legacy.get("datiPagamentoPA/ibanAccredito"),
        Some("IT60X0542811101000000123456")
    );
    let v1 = gw
        .legacy(
            "nodoChiediCatalogoServizi",
            &support::read("fixtures/demo/catalog-v1.xml"),
        )
        .await;
    assert!(v1.get("xmlCatalogoServizi").is_some(), "{}", v1.raw);
    let bridged = gw
        .demand(&demand.replace("<idSoggettoServizio>00101<", "<idSoggettoServizio>00110<"))
        .await;
    assert_eq!(bridged.outcome, "OK", "{}", bridged.raw);
    let bridged = gw
        .numero_avviso(
            &support::read("fixtures/demo/numero-avviso.xml")
                .replace("<idServizio>00010<", "<idServizio>00001<"),
        )
        .await;
    assert_eq!(bridged.get("esito"), Some("OK"), "{}", bridged.raw);
}
