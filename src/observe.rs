//! Observability beside the pipeline: log set-up (levels from settings or `RUST_LOG`).

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
