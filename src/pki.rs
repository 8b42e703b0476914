//! PEM material beside the pipeline: certificates, keys, CRLs and roots for both TLS sides, the
//! identity of a client certificate (and the forms fingerprints, serials and DNs compare in), and
//! change detection for reloading files.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};
use rustls::RootCertStore;

/// A PEM file that cannot be used. Key material is never part of the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {problem}")]
pub struct PemError {
    pub path: String,
    pub problem: String,
}

fn pem_error(path: &Path, problem: impl ToString) -> PemError {
    PemError {
        path: path.display().to_string(),
        problem: problem.to_string(),
    }
}

/// Every certificate of a PEM file (at least one).
pub fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, PemError> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| pem_error(path, e))?;
    if certs.is_empty() {
        return Err(pem_error(path, "no certificate found"));
    }
    Ok(certs)
}

/// The private key of a PEM file (PKCS#8, PKCS#1 or SEC1).
pub fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, PemError> {
    // The parse error names the file and the PEM problem, never the key bytes.
    PrivateKeyDer::from_pem_file(path)
        .map_err(|e| pem_error(path, format!("no usable private key ({e})")))
}

/// Every CRL of the given PEM files.
pub fn read_crls(
    paths: &[PathBuf],
) -> Result<Vec<CertificateRevocationListDer<'static>>, PemError> {
    let mut out = Vec::new();
    for path in paths {
        let crls = CertificateRevocationListDer::pem_file_iter(path)
            .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            .map_err(|e| pem_error(path, e))?;
        if crls.is_empty() {
            return Err(pem_error(path, "no CRL found"));
        }
        out.extend(crls);
    }
    Ok(out)
}

/// The system CA bundle: `$SSL_CERT_FILE`, else Debian's bundle.
pub fn system_roots_file() -> PathBuf {
    std::env::var_os("SSL_CERT_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/etc/ssl/certs/ca-certificates.crt"))
}

/// A root store from a private CA bundle and/or the system bundle.
pub fn read_roots(ca_file: Option<&Path>, system: bool) -> Result<RootCertStore, PemError> {
    let mut roots = RootCertStore::empty();
    if let Some(ca) = ca_file {
        for cert in read_certs(ca)? {
            roots.add(cert).map_err(|e| pem_error(ca, e))?;
        }
    }
    if system {
        let path = system_roots_file();
        if path.exists() {
            // Distribution bundles carry a few certificates webpki rejects; skip those.
            let (_added, _ignored) = roots.add_parsable_certificates(read_certs(&path)?);
        }
    }
    Ok(roots)
}

/// Who presented a client certificate: what bindings are matched against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientIdentity {
    pub sha256: [u8; 32],
    /// Issuer DN as `CN=…,O=…` (normalised like the settings).
    pub issuer: String,
    /// Serial number in lower-case hex without leading zeros.
    pub serial: String,
    pub subject: String,
}

impl ClientIdentity {
    pub fn from_der(der: &[u8]) -> Self {
        let sha256 = sha256(der);
        match x509_parser::parse_x509_certificate(der) {
            Ok((_, cert)) => Self {
                sha256,
                issuer: normalize_dn(&cert.issuer().to_string()),
                serial: normalize_serial(&cert.raw_serial_as_string()),
                subject: normalize_dn(&cert.subject().to_string()),
            },
            // rustls accepted it, so this does not happen; the fingerprint still identifies it.
            Err(_) => Self {
                sha256,
                issuer: String::new(),
                serial: String::new(),
                subject: String::new(),
            },
        }
    }

    pub fn fingerprint(&self) -> String {
        hex(&self.sha256)
    }
}

pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, bytes);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Modification time and size of a set of files, to notice replacements (editors and
/// deployment tools replace by rename, which changes both).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FileStamps(Vec<(PathBuf, Option<(SystemTime, u64)>)>);

impl FileStamps {
    pub fn of<'a>(paths: impl IntoIterator<Item = &'a Path>) -> Self {
        Self(
            paths
                .into_iter()
                .map(|p| {
                    let stamp = std::fs::metadata(p)
                        .ok()
                        .and_then(|m| m.modified().ok().map(|t| (t, m.len())));
                    (p.to_path_buf(), stamp)
                })
                .collect(),
        )
    }

    /// The same files, stamped now.
    pub fn refreshed(&self) -> Self {
        Self::of(self.0.iter().map(|(p, _)| p.as_path()))
    }
}

/// `AB:CD:…` or `abcd…` (64 hex digits) → 32 bytes.
pub fn parse_fingerprint(s: &str) -> Result<[u8; 32], String> {
    let hex: String = s
        .trim()
        .trim_start_matches("sha256:")
        .chars()
        .filter(|c| *c != ':')
        .collect();
    if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!(
            "{s:?} is not a SHA-256 fingerprint (64 hex digits)"
        ));
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// Serial numbers compare as lower-case hex without separators or leading zeros.
pub fn normalize_serial(s: &str) -> String {
    let hex: String = s
        .chars()
        .filter(|c| c.is_ascii_hexdigit())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let trimmed = hex.trim_start_matches('0');
    if trimmed.is_empty() {
        "0".into()
    } else {
        trimmed.into()
    }
}

/// Distinguished names compare without blanks around `,` and `=`.
pub fn normalize_dn(s: &str) -> String {
    s.split(',')
        .map(|rdn| {
            let (k, v) = rdn.split_once('=').unwrap_or((rdn, ""));
            format!("{}={}", k.trim(), v.trim())
        })
        .collect::<Vec<_>>()
        .join(",")
}
