//! Live configuration beside the pipeline: background tasks that pick up a changed registry
//! file, a new version from the configuration service, and changed TLS files.
//!
//! Every source ends in `Gateway::reload_*`, which keeps the last good version on error.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{header, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::task::JoinHandle;

use crate::app::Gateway;
use crate::pki;
use crate::settings::RegistryUrl;

/// A fetched registry document may be large; anything larger is refused.
const MAX_REGISTRY_BYTES: usize = 512 * 1024 * 1024;

/// Starts every background reload the settings ask for.
pub fn spawn_all(gw: &Arc<Gateway>) -> Vec<JoinHandle<()>> {
    let settings = gw.settings();
    let mut tasks = vec![tokio::spawn(poll_tls_files(gw.clone()))];
    if let Some(interval) = settings.registry_poll_interval {
        tasks.push(tokio::spawn(poll_registry_file(gw.clone(), interval)));
    }
    if let Some(source) = settings.registry_url.clone() {
        tasks.push(tokio::spawn(poll_registry_url(gw.clone(), source)));
    }
    tasks
}

fn ticker(every: Duration) -> tokio::time::Interval {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick
}

/// Reloads the registry when its file changes (replacement by rename included).
async fn poll_registry_file(gw: Arc<Gateway>, every: Duration) {
    // From the file as loaded at start-up, not as found now: a replacement made in between
    // must not become the baseline unread.
    let mut seen = gw.registry_file_at_start().clone();
    let mut tick = ticker(every);
    tick.tick().await;
    loop {
        tick.tick().await;
        let now = seen.refreshed();
        if now == seen {
            continue;
        }
        seen = now;
        let gw = gw.clone();
        // Parsing and compiling schemas is CPU work: keep it off the request threads' queues.
        let _ = tokio::task::spawn_blocking(move || gw.reload_registry("file")).await;
    }
}

/// Re-reads certificate, key, CA and CRL files when they change (both TLS sides); a broken file
/// is logged and the last good material stays in use.
async fn poll_tls_files(gw: Arc<Gateway>) {
    let mut tick = ticker(gw.settings().tls_reload_interval);
    tick.tick().await;
    loop {
        tick.tick().await;
        if let Some(tls) = &gw.tls {
            report(&gw, "listener_tls", tls.reload_if_changed());
        }
        report(&gw, "station_tls", gw.ec.reload_if_changed());
    }
}

/// Counts and logs the outcome of one TLS files check (`Ok(false)`: nothing changed).
fn report(gw: &Gateway, what: &'static str, outcome: Result<bool, impl std::fmt::Display>) {
    match outcome {
        Ok(true) => {
            gw.metrics.reloaded(what, "file", true);
            tracing::info!(what, "TLS files reloaded");
        }
        Ok(false) => {}
        Err(e) => {
            gw.metrics.reloaded(what, "file", false);
            tracing::warn!(what, error = %e, "TLS files changed but are unusable; keeping the previous ones");
        }
    }
}

type HttpClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

fn url_client() -> HttpClient {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = pki::read_roots(None, true).unwrap_or_else(|_| rustls::RootCertStore::empty());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map(|b| b.with_root_certificates(roots).with_no_client_auth());
    let tls = match tls {
        Ok(t) => t,
        // ring supports the default versions; this cannot fail, but never panic for it.
        Err(_) => rustls::ClientConfig::builder()
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth(),
    };
    let mut tcp = HttpConnector::new();
    tcp.enforce_http(false);
    Client::builder(TokioExecutor::new()).build(crate::upstream::client::https(tls, tcp))
}

async fn get(client: &HttpClient, source: &RegistryUrl, url: &str) -> Result<Bytes, String> {
    let mut req = Request::builder()
        .method(Method::GET)
        .uri(url)
        .header(header::ACCEPT, "application/json")
        // A large document is ~10× smaller compressed; the loader tells gzip from JSON itself.
        .header(header::ACCEPT_ENCODING, "gzip");
    if let Some(key) = &source.subscription_key {
        req = req.header("Ocp-Apim-Subscription-Key", key.expose());
    }
    let req = req
        .body(Full::new(Bytes::new()))
        .map_err(|e| e.to_string())?;
    let exchange = async {
        let resp = client.request(req).await.map_err(|e| e.to_string())?;
        if resp.status() != StatusCode::OK {
            return Err(format!("HTTP {}", resp.status().as_u16()));
        }
        Limited::new(resp.into_body(), MAX_REGISTRY_BYTES)
            .collect()
            .await
            .map(|b| b.to_bytes())
            .map_err(|e| e.to_string())
    };
    tokio::time::timeout(source.timeout, exchange)
        .await
        .map_err(|_| format!("no answer within {} ms", source.timeout.as_millis()))?
}

/// The version announced by `GET {url}/id` (`{"version": "…"}`, or the bare text).
fn announced_version(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct CacheVersion {
        version: serde_json::Value,
    }
    match serde_json::from_slice::<CacheVersion>(body) {
        Ok(v) => match v.version {
            serde_json::Value::String(s) => Some(s),
            other => Some(other.to_string()),
        },
        Err(_) => {
            let text = std::str::from_utf8(body).ok()?.trim().trim_matches('"');
            (!text.is_empty()).then(|| text.to_owned())
        }
    }
}

/// Polls the configuration service: asks for the version first, and downloads the document
/// (plain, gzip or zlib) only when it differs from the one in use.
async fn poll_registry_url(gw: Arc<Gateway>, source: RegistryUrl) {
    let client = url_client();
    let mut tick = ticker(source.poll_interval);
    loop {
        tick.tick().await;
        let id_url = format!("{}/id", source.url);
        let version = match get(&client, &source, &id_url).await {
            Ok(body) => announced_version(&body),
            Err(e) => {
                gw.metrics.reloaded("registry", "url", false);
                tracing::warn!(url = %id_url, error = %e, "registry version check failed");
                continue;
            }
        };
        if version.as_deref() == Some(gw.registry_version().as_str()) {
            continue;
        }
        match get(&client, &source, &source.url).await {
            Ok(body) => {
                let gw = gw.clone();
                let _ =
                    tokio::task::spawn_blocking(move || gw.install_registry_bytes(&body, "url"))
                        .await;
            }
            Err(e) => {
                gw.metrics.reloaded("registry", "url", false);
                tracing::warn!(url = %source.url, error = %e, "registry download failed");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_announced_version() {
        assert_eq!(
            announced_version(br#"{"version":"17075758"}"#).as_deref(),
            Some("17075758")
        );
        assert_eq!(
            announced_version(br#"{"version":17075758}"#).as_deref(),
            Some("17075758")
        );
        assert_eq!(
            announced_version(b"  17075758\n").as_deref(),
            Some("17075758")
        );
        assert_eq!(announced_version(b""), None);
    }
}
