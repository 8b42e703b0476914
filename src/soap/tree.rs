//! Reads an XML document into a small element tree, screening it for hostile constructs first.
//!
//! With `plain.rs` (the one-pass reader of plain documents, tried first) this is the only place
//! request and answer bytes are parsed by our own code; libxml2 parses them again for
//! validation, but only after this screen has accepted them.

use std::borrow::Cow;

use super::declaration::plain_declaration;
pub use super::declaration::{declared_encoding, is_blank, is_blank_byte};
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

/// Bounds applied while reading, so a hostile document costs at most a known amount of work.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_depth: usize,
    pub max_elements: usize,
    pub max_attributes: usize,
    pub max_name_bytes: usize,
    pub max_text_bytes: usize,
}

/// The settings' defaults (`limits.max_xml_*`), so code and tests without settings read documents
/// exactly as a gateway with default settings does.
impl Default for Limits {
    fn default() -> Self {
        use crate::settings::defaults as d;
        Self {
            max_depth: d::DEFAULT_MAX_XML_DEPTH,
            max_elements: d::DEFAULT_MAX_XML_ELEMENTS,
            max_attributes: d::DEFAULT_MAX_XML_ATTRIBUTES,
            max_name_bytes: d::DEFAULT_MAX_XML_NAME_BYTES,
            max_text_bytes: d::DEFAULT_MAX_XML_TEXT_BYTES,
        }
    }
}

/// One element: its expanded name, its own text, and its element children.
#[derive(Debug, Clone, Default)]
pub struct Element {
    /// Namespace URI, `None` for unqualified elements.
    pub ns: Option<String>,
    pub local: String,
    /// Character data directly inside this element (entities resolved, CDATA included).
    pub text: String,
    pub children: Vec<Element>,
    /// Read without anything a strict XML parser might judge differently from this reader: no
    /// attributes (namespace declarations aside), CDATA, comments, carriage returns, `]]>` in
    /// text, or names beyond plain ASCII; on the root, nothing of the kind around it either.
    /// Only such elements can be proven schema-valid without libxml2 (see `xsd::fast`).
    pub plain: bool,
    /// Byte offset of the start tag's `<` in the document read (0 for elements built in code), so
    /// a proof can name the line libxml2 would.
    pub start: usize,
}

/// Two elements are equal when their content is: where they were read does not count.
impl PartialEq for Element {
    fn eq(&self, other: &Self) -> bool {
        self.ns == other.ns
            && self.local == other.local
            && self.text == other.text
            && self.plain == other.plain
            && self.children == other.children
    }
}

impl Eq for Element {}

impl Element {
    /// First child with this local name, whatever its namespace.
    pub fn child(&self, local: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.local == local)
    }

    /// Text of the first child with this local name.
    pub fn child_text(&self, local: &str) -> Option<&str> {
        self.child(local).map(|c| c.text.as_str())
    }

    /// Follows a path of local names (`["paymentList", "paymentOptionDescription", "amount"]`).
    pub fn descend(&self, path: &[&str]) -> Option<&Element> {
        path.iter().try_fold(self, |e, name| e.child(name))
    }

    pub fn is(&self, ns: &str, local: &str) -> bool {
        self.local == local && self.ns.as_deref() == Some(ns)
    }
}

/// Why a document could not be read. Each variant is a distinct hostile or broken input class.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    #[error("not well-formed XML: {0}")]
    Malformed(String),
    #[error("no root element")]
    Empty,
    #[error("a DOCTYPE declaration is not allowed")]
    Doctype,
    #[error("processing instruction other than the XML declaration")]
    ProcessingInstruction,
    #[error("reference to undeclared entity &{0};")]
    UndefinedEntity(String),
    #[error("undeclared namespace prefix {0}")]
    UndeclaredPrefix(String),
    #[error("elements nested deeper than {0}")]
    TooDeep(usize),
    #[error("more than {0} elements")]
    TooManyElements(usize),
    #[error("more than {0} attributes on one element")]
    TooManyAttributes(usize),
    #[error("a name longer than {0} bytes")]
    NameTooLong(usize),
    #[error("text longer than {0} bytes")]
    TextTooLong(usize),
    #[error("content after the root element")]
    ContentAfterRoot,
    #[error("unexpected end of document inside an element")]
    Unclosed,
    #[error("character U+{0:04X} is not allowed in XML 1.0")]
    InvalidChar(u32),
}

impl XmlError {
    /// A fixed name for the class of problem, for counters and logs.
    pub fn class(&self) -> &'static str {
        match self {
            XmlError::Malformed(_) => "malformed",
            XmlError::Empty => "empty",
            XmlError::Doctype => "doctype",
            XmlError::ProcessingInstruction => "processing_instruction",
            XmlError::UndefinedEntity(_) => "undefined_entity",
            XmlError::UndeclaredPrefix(_) => "undeclared_prefix",
            XmlError::TooDeep(_) => "too_deep",
            XmlError::TooManyElements(_) => "too_many_elements",
            XmlError::TooManyAttributes(_) => "too_many_attributes",
            XmlError::NameTooLong(_) => "name_too_long",
            XmlError::TextTooLong(_) => "text_too_long",
            XmlError::ContentAfterRoot => "content_after_root",
            XmlError::Unclosed => "unclosed",
            XmlError::InvalidChar(_) => "invalid_char",
        }
    }
}

/// Reads `xml` (UTF-8) into its root element: a plain document in one pass (`plain`), any other
/// with quick-xml, which also names every error.
pub fn parse(xml: &[u8], limits: &Limits) -> Result<Element, XmlError> {
    match super::plain::read(xml, limits) {
        Some(root) => Ok(root),
        None => parse_general(xml, limits),
    }
}

/// The one-pass reader alone: `Some` only for a plain document within `limits`, which
/// [`parse_general`] reads into the same tree (for tests and the fuzz target).
pub fn read_plain(xml: &[u8], limits: &Limits) -> Option<Element> {
    super::plain::read(xml, limits)
}

/// Reads any document with quick-xml, screening it for hostile constructs.
pub fn parse_general(xml: &[u8], limits: &Limits) -> Result<Element, XmlError> {
    let mut reader = NsReader::from_reader(xml);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut elements = 0usize;
    // Whether everything outside the root (declaration, comments) is plain too.
    let mut plain_prolog = true;
    let mut seen_any = false;
    // Blank text read first in the open element, not yet copied into it.
    let mut lead: Option<&str> = None;
    // Bytes of text read in each open element, the blanks not kept included: the text limit
    // counts what was sent, not what was kept.
    let mut sizes: Vec<usize> = Vec::new();
    loop {
        let at = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| XmlError::Malformed(e.to_string()))?;
        let first = !std::mem::replace(&mut seen_any, true);
        match event {
            Event::Start(ref start) | Event::Empty(ref start) => {
                if root.is_some() {
                    return Err(XmlError::ContentAfterRoot);
                }
                elements += 1;
                if elements > limits.max_elements {
                    return Err(XmlError::TooManyElements(limits.max_elements));
                }
                if stack.len() >= limits.max_depth {
                    return Err(XmlError::TooDeep(limits.max_depth));
                }
                let mut element = open(&reader, start, limits)?;
                element.start = usize::try_from(at).unwrap_or(usize::MAX);
                // The parent has a child: its leading blank was only indentation.
                lead = None;
                if matches!(event, Event::Empty(_)) {
                    close(&mut stack, &mut root, element);
                } else {
                    stack.push(element);
                    sizes.push(0);
                }
            }
            Event::End(_) => match stack.pop() {
                Some(mut element) => {
                    sizes.pop();
                    // A leaf of blanks only: they are its value.
                    if let Some(blank) = lead.take() {
                        element.text.push_str(blank);
                    }
                    close(&mut stack, &mut root, element)
                }
                None => return Err(XmlError::Malformed("unmatched end tag".into())),
            },
            Event::Text(text) => {
                let raw: &[u8] = &text;
                let cr = raw.contains(&b'\r');
                if cr || (raw.contains(&b'>') && raw.windows(3).any(|w| w == b"]]>")) {
                    not_plain(&mut stack, &mut plain_prolog);
                }
                // Only a CR needs normalising (XML 1.0 §2.11); anything else is the input's bytes.
                let malformed = |e: &dyn std::fmt::Display| XmlError::Malformed(e.to_string());
                let content: Cow<'_, str> = if cr {
                    Cow::Owned(
                        text.xml10_content()
                            .map_err(|e| malformed(&e))?
                            .into_owned(),
                    )
                } else {
                    match text.into_inner() {
                        Cow::Borrowed(b) => {
                            Cow::Borrowed(std::str::from_utf8(b).map_err(|e| malformed(&e))?)
                        }
                        Cow::Owned(v) => {
                            Cow::Owned(String::from_utf8(v).map_err(|e| malformed(&e))?)
                        }
                    }
                };
                check_chars(&content)?;
                count_text(&mut sizes, content.len(), limits)?;
                match (content, stack.last_mut()) {
                    (Cow::Borrowed(run), Some(open)) => keep_text(open, &mut lead, run),
                    (content, _) => {
                        flush_lead(&mut stack, &mut lead);
                        push_text(&mut stack, &root, &content)?;
                    }
                }
            }
            Event::CData(data) => {
                not_plain(&mut stack, &mut plain_prolog);
                let content = data
                    .decode()
                    .map_err(|e| XmlError::Malformed(e.to_string()))?;
                check_chars(&content)?;
                count_text(&mut sizes, content.len(), limits)?;
                flush_lead(&mut stack, &mut lead);
                push_text(&mut stack, &root, &content)?;
            }
            Event::GeneralRef(reference) => {
                // References belong to content: one before or after the root is not XML.
                if stack.is_empty() {
                    return Err(XmlError::Malformed(
                        "reference outside the root element".into(),
                    ));
                }
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(c)) => c,
                    Ok(None) => {
                        let name = reference
                            .decode()
                            .map_err(|e| XmlError::Malformed(e.to_string()))?;
                        predefined(&name).ok_or_else(|| XmlError::UndefinedEntity(name.into()))?
                    }
                    Err(e) => return Err(XmlError::Malformed(e.to_string())),
                };
                let mut utf8 = [0u8; 4];
                let content = resolved.encode_utf8(&mut utf8);
                check_chars(content)?;
                count_text(&mut sizes, content.len(), limits)?;
                flush_lead(&mut stack, &mut lead);
                push_text(&mut stack, &root, content)?;
            }
            Event::DocType(_) => return Err(XmlError::Doctype),
            Event::PI(_) => return Err(XmlError::ProcessingInstruction),
            Event::Decl(decl) => {
                // Only at the very start of the document (XML 1.0 §2.8).
                if !first {
                    return Err(XmlError::Malformed(
                        "XML declaration not at the start of the document".into(),
                    ));
                }
                if !plain_declaration(&decl) {
                    plain_prolog = false;
                }
            }
            Event::Comment(_) => not_plain(&mut stack, &mut plain_prolog),
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(XmlError::Unclosed);
    }
    let mut root = root.ok_or(XmlError::Empty)?;
    root.plain &= plain_prolog;
    Ok(root)
}

/// Keeps a run of the input's text in the open element, as both readers do: blanks between
/// elements are not kept (element-only content ignores them); a leading blank waits in `lead` to
/// learn whether children follow, without a copy, and becomes the text of a leaf of blanks.
pub(super) fn keep_text<'a>(open: &mut Element, lead: &mut Option<&'a str>, run: &'a str) {
    if is_blank(run) && open.text.is_empty() && lead.is_none() {
        if open.children.is_empty() {
            *lead = Some(run);
        }
    } else {
        if let Some(blank) = lead.take() {
            open.text.push_str(blank);
        }
        open.text.push_str(run);
    }
}

/// Copies a pending leading blank into the open element, before more of its text.
fn flush_lead(stack: &mut [Element], lead: &mut Option<&str>) {
    if let (Some(blank), Some(open)) = (lead.take(), stack.last_mut()) {
        open.text.push_str(blank);
    }
}

/// Adds `n` bytes of text to the open element's count (outside the root there is none).
fn count_text(sizes: &mut [usize], n: usize, limits: &Limits) -> Result<(), XmlError> {
    if let Some(size) = sizes.last_mut() {
        *size += n;
        if *size > limits.max_text_bytes {
            return Err(XmlError::TextTooLong(limits.max_text_bytes));
        }
    }
    Ok(())
}

/// Marks the open element (or, outside the root, the document) as not plain.
fn not_plain(stack: &mut [Element], prolog: &mut bool) {
    match stack.last_mut() {
        Some(e) => e.plain = false,
        None => *prolog = false,
    }
}

/// XML requires a blank between attributes; quick-xml does not check it.
fn attributes_separated(tag: &[u8]) -> bool {
    // Most tags have no attribute value at all (a quick search, not the byte loop below).
    if !tag.contains(&b'"') && !tag.contains(&b'\'') {
        return true;
    }
    let mut quote = None;
    for (i, b) in tag.iter().enumerate() {
        match quote {
            None if *b == b'"' || *b == b'\'' => quote = Some(*b),
            Some(q) if *b == q => {
                quote = None;
                if tag
                    .get(i + 1)
                    .is_some_and(|n| !is_blank_byte(*n) && *n != b'/')
                {
                    return false;
                }
            }
            _ => {}
        }
    }
    true
}

/// Bytes allowed after the first in a plain name: ASCII letters, digits, `_`, `-`, `.`.
pub(super) const NAME_BYTE: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.';
        c += 1;
    }
    t
};

/// An ASCII XML name without a colon (a strict subset of NCName).
pub(super) fn plain_ncname(name: &[u8]) -> bool {
    match name.split_first() {
        Some((first, rest)) => {
            (first.is_ascii_alphabetic() || *first == b'_')
                && rest.iter().all(|b| NAME_BYTE[usize::from(*b)])
        }
        None => false,
    }
}

/// `prefix:local` or `local`, each a plain NCName.
pub(super) fn plain_qname(name: &[u8]) -> bool {
    match name.iter().position(|b| *b == b':') {
        Some(i) => plain_ncname(&name[..i]) && plain_ncname(&name[i + 1..]),
        None => plain_ncname(name),
    }
}

fn open(
    reader: &NsReader<&[u8]>,
    start: &BytesStart<'_>,
    limits: &Limits,
) -> Result<Element, XmlError> {
    let name = start.name();
    if name.as_ref().len() > limits.max_name_bytes {
        return Err(XmlError::NameTooLong(limits.max_name_bytes));
    }
    let (resolved, _) = reader.resolve_element(name);
    let ns = namespace(resolved, name.prefix().map(|p| p.into_inner()))?;
    if !attributes_separated(start) {
        return Err(XmlError::Malformed(
            "attributes not separated by blanks".into(),
        ));
    }
    let mut plain = plain_qname(name.as_ref());
    let mut count = 0usize;
    for attr in start.attributes() {
        let attr = attr.map_err(|e| XmlError::Malformed(e.to_string()))?;
        count += 1;
        if count > limits.max_attributes {
            return Err(XmlError::TooManyAttributes(limits.max_attributes));
        }
        if attr.key.as_ref().len() > limits.max_name_bytes {
            return Err(XmlError::NameTooLong(limits.max_name_bytes));
        }
        if attr.value.len() > limits.max_text_bytes {
            return Err(XmlError::TextTooLong(limits.max_text_bytes));
        }
        // Unescaping also refuses references to undeclared entities inside attribute values.
        let value = attr.unescape_value().map_err(|e| match e {
            quick_xml::Error::Escape(quick_xml::escape::EscapeError::UnrecognizedEntity(
                _,
                name,
            )) => XmlError::UndefinedEntity(name),
            other => XmlError::Malformed(other.to_string()),
        })?;
        check_chars(&value)?;
        // Only namespace declarations keep an element plain: `xmlns` or `xmlns:p` (p not `xml…`)
        // bound to a non-empty URI with nothing a strict parser would refuse in it.
        let key = attr.key.as_ref();
        let declaration = match key.strip_prefix(b"xmlns") {
            Some(b"") => true,
            Some(rest) => rest
                .strip_prefix(b":")
                .is_some_and(|p| plain_ncname(p) && !p.to_ascii_lowercase().starts_with(b"xml")),
            None => false,
        };
        if !declaration || value.is_empty() || attr.value.contains(&b'<') || value.contains('\r') {
            plain = false;
        }
        // Prefixed attributes (other than xmlns declarations) must use a declared prefix too.
        let (attr_ns, _) = reader.resolve_attribute(attr.key);
        if let ResolveResult::Unknown(prefix) = attr_ns {
            return Err(XmlError::UndeclaredPrefix(
                String::from_utf8_lossy(&prefix).into_owned(),
            ));
        }
    }
    let local = std::str::from_utf8(name.local_name().into_inner())
        .map_err(|e| XmlError::Malformed(e.to_string()))?
        .to_owned();
    Ok(Element {
        ns,
        local,
        text: String::new(),
        children: Vec::new(),
        plain,
        start: 0,
    })
}

fn namespace(
    resolved: ResolveResult<'_>,
    prefix: Option<&[u8]>,
) -> Result<Option<String>, XmlError> {
    match resolved {
        ResolveResult::Bound(ns) => std::str::from_utf8(ns.into_inner())
            .map(|s| Some(s.to_owned()))
            .map_err(|e| XmlError::Malformed(e.to_string())),
        ResolveResult::Unbound => Ok(None),
        ResolveResult::Unknown(p) => Err(XmlError::UndeclaredPrefix(
            String::from_utf8_lossy(prefix.unwrap_or(&p)).into_owned(),
        )),
    }
}

fn close(stack: &mut [Element], root: &mut Option<Element>, element: Element) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(element),
        None => *root = Some(element),
    }
}

/// Appends checked and counted text to the open element; outside the root only blanks may appear.
fn push_text(stack: &mut [Element], root: &Option<Element>, content: &str) -> Result<(), XmlError> {
    match stack.last_mut() {
        Some(current) => {
            current.text.push_str(content);
            Ok(())
        }
        None if is_blank(content) => Ok(()),
        None if root.is_some() => Err(XmlError::ContentAfterRoot),
        None => Err(XmlError::Malformed("text before the root element".into())),
    }
}

/// XML 1.0 `Char`: no C0 controls but tab, LF and CR; no U+FFFE/U+FFFF (surrogates cannot occur
/// in a Rust string). libxml2 would refuse them later; refusing here keeps every unreadable
/// document a router fault.
pub(super) fn check_chars(s: &str) -> Result<(), XmlError> {
    // Almost always: no control characters and no 0xEF lead byte (U+F000..U+FFFF) at all,
    // eight bytes at a time (a byte below 0x20 or equal to 0xEF sets its word's flag).
    let bytes = s.as_bytes();
    let mut words = bytes.chunks_exact(8);
    let mut flagged = false;
    for w in &mut words {
        let x = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
        const LOW: u64 = 0x0101_0101_0101_0101;
        const HIGH: u64 = 0x8080_8080_8080_8080;
        let below_space = x.wrapping_sub(LOW * 0x20) & !x & HIGH;
        let ef = x ^ (LOW * 0xEF);
        let is_ef = ef.wrapping_sub(LOW) & !ef & HIGH;
        if below_space | is_ef != 0 {
            flagged = true;
            break;
        }
    }
    let plain_byte = |b: &u8| (*b >= 0x20 && *b != 0xEF) || matches!(b, b'\t' | b'\n' | b'\r');
    if !flagged && words.remainder().iter().all(plain_byte) {
        return Ok(());
    }
    if bytes.iter().all(plain_byte) {
        return Ok(());
    }
    match s
        .chars()
        .find(|c| matches!(c, '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}'))
    {
        Some(c) => Err(XmlError::InvalidChar(u32::from(c))),
        None => Ok(()),
    }
}

fn predefined(name: &str) -> Option<char> {
    match name {
        "lt" => Some('<'),
        "gt" => Some('>'),
        "amp" => Some('&'),
        "apos" => Some('\''),
        "quot" => Some('"'),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(s: &str) -> Result<Element, XmlError> {
        parse(s.as_bytes(), &Limits::default())
    }

    #[test]
    fn finds_the_declared_encoding() {
        assert_eq!(
            declared_encoding(b"<?xml version='1.0' encoding='ISO-8859-1'?><a/>").as_deref(),
            Some("iso-8859-1")
        );
        assert_eq!(
            declared_encoding(b"<?xml version=\"1.0\" encoding = \"utf-8\" ?>"),
            Some("utf-8".into())
        );
        assert_eq!(declared_encoding(b"<?xml version=\"1.0\"?><a/>"), None);
        assert_eq!(declared_encoding(b"<a/>"), None);
    }

    #[test]
    fn reads_namespaces_text_and_entities() {
        let e = read(r#"<?xml version="1.0"?><p:a xmlns:p="urn:x"><b>1 &lt; 2 &#x41;<![CDATA[<c>]]></b><c/></p:a>"#)
            .expect("reads");
        assert_eq!(e.ns.as_deref(), Some("urn:x"));
        assert_eq!(e.local, "a");
        assert_eq!(e.child_text("b"), Some("1 < 2 A<c>"));
        assert_eq!(e.child("b").and_then(|b| b.ns.as_deref()), None);
        assert_eq!(e.children.len(), 2);
        // Blanks: a leaf's are its value, indentation between elements is not kept.
        let e =
            read("<a>\n  <b>  </b>\n  <c> &amp;\t</c> <d> <!-- x --> </d><e>\t<f/>x </e>\n</a>")
                .expect("reads");
        assert_eq!(e.text, "");
        assert_eq!(e.child_text("b"), Some("  "));
        assert_eq!(e.child_text("c"), Some(" &\t"));
        assert_eq!(e.child_text("d"), Some("  "));
        assert_eq!(e.child_text("e"), Some("x "));
    }

    #[test]
    fn refuses_hostile_and_broken_input() {
        let cases: &[(&str, XmlError)] = &[
            ("", XmlError::Empty),
            (
                "<!DOCTYPE a [<!ENTITY x 'y'>]><a>&x;</a>",
                XmlError::Doctype,
            ),
            ("<a>&x;</a>", XmlError::UndefinedEntity("x".into())),
            ("<?php x?><a/>", XmlError::ProcessingInstruction),
            ("<a/><b/>", XmlError::ContentAfterRoot),
            ("<a/>text", XmlError::ContentAfterRoot),
            ("<a><b>", XmlError::Unclosed),
            ("<p:a/>", XmlError::UndeclaredPrefix("p".into())),
            ("<a q:x='1'/>", XmlError::UndeclaredPrefix("q".into())),
        ];
        for (input, expected) in cases {
            assert_eq!(read(input).as_ref().err(), Some(expected), "{input}");
        }
        assert!(matches!(read("<a></b>"), Err(XmlError::Malformed(_))));
        assert_eq!(read("<a>\u{1}</a>").err(), Some(XmlError::InvalidChar(1)));
        assert_eq!(read("<a>&#1;</a>").err(), Some(XmlError::InvalidChar(1)));
        assert_eq!(
            read("<a x='\u{1b}'/>").err(),
            Some(XmlError::InvalidChar(0x1b))
        );
        assert!(read("<a>\t\r\n&#9;é</a>").is_ok());
        assert!(matches!(read("&#32;<a/>"), Err(XmlError::Malformed(_))));
        assert!(matches!(read("<a/>&#32;"), Err(XmlError::Malformed(_))));
        assert!(read("<?xml version='1.0'?><a/>").is_ok_and(|a| a.plain));
        assert!(
            read("<?xml version = \"1.0\"\tencoding='utf-8' standalone=\"no\" ?><a/>")
                .is_ok_and(|a| a.plain)
        );
        for odd in [
            "<?xml version=\"1.0\"encoding=\"UTF-8\"?><a/>",
            "<?xml version=\"1.0\" standalone=\"no\" encoding=\"UTF-8\"?><a/>",
            "<?xml version=\"1.0\" foo=\"bar\"?><a/>",
            "<?xml version=\"1.0\" encoding=\"UTF-8 \"?><a/>",
            "<?xml version=\"1.1\"?><a/>",
            "<?xml version=\"1.0\"\u{c}encoding=\"UTF-8\"?><a/>",
        ] {
            assert!(read(odd).is_ok_and(|a| !a.plain), "{odd}");
        }
        assert!(matches!(
            read("<a x='1'y='2'/>"),
            Err(XmlError::Malformed(_))
        ));
        assert!(matches!(
            read("<a x=\"1\"xmlns:p='u'></a>"),
            Err(XmlError::Malformed(_))
        ));
        assert!(read("<a x='1' y=\"2\"/>").is_ok());
        assert!(matches!(
            read(" <?xml version='1.0'?><a/>"),
            Err(XmlError::Malformed(_))
        ));
        assert!(matches!(
            read("<a><?xml version='1.0'?></a>"),
            Err(XmlError::Malformed(_))
        ));
        assert_eq!(
            read("<a x='&#27;'/>").err(),
            Some(XmlError::InvalidChar(0x1b))
        );
        assert_eq!(
            read("<a x='&ent;'/>").err(),
            Some(XmlError::UndefinedEntity("ent".into()))
        );
        assert!(read("<a x='&lt;&#233;'/>").is_ok());
        assert!(matches!(
            read("<a x='1' x='2'/>"),
            Err(XmlError::Malformed(_))
        ));
    }

    #[test]
    fn finds_a_forbidden_character_anywhere_in_a_word() {
        for at in 0..20 {
            let with = |c: &str| format!("{}{c}{}", "a".repeat(at), "b".repeat(19 - at));
            assert_eq!(
                check_chars(&with("\u{1}")),
                Err(XmlError::InvalidChar(1)),
                "{at}"
            );
            assert_eq!(
                check_chars(&with("\u{1f}")),
                Err(XmlError::InvalidChar(0x1f)),
                "{at}"
            );
            assert_eq!(
                check_chars(&with("\u{FFFF}")),
                Err(XmlError::InvalidChar(0xFFFF)),
                "{at}"
            );
            for fine in [
                "\t", "\n", "\r", " ", "\u{F000}", "\u{FFFD}", "\u{7f}", "\u{e8}",
            ] {
                assert_eq!(check_chars(&with(fine)), Ok(()), "{at} {fine:?}");
            }
        }
    }

    #[test]
    fn enforces_limits() {
        let limits = Limits {
            max_depth: 3,
            max_elements: 5,
            max_attributes: 1,
            max_name_bytes: 4,
            max_text_bytes: 3,
        };
        let p = |s: &str| parse(s.as_bytes(), &limits).err();
        assert_eq!(p("<a><a><a><a/></a></a></a>"), Some(XmlError::TooDeep(3)));
        assert_eq!(
            p("<a><b/><b/><b/><b/><b/></a>"),
            Some(XmlError::TooManyElements(5))
        );
        assert_eq!(p("<a x='1' y='2'/>"), Some(XmlError::TooManyAttributes(1)));
        assert_eq!(p("<abcde/>"), Some(XmlError::NameTooLong(4)));
        assert_eq!(p("<a>abcd</a>"), Some(XmlError::TextTooLong(3)));
        assert_eq!(p("<a><a><a/></a></a>"), None);
        // Blanks count though they are not kept.
        assert_eq!(p("<a> <b/>   </a>"), Some(XmlError::TextTooLong(3)));
        assert_eq!(p("<a> <b/>  </a>"), None);
    }
}
