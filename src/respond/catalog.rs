//! The KO of `nodoChiediCatalogoServiziV2` (its OK is the catalog's own, in `catalog::v2`).

use super::{ko_envelope, FaultBean};
use crate::message::NODE_FOR_PSP_NS;

/// The V2 catalog's response element, shared by its OK (in `catalog`) and KO.
pub const CATALOG_V2_ELEMENT: &str = "nodoChiediCatalogoServiziV2Response";

pub fn ko_v2(bean: &FaultBean) -> String {
    ko_envelope("nfp", NODE_FOR_PSP_NS, CATALOG_V2_ELEMENT, bean)
}
