//! Observability beside the pipeline: logs (levels from settings or `RUST_LOG`) and the
//! gateway's counters, kept per gateway instance so each one can be read and rendered alone.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once; `RUST_LOG` wins over the settings' level.
pub fn init_logs(default_level: &str) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(default_level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .try_init();
}

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

/// The gateway's counters. Label values are fixed strings (operations, outcomes, fault codes,
/// reasons), so cardinality stays bounded.
pub struct Metrics {
    registry: Registry,
    pub tls_handshake_failures: Family<ReasonLabel, Counter>,
    pub requests: Family<RequestLabels, Counter>,
    pub router_refusals: Family<ReasonLabel, Counter>,
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
        Self {
            registry,
            tls_handshake_failures,
            requests,
            router_refusals,
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

    /// Prometheus text exposition of every counter.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
