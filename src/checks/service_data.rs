//! `datiSpecificiServizio` against the service's own schema (interfaces.md §5.4, §6.3 step 14).

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use base64::Engine as _;

use crate::registry::{Effect, Finding, Snapshot};

/// What a service whose schema cannot be had becomes.
const UNCHECKED: &str = "its service data are forwarded unchecked (as in pass_through)";
use crate::observe::Metrics;
use crate::soap::{self, Limits};
use crate::xsd::fast::ServiceProof;
use crate::xsd::{self, Bundle, Schema};

/// Compiled per-service schemas, by `reference_xsd` file name, and the schemas that could not be
/// had (their services' data are forwarded unchecked, as in `pass_through`).
#[derive(Debug, Clone, Default)]
pub struct ServiceSchemas {
    by_name: HashMap<String, Compiled>,
    unchecked: HashSet<String>,
}

/// A service schema and, when its model is within the tree proof's reach, its proof.
#[derive(Debug, Clone)]
struct Compiled {
    schema: Schema,
    proof: Option<Arc<ServiceProof>>,
}

impl Compiled {
    fn new(bundle: &Arc<Bundle>, name: &str) -> Result<Self, xsd::CompileError> {
        let schema = Schema::compile(bundle.clone(), name)?;
        // A schema the model cannot read just has no proof: libxml2 judges all its documents.
        let proof = xsd::model::read(bundle, name)
            .ok()
            .and_then(|m| ServiceProof::compile(&m))
            .map(Arc::new);
        Ok(Self { schema, proof })
    }
}

/// A service schema that cannot be used; names the registry entry that needs it.
#[derive(Debug, thiserror::Error)]
pub enum ServiceSchemaError {
    #[error("cannot read the service schema directory {dir}: {source}")]
    Dir {
        dir: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cdsServices[{service:?}].reference_xsd: {source}")]
    Compile {
        service: String,
        #[source]
        source: xsd::CompileError,
    },
}

impl ServiceSchemas {
    /// Compiles the schema of every service in `snap` from `dir`. A schema that is not in `dir`
    /// (real catalogs name more schemas than any folder holds) or does not compile costs its
    /// services' validation alone, not the registry: their data are forwarded unchecked, and
    /// each such service is returned as a finding. Only an unreadable folder is an error.
    pub fn load(dir: &Path, snap: &Snapshot) -> Result<(Self, Vec<Finding>), ServiceSchemaError> {
        // The folder's schemas plus the common types they import (Cup_1_0_0.xsd).
        let bundle = Bundle::service_schemas(dir).map_err(|source| ServiceSchemaError::Dir {
            dir: dir.display().to_string(),
            source,
        })?;
        let bundle = Arc::new(bundle);
        let mut services: Vec<_> = snap.services.values().collect();
        services.sort_by(|a, b| a.id.cmp(&b.id));
        let mut by_name = HashMap::new();
        let mut unchecked = HashSet::new();
        let mut findings = Vec::new();
        for s in services {
            let known = by_name.contains_key(&s.reference_xsd);
            let problem = if known {
                None
            } else if unchecked.contains(&s.reference_xsd) {
                Some(format!("{} is not usable (see above)", s.reference_xsd))
            } else if bundle.get(&s.reference_xsd).is_none() {
                Some(format!("{} is not in {}", s.reference_xsd, dir.display()))
            } else {
                match Compiled::new(&bundle, &s.reference_xsd) {
                    Ok(compiled) => {
                        by_name.insert(s.reference_xsd.clone(), compiled);
                        None
                    }
                    Err(e) => Some(e.to_string()),
                }
            };
            if let Some(problem) = problem {
                unchecked.insert(s.reference_xsd.clone());
                findings.push(Finding {
                    map: "cdsServices",
                    key: s.id.clone(),
                    field: "reference_xsd".into(),
                    problem,
                    effect: Effect::Degraded(UNCHECKED),
                });
            }
        }
        Ok((Self { by_name, unchecked }, findings))
    }

    /// Whether `reference_xsd` is a schema the gateway could not have: its data go unchecked.
    pub fn is_unchecked(&self, reference_xsd: &str) -> bool {
        self.unchecked.contains(reference_xsd)
    }

    /// Compiles every service schema in `dir` (what a client of the gateway validates against,
    /// without a registry), by file name; the common types they import are not service schemas.
    pub fn compile_dir(dir: &Path) -> Result<Self, ServiceSchemaError> {
        let bundle =
            Arc::new(
                Bundle::service_schemas(dir).map_err(|source| ServiceSchemaError::Dir {
                    dir: dir.display().to_string(),
                    source,
                })?,
            );
        let mut by_name = HashMap::new();
        let names: Vec<String> = bundle.names().map(str::to_owned).collect();
        for name in names {
            if crate::xsd::SERVICE_IMPORTS.contains(&name.as_str()) {
                continue;
            }
            let compiled =
                Compiled::new(&bundle, &name).map_err(|source| ServiceSchemaError::Compile {
                    service: name.clone(),
                    source,
                })?;
            by_name.insert(name, compiled);
        }
        Ok(Self {
            by_name,
            unchecked: HashSet::new(),
        })
    }

    pub fn get(&self, reference_xsd: &str) -> Option<&Schema> {
        self.by_name.get(reference_xsd).map(|c| &c.schema)
    }

    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

/// Why the service data were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServiceDataError {
    #[error("datiSpecificiServizio is not base64: {0}")]
    NotBase64(base64::DecodeError),
    #[error("datiSpecificiServizio is not UTF-8 XML")]
    NotUtf8,
    #[error("datiSpecificiServizio is not readable XML: {0}")]
    NotXml(soap::XmlError),
    #[error("datiSpecificiServizio does not match {xsd}: {detail}")]
    Invalid { xsd: String, detail: xsd::Invalid },
    #[error("no compiled schema for {0}")]
    NoSchema(String),
}

/// Decodes the base64 payload and validates it against `reference_xsd`: proven valid from the
/// tree when the schema's proof can, else by libxml2 (every invalid document, every message).
/// With `metrics`, the check is counted in `sanp_schema_checks_total` (the gateway's own checks,
/// not the portal's rehearsal of them).
pub fn check_service_data(
    schemas: &ServiceSchemas,
    reference_xsd: &str,
    b64: &str,
    limits: &Limits,
    metrics: Option<&Metrics>,
) -> Result<(), ServiceDataError> {
    // Line breaks inside the base64 are tolerated; most PSPs send none, so no copy then.
    let is_blank = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let compact: std::borrow::Cow<'_, [u8]> = if b64.as_bytes().iter().any(is_blank) {
        b64.bytes()
            .filter(|b| !is_blank(b))
            .collect::<Vec<u8>>()
            .into()
    } else {
        b64.as_bytes().into()
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&compact)
        .map_err(ServiceDataError::NotBase64)?;
    let xml = std::str::from_utf8(&bytes).map_err(|_| ServiceDataError::NotUtf8)?;
    // The same screen as the envelope: no DTDs, entities or unbounded nesting in nested documents.
    let root = soap::tree::parse(xml.as_bytes(), limits).map_err(ServiceDataError::NotXml)?;
    let compiled = schemas
        .by_name
        .get(reference_xsd)
        .ok_or_else(|| ServiceDataError::NoSchema(reference_xsd.to_owned()))?;
    let proven = compiled.proof.as_ref().is_some_and(|p| p.proves(&root));
    if let Some(m) = metrics {
        m.schema_checked(ServiceProof::LABEL, proven);
    }
    if proven {
        return Ok(());
    }
    compiled
        .schema
        .validate(xml.as_bytes())
        .map_err(|e| ServiceDataError::Invalid {
            xsd: reference_xsd.to_owned(),
            detail: e,
        })
}
