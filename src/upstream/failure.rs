//! Why nothing usable came back from a station, classified from the HTTP client's error chain:
//! the gateway counts and logs the class, the probe turns it into a diagnosis a partner can act on.

use std::error::Error as StdError;
use std::fmt;
use std::io;

/// A transport failure: its class, and the client's own words for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportFailure {
    pub kind: FailureKind,
    /// Every message of the error chain, joined: what the libraries said, for operators.
    pub chain: String,
}

impl fmt::Display for TransportFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.chain)
    }
}

/// The classes of transport failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The client for the station's TLS profile or proxy could not be set up.
    Setup,
    /// The host name did not resolve.
    Dns,
    /// Nobody listens there (connection refused).
    Refused,
    /// The TCP connection was not established within the connect timeout.
    ConnectTimeout,
    /// The peer reset the connection.
    Reset,
    /// The connection closed before a whole answer arrived.
    Closed,
    /// The TLS handshake failed.
    Tls(TlsFailure),
    /// The outbound proxy refused or failed the CONNECT tunnel.
    Proxy,
    /// Anything else.
    Other,
}

/// The TLS handshake failures a station operator can fix, each with its own remedy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsFailure {
    /// The server's chain does not lead to a trusted root (a missing intermediate, or an
    /// unknown root).
    UnknownIssuer,
    /// The server's certificate has expired.
    Expired,
    /// The server's certificate is not valid yet.
    NotYetValid,
    /// The server's certificate does not name the host the gateway called.
    WrongName,
    /// The server's certificate is revoked.
    Revoked,
    /// The server's certificate is unusable for another reason.
    BadCertificate,
    /// The server refused our client certificate (or wanted one and got none).
    ClientCertificateRefused,
    /// No protocol version or cipher suite in common, or another handshake alert.
    Handshake,
    /// The handshake broke for another reason.
    Other,
}

impl TransportFailure {
    /// Classifies an error chain (hyper, hyper-util, rustls, io) by the first cause that names
    /// a class.
    pub fn classify(e: &(dyn StdError + 'static)) -> Self {
        let mut kind = None;
        let mut cur: Option<&(dyn StdError + 'static)> = Some(e);
        while let Some(c) = cur {
            if let Some(k) = kind_of(c) {
                kind = Some(k);
                break;
            }
            cur = c.source();
        }
        Self {
            kind: kind.unwrap_or(FailureKind::Other),
            chain: error_chain(e),
        }
    }

    /// A failure before any connection: setting up the client.
    pub fn setup(message: String) -> Self {
        Self {
            kind: FailureKind::Setup,
            chain: message,
        }
    }
}

fn kind_of(e: &(dyn StdError + 'static)) -> Option<FailureKind> {
    if let Some(t) = e.downcast_ref::<rustls::Error>() {
        return Some(FailureKind::Tls(tls_failure(t)));
    }
    if let Some(io) = e.downcast_ref::<io::Error>() {
        // tokio-rustls reports handshake errors as io errors wrapping the rustls error.
        if let Some(t) = io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
            return Some(FailureKind::Tls(tls_failure(t)));
        }
        return match io.kind() {
            io::ErrorKind::ConnectionRefused => Some(FailureKind::Refused),
            io::ErrorKind::TimedOut => Some(FailureKind::ConnectTimeout),
            io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted => {
                Some(FailureKind::Reset)
            }
            io::ErrorKind::UnexpectedEof | io::ErrorKind::BrokenPipe => Some(FailureKind::Closed),
            _ => None,
        };
    }
    if let Some(h) = e.downcast_ref::<hyper::Error>() {
        if h.is_incomplete_message() || h.is_canceled() {
            return Some(FailureKind::Closed);
        }
    }
    // hyper-util's connector errors carry no type to match on; their messages are fixed.
    let text = e.to_string();
    if text.starts_with("dns error") {
        return Some(FailureKind::Dns);
    }
    if text.contains("tcp connect error") && text.contains("timed out") {
        return Some(FailureKind::ConnectTimeout);
    }
    if text.contains("tunnel") || text.contains("proxy") {
        return Some(FailureKind::Proxy);
    }
    None
}

/// The class of a server certificate refused by the verifier.
pub fn classify_certificate_error(c: &rustls::CertificateError) -> TlsFailure {
    use rustls::CertificateError as C;
    match c {
        C::UnknownIssuer => TlsFailure::UnknownIssuer,
        C::Expired | C::ExpiredContext { .. } => TlsFailure::Expired,
        C::NotValidYet | C::NotValidYetContext { .. } => TlsFailure::NotYetValid,
        C::NotValidForName | C::NotValidForNameContext { .. } => TlsFailure::WrongName,
        C::Revoked => TlsFailure::Revoked,
        _ => TlsFailure::BadCertificate,
    }
}

fn tls_failure(e: &rustls::Error) -> TlsFailure {
    use rustls::AlertDescription as A;
    match e {
        rustls::Error::InvalidCertificate(c) => classify_certificate_error(c),
        rustls::Error::AlertReceived(a) => match *a {
            A::BadCertificate
            | A::CertificateRequired
            | A::UnknownCA
            | A::CertificateUnknown
            | A::CertificateRevoked
            | A::CertificateExpired
            | A::AccessDenied
            | A::UnsupportedCertificate => TlsFailure::ClientCertificateRefused,
            _ => TlsFailure::Handshake,
        },
        rustls::Error::PeerIncompatible(_) | rustls::Error::PeerMisbehaved(_) => {
            TlsFailure::Handshake
        }
        _ => TlsFailure::Other,
    }
}

/// Every message of an error chain, each once.
fn error_chain(e: &(dyn StdError + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let m = c.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_and_tls_causes_are_classified_through_the_chain() {
        let refused = io::Error::new(io::ErrorKind::ConnectionRefused, "refused");
        assert_eq!(
            TransportFailure::classify(&refused).kind,
            FailureKind::Refused
        );
        let tls = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        );
        assert_eq!(
            TransportFailure::classify(&tls).kind,
            FailureKind::Tls(TlsFailure::UnknownIssuer)
        );
        let alert = rustls::Error::AlertReceived(rustls::AlertDescription::CertificateRequired);
        assert_eq!(
            TransportFailure::classify(&alert).kind,
            FailureKind::Tls(TlsFailure::ClientCertificateRefused)
        );
        let other = io::Error::other("something");
        let f = TransportFailure::classify(&other);
        assert_eq!(
            (f.kind, f.chain.as_str()),
            (FailureKind::Other, "something")
        );
    }
}
