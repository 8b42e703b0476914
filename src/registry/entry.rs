//! Reading one registry entry: each field's problem named by map, key and field, and the
//! findings a load collects (what was left out or kept degraded, in document order).

use super::raw;
use super::snapshot::{Connection, Effect, Finding, Protocol};
use super::time::Timestamp;

/// One field's problem, before the caller decides what it costs the entry.
pub(super) struct Problem {
    pub(super) field: String,
    pub(super) problem: String,
}

pub(super) type Check<T> = Result<T, Problem>;

pub(super) fn problem(field: &str, problem: impl Into<String>) -> Problem {
    Problem {
        field: field.to_owned(),
        problem: problem.into(),
    }
}

/// Reads one entry's fields and names them in problems.
pub(super) struct Entry<'a> {
    pub(super) map: &'static str,
    pub(super) key: &'a str,
}

impl Entry<'_> {
    pub(super) fn required<T: Clone>(&self, field: &str, v: &Option<T>) -> Check<T> {
        v.clone()
            .ok_or_else(|| problem(field, "required, missing or null"))
    }

    /// The entity's own code: the map key, which must agree with the inner code when present.
    pub(super) fn code(&self, field: &str, inner: &Option<String>) -> Check<String> {
        match inner {
            Some(code) if code != self.key => Err(problem(
                field,
                format!("{code:?} differs from the map key {:?}", self.key),
            )),
            _ => Ok(self.key.to_owned()),
        }
    }

    /// A string of `min..=max` characters (the catalog schema's limits).
    pub(super) fn text(
        &self,
        field: &str,
        v: &Option<String>,
        min: usize,
        max: usize,
    ) -> Check<String> {
        let s = self.required(field, v)?;
        check_len(field, &s, min, max)?;
        Ok(s)
    }

    pub(super) fn connection(
        &self,
        field: &str,
        c: &Option<raw::RawConnection>,
    ) -> Check<Option<Connection>> {
        let Some(c) = c else { return Ok(None) };
        if c.protocol.is_none() && c.ip.is_none() && c.port.is_none() {
            return Ok(None);
        }
        let protocol = match c
            .protocol
            .as_deref()
            .map(str::to_ascii_uppercase)
            .as_deref()
        {
            Some("HTTP") => Protocol::Http,
            Some("HTTPS") => Protocol::Https,
            Some(other) => {
                return Err(problem(
                    &format!("{field}.protocol"),
                    format!("{other:?} is neither HTTP nor HTTPS"),
                ))
            }
            None => {
                return Err(problem(
                    &format!("{field}.protocol"),
                    "required, missing or null",
                ))
            }
        };
        let host = self.required(&format!("{field}.ip"), &c.ip)?;
        if host.is_empty() {
            return Err(problem(&format!("{field}.ip"), "empty host"));
        }
        let port = port(&format!("{field}.port"), c.port)?;
        Ok(Some(Connection {
            protocol,
            host,
            port,
        }))
    }

    pub(super) fn timestamp(&self, field: &str, v: &Option<String>) -> Check<Option<Timestamp>> {
        v.as_deref()
            .map(|s| Timestamp::parse(s).map_err(|e| problem(field, e.to_string())))
            .transpose()
    }
}

pub(super) fn check_len(field: &str, s: &str, min: usize, max: usize) -> Check<()> {
    let n = s.chars().count();
    if n < min || n > max {
        let want = if min == max {
            format!("exactly {min}")
        } else {
            format!("{min} to {max}")
        };
        return Err(problem(field, format!("{n} characters, expected {want}")));
    }
    Ok(())
}

pub(super) fn port(field: &str, p: Option<i64>) -> Check<u16> {
    let p = p.ok_or_else(|| problem(field, "required, missing or null"))?;
    u16::try_from(p)
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| problem(field, format!("{p} is not a TCP port")))
}

/// What the load found, in document order.
/// What a `null` `enabled` becomes.
pub(super) const DISABLED: &str = "taken as disabled";

#[derive(Default)]
pub(super) struct Findings(pub(super) Vec<Finding>);

impl Findings {
    pub(super) fn note(&mut self, e: &Entry<'_>, p: Problem, effect: Effect) {
        self.0.push(Finding {
            map: e.map,
            key: e.key.to_owned(),
            field: p.field,
            problem: p.problem,
            effect,
        });
    }

    /// The entity's own code (else the entry is left out) and whether it is enabled (a null or
    /// missing `enabled` is taken as disabled, as a row the Node could not read as enabled).
    pub(super) fn code_and_enabled(
        &mut self,
        e: &Entry<'_>,
        field: &str,
        inner: &Option<String>,
        enabled: &Option<bool>,
    ) -> Option<(String, bool)> {
        let code = self.keep(e, e.code(field, inner))?;
        let enabled = self.or(
            e,
            e.required("enabled", enabled),
            Effect::Degraded(DISABLED),
            false,
        );
        Some((code, enabled))
    }

    /// The value; else the entry is left out (`None`).
    pub(super) fn keep<T>(&mut self, e: &Entry<'_>, r: Check<T>) -> Option<T> {
        r.map_err(|p| self.note(e, p, Effect::Skipped)).ok()
    }

    /// The value; else `fallback`, and the entry is kept with `effect`.
    pub(super) fn or<T>(&mut self, e: &Entry<'_>, r: Check<T>, effect: Effect, fallback: T) -> T {
        r.unwrap_or_else(|p| {
            self.note(e, p, effect);
            fallback
        })
    }

    /// The entries of one map that could be read, after noting those that could not.
    pub(super) fn rows<T>(
        &mut self,
        map: &'static str,
        m: raw::Map<T>,
    ) -> std::vec::IntoIter<(String, T)> {
        let m = m.unwrap_or_default();
        for bad in m.bad {
            self.0.push(Finding {
                map,
                key: bad.key,
                field: bad.field,
                problem: bad.problem,
                effect: Effect::Skipped,
            });
        }
        m.rows.into_iter()
    }
}
