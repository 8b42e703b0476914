//! Observability beside the pipeline: logs, counters and histograms, and the admin listener.

pub mod admin;
mod format;
pub mod labels;
mod metrics;
pub mod output;
pub mod redact;

pub use metrics::{Metrics, ReasonLabel, RequestLabels};

use tracing_subscriber::EnvFilter;

use crate::settings::LogFormat;

/// Installs the global subscriber once. `RUST_LOG` wins over the settings' level and
/// `SANP_LOG_FORMAT` (`text` or `json`) over the settings' format.
pub fn init_logs(default_level: &str, format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(default_level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let format = match std::env::var("SANP_LOG_FORMAT").as_deref() {
        Ok("json") => LogFormat::Json,
        Ok("text") => LogFormat::Text,
        _ => format,
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(false)
        .with_writer(output::BatchedStdout);
    let _ = match format {
        LogFormat::Text => builder.event_format(format::Text).try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init(),
    };
}
