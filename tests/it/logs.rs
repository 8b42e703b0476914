//! What the gateway logs (at debug level) never contains passwords, service data or key
//! material, whatever the request did; but it does carry the request outcome.

use std::io::Write;
use std::sync::{Arc, Mutex};

use base64::Engine as _;

use crate::support;
use crate::support::ec::{self, TestEc};
use crate::support::{conformance_registry, point_stations_at, CatalogReq, Demand, TestGateway};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_carry_outcomes_but_no_secrets_or_service_data() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_env_filter("debug")
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    let ec = TestEc::start(ec::reply(ec::ok_answer())).await;
    let mut registry = conformance_registry();
    point_stations_at(&mut registry, ec.port());
    let gw = TestGateway::start(&registry, "").await;
    let secret_password = "S3cretPassw0rd";
    let plate = "ZQ987XY";
    let data = support::tassa_auto(plate);
    let enum_data = base64::engine::general_purpose::STANDARD.encode(format!(
        "<ta:tassaAuto xmlns:ta=\"http://PuntoAccessoPSP.spcoop.gov.it/TassaAuto\"><ta:veicoloConTarga><ta:tipoVeicoloTarga>9</ta:tipoVeicoloTarga><ta:veicoloTarga>{plate}</ta:veicoloTarga></ta:veicoloConTarga></ta:tassaAuto>"
    ));
    let requests = [
        Demand {
            data: data.clone(),
            ..Demand::default()
        },
        Demand {
            password: secret_password.into(),
            data: data.clone(),
            ..Demand::default()
        },
        Demand {
            password: format!("{secret_password}XYZ!"),
            ..Demand::default()
        },
        Demand {
            data: enum_data.clone(),
            ..Demand::default()
        },
        Demand {
            data: "cia$SECRETDATA".into(),
            ..Demand::default()
        },
    ];
    for d in &requests {
        gw.demand(&d.xml()).await;
    }
    gw.catalog(
        &CatalogReq {
            password: secret_password.into(),
            ..CatalogReq::default()
        }
        .xml(),
    )
    .await;

    let logs = String::from_utf8(captured.0.lock().expect("lock").clone()).expect("UTF-8 logs");
    assert!(logs.contains("request served"), "{logs}");
    assert!(logs.contains("fault_code=\"PPT_AUTENTICAZIONE\""), "{logs}");
    assert!(logs.contains("fault_code=\"PPT_SINTASSI_XSD\""), "{logs}");
    for secret in [
        support::PASSWORD,
        secret_password,
        plate,
        data.as_str(),
        enum_data.as_str(),
        "SECRETDATA",
        "'9'",
    ] {
        assert!(
            !logs.contains(secret),
            "{secret:?} leaked into the logs:\n{logs}"
        );
    }
}
