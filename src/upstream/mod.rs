//! Upstream stage: calls to EC stations, and how their failures are classified.

pub mod bridge;
pub mod client;
pub mod exchange;
pub mod failure;
pub mod pa_chiedi;
pub mod pa_demand;

use std::time::Duration;

use http::Uri;

pub use client::{ClientSetupError, EcClients};
pub use exchange::CallContext;
pub use failure::{FailureKind, TlsFailure, TransportFailure};
pub use pa_chiedi::{LegacyAnswer, LegacyNotice};
pub use pa_demand::{EcAnswer, Notice};

use crate::soap::{self, ShapeError};
use crate::xsd;

use crate::registry::{Protocol, Station};
use crate::settings::StationService;

/// Why a station has no usable endpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointProblem {
    /// The registry entry could not give one (its finding says why).
    #[error("{0}")]
    Registry(String),
    /// The path of the service the gateway uses (`service_pof.path`, …) is not set.
    #[error("{0} is not set")]
    PathNotSet(&'static str),
    /// The parts do not make a URL.
    #[error("invalid URL {0}")]
    InvalidUrl(String),
}

/// A defect of a well-delivered EC answer (interfaces.md §6.6).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerDefect {
    #[error("not readable XML: {0}")]
    NotXml(soap::XmlError),
    #[error("not readable text: {0}")]
    Charset(soap::CharsetError),
    #[error("{0}")]
    Shape(ShapeError),
    #[error("schema violation {0}")]
    Schema(xsd::Invalid),
    #[error("outcome OK with a fault")]
    OkWithFault,
    #[error("outcome KO without a fault")]
    KoWithoutFault,
    #[error("outcome OK without {0}")]
    OkMissing(&'static str),
    #[error("outcome {0:?} is neither OK nor KO")]
    UnknownOutcome(String),
}

/// The EC's own fault bean, as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcFault {
    pub code: String,
    pub string: String,
    pub id: String,
    pub description: Option<String>,
}

/// Reads a `fault` element (SANP 3 `ctFaultBean` or legacy `ctFaultBean`, same leading fields).
pub fn ec_fault(f: &crate::soap::Element) -> EcFault {
    EcFault {
        code: f.child_text("faultCode").unwrap_or_default().to_owned(),
        string: f.child_text("faultString").unwrap_or_default().to_owned(),
        id: f.child_text("id").unwrap_or_default().to_owned(),
        description: f.child_text("description").map(str::to_owned),
    }
}

/// Why a station call produced no usable answer. Each variant is one of the Node's three
/// station outcomes: unreachable, timeout, bad answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamError {
    #[error("station {station} has no endpoint: {problem}")]
    NoEndpoint {
        station: String,
        problem: EndpointProblem,
    },
    #[error("cannot reach {url}: {failure}")]
    Unreachable {
        url: String,
        failure: TransportFailure,
    },
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("HTTP status {0}")]
    HttpStatus(u16),
    #[error("SOAP Fault {code}: {string}")]
    SoapFault { code: String, string: String },
    #[error("answer larger than {0} bytes")]
    TooLarge(usize),
    #[error("invalid answer: {0}")]
    BadAnswer(AnswerDefect),
    #[error("answer cannot be translated: {0}")]
    Untranslatable(bridge::Untranslatable),
}

/// `{protocol}://{host}:{port}{path}` from the station's registry entry and the chosen service.
pub fn station_url(station: &Station, which: StationService) -> Result<Uri, UpstreamError> {
    let (connection, path, field) = match which {
        StationService::ServicePof => (
            station.connection.as_ref(),
            &station.pof_path,
            "service_pof.path",
        ),
        StationService::Service => (
            station.connection.as_ref(),
            &station.service_path,
            "service.path",
        ),
        StationService::ServiceMod4 => (
            match &station.connection_mod4 {
                Some(c) => Ok(c),
                None => station.connection.as_ref(),
            },
            &station.mod4_path,
            "service_mod4.path",
        ),
    };
    let no_endpoint = |problem: EndpointProblem| UpstreamError::NoEndpoint {
        station: station.code.clone(),
        problem,
    };
    // The registry entry could not give an endpoint (see the registry's findings).
    let connection =
        connection.map_err(|why| no_endpoint(EndpointProblem::Registry(why.clone())))?;
    if let Err(why) = &station.proxy {
        return Err(no_endpoint(EndpointProblem::Registry(why.clone())));
    }
    let path = path
        .as_deref()
        .filter(|p| !p.trim().is_empty())
        .ok_or_else(|| no_endpoint(EndpointProblem::PathNotSet(field)))?;
    let scheme = match connection.protocol {
        Protocol::Http => "http",
        Protocol::Https => "https",
    };
    let host = if connection.host.contains(':') && !connection.host.starts_with('[') {
        format!("[{}]", connection.host)
    } else {
        connection.host.clone()
    };
    let slash = if path.starts_with('/') { "" } else { "/" };
    let url = format!("{scheme}://{host}:{}{slash}{path}", connection.port);
    url.parse::<Uri>()
        .map_err(|_| no_endpoint(EndpointProblem::InvalidUrl(url.clone())))
}
