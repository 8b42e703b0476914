//! Connectivity checks: name resolution, TCP (through the station's proxy), and a TLS handshake
//! made with the gateway's own rustls configuration, watched through its verifier and client
//! certificate resolver to tell chain, host name, expiry and client certificate apart.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http::Uri;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::AsyncReadExt as _;

use super::report::{Check, Verdict};
use crate::registry::Proxy;
use crate::settings::TlsProfile;
use crate::upstream::{EcClients, FailureKind, TlsFailure, TransportFailure};

const G: &str = "connectivity";

/// Where the connection goes and with which TLS profile.
pub struct Endpoint<'a> {
    pub url: &'a Uri,
    pub proxy: Option<&'a Proxy>,
    /// The profile's name (`""` default) and its settings (for naming trusted roots).
    pub profile: &'a str,
    pub tls: &'a TlsProfile,
    pub timeout: Duration,
}

/// Runs the connectivity checks; `true` when SOAP calls can follow (TCP and TLS succeeded).
pub async fn run(clients: &EcClients, ep: &Endpoint<'_>, checks: &mut Vec<Check>) -> bool {
    let host = ep.url.host().unwrap_or_default().trim_matches(['[', ']']);
    let https = ep.url.scheme_str() == Some("https");
    let port = ep.url.port_u16().unwrap_or(if https { 443 } else { 80 });
    // Name resolution of what the gateway connects to: the proxy when there is one.
    let (dns_host, dns_port) = match ep.proxy {
        Some(p) => (p.host.as_str(), p.port),
        None => (host, port),
    };
    let started = Instant::now();
    match tokio::time::timeout(ep.timeout, tokio::net::lookup_host((dns_host, dns_port))).await {
        Ok(Ok(addrs)) => {
            let addrs: Vec<String> = addrs.map(|a| a.ip().to_string()).collect();
            checks.push(
                Check::pass(
                    G,
                    "dns",
                    format!("{dns_host} resolves to {}", addrs.join(", ")),
                )
                .took(started.elapsed()),
            );
        }
        Ok(Err(e)) => {
            checks.push(
                Check::fail(
                    G,
                    "dns",
                    format!("{dns_host} does not resolve: {e}"),
                    "fix the host name in the registry's station connection (or proxy), or publish it in DNS",
                )
                .took(started.elapsed()),
            );
            return false;
        }
        Err(_) => {
            checks.push(Check::fail(
                G,
                "dns",
                format!(
                    "{dns_host}: no answer from the resolver within {:?}",
                    ep.timeout
                ),
                "check the resolver configuration of the host running the gateway",
            ));
            return false;
        }
    }
    let started = Instant::now();
    let tcp = match clients.connect_tcp(ep.url, ep.proxy).await {
        Ok(t) => t,
        Err(f) => {
            checks.push(tcp_failure(&f, host, port, ep.proxy).took(started.elapsed()));
            return false;
        }
    };
    let via = ep
        .proxy
        .map(|p| format!(" through proxy {}:{}", p.host, p.port))
        .unwrap_or_default();
    checks.push(
        Check::pass(G, "tcp_connect", format!("connected to {host}:{port}{via}"))
            .took(started.elapsed()),
    );
    if !https {
        checks.push(
            Check::new(G, "tls", Verdict::Warn)
                .msg("plain http:// endpoint: no TLS checks")
                .fix("production stations are called over HTTPS with mutual TLS: give the station an https connection"),
        );
        return true;
    }
    tls_checks(clients, ep, host, tcp, checks).await
}

fn tcp_failure(f: &TransportFailure, host: &str, port: u16, proxy: Option<&Proxy>) -> Check {
    let (message, fix) = match f.kind {
        FailureKind::Refused => (
            format!("connection to {host}:{port} refused: nobody listens there"),
            "start the station's HTTP server, or fix the port in the registry's connection"
                .to_owned(),
        ),
        FailureKind::ConnectTimeout => (
            format!("no TCP connection to {host}:{port} within the connect timeout"),
            "open the firewall toward the station (ec.connect_timeout_ms bounds the wait)"
                .to_owned(),
        ),
        FailureKind::Proxy => (
            format!("the proxy refused or failed the CONNECT to {host}:{port}: {f}"),
            format!(
                "check the registry's proxy{} and that it allows CONNECT to {host}:{port}",
                proxy
                    .map(|p| format!(" {}:{}", p.host, p.port))
                    .unwrap_or_default()
            ),
        ),
        FailureKind::Dns => (
            format!("{host} does not resolve: {f}"),
            "fix the host name in the registry's station connection".to_owned(),
        ),
        _ => (
            format!("cannot connect to {host}:{port}: {f}"),
            "check that the station is reachable from the gateway's network".to_owned(),
        ),
    };
    Check::fail(G, "tcp_connect", message, fix)
}

/// What the handshake showed through the gateway's verifier.
#[derive(Debug, Default)]
pub(super) struct Seen {
    pub(super) chain: Vec<CertificateDer<'static>>,
    pub(super) verdict: Option<Result<(), rustls::Error>>,
    /// Set when the station sent a CertificateRequest: the CA names it accepts.
    pub(super) asked: Option<Vec<String>>,
}

async fn tls_checks(
    clients: &EcClients,
    ep: &Endpoint<'_>,
    host: &str,
    tcp: tokio::net::TcpStream,
    checks: &mut Vec<Check>,
) -> bool {
    let Some(profile) = clients.tls_for(ep.profile) else {
        checks.push(Check::fail(
            G,
            "tls.handshake",
            format!("no TLS profile {:?}", ep.profile),
            "check [ec] and [ec.stations] in the settings",
        ));
        return false;
    };
    let seen = Arc::new(Mutex::new(Seen::default()));
    let mut config = profile.config.as_ref().clone();
    let ours = config.client_auth_cert_resolver.has_certs();
    config.client_auth_cert_resolver = Arc::new(super::watch::Asked {
        inner: config.client_auth_cert_resolver.clone(),
        seen: seen.clone(),
    });
    config
        .dangerous()
        .set_certificate_verifier(Arc::new(super::watch::Watching {
            inner: profile.verifier.clone(),
            seen: seen.clone(),
        }));
    let Ok(name) = ServerName::try_from(host.to_owned()) else {
        checks.push(Check::fail(
            G,
            "tls.handshake",
            format!("{host:?} is not a valid TLS server name"),
            "fix the host in the registry's connection",
        ));
        return false;
    };
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let started = Instant::now();
    let outcome = tokio::time::timeout(ep.timeout, connector.connect(name.clone(), tcp)).await;
    let took = started.elapsed();
    let outcome = match outcome {
        Err(_) => Err(format!("no handshake within {:?}", ep.timeout)),
        Ok(Err(e)) => Err(TransportFailure::classify(&e).to_string()),
        Ok(Ok(s)) => Ok(s),
    };
    let mut refused_after = None;
    let ok = match outcome {
        Ok(mut stream) => {
            let (_, conn) = stream.get_ref();
            let proto = conn
                .protocol_version()
                .map(|v| format!("{v:?}"))
                .unwrap_or_default();
            let suite = conn
                .negotiated_cipher_suite()
                .map(|s| format!("{:?}", s.suite()))
                .unwrap_or_default();
            checks.push(Check::pass(G, "tls.handshake", format!("{proto}, {suite}")).took(took));
            // TLS 1.3: a station refusing our certificate says so right after the handshake.
            let mut byte = [0u8; 1];
            if let Ok(Err(e)) =
                tokio::time::timeout(Duration::from_millis(500), stream.read(&mut byte)).await
            {
                refused_after = Some(TransportFailure::classify(&e));
            }
            true
        }
        Err(why) => {
            checks.push(
                Check::fail(
                    G,
                    "tls.handshake",
                    format!("handshake failed: {why}"),
                    "see the TLS checks below for the cause",
                )
                .took(took),
            );
            false
        }
    };
    let seen = match seen.lock() {
        Ok(mut s) => std::mem::take(&mut *s),
        Err(_) => Seen::default(),
    };
    super::certs::certificate_checks(ep, &name, &seen, checks);
    client_cert_check(ours, &seen, ok, refused_after, checks);
    ok && !checks.iter().any(|c| c.verdict == Verdict::Fail)
}

fn client_cert_check(
    ours: bool,
    seen: &Seen,
    handshake_ok: bool,
    refused_after: Option<TransportFailure>,
    checks: &mut Vec<Check>,
) {
    let name = "tls.client_certificate";
    let asked = seen.asked.as_ref();
    let accepted = asked
        .map(|cas| {
            if cas.is_empty() {
                String::new()
            } else {
                format!(" (accepted issuers: {})", cas.join("; "))
            }
        })
        .unwrap_or_default();
    let refused = matches!(
        refused_after.as_ref().map(|f| f.kind),
        Some(FailureKind::Tls(TlsFailure::ClientCertificateRefused))
    );
    let check = match (asked.is_some(), ours, handshake_ok && !refused) {
        (_, _, false) if refused || seen.verdict.as_ref().is_some_and(|v| v.is_ok()) => {
            let why = refused_after.map(|f| f.to_string()).unwrap_or_default();
            if ours {
                Check::fail(
                    G,
                    name,
                    format!("the station refused the gateway's client certificate{accepted} {why}"),
                    "make the station trust the CA that issued the gateway's client certificate (ec.cert_file), or give the gateway one it trusts",
                )
            } else {
                Check::fail(
                    G,
                    name,
                    format!("the station requires a client certificate{accepted} and the gateway has none"),
                    "set ec.cert_file and ec.key_file (or per station) to the gateway's client identity",
                )
            }
        }
        (_, _, false) => Check::new(G, name, Verdict::Skip).msg("the handshake did not get that far"),
        (true, true, true) => Check::pass(G, name, format!("requested{accepted} and accepted")),
        (true, false, true) => Check::new(G, name, Verdict::Warn)
            .msg(format!("requested{accepted}; the gateway sent none and the station went on"))
            .fix("set ec.cert_file/ec.key_file so the station can tell the Node's calls from anyone's"),
        (false, _, true) => Check::new(G, name, Verdict::Warn)
            .msg("the station does not ask for a client certificate: anyone can call it")
            .fix("require client certificates on the station (mutual TLS)"),
    };
    checks.push(check);
}
