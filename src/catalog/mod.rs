//! The service catalog beside the pipeline: projected once per registry snapshot, rendered per
//! filter in both versions, and its answers cached (and replayed) per snapshot.

mod cache;
mod project;
pub mod v1;
pub mod v2;

pub use cache::{replay, CatalogCache, Memo};
pub use project::{Catalog, CatalogService, CatalogSubject, Sources};
pub use v1::catalog_v1_document;
pub use v2::{document_v2, ok_v2, CatalogFilter};
