//! Admission under load (the gateway's own protection, not one of the Node's checks): a global
//! in-flight cap and per-PSP rate limits answered at once with the Node's PPT_SUPERAMENTOSOGLIA,
//! and per-station concurrency with a short bounded wait.
//!
//! Limits are read from the settings at each check, so they can change while running.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// Why a request was turned away.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OverloadError {
    #[error("{limit} requests already in flight")]
    InFlight { limit: usize },
    #[error("PSP {psp} over its rate limit")]
    PspRate { psp: String },
    #[error("station {station} already has {limit} calls in flight")]
    StationBusy { station: String, limit: usize },
}

/// Holds one unit of a counter; gives it back when dropped (and wakes one waiter, if any).
#[derive(Debug)]
pub struct Slot {
    counter: Arc<AtomicUsize>,
    freed: Option<Arc<Notify>>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.counter.fetch_sub(1, Ordering::AcqRel);
        if let Some(freed) = &self.freed {
            freed.notify_one();
        }
    }
}

fn take(counter: &Arc<AtomicUsize>, limit: usize, freed: Option<&Arc<Notify>>) -> Option<Slot> {
    let before = counter.fetch_add(1, Ordering::AcqRel);
    if before >= limit {
        counter.fetch_sub(1, Ordering::AcqRel);
        return None;
    }
    Some(Slot {
        counter: counter.clone(),
        freed: freed.cloned(),
    })
}

/// The calls in flight toward one station, and a signal when one ends.
#[derive(Debug, Default)]
struct StationGate {
    calls: Arc<AtomicUsize>,
    freed: Arc<Notify>,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The gateway's admission state.
#[derive(Debug, Default)]
pub struct Admission {
    in_flight: Arc<AtomicUsize>,
    stations: Mutex<HashMap<String, Arc<StationGate>>>,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl Admission {
    /// Requests being processed now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Acquire)
    }

    pub fn enter(&self, limit: usize) -> Result<Slot, OverloadError> {
        take(&self.in_flight, limit, None).ok_or(OverloadError::InFlight { limit })
    }

    /// A call slot toward `station` (station codes come from the registry: the map is bounded),
    /// waiting up to `wait` for one to free up: a station allowed one call at a time (a common
    /// `thread_number`) then serves short bursts in turn, while a hung station holds at most
    /// `limit` connections and its callers give up after `wait`.
    pub async fn enter_station(
        &self,
        station: &str,
        limit: usize,
        wait: Duration,
    ) -> Result<Slot, OverloadError> {
        let gate = {
            let mut map = self
                .stations
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            map.entry(station.to_owned()).or_default().clone()
        };
        let deadline = Instant::now() + wait;
        loop {
            // Registered before the attempt, so a slot freed in between is not missed.
            let freed = gate.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            if let Some(slot) = take(&gate.calls, limit, Some(&gate.freed)) {
                return Ok(slot);
            }
            if tokio::time::timeout_at(deadline, freed).await.is_err() {
                return Err(OverloadError::StationBusy {
                    station: station.to_owned(),
                    limit,
                });
            }
        }
    }

    /// Token bucket per PSP (only PSPs that passed the registry checks get a bucket, so the map
    /// stays bounded by the registry).
    pub fn psp_allows(&self, psp: &str, rate: f64, burst: f64) -> Result<(), OverloadError> {
        let now = Instant::now();
        let mut map = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let bucket = map.entry(psp.to_owned()).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        let elapsed = now.duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(OverloadError::PspRate {
                psp: psp.to_owned(),
            })
        }
    }
}

/// A request counted in flight (and in the gauge) until dropped.
pub(super) struct InFlight<'a> {
    gw: &'a crate::app::Gateway,
    slot: Option<Slot>,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        drop(self.slot.take());
        self.gw.metrics.set_in_flight(self.gw.admission.in_flight());
    }
}

/// Takes an in-flight slot for one request, or the refusal.
pub(super) fn admit(gw: &crate::app::Gateway, limit: usize) -> Result<InFlight<'_>, OverloadError> {
    let slot = gw.admission.enter(limit)?;
    gw.metrics.set_in_flight(gw.admission.in_flight());
    Ok(InFlight {
        gw,
        slot: Some(slot),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_capped_and_given_back() {
        let a = Admission::default();
        let one = a.enter(2).expect("first");
        let two = a.enter(2).expect("second");
        assert_eq!(a.enter(2).err(), Some(OverloadError::InFlight { limit: 2 }));
        drop(one);
        assert!(a.enter(2).is_ok());
        drop(two);
        assert_eq!(a.in_flight(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn station_slots_are_waited_for_within_a_bound() {
        let a = Arc::new(Admission::default());
        let none = Duration::ZERO;
        let s = a.enter_station("S", 1, none).await.expect("station slot");
        assert!(a.enter_station("S", 1, none).await.is_err());
        assert!(
            a.enter_station("T", 1, none).await.is_ok(),
            "stations are independent"
        );
        // A waiter gets the slot as soon as it is freed, within its bound.
        let waiter = {
            let a = a.clone();
            tokio::spawn(async move {
                let started = Instant::now();
                let slot = a.enter_station("S", 1, Duration::from_secs(1)).await;
                (slot.is_ok(), started.elapsed())
            })
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        drop(s);
        let (ok, waited) = waiter.await.expect("join");
        assert!(ok);
        assert_eq!(waited, Duration::from_millis(300));
        // Nobody frees it: refused once the bound has passed.
        let held = a.enter_station("S", 1, none).await.expect("free again");
        let started = Instant::now();
        let refused = a.enter_station("S", 1, Duration::from_secs(1)).await;
        assert_eq!(
            refused.err(),
            Some(OverloadError::StationBusy {
                station: "S".into(),
                limit: 1
            })
        );
        assert_eq!(started.elapsed(), Duration::from_secs(1));
        drop(held);
    }

    #[tokio::test(start_paused = true)]
    async fn psp_buckets_refill_over_time() {
        let a = Admission::default();
        assert!(a.psp_allows("P", 2.0, 2.0).is_ok());
        assert!(a.psp_allows("P", 2.0, 2.0).is_ok());
        assert!(a.psp_allows("P", 2.0, 2.0).is_err(), "burst spent");
        assert!(a.psp_allows("Q", 2.0, 2.0).is_ok(), "per PSP");
        tokio::time::advance(std::time::Duration::from_millis(500)).await;
        assert!(
            a.psp_allows("P", 2.0, 2.0).is_ok(),
            "one token back after 0.5 s at 2/s"
        );
        assert!(a.psp_allows("P", 2.0, 2.0).is_err());
    }
}
