//! A programmable EC station over real TCP: it answers, delays, resets, stalls or floods.
//!
//! It speaks just enough HTTP/1.1 by hand so that tests can produce answers no well-behaved
//! server library would (garbage, truncated bodies, resets).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the EC does with the next requests.
#[derive(Debug, Clone)]
pub enum Behaviour {
    /// Answer with this status and body (`text/xml`).
    Reply { status: u16, body: String },
    /// Answer 200 with exactly these bytes and this Content-Type.
    Bytes { content_type: String, body: Vec<u8> },
    /// Wait (tokio time, so paused clocks apply), then behave as the inner behaviour.
    Delay(Duration, Box<Behaviour>),
    /// Read the request, then reset the connection without answering.
    Reset,
    /// Send headers announcing `len` bytes, send a few, then never finish.
    Stall { len: usize },
    /// Answer 200 with a body of `len` bytes of XML-looking filler.
    Huge { len: usize },
}

/// A request as the EC received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub head: String,
    pub body: String,
    /// DER of the client certificate, when the EC speaks TLS and the client presented one.
    pub client_cert: Option<Vec<u8>>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    }
}

#[derive(Clone)]
pub struct TestEc {
    pub addr: SocketAddr,
    behaviour: Arc<Mutex<Behaviour>>,
    received: Arc<Mutex<Vec<Received>>>,
}

impl TestEc {
    pub async fn start(initial: Behaviour) -> Self {
        Self::start_inner(initial, None).await
    }

    /// An EC speaking HTTPS with `server` (certificate and key), requiring client certificates
    /// from `client_ca` when given.
    pub async fn start_tls(
        initial: Behaviour,
        server: &super::pki::Pair,
        client_ca: Option<&std::path::Path>,
    ) -> Self {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let chain = CertificateDer::pem_file_iter(&server.cert)
            .expect("cert")
            .collect::<Result<Vec<_>, _>>()
            .expect("certs");
        let key = PrivateKeyDer::from_pem_file(&server.key).expect("key");
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .expect("versions");
        let config = match client_ca {
            Some(ca) => {
                let mut roots = rustls::RootCertStore::empty();
                for c in CertificateDer::pem_file_iter(ca).expect("CA") {
                    roots.add(c.expect("CA cert")).expect("root");
                }
                let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                    Arc::new(roots),
                    provider,
                )
                .build()
                .expect("verifier");
                builder
                    .with_client_cert_verifier(verifier)
                    .with_single_cert(chain, key)
            }
            None => builder.with_no_client_auth().with_single_cert(chain, key),
        }
        .expect("EC TLS config");
        Self::start_inner(
            initial,
            Some(tokio_rustls::TlsAcceptor::from(Arc::new(config))),
        )
        .await
    }

    async fn start_inner(initial: Behaviour, tls: Option<tokio_rustls::TlsAcceptor>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind EC");
        let addr = listener.local_addr().expect("EC addr");
        let ec = Self {
            addr,
            behaviour: Arc::new(Mutex::new(initial)),
            received: Arc::new(Mutex::new(Vec::new())),
        };
        let me = ec.clone();
        tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let me = me.clone();
                let tls = tls.clone();
                tokio::spawn(async move {
                    match tls {
                        None => me.serve(tcp).await,
                        Some(acceptor) => {
                            let Ok(mut stream) = acceptor.accept(tcp).await else {
                                return;
                            };
                            let cert = stream
                                .get_ref()
                                .1
                                .peer_certificates()
                                .and_then(|c| c.first())
                                .map(|c| c.as_ref().to_vec());
                            let Some(mut req) = read_request(&mut stream).await else {
                                return;
                            };
                            req.client_cert = cert;
                            me.received.lock().expect("lock").push(req);
                            let b = me.behaviour.lock().expect("lock").clone();
                            act_generic(&mut stream, b).await;
                        }
                    }
                });
            }
        });
        ec
    }

    pub fn set(&self, b: Behaviour) {
        *self.behaviour.lock().expect("lock") = b;
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    async fn serve(&self, mut tcp: TcpStream) {
        let Some(req) = read_request(&mut tcp).await else {
            return;
        };
        self.received.lock().expect("lock").push(req);
        let b = self.behaviour.lock().expect("lock").clone();
        act(&mut tcp, b).await;
    }
}

async fn act(tcp: &mut TcpStream, b: Behaviour) {
    if let Behaviour::Reset = b {
        // Zero linger turns the close into a TCP reset; it cannot block with a zero timeout.
        #[allow(deprecated)]
        let _ = tcp.set_linger(Some(Duration::ZERO));
        return;
    }
    act_generic(tcp, b).await
}

async fn act_generic<S: AsyncRead + AsyncWrite + Unpin>(tcp: &mut S, mut b: Behaviour) {
    loop {
        match b {
            Behaviour::Delay(d, next) => {
                tokio::time::sleep(d).await;
                b = *next;
            }
            Behaviour::Reply { status, body } => {
                let head = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: text/xml; charset=UTF-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = tcp.write_all(head.as_bytes()).await;
                let _ = tcp.write_all(body.as_bytes()).await;
                let _ = tcp.shutdown().await;
                return;
            }
            Behaviour::Bytes { content_type, body } => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = tcp.write_all(head.as_bytes()).await;
                let _ = tcp.write_all(&body).await;
                let _ = tcp.shutdown().await;
                return;
            }
            Behaviour::Reset => return,
            Behaviour::Stall { len } => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {len}\r\n\r\n<soapenv:Envelope"
                );
                let _ = tcp.write_all(head.as_bytes()).await;
                std::future::pending::<()>().await;
            }
            Behaviour::Huge { len } => {
                let head = format!("HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n");
                if tcp.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = vec![b' '; 64 * 1024];
                let mut left = len;
                while left > 0 {
                    let n = left.min(chunk.len());
                    if tcp.write_all(&chunk[..n]).await.is_err() {
                        return;
                    }
                    left -= n;
                }
                return;
            }
        }
    }
}

async fn read_request<S: AsyncRead + Unpin>(tcp: &mut S) -> Option<Received> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        let n = tcp.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let len = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        let n = tcp.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Received {
        head,
        body: String::from_utf8_lossy(&body).into_owned(),
        client_cert: None,
    })
}

/// A valid `paDemandPaymentNoticeResponse` OK, the base for the defect table.
pub fn ok_answer() -> String {
    envelope(
        "<outcome>OK</outcome>\
         <qrCode><fiscalCode>77777777777</fiscalCode><noticeNumber>311111111111111111</noticeNumber></qrCode>\
         <paymentList><paymentOptionDescription><amount>120.50</amount><options>EQ</options>\
         <dueDate>2030-06-30</dueDate><detailDescription>Bollo auto 2030</detailDescription><allCCP>true</allCCP>\
         </paymentOptionDescription></paymentList>\
         <paymentDescription>Tassa automobilistica AB345CD</paymentDescription>\
         <fiscalCodePA>77777777777</fiscalCodePA><companyName>Ente Conformita</companyName>\
         <officeName>Ufficio tributi</officeName>",
    )
}

/// A valid KO answer with the EC's own fault.
pub fn ko_answer() -> String {
    envelope(
        "<outcome>KO</outcome><fault><faultCode>PAA_SEMANTICA</faultCode><faultString>Errore semantico</faultString>\
         <id>77777777777</id><description>Targa non trovata</description></fault>",
    )
}

pub fn envelope(inner: &str) -> String {
    format!(
        "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" \
         xmlns:pafn=\"http://pagopa-api.pagopa.gov.it/pa/paForNode.xsd\"><soapenv:Header/><soapenv:Body>\
         <pafn:paDemandPaymentNoticeResponse>{inner}</pafn:paDemandPaymentNoticeResponse></soapenv:Body></soapenv:Envelope>"
    )
}

pub fn reply(body: String) -> Behaviour {
    Behaviour::Reply { status: 200, body }
}

/// One CONNECT seen by the proxy: target and Proxy-Authorization.
pub type Connect = (String, Option<String>);

/// A forward proxy that only does CONNECT tunnels, recording each one.
#[derive(Clone)]
pub struct TestProxy {
    pub addr: SocketAddr,
    pub connects: Arc<Mutex<Vec<Connect>>>,
}

impl TestProxy {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let proxy = Self {
            addr: listener.local_addr().expect("addr"),
            connects: Arc::new(Mutex::new(Vec::new())),
        };
        let me = proxy.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                let me = me.clone();
                tokio::spawn(async move {
                    let Some(req) = read_request(&mut client).await else {
                        return;
                    };
                    let mut words = req.head.split_whitespace();
                    let (Some("CONNECT"), Some(target)) = (words.next(), words.next()) else {
                        let _ = client.write_all(b"HTTP/1.1 405 Only CONNECT\r\n\r\n").await;
                        return;
                    };
                    me.connects
                        .lock()
                        .expect("lock")
                        .push((target.to_owned(), req.header("Proxy-Authorization")));
                    let Ok(mut upstream) = TcpStream::connect(target).await else {
                        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await;
                        return;
                    };
                    let _ = client
                        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                        .await;
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                });
            }
        });
        proxy
    }
}

/// `paaChiediNumeroAvvisoRisposta` around `inner`.
pub fn legacy_answer(inner: &str) -> String {
    format!(
        "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:ppt=\"{}\"><soapenv:Body>\
         <ppt:paaChiediNumeroAvvisoRisposta><paaChiediNumeroAvvisoRisposta>{inner}</paaChiediNumeroAvvisoRisposta>\
         </ppt:paaChiediNumeroAvvisoRisposta></soapenv:Body></soapenv:Envelope>",
        super::PPT_NS
    )
}

pub const NUMERO: &str =
    "<numeroAvviso><auxDigit>3</auxDigit><IUV>01000000000000042</IUV></numeroAvviso>";
pub const DATI: &str = "<datiPagamentoPA><importoSingoloVersamento>120.50</importoSingoloVersamento>\
    <ibanAccredito>IT60X0542811101000000123456</ibanAccredito><bicAccredito>BPPIITRRXXX</bicAccredito>\
    <enteBeneficiario><pay_i:identificativoUnivocoBeneficiario xmlns:pay_i=\"http://www.digitpa.gov.it/schemas/2011/Pagamenti/\">\
    <pay_i:tipoIdentificativoUnivoco>G</pay_i:tipoIdentificativoUnivoco><pay_i:codiceIdentificativoUnivoco>77777777777</pay_i:codiceIdentificativoUnivoco>\
    </pay_i:identificativoUnivocoBeneficiario><pay_i:denominazioneBeneficiario xmlns:pay_i=\"http://www.digitpa.gov.it/schemas/2011/Pagamenti/\">Ente Beneficiario</pay_i:denominazioneBeneficiario>\
    </enteBeneficiario><causaleVersamento>Bollo auto AB345CD</causaleVersamento></datiPagamentoPA>";

pub fn legacy_ok() -> String {
    legacy_answer(&format!("<esito>OK</esito>{NUMERO}{DATI}"))
}

pub fn legacy_ko() -> String {
    legacy_answer(
        "<fault><faultCode>PAA_TARGA_SCONOSCIUTA</faultCode><faultString>Targa sconosciuta</faultString><id>77777777777</id>\
         <description>Nessun veicolo AB345CD</description></fault><esito>KO</esito>",
    )
}
