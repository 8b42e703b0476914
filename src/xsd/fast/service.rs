//! Proves a service's data (`datiSpecificiServizio`) valid from the already-read tree, with a proof
//! compiled from the service schema's model.
//!
//! The contract of the parent module holds here too: "valid" or "not proven", never valid where
//! libxml2 says invalid. A schema with anything the proof cannot decide surely gets no proof at
//! all, and its documents always go to libxml2.
//!
//! Matching is greedy and in document order. Every document it accepts comes with the derivation
//! it found (each child assigned to a particle, each particle within its bounds, each value
//! checked), so an acceptance is never wrong; greedy could only miss a derivation, and even that
//! is ruled out where each name appears once per content model and groups are not repeated.

use super::value::ValueCheck;
use crate::soap::tree::is_blank;
use crate::soap::Element;
use crate::xsd::model::{Content, ElementDecl, Group, GroupKind, Particle, ServiceModel};

/// A service schema's proof, compiled once with the schema.
#[derive(Debug, Clone)]
pub struct ServiceProof {
    root: ElementProof,
}

#[derive(Debug, Clone)]
struct ElementProof {
    namespace: Option<String>,
    name: String,
    min: u32,
    max: Option<u32>,
    content: ContentProof,
}

#[derive(Debug, Clone)]
enum ContentProof {
    Value(Box<ValueCheck>),
    Children(GroupProof),
}

#[derive(Debug, Clone)]
struct GroupProof {
    choice: bool,
    optional: bool,
    particles: Vec<ParticleProof>,
}

#[derive(Debug, Clone)]
enum ParticleProof {
    Element(ElementProof),
    Group(GroupProof),
}

impl ServiceProof {
    /// The document's name in `sanp_schema_checks_total`.
    pub const LABEL: &'static str = "service_data";

    /// The proof of `model`, or `None` when part of it is outside what the proof decides surely.
    pub fn compile(model: &ServiceModel) -> Option<Self> {
        let root = element(&model.root)?;
        // The root is global: in the schema's target namespace.
        (root.namespace.as_deref().unwrap_or_default() == model.namespace).then_some(Self { root })
    }

    /// Whether `root` (the service data's root element, as read) is surely valid.
    pub fn proves(&self, root: &Element) -> bool {
        root.plain && self.root.named(root) && self.root.holds(root)
    }
}

fn element(d: &ElementDecl) -> Option<ElementProof> {
    if d.max.is_some_and(|max| max < d.min) {
        return None;
    }
    let content = match &d.content {
        Content::Simple(t) => ContentProof::Value(Box::new(ValueCheck::compile(t)?)),
        Content::Complex(g) => {
            let g = group(g)?;
            // One declaration per name in a content model: a child never has two to choose from.
            let mut names = Vec::new();
            g.names(&mut names);
            names.sort_unstable();
            if names.windows(2).any(|w| w[0] == w[1]) {
                return None;
            }
            ContentProof::Children(g)
        }
    };
    Some(ElementProof {
        namespace: d.namespace.clone(),
        name: d.name.clone(),
        min: d.min,
        max: d.max,
        content,
    })
}

/// A group occurring once or at most once (a repeated group would need backtracking to match).
fn group(g: &Group) -> Option<GroupProof> {
    if g.max != Some(1) || g.min > 1 {
        return None;
    }
    let particles = g
        .particles
        .iter()
        .map(|p| match p {
            Particle::Element(e) => element(e).map(ParticleProof::Element),
            Particle::Group(inner) => group(inner).map(ParticleProof::Group),
        })
        .collect::<Option<Vec<_>>>()?;
    Some(GroupProof {
        choice: g.kind == GroupKind::Choice,
        optional: g.min == 0,
        particles,
    })
}

impl ElementProof {
    fn named(&self, e: &Element) -> bool {
        *e.local == *self.name && e.ns.as_deref() == self.namespace.as_deref()
    }

    /// `e`'s content (its name already matched).
    fn holds(&self, e: &Element) -> bool {
        match &self.content {
            ContentProof::Value(v) => e.children.is_empty() && v.accepts(&e.text),
            // Element-only content: white space between children, nothing else.
            ContentProof::Children(g) => {
                is_blank(&*e.text) && g.at(&e.children, 0) == Some(e.children.len())
            }
        }
    }

    /// As many consecutive children of this name as allowed, each valid; where they end.
    fn at(&self, children: &[Element], pos: usize) -> Option<usize> {
        let max = self.max.map(|m| m as usize);
        let mut n = 0usize;
        while let Some(c) = children.get(pos + n) {
            if !self.named(c) || max.is_some_and(|m| n >= m) {
                break;
            }
            if !(c.plain && self.holds(c)) {
                return None;
            }
            n += 1;
        }
        (n >= self.min as usize).then_some(pos + n)
    }
}

impl GroupProof {
    /// Where the children continue after this group, matched from `pos`.
    fn at(&self, children: &[Element], pos: usize) -> Option<usize> {
        let once = if self.choice {
            self.choice_at(children, pos)
        } else {
            self.particles
                .iter()
                .try_fold(pos, |at, p| p.at(children, at))
        };
        match once {
            Some(end) => Some(end),
            // Absent: a derivation too, whatever the failed attempt had read.
            None if self.optional => Some(pos),
            None => None,
        }
    }

    /// The first alternative that takes children, else one that may take none.
    fn choice_at(&self, children: &[Element], pos: usize) -> Option<usize> {
        let mut empty = false;
        for p in &self.particles {
            match p.at(children, pos) {
                Some(end) if end > pos => return Some(end),
                Some(_) => empty = true,
                None => {}
            }
        }
        empty.then_some(pos)
    }

    /// The expanded names of the content model's element particles (not of their contents).
    fn names<'a>(&'a self, out: &mut Vec<(Option<&'a str>, &'a str)>) {
        for p in &self.particles {
            match p {
                ParticleProof::Element(e) => out.push((e.namespace.as_deref(), e.name.as_str())),
                ParticleProof::Group(g) => g.names(out),
            }
        }
    }
}

impl ParticleProof {
    fn at(&self, children: &[Element], pos: usize) -> Option<usize> {
        match self {
            ParticleProof::Element(e) => e.at(children, pos),
            ParticleProof::Group(g) => g.at(children, pos),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::soap::{tree, Limits};
    use crate::xsd::{model, Bundle};

    fn proof(schema: &str) -> Option<ServiceProof> {
        let mut b = Bundle::default();
        b.insert("S.xsd", schema.as_bytes().to_vec());
        ServiceProof::compile(&model::read(&b, "S.xsd").expect("model"))
    }

    fn schema(body: &str) -> String {
        format!(
            r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:s="urn:s" targetNamespace="urn:s" elementFormDefault="qualified">{body}</xs:schema>"#
        )
    }

    fn proves(p: &ServiceProof, doc: &str) -> bool {
        p.proves(&tree::parse(doc.as_bytes(), &Limits::default()).expect("parses"))
    }

    #[test]
    fn sequences_choices_and_bounds() {
        let p = proof(&schema(
            r#"<xs:element name="r"><xs:complexType><xs:sequence>
                 <xs:choice><xs:element name="a" type="xs:string"/><xs:element name="b" type="xs:boolean"/></xs:choice>
                 <xs:element name="c" type="xs:string" minOccurs="0" maxOccurs="2"/>
                 <xs:sequence minOccurs="0"><xs:element name="d" type="xs:string"/><xs:element name="e" type="xs:string"/></xs:sequence>
               </xs:sequence></xs:complexType></xs:element>"#,
        ))
        .expect("compiles");
        let doc = |inner: &str| format!(r#"<r xmlns="urn:s">{inner}</r>"#);
        for good in [
            "<a>x</a>",
            "<b>true</b>",
            "\n  <a/>\n  <c>1</c><c>2</c>\n",
            "<a/><d/><e/>",
            "<b>0</b><c/><d/><e/>",
        ] {
            assert!(proves(&p, &doc(good)), "{good}");
        }
        for bad in [
            "",
            "<a/><b>true</b>",
            "<b>yes</b>",
            "<a/><c/><c/><c/>",
            "<a/><d/>",
            "<a/><e/>",
            "<a/><d/><e/><c/>",
            "<a/>x",
            "<a><c/></a>",
            "<a/><f/>",
            "<a xmlns=\"\"/>",
            "<a xmlns=\"urn:t\"/>",
            "<a a=\"1\"/>",
            "<a><!-- c --></a>",
        ] {
            assert!(!proves(&p, &doc(bad)), "{bad}");
        }
        assert!(
            !proves(&p, r#"<r xmlns="urn:t"><a/></r>"#),
            "the root's namespace"
        );
        assert!(
            !proves(&p, r#"<q xmlns="urn:s"><a/></q>"#),
            "the root's name"
        );
        assert!(
            !proves(&p, r#"<!-- c --><r xmlns="urn:s"><a/></r>"#),
            "a comment before"
        );
    }

    #[test]
    fn unqualified_local_elements_are_in_no_namespace() {
        let p = proof(
            r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:s"><xs:element name="r"><xs:complexType><xs:sequence><xs:element name="a" type="xs:string"/><xs:element name="b" type="xs:string" form="qualified"/></xs:sequence></xs:complexType></xs:element></xs:schema>"#,
        )
        .expect("compiles");
        assert!(proves(&p, r#"<s:r xmlns:s="urn:s"><a/><s:b/></s:r>"#));
        assert!(!proves(&p, r#"<r xmlns="urn:s"><a/><b/></r>"#));
    }

    #[test]
    fn what_greedy_matching_could_get_wrong_gets_no_proof() {
        let twice = r#"<xs:element name="r"><xs:complexType><xs:sequence><xs:element name="a" type="xs:string" minOccurs="0"/><xs:element name="a" type="xs:string"/></xs:sequence></xs:complexType></xs:element>"#;
        assert!(proof(&schema(twice)).is_none(), "one name, two particles");
        let repeated = r#"<xs:element name="r"><xs:complexType><xs:sequence maxOccurs="2"><xs:element name="a" type="xs:string"/></xs:sequence></xs:complexType></xs:element>"#;
        assert!(proof(&schema(repeated)).is_none(), "a repeated group");
        let pattern = r#"<xs:element name="r"><xs:simpleType><xs:restriction base="xs:string"><xs:pattern value="\w+"/></xs:restriction></xs:simpleType></xs:element>"#;
        assert!(
            proof(&schema(pattern)).is_none(),
            "a pattern outside the subset"
        );
        // The same name in two different elements' contents is fine.
        let nested = r#"<xs:element name="r"><xs:complexType><xs:sequence><xs:element name="a"><xs:complexType><xs:sequence><xs:element name="a" type="xs:string"/></xs:sequence></xs:complexType></xs:element></xs:sequence></xs:complexType></xs:element>"#;
        let p = proof(&schema(nested)).expect("compiles");
        assert!(proves(&p, r#"<r xmlns="urn:s"><a><a>x</a></a></r>"#));
        assert!(!proves(&p, r#"<r xmlns="urn:s"><a>x</a></r>"#));
    }

    #[test]
    fn a_simple_root_is_proven_by_its_value() {
        let p = proof(&schema(r#"<xs:element name="r" type="xs:int"/>"#)).expect("compiles");
        assert!(proves(&p, r#"<r xmlns="urn:s">42</r>"#));
        assert!(!proves(&p, r#"<r xmlns="urn:s"> 42</r>"#));
        assert!(!proves(&p, r#"<r xmlns="urn:s">4<a/>2</r>"#));
    }
}
