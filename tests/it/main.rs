//! The integration tests: one binary, so `cargo test` links the harness (`support`) once, with
//! one module per area.
//!
//! The modules share one process and run on parallel test threads. So no test installs a global
//! tracing subscriber (capture on the test's own threads, as `logs` and `station` do) or sets
//! environment variables, and tests that need the machine to themselves (fixed ports, ports
//! picked by binding and releasing, real processes, wall-clock bounds) hold
//! [`support::serial::machine`].

mod support;

mod catalog;
mod config;
mod conformance;
mod contract_equivalence;
mod demand;
mod demo;
mod docs;
mod fast_validation;
mod hostile;
mod legacy;
mod logs;
mod ops;
mod portal;
mod probe;
mod router;
mod scale;
mod services;
mod station;
mod tls;
mod tls_example;
mod zeep;
