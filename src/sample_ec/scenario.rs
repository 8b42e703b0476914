//! The reserved values that select the sample EC's answer from the request alone, so a PSP can
//! reach each outcome with a fixed request and no set-up (docs/conformance-fixtures.md).
//!
//! A marker is looked for in the decoded service data (`datiSpecificiServizio`), where any text
//! field can carry it: a car plate (`veicoloTarga`, 7–8 characters), a name, a note.

use super::answer::{Answer, Kind};

/// One scenario: its name (used by fixture manifests), its marker, and the answer it selects.
pub struct Scenario {
    pub name: &'static str,
    pub marker: &'static str,
    pub kind: Kind,
    /// What a PSP sees through a Node-compatible gateway.
    pub effect: &'static str,
}

/// The scenario table, in the order documented.
pub const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "ko",
        marker: "XX000XX",
        kind: Kind::Ko,
        effect: "EC KO `PAA_SEMANTICA` → `PPT_ERRORE_EMESSO_DA_PAA`",
    },
    Scenario {
        name: "http-500",
        marker: "XX001XX",
        kind: Kind::HttpStatus,
        effect: "HTTP 500, empty body → `PPT_STAZIONE_INT_PA_IRRAGGIUNGIBILE`",
    },
    Scenario {
        name: "soap-fault",
        marker: "XX002XX",
        kind: Kind::SoapFault,
        effect: "HTTP 500 SOAP Fault → `PPT_STAZIONE_INT_PA_IRRAGGIUNGIBILE`",
    },
    Scenario {
        name: "malformed",
        marker: "XX003XX",
        kind: Kind::Malformed,
        effect: "not well-formed XML → `PPT_STAZIONE_INT_PA_ERRORE_RESPONSE`",
    },
    Scenario {
        name: "truncated",
        marker: "XX004XX",
        kind: Kind::Truncated,
        effect: "half an OK answer → `PPT_STAZIONE_INT_PA_ERRORE_RESPONSE`",
    },
    Scenario {
        name: "wrong-namespace",
        marker: "XX005XX",
        kind: Kind::WrongNamespace,
        effect: "OK answer in a foreign namespace → `PPT_STAZIONE_INT_PA_ERRORE_RESPONSE`",
    },
    Scenario {
        name: "reset",
        marker: "XX006XX",
        kind: Kind::Reset,
        effect: "TCP reset, no answer → `PPT_STAZIONE_INT_PA_IRRAGGIUNGIBILE`",
    },
    Scenario {
        name: "no-answer",
        marker: "XX007XX",
        kind: Kind::NoAnswer,
        effect: "no answer for 30 s → `PPT_STAZIONE_INT_PA_TIMEOUT` (the gateway's deadline)",
    },
];

/// The KO marker kept from the first sample EC: the plate that makes it refuse the demand.
pub const KO_MARKER: &str = "XX000XX";

impl Scenario {
    /// The answer this scenario selects (as queued through the control API).
    pub fn answer(&self) -> Answer {
        let mut a = Answer::of(self.kind);
        if self.kind == Kind::HttpStatus {
            a.status = Some(500);
        }
        a
    }
}

/// The scenario whose marker the decoded service data carry, if any (the first in table order).
pub fn find(data: &str) -> Option<&'static Scenario> {
    SCENARIOS.iter().find(|s| data.contains(s.marker))
}

/// The scenario called `name`.
pub fn by_name(name: &str) -> Option<&'static Scenario> {
    SCENARIOS.iter().find(|s| s.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_and_names_are_unique_and_fit_a_plate() {
        for (i, s) in SCENARIOS.iter().enumerate() {
            assert!((7..=8).contains(&s.marker.len()), "{}", s.name);
            assert!(s.answer().check().is_ok(), "{}", s.name);
            for t in &SCENARIOS[i + 1..] {
                assert_ne!(s.marker, t.marker);
                assert_ne!(s.name, t.name);
            }
        }
        assert_eq!(find("<p>XX000XX</p>").map(|s| s.name), Some("ko"));
        assert_eq!(by_name("reset").map(|s| s.marker), Some("XX006XX"));
    }
}
