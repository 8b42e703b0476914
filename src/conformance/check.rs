//! Reads an answer (business response or SOAP Fault) and compares it with its fixture's manifest
//! and the schema of its operation (`xsd::Contract`, equivalent on the wire to the official files).

use base64::Engine as _;

use super::manifest::{matches, Fixture};
use crate::soap::{self, Element, Limits};
use crate::xsd::Contract;

/// What an answer says, as far as the fixture's fields go.
#[derive(Debug, Default, Clone)]
pub struct Observed {
    pub status: u16,
    pub outcome: Option<String>,
    pub fault_code: Option<String>,
    pub fault_string: Option<String>,
    pub description: Option<String>,
    /// `None` when no schema applies (SOAP Faults, unreadable answers).
    pub schema: Option<Result<(), String>>,
}

/// The fault-carrying node of a business answer: the payload, or for the legacy answers its one
/// inner element (`nodoChiediNumeroAvvisoRisposta`).
fn business_node(payload: &Element) -> &Element {
    let direct = ["outcome", "esito", "fault"]
        .iter()
        .any(|n| payload.child(n).is_some());
    if direct {
        return payload;
    }
    payload.children.first().unwrap_or(payload)
}

/// Reads `body` as the answer to `fixture` with HTTP `status`.
pub fn observe(contract: &Contract, fixture: &Fixture, status: u16, body: &[u8]) -> Observed {
    let mut o = Observed {
        status,
        ..Observed::default()
    };
    let Ok(root) = soap::tree::parse(body, &Limits::default()) else {
        return o;
    };
    let Some(payload) = soap::Envelope::new(root)
        .body()
        .and_then(|b| b.children.first())
        .cloned()
    else {
        return o;
    };
    if payload.local == "Fault" {
        o.outcome = Some("FAULT".into());
        o.fault_code = payload.child_text("faultcode").map(str::to_owned);
        o.fault_string = payload.child_text("faultstring").map(str::to_owned);
        o.description = payload.child_text("detail").map(str::to_owned);
        return o;
    }
    let node = business_node(&payload);
    let fault = node.child("fault");
    o.outcome = node
        .child_text("outcome")
        .or_else(|| node.child_text("esito"))
        .map(str::to_owned)
        .or_else(|| Some(if fault.is_some() { "KO" } else { "OK" }.into()));
    if let Some(f) = fault {
        o.fault_code = f.child_text("faultCode").map(str::to_owned);
        o.fault_string = f.child_text("faultString").map(str::to_owned);
        o.description = f.child_text("description").map(str::to_owned);
    }
    o.schema = Some(schema_check(contract, fixture, body, node));
    o
}

/// The envelope against its operation's schema; an OK V2 catalog's document against
/// `CatalogoServizi_2_0_0.xsd` too.
fn schema_check(
    contract: &Contract,
    fixture: &Fixture,
    body: &[u8],
    node: &Element,
) -> Result<(), String> {
    let (schema, name) = match fixture.operation.as_str() {
        "nodoChiediNumeroAvviso" | "nodoChiediCatalogoServizi" => {
            (&contract.legacy_psp, "NodoPerPspRichiestaAvvisi")
        }
        _ => (&contract.node_for_psp, "nodeForPsp.xsd"),
    };
    schema.validate(body).map_err(|e| format!("{name}: {e}"))?;
    if fixture.operation == "nodoChiediCatalogoServiziV2" {
        if let Some(b64) = node.child_text("xmlCatalogoServizi") {
            let doc = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|e| format!("xmlCatalogoServizi is not base64: {e}"))?;
            contract
                .catalog_v2
                .validate(&doc)
                .map_err(|e| format!("CatalogoServizi_2_0_0.xsd: {e}"))?;
        }
    }
    Ok(())
}

fn show(v: Option<&str>) -> String {
    v.map_or_else(|| "nothing".to_owned(), |s| format!("{s:?}"))
}

/// Every way `observed` differs from `fixture`, as readable lines.
pub fn differences(fixture: &Fixture, o: &Observed) -> Vec<String> {
    let mut d = Vec::new();
    if o.status != fixture.status {
        d.push(format!(
            "HTTP status: expected {}, got {}",
            fixture.status, o.status
        ));
    }
    if o.outcome.as_deref() != Some(fixture.outcome.as_str()) {
        d.push(format!(
            "outcome: expected {:?}, got {}",
            fixture.outcome,
            show(o.outcome.as_deref())
        ));
    }
    if o.fault_code != fixture.fault_code {
        d.push(format!(
            "faultCode: expected {}, got {}",
            show(fixture.fault_code.as_deref()),
            show(o.fault_code.as_deref())
        ));
    }
    if let Some(expected) = &fixture.fault_string {
        if o.fault_string.as_deref() != Some(expected.as_str()) {
            d.push(format!(
                "faultString: expected {expected:?}, got {}",
                show(o.fault_string.as_deref())
            ));
        }
    }
    if let Some(pattern) = &fixture.description {
        let got = o.description.as_deref();
        if !got.is_some_and(|t| matches(pattern, t)) {
            d.push(format!(
                "description: expected to match {pattern:?}, got {}",
                show(got)
            ));
        }
    }
    if let Some(expected) = fixture.schema_valid {
        match (&o.schema, expected) {
            (Some(Ok(())), true) | (Some(Err(_)), false) => {}
            (Some(Err(e)), true) => d.push(format!("schema: expected valid, got invalid: {e}")),
            (Some(Ok(())), false) => d.push("schema: expected invalid, got valid".into()),
            (None, _) => d.push("schema: the answer is not a business response".into()),
        }
    }
    d
}
