//! A one-pass reader for plain documents, the subset of XML the hot messages are written in.
//!
//! It reads only what [`super::tree::parse_general`] would read as plain — ASCII names, namespace
//! declarations as the only attributes, no comments, CDATA, references, carriage returns, DOCTYPE
//! or processing instructions, a plain declaration — and builds the same tree. At the first byte
//! outside that subset, or past any limit, it gives up and the general reader (quick-xml) reads
//! the document again and names the error; so it never has to decide an error itself.
//! `tests/it/fast_validation.rs` and the fuzz target hold the two readers to the same tree.

use super::declaration::plain_declaration;
use super::tree::{
    check_chars, is_blank, keep_text, plain_ncname, plain_qname, Element, Limits, NAME_BYTE,
};

/// An element being read: its tree node, its name as written, the namespace bindings it opened,
/// the bytes of text read in it, and a leading blank not yet copied (as in `parse_general`).
struct Open<'a> {
    element: Element,
    qname: &'a [u8],
    bindings: usize,
    size: usize,
    lead: Option<&'a str>,
}

/// Reads `xml` when it is plain and within `limits`; `None` otherwise (the general reader then).
pub(super) fn read(xml: &[u8], limits: &Limits) -> Option<Element> {
    let text = std::str::from_utf8(xml).ok()?;
    let b = text.as_bytes();
    // A CR anywhere makes something not plain (and is normalised away by a real parser).
    if b.contains(&b'\r') {
        return None;
    }
    let mut i = 0;
    if b.starts_with(b"<?") {
        if !(b.starts_with(b"<?xml") && b.get(5).copied().is_some_and(blank)) {
            return None;
        }
        let end = find(b, 0, b'>')?;
        let decl = &b[2..end];
        if !decl.ends_with(b"?") || decl.contains(&b'<') || !plain_declaration(decl) {
            return None;
        }
        i = end + 1;
    }
    let mut stack: Vec<Open<'_>> = Vec::with_capacity(8);
    // (prefix, namespace URI); the empty prefix is the default namespace.
    let mut bindings: Vec<(&[u8], &str)> = Vec::with_capacity(8);
    let mut root: Option<Element> = None;
    let mut elements = 0usize;
    loop {
        let lt = find(b, i, b'<').unwrap_or(b.len());
        let run = &text[i..lt];
        if !run.is_empty() && !read_text(run, stack.last_mut(), limits) {
            return None;
        }
        if lt == b.len() {
            break;
        }
        i = lt;
        match b.get(i + 1).copied() {
            Some(b'/') => {
                let mut open = stack.pop()?;
                let name_end = i + 2 + open.qname.len();
                if b.get(i + 2..name_end) != Some(open.qname) {
                    return None;
                }
                let close = skip_blanks(b, name_end);
                if b.get(close) != Some(&b'>') {
                    return None;
                }
                i = close + 1;
                if let Some(blank) = open.lead.take() {
                    open.element.text.push_str(blank);
                }
                bindings.truncate(open.bindings);
                attach(&mut stack, &mut root, open.element);
            }
            Some(c) if c.is_ascii_alphabetic() || c == b'_' => {
                if root.is_some() || stack.len() >= limits.max_depth {
                    return None;
                }
                elements += 1;
                if elements > limits.max_elements {
                    return None;
                }
                let (open, empty, next) = read_start(text, i, &mut bindings, limits)?;
                i = next;
                if let Some(parent) = stack.last_mut() {
                    parent.lead = None;
                }
                if empty {
                    bindings.truncate(open.bindings);
                    attach(&mut stack, &mut root, open.element);
                } else {
                    stack.push(open);
                }
            }
            _ => return None,
        }
    }
    if !stack.is_empty() {
        return None;
    }
    root
}

/// A run of character data: outside the root only blanks; inside, kept as `parse_general` keeps it.
fn read_text<'a>(run: &'a str, open: Option<&mut Open<'a>>, limits: &Limits) -> bool {
    let Some(open) = open else {
        return is_blank(run);
    };
    let bytes = run.as_bytes();
    if bytes.contains(&b'&') || (bytes.contains(&b'>') && run.contains("]]>")) {
        return false;
    }
    if check_chars(run).is_err() {
        return false;
    }
    open.size += run.len();
    if open.size > limits.max_text_bytes {
        return false;
    }
    keep_text(&mut open.element, &mut open.lead, run);
    true
}

/// The start tag at `at`: the open element, whether it is empty (`/>`), and where it ends.
fn read_start<'a>(
    text: &'a str,
    at: usize,
    bindings: &mut Vec<(&'a [u8], &'a str)>,
    limits: &Limits,
) -> Option<(Open<'a>, bool, usize)> {
    let b = text.as_bytes();
    let name_end = scan_name(b, at + 1);
    let qname = &b[at + 1..name_end];
    if qname.len() > limits.max_name_bytes || !plain_qname(qname) {
        return None;
    }
    let scope = bindings.len();
    let mut j = name_end;
    let mut count = 0usize;
    let empty = loop {
        let k = skip_blanks(b, j);
        match b.get(k).copied() {
            Some(b'>') => {
                j = k + 1;
                break false;
            }
            Some(b'/') if b.get(k + 1) == Some(&b'>') => {
                j = k + 2;
                break true;
            }
            // An attribute, after at least one blank.
            Some(_) if k > j => {
                let key_end = scan_name(b, k);
                let key = &b[k..key_end];
                if key.len() > limits.max_name_bytes {
                    return None;
                }
                let prefix: &[u8] = match key.strip_prefix(b"xmlns") {
                    Some(b"") => b"",
                    Some(rest) => {
                        let p = rest.strip_prefix(b":")?;
                        if !plain_ncname(p) || p.to_ascii_lowercase().starts_with(b"xml") {
                            return None;
                        }
                        p
                    }
                    None => return None,
                };
                if b.get(key_end) != Some(&b'=') {
                    return None;
                }
                let quote = *b.get(key_end + 1).filter(|q| **q == b'"' || **q == b'\'')?;
                let value_start = key_end + 2;
                let value_end = find(b, value_start, quote)?;
                let value = &text[value_start..value_end];
                let bad = |c: u8| matches!(c, b'<' | b'>' | b'&' | b'\t' | b'\n');
                if value.is_empty()
                    || value.len() > limits.max_text_bytes
                    || value.bytes().any(bad)
                    || check_chars(value).is_err()
                {
                    return None;
                }
                count += 1;
                if count > limits.max_attributes
                    || bindings[scope..].iter().any(|(p, _)| *p == prefix)
                {
                    return None;
                }
                bindings.push((prefix, value));
                j = value_end + 1;
            }
            _ => return None,
        }
    };
    let (prefix, local): (&[u8], &[u8]) = match qname.iter().position(|c| *c == b':') {
        Some(colon) => (&qname[..colon], &qname[colon + 1..]),
        None => (b"", qname),
    };
    if prefix.eq_ignore_ascii_case(b"xml") || prefix.eq_ignore_ascii_case(b"xmlns") {
        return None;
    }
    let ns = match bindings.iter().rev().find(|(p, _)| *p == prefix) {
        Some((_, uri)) => Some((*uri).to_owned()),
        None if prefix.is_empty() => None,
        None => return None,
    };
    let element = Element {
        ns,
        // ASCII by `plain_qname`.
        local: String::from_utf8_lossy(local).into_owned(),
        text: String::new(),
        children: Vec::new(),
        plain: true,
        start: at,
    };
    let open = Open {
        element,
        qname,
        bindings: scope,
        size: 0,
        lead: None,
    };
    Some((open, empty, j))
}

fn attach(stack: &mut [Open<'_>], root: &mut Option<Element>, element: Element) {
    match stack.last_mut() {
        Some(parent) => parent.element.children.push(element),
        None => *root = Some(element),
    }
}

/// Blanks of the plain subset (no CR).
fn blank(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n')
}

fn skip_blanks(b: &[u8], mut i: usize) -> usize {
    while b.get(i).copied().is_some_and(blank) {
        i += 1;
    }
    i
}

fn find(b: &[u8], from: usize, c: u8) -> Option<usize> {
    memchr::memchr(c, b.get(from..)?).map(|k| from + k)
}

/// The bytes a plain name can hold (checked as a name by `plain_qname`).
fn scan_name(b: &[u8], mut i: usize) -> usize {
    while b
        .get(i)
        .is_some_and(|c| NAME_BYTE[usize::from(*c)] || *c == b':')
    {
        i += 1;
    }
    i
}
