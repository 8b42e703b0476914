//! Assembles the gateway from settings: registry, schemas and EC client, loaded before any port is bound.

use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::checks::{ServiceSchemaError, ServiceSchemas};
use crate::observe::Metrics;
use crate::registry::{self, LoadError, Snapshot};
use crate::settings::{ServiceDataMode, Settings};
use crate::transport::tls::{TlsServer, TlsSetupError};
use crate::upstream::{ClientSetupError, EcClients};
use crate::xsd::{CompileError, Contract};

/// What one registry document gives the pipeline: the snapshot and its services' schemas.
#[derive(Debug)]
pub struct Live {
    pub snapshot: Snapshot,
    pub service_schemas: ServiceSchemas,
}

/// Shared state of a running gateway.
pub struct Gateway {
    pub settings: Settings,
    pub contract: Contract,
    pub ec: EcClients,
    /// The listener's TLS (`None` with `plain_http = true`).
    pub tls: Option<TlsServer>,
    pub metrics: Metrics,
    live: ArcSwap<Live>,
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
}

impl Gateway {
    pub fn build(settings: Settings) -> Result<Self, StartError> {
        let contract = Contract::load()?;
        let live = load_live(&settings)?;
        let ec = EcClients::new(&settings.ec)?;
        let tls = settings.tls.as_ref().map(TlsServer::load).transpose()?;
        Ok(Self {
            settings,
            contract,
            ec,
            tls,
            metrics: Metrics::new(),
            live: ArcSwap::from_pointee(live),
        })
    }

    /// The current registry; callers keep the `Arc` for the whole request.
    pub fn live(&self) -> Arc<Live> {
        self.live.load_full()
    }

    /// Loads the registry file again and swaps it in; on error the current one stays.
    pub fn reload(&self) -> Result<(), StartError> {
        let live = load_live(&self.settings)?;
        self.live.store(Arc::new(live));
        Ok(())
    }
}

/// Reads the registry named by the settings and compiles its service schemas.
pub fn load_live(settings: &Settings) -> Result<Live, StartError> {
    let snapshot =
        registry::load_file(&settings.registry).map_err(|source| StartError::Registry {
            path: settings.registry.display().to_string(),
            source: Box::new(source),
        })?;
    let service_schemas = match (settings.service_data, &settings.service_schema_dir) {
        (ServiceDataMode::PassThrough, _) => ServiceSchemas::default(),
        (ServiceDataMode::Validate, Some(dir)) => ServiceSchemas::load(dir, &snapshot)?,
        (ServiceDataMode::Validate, None) => return Err(StartError::NoServiceSchemaDir),
    };
    Ok(Live {
        snapshot,
        service_schemas,
    })
}
