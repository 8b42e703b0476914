//! Every way a request can fail, with typed causes from the stage that found them: the
//! business failures that end in the operation's KO document and the router's own refusals.
//!
//! The `Display` texts here are for logs only; what goes on the wire is decided in
//! `respond::fault`, so rewording a log line never changes an answer.

use crate::checks::{CheckError, ServiceDataError};
use crate::message::MissingField;
use crate::pipeline::OverloadError;
use crate::soap::{CharsetError, ShapeError, XmlError};
use crate::upstream::{EcFault, UpstreamError};
use crate::xsd;

/// A syntax problem of a PSP request (all of them are the Node's `PPT_SINTASSI_EXTRAXSD`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyntaxError {
    #[error("{0}")]
    Shape(ShapeError),
    #[error("{0}")]
    Schema(xsd::Invalid),
    #[error("{0}")]
    Missing(MissingField),
    /// A base64 field that is empty (or blank): the Node's schema refuses it, libxml2's accepts it.
    #[error("{0} is empty")]
    EmptyBase64(&'static str),
}

/// Every way a business operation can end in KO.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    #[error("syntax: {0}")]
    Syntax(SyntaxError),
    #[error("check: {0}")]
    Check(CheckError),
    #[error("service data: {0}")]
    ServiceData(ServiceDataError),
    #[error("station {station}: {error}")]
    Upstream {
        station: String,
        error: UpstreamError,
    },
    #[error("EC {ec_domain} answered KO {}", .fault.code)]
    Ec { ec_domain: String, fault: EcFault },
    #[error("overload: {0}")]
    Overload(OverloadError),
}

/// Failures of the router itself, before any operation runs (interfaces.md §7.2–7.3).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouterError {
    #[error("unreadable XML: {0}")]
    Unreadable(XmlError),
    #[error("{0}")]
    Charset(CharsetError),
    #[error("no operation in SOAPAction or Body")]
    NoOperation,
    #[error("unknown SOAPAction {0:?}")]
    UnknownAction(String),
    #[error("body larger than {0} bytes")]
    TooLarge(usize),
    #[error("cannot read the request body: {0}")]
    BodyRead(String),
    #[error("request body not received in time")]
    BodyTimeout,
    /// A method other than POST (or GET/HEAD of a published contract); `allow` is what the target
    /// accepts, for the `Allow` header.
    #[error("method {method} not allowed (allowed: {allow})")]
    MethodNotAllowed { method: String, allow: &'static str },
}
