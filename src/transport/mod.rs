//! Transport stage: TLS and TCP, HTTP/1.1, request bodies, SOAPAction and dispatch, and WSDL
//! publication.

pub mod http;
pub mod router;
pub mod server;
pub mod tls;
pub mod wsdl;

pub use server::Server;
pub use tls::{HandshakeFailure, TlsServer};
