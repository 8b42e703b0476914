//! Per-snapshot caches of catalog answers: the rendered V2 response per filter, and the whole
//! answer to a repeated identical request, so a catalog is rendered once per snapshot.
//!
//! Both live inside a registry snapshot's `Live` and go with it on reload. An entry is used only
//! while exact: until the next end of an association (`Catalog::valid_until`); the
//! request memo also matches the settings generation, the client certificate and the request
//! bytes in full, so it gives what the whole pipeline would give.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;

use super::v2::{document_v2, ok_v2, CatalogFilter};
use crate::app::{Gateway, Live};
use crate::message::{Caller, CatalogV2Request};
use crate::pki::ClientIdentity;
use crate::registry::Snapshot;
use crate::settings::Settings;

/// Filters cached at most (distinct domain × category × fee combinations asked).
const MAX_FILTERS: usize = 1024;
/// Identical requests remembered at most.
const MAX_MEMOS: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct FilterKey {
    domain: Option<String>,
    category: Option<String>,
    fee: Option<bool>,
}

#[derive(Debug, Clone)]
struct Rendered {
    response: Bytes,
    valid_until: i64,
}

/// A whole OK answer to one exact request.
#[derive(Debug)]
pub struct Memo {
    generation: u64,
    identity: Option<[u8; 32]>,
    request: Box<[u8]>,
    valid_until: i64,
    pub response: Bytes,
    pub caller: Caller,
}

impl Memo {
    /// Whether this is the answer to exactly this request.
    fn answers(&self, generation: u64, identity: Option<&[u8; 32]>, request: &[u8]) -> bool {
        self.generation == generation
            && self.identity.as_ref() == identity
            && *self.request == *request
    }
}

#[derive(Debug, Default)]
pub struct CatalogCache {
    hasher: RandomState,
    by_filter: Mutex<HashMap<FilterKey, Rendered>>,
    by_request: Mutex<HashMap<u64, Vec<Arc<Memo>>>>,
}

impl CatalogCache {
    /// The `nodoChiediCatalogoServiziV2Response` OK for `req`'s filters at `now`, rendered once
    /// per snapshot and filter; with the instant until which it stays exact.
    pub fn response_v2(&self, snap: &Snapshot, req: &CatalogV2Request, now: i64) -> (Bytes, i64) {
        let key = FilterKey {
            domain: req.domain.clone(),
            category: req.category.clone(),
            fee: req.fee,
        };
        if let Some(r) = lock(&self.by_filter).get(&key) {
            if now <= r.valid_until {
                return (r.response.clone(), r.valid_until);
            }
        }
        let filter = CatalogFilter::v2(req, now);
        let response = Bytes::from(ok_v2(&document_v2(snap, &filter)));
        let valid_until = snap.catalog.valid_until(now);
        let mut map = lock(&self.by_filter);
        if map.len() >= MAX_FILTERS && !map.contains_key(&key) {
            map.clear();
        }
        map.insert(
            key,
            Rendered {
                response: response.clone(),
                valid_until,
            },
        );
        (response, valid_until)
    }

    /// The remembered answer to exactly this request, if still exact at `now`.
    pub fn recall(
        &self,
        generation: u64,
        identity: Option<&[u8; 32]>,
        request: &[u8],
        now: i64,
    ) -> Option<Arc<Memo>> {
        let h = self.hasher.hash_one((generation, identity, request));
        let map = lock(&self.by_request);
        map.get(&h)?
            .iter()
            .find(|m| m.answers(generation, identity, request) && now <= m.valid_until)
            .cloned()
    }

    /// Remembers an OK answer computed by the whole pipeline.
    pub fn remember(
        &self,
        generation: u64,
        identity: Option<&[u8; 32]>,
        request: &[u8],
        response: Bytes,
        caller: Caller,
        valid_until: i64,
    ) {
        let h = self.hasher.hash_one((generation, identity, request));
        let memo = Arc::new(Memo {
            generation,
            identity: identity.copied(),
            request: request.into(),
            valid_until,
            response,
            caller,
        });
        let mut map = lock(&self.by_request);
        let count: usize = map.values().map(Vec::len).sum();
        if count >= MAX_MEMOS {
            map.clear();
        }
        let slot = map.entry(h).or_default();
        // One entry per exact request: a newer answer replaces an expired one.
        slot.retain(|m| !m.answers(generation, identity, request));
        slot.push(memo);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The answer the whole pipeline gave to exactly these bytes, from this certificate, under these
/// settings and this snapshot, while still exact. Admission still applies: when a limit refuses,
/// `None`, and the full pipeline runs and answers the refusal in the usual way.
pub fn replay(
    gw: &Gateway,
    settings: &Settings,
    generation: u64,
    body: &[u8],
    identity: Option<&ClientIdentity>,
) -> Option<(Arc<Memo>, Arc<Live>)> {
    let live = gw.live();
    let memo = live.catalog.recall(
        generation,
        identity.map(|i| &i.sha256),
        body,
        crate::pipeline::now(),
    )?;
    let slot = gw.admission.enter(settings.limits.max_in_flight).ok()?;
    if let Some((rate, burst)) = settings.limits.psp_rate {
        gw.admission
            .psp_allows(&memo.caller.psp, rate, burst)
            .ok()?;
    }
    drop(slot);
    Some((memo, live))
}
