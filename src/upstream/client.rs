//! HTTP(S) clients toward EC stations: one TLS profile per station (or the default), pooled
//! connections, optional CONNECT proxy from the registry, and reload when PEM files change.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwap;
use base64::Engine as _;
use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rustls::client::WebPkiServerVerifier;

use super::failure::TransportFailure;
use crate::pki::{self, FileStamps, PemError};
use crate::registry::Proxy;
use crate::settings::{EcSettings, TlsProfile};

/// One SOAP POST toward a station.
pub struct SoapPost<'a> {
    /// TLS profile name (`""` for the default one).
    pub profile: &'a str,
    pub proxy: Option<&'a Proxy>,
    pub url: &'a Uri,
    pub soap_action: &'a str,
    pub request_id: &'a str,
    pub body: String,
    /// At most this much of the answer is read.
    pub max_bytes: usize,
}

/// What came back over HTTP, before any SOAP interpretation.
#[derive(Debug)]
pub struct HttpAnswer {
    pub status: StatusCode,
    /// The answer's Content-Type as sent (the probe reports it).
    pub content_type: Option<String>,
    /// The `charset` of the answer's Content-Type, lower-cased.
    pub charset: Option<String>,
    pub body: Bytes,
}

/// A failure below SOAP: nothing usable came back.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("cannot reach {url}: {failure}")]
    Unreachable {
        url: String,
        failure: TransportFailure,
    },
    #[error("answer larger than {0} bytes")]
    TooLarge(usize),
    #[error("answer body broken: {0}")]
    Body(TransportFailure),
}

/// Why a TLS profile could not be built (bad CA bundle, key, certificate or CRL).
#[derive(Debug, thiserror::Error)]
pub enum ClientSetupError {
    #[error("TLS profile {profile:?}: {source}")]
    Pem {
        profile: String,
        #[source]
        source: PemError,
    },
    #[error("TLS profile {profile:?}: {source}")]
    Tls {
        profile: String,
        #[source]
        source: rustls::Error,
    },
    #[error("TLS profile {profile:?}: no trusted roots (set ec.ca_file or ec.system_roots)")]
    NoRoots { profile: String },
}

type Direct = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;
type Proxied = Client<HttpsConnector<Tunnel<HttpConnector>>, Full<Bytes>>;

/// A pooled client: direct, or through a CONNECT tunnel (used for http and https stations alike).
#[derive(Clone)]
enum HttpClient {
    Direct(Direct),
    Proxied(Proxied),
}

/// Identifies a pool: TLS profile and proxy (host, port, authorization).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct PoolKey {
    profile: String,
    proxy: Option<(String, u16, Option<String>)>,
}

/// The clients built from one version of the TLS files.
struct ClientSet {
    configs: HashMap<String, ProfileTls>,
    pools: Mutex<HashMap<PoolKey, HttpClient>>,
    stamps: FileStamps,
}

/// One TLS profile as the gateway uses it: the rustls configuration, and the server verifier
/// inside it (rustls has no getter for it), so that a diagnosis (the probe) can wrap the very
/// same verification and see the chain and the verdict.
#[derive(Clone)]
pub struct ProfileTls {
    pub config: Arc<rustls::ClientConfig>,
    /// `None` when the profile has no trusted roots (every HTTPS station then fails).
    pub verifier: Option<Arc<WebPkiServerVerifier>>,
}

/// All station clients. Cheap to share; TLS files are re-read by [`EcClients::reload_if_changed`].
pub struct EcClients {
    profiles: BTreeMap<String, TlsProfile>,
    connect_timeout: Duration,
    set: ArcSwap<ClientSet>,
}

impl EcClients {
    pub fn new(settings: &EcSettings) -> Result<Self, ClientSetupError> {
        let mut profiles = BTreeMap::new();
        profiles.insert(String::new(), settings.tls.clone());
        for (code, p) in &settings.station_tls {
            profiles.insert(code.clone(), p.clone());
        }
        let set = build_set(&profiles)?;
        Ok(Self {
            profiles,
            connect_timeout: settings.connect_timeout,
            set: ArcSwap::from_pointee(set),
        })
    }

    /// Rebuilds every TLS profile when one of its files changed. On error the current clients
    /// stay (last good wins) and the error is returned for logging; `Ok(true)` means reloaded.
    pub fn reload_if_changed(&self) -> Result<bool, ClientSetupError> {
        let current = self.set.load();
        if current.stamps.refreshed() == current.stamps {
            return Ok(false);
        }
        match build_set(&self.profiles) {
            Ok(set) => {
                self.set.store(Arc::new(set));
                Ok(true)
            }
            Err(e) => Err(e),
        }
    }

    /// POSTs a SOAP 1.1 request with `station`'s TLS profile (through its proxy, if any) and reads
    /// at most `max_bytes` of the answer.
    pub async fn post_soap(&self, post: SoapPost<'_>) -> Result<HttpAnswer, TransportError> {
        let SoapPost {
            profile,
            proxy,
            url,
            soap_action,
            request_id,
            body,
            max_bytes,
        } = post;
        let unreachable = |failure: TransportFailure| TransportError::Unreachable {
            url: url.to_string(),
            failure,
        };
        let client = self
            .client(profile, proxy)
            .map_err(|e| unreachable(TransportFailure::setup(e)))?;
        let request = Request::builder()
            .method(Method::POST)
            .uri(url.clone())
            .header(header::CONTENT_TYPE, "text/xml; charset=UTF-8")
            .header("SOAPAction", soap_action)
            .header("X-Request-Id", request_id)
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| unreachable(TransportFailure::classify(&e)))?;
        let response = match client {
            HttpClient::Direct(c) => c.request(request).await,
            HttpClient::Proxied(c) => c.request(request).await,
        }
        .map_err(|e| unreachable(TransportFailure::classify(&e)))?;
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let charset = crate::soap::charset::of_headers(response.headers());
        let body = Limited::new(response.into_body(), max_bytes)
            .collect()
            .await
            .map_err(|e| {
                if e.downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some()
                {
                    TransportError::TooLarge(max_bytes)
                } else {
                    TransportError::Body(TransportFailure::classify(e.as_ref()))
                }
            })?
            .to_bytes();
        Ok(HttpAnswer {
            status,
            content_type,
            charset,
            body,
        })
    }

    /// The TLS profile `profile` (else the default one) exactly as the pooled clients use it.
    pub fn tls_for(&self, profile: &str) -> Option<ProfileTls> {
        let set = self.set.load();
        set.configs
            .get(profile)
            .or_else(|| set.configs.get(""))
            .cloned()
    }

    /// The connect timeout every station connection gets (`ec.connect_timeout_ms`).
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// Opens a TCP connection to `uri`'s host and port the way the pooled clients do: same
    /// connector settings, and through `proxy`'s CONNECT tunnel when the station has one. The
    /// probe uses it to time the connection and look at the TLS handshake by itself.
    pub async fn connect_tcp(
        &self,
        uri: &Uri,
        proxy: Option<&Proxy>,
    ) -> Result<tokio::net::TcpStream, TransportFailure> {
        use tower_service::Service as _;
        // The pooled clients reach TLS hosts through an `https` connector over this one; asking
        // it for an `http://` URI of the same authority gives the plain TCP stream underneath.
        let authority = uri
            .authority()
            .ok_or_else(|| TransportFailure::setup(format!("{uri} has no host")))?;
        let plain: Uri = format!("http://{authority}/")
            .parse()
            .map_err(|e| TransportFailure::setup(format!("{uri}: {e}")))?;
        let mut tcp = self.tcp_connector();
        let io = match proxy {
            None => tcp
                .call(plain)
                .await
                .map_err(|e| TransportFailure::classify(&e))?,
            Some(p) => {
                let proxy_uri: Uri = format!("http://{}:{}", bracket(&p.host), p.port)
                    .parse()
                    .map_err(|e| TransportFailure::setup(format!("invalid proxy address: {e}")))?;
                let mut tunnel = Tunnel::new(proxy_uri, tcp);
                if let Some(auth) = proxy_authorization(p) {
                    let value = HeaderValue::from_str(&auth)
                        .map_err(|e| TransportFailure::setup(e.to_string()))?;
                    tunnel = tunnel.with_auth(value);
                }
                tunnel
                    .call(plain)
                    .await
                    .map_err(|e| TransportFailure::classify(&e))?
            }
        };
        Ok(io.into_inner())
    }

    fn tcp_connector(&self) -> HttpConnector {
        let mut tcp = HttpConnector::new();
        tcp.enforce_http(false);
        tcp.set_nodelay(true);
        tcp.set_connect_timeout(Some(self.connect_timeout));
        tcp
    }

    fn client(&self, profile: &str, proxy: Option<&Proxy>) -> Result<HttpClient, String> {
        let set = self.set.load();
        let key = PoolKey {
            profile: profile.to_owned(),
            proxy: proxy.map(|p| (p.host.clone(), p.port, proxy_authorization(p))),
        };
        let mut pools = set
            .pools
            .lock()
            .map_err(|_| "client pool lock poisoned".to_owned())?;
        if let Some(c) = pools.get(&key) {
            return Ok(c.clone());
        }
        let config = set
            .configs
            .get(profile)
            .or_else(|| set.configs.get(""))
            .ok_or_else(|| format!("no TLS profile {profile:?}"))?
            .config
            .as_ref()
            .clone();
        let tcp = self.tcp_connector();
        // Kept-alive connections to stations, closed after 30 s idle.
        let mut builder = Client::builder(TokioExecutor::new());
        builder
            .pool_idle_timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(32);
        let client = match &key.proxy {
            None => HttpClient::Direct(builder.build(https(config, tcp))),
            Some((host, port, auth)) => {
                let proxy_uri: Uri = format!("http://{}:{port}", bracket(host))
                    .parse()
                    .map_err(|e| format!("invalid proxy address: {e}"))?;
                let mut tunnel = Tunnel::new(proxy_uri, tcp);
                if let Some(auth) = auth {
                    let value = HeaderValue::from_str(auth).map_err(|e| e.to_string())?;
                    tunnel = tunnel.with_auth(value);
                }
                HttpClient::Proxied(builder.build(https(config, tunnel)))
            }
        };
        pools.insert(key, client.clone());
        Ok(client)
    }
}

/// `Basic …` for a proxy with credentials (the password is only ever sent to the proxy).
fn proxy_authorization(p: &Proxy) -> Option<String> {
    let user = p.username.as_deref()?;
    let password = p.password.as_ref().map(|s| s.expose()).unwrap_or("");
    Some(format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    ))
}

/// HTTPS (or plain HTTP, as the URL says) over `inner`, with `config`.
pub fn https<C>(config: rustls::ClientConfig, inner: C) -> HttpsConnector<C> {
    hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(config)
        .https_or_http()
        .enable_http1()
        .wrap_connector(inner)
}

fn bracket(host: &str) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

fn build_set(profiles: &BTreeMap<String, TlsProfile>) -> Result<ClientSet, ClientSetupError> {
    let mut configs = HashMap::new();
    let mut files = Vec::new();
    for (name, p) in profiles {
        configs.insert(name.clone(), client_config(name, p)?);
        files.extend(p.ca_file.iter().cloned());
        files.extend(p.crl_files.iter().cloned());
        files.extend(p.cert_file.iter().cloned());
        files.extend(p.key_file.iter().cloned());
        if p.system_roots {
            files.push(pki::system_roots_file());
        }
    }
    Ok(ClientSet {
        configs,
        pools: Mutex::new(HashMap::new()),
        stamps: FileStamps::of(files.iter().map(|p| p.as_path())),
    })
}

/// The rustls client configuration of a TLS profile, for other clients of the same PKI (the
/// portal toward the gateway).
pub fn profile_config(
    name: &str,
    p: &TlsProfile,
) -> Result<rustls::ClientConfig, ClientSetupError> {
    client_config(name, p).map(|t| t.config.as_ref().clone())
}

/// rustls client configuration: roots (private and/or system), optional CRLs, optional identity.
/// Host names are always verified against the station's certificate.
fn client_config(name: &str, p: &TlsProfile) -> Result<ProfileTls, ClientSetupError> {
    let pem = |source| ClientSetupError::Pem {
        profile: name.to_owned(),
        source,
    };
    let tls = |source| ClientSetupError::Tls {
        profile: name.to_owned(),
        source,
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = pki::read_roots(p.ca_file.as_deref(), p.system_roots).map_err(pem)?;
    let crls = pki::read_crls(&p.crl_files).map_err(pem)?;
    let versions = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(tls)?;
    let builder = if roots.is_empty() {
        if !crls.is_empty() {
            return Err(ClientSetupError::NoRoots {
                profile: name.to_owned(),
            });
        }
        // No system bundle on this machine and no private CA: plain-HTTP stations still work,
        // HTTPS stations fail verification (PPT_STAZIONE_INT_PA_IRRAGGIUNGIBILE).
        tracing::warn!(profile = name, "no trusted roots for HTTPS stations");
        (versions.with_root_certificates(roots), None)
    } else {
        let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
            .with_crls(crls)
            .build()
            .map_err(|e| tls(rustls::Error::General(e.to_string())))?;
        (
            versions.with_webpki_verifier(verifier.clone()),
            Some(verifier),
        )
    };
    let (builder, verifier) = builder;
    let config = match (&p.cert_file, &p.key_file) {
        (Some(cert), Some(key)) => {
            let chain = pki::read_certs(cert).map_err(pem)?;
            let key = pki::read_key(key).map_err(pem)?;
            builder.with_client_auth_cert(chain, key).map_err(tls)?
        }
        _ => builder.with_no_client_auth(),
    };
    Ok(ProfileTls {
        config: Arc::new(config),
        verifier,
    })
}
