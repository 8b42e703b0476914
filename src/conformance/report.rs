//! The runner's results: a readable report with a summary line, and JUnit XML for CI.

use std::fmt::Write as _;
use std::time::Duration;

/// How one fixture went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Passed,
    /// The differences from the manifest, one per line.
    Failed(Vec<String>),
    /// Why it did not run.
    Skipped(String),
}

/// One fixture's result.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    pub operation: String,
    pub verdict: Verdict,
    pub took: Duration,
}

/// Every fixture's result, in manifest order.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub target: String,
    pub cases: Vec<Case>,
}

impl Report {
    pub fn count(&self, f: impl Fn(&Verdict) -> bool) -> usize {
        self.cases.iter().filter(|c| f(&c.verdict)).count()
    }

    pub fn passed(&self) -> usize {
        self.count(|v| *v == Verdict::Passed)
    }

    pub fn failed(&self) -> usize {
        self.count(|v| matches!(v, Verdict::Failed(_)))
    }

    pub fn skipped(&self) -> usize {
        self.count(|v| matches!(v, Verdict::Skipped(_)))
    }

    /// Whether every fixture passed (none failed, none skipped).
    pub fn all_passed(&self) -> bool {
        self.passed() == self.cases.len()
    }

    /// The fixtures that failed, by name.
    pub fn failed_names(&self) -> Vec<&str> {
        self.cases
            .iter()
            .filter(|c| matches!(c.verdict, Verdict::Failed(_)))
            .map(|c| c.name.as_str())
            .collect()
    }

    /// `N passed, N failed, N skipped`.
    pub fn summary(&self) -> String {
        format!(
            "{} passed, {} failed, {} skipped",
            self.passed(),
            self.failed(),
            self.skipped()
        )
    }

    /// One line per fixture, the differences under each failure, then the summary line.
    pub fn text(&self) -> String {
        let mut out = format!("conformance fixtures against {}\n", self.target);
        for c in &self.cases {
            let ms = c.took.as_millis();
            let _ = match &c.verdict {
                Verdict::Passed => writeln!(out, "  pass  {} ({ms} ms)", c.name),
                Verdict::Skipped(why) => writeln!(out, "  skip  {}: {why}", c.name),
                Verdict::Failed(diffs) => {
                    let _ = writeln!(out, "  FAIL  {} ({ms} ms)", c.name);
                    for d in diffs {
                        let _ = writeln!(out, "          - {d}");
                    }
                    Ok(())
                }
            };
        }
        let _ = writeln!(out, "{}", self.summary());
        out
    }

    /// JUnit XML: one test suite, one test case per fixture (class = operation).
    pub fn junit(&self) -> String {
        let total: f64 = self.cases.iter().map(|c| c.took.as_secs_f64()).sum();
        let mut out = String::with_capacity(16 * 1024);
        out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            out,
            "<testsuite name=\"sanp-gateway conformance\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" errors=\"0\" time=\"{total:.3}\">",
            self.cases.len(),
            self.failed(),
            self.skipped()
        );
        for c in &self.cases {
            let _ = write!(
                out,
                "  <testcase name=\"{}\" classname=\"{}\" time=\"{:.3}\">",
                escape(&c.name),
                escape(&c.operation),
                c.took.as_secs_f64()
            );
            let _ = match &c.verdict {
                Verdict::Passed => Ok(()),
                Verdict::Skipped(why) => write!(out, "<skipped message=\"{}\"/>", escape(why)),
                Verdict::Failed(diffs) => {
                    let text = escape(&diffs.join("\n"));
                    write!(out, "<failure message=\"{text}\">{text}</failure>")
                }
            };
            out.push_str("</testcase>\n");
        }
        out.push_str("</testsuite>\n");
        out
    }
}

/// Text made safe for XML content and attribute values.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' => out.push_str("&#10;"),
            c if (c as u32) < 0x20 && c != '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn junit_escapes_and_counts() {
        let report = Report {
            target: "x".into(),
            cases: vec![
                Case {
                    name: "demand/ok".into(),
                    operation: "demandPaymentNotice".into(),
                    verdict: Verdict::Passed,
                    took: Duration::from_millis(5),
                },
                Case {
                    name: "demand/ko".into(),
                    operation: "demandPaymentNotice".into(),
                    verdict: Verdict::Failed(vec!["faultCode: expected \"A\", got <B> & C".into()]),
                    took: Duration::from_millis(5),
                },
                Case {
                    name: "demand/timeout".into(),
                    operation: "demandPaymentNotice".into(),
                    verdict: Verdict::Skipped("needs --ec-control".into()),
                    took: Duration::ZERO,
                },
            ],
        };
        assert_eq!(report.summary(), "1 passed, 1 failed, 1 skipped");
        let xml = report.junit();
        assert!(
            xml.contains("tests=\"3\" failures=\"1\" skipped=\"1\""),
            "{xml}"
        );
        assert!(
            xml.contains("expected &quot;A&quot;, got &lt;B&gt; &amp; C"),
            "{xml}"
        );
        assert!(roxmltree::Document::parse(&xml).is_ok(), "{xml}");
        assert!(report.text().contains("FAIL  demand/ko"));
    }
}
