//! Values of simple types: one meeting the facets the model collected down the restriction chain.

use super::{err, sample_pattern, ExampleError};
use crate::xsd::model::{Base, SimpleType};

/// A value of `s` (the element `name`'s type): its fixed value, else one meeting its facets.
pub(super) fn of(file: &str, s: &SimpleType, name: &str) -> Result<String, ExampleError> {
    if let Some(v) = &s.fixed {
        return Ok(v.clone());
    }
    builtin(file, s, name)
}

fn length_ok(s: &SimpleType, v: &str) -> bool {
    let n = u32::try_from(v.chars().count()).unwrap_or(u32::MAX);
    s.length.is_none_or(|l| n == l)
        && s.min_length.is_none_or(|l| n >= l)
        && s.max_length.is_none_or(|l| n <= l)
}

fn bounds_ok(s: &SimpleType, v: &str) -> bool {
    let bounds = [
        (&s.min_inclusive, "minInclusive"),
        (&s.max_inclusive, "maxInclusive"),
        (&s.min_exclusive, "minExclusive"),
        (&s.max_exclusive, "maxExclusive"),
    ];
    let set: Vec<(&str, &str)> = bounds
        .iter()
        .filter_map(|(b, k)| b.as_deref().map(|b| (*k, b)))
        .collect();
    let Ok(x) = v.parse::<f64>() else {
        return set.is_empty();
    };
    set.iter().all(|(k, b)| match b.parse::<f64>() {
        Ok(b) => match *k {
            "minInclusive" => x >= b,
            "maxInclusive" => x <= b,
            "minExclusive" => x > b,
            _ => x < b,
        },
        Err(_) => false,
    })
}

/// A value of built-in type `ty` satisfying `facets`, or an error naming what cannot be met.
fn builtin(file: &str, facets: &SimpleType, name: &str) -> Result<String, ExampleError> {
    let value = if let Some(e) = facets.enumeration.first() {
        e.clone()
    } else if let Some(p) = facets.patterns.first() {
        if facets.patterns.len() > 1 {
            return Err(err(
                file,
                format!("{name}: several patterns in one restriction chain"),
            ));
        }
        sample_pattern(p).map_err(|why| err(file, format!("{name}: pattern {p:?}: {why}")))?
    } else {
        match facets.base {
            Base::String => {
                let want = facets
                    .length
                    .unwrap_or_else(|| facets.min_length.unwrap_or(0).max(7));
                let want = facets.max_length.map_or(want, |m| want.min(m)) as usize;
                "esempio"
                    .chars()
                    .chain(std::iter::repeat('x'))
                    .take(want)
                    .collect()
            }
            Base::Decimal => "1.00".into(),
            Base::Integer => "1".into(),
            Base::Boolean => "true".into(),
            Base::Date => "2030-01-31".into(),
        }
    };
    if !length_ok(facets, &value) || !bounds_ok(facets, &value) {
        return Err(err(
            file,
            format!("{name}: no value found meeting its length and bound facets together (tried {value:?})"),
        ));
    }
    Ok(value)
}
