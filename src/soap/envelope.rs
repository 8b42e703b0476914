//! The SOAP 1.1 envelope: where the payload is, and what is wrong with the envelope's shape.

use super::tree::Element;

pub const SOAP11_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";

/// A parsed request or answer document, seen as a SOAP envelope.
#[derive(Debug, Clone)]
pub struct Envelope {
    pub root: Element,
}

/// A shape problem of a well-formed document, in the Node's terms a syntax error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShapeError {
    #[error("the root element is {found}, not a SOAP 1.1 Envelope")]
    NotSoap11 { found: String },
    #[error("the envelope has no Body")]
    NoBody,
    #[error("the Body is empty")]
    EmptyBody,
    #[error("the Body carries more than one element")]
    SeveralPayloads,
    #[error("the Body carries {found}, expected {expected}")]
    WrongPayload { expected: String, found: String },
}

impl Envelope {
    pub fn new(root: Element) -> Self {
        Self { root }
    }

    pub fn is_soap11(&self) -> bool {
        self.root.is(SOAP11_NS, "Envelope")
    }

    /// The Body element. For a non-SOAP-1.1 envelope any child named `Body` is accepted, so the
    /// operation can still be told from the payload when there is no SOAPAction.
    pub fn body(&self) -> Option<&Element> {
        let ns = self.root.ns.as_deref();
        self.root
            .children
            .iter()
            .find(|c| c.local == "Body" && c.ns.as_deref() == ns)
    }

    pub fn header(&self) -> Option<&Element> {
        if !self.is_soap11() {
            return None;
        }
        self.root
            .children
            .iter()
            .find(|c| c.is(SOAP11_NS, "Header"))
    }

    /// Local name of the first Body child: the dispatch key when SOAPAction is absent.
    pub fn first_payload_name(&self) -> Option<&str> {
        self.body()
            .and_then(|b| b.children.first())
            .map(|c| c.local.as_str())
    }

    /// The single payload element, required to be `{ns}local`.
    pub fn payload(&self, ns: &str, local: &str) -> Result<&Element, ShapeError> {
        if !self.is_soap11() {
            return Err(ShapeError::NotSoap11 {
                found: qname(&self.root),
            });
        }
        let body = self.body().ok_or(ShapeError::NoBody)?;
        let payload = match body.children.as_slice() {
            [] => return Err(ShapeError::EmptyBody),
            [one] => one,
            _ => return Err(ShapeError::SeveralPayloads),
        };
        if !payload.is(ns, local) {
            return Err(ShapeError::WrongPayload {
                expected: format!("{{{ns}}}{local}"),
                found: qname(payload),
            });
        }
        Ok(payload)
    }
}

fn qname(e: &Element) -> String {
    match &e.ns {
        Some(ns) => format!("{{{ns}}}{}", e.local),
        None => e.local.clone(),
    }
}

/// Wraps `body_xml` (one payload element, namespaces declared on it) in a SOAP 1.1 envelope.
pub fn wrap(body_xml: &str) -> String {
    let mut s = String::with_capacity(body_xml.len() + OPEN.len() + CLOSE.len());
    s.push_str(OPEN);
    s.push_str(body_xml);
    s.push_str(CLOSE);
    s
}

/// What `wrap` puts before and after the body content, for writers that build in place.
pub const OPEN: &str =
    "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Body>";
pub const CLOSE: &str = "</soapenv:Body></soapenv:Envelope>";

#[cfg(test)]
mod tests {
    use super::super::tree::{parse, Limits};
    use super::*;

    #[test]
    fn open_spells_out_the_soap_namespace() {
        assert_eq!(
            OPEN,
            format!("<soapenv:Envelope xmlns:soapenv=\"{SOAP11_NS}\"><soapenv:Body>")
        );
    }

    fn env(s: &str) -> Envelope {
        Envelope::new(parse(s.as_bytes(), &Limits::default()).expect("well-formed"))
    }

    #[test]
    fn finds_the_payload_and_reports_shape_errors() {
        let ok = env(&wrap(r#"<n:op xmlns:n="urn:n"><a>1</a></n:op>"#));
        assert_eq!(
            ok.payload("urn:n", "op").map(|p| p.child_text("a")),
            Ok(Some("1"))
        );
        assert!(matches!(
            ok.payload("urn:n", "other"),
            Err(ShapeError::WrongPayload { .. })
        ));
        let ns = "http://schemas.xmlsoap.org/ciao/envelope/";
        let bad = env(&format!(
            r#"<s:Envelope xmlns:s="{ns}"><s:Body><op/></s:Body></s:Envelope>"#
        ));
        assert!(matches!(
            bad.payload("", "op"),
            Err(ShapeError::NotSoap11 { .. })
        ));
        assert_eq!(bad.first_payload_name(), Some("op"));
        let none = env(&format!(
            r#"<s:Envelope xmlns:s="{SOAP11_NS}"><s:Header/></s:Envelope>"#
        ));
        assert_eq!(none.payload("", "op"), Err(ShapeError::NoBody));
        let empty = env(&wrap(""));
        assert_eq!(empty.payload("", "op"), Err(ShapeError::EmptyBody));
        let two = env(&wrap("<a/><b/>"));
        assert_eq!(two.payload("", "a"), Err(ShapeError::SeveralPayloads));
    }
}
