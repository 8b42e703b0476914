//! XSD validation stage: faithful schema checks (libxml2) of envelopes, EC answers and service data.
//!
//! A [`Schema`] is a cheap, shareable handle; each thread compiles its own libxml2 copy on first
//! use and drops it when the last handle goes away (a registry reload replaces service schemas).

mod bundle;
pub mod example;
pub mod fast;
mod ffi;
pub mod model;

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

pub use bundle::{
    Bundle, ENVELOPE_LEGACY_PA, ENVELOPE_LEGACY_PSP, ENVELOPE_NODE_FOR_PSP, ENVELOPE_PA_FOR_NODE,
    SERVICE_IMPORTS,
};
pub use ffi::RawIssue as Issue;

/// The hot documents whose common valid form the tree proof (`fast`) settles without libxml2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    /// A PSP's `demandPaymentNoticeRequest` envelope.
    DemandRequest,
    /// An EC's `paDemandPaymentNoticeResponse` envelope.
    PaDemandAnswer,
}

impl Proof {
    /// The document's name in `sanp_schema_checks_total`.
    pub fn label(self) -> &'static str {
        match self {
            Proof::DemandRequest => "demand_request",
            Proof::PaDemandAnswer => "ec_answer",
        }
    }
}

/// A schema that can validate documents from any thread.
#[derive(Clone)]
pub struct Schema {
    inner: Arc<Inner>,
}

struct Inner {
    id: u64,
    bundle: Arc<Bundle>,
    entry: String,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    static COMPILED: RefCell<HashMap<u64, (Weak<Inner>, ffi::CompiledSchema)>> =
        RefCell::new(HashMap::new());
}

/// A schema that does not compile.
#[derive(Debug, thiserror::Error)]
#[error("schema {entry} does not compile: {}", first_message(.issues))]
pub struct CompileError {
    pub entry: String,
    pub issues: Vec<Issue>,
}

fn first_message(issues: &[Issue]) -> String {
    issues
        .first()
        .map(|i| format!("line {}: {}", i.line, i.message))
        .unwrap_or_default()
}

/// Why a document failed validation: it could not be parsed, or it broke the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalid {
    NotWellFormed(Issue),
    Violations(Vec<Issue>),
}

impl Invalid {
    /// The first problem, which is the one reported to callers (as the Node reports Xerces' first).
    pub fn first(&self) -> &Issue {
        match self {
            Invalid::NotWellFormed(i) => i,
            Invalid::Violations(v) => &v[0],
        }
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = self.first();
        match &i.path {
            Some(p) => write!(f, "[{p}] - {}", i.message),
            None => write!(f, "{}", i.message),
        }
    }
}

impl Schema {
    /// Compiles `entry` from `bundle` on this thread, so a broken schema is reported at load time.
    pub fn compile(bundle: Arc<Bundle>, entry: &str) -> Result<Self, CompileError> {
        let inner = Arc::new(Inner {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            bundle,
            entry: entry.to_owned(),
        });
        let compiled =
            ffi::CompiledSchema::compile(&inner.bundle, entry).map_err(|issues| CompileError {
                entry: entry.to_owned(),
                issues,
            })?;
        remember(&inner, compiled);
        Ok(Self { inner })
    }

    pub fn entry(&self) -> &str {
        &self.inner.entry
    }

    /// Validates a document already read as `root`: when `proof` covers it and settles it from
    /// the tree (valid, or a demand request with one broken length facet, reported in libxml2's
    /// words), libxml2 is skipped; anything else goes to libxml2, the authority. Each proof
    /// attempt is counted.
    pub fn validate_read(
        &self,
        xml: &[u8],
        root: &crate::soap::Element,
        proof: Option<Proof>,
        metrics: &crate::observe::Metrics,
    ) -> Result<(), Invalid> {
        if let Some(p) = proof {
            let verdict = match p {
                Proof::DemandRequest => fast::demand_request_verdict(root, xml),
                Proof::PaDemandAnswer if fast::pa_demand_answer(root) => fast::Verdict::Valid,
                Proof::PaDemandAnswer => fast::Verdict::NotProven,
            };
            metrics.schema_checked(p.label(), verdict != fast::Verdict::NotProven);
            match verdict {
                fast::Verdict::Valid => return Ok(()),
                fast::Verdict::Invalid(issue) => return Err(Invalid::Violations(vec![issue])),
                fast::Verdict::NotProven => {}
            }
        }
        self.validate(xml)
    }

    /// Validates a whole document against this schema.
    pub fn validate(&self, xml: &[u8]) -> Result<(), Invalid> {
        let outcome = COMPILED.with(|cache| {
            let cache = cache.borrow();
            cache
                .get(&self.inner.id)
                .map(|(_, compiled)| compiled.validate(xml))
        });
        let outcome = match outcome {
            Some(o) => o,
            None => {
                let compiled = ffi::CompiledSchema::compile(&self.inner.bundle, &self.inner.entry)
                    .map_err(|issues| {
                        Invalid::NotWellFormed(issues.into_iter().next().unwrap_or(Issue {
                            code: -1,
                            line: 0,
                            message: "schema no longer compiles".into(),
                            path: None,
                        }))
                    })?;
                let o = compiled.validate(xml);
                remember(&self.inner, compiled);
                o
            }
        };
        outcome.map_err(|f| match f {
            ffi::ValidationFailure::NotWellFormed(i) => Invalid::NotWellFormed(i),
            ffi::ValidationFailure::Invalid(v) => Invalid::Violations(v),
        })
    }
}

/// Caches a thread's compiled copy and forgets copies whose schema handles are all gone.
fn remember(inner: &Arc<Inner>, compiled: ffi::CompiledSchema) {
    COMPILED.with(|cache| {
        let mut cache = cache.borrow_mut();
        cache.retain(|_, (weak, _)| weak.strong_count() > 0);
        cache.insert(inner.id, (Arc::downgrade(inner), compiled));
    });
}

impl fmt::Debug for Schema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Schema")
            .field("entry", &self.inner.entry)
            .finish()
    }
}

/// The schemas of the gateway's own contract, compiled once at start-up.
#[derive(Debug, Clone)]
pub struct Contract {
    /// SOAP 1.1 envelope carrying a nodeForPsp request (PSP → gateway).
    pub node_for_psp: Schema,
    /// SOAP 1.1 envelope carrying a paForNode answer (EC → gateway).
    pub pa_for_node: Schema,
    /// The v2 service catalog document.
    pub catalog_v2: Schema,
    /// SOAP 1.1 envelope carrying a legacy NodoPerPsp request (nodoChiediNumeroAvviso, …).
    pub legacy_psp: Schema,
    /// SOAP 1.1 envelope carrying a legacy PaPerNodo message (paaChiediNumeroAvviso, its answer).
    pub legacy_pa: Schema,
}

impl Contract {
    pub fn load() -> Result<Self, CompileError> {
        let bundle = Arc::new(Bundle::contract());
        Ok(Self {
            node_for_psp: Schema::compile(bundle.clone(), ENVELOPE_NODE_FOR_PSP)?,
            pa_for_node: Schema::compile(bundle.clone(), ENVELOPE_PA_FOR_NODE)?,
            catalog_v2: Schema::compile(bundle.clone(), "CatalogoServizi_2_0_0.xsd")?,
            legacy_psp: Schema::compile(bundle.clone(), ENVELOPE_LEGACY_PSP)?,
            legacy_pa: Schema::compile(bundle, ENVELOPE_LEGACY_PA)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demand(id_psp: &str) -> String {
        format!(
            r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:nfp="http://pagopa-api.pagopa.gov.it/node/nodeForPsp.xsd"><soapenv:Header/><soapenv:Body><nfp:demandPaymentNoticeRequest><idPSP>{id_psp}</idPSP><idBrokerPSP>B</idBrokerPSP><idChannel>C</idChannel><password>password01</password><idSoggettoServizio>00042</idSoggettoServizio><datiSpecificiServizio>PGEvPg==</datiSpecificiServizio></nfp:demandPaymentNoticeRequest></soapenv:Body></soapenv:Envelope>"#
        )
    }

    #[test]
    fn valid_envelope_passes_and_facets_inside_the_lax_body_are_enforced() {
        let c = Contract::load().expect("contract compiles");
        c.node_for_psp
            .validate(demand("PSP1").as_bytes())
            .expect("valid");
        let err = c
            .node_for_psp
            .validate(demand(&"A".repeat(36)).as_bytes())
            .expect_err("36 chars is too long");
        let first = err.first();
        assert_eq!(first.code, 1832, "{first:?}");
        assert_eq!(
            first.path.as_deref(),
            Some("Envelope/Body/demandPaymentNoticeRequest/idPSP")
        );
    }

    #[test]
    fn lengths_are_counted_in_characters_not_bytes() {
        let c = Contract::load().expect("contract compiles");
        c.node_for_psp
            .validate(demand(&"è".repeat(35)).as_bytes())
            .expect("35 characters (70 bytes) fit stText35");
        // The transport has already decoded the body to UTF-8: a declaration naming another
        // encoding must not make libxml2 decode it twice (70 Latin-1 characters would not fit).
        let declared = format!(
            "<?xml version='1.0' encoding='ISO-8859-1'?>{}",
            demand(&"è".repeat(35))
        );
        c.node_for_psp
            .validate(declared.as_bytes())
            .expect("read as UTF-8 whatever the declaration says");
        let utf8 = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>{}",
            demand(&"è".repeat(36))
        );
        assert!(c.node_for_psp.validate(utf8.as_bytes()).is_err());
    }

    #[test]
    fn schemas_validate_from_other_threads() {
        let c = Contract::load().expect("contract compiles");
        let s = c.node_for_psp.clone();
        let ok = std::thread::spawn(move || s.validate(demand("X").as_bytes()).is_ok())
            .join()
            .expect("thread");
        assert!(ok);
    }

    /// Many threads compiling their first schemas at once (libxml2's lazy type table was racy).
    #[test]
    fn concurrent_first_compilations_agree() {
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(8));
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    barrier.wait();
                    let c = Contract::load().expect("contract compiles on every thread");
                    c.node_for_psp.validate(demand("X").as_bytes()).is_ok()
                })
            })
            .collect();
        for h in handles {
            assert!(h.join().expect("thread"));
        }
    }

    #[test]
    fn external_entities_are_never_loaded() {
        let c = Contract::load().expect("contract compiles");
        let doc = r#"<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>"#;
        let err = c
            .catalog_v2
            .validate(doc.as_bytes())
            .expect_err("must not validate");
        assert!(!format!("{err:?}").contains("root:"), "{err:?}");
    }
}
