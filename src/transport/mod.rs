//! Transport stage: HTTP/1.1 over TCP, request bodies, SOAPAction, and WSDL publication.

pub mod http;
pub mod server;
pub mod wsdl;

pub use server::{serve, Server};
