//! sanp-gateway: the pagoPA Node's SOAP interfaces for spontaneous payments (SANP 3, modello 4).
pub mod app;
pub mod checks;
pub mod handler;
pub mod message;
pub mod observe;
pub mod registry;
pub mod respond;
pub mod sample_ec;
pub mod secret;
pub mod settings;
pub mod soap;
pub mod transport;
pub mod upstream;
pub mod xsd;
