//! The station's certificate, judged check by check: chain (naming the missing intermediate or
//! the unknown root), host name, expiry.

use rustls::pki_types::{ServerName, UnixTime};
use x509_parser::prelude::{FromDer, X509Certificate, X509Name};

use super::connect::{Endpoint, Seen};
use super::report::{Check, Verdict};
use crate::upstream::TlsFailure;

const G: &str = "connectivity";

/// Warn when the server certificate expires within this many days.
pub const EXPIRY_WARN_DAYS: i64 = 30;

pub(super) fn certificate_checks(
    ep: &Endpoint<'_>,
    name: &ServerName<'_>,
    seen: &Seen,
    checks: &mut Vec<Check>,
) {
    let Some(leaf_der) = seen.chain.first() else {
        checks
            .push(Check::new(G, "tls.server_chain", Verdict::Skip).msg("no certificate received"));
        return;
    };
    let Ok((_, leaf)) = X509Certificate::from_der(leaf_der) else {
        checks.push(Check::fail(
            G,
            "tls.server_chain",
            "the station's certificate is not readable X.509",
            "install a valid PEM/DER certificate on the station",
        ));
        return;
    };
    let subject = leaf.subject().to_string();
    // The chain, as the gateway's verifier judged it.
    let chain_check = match &seen.verdict {
        Some(Err(rustls::Error::InvalidCertificate(c))) => {
            match crate::upstream::failure::classify_certificate_error(c) {
                TlsFailure::UnknownIssuer => chain_diagnosis(ep, seen),
                TlsFailure::Revoked => Check::fail(
                    G,
                    "tls.server_chain",
                    format!("{subject} is revoked (ec.crl_files)"),
                    "install a new certificate on the station",
                ),
                TlsFailure::BadCertificate => Check::fail(
                    G,
                    "tls.server_chain",
                    format!("{subject} refused: {c:?}"),
                    "install a certificate for TLS server use (serverAuth) signed by a trusted CA",
                ),
                _ => Check::pass(G, "tls.server_chain", chain_text(seen)),
            }
        }
        Some(Err(other)) => Check::fail(
            G,
            "tls.server_chain",
            format!("verification failed: {other}"),
            "check the station's certificate",
        ),
        _ => Check::pass(G, "tls.server_chain", chain_text(seen)),
    };
    checks.push(chain_check);
    // Host name, judged on its own (rustls' check of subjectAltName).
    let names = alt_names(&leaf);
    let name_ok = rustls::server::ParsedCertificate::try_from(leaf_der)
        .is_ok_and(|p| rustls::client::verify_server_name(&p, name).is_ok());
    let host = name.to_str();
    checks.push(if name_ok {
        Check::pass(G, "tls.host_name", format!("{host} is named by the certificate"))
    } else {
        Check::fail(
            G,
            "tls.host_name",
            format!("the certificate names {} but the station is called as {host}", names.join(", ")),
            format!("issue the station a certificate with {host} in subjectAltName, or call it by a name it has (registry connection.host)"),
        )
    });
    // Expiry.
    let validity = leaf.validity();
    let now = UnixTime::now().as_secs() as i64;
    let not_after = validity.not_after.timestamp();
    let not_before = validity.not_before.timestamp();
    let days = (not_after - now).div_euclid(86_400);
    let until = validity.not_after.to_string();
    checks.push(if now > not_after {
        Check::fail(
            G,
            "tls.certificate_expiry",
            format!("{subject} expired on {until}"),
            "renew the station's certificate",
        )
    } else if now < not_before {
        Check::fail(
            G,
            "tls.certificate_expiry",
            format!("{subject} is not valid before {}", validity.not_before),
            "check the station's clock and certificate",
        )
    } else if days < EXPIRY_WARN_DAYS {
        Check::new(G, "tls.certificate_expiry", Verdict::Warn)
            .msg(format!("{subject} expires on {until}, in {days} days"))
            .fix("renew the station's certificate before it expires")
    } else {
        Check::pass(
            G,
            "tls.certificate_expiry",
            format!("valid until {until} ({days} days)"),
        )
    });
}

fn chain_text(seen: &Seen) -> String {
    let names: Vec<String> = seen
        .chain
        .iter()
        .filter_map(|c| X509Certificate::from_der(c).ok())
        .map(|(_, c)| c.subject().to_string())
        .collect();
    format!("trusted; the station sends {}", names.join(" <- "))
}

/// An unknown issuer: names the certificate the chain is missing, or the unknown root.
fn chain_diagnosis(ep: &Endpoint<'_>, seen: &Seen) -> Check {
    let certs: Vec<X509Certificate<'_>> = seen
        .chain
        .iter()
        .filter_map(|c| X509Certificate::from_der(c).ok().map(|(_, x)| x))
        .collect();
    // Follow issuer → subject through what the station sent.
    let mut top = match certs.first() {
        Some(c) => c,
        None => {
            return Check::fail(
                G,
                "tls.server_chain",
                "no readable certificate",
                "check the station's certificate",
            )
        }
    };
    for _ in 0..certs.len() {
        match certs
            .iter()
            .find(|c| c.subject().as_raw() == top.issuer().as_raw() && c.subject() != top.subject())
        {
            Some(next) => top = next,
            None => break,
        }
    }
    let issuer = top.issuer().to_string();
    let where_roots = if ep.profile.is_empty() {
        "ec.ca_file".to_owned()
    } else {
        format!("[ec.stations.\"{}\"] ca_file", ep.profile)
    };
    if top.subject().as_raw() == top.issuer().as_raw() {
        return Check::fail(
            G,
            "tls.server_chain",
            format!("unknown root: the station's chain ends at the self-signed {issuer}, which the gateway does not trust"),
            format!("use a certificate from a CA the Node trusts, or (test setups) add {issuer} to {where_roots}"),
        );
    }
    let trusted = crate::pki::read_roots(ep.tls.ca_file.as_deref(), ep.tls.system_roots)
        .map(|store| {
            store
                .roots
                .iter()
                .any(|ta| same_name(top.issuer(), ta.subject.as_ref()))
        })
        .unwrap_or(false);
    if trusted {
        return Check::fail(
            G,
            "tls.server_chain",
            format!(
                "{} claims to be issued by the trusted {issuer}, but its signature does not verify",
                top.subject()
            ),
            "install the certificate actually issued by that CA, with its own key",
        );
    }
    Check::fail(
        G,
        "tls.server_chain",
        format!(
            "missing intermediate: the chain stops at {}, issued by {issuer}, which the station does not send and the gateway does not trust",
            top.subject()
        ),
        format!("configure the station to send its full chain (certificate, then the intermediate {issuer}); if {issuer} is a root instead, it is unknown: add it to {where_roots}"),
    )
}

/// Whether a certificate's DN equals a trust anchor's subject (stored without its SEQUENCE tag).
fn same_name(name: &X509Name<'_>, anchor_subject: &[u8]) -> bool {
    let raw = name.as_raw();
    raw == anchor_subject
        || (raw.len() > anchor_subject.len()
            && raw.ends_with(anchor_subject)
            && raw.len() - anchor_subject.len() <= 4)
}

fn alt_names(cert: &X509Certificate<'_>) -> Vec<String> {
    match cert.subject_alternative_name() {
        Ok(Some(san)) => san
            .value
            .general_names
            .iter()
            .map(|n| n.to_string())
            .collect(),
        _ => vec![format!("no subjectAltName (subject {})", cert.subject())],
    }
}
