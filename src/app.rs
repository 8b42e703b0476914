//! Assembles the gateway from settings (registry, schemas, EC clients, TLS) before any port is
//! bound, and swaps registry and settings while running: a bad new version never replaces the
//! last good one.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;

use crate::checks::{ServiceSchemaError, ServiceSchemas};
use crate::observe::Metrics;
use crate::pipeline::Admission;
use crate::pki::FileStamps;
use crate::registry::{self, LoadError, Snapshot};
use crate::settings::{keep_restart_only, ServiceDataMode, Settings, SettingsError};
use crate::transport::tls::{TlsServer, TlsSetupError};
use crate::upstream::{ClientSetupError, EcClients};
use crate::xsd::{CompileError, Contract};

/// What one registry document gives the pipeline: the snapshot and its services' schemas.
#[derive(Debug)]
pub struct Live {
    pub snapshot: Snapshot,
    pub service_schemas: ServiceSchemas,
    /// Catalog answers rendered from this snapshot.
    pub catalog: crate::catalog::CatalogCache,
}

/// Shared state of a running gateway.
pub struct Gateway {
    settings: ArcSwap<Settings>,
    /// Where the settings came from (`None` when built from a value), for reloads.
    settings_path: Option<PathBuf>,
    pub contract: Contract,
    pub ec: EcClients,
    /// The listener's TLS (`None` with `plain_http = true`).
    pub tls: Option<TlsServer>,
    pub metrics: Metrics,
    pub admission: Admission,
    live: ArcSwap<Live>,
    /// Bumped on every settings change, after the new settings are in place: cached answers
    /// are only reused under the settings they were computed with.
    settings_generation: AtomicU64,
    ready: AtomicBool,
    /// Serialises reloads, so two sources reloading at once cannot interleave.
    reloading: Mutex<()>,
    /// The registry file as it was just before the start-up load: the file watcher's baseline,
    /// so a replacement made while the gateway was starting is still noticed.
    registry_file_at_start: FileStamps,
}

/// Why the gateway cannot start (or a registry cannot be taken).
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("registry {path}: {source}")]
    Registry {
        path: String,
        #[source]
        source: Box<LoadError>,
    },
    #[error("service schemas: {0}")]
    ServiceSchemas(#[from] ServiceSchemaError),
    #[error("validation.dati_specifici_servizio = \"validate\" needs service_schema_dir")]
    NoServiceSchemaDir,
    #[error("contract schemas: {0}")]
    Contract(#[from] CompileError),
    #[error("EC client: {0}")]
    Client(#[from] ClientSetupError),
    #[error("listener TLS: {0}")]
    Tls(#[from] TlsSetupError),
    #[error("{0}")]
    Settings(#[from] SettingsError),
}

/// What a settings reload did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsReload {
    /// Keys whose new values are in use.
    pub applied: bool,
    /// Keys that changed but only take effect after a restart (their old values stay).
    pub needs_restart: Vec<&'static str>,
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

impl Gateway {
    pub fn build(settings: Settings) -> Result<Self, StartError> {
        Self::build_with_path(settings, None)
    }

    /// Loads the settings file and everything it names.
    pub fn from_file(path: &Path) -> Result<Self, StartError> {
        let settings = Settings::load(path)?;
        Self::build_with_path(settings, Some(path.to_path_buf()))
    }

    fn build_with_path(
        settings: Settings,
        settings_path: Option<PathBuf>,
    ) -> Result<Self, StartError> {
        let contract = Contract::load()?;
        let registry_file_at_start = FileStamps::of([settings.registry.as_path()]);
        let live = load_live(&settings, None)?;
        let ec = EcClients::new(&settings.ec)?;
        let tls = settings.tls.as_ref().map(TlsServer::load).transpose()?;
        let metrics = Metrics::new();
        metrics.registry_in_use(&live.snapshot.version, unix_now(), &live.snapshot.findings);
        Ok(Self {
            settings: ArcSwap::from_pointee(settings),
            settings_path,
            contract,
            ec,
            tls,
            metrics,
            admission: Admission::default(),
            live: ArcSwap::from_pointee(live),
            settings_generation: AtomicU64::new(0),
            ready: AtomicBool::new(false),
            reloading: Mutex::new(()),
            registry_file_at_start,
        })
    }

    /// The registry file's stamps taken just before the start-up load.
    pub fn registry_file_at_start(&self) -> &FileStamps {
        &self.registry_file_at_start
    }

    /// Which settings are in use: read before `settings()`, it is never newer than them.
    pub fn settings_generation(&self) -> u64 {
        self.settings_generation.load(Ordering::SeqCst)
    }

    /// The settings in use; a request keeps the `Arc` it started with.
    pub fn settings(&self) -> Arc<Settings> {
        self.settings.load_full()
    }

    /// The current registry; callers keep the `Arc` for the whole request.
    pub fn live(&self) -> Arc<Live> {
        self.live.load_full()
    }

    /// Ready: registry loaded (always, once built) and listeners bound, not draining.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::Release);
    }

    /// Loads the registry file again; `Ok(None)` when its version is the one in use.
    pub fn reload_registry(&self, source: &'static str) -> Result<Option<String>, StartError> {
        // The file changed: take it even if its version field did not (hand-edited documents).
        self.install(None, source, false)
    }

    /// Installs a registry document received in memory (from the configuration service).
    pub fn install_registry_bytes(
        &self,
        bytes: &[u8],
        source: &'static str,
    ) -> Result<Option<String>, StartError> {
        self.install(Some(bytes), source, true)
    }

    /// The version of the registry in use.
    pub fn registry_version(&self) -> String {
        self.live.load().snapshot.version.clone()
    }

    /// Loads the registry (the file, or `bytes`) and swaps it in, one reload at a time.
    fn install(
        &self,
        bytes: Option<&[u8]>,
        source: &'static str,
        skip_same_version: bool,
    ) -> Result<Option<String>, StartError> {
        let _guard = self
            .reloading
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match load_live(&self.settings(), bytes) {
            Ok(live) => {
                let version = live.snapshot.version.clone();
                if skip_same_version
                    && version == self.live.load().snapshot.version
                    && !version.is_empty()
                {
                    return Ok(None);
                }
                self.metrics
                    .registry_in_use(&version, unix_now(), &live.snapshot.findings);
                log_findings(&live.snapshot);
                // The previous registry is freed here unless a request still holds it.
                drop(self.live.swap(Arc::new(live)));
                release_free_memory();
                self.metrics.reloaded("registry", source, true);
                tracing::info!(source, version, "registry reloaded");
                Ok(Some(version))
            }
            Err(e) => {
                self.metrics.reloaded("registry", source, false);
                tracing::warn!(source, error = %e, "registry reload refused; keeping the previous one");
                Err(e)
            }
        }
    }

    /// Reloads the settings file: keys safe to change live take effect, the others are reported.
    pub fn reload_settings(&self, source: &'static str) -> Result<SettingsReload, StartError> {
        let Some(path) = &self.settings_path else {
            return Ok(SettingsReload {
                applied: false,
                needs_restart: Vec::new(),
            });
        };
        let _guard = self
            .reloading
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let new = match Settings::load(path) {
            Ok(s) => s,
            Err(e) => {
                self.metrics.reloaded("settings", source, false);
                tracing::warn!(source, error = %e, "settings reload refused; keeping the previous ones");
                return Err(e.into());
            }
        };
        let old = self.settings();
        // Keep the old values of what cannot change live; take the rest.
        let mut merged = new;
        let needs_restart = keep_restart_only(&old, &mut merged);
        self.settings.store(Arc::new(merged));
        self.settings_generation.fetch_add(1, Ordering::SeqCst);
        self.metrics.reloaded("settings", source, true);
        if needs_restart.is_empty() {
            tracing::info!(source, "settings reloaded");
        } else {
            tracing::warn!(source, needs_restart = ?needs_restart, "settings reloaded; some changes need a restart");
        }
        Ok(SettingsReload {
            applied: true,
            needs_restart,
        })
    }
}

/// One warning per registry entry left out or kept with an unusable part (once per load).
pub fn log_findings(snapshot: &Snapshot) {
    for f in &snapshot.findings {
        tracing::warn!(
            map = f.map,
            key = %f.key,
            field = %f.field,
            effect = f.effect.label(),
            "registry entry: {f}"
        );
    }
}

/// Reads the registry (the settings' file, or `bytes` when given) and compiles its service schemas.
pub fn load_live(settings: &Settings, bytes: Option<&[u8]>) -> Result<Live, StartError> {
    let loaded = match bytes {
        Some(b) => registry::load_bytes(b),
        None => registry::load_file(&settings.registry),
    };
    let mut snapshot = loaded.map_err(|source| StartError::Registry {
        path: match bytes {
            Some(_) => "(fetched document)".to_owned(),
            None => settings.registry.display().to_string(),
        },
        source: Box::new(source),
    })?;
    let service_schemas = match (settings.service_data, &settings.service_schema_dir) {
        (ServiceDataMode::PassThrough, _) => ServiceSchemas::default(),
        (ServiceDataMode::Validate, Some(dir)) => {
            let (schemas, findings) = ServiceSchemas::load(dir, &snapshot)?;
            // Reported with the registry's own findings (logs, metrics, check-config).
            snapshot.findings.extend(findings);
            schemas
        }
        (ServiceDataMode::Validate, None) => return Err(StartError::NoServiceSchemaDir),
    };
    // Loading a large registry frees as much as it keeps (the document text, the raw model):
    // give those pages back to the system now rather than keep them resident for good.
    release_free_memory();
    Ok(Live {
        snapshot,
        service_schemas,
        catalog: Default::default(),
    })
}

/// Returns memory the allocator holds but nothing uses to the system.
fn release_free_memory() {
    // SAFETY: `mi_collect` only walks the allocator's own free lists; it takes no pointer.
    unsafe { libmimalloc_sys::mi_collect(true) }
}
