//! A service schema read into a typed model (elements, sequences, choices, simple types and their
//! facets), for what must follow a schema's structure: forms generated from it, example
//! instances, the service-data tree proof (`xsd::fast::ServiceProof`). libxml2 stays the
//! validator; this model only has to describe what it validates.
//!
//! It supports the constructs the bundled service schemas use, and refuses any other one by
//! name, so a form or a proof is never built from a schema half understood: nothing that could
//! change which documents are valid (identity constraints, abstract types…) is passed over.

use std::collections::HashMap;

use super::Bundle;

const XS: &str = "http://www.w3.org/2001/XMLSchema";

/// A service schema: the namespace of its instances and its root element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceModel {
    pub file: String,
    pub namespace: String,
    pub root: ElementDecl,
}

/// One element declaration with its occurrence bounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElementDecl {
    pub name: String,
    /// The namespace of its instances: the target namespace of the schema declaring it when the
    /// element is global or qualified (`form`, else `elementFormDefault`), `None` otherwise.
    pub namespace: Option<String>,
    pub min: u32,
    /// `None`: unbounded.
    pub max: Option<u32>,
    /// `xsd:annotation/xsd:documentation`, when the schema has one.
    pub doc: Option<String>,
    pub content: Content,
}

/// What an element holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// Text of a simple type.
    Simple(Box<SimpleType>),
    /// Child particles, in order.
    Complex(Group),
}

/// A model group: its particles in order, all of them (`sequence`) or one (`choice`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub kind: GroupKind,
    pub min: u32,
    pub max: Option<u32>,
    pub particles: Vec<Particle>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupKind {
    Sequence,
    Choice,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Particle {
    Element(ElementDecl),
    Group(Group),
}

/// The built-in type a simple type restricts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base {
    String,
    Decimal,
    Integer,
    Date,
    Boolean,
}

/// A simple type with every facet the bundled schemas use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimpleType {
    /// The named type, when it has a name (`ta:stTarga`); for messages.
    pub name: Option<String>,
    pub base: Base,
    /// The built-in at the root of the derivation (`string`, `token`, `int`…): `base` groups
    /// built-ins that a validator must tell apart (white space, value ranges).
    pub builtin: &'static str,
    pub enumeration: Vec<String>,
    /// Every pattern must match (patterns of different derivation steps combine with "and").
    pub patterns: Vec<String>,
    pub length: Option<u32>,
    pub min_length: Option<u32>,
    pub max_length: Option<u32>,
    pub total_digits: Option<u32>,
    pub fraction_digits: Option<u32>,
    /// Bounds as written in the schema (decimal text), inclusive or exclusive.
    pub min_inclusive: Option<String>,
    pub max_inclusive: Option<String>,
    pub min_exclusive: Option<String>,
    pub max_exclusive: Option<String>,
    /// `fixed` on the element: the only value allowed.
    pub fixed: Option<String>,
}

impl SimpleType {
    /// A built-in type with no facet of its own.
    pub(crate) fn builtin(base: Base, builtin: &'static str) -> Self {
        Self {
            name: None,
            base,
            builtin,
            enumeration: Vec::new(),
            patterns: Vec::new(),
            length: None,
            min_length: None,
            max_length: None,
            total_digits: None,
            fraction_digits: None,
            min_inclusive: None,
            max_inclusive: None,
            min_exclusive: None,
            max_exclusive: None,
            fixed: None,
        }
    }
}

/// A schema the model cannot describe: the schema and the construct, named.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{schema}: {problem}")]
pub struct ModelError {
    pub schema: String,
    pub problem: String,
}

/// Reads `file` of `bundle` (and the schemas it imports) into its model: its one global element
/// is the root of instances.
pub fn read(bundle: &Bundle, file: &str) -> Result<ServiceModel, ModelError> {
    let fail = |problem: String| ModelError {
        schema: file.to_owned(),
        problem,
    };
    let mut reader = Reader::default();
    reader.load(bundle, file).map_err(fail)?;
    let main = reader
        .docs
        .get(file)
        .ok_or_else(|| fail("not read".into()))?;
    let namespace = main.namespace.clone();
    let roots: Vec<&(String, String)> = reader
        .elements
        .keys()
        .filter(|(ns, _)| *ns == namespace)
        .collect();
    let root_key = match roots.as_slice() {
        [one] => (*one).clone(),
        _ => {
            return Err(fail(format!(
                "{} global elements in its namespace; the model needs exactly one",
                roots.len()
            )))
        }
    };
    let root = reader
        .element_decl(&root_key, 1, Some(1), 0)
        .map_err(fail)?;
    Ok(ServiceModel {
        file: file.to_owned(),
        namespace,
        root,
    })
}

/// One schema document, kept as text with the namespace it defines.
struct Doc {
    namespace: String,
    text: String,
}

/// Global definitions of every schema read, by expanded name, as (schema file, node position).
#[derive(Default)]
struct Reader {
    docs: HashMap<String, Doc>,
    simple_types: HashMap<(String, String), (String, usize)>,
    complex_types: HashMap<(String, String), (String, usize)>,
    /// Schemas whose local elements are unqualified: their complex types cannot be used.
    unqualified: Vec<String>,
    elements: HashMap<(String, String), (String, usize)>,
}

/// Nesting bound: the bundled schemas nest four levels; a recursive schema stops here.
const MAX_DEPTH: usize = 16;

impl Reader {
    fn load(&mut self, bundle: &Bundle, file: &str) -> Result<(), String> {
        if self.docs.contains_key(file) {
            return Ok(());
        }
        let bytes = bundle
            .get_by_location(file)
            .ok_or_else(|| format!("{file} is not in the bundle"))?;
        let text = String::from_utf8(bytes.to_vec()).map_err(|_| format!("{file} is not UTF-8"))?;
        let doc = roxmltree::Document::parse(&text).map_err(|e| format!("{file}: {e}"))?;
        let schema = doc.root_element();
        if !schema.has_tag_name((XS, "schema")) {
            return Err(format!("{file}: the root is not xsd:schema"));
        }
        let namespace = schema
            .attribute("targetNamespace")
            .unwrap_or_default()
            .to_owned();
        // Local elements are in the target namespace only when qualified; a schema of simple
        // types alone (the common types) declares none.
        let qualified = schema.attribute("elementFormDefault") == Some("qualified");
        let mut imports = Vec::new();
        for (i, node) in schema.children().filter(|n| n.is_element()).enumerate() {
            let name = || node.attribute("name").unwrap_or_default().to_owned();
            let key = (namespace.clone(), name());
            match node.tag_name().name() {
                "simpleType" => {
                    self.simple_types.insert(key, (file.to_owned(), i));
                }
                "complexType" => {
                    self.complex_types.insert(key, (file.to_owned(), i));
                    if !qualified {
                        self.unqualified.push(file.to_owned());
                    }
                }
                "element" => {
                    self.elements.insert(key, (file.to_owned(), i));
                }
                "import" | "include" => {
                    let location = node
                        .attribute("schemaLocation")
                        .ok_or_else(|| format!("{file}: an import without schemaLocation"))?;
                    let name = location.rsplit(['/', '\\']).next().unwrap_or(location);
                    imports.push(name.to_owned());
                }
                "annotation" => {}
                other => {
                    return Err(format!(
                        "{file}: xsd:{other} at the top level is not supported"
                    ))
                }
            }
        }
        self.docs.insert(file.to_owned(), Doc { namespace, text });
        for i in imports {
            self.load(bundle, &i)?;
        }
        Ok(())
    }

    /// Runs `f` on the global definition `at` (schema file, position among the schema's children).
    fn with_node<T>(
        &self,
        at: &(String, usize),
        f: impl FnOnce(roxmltree::Node<'_, '_>) -> Result<T, String>,
    ) -> Result<T, String> {
        let doc = self
            .docs
            .get(&at.0)
            .ok_or_else(|| format!("{} not read", at.0))?;
        let parsed = roxmltree::Document::parse(&doc.text).map_err(|e| e.to_string())?;
        let node = parsed
            .root_element()
            .children()
            .filter(|n| n.is_element())
            .nth(at.1)
            .ok_or_else(|| format!("{}: definition {} missing", at.0, at.1))?;
        f(node)
    }

    fn element_decl(
        &self,
        key: &(String, String),
        min: u32,
        max: Option<u32>,
        depth: usize,
    ) -> Result<ElementDecl, String> {
        let at = self
            .elements
            .get(key)
            .ok_or_else(|| format!("element {{{}}}{} not found", key.0, key.1))?
            .clone();
        self.with_node(&at, |node| self.element(node, min, max, depth))
    }

    /// An `xsd:element` (global or local) with the bounds given by its use.
    fn element(
        &self,
        node: roxmltree::Node<'_, '_>,
        min: u32,
        max: Option<u32>,
        depth: usize,
    ) -> Result<ElementDecl, String> {
        if depth > MAX_DEPTH {
            return Err(format!("elements nested deeper than {MAX_DEPTH}"));
        }
        if let Some(r) = node.attribute("ref") {
            let key = self.qname(node, r)?;
            return self.element_decl(&key, min, max, depth + 1);
        }
        let name = node
            .attribute("name")
            .ok_or_else(|| "an element without name or ref".to_owned())?
            .to_owned();
        for unsupported in ["nillable", "abstract", "substitutionGroup", "default"] {
            if node.attribute(unsupported).is_some() {
                return Err(format!(
                    "element {name}: attribute {unsupported} is not supported"
                ));
            }
        }
        // Identity constraints (unique, key, keyref) would be validated beyond this model.
        if let Some(c) = node.children().find(|c| {
            c.is_element()
                && !matches!(
                    c.tag_name().name(),
                    "annotation" | "simpleType" | "complexType"
                )
        }) {
            return Err(format!(
                "element {name}: xsd:{} is not supported",
                c.tag_name().name()
            ));
        }
        let namespace = instance_namespace(node);
        let doc = documentation(node);
        let fixed = node.attribute("fixed").map(str::to_owned);
        let mut content = match node.attribute("type") {
            Some(t) => self.type_content(node, t, depth)?,
            None => {
                let inline = node
                    .children()
                    .find(|c| c.is_element() && c.tag_name().name() != "annotation");
                match inline {
                    Some(c) if c.tag_name().name() == "simpleType" => {
                        Content::Simple(Box::new(self.simple(c, None, depth)?))
                    }
                    Some(c) if c.tag_name().name() == "complexType" => {
                        Content::Complex(self.complex(c, depth)?)
                    }
                    Some(c) => {
                        return Err(format!(
                            "element {name}: xsd:{} is not supported",
                            c.tag_name().name()
                        ))
                    }
                    None => {
                        return Err(format!(
                            "element {name} without a type (anyType is not supported)"
                        ))
                    }
                }
            }
        };
        if let (Some(v), Content::Simple(s)) = (&fixed, &mut content) {
            s.fixed = Some(v.clone());
        } else if fixed.is_some() {
            return Err(format!("element {name}: fixed on complex content"));
        }
        Ok(ElementDecl {
            name,
            namespace,
            min,
            max,
            doc,
            content,
        })
    }

    /// The content of a `type="prefix:name"` reference: a built-in, a simple or a complex type.
    fn type_content(
        &self,
        at: roxmltree::Node<'_, '_>,
        qname: &str,
        depth: usize,
    ) -> Result<Content, String> {
        let key = self.qname(at, qname)?;
        if key.0 == XS {
            return builtin(&key.1)
                .map(|(b, name)| Content::Simple(Box::new(SimpleType::builtin(b, name))));
        }
        if let Some(loc) = self.simple_types.get(&key).cloned() {
            return self.with_node(&loc, |n| {
                self.simple(n, Some(qname.to_owned()), depth)
                    .map(|s| Content::Simple(Box::new(s)))
            });
        }
        if let Some(loc) = self.complex_types.get(&key).cloned() {
            if self.unqualified.contains(&loc.0) {
                return Err(format!(
                    "{}: complex type {qname} with unqualified local elements is not supported",
                    loc.0
                ));
            }
            return self.with_node(&loc, |n| self.complex(n, depth).map(Content::Complex));
        }
        Err(format!("type {qname} not found"))
    }

    fn simple(
        &self,
        node: roxmltree::Node<'_, '_>,
        name: Option<String>,
        depth: usize,
    ) -> Result<SimpleType, String> {
        let label = name.as_deref().unwrap_or("(anonymous)").to_owned();
        let restriction = node
            .children()
            .find(|c| c.is_element() && c.tag_name().name() != "annotation")
            .ok_or_else(|| format!("simple type {label} without content"))?;
        if restriction.tag_name().name() != "restriction" {
            return Err(format!(
                "simple type {label}: xsd:{} is not supported (only restriction)",
                restriction.tag_name().name()
            ));
        }
        let base = restriction
            .attribute("base")
            .ok_or_else(|| format!("simple type {label}: restriction without base"))?;
        let mut t = match self.type_content(restriction, base, depth + 1)? {
            Content::Simple(s) => *s,
            Content::Complex(_) => {
                return Err(format!("simple type {label} restricts a complex type"))
            }
        };
        t.name = name.clone().or(t.name);
        // A step's enumeration replaces its base's (its values must be valid for the base too).
        let mut enumeration = Vec::new();
        for facet in restriction.children().filter(|c| c.is_element()) {
            let value = facet.attribute("value").unwrap_or_default();
            let number = || {
                value
                    .parse::<u32>()
                    .map_err(|_| format!("simple type {label}: facet value {value:?}"))
            };
            match facet.tag_name().name() {
                "enumeration" => enumeration.push(value.to_owned()),
                "pattern" => t.patterns.push(value.to_owned()),
                "length" => t.length = Some(number()?),
                "minLength" => t.min_length = Some(number()?),
                "maxLength" => t.max_length = Some(number()?),
                "totalDigits" => t.total_digits = Some(number()?),
                "fractionDigits" => t.fraction_digits = Some(number()?),
                "minInclusive" => t.min_inclusive = Some(value.to_owned()),
                "maxInclusive" => t.max_inclusive = Some(value.to_owned()),
                "minExclusive" => t.min_exclusive = Some(value.to_owned()),
                "maxExclusive" => t.max_exclusive = Some(value.to_owned()),
                "annotation" => {}
                other => {
                    return Err(format!(
                        "simple type {label}: facet xsd:{other} is not supported"
                    ))
                }
            }
        }
        if !enumeration.is_empty() {
            t.enumeration = enumeration;
        }
        Ok(t)
    }

    fn complex(&self, node: roxmltree::Node<'_, '_>, depth: usize) -> Result<Group, String> {
        let mut groups = node
            .children()
            .filter(|c| c.is_element() && c.tag_name().name() != "annotation");
        let group = groups
            .next()
            .ok_or_else(|| "a complex type without content".to_owned())?;
        if let Some(extra) = groups.next() {
            return Err(format!(
                "complex type: xsd:{} is not supported (attributes or mixed content)",
                extra.tag_name().name()
            ));
        }
        if node.attribute("mixed") == Some("true") {
            return Err("complex type: mixed content is not supported".into());
        }
        // An abstract type has no instances of its own (only through xsi:type).
        if node.attribute("abstract") == Some("true") {
            return Err("complex type: abstract is not supported".into());
        }
        self.group(group, depth)
    }

    fn group(&self, node: roxmltree::Node<'_, '_>, depth: usize) -> Result<Group, String> {
        let kind = match node.tag_name().name() {
            "sequence" => GroupKind::Sequence,
            "choice" => GroupKind::Choice,
            other => return Err(format!("xsd:{other} is not supported (sequence or choice)")),
        };
        let (min, max) = occurs(node)?;
        let mut particles = Vec::new();
        for c in node.children().filter(|c| c.is_element()) {
            match c.tag_name().name() {
                "element" => {
                    let (min, max) = occurs(c)?;
                    particles.push(Particle::Element(self.element(c, min, max, depth + 1)?));
                }
                "sequence" | "choice" => particles.push(Particle::Group(self.group(c, depth + 1)?)),
                "annotation" => {}
                other => return Err(format!("xsd:{other} inside a group is not supported")),
            }
        }
        Ok(Group {
            kind,
            min,
            max,
            particles,
        })
    }

    /// A `prefix:local` attribute value as an expanded name, in the scope of `at`.
    fn qname(&self, at: roxmltree::Node<'_, '_>, qname: &str) -> Result<(String, String), String> {
        let (prefix, local) = match qname.split_once(':') {
            Some((p, l)) => (Some(p), l),
            None => (None, qname),
        };
        let ns = at
            .lookup_namespace_uri(prefix)
            .ok_or_else(|| format!("undeclared prefix in {qname}"))?;
        Ok((ns.to_owned(), local.to_owned()))
    }
}

/// The base and the built-in's own name, as a `'static` string.
fn builtin(local: &str) -> Result<(Base, &'static str), String> {
    const BUILTINS: [(&str, Base); 11] = [
        ("string", Base::String),
        ("normalizedString", Base::String),
        ("token", Base::String),
        ("decimal", Base::Decimal),
        ("integer", Base::Integer),
        ("int", Base::Integer),
        ("long", Base::Integer),
        ("nonNegativeInteger", Base::Integer),
        ("positiveInteger", Base::Integer),
        ("date", Base::Date),
        ("boolean", Base::Boolean),
    ];
    BUILTINS
        .iter()
        .find(|(name, _)| *name == local)
        .map(|(name, base)| (*base, *name))
        .ok_or_else(|| format!("built-in type xsd:{local} is not supported"))
}

/// The namespace of an `xsd:element`'s instances: its schema's target namespace when it is global
/// or qualified (`form`, else the schema's `elementFormDefault`), none otherwise.
fn instance_namespace(node: roxmltree::Node<'_, '_>) -> Option<String> {
    let schema = node.document().root_element();
    let global = node.parent_element() == Some(schema);
    let qualified = global
        || match node.attribute("form") {
            Some(form) => form == "qualified",
            None => schema.attribute("elementFormDefault") == Some("qualified"),
        };
    schema
        .attribute("targetNamespace")
        .filter(|ns| qualified && !ns.is_empty())
        .map(str::to_owned)
}

fn occurs(node: roxmltree::Node<'_, '_>) -> Result<(u32, Option<u32>), String> {
    let min = match node.attribute("minOccurs") {
        Some(v) => v.parse().map_err(|_| format!("minOccurs {v:?}"))?,
        None => 1,
    };
    let max = match node.attribute("maxOccurs") {
        Some("unbounded") => None,
        Some(v) => Some(v.parse().map_err(|_| format!("maxOccurs {v:?}"))?),
        None => Some(1),
    };
    Ok((min, max))
}

fn documentation(node: roxmltree::Node<'_, '_>) -> Option<String> {
    let text: String = node
        .children()
        .find(|c| c.has_tag_name((XS, "annotation")))?
        .children()
        .filter(|c| c.has_tag_name((XS, "documentation")))
        .filter_map(|c| c.text())
        .collect::<Vec<_>>()
        .join(" ");
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    (!text.is_empty()).then_some(text)
}

#[cfg(test)]
mod tests;
