//! A validated, indexed, immutable view of one registry document; requests read only this.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use super::raw::{self, RawConfig};
use super::time::Timestamp;
use crate::secret::Secret;

/// A registry problem, named by map, key and field so an operator can find it in the document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{map}[{key:?}].{field}: {problem}")]
pub struct RegistryError {
    pub map: String,
    pub key: String,
    pub field: String,
    pub problem: String,
}

fn err(map: &str, key: &str, field: &str, problem: impl Into<String>) -> RegistryError {
    RegistryError {
        map: map.to_owned(),
        key: key.to_owned(),
        field: field.to_owned(),
        problem: problem.into(),
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
    pub password: Secret,
    pub broker: String,
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
    pub connection: Connection,
    pub connection_mod4: Option<Connection>,
    /// `service.path` (legacy primitives).
    pub service_path: Option<String>,
    /// `service_pof.path` (paForNode primitives; the Node uses it for paDemandPaymentNotice).
    pub pof_path: Option<String>,
    /// `service_mod4.path` (the "modello 4" endpoint).
    pub mod4_path: Option<String>,
    pub proxy: Option<Proxy>,
    /// `thread_number`: the station's declared parallelism.
    pub thread_number: u32,
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
    pub description: String,
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
    pub start: Timestamp,
    pub end: Option<Timestamp>,
    pub fee: bool,
    pub station: Option<String>,
    pub description: Option<String>,
}

impl SubjectService {
    /// Whether the association is valid at `now` (epoch seconds), bounds included.
    pub fn active_at(&self, now: i64) -> bool {
        self.start.epoch <= now && self.end.is_none_or(|e| now <= e.epoch)
    }

    pub fn expired_at(&self, now: i64) -> bool {
        self.end.is_some_and(|e| now > e.epoch)
    }
}

/// An account of a creditor institution, valid from `valid_from`.
#[derive(Debug, Clone)]
pub struct Iban {
    pub iban: String,
    pub valid_from: Option<Timestamp>,
}

/// One entry of `elencoSoggettiEroganti`, precomputed for the catalog.
#[derive(Debug, Clone)]
pub struct CatalogSubject {
    pub subject_service_id: String,
    pub domain: String,
    pub denomination: String,
    pub start: Timestamp,
    pub end: Option<Timestamp>,
    pub fee: bool,
    /// `start` and `end` as the catalog writes them (`YYYY-MM-DD`), rendered once.
    pub start_text: String,
    pub end_text: Option<String>,
}

/// One `catalogoServizi` entry with all its associations (filters apply per request).
#[derive(Debug, Clone)]
pub struct CatalogService {
    pub id: String,
    pub description: String,
    pub category: Option<String>,
    pub reference_xsd: String,
    pub version: i64,
    pub subjects: Vec<CatalogSubject>,
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
    pub services: HashMap<String, Service>,
    pub subject_services: HashMap<String, SubjectService>,
    /// (EC, service) → ids of its associations, sorted (the legacy operations address a service
    /// by EC and service id).
    pub associations: HashMap<(String, String), Vec<String>>,
    /// EC → its accounts, sorted by IBAN.
    pub ibans: HashMap<String, Vec<Iban>>,
    /// EC → name for the catalog (`cdsSubjects`, else the creditor institution's business name).
    pub ec_names: HashMap<String, String>,
    /// Services sorted by id, each with its associations sorted by id.
    pub catalog: Vec<CatalogService>,
    /// Every association's end (epoch seconds), sorted: when the catalog's content changes.
    pub catalog_ends: Vec<i64>,
}

impl Snapshot {
    /// The last instant (epoch seconds) at which a catalog rendered at `now` is still exact: an
    /// association ending at `e` is listed while `now <= e`.
    pub fn catalog_valid_until(&self, now: i64) -> i64 {
        let i = self.catalog_ends.partition_point(|e| *e < now);
        self.catalog_ends.get(i).copied().unwrap_or(i64::MAX)
    }
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

/// Helper that reads one entry's fields and names them in errors.
struct Entry<'a> {
    map: &'static str,
    key: &'a str,
}

impl Entry<'_> {
    fn fail(&self, field: &str, problem: impl Into<String>) -> RegistryError {
        err(self.map, self.key, field, problem)
    }

    fn required<T: Clone>(&self, field: &str, v: &Option<T>) -> Result<T, RegistryError> {
        v.clone()
            .ok_or_else(|| self.fail(field, "required, missing or null"))
    }

    /// The entity's own code: the map key, which must agree with the inner code when present.
    fn code(&self, field: &str, inner: &Option<String>) -> Result<String, RegistryError> {
        match inner {
            Some(code) if code != self.key => Err(self.fail(
                field,
                format!("{code:?} differs from the map key {:?}", self.key),
            )),
            _ => Ok(self.key.to_owned()),
        }
    }

    /// A string of `min..=max` characters (the catalog schema's limits).
    fn text(
        &self,
        field: &str,
        v: &Option<String>,
        min: usize,
        max: usize,
    ) -> Result<String, RegistryError> {
        let s = self.required(field, v)?;
        self.check_len(field, &s, min, max)?;
        Ok(s)
    }

    fn check_len(&self, field: &str, s: &str, min: usize, max: usize) -> Result<(), RegistryError> {
        let n = s.chars().count();
        if n < min || n > max {
            let want = if min == max {
                format!("exactly {min}")
            } else {
                format!("{min} to {max}")
            };
            return Err(self.fail(field, format!("{n} characters, expected {want}")));
        }
        Ok(())
    }

    fn connection(
        &self,
        field: &str,
        c: &Option<raw::RawConnection>,
    ) -> Result<Option<Connection>, RegistryError> {
        let Some(c) = c else { return Ok(None) };
        if c.protocol.is_none() && c.ip.is_none() && c.port.is_none() {
            return Ok(None);
        }
        let protocol = match c
            .protocol
            .as_deref()
            .map(str::to_ascii_uppercase)
            .as_deref()
        {
            Some("HTTP") => Protocol::Http,
            Some("HTTPS") => Protocol::Https,
            Some(other) => {
                return Err(self.fail(
                    &format!("{field}.protocol"),
                    format!("{other:?} is neither HTTP nor HTTPS"),
                ))
            }
            None => {
                return Err(self.fail(&format!("{field}.protocol"), "required, missing or null"))
            }
        };
        let host = self.required(&format!("{field}.ip"), &c.ip)?;
        if host.is_empty() {
            return Err(self.fail(&format!("{field}.ip"), "empty host"));
        }
        let port = self.port(&format!("{field}.port"), c.port)?;
        Ok(Some(Connection {
            protocol,
            host,
            port,
        }))
    }

    fn port(&self, field: &str, p: Option<i64>) -> Result<u16, RegistryError> {
        let p = p.ok_or_else(|| self.fail(field, "required, missing or null"))?;
        u16::try_from(p)
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| self.fail(field, format!("{p} is not a TCP port")))
    }

    fn timestamp(
        &self,
        field: &str,
        v: &Option<String>,
    ) -> Result<Option<Timestamp>, RegistryError> {
        v.as_deref()
            .map(|s| Timestamp::parse(s).map_err(|e| self.fail(field, e.to_string())))
            .transpose()
    }
}

fn entries<T>(m: &raw::Map<T>) -> impl Iterator<Item = (&String, &T)> {
    m.iter().flat_map(BTreeMap::iter)
}

impl TryFrom<RawConfig> for Snapshot {
    type Error = RegistryError;

    fn try_from(raw: RawConfig) -> Result<Self, RegistryError> {
        let mut psps = HashMap::new();
        for (key, p) in entries(&raw.psps) {
            let e = Entry { map: "psps", key };
            psps.insert(
                key.clone(),
                Psp {
                    code: e.code("psp_code", &p.psp_code)?,
                    enabled: e.required("enabled", &p.enabled)?,
                },
            );
        }
        let mut psp_brokers = HashMap::new();
        for (key, b) in entries(&raw.psp_brokers) {
            let e = Entry {
                map: "pspBrokers",
                key,
            };
            psp_brokers.insert(
                key.clone(),
                PspBroker {
                    code: e.code("broker_psp_code", &b.broker_psp_code)?,
                    enabled: e.required("enabled", &b.enabled)?,
                    extended_fault_bean: b.extended_fault_bean.unwrap_or(false),
                },
            );
        }
        let mut channels = HashMap::new();
        for (key, c) in entries(&raw.channels) {
            let e = Entry {
                map: "channels",
                key,
            };
            channels.insert(
                key.clone(),
                Channel {
                    code: e.code("channel_code", &c.channel_code)?,
                    enabled: e.required("enabled", &c.enabled)?,
                    password: Secret::new(e.required("password", &c.password)?),
                    broker: e.required("broker_psp_code", &c.broker_psp_code)?,
                },
            );
        }
        let mut psp_channels = HashSet::new();
        for (key, t) in entries(&raw.psp_channel_payment_types) {
            let e = Entry {
                map: "pspChannelPaymentTypes",
                key,
            };
            psp_channels.insert((
                e.required("psp_code", &t.psp_code)?,
                e.required("channel_code", &t.channel_code)?,
            ));
        }
        let mut creditor_institutions = HashMap::new();
        for (key, c) in entries(&raw.creditor_institutions) {
            let e = Entry {
                map: "creditorInstitutions",
                key,
            };
            creditor_institutions.insert(
                key.clone(),
                CreditorInstitution {
                    code: e.code("creditor_institution_code", &c.creditor_institution_code)?,
                    enabled: e.required("enabled", &c.enabled)?,
                    business_name: c.business_name.clone().filter(|s| !s.trim().is_empty()),
                },
            );
        }
        let mut ci_brokers = HashMap::new();
        for (key, b) in entries(&raw.creditor_institution_brokers) {
            let e = Entry {
                map: "creditorInstitutionBrokers",
                key,
            };
            ci_brokers.insert(
                key.clone(),
                CiBroker {
                    code: e.code("broker_code", &b.broker_code)?,
                    enabled: e.required("enabled", &b.enabled)?,
                },
            );
        }
        let mut stations = HashMap::new();
        for (key, s) in entries(&raw.stations) {
            let e = Entry {
                map: "stations",
                key,
            };
            let connection = e
                .connection("connection", &s.connection)?
                .ok_or_else(|| e.fail("connection", "required, missing or null"))?;
            let proxy = match &s.proxy {
                Some(p) if p.proxy_host.as_deref().is_some_and(|h| !h.is_empty()) => Some(Proxy {
                    host: p.proxy_host.clone().unwrap_or_default(),
                    port: e.port("proxy.proxy_port", p.proxy_port)?,
                    username: p.proxy_username.clone().filter(|u| !u.is_empty()),
                    password: p
                        .proxy_password
                        .clone()
                        .filter(|u| !u.is_empty())
                        .map(Secret::new),
                }),
                _ => None,
            };
            let thread_number = s.thread_number.unwrap_or(1);
            stations.insert(
                key.clone(),
                Station {
                    code: e.code("station_code", &s.station_code)?,
                    enabled: e.required("enabled", &s.enabled)?,
                    broker: e.required("broker_code", &s.broker_code)?,
                    connection,
                    connection_mod4: e.connection("connection_mod4", &s.connection_mod4)?,
                    service_path: s.service.as_ref().and_then(|x| x.path.clone()),
                    pof_path: s.service_pof.as_ref().and_then(|x| x.path.clone()),
                    mod4_path: s.service_mod4.as_ref().and_then(|x| x.path.clone()),
                    proxy,
                    thread_number: u32::try_from(thread_number)
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or_else(|| {
                            e.fail(
                                "thread_number",
                                format!("{thread_number} is not a positive count"),
                            )
                        })?,
                    version: s.version.unwrap_or(2),
                    primitive_version: s.primitive_version.unwrap_or(1),
                },
            );
        }
        let mut station_cis = HashMap::new();
        for (key, s) in entries(&raw.creditor_institution_stations) {
            let e = Entry {
                map: "creditorInstitutionStations",
                key,
            };
            let ci = e.required("creditor_institution_code", &s.creditor_institution_code)?;
            let station = e.required("station_code", &s.station_code)?;
            let entry = StationCi {
                ci: ci.clone(),
                station: station.clone(),
                mod4: e.required("mod4", &s.mod4)?,
                spontaneous_payment: s.spontaneous_payment.unwrap_or(false),
            };
            // Several rows (one per aux digit / segregation code) may join the same pair; the pair
            // is usable for modello 4 if any of them says so.
            station_cis
                .entry((ci, station))
                .and_modify(|old: &mut StationCi| {
                    old.mod4 |= entry.mod4;
                    old.spontaneous_payment |= entry.spontaneous_payment;
                })
                .or_insert(entry);
        }
        let mut services = HashMap::new();
        for (key, s) in entries(&raw.cds_services) {
            let e = Entry {
                map: "cdsServices",
                key,
            };
            let id = e.code("id", &s.id)?;
            e.check_len("id", &id, 5, 5)?;
            let category = s.category.clone().filter(|c| !c.is_empty());
            if let Some(c) = &category {
                e.check_len("category", c, 1, 35)?;
            }
            services.insert(
                key.clone(),
                Service {
                    id,
                    description: e.text("description", &s.description, 1, 70)?,
                    reference_xsd: e.text("reference_xsd", &s.reference_xsd, 1, 35)?,
                    version: e.required("version", &s.version)?,
                    category,
                },
            );
        }
        let mut subjects: HashMap<String, String> = HashMap::new();
        for (key, s) in entries(&raw.cds_subjects) {
            let e = Entry {
                map: "cdsSubjects",
                key,
            };
            let code = e.code("creditor_institution_code", &s.creditor_institution_code)?;
            if let Some(d) = s
                .creditor_institution_description
                .clone()
                .filter(|d| !d.is_empty())
            {
                e.check_len("creditor_institution_description", &d, 1, 70)?;
                subjects.insert(code, d);
            }
        }
        let mut subject_services = HashMap::new();
        for (key, s) in entries(&raw.cds_subject_services) {
            let e = Entry {
                map: "cdsSubjectServices",
                key,
            };
            let id = e.code("subject_service_id", &s.subject_service_id)?;
            e.check_len("subject_service_id", &id, 5, 5)?;
            let subject = e.text("subject", &s.subject, 1, 35)?;
            let start = e
                .timestamp("start_date", &s.start_date)?
                .ok_or_else(|| e.fail("start_date", "required, missing or null"))?;
            subject_services.insert(
                key.clone(),
                SubjectService {
                    id,
                    subject,
                    service: e.required("service", &s.service)?,
                    start,
                    end: e.timestamp("end_date", &s.end_date)?,
                    fee: e.required("fee", &s.fee)?,
                    station: s.station_code.clone().filter(|c| !c.is_empty()),
                    description: s.service_description.clone().filter(|c| !c.is_empty()),
                },
            );
        }
        let mut associations: HashMap<(String, String), Vec<String>> = HashMap::new();
        for ss in subject_services.values() {
            associations
                .entry((ss.subject.clone(), ss.service.clone()))
                .or_default()
                .push(ss.id.clone());
        }
        for ids in associations.values_mut() {
            ids.sort();
        }
        let mut ibans: HashMap<String, Vec<Iban>> = HashMap::new();
        for (key, i) in entries(&raw.ibans) {
            let e = Entry { map: "ibans", key };
            let iban = e.required("iban", &i.iban)?;
            let ci = e.required("creditor_institution_code", &i.creditor_institution_code)?;
            let valid_from = e.timestamp("validity_date", &i.validity_date)?;
            ibans.entry(ci).or_default().push(Iban { iban, valid_from });
        }
        for list in ibans.values_mut() {
            list.sort_by(|a, b| a.iban.cmp(&b.iban));
        }
        let mut ec_names = subjects;
        for (code, ci) in &creditor_institutions {
            if let Some(name) = &ci.business_name {
                ec_names.entry(code.clone()).or_insert_with(|| name.clone());
            }
        }
        let catalog = build_catalog(&services, &subject_services, &ec_names);
        let mut catalog_ends: Vec<i64> = catalog
            .iter()
            .flat_map(|s| s.subjects.iter().filter_map(|x| x.end.map(|e| e.epoch)))
            .collect();
        catalog_ends.sort_unstable();
        catalog_ends.dedup();
        Ok(Snapshot {
            version: raw.version.unwrap_or_default(),
            psps,
            psp_brokers,
            channels,
            psp_channels,
            creditor_institutions,
            ci_brokers,
            stations,
            station_cis,
            services,
            subject_services,
            associations,
            ibans,
            ec_names,
            catalog,
            catalog_ends,
        })
    }
}

/// Projects services and associations into catalog entries. The EC's name
/// (`denominazioneEnteCreditore`, 1..70) comes from `cdsSubjects`, else the creditor
/// institution's business name, else the association's own description, else its code.
fn build_catalog(
    services: &HashMap<String, Service>,
    subject_services: &HashMap<String, SubjectService>,
    ec_names: &HashMap<String, String>,
) -> Vec<CatalogService> {
    let mut by_service: BTreeMap<&str, Vec<CatalogSubject>> = BTreeMap::new();
    for ss in subject_services.values() {
        if !services.contains_key(&ss.service) {
            continue;
        }
        let denomination = ec_names
            .get(&ss.subject)
            .cloned()
            .or_else(|| ss.description.clone())
            .unwrap_or_else(|| ss.subject.clone());
        by_service
            .entry(&ss.service)
            .or_default()
            .push(CatalogSubject {
                subject_service_id: ss.id.clone(),
                domain: ss.subject.clone(),
                denomination: truncate_chars(&denomination, 70),
                start: ss.start,
                end: ss.end,
                fee: ss.fee,
                start_text: ss.start.date.to_string(),
                end_text: ss.end.map(|e| e.date.to_string()),
            });
    }
    let mut ids: Vec<&String> = services.keys().collect();
    ids.sort();
    ids.into_iter()
        .filter_map(|id| {
            let s = &services[id];
            let mut subjects = by_service.remove(id.as_str())?;
            subjects.sort_by(|a, b| a.subject_service_id.cmp(&b.subject_service_id));
            Some(CatalogService {
                id: s.id.clone(),
                description: s.description.clone(),
                category: s.category.clone(),
                reference_xsd: s.reference_xsd.clone(),
                version: s.version,
                subjects,
            })
        })
        .collect()
}

fn truncate_chars(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}
