//! The integration tests: one binary, so `cargo test` links the harness (`support`) once, with
//! one module per area.

mod support;

mod catalog;
mod config;
mod contract_equivalence;
mod demand;
mod demo;
mod fast_validation;
mod hostile;
mod legacy;
mod logs;
mod ops;
mod router;
mod scale;
mod services;
mod station;
mod tls;
mod tls_example;
mod zeep;
