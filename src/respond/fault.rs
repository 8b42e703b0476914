//! The one place where errors become faults: business fault beans and router SOAP Faults, and
//! every text that goes on the wire with them.
//!
//! Both mappings are exhaustive matches without a catch-all arm, so a new error variant does not
//! compile until someone decides which `PPT_*` code (or HTTP status) it gets. No description here
//! pastes another module's `Display` (those are log texts): rewording a log line cannot change an
//! answer.

use http::StatusCode;

use crate::checks::{CheckError, ServiceDataError};
use crate::error::{Failure, RouterError, SyntaxError};
use crate::pipeline::OverloadError;
use crate::soap::{CharsetError, ShapeError, SoapFault, XmlError};
use crate::upstream::bridge::Untranslatable;
use crate::upstream::{AnswerDefect, UpstreamError};
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
        SyntaxError::Schema(invalid) => format!("Errore validazione XML {}", invalid_text(invalid)),
        SyntaxError::Missing(m) => format!(
            "Errore validazione XML - field {} missing after schema validation",
            m.0
        ),
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
            format!("Errore validazione XML {}", service_data_text(e)),
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
            format!(
                "Stazione {station}: risposta non valida: {}",
                defect_text(defect)
            ),
        ),
        UpstreamError::Untranslatable(why) => node(
            F::StazioneIntPaErroreResponse,
            format!(
                "Stazione {station}: risposta non traducibile: {}",
                untranslatable_text(why)
            ),
        ),
    }
}

/// A validator's first problem: `[path] - message` (libxml2's own message, as the Node reports
/// Xerces' first).
fn invalid_text(invalid: &xsd::Invalid) -> String {
    let i = invalid.first();
    match &i.path {
        Some(p) => format!("[{p}] - {}", i.message),
        None => i.message.clone(),
    }
}

fn service_data_text(e: &ServiceDataError) -> String {
    match e {
        ServiceDataError::NotBase64(b) => format!("datiSpecificiServizio is not base64: {b}"),
        ServiceDataError::NotUtf8 => "datiSpecificiServizio is not UTF-8 XML".into(),
        ServiceDataError::NotXml(x) => {
            format!("datiSpecificiServizio is not readable XML: {}", xml_text(x))
        }
        ServiceDataError::Invalid { xsd, detail } => format!(
            "datiSpecificiServizio does not match {xsd}: {}",
            invalid_text(detail)
        ),
        ServiceDataError::NoSchema(xsd) => format!("no compiled schema for {xsd}"),
    }
}

fn xml_text(e: &XmlError) -> String {
    match e {
        XmlError::Malformed(m) => format!("not well-formed XML: {m}"),
        XmlError::Empty => "no root element".into(),
        XmlError::Doctype => "a DOCTYPE declaration is not allowed".into(),
        XmlError::ProcessingInstruction => {
            "processing instruction other than the XML declaration".into()
        }
        XmlError::UndefinedEntity(n) => format!("reference to undeclared entity &{n};"),
        XmlError::UndeclaredPrefix(p) => format!("undeclared namespace prefix {p}"),
        XmlError::TooDeep(n) => format!("elements nested deeper than {n}"),
        XmlError::TooManyElements(n) => format!("more than {n} elements"),
        XmlError::TooManyAttributes(n) => format!("more than {n} attributes on one element"),
        XmlError::NameTooLong(n) => format!("a name longer than {n} bytes"),
        XmlError::TextTooLong(n) => format!("text longer than {n} bytes"),
        XmlError::ContentAfterRoot => "content after the root element".into(),
        XmlError::Unclosed => "unexpected end of document inside an element".into(),
        XmlError::InvalidChar(c) => format!("character U+{c:04X} is not allowed in XML 1.0"),
    }
}

fn charset_text(e: &CharsetError) -> String {
    match e {
        CharsetError::Undecodable(c) => format!("body is not valid {c}"),
        CharsetError::Unsupported(c) => format!("unsupported charset {c}"),
        CharsetError::Mismatch {
            declared,
            transport,
        } => format!("XML declaration says {declared}, Content-Type says {transport}"),
    }
}

fn shape_text(e: &ShapeError) -> String {
    match e {
        ShapeError::NotSoap11 { found } => {
            format!("the root element is {found}, not a SOAP 1.1 Envelope")
        }
        ShapeError::NoBody => "the envelope has no Body".into(),
        ShapeError::EmptyBody => "the Body is empty".into(),
        ShapeError::SeveralPayloads => "the Body carries more than one element".into(),
        ShapeError::WrongPayload { expected, found } => {
            format!("the Body carries {found}, expected {expected}")
        }
    }
}

/// What is wrong with an EC answer, as the PSP reads it.
fn defect_text(d: &AnswerDefect) -> String {
    match d {
        AnswerDefect::NotXml(x) => format!("not readable XML: {}", xml_text(x)),
        AnswerDefect::Charset(c) => format!("not readable text: {}", charset_text(c)),
        AnswerDefect::Shape(s) => shape_text(s),
        AnswerDefect::Schema(i) => format!("schema violation {}", invalid_text(i)),
        AnswerDefect::OkWithFault => "outcome OK with a fault".into(),
        AnswerDefect::KoWithoutFault => "outcome KO without a fault".into(),
        AnswerDefect::OkMissing(what) => format!("outcome OK without {what}"),
        AnswerDefect::UnknownOutcome(o) => format!("outcome {o:?} is neither OK nor KO"),
    }
}

fn untranslatable_text(u: &Untranslatable) -> String {
    match u {
        Untranslatable::NoticeNumber {
            aux,
            application_code,
            iuv_digits,
        } => format!(
            "auxDigit {aux}, applicationCode {}, IUV of {iuv_digits} digits do not form an 18-digit notice number",
            application_code.as_deref().unwrap_or("-")
        ),
        Untranslatable::NoticeNumberLength(n) => format!("notice number {n:?} is not 18 digits"),
        Untranslatable::AuxDigit(d) => format!("aux digit {d} has no legacy notice form"),
        Untranslatable::EcCode(ec) => format!("EC code {ec:?} is not an 11-digit fiscal code"),
        Untranslatable::ZeroAmount(a) => {
            format!("amount {a} is zero: paDemandPaymentNotice needs a non-zero amount")
        }
        Untranslatable::AmountOption(o) => format!(
            "amount option {o} cannot be represented: the legacy answer carries one fixed amount"
        ),
        Untranslatable::NoIban(ec) => format!("no valid IBAN for EC {ec} in the registry (ibans)"),
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
