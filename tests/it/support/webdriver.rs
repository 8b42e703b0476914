//! A small W3C WebDriver client over HTTP, driving Debian's chromium through chromedriver for the
//! browser tests: sessions, navigation, elements, script, screenshots.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use http::{Method, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};

/// The key under which WebDriver returns an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Whether Debian's chromium and chromedriver are installed (scripts/deps.sh installs them).
pub fn available() -> bool {
    std::path::Path::new(CHROMIUM).exists() && std::path::Path::new(CHROMEDRIVER).exists()
}

/// A running chromedriver and one headless chromium session.
pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    client: Client<HttpConnector, Full<Bytes>>,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Browser {
    /// Starts chromedriver on a free port and a headless session (flags as this machine's
    /// browser probe uses them: no sandbox as root, no background traffic to the closed network).
    pub async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let client = Client::builder(TokioExecutor::new()).build(HttpConnector::new());
        let profile = tempfile::tempdir().expect("profile dir");
        let mut b = Self {
            driver,
            base: format!("http://127.0.0.1:{port}"),
            session: String::new(),
            client,
            _profile: profile,
        };
        // chromedriver needs a moment to listen.
        for _ in 0..100 {
            if b.raw(Method::GET, "/status", None).await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--window-size=412,1400",
                    format!("--user-data-dir={}", b._profile.path().display())
                ]
            }
        }}});
        let v = b
            .raw(Method::POST, "/session", Some(caps))
            .await
            .expect("new session");
        b.session = v["sessionId"].as_str().expect("a session id").to_owned();
        b
    }

    async fn raw(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value, String> {
        let req = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header("Content-Type", "application/json")
            .body(Full::new(Bytes::from(
                body.map(|b| b.to_string()).unwrap_or_default(),
            )))
            .map_err(|e| e.to_string())?;
        let resp = tokio::time::timeout(Duration::from_secs(60), self.client.request(req))
            .await
            .map_err(|_| "WebDriver timed out".to_owned())?
            .map_err(|e| e.to_string())?;
        let status = resp.status();
        let bytes = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        let v: Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
        if !status.is_success() {
            return Err(format!("WebDriver {status}: {}", v["value"]));
        }
        Ok(v["value"].clone())
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let path = format!("/session/{}{path}", self.session);
        self.raw(method, &path, body)
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    pub async fn goto(&self, url: &str) {
        self.call(Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    /// The element matching a CSS selector (panics naming the selector when there is none).
    pub async fn find(&self, css: &str) -> String {
        let v = self
            .call(
                Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        v[ELEMENT].as_str().expect(css).to_owned()
    }

    /// Whether an element matches.
    pub async fn exists(&self, css: &str) -> bool {
        let v = self
            .call(
                Method::POST,
                "/elements",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        v.as_array().is_some_and(|a| !a.is_empty())
    }

    pub async fn click(&self, element: &str) {
        self.call(
            Method::POST,
            &format!("/element/{element}/click"),
            Some(json!({})),
        )
        .await;
    }

    pub async fn type_into(&self, element: &str, text: &str) {
        self.call(
            Method::POST,
            &format!("/element/{element}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    pub async fn attribute(&self, element: &str, name: &str) -> Option<String> {
        self.call(
            Method::GET,
            &format!("/element/{element}/attribute/{name}"),
            None,
        )
        .await
        .as_str()
        .map(str::to_owned)
    }

    pub async fn text(&self, element: &str) -> String {
        self.call(Method::GET, &format!("/element/{element}/text"), None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Clicks an element that loads another page, and returns once that page is there: a find
    /// issued while the old page unloads can miss the new one, so the page is told apart by a
    /// marker the old one carries.
    pub async fn click_to_next_page(&self, element: &str) {
        self.script("window.sanpOldPage = true; return null").await;
        self.click(element).await;
        let probe = json!({
            "script": "return window.sanpOldPage === undefined && document.readyState === 'complete'",
            "args": []
        });
        let path = format!("/session/{}/execute/sync", self.session);
        for _ in 0..400 {
            // While the page changes, a script may fail: not there yet.
            if let Ok(Value::Bool(true)) = self.raw(Method::POST, &path, Some(probe.clone())).await
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("no new page within 10 s of the click");
    }

    /// Runs a script in the page and returns its value.
    pub async fn script(&self, source: &str) -> Value {
        self.call(
            Method::POST,
            "/execute/sync",
            Some(json!({"script": source, "args": []})),
        )
        .await
    }

    /// The page as PNG, also written to `path` for a person to look at.
    pub async fn screenshot(&self, path: &std::path::Path) -> Vec<u8> {
        let b64 = self.call(Method::GET, "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap_or_default())
            .expect("screenshot base64");
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = std::fs::write(path, &png);
        png
    }
}
