//! Values of simple types: the facets of a restriction chain and a built-in value meeting them.

use super::{err, sample_pattern, ExampleError, XNode};

/// Facets of a restriction chain; the most derived one wins.
#[derive(Debug, Default)]
pub(super) struct Facets {
    enumeration: Option<String>,
    patterns: Vec<String>,
    length: Option<usize>,
    min_length: Option<usize>,
    max_length: Option<usize>,
    bounds: Vec<(String, String)>,
}

impl Facets {
    pub(super) fn add(&mut self, file: &str, r: &XNode) -> Result<(), ExampleError> {
        for f in r.xsd_children() {
            let v = f.attr("value").unwrap_or_default().to_owned();
            let num = || {
                v.parse::<usize>()
                    .map_err(|_| err(file, format!("{} value {v:?}", f.local)))
            };
            match f.local.as_str() {
                "enumeration" => {
                    self.enumeration.get_or_insert(v);
                }
                "pattern" => self.patterns.push(v),
                "length" => {
                    self.length.get_or_insert(num()?);
                }
                "minLength" => {
                    self.min_length.get_or_insert(num()?);
                }
                "maxLength" => {
                    self.max_length.get_or_insert(num()?);
                }
                "minInclusive" | "maxInclusive" | "minExclusive" | "maxExclusive" => {
                    self.bounds.push((f.local.clone(), v))
                }
                "whiteSpace" => {}
                other => return Err(err(file, format!("facet <xsd:{other}>"))),
            }
        }
        Ok(())
    }

    fn length_ok(&self, s: &str) -> bool {
        let n = s.chars().count();
        self.length.is_none_or(|l| n == l)
            && self.min_length.is_none_or(|l| n >= l)
            && self.max_length.is_none_or(|l| n <= l)
    }

    fn bounds_ok(&self, s: &str) -> bool {
        let Ok(x) = s.parse::<f64>() else {
            return self.bounds.is_empty();
        };
        self.bounds.iter().all(|(k, v)| match v.parse::<f64>() {
            Ok(b) => match k.as_str() {
                "minInclusive" => x >= b,
                "maxInclusive" => x <= b,
                "minExclusive" => x > b,
                _ => x < b,
            },
            Err(_) => false,
        })
    }
}

/// A value of built-in type `ty` satisfying `facets`, or an error naming what cannot be met.
pub(super) fn builtin(
    file: &str,
    ty: &str,
    facets: &Facets,
    name: &str,
) -> Result<String, ExampleError> {
    let value = if let Some(e) = &facets.enumeration {
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
        match ty {
            "string" | "normalizedString" | "token" => {
                let want = facets
                    .length
                    .unwrap_or_else(|| facets.min_length.unwrap_or(0).max(7));
                let want = facets.max_length.map_or(want, |m| want.min(m));
                "esempio"
                    .chars()
                    .chain(std::iter::repeat('x'))
                    .take(want)
                    .collect()
            }
            "decimal" => "1.00".into(),
            "int" | "integer" | "long" | "short" | "nonNegativeInteger" | "positiveInteger" => {
                "1".into()
            }
            "boolean" => "true".into(),
            "date" => "2030-01-31".into(),
            "dateTime" => "2030-01-31T12:00:00".into(),
            "gYear" => "2030".into(),
            other => return Err(err(file, format!("{name}: built-in type xsd:{other}"))),
        }
    };
    if !facets.length_ok(&value) || !facets.bounds_ok(&value) {
        return Err(err(
            file,
            format!("{name}: no value found meeting its length and bound facets together (tried {value:?})"),
        ));
    }
    Ok(value)
}
