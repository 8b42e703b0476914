//! A form generated from a service's XSD model: the fields a citizen fills (with the schema's
//! constraints as client-side checks), and the instance document built back from what they sent,
//! in the schema's namespace and element order.

use std::collections::HashMap;

use crate::soap::write::escape_text;
use crate::xsd::example::sample_pattern;
use crate::xsd::model::{
    Base, Content, ElementDecl, Group, GroupKind, Particle, ServiceModel, SimpleType,
};

/// Repeated elements show at most this many slots (the schema may allow more).
const MAX_SLOTS: u32 = 3;

/// One node of a form, following the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// An input for an element of simple content.
    Field(Field),
    /// A fieldset for an element of complex content.
    Section {
        path: String,
        label: String,
        hint: Option<String>,
        /// Whether the element must be there (its parents all required too).
        required: bool,
        children: Vec<Node>,
    },
    /// One of several alternatives (`xsd:choice`).
    Choice {
        path: String,
        required: bool,
        options: Vec<(String, Vec<Node>)>,
    },
}

/// One input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The form control's name: the element's path below the root (`veicoloConTarga.veicoloTarga`).
    pub path: String,
    pub label: String,
    pub hint: Option<String>,
    pub required: bool,
    pub kind: FieldKind,
    /// HTML constraints: `pattern`, `minlength`, `maxlength`.
    pub pattern: Option<String>,
    pub min_length: Option<u32>,
    pub max_length: Option<u32>,
    /// What a valid value looks like, for the placeholder and the message.
    pub example: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    Decimal,
    Date,
    Select(Vec<String>),
    /// A value the schema fixes: shown, not editable.
    Fixed(String),
}

/// A generated form for one service schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    pub model: ServiceModel,
    pub nodes: Vec<Node>,
}

/// A constraint of the schema the form cannot express.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{schema}: {problem}")]
pub struct FormError {
    pub schema: String,
    pub problem: String,
}

impl Form {
    /// The form of `model`; a pattern with syntax the generator cannot produce an example for is
    /// refused here, at start-up, rather than shown as a broken form.
    pub fn new(model: ServiceModel) -> Result<Self, FormError> {
        let fail = |problem: String| FormError {
            schema: model.file.clone(),
            problem,
        };
        let nodes = match &model.root.content {
            Content::Complex(g) => group_nodes(g, "", true).map_err(fail)?,
            Content::Simple(_) => {
                return Err(fail("a root of simple content has no form".into()));
            }
        };
        Ok(Self { model, nodes })
    }

    /// Every field, depth first.
    pub fn fields(&self) -> Vec<&Field> {
        fn walk<'a>(nodes: &'a [Node], out: &mut Vec<&'a Field>) {
            for n in nodes {
                match n {
                    Node::Field(f) => out.push(f),
                    Node::Section { children, .. } => walk(children, out),
                    Node::Choice { options, .. } => {
                        for (_, o) in options {
                            walk(o, out);
                        }
                    }
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.nodes, &mut out);
        out
    }

    /// The instance document for the values sent (`path → value`; choices as `choice:path →
    /// option`), in the schema's namespace and order. Optional parts left empty are left out.
    pub fn instance(&self, values: &HashMap<String, String>) -> String {
        let root = &self.model.root;
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
        out.push('<');
        out.push_str(&root.name);
        out.push_str(" xmlns=\"");
        out.push_str(&escape_text(&self.model.namespace));
        out.push_str("\">");
        if let Content::Complex(g) = &root.content {
            write_group(g, "", values, &mut out);
        }
        out.push_str("</");
        out.push_str(&root.name);
        out.push('>');
        out
    }

    /// A valid value for every field and the first option of every choice: what the tests fill.
    pub fn example_values(&self) -> HashMap<String, String> {
        let mut values = HashMap::new();
        fn walk(nodes: &[Node], values: &mut HashMap<String, String>) {
            for n in nodes {
                match n {
                    Node::Field(f) => {
                        values.insert(f.path.clone(), f.example.clone());
                    }
                    Node::Section { children, .. } => walk(children, values),
                    Node::Choice { path, options, .. } => {
                        values.insert(format!("choice:{path}"), "0".into());
                        if let Some((_, first)) = options.first() {
                            walk(first, values);
                        }
                    }
                }
            }
        }
        walk(&self.nodes, &mut values);
        values
    }
}

fn child_path(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_owned()
    } else {
        format!("{parent}.{name}")
    }
}

/// `path` of slot `k` of an element that may repeat (`item[2]`); the first slot has no index.
fn slot_path(base: &str, k: u32) -> String {
    if k == 0 {
        base.to_owned()
    } else {
        format!("{base}[{k}]")
    }
}

fn slots(min: u32, max: Option<u32>) -> u32 {
    max.unwrap_or(MAX_SLOTS)
        .clamp(1, MAX_SLOTS)
        .max(min.min(MAX_SLOTS))
}

fn group_nodes(g: &Group, parent: &str, required: bool) -> Result<Vec<Node>, String> {
    let required = required && g.min > 0;
    match g.kind {
        GroupKind::Sequence => {
            let mut out = Vec::new();
            for p in &g.particles {
                out.extend(particle_nodes(p, parent, required)?);
            }
            Ok(out)
        }
        // A choice of one is no choice: its content is shown as it is.
        GroupKind::Choice if g.particles.len() == 1 => {
            particle_nodes(&g.particles[0], parent, required)
        }
        GroupKind::Choice => {
            let mut options = Vec::new();
            for p in &g.particles {
                let label = match p {
                    Particle::Element(e) => readable(&e.name),
                    Particle::Group(_) => format!("Alternativa {}", options.len() + 1),
                };
                options.push((label, particle_nodes(p, parent, required)?));
            }
            Ok(vec![Node::Choice {
                path: if parent.is_empty() {
                    "root".to_owned()
                } else {
                    parent.to_owned()
                },
                required,
                options,
            }])
        }
    }
}

fn particle_nodes(p: &Particle, parent: &str, required: bool) -> Result<Vec<Node>, String> {
    match p {
        Particle::Group(g) => group_nodes(g, parent, required),
        Particle::Element(e) => {
            let base = child_path(parent, &e.name);
            (0..slots(e.min, e.max))
                .map(|k| element_node(e, &slot_path(&base, k), required && k < e.min))
                .collect()
        }
    }
}

fn element_node(e: &ElementDecl, path: &str, required: bool) -> Result<Node, String> {
    let label = readable(&e.name);
    match &e.content {
        Content::Complex(g) => Ok(Node::Section {
            path: path.to_owned(),
            label,
            hint: e.doc.clone(),
            required,
            children: group_nodes(g, path, required)?,
        }),
        Content::Simple(s) => Ok(Node::Field(field(s, path, label, e.doc.clone(), required)?)),
    }
}

fn field(
    s: &SimpleType,
    path: &str,
    label: String,
    hint: Option<String>,
    required: bool,
) -> Result<Field, String> {
    let kind = if let Some(v) = &s.fixed {
        FieldKind::Fixed(v.clone())
    } else if !s.enumeration.is_empty() {
        FieldKind::Select(s.enumeration.clone())
    } else {
        match s.base {
            Base::Date => FieldKind::Date,
            Base::Decimal | Base::Integer => FieldKind::Decimal,
            Base::String | Base::Boolean => FieldKind::Text,
        }
    };
    let example = example(s).map_err(|e| format!("field {path}: {e}"))?;
    // XSD patterns are anchored and every one must match: one HTML pattern holds them all.
    let pattern = match s.patterns.as_slice() {
        [] => None,
        [one] => Some(one.clone()),
        many => Some(
            many.iter()
                .map(|p| format!("(?=(?:{p})$)"))
                .collect::<String>()
                + ".*",
        ),
    };
    Ok(Field {
        path: path.to_owned(),
        label,
        hint,
        required,
        kind,
        pattern,
        min_length: s.length.or(s.min_length),
        max_length: s.length.or(s.max_length),
        example,
    })
}

/// `codiceFiscaleIntestatario` → `Codice fiscale intestatario`.
pub fn readable(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 8);
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push(' ');
            out.extend(c.to_lowercase());
        } else if i == 0 {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn write_group(g: &Group, parent: &str, values: &HashMap<String, String>, out: &mut String) {
    match g.kind {
        GroupKind::Choice if g.particles.len() > 1 => {
            let key = format!("choice:{}", if parent.is_empty() { "root" } else { parent });
            let chosen = values
                .get(&key)
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
            if let Some(p) = g.particles.get(chosen) {
                write_particle(p, parent, values, out);
            }
        }
        GroupKind::Sequence | GroupKind::Choice => {
            for p in &g.particles {
                write_particle(p, parent, values, out);
            }
        }
    }
}

fn write_particle(p: &Particle, parent: &str, values: &HashMap<String, String>, out: &mut String) {
    match p {
        Particle::Group(g) => write_group(g, parent, values, out),
        Particle::Element(e) => {
            let base = child_path(parent, &e.name);
            for k in 0..slots(e.min, e.max) {
                let path = slot_path(&base, k);
                // Required slots are always written, so an empty one is reported by the
                // validator at its own path; optional ones only when something was filled.
                if k < e.min || filled(e, &path, values) {
                    write_element(e, &path, values, out);
                }
            }
        }
    }
}

fn filled(e: &ElementDecl, path: &str, values: &HashMap<String, String>) -> bool {
    match &e.content {
        Content::Simple(s) => {
            s.fixed.is_none() && values.get(path).is_some_and(|v| !v.trim().is_empty())
        }
        Content::Complex(_) => {
            let prefix = format!("{path}.");
            values
                .iter()
                .any(|(k, v)| k.starts_with(&prefix) && !v.trim().is_empty())
        }
    }
}

fn write_element(e: &ElementDecl, path: &str, values: &HashMap<String, String>, out: &mut String) {
    out.push('<');
    out.push_str(&e.name);
    out.push('>');
    match &e.content {
        Content::Simple(s) => {
            let value = match &s.fixed {
                Some(v) => v.as_str(),
                None => values.get(path).map(|v| v.trim()).unwrap_or(""),
            };
            out.push_str(&escape_text(value));
        }
        Content::Complex(g) => write_group(g, path, values, out),
    }
    out.push_str("</");
    out.push_str(&e.name);
    out.push('>');
}

/// A value valid for `s`: its fixed value, first enumeration, a date, an amount, or text that
/// satisfies its pattern and lengths.
pub fn example(s: &SimpleType) -> Result<String, String> {
    if let Some(v) = &s.fixed {
        return Ok(v.clone());
    }
    if let Some(v) = s.enumeration.first() {
        return Ok(v.clone());
    }
    if let Some(p) = s.patterns.first() {
        return sample_pattern(p).map_err(|e| format!("pattern {p:?}: {e}"));
    }
    let len = s
        .length
        .or(s.min_length.map(|m| m.max(8)))
        .unwrap_or(8)
        .min(s.max_length.unwrap_or(u32::MAX)) as usize;
    Ok(match s.base {
        Base::Date => "2030-01-31".to_owned(),
        Base::Decimal => "10.00".to_owned(),
        Base::Integer => "1".to_owned(),
        Base::Boolean => "true".to_owned(),
        Base::String => "ESEMPIO12345678901234567890"
            .chars()
            .cycle()
            .take(len)
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::{check_service_data, ServiceSchemas};
    use crate::xsd::{model, Bundle};
    use base64::Engine as _;
    use std::path::Path;

    fn dir() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("xsd/catalogo-servizi")
    }

    /// Every bundled schema yields a form whose example-filled instance passes the gateway's
    /// own service-data validation.
    #[test]
    fn every_bundled_schema_yields_a_form_whose_filled_instance_validates() {
        let bundle = Bundle::service_schemas(&dir()).expect("bundle");
        let schemas = ServiceSchemas::compile_dir(&dir()).expect("schemas");
        let mut files: Vec<String> = bundle
            .names()
            .filter(|n| *n != "sac-common-types-1.0.xsd")
            .map(str::to_owned)
            .collect();
        files.sort();
        assert_eq!(files.len(), 5);
        for f in files {
            let form = Form::new(model::read(&bundle, &f).expect("model")).expect("form");
            let xml = form.instance(&form.example_values());
            let b64 = base64::engine::general_purpose::STANDARD.encode(xml.as_bytes());
            check_service_data(&schemas, &f, &b64, &crate::soap::Limits::default(), None)
                .unwrap_or_else(|e| panic!("{f}: {e:?}\n{xml}"));
        }
    }

    #[test]
    fn labels_constraints_and_choices_follow_the_schema() {
        let bundle = Bundle::service_schemas(&dir()).expect("bundle");
        let cie = Form::new(model::read(&bundle, "Cie_1_0_0.xsd").expect("model")).expect("form");
        let fields = cie.fields();
        let cf = fields
            .iter()
            .find(|f| f.path == "intestatario.codiceFiscaleIntestatario")
            .expect("field");
        assert_eq!(cf.label, "Codice fiscale intestatario");
        assert!(cf.required);
        assert_eq!((cf.min_length, cf.max_length), (Some(16), Some(16)));
        assert!(cf
            .pattern
            .as_deref()
            .is_some_and(|p| p.starts_with("[A-Z]{6}")));
        assert!(matches!(&fields[0].kind, FieldKind::Select(v) if v.len() == 7));
        let cup = Form::new(model::read(&bundle, "Cup_1_0_0.xsd").expect("model")).expect("form");
        assert!(matches!(&cup.nodes[0], Node::Choice { options, .. } if options.len() == 3));
        let email = cup.fields().into_iter().find(|f| f.path == "debtorEmail");
        assert!(email.is_some_and(|f| !f.required));
        // An optional section left empty is left out of the instance; a filled one is written.
        let pesca =
            Form::new(model::read(&bundle, "D847_Pesca_1_0_0.xsd").expect("model")).expect("form");
        let mut values = pesca.example_values();
        values.insert("note.note".into(), String::new());
        assert!(!pesca.instance(&values).contains("<note>"));
        values.insert("note.note".into(), "ok".into());
        assert!(pesca
            .instance(&values)
            .contains("<note><note>ok</note></note>"));
    }
}
