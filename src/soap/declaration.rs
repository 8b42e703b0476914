//! The XML declaration (its encoding, and whether it is written exactly per XML 1.0 §2.8) and
//! XML white space, shared by the screened reader, the charset decoder and the tree proof.

/// The `encoding` of a leading XML declaration, lower-cased (`<?xml version="1.0" encoding="…"?>`).
pub fn declared_encoding(bytes: &[u8]) -> Option<String> {
    let head = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if !head.starts_with(b"<?xml") {
        return None;
    }
    let end = head.iter().take(256).position(|b| *b == b'>')?;
    let decl = std::str::from_utf8(&head[..end]).ok()?;
    let rest = &decl[decl.find("encoding")? + "encoding".len()..];
    let rest = rest.trim_start().strip_prefix('=')?.trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = rest[1..].split(quote).next()?;
    Some(value.trim().to_ascii_lowercase())
}

/// `<?xml version="1.0" [encoding="…"] [standalone="yes|no"]?>` exactly as XML 1.0 §2.8 writes it
/// (blanks between pseudo-attributes, this order, each once), naming an encoding we decode;
/// quick-xml reads declarations more loosely than libxml2.
pub(super) fn plain_declaration(decl: &[u8]) -> bool {
    let Some(mut rest) = decl.strip_prefix(b"xml") else {
        return false;
    };
    let mut version = None;
    let mut encoding = None;
    let mut standalone = None;
    for (name, slot) in [
        (&b"version"[..], &mut version),
        (&b"encoding"[..], &mut encoding),
        (&b"standalone"[..], &mut standalone),
    ] {
        if let Some((value, after)) = pseudo_attribute(rest, name) {
            *slot = Some(value);
            rest = after;
        }
    }
    let rest = rest.strip_suffix(b"?").unwrap_or(rest);
    version == Some(&b"1.0"[..])
        && encoding.is_none_or(|e| {
            matches!(
                e.to_ascii_lowercase().as_slice(),
                b"utf-8" | b"iso-8859-1" | b"us-ascii"
            )
        })
        && standalone.is_none_or(|v| v == b"yes" || v == b"no")
        && is_blank(rest)
}

/// ` name = "value"` (blanks required before, allowed around `=`): the value and what follows.
fn pseudo_attribute<'a>(s: &'a [u8], name: &[u8]) -> Option<(&'a [u8], &'a [u8])> {
    let trimmed = trim_blank_start(s);
    if trimmed.len() == s.len() {
        return None;
    }
    let s = trim_blank_start(trimmed.strip_prefix(name)?);
    let s = trim_blank_start(s.strip_prefix(b"=")?);
    let (quote, s) = s.split_first()?;
    if *quote != b'"' && *quote != b'\'' {
        return None;
    }
    let end = s.iter().position(|b| b == quote)?;
    Some((&s[..end], &s[end + 1..]))
}

/// XML's white space (`S`: space, tab, CR, LF; not form feed, unlike `u8::is_ascii_whitespace`).
pub fn is_blank_byte(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Whether `s` is empty or XML white space only.
pub fn is_blank(s: impl AsRef<[u8]>) -> bool {
    s.as_ref().iter().all(|b| is_blank_byte(*b))
}

fn trim_blank_start(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|b| is_blank_byte(**b)).count();
    &s[n..]
}
