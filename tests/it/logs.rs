//! What the gateway logs (at debug level) never contains passwords, service data or key
//! material, whatever the request did; but it does carry the request outcome.

use std::cell::RefCell;
use std::io::Write;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use tracing::dispatcher::{DefaultGuard, Dispatch};

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

thread_local! {
    static CAPTURE: RefCell<Option<DefaultGuard>> = const { RefCell::new(None) };
}

/// A two-worker runtime whose every thread (workers, blocking pool) logs to `logs`. Scoped to
/// this test's threads, not process-wide: the other areas' tests run beside it in this process.
fn runtime_logging_to(logs: &Dispatch) -> tokio::runtime::Runtime {
    let logs = logs.clone();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .on_thread_start(move || {
            CAPTURE.with(|c| *c.borrow_mut() = Some(tracing::dispatcher::set_default(&logs)));
        })
        .on_thread_stop(|| CAPTURE.with(|c| drop(c.borrow_mut().take())))
        .build()
        .expect("runtime")
}

#[test]
fn logs_carry_outcomes_but_no_secrets_or_service_data() {
    let captured = Captured::default();
    let writer = captured.clone();
    let logs = Dispatch::new(
        tracing_subscriber::fmt()
            .with_env_filter("debug")
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish(),
    );
    // `block_on` polls this future on the test's own thread.
    let _logs = tracing::dispatcher::set_default(&logs);
    runtime_logging_to(&logs).block_on(async {
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
    });
}
