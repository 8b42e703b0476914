//! Schema documents: what matters on the wire about each, compared with its official
//! counterpart, and whether its references resolve inside the project.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use roxmltree::{Document, Node};

use super::{
    canon, expanded, parse, read, resolve, schema_pairs, split_expanded, types_schemas, Canon,
    Extent, Origin, XSD_NS,
};

/// XSD 1.0 built-in type names, the only names a reference into the XSD namespace may use.
const BUILTIN_TYPES: &str = "anyType anySimpleType string normalizedString token language Name \
    NCName ID IDREF IDREFS ENTITY ENTITIES NMTOKEN NMTOKENS boolean decimal integer \
    nonPositiveInteger negativeInteger long int short byte nonNegativeInteger unsignedLong \
    unsignedInt unsignedShort unsignedByte positiveInteger float double duration dateTime time \
    date gYearMonth gYear gMonthDay gDay gMonth hexBinary base64Binary anyURI QName NOTATION";

/// A reference from a definition to a named component: (symbol space, namespace, local name).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ref {
    pub space: &'static str,
    pub ns: String,
    pub local: String,
}

#[derive(Debug)]
pub struct Def {
    pub canon: Canon,
    pub refs: Vec<Ref>,
}

/// What matters on the wire about one schema document.
#[derive(Debug)]
pub struct SchemaFile {
    pub label: String,
    pub tns: Option<String>,
    /// `elementFormDefault`, `attributeFormDefault`, `blockDefault`, `finalDefault` when present.
    pub defaults: BTreeMap<String, String>,
    /// (namespace, schemaLocation) of every `import`.
    pub imports: Vec<(Option<String>, Option<String>)>,
    /// Anything else at top level that is neither a definition nor an import or annotation.
    pub others: Vec<String>,
    /// Top-level named definitions by (kind, name).
    pub defs: BTreeMap<(String, String), Def>,
}

impl SchemaFile {
    pub fn has(&self, space: &str, local: &str) -> bool {
        self.defs
            .keys()
            .any(|(kind, name)| name == local && space_of(kind) == Some(space))
    }

    pub fn def_in_space(&self, space: &str, local: &str) -> Option<(&(String, String), &Def)> {
        self.defs
            .iter()
            .find(|((kind, name), _)| name == local && space_of(kind) == Some(space))
    }
}

/// The symbol space a top-level definition of this kind lives in.
pub fn space_of(kind: &str) -> Option<&'static str> {
    match kind {
        "element" => Some("element"),
        "simpleType" | "complexType" => Some("type"),
        "attribute" => Some("attribute"),
        "attributeGroup" => Some("attributeGroup"),
        "group" => Some("group"),
        "notation" => Some("notation"),
        _ => None,
    }
}

pub fn analyse(label: &str, text: &str) -> Result<SchemaFile, String> {
    let doc = Document::parse(text).map_err(|e| format!("{label}: {e}"))?;
    analyse_schema(label, doc.root_element())
}

/// Analyses an `xsd:schema` element, standalone or inside a WSDL: QNames resolve with every
/// namespace in scope, including those declared on `wsdl:definitions`.
fn analyse_schema(label: &str, root: Node<'_, '_>) -> Result<SchemaFile, String> {
    if !root.has_tag_name((XSD_NS, "schema")) {
        return Err(format!("{label}: root is not xsd:schema"));
    }
    let mut file = SchemaFile {
        label: label.to_owned(),
        tns: root.attribute("targetNamespace").map(str::to_owned),
        defaults: BTreeMap::new(),
        imports: Vec::new(),
        others: Vec::new(),
        defs: BTreeMap::new(),
    };
    for name in [
        "elementFormDefault",
        "attributeFormDefault",
        "blockDefault",
        "finalDefault",
    ] {
        if let Some(v) = root.attribute(name) {
            file.defaults.insert(name.to_owned(), v.to_owned());
        }
    }
    for child in root.children().filter(Node::is_element) {
        let kind = child.tag_name().name();
        if child.tag_name().namespace() != Some(XSD_NS) {
            file.others
                .push(expanded(child.tag_name().namespace(), kind));
            continue;
        }
        match kind {
            "annotation" => {}
            "import" => file.imports.push((
                child.attribute("namespace").map(str::to_owned),
                child.attribute("schemaLocation").map(str::to_owned),
            )),
            _ if space_of(kind).is_some() => {
                let name = child
                    .attribute("name")
                    .ok_or_else(|| format!("{label}: top-level {kind} without a name"))?;
                let def = Def {
                    canon: canon(child).map_err(|e| format!("{label}: {name}: {e}"))?,
                    refs: refs_in(child).map_err(|e| format!("{label}: {name}: {e}"))?,
                };
                if file
                    .defs
                    .insert((kind.to_owned(), name.to_owned()), def)
                    .is_some()
                {
                    return Err(format!("{label}: {kind} {name} is defined twice"));
                }
            }
            // include, redefine, override, or a malformed definition.
            _ => file.others.push(format!("xsd:{kind}")),
        }
    }
    Ok(file)
}

/// Every named component that `def` (or anything nested in it) refers to.
fn refs_in(def: Node<'_, '_>) -> Result<Vec<Ref>, String> {
    let mut refs = BTreeSet::new();
    let in_annotation = |n: Node<'_, '_>| {
        n.ancestors()
            .any(|a| a.has_tag_name((XSD_NS, "annotation")))
    };
    for node in def
        .descendants()
        .filter(|n| n.is_element() && !in_annotation(*n))
    {
        if node.tag_name().namespace() != Some(XSD_NS) {
            continue;
        }
        let mut push = |space: &'static str, qname: &str| -> Result<(), String> {
            let resolved = resolve(node, qname)?;
            let (ns, local) = split_expanded(&resolved);
            refs.insert(Ref {
                space,
                ns: ns.to_owned(),
                local: local.to_owned(),
            });
            Ok(())
        };
        for attr in ["type", "base", "itemType"] {
            if let Some(q) = node.attribute(attr) {
                push("type", q)?;
            }
        }
        if let Some(list) = node.attribute("memberTypes") {
            for q in list.split_whitespace() {
                push("type", q)?;
            }
        }
        if let Some(q) = node.attribute("substitutionGroup") {
            push("element", q)?;
        }
        if let Some(q) = node.attribute("ref") {
            let space = match node.tag_name().name() {
                "element" => "element",
                "attribute" => "attribute",
                "attributeGroup" => "attributeGroup",
                "group" => "group",
                other => return Err(format!("unexpected ref on xsd:{other}")),
            };
            push(space, q)?;
        }
    }
    Ok(refs.into_iter().collect())
}

pub fn load_schema(path: &Path) -> SchemaFile {
    let label = path.display().to_string();
    analyse(&label, &read(path)).unwrap_or_else(|e| panic!("{e}"))
}

/// The `index`-th (0-based) `xsd:schema` inside the `wsdl:types` of a WSDL document.
pub fn inline_schema<'a, 'i>(doc: &'a Document<'i>, index: usize) -> Option<Node<'a, 'i>> {
    types_schemas(doc.root_element()).into_iter().nth(index)
}

pub fn load_inline_schema(wsdl: &Path, index: usize) -> SchemaFile {
    let label = format!("{} (inline schema #{index})", wsdl.display());
    let text = read(wsdl);
    let doc = parse(&label, &text);
    let schema = inline_schema(&doc, index).unwrap_or_else(|| panic!("{label} does not exist"));
    analyse_schema(&label, schema).unwrap_or_else(|e| panic!("{e}"))
}

/// The official counterpart of a project schema, wherever it lives under `api`.
pub fn load_official(api: &Path, origin: &Origin) -> SchemaFile {
    let path = match origin {
        Origin::File(rel) | Origin::Inline { wsdl: rel, .. } => api.join(rel),
    };
    assert!(path.is_file(), "official {} is missing", path.display());
    match origin {
        Origin::File(_) => load_schema(&path),
        Origin::Inline { index, .. } => load_inline_schema(&path, *index),
    }
}

/// The pair a project schema belongs to: its official origin and how much of it is kept.
pub fn pair_of(project: &str) -> (Origin, Extent) {
    schema_pairs()
        .into_iter()
        .find(|(p, _, _)| p == project)
        .map(|(_, o, e)| (o, e))
        .unwrap_or_else(|| panic!("{project} has no official counterpart in this test"))
}

/// Differences that matter on the wire between a project schema and its official counterpart,
/// and how many definitions were compared.
pub fn compare_schemas(
    project: &SchemaFile,
    official: &SchemaFile,
    extent: Extent,
) -> (Vec<String>, usize) {
    let mut problems = Vec::new();
    let label = &project.label;
    if project.tns != official.tns {
        problems.push(format!(
            "{label}: targetNamespace {:?} differs from the official {:?}",
            project.tns, official.tns
        ));
    }
    if project.defaults != official.defaults {
        problems.push(format!(
            "{label}: schema defaults (elementFormDefault, attributeFormDefault…) {:?} differ from the official {:?}",
            project.defaults, official.defaults
        ));
    }
    for (ns, _) in &project.imports {
        if !official.imports.iter().any(|(o, _)| o == ns) {
            problems.push(format!(
                "{label}: imports namespace {ns:?}, which the official file does not"
            ));
        }
    }
    if extent == Extent::Whole {
        // A whole copy brings in the same namespaces; only the schemaLocation may differ.
        for (ns, _) in &official.imports {
            if !project.imports.iter().any(|(p, _)| p == ns) {
                problems.push(format!(
                    "{label}: the official file imports namespace {ns:?}, which this whole copy does not"
                ));
            }
        }
    }
    for other in &project.others {
        problems.push(format!("{label}: unexpected top-level {other}"));
    }
    let mut compared = 0;
    for ((kind, name), def) in &project.defs {
        let Some(off) = official.defs.get(&(kind.clone(), name.clone())) else {
            problems.push(format!(
                "{label}: {kind} {name} is not defined in the official file"
            ));
            continue;
        };
        compared += 1;
        if def.canon != off.canon {
            problems.push(format!(
                "{label}: {kind} {name} differs from the official definition\n--- project\n{}--- official\n{}",
                def.canon.render(),
                off.canon.render()
            ));
        }
    }
    if extent == Extent::Whole {
        for (kind, name) in official.defs.keys() {
            if !project.defs.contains_key(&(kind.clone(), name.clone())) {
                problems.push(format!(
                    "{label}: the official file defines {kind} {name}, which this whole copy lacks"
                ));
            }
        }
    }
    (problems, compared)
}

/// References of a project schema that do not resolve inside the project's own files.
pub fn closure_problems(path: &Path) -> Vec<String> {
    let file = load_schema(path);
    let dir = path.parent().expect("file has a parent dir");
    let mut problems = Vec::new();
    let mut imported: BTreeMap<String, Option<SchemaFile>> = BTreeMap::new();
    for (ns, location) in &file.imports {
        let ns = ns.clone().unwrap_or_default();
        let target = match location {
            None => {
                problems.push(format!(
                    "{}: import of {ns:?} has no schemaLocation",
                    file.label
                ));
                None
            }
            Some(loc) if !dir.join(loc).is_file() => {
                problems.push(format!("{}: imported {loc} does not exist", file.label));
                None
            }
            Some(loc) => {
                let target = load_schema(&dir.join(loc));
                if target.tns.as_deref().unwrap_or("") != ns {
                    problems.push(format!(
                        "{}: {loc} has targetNamespace {:?}, not {ns:?}",
                        file.label, target.tns
                    ));
                }
                Some(target)
            }
        };
        imported.insert(ns, target);
    }
    let own_ns = file.tns.clone().unwrap_or_default();
    for ((kind, name), def) in &file.defs {
        for r in &def.refs {
            let at = format!(
                "{}: {kind} {name} refers to {} {{{}}}{}",
                file.label, r.space, r.ns, r.local
            );
            if r.ns == XSD_NS {
                if r.space != "type" || !BUILTIN_TYPES.split_whitespace().any(|t| t == r.local) {
                    problems.push(format!("{at}, which is not an XSD built-in type"));
                }
            } else if r.ns == own_ns {
                if !file.has(r.space, &r.local) {
                    problems.push(format!("{at}, which this file does not define"));
                }
            } else {
                match imported.get(&r.ns) {
                    None => {
                        problems.push(format!("{at}, whose namespace this file does not import"))
                    }
                    Some(None) => {} // already reported: the import does not resolve
                    Some(Some(target)) if !target.has(r.space, &r.local) => {
                        problems.push(format!("{at}, which {} does not define", target.label))
                    }
                    Some(Some(_)) => {}
                }
            }
        }
    }
    problems
}
