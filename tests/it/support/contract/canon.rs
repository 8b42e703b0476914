//! The canonical form of an element: prefixes resolved, attributes sorted, comments,
//! annotations and whitespace-only text dropped.

use std::collections::BTreeMap;

use roxmltree::Node;

use super::{WSDL_NS, XSD_NS};

/// Attributes whose value is a QName, so their prefix must be resolved before comparing.
const QNAME_ATTRS: &[&str] = &[
    "type",
    "base",
    "ref",
    "itemType",
    "substitutionGroup",
    "refer",
    "message",
    "element",
    "binding",
];

/// An element with prefixes resolved, attributes sorted and comments, annotations and
/// whitespace-only text dropped: two definitions are the same on the wire iff these are equal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Canon {
    pub name: String,
    pub attrs: BTreeMap<String, String>,
    pub text: String,
    pub children: Vec<Canon>,
}

impl Canon {
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.render_into(0, &mut out);
        out
    }

    fn render_into(&self, depth: usize, out: &mut String) {
        out.push_str(&"  ".repeat(depth));
        out.push('<');
        out.push_str(&self.name);
        for (k, v) in &self.attrs {
            out.push_str(&format!(" {k}=\"{v}\""));
        }
        out.push('>');
        out.push_str(&self.text);
        out.push('\n');
        for c in &self.children {
            c.render_into(depth + 1, out);
        }
    }
}

pub fn expanded(ns: Option<&str>, local: &str) -> String {
    format!("{{{}}}{local}", ns.unwrap_or(""))
}

/// Resolves a QName with the namespaces in scope at `node` (unprefixed → default namespace).
pub fn resolve(node: Node<'_, '_>, qname: &str) -> Result<String, String> {
    let qname = qname.trim();
    let (prefix, local) = match qname.split_once(':') {
        Some((p, l)) => (Some(p), l),
        None => (None, qname),
    };
    match node.lookup_namespace_uri(prefix) {
        Some(ns) => Ok(expanded(Some(ns), local)),
        None if prefix.is_none() => Ok(expanded(None, local)),
        None => Err(format!(
            "prefix of `{qname}` is not declared (line {})",
            node.document().text_pos_at(node.range().start).row
        )),
    }
}

/// Splits `{ns}local` back into its parts.
pub fn split_expanded(name: &str) -> (&str, &str) {
    name.strip_prefix('{')
        .and_then(|rest| rest.split_once('}'))
        .unwrap_or(("", name))
}

fn is_documentation(node: Node<'_, '_>) -> bool {
    node.has_tag_name((XSD_NS, "annotation")) || node.has_tag_name((WSDL_NS, "documentation"))
}

pub fn canon(node: Node<'_, '_>) -> Result<Canon, String> {
    let mut attrs = BTreeMap::new();
    for a in node.attributes() {
        let value = if a.namespace().is_some() {
            a.value().to_owned()
        } else if QNAME_ATTRS.contains(&a.name()) {
            resolve(node, a.value())?
        } else if a.name() == "memberTypes" {
            let names: Result<Vec<String>, String> = a
                .value()
                .split_whitespace()
                .map(|q| resolve(node, q))
                .collect();
            names?.join(" ")
        } else {
            a.value().to_owned()
        };
        attrs.insert(expanded(a.namespace(), a.name()), value);
    }
    let mut text = String::new();
    let mut children = Vec::new();
    for c in node.children() {
        if c.is_element() {
            if !is_documentation(c) {
                children.push(canon(c)?);
            }
        } else if c.is_text() {
            text.push_str(c.text().unwrap_or("").trim());
        }
    }
    Ok(Canon {
        name: expanded(node.tag_name().namespace(), node.tag_name().name()),
        attrs,
        text,
        children,
    })
}
