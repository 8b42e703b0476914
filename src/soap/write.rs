//! Writes XML text: escaping, replacement of characters XML 1.0 cannot carry, and element trees.

use std::fmt::Write as _;

use super::tree::Element;

/// An append-only XML text buffer. Element names are trusted literals; text is escaped.
#[derive(Debug, Default)]
pub struct XmlOut {
    buf: String,
}

impl XmlOut {
    pub fn with_capacity(n: usize) -> Self {
        Self {
            buf: String::with_capacity(n),
        }
    }

    /// Appends trusted markup verbatim.
    pub fn raw(&mut self, markup: &str) -> &mut Self {
        self.buf.push_str(markup);
        self
    }

    /// Appends trusted markup produced by `f` straight into the buffer (large encoded blobs).
    pub fn raw_with(&mut self, f: impl FnOnce(&mut String)) -> &mut Self {
        f(&mut self.buf);
        self
    }

    pub fn open(&mut self, name: &str) -> &mut Self {
        self.buf.push('<');
        self.buf.push_str(name);
        self.buf.push('>');
        self
    }

    pub fn close(&mut self, name: &str) -> &mut Self {
        self.buf.push_str("</");
        self.buf.push_str(name);
        self.buf.push('>');
        self
    }

    /// `<name>text</name>` with `text` escaped.
    pub fn leaf(&mut self, name: &str, text: &str) -> &mut Self {
        self.open(name);
        escape_text_into(&mut self.buf, text);
        self.close(name)
    }

    /// Writes the leaf only when there is a value.
    pub fn opt_leaf(&mut self, name: &str, text: Option<&str>) -> &mut Self {
        if let Some(t) = text {
            self.leaf(name, t);
        }
        self
    }

    pub fn text(&mut self, text: &str) -> &mut Self {
        escape_text_into(&mut self.buf, text);
        self
    }

    /// Writes `e` and its subtree. Qualified elements get a prefix (`pay_i` for the RPT/RT
    /// namespace, `ns1`, `ns2`… otherwise) declared where first needed; unqualified ones none, so
    /// this never relies on a default namespace.
    pub fn element(&mut self, e: &Element) -> &mut Self {
        let mut scope: Vec<(String, String)> = Vec::new();
        write_element(&mut self.buf, e, &mut scope);
        self
    }

    pub fn finish(self) -> String {
        self.buf
    }
}

fn write_element(out: &mut String, e: &Element, scope: &mut Vec<(String, String)>) {
    let declared = scope.len();
    let (name, declaration) = match &e.ns {
        None => (e.local.clone(), None),
        Some(ns) => match scope.iter().rev().find(|(_, uri)| uri == ns) {
            Some((prefix, _)) => (format!("{prefix}:{}", e.local), None),
            None => {
                let prefix = if ns == crate::message::PAY_I_NS {
                    "pay_i".to_owned()
                } else {
                    format!("ns{}", scope.len() + 1)
                };
                scope.push((prefix.clone(), ns.clone()));
                (format!("{prefix}:{}", e.local), Some((prefix, ns.clone())))
            }
        },
    };
    out.push('<');
    out.push_str(&name);
    if let Some((prefix, ns)) = declaration {
        let _ = write!(out, " xmlns:{prefix}=\"");
        escape_attr_into(out, &ns);
        out.push('"');
    }
    out.push('>');
    if e.children.is_empty() {
        escape_text_into(out, &e.text);
    }
    for c in &e.children {
        write_element(out, c, scope);
    }
    let _ = write!(out, "</{name}>");
    scope.truncate(declared);
}

/// Escapes character data: `&`, `<`, `>` (quotes stay as they are, as the Node writes them), and
/// replaces characters that are not allowed in XML 1.0 with U+FFFD, so whatever a registry or an
/// EC supplies cannot make our output ill-formed.
pub fn escape_text_into(out: &mut String, text: &str) {
    let bytes = text.as_bytes();
    // Most values need nothing: one table lookup per byte and a single copy.
    if bytes.iter().all(|&b| PLAIN[usize::from(b)]) {
        out.push_str(text);
        return;
    }
    // Runs of printable ASCII are still copied in one go.
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if matches!(b, b'\t' | b'\n' | 0x20..=0x7E) && !matches!(b, b'&' | b'<' | b'>') {
            i += 1;
            continue;
        }
        out.push_str(&text[start..i]);
        // `i` is on a character boundary: everything before it was ASCII or whole characters.
        let Some(c) = text[i..].chars().next() else {
            break;
        };
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            // A bare CR would be normalised away by the reader; keep it as a reference.
            '\r' => out.push_str("&#13;"),
            c if is_xml_char(c) => out.push(c),
            _ => out.push('\u{FFFD}'),
        }
        i += c.len_utf8();
        start = i;
    }
    out.push_str(&text[start..]);
}

/// Bytes that can be copied as they are: everything but markup, controls other than tab and
/// newline, and 0xEF, which leads U+F000..U+FFFF (the two non-characters among them).
static PLAIN: [bool; 256] = {
    let mut t = [true; 256];
    let mut b = 0;
    while b < 0x20 {
        t[b] = b == 0x09 || b == 0x0A;
        b += 1;
    }
    t[b'&' as usize] = false;
    t[b'<' as usize] = false;
    t[b'>' as usize] = false;
    t[0xEF] = false;
    t
};

/// Escapes an attribute value (double-quoted): character data rules plus `"`.
pub fn escape_attr_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            c => escape_text_into(out, c.encode_utf8(&mut [0u8; 4])),
        }
    }
}

pub fn escape_text(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    escape_text_into(&mut s, text);
    s
}

pub fn escape_attr(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    escape_attr_into(&mut s, text);
    s
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::soap::tree::{parse, Limits};

    #[test]
    fn escapes_markup_and_replaces_forbidden_characters() {
        assert_eq!(
            escape_text("a<b>&\"c'\u{1}\r"),
            "a&lt;b&gt;&amp;\"c'\u{FFFD}&#13;"
        );
        assert_eq!(escape_attr("a\"b<\n"), "a&quot;b&lt;&#10;");
        // Non-ASCII passes through, non-characters are replaced, tabs and newlines stay.
        assert_eq!(
            escape_text("è€x\u{FFFE}\u{7F}\t\n&z"),
            "è€x\u{FFFD}\u{7F}\t\n&amp;z"
        );
        let mut w = XmlOut::default();
        w.open("a").leaf("b", "x&y").opt_leaf("c", None).close("a");
        assert_eq!(w.finish(), "<a><b>x&amp;y</b></a>");
    }

    #[test]
    fn element_trees_round_trip_with_their_namespaces() {
        let src = r#"<p:a xmlns:p="urn:p" xmlns:q="http://www.digitpa.gov.it/schemas/2011/Pagamenti/"><b>1 &amp; 2</b><q:c><q:d>x</q:d><e/></q:c></p:a>"#;
        let tree = parse(src.as_bytes(), &Limits::default()).expect("reads");
        let mut w = XmlOut::default();
        w.element(&tree);
        let out = w.finish();
        assert_eq!(
            out,
            r#"<ns1:a xmlns:ns1="urn:p"><b>1 &amp; 2</b><pay_i:c xmlns:pay_i="http://www.digitpa.gov.it/schemas/2011/Pagamenti/"><pay_i:d>x</pay_i:d><e></e></pay_i:c></ns1:a>"#
        );
        assert_eq!(
            parse(out.as_bytes(), &Limits::default()).expect("re-reads"),
            tree
        );
    }
}
