//! Reading an XSD into nodes with resolved prefixes, and writing the generated instance.

use std::collections::HashMap;

use quick_xml::events::{BytesStart, Event};

use super::{Node, XNode, XS};

/// Reads an XSD document into XSD-namespace nodes (other content is dropped).
pub(super) fn read_xsd(bytes: &[u8]) -> Result<XNode, String> {
    let mut reader = quick_xml::Reader::from_reader(bytes);
    let mut stack: Vec<XNode> = Vec::new();
    let mut root = None;
    loop {
        match reader.read_event() {
            Err(e) => return Err(format!("not readable XML: {e}")),
            Ok(Event::Eof) => break,
            Ok(Event::Start(s)) => {
                let n = start(&s, stack.last().map(|p| &p.scope))?;
                stack.push(n);
            }
            Ok(Event::Empty(s)) => {
                let n = start(&s, stack.last().map(|p| &p.scope))?;
                match stack.last_mut() {
                    Some(p) => p.children.push(n),
                    None => root = Some(n),
                }
            }
            Ok(Event::End(_)) => {
                let n = stack.pop().ok_or("unbalanced end tag")?;
                match stack.last_mut() {
                    Some(p) => p.children.push(n),
                    None => root = Some(n),
                }
            }
            Ok(_) => {}
        }
    }
    root.ok_or_else(|| "no root element".into())
}

fn start(s: &BytesStart<'_>, parent: Option<&HashMap<String, String>>) -> Result<XNode, String> {
    let mut scope = parent.cloned().unwrap_or_default();
    let mut attrs = Vec::new();
    for a in s.attributes() {
        let a = a.map_err(|e| format!("attribute: {e}"))?;
        let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
        let value = a
            .unescape_value()
            .map_err(|e| format!("attribute {key}: {e}"))?
            .into_owned();
        if key == "xmlns" {
            scope.insert(String::new(), value);
        } else if let Some(p) = key.strip_prefix("xmlns:") {
            scope.insert(p.to_owned(), value);
        } else {
            attrs.push((key, value));
        }
    }
    let name = String::from_utf8_lossy(s.name().as_ref()).into_owned();
    let (prefix, local) = match name.split_once(':') {
        Some((p, l)) => (p.to_owned(), l.to_owned()),
        None => (String::new(), name.clone()),
    };
    let ns = scope.get(&prefix).map(String::as_str);
    // Elements outside the XSD namespace (appinfo content) keep a marker name nobody matches.
    let local = if ns == Some(XS) {
        local
    } else {
        format!("#{name}")
    };
    Ok(XNode {
        local,
        attrs,
        scope,
        children: Vec::new(),
    })
}

/// Writes `node`: one default namespace when every element shares the root's, else prefixes.
pub(super) fn serialize(node: &Node) -> String {
    fn namespaces(n: &Node, acc: &mut Vec<Option<String>>) {
        if !acc.contains(&n.ns) {
            acc.push(n.ns.clone());
        }
        n.children.iter().for_each(|c| namespaces(c, acc));
    }
    let mut all = Vec::new();
    namespaces(node, &mut all);
    let single = all.len() == 1;
    let prefix = |ns: &Option<String>| -> String {
        match (single, ns) {
            (true, _) | (false, None) => String::new(),
            (false, Some(_)) => {
                let i = all.iter().position(|x| x == ns).unwrap_or(0);
                format!("ns{i}:")
            }
        }
    };
    let mut decls = String::new();
    for (i, ns) in all.iter().enumerate() {
        if let Some(uri) = ns {
            if single {
                decls.push_str(&format!(" xmlns=\"{}\"", escape_text(uri)));
            } else {
                decls.push_str(&format!(" xmlns:ns{i}=\"{}\"", escape_text(uri)));
            }
        }
    }
    fn write(n: &Node, prefix: &dyn Fn(&Option<String>) -> String, decls: &str, out: &mut String) {
        let name = format!("{}{}", prefix(&n.ns), n.local);
        out.push('<');
        out.push_str(&name);
        out.push_str(decls);
        out.push('>');
        out.push_str(&escape_text(&n.text));
        for c in &n.children {
            write(c, prefix, "", out);
        }
        out.push_str("</");
        out.push_str(&name);
        out.push('>');
    }
    let mut out = String::new();
    write(node, &prefix, &decls, &mut out);
    out
}

fn escape_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
