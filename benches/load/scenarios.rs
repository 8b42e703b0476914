//! The kinds of request measured, what each baseline is sent, and the checks made before loading.

use std::sync::Arc;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::net::TcpListener;

use crate::common;
use crate::procs::{free_port, until_listening, Bench};
use crate::servers::{relay, serve};

/// One kind of request: the body the PSP sends to the gateway, the body the baseline receives, and
/// what a correct gateway answer contains.
pub struct Scenario {
    pub name: &'static str,
    pub action: &'static str,
    pub gateway_body: Vec<u8>,
    pub baseline: Baseline,
    pub baseline_body: Vec<u8>,
    pub expect: &'static str,
    pub baseline_expect: &'static str,
}

#[derive(Clone, Copy, PartialEq)]
pub enum Baseline {
    Forwarder,
    Static,
}

impl Baseline {
    pub fn label(self) -> &'static str {
        match self {
            Baseline::Forwarder => "forwarder",
            Baseline::Static => "static",
        }
    }
}

/// One request through our own client, to check the answer before loading a target.
pub async fn one(url: &str, action: &str, body: &[u8]) -> (StatusCode, String) {
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build(HttpConnector::new());
    let req = Request::post(url)
        .header("Content-Type", "text/xml; charset=UTF-8")
        .header("SOAPAction", action)
        .body(Full::new(Bytes::from(body.to_vec())))
        .expect("request");
    let resp = client.request(req).await.expect("answer");
    let status = resp.status();
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// A station stand-in that records what the gateway sends and relays it to the sample EC, so the
/// forwarder baseline can send the EC the very bytes the gateway sends.
pub async fn capture_upstream_bodies(bench: &Bench, scenarios: &[(&str, Vec<u8>)]) -> Vec<Vec<u8>> {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let tap_port = listener.local_addr().expect("addr").port();
    let seen = Arc::new(std::sync::Mutex::new(Vec::<Vec<u8>>::new()));
    let ec = format!("http://127.0.0.1:{}", bench.ec_port);
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build(HttpConnector::new());
    let tap = {
        let seen = seen.clone();
        tokio::spawn(serve(listener, None, move |req: Request<Incoming>| {
            let seen = seen.clone();
            let client = client.clone();
            let ec = ec.clone();
            async move {
                let (parts, body) = req.into_parts();
                let body = body
                    .collect()
                    .await
                    .map(|b| b.to_bytes())
                    .unwrap_or_default();
                seen.lock().expect("seen").push(body.to_vec());
                let mut out = Request::post(format!("{ec}{}", parts.uri.path()));
                for (k, v) in parts.headers.iter() {
                    if k != http::header::HOST && k != http::header::CONTENT_LENGTH {
                        out = out.header(k, v);
                    }
                }
                relay(&client, out.body(Full::new(body)).expect("request")).await
            }
        }))
    };
    let registry = bench.demo_registry("registry-tap.json", tap_port);
    let port = free_port();
    let gw = bench.gateway("gateway-capture", port, false, &registry);
    until_listening(port, "capturing gateway").await;
    let mut bodies = Vec::new();
    for (action, body) in scenarios {
        let before = seen.lock().expect("seen").len();
        let _ = one(
            &format!("http://127.0.0.1:{port}/node-for-psp/v1"),
            action,
            body,
        )
        .await;
        let got = seen
            .lock()
            .expect("seen")
            .get(before)
            .cloned()
            .expect("the gateway called the EC");
        bodies.push(got);
    }
    drop(gw);
    tap.abort();
    bodies
}

pub fn demand_with_plate(plate: &str) -> Vec<u8> {
    use base64::Engine as _;
    let text = String::from_utf8(common::fixture("demand.xml")).expect("UTF-8");
    let b64 = text
        .split("<datiSpecificiServizio>")
        .nth(1)
        .and_then(|r| r.split("</datiSpecificiServizio>").next())
        .expect("service data")
        .to_owned();
    let data = base64::engine::general_purpose::STANDARD
        .decode(&b64)
        .expect("base64");
    let data = String::from_utf8(data)
        .expect("UTF-8")
        .replace("AB345CD", plate);
    let new = base64::engine::general_purpose::STANDARD.encode(data);
    text.replace(&b64, &new).into_bytes()
}
