//! Secrets (channel passwords) that never print and compare in constant time.

use std::fmt;

use subtle::ConstantTimeEq;

/// A password or similar secret. `Debug`/`Display` print a mask, never the value.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// Compares in constant time (`subtle`), so response timing does not reveal how much of a
    /// guessed password was right. Lengths are public (8..15 by schema): a different length is
    /// refused at once.
    pub fn matches(&self, candidate: &str) -> bool {
        self.0.as_bytes().ct_eq(candidate.as_bytes()).into()
    }

    /// The value itself, for the one place that must send it on (never for logs).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"***\"")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_only_the_exact_value_and_never_prints_it() {
        let s = Secret::new("password01");
        assert!(s.matches("password01"));
        assert!(!s.matches("password0"));
        assert!(!s.matches("password012"));
        assert!(!s.matches("Password01"));
        assert!(!s.matches(""));
        assert!(Secret::default().matches(""));
        assert_eq!(format!("{s:?} {s}"), "\"***\" ***");
    }
}
