//! The service/EC/station chain after the caller, for `demandPaymentNotice` (interfaces.md §6.3
//! steps 7–13) and the legacy `nodoChiediNumeroAvviso` (§6.5), with opt-in version bridging.

use std::collections::BTreeSet;

use super::CheckError;
use crate::registry::{Service, Snapshot, Station, SubjectService};

/// Which primitive the station is called with: decided by the service's version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Primitive {
    /// `paDemandPaymentNotice` (services of version 2).
    PaDemandPaymentNotice,
    /// `paaChiediNumeroAvviso` (services of version 1).
    PaaChiediNumeroAvviso,
}

impl Primitive {
    fn of_version(version: i64) -> Option<Self> {
        match version {
            2 => Some(Primitive::PaDemandPaymentNotice),
            1 => Some(Primitive::PaaChiediNumeroAvviso),
            _ => None,
        }
    }
}

/// Proof that a notice request may go to its station, with everything the call needs.
#[derive(Debug, Clone)]
pub struct NoticePermit {
    /// The association the request came through; a legacy request may have none.
    subject_service_id: Option<String>,
    ec_domain: String,
    service: Service,
    station: Station,
    primitive: Primitive,
}

impl NoticePermit {
    pub fn subject_service_id(&self) -> Option<&str> {
        self.subject_service_id.as_deref()
    }

    /// The EC's fiscal code (`idPA`), also the `id` of the EC's faults.
    pub fn ec_domain(&self) -> &str {
        &self.ec_domain
    }

    pub fn service(&self) -> &Service {
        &self.service
    }

    pub fn station(&self) -> &Station {
        &self.station
    }

    pub fn primitive(&self) -> Primitive {
        self.primitive
    }
}

/// The primitive to use for `service` when the operation expects `expected`: the Node's own
/// choice, or the other one when the association's station is bridged; else a version fault.
fn primitive_for(
    service: &Service,
    expected: Primitive,
    station: Option<&String>,
    bridging: &BTreeSet<String>,
) -> Result<Primitive, CheckError> {
    let wrong_version = || CheckError::ServiceVersion {
        service: service.id.clone(),
        version: service.version,
    };
    match Primitive::of_version(service.version) {
        Some(p) if p == expected => Ok(p),
        Some(p) if station.is_some_and(|s| bridging.contains(s)) => Ok(p),
        Some(_) | None => Err(wrong_version()),
    }
}

/// demandPaymentNotice: subject service → service → validity → version → EC → station chain.
pub fn check_demand(
    snap: &Snapshot,
    subject_service_id: &str,
    now: i64,
    bridging: &BTreeSet<String>,
) -> Result<NoticePermit, CheckError> {
    let ss = snap
        .subject_services
        .get(subject_service_id)
        .ok_or_else(|| CheckError::SubjectServiceUnknown(subject_service_id.to_owned()))?;
    let service = snap
        .services
        .get(&ss.service)
        .ok_or_else(|| CheckError::ServiceUnknown(ss.service.clone()))?;
    if !ss.active_at(now) {
        return Err(CheckError::ServiceNotActive(ss.id.clone()));
    }
    let primitive = primitive_for(
        service,
        Primitive::PaDemandPaymentNotice,
        ss.station.as_ref(),
        bridging,
    )?;
    check_domain_enabled(snap, &ss.subject)?;
    permit(snap, ss, service, primitive)
}

/// nodoChiediNumeroAvviso: service → version → EC → station chain (interfaces.md §6.5). No
/// (EC, service) association is needed: the Node's own scenarios reach the EC's station without
/// one. The station is the association's when one names it (the active one, else the first by
/// id), else the EC's model-4 station ([`model4_station`]). A bridged SANP 3 service needs its
/// association, active, as a demand does.
pub fn check_numero_avviso(
    snap: &Snapshot,
    service_id: &str,
    domain: &str,
    now: i64,
    bridging: &BTreeSet<String>,
) -> Result<NoticePermit, CheckError> {
    let service = snap
        .services
        .get(service_id)
        .ok_or_else(|| CheckError::ServiceUnknown(service_id.to_owned()))?;
    let candidates: Vec<&SubjectService> = snap
        .associations
        .get(&(domain.to_owned(), service_id.to_owned()))
        .map(|ids| {
            ids.iter()
                .filter_map(|id| snap.subject_services.get(id))
                .collect()
        })
        .unwrap_or_default();
    let association = candidates
        .iter()
        .find(|ss| ss.active_at(now))
        .or(candidates.first())
        .copied();
    let primitive = primitive_for(
        service,
        Primitive::PaaChiediNumeroAvviso,
        association.and_then(|ss| ss.station.as_ref()),
        bridging,
    )?;
    check_domain_enabled(snap, domain)?;
    match (primitive, association) {
        (Primitive::PaDemandPaymentNotice, Some(ss)) => {
            if !ss.active_at(now) {
                return Err(CheckError::ServiceNotActive(ss.id.clone()));
            }
            permit(snap, ss, service, primitive)
        }
        (Primitive::PaDemandPaymentNotice, None) => Err(CheckError::ServiceVersion {
            service: service.id.clone(),
            version: service.version,
        }),
        (Primitive::PaaChiediNumeroAvviso, _) => {
            let station_code = association
                .and_then(|ss| ss.station.clone())
                .or_else(|| model4_station(snap, domain))
                .ok_or_else(|| CheckError::NoModel4Station(domain.to_owned()))?;
            let station = station_chain(snap, domain, &station_code)?;
            Ok(NoticePermit {
                subject_service_id: association.map(|ss| ss.id.clone()),
                ec_domain: domain.to_owned(),
                service: service.clone(),
                station: station.clone(),
                primitive,
            })
        }
    }
}

/// The EC's station for a legacy request without an association naming one: of the stations
/// the EC has enabled for model 4 (`creditorInstitutionStations` with `mod4`), the first by
/// `station_code` that is known and enabled, else the first by `station_code` (which then fails
/// its own check). A rule of the registry's content alone, so every replica picks the same.
pub fn model4_station(snap: &Snapshot, domain: &str) -> Option<String> {
    let codes = snap.model4_stations.get(domain)?;
    codes
        .iter()
        .find(|code| snap.stations.get(*code).is_some_and(|s| s.enabled))
        .or(codes.first())
        .cloned()
}

/// The last checks of both chains (the association's station and EC broker), then the permit.
fn permit(
    snap: &Snapshot,
    ss: &SubjectService,
    service: &Service,
    primitive: Primitive,
) -> Result<NoticePermit, CheckError> {
    let station_code = ss
        .station
        .as_ref()
        .ok_or_else(|| CheckError::NoStation(ss.id.clone()))?;
    let station = station_chain(snap, &ss.subject, station_code)?;
    Ok(NoticePermit {
        subject_service_id: Some(ss.id.clone()),
        ec_domain: ss.subject.clone(),
        service: service.clone(),
        station: station.clone(),
        primitive,
    })
}

fn check_domain_enabled(snap: &Snapshot, domain: &str) -> Result<(), CheckError> {
    let ci = snap
        .creditor_institutions
        .get(domain)
        .ok_or_else(|| CheckError::DomainUnknown(domain.to_owned()))?;
    if !ci.enabled {
        return Err(CheckError::DomainDisabled(domain.to_owned()));
    }
    Ok(())
}

/// The station for EC `ci`: known, enabled for model 4 with the EC, enabled; then its EC broker
/// known and enabled (the disabled broker is found after the station, SEM_DPNR_15).
fn station_chain<'s>(
    snap: &'s Snapshot,
    ci: &str,
    station_code: &str,
) -> Result<&'s Station, CheckError> {
    let station = snap
        .stations
        .get(station_code)
        .ok_or_else(|| CheckError::StationUnknown(station_code.to_owned()))?;
    let mod4 = snap
        .station_cis
        .get(&(ci.to_owned(), station_code.to_owned()))
        .is_some_and(|a| a.mod4);
    if !mod4 {
        return Err(CheckError::StationNotMod4 {
            station: station_code.to_owned(),
            ci: ci.to_owned(),
        });
    }
    if !station.enabled {
        return Err(CheckError::StationDisabled(station_code.to_owned()));
    }
    let broker = snap
        .ci_brokers
        .get(&station.broker)
        .ok_or_else(|| CheckError::BrokerPaUnknown(station.broker.clone()))?;
    if !broker.enabled {
        return Err(CheckError::BrokerPaDisabled(station.broker.clone()));
    }
    Ok(station)
}
