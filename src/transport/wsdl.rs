//! Publishes the project's WSDL and XSDs at `GET <path>?wsdl` / `?xsd=<file>`, addressed to this gateway.

use std::net::SocketAddr;

use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, Response, StatusCode, Uri};
use http_body_util::Full;

use super::http::{plain, Body};
use crate::soap::write::escape_attr as escape;

/// A published WSDL: name in `?wsdl=<name>`, text, and the `soap:address` placeholder that is
/// replaced by this gateway's URL (`None` for contracts the gateway does not serve itself).
struct Wsdl {
    name: &'static str,
    text: &'static str,
    address: Option<&'static str>,
}

const WSDLS: &[Wsdl] = &[
    Wsdl {
        name: "nodeForPsp",
        text: include_str!("../../wsdl/nodeForPsp.wsdl"),
        address: Some("http://127.0.0.1:8080/node-for-psp/v1"),
    },
    Wsdl {
        name: "paForNode",
        text: include_str!("../../wsdl/paForNode.wsdl"),
        // The EC implements paForNode: its address stays a placeholder for EC implementers.
        address: None,
    },
    Wsdl {
        name: "NodoPerPspRichiestaAvvisi",
        text: include_str!("../../wsdl/NodoPerPspRichiestaAvvisi.wsdl"),
        address: Some("http://PuntoAccessoPSP.spcoop.gov.it/"),
    },
    Wsdl {
        name: "PaPerNodoRichiestaAvvisi",
        text: include_str!("../../wsdl/PaPerNodoRichiestaAvvisi.wsdl"),
        address: None,
    },
];

/// Schemas reachable from the WSDLs, by file name.
const XSDS: &[(&str, &str)] = &[
    ("nodeForPsp.xsd", include_str!("../../xsd/nodeForPsp.xsd")),
    ("paForNode.xsd", include_str!("../../xsd/paForNode.xsd")),
    (
        "sac-common-types-1.0.xsd",
        include_str!("../../xsd/sac-common-types-1.0.xsd"),
    ),
    (
        "CatalogoServizi_2_0_0.xsd",
        include_str!("../../xsd/CatalogoServizi_2_0_0.xsd"),
    ),
    ("envelope.xsd", include_str!("../../xsd/envelope.xsd")),
    (
        "NodoPerPspRichiestaAvvisi.xsd",
        include_str!("../../xsd/NodoPerPspRichiestaAvvisi.xsd"),
    ),
    (
        "PaPerNodoRichiestaAvvisi.xsd",
        include_str!("../../xsd/PaPerNodoRichiestaAvvisi.xsd"),
    ),
    (
        "PaPerNodoRichiestaAvvisi_intestazione.xsd",
        include_str!("../../xsd/PaPerNodoRichiestaAvvisi_intestazione.xsd"),
    ),
    (
        "PagInf_RPT_RT_6_2_0.xsd",
        include_str!("../../xsd/PagInf_RPT_RT_6_2_0.xsd"),
    ),
];

/// What a query asks to publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Published<'a> {
    /// `?wsdl` (empty name: the path's default contract) or `?wsdl=<name>`.
    Wsdl(&'a str),
    /// `?xsd=<file>`.
    Xsd(&'a str),
}

/// The contract document `uri`'s query asks for, if any (the first `wsdl` or `xsd` key wins).
pub fn requested(uri: &Uri) -> Option<Published<'_>> {
    uri.query().unwrap_or("").split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "wsdl" | "WSDL" => Some(Published::Wsdl(value)),
            "xsd" => Some(Published::Xsd(value)),
            _ => None,
        }
    })
}

/// Answers `?wsdl`, `?wsdl=<name>` and `?xsd=<file>`; an unknown name is 404.
/// The addresses in them are `public_url` + the request path when configured, else built from the
/// request's `Host` and the listener's scheme.
pub fn serve(
    what: Published<'_>,
    uri: &Uri,
    headers: &HeaderMap,
    scheme: &str,
    listen: SocketAddr,
    public_url: Option<&str>,
) -> Response<Body> {
    let base = match public_url {
        Some(public) => format!("{public}{}", uri.path()),
        None => format!("{scheme}://{}{}", authority(headers, listen), uri.path()),
    };
    match what {
        Published::Wsdl(value) => {
            // The legacy paths publish the legacy contract by default.
            let name = match value {
                "" if uri.path().contains("richiesta-avvisi") => "NodoPerPspRichiestaAvvisi",
                "" => "nodeForPsp",
                v => v,
            };
            match WSDLS.iter().find(|w| w.name == name) {
                Some(w) => document(rewrite_wsdl(w, &base)),
                None => plain(StatusCode::NOT_FOUND, "no such WSDL\n"),
            }
        }
        Published::Xsd(value) => match XSDS.iter().find(|(n, _)| *n == value) {
            Some((_, text)) => document(rewrite_imports(text, &base)),
            None => plain(StatusCode::NOT_FOUND, "no such schema\n"),
        },
    }
}

/// `Host` as sent when it looks like a host name (or address) and port, else the listen address.
fn authority(headers: &HeaderMap, listen: SocketAddr) -> String {
    headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-.:[]_".contains(c))
        })
        .map(str::to_owned)
        .unwrap_or_else(|| listen.to_string())
}

fn rewrite_wsdl(w: &Wsdl, base: &str) -> String {
    let text = rewrite_imports(w.text, base);
    match w.address {
        Some(placeholder) => text.replace(
            &format!("location=\"{placeholder}\""),
            &format!("location=\"{}\"", escape(base)),
        ),
        None => text,
    }
}

/// Points every `schemaLocation` at `<base>?xsd=<file name>`.
fn rewrite_imports(text: &str, base: &str) -> String {
    let mut out = String::with_capacity(text.len() + 256);
    let mut rest = text;
    const ATTR: &str = "schemaLocation=\"";
    while let Some(pos) = rest.find(ATTR) {
        let (head, tail) = rest.split_at(pos + ATTR.len());
        out.push_str(head);
        let end = tail.find('"').unwrap_or(tail.len());
        let location = &tail[..end];
        let file = location.rsplit('/').next().unwrap_or(location);
        out.push_str(&escape(base));
        out.push_str("?xsd=");
        out.push_str(file);
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

fn document(text: String) -> Response<Body> {
    let mut r = Response::new(Full::new(Bytes::from(text)));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/xml; charset=UTF-8"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_addresses_and_schema_locations() {
        let w = &WSDLS[0];
        let out = rewrite_wsdl(w, "https://gw.example:8443/node-for-psp/v1");
        assert!(out.contains("location=\"https://gw.example:8443/node-for-psp/v1\""));
        assert!(out.contains(
            "schemaLocation=\"https://gw.example:8443/node-for-psp/v1?xsd=nodeForPsp.xsd\""
        ));
        assert!(!out.contains("127.0.0.1:8080"));
        let pa = rewrite_wsdl(&WSDLS[1], "https://gw.example:8443/x");
        assert!(pa.contains("location=\"http://127.0.0.1:8090/pagopa/paForNode\""));
        assert!(pa.contains("schemaLocation=\"https://gw.example:8443/x?xsd=paForNode.xsd\""));
        let x = rewrite_imports(XSDS[0].1, "http://h/p");
        assert!(x.contains("schemaLocation=\"http://h/p?xsd=sac-common-types-1.0.xsd\""));
    }
}
