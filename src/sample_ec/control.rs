//! The sample EC's control API on its own address: queue the next answers (for one station or
//! all), read the history of received requests, reset. JSON in and out, bounded everywhere.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

use super::answer::Answer;
use super::scenario::SCENARIOS;

/// Answers waiting, per queue (one per station, one for all).
pub const MAX_QUEUED: usize = 100;
/// Station queues at once.
pub const MAX_STATIONS: usize = 64;
/// Requests remembered.
pub const MAX_HISTORY: usize = 200;
/// Bytes of a request body kept in the history.
pub const MAX_RECORDED_BODY: usize = 64 * 1024;
/// Bytes of a control request body.
pub const MAX_CONTROL_BODY: usize = 256 * 1024;

/// One received request, as the history shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pub seq: u64,
    /// Milliseconds since the Unix epoch.
    pub at_ms: u64,
    pub method: String,
    pub path: String,
    /// The station the request names (`idStation`, or the legacy header's station).
    pub station: Option<String>,
    /// The payload element's local name.
    pub operation: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// Whether `body` was cut at [`MAX_RECORDED_BODY`].
    pub body_truncated: bool,
    /// What was answered: `queue:<kind>`, `scenario:<name>`, `validation_ko` or `ok`.
    pub answered: String,
}

#[derive(Default)]
struct Inner {
    all: VecDeque<Answer>,
    stations: BTreeMap<String, VecDeque<Answer>>,
    history: VecDeque<Record>,
    seq: u64,
}

/// Queues and history, shared by the EC listener and the control listener.
#[derive(Default, Clone)]
pub struct Control {
    inner: Arc<Mutex<Inner>>,
}

/// A control request: answers for one station (or, without `station`, for all).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Enqueue {
    station: Option<String>,
    answers: Vec<Answer>,
}

impl Control {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic elsewhere never poisons the tester's view: the data stay usable.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Queues `answers` (each already checked), refusing what would overflow.
    pub fn enqueue(&self, station: Option<&str>, answers: Vec<Answer>) -> Result<usize, String> {
        let mut inner = self.lock();
        let known = station.is_some_and(|s| inner.stations.contains_key(s));
        if station.is_some() && !known && inner.stations.len() >= MAX_STATIONS {
            return Err(format!("at most {MAX_STATIONS} station queues"));
        }
        let queue = match station {
            Some(s) => inner.stations.entry(s.to_owned()).or_default(),
            None => &mut inner.all,
        };
        if queue.len() + answers.len() > MAX_QUEUED {
            return Err(format!(
                "the queue holds {} answers, at most {MAX_QUEUED}",
                queue.len()
            ));
        }
        queue.extend(answers);
        Ok(queue.len())
    }

    /// The next queued answer for `station`: its own queue first, then the one for all.
    pub fn next(&self, station: Option<&str>) -> Option<Answer> {
        let mut inner = self.lock();
        if let Some(s) = station {
            if let Some(q) = inner.stations.get_mut(s) {
                if let Some(a) = q.pop_front() {
                    if q.is_empty() {
                        inner.stations.remove(s);
                    }
                    return Some(a);
                }
            }
        }
        inner.all.pop_front()
    }

    /// Remembers a request, dropping the oldest beyond [`MAX_HISTORY`].
    pub fn record(&self, mut record: Record) {
        let mut inner = self.lock();
        inner.seq += 1;
        record.seq = inner.seq;
        if inner.history.len() >= MAX_HISTORY {
            inner.history.pop_front();
        }
        inner.history.push_back(record);
    }

    /// The last `last` requests (oldest first), of `station` when given.
    pub fn history(&self, station: Option<&str>, last: usize) -> Vec<Record> {
        let inner = self.lock();
        let mut out: Vec<Record> = inner
            .history
            .iter()
            .rev()
            .filter(|r| station.is_none_or(|s| r.station.as_deref() == Some(s)))
            .take(last)
            .cloned()
            .collect();
        out.reverse();
        out
    }

    pub fn clear_queues(&self) {
        let mut inner = self.lock();
        inner.all.clear();
        inner.stations.clear();
    }

    pub fn clear_history(&self) {
        self.lock().history.clear();
    }

    fn queued(&self) -> serde_json::Value {
        let inner = self.lock();
        serde_json::json!({ "all": inner.all, "stations": inner.stations })
    }
}

/// Serves the control API on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, control: Control) -> std::io::Result<()> {
    loop {
        let (tcp, _) = listener.accept().await?;
        let control = control.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let control = control.clone();
                async move { Ok::<_, std::convert::Infallible>(handle(&control, req).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(std::time::Duration::from_secs(10))
                .serve_connection(TokioIo::new(tcp), service)
                .await;
        });
    }
}

fn json(status: StatusCode, value: &serde_json::Value) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(value.to_string())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn refuse(status: StatusCode, reason: &str) -> Response<Full<Bytes>> {
    json(status, &serde_json::json!({ "error": reason }))
}

/// `name=value` pairs of a query string (no percent-decoding: station codes are plain).
fn query_param<'a>(query: Option<&'a str>, name: &str) -> Option<&'a str> {
    query?
        .split('&')
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

async fn handle(control: &Control, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let method = req.method().clone();
    let path = req.uri().path().trim_end_matches('/').to_owned();
    let query = req.uri().query().map(str::to_owned);
    let body = match Limited::new(req.into_body(), MAX_CONTROL_BODY)
        .collect()
        .await
    {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("control bodies are at most {MAX_CONTROL_BODY} bytes"),
            )
        }
    };
    match (&method, path.as_str()) {
        (&Method::POST, "/answers") => enqueue(control, &body),
        (&Method::GET, "/answers") => json(StatusCode::OK, &control.queued()),
        (&Method::DELETE, "/answers") => {
            control.clear_queues();
            json(StatusCode::OK, &serde_json::json!({ "cleared": "answers" }))
        }
        (&Method::GET, "/history") => {
            let q = query.as_deref();
            let last = match query_param(q, "last").map(str::parse::<usize>) {
                None => MAX_HISTORY,
                Some(Ok(n)) => n.min(MAX_HISTORY),
                Some(Err(e)) => return refuse(StatusCode::BAD_REQUEST, &format!("last: {e}")),
            };
            let records = control.history(query_param(q, "station"), last);
            json(StatusCode::OK, &serde_json::json!(records))
        }
        (&Method::DELETE, "/history") => {
            control.clear_history();
            json(StatusCode::OK, &serde_json::json!({ "cleared": "history" }))
        }
        (&Method::POST, "/reset") => {
            control.clear_queues();
            control.clear_history();
            json(StatusCode::OK, &serde_json::json!({ "cleared": "all" }))
        }
        (&Method::GET, "/scenarios") => {
            let table: Vec<_> = SCENARIOS
                .iter()
                .map(|s| {
                    serde_json::json!({
                        "name": s.name, "marker": s.marker, "answer": s.answer(), "effect": s.effect
                    })
                })
                .collect();
            json(StatusCode::OK, &serde_json::json!(table))
        }
        (_, "/answers" | "/history" | "/reset" | "/scenarios") => refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            &format!("{method} is not allowed on {path}"),
        ),
        _ => refuse(
            StatusCode::NOT_FOUND,
            "unknown path: use /answers, /history, /reset or /scenarios",
        ),
    }
}

fn enqueue(control: &Control, body: &[u8]) -> Response<Full<Bytes>> {
    let request: Enqueue = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, &format!("body: {e}")),
    };
    for (i, a) in request.answers.iter().enumerate() {
        if let Err(reason) = a.check() {
            return refuse(StatusCode::BAD_REQUEST, &format!("answers[{i}]: {reason}"));
        }
    }
    if request.station.as_ref().is_some_and(|s| s.len() > 64) {
        return refuse(
            StatusCode::BAD_REQUEST,
            "station: longer than 64 characters",
        );
    }
    match control.enqueue(request.station.as_deref(), request.answers) {
        Ok(queued) => json(
            StatusCode::OK,
            &serde_json::json!({ "station": request.station, "queued": queued }),
        ),
        Err(reason) => refuse(StatusCode::BAD_REQUEST, &reason),
    }
}
