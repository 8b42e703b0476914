//! Wrappers around the gateway's own server verifier and client certificate resolver that
//! record what the handshake showed (the chain, the verdict, the certificate request).

use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{ResolvesClientCert, WebPkiServerVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::sign::CertifiedKey;
use rustls::{DigitallySignedStruct, SignatureScheme};
use x509_parser::prelude::{FromDer, X509Name};

use super::connect::Seen;

/// The gateway's verifier, recording the chain and its verdict.
#[derive(Debug)]
pub(super) struct Watching {
    pub(super) inner: Option<Arc<WebPkiServerVerifier>>,
    pub(super) seen: Arc<Mutex<Seen>>,
}

impl ServerCertVerifier for Watching {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verdict = match &self.inner {
            Some(v) => v.verify_server_cert(end_entity, intermediates, server_name, ocsp, now),
            None => Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer,
            )),
        };
        if let Ok(mut s) = self.seen.lock() {
            s.chain = std::iter::once(end_entity)
                .chain(intermediates)
                .map(|c| c.clone().into_owned())
                .collect();
            s.verdict = Some(verdict.as_ref().map(|_| ()).map_err(Clone::clone));
        }
        verdict
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &algorithms())
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &algorithms())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        match &self.inner {
            Some(v) => v.supported_verify_schemes(),
            None => algorithms().supported_schemes(),
        }
    }
}

fn algorithms() -> rustls::crypto::WebPkiSupportedAlgorithms {
    rustls::crypto::ring::default_provider().signature_verification_algorithms
}

/// The gateway's client certificate resolver, noting that the station asked for one.
#[derive(Debug)]
pub(super) struct Asked {
    pub(super) inner: Arc<dyn ResolvesClientCert>,
    pub(super) seen: Arc<Mutex<Seen>>,
}

impl ResolvesClientCert for Asked {
    fn resolve(
        &self,
        root_hint_subjects: &[&[u8]],
        sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        if let Ok(mut s) = self.seen.lock() {
            s.asked = Some(root_hint_subjects.iter().map(|dn| dn_text(dn)).collect());
        }
        self.inner.resolve(root_hint_subjects, sigschemes)
    }

    fn has_certs(&self) -> bool {
        self.inner.has_certs()
    }
}

/// A DER distinguished name as text (with or without its SEQUENCE header).
fn dn_text(der: &[u8]) -> String {
    if let Ok((_, n)) = X509Name::from_der(der) {
        return n.to_string();
    }
    let mut wrapped = vec![0x30];
    let len = der.len();
    if len < 128 {
        wrapped.push(len as u8);
    } else if len < 256 {
        wrapped.extend([0x81, len as u8]);
    } else {
        wrapped.extend([0x82, (len >> 8) as u8, len as u8]);
    }
    wrapped.extend_from_slice(der);
    X509Name::from_der(&wrapped)
        .map(|(_, n)| n.to_string())
        .unwrap_or_else(|_| "(unreadable name)".into())
}
