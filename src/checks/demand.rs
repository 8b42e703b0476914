//! The demandPaymentNotice chain after the caller (interfaces.md §6.3 steps 7–13).

use super::CheckError;
use crate::registry::{Service, Snapshot, Station};

/// Proof that a demand may go to its station, with everything the call needs.
#[derive(Debug, Clone)]
pub struct DemandPermit {
    subject_service_id: String,
    ec_domain: String,
    service: Service,
    station: Station,
}

impl DemandPermit {
    pub fn subject_service_id(&self) -> &str {
        &self.subject_service_id
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
}

/// Service version served by `demandPaymentNotice`.
pub const DEMAND_SERVICE_VERSION: i64 = 2;

/// Subject service → validity → version → EC → station (model 4, enabled) → EC broker.
pub fn check_demand(
    snap: &Snapshot,
    subject_service_id: &str,
    now: i64,
) -> Result<DemandPermit, CheckError> {
    let ss = snap
        .subject_services
        .get(subject_service_id)
        .ok_or_else(|| CheckError::SubjectServiceUnknown(subject_service_id.to_owned()))?;
    let service = snap
        .services
        .get(&ss.service)
        .ok_or_else(|| CheckError::ServiceUnknown {
            subject_service: ss.id.clone(),
            service: ss.service.clone(),
        })?;
    if !ss.active_at(now) {
        return Err(CheckError::ServiceNotActive(ss.id.clone()));
    }
    if service.version != DEMAND_SERVICE_VERSION {
        return Err(CheckError::ServiceVersion {
            service: service.id.clone(),
            version: service.version,
            expected: DEMAND_SERVICE_VERSION,
        });
    }
    let ci = snap
        .creditor_institutions
        .get(&ss.subject)
        .ok_or_else(|| CheckError::DomainUnknown(ss.subject.clone()))?;
    if !ci.enabled {
        return Err(CheckError::DomainDisabled(ss.subject.clone()));
    }
    let station_code = ss
        .station
        .as_ref()
        .ok_or_else(|| CheckError::NoStation(ss.id.clone()))?;
    let station = snap
        .stations
        .get(station_code)
        .ok_or_else(|| CheckError::StationUnknown(station_code.clone()))?;
    let mod4 = snap
        .station_cis
        .get(&(ss.subject.clone(), station_code.clone()))
        .is_some_and(|a| a.mod4);
    if !mod4 {
        return Err(CheckError::StationNotMod4 {
            station: station_code.clone(),
            ci: ss.subject.clone(),
        });
    }
    if !station.enabled {
        return Err(CheckError::StationDisabled(station_code.clone()));
    }
    let broker = snap
        .ci_brokers
        .get(&station.broker)
        .ok_or_else(|| CheckError::BrokerPaUnknown(station.broker.clone()))?;
    if !broker.enabled {
        return Err(CheckError::BrokerPaDisabled(station.broker.clone()));
    }
    Ok(DemandPermit {
        subject_service_id: ss.id.clone(),
        ec_domain: ss.subject.clone(),
        service: service.clone(),
        station: station.clone(),
    })
}
