//! Response stage: the operations' own response documents, OK or KO, and router faults.

pub mod catalog;
pub mod demand;
pub mod fault;
pub mod legacy;

pub use catalog::CATALOG_V2_ELEMENT;
pub use fault::{fault_bean, router_fault, FaultBean, FaultCode};

use crate::soap::write::XmlOut;

/// Writes `<fault>…</fault>` (`common:ctFaultBean`, children in schema order).
pub fn write_fault(w: &mut XmlOut, bean: &FaultBean) {
    w.open("fault")
        .leaf("faultCode", bean.code.code())
        .leaf("faultString", bean.code.string())
        .leaf("id", &bean.id)
        .leaf("description", &bean.description);
    if let Some(o) = &bean.original {
        w.leaf("originalFaultCode", &o.code)
            .leaf("originalFaultString", &o.string)
            .opt_leaf("originalDescription", o.description.as_deref());
    }
    w.close("fault");
}

/// `<prefix:element xmlns:prefix="ns"><outcome>KO</outcome><fault>…</fault></prefix:element>`
/// wrapped in an envelope: the KO shape shared by every SANP 3 operation.
pub fn ko_envelope(prefix: &str, ns: &str, element: &str, bean: &FaultBean) -> String {
    let mut w = XmlOut::with_capacity(512);
    open_payload(&mut w, prefix, ns, element);
    w.leaf("outcome", "KO");
    write_fault(&mut w, bean);
    close_payload(&mut w, prefix, element);
    crate::soap::envelope::wrap(&w.finish())
}

pub(crate) fn open_payload(w: &mut XmlOut, prefix: &str, ns: &str, element: &str) {
    w.raw("<")
        .raw(prefix)
        .raw(":")
        .raw(element)
        .raw(" xmlns:")
        .raw(prefix)
        .raw("=\"")
        .raw(ns)
        .raw("\">");
}

pub(crate) fn close_payload(w: &mut XmlOut, prefix: &str, element: &str) {
    w.raw("</").raw(prefix).raw(":").raw(element).raw(">");
}
