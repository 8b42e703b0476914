//! Test harness: a real gateway on an ephemeral port, a programmable EC, an HTTP client, the
//! official pagoPA schemas (from `../shared`) to judge every response, and the comparer that holds
//! the project's `wsdl/` and `xsd/` to them.

pub mod contract;
pub mod ec;
mod gateway;
pub mod official;
pub mod pki;
mod registry;
mod requests;
mod responses;
pub mod serial;
pub mod webdriver;

use std::path::{Path, PathBuf};

pub use gateway::*;
pub use registry::*;
pub use requests::*;
pub use responses::*;

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Reads a file of the repository.
pub fn read(path: impl AsRef<Path>) -> String {
    std::fs::read_to_string(repo().join(path)).expect("file")
}

/// Waits (real time) until `f` holds.
pub async fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    for _ in 0..200 {
        if f() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("never happened: {what}");
}
