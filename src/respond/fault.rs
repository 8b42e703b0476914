//! The one place where errors become faults: business fault beans and router SOAP Faults.
//!
//! Both mappings are exhaustive matches without a catch-all arm, so a new error variant does not
//! compile until someone decides which `PPT_*` code (or HTTP status) it gets.

use http::StatusCode;

use crate::checks::{CheckError, ServiceDataError};
use crate::message::MissingField;
use crate::pipeline::OverloadError;
use crate::soap::{CharsetError, ShapeError, SoapFault, XmlError};
use crate::upstream::{EcFault, UpstreamError};
use crate::xsd;

/// `id` of every fault the gateway raises itself.
pub const NODE_ID: &str = "NodoDeiPagamentiSPC";

/// The Node's fault codes this gateway emits, with their fixed `faultString` (interfaces.md §6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaultCode {
    SintassiExtraxsd,
    SintassiXsd,
    PspSconosciuto,
    PspDisabilitato,
    IntermediarioPspSconosciuto,
    IntermediarioPspDisabilitato,
    CanaleSconosciuto,
    CanaleDisabilitato,
    Autenticazione,
    Autorizzazione,
    DominioSconosciuto,
    DominioDisabilitato,
    ServizioSconosciuto,
    ServizioNonattivo,
    VersioneServizio,
    StazioneIntPaSconosciuta,
    StazioneIntPaDisabilitata,
    IntermediarioPaSconosciuto,
    IntermediarioPaDisabilitato,
    StazioneIntPaIrraggiungibile,
    StazioneIntPaTimeout,
    StazioneIntPaErroreResponse,
    ErroreEmessoDaPaa,
    SuperamentoSoglia,
}

impl FaultCode {
    pub fn code(self) -> &'static str {
        match self {
            FaultCode::SintassiExtraxsd => "PPT_SINTASSI_EXTRAXSD",
            FaultCode::SintassiXsd => "PPT_SINTASSI_XSD",
            FaultCode::PspSconosciuto => "PPT_PSP_SCONOSCIUTO",
            FaultCode::PspDisabilitato => "PPT_PSP_DISABILITATO",
            FaultCode::IntermediarioPspSconosciuto => "PPT_INTERMEDIARIO_PSP_SCONOSCIUTO",
            FaultCode::IntermediarioPspDisabilitato => "PPT_INTERMEDIARIO_PSP_DISABILITATO",
            FaultCode::CanaleSconosciuto => "PPT_CANALE_SCONOSCIUTO",
            FaultCode::CanaleDisabilitato => "PPT_CANALE_DISABILITATO",
            FaultCode::Autenticazione => "PPT_AUTENTICAZIONE",
            FaultCode::Autorizzazione => "PPT_AUTORIZZAZIONE",
            FaultCode::DominioSconosciuto => "PPT_DOMINIO_SCONOSCIUTO",
            FaultCode::DominioDisabilitato => "PPT_DOMINIO_DISABILITATO",
            FaultCode::ServizioSconosciuto => "PPT_SERVIZIO_SCONOSCIUTO",
            FaultCode::ServizioNonattivo => "PPT_SERVIZIO_NONATTIVO",
            FaultCode::VersioneServizio => "PPT_VERSIONE_SERVIZIO",
            FaultCode::StazioneIntPaSconosciuta => "PPT_STAZIONE_INT_PA_SCONOSCIUTA",
            FaultCode::StazioneIntPaDisabilitata => "PPT_STAZIONE_INT_PA_DISABILITATA",
            FaultCode::IntermediarioPaSconosciuto => "PPT_INTERMEDIARIO_PA_SCONOSCIUTO",
            FaultCode::IntermediarioPaDisabilitato => "PPT_INTERMEDIARIO_PA_DISABILITATO",
            FaultCode::StazioneIntPaIrraggiungibile => "PPT_STAZIONE_INT_PA_IRRAGGIUNGIBILE",
            FaultCode::StazioneIntPaTimeout => "PPT_STAZIONE_INT_PA_TIMEOUT",
            FaultCode::StazioneIntPaErroreResponse => "PPT_STAZIONE_INT_PA_ERRORE_RESPONSE",
            FaultCode::ErroreEmessoDaPaa => "PPT_ERRORE_EMESSO_DA_PAA",
            FaultCode::SuperamentoSoglia => "PPT_SUPERAMENTOSOGLIA",
        }
    }

    /// The Node's own string for the code (`DigitPaErrorCodes`), verbatim.
    pub fn string(self) -> &'static str {
        match self {
            FaultCode::SintassiExtraxsd => "Errore di sintassi extra XSD.",
            FaultCode::SintassiXsd => "Errore di sintassi XSD.",
            FaultCode::PspSconosciuto => "PSP sconosciuto.",
            FaultCode::PspDisabilitato => "PSP conosciuto ma disabilitato da configurazione.",
            FaultCode::IntermediarioPspSconosciuto => {
                "Identificativo intermediario psp sconosciuto."
            }
            FaultCode::IntermediarioPspDisabilitato => "Intermediario psp disabilitato.",
            FaultCode::CanaleSconosciuto => "Canale sconosciuto.",
            FaultCode::CanaleDisabilitato => "Canale conosciuto ma disabilitato da configurazione.",
            FaultCode::Autenticazione => "Errore di autenticazione.",
            FaultCode::Autorizzazione => "Il richiedente non ha i diritti per l'operazione.",
            FaultCode::DominioSconosciuto => "Identificativo Dominio sconosciuto.",
            FaultCode::DominioDisabilitato => "Dominio disabilitato.",
            FaultCode::ServizioSconosciuto => "Servizio inesistente sul sistema pagoPA",
            FaultCode::ServizioNonattivo => "Servizio non attivo",
            FaultCode::VersioneServizio => "Versione servizio incompatibile con la chiamata",
            FaultCode::StazioneIntPaSconosciuta => "IdentificativoStazioneRichiedente sconosciuto.",
            FaultCode::StazioneIntPaDisabilitata => "Stazione disabilitata.",
            FaultCode::IntermediarioPaSconosciuto => {
                "Identificativo intermediario dominio sconosciuto."
            }
            FaultCode::IntermediarioPaDisabilitato => "Intermediario dominio disabilitato.",
            FaultCode::StazioneIntPaIrraggiungibile => "Errore di connessione verso la Stazione.",
            FaultCode::StazioneIntPaTimeout => "Timeout risposta dalla Stazione.",
            FaultCode::StazioneIntPaErroreResponse => "Errore di risposta dalla stazione.",
            FaultCode::ErroreEmessoDaPaa => "Errore restituito dalla PAA.",
            FaultCode::SuperamentoSoglia => {
                "Una qualche soglia fissata per PPT e' temporaneamente superata e la richiesta e' quindi rifiutata."
            }
        }
    }
}

/// The EC's own fault, carried in `original*` for brokers with the extended fault bean.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Original {
    pub code: String,
    pub string: String,
    pub description: Option<String>,
}

/// A `ctFaultBean` ready to render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultBean {
    pub code: FaultCode,
    pub id: String,
    pub description: String,
    pub original: Option<Original>,
}

/// A syntax problem of a PSP request (all of them are the Node's `PPT_SINTASSI_EXTRAXSD`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyntaxError {
    #[error("{0}")]
    Shape(ShapeError),
    #[error("{0}")]
    Schema(xsd::Invalid),
    #[error("{0}")]
    Missing(MissingField),
    /// A base64 field that is empty (or blank): the Node's schema refuses it, libxml2's accepts it.
    #[error("{0} is empty")]
    EmptyBase64(&'static str),
}

/// Every way a business operation can end in KO.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    #[error("syntax: {0}")]
    Syntax(SyntaxError),
    #[error("check: {0}")]
    Check(CheckError),
    #[error("service data: {0}")]
    ServiceData(ServiceDataError),
    #[error("station {station}: {error}")]
    Upstream {
        station: String,
        error: UpstreamError,
    },
    #[error("EC {ec_domain} answered KO {}", .fault.code)]
    Ec { ec_domain: String, fault: EcFault },
    #[error("overload: {0}")]
    Overload(OverloadError),
}

impl Failure {
    /// The failure as it may be logged: the citizen's service data (and validator messages that
    /// quote them) never reach the logs.
    pub fn for_log(&self) -> String {
        match self {
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
                Some(_) | None => self.to_string(),
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
            | Failure::Overload(_) => self.to_string(),
        }
    }
}

fn node(code: FaultCode, description: impl Into<String>) -> FaultBean {
    FaultBean {
        code,
        id: NODE_ID.to_owned(),
        description: description.into(),
        original: None,
    }
}

/// Node-style description of a syntax error: `Errore validazione XML [path] - message`.
fn syntax_description(e: &SyntaxError) -> String {
    match e {
        SyntaxError::Shape(ShapeError::NotSoap11 { found }) => {
            format!("Errore validazione XML [Envelope] - l'elemento radice {found} non e' un Envelope SOAP 1.1")
        }
        SyntaxError::Shape(ShapeError::NoBody) => {
            "Errore validazione XML [Envelope] - Body assente".into()
        }
        SyntaxError::Shape(ShapeError::EmptyBody) => {
            "Errore validazione XML [Envelope/Body] - Body vuoto".into()
        }
        SyntaxError::Shape(ShapeError::SeveralPayloads) => {
            "Errore validazione XML [Envelope/Body] - il Body contiene piu' di un elemento".into()
        }
        SyntaxError::Shape(ShapeError::WrongPayload { expected, found }) => {
            format!("Errore validazione XML [Envelope/Body] - trovato {found}, atteso {expected}")
        }
        SyntaxError::Schema(invalid) => format!("Errore validazione XML {invalid}"),
        SyntaxError::Missing(m) => format!("Errore validazione XML - {m}"),
        SyntaxError::EmptyBase64(field) => {
            format!("Errore validazione XML [{field}] - valore base64Binary vuoto")
        }
    }
}

/// Maps a business failure to its fault bean. `extended` is the PSP broker's
/// `extended_fault_bean` flag, which only affects errors emitted by the EC (interfaces.md §6.8).
pub fn fault_bean(failure: &Failure, extended: bool) -> FaultBean {
    match failure {
        Failure::Syntax(e) => node(FaultCode::SintassiExtraxsd, syntax_description(e)),
        Failure::Check(e) => check_bean(e),
        Failure::ServiceData(e) => node(
            FaultCode::SintassiXsd,
            format!("Errore validazione XML {e}"),
        ),
        Failure::Upstream { station, error } => upstream_bean(station, error),
        Failure::Ec { ec_domain, fault } => {
            let (description, original) = if extended {
                (
                    fault
                        .description
                        .clone()
                        .unwrap_or_else(|| fault.string.clone()),
                    Some(Original {
                        code: fault.code.clone(),
                        string: fault.string.clone(),
                        description: fault.description.clone(),
                    }),
                )
            } else {
                (
                    format!(
                        "originalFaultCode: {}, originalFaultString: {}, originalDescription: {}",
                        fault.code,
                        fault.string,
                        fault.description.as_deref().unwrap_or("")
                    ),
                    None,
                )
            };
            FaultBean {
                code: FaultCode::ErroreEmessoDaPaa,
                id: ec_domain.clone(),
                description,
                original,
            }
        }
        Failure::Overload(e) => node(
            FaultCode::SuperamentoSoglia,
            match e {
                OverloadError::InFlight { limit } => {
                    format!("Gateway: oltre {limit} richieste in corso")
                }
                OverloadError::PspRate { psp } => {
                    format!("PSP {psp}: limite di richieste superato")
                }
                OverloadError::StationBusy { station, limit } => {
                    format!("Stazione {station}: oltre {limit} chiamate in corso")
                }
            },
        ),
    }
}

fn check_bean(e: &CheckError) -> FaultBean {
    use FaultCode as F;
    let generic = |code: FaultCode| node(code, code.string());
    match e {
        CheckError::PspUnknown(_) => generic(F::PspSconosciuto),
        CheckError::PspDisabled(_) => generic(F::PspDisabilitato),
        CheckError::BrokerPspUnknown(_) => generic(F::IntermediarioPspSconosciuto),
        CheckError::BrokerPspDisabled(_) => generic(F::IntermediarioPspDisabilitato),
        CheckError::ChannelUnknown(_) => generic(F::CanaleSconosciuto),
        CheckError::ChannelDisabled(_) => generic(F::CanaleDisabilitato),
        CheckError::WrongPassword(_) => node(F::Autenticazione, "Password sconosciuta o errata"),
        CheckError::ChannelNotOfBroker { .. } => node(
            F::Autorizzazione,
            "Configurazione intermediario-canale non corretta",
        ),
        CheckError::PspChannelNotAssociated { .. } => {
            node(F::Autorizzazione, "Configurazione psp-canale non corretta")
        }
        CheckError::CertificateNotBound { broker } => node(
            F::Autorizzazione,
            format!("Il certificato client non corrisponde all'intermediario {broker}"),
        ),
        CheckError::DomainUnknown(_) => generic(F::DominioSconosciuto),
        CheckError::DomainDisabled(_) => generic(F::DominioDisabilitato),
        CheckError::SubjectServiceUnknown(_) => node(
            F::ServizioSconosciuto,
            "Soggetto Servizio inesistente sul sistema pagoPA",
        ),
        CheckError::ServiceUnknown(_) => generic(F::ServizioSconosciuto),
        CheckError::ServiceNotActive(_) => generic(F::ServizioNonattivo),
        CheckError::ServiceVersion { .. } => generic(F::VersioneServizio),
        CheckError::NoStation(_)
        | CheckError::NoModel4Station(_)
        | CheckError::StationUnknown(_)
        | CheckError::StationNotMod4 { .. } => node(
            F::StazioneIntPaSconosciuta,
            "idStation not enabled to 4 model",
        ),
        CheckError::StationDisabled(_) => generic(F::StazioneIntPaDisabilitata),
        CheckError::BrokerPaUnknown(_) => generic(F::IntermediarioPaSconosciuto),
        CheckError::BrokerPaDisabled(_) => generic(F::IntermediarioPaDisabilitato),
    }
}

/// Station failures: the description says what happened without exposing the EC's address.
fn upstream_bean(station: &str, e: &UpstreamError) -> FaultBean {
    use FaultCode as F;
    match e {
        UpstreamError::NoEndpoint { .. } => node(
            F::StazioneIntPaIrraggiungibile,
            format!("Stazione {station}: endpoint non configurato"),
        ),
        UpstreamError::Unreachable { .. } => node(
            F::StazioneIntPaIrraggiungibile,
            format!("Stazione {station}: connessione non riuscita"),
        ),
        UpstreamError::HttpStatus(status) => node(
            F::StazioneIntPaIrraggiungibile,
            format!("Stazione {station}: risposta HTTP {status}"),
        ),
        UpstreamError::SoapFault { code, .. } => node(
            F::StazioneIntPaIrraggiungibile,
            format!("Stazione {station}: SOAP Fault {code}"),
        ),
        UpstreamError::Timeout(t) => node(
            F::StazioneIntPaTimeout,
            format!(
                "Stazione {station}: nessuna risposta entro {} ms",
                t.as_millis()
            ),
        ),
        UpstreamError::TooLarge(n) => node(
            F::StazioneIntPaErroreResponse,
            format!("Stazione {station}: risposta oltre {n} byte"),
        ),
        UpstreamError::BadAnswer(defect) => node(
            F::StazioneIntPaErroreResponse,
            format!("Stazione {station}: risposta non valida: {defect}"),
        ),
        UpstreamError::Untranslatable(why) => node(
            F::StazioneIntPaErroreResponse,
            format!("Stazione {station}: risposta non traducibile: {why}"),
        ),
    }
}

/// Failures of the router itself, before any operation runs (interfaces.md §7.2–7.3).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouterError {
    #[error("unreadable XML: {0}")]
    Unreadable(XmlError),
    #[error("{0}")]
    Charset(CharsetError),
    #[error("no operation in SOAPAction or Body")]
    NoOperation,
    #[error("unknown SOAPAction {0:?}")]
    UnknownAction(String),
    #[error("body larger than {0} bytes")]
    TooLarge(usize),
    #[error("cannot read the request body: {0}")]
    BodyRead(String),
    #[error("request body not received in time")]
    BodyTimeout,
    /// A method other than POST (or GET/HEAD of a published contract); `allow` is what the target
    /// accepts, for the `Allow` header.
    #[error("method {method} not allowed (allowed: {allow})")]
    MethodNotAllowed { method: String, allow: &'static str },
}

impl RouterError {
    /// A fixed name for the refusal, for counters.
    pub fn reason(&self) -> &'static str {
        match self {
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
}

/// Maps a router failure to the HTTP status and SOAP Fault the Node's router would answer.
pub fn router_fault(e: &RouterError) -> (StatusCode, SoapFault) {
    let fault = |code: &str, string: &str, detail: String| SoapFault {
        code: code.to_owned(),
        string: string.to_owned(),
        detail,
    };
    match e {
        RouterError::Unreadable(_) | RouterError::BodyRead(_) => (
            StatusCode::BAD_REQUEST,
            fault(
                "soap:Client",
                "XML_STREAM_EXC",
                "Errore richiesta non leggibile".into(),
            ),
        ),
        RouterError::Charset(
            CharsetError::Undecodable(charset) | CharsetError::Unsupported(charset),
        ) => (
            StatusCode::BAD_REQUEST,
            fault(
                "PPT_SYSTEM_ERROR",
                "Errore generico.",
                format!("Error, data encoding is not {charset}"),
            ),
        ),
        RouterError::Charset(CharsetError::Mismatch {
            declared,
            transport,
        }) => (
            StatusCode::BAD_REQUEST,
            fault(
                "PPT_SYSTEM_ERROR",
                "Errore generico.",
                format!(
                    "Error, data encoding is not {transport} (the XML declaration says {declared})"
                ),
            ),
        ),
        RouterError::NoOperation => (
            StatusCode::BAD_REQUEST,
            fault(
                "soap:Client",
                "NO_OPERATION",
                "Operazione non leggibile da SOAPAction o Body".into(),
            ),
        ),
        RouterError::UnknownAction(action) => (
            StatusCode::BAD_REQUEST,
            fault(
                "PPT_SOAPACTION_ERRATA",
                "SOAPAction errata.",
                format!("SOAPAction \"{action}\" errata"),
            ),
        ),
        RouterError::BodyTimeout => (
            StatusCode::REQUEST_TIMEOUT,
            fault(
                "soap:Client",
                "REQUEST_TIMEOUT",
                "Richiesta non ricevuta entro il tempo massimo".into(),
            ),
        ),
        RouterError::TooLarge(limit) => (
            StatusCode::PAYLOAD_TOO_LARGE,
            fault(
                "soap:Client",
                "PAYLOAD_TOO_LARGE",
                format!("Richiesta oltre {limit} byte"),
            ),
        ),
        // A SOAP Fault rather than plain text, so SOAP tooling pointed at the wrong method shows
        // why; the detail says what the path does accept.
        RouterError::MethodNotAllowed { method, .. } => (
            StatusCode::METHOD_NOT_ALLOWED,
            fault(
                "soap:Client",
                "METHOD_NOT_ALLOWED",
                format!(
                    "Metodo {method} non ammesso: le richieste SOAP usano POST, GET ?wsdl pubblica il contratto"
                ),
            ),
        ),
    }
}
