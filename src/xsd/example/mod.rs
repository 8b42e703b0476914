//! Example instances of service schemas: one document valid against an XSD, built by walking it.
//!
//! It walks the schema's model (`xsd::model`, which reads the constructs of the bundled service
//! schemas and refuses any other by name): `sequence` in order, `choice` by its first branch,
//! every element once at least (optional ones included, so the example shows every field a form
//! would offer), simple values from their facets (`enumeration`: the first value; `pattern`: see
//! [`sample_pattern`]; lengths and bounds checked).

use std::fmt;

use super::model::{self, Content, ElementDecl, Group, GroupKind, Particle};
use super::Bundle;
use crate::soap::write::escape_text;

mod pattern;
mod value;

pub use pattern::sample_pattern;

/// Why no example could be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExampleError {
    /// The schema file the problem is in.
    pub schema: String,
    /// What is unsupported or broken there.
    pub construct: String,
}

impl fmt::Display for ExampleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.schema, self.construct)
    }
}

impl std::error::Error for ExampleError {}

/// A generated instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    /// The root element's namespace and local name.
    pub root: (Option<String>, String),
    /// The document, UTF-8, with an XML declaration.
    pub xml: String,
}

impl Example {
    /// The same document with an element the schema does not declare as the root's first
    /// child: invalid against every schema whose root has declared content.
    pub fn invalid_variant(&self) -> String {
        // The serializer always writes a start tag and an end tag for the root.
        let root_open = self.xml.find("?>").and_then(|d| {
            let after = d + 2;
            self.xml[after..].find('>').map(|end| after + end + 1)
        });
        let at = root_open.unwrap_or(self.xml.len());
        format!(
            "{}<elementoNonPrevisto xmlns=\"\">probe</elementoNonPrevisto>{}",
            &self.xml[..at],
            &self.xml[at..]
        )
    }
}

/// Generates an example of the root element of `entry` (a file of `bundle`).
pub fn example(bundle: &Bundle, entry: &str) -> Result<Example, ExampleError> {
    let m = model::read(bundle, entry).map_err(|e| err(&e.schema, e.problem))?;
    let mut body = String::new();
    if let Content::Complex(g) = &m.root.content {
        group(entry, g, &mut body)?;
    } else if let Content::Simple(s) = &m.root.content {
        body = value::of(entry, s, &m.root.name)?;
    }
    let ns = (!m.namespace.is_empty()).then(|| m.namespace.clone());
    let decl = ns
        .as_deref()
        .map(|n| format!(" xmlns=\"{}\"", escape_text(n)))
        .unwrap_or_default();
    Ok(Example {
        root: (ns, m.root.name.clone()),
        xml: format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><{name}{decl}>{body}</{name}>",
            name = m.root.name
        ),
    })
}

fn err(schema: &str, construct: impl Into<String>) -> ExampleError {
    ExampleError {
        schema: schema.to_owned(),
        construct: construct.into(),
    }
}

/// Local elements are in the root's namespace (the model reads qualified schemas only), which
/// the root declares as the default one.
fn group(file: &str, g: &Group, out: &mut String) -> Result<(), ExampleError> {
    let particles = match g.kind {
        GroupKind::Sequence => &g.particles[..],
        GroupKind::Choice => g
            .particles
            .get(..1)
            .ok_or_else(|| err(file, "empty <xsd:choice>"))?,
    };
    for _ in 0..g.min.max(1) {
        for p in particles {
            match p {
                Particle::Element(e) => element(file, e, out)?,
                Particle::Group(inner) => group(file, inner, out)?,
            }
        }
    }
    Ok(())
}

fn element(file: &str, e: &ElementDecl, out: &mut String) -> Result<(), ExampleError> {
    for _ in 0..e.min.max(1) {
        out.push('<');
        out.push_str(&e.name);
        out.push('>');
        match &e.content {
            Content::Simple(s) => out.push_str(&escape_text(&value::of(file, s, &e.name)?)),
            Content::Complex(g) => group(file, g, out)?,
        }
        out.push_str("</");
        out.push_str(&e.name);
        out.push('>');
    }
    Ok(())
}

#[cfg(test)]
mod tests;
