//! Response readers: answers parsed with an independent parser (roxmltree) and checked against
//! the official schemas.

use http::StatusCode;

use super::{official, Answer, PAY_I_NS, PPT_NS};

/// `leaves` as `(path, text)` string slices, for comparing with a literal table.
pub fn pairs(leaves: &[(String, String)]) -> Vec<(&str, &str)> {
    leaves
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

/// Asserts HTTP 200, the SOAP content type, validity against the official schemas and the
/// operation's own response element, and returns the parsed response.
pub fn business(a: Answer, element: &str) -> Response {
    assert_eq!(
        a.status,
        StatusCode::OK,
        "business answers are HTTP 200: {}",
        a.body
    );
    assert_eq!(a.content_type, "text/xml; charset=UTF-8");
    official::assert_valid_node_for_psp(&a.body);
    let r = Response::parse(&a.body);
    assert_eq!(r.element, element, "{}", a.body);
    r
}

/// The fields of a SANP 3 response, read with an independent parser (roxmltree).
#[derive(Debug, Clone, Default)]
pub struct Response {
    pub raw: String,
    pub element: String,
    pub element_ns: String,
    pub outcome: String,
    pub fault: Option<Fault>,
    /// Every leaf under the payload as `path/of/local/names` → text, in document order.
    pub leaves: Vec<(String, String)>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fault {
    pub code: String,
    pub string: String,
    pub id: String,
    pub description: Option<String>,
    pub original_code: Option<String>,
    pub original_string: Option<String>,
    pub original_description: Option<String>,
}

impl Response {
    pub fn parse(xml: &str) -> Self {
        let doc = roxmltree::Document::parse(xml).expect("well-formed answer");
        let body = doc
            .root_element()
            .children()
            .find(|n| n.has_tag_name(("http://schemas.xmlsoap.org/soap/envelope/", "Body")))
            .expect("Body");
        let payload = body.children().find(|n| n.is_element()).expect("payload");
        let mut leaves = Vec::new();
        collect(payload, "", &mut leaves);
        let get = |p: &str| leaves.iter().find(|(k, _)| k == p).map(|(_, v)| v.clone());
        let fault = get("fault/faultCode").map(|code| Fault {
            code,
            string: get("fault/faultString").unwrap_or_default(),
            id: get("fault/id").unwrap_or_default(),
            description: get("fault/description"),
            original_code: get("fault/originalFaultCode"),
            original_string: get("fault/originalFaultString"),
            original_description: get("fault/originalDescription"),
        });
        // Children must be unqualified, as in the official schemas (the RPT/RT types inside
        // legacy payment data are the one qualified exception).
        for n in payload
            .descendants()
            .skip(1)
            .filter(|n| n.is_element() && n.tag_name().namespace() != Some(PAY_I_NS))
        {
            assert_eq!(
                n.tag_name().namespace(),
                None,
                "child {} is qualified",
                n.tag_name().name()
            );
        }
        Self {
            raw: xml.to_owned(),
            element: payload.tag_name().name().to_owned(),
            element_ns: payload.tag_name().namespace().unwrap_or("").to_owned(),
            outcome: get("outcome").unwrap_or_default(),
            fault,
            leaves,
        }
    }

    pub fn get(&self, path: &str) -> Option<&str> {
        self.leaves
            .iter()
            .find(|(k, _)| k == path)
            .map(|(_, v)| v.as_str())
    }

    pub fn fault(&self) -> &Fault {
        self.fault
            .as_ref()
            .unwrap_or_else(|| panic!("no fault in {}", self.raw))
    }

    pub fn paths(&self) -> Vec<&str> {
        self.leaves.iter().map(|(k, _)| k.as_str()).collect()
    }
}

fn collect(node: roxmltree::Node<'_, '_>, prefix: &str, out: &mut Vec<(String, String)>) {
    for c in node.children().filter(|n| n.is_element()) {
        let path = if prefix.is_empty() {
            c.tag_name().name().to_owned()
        } else {
            format!("{prefix}/{}", c.tag_name().name())
        };
        if c.children().any(|n| n.is_element()) {
            collect(c, &path, out);
        } else {
            out.push((path, c.text().unwrap_or("").to_owned()));
        }
    }
}

/// A legacy answer, read with roxmltree: the inner element's leaves by path.
#[derive(Debug, Clone)]
pub struct LegacyResponse {
    pub raw: String,
    pub outer: String,
    pub inner: String,
    pub leaves: Vec<(String, String)>,
}

impl LegacyResponse {
    pub fn parse(xml: &str) -> Self {
        let r = Response::parse(xml);
        assert_eq!(r.element_ns, PPT_NS, "{xml}");
        let doc = roxmltree::Document::parse(xml).expect("well-formed");
        let inner = doc
            .descendants()
            .find(|n| n.tag_name().namespace() == Some(PPT_NS))
            .and_then(|outer| outer.children().find(|n| n.is_element()))
            .map(|n| n.tag_name().name().to_owned())
            .unwrap_or_default();
        let prefix = format!("{inner}/");
        let leaves = r
            .leaves
            .iter()
            .filter_map(|(k, v)| k.strip_prefix(&prefix).map(|k| (k.to_owned(), v.clone())))
            .collect();
        Self {
            raw: xml.to_owned(),
            outer: r.element,
            inner,
            leaves,
        }
    }

    pub fn get(&self, path: &str) -> Option<&str> {
        self.leaves
            .iter()
            .find(|(k, _)| k == path)
            .map(|(_, v)| v.as_str())
    }

    pub fn paths(&self) -> Vec<&str> {
        self.leaves.iter().map(|(k, _)| k.as_str()).collect()
    }

    pub fn fault_code(&self) -> &str {
        self.get("fault/faultCode")
            .unwrap_or_else(|| panic!("no fault in {}", self.raw))
    }
}
