//! Turns message bytes into UTF-8 per their declared charset: strictly for PSP requests, tolerantly for EC answers.

use bytes::Bytes;

/// Why bytes could not be read as text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CharsetError {
    #[error("body is not valid {0}")]
    Undecodable(String),
    #[error("unsupported charset {0}")]
    Unsupported(String),
    #[error("XML declaration says {declared}, Content-Type says {transport}")]
    Mismatch { declared: String, transport: String },
}

/// The `charset` parameter of a message's Content-Type header, lower-cased.
pub fn of_headers(headers: &http::HeaderMap) -> Option<String> {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(from_content_type)
}

/// The `charset` parameter of a Content-Type value, lower-cased.
pub fn from_content_type(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| v.trim().trim_matches('"').to_ascii_lowercase())
    })
}

/// Decodes a PSP request. The Content-Type charset wins (RFC 7303); without one the XML
/// declaration decides, and UTF-8 is the default. Both present and different is refused: the
/// gateway is the PSPs' authority, and a contradiction there is a client bug worth reporting.
pub fn decode(bytes: Bytes, transport: Option<&str>) -> Result<Bytes, CharsetError> {
    let declared = super::tree::declared_encoding(&bytes);
    if let (Some(t), Some(d)) = (transport, &declared) {
        if canonical(t) != canonical(d) {
            return Err(CharsetError::Mismatch {
                declared: d.clone(),
                transport: t.to_owned(),
            });
        }
    }
    to_utf8(bytes, transport.or(declared.as_deref()))
}

/// A message read with its Content-Type charset although its XML declaration names another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disagreement {
    pub declared: String,
    pub transport: String,
    /// Whether reading the bytes as declared gives the same text (an ASCII body, typically).
    pub same_text: bool,
}

/// Text decoded from an EC answer, and whether its two charset labels disagreed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub text: Bytes,
    pub disagreement: Option<Disagreement>,
}

/// Decodes an EC answer. As for requests the Content-Type charset wins (RFC 7303), but a
/// contradicting XML declaration is tolerated: ECs (pagoPA's own mock among them) label pure ASCII
/// `text/html; charset=utf-8` under an ISO-8859-1 declaration. Only bytes that do not decode in
/// the winning charset are refused; the caller logs the disagreement.
pub fn decode_answer(bytes: Bytes, transport: Option<&str>) -> Result<Decoded, CharsetError> {
    let declared = super::tree::declared_encoding(&bytes);
    match (transport, declared) {
        (Some(t), Some(d)) if canonical(t) != canonical(&d) => {
            let text = to_utf8(bytes.clone(), Some(t))?;
            let same_text = to_utf8(bytes, Some(&d)).is_ok_and(|other| other == text);
            Ok(Decoded {
                text,
                disagreement: Some(Disagreement {
                    declared: d,
                    transport: t.to_owned(),
                    same_text,
                }),
            })
        }
        (t, d) => Ok(Decoded {
            text: to_utf8(bytes, t.or(d.as_deref()))?,
            disagreement: None,
        }),
    }
}

/// Decodes `bytes` from `charset` (UTF-8 when none); UTF-8 input is returned without a copy.
pub fn to_utf8(bytes: Bytes, charset: Option<&str>) -> Result<Bytes, CharsetError> {
    match canonical(charset.unwrap_or("utf-8")) {
        "utf-8" => {
            let start = if bytes.starts_with(b"\xEF\xBB\xBF") {
                3
            } else {
                0
            };
            let text = bytes.slice(start..);
            std::str::from_utf8(&text).map_err(|_| CharsetError::Undecodable("UTF-8".into()))?;
            Ok(text)
        }
        "us-ascii" if bytes.is_ascii() => Ok(bytes),
        "us-ascii" => Err(CharsetError::Undecodable("US-ASCII".into())),
        // Every byte is a character in Latin-1, so decoding cannot fail.
        "iso-8859-1" => Ok(Bytes::from(
            bytes
                .iter()
                .map(|b| char::from(*b))
                .collect::<String>()
                .into_bytes(),
        )),
        _ => Err(CharsetError::Unsupported(
            charset.unwrap_or_default().to_owned(),
        )),
    }
}

/// Aliases of the charsets we decode, so that `utf8` and `UTF-8` agree.
fn canonical(c: &str) -> &str {
    match c.to_ascii_lowercase().as_str() {
        "utf-8" | "utf8" => "utf-8",
        "iso-8859-1" | "latin1" | "latin-1" | "iso8859-1" => "iso-8859-1",
        "us-ascii" | "ascii" => "us-ascii",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(b: &'static [u8], cs: Option<&str>) -> Result<Bytes, CharsetError> {
        decode(Bytes::from_static(b), cs)
    }

    #[test]
    fn aliases_agree() {
        assert_eq!(canonical("utf8"), canonical("UTF-8"));
        assert_eq!(canonical("Latin1"), canonical("iso-8859-1"));
        assert_eq!(canonical("utf-16"), "other");
    }

    #[test]
    fn decodes_declared_charsets() {
        assert_eq!(
            d(b"\xEF\xBB\xBF<a/>", None),
            Ok(Bytes::from_static(b"<a/>"))
        );
        assert_eq!(
            d(b"<a>\xe8</a>", Some("iso-8859-1")),
            Ok(Bytes::from("<a>è</a>"))
        );
        assert_eq!(
            d(
                b"<?xml version='1.0' encoding='ISO-8859-1'?><a>\xe8</a>",
                None
            ),
            Ok(Bytes::from(
                "<?xml version='1.0' encoding='ISO-8859-1'?><a>è</a>"
            ))
        );
        assert_eq!(
            d(b"<a>\xe8</a>", None),
            Err(CharsetError::Undecodable("UTF-8".into()))
        );
        assert_eq!(
            d(b"<a/>", Some("utf-16")),
            Err(CharsetError::Unsupported("utf-16".into()))
        );
        assert_eq!(
            d(b"<?xml version='1.0' encoding='utf-8'?><a/>", Some("utf8")),
            Ok(Bytes::from_static(
                b"<?xml version='1.0' encoding='utf-8'?><a/>"
            ))
        );
        assert!(matches!(
            d(
                b"<?xml version='1.0' encoding='ISO-8859-1'?><a/>",
                Some("utf-8")
            ),
            Err(CharsetError::Mismatch { .. })
        ));
    }

    #[test]
    fn answers_are_read_with_the_transport_charset_whatever_the_declaration() {
        let a = |b: &'static [u8], cs: &str| decode_answer(Bytes::from_static(b), Some(cs));
        let ascii = a(
            b"<?xml version='1.0' encoding='ISO-8859-1'?><a>x</a>",
            "utf-8",
        )
        .expect("ASCII reads the same either way");
        assert_eq!(
            ascii
                .disagreement
                .map(|d| (d.declared, d.transport, d.same_text)),
            Some(("iso-8859-1".into(), "utf-8".into(), true))
        );
        let utf8 = a(
            b"<?xml version='1.0' encoding='ISO-8859-1'?><a>\xc3\xa9</a>",
            "utf-8",
        )
        .expect("valid UTF-8");
        assert_eq!(
            utf8.text,
            Bytes::from("<?xml version='1.0' encoding='ISO-8859-1'?><a>é</a>")
        );
        assert_eq!(utf8.disagreement.map(|d| d.same_text), Some(false));
        assert_eq!(
            a(
                b"<?xml version='1.0' encoding='ISO-8859-1'?><a>\xe9</a>",
                "utf-8"
            ),
            Err(CharsetError::Undecodable("UTF-8".into()))
        );
        let agreeing = a(
            b"<?xml version='1.0' encoding='latin1'?><a>\xe9</a>",
            "iso-8859-1",
        )
        .expect("Latin-1");
        assert_eq!(agreeing.disagreement, None);
        assert_eq!(
            decode_answer(Bytes::from_static(b"<a>\xe9</a>"), None),
            Err(CharsetError::Undecodable("UTF-8".into()))
        );
    }

    #[test]
    fn reads_the_content_type_parameter() {
        assert_eq!(
            from_content_type("text/xml; Charset=\"ISO-8859-1\""),
            Some("iso-8859-1".into())
        );
        assert_eq!(from_content_type("text/xml"), None);
    }
}
