//! Example instances of service schemas: one document valid against an XSD, built by walking it.
//!
//! Small on purpose. It understands the constructs of the bundled service schemas
//! (`xsd/catalogo-servizi/`): global and local elements, named and anonymous types, `sequence`,
//! `choice` (the first branch), `minOccurs`/`maxOccurs`, `fixed`, restrictions of built-in
//! types with `enumeration` (the first value), `pattern` (see [`sample_pattern`]), `length`,
//! `minLength`, `maxLength`, inclusive/exclusive bounds, and `import` of other schemas of the
//! bundle (`sac-common-types-1.0.xsd`). Anything else is refused with an error naming the schema
//! and the construct, never guessed. Optional elements are included once, so the example shows
//! every field a form would offer.

use std::collections::HashMap;
use std::fmt;

use super::Bundle;

mod pattern;
mod read;
mod value;

pub use pattern::sample_pattern;
use read::{read_xsd, serialize};
use value::{builtin, Facets};

const XS: &str = "http://www.w3.org/2001/XMLSchema";

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

/// Generates an example of the first global element of `entry` (a file of `bundle`).
pub fn example(bundle: &Bundle, entry: &str) -> Result<Example, ExampleError> {
    let mut g = Generator {
        bundle,
        docs: HashMap::new(),
        by_ns: HashMap::new(),
        depth: 0,
    };
    g.load(entry)?;
    let doc = &g.docs[entry];
    let root = doc
        .root
        .children
        .iter()
        .find(|c| c.local == "element")
        .ok_or_else(|| err(entry, "no global element to instantiate"))?
        .clone();
    let mut out = Vec::new();
    g.element(entry, &root, true, &mut out)?;
    let node = out
        .into_iter()
        .next()
        .ok_or_else(|| err(entry, "the global element produced nothing"))?;
    Ok(Example {
        root: (node.ns.clone(), node.local.clone()),
        xml: format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>{}",
            serialize(&node)
        ),
    })
}

fn err(schema: &str, construct: impl Into<String>) -> ExampleError {
    ExampleError {
        schema: schema.to_owned(),
        construct: construct.into(),
    }
}

/// An XSD element as read: local name (in the XSD namespace), attributes, in-scope prefixes.
#[derive(Debug, Clone)]
struct XNode {
    local: String,
    attrs: Vec<(String, String)>,
    scope: HashMap<String, String>,
    children: Vec<XNode>,
}

impl XNode {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Resolves a QName attribute value to (namespace, local).
    fn qname(&self, value: &str) -> (Option<String>, String) {
        match value.split_once(':') {
            Some((p, l)) => (self.scope.get(p).cloned(), l.to_owned()),
            None => (self.scope.get("").cloned(), value.to_owned()),
        }
    }

    fn xsd_children(&self) -> impl Iterator<Item = &XNode> {
        self.children.iter().filter(|c| c.local != "annotation")
    }
}

struct SchemaDoc {
    target: Option<String>,
    qualified: bool,
    root: XNode,
}

struct Generator<'a> {
    bundle: &'a Bundle,
    docs: HashMap<String, SchemaDoc>,
    /// Namespace → schema file declaring it.
    by_ns: HashMap<Option<String>, String>,
    depth: usize,
}

/// An instance element being built.
struct Node {
    ns: Option<String>,
    local: String,
    text: String,
    children: Vec<Node>,
}

impl Generator<'_> {
    /// Reads `file` and, recursively, the schemas it imports; returns its target namespace.
    fn load(&mut self, file: &str) -> Result<Option<String>, ExampleError> {
        if let Some(d) = self.docs.get(file) {
            return Ok(d.target.clone());
        }
        let bytes = self
            .bundle
            .get_by_location(file)
            .ok_or_else(|| err(file, "not in the schema bundle"))?;
        let root = read_xsd(bytes).map_err(|e| err(file, e))?;
        if root.local != "schema" {
            return Err(err(
                file,
                format!("root element <{}> is not xsd:schema", root.local),
            ));
        }
        let target = root.attr("targetNamespace").map(str::to_owned);
        let qualified = root.attr("elementFormDefault") == Some("qualified");
        let imports: Vec<String> = root
            .children
            .iter()
            .filter(|c| c.local == "import" || c.local == "include")
            .map(|c| {
                c.attr("schemaLocation")
                    .map(|l| l.rsplit(['/', '\\']).next().unwrap_or(l).to_owned())
                    .ok_or_else(|| err(file, format!("<xsd:{}> without schemaLocation", c.local)))
            })
            .collect::<Result<_, _>>()?;
        if root.children.iter().any(|c| c.local == "include") {
            return Err(err(file, "<xsd:include> is not supported"));
        }
        self.by_ns.insert(target.clone(), file.to_owned());
        self.docs.insert(
            file.to_owned(),
            SchemaDoc {
                target: target.clone(),
                qualified,
                root,
            },
        );
        for i in imports {
            self.load(&i)?;
        }
        Ok(target)
    }

    /// The global declaration `kind` (`element`, `complexType`, `simpleType`) named `name`.
    fn global(
        &self,
        from: &str,
        kind: &str,
        name: &(Option<String>, String),
    ) -> Result<(String, XNode), ExampleError> {
        let file = self
            .by_ns
            .get(&name.0)
            .ok_or_else(|| err(from, format!("no schema for namespace {:?}", name.0)))?;
        self.docs[file]
            .root
            .children
            .iter()
            .find(|c| c.local == kind && c.attr("name") == Some(name.1.as_str()))
            .map(|n| (file.clone(), n.clone()))
            .ok_or_else(|| err(from, format!("{kind} {} is not declared", name.1)))
    }

    fn element(
        &mut self,
        file: &str,
        el: &XNode,
        global: bool,
        out: &mut Vec<Node>,
    ) -> Result<(), ExampleError> {
        if el.attr("ref").is_some() {
            return Err(err(file, "element ref= is not supported"));
        }
        for a in ["abstract", "substitutionGroup", "nillable"] {
            if el.attr(a).is_some() {
                return Err(err(file, format!("element attribute {a} is not supported")));
            }
        }
        let name = el
            .attr("name")
            .ok_or_else(|| err(file, "element without a name"))?;
        let doc = &self.docs[file];
        let qualified = global || el.attr("form").map_or(doc.qualified, |f| f == "qualified");
        let ns = if qualified { doc.target.clone() } else { None };
        self.depth += 1;
        if self.depth > 32 {
            return Err(err(
                file,
                format!("element {name}: recursion deeper than 32"),
            ));
        }
        let count = occurs(file, el)?;
        for _ in 0..count {
            let mut node = Node {
                ns: ns.clone(),
                local: name.to_owned(),
                text: String::new(),
                children: Vec::new(),
            };
            if let Some(fixed) = el.attr("fixed").or_else(|| el.attr("default")) {
                node.text = fixed.to_owned();
            } else if let Some(t) = el.attr("type") {
                let q = el.qname(t);
                self.typed(file, &q, name, &mut node)?;
            } else if let Some(inline) = el.xsd_children().next() {
                match inline.local.as_str() {
                    "complexType" => self.complex(file, inline, &mut node)?,
                    "simpleType" => node.text = self.simple(file, inline, name)?,
                    other => return Err(err(file, format!("element {name}: <xsd:{other}>"))),
                }
            } else {
                return Err(err(file, format!("element {name} has no type (anyType)")));
            }
            out.push(node);
        }
        self.depth -= 1;
        Ok(())
    }

    fn typed(
        &mut self,
        file: &str,
        q: &(Option<String>, String),
        name: &str,
        node: &mut Node,
    ) -> Result<(), ExampleError> {
        if q.0.as_deref() == Some(XS) {
            node.text = builtin(file, &q.1, &Facets::default(), name)?;
            return Ok(());
        }
        if let Ok((f, t)) = self.global(file, "complexType", q) {
            return self.complex(&f, &t, node);
        }
        let (f, t) = self.global(file, "simpleType", q)?;
        node.text = self.simple(&f, &t, name)?;
        Ok(())
    }

    fn complex(&mut self, file: &str, ct: &XNode, node: &mut Node) -> Result<(), ExampleError> {
        for c in ct.xsd_children() {
            match c.local.as_str() {
                "sequence" | "choice" => self.particle(file, c, &mut node.children)?,
                other => {
                    return Err(err(file, format!("complexType with <xsd:{other}>")));
                }
            }
        }
        Ok(())
    }

    fn particle(&mut self, file: &str, p: &XNode, out: &mut Vec<Node>) -> Result<(), ExampleError> {
        let count = occurs(file, p)?;
        for _ in 0..count {
            match p.local.as_str() {
                "element" => self.element(file, p, false, out)?,
                "sequence" => {
                    for c in p.xsd_children() {
                        self.particle(file, c, out)?;
                    }
                }
                "choice" => {
                    let first = p
                        .xsd_children()
                        .next()
                        .ok_or_else(|| err(file, "empty <xsd:choice>"))?;
                    // `element` counts its own occurrences.
                    self.particle(file, first, out)?;
                }
                other => return Err(err(file, format!("<xsd:{other}> in a content model"))),
            }
            if p.local == "element" {
                break;
            }
        }
        Ok(())
    }

    /// A value for a simple type: facets collected down the restriction chain.
    fn simple(&self, file: &str, st: &XNode, name: &str) -> Result<String, ExampleError> {
        let mut facets = Facets::default();
        let mut cur = (file.to_owned(), st.clone());
        for _ in 0..16 {
            let (f, node) = cur;
            let r = node
                .xsd_children()
                .next()
                .ok_or_else(|| err(&f, format!("empty simpleType for {name}")))?;
            if r.local != "restriction" {
                return Err(err(&f, format!("simpleType <xsd:{}> ({name})", r.local)));
            }
            facets.add(&f, r)?;
            let base = r.qname(
                r.attr("base")
                    .ok_or_else(|| err(&f, "restriction without base"))?,
            );
            if base.0.as_deref() == Some(XS) {
                return builtin(&f, &base.1, &facets, name);
            }
            cur = self.global(&f, "simpleType", &base)?;
        }
        Err(err(file, format!("restriction chain too long ({name})")))
    }
}

fn occurs(file: &str, n: &XNode) -> Result<usize, ExampleError> {
    let min = match n.attr("minOccurs") {
        None => 1,
        Some(v) => v
            .parse::<usize>()
            .map_err(|_| err(file, format!("minOccurs {v:?}")))?,
    };
    if let Some(max) = n.attr("maxOccurs") {
        if max != "unbounded" && max.parse::<usize>().is_err() {
            return Err(err(file, format!("maxOccurs {max:?}")));
        }
    }
    Ok(min.max(1))
}

#[cfg(test)]
mod tests;
