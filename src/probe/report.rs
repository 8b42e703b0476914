//! The probe's findings, check by check, written for a terminal, as JSON, or as JUnit XML.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::{json, Value};

use crate::soap::write::{escape_attr, XmlOut};

/// A check's outcome. `Warn` does not fail the probe (expiry soon, slow but in time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Warn,
    Fail,
    /// Not run (an earlier check failed, or the options leave it out).
    Skip,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Warn => "WARN",
            Verdict::Fail => "FAIL",
            Verdict::Skip => "SKIP",
        }
    }
}

/// One check: a stable name, its verdict, what was measured, and how to fix a failure.
#[derive(Debug, Clone)]
pub struct Check {
    /// `connectivity`, `functional` or `latency`.
    pub group: &'static str,
    /// Stable name, e.g. `tls.server_chain` or `00001.answer`.
    pub name: String,
    pub verdict: Verdict,
    pub elapsed: Option<Duration>,
    /// One line: what was found.
    pub message: String,
    /// One line: what to do, for anything but a pass.
    pub fix: Option<String>,
    /// Evidence, labelled: violated rules, the PSP response the gateway would give, the EC fault.
    pub evidence: Vec<(String, String)>,
}

impl Check {
    pub fn new(group: &'static str, name: impl Into<String>, verdict: Verdict) -> Self {
        Self {
            group,
            name: name.into(),
            verdict,
            elapsed: None,
            message: String::new(),
            fix: None,
            evidence: Vec::new(),
        }
    }

    pub fn pass(group: &'static str, name: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(group, name, Verdict::Pass).msg(message)
    }

    pub fn fail(
        group: &'static str,
        name: impl Into<String>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Self::new(group, name, Verdict::Fail).msg(message).fix(fix)
    }

    pub fn msg(mut self, m: impl Into<String>) -> Self {
        self.message = m.into();
        self
    }

    pub fn fix(mut self, f: impl Into<String>) -> Self {
        self.fix = Some(f.into());
        self
    }

    pub fn took(mut self, d: Duration) -> Self {
        self.elapsed = Some(d);
        self
    }

    pub fn with(mut self, label: impl Into<String>, text: impl Into<String>) -> Self {
        self.evidence.push((label.into(), text.into()));
        self
    }
}

/// Everything one probe run found.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// What was probed: station code and URL.
    pub target: String,
    pub checks: Vec<Check>,
}

impl Report {
    /// Every check passed (warnings and skips allowed).
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.verdict != Verdict::Fail)
    }

    pub fn count(&self, v: Verdict) -> usize {
        self.checks.iter().filter(|c| c.verdict == v).count()
    }

    /// The terminal report; ANSI colours only when `colour` (a TTY).
    pub fn text(&self, colour: bool) -> String {
        let paint = |v: Verdict| -> String {
            let code = match v {
                Verdict::Pass => "32",
                Verdict::Warn => "33",
                Verdict::Fail => "31;1",
                Verdict::Skip => "2",
            };
            if colour {
                format!("\x1b[{code}m{:<4}\x1b[0m", v.label())
            } else {
                format!("{:<4}", v.label())
            }
        };
        let mut out = format!("sanp-gateway probe: {}\n", self.target);
        let mut group = "";
        for c in &self.checks {
            if c.group != group {
                group = c.group;
                let _ = writeln!(out, "\n{group}");
            }
            let took = c
                .elapsed
                .map(|d| format!(" ({})", ms(d)))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {} {}{took}: {}",
                paint(c.verdict),
                c.name,
                c.message
            );
            if c.verdict != Verdict::Pass {
                if let Some(f) = &c.fix {
                    let _ = writeln!(out, "       fix: {f}");
                }
            }
            for (label, text) in &c.evidence {
                if text.contains('\n') || text.len() > 80 {
                    let _ = writeln!(out, "       {label}:");
                    for line in text.lines() {
                        let _ = writeln!(out, "         {line}");
                    }
                } else {
                    let _ = writeln!(out, "       {label}: {text}");
                }
            }
        }
        let _ = writeln!(
            out,
            "\n{} passed, {} warnings, {} failed, {} skipped: {}",
            self.count(Verdict::Pass),
            self.count(Verdict::Warn),
            self.count(Verdict::Fail),
            self.count(Verdict::Skip),
            if self.passed() {
                "the station answers as the Node accepts"
            } else {
                "the station needs fixing (see fix: lines)"
            }
        );
        out
    }

    pub fn json(&self) -> Value {
        let checks: Vec<Value> = self
            .checks
            .iter()
            .map(|c| {
                json!({
                    "group": c.group,
                    "name": c.name,
                    "verdict": c.verdict.label().to_ascii_lowercase(),
                    "elapsed_ms": c.elapsed.map(|d| d.as_secs_f64() * 1000.0),
                    "message": c.message,
                    "fix": c.fix,
                    "evidence": c.evidence.iter().map(|(l, t)| json!({"label": l, "text": t})).collect::<Vec<_>>(),
                })
            })
            .collect();
        json!({
            "target": self.target,
            "passed": self.passed(),
            "summary": {
                "pass": self.count(Verdict::Pass),
                "warn": self.count(Verdict::Warn),
                "fail": self.count(Verdict::Fail),
                "skip": self.count(Verdict::Skip),
            },
            "checks": checks,
        })
    }

    /// JUnit XML: one `testsuite` per group, one `testcase` per check; a failure carries the
    /// fix and the evidence, a skip is `<skipped/>`, a warning passes with `system-out`.
    pub fn junit(&self) -> String {
        let mut groups: Vec<&'static str> = Vec::new();
        for c in &self.checks {
            if !groups.contains(&c.group) {
                groups.push(c.group);
            }
        }
        let mut w = XmlOut::with_capacity(4096);
        w.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        w.raw(&format!(
            "<testsuites name=\"sanp-gateway probe {}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">",
            escape_attr(&self.target),
            self.checks.len(),
            self.count(Verdict::Fail),
            self.count(Verdict::Skip)
        ));
        for g in groups {
            let cs: Vec<&Check> = self.checks.iter().filter(|c| c.group == g).collect();
            let fails = cs.iter().filter(|c| c.verdict == Verdict::Fail).count();
            let skips = cs.iter().filter(|c| c.verdict == Verdict::Skip).count();
            let total: f64 = cs
                .iter()
                .filter_map(|c| c.elapsed)
                .map(|d| d.as_secs_f64())
                .sum();
            w.raw(&format!(
                "<testsuite name=\"{g}\" tests=\"{}\" failures=\"{fails}\" skipped=\"{skips}\" time=\"{total:.3}\">",
                cs.len()
            ));
            for c in cs {
                let time = c.elapsed.map(|d| d.as_secs_f64()).unwrap_or(0.0);
                w.raw("<testcase classname=\"")
                    .raw(&escape_attr(&format!("probe.{g}")))
                    .raw("\" name=\"")
                    .raw(&escape_attr(&c.name))
                    .raw(&format!("\" time=\"{time:.3}\">"));
                let body = evidence_text(c);
                match c.verdict {
                    Verdict::Fail => {
                        w.raw("<failure message=\"")
                            .raw(&escape_attr(&c.message))
                            .raw("\" type=\"probe\">")
                            .text(&body)
                            .raw("</failure>");
                    }
                    Verdict::Skip => {
                        w.raw("<skipped message=\"")
                            .raw(&escape_attr(&c.message))
                            .raw("\"/>");
                    }
                    Verdict::Pass | Verdict::Warn => {
                        w.raw("<system-out>")
                            .text(&format!("{}: {}\n{body}", c.verdict.label(), c.message))
                            .raw("</system-out>");
                    }
                }
                w.raw("</testcase>");
            }
            w.raw("</testsuite>");
        }
        w.raw("</testsuites>\n");
        w.finish()
    }
}

fn evidence_text(c: &Check) -> String {
    let mut s = String::new();
    if let Some(f) = &c.fix {
        let _ = writeln!(s, "fix: {f}");
    }
    for (label, text) in &c.evidence {
        let _ = writeln!(s, "{label}: {text}");
    }
    s
}

/// `12 ms`, `1.20 s`.
pub fn ms(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.2} s", d.as_secs_f64())
    }
}
