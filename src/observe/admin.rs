//! The admin listener (loopback by default): Prometheus metrics, liveness and readiness, and the
//! Node-shaped configuration refresh endpoint.

use std::sync::Arc;

use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

use crate::app::Gateway;

type Body = Full<Bytes>;

fn text(status: StatusCode, content_type: &'static str, body: String) -> Response<Body> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

/// Routes one admin request.
pub async fn route(gw: &Arc<Gateway>, req: Request<Incoming>) -> Response<Body> {
    let path = req.uri().path().trim_end_matches('/');
    match (req.method(), path) {
        (&Method::GET, "/metrics") => text(
            StatusCode::OK,
            "text/plain; version=0.0.4; charset=utf-8",
            gw.metrics.render(),
        ),
        (&Method::GET, "/health/live") => text(StatusCode::OK, "text/plain", "live\n".into()),
        (&Method::GET, "/health/ready") => {
            if gw.is_ready() {
                text(StatusCode::OK, "text/plain", "ready\n".into())
            } else {
                text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "text/plain",
                    "not ready\n".into(),
                )
            }
        }
        // The Node's own refresh endpoint: CONFIG reloads the registry, ALL also the settings.
        (&Method::GET | &Method::POST, "/config/refresh/CONFIG" | "/config/refresh/ALL") => {
            let all = path.ends_with("/ALL");
            let gw2 = gw.clone();
            let outcome = tokio::task::spawn_blocking(move || {
                let settings = if all {
                    Some(gw2.reload_settings("admin").map_err(|e| e.to_string()))
                } else {
                    None
                };
                (
                    gw2.reload_registry("admin").map_err(|e| e.to_string()),
                    settings,
                )
            })
            .await;
            let (registry, settings) = match outcome {
                Ok(o) => o,
                Err(e) => (Err(e.to_string()), None),
            };
            let failed = registry.is_err() || matches!(settings, Some(Err(_)));
            let failure = |e: String| serde_json::Value::from(format!("failed: {e}"));
            let mut report = serde_json::json!({
                "registry": registry.map_or_else(failure, |_| "reloaded".into()),
                "version": gw.registry_version(),
            });
            if let Some(s) = settings {
                report["settings"] = s.map_or_else(
                    failure,
                    |r| serde_json::json!({"applied": r.applied, "needs_restart": r.needs_restart}),
                );
            }
            let body = format!("{report}\n");
            let status = if failed {
                StatusCode::INTERNAL_SERVER_ERROR
            } else {
                StatusCode::OK
            };
            text(status, "application/json", body)
        }
        _ => text(StatusCode::NOT_FOUND, "text/plain", "not found\n".into()),
    }
}

/// Serves the admin endpoints on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, gw: Arc<Gateway>) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let gw = gw.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let gw = gw.clone();
                async move { Ok::<_, std::convert::Infallible>(route(&gw, req).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(std::time::Duration::from_secs(10))
                .serve_connection(TokioIo::new(tcp), service)
                .await;
        });
    }
}
