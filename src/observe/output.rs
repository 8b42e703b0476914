//! Log output: formatted lines gather in memory and one thread writes them to stdout in batches,
//! so a request never waits on a write system call and a busy gateway makes few of them.
//!
//! Nothing is dropped: when the batch outgrows its cap, loggers wait for the writer (back
//! pressure) rather than lose lines. `flush` writes what is pending (called before exit).

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

/// How long the writer lets lines gather after the first one of a batch.
const GATHER: Duration = Duration::from_millis(5);
/// Above this many pending bytes loggers wait for the writer.
const MAX_PENDING: usize = 8 * 1024 * 1024;

struct Shared {
    pending: Mutex<Vec<u8>>,
    /// Signalled when `pending` turns non-empty, and when it is emptied.
    changed: Condvar,
    /// Held while a batch is taken and written, so batches reach stdout in order.
    out: Mutex<()>,
}

static SHARED: OnceLock<Arc<Shared>> = OnceLock::new();

fn shared() -> &'static Arc<Shared> {
    SHARED.get_or_init(|| {
        let shared = Arc::new(Shared {
            pending: Mutex::new(Vec::with_capacity(64 * 1024)),
            changed: Condvar::new(),
            out: Mutex::new(()),
        });
        let writer = shared.clone();
        let spawned = std::thread::Builder::new()
            .name("log-writer".into())
            .spawn(move || write_batches(&writer));
        if spawned.is_err() {
            // Without the thread, `write` falls back to writing each line itself.
            eprintln!("log writer thread could not start; logging unbatched");
        }
        shared
    })
}

fn write_batches(s: &Shared) {
    loop {
        {
            let mut pending = s.pending.lock().unwrap_or_else(PoisonError::into_inner);
            while pending.is_empty() {
                pending = s
                    .changed
                    .wait(pending)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        }
        std::thread::sleep(GATHER);
        drain(s);
    }
}

/// Takes the pending lines and writes them; returns when they are written.
fn drain(s: &Shared) {
    let _out = s.out.lock().unwrap_or_else(PoisonError::into_inner);
    let batch = {
        let mut pending = s.pending.lock().unwrap_or_else(PoisonError::into_inner);
        let batch = std::mem::take(&mut *pending);
        s.changed.notify_all();
        batch
    };
    if !batch.is_empty() {
        let mut stdout = std::io::stdout().lock();
        // A closed stdout must not take the gateway down; the lines are lost, the service is not.
        let _ = stdout.write_all(&batch);
        let _ = stdout.flush();
    }
}

/// Writes whatever is pending now (before the process exits).
pub fn flush() {
    if let Some(s) = SHARED.get() {
        drain(s);
    }
}

/// The `MakeWriter` for the fmt layer.
#[derive(Clone, Copy, Default)]
pub struct BatchedStdout;

pub struct LineWriter;

impl Write for LineWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let s = shared();
        let mut pending = s.pending.lock().unwrap_or_else(PoisonError::into_inner);
        while pending.len() > MAX_PENDING {
            pending = s
                .changed
                .wait(pending)
                .unwrap_or_else(PoisonError::into_inner);
        }
        let was_empty = pending.is_empty();
        pending.extend_from_slice(buf);
        drop(pending);
        if was_empty {
            s.changed.notify_all();
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for BatchedStdout {
    type Writer = LineWriter;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_kept_in_order_and_flushed() {
        let mut w = BatchedStdout.make_writer();
        for i in 0..1000 {
            w.write_all(format!("line {i}\n").as_bytes())
                .expect("write");
        }
        flush();
        let s = shared();
        assert!(
            s.pending.lock().expect("lock").is_empty(),
            "flush empties the batch"
        );
    }
}
