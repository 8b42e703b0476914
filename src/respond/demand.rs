//! `demandPaymentNoticeResponse`: the EC's notice mapped for the PSP (interfaces.md §8.2), or a KO.

use super::{close_payload, ko_envelope, open_payload, FaultBean};
use crate::message::{Operation, NODE_FOR_PSP_NS};
use crate::soap::write::XmlOut;
use crate::upstream::Notice;

const ELEMENT: &str = "demandPaymentNoticeResponse";

/// OK: `qrCode`, one `paymentOptionDescription` (`detailDescription` becomes `paymentNote`,
/// `allCCP` is dropped: the PSP type has none), then the EC's descriptive fields.
pub fn ok(n: &Notice) -> String {
    debug_assert_eq!(Operation::DemandPaymentNotice.response_element(), ELEMENT);
    let mut w = XmlOut::with_capacity(1024);
    open_payload(&mut w, "nfp", NODE_FOR_PSP_NS, ELEMENT);
    w.leaf("outcome", "OK")
        .open("qrCode")
        .leaf("fiscalCode", &n.fiscal_code)
        .leaf("noticeNumber", &n.notice_number)
        .close("qrCode")
        .open("paymentList")
        .open("paymentOptionDescription")
        .leaf("amount", &n.amount)
        .leaf("options", &n.options)
        .opt_leaf("dueDate", n.due_date.as_deref())
        .opt_leaf("paymentNote", n.detail_description.as_deref())
        .close("paymentOptionDescription")
        .close("paymentList")
        .leaf("paymentDescription", &n.payment_description)
        .leaf("fiscalCodePA", &n.fiscal_code_pa)
        .leaf("companyName", &n.company_name)
        .opt_leaf("officeName", n.office_name.as_deref());
    close_payload(&mut w, "nfp", ELEMENT);
    crate::soap::envelope::wrap(&w.finish())
}

pub fn ko(bean: &FaultBean) -> String {
    ko_envelope("nfp", NODE_FOR_PSP_NS, ELEMENT, bean)
}
