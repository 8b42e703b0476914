//! A validated, indexed, immutable view of one registry document; requests read only this.

use std::collections::{HashMap, HashSet};
use std::fmt;

use super::time::Timestamp;
use crate::catalog::Catalog;
use crate::secret::Secret;

/// An entry of the document the gateway could not take whole: left out, or kept with one part
/// unusable. Named by map, key and field so an operator can find it; `effect` says what the
/// Node-like consequence is at run time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub map: &'static str,
    pub key: String,
    pub field: String,
    pub problem: String,
    pub effect: Effect,
}

/// What became of an entry with a problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Left out of the snapshot: requests naming it find nothing (the Node's "unknown" fault).
    Skipped,
    /// Kept; the part that needs the bad field fails at run time, as the Node would answer.
    Degraded(&'static str),
    /// Kept for the checks, not listed in the catalog (the catalog schema cannot carry it).
    Unlisted,
}

impl Effect {
    /// A fixed name for counters.
    pub fn label(self) -> &'static str {
        match self {
            Effect::Skipped => "skipped",
            Effect::Degraded(_) => "degraded",
            Effect::Unlisted => "unlisted",
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}[{:?}].{}: {}; ",
            self.map, self.key, self.field, self.problem
        )?;
        match self.effect {
            Effect::Skipped => f.write_str("entry left out"),
            Effect::Degraded(what) => write!(f, "kept, {what}"),
            Effect::Unlisted => f.write_str("kept, not listed in the catalog"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Psp {
    pub code: String,
    pub enabled: bool,
}

#[derive(Debug, Clone)]
pub struct PspBroker {
    pub code: String,
    pub enabled: bool,
    /// The broker wants the EC's own fault in `original*` fields (`FAULT_BEAN_ESTESO`).
    pub extended_fault_bean: bool,
}

#[derive(Debug, Clone)]
pub struct Channel {
    pub code: String,
    pub enabled: bool,
    /// `None`: the registry has no password (the column is nullable); nobody authenticates.
    pub password: Option<Secret>,
    /// `None`: the channel belongs to no broker; every caller fails authorization.
    pub broker: Option<String>,
}

#[derive(Debug, Clone)]
pub struct CreditorInstitution {
    pub code: String,
    pub enabled: bool,
    pub business_name: Option<String>,
}

#[derive(Debug, Clone)]
pub struct CiBroker {
    pub code: String,
    pub enabled: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Http,
    Https,
}

/// Where a station listens: `connection` (or `connection_mod4`) of the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub protocol: Protocol,
    pub host: String,
    pub port: u16,
}

#[derive(Debug, Clone)]
pub struct Proxy {
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<Secret>,
}

#[derive(Debug, Clone)]
pub struct Station {
    pub code: String,
    pub enabled: bool,
    pub broker: String,
    /// The endpoint, or why the registry's `connection` cannot be used (then every call is
    /// `PPT_STAZIONE_INT_PA_IRRAGGIUNGIBILE`, as for a station nobody can reach).
    pub connection: Result<Connection, String>,
    pub connection_mod4: Option<Connection>,
    /// `service.path` (legacy primitives).
    pub service_path: Option<String>,
    /// `service_pof.path` (paForNode primitives; the Node uses it for paDemandPaymentNotice).
    pub pof_path: Option<String>,
    /// `service_mod4.path` (the "modello 4" endpoint).
    pub mod4_path: Option<String>,
    /// The outbound proxy, or why it cannot be used (then the station is unreachable: going
    /// around a proxy the registry asks for is not an option).
    pub proxy: Result<Option<Proxy>, String>,
    pub version: i64,
    pub primitive_version: i64,
}

#[derive(Debug, Clone)]
pub struct StationCi {
    pub ci: String,
    pub station: String,
    pub mod4: bool,
    pub spontaneous_payment: bool,
}

#[derive(Debug, Clone)]
pub struct Service {
    pub id: String,
    /// `None` when the registry's description is missing or over the catalog's 70 characters.
    pub description: Option<String>,
    pub reference_xsd: String,
    /// 1: legacy `nodoChiediNumeroAvviso`; 2: SANP 3 `demandPaymentNotice`.
    pub version: i64,
    pub category: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SubjectService {
    pub id: String,
    pub subject: String,
    pub service: String,
    /// `None` when the registry's validity cannot be read (a null or unreadable `start_date`, an
    /// unreadable `end_date`): the association is then never active.
    pub start: Option<Timestamp>,
    pub end: Option<Timestamp>,
    /// `None` when the registry's `fee` is null: such an association is not listed.
    pub fee: Option<bool>,
    pub station: Option<String>,
    pub description: Option<String>,
}

impl SubjectService {
    /// Whether the association is valid at `now` (epoch seconds), bounds included.
    pub fn active_at(&self, now: i64) -> bool {
        self.start.is_some_and(|s| s.epoch <= now) && self.end.is_none_or(|e| now <= e.epoch)
    }
}

/// An account of a creditor institution, valid from `valid_from`.
#[derive(Debug, Clone)]
pub struct Iban {
    pub iban: String,
    pub valid_from: Option<Timestamp>,
}

/// The whole registry, validated and indexed.
pub struct Snapshot {
    pub version: String,
    pub psps: HashMap<String, Psp>,
    pub psp_brokers: HashMap<String, PspBroker>,
    pub channels: HashMap<String, Channel>,
    /// (psp, channel) pairs with at least one payment type.
    pub psp_channels: HashSet<(String, String)>,
    pub creditor_institutions: HashMap<String, CreditorInstitution>,
    pub ci_brokers: HashMap<String, CiBroker>,
    pub stations: HashMap<String, Station>,
    /// (creditor institution, station) → association.
    pub station_cis: HashMap<(String, String), StationCi>,
    /// EC → the stations it has enabled for model 4, sorted by code (legacy routing reads it).
    pub model4_stations: HashMap<String, Vec<String>>,
    pub services: HashMap<String, Service>,
    pub subject_services: HashMap<String, SubjectService>,
    /// (EC, service) → ids of its associations, sorted (the legacy operations address a service
    /// by EC and service id).
    pub associations: HashMap<(String, String), Vec<String>>,
    /// EC → its accounts, sorted by IBAN.
    pub ibans: HashMap<String, Vec<Iban>>,
    /// EC → name for the catalog (`cdsSubjects`, else the creditor institution's business name).
    pub ec_names: HashMap<String, String>,
    /// The catalog projected from services and associations, as both catalog versions list it.
    pub catalog: Catalog,
    /// Entries left out or kept with an unusable part, in document order.
    pub findings: Vec<Finding>,
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Snapshot")
            .field("version", &self.version)
            .field("psps", &self.psps.len())
            .field("channels", &self.channels.len())
            .field("stations", &self.stations.len())
            .field("services", &self.services.len())
            .field("subject_services", &self.subject_services.len())
            .finish()
    }
}

pub(crate) fn truncate_chars(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}
