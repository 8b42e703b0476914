//! The gateway's counters and histograms, kept per gateway instance (Prometheus text format).
//!
//! Label values are fixed strings (operations, outcomes, fault codes, reasons) or station codes
//! from the registry, so cardinality stays bounded: no notice numbers, no free text.

use crate::registry::Finding;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    pub reason: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub operation: &'static str,
    pub outcome: &'static str,
    pub fault_code: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabel {
    operation: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UpstreamLabels {
    station: String,
    primitive: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UpstreamErrorLabels {
    station: String,
    kind: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReloadLabels {
    what: &'static str,
    source: &'static str,
    result: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SchemaCheckLabels {
    document: &'static str,
    by: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FindingLabels {
    map: &'static str,
    effect: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VersionLabel {
    version: String,
}

/// Latency buckets (seconds): sub-millisecond gateway work up to the EC deadlines.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

fn histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

pub struct Metrics {
    registry: Registry,
    pub tls_handshake_failures: Family<ReasonLabel, Counter>,
    pub requests: Family<RequestLabels, Counter>,
    pub router_refusals: Family<ReasonLabel, Counter>,
    request_duration: Family<OperationLabel, Histogram, fn() -> Histogram>,
    upstream_duration: Family<UpstreamLabels, Histogram, fn() -> Histogram>,
    upstream_errors: Family<UpstreamErrorLabels, Counter>,
    reloads: Family<ReloadLabels, Counter>,
    registry_info: Family<VersionLabel, Gauge>,
    registry_loaded: Gauge<f64, AtomicU64>,
    registry_findings: Family<FindingLabels, Gauge>,
    in_flight: Gauge,
    shed: Family<ReasonLabel, Counter>,
    schema_checks: Family<SchemaCheckLabels, Counter>,
    current_version: std::sync::Mutex<Option<String>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("sanp");
        let tls_handshake_failures = Family::<ReasonLabel, Counter>::default();
        registry.register(
            "tls_handshake_failures",
            "TLS handshakes refused, by reason",
            tls_handshake_failures.clone(),
        );
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "requests",
            "SOAP requests served, by operation, outcome and fault code",
            requests.clone(),
        );
        let router_refusals = Family::<ReasonLabel, Counter>::default();
        registry.register(
            "router_refusals",
            "Requests refused before any operation ran (SOAP Faults), by reason",
            router_refusals.clone(),
        );
        let request_duration =
            Family::<OperationLabel, Histogram, fn() -> Histogram>::new_with_constructor(histogram);
        registry.register(
            "request_duration_seconds",
            "Time from the request body to the response, by operation",
            request_duration.clone(),
        );
        let upstream_duration =
            Family::<UpstreamLabels, Histogram, fn() -> Histogram>::new_with_constructor(histogram);
        registry.register(
            "upstream_duration_seconds",
            "Station calls, from send to a judged answer or a failure, by station and primitive",
            upstream_duration.clone(),
        );
        let upstream_errors = Family::<UpstreamErrorLabels, Counter>::default();
        registry.register(
            "upstream_errors",
            "Station calls without a usable answer, by station and kind",
            upstream_errors.clone(),
        );
        let reloads = Family::<ReloadLabels, Counter>::default();
        registry.register(
            "reloads",
            "Reloads of the registry, the settings and TLS files, by source and result",
            reloads.clone(),
        );
        let registry_info = Family::<VersionLabel, Gauge>::default();
        registry.register(
            "registry_info",
            "The registry version in use (value 1)",
            registry_info.clone(),
        );
        let registry_loaded = Gauge::<f64, AtomicU64>::default();
        let registry_findings = Family::<FindingLabels, Gauge>::default();
        registry.register(
            "registry_findings",
            "Entries of the registry in use left out (skipped), kept with an unusable part (degraded) or not listed in the catalog (unlisted), by map",
            registry_findings.clone(),
        );
        registry.register(
            "registry_loaded_timestamp_seconds",
            "When the registry in use was loaded (Unix time); its age is time() minus this",
            registry_loaded.clone(),
        );
        let in_flight = Gauge::default();
        registry.register(
            "in_flight_requests",
            "SOAP requests being processed",
            in_flight.clone(),
        );
        let shed = Family::<ReasonLabel, Counter>::default();
        registry.register(
            "shed_requests",
            "Requests answered PPT_SUPERAMENTOSOGLIA at once, by limit",
            shed.clone(),
        );
        let schema_checks = Family::<SchemaCheckLabels, Counter>::default();
        registry.register(
            "schema_checks",
            "Hot documents checked against their schema (the contract's, or the service's for service data), by who settled it: the tree proof (valid) or libxml2",
            schema_checks.clone(),
        );
        Self {
            registry,
            tls_handshake_failures,
            requests,
            router_refusals,
            request_duration,
            upstream_duration,
            upstream_errors,
            reloads,
            registry_info,
            registry_loaded,
            registry_findings,
            in_flight,
            shed,
            schema_checks,
            current_version: std::sync::Mutex::new(None),
        }
    }

    pub fn handshake_failed(&self, reason: &'static str) {
        self.tls_handshake_failures
            .get_or_create(&ReasonLabel { reason })
            .inc();
    }

    pub fn handshake_failures(&self, reason: &'static str) -> u64 {
        self.tls_handshake_failures
            .get_or_create(&ReasonLabel { reason })
            .get()
    }

    pub fn router_refused(&self, reason: &'static str) {
        self.router_refusals
            .get_or_create(&ReasonLabel { reason })
            .inc();
    }

    pub fn router_refusals(&self, reason: &'static str) -> u64 {
        self.router_refusals
            .get_or_create(&ReasonLabel { reason })
            .get()
    }

    pub fn request_done(&self, labels: &RequestLabels, elapsed: Duration) {
        self.requests.get_or_create(labels).inc();
        self.request_duration
            .get_or_create(&OperationLabel {
                operation: labels.operation,
            })
            .observe(elapsed.as_secs_f64());
    }

    pub fn upstream_done(
        &self,
        station: &str,
        primitive: &'static str,
        error_kind: Option<&'static str>,
        elapsed: Duration,
    ) {
        self.upstream_duration
            .get_or_create(&UpstreamLabels {
                station: station.to_owned(),
                primitive,
            })
            .observe(elapsed.as_secs_f64());
        if let Some(kind) = error_kind {
            self.upstream_errors
                .get_or_create(&UpstreamErrorLabels {
                    station: station.to_owned(),
                    kind,
                })
                .inc();
        }
    }

    pub fn reloaded(&self, what: &'static str, source: &'static str, ok: bool) {
        self.reloads
            .get_or_create(&ReloadLabels {
                what,
                source,
                result: if ok { "ok" } else { "failed" },
            })
            .inc();
    }

    pub fn reloads(&self, what: &'static str, source: &'static str, ok: bool) -> u64 {
        self.reloads
            .get_or_create(&ReloadLabels {
                what,
                source,
                result: if ok { "ok" } else { "failed" },
            })
            .get()
    }

    /// Records the registry now in use (the previous version's series is removed), with its
    /// findings counted by map and effect.
    pub fn registry_in_use(&self, version: &str, loaded_at_unix: f64, findings: &[Finding]) {
        self.registry_findings.clear();
        for f in findings {
            self.registry_findings
                .get_or_create(&FindingLabels {
                    map: f.map,
                    effect: f.effect.label(),
                })
                .inc();
        }
        let mut current = self
            .current_version
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(old) = current.take() {
            self.registry_info.remove(&VersionLabel { version: old });
        }
        self.registry_info
            .get_or_create(&VersionLabel {
                version: version.to_owned(),
            })
            .set(1);
        *current = Some(version.to_owned());
        self.registry_loaded.set(loaded_at_unix);
    }

    pub fn set_in_flight(&self, n: usize) {
        self.in_flight.set(i64::try_from(n).unwrap_or(i64::MAX));
    }

    pub fn shed(&self, reason: &'static str) {
        self.shed.get_or_create(&ReasonLabel { reason }).inc();
    }

    /// One hot document checked: `proven` by the tree proof, else by libxml2.
    pub fn schema_checked(&self, document: &'static str, proven: bool) {
        let by = if proven { "proof" } else { "libxml2" };
        self.schema_checks
            .get_or_create(&SchemaCheckLabels { document, by })
            .inc();
    }

    pub fn shed_count(&self, reason: &'static str) -> u64 {
        self.shed.get_or_create(&ReasonLabel { reason }).get()
    }

    /// Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
