//! One lock for the tests that need the machine to themselves, since every area shares a process.
//!
//! Its holders use fixed ports (the demo's 8080 and 8090), pick ports by binding and releasing
//! them (two such tests could be handed the same one), run real processes (nginx, replicas), or
//! bound an operation's wall-clock time (which those processes could stretch). Every other test
//! runs beside them. The lock does not poison: a failed holder does not fail the next one.

use tokio::sync::{Mutex, MutexGuard};

static MACHINE: Mutex<()> = Mutex::const_new(());

/// Waits for the machine (async tests).
pub async fn machine() -> MutexGuard<'static, ()> {
    MACHINE.lock().await
}

/// Waits for the machine (synchronous tests, outside any runtime).
pub fn machine_blocking() -> MutexGuard<'static, ()> {
    MACHINE.blocking_lock()
}
