//! The baseline servers, this same executable re-run with `--role forwarder|static`: a hyper
//! forwarder that relays bytes to the sample EC, and a server answering fixed bytes.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

pub fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|p| args.get(p + 1).cloned())
}

/// TLS for the baselines: the same certificate, client CA and required client certificates as the
/// gateway's listener, so the handshake and record costs match.
pub fn baseline_tls(args: &[String]) -> Option<tokio_rustls::TlsAcceptor> {
    let cert = arg(args, "--cert")?;
    let key = arg(args, "--key").expect("--key");
    let ca = arg(args, "--client-ca").expect("--client-ca");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certs = sanp_gateway::pki::read_certs(Path::new(&cert)).expect("certificates");
    let key = sanp_gateway::pki::read_key(Path::new(&key)).expect("key");
    let roots = sanp_gateway::pki::read_roots(Some(Path::new(&ca)), false).expect("client CA");
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .expect("verifier");
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs, key)
        .expect("server config");
    Some(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

pub async fn run_role(role: &str, args: &[String]) {
    let listen: SocketAddr = arg(args, "--listen")
        .expect("--listen")
        .parse()
        .expect("addr");
    let listener = TcpListener::bind(listen).await.expect("bind");
    let tls = baseline_tls(args);
    match role {
        "forwarder" => {
            let upstream = arg(args, "--upstream").expect("--upstream");
            let mut connector = HttpConnector::new();
            connector.set_nodelay(true);
            let client: Client<HttpConnector, Full<Bytes>> =
                Client::builder(TokioExecutor::new()).build(connector);
            serve(listener, tls, move |req| {
                let client = client.clone();
                let upstream = upstream.clone();
                async move { forward(client, &upstream, req).await }
            })
            .await
        }
        "static" => {
            let body =
                Bytes::from(std::fs::read(arg(args, "--body").expect("--body")).expect("body"));
            serve(listener, tls, move |req: Request<Incoming>| {
                let body = body.clone();
                async move {
                    // Read the request like any server would, then answer the fixed bytes.
                    let _ = req.into_body().collect().await;
                    let mut r = Response::new(Full::new(body));
                    r.headers_mut().insert(
                        http::header::CONTENT_TYPE,
                        http::HeaderValue::from_static("text/xml; charset=UTF-8"),
                    );
                    r
                }
            })
            .await
        }
        other => panic!("unknown role {other}"),
    }
}

/// Relays the request bytes to the same path upstream and the answer back, parsing nothing.
pub async fn forward(
    client: Client<HttpConnector, Full<Bytes>>,
    upstream: &str,
    req: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let body = whole(body).await;
    let mut out = Request::post(format!("{upstream}{}", parts.uri.path()));
    for name in [
        http::header::CONTENT_TYPE,
        http::HeaderName::from_static("soapaction"),
    ] {
        if let Some(v) = parts.headers.get(&name) {
            out = out.header(name, v);
        }
    }
    match out.body(Full::new(body)) {
        Ok(r) => relay(&client, r).await,
        Err(_) => status_only(StatusCode::BAD_REQUEST),
    }
}

/// A whole message body, or nothing when reading it fails.
pub async fn whole(body: Incoming) -> Bytes {
    body.collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default()
}

/// Sends `req` upstream and hands back the whole answer, or 502.
pub async fn relay(
    client: &Client<HttpConnector, Full<Bytes>>,
    req: Request<Full<Bytes>>,
) -> Response<Full<Bytes>> {
    match client.request(req).await {
        Ok(resp) => {
            let (parts, body) = resp.into_parts();
            Response::from_parts(parts, Full::new(whole(body).await))
        }
        Err(_) => status_only(StatusCode::BAD_GATEWAY),
    }
}

pub fn status_only(s: StatusCode) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = s;
    r
}

pub async fn serve<F, Fut>(listener: TcpListener, tls: Option<tokio_rustls::TlsAcceptor>, f: F)
where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = Response<Full<Bytes>>> + Send + 'static,
{
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let f = f.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let f = f.clone();
                async move { Ok::<_, std::convert::Infallible>(f(req).await) }
            });
            let http = hyper::server::conn::http1::Builder::new();
            match tls {
                Some(acceptor) => {
                    if let Ok(stream) = acceptor.accept(tcp).await {
                        let _ = http.serve_connection(TokioIo::new(stream), service).await;
                    }
                }
                None => {
                    let _ = http.serve_connection(TokioIo::new(tcp), service).await;
                }
            }
        });
    }
}
