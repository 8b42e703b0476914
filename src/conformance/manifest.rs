//! The fixtures' manifest (`fixtures/conformance/manifest.toml`): for each request file, how to
//! send it and the answer a Node-compatible endpoint must give.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The manifest's file name inside the fixtures folder.
pub const MANIFEST: &str = "manifest.toml";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Index {
    fixture: Vec<Fixture>,
}

/// One fixture: a request file and its expected answer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fixture {
    /// The request file, relative to the fixtures folder; its path without `.xml` names the fixture.
    pub file: String,
    /// The operation the fixture exercises (`demandPaymentNotice`, …).
    pub operation: String,
    /// The SOAPAction header; absent: no header.
    #[serde(default)]
    pub soap_action: Option<String>,
    /// The path the request is sent to.
    #[serde(default = "default_path")]
    pub path: String,
    #[serde(default = "default_method")]
    pub method: String,
    #[serde(default = "default_content_type")]
    pub content_type: String,
    /// Spaces appended after the document up to this many bytes (the body-cap fixture).
    #[serde(default)]
    pub pad_to_bytes: Option<usize>,
    /// The sample EC scenario the fixture needs (docs/conformance-fixtures.md), if any.
    #[serde(default)]
    pub scenario: Option<String>,
    /// Send the request once first as a blocker, answered by the scenario (`no-answer`), and
    /// send the fixture while the blocker holds the station's only call slot.
    #[serde(default)]
    pub busy_station: bool,
    /// The expected HTTP status.
    pub status: u16,
    /// `OK`, `KO`, or `FAULT` for a SOAP Fault.
    pub outcome: String,
    /// The fault bean's `faultCode`, or the SOAP Fault's `faultcode`.
    #[serde(default)]
    pub fault_code: Option<String>,
    /// The fault bean's `faultString`, or the SOAP Fault's `faultstring`.
    #[serde(default)]
    pub fault_string: Option<String>,
    /// A pattern for the fault's `description` (the SOAP Fault's `detail`): `*` is any text.
    #[serde(default)]
    pub description: Option<String>,
    /// Whether the answer is valid against the official schema of its operation; absent for
    /// router faults, which are SOAP 1.1 Faults with a text detail.
    #[serde(default)]
    pub schema_valid: Option<bool>,
    /// What the fixture shows, for the report.
    #[serde(default)]
    pub about: Option<String>,
}

fn default_path() -> String {
    "/node-for-psp/v1".into()
}

fn default_method() -> String {
    "POST".into()
}

fn default_content_type() -> String {
    "text/xml; charset=UTF-8".into()
}

impl Fixture {
    /// `demand/ok` for `demand/ok.xml`.
    pub fn name(&self) -> &str {
        self.file.strip_suffix(".xml").unwrap_or(&self.file)
    }
}

/// Why the fixtures cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("{path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Parse {
        path: PathBuf,
        source: Box<toml::de::Error>,
    },
    #[error("{path}: {problem}")]
    Invalid { path: PathBuf, problem: String },
}

/// Reads the manifest of `dir` and checks that every fixture names a file that exists, once.
pub fn load(dir: &Path) -> Result<Vec<Fixture>, ManifestError> {
    let path = dir.join(MANIFEST);
    let text = std::fs::read_to_string(&path).map_err(|source| ManifestError::Read {
        path: path.clone(),
        source,
    })?;
    let index: Index = toml::from_str(&text).map_err(|source| ManifestError::Parse {
        path: path.clone(),
        source: Box::new(source),
    })?;
    let invalid = |problem: String| ManifestError::Invalid {
        path: path.clone(),
        problem,
    };
    let mut seen = BTreeSet::new();
    for f in &index.fixture {
        if !seen.insert(f.file.clone()) {
            return Err(invalid(format!("{} is listed twice", f.file)));
        }
        if !dir.join(&f.file).is_file() {
            return Err(invalid(format!("{}: no such file", f.file)));
        }
        if !["OK", "KO", "FAULT"].contains(&f.outcome.as_str()) {
            return Err(invalid(format!(
                "{}: outcome {:?} is not OK, KO or FAULT",
                f.file, f.outcome
            )));
        }
        if f.busy_station && f.scenario.is_none() {
            return Err(invalid(format!(
                "{}: busy_station needs a scenario",
                f.file
            )));
        }
        if let Some(s) = &f.scenario {
            if crate::sample_ec::scenario::by_name(s).is_none() {
                return Err(invalid(format!("{}: unknown scenario {s:?}", f.file)));
            }
        }
    }
    Ok(index.fixture)
}

/// Whether `text` matches `pattern`, where `*` stands for any text (possibly empty).
pub fn matches(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn patterns_match_with_stars() {
        assert!(matches("abc", "abc"));
        assert!(!matches("abc", "abcd"));
        assert!(matches("a*d", "abcd"));
        assert!(matches("*", ""));
        assert!(matches("*b*", "abc"));
        assert!(!matches("a*b*c", "acb"));
        assert!(matches("Errore * [x]*", "Errore validazione [x] - y"));
        assert!(!matches("ab*ba", "aba"));
    }
}
