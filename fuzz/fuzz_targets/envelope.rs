//! Fuzzes what every request goes through before any business check: charset decoding, the
//! screened XML reader (its one-pass plain reader held to quick-xml's tree), the envelope shape,
//! and libxml2 validation of what the screen accepted, which must agree with the tree-based
//! validity proofs (`xsd::fast`).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sanp_gateway::message::NODE_FOR_PSP_NS;
use sanp_gateway::soap::charset::decode;
use sanp_gateway::soap::{tree, Envelope, Limits};
use sanp_gateway::xsd::{fast, Contract};

fn contract() -> &'static Contract {
    static C: OnceLock<Contract> = OnceLock::new();
    C.get_or_init(|| Contract::load().expect("contract schemas compile"))
}

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    // UTF-8 (checked) and Latin-1 (always decodable), or whatever the XML declaration names.
    for charset in [None, Some("iso-8859-1")] {
        let Ok(bytes) = decode(bytes::Bytes::copy_from_slice(data), charset) else { continue };
        // The one-pass plain reader builds exactly quick-xml's tree wherever it reads at all.
        if let Some(plain) = tree::read_plain(&bytes, &limits) {
            let general = tree::parse_general(&bytes, &limits);
            assert_eq!(general.as_ref().ok(), Some(&plain), "plain reader disagrees");
        }
        let Ok(root) = tree::parse(&bytes, &limits) else { continue };
        let env = Envelope::new(root);
        let _ = env.first_payload_name();
        let _ = env.payload(NODE_FOR_PSP_NS, "demandPaymentNoticeRequest");
        // The screen accepted it: libxml2 must not crash on it either, and must agree with
        // every validity proof made without it.
        let request = contract().node_for_psp.validate(&bytes);
        if fast::demand_request(&env.root) {
            assert!(request.is_ok(), "proven but invalid: {request:?}");
        }
        if fast::pa_demand_answer(&env.root) {
            let answer = contract().pa_for_node.validate(&bytes);
            assert!(answer.is_ok(), "proven but invalid: {answer:?}");
        }
    }
});
