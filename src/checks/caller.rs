//! Caller checks shared by every PSP operation (interfaces.md §6.3 steps 1–6, §6.4 steps 1–6).

use super::CheckError;
use crate::message::Caller;
use crate::registry::Snapshot;

/// Proof that the caller passed the identity checks, with the broker's fault-bean preference.
#[derive(Debug, Clone)]
pub struct CallerPermit {
    extended_fault_bean: bool,
}

impl CallerPermit {
    pub fn extended_fault_bean(&self) -> bool {
        self.extended_fault_bean
    }
}

/// PSP → broker → channel → password → channel's broker → PSP/channel association, in the
/// Node's order (`checkPspIntermediarioPspCanale`).
pub fn check_caller(snap: &Snapshot, c: &Caller) -> Result<CallerPermit, CheckError> {
    let psp = snap
        .psps
        .get(&c.psp)
        .ok_or_else(|| CheckError::PspUnknown(c.psp.clone()))?;
    if !psp.enabled {
        return Err(CheckError::PspDisabled(c.psp.clone()));
    }
    let broker = snap
        .psp_brokers
        .get(&c.broker)
        .ok_or_else(|| CheckError::BrokerPspUnknown(c.broker.clone()))?;
    if !broker.enabled {
        return Err(CheckError::BrokerPspDisabled(c.broker.clone()));
    }
    let channel = snap
        .channels
        .get(&c.channel)
        .ok_or_else(|| CheckError::ChannelUnknown(c.channel.clone()))?;
    if !channel.enabled {
        return Err(CheckError::ChannelDisabled(c.channel.clone()));
    }
    // A channel the registry gives no password cannot be authenticated by anyone.
    if !channel
        .password
        .as_ref()
        .is_some_and(|p| p.matches(c.password.expose()))
    {
        return Err(CheckError::WrongPassword(c.channel.clone()));
    }
    if channel.broker.as_ref() != Some(&c.broker) {
        return Err(CheckError::ChannelNotOfBroker {
            channel: c.channel.clone(),
            broker: c.broker.clone(),
        });
    }
    if !snap
        .psp_channels
        .contains(&(c.psp.clone(), c.channel.clone()))
    {
        return Err(CheckError::PspChannelNotAssociated {
            psp: c.psp.clone(),
            channel: c.channel.clone(),
        });
    }
    Ok(CallerPermit {
        extended_fault_bean: broker.extended_fault_bean,
    })
}

/// The optional `identificativoDominio` of the catalog requests: known, then enabled.
pub fn check_domain(snap: &Snapshot, domain: Option<&str>) -> Result<(), CheckError> {
    let Some(d) = domain else { return Ok(()) };
    match snap.creditor_institutions.get(d) {
        None => Err(CheckError::DomainUnknown(d.to_owned())),
        Some(ci) if !ci.enabled => Err(CheckError::DomainDisabled(d.to_owned())),
        Some(_) => Ok(()),
    }
}
