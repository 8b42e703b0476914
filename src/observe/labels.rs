//! Fixed label values for the counters: one name per class of refusal or failure, so the
//! metrics' cardinality stays bounded whatever the requests carry.

use crate::error::RouterError;
use crate::pipeline::OverloadError;
use crate::soap::CharsetError;
use crate::upstream::UpstreamError;

/// A router refusal's class.
pub fn router(e: &RouterError) -> &'static str {
    match e {
        RouterError::Unreadable(e) => e.class(),
        RouterError::Charset(CharsetError::Undecodable(_)) => "charset",
        RouterError::Charset(CharsetError::Unsupported(_)) => "unsupported_charset",
        RouterError::Charset(CharsetError::Mismatch { .. }) => "charset_mismatch",
        RouterError::NoOperation => "no_operation",
        RouterError::UnknownAction(_) => "unknown_action",
        RouterError::TooLarge(_) => "too_large",
        RouterError::BodyRead(_) => "body_read",
        RouterError::BodyTimeout => "body_timeout",
        RouterError::MethodNotAllowed { .. } => "method_not_allowed",
    }
}

/// Why a request was shed.
pub fn overload(e: &OverloadError) -> &'static str {
    match e {
        OverloadError::InFlight { .. } => "in_flight",
        OverloadError::PspRate { .. } => "psp_rate",
        OverloadError::StationBusy { .. } => "station_busy",
    }
}

/// A station call's failure class.
pub fn upstream(e: &UpstreamError) -> &'static str {
    match e {
        UpstreamError::NoEndpoint { .. } => "no_endpoint",
        UpstreamError::Unreachable { .. } => "unreachable",
        UpstreamError::Timeout(_) => "timeout",
        UpstreamError::HttpStatus(_) => "http_status",
        UpstreamError::SoapFault { .. } => "soap_fault",
        UpstreamError::TooLarge(_) => "too_large",
        UpstreamError::BadAnswer(_) => "bad_answer",
        UpstreamError::Untranslatable(_) => "untranslatable",
    }
}
