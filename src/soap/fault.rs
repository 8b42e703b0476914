//! SOAP 1.1 Fault documents, in the byte shape the Node's router emits.

use super::envelope::SOAP11_NS;
use super::write::escape_text as escape;

/// `faultcode` / `faultstring` / `detail` of a router-level fault. The Node puts plain text in
/// `detail`; we do the same (SOAP 1.1's schema would want element content there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoapFault {
    pub code: String,
    pub string: String,
    pub detail: String,
}

impl SoapFault {
    pub fn to_xml(&self) -> String {
        format!(
            "<soap:Envelope xmlns:soap=\"{SOAP11_NS}\"><soap:Body><soap:Fault><faultcode>{}</faultcode><faultstring>{}</faultstring><detail>{}</detail></soap:Fault></soap:Body></soap:Envelope>",
            escape(&self.code),
            escape(&self.string),
            escape(&self.detail)
        )
    }
}
