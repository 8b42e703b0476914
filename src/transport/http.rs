//! One HTTP exchange: POST carries SOAP on any path, GET `?wsdl`/`?xsd=` publishes the contract,
//! anything else is a 405 SOAP Fault.

use std::time::Duration;

use tokio::time::Instant;

use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;

use super::wsdl;
use crate::app::Gateway;
use crate::error::RouterError;
use crate::observe::RequestLabels;
use crate::observe::{labels, redact};
use crate::pipeline::{self, Reply};
use crate::pki::ClientIdentity;
use crate::respond::router_fault;
use crate::soap::charset;

pub type Body = Full<Bytes>;

const SOAP_CONTENT_TYPE: &str = "text/xml; charset=UTF-8";

/// Serves one request; never fails (every problem becomes a response).
pub async fn route(
    gw: &Gateway,
    req: Request<Incoming>,
    scheme: &str,
    identity: Option<&ClientIdentity>,
) -> Response<Body> {
    let published = wsdl::requested(req.uri());
    match (req.method(), published) {
        (&Method::POST, _) => soap(gw, req, identity).await,
        (&Method::GET | &Method::HEAD, Some(what)) => {
            let settings = gw.settings();
            wsdl::serve(
                what,
                req.uri(),
                req.headers(),
                scheme,
                settings.listen,
                settings.public_url.as_deref(),
            )
        }
        // Every path takes SOAP POSTs; only a contract query (`?wsdl`, `?xsd=`) also takes GET.
        (method, published) => {
            let request_id = request_id(req.headers());
            let e = RouterError::MethodNotAllowed {
                method: method.as_str().to_owned(),
                allow: if published.is_some() {
                    "POST, GET, HEAD"
                } else {
                    "POST"
                },
            };
            refused(gw, &e, req.uri().path(), None, &request_id, 0.0)
        }
    }
}

/// The caller's `X-Request-Id` when it is a sane token (1–64 of `A-Za-z0-9._:-`), else a new one.
pub fn request_id(headers: &HeaderMap) -> String {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b))
        })
        .map(str::to_owned)
        .unwrap_or_else(new_request_id)
}

/// A new id: 64 random bits drawn once per process, then a counter, as 32 hex digits. Unique
/// across replicas and restarts, and without a system call per request.
fn new_request_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;
    static PREFIX: OnceLock<u64> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let prefix = *PREFIX.get_or_init(|| {
        let mut bytes = [0u8; 8];
        // Should the system RNG ever fail, the start time still separates processes.
        if ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes).is_err() {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0);
            bytes = (nanos ^ u64::from(std::process::id())).to_be_bytes();
        }
        u64::from_be_bytes(bytes)
    });
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix:016x}{n:016x}")
}

async fn soap(
    gw: &Gateway,
    req: Request<Incoming>,
    identity: Option<&ClientIdentity>,
) -> Response<Body> {
    let started = Instant::now();
    let path = req.uri().path().to_owned();
    let request_id = request_id(req.headers());
    let action = req
        .headers()
        .get("soapaction")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let result = match read_body(gw, req).await {
        Ok(body) => {
            pipeline::handle_soap(gw, action.as_deref(), &body, identity, &request_id).await
        }
        Err(e) => Err(e),
    };
    let elapsed = started.elapsed();
    let elapsed_ms = elapsed.as_secs_f64() * 1_000.0;
    match result {
        Ok(reply) => {
            let labels = RequestLabels {
                operation: reply.operation.soap_action(),
                outcome: if reply.fault.is_some() { "KO" } else { "OK" },
                fault_code: reply.fault.map(|f| f.code()).unwrap_or(""),
            };
            gw.metrics.request_done(&labels, elapsed);
            log_reply(&reply, &path, &request_id, elapsed_ms);
            let mut r = xml(StatusCode::OK, reply.body);
            if let Ok(v) = HeaderValue::from_str(&reply.registry_version) {
                r.headers_mut().insert("x-registry-version", v);
            }
            if let Ok(v) = HeaderValue::from_str(&request_id) {
                r.headers_mut().insert("x-request-id", v);
            }
            r
        }
        Err(e) => refused(gw, &e, &path, action.as_deref(), &request_id, elapsed_ms),
    }
}

/// A router fault: counted, logged, and answered as the SOAP Fault of src/respond/fault.rs.
fn refused(
    gw: &Gateway,
    e: &RouterError,
    path: &str,
    soap_action: Option<&str>,
    request_id: &str,
    elapsed_ms: f64,
) -> Response<Body> {
    gw.metrics.router_refused(labels::router(e));
    let (status, fault) = router_fault(e);
    tracing::info!(
        request_id,
        path,
        soap_action = soap_action.unwrap_or(""),
        status = status.as_u16(),
        fault = fault.string,
        reason = labels::router(e),
        error = %e,
        elapsed_ms,
        "request refused by the router"
    );
    let mut r = xml(status, fault.to_xml());
    if let RouterError::MethodNotAllowed { allow, .. } = e {
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static(allow));
    }
    if let Ok(v) = HeaderValue::from_str(request_id) {
        r.headers_mut().insert("x-request-id", v);
    }
    r
}

/// One event per request, with the fields an operator filters on; never payloads or secrets.
fn log_reply(reply: &Reply, path: &str, request_id: &str, elapsed_ms: f64) {
    let outcome = if reply.fault.is_some() { "KO" } else { "OK" };
    let fault_code = reply.fault.map(|f| f.code()).unwrap_or("");
    let (psp, broker, channel) = match &reply.caller {
        Some(c) => (c.psp.as_str(), c.broker.as_str(), c.channel.as_str()),
        None => ("", "", ""),
    };
    let cause = reply
        .failure
        .as_ref()
        .map(redact::failure)
        .unwrap_or_default();
    tracing::info!(
        request_id,
        path,
        operation = reply.operation.soap_action(),
        psp,
        broker,
        channel,
        station = reply.station.as_deref().unwrap_or(""),
        outcome,
        fault_code,
        cause,
        elapsed_ms,
        "request served"
    );
}

/// Reads the body within the size limit and returns it as UTF-8 bytes.
async fn read_body(gw: &Gateway, req: Request<Incoming>) -> Result<Bytes, RouterError> {
    let settings = gw.settings();
    let limit = settings.limits.max_body_bytes;
    let charset = charset::of_headers(req.headers());
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let mut body = req.into_body();
    if declared.is_some_and(|len| len > limit) {
        linger(body);
        return Err(RouterError::TooLarge(limit));
    }
    // The body must arrive within its own deadline (a slow-loris body holds a connection slot).
    let read = async {
        let mut buf = bytes::BytesMut::new();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| RouterError::BodyRead(e.to_string()))?;
            if let Ok(data) = frame.into_data() {
                if buf.len() + data.len() > limit {
                    return Err(RouterError::TooLarge(limit));
                }
                buf.extend_from_slice(&data);
            }
        }
        Ok(buf.freeze())
    };
    let bytes = match tokio::time::timeout(settings.limits.body_read_timeout, read).await {
        Err(_) => return Err(RouterError::BodyTimeout),
        Ok(Err(RouterError::TooLarge(limit))) => {
            linger(body);
            return Err(RouterError::TooLarge(limit));
        }
        Ok(other) => other?,
    };
    charset::decode(bytes, charset.as_deref()).map_err(RouterError::Charset)
}

/// How long, and how much, the rest of a refused body is read and dropped.
const LINGER: Duration = Duration::from_secs(2);
const LINGER_BYTES: usize = 64 * 1024 * 1024;

/// Reads and drops the rest of a body refused as too large, for a bounded time and amount, so
/// the client finishes sending and reads the 413 instead of a connection reset (the kernel
/// resets a connection closed with unread data): nginx's lingering close.
fn linger(mut body: Incoming) {
    tokio::spawn(async move {
        let drain = async {
            let mut seen = 0usize;
            while let Some(Ok(frame)) = body.frame().await {
                if let Ok(data) = frame.into_data() {
                    seen += data.len();
                    if seen > LINGER_BYTES {
                        break;
                    }
                }
            }
        };
        let _ = tokio::time::timeout(LINGER, drain).await;
    });
}

pub fn xml(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(SOAP_CONTENT_TYPE),
    );
    r
}

pub fn plain(status: StatusCode, body: &'static str) -> Response<Body> {
    let mut r = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=UTF-8"),
    );
    r
}
