//! sanp-gateway: the pagoPA Node's SOAP interfaces for spontaneous payments (SANP 3, modello 4).
//!
//! Every request flows one way through the stages below; each stage is a module and depends only
//! on the stages to its left, plus the registry, settings and observability beside them.
//!
//! ```text
//!  PSP ──HTTP──▶ transport ──▶ soap ──▶ xsd ──▶ message ──▶ checks ──▶ upstream ──HTTP(S)──▶ EC station
//!               (body, limits,  (screened   (libxml2,   (typed      (Node's      (paDemandPaymentNotice,
//!                SOAPAction,     tree,       whole       request)    order of     timeout, answer
//!                ?wsdl)          envelope)   envelope)               checks)      judged by §6.6)
//!                   ▲                                                                 │
//!                   └────────────────────── respond (OK / KO document, ◀──────────────┘
//!                                           router SOAP Faults: respond::fault)
//!  beside: registry (ConfigDataV1 snapshots), settings, observe (logs), secret (masked passwords)
//! ```
//!
//! `handler` is the only module that calls the stages in sequence; `respond::fault` is the only
//! place where errors become faults.

pub mod app;
pub mod catalog;
pub mod checks;
pub mod conformance;
pub mod error;
pub mod message;
pub mod observe;
pub mod pipeline;
pub mod pki;
pub mod portal;
pub mod probe;
pub mod registry;
pub mod reload;
pub mod respond;
pub mod sample_ec;
pub mod secret;
pub mod settings;
pub mod soap;
pub mod transport;
pub mod upstream;
pub mod xsd;
