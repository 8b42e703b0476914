//! Builds a snapshot from the raw document: every entry that can serve is taken, one that
//! cannot is left out or kept with the unusable part failing at run time, and noted.

use std::collections::{HashMap, HashSet};

use super::entry::{check_len, port, problem, Entry, Findings};
use super::raw::RawConfig;
use super::snapshot::{
    Channel, CiBroker, CreditorInstitution, Effect, Iban, Proxy, Psp, PspBroker, Service, Snapshot,
    Station, StationCi, SubjectService,
};
use super::truncate_chars;
use crate::catalog::{Catalog, Sources};
use crate::secret::Secret;

const NEVER_ACTIVE: &str = "never active (PPT_SERVIZIO_NONATTIVO) and not listed";
const UNREACHABLE: &str = "unreachable (PPT_STAZIONE_INT_PA_IRRAGGIUNGIBILE)";

impl From<RawConfig> for Snapshot {
    /// Every entry that can serve is taken; one that cannot is left out or kept with the
    /// unusable part failing at run time as the Node would answer, and noted in `findings`.
    /// Only the document's shape (handled by the loader) can refuse it as a whole.
    fn from(raw: RawConfig) -> Self {
        let mut f = Findings::default();
        let mut psps = HashMap::new();
        for (key, p) in f.rows("psps", raw.psps) {
            let e = Entry {
                map: "psps",
                key: &key,
            };
            let Some((code, enabled)) = f.code_and_enabled(&e, "psp_code", &p.psp_code, &p.enabled)
            else {
                continue;
            };
            psps.insert(key, Psp { code, enabled });
        }
        let mut psp_brokers = HashMap::new();
        for (key, b) in f.rows("pspBrokers", raw.psp_brokers) {
            let e = Entry {
                map: "pspBrokers",
                key: &key,
            };
            let Some((code, enabled)) =
                f.code_and_enabled(&e, "broker_psp_code", &b.broker_psp_code, &b.enabled)
            else {
                continue;
            };
            psp_brokers.insert(
                key,
                PspBroker {
                    code,
                    enabled,
                    extended_fault_bean: b.extended_fault_bean.unwrap_or(false),
                },
            );
        }
        let mut channels = HashMap::new();
        for (key, c) in f.rows("channels", raw.channels) {
            let e = Entry {
                map: "channels",
                key: &key,
            };
            let Some((code, enabled)) =
                f.code_and_enabled(&e, "channel_code", &c.channel_code, &c.enabled)
            else {
                continue;
            };
            let password = f.or(
                &e,
                e.required("password", &c.password)
                    .map(|p| Some(Secret::new(p))),
                Effect::Degraded("no caller can authenticate (PPT_AUTENTICAZIONE)"),
                None,
            );
            let broker = f.or(
                &e,
                e.required("broker_psp_code", &c.broker_psp_code).map(Some),
                Effect::Degraded("no broker may use it (PPT_AUTORIZZAZIONE)"),
                None,
            );
            channels.insert(
                key,
                Channel {
                    code,
                    enabled,
                    password,
                    broker,
                },
            );
        }
        let mut psp_channels = HashSet::new();
        for (key, t) in f.rows("pspChannelPaymentTypes", raw.psp_channel_payment_types) {
            let e = Entry {
                map: "pspChannelPaymentTypes",
                key: &key,
            };
            let pair = e
                .required("psp_code", &t.psp_code)
                .and_then(|p| Ok((p, e.required("channel_code", &t.channel_code)?)));
            if let Some(pair) = f.keep(&e, pair) {
                psp_channels.insert(pair);
            }
        }
        let mut creditor_institutions = HashMap::new();
        for (key, c) in f.rows("creditorInstitutions", raw.creditor_institutions) {
            let e = Entry {
                map: "creditorInstitutions",
                key: &key,
            };
            let Some((code, enabled)) = f.code_and_enabled(
                &e,
                "creditor_institution_code",
                &c.creditor_institution_code,
                &c.enabled,
            ) else {
                continue;
            };
            creditor_institutions.insert(
                key,
                CreditorInstitution {
                    code,
                    enabled,
                    business_name: c.business_name.filter(|s| !s.trim().is_empty()),
                },
            );
        }
        let mut ci_brokers = HashMap::new();
        for (key, b) in f.rows(
            "creditorInstitutionBrokers",
            raw.creditor_institution_brokers,
        ) {
            let e = Entry {
                map: "creditorInstitutionBrokers",
                key: &key,
            };
            let Some((code, enabled)) =
                f.code_and_enabled(&e, "broker_code", &b.broker_code, &b.enabled)
            else {
                continue;
            };
            ci_brokers.insert(key, CiBroker { code, enabled });
        }
        let mut stations = HashMap::new();
        for (key, s) in f.rows("stations", raw.stations) {
            let e = Entry {
                map: "stations",
                key: &key,
            };
            let Some((code, enabled)) =
                f.code_and_enabled(&e, "station_code", &s.station_code, &s.enabled)
            else {
                continue;
            };
            let Some(broker) = f.keep(&e, e.required("broker_code", &s.broker_code)) else {
                continue;
            };
            let connection = match e.connection("connection", &s.connection) {
                Ok(Some(c)) => Ok(c),
                Ok(None) => {
                    let p = problem("connection", "required, missing or null");
                    let why = p.problem.clone();
                    f.note(&e, p, Effect::Degraded(UNREACHABLE));
                    Err(format!("connection: {why}"))
                }
                Err(p) => {
                    let why = format!("{}: {}", p.field, p.problem);
                    f.note(&e, p, Effect::Degraded(UNREACHABLE));
                    Err(why)
                }
            };
            let connection_mod4 = f.or(
                &e,
                e.connection("connection_mod4", &s.connection_mod4),
                Effect::Degraded("connection_mod4 ignored, connection used"),
                None,
            );
            let proxy = match s.proxy {
                Some(p) if p.proxy_host.as_deref().is_some_and(|h| !h.is_empty()) => {
                    match port("proxy.proxy_port", p.proxy_port) {
                        Ok(port) => Ok(Some(Proxy {
                            host: p.proxy_host.unwrap_or_default(),
                            port,
                            username: p.proxy_username.filter(|u| !u.is_empty()),
                            password: p.proxy_password.filter(|u| !u.is_empty()).map(Secret::new),
                        })),
                        Err(p) => {
                            let why = format!("{}: {}", p.field, p.problem);
                            f.note(&e, p, Effect::Degraded(UNREACHABLE));
                            Err(why)
                        }
                    }
                }
                _ => Ok(None),
            };
            stations.insert(
                key,
                Station {
                    code,
                    enabled,
                    broker,
                    connection,
                    connection_mod4,
                    service_path: s.service.and_then(|x| x.path),
                    pof_path: s.service_pof.and_then(|x| x.path),
                    mod4_path: s.service_mod4.and_then(|x| x.path),
                    proxy,
                    version: s.version.unwrap_or(2),
                    primitive_version: s.primitive_version.unwrap_or(1),
                },
            );
        }
        let mut station_cis = HashMap::new();
        for (key, s) in f.rows(
            "creditorInstitutionStations",
            raw.creditor_institution_stations,
        ) {
            let e = Entry {
                map: "creditorInstitutionStations",
                key: &key,
            };
            let pair = e
                .required("creditor_institution_code", &s.creditor_institution_code)
                .and_then(|ci| Ok((ci, e.required("station_code", &s.station_code)?)));
            let Some((ci, station)) = f.keep(&e, pair) else {
                continue;
            };
            let mod4 = f.or(
                &e,
                e.required("mod4", &s.mod4),
                Effect::Degraded("not enabled for model 4"),
                false,
            );
            let entry = StationCi {
                ci: ci.clone(),
                station: station.clone(),
                mod4,
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
        let mut model4_stations: HashMap<String, Vec<String>> = HashMap::new();
        for a in station_cis.values().filter(|a| a.mod4) {
            model4_stations
                .entry(a.ci.clone())
                .or_default()
                .push(a.station.clone());
        }
        for codes in model4_stations.values_mut() {
            codes.sort();
        }
        let mut services = HashMap::new();
        // Document order, and the services the catalog cannot carry.
        let mut service_order = Vec::new();
        let mut unlisted = HashSet::new();
        for (key, s) in f.rows("cdsServices", raw.cds_services) {
            let e = Entry {
                map: "cdsServices",
                key: &key,
            };
            let id = e
                .code("id", &s.id)
                .and_then(|id| check_len("id", &id, 5, 5).map(|()| id));
            let Some(id) = f.keep(&e, id) else { continue };
            let Some(version) = f.keep(&e, e.required("version", &s.version)) else {
                continue;
            };
            // The service data are checked against this schema: without it, no request can be.
            let Some(reference_xsd) = f.keep(&e, e.text("reference_xsd", &s.reference_xsd, 1, 35))
            else {
                continue;
            };
            let description = f.or(
                &e,
                e.text("description", &s.description, 1, 70).map(Some),
                Effect::Unlisted,
                None,
            );
            let category = s.category.filter(|c| !c.is_empty());
            let category = match category {
                Some(c) => match check_len("category", &c, 1, 35) {
                    Ok(()) => Some(c),
                    Err(p) => {
                        f.note(&e, p, Effect::Unlisted);
                        unlisted.insert(id.clone());
                        None
                    }
                },
                None => None,
            };
            if description.is_none() {
                unlisted.insert(id.clone());
            }
            service_order.push(key.clone());
            services.insert(
                key,
                Service {
                    id,
                    description,
                    reference_xsd,
                    version,
                    category,
                },
            );
        }
        let mut ec_names: HashMap<String, String> = HashMap::new();
        for (key, s) in f.rows("cdsSubjects", raw.cds_subjects) {
            let e = Entry {
                map: "cdsSubjects",
                key: &key,
            };
            let Some(code) = f.keep(
                &e,
                e.code("creditor_institution_code", &s.creditor_institution_code),
            ) else {
                continue;
            };
            if let Some(d) = s.creditor_institution_description.filter(|d| !d.is_empty()) {
                if let Err(p) = check_len("creditor_institution_description", &d, 1, 70) {
                    f.note(
                        &e,
                        p,
                        Effect::Degraded("cut to 70 characters in the catalog"),
                    );
                }
                ec_names.insert(code, truncate_chars(&d, 70));
            }
        }
        let mut subject_services = HashMap::new();
        let mut association_order = Vec::new();
        for (key, s) in f.rows("cdsSubjectServices", raw.cds_subject_services) {
            let e = Entry {
                map: "cdsSubjectServices",
                key: &key,
            };
            let id = e
                .code("subject_service_id", &s.subject_service_id)
                .and_then(|id| check_len("subject_service_id", &id, 5, 5).map(|()| id));
            let Some(id) = f.keep(&e, id) else { continue };
            let Some(subject) = f.keep(&e, e.text("subject", &s.subject, 1, 35)) else {
                continue;
            };
            let Some(service) = f.keep(&e, e.required("service", &s.service)) else {
                continue;
            };
            let start = e
                .timestamp("start_date", &s.start_date)
                .and_then(|t| t.ok_or_else(|| problem("start_date", "required, missing or null")));
            let end = e.timestamp("end_date", &s.end_date);
            // Without a readable validity the association is never active (the Node compares
            // dates it does not have as false).
            let (start, end) = match (start, end) {
                (Ok(start), Ok(end)) => (Some(start), end),
                (Err(p), _) | (_, Err(p)) => {
                    f.note(&e, p, Effect::Degraded(NEVER_ACTIVE));
                    (None, None)
                }
            };
            let fee = f.or(
                &e,
                e.required("fee", &s.fee).map(Some),
                Effect::Unlisted,
                None,
            );
            association_order.push(key.clone());
            subject_services.insert(
                key,
                SubjectService {
                    id,
                    subject,
                    service,
                    start,
                    end,
                    fee,
                    station: s.station_code.filter(|c| !c.is_empty()),
                    description: s.service_description.filter(|c| !c.is_empty()),
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
        for (key, i) in f.rows("ibans", raw.ibans) {
            let e = Entry {
                map: "ibans",
                key: &key,
            };
            let row = e.required("iban", &i.iban).and_then(|iban| {
                let ci = e.required("creditor_institution_code", &i.creditor_institution_code)?;
                let valid_from = e.timestamp("validity_date", &i.validity_date)?;
                Ok((ci, Iban { iban, valid_from }))
            });
            if let Some((ci, iban)) = f.keep(&e, row) {
                ibans.entry(ci).or_default().push(iban);
            }
        }
        for list in ibans.values_mut() {
            list.sort_by(|a, b| a.iban.cmp(&b.iban));
        }
        for (code, ci) in &creditor_institutions {
            if let Some(name) = &ci.business_name {
                ec_names.entry(code.clone()).or_insert_with(|| name.clone());
            }
        }
        let mut sorted_services: Vec<&String> = services.keys().collect();
        sorted_services.sort();
        let v1_services: Vec<&String> = service_order
            .iter()
            .filter(|k| services.get(*k).is_some_and(|s| s.version == 1))
            .collect();
        let catalog = Catalog::project(
            &Sources {
                services: &services,
                ec_names: &ec_names,
                unlisted: &unlisted,
            },
            sorted_services,
            subject_services.values(),
            v1_services,
            association_order
                .iter()
                .filter_map(|k| subject_services.get(k)),
        );
        Snapshot {
            version: raw.version.unwrap_or_default(),
            psps,
            psp_brokers,
            channels,
            psp_channels,
            creditor_institutions,
            ci_brokers,
            stations,
            station_cis,
            model4_stations,
            services,
            subject_services,
            associations,
            ibans,
            ec_names,
            catalog,
            findings: f.0,
        }
    }
}
