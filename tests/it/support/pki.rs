//! A throw-away PKI for TLS tests (rcgen): a CA, server certificates, PSP client certificates
//! (good, expired, revoked, from another CA), a CRL, and certificates for test ECs.

use std::path::{Path, PathBuf};

use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, CertificateRevocationListParams,
    CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyIdMethod, KeyPair, KeyUsagePurpose,
    RevokedCertParams, SerialNumber,
};

/// A certificate and key written as PEM files.
#[derive(Debug, Clone)]
pub struct Pair {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub der: Vec<u8>,
}

impl Pair {
    /// SHA-256 of the DER certificate, as `AB:CD:…`.
    pub fn fingerprint(&self) -> String {
        let d = ring::digest::digest(&ring::digest::SHA256, &self.der);
        d.as_ref()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":")
    }
}

pub struct TestPki {
    #[allow(dead_code, reason = "no test or bench reads it yet")]
    pub dir: PathBuf,
    /// The CA that issues servers and PSP clients.
    pub ca: PathBuf,
    /// Another CA nobody trusts.
    pub other_ca: PathBuf,
    pub crl: PathBuf,
    /// The gateway's listener (localhost, 127.0.0.1).
    pub server: Pair,
    /// PSP client certificates.
    pub psp_good: Pair,
    pub psp_other_broker: Pair,
    pub psp_expired: Pair,
    pub psp_revoked: Pair,
    pub psp_other_ca: Pair,
    /// An EC station's server certificate from the trusted CA, and one from the other CA.
    pub ec_server: Pair,
    pub ec_untrusted: Pair,
    /// An EC certificate from the trusted CA for another host name.
    pub ec_wrong_name: Pair,
    /// The gateway's client identity toward ECs.
    pub gateway_client: Pair,
    /// Serial of `psp_good` in hex (for issuer+serial bindings) and the CA's subject.
    pub psp_good_serial: String,
    pub ca_subject: String,
}

fn ca_params(cn: &str) -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
    p.distinguished_name.push(DnType::CommonName, cn);
    p.distinguished_name
        .push(DnType::OrganizationName, "sanp-gateway tests");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p.not_before = date_time_ymd(2020, 1, 1);
    p.not_after = date_time_ymd(2099, 1, 1);
    p
}

fn leaf(names: &[&str], cn: &str, serial: u64, client: bool) -> CertificateParams {
    let mut p = CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        .expect("params");
    p.distinguished_name.push(DnType::CommonName, cn);
    p.serial_number = Some(SerialNumber::from(serial));
    p.not_before = date_time_ymd(2020, 1, 1);
    p.not_after = date_time_ymd(2099, 1, 1);
    p.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    p.extended_key_usages = vec![if client {
        ExtendedKeyUsagePurpose::ClientAuth
    } else {
        ExtendedKeyUsagePurpose::ServerAuth
    }];
    p
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write PEM");
    p
}

fn issue(
    dir: &Path,
    name: &str,
    params: CertificateParams,
    issuer: &CertifiedIssuer<'_, KeyPair>,
) -> Pair {
    let key = KeyPair::generate().expect("key");
    let cert = params.signed_by(&key, issuer).expect("sign");
    Pair {
        cert: write(dir, &format!("{name}.pem"), &cert.pem()),
        key: write(dir, &format!("{name}.key"), &key.serialize_pem()),
        der: cert.der().to_vec(),
    }
}

impl TestPki {
    pub fn generate(dir: &Path) -> Self {
        let ca = CertifiedIssuer::self_signed(
            ca_params("sanp test CA"),
            KeyPair::generate().expect("key"),
        )
        .expect("CA");
        let other = CertifiedIssuer::self_signed(
            ca_params("untrusted CA"),
            KeyPair::generate().expect("key"),
        )
        .expect("CA");
        let ca_path = write(dir, "ca.pem", &ca.pem());
        let other_path = write(dir, "other-ca.pem", &other.pem());
        let server = issue(
            dir,
            "server",
            leaf(&["localhost", "127.0.0.1"], "gateway", 10, false),
            &ca,
        );
        let psp_good = issue(
            dir,
            "psp-good",
            leaf(&[], "BROKER_OK client", 0x2a1b, true),
            &ca,
        );
        let psp_other_broker = issue(
            dir,
            "psp-other",
            leaf(&[], "BROKER_NOEXT client", 21, true),
            &ca,
        );
        let mut expired = leaf(&[], "expired client", 22, true);
        expired.not_before = date_time_ymd(2020, 1, 1);
        expired.not_after = date_time_ymd(2021, 1, 1);
        let psp_expired = issue(dir, "psp-expired", expired, &ca);
        let psp_revoked = issue(
            dir,
            "psp-revoked",
            leaf(&[], "revoked client", 23, true),
            &ca,
        );
        let psp_other_ca = issue(
            dir,
            "psp-other-ca",
            leaf(&[], "BROKER_OK client", 24, true),
            &other,
        );
        let ec_server = issue(
            dir,
            "ec-server",
            leaf(&["localhost", "127.0.0.1"], "EC station", 30, false),
            &ca,
        );
        let ec_untrusted = issue(
            dir,
            "ec-untrusted",
            leaf(&["localhost", "127.0.0.1"], "rogue EC", 31, false),
            &other,
        );
        let ec_wrong_name = issue(
            dir,
            "ec-wrong-name",
            leaf(&["ec.example.org"], "EC station", 33, false),
            &ca,
        );
        let gateway_client = issue(
            dir,
            "gateway-client",
            leaf(&[], "sanp-gateway", 32, true),
            &ca,
        );
        let crl = CertificateRevocationListParams {
            this_update: date_time_ymd(2024, 1, 1),
            next_update: date_time_ymd(2099, 1, 1),
            crl_number: SerialNumber::from(1u64),
            issuing_distribution_point: None,
            revoked_certs: vec![RevokedCertParams {
                serial_number: SerialNumber::from(23u64),
                revocation_time: date_time_ymd(2024, 1, 1),
                reason_code: None,
                invalidity_date: None,
            }],
            key_identifier_method: KeyIdMethod::Sha256,
        }
        .signed_by(&ca)
        .expect("CRL");
        let crl_path = write(dir, "ca.crl.pem", &crl.pem().expect("CRL PEM"));
        Self {
            dir: dir.to_path_buf(),
            ca: ca_path,
            other_ca: other_path,
            crl: crl_path,
            server,
            psp_good,
            psp_other_broker,
            psp_expired,
            psp_revoked,
            psp_other_ca,
            ec_server,
            ec_untrusted,
            ec_wrong_name,
            gateway_client,
            psp_good_serial: "2a1b".into(),
            ca_subject: "CN=sanp test CA,O=sanp-gateway tests".into(),
        }
    }
}
