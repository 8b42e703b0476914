//! The registry beside the pipeline: the Node's configuration (ConfigDataV1) as immutable snapshots.

mod build;
mod entry;
mod load;
mod raw;
mod snapshot;
pub mod time;

pub use load::{load_bytes, load_file, Encoding, LoadError};
pub(crate) use snapshot::truncate_chars;
pub use snapshot::{
    Channel, CiBroker, Connection, CreditorInstitution, Effect, Finding, Iban, Protocol, Proxy,
    Psp, PspBroker, Service, Snapshot, Station, StationCi, SubjectService,
};
