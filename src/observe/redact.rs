//! What of a failure may be logged: the citizen's service data, and validator messages that
//! quote them or a password, never reach the logs.

use crate::checks::ServiceDataError;
use crate::error::{Failure, SyntaxError};

/// The failure as it may be logged.
pub fn failure(failure: &Failure) -> String {
    match failure {
        Failure::ServiceData(ServiceDataError::Invalid { xsd, .. }) => {
            format!("service data: datiSpecificiServizio does not match {xsd}")
        }
        Failure::ServiceData(ServiceDataError::NotXml(e)) => {
            format!(
                "service data: datiSpecificiServizio is not readable XML ({})",
                e.class()
            )
        }
        // Validator messages quote the offending value: not for passwords and service data.
        Failure::Syntax(SyntaxError::Schema(invalid)) => match &invalid.first().path {
            Some(path)
                if path.ends_with("/password") || path.ends_with("/datiSpecificiServizio") =>
            {
                format!("syntax: schema violation at [{path}] (value not logged)")
            }
            Some(_) | None => failure.to_string(),
        },
        Failure::ServiceData(
            ServiceDataError::NotBase64(_)
            | ServiceDataError::NotUtf8
            | ServiceDataError::NoSchema(_),
        )
        | Failure::Syntax(
            SyntaxError::Shape(_) | SyntaxError::Missing(_) | SyntaxError::EmptyBase64(_),
        )
        | Failure::Check(_)
        | Failure::Upstream { .. }
        | Failure::Ec { .. }
        | Failure::Overload(_) => failure.to_string(),
    }
}
