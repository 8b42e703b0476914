//! SOAP envelope stage: read request bytes into an element tree and locate the payload.

pub mod charset;
mod declaration;
pub mod envelope;
pub mod fault;
mod plain;
pub mod tree;
pub mod write;

pub use charset::CharsetError;
pub use envelope::{Envelope, ShapeError, SOAP11_NS};
pub use fault::SoapFault;
pub use tree::{Element, Limits, XmlError};
