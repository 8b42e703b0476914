//! Checks of simple-typed text compiled from a model's simple type: each accepts a subset of what
//! libxml2 accepts for that type.
//!
//! Text types take any text whose white-space normalization changes nothing (so lengths,
//! enumerations and patterns read the same value libxml2 does); numbers, dates and booleans
//! only their plainest lexical forms, with no surrounding blanks (libxml2 collapses those: such
//! values are simply not proven). Enumerations and `fixed` compare strings exactly, which for
//! numbers is stricter than libxml2's comparison of values.

use super::date;
use super::pattern::Pattern;
use crate::xsd::model::{Base, SimpleType};

/// A compiled simple type.
#[derive(Debug, Clone)]
pub struct ValueCheck {
    kind: Kind,
    enumeration: Vec<String>,
    fixed: Option<String>,
    patterns: Vec<Pattern>,
}

#[derive(Debug, Clone)]
enum Kind {
    Text {
        space: Space,
        min: usize,
        max: usize,
    },
    Number(Number),
    Date,
    Boolean,
}

/// The `whiteSpace` of a string built-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Space {
    Preserve,
    Replace,
    Collapse,
}

/// A decimal or integer type: its value scaled by 10^18, as an exact `i128`.
#[derive(Debug, Clone)]
struct Number {
    fraction: bool,
    min: Option<(i128, bool)>,
    max: Option<(i128, bool)>,
    total_digits: Option<u32>,
    fraction_digits: Option<u32>,
}

/// Digits on either side of the point: 18 + 18 keeps a scaled value well inside `i128`, and
/// values far below libxml2's own limit on decimals.
const DIGITS: usize = 18;
const SCALE: i128 = 1_000_000_000_000_000_000;

impl ValueCheck {
    /// `None` when the type has anything this check cannot decide surely.
    pub fn compile(t: &SimpleType) -> Option<Self> {
        let lengths = [t.length, t.min_length, t.max_length];
        let bounds = [
            &t.min_inclusive,
            &t.max_inclusive,
            &t.min_exclusive,
            &t.max_exclusive,
        ];
        let no_lengths = lengths.iter().all(Option::is_none);
        let no_numbers = bounds.iter().all(|b| b.is_none())
            && t.total_digits.is_none()
            && t.fraction_digits.is_none();
        let kind = match (t.base, t.builtin) {
            (Base::String, builtin) if no_numbers => {
                let space = match builtin {
                    "string" => Space::Preserve,
                    "normalizedString" => Space::Replace,
                    "token" => Space::Collapse,
                    _ => return None,
                };
                let chars = |n: Option<u32>| n.map(|n| n as usize);
                let (min, max) = match (chars(t.length), chars(t.min_length)) {
                    (Some(n), None) if t.max_length.is_none() => (n, n),
                    (None, min) => (min.unwrap_or(0), chars(t.max_length).unwrap_or(usize::MAX)),
                    _ => return None,
                };
                Kind::Text { space, min, max }
            }
            (Base::Decimal | Base::Integer, builtin) if no_lengths => {
                Kind::Number(number(t, builtin)?)
            }
            (Base::Date, "date") if no_lengths && no_numbers => Kind::Date,
            (Base::Boolean, "boolean") if no_lengths && no_numbers => Kind::Boolean,
            _ => return None,
        };
        let patterns = t
            .patterns
            .iter()
            .map(|p| Pattern::compile(p))
            .collect::<Option<Vec<_>>>()?;
        Some(Self {
            kind,
            enumeration: t.enumeration.clone(),
            fixed: t.fixed.clone(),
            patterns,
        })
    }

    /// Whether `text` (an element's whole text) is surely a valid value of the type.
    pub fn accepts(&self, text: &str) -> bool {
        let lexical = match &self.kind {
            Kind::Text { space, min, max } => {
                unchanged_by(*space, text) && (*min..=*max).contains(&text.chars().count())
            }
            Kind::Number(n) => n.accepts(text),
            Kind::Date => date(text),
            Kind::Boolean => matches!(text, "true" | "false" | "1" | "0"),
        };
        lexical
            && (self.enumeration.is_empty() || self.enumeration.iter().any(|v| v == text))
            && self.fixed.as_deref().is_none_or(|f| f == text)
            && self.patterns.iter().all(|p| p.matches(text))
    }
}

/// Whether the built-in's white-space normalization leaves `text` as it is.
fn unchanged_by(space: Space, text: &str) -> bool {
    let no_controls = || !text.contains(['\t', '\n', '\r']);
    match space {
        Space::Preserve => true,
        Space::Replace => no_controls(),
        Space::Collapse => {
            no_controls() && !text.starts_with(' ') && !text.ends_with(' ') && !text.contains("  ")
        }
    }
}

/// The numeric facets of `t`, with the range its built-in implies.
fn number(t: &SimpleType, builtin: &str) -> Option<Number> {
    // `None` for a bound that cannot be read exactly; `Some(None)` for no bound.
    let bound = |v: &Option<String>| match v.as_deref() {
        None => Some(None),
        Some(s) => schema_number(s).map(Some),
    };
    let inclusive = |v: Option<i128>| v.map(|v| (v, true));
    let exclusive = |v: Option<i128>| v.map(|v| (v, false));
    let min = match (bound(&t.min_inclusive)?, bound(&t.min_exclusive)?) {
        (Some(_), Some(_)) => return None,
        (i, e) => inclusive(i).or(exclusive(e)),
    };
    let max = match (bound(&t.max_inclusive)?, bound(&t.max_exclusive)?) {
        (Some(_), Some(_)) => return None,
        (i, e) => inclusive(i).or(exclusive(e)),
    };
    let (fraction, implied_min, implied_max) = match builtin {
        "decimal" => (true, None, None),
        // 18 digits are inside `long`'s range.
        "integer" | "long" => (false, None, None),
        "int" => (
            false,
            Some(i128::from(i32::MIN) * SCALE),
            Some(i128::from(i32::MAX) * SCALE),
        ),
        "nonNegativeInteger" => (false, Some(0), None),
        "positiveInteger" => (false, Some(SCALE), None),
        _ => return None,
    };
    // The tighter of the facet and the built-in's own range (a valid restriction is inside it).
    let min = match (min, implied_min) {
        (Some((v, _)), Some(m)) if v < m => Some((m, true)),
        (None, Some(m)) => Some((m, true)),
        (m, _) => m,
    };
    let max = match (max, implied_max) {
        (Some((v, _)), Some(m)) if v > m => Some((m, true)),
        (None, Some(m)) => Some((m, true)),
        (m, _) => m,
    };
    Some(Number {
        fraction,
        min,
        max,
        total_digits: t.total_digits,
        fraction_digits: t.fraction_digits,
    })
}

/// A bound as written in a schema: `[+-]digits[.digits]`, as a scaled value.
fn schema_number(v: &str) -> Option<i128> {
    let (negative, digits) = match v.as_bytes().first()? {
        b'-' => (true, &v[1..]),
        b'+' => (false, &v[1..]),
        _ => (false, v),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let int = int.trim_start_matches('0');
    let frac = frac.trim_end_matches('0');
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if digits.is_empty() || digits.starts_with('.') || digits.ends_with('.') {
        return None;
    }
    if !(all_digits(int) && all_digits(frac) && int.len() <= DIGITS && frac.len() <= DIGITS) {
        return None;
    }
    let value = scaled(int, frac)?;
    Some(if negative { -value } else { value })
}

/// `int.frac` (ASCII digits, at most 18 each) times 10^18.
fn scaled(int: &str, frac: &str) -> Option<i128> {
    let whole: i128 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut f: i128 = if frac.is_empty() {
        0
    } else {
        frac.parse().ok()?
    };
    for _ in frac.len()..DIGITS {
        f *= 10;
    }
    Some(whole * SCALE + f)
}

impl Number {
    /// `-?[0-9]+(\.[0-9]+)?`, at most 18 digits, no sign on zero (a negative value of an unsigned
    /// type is below its implied minimum); then the bounds, and digit counts at least as large as libxml2's (leading zeros of the integer part
    /// left out, trailing zeros of the fraction kept in).
    fn accepts(&self, text: &str) -> bool {
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (int, frac) = match digits.split_once('.') {
            Some((int, frac)) if self.fraction => (int, frac),
            Some(_) => return false,
            None => (digits, ""),
        };
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if int.is_empty()
            || (digits.contains('.') && frac.is_empty())
            || !all_digits(int)
            || !all_digits(frac)
            || int.len() + frac.len() > DIGITS
        {
            return false;
        }
        let Some(magnitude) = scaled(int, frac) else {
            return false;
        };
        if negative && magnitude == 0 {
            return false;
        }
        let value = if negative { -magnitude } else { magnitude };
        let above = |b: Option<(i128, bool)>| {
            b.is_none_or(|(m, inclusive)| value > m || (inclusive && value == m))
        };
        let below = |b: Option<(i128, bool)>| {
            b.is_none_or(|(m, inclusive)| value < m || (inclusive && value == m))
        };
        let significant = int.trim_start_matches('0').len() + frac.len();
        above(self.min)
            && below(self.max)
            && self.total_digits.is_none_or(|t| significant <= t as usize)
            && self
                .fraction_digits
                .is_none_or(|f| frac.len() <= f as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn simple(builtin: &'static str, base: Base, edit: impl FnOnce(&mut SimpleType)) -> ValueCheck {
        let mut t = SimpleType::builtin(base, builtin);
        edit(&mut t);
        ValueCheck::compile(&t).expect("compiles")
    }

    #[test]
    fn text_lengths_count_characters_and_normalization_must_change_nothing() {
        let plate = simple("string", Base::String, |t| {
            t.min_length = Some(7);
            t.max_length = Some(8);
        });
        assert!(plate.accepts("AB123CD") && plate.accepts("AB 123CD") && plate.accepts("èèèèèèè"));
        assert!(!plate.accepts("AB12CD") && !plate.accepts("AB123CDEF"));
        assert!(
            plate.accepts(" AB123C\t"),
            "xs:string preserves white space"
        );
        let token = simple("token", Base::String, |t| t.max_length = Some(3));
        assert!(token.accepts("a b") && !token.accepts(" ab") && !token.accepts("a  b"));
        assert!(!token.accepts("a\tb") && !token.accepts("ab "));
        let normalized = simple("normalizedString", Base::String, |_| {});
        assert!(normalized.accepts(" a  b ") && !normalized.accepts("a\nb"));
        let fixed = simple("string", Base::String, |t| t.length = Some(4));
        assert!(fixed.accepts("A001") && !fixed.accepts("A01"));
    }

    #[test]
    fn enumerations_fixed_values_and_patterns_compare_exactly() {
        let kind = simple("string", Base::String, |t| {
            t.enumeration = vec!["1".into(), "2".into(), "4".into()];
        });
        assert!(kind.accepts("1") && kind.accepts("4"));
        assert!(!kind.accepts("3") && !kind.accepts(" 1") && !kind.accepts("01"));
        let code = simple("string", Base::String, |t| t.fixed = Some("A001".into()));
        assert!(code.accepts("A001") && !code.accepts("A002") && !code.accepts(""));
        let fiscal = simple("string", Base::String, |t| {
            t.length = Some(11);
            t.patterns = vec!["[0-9]{11}".into()];
        });
        assert!(fiscal.accepts("77777777777") && !fiscal.accepts("7777777777a"));
        let mut t = SimpleType {
            patterns: vec![r"\p{L}+".into()],
            ..simple_type()
        };
        assert!(
            ValueCheck::compile(&t).is_none(),
            "a pattern outside the subset"
        );
        t.patterns.clear();
        t.total_digits = Some(3);
        assert!(ValueCheck::compile(&t).is_none(), "digits on a string");
    }

    fn simple_type() -> SimpleType {
        SimpleType::builtin(Base::String, "string")
    }

    #[test]
    fn numbers_take_plain_forms_inside_their_bounds() {
        let amount = simple("decimal", Base::Decimal, |t| {
            t.max_inclusive = Some("999999999.99".into());
            t.patterns = vec![r"\d+\.\d{2}".into()];
        });
        for good in ["0.01", "0.00", "999999999.99", "0999999999.99", "120.50"] {
            assert!(amount.accepts(good), "{good}");
        }
        for bad in [
            "1000000000.00",
            "999999999.991",
            "+1.00",
            " 1.00",
            "1.",
            ".5",
            "-0.00",
            "1e3",
        ] {
            assert!(!amount.accepts(bad), "{bad}");
        }
        let int = simple("int", Base::Integer, |_| {});
        assert!(int.accepts("2147483647") && int.accepts("-2147483648") && int.accepts("007"));
        assert!(!int.accepts("2147483648") && !int.accepts("1.0") && !int.accepts("-0"));
        assert!(!int.accepts("") && !int.accepts("-") && !int.accepts("+1"));
        let positive = simple("positiveInteger", Base::Integer, |t| {
            t.max_exclusive = Some("100".into());
            t.total_digits = Some(2);
        });
        assert!(positive.accepts("1") && positive.accepts("99") && positive.accepts("099"));
        assert!(!positive.accepts("0") && !positive.accepts("100") && !positive.accepts("-1"));
        let digits = simple("decimal", Base::Decimal, |t| {
            t.total_digits = Some(4);
            t.fraction_digits = Some(2);
            t.min_exclusive = Some("-10".into());
        });
        assert!(digits.accepts("12.34") && digits.accepts("-9.99") && digits.accepts("0.5"));
        assert!(!digits.accepts("123.45") && !digits.accepts("1.234") && !digits.accepts("-10"));
        assert!(
            !digits.accepts("1.230"),
            "trailing zeros counted: stricter than libxml2"
        );
        assert!(!digits.accepts(&"1".repeat(19)));
    }

    #[test]
    fn dates_and_booleans_in_their_plainest_forms() {
        let d = simple("date", Base::Date, |_| {});
        assert!(d.accepts("2024-02-29") && !d.accepts("2023-02-29") && !d.accepts("2024-02-28Z"));
        assert!(!d.accepts(" 2024-02-28"));
        let b = simple("boolean", Base::Boolean, |_| {});
        assert!(b.accepts("true") && b.accepts("0") && !b.accepts("TRUE") && !b.accepts(" true"));
        let mut t = simple_type();
        t.base = Base::Date;
        t.builtin = "date";
        t.min_inclusive = Some("2020-01-01".into());
        assert!(
            ValueCheck::compile(&t).is_none(),
            "date bounds are left to libxml2"
        );
    }

    #[test]
    fn schema_bounds_outside_the_exact_range_do_not_compile() {
        let mut t = simple_type();
        t.base = Base::Decimal;
        t.builtin = "decimal";
        t.max_inclusive = Some("1".repeat(19));
        assert!(ValueCheck::compile(&t).is_none());
        t.max_inclusive = Some("1e3".into());
        assert!(ValueCheck::compile(&t).is_none());
        t.max_inclusive = Some("+001000.500".into());
        assert!(ValueCheck::compile(&t).is_some());
    }
}
