//! sanp-gateway: the pagoPA Node's SOAP interfaces for spontaneous payments (SANP 3, modello 4).
pub mod soap;
pub mod xsd;
