//! The catalog projected once per registry snapshot: services with their associations, in the
//! two orders the two catalog versions list them in, and when the projection stops being exact.

use std::collections::{HashMap, HashSet};

use crate::registry::time::Timestamp;
use crate::registry::{truncate_chars, Service, SubjectService};

/// One entry of `elencoSoggettiEroganti`, precomputed for the catalog.
#[derive(Debug, Clone)]
pub struct CatalogSubject {
    pub subject_service_id: String,
    pub domain: String,
    pub denomination: String,
    pub start: Timestamp,
    pub end: Option<Timestamp>,
    pub fee: bool,
    /// `start` and `end` as the catalog writes them (`YYYY-MM-DD`), rendered once.
    pub start_text: String,
    pub end_text: Option<String>,
}

/// One `catalogoServizi` entry with all its associations (filters apply per request).
#[derive(Debug, Clone)]
pub struct CatalogService {
    pub id: String,
    pub description: String,
    pub category: Option<String>,
    pub reference_xsd: String,
    pub version: i64,
    pub subjects: Vec<CatalogSubject>,
}

/// Both catalogs of one snapshot.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// Services sorted by id, each with its associations sorted by id (the V2 catalog).
    pub sorted: Vec<CatalogService>,
    /// Version-1 services in document order (`cdsServices`), each with its associations in
    /// document order (`cdsSubjectServices`): the order the Node lists the v1 catalog in.
    pub v1: Vec<CatalogService>,
    /// Every association's end (epoch seconds), sorted: when the catalog's content changes.
    ends: Vec<i64>,
}

impl Catalog {
    /// Projects `sorted_services` with all `associations` (sorted by id), and `v1_services`
    /// with `v1_associations` in the order given.
    pub fn project<'s>(
        src: &Sources<'_>,
        sorted_services: Vec<&String>,
        associations: impl Iterator<Item = &'s SubjectService>,
        v1_services: Vec<&String>,
        v1_associations: impl Iterator<Item = &'s SubjectService>,
    ) -> Self {
        let sorted = src.list(sorted_services, associations, true);
        let v1 = src.list(v1_services, v1_associations, false);
        let mut ends: Vec<i64> = sorted
            .iter()
            .chain(&v1)
            .flat_map(|s| s.subjects.iter().filter_map(|x| x.end.map(|e| e.epoch)))
            .collect();
        ends.sort_unstable();
        ends.dedup();
        Self { sorted, v1, ends }
    }

    /// The last instant (epoch seconds) at which a catalog rendered at `now` is still exact: an
    /// association ending at `e` is listed while `now <= e`.
    pub fn valid_until(&self, now: i64) -> i64 {
        let i = self.ends.partition_point(|e| *e < now);
        self.ends.get(i).copied().unwrap_or(i64::MAX)
    }
}

/// What the projection reads from a snapshot being built. The EC's name
/// (`denominazioneEnteCreditore`, 1..70) comes from `ec_names` (`cdsSubjects`, else the creditor
/// institution's business name), else the association's own description, else its code.
pub struct Sources<'a> {
    pub services: &'a HashMap<String, Service>,
    pub ec_names: &'a HashMap<String, String>,
    /// Services whose own fields the catalog cannot carry.
    pub unlisted: &'a HashSet<String>,
}

impl Sources<'_> {
    /// The association as the catalog lists it, if it can be listed.
    fn subject(&self, ss: &SubjectService) -> Option<CatalogSubject> {
        let (start, fee) = (ss.start?, ss.fee?);
        let denomination = self
            .ec_names
            .get(&ss.subject)
            .cloned()
            .or_else(|| ss.description.clone())
            .unwrap_or_else(|| ss.subject.clone());
        Some(CatalogSubject {
            subject_service_id: ss.id.clone(),
            domain: ss.subject.clone(),
            denomination: truncate_chars(&denomination, 70),
            start,
            end: ss.end,
            fee,
            start_text: start.date.to_string(),
            end_text: ss.end.map(|e| e.date.to_string()),
        })
    }

    fn service(&self, key: &str, subjects: Vec<CatalogSubject>) -> Option<CatalogService> {
        let s = self.services.get(key)?;
        if subjects.is_empty() || self.unlisted.contains(&s.id) {
            return None;
        }
        Some(CatalogService {
            id: s.id.clone(),
            description: s.description.clone()?,
            category: s.category.clone(),
            reference_xsd: s.reference_xsd.clone(),
            version: s.version,
            subjects,
        })
    }

    /// Services in `order`, each with its listable associations: in the order `associations`
    /// gives them, or sorted by id.
    fn list<'s>(
        &self,
        order: Vec<&String>,
        associations: impl Iterator<Item = &'s SubjectService>,
        sort_subjects: bool,
    ) -> Vec<CatalogService> {
        let mut by_service: HashMap<&str, Vec<CatalogSubject>> = HashMap::new();
        for ss in associations {
            if let Some(x) = self.subject(ss) {
                by_service.entry(ss.service.as_str()).or_default().push(x);
            }
        }
        order
            .into_iter()
            .filter_map(|key| {
                let mut subjects = by_service.remove(key.as_str())?;
                if sort_subjects {
                    subjects.sort_by(|a, b| a.subject_service_id.cmp(&b.subject_service_id));
                }
                self.service(key, subjects)
            })
            .collect()
    }
}
