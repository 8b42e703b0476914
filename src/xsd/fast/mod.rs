//! Settles documents from the already-read tree, without libxml2: the two hot documents (a
//! `demandPaymentNoticeRequest` envelope, a `paDemandPaymentNoticeResponse` envelope) here, and
//! service data with a proof compiled from each service schema (`service`).
//!
//! It says "valid", "not proven", or for a demand request broken in one field's length only,
//! the issue libxml2 would report; every other document — anything unusual, every other invalid
//! one — still goes to libxml2, which stays the authority. So it must never accept what libxml2
//! refuses, nor word a refusal differently; it may leave to libxml2 what it could settle. Each
//! check below is the XSD rule of the contract (xsd/nodeForPsp.xsd, xsd/paForNode.xsd,
//! xsd/sac-common-types-1.0.xsd, xsd/envelope.xsd) or a stricter one, and
//! `tests/it/fast_validation.rs` holds it to libxml2's verdict and first issue on a corpus of
//! near-misses.

mod pattern;
mod service;
mod value;

pub use service::ServiceProof;

use crate::message::{NODE_FOR_PSP_NS, PA_FOR_NODE_NS};
use crate::soap::tree::is_blank;
use crate::soap::{Element, SOAP11_NS};

use super::Issue;

/// What the proof of a demand request concludes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Valid,
    /// Valid but for one length facet of one field: the issue libxml2 reports first for it
    /// (code, message, path, line), so the syntax KO needs no second parse.
    Invalid(Issue),
    /// Anything else: libxml2 judges.
    NotProven,
}

/// The `nfp:demandPaymentNoticeRequest` sequence (`tns:stIdPSP`… are `minLength`/`maxLength`
/// restrictions of `xsd:string`, `stIdentificativoSoggettoServizio` a `length`).
const DEMAND: &[(&str, Occurs, Content)] = &[
    ("idPSP", One, text(1, 35)),
    ("idBrokerPSP", One, text(1, 35)),
    ("idChannel", One, text(1, 35)),
    ("password", One, text(8, 15)),
    ("idSoggettoServizio", One, Content::Length(5)),
    ("datiSpecificiServizio", One, Leaf(base64)),
];

/// Whether `root` is a SOAP 1.1 envelope carrying a valid `nfp:demandPaymentNoticeRequest`.
pub fn demand_request(root: &Element) -> bool {
    demand_request_verdict(root, b"") == Verdict::Valid
}

/// Proves `root` (read from `xml`) valid, or finds the one length facet it breaks, or neither.
///
/// A document whose only fault is one field's length gets the issue libxml2 reports first: it
/// validates in document order and reports a facet before anything else about the same value,
/// and with every other rule kept there is nothing else to report (held to libxml2's own issue
/// by `tests/it/fast_validation.rs`). Two faults, or any other, are left to libxml2.
pub fn demand_request_verdict(root: &Element, xml: &[u8]) -> Verdict {
    let Some(p) = payload(root, NODE_FOR_PSP_NS, "demandPaymentNoticeRequest") else {
        return Verdict::NotProven;
    };
    let mut broken = None;
    if !sequence_tolerating(p, DEMAND, Some(&mut broken)) {
        return Verdict::NotProven;
    }
    match broken {
        None => Verdict::Valid,
        Some(b) => Verdict::Invalid(b.issue(root, p, xml)),
    }
}

/// One broken length facet: the element and its length in characters.
struct Broken<'a> {
    element: &'a Element,
    length: usize,
    facet: Facet,
}

/// The length facet a value breaks, with the facet's value.
#[derive(Clone, Copy)]
enum Facet {
    Length(usize),
    MinLength(usize),
    MaxLength(usize),
}

impl Broken<'_> {
    /// libxml2's wording (`xmlSchemaFacetErr`), its error code and its node path.
    fn issue(&self, root: &Element, payload: &Element, xml: &[u8]) -> Issue {
        let name = &self.element.local;
        let n = self.length;
        let (code, facet) = match self.facet {
            Facet::Length(len) => (
                1830,
                format!("[facet 'length'] The value has a length of '{n}'; this differs from the allowed length of '{len}'."),
            ),
            Facet::MinLength(min) => (
                1831,
                format!("[facet 'minLength'] The value has a length of '{n}'; this underruns the allowed minimum length of '{min}'."),
            ),
            Facet::MaxLength(max) => (
                1832,
                format!("[facet 'maxLength'] The value has a length of '{n}'; this exceeds the allowed maximum length of '{max}'."),
            ),
        };
        let start = self.element.start.min(xml.len());
        let line = 1 + xml[..start].iter().filter(|b| **b == b'\n').count();
        Issue {
            code,
            line: u32::try_from(line).unwrap_or(0),
            message: format!("Element '{name}': {facet}"),
            path: Some(format!("{}/Body/{}/{name}", root.local, payload.local)),
        }
    }
}

/// Whether `root` is a SOAP 1.1 envelope carrying a valid `pafn:paDemandPaymentNoticeResponse`.
pub fn pa_demand_answer(root: &Element) -> bool {
    payload(root, PA_FOR_NODE_NS, "paDemandPaymentNoticeResponse").is_some_and(|p| {
        sequence(
            p,
            &[
                ("outcome", One, Leaf(|t| t == "OK" || t == "KO")),
                ("fault", Optional, Complex(fault_bean)),
                ("qrCode", Optional, Complex(qr_code)),
                ("paymentList", Optional, Complex(payment_list)),
                ("paymentDescription", Optional, text(1, 140)),
                ("fiscalCodePA", Optional, Leaf(fiscal_code)),
                ("companyName", Optional, text(1, 140)),
                ("officeName", Optional, text(1, 140)),
            ],
        )
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Occurs {
    One,
    Optional,
}
use Occurs::{One, Optional};

/// What an element's content must be.
#[derive(Clone, Copy)]
enum Content {
    /// Simple content: no children, the text passes the check.
    Leaf(fn(&str) -> bool),
    /// `xs:string` with minLength/maxLength, counted in characters.
    Text(usize, usize),
    /// `xs:string` with `length`, counted in characters.
    Length(usize),
    /// Element-only content: whitespace between children, the children pass the check.
    Complex(fn(&Element) -> bool),
}
use Content::{Complex, Leaf};

const fn text(min: usize, max: usize) -> Content {
    Content::Text(min, max)
}

/// The envelope `Envelope(Header?, Body(payload))` in the SOAP 1.1 namespace, nothing else, and the
/// payload element when it is the expected one.
fn payload<'a>(root: &'a Element, ns: &str, local: &str) -> Option<&'a Element> {
    if !(root.plain && root.is(SOAP11_NS, "Envelope") && element_only(root)) {
        return None;
    }
    let body = match root.children.as_slice() {
        [body] => body,
        [header, body] if header.is(SOAP11_NS, "Header") => {
            // Header children are processed laxly by libxml2: only an empty Header is proven.
            if !(header.plain && header.children.is_empty() && element_only(header)) {
                return None;
            }
            body
        }
        _ => return None,
    };
    if !(body.plain && body.is(SOAP11_NS, "Body") && element_only(body)) {
        return None;
    }
    match body.children.as_slice() {
        [p] if p.plain && p.is(ns, local) && element_only(p) => Some(p),
        _ => None,
    }
}

/// Element-only content allows white space between children.
fn element_only(e: &Element) -> bool {
    is_blank(&e.text)
}

/// The children of `e`, unqualified, in exactly this order, each present as often as declared.
fn sequence(e: &Element, particles: &[(&str, Occurs, Content)]) -> bool {
    sequence_tolerating(e, particles, None)
}

/// [`sequence`], letting one leaf break its length facet when `broken` is given (it records it).
fn sequence_tolerating<'a>(
    e: &'a Element,
    particles: &[(&str, Occurs, Content)],
    mut broken: Option<&mut Option<Broken<'a>>>,
) -> bool {
    let mut children = e.children.iter().peekable();
    for (name, occurs, content) in particles {
        match children.peek() {
            Some(c) if c.ns.is_none() && c.local == *name => {
                if !c.plain {
                    return false;
                }
                if !matches_content(c, *content) {
                    match (broken.as_deref_mut(), length_fault(c, *content)) {
                        (Some(slot @ None), Some((length, facet))) => {
                            *slot = Some(Broken {
                                element: c,
                                length,
                                facet,
                            })
                        }
                        _ => return false,
                    }
                }
                children.next();
            }
            _ if *occurs == Optional => {}
            _ => return false,
        }
    }
    children.next().is_none()
}

/// The length of a leaf of a length-restricted string, and the facet it breaks, if any.
fn length_fault(e: &Element, content: Content) -> Option<(usize, Facet)> {
    if !e.children.is_empty() {
        return None;
    }
    let n = e.text.chars().count();
    let facet = match content {
        Content::Length(len) if n != len => Facet::Length(len),
        Content::Text(min, _) if n < min => Facet::MinLength(min),
        Content::Text(_, max) if n > max => Facet::MaxLength(max),
        _ => return None,
    };
    Some((n, facet))
}

fn matches_content(e: &Element, content: Content) -> bool {
    match content {
        Leaf(check) => e.children.is_empty() && check(&e.text),
        Content::Text(min, max) => {
            e.children.is_empty() && {
                let n = e.text.chars().count();
                (min..=max).contains(&n)
            }
        }
        Content::Length(len) => e.children.is_empty() && e.text.chars().count() == len,
        Complex(check) => element_only(e) && check(e),
    }
}

/// `common:ctFaultBean`.
fn fault_bean(e: &Element) -> bool {
    let any = Leaf(|_| true);
    sequence(
        e,
        &[
            ("faultCode", One, any),
            ("faultString", One, any),
            ("id", One, any),
            ("description", Optional, any),
            ("serial", Optional, Leaf(int)),
            ("originalFaultCode", Optional, any),
            ("originalFaultString", Optional, any),
            ("originalDescription", Optional, any),
        ],
    )
}

/// `ctQrCode`: `common:stFiscalCodePA`, `common:stNoticeNumber`.
fn qr_code(e: &Element) -> bool {
    sequence(
        e,
        &[
            ("fiscalCode", One, Leaf(fiscal_code)),
            ("noticeNumber", One, Leaf(|t| digits(t, 18))),
        ],
    )
}

/// `ctPaymentOptionsDescriptionListPA`: exactly one `ctPaymentOptionDescriptionPA`.
fn payment_list(e: &Element) -> bool {
    sequence(
        e,
        &[(
            "paymentOptionDescription",
            One,
            Complex(|o| {
                sequence(
                    o,
                    &[
                        ("amount", One, Leaf(amount_not_zero)),
                        (
                            "options",
                            One,
                            Leaf(|t| matches!(t, "EQ" | "LS" | "GT" | "ANY")),
                        ),
                        ("dueDate", Optional, Leaf(date)),
                        ("detailDescription", Optional, text(1, 140)),
                        (
                            "allCCP",
                            One,
                            Leaf(|t| matches!(t, "true" | "false" | "1" | "0")),
                        ),
                    ],
                )
            }),
        )],
    )
}

/// `[0-9]{11}`, length 11.
fn fiscal_code(t: &str) -> bool {
    digits(t, 11)
}

fn digits(t: &str, n: usize) -> bool {
    t.len() == n && t.bytes().all(|b| b.is_ascii_digit())
}

/// `stAmountNotZero`: pattern `\d+\.\d{2}`, 0.01 ≤ value ≤ 999999999.99 (ASCII digits only, no
/// surrounding blanks: stricter than the decimal's collapsed lexical space).
fn amount_not_zero(t: &str) -> bool {
    let Some((int, frac)) = t.split_once('.') else {
        return false;
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !(all_digits(int) && frac.len() == 2 && all_digits(frac)) {
        return false;
    }
    let significant = int.trim_start_matches('0');
    significant.len() <= 9 && !(significant.is_empty() && frac == "00")
}

/// `xs:date` as `YYYY-MM-DD` with a real day of the month, year 0001–9999, no time zone (the rest
/// of the lexical space is left to libxml2).
fn date(t: &str) -> bool {
    let b = t.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let s = t.get(r)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())
            .flatten()
    };
    let (Some(year), Some(month), Some(day)) = (num(0..4), num(5..7), num(8..10)) else {
        return false;
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    year >= 1 && (1..=days).contains(&day)
}

/// `xs:int` written as up to nine digits with an optional minus sign (well inside its range).
fn int(t: &str) -> bool {
    let d = t.strip_prefix('-').unwrap_or(t);
    (1..=9).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit())
}

/// The base64 alphabet, as a table (the check runs over every byte of the service data).
const BASE64_ALPHABET: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric() || b == b'+' || b == b'/';
        c += 1;
    }
    t
};

/// `xs:base64Binary` in its canonical form: groups of four alphabet characters, no blanks, padding
/// only at the end and only after a character whose unused bits are zero. Empty is left to the
/// caller's own rule (and to libxml2).
fn base64(t: &str) -> bool {
    let b = t.as_bytes();
    if b.is_empty() || b.len() % 4 != 0 {
        return false;
    }
    let alphabet = |c: u8| BASE64_ALPHABET[usize::from(c)];
    let pad = b.iter().rev().take_while(|c| **c == b'=').count();
    let (data, _) = b.split_at(b.len() - pad);
    if pad > 2 || !data.iter().all(|c| alphabet(*c)) {
        return false;
    }
    match (pad, data.last()) {
        (0, _) => true,
        // One `=`: the last character carries 2 unused bits.
        (1, Some(c)) => b"AEIMQUYcgkosw048".contains(c),
        // Two `=`: 4 unused bits.
        (2, Some(c)) => b"AQgw".contains(c),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_types() {
        assert!(amount_not_zero("0.01") && amount_not_zero("999999999.99"));
        assert!(amount_not_zero("0000000120.50"));
        for bad in [
            "0.00",
            "1000000000.00",
            "1.5",
            "1",
            ".50",
            "1.500",
            " 1.00",
            "+1.00",
            "1,00",
            "١.٠٠",
        ] {
            assert!(!amount_not_zero(bad), "{bad}");
        }
        assert!(date("2024-02-29") && date("2030-06-30") && date("0001-01-01"));
        for bad in [
            "2023-02-29",
            "2030-13-01",
            "2030-04-31",
            "0000-01-01",
            "2030-06-30Z",
            "30-06-2030",
            "2030-6-30",
        ] {
            assert!(!date(bad), "{bad}");
        }
        assert!(base64("PGEvPg==") && base64("YWJj") && base64("YWI="));
        for bad in [
            "", "cia", "cia$", "YWI", "YW==", "YWJ=", "Y===", "YW J", "YWJj\n",
        ] {
            assert!(!base64(bad), "{bad}");
        }
        assert!(int("0") && int("-12") && !int("") && !int("1234567890") && !int("+1"));
        assert!(
            fiscal_code("77777777777") && !fiscal_code("7777777777") && !fiscal_code("7777777777a")
        );
    }
}
