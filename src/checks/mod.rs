//! Checks stage: the Node's order of business checks over one registry snapshot.
//!
//! Each function returns either a permit carrying what later stages need, or the first failed
//! check. Permits have private fields: only this module can issue them.

mod binding;
mod caller;
mod demand;
mod service_data;

pub use binding::check_certificate;
pub use caller::{check_caller, check_domain, CallerPermit};
pub use demand::{check_demand, check_numero_avviso, NoticePermit, Primitive};
pub use service_data::{check_service_data, ServiceDataError, ServiceSchemaError, ServiceSchemas};

/// A failed business check, in the Node's terms. Every variant maps to one `PPT_*` code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    #[error("PSP {0} unknown")]
    PspUnknown(String),
    #[error("PSP {0} disabled")]
    PspDisabled(String),
    #[error("PSP broker {0} unknown")]
    BrokerPspUnknown(String),
    #[error("PSP broker {0} disabled")]
    BrokerPspDisabled(String),
    #[error("channel {0} unknown")]
    ChannelUnknown(String),
    #[error("channel {0} disabled")]
    ChannelDisabled(String),
    #[error("wrong password for channel {0}")]
    WrongPassword(String),
    #[error("channel {channel} does not belong to broker {broker}")]
    ChannelNotOfBroker { channel: String, broker: String },
    #[error("PSP {psp} is not associated with channel {channel}")]
    PspChannelNotAssociated { psp: String, channel: String },
    #[error("domain {0} unknown")]
    DomainUnknown(String),
    #[error("domain {0} disabled")]
    DomainDisabled(String),
    #[error("subject service {0} unknown")]
    SubjectServiceUnknown(String),
    #[error("service {0} unknown")]
    ServiceUnknown(String),
    #[error("subject service {0} not active now")]
    ServiceNotActive(String),
    #[error("service {service} has version {version}, not the operation's")]
    ServiceVersion { service: String, version: i64 },
    #[error("subject service {0} has no station")]
    NoStation(String),
    #[error("creditor institution {0} has no station enabled for model 4")]
    NoModel4Station(String),
    #[error("station {0} unknown")]
    StationUnknown(String),
    #[error("station {station} not enabled to model 4 for {ci}")]
    StationNotMod4 { station: String, ci: String },
    #[error("station {0} disabled")]
    StationDisabled(String),
    #[error("EC broker {0} unknown")]
    BrokerPaUnknown(String),
    #[error("EC broker {0} disabled")]
    BrokerPaDisabled(String),
    #[error("the client certificate is not bound to broker {broker}")]
    CertificateNotBound { broker: String },
}
