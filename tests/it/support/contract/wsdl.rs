//! WSDL documents: operations, messages, bindings and services compared with the official WSDL.

use std::collections::{BTreeMap, BTreeSet};

use roxmltree::Node;

use super::{canon, expanded, parse, resolve, split_expanded, SOAP_NS, WSAM_NS, WSDL_NS, XSD_NS};

pub fn kids<'a, 'i>(node: Node<'a, 'i>, ns: &str, local: &str) -> Vec<Node<'a, 'i>> {
    node.children()
        .filter(|c| c.has_tag_name((ns, local)))
        .collect()
}

fn by_name<'a, 'i>(node: Node<'a, 'i>, ns: &str, local: &str, name: &str) -> Option<Node<'a, 'i>> {
    node.children()
        .find(|c| c.has_tag_name((ns, local)) && c.attribute("name") == Some(name))
}

/// A message part as it appears on the wire: (part name, element QName, type QName).
type Part = (String, Option<String>, Option<String>);

/// The parts of the message an operation's input, output or fault points at.
fn message_parts(definitions: Node<'_, '_>, io: Node<'_, '_>) -> Result<Vec<Part>, String> {
    let tns = definitions.attribute("targetNamespace").unwrap_or("");
    let message = io
        .attribute("message")
        .ok_or("operation message without a message attribute")?;
    let resolved = resolve(io, message)?;
    let (ns, local) = split_expanded(&resolved);
    if ns != tns {
        return Err(format!(
            "message {resolved} is not in the WSDL's own namespace"
        ));
    }
    let msg = by_name(definitions, WSDL_NS, "message", local)
        .ok_or(format!("message {local} is not defined"))?;
    kids(msg, WSDL_NS, "part")
        .into_iter()
        .map(|p| {
            Ok((
                p.attribute("name").unwrap_or("").to_owned(),
                p.attribute("element").map(|e| resolve(p, e)).transpose()?,
                p.attribute("type").map(|t| resolve(p, t)).transpose()?,
            ))
        })
        .collect()
}

/// What two WSDLs' comparison found.
#[derive(Debug, Default)]
pub struct WsdlReport {
    pub problems: Vec<String>,
    pub operations: Vec<String>,
    /// Element QNames of every project message part, to look up in the project's schemas.
    pub part_elements: BTreeSet<String>,
    /// `operation input|output = action` for every `wsam:Action` compared.
    pub actions: Vec<String>,
    /// `operation input|output {ns}message#part (use)` for every `soap:header` compared.
    pub headers: Vec<String>,
}

fn first<'a, 'i>(node: Node<'a, 'i>, ns: &str, local: &str) -> Option<Node<'a, 'i>> {
    kids(node, ns, local).into_iter().next()
}

pub fn compare_wsdls(label: &str, project_text: &str, official_text: &str) -> WsdlReport {
    let mut r = WsdlReport::default();
    let p_doc = parse(label, project_text);
    let o_doc = parse("official WSDL", official_text);
    let (p, o) = (p_doc.root_element(), o_doc.root_element());
    if !p.has_tag_name((WSDL_NS, "definitions")) || !o.has_tag_name((WSDL_NS, "definitions")) {
        r.problems
            .push(format!("{label}: root is not wsdl:definitions"));
        return r;
    }
    let tns = p.attribute("targetNamespace").unwrap_or("");
    if p.attribute("targetNamespace") != o.attribute("targetNamespace") {
        r.problems.push(format!(
            "{label}: targetNamespace differs from the official one"
        ));
    }
    let port_types = kids(p, WSDL_NS, "portType");
    if port_types.is_empty() {
        r.problems.push(format!("{label}: no portType"));
    }
    for pt in port_types {
        let pt_name = pt.attribute("name").unwrap_or("");
        let Some(ot) = by_name(o, WSDL_NS, "portType", pt_name) else {
            r.problems.push(format!(
                "{label}: portType {pt_name} is not in the official WSDL"
            ));
            continue;
        };
        let ops = kids(pt, WSDL_NS, "operation");
        if ops.is_empty() {
            r.problems
                .push(format!("{label}: portType {pt_name} has no operation"));
        }
        let op_names: BTreeSet<&str> = ops.iter().filter_map(|op| op.attribute("name")).collect();
        for op in &ops {
            let op_name = op.attribute("name").unwrap_or("");
            let Some(oop) = by_name(ot, WSDL_NS, "operation", op_name) else {
                r.problems.push(format!(
                    "{label}: operation {op_name} is not in the official portType"
                ));
                continue;
            };
            compare_operation_messages(label, op_name, (p, *op), (o, oop), &mut r);
            r.operations.push(format!("{pt_name}/{op_name}"));
        }
        // The bindings of this portType.
        let pt_q = expanded(Some(tns), pt_name);
        let bindings: Vec<Node<'_, '_>> = kids(p, WSDL_NS, "binding")
            .into_iter()
            .filter(|b| {
                b.attribute("type")
                    .and_then(|t| resolve(*b, t).ok())
                    .as_deref()
                    == Some(pt_q.as_str())
            })
            .collect();
        if bindings.is_empty() {
            r.problems
                .push(format!("{label}: portType {pt_name} has no binding"));
        }
        for pb in bindings {
            compare_binding(label, &pt_q, &op_names, pb, o, &mut r);
        }
    }
    compare_services(label, p, o, &mut r.problems);
    // The legacy WSDLs define their schemas inline, the project imports the same from files.
    let (p_ns, o_ns) = (brought_in(p), brought_in(o));
    for ns in p_ns.difference(&o_ns) {
        r.problems.push(format!(
            "{label}: wsdl:types imports {ns}, which the official WSDL does not"
        ));
    }
    // What the official WSDL defines inline, the project must bring in.
    for schema in types_schemas(o) {
        if let Some(ns) = schema.attribute("targetNamespace") {
            if !p_ns.contains(ns) {
                r.problems.push(format!(
                    "{label}: the official WSDL defines {ns} inline, which wsdl:types does not bring in"
                ));
            }
        }
    }
    r
}

/// The `xsd:schema` elements inlined in a WSDL's `wsdl:types`, in document order.
pub fn types_schemas<'a, 'i>(definitions: Node<'a, 'i>) -> Vec<Node<'a, 'i>> {
    kids(definitions, WSDL_NS, "types")
        .into_iter()
        .flat_map(|t| kids(t, XSD_NS, "schema"))
        .collect()
}

/// The namespaces `wsdl:types` brings in, by import or by defining them in an inline schema.
fn brought_in(definitions: Node<'_, '_>) -> BTreeSet<String> {
    types_schemas(definitions)
        .into_iter()
        .flat_map(|s| {
            let imports = kids(s, XSD_NS, "import").into_iter();
            let imported = imports.filter_map(|i| i.attribute("namespace"));
            s.attribute("targetNamespace").into_iter().chain(imported)
        })
        .map(str::to_owned)
        .collect()
}

fn compare_operation_messages(
    label: &str,
    op_name: &str,
    (p, op): (Node<'_, '_>, Node<'_, '_>),
    (o, oop): (Node<'_, '_>, Node<'_, '_>),
    r: &mut WsdlReport,
) {
    for io in ["input", "output"] {
        match (first(op, WSDL_NS, io), first(oop, WSDL_NS, io)) {
            (None, None) => {}
            (Some(a), Some(b)) => {
                let (pa, oa) = (extension_attrs(a), extension_attrs(b));
                if pa != oa {
                    r.problems.push(format!(
                        "{label}: {op_name} {io} attributes (wsam:Action…) {pa:?} differ from the official {oa:?}"
                    ));
                }
                if let Some(action) = pa.get(&expanded(Some(WSAM_NS), "Action")) {
                    r.actions.push(format!("{op_name} {io} = {action}"));
                }
                match (message_parts(p, a), message_parts(o, b)) {
                    (Ok(pa), Ok(pb)) => {
                        if pa != pb {
                            r.problems.push(format!("{label}: {op_name} {io} parts {pa:?} differ from the official {pb:?}"));
                        }
                        r.part_elements
                            .extend(pa.into_iter().filter_map(|(_, e, _)| e));
                    }
                    (Err(e), _) | (_, Err(e)) => {
                        r.problems.push(format!("{label}: {op_name} {io}: {e}"))
                    }
                }
            }
            _ => r.problems.push(format!(
                "{label}: {op_name} has an {io} in only one of the WSDLs"
            )),
        }
    }
    // A fault is its parts plus its extension attributes (wsam:Action).
    type Fault = (Vec<Part>, BTreeMap<String, String>);
    let faults =
        |defs: Node<'_, '_>, op: Node<'_, '_>| -> Result<BTreeMap<String, Fault>, String> {
            kids(op, WSDL_NS, "fault")
                .into_iter()
                .map(|f| {
                    Ok((
                        f.attribute("name").unwrap_or("").to_owned(),
                        (message_parts(defs, f)?, extension_attrs(f)),
                    ))
                })
                .collect()
        };
    match (faults(p, op), faults(o, oop)) {
        (Ok(pf), Ok(of)) if pf != of => r.problems.push(format!(
            "{label}: {op_name} faults {pf:?} differ from the official {of:?}"
        )),
        (Ok(_), Ok(_)) => {}
        (Err(e), _) | (_, Err(e)) => r.problems.push(format!("{label}: {op_name} faults: {e}")),
    }
}

/// Attributes in a namespace (such as `wsam:Action`), which `message_parts` does not look at.
fn extension_attrs(node: Node<'_, '_>) -> BTreeMap<String, String> {
    node.attributes()
        .filter(|a| a.namespace().is_some())
        .map(|a| (expanded(a.namespace(), a.name()), a.value().to_owned()))
        .collect()
}

/// A binding's `soap:header`s for one direction: (message QName, part, use).
fn soap_headers(bop: Node<'_, '_>, io: &str) -> Result<Vec<(String, String, String)>, String> {
    let Some(x) = first(bop, WSDL_NS, io) else {
        return Ok(Vec::new());
    };
    kids(x, SOAP_NS, "header")
        .into_iter()
        .map(|h| {
            let message = h
                .attribute("message")
                .ok_or("soap:header without message")?;
            let owned = |a: &str| h.attribute(a).unwrap_or("").to_owned();
            Ok((resolve(h, message)?, owned("part"), owned("use")))
        })
        .collect()
}

/// The message and part a project `soap:header` names are defined in the project WSDL.
fn header_part_exists(
    binding: Node<'_, '_>,
    (message, part, _): &(String, String, String),
) -> Result<(), String> {
    let definitions = binding.parent().ok_or("binding outside wsdl:definitions")?;
    let tns = definitions.attribute("targetNamespace").unwrap_or("");
    let (ns, local) = split_expanded(message);
    let msg = by_name(definitions, WSDL_NS, "message", local)
        .filter(|_| ns == tns)
        .ok_or(format!("message {message} is not defined"))?;
    by_name(msg, WSDL_NS, "part", part)
        .map(|_| ())
        .ok_or(format!("message {message} has no part {part}"))
}

fn compare_binding(
    label: &str,
    pt_q: &str,
    op_names: &BTreeSet<&str>,
    pb: Node<'_, '_>,
    o: Node<'_, '_>,
    r: &mut WsdlReport,
) {
    let WsdlReport {
        problems,
        headers: r_headers,
        ..
    } = r;
    let b_name = pb.attribute("name").unwrap_or("");
    let Some(ob) = by_name(o, WSDL_NS, "binding", b_name) else {
        problems.push(format!(
            "{label}: binding {b_name} is not in the official WSDL"
        ));
        return;
    };
    if ob
        .attribute("type")
        .and_then(|t| resolve(ob, t).ok())
        .as_deref()
        != Some(pt_q)
    {
        problems.push(format!(
            "{label}: official binding {b_name} is not for portType {pt_q}"
        ));
    }
    let soap_binding = |b: Node<'_, '_>| {
        first(b, SOAP_NS, "binding").map(|s| {
            let owned = |a: &str| s.attribute(a).map(str::to_owned);
            (owned("style"), owned("transport"))
        })
    };
    let (p_sb, o_sb) = (soap_binding(pb), soap_binding(ob));
    if p_sb.is_none() || p_sb != o_sb {
        problems.push(format!(
            "{label}: soap:binding {p_sb:?} differs from the official {o_sb:?}"
        ));
    }
    let bound: BTreeSet<&str> = kids(pb, WSDL_NS, "operation")
        .iter()
        .filter_map(|b| b.attribute("name"))
        .collect();
    if &bound != op_names {
        problems.push(format!(
            "{label}: binding {b_name} binds {bound:?}, the portType has {op_names:?}"
        ));
    }
    for bop in kids(pb, WSDL_NS, "operation") {
        let name = bop.attribute("name").unwrap_or("");
        let Some(obop) = by_name(ob, WSDL_NS, "operation", name) else {
            problems.push(format!(
                "{label}: binding operation {name} is not in the official binding"
            ));
            continue;
        };
        let soap_op = |b: Node<'_, '_>, binding: Node<'_, '_>| {
            let so = first(b, SOAP_NS, "operation");
            let action = so
                .and_then(|s| s.attribute("soapAction"))
                .map(str::to_owned);
            // Document style unless the operation or the binding says otherwise (WSDL 1.1 §3.4).
            let style = so
                .and_then(|s| s.attribute("style"))
                .or_else(|| first(binding, SOAP_NS, "binding").and_then(|s| s.attribute("style")))
                .unwrap_or("document")
                .to_owned();
            (action, style)
        };
        let (p_action, p_style) = soap_op(bop, pb);
        let (o_action, o_style) = soap_op(obop, ob);
        if p_action.is_none() || p_action != o_action {
            problems.push(format!(
                "{label}: {name} soapAction {p_action:?} differs from the official {o_action:?}"
            ));
        }
        if p_style != "document" || p_style != o_style {
            problems.push(format!(
                "{label}: {name} style {p_style} (official {o_style}), want document"
            ));
        }
        for io in ["input", "output"] {
            let uses = |op: Node<'_, '_>| {
                first(op, WSDL_NS, io)
                    .and_then(|x| first(x, SOAP_NS, "body"))
                    .and_then(|b| b.attribute("use"))
                    .map(str::to_owned)
            };
            let (pu, ou) = (uses(bop), uses(obop));
            if pu.as_deref() != Some("literal") || pu != ou {
                problems.push(format!(
                    "{label}: {name} {io} soap:body use {pu:?} (official {ou:?}), want literal"
                ));
            }
            // SOAP headers (intestazionePPT) travel beside the body, so they are wire too.
            match (soap_headers(bop, io), soap_headers(obop, io)) {
                (Ok(ph), Ok(oh)) => {
                    if ph != oh {
                        problems.push(format!(
                            "{label}: {name} {io} soap:header {ph:?} differs from the official {oh:?}"
                        ));
                    }
                    for h in &ph {
                        if let Err(e) = header_part_exists(pb, h) {
                            problems.push(format!("{label}: {name} {io} soap:header: {e}"));
                        }
                    }
                    r_headers.extend(
                        ph.iter()
                            .map(|(m, part, u)| format!("{name} {io} {m}#{part} ({u})")),
                    );
                }
                (Err(e), _) | (_, Err(e)) => {
                    problems.push(format!("{label}: {name} {io} soap:header: {e}"))
                }
            }
        }
        // Everything else a binding operation can say (headers, faults, parts) must match too.
        match (canon(bop), canon(obop)) {
            (Ok(a), Ok(b)) if a != b => problems.push(format!(
                "{label}: binding operation {name} differs\n--- project\n{}--- official\n{}",
                a.render(),
                b.render()
            )),
            (Ok(_), Ok(_)) => {}
            (Err(e), _) | (_, Err(e)) => {
                problems.push(format!("{label}: binding operation {name}: {e}"))
            }
        }
    }
}

fn compare_services(label: &str, p: Node<'_, '_>, o: Node<'_, '_>, problems: &mut Vec<String>) {
    let services = kids(p, WSDL_NS, "service");
    if services.is_empty() {
        problems.push(format!("{label}: no service"));
    }
    for ps in services {
        let s_name = ps.attribute("name").unwrap_or("");
        let Some(os) = by_name(o, WSDL_NS, "service", s_name) else {
            problems.push(format!(
                "{label}: service {s_name} is not in the official WSDL"
            ));
            continue;
        };
        for pp in kids(ps, WSDL_NS, "port") {
            let port = pp.attribute("name").unwrap_or("");
            let Some(op) = by_name(os, WSDL_NS, "port", port) else {
                problems.push(format!(
                    "{label}: port {port} is not in the official service {s_name}"
                ));
                continue;
            };
            let binding = |n: Node<'_, '_>| n.attribute("binding").and_then(|b| resolve(n, b).ok());
            if binding(pp).is_none() || binding(pp) != binding(op) {
                problems.push(format!(
                    "{label}: port {port} binding {:?} differs from the official {:?}",
                    binding(pp),
                    binding(op)
                ));
            }
            // The address itself is a placeholder the gateway rewrites; it only has to be there.
            if first(pp, SOAP_NS, "address").is_none() || first(op, SOAP_NS, "address").is_none() {
                problems.push(format!("{label}: port {port} lacks a soap:address"));
            }
        }
    }
}
