//! The TLS worked example of docs/tls.md, run as written: `scripts/gen-test-certs.sh`, the settings
//! block marked `<!-- tls-example -->`, `sanp-gateway serve`, and curl with a bound, a revoked and
//! no client certificate.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support;

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
        || Command::new(tool)
            .arg("version")
            .output()
            .is_ok_and(|o| o.status.success())
}

/// The settings block of the worked example in docs/tls.md.
fn readme_settings() -> String {
    let doc = support::read("docs/tls.md");
    let after = doc
        .split("<!-- tls-example -->")
        .nth(1)
        .expect("docs/tls.md marks the TLS example");
    let block = after
        .split("```toml")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a toml block follows the marker");
    block.to_owned()
}

fn curl(dir: &Path, port: u16, identity: Option<(&str, &str)>) -> std::process::Output {
    let mut cmd = Command::new("curl");
    cmd.current_dir(dir)
        .args(["-s", "-S", "--max-time", "10", "--cacert", "ca.pem"])
        .args([
            "-H",
            "SOAPAction: nodoChiediCatalogoServiziV2",
            "-H",
            "Content-Type: text/xml; charset=UTF-8",
        ])
        .arg("--data-binary")
        .arg(format!(
            "@{}",
            support::repo().join("fixtures/demo/catalog.xml").display()
        ));
    if let Some((cert, key)) = identity {
        cmd.args(["--cert", cert, "--key", key]);
    }
    cmd.arg(format!("https://localhost:{port}/node-for-psp/v1"));
    cmd.output().expect("curl runs")
}

#[test]
fn the_readme_tls_example_works_as_written() {
    if !have("openssl") || !have("curl") {
        assert!(
            !support::official::shared_required(),
            "CI must have openssl and curl (scripts/deps.sh)"
        );
        eprintln!("NOTE: openssl or curl missing; skipping the TLS example of docs/tls.md");
        return;
    }
    let _machine = support::serial::machine_blocking();
    // Two levels below the repository root, like target/tls-example, so the example's
    // relative paths (../../fixtures, ../../xsd) resolve.
    let dir = support::repo().join(format!("target/tls-example-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = Command::new(support::repo().join("scripts/gen-test-certs.sh"))
        .arg(&dir)
        .output()
        .expect("script runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fingerprint = stdout
        .split("sha256: ")
        .nth(1)
        .map(str::trim)
        .expect("the script prints the fingerprint");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let settings = readme_settings()
        .replace("<FINGERPRINT>", fingerprint)
        .replace("127.0.0.1:8443", &format!("127.0.0.1:{port}"));
    std::fs::write(dir.join("gateway.toml"), settings).expect("settings");
    let mut child = Command::new(env!("CARGO_BIN_EXE_sanp-gateway"))
        .args(["serve", "--config"])
        .arg(dir.join("gateway.toml"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("gateway starts");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the gateway exited: {status}");
        }
        assert!(Instant::now() < deadline, "the gateway did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    let _gateway = Killed(child);

    let ok = curl(&dir, port, Some(("psp.pem", "psp.key")));
    let body = String::from_utf8_lossy(&ok.stdout);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(
        body.contains("<outcome>OK</outcome>") && body.contains("<xmlCatalogoServizi>"),
        "{body}"
    );

    let revoked = curl(&dir, port, Some(("revoked.pem", "revoked.key")));
    assert!(
        !String::from_utf8_lossy(&revoked.stdout).contains("<outcome>"),
        "a revoked certificate gets nothing"
    );
    let anonymous = curl(&dir, port, None);
    assert!(
        !String::from_utf8_lossy(&anonymous.stdout).contains("<outcome>"),
        "no certificate gets nothing"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
